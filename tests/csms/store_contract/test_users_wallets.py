"""Contract: users, tokens, wallets and the billing retry queue (every backend)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.store import Conflict, InsufficientFundsError, NotFound, Store
from tests.csms.store_contract.backends import T0, T1


class TestUsers:
    def test_user_with_tag_and_empty_wallet(self, store: Store) -> None:
        user = store.create_user("U1", "Asha", "RFID-1", email="a@example.com", currency="INR")
        assert (user["id"], user["role"], user["active"]) == ("U1", "USER", True)
        assert store.get_user_by_rfid("RFID-1")["id"] == "U1"
        assert store.get_id_tag("RFID-1")["status"] == "Accepted"
        assert store.get_wallet("U1")["balance"] == Decimal("0")

    @pytest.mark.parametrize(
        ("user_id", "rfid", "email"),
        [("U1", "RFID-2", "b@example.com"), ("U2", "RFID-1", "b@example.com"),
         ("U2", "RFID-2", "a@example.com")],
    )  # fmt: skip
    def test_duplicates_conflict_and_write_nothing(
        self, store: Store, user_id: str, rfid: str, email: str
    ) -> None:
        """A second user with the same id, RFID id or email: Conflict, and none of it stays."""
        store.create_user("U1", "Asha", "RFID-1", email="a@example.com")
        with pytest.raises(Conflict):
            store.create_user(user_id, "Ravi", rfid, email=email)
        assert [u["id"] for u in store.list_users()] == ["U1"]
        assert store.get_user_by_rfid(rfid) is None or rfid == "RFID-1"

    def test_tokens(self, store: Store) -> None:
        store.create_user("U1", "Asha", "RFID-1")
        store.add_api_token("U1", "f" * 64)
        assert store.user_for_token_hash("f" * 64)["id"] == "U1"
        assert store.user_for_token_hash("0" * 64) is None
        store.set_user_active("U1", False)
        assert store.get_user("U1")["active"] is False


class TestWallets:
    def test_credit_once_per_reference(self, store: Store) -> None:
        store.create_user("U1", "Asha", "RFID-1")
        first = store.wallet_credit("U1", Decimal("500"), reference="pay-1")
        again = store.wallet_credit("U1", Decimal("500"), reference="pay-1")
        assert again == first and store.get_wallet("U1")["balance"] == Decimal("500")

    def test_debit_once_per_transaction_and_never_below_zero(self, store: Store) -> None:
        store.create_user("U1", "Asha", "RFID-1")
        store.wallet_credit("U1", Decimal("100"), reference="pay-1")
        tx = store.start_transaction("CP1", 1, "RFID-1", 0, T0)
        with pytest.raises(InsufficientFundsError):
            store.wallet_debit_for_transaction("U1", tx, Decimal("150"))
        assert store.get_wallet("U1")["balance"] == Decimal("100")
        entry = store.wallet_debit_for_transaction("U1", tx, Decimal("85"))
        assert entry["balance_after"] == Decimal("15") and entry["amount"] == Decimal("-85")
        assert store.wallet_debit_for_transaction("U1", tx, Decimal("85")) == entry
        assert store.count_wallet_transactions(user_id="U1") == 2
        other = store.start_transaction("CP1", 1, "TAG", 0, T1)
        with pytest.raises(NotFound):
            store.wallet_debit_for_transaction("nobody", other, Decimal("1"))

    def test_billing_retry_queue(self, store: Store) -> None:
        tx = store.start_transaction("CP1", 1, "TAG", 0, T0)
        store.queue_billing_retry(tx, "INSUFFICIENT_BALANCE", T0, T1)
        assert [r["transaction_id"] for r in store.list_billing_retries(due_before=T1)] == [tx]
        assert store.list_billing_retries(due_before=T0) == []
        store.set_billing_retry_state(tx, "Done")
        assert store.get_billing_retry(tx)["state"] == "Done"
