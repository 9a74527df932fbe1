"""Billing at StopTransaction (seeds/001 §4.1, §5.4) against a real SQLite store: worked
examples, rounding, atomic wallet deduction, the retry queue and its 24-hour window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from chargebench.clock import Clock
from csms.services import users
from csms.services.billing_service import (
    BILLING_FAILED,
    BILLING_REVIEW,
    COMPLETED,
    BillingPolicy,
    BillingService,
    bill_transaction,
    retry_due,
)
from csms.store import StoreUnavailable, open_store

T0 = datetime(2025, 1, 17, 10, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    with open_store(tmp_path / "csms.db") as store:
        store.upsert_charger("CP001", registration_status="Accepted")
        store.set_tariff(None, "10")
        yield store


def user_with(store, balance: str | None) -> dict:
    user = users.create_user(store, "Asha")
    if balance is not None:
        store.wallet_credit(user["id"], Decimal(balance), reference=f"seed-{user['id']}")
    return user


def session(store, user, start: int, stop: int, charger: str = "CP001") -> int:
    tx = store.start_transaction(charger, 1, user["rfid_card_id"], start, T0)
    store.stop_transaction(tx, stop, T0 + timedelta(hours=2), reason="EVDisconnected")
    return tx


def balance(store, user) -> Decimal:
    return store.get_wallet(user["id"])["balance"]


class TestWorkedExamples:
    def test_section_4_1_wallet_500_minus_85(self, store):
        """001 §4.1: 8,500 Wh at ₹10/kWh is ₹85; ₹500 leaves ₹415, CHARGE_DEDUCT −85.00."""
        user = user_with(store, "500.00")
        tx = session(store, user, 0, 8500)
        outcome = bill_transaction(store, tx, T0)
        assert (outcome.status, outcome.amount) == (COMPLETED, Decimal("85.00"))
        assert balance(store, user) == Decimal("415.00")
        entry = store.list_wallet_transactions(user_id=user["id"])[0]
        assert (
            entry["type"],
            entry["amount"],
            entry["balance_after"],
            entry["transaction_id"],
        ) == ("CHARGE_DEDUCT", Decimal("-85.00"), Decimal("415.00"), tx)
        stored = store.get_transaction(tx)
        assert (stored["status"], stored["amount"], stored["energy_wh"]) == (
            COMPLETED,
            Decimal("85.00"),
            8500,
        )

    def test_section_5_4_cumulative_meter_18500_wh_at_12(self, store):
        """001 §5.4: meterStart 250, meterStop 18,750 at ₹12/kWh bills ₹222."""
        store.set_tariff("CP001", "12")
        user = user_with(store, "1000")
        outcome = bill_transaction(store, session(store, user, 250, 18750), T0)
        assert outcome.amount == Decimal("222.00")
        assert balance(store, user) == Decimal("778.00")

    def test_5100_minus_100_wh_at_12_is_60(self, store):
        """5,100 − 100 Wh = 5 kWh at ₹12/kWh bills ₹60.00."""
        store.set_tariff("CP001", "12.00")
        user = user_with(store, "60.00")
        assert bill_transaction(store, session(store, user, 100, 5100), T0).amount == Decimal(
            "60.00"
        )
        assert balance(store, user) == Decimal("0.00")

    @pytest.mark.parametrize(
        ("wh", "rate", "amount"),
        [
            (5, "1", "0.01"),  # 0.005 -> half-up to 0.01
            (4, "1", "0.00"),  # 0.004 -> 0.00, nothing deducted
            (1, "10.05", "0.01"),  # 0.01005
            (1500, "10.55", "15.83"),  # 15.825 -> 15.83 (a float would give 15.82)
            (333, "3.33", "1.11"),  # 1.10889
        ],
    )
    def test_rounding_half_up_to_paise(self, store, wh, rate, amount):
        """Amounts round half-up to 2 places, computed in Decimal (never float)."""
        store.set_tariff("CP001", rate)
        user = user_with(store, "100")
        outcome = bill_transaction(store, session(store, user, 0, wh), T0)
        assert str(outcome.amount) == amount
        assert balance(store, user) == Decimal("100") - Decimal(amount)

    def test_charger_tariff_overrides_global(self, store):
        """A charger-specific rate wins over the global fallback (001 §5.4)."""
        store.upsert_charger("CP002", registration_status="Accepted")
        store.set_tariff("CP002", "15")
        user = user_with(store, "100")
        assert bill_transaction(store, session(store, user, 0, 1000, "CP002"), T0).amount == 15
        assert bill_transaction(store, session(store, user, 0, 1000), T0).amount == 10


class TestIdempotenceAndSafety:
    def test_billing_twice_deducts_once(self, store):
        """A replayed stop (billing called again) never deducts twice."""
        user = user_with(store, "500")
        tx = session(store, user, 0, 8500)
        first = bill_transaction(store, tx, T0)
        second = bill_transaction(store, tx, T0)
        assert (first.billed_now, second.billed_now) == (True, False)
        assert len(store.list_wallet_transactions(type="CHARGE_DEDUCT")) == 1
        assert balance(store, user) == Decimal("415.00")

    def test_meter_backwards_is_flagged_not_billed(self, store):
        """meterStop < meterStart goes to review; the wallet is untouched."""
        user = user_with(store, "500")
        outcome = bill_transaction(store, session(store, user, 9000, 100), T0)
        assert outcome.status == BILLING_REVIEW
        assert "METER_STOP_BELOW_START" in outcome.reason
        assert balance(store, user) == Decimal("500")
        assert (
            store.list_billing_retries(state="Review")[0]["transaction_id"]
            == outcome.transaction_id
        )

    def test_database_error_rolls_back_the_deduction(self, tmp_path, monkeypatch):
        """If the transaction update fails, the wallet deduction is rolled back with it."""

        with open_store(tmp_path / "flaky.db") as store:
            backend = type(store)
            real = backend.set_transaction_billing
            failures = [1]

            def flaky(self, *args, **kwargs):  # the backend's translated error
                if args[1] == COMPLETED and failures[0]:
                    failures[0] -= 1
                    raise StoreUnavailable("disk I/O error")
                return real(self, *args, **kwargs)

            monkeypatch.setattr(backend, "set_transaction_billing", flaky)
            store.upsert_charger("CP001")
            store.set_tariff(None, "10")
            user = user_with(store, "500")
            tx = session(store, user, 0, 8500)
            outcome = bill_transaction(store, tx, T0)
            assert outcome.status == BILLING_FAILED
            assert balance(store, user) == Decimal("500")
            assert store.list_wallet_transactions(type="CHARGE_DEDUCT") == []
            assert bill_transaction(store, tx, T0).status == COMPLETED  # the retry succeeds
            assert balance(store, user) == Decimal("415.00")


class TestRetryQueue:
    def test_insufficient_then_top_up_then_retry(self, store):
        """Insufficient → BillingFailed and queued; after a top-up the next due retry bills it."""
        user = user_with(store, "50")
        tx = session(store, user, 0, 8500)
        assert bill_transaction(store, tx, T0).status == BILLING_FAILED
        assert store.get_transaction(tx)["status"] == BILLING_FAILED
        assert store.get_billing_retry(tx)["reason"] == "INSUFFICIENT_BALANCE"
        store.wallet_credit(user["id"], Decimal("100"), reference="pay-1")
        assert retry_due(store, T0 + timedelta(minutes=29)) == []  # not due yet
        [outcome] = retry_due(store, T0 + timedelta(minutes=30))
        assert outcome.status == COMPLETED
        assert balance(store, user) == Decimal("65.00")
        assert store.get_billing_retry(tx)["state"] == "Done"

    def test_review_after_24_hours(self, store):
        """Retries every 30 min stop after 24 h: the transaction is flagged for review."""
        user = user_with(store, None)
        tx = session(store, user, 0, 8500)
        bill_transaction(store, tx, T0)
        now = T0
        for _ in range(47):
            now += timedelta(minutes=30)
            assert retry_due(store, now)[0].status == BILLING_FAILED
        now += timedelta(minutes=30)  # 24 h after the first failure
        assert retry_due(store, now)[0].status == BILLING_REVIEW
        entry = store.get_billing_retry(tx)
        assert (entry["state"], entry["attempts"]) == ("Review", 49)
        assert retry_due(store, now + timedelta(hours=1)) == []

    async def test_worker_retries_on_its_own(self, store):
        """The retry worker runs every interval of protocol time (an accelerated clock here)."""
        user = user_with(store, "10")
        tx = session(store, user, 0, 8500)
        clock = Clock(speed=36_000)  # 30 min of protocol time = 50 ms
        service = BillingService(store, clock, BillingPolicy(retry_interval=1800))
        assert (await service.bill_stopped_transaction(tx)).status == BILLING_FAILED
        store.wallet_credit(user["id"], Decimal("100"), reference="pay-2")
        service.start()
        try:
            for _ in range(100):
                if store.get_transaction(tx)["status"] == COMPLETED:
                    break
                await asyncio.sleep(0.02)
        finally:
            await service.close()
        assert store.get_transaction(tx)["status"] == COMPLETED
        assert balance(store, user) == Decimal("25.00")


def test_sweep_bills_transactions_left_unbilled_by_a_crash(store):
    """A transaction stopped but never billed (crash before billing) is billed by the next pass."""
    user = user_with(store, "500")
    tx = session(store, user, 0, 8500)
    [outcome] = retry_due(store, T0)
    assert (outcome.transaction_id, outcome.status) == (tx, COMPLETED)
    assert retry_due(store, T0) == []
