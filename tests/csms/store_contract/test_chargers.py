"""Contract: locations, chargers, connectors and their statuses (every backend)."""

from __future__ import annotations

import pytest

from csms.store import NotFound, Store
from tests.csms.store_contract.backends import CHEAP, T0, T1


class TestLocationsAndChargers:
    """Locations, chargers, their credentials and connection state."""

    def test_location_round_trip(self, store: Store) -> None:
        """A location comes back with every field; upsert replaces it."""
        store.upsert_location("L2", "Site", address="A", timezone="Asia/Kolkata", latitude=1.5,
                              longitude=2.5)  # fmt: skip
        assert store.get_location("L2") == {
            "id": "L2", "name": "Site", "address": "A", "timezone": "Asia/Kolkata",
            "latitude": 1.5, "longitude": 2.5,
        }  # fmt: skip
        store.upsert_location("L2", "Renamed")
        assert store.get_location("L2")["name"] == "Renamed"
        assert [loc["id"] for loc in store.list_locations()] == ["L2", "LOC"]
        assert store.get_location("nope") is None

    def test_charger_upsert_keeps_unspecified_fields(self, store: Store) -> None:
        """Upserting one field leaves the others as stored."""
        store.upsert_charger("CP1", serial="SN1")
        charger = store.get_charger("CP1")
        assert (charger["serial"], charger["vendor"], charger["security_profile"]) == (
            "SN1",
            "V",
            1,
        )
        assert charger["registration_status"] == "Pending"
        assert charger["online"] is False and charger["has_password"] is False

    def test_charger_list_filters(self, store: Store) -> None:
        """Chargers filter by location, online flag and registration status."""
        store.upsert_charger("CP2", registration_status="Accepted")
        store.set_online("CP2", True, T0)
        assert [c["id"] for c in store.list_chargers(online=True)] == ["CP2"]
        assert [c["id"] for c in store.list_chargers(location_id="LOC")] == ["CP1"]
        assert [c["id"] for c in store.list_chargers(registration_status="Accepted")] == ["CP2"]
        assert [c["id"] for c in store.list_chargers(limit=1, offset=1)] == ["CP2"]

    def test_password_is_hashed_and_verifies(self, store: Store) -> None:
        """The basic-auth key verifies, a wrong one does not, and the hash never leaves."""
        store.set_charger_password("CP1", "s3cret-key-0123456", n=CHEAP)
        assert store.verify_charger_password("CP1", "s3cret-key-0123456")
        assert not store.verify_charger_password("CP1", "wrong-key-01234567")
        assert not store.verify_charger_password("unknown", "s3cret-key-0123456")
        assert store.get_charger("CP1")["has_password"] is True
        assert "auth_key_hash" not in store.get_charger("CP1")
        store.set_charger_password("CP1", None)
        assert not store.verify_charger_password("CP1", "s3cret-key-0123456")

    def test_boot_heartbeat_online(self, store: Store) -> None:
        """Boot, heartbeat and online state are stored; startup clears stale online flags."""
        charger = store.record_boot("CP1", vendor="V2", model="M2", firmware_version="1.2.3",
                                    serial="SN9", timestamp=T0)  # fmt: skip
        assert (charger["vendor"], charger["firmware_version"], charger["serial"]) == (
            "V2", "1.2.3", "SN9"
        )  # fmt: skip
        assert charger["last_boot"] == "2025-01-17T10:00:00.000000Z"
        store.record_heartbeat("CP1", T1)
        store.set_online("CP1", True, T1)
        charger = store.get_charger("CP1")
        assert charger["last_heartbeat"] == charger["online_since"] == "2025-01-17T11:00:00.000000Z"
        assert charger["online"] is True
        assert store.mark_all_offline() == 1
        assert store.get_charger("CP1")["online"] is False

    def test_writes_about_unknown_charger_raise(self, store: Store) -> None:
        """Writes naming a charger that does not exist raise NotFound, not silently pass."""
        with pytest.raises(NotFound):
            store.record_boot("ghost", vendor="V", model="M")
        with pytest.raises(NotFound):
            store.record_heartbeat("ghost")
        with pytest.raises(NotFound):
            store.upsert_connector("ghost", 1)

    def test_highest_profile_remembered(self, store: Store) -> None:
        """The highest security profile ever connected at never goes down."""
        assert store.note_connected_profile("CP1", 2) == 2
        assert store.note_connected_profile("CP1", 1) == 2
        store.set_security_profile("CP1", 3)
        charger = store.get_charger("CP1")
        assert (charger["security_profile"], charger["max_profile_seen"]) == (3, 2)

    def test_charger_or_case_twin(self, store: Store) -> None:
        """Admission's one read: the charger itself first, else the id of its case twin."""
        charger, twin = store.charger_or_case_twin("CP1")
        assert charger == store.get_charger("CP1") and twin is None
        assert store.charger_or_case_twin("cp1") == (None, "CP1")
        assert store.charger_or_case_twin("CP9") == (None, None)
        store.upsert_charger("cp1")
        assert store.charger_or_case_twin("cp1")[0]["id"] == "cp1"

    def test_connect_charger(self, store: Store) -> None:
        """The connection step: created when asked, profile noted (never lowered), online for
        the session; returns the row and the session recorded online before."""
        charger, previous = store.connect_charger(
            "NEW", profile=1, session="s1", timestamp=T0, create=True,
            registration_status="Accepted")  # fmt: skip
        assert previous is None
        assert (charger["id"], charger["registration_status"], charger["max_profile_seen"],
                charger["online"], charger["online_since"]) == (
                    "NEW", "Accepted", 1, True, "2025-01-17T10:00:00.000000Z")  # fmt: skip
        assert store.get_charger("NEW") == charger
        charger, previous = store.connect_charger("NEW", profile=0, session="s2", timestamp=T1)
        assert previous == "s1" and charger["max_profile_seen"] == 1
        assert charger["registration_status"] == "Accepted"
        assert store.set_online("NEW", False, session="s1") is False  # s2 is the one now
        assert store.set_online("NEW", False, session="s2") is True
        assert store.connect_charger("NEW", profile=0, session="s3")[1] is None  # was offline
        default = store.connect_charger("NEW2", profile=0, session="s", create=True)[0]
        assert default["registration_status"] == "Pending"
        with pytest.raises(NotFound):
            store.connect_charger("ghost", profile=0, session="s")


class TestConnectors:
    """Connectors and their status history."""

    def test_status_updates_connector_and_history(self, store: Store) -> None:
        """A StatusNotification sets the connector's state and is appended to history."""
        store.record_status("CP1", 1, "Charging", timestamp=T0)
        store.record_status("CP1", 1, "Faulted", error_code="GroundFailure", info="i",
                            vendor_id="vx", vendor_error_code="E7", timestamp=T1)  # fmt: skip
        store.record_status("CP1", 0, "Available")  # connector 0 is created on the fly
        connector = store.get_connector("CP1", 1)
        assert connector["status"] == "Faulted" and connector["error_code"] == "GroundFailure"
        assert connector["vendor_error_code"] == "E7" and connector["connector_type"] == "Type2"
        assert [c["connector_id"] for c in store.list_connectors("CP1")] == [0, 1]
        store.upsert_charger("CP2")
        store.record_status("CP2", 1, "Available")
        every = [(c["charger_id"], c["connector_id"]) for c in store.list_connectors()]
        assert every == [("CP1", 0), ("CP1", 1), ("CP2", 1)]
        assert [h["status"] for h in store.status_history("CP1", 1)] == ["Faulted", "Charging"]
        assert len(store.status_history("CP1")) == 3


class TestChargerNamed:
    def test_another_chargers_serial_or_id(self, store: Store) -> None:
        """A00.FR.405: whose identity a certificate CN would prove, other than the asker."""
        store.upsert_charger("CP1", serial="SN-1")
        store.upsert_charger("CP2", serial="SN-2")
        assert store.charger_named("SN-1", besides="CP2") == "CP1"
        assert store.charger_named("CP1", besides="CP2") == "CP1"
        assert store.charger_named("SN-1", besides="CP1") is None
        assert store.charger_named("SN-9", besides="CP1") is None
        store.upsert_charger("CP3", serial="CP1")  # an id wins over a serial
        assert store.charger_named("CP1", besides="CP2") == "CP1"
