"""Contract: state columns come out as `csms.states` members (issue 16 point 9), whatever the
backend, and compare equal to their text (what the HTTP API and JSON see)."""

from __future__ import annotations

import json
from decimal import Decimal

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
from csms.store import Store
from tests.csms.store_contract.backends import T0, T1


def test_every_state_is_an_enum_member(store: Store) -> None:
    store.upsert_charger("CP1", registration_status="Accepted")
    charger = store.get_charger("CP1")
    assert charger["registration_status"] is RegistrationStatus.ACCEPTED
    assert all(type(c["registration_status"]) is RegistrationStatus for c in store.list_chargers())
    store.upsert_id_tag("TAG", status="Blocked")
    assert store.get_id_tag("TAG")["status"] is IdTagStatus.BLOCKED
    assert store.list_id_tags()[0]["status"] is IdTagStatus.BLOCKED

    user = store.create_user("U1", "Asha", "RFID-1", role="ADMIN")
    assert user["role"] is Role.ADMIN and store.list_users()[0]["role"] is Role.ADMIN
    credit = store.wallet_credit("U1", Decimal("10"), reference="pay-1")
    assert credit["type"] is WalletEntryType.TOP_UP

    started = store.begin_transaction("CP1", 1, "RFID-1", 0, T0)
    assert started.id_tag_status is IdTagStatus.ACCEPTED
    again = store.begin_transaction("CP1", 1, "RFID-1", 0, T0)  # a replay
    assert again.replay and again.id_tag_status is IdTagStatus.ACCEPTED
    tx = store.get_transaction(started.transaction_id)
    assert tx["status"] is TransactionStatus.RUNNING and tx["id_tag_status"] is IdTagStatus.ACCEPTED
    stopped = store.stop_transaction(started.transaction_id, 1000, T1)
    assert stopped["status"] is TransactionStatus.STOPPED
    store.set_transaction_billing(started.transaction_id, TransactionStatus.BILLING_FAILED)
    assert store.list_transactions()[0]["status"] is TransactionStatus.BILLING_FAILED
    assert store.transaction_facts()[0]["status"] is TransactionStatus.BILLING_FAILED

    retry = store.queue_billing_retry(started.transaction_id, "NO_TARIFF", T1, T1)
    assert retry["state"] is BillingRetryState.PENDING
    assert store.list_billing_retries()[0]["state"] is BillingRetryState.PENDING

    remote = store.create_remote_start("CP1", 1, "RFID-1", T0, user_id="U1")
    assert remote["status"] is RemoteStartStatus.PENDING
    assert store.list_remote_starts()[0]["status"] is RemoteStartStatus.PENDING

    reservation = store.create_reservation("CP1", 1, "RFID-1", T1)
    assert store.get_reservation(reservation)["status"] is ReservationStatus.REQUESTED
    assert store.list_reservations()[0]["status"] is ReservationStatus.REQUESTED


def test_states_are_their_text(store: Store) -> None:
    """A member equals its text and serialises as it: callers and the API see no change."""
    tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0)
    tx = store.get_transaction(tx_id)
    assert tx["status"] == "Running"
    assert json.loads(json.dumps({"status": tx["status"]})) == {"status": "Running"}
    assert store.list_transactions(status=TransactionStatus.RUNNING)[0]["id"] == tx_id


def test_a_2_0_1_transaction_keeps_its_tokens_2_0_1_status(store: Store) -> None:
    """A 2.0.1 token answered Unknown (no record of it) starts a NotAuthorized transaction
    that reads back with that status (reading it raised ValueError before: the domain enum had
    only 1.6's words)."""
    result = store.record_transaction_event(
        "CP1", "tx-u", 0, "Started", T0, trigger_reason="Authorized", evse_id=1,
        id_token="NOBODY", id_token_status="Unknown")  # fmt: skip
    tx = store.get_transaction(result.transaction_id)
    assert (tx["id_tag_status"], tx["status"]) == (IdTagStatus.UNKNOWN, "NotAuthorized")
