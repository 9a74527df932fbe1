"""The conversion of the SQLite backend's rows to `csms.states` members (issue 16 point 9):
TEXT in the database, StrEnum members out of the store."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from csms.states import (
    BillingRetryState,
    IdTagStatus,
    RegistrationStatus,
    RemoteStartStatus,
    ReservationStatus,
    Role,
    TransactionStatus,
    WalletEntryType,
)

Fields = dict[str, type[StrEnum]]

CHARGER: Fields = {"registration_status": RegistrationStatus}
ID_TAG: Fields = {"status": IdTagStatus}
TRANSACTION: Fields = {"status": TransactionStatus, "id_tag_status": IdTagStatus}
REMOTE_START: Fields = {"status": RemoteStartStatus}
RESERVATION: Fields = {"status": ReservationStatus}
USER: Fields = {"role": Role}
LEDGER: Fields = {"type": WalletEntryType}
BILLING_RETRY: Fields = {"state": BillingRetryState}
FACT: Fields = {"status": TransactionStatus}


def states(row: dict[str, Any] | None, fields: Fields) -> Any:
    """`row` with its state columns as enum members (None columns and rows stay None)."""
    if row is not None:
        for column, enum in fields.items():
            value = row.get(column)
            if value is not None:
                row[column] = enum(value)
    return row


def all_states(rows: list[dict[str, Any]], fields: Fields) -> list[Any]:
    return [states(row, fields) for row in rows]
