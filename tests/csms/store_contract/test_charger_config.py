"""Contract: local lists, charging profiles, certificates, configuration, security events."""

from __future__ import annotations

from csms.store import Store
from tests.csms.store_contract.backends import T0, T1


class TestChargerConfig:
    """What the CSMS set on chargers and what they reported."""

    def test_local_list_versions(self, store: Store) -> None:
        """Only an accepted SendLocalList moves the version; every attempt is logged."""
        entries = [{"idTag": "TAG", "idTagInfo": {"status": "Accepted"}}]
        assert store.get_local_list_version("CP1") is None
        store.record_local_list_update("CP1", 3, "Full", entries, "Accepted", T0)
        store.record_local_list_update("CP1", 4, "Differential", [], "VersionMismatch", T1)
        assert store.get_local_list_version("CP1") == 3
        store.set_local_list_version("CP1", 7)
        assert store.get_local_list_version("CP1") == 7
        updates = store.list_local_list_updates("CP1")
        assert [u["status"] for u in updates] == ["Accepted", "VersionMismatch"]
        assert updates[0]["entries"] == entries

    def test_charging_profiles_replace_and_clear(self, store: Store) -> None:
        """Same id or same stackLevel+purpose replaces (1.6 §5.16); clears follow §5.5."""

        def profile(pid: int, level: int, purpose: str = "TxDefaultProfile") -> dict:
            schedule = {"chargingRateUnit": "A", "chargingSchedulePeriod": []}
            return {"chargingProfileId": pid, "stackLevel": level,
                    "chargingProfilePurpose": purpose, "chargingProfileKind": "Absolute",
                    "chargingSchedule": schedule}  # fmt: skip

        store.record_charging_profile("CP1", 1, 1, profile(1, 0), "Accepted", T0)
        store.record_charging_profile("CP1", 1, 2, profile(2, 0), "Accepted", T0)  # replaces 1
        store.record_charging_profile("CP1", 1, 3, profile(3, 1), "Rejected", T0)
        store.record_charging_profile("CP1", 0, 4, profile(4, 0, "ChargePointMaxProfile"),
                                      "Accepted")  # fmt: skip
        active = store.list_charging_profiles("CP1")
        assert [p["profile_id"] for p in active] == [2, 4]
        assert active[0]["profile"]["chargingSchedule"]["chargingRateUnit"] == "A"
        assert len(store.list_charging_profiles("CP1", active_only=False)) == 4
        assert store.clear_charging_profiles("CP1", purpose="ChargePointMaxProfile") == 1
        assert store.clear_charging_profiles("CP1", profile_id=2) == 1
        assert store.list_charging_profiles("CP1") == []

    def test_certificates(self, store: Store) -> None:
        """Installed certificates are listed until removed."""
        store.add_certificate("CP1", "CentralSystemRootCertificate", pem="PEM", serial_number="01",
                              hash_algorithm="SHA256", issuer_key_hash="k1")  # fmt: skip
        store.add_certificate("CP1", "ChargePointCertificate", serial_number="02")
        got = store.list_certificates("CP1", certificate_type="CentralSystemRootCertificate")
        assert [c["pem"] for c in got] == ["PEM"]
        assert store.remove_certificate("CP1", serial_number="01", issuer_key_hash="k1") == 1
        assert [c["serial_number"] for c in store.list_certificates("CP1")] == ["02"]
        assert len(store.list_certificates("CP1", include_removed=True)) == 2

    def test_configuration_baseline_and_reported(self, store: Store) -> None:
        """Baselines replace or merge; reported keys upsert with their readonly flag."""
        store.set_config_baseline(
            "CP1", {"HeartbeatInterval": "300", "MeterValueSampleInterval": "60"}
        )
        store.set_config_baseline("CP1", {"HeartbeatInterval": "120"}, replace=False)
        assert store.get_config_baseline("CP1") == {
            "HeartbeatInterval": "120", "MeterValueSampleInterval": "60"
        }  # fmt: skip
        store.set_config_baseline("CP1", {"NumberOfConnectors": "2"})
        assert store.get_config_baseline("CP1") == {"NumberOfConnectors": "2"}
        store.record_reported_config("CP1", [
            {"key": "HeartbeatInterval", "readonly": False, "value": "300"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "2"},
        ], T0)  # fmt: skip
        reported = store.get_reported_config("CP1")
        assert reported["NumberOfConnectors"] == {
            "value": "2", "readonly": True, "reported_at": "2025-01-17T10:00:00.000000Z"
        }  # fmt: skip


class TestSecurityEvents:
    """Security events by charger and time."""

    def test_security_events(self, store: Store) -> None:
        """Security events are kept newest first and filter by time."""
        store.add_security_event("CP1", "FirmwareUpdated", T0)
        store.add_security_event("CP1", "InvalidCentralSystemCertificate", T1, tech_info="x")
        assert [e["type"] for e in store.list_security_events(charger_id="CP1")] == [
            "InvalidCentralSystemCertificate", "FirmwareUpdated"
        ]  # fmt: skip
        assert len(store.list_security_events(since=T1)) == 1
