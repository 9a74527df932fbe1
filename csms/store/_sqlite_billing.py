"""SQLite store, part 4: users, API tokens, wallets and their ledger, the billing retry queue.

Money is Decimal text in the database and Decimal in Python (seeds/001 §7.3: 2 places, INR).
The wallet is "locked" by the write transaction itself: `_write()` opens BEGIN IMMEDIATE (or a
savepoint inside a unit of work or a group), so the balance read and the balance written cannot
be overtaken.
"""

from __future__ import annotations

import sqlite3
from decimal import Decimal
from typing import Any

from csms.states import WalletEntryType
from csms.store._sqlite_base import SqliteBase, page, where
from csms.store._sqlite_states import BILLING_RETRY, FACT, LEDGER, USER, all_states, states
from csms.store.base import (
    BillingRetry,
    InsufficientFundsError,
    NotFoundError,
    TransactionFact,
    User,
    Wallet,
    WalletTransaction,
)
from csms.store.timestamps import TimeLike, to_iso

TOP_UP = WalletEntryType.TOP_UP
CHARGE_DEDUCT = WalletEntryType.CHARGE_DEDUCT


def _user(row: dict[str, Any]) -> User:
    row["active"] = bool(row["active"])
    return states(row, USER)


def _wallet(row: dict[str, Any]) -> Wallet:
    row["balance"] = Decimal(row["balance"])
    return row  # type: ignore[return-value]


def _ledger(row: dict[str, Any]) -> WalletTransaction:
    row["amount"] = Decimal(row["amount"])
    row["balance_after"] = Decimal(row["balance_after"])
    return states(row, LEDGER)


def _fact(row: dict[str, Any]) -> TransactionFact:
    if row["amount"] is not None:
        row["amount"] = Decimal(row["amount"])
    return states(row, FACT)


class BillingMixin(SqliteBase):
    # Users -------------------------------------------------------------------------------------

    def create_user(
        self,
        user_id: str,
        name: str,
        rfid_card_id: str,
        *,
        email: str | None = None,
        role: str = "USER",
        active: bool = True,
        currency: str = "INR",
    ) -> User:
        """The user, their Accepted id tag (the virtual RFID, 001 §7.2) and an empty wallet,
        all or nothing. A duplicate id, email or RFID id raises `Conflict`."""
        now = self._now()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO users(id, name, email, role, rfid_card_id, active, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, name, email, role, rfid_card_id, int(active), now),
            )
            conn.execute(
                "INSERT INTO id_tags(id_tag, status) VALUES (?, ?) ON CONFLICT(id_tag)"
                " DO UPDATE SET status = excluded.status",
                (rfid_card_id, "Accepted" if active else "Blocked"),
            )
            conn.execute(
                "INSERT INTO wallets(user_id, balance, currency, updated_at) VALUES (?, ?, ?, ?)",
                (user_id, "0.00", currency, now),
            )
        return self.get_user(user_id)  # type: ignore[return-value]

    def get_user(self, user_id: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE id = ?", (user_id,))
        return None if row is None else _user(row)

    def get_user_by_rfid(self, rfid_card_id: str) -> User | None:
        row = self._one("SELECT * FROM users WHERE rfid_card_id = ?", (rfid_card_id,))
        return None if row is None else _user(row)

    def list_users(self, *, role: str | None = None, active: bool | None = None) -> list[User]:
        clause, params = where({"role": role, "active": None if active is None else int(active)})
        return [_user(row) for row in self._all(f"SELECT * FROM users{clause} ORDER BY id", params)]

    def set_user_active(self, user_id: str, active: bool) -> None:
        """Deactivate (or reactivate) the account and block (or accept) its id tag with it."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE users SET active = ? WHERE id = ?", (int(active), user_id)
            )
            self._require(cursor, f"user {user_id!r}")
            conn.execute(
                "UPDATE id_tags SET status = ? WHERE id_tag ="
                " (SELECT rfid_card_id FROM users WHERE id = ?)",
                ("Accepted" if active else "Blocked", user_id),
            )

    # API tokens --------------------------------------------------------------------------------

    def add_api_token(self, user_id: str, token_hash: str) -> None:
        """Remember a token by its hash only; the plaintext is shown once to its owner."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO api_tokens(token_hash, user_id, created_at) VALUES (?, ?, ?)",
                (token_hash, user_id, self._now()),
            )

    def user_for_token_hash(self, token_hash: str) -> User | None:
        row = self._one(
            "SELECT users.* FROM api_tokens JOIN users ON users.id = api_tokens.user_id"
            " WHERE api_tokens.token_hash = ?",
            (token_hash,),
        )
        return None if row is None else _user(row)

    # Wallets -----------------------------------------------------------------------------------

    def get_wallet(self, user_id: str) -> Wallet | None:
        row = self._one("SELECT * FROM wallets WHERE user_id = ?", (user_id,))
        return None if row is None else _wallet(row)

    def wallet_credit(
        self,
        user_id: str,
        amount: Decimal,
        *,
        reference: str | None = None,
        type: str = TOP_UP,
    ) -> WalletTransaction:
        """Add `amount` (> 0) and write the ledger row; a `reference` (payment id) already
        credited returns its first ledger row and changes nothing (webhooks are replayed)."""
        if amount <= 0:
            raise ValueError(f"a credit must be positive, not {amount}")
        with self._write() as conn:
            if reference is not None:
                row = conn.execute(
                    "SELECT * FROM wallet_transactions WHERE reference = ?", (reference,)
                ).fetchone()
                if row is not None:
                    return _ledger(dict(row))
            return self._post(conn, user_id, type, amount, reference=reference)

    def wallet_debit_for_transaction(
        self,
        user_id: str,
        transaction_id: int,
        amount: Decimal,
        *,
        allow_negative: bool = False,
    ) -> WalletTransaction:
        """Deduct a charging transaction's bill (CHARGE_DEDUCT, 001 §4.1 step 4).

        Idempotent by transaction id: a second call returns the first deduction. Raises
        `InsufficientFundsError` (nothing written) when the balance does not cover `amount`
        and `allow_negative` is off.
        """
        with self._write() as conn:
            row = conn.execute(
                "SELECT * FROM wallet_transactions WHERE type = ? AND transaction_id = ?",
                (CHARGE_DEDUCT, transaction_id),
            ).fetchone()
            if row is not None:
                return _ledger(dict(row))
            balance = self._balance(conn, user_id)
            if balance < amount and not allow_negative:
                raise InsufficientFundsError(
                    f"wallet of {user_id!r} holds {balance}, transaction {transaction_id}"
                    f" needs {amount}"
                )
            return self._post(conn, user_id, CHARGE_DEDUCT, -amount, transaction_id=transaction_id)

    def _balance(self, conn: sqlite3.Connection, user_id: str) -> Decimal:
        row = conn.execute("SELECT balance FROM wallets WHERE user_id = ?", (user_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"wallet of user {user_id!r}")
        return Decimal(row[0])

    def _post(
        self,
        conn: sqlite3.Connection,
        user_id: str,
        type: str,
        signed_amount: Decimal,
        *,
        transaction_id: int | None = None,
        reference: str | None = None,
    ) -> WalletTransaction:
        """Move the balance and append the ledger row with the running balance (same txn)."""
        now = self._now()
        balance = self._balance(conn, user_id) + signed_amount
        currency = conn.execute(
            "SELECT currency FROM wallets WHERE user_id = ?", (user_id,)
        ).fetchone()[0]
        conn.execute(
            "UPDATE wallets SET balance = ?, updated_at = ? WHERE user_id = ?",
            (str(balance), now, user_id),
        )
        cursor = conn.execute(
            "INSERT INTO wallet_transactions(user_id, type, amount, balance_after, currency,"
            " transaction_id, reference, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                user_id,
                type,
                str(signed_amount),
                str(balance),
                currency,
                transaction_id,
                reference,
                now,
            ),
        )
        row = conn.execute(
            "SELECT * FROM wallet_transactions WHERE id = ?", (cursor.lastrowid,)
        ).fetchone()
        return _ledger(dict(row))

    def list_wallet_transactions(
        self,
        *,
        user_id: str | None = None,
        type: str | None = None,
        transaction_id: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WalletTransaction]:
        """Newest first (001 §7.3 "Transaction History")."""
        clause, params = where({"user_id": user_id, "type": type, "transaction_id": transaction_id})
        rows = self._all(
            f"SELECT * FROM wallet_transactions{clause} ORDER BY id DESC{page(limit, offset)}",
            params,
        )
        return [_ledger(row) for row in rows]

    # Billing retry queue -----------------------------------------------------------------------

    def queue_billing_retry(
        self, transaction_id: int, reason: str, now: TimeLike, next_attempt_at: TimeLike
    ) -> BillingRetry:
        """Record a failed billing attempt: the first one opens the entry (its time starts the
        retry window), later ones count up. The entry is Pending again either way."""
        at, due = to_iso(now), to_iso(next_attempt_at)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO billing_retries(transaction_id, state, reason, attempts,"
                " first_failed_at, last_attempt_at, next_attempt_at)"
                " VALUES (?, 'Pending', ?, 1, ?, ?, ?) ON CONFLICT(transaction_id) DO UPDATE SET"
                " state = 'Pending', reason = excluded.reason, attempts = attempts + 1,"
                " last_attempt_at = excluded.last_attempt_at,"
                " next_attempt_at = excluded.next_attempt_at",
                (transaction_id, reason, at, at, due),
            )
        return self.get_billing_retry(transaction_id)  # type: ignore[return-value]

    def set_billing_retry_state(
        self, transaction_id: int, state: str, *, reason: str | None = None
    ) -> None:
        """Pending -> Done (billed) or Review (given up: an administrator decides)."""
        with self._write() as conn:
            conn.execute(
                "UPDATE billing_retries SET state = ?, reason = coalesce(?, reason)"
                " WHERE transaction_id = ?",
                (state, reason, transaction_id),
            )

    def get_billing_retry(self, transaction_id: int) -> BillingRetry | None:
        row = self._one("SELECT * FROM billing_retries WHERE transaction_id = ?", (transaction_id,))
        return states(row, BILLING_RETRY)

    def list_billing_retries(
        self, *, state: str | None = None, due_before: TimeLike | None = None
    ) -> list[BillingRetry]:
        """Oldest failure first; `due_before` keeps entries whose next attempt is due by then."""
        clause, params = where({"state": state, "next_attempt_at <=": to_iso(due_before)})
        return all_states(self._all(
            f"SELECT * FROM billing_retries{clause} ORDER BY first_failed_at, transaction_id",
            params,
        ), BILLING_RETRY)  # fmt: skip

    # Analytics ---------------------------------------------------------------------------------

    def transaction_facts(
        self, *, since: TimeLike | None = None, until: TimeLike | None = None
    ) -> list[TransactionFact]:
        """One light row per transaction started in [since, until), with its charger's
        location: what the analytics aggregate (in Python, so money stays Decimal)."""
        clause, params = where({"t.start_time >=": to_iso(since), "t.start_time <": to_iso(until)})
        rows = self._all(
            "SELECT t.id, t.charger_id, t.connector_id, c.location_id, t.id_tag, t.start_time,"
            " t.stop_time, t.energy_wh, t.amount, t.currency, t.status FROM transactions t"
            f" LEFT JOIN chargers c ON c.id = t.charger_id{clause} ORDER BY t.start_time, t.id",
            params,
        )
        return [_fact(row) for row in rows]

    def fault_counts(
        self, *, since: TimeLike | None = None, until: TimeLike | None = None
    ) -> list[dict[str, Any]]:
        """Faulted StatusNotifications (or ones with an error code) per charger and connector."""
        at = "coalesce(timestamp, received_at)"
        clause, params = where({f"{at} >=": to_iso(since), f"{at} <": to_iso(until)})
        fault = "(status = 'Faulted' OR coalesce(error_code, 'NoError') != 'NoError')"
        clause = f"{clause} AND {fault}" if clause else f" WHERE {fault}"
        return self._all(
            "SELECT charger_id, connector_id, count(*) AS faults, max(" + at + ") AS last_fault"
            f" FROM status_history{clause} GROUP BY charger_id, connector_id"
            " ORDER BY charger_id, connector_id",
            params,
        )
