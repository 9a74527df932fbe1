"""sim.config: libocpp 1.6 config files, GetConfiguration (1.6 §5.8), ChangeConfiguration (§5.3)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from ocpp.v16.enums import ConfigurationStatus

from chargebench.ocppj.errors import OcppCallError
from sim.config import DEFAULT_CONFIG, KEYS, Access, ChargePointConfig, ConfigError, TooManyKeys
from tests.sim.conftest import LIBOCPP_DIR as LIBOCPP

FILES = ["config.json", "config-full.json", "config-docker.json", "config-docker-tls.json"]

pytestmark = pytest.mark.skipif(not LIBOCPP.is_dir(), reason="../shared/everest-libocpp missing")


def libocpp(name: str = "config.json") -> dict:
    return json.loads((LIBOCPP / name).read_text("utf-8"))


def write(tmp_path: Path, data: dict, name: str = "config.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), "utf-8")
    return path


class TestLoad:
    def test_bundled_config_is_our_own(self) -> None:
        """Issue 14.9: the package ships its own configuration in libocpp's 1.6 format (every
        profile and key libocpp knows, none invented), with our own values: it loads, and it
        is not EVerest's file, nor a copy of any of EVerest's values beyond the format."""
        ours = json.loads(DEFAULT_CONFIG.read_text("utf-8"))
        config = ChargePointConfig.load(DEFAULT_CONFIG)
        assert config.charge_point_vendor == "ChargeBench"
        everest = libocpp()
        assert ours != everest
        assert set(ours) <= {*libocpp("config-full.json"), "Reservation"}
        for name in FILES:
            identity = libocpp(name)["Internal"]
            for key in ("ChargePointId", "ChargePointVendor", "ChargePointModel",
                        "CentralSystemURI", "ChargeBoxSerialNumber", "FirmwareVersion"):
                assert ours["Internal"][key] != identity.get(key), (name, key)
        assert not (DEFAULT_CONFIG.parent / "libocpp").exists()  # the old copy is gone

    @pytest.mark.parametrize("name", FILES)
    def test_real_libocpp_files_load(self, name: str) -> None:
        """Every libocpp 1.6 example config loads as is and reads back its own values."""
        data = libocpp(name)
        cfg = ChargePointConfig.load(LIBOCPP / name)
        assert cfg.charge_point_id == data["Internal"]["ChargePointId"]
        assert cfg.central_system_uri == data["Internal"]["CentralSystemURI"]
        assert cfg.heartbeat_interval == data["Core"]["HeartbeatInterval"]
        assert cfg.security_profile == data["Security"]["SecurityProfile"]
        assert cfg.number_of_connectors == data["Core"]["NumberOfConnectors"]
        assert cfg.meter_values_sampled_data == data["Core"]["MeterValuesSampledData"].split(",")
        assert "Core" in cfg.supported_feature_profiles

    def test_typed_getters_and_defaults(self) -> None:
        """Typed getters read the file; absent keys fall back to the schema default or None."""
        cfg = ChargePointConfig.load(LIBOCPP / "config.json")
        assert cfg.get_int("Core", "HeartbeatInterval") == 86400
        assert cfg.get_bool("Core", "StopTransactionOnInvalidId") is True
        assert cfg.get_list("Core", "SupportedFeatureProfiles")[0] == "Core"
        assert cfg.retry_backoff_wait_minimum == 3  # libocpp default, key not in the file
        assert cfg.allow_offline_tx_for_unknown_id is None  # optional feature absent
        assert cfg.get("Core", "LightIntensity", 7) == 7
        with pytest.raises(KeyError):
            cfg.get_int("Core", "LightIntensity")

    def test_list_rules_libocpp_skips_on_load_are_warnings(self) -> None:
        """config-full.json's malformed ConnectorPhaseRotation loads, with a warning."""
        cfg = ChargePointConfig.load(LIBOCPP / "config-full.json")
        assert any(w.startswith("Core.ConnectorPhaseRotation") for w in cfg.warnings)


class TestBrokenConfig:
    @pytest.mark.parametrize(
        ("profile", "key", "value", "reason"),
        [
            ("Core", "HeartbeatInterval", "often", "is not of type 'integer'"),
            ("Core", "HeartbeatInterval", -5, "minimum"),
            ("Core", "HeartbeatIntervall", 60, "unknown key"),
            ("Core", "MeterValuesSampledData", "Energy.Bogus", "unknown measurand"),
            ("Core", "MeterValuesSampledData", "RPM", "not in SupportedMeasurands"),
            ("Security", "AuthorizationKey", "short", "too short"),
            ("Internal", "ChargePointVendor", "V" * 21, "too long"),
        ],
    )
    def test_bad_value_names_file_key_and_reason(
        self, tmp_path: Path, profile: str, key: str, value: object, reason: str
    ) -> None:
        """A bad value gives ConfigError with the file, Profile.Key and the reason."""
        data = libocpp()
        data[profile][key] = value
        path = write(tmp_path, data)
        with pytest.raises(ConfigError) as info:
            ChargePointConfig.load(path)
        err = info.value
        assert (err.path, err.key) == (str(path), f"{profile}.{key}")
        assert reason in err.reason
        assert str(path) in str(err) and f"{profile}.{key}" in str(err)

    def test_missing_required_key(self, tmp_path: Path) -> None:
        """A missing required key is named, not just its profile."""
        data = libocpp()
        del data["Core"]["HeartbeatInterval"]
        with pytest.raises(ConfigError) as info:
            ChargePointConfig.load(write(tmp_path, data))
        assert info.value.key == "Core.HeartbeatInterval"
        assert info.value.reason == "required key missing"

    def test_unknown_profile(self, tmp_path: Path) -> None:
        """An unknown top-level profile is named."""
        data = libocpp() | {"Bogus": {}}
        with pytest.raises(ConfigError) as info:
            ChargePointConfig.load(write(tmp_path, data))
        assert (info.value.key, info.value.reason) == ("Bogus", "unknown profile")

    def test_invalid_json(self, tmp_path: Path) -> None:
        """A file that is not JSON names the line."""
        path = tmp_path / "broken.json"
        path.write_text('{"Internal": {\n  "ChargePointId": }', "utf-8")
        with pytest.raises(ConfigError, match=r"broken\.json: <document>: invalid JSON at line 2"):
            ChargePointConfig.load(path)


class TestGetConfiguration:
    def test_all_keys(self) -> None:
        """No key list: every key of the file, each with readonly per the key table."""
        data = libocpp("config-full.json")
        cfg = ChargePointConfig.load(LIBOCPP / "config-full.json")
        known, unknown = cfg.get_configuration()
        assert unknown == []
        assert [kv["key"] for kv in known] == [k for p in data.values() for k in p]
        by_key = {kv["key"]: kv for kv in known}
        assert by_key["HeartbeatInterval"] == {
            "key": "HeartbeatInterval",
            "readonly": False,
            "value": "900",
        }
        assert by_key["NumberOfConnectors"]["readonly"] is True
        assert by_key["LocalPreAuthorize"]["value"] == "true"
        assert (
            by_key["SupportedCiphers13"]["value"] == "TLS_AES_256_GCM_SHA384,TLS_AES_128_GCM_SHA256"
        )
        assert json.loads(by_key["DefaultPrice"]["value"])["chargingPrice"]["kWhPrice"] == 3.14
        assert cfg.get_configuration([]) == (known, [])

    def test_some_keys_case_insensitive(self) -> None:
        """Requested keys come back in order, matched case-insensitively (CiString50)."""
        cfg = ChargePointConfig.load(LIBOCPP / "config.json")
        known, unknown = cfg.get_configuration(["heartbeatinterval", "NumberOfConnectors"])
        assert known == [
            {"key": "HeartbeatInterval", "readonly": False, "value": "86400"},
            {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
        ]
        assert unknown == []

    def test_unknown_keys(self) -> None:
        """Unknown keys, and standard keys this charge point lacks, go to unknownKey."""
        cfg = ChargePointConfig.load(LIBOCPP / "config.json")
        known, unknown = cfg.get_configuration(["NoSuchKey", "LightIntensity", "HeartbeatInterval"])
        assert [kv["key"] for kv in known] == ["HeartbeatInterval"]
        assert unknown == ["NoSuchKey", "LightIntensity"]

    def test_write_only_key_has_no_value(self) -> None:
        """AuthorizationKey is reported without its value, asked for or listed with all keys."""
        cfg = ChargePointConfig.load(LIBOCPP / "config-docker.json")
        assert cfg.get_configuration(["AuthorizationKey"]) == (
            [{"key": "AuthorizationKey", "readonly": False}],
            [],
        )
        everything = {kv["key"]: kv for kv in cfg.get_configuration()[0]}
        assert "value" not in everything["AuthorizationKey"]
        assert cfg.authorization_key == "AABBCCDDEEFFGGHH"  # still usable for basic auth

    def test_more_keys_than_max_is_a_callerror(self) -> None:
        """Over GetConfigurationMaxKeys: OccurenceConstraintViolation for the I/O layer."""
        cfg = ChargePointConfig.load(LIBOCPP / "config.json")  # GetConfigurationMaxKeys 100
        cfg.get_configuration(["HeartbeatInterval"] * 100)
        with pytest.raises(TooManyKeys) as info:
            cfg.get_configuration(["HeartbeatInterval"] * 101)
        assert isinstance(info.value, OcppCallError)
        assert info.value.code == "OccurenceConstraintViolation"


class TestChangeConfiguration:
    @pytest.mark.parametrize(
        ("name", "key", "value", "status"),
        [
            ("config.json", "HeartbeatInterval", "60", ConfigurationStatus.accepted),
            ("config.json", "localauthorizeoffline", "TRUE", ConfigurationStatus.accepted),
            (
                "config.json",
                "MeterValuesSampledData",
                "Energy.Active.Import.Register,Voltage.L1",
                ConfigurationStatus.accepted,
            ),
            (
                "config-docker.json",
                "ExampleConfigurationKey",
                "other",
                ConfigurationStatus.accepted,
            ),
            (
                "config-docker.json",
                "AuthorizationKey",
                "0123456789abcdef0123",
                ConfigurationStatus.accepted,
            ),
            (
                "config-full.json",
                "ConnectorEvseIds",
                "DE*PNX*E1,DE*PNX*E2",
                ConfigurationStatus.reboot_required,
            ),
            ("config.json", "NumberOfConnectors", "2", ConfigurationStatus.rejected),
            ("config.json", "HeartbeatInterval", "-1", ConfigurationStatus.rejected),
            ("config.json", "HeartbeatInterval", "1.5", ConfigurationStatus.rejected),
            ("config.json", "LocalPreAuthorize", "yes", ConfigurationStatus.rejected),
            ("config-docker.json", "WebSocketPingInterval", "-10", ConfigurationStatus.rejected),
            ("config.json", "MeterValuesSampledData", "RPM", ConfigurationStatus.rejected),
            ("config.json", "MeterValuesSampledData", "Bogus", ConfigurationStatus.rejected),
            ("config.json", "ConnectorPhaseRotation", "1.XYZ", ConfigurationStatus.rejected),
            ("config-docker.json", "AuthorizationKey", "tooshort", ConfigurationStatus.rejected),
            ("config-docker.json", "SecurityProfile", "0", ConfigurationStatus.rejected),
            ("config.json", "SecurityProfile", "1", ConfigurationStatus.rejected),  # no password
            ("config-docker.json", "SecurityProfile", "2", ConfigurationStatus.accepted),
            ("config.json", "NoSuchKey", "1", ConfigurationStatus.not_supported),
            ("config.json", "LightIntensity", "50", ConfigurationStatus.not_supported),
        ],
    )
    def test_each_answer(self, name: str, key: str, value: str, status: str) -> None:
        """Each ChangeConfiguration answer of 1.6 §5.3 for the case that earns it."""
        cfg = ChargePointConfig.load(LIBOCPP / name)
        before = cfg.to_dict()
        result = cfg.try_change(key, value)
        assert result.status == status, result.reason
        if status in (ConfigurationStatus.rejected, ConfigurationStatus.not_supported):
            assert cfg.to_dict() == before and cfg.overlay == {}

    def test_accepted_change_is_effective_and_typed(self) -> None:
        """An accepted value is stored with the key's JSON type and listeners hear of it."""
        cfg = ChargePointConfig.load(LIBOCPP / "config.json")
        heard: list[tuple[str, object]] = []
        cfg.subscribe(lambda key, value: heard.append((key, value)))
        assert cfg.change_configuration("HeartbeatInterval", "60") == "Accepted"
        assert cfg.heartbeat_interval == 60
        assert heard == [("HeartbeatInterval", 60)]

    def test_list_longer_than_max_length_rejected(self) -> None:
        """A CSL longer than its [Key]MaxLength is Rejected (1.6 §5.3)."""
        data = libocpp()
        data["Core"]["MeterValuesSampledDataMaxLength"] = 1
        cfg = ChargePointConfig.from_dict(data)
        result = cfg.try_change("MeterValuesSampledData", "Energy.Active.Import.Register,Voltage")
        assert result.status == "Rejected" and "MeterValuesSampledDataMaxLength" in result.reason

    def test_reboot_required_takes_effect_after_reboot(self) -> None:
        """RebootRequired changes wait for apply_pending() (the reboot)."""
        cfg = ChargePointConfig.load(LIBOCPP / "config-full.json")
        cfg.change_configuration("ConnectorEvseIds", "DE*PNX*E1,DE*PNX*E2")
        assert cfg.connector_evse_ids == ["DE*PNX*100001", "DE*PNX*100002"]
        assert cfg.apply_pending() == ["ConnectorEvseIds"]
        assert cfg.connector_evse_ids == ["DE*PNX*E1", "DE*PNX*E2"]

    def test_key_table_mutability(self) -> None:
        """The key table knows R, RW, W and reboot per key."""
        assert KEYS["AuthorizationKey"].access is Access.W
        assert KEYS["GetConfigurationMaxKeys"].access is Access.R
        assert KEYS["HeartbeatInterval"].access is Access.RW
        assert KEYS["ConnectorEvseIds"].reboot_required
        assert not KEYS["HeartbeatInterval"].reboot_required
        assert KEYS["HeartbeatInterval"].spec == "1.6 §9.1.10"


class TestOverlay:
    def test_changes_persisted_and_reloaded(self, tmp_path: Path) -> None:
        """Only changed values go to the user config, merged over the base file on load."""
        user = tmp_path / "user_config.json"
        cfg = ChargePointConfig.load(LIBOCPP / "config.json", user)
        assert not user.exists()
        cfg.change_configuration("HeartbeatInterval", "120")
        cfg.change_configuration("NumberOfConnectors", "5")  # rejected: not persisted
        assert json.loads(user.read_text("utf-8")) == {"Core": {"HeartbeatInterval": 120}}
        again = ChargePointConfig.load(LIBOCPP / "config.json", user)
        assert again.heartbeat_interval == 120
        assert again.overlay == {"Core": {"HeartbeatInterval": 120}}
        assert libocpp()["Core"]["HeartbeatInterval"] == 86400  # base untouched

    def test_reboot_required_change_applies_on_reload(self, tmp_path: Path) -> None:
        """A RebootRequired value is persisted and is in force after the next load."""
        user = tmp_path / "user.json"
        cfg = ChargePointConfig.load(LIBOCPP / "config-full.json", user)
        cfg.change_configuration("ConnectorEvseIds", "DE*PNX*E1,DE*PNX*E2")
        reloaded = ChargePointConfig.load(LIBOCPP / "config-full.json", user)
        assert reloaded.connector_evse_ids == ["DE*PNX*E1", "DE*PNX*E2"]

    def test_write_is_atomic(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A failed write leaves the previous overlay intact and no temp file behind."""
        user = tmp_path / "user.json"
        cfg = ChargePointConfig.load(LIBOCPP / "config.json", user)
        cfg.change_configuration("HeartbeatInterval", "120")

        def crash(src: str, dst: str) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(os, "replace", crash)
        with pytest.raises(OSError, match="disk full"):
            cfg.change_configuration("HeartbeatInterval", "240")
        assert json.loads(user.read_text("utf-8")) == {"Core": {"HeartbeatInterval": 120}}
        assert [p.name for p in tmp_path.iterdir()] == ["user.json"]
        assert cfg.heartbeat_interval == 120 and cfg.overlay == {"Core": {"HeartbeatInterval": 120}}

    def test_bad_overlay_names_the_overlay_file(self, tmp_path: Path) -> None:
        """An invalid value in the user config is reported against that file."""
        user = write(tmp_path, {"Core": {"HeartbeatInterval": "never"}}, "user.json")
        with pytest.raises(ConfigError) as info:
            ChargePointConfig.load(LIBOCPP / "config.json", user)
        assert (info.value.path, info.value.key) == (str(user), "Core.HeartbeatInterval")

    def test_local_set_value(self, tmp_path: Path) -> None:
        """set_value changes even read-only keys locally, validated and persisted."""
        user = tmp_path / "user.json"
        cfg = ChargePointConfig.load(LIBOCPP / "config.json", user)
        cfg.set_value("CentralSystemURI", "ws://127.0.0.1:9000/ocpp")
        assert cfg.central_system_uri == "ws://127.0.0.1:9000/ocpp"
        with pytest.raises(ConfigError, match=r"Core\.HeartbeatInterval"):
            cfg.set_value("HeartbeatInterval", -1)
        reloaded = ChargePointConfig.load(LIBOCPP / "config.json", user)
        assert reloaded.central_system_uri == "ws://127.0.0.1:9000/ocpp"
