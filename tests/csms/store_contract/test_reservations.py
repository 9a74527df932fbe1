"""Contract: reservations (every backend)."""

from __future__ import annotations

import pytest

from csms.store import NotFound, Store
from tests.csms.store_contract.backends import T1


class TestReservations:
    """Reservations and their statuses."""

    def test_reservations(self, store: Store) -> None:
        """Reservations get store-allocated ids and keep their status."""
        r = store.create_reservation("CP1", 1, "TAG", T1)
        store.set_reservation_status(r, "Accepted")
        assert store.get_reservation(r)["status"] == "Accepted"
        assert [x["id"] for x in store.list_reservations(charger_id="CP1", status="Accepted")] == [
            r
        ]
        with pytest.raises(NotFound):
            store.set_reservation_status(999, "Cancelled")
