"""Contract: id tags and tariffs (every backend)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from csms.store import Store


class TestIdTags:
    """Id tags and their parents."""

    def test_id_tag_round_trip(self, store: Store) -> None:
        """An id tag keeps status, expiry (canonical UTC) and parent; it can be deleted."""
        store.upsert_id_tag("GROUP")
        store.upsert_id_tag("T1", status="Blocked", expiry_date="2030-01-01T05:30:00+05:30",
                            parent_id_tag="GROUP")  # fmt: skip
        assert store.get_id_tag("T1") == {
            "id_tag": "T1", "status": "Blocked", "expiry_date": "2030-01-01T00:00:00.000000Z",
            "parent_id_tag": "GROUP", "token_type": None,
        }  # fmt: skip
        assert [t["id_tag"] for t in store.list_id_tags(parent_id_tag="GROUP")] == ["T1"]
        assert store.delete_id_tag("T1") and not store.delete_id_tag("T1")
        assert store.get_id_tag("T1") is None

    def test_token_type_is_part_of_the_record(self, store: Store) -> None:
        """Schema 6: a 2.0.1 token's type is kept; an upsert is the whole record (left out:
        any type again); 36 characters fit (2.0.1 idToken)."""
        long = "E" * 36
        store.upsert_id_tag(long, token_type="eMAID")
        assert store.get_id_tag(long)["token_type"] == "eMAID"
        store.upsert_id_tag(long, status="Blocked")
        assert (store.get_id_tag(long)["token_type"], store.get_id_tag(long)["status"]) == (
            None, "Blocked")


class TestTariffs:
    """Tariffs: specific, then global; money never a float."""

    def test_tariff_specific_then_global(self, store: Store) -> None:
        """A charger's own tariff wins, else the global fallback; rates stay exact Decimals."""
        assert store.get_tariff("CP1") is None
        store.set_tariff(None, "10.50")
        assert store.get_tariff("CP1") == {
            "charger_id": None, "rate_per_kwh": Decimal("10.50"), "currency": "INR"
        }  # fmt: skip
        store.set_tariff("CP1", Decimal("15.25"), "EUR")
        assert store.get_tariff("CP1")["rate_per_kwh"] == Decimal("15.25")
        assert store.get_tariff("CP9")["charger_id"] is None
        assert len(store.list_tariffs()) == 2

    @pytest.mark.parametrize("bad", [10.5, "abc", "-1", "NaN"])
    def test_tariff_rejects_floats_and_garbage(self, store: Store, bad: object) -> None:
        """Money never goes in as a float, a negative or a non-number."""
        with pytest.raises(ValueError):
            store.set_tariff(None, bad)  # type: ignore[arg-type]
