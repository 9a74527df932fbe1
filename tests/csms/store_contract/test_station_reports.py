"""Contract: what a 2.0.1 station notifies about itself (schema 8): external charging limits,
publish-firmware status, display messages, customer information; and a charger's registered
serial, kept apart from the serial its boot reports (A00.FR.405/511)."""

from __future__ import annotations

from csms.store import Store
from tests.csms.store_contract.backends import T0, T1

SCHEDULE = {"id": 1, "chargingRateUnit": "A",
            "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0}]}


class TestChargingLimits:
    def test_kept_per_evse_and_source_until_cleared(self, store: Store) -> None:
        """K11/K12: one limit per EVSE (None: the station) and source, a later one replacing
        it; K13: a clear with an EVSE removes that one, without one the source everywhere."""
        store.record_charging_limit("CP1", None, "EMS", timestamp=T0)
        store.record_charging_limit("CP1", 1, "SO", is_grid_critical=False, timestamp=T0)
        store.record_charging_limit("CP1", 1, "SO", is_grid_critical=True,
                                    schedules=[SCHEDULE], timestamp=T1)  # fmt: skip
        store.record_charging_limit("CP1", 2, "SO", timestamp=T0)
        rows = store.list_charging_limits("CP1")
        assert [(r["evse_id"], r["source"], r["is_grid_critical"], r["schedules"])
                for r in rows] == [(None, "EMS", None, None), (1, "SO", True, [SCHEDULE]),
                                   (2, "SO", None, None)]  # fmt: skip
        assert rows[1]["reported_at"] == "2025-01-17T11:00:00.000000Z"
        assert store.clear_charging_limit("CP1", "SO", 2) == 1
        assert store.clear_charging_limit("CP1", "Other", None) == 0
        assert [(r["evse_id"], r["source"]) for r in store.list_charging_limits("CP1")] == [
            (None, "EMS"), (1, "SO")]
        assert store.clear_charging_limit("CP1", "EMS", None) == 1
        assert store.list_charging_limits("OTHER") == []


class TestPublishFirmware:
    def test_latest_status_replaces(self, store: Store) -> None:
        assert store.get_publish_firmware_status("CP1") is None
        store.record_publish_firmware_status("CP1", "Downloading", request_id=4, timestamp=T0)
        store.record_publish_firmware_status("CP1", "Published", request_id=4,
                                             locations=["http://lc/fw"], timestamp=T1)
        status = store.get_publish_firmware_status("CP1")
        assert status is not None
        assert (status["status"], status["request_id"], status["locations"]) == (
            "Published", 4, ["http://lc/fw"])


class TestDisplayMessages:
    def test_by_id_and_forgotten(self, store: Store) -> None:
        """O04: by id, a later report replacing; O05 one removed; O03 all but a request's."""
        message = {"id": 1, "priority": "NormalCycle",
                   "message": {"format": "UTF8", "content": "Hi"}}
        store.record_display_messages("CP1", 1, [message, {**message, "id": 2}], T0)
        store.record_display_messages("CP1", 2, [{**message, "priority": "InFront"}], T1)
        rows = store.list_display_messages("CP1")
        assert [(r["message_id"], r["request_id"], r["info"]["priority"]) for r in rows] == [
            (1, 2, "InFront"), (2, 1, "NormalCycle")]
        assert store.remove_display_message("CP1", 2) is True
        assert store.remove_display_message("CP1", 2) is False
        store.record_display_messages("CP1", 3, [{**message, "id": 3}], T1)
        assert store.forget_display_messages("CP1", besides_request=3) == 1
        assert [r["message_id"] for r in store.list_display_messages("CP1")] == [3]
        assert store.forget_display_messages("CP1") == 1


class TestCustomerInformation:
    def test_parts_joined_per_request(self, store: Store) -> None:
        """N09: parts by seqNo (a retried one kept once), joined in order; complete once the
        last part came with none missing."""
        assert store.record_customer_information("CP1", 7, 1, "b", tbc=False, generated_at=T0)
        assert not store.record_customer_information("CP1", 7, 1, "b", tbc=False,
                                                     generated_at=T0)  # fmt: skip
        [first] = store.list_customer_information("CP1")
        assert (first["data"], first["complete"], first["missing_seq_nos"]) == ("b", False, [0])
        store.record_customer_information("CP1", 7, 0, "a", tbc=True, generated_at=T0)
        store.record_customer_information("CP1", 8, 0, "none", tbc=False, generated_at=T1)
        joined = {r["request_id"]: r for r in store.list_customer_information("CP1")}
        assert (joined[7]["data"], joined[7]["parts"], joined[7]["complete"]) == ("ab", 2, True)
        assert [r["request_id"] for r in store.list_customer_information("CP1", request_id=8)
                ] == [8]  # fmt: skip


class TestRegisteredSerial:
    def test_a_boot_never_changes_the_registered_serial(self, store: Store) -> None:
        """The operator's serial (`upsert_charger`) is the registered one and the shown one
        until a boot reports another; a boot changes only the shown one."""
        assert store.get_charger("CP1")["registered_serial"] is None
        store.record_boot("CP1", vendor="V", model="M", serial="CLAIMED", timestamp=T0)
        charger = store.get_charger("CP1")
        assert (charger["serial"], charger["registered_serial"]) == ("CLAIMED", None)
        store.upsert_charger("CP1", serial="SN-1")
        store.record_boot("CP1", vendor="V", model="M", serial="OTHER", timestamp=T1)
        charger = store.get_charger("CP1")
        assert (charger["serial"], charger["registered_serial"]) == ("OTHER", "SN-1")
        store.upsert_charger("CP1", model="M2")  # no serial given: the registered one stays
        assert store.get_charger("CP1")["registered_serial"] == "SN-1"
        assert store.charger_named("SN-1", besides="CP2") == "CP1"
        assert store.charger_named("OTHER", besides="CP2") is None  # only claimed

