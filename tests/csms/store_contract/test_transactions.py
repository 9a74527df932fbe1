"""Contract: transactions, reservations consumed by them, meter values (every backend)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest

from csms.store import NotFound, Store
from csms.store.metering import normalise
from tests.csms.store_contract.backends import T0, T1


class TestTransactions:
    """Allocation, idempotent stop, billing fields, queries."""

    def test_start_allocates_unique_increasing_ids(self, store: Store) -> None:
        """Each start gets a new integer transactionId, stored with all its fields."""
        a = store.start_transaction("CP1", 1, "TAG", 100, T0)
        b = store.start_transaction("CP1", 1, "TAG", 200, T1, id_tag_status="Blocked")
        assert isinstance(a, int) and b > a
        tx = store.get_transaction(a)
        assert (tx["charger_id"], tx["connector_id"], tx["id_tag"], tx["meter_start"]) == (
            "CP1", 1, "TAG", 100
        )  # fmt: skip
        assert tx["start_time"] == "2025-01-17T10:00:00.000000Z" and tx["status"] == "Running"
        assert store.get_transaction(b)["id_tag_status"] == "Blocked"

    def test_retried_start_returns_same_id(self, store: Store) -> None:
        """A StartTransaction replayed after a lost reply gets the id already allocated."""
        first = store.start_transaction("CP1", 1, "TAG", 100, T0)
        assert store.start_transaction("CP1", 1, "TAG", 100, "2025-01-17T10:00:00+00:00") == first
        assert len(store.list_transactions()) == 1

    def test_stop_is_idempotent(self, store: Store) -> None:
        """A second stop returns the stored result and changes nothing."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 250, T0)
        first = store.stop_transaction(tx_id, 18750, T1, reason="EVDisconnected", id_tag="TAG2")
        assert first["energy_wh"] == 18500 and first["status"] == "Stopped"
        assert (first["stop_reason"], first["id_tag_stop"]) == ("EVDisconnected", "TAG2")
        again = store.stop_transaction(tx_id, 99999, "2025-01-18T00:00:00Z", reason="Other")
        assert again == first

    def test_stop_defaults(self, store: Store) -> None:
        """Omitted reason means Local; a meter going backwards gives no energy, not a negative."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 500, T0)
        tx = store.stop_transaction(tx_id, 100, T1)
        assert tx["stop_reason"] == "Local" and tx["energy_wh"] is None

    def test_stop_unknown_transaction(self, store: Store) -> None:
        """Stopping an id the store never allocated raises NotFound."""
        with pytest.raises(NotFound):
            store.stop_transaction(4242, 1, T1)

    def test_billing_outcome_round_trip(self, store: Store) -> None:
        """Billing status, rate and amount are stored and returned as exact Decimals."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0)
        store.stop_transaction(tx_id, 8500, T1)
        store.set_transaction_billing(tx_id, "Completed", tariff_rate=Decimal("10.00"),
                                      amount=Decimal("85.00"), currency="INR")  # fmt: skip
        tx = store.get_transaction(tx_id)
        assert (tx["status"], tx["amount"], tx["tariff_rate"]) == (
            "Completed", Decimal("85.00"), Decimal("10.00")
        )  # fmt: skip
        with pytest.raises(NotFound):
            store.set_transaction_billing(999, "Completed")

    def test_active_and_list(self, store: Store) -> None:
        """Active lookups see only running transactions; list filters by tag, status and time."""
        old = store.start_transaction("CP1", 1, "A", 0, T0)
        store.stop_transaction(old, 10, T0)
        running = store.start_transaction("CP1", 1, "B", 10, T1)
        assert store.active_transaction("CP1", 1)["id"] == running
        assert store.active_transaction_for_tag("B")["id"] == running
        assert store.active_transaction_for_tag("A") is None
        assert [t["id"] for t in store.list_transactions()] == [running, old]
        assert [t["id"] for t in store.list_transactions(id_tag="A")] == [old]
        assert [t["id"] for t in store.list_transactions(status="Running")] == [running]
        assert [t["id"] for t in store.list_transactions(since=T1)] == [running]
        assert [t["id"] for t in store.list_transactions(until=T1)] == [old]

    def test_threads_get_distinct_ids(self, store: Store) -> None:
        """Concurrent starts from worker threads (asyncio.to_thread) never share an id."""
        ids: list[int] = []

        def start(n: int) -> None:
            ids.append(store.start_transaction("CP1", 1, f"T{n}", n, T0))

        threads = [threading.Thread(target=start, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(ids)) == 20

    def test_start_consumes_reservation(self, store: Store) -> None:
        """A transaction started on a reservation marks it Used and links it."""
        reservation = store.create_reservation("CP1", 1, "TAG", T1, parent_id_tag="G")
        tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0, reservation_id=reservation)
        stored = store.get_reservation(reservation)
        assert (stored["status"], stored["transaction_id"]) == ("Used", tx_id)


class TestMeterValues:
    """Every sampledValue stored and normalised."""

    PAYLOAD = [
        {
            "timestamp": "2025-01-17T10:35:00Z",
            "sampledValue": [
                {"value": "5420"},  # every optional field omitted: spec defaults apply
                {"value": "230.5", "measurand": "Voltage", "unit": "V", "phase": "L1"},
                {"value": "16200", "measurand": "Current.Import", "unit": "mA"},
                {"value": "3.73", "measurand": "Power.Active.Import", "unit": "kW"},
                {"value": "5.42", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
                 "context": "Sample.Clock", "location": "Inlet"},
                {"value": "AB12", "format": "SignedData"},
            ],
        }
    ]  # fmt: skip


    def test_every_sample_stored_and_normalised(self, store: Store) -> None:
        """Each sampledValue is a row, as sent plus normalised to Wh/W/A/V exactly."""
        tx_id = store.start_transaction("CP1", 1, "TAG", 0, T0)
        assert store.add_meter_values("CP1", 1, self.PAYLOAD, transaction_id=tx_id) == 6
        rows = store.list_meter_values(transaction_id=tx_id)
        got = [(r["measurand"], r["value"], r["unit"], r["norm_value"], r["norm_unit"])
               for r in rows]  # fmt: skip
        assert got == [
            ("Energy.Active.Import.Register", "5420", None, Decimal("5420"), "Wh"),
            ("Voltage", "230.5", "V", Decimal("230.5"), "V"),
            ("Current.Import", "16200", "mA", Decimal("16.2"), "A"),
            ("Power.Active.Import", "3.73", "kW", Decimal("3730"), "W"),
            ("Energy.Active.Import.Register", "5.42", "kWh", Decimal("5420"), "Wh"),
            ("Energy.Active.Import.Register", "AB12", None, None, None),
        ]
        first = rows[0]
        assert (first["context"], first["location"], first["format"]) == (
            "Sample.Periodic", "Outlet", "Raw"
        )  # fmt: skip
        assert rows[1]["phase"] == "L1" and rows[4]["context"] == "Sample.Clock"
        assert rows[0]["timestamp"] == "2025-01-17T10:35:00.000000Z"
        assert len(store.list_meter_values(measurand="Voltage")) == 1
        assert len(store.list_meter_values(charger_id="CP1", connector_id=1, limit=2)) == 2

    @pytest.mark.parametrize(
        ("value", "measurand", "unit", "expected"),
        [
            ("1.5", "Energy.Reactive.Import.Register", "kvarh", ("1500", "varh")),
            ("300", "Temperature", "K", ("26.85", "Celsius")),
            ("212", "Temperature", "Fahrenheit", ("100", "Celsius")),
            ("55", "SoC", None, ("55", "Percent")),
            ("50.0", "Frequency", None, ("50", None)),
            ("12", "Voltage", None, ("12", "V")),
        ],
    )
    def test_normalise_units(self, value, measurand, unit, expected) -> None:
        """Unit conversions (and the measurand's unit when none is sent) are exact."""
        assert normalise(value, measurand, unit) == expected
