"""Contract: what OCPP 2.0.1 stations add (schema 4): EVSE connectors, transaction events."""

from __future__ import annotations

from decimal import Decimal

from csms.store import Store
from tests.csms.store_contract.backends import T0, T1


def register(wh: int, at: str, context: str) -> list[dict]:
    """One energy register reading in the 1.6 wire shape the store takes."""
    return [{"timestamp": at, "sampledValue": [{
        "value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh",
        "context": context}]}]  # fmt: skip


def event(store: Store, tx: str, seq: int, kind: str, at: str, reason: str, **more):
    return store.record_transaction_event("CP1", tx, seq, kind, at, trigger_reason=reason, **more)


class TestEvseConnectors:
    def test_status_per_evse_and_connector(self, store: Store) -> None:
        """Connector 1 of EVSE 1 and connector 1 of EVSE 2 are two connectors; the last report
        of each is kept."""
        store.record_evse_status("CP1", 1, 1, "Available", T0)
        store.record_evse_status("CP1", 2, 1, "Faulted", T0)
        store.record_evse_status("CP1", 1, 1, "Occupied", T1)
        rows = [(c["evse_id"], c["connector_id"], c["status"])
                for c in store.list_evse_connectors("CP1")]  # fmt: skip
        assert rows == [(1, 1, "Occupied"), (2, 1, "Faulted")]


class TestTransactionEvents:
    def test_started_updated_ended_make_one_billed_transaction(self, store: Store) -> None:
        """The station's string id maps to one transaction; Ended closes it with the energy its
        register spans (1000 -> 8500 Wh), ready for billing."""
        first = store.record_transaction_event(
            "CP1", "tx-A", 0, "Started", T0, trigger_reason="Authorized", evse_id=1,
            id_token="TAG", id_token_status="Accepted",
            meter_values=register(1000, T0, "Transaction.Begin"),
        )  # fmt: skip
        store.record_transaction_event("CP1", "tx-A", 1, "Updated", T0,
                                       trigger_reason="ChargingStateChanged",
                                       charging_state="Charging")  # fmt: skip
        last = event(store, "tx-A", 2, "Ended", T1, "EVDeparted", stopped_reason="EVDisconnected",
                     meter_values=register(8500, T1, "Transaction.End"))  # fmt: skip
        assert first.transaction_id == last.transaction_id and not last.duplicate
        assert last.missing == ()
        assert store.station_transaction("CP1", "tx-A") == first.transaction_id
        tx = store.get_transaction(first.transaction_id)
        assert (tx["connector_id"], tx["id_tag"], tx["meter_start"], tx["meter_stop"],
                tx["energy_wh"], tx["status"], tx["stop_reason"]) == (
            1, "TAG", 1000, 8500, 7500, "Stopped", "EVDisconnected")  # fmt: skip
        events = store.list_transaction_events("CP1", "tx-A")
        assert [(e["seq_no"], e["event_type"]) for e in events] == [
            (0, "Started"), (1, "Updated"), (2, "Ended")]
        assert events[1]["charging_state"] == "Charging" and events[1]["offline"] is False

    def test_meter_start_is_the_first_reading_and_the_cost_basis_the_latest(
        self, store: Store
    ) -> None:
        """I02: a running transaction's meter_start is its earliest energy register reading,
        whichever event brings it (a Started without one, a reading queued offline that
        arrives after a later one); `cost_basis` has the newest reading and the tariff."""
        store.set_tariff(None, Decimal("10.00"), "EUR")
        tid = event(store, "tx-M", 0, "Started", T0, "CablePluggedIn", evse_id=1).transaction_id
        assert store.get_transaction(tid)["connector_id"] == 1
        event(store, "tx-M", 1, "Updated", T1, "MeterValuePeriodic",
              meter_values=register(2000, T1, "Sample.Periodic"))  # fmt: skip
        assert store.get_transaction(tid)["meter_start"] == 2000
        event(store, "tx-M", 2, "Updated", T0, "MeterValuePeriodic",  # queued offline
              meter_values=register(1500, "2025-01-17T10:30:00Z", "Sample.Periodic"))
        assert store.get_transaction(tid)["meter_start"] == 1500
        event(store, "tx-M", 3, "Updated", T1, "MeterValuePeriodic",
              meter_values=register(2600, "2025-01-17T11:30:00Z", "Sample.Periodic"))
        assert store.get_transaction(tid)["meter_start"] == 1500
        basis = store.cost_basis(tid)
        assert basis is not None
        assert (basis["meter_start"], basis["latest_reading"], basis["rate_per_kwh"],
                basis["stop_time"]) == (1500, Decimal("2600"), Decimal("10.00"), None)
        assert store.cost_basis(tid + 100) is None

    def test_the_cost_basis_with_an_event_is_the_one_read_after_it(self, store: Store) -> None:
        """`with_cost_basis` gives what `cost_basis` reads after the event, whatever the order
        of the readings: a later one, one queued offline, one at the same time, a phase's,
        none, a retried event, the first event of a transaction and an Ended one."""
        store.set_tariff("CP1", Decimal("7.50"), "EUR")
        phase = [{"timestamp": "2025-01-17T12:00:00Z", "sampledValue": [{
            "value": "5", "measurand": "Energy.Active.Import.Register", "unit": "kWh",
            "phase": "L1"}]}]  # fmt: skip
        steps = [(0, "Started", register(1000, T0, "Transaction.Begin")),
                 (1, "Updated", register(1200, T1, "Sample.Periodic")),
                 (2, "Updated", register(1100, "2025-01-17T10:30:00Z", "Sample.Periodic")),
                 (3, "Updated", register(1250, T1, "Sample.Periodic")),
                 (4, "Updated", phase), (5, "Updated", []),
                 (5, "Updated", register(1300, T1, "Sample.Periodic")),  # a retry: as it was
                 (6, "Ended", register(1400, "2025-01-17T13:00:00Z", "Transaction.End"))]
        for seq, kind, values in steps:
            result = event(store, "tx-C", seq, kind, T1, "MeterValuePeriodic",
                           meter_values=values, with_cost_basis=True)  # fmt: skip
            assert result.cost_basis == store.cost_basis(result.transaction_id), seq
        assert result.cost_basis is not None and result.cost_basis["stop_time"] is not None
        plain = event(store, "tx-C", 7, "Updated", T1, "MeterValuePeriodic")
        assert plain.cost_basis is None

    def test_retried_event_changes_nothing_and_gaps_are_reported(self, store: Store) -> None:
        """A seqNo stored before is a retry (duplicate, nothing stored twice); seqNos missing
        between the first and the last received are named."""
        begin = register(5, T0, "Transaction.Begin")
        event(store, "tx-B", 0, "Started", T0, "CablePluggedIn", evse_id=1, meter_values=begin)
        again = event(store, "tx-B", 0, "Started", T0, "CablePluggedIn", evse_id=1,
                      meter_values=begin)  # fmt: skip
        assert again.duplicate
        assert len(store.list_meter_values(transaction_id=again.transaction_id)) == 1
        ended = event(store, "tx-B", 4, "Ended", T1, "StopAuthorized", offline=True)
        assert ended.missing == (1, 2, 3)
        # no second register reading: no energy to bill, so billing review, not a guess
        assert store.get_transaction(ended.transaction_id)["status"] == "BillingReview"
        assert store.list_transaction_events("CP1", "tx-B")[-1]["offline"] is True

    def test_same_string_id_on_two_stations_is_two_transactions(self, store: Store) -> None:
        """transactionId is unique per station only (E01.FR.08)."""
        store.upsert_charger("CP2")
        a = event(store, "1", 0, "Started", T0, "Authorized")
        b = store.record_transaction_event("CP2", "1", 0, "Started", T0,
                                           trigger_reason="Authorized")
        assert a.transaction_id != b.transaction_id

    def test_a_token_running_elsewhere_is_concurrent_in_the_same_step(self, store: Store) -> None:
        """The ConcurrentTx check is part of the event's one write (as 1.6's begin_transaction):
        an Accepted token already running another transaction (a 1.6 one here) is stored and
        returned ConcurrentTx, its new transaction NotAuthorized; in its own transaction, and
        on a retry, the status stays what was stored; a token given after the start (cable
        first) is checked the same way."""
        store.upsert_charger("CP2")
        store.upsert_connector("CP2", 1)
        elsewhere = store.begin_transaction("CP2", 1, "TAG", 0, T0)
        assert elsewhere.id_tag_status == "Accepted"
        second = event(store, "tx-C", 0, "Started", T0, "Authorized", evse_id=1,
                       id_token="TAG", id_token_status="Accepted")  # fmt: skip
        assert second.id_token_status == "ConcurrentTx"
        row = store.get_transaction(second.transaction_id)
        assert (row["id_tag_status"], row["status"]) == ("ConcurrentTx", "NotAuthorized")
        retry = event(store, "tx-C", 0, "Started", T0, "Authorized", evse_id=1,
                      id_token="TAG", id_token_status="Accepted")  # fmt: skip
        assert retry.duplicate and retry.id_token_status == "ConcurrentTx"
        no_token = event(store, "tx-D", 0, "Started", T0, "CablePluggedIn", evse_id=2)
        assert no_token.id_token_status is None
        late = event(store, "tx-D", 1, "Updated", T1, "Authorized", id_token="TAG",
                     id_token_status="Accepted")  # fmt: skip
        assert late.id_token_status == "ConcurrentTx"
        store.stop_transaction(elsewhere.transaction_id, 10, T1)
        own = event(store, "tx-E", 0, "Started", T1, "Authorized", evse_id=3, id_token="TAG",
                    id_token_status="Accepted")  # fmt: skip
        again = event(store, "tx-E", 1, "Updated", T1, "Authorized", id_token="TAG",
                      id_token_status="Accepted")  # fmt: skip
        assert (own.id_token_status, again.id_token_status) == ("Accepted", "Accepted")
        blocked = event(store, "tx-F", 0, "Started", T1, "Authorized", evse_id=4,
                        id_token="OTHER", id_token_status="Blocked")  # fmt: skip
        assert blocked.id_token_status == "Blocked"

class TestDeviceModel:
    def test_report_then_values_keep_what_the_report_said(self, store: Store) -> None:
        """Schema 5: a NotifyReport row carries mutability, flags and characteristics; a later
        value (a result, an event) changes the value only. An EVSE's variable and an instance
        are their own rows; the Actual values join the reported configuration."""
        chars = {"dataType": "integer", "supportsMonitoring": False, "unit": "s"}
        store.record_station_variables("CP1", [
            {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval",
             "attribute_type": "Actual", "value": "300", "mutability": "ReadWrite",
             "persistent": True, "constant": False, "characteristics": chars},
            {"component": "EVSE", "evse_id": 1, "variable": "Power", "attribute_type": "MaxSet",
             "value": "22000", "mutability": "ReadOnly"},
            {"component": "ChargingStation", "component_instance": "main",
             "variable": "Available", "value": "true", "mutability": "ReadOnly"},
        ], T0)  # fmt: skip
        store.record_station_variables("CP1", [
            {"component": "OCPPCommCtrlr", "variable": "HeartbeatInterval", "value": "60"},
            {"component": "EVSE", "evse_id": 1, "connector_id": 1, "variable": "AvailabilityState",
             "value": "Occupied"},
        ], T1)  # fmt: skip
        rows = store.list_station_variables("CP1")
        assert [(r["component"], r["evse_id"], r["connector_id"], r["variable"],
                 r["attribute_type"], r["value"], r["mutability"]) for r in rows] == [
            ("ChargingStation", None, None, "Available", "Actual", "true", "ReadOnly"),
            ("EVSE", 1, None, "Power", "MaxSet", "22000", "ReadOnly"),
            ("EVSE", 1, 1, "AvailabilityState", "Actual", "Occupied", None),
            ("OCPPCommCtrlr", None, None, "HeartbeatInterval", "Actual", "60", "ReadWrite"),
        ]  # fmt: skip
        heartbeat = rows[-1]
        assert (heartbeat["persistent"], heartbeat["constant"]) == (True, False)
        assert heartbeat["characteristics"] == chars and heartbeat["reported_at"] != rows[1][
            "reported_at"]
        assert rows[0]["component_instance"] == "main" and rows[0]["variable_instance"] is None
        assert [r["variable"] for r in store.list_station_variables("CP1", component="EVSE")] == [
            "Power", "AvailabilityState"]
        config = store.get_reported_config("CP1")
        assert {key: row["value"] for key, row in config.items()} == {
            "ChargingStation[main]/Available": "true", "EVSE/AvailabilityState@1.1": "Occupied",
            "OCPPCommCtrlr/HeartbeatInterval": "60"}  # fmt: skip
        assert config["ChargingStation[main]/Available"]["readonly"] is True
        assert store.list_station_variables("CP2") == []
