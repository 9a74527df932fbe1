"""Billing of stopped transactions against wallets, with the retry queue (seeds/001 §4.1, §5.4).

    billing = BillingService(store, clock)              # one per CentralSystem
    await billing.bill_stopped_transaction(42)          # after StopTransaction is committed
    billing.start(); ...; await billing.close()         # the retry worker

`bill_transaction()` is the synchronous decision (run it in a thread): energy and amount from
`csms.services.billing`, the wallet deduction and the transaction update in ONE unit of work, so a
crash leaves either both or neither. It is idempotent by transaction id: a transaction that is
Completed is never billed again, and the store refuses a second CHARGE_DEDUCT for it anyway.

Outcomes (the transaction's `status`):
- `Completed`: billed (deducted from the owner's wallet when the idTag belongs to a user; a tag
  without a user account is post-paid: the amount is recorded, no wallet moves).
- `BillingFailed`: insufficient balance, no tariff, a database error... queued for retry every
  `retry_interval` seconds (30 min) while the first failure is younger than `retry_window` (24 h).
- `BillingReview`: retries exhausted, or meterStop < meterStart (never billed negative): flagged
  for an administrator (the retry entry holds the reason, state `Review`).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypedDict

from chargebench.aiotasks import cancel_and_wait
from chargebench.clock import Clock
from csms.services.billing import METER_WENT_BACKWARDS, compute_bill
from csms.states import BillingRetryState, TransactionStatus
from csms.store.base import (
    InsufficientFundsError,
    Store,
    StoreError,
    Transaction,
    WalletTransaction,
)
from csms.store.errors import StoreUnavailable
from csms.store.timestamps import parse_ts

log = logging.getLogger(__name__)


class _Billing(TypedDict, total=False):
    """The bill's fields as `set_transaction_billing` takes them."""

    tariff_rate: Decimal
    amount: Decimal
    currency: str


STOPPED = TransactionStatus.STOPPED  # stop committed, billing not yet decided
COMPLETED = TransactionStatus.COMPLETED
BILLING_FAILED = TransactionStatus.BILLING_FAILED
BILLING_REVIEW = TransactionStatus.BILLING_REVIEW
#: billing_retries.state values
PENDING, DONE, REVIEW = BillingRetryState.PENDING, BillingRetryState.DONE, BillingRetryState.REVIEW

NO_TARIFF = "NO_TARIFF"
INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
RETRIES_EXHAUSTED = "RETRIES_EXHAUSTED"


@dataclass(frozen=True, slots=True, kw_only=True)
class BillingPolicy:
    """How billing behaves; the defaults are seeds/001 §5.4."""

    #: seconds between retries of a failed billing
    retry_interval: float = 30 * 60
    #: seconds after the first failure when retries stop and the transaction goes to review
    retry_window: float = 24 * 60 * 60
    #: charge "on credit" (001 §7.3 allows negative balances); off: insufficient -> failed
    allow_negative: bool = False


@dataclass(frozen=True, slots=True)
class BillingOutcome:
    transaction_id: int
    status: str
    amount: Decimal | None = None
    currency: str | None = None
    wallet_transaction: WalletTransaction | None = None
    reason: str | None = None
    #: False when the transaction had been billed already (a replayed StopTransaction)
    billed_now: bool = False


def bill_transaction(
    store: Store, transaction_id: int, now: datetime, policy: BillingPolicy | None = None
) -> BillingOutcome:
    """Bill one stopped transaction (see the module docstring); safe to call again."""
    policy = policy or BillingPolicy()
    tx = store.get_transaction(transaction_id)
    if tx is None:
        raise LookupError(f"transaction {transaction_id}")
    meter_stop = tx["meter_stop"]
    if tx["stop_time"] is None or meter_stop is None:  # a stop commits both together
        raise ValueError(f"transaction {transaction_id} is still running")
    if tx["status"] in (COMPLETED, BILLING_REVIEW):
        return BillingOutcome(transaction_id, tx["status"], tx["amount"], tx["currency"])
    if meter_stop < tx["meter_start"]:
        return _to_review(store, tx, METER_WENT_BACKWARDS, now)
    tariff = store.get_tariff(tx["charger_id"])
    if tariff is None:
        return _failed(store, tx, NO_TARIFF, now, policy)
    bill = compute_bill(
        tx["meter_start"], meter_stop, tariff["rate_per_kwh"], tariff["currency"]
    )
    billing: _Billing = {"tariff_rate": bill.rate, "amount": bill.amount, "currency": bill.currency}
    owner = owner_of(store, tx["id_tag"])
    if owner is not None:
        wallet = store.get_wallet(owner)
        if wallet is not None and wallet["currency"] != bill.currency:
            return _failed(store, tx, CURRENCY_MISMATCH, now, policy, billing)
    try:
        # 001 §4.1 step 4: deduction and transaction update together
        with store.unit_of_work() as uow:
            entry = None
            if owner is not None and bill.amount > 0:
                entry = uow.wallet_debit_for_transaction(
                    owner, transaction_id, bill.amount, allow_negative=policy.allow_negative
                )
            uow.set_transaction_billing(transaction_id, COMPLETED, **billing)
            if uow.get_billing_retry(transaction_id) is not None:
                uow.set_billing_retry_state(transaction_id, DONE)
    except StoreError as error:  # a backend's own errors arrive translated (csms.store.errors)
        if isinstance(error, InsufficientFundsError):
            reason = INSUFFICIENT_BALANCE
        else:
            reason = f"{type(error).__name__}: {error}"
        return _failed(store, tx, reason, now, policy, billing)
    return BillingOutcome(
        transaction_id, COMPLETED, bill.amount, bill.currency, entry, billed_now=True
    )


def owner_of(store: Store, id_tag: str) -> str | None:
    """The user whose virtual RFID id is `id_tag`, or whose id is its parent (a group tag)."""
    user = store.get_user_by_rfid(id_tag)
    if user is None:
        tag = store.get_id_tag(id_tag)
        if tag is not None and tag["parent_id_tag"]:
            user = store.get_user_by_rfid(tag["parent_id_tag"])
    return None if user is None else user["id"]


def _failed(
    store: Store,
    tx: Transaction,
    reason: str,
    now: datetime,
    policy: BillingPolicy,
    billing: _Billing | None = None,
) -> BillingOutcome:
    """001 §4.1 step 5: mark BillingFailed and (re)queue; past the window, go to review."""
    transaction_id = tx["id"]
    with store.unit_of_work() as uow:
        uow.set_transaction_billing(transaction_id, BILLING_FAILED, **(billing or {}))
        entry = uow.queue_billing_retry(
            transaction_id, reason, now, now + timedelta(seconds=policy.retry_interval)
        )
    if now - parse_ts(entry["first_failed_at"]) >= timedelta(seconds=policy.retry_window):
        return _to_review(store, tx, f"{RETRIES_EXHAUSTED}: {reason}", now)
    log.info("billing of transaction %s failed (%s); retry queued", transaction_id, reason)
    return BillingOutcome(
        transaction_id,
        BILLING_FAILED,
        (billing or {}).get("amount"),
        (billing or {}).get("currency"),
        reason=reason,
    )


def _to_review(store: Store, tx: Transaction, reason: str, now: datetime) -> BillingOutcome:
    """Flag for an administrator (001 §5.4 "After 24 hours"); nothing is deducted."""
    with store.unit_of_work() as uow:
        uow.set_transaction_billing(tx["id"], BILLING_REVIEW)
        if uow.get_billing_retry(tx["id"]) is None:  # meter went backwards: first entry
            uow.queue_billing_retry(tx["id"], reason, now, now)
        uow.set_billing_retry_state(tx["id"], REVIEW, reason=reason)
    log.warning("transaction %s flagged for billing review: %s", tx["id"], reason)
    return BillingOutcome(tx["id"], BILLING_REVIEW, tx["amount"], tx["currency"], reason=reason)


def retry_due(
    store: Store, now: datetime, policy: BillingPolicy | None = None
) -> list[BillingOutcome]:
    """One pass of the retry worker: bill every queued transaction whose retry is due, and
    every transaction left `Stopped` but never billed (the CSMS died between the stop and its
    billing: the stop was acknowledged, so nothing else would ever bill it)."""
    outcomes = []
    for tx in store.list_transactions(status=STOPPED, limit=None):
        outcomes.append(bill_transaction(store, tx["id"], now, policy))
    for entry in store.list_billing_retries(state=PENDING, due_before=now):
        try:
            outcomes.append(bill_transaction(store, entry["transaction_id"], now, policy))
        except (LookupError, ValueError) as error:  # deleted or reopened meanwhile
            log.warning("billing retry of %s dropped: %s", entry["transaction_id"], error)
            store.set_billing_retry_state(entry["transaction_id"], REVIEW)
    return outcomes


class BillingService:
    """Billing bound to one CSMS's store and protocol clock, plus the periodic retry worker."""

    def __init__(self, store: Store, clock: Clock, policy: BillingPolicy | None = None) -> None:
        self.store = store
        self.clock = clock
        self.policy = policy or BillingPolicy()
        self._task: asyncio.Task | None = None

    async def bill_stopped_transaction(self, transaction_id: int) -> BillingOutcome | None:
        """Bill after the StopTransaction is committed. Never raises: billing trouble must not
        turn into a CALLERROR for the charger (the transaction stays queued or flagged)."""
        try:
            return await asyncio.to_thread(
                bill_transaction, self.store, transaction_id, self.clock.now(), self.policy
            )
        except StoreUnavailable as error:  # stopped, not billed: the retry pass bills it
            log.warning("billing of transaction %s deferred: %s", transaction_id, error)
            return None
        except Exception:
            log.exception("billing of transaction %s failed unexpectedly", transaction_id)
            return None

    async def retry_due(self) -> list[BillingOutcome]:
        """Run one retry pass now (the worker does this every `retry_interval`)."""
        return await asyncio.to_thread(retry_due, self.store, self.clock.now(), self.policy)

    async def run(self) -> None:
        """The retry worker: every `retry_interval` of protocol time, one pass."""
        while True:
            await self.clock.sleep(self.policy.retry_interval)
            try:
                await self.retry_due()
            except StoreUnavailable as error:  # the next pass retries
                log.warning("billing retry pass skipped: %s", error)
            except Exception:  # keep the worker alive; the next pass retries
                log.exception("billing retry pass failed")

    def start(self) -> None:
        """Start the worker; its first pass comes after one interval (call `retry_due()` at
        startup for an immediate sweep of transactions a crash left unbilled)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run())

    async def close(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None
