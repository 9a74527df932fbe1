"""A charge point's OCPP 1.6 configuration, in EVerest libocpp's JSON layout, persisted.

Load a libocpp 1.6 config file as is with `ChargePointConfig.load(path, user_config_path)`; answer
GetConfiguration (1.6 §5.8) and ChangeConfiguration (1.6 §5.3) with `get_configuration()` and
`change_configuration()`; read values through the typed properties. Like libocpp, accepted
changes go to a separate user-config overlay (only the changed values) that is merged over the
base file on the next load.

Everything known about a key (type, constraints, R/RW/W, reboot, comma separated list rules,
default, spec clause) lives in one data file, `config_schema.json`; `KEYS` is read from it.
"""

from __future__ import annotations

import copy
import enum
import json
import math
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema

from chargebench.ocppj.errors import OcppCallError
from sim.measures import Measurand, Phase
from sim.state import write_text

__all__ = [
    "DEFAULT_CONFIG",
    "KEYS",
    "SCHEMA",
    "Access",
    "ChangeResult",
    "ChangeStatus",
    "ChargePointConfig",
    "ConfigError",
    "KeySpec",
    "TooManyKeys",
    "parse_measurand",
]

SCHEMA: dict[str, Any] = json.loads(
    resources.files(__package__).joinpath("config_schema.json").read_text("utf-8")
)
_VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
_MISSING: Any = object()
#: ChargeBench's own default charge-point configuration, in libocpp's 1.6 format and written
#: with our own values (a 22 kW AC wallbox, one connector, every feature profile but PnC):
#: the template of `chargebench sim`, the fleet benchmarks and the conformance self run. The
#: real EVerest files stay outside the package; tests read them from ../shared.
DEFAULT_CONFIG = Path(str(resources.files(__package__).joinpath("default_config.json")))


class ConfigError(Exception):
    """The configuration file (or a value for it) is invalid: fix the file named in the message."""

    def __init__(self, path: str | os.PathLike[str], key: str, reason: str) -> None:
        self.path = str(path)
        self.key = key  # "Profile.Key", "Profile" or "" when the whole document is at fault
        self.reason = reason
        super().__init__(f"{self.path}: {key or '<document>'}: {reason}")


class TooManyKeys(OcppCallError):
    """GetConfiguration.req asked for more keys than GetConfigurationMaxKeys allows.

    1.6 §5.8 lets the charge point limit the number of keys per request; the spec names no
    answer, so we refuse the whole request with the CALLERROR OCPP-J uses for a cardinality
    violation (as OCPP 2.0.1 does for GetVariables beyond ItemsPerMessageGetVariables).
    """

    def __init__(self, requested: int, limit: int) -> None:
        super().__init__(
            "OccurenceConstraintViolation",
            f"{requested} keys requested, GetConfigurationMaxKeys is {limit}",
            {"requested": requested, "GetConfigurationMaxKeys": limit},
        )


class Access(enum.Enum):
    """OCPP accessibility of a key (1.6 §9 "Accessibility"; whitepaper §7.2 for W)."""

    R = "ReadOnly"
    RW = "ReadWrite"
    W = "WriteOnly"


@dataclass(frozen=True)
class KeySpec:
    """One row of the key table, read from `config_schema.json`."""

    profile: str
    name: str
    type: str  # JSON type: string, integer, number, boolean, array, object
    access: Access
    reboot_required: bool
    schema: Mapping[str, Any]
    csl: Mapping[str, Any] | None
    default: Any
    spec: str | None

    @property
    def readonly(self) -> bool:
        """The `readonly` flag of KeyValue (1.6 §7.29): false for RW and write-only keys."""
        return self.access is Access.R


def _key_table() -> dict[str, KeySpec]:
    table: dict[str, KeySpec] = {}
    for profile, definition in SCHEMA["definitions"].items():
        for name, sub in definition.get("properties", {}).items():
            access = (
                Access.W if sub.get("writeOnly") else Access.R if sub.get("readOnly") else Access.RW
            )
            table[name] = KeySpec(
                profile=profile,
                name=name,
                type=sub["type"],
                access=access,
                reboot_required=bool(sub.get("x-rebootRequired")),
                schema=sub,
                csl=sub.get("x-csl"),
                default=sub.get("default", _MISSING),
                spec=sub.get("x-spec"),
            )
    return table


#: Every standard and libocpp key by name (names are unique across profiles).
KEYS: dict[str, KeySpec] = _key_table()
_KEYS_LOWER = {name.lower(): spec for name, spec in KEYS.items()}


def _custom_spec(name: str, value: Any) -> KeySpec:
    """Custom profile keys: read-write, their type fixed by the value in the file."""
    jtype = {bool: "boolean", int: "integer", float: "number"}.get(type(value), "string")
    return KeySpec("Custom", name, jtype, Access.RW, False, {"type": jtype}, None, _MISSING, None)


# Comma separated lists -------------------------------------------------------------------------


def _split_csl(value: str) -> list[str]:
    """CSL items, blanks around commas dropped (1.6 §9.1.7 writes "0.RST, 1.RST")."""
    return [item.strip() for item in value.split(",")] if value.strip() else []


def parse_measurand(item: str) -> tuple[Measurand, Phase | None]:
    """Split a MeterValues*Data item into measurand and optional phase (1.6 §9.1.17: Voltage.L1).

    Raises ValueError for a name that is not an OCPP 1.6 measurand.
    """
    try:
        return Measurand(item), None
    except ValueError:
        pass
    head, _, tail = item.rpartition(".")
    try:
        return Measurand(head), Phase(tail)
    except ValueError:
        raise ValueError(f"unknown measurand {item!r}") from None


def _item_format_error(fmt: str, item: str) -> str | None:
    if fmt == "measurand":
        try:
            parse_measurand(item)
        except ValueError as exc:
            return str(exc)
    elif fmt == "chargingProfilePurpose" and item not in _PROFILE_PURPOSES:
        return f"unknown charging profile purpose {item!r}"
    return None


#: SupportedChargingProfilePurposeTypes items: libocpp's 1.6 key names 1.6's purposes (§7.15)
_PROFILE_PURPOSES = frozenset({"ChargePointMaxProfile", "TxDefaultProfile", "TxProfile"})


# The configuration -----------------------------------------------------------------------------


class ChangeStatus(enum.StrEnum):
    """How a change of a key ended: the answer to 1.6 ChangeConfiguration (§7.9
    ChangeStatus, these words); a 2.0.1 module maps them to SetVariableStatusEnumType
    (NotSupported: UnknownVariable)."""

    accepted = "Accepted"
    rejected = "Rejected"
    reboot_required = "RebootRequired"
    not_supported = "NotSupported"


@dataclass(frozen=True)
class ChangeResult:
    """Outcome of a ChangeConfiguration, with the reason a Rejected change was refused."""

    status: ChangeStatus
    reason: str = ""


#: Extra rule for one key: (new typed value, config) -> reason to reject, or None.
Check = Callable[[Any, "ChargePointConfig"], "str | None"]


class _Key:
    """Typed read-only property for one key; falls back to the schema default, else None."""

    def __init__(self, profile: str, name: str, csl: bool = False) -> None:
        self.profile, self.name, self.csl = profile, name, csl

    def __get__(self, cfg: ChargePointConfig | None, owner: type) -> Any:
        if cfg is None:
            return self
        try:
            value = cfg.get(self.profile, self.name)
        except KeyError:
            return None
        if self.csl and isinstance(value, str):
            return _split_csl(value)
        return value


class ChargePointConfig:
    """The merged (base + user overlay) configuration of one charge point."""

    def __init__(
        self,
        data: dict[str, Mapping[str, Any]],
        *,
        source: str = "<memory>",
        user_config_path: str | os.PathLike[str] | None = None,
        overlay: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """Prefer `load()` or `from_dict()`: they validate `data` first."""
        # a profile is a dict of its own or a read-only one shared with a fleet template (`_put`)
        self._data = data
        self.source = source
        self.user_config_path = Path(user_config_path) if user_config_path else None
        self._overlay: dict[str, dict[str, Any]] = overlay or {}
        self._pending: dict[str, Any] = {}
        self._checks: dict[str, list[Check]] = {"SecurityProfile": [_security_profile_rule]}
        self._listeners: list[Callable[[str, Any], None]] = []
        self.warnings: list[str] = []

    # Loading ---------------------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        user_config_path: str | os.PathLike[str] | None = None,
    ) -> ChargePointConfig:
        """Load a libocpp 1.6 config file, merge the user overlay if it exists, validate both.

        Raises ConfigError naming the file, the key (Profile.Key) and the reason.
        """
        base = _read_json(Path(path))
        cfg = cls.from_dict(base, source=str(path))
        if user_config_path is None:
            return cfg
        cfg.user_config_path = Path(user_config_path)
        overlay = _read_json(cfg.user_config_path) if cfg.user_config_path.exists() else {}
        if not isinstance(overlay, dict) or any(not isinstance(v, dict) for v in overlay.values()):
            raise ConfigError(user_config_path, "", "user config must map profiles to objects")
        merged = copy.deepcopy(base)
        for profile, values in overlay.items():
            merged.setdefault(profile, {}).update(values)
        _validate(merged, str(user_config_path))
        cfg._data, cfg._overlay = merged, overlay
        cfg.warnings = _soft_checks(merged)
        return cfg

    @classmethod
    def from_dict(
        cls,
        data: Mapping[str, Any],
        *,
        source: str = "<memory>",
        user_config_path: str | os.PathLike[str] | None = None,
    ) -> ChargePointConfig:
        """Validate an in-memory config (fleet templates); `source` names it in errors."""
        own: dict[str, Any] = copy.deepcopy(dict(data))
        _validate(own, source)
        cfg = cls(own, source=source, user_config_path=user_config_path)
        cfg.warnings = _soft_checks(own)
        return cfg

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """A deep copy of the effective configuration (base merged with the overlay)."""
        return {profile: copy.deepcopy(dict(values)) for profile, values in self._data.items()}

    @property
    def overlay(self) -> dict[str, dict[str, Any]]:
        """The changed values only, as written to the user config file."""
        return copy.deepcopy(self._overlay)

    @property
    def pending_reboot(self) -> dict[str, Any]:
        """Keys answered RebootRequired: persisted, effective after `apply_pending()` or reload."""
        return dict(self._pending)

    # Reading ---------------------------------------------------------------------------------

    def spec(self, key: str) -> KeySpec | None:
        """The table row of a key this charge point has (case-insensitive: CiString50), or None."""
        spec = _KEYS_LOWER.get(key.lower())
        if spec is not None:
            return spec if spec.name in self._data.get(spec.profile, {}) else None
        for name, value in self._data.get("Custom", {}).items():
            if name.lower() == key.lower():
                return _custom_spec(name, value)
        return None

    def get(self, profile: str, key: str, default: Any = _MISSING) -> Any:
        """The JSON value of Profile.Key, else `default`, else the schema default, else KeyError."""
        values = self._data.get(profile, {})
        if key in values:
            return values[key]
        if default is not _MISSING:
            return default
        spec = KEYS.get(key)
        if spec is not None and spec.default is not _MISSING:
            return copy.deepcopy(spec.default)
        raise KeyError(f"{profile}.{key}")

    def get_int(self, profile: str, key: str, default: Any = _MISSING) -> int:
        """Integer key (KeyError when absent without a default)."""
        return int(self.get(profile, key, default))

    def get_bool(self, profile: str, key: str, default: Any = _MISSING) -> bool:
        """Boolean key (KeyError when absent without a default)."""
        return bool(self.get(profile, key, default))

    def get_str(self, profile: str, key: str, default: Any = _MISSING) -> str:
        """String key (KeyError when absent without a default)."""
        return str(self.get(profile, key, default))

    def get_list(self, profile: str, key: str, default: Any = _MISSING) -> list[str]:
        """Comma separated list key (or JSON array key) as a list of items."""
        value = self.get(profile, key, default)
        return list(value) if isinstance(value, list) else _split_csl(str(value))

    def has(self, key: str) -> bool:
        """Whether this charge point has the key (1.6 §9: an absent optional key = no feature)."""
        return self.spec(key) is not None

    # Internal (libocpp)
    charge_point_id = _Key("Internal", "ChargePointId")
    central_system_uri = _Key("Internal", "CentralSystemURI")
    charge_box_serial_number = _Key("Internal", "ChargeBoxSerialNumber")
    charge_point_serial_number = _Key("Internal", "ChargePointSerialNumber")
    charge_point_vendor = _Key("Internal", "ChargePointVendor")
    charge_point_model = _Key("Internal", "ChargePointModel")
    firmware_version = _Key("Internal", "FirmwareVersion")
    iccid = _Key("Internal", "ICCID")
    imsi = _Key("Internal", "IMSI")
    meter_type = _Key("Internal", "MeterType")
    meter_serial_number = _Key("Internal", "MeterSerialNumber")
    retry_backoff_random_range = _Key("Internal", "RetryBackoffRandomRange")
    retry_backoff_repeat_times = _Key("Internal", "RetryBackoffRepeatTimes")
    retry_backoff_wait_minimum = _Key("Internal", "RetryBackoffWaitMinimum")
    supported_measurands = _Key("Internal", "SupportedMeasurands", csl=True)
    supported_charging_profile_purpose_types = _Key(
        "Internal", "SupportedChargingProfilePurposeTypes"
    )
    websocket_ping_payload = _Key("Internal", "WebsocketPingPayload")
    websocket_pong_timeout = _Key("Internal", "WebsocketPongTimeout")
    queue_all_messages = _Key("Internal", "QueueAllMessages")
    message_types_discard_for_queueing = _Key(
        "Internal", "MessageTypesDiscardForQueueing", csl=True
    )
    message_queue_size_threshold = _Key("Internal", "MessageQueueSizeThreshold")
    max_message_size = _Key("Internal", "MaxMessageSize")
    stop_txn_data_max_readings = _Key("Internal", "StopTxnDataMaxReadings")
    supply_voltage = _Key("Internal", "SupplyVoltage")
    allow_charging_profile_without_start_schedule = _Key(
        "Internal", "AllowChargingProfileWithoutStartSchedule"
    )
    wait_for_stop_transactions_on_reset_timeout = _Key(
        "Internal", "WaitForStopTransactionsOnResetTimeout"
    )
    connector_evse_ids = _Key("Internal", "ConnectorEvseIds", csl=True)
    # Core (1.6 §9.1)
    allow_offline_tx_for_unknown_id = _Key("Core", "AllowOfflineTxForUnknownId")
    authorization_cache_enabled = _Key("Core", "AuthorizationCacheEnabled")
    authorize_remote_tx_requests = _Key("Core", "AuthorizeRemoteTxRequests")
    clock_aligned_data_interval = _Key("Core", "ClockAlignedDataInterval")
    connection_timeout = _Key("Core", "ConnectionTimeOut")
    connector_phase_rotation = _Key("Core", "ConnectorPhaseRotation", csl=True)
    get_configuration_max_keys = _Key("Core", "GetConfigurationMaxKeys")
    heartbeat_interval = _Key("Core", "HeartbeatInterval")
    local_authorize_offline = _Key("Core", "LocalAuthorizeOffline")
    local_pre_authorize = _Key("Core", "LocalPreAuthorize")
    max_energy_on_invalid_id = _Key("Core", "MaxEnergyOnInvalidId")
    message_timeout = _Key("Core", "MessageTimeout")
    meter_values_aligned_data = _Key("Core", "MeterValuesAlignedData", csl=True)
    meter_values_sampled_data = _Key("Core", "MeterValuesSampledData", csl=True)
    meter_value_sample_interval = _Key("Core", "MeterValueSampleInterval")
    minimum_status_duration = _Key("Core", "MinimumStatusDuration")
    number_of_connectors = _Key("Core", "NumberOfConnectors")
    reset_retries = _Key("Core", "ResetRetries")
    stop_transaction_on_ev_side_disconnect = _Key("Core", "StopTransactionOnEVSideDisconnect")
    stop_transaction_on_invalid_id = _Key("Core", "StopTransactionOnInvalidId")
    stop_txn_aligned_data = _Key("Core", "StopTxnAlignedData", csl=True)
    stop_txn_sampled_data = _Key("Core", "StopTxnSampledData", csl=True)
    supported_feature_profiles = _Key("Core", "SupportedFeatureProfiles", csl=True)
    transaction_message_attempts = _Key("Core", "TransactionMessageAttempts")
    transaction_message_retry_interval = _Key("Core", "TransactionMessageRetryInterval")
    unlock_connector_on_ev_side_disconnect = _Key("Core", "UnlockConnectorOnEVSideDisconnect")
    websocket_ping_interval = _Key("Core", "WebSocketPingInterval")
    # Other profiles (1.6 §9.2-§9.4, firmware, security whitepaper §7, PnC, pricing)
    supported_file_transfer_protocols = _Key(
        "FirmwareManagement", "SupportedFileTransferProtocols", csl=True
    )
    local_auth_list_enabled = _Key("LocalAuthListManagement", "LocalAuthListEnabled")
    local_auth_list_max_length = _Key("LocalAuthListManagement", "LocalAuthListMaxLength")
    send_local_list_max_length = _Key("LocalAuthListManagement", "SendLocalListMaxLength")
    reserve_connector_zero_supported = _Key("Reservation", "ReserveConnectorZeroSupported")
    charge_profile_max_stack_level = _Key("SmartCharging", "ChargeProfileMaxStackLevel")
    charging_schedule_allowed_charging_rate_unit = _Key(
        "SmartCharging", "ChargingScheduleAllowedChargingRateUnit", csl=True
    )
    charging_schedule_max_periods = _Key("SmartCharging", "ChargingScheduleMaxPeriods")
    connector_switch_3to1_phase_supported = _Key(
        "SmartCharging", "ConnectorSwitch3to1PhaseSupported"
    )
    max_charging_profiles_installed = _Key("SmartCharging", "MaxChargingProfilesInstalled")
    security_profile = _Key("Security", "SecurityProfile")
    authorization_key = _Key("Security", "AuthorizationKey")
    cpo_name = _Key("Security", "CpoName")
    additional_root_certificate_check = _Key("Security", "AdditionalRootCertificateCheck")
    certificate_store_max_length = _Key("Security", "CertificateStoreMaxLength")
    disable_security_event_notifications = _Key("Security", "DisableSecurityEventNotifications")
    iso15118_pnc_enabled = _Key("PnC", "ISO15118PnCEnabled")
    contract_validation_offline = _Key("PnC", "ContractValidationOffline")
    custom_display_cost_and_price = _Key("CostAndPrice", "CustomDisplayCostAndPrice")

    # GetConfiguration (1.6 §5.8) ---------------------------------------------------------------

    def get_configuration(
        self, keys: Iterable[str] | None = None
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """(configurationKey, unknownKey) for a GetConfiguration.req.

        No keys or an empty list: every key this charge point has (1.6 §5.8). Write-only keys
        (AuthorizationKey) are reported without a value (OCPP-J 1.6 §7, whitepaper §7.2; KeyValue
        value is optional, 1.6 §7.29). More keys than GetConfigurationMaxKeys: TooManyKeys, which
        the I/O layer sends as a CALLERROR.
        """
        requested = list(keys or [])
        if not requested:
            return [self._key_value(spec) for spec in self._all_specs()], []
        limit = self.get("Core", "GetConfigurationMaxKeys", None)
        if limit is not None and len(requested) > limit:
            raise TooManyKeys(len(requested), limit)
        known: list[dict[str, Any]] = []
        unknown: list[str] = []
        for key in requested:
            spec = self.spec(key)
            if spec is None:
                unknown.append(key)
            else:
                known.append(self._key_value(spec))
        return known, unknown

    def _all_specs(self) -> list[KeySpec]:
        specs = []
        for profile, values in self._data.items():
            for name, value in values.items():
                specs.append(_custom_spec(name, value) if profile == "Custom" else KEYS[name])
        return specs

    def _key_value(self, spec: KeySpec) -> dict[str, Any]:
        kv: dict[str, Any] = {"key": spec.name, "readonly": spec.readonly}
        if spec.access is not Access.W:
            kv["value"] = _to_text(self._data[spec.profile][spec.name])
        return kv

    # ChangeConfiguration (1.6 §5.3) ------------------------------------------------------------

    def change_configuration(self, key: str, value: str) -> ChangeStatus:
        """Apply a ChangeConfiguration.req; the status goes straight into the .conf."""
        return self.try_change(key, value).status

    def try_change(self, key: str, value: str) -> ChangeResult:
        """Like `change_configuration`, with the reason for a Rejected answer (for the trace).

        NotSupported: the charge point does not have the key. Rejected: read-only key, value
        not of the key's type or out of its range, unsupported measurand (1.6 §3.16.4), a
        rule of the key (SecurityProfile only goes up, A05.FR.01/02). RebootRequired: stored
        and persisted, effective after the next reboot. Accepted: effective now, persisted.
        """
        spec = self.spec(key)
        if spec is None:
            return ChangeResult(ChangeStatus.not_supported, f"unknown key {key!r}")
        if spec.access is Access.R:
            return ChangeResult(ChangeStatus.rejected, f"{spec.name} is read-only")
        try:
            typed = _from_text(spec, value)
        except ValueError as exc:
            return ChangeResult(ChangeStatus.rejected, str(exc))
        reason = self._check(spec, typed)
        if reason:
            return ChangeResult(ChangeStatus.rejected, reason)
        self._store(spec, typed)
        if spec.reboot_required:
            self._pending[spec.name] = typed
            return ChangeResult(ChangeStatus.reboot_required)
        self._put(spec, typed)
        for listener in self._listeners:
            listener(spec.name, typed)
        return ChangeResult(ChangeStatus.accepted)

    def set_value(self, key: str, value: Any, *, persist: bool = True) -> None:
        """Local (not CSMS) change of any key, read-only ones included, e.g. a security profile
        fallback (whitepaper A05.FR.08). Validated like a ChangeConfiguration; raises ConfigError.
        """
        spec = self.spec(key) or KEYS.get(key)
        if spec is None:
            raise ConfigError(self.source, key, "unknown key")
        reason = _schema_error(spec, value) or self._check(spec, value, rules=False)
        if reason:
            raise ConfigError(self.source, f"{spec.profile}.{spec.name}", reason)
        if persist:
            self._store(spec, value)
        self._put(spec, value)
        self._pending.pop(spec.name, None)
        for listener in self._listeners:
            listener(spec.name, value)

    def apply_pending(self) -> list[str]:
        """Make RebootRequired changes effective (the charge point calls this when it reboots)."""
        names = list(self._pending)
        for name, value in self._pending.items():
            spec = self.spec(name)
            assert spec is not None
            self._put(spec, value)
        self._pending.clear()
        return names

    def add_check(self, key: str, check: Check) -> None:
        """Add a rule for a key's new values (e.g. certificates needed for SecurityProfile 2/3,
        whitepaper A05.FR.03/04); the rule returns a reason to reject, or None."""
        self._checks.setdefault(key, []).append(check)

    def subscribe(self, listener: Callable[[str, Any], None]) -> None:
        """Call `listener(key, value)` after each change that takes effect immediately."""
        self._listeners.append(listener)

    def _check(self, spec: KeySpec, value: Any, *, rules: bool = True) -> str | None:
        reason = _schema_error(spec, value) or _csl_error(spec, value, self._data)
        if reason or not rules:
            return reason
        for check in self._checks.get(spec.name, []):
            reason = check(value, self)
            if reason:
                return reason
        return None

    def _put(self, spec: KeySpec, value: Any) -> None:
        """Set a value in the effective configuration. A profile shared with a fleet template
        (a read-only `MappingProxyType`, see `share_profiles`) is copied on its first change."""
        values = self._data.get(spec.profile)
        if not isinstance(values, dict):
            values = self._data[spec.profile] = dict(values or {})
        values[spec.name] = value

    def _store(self, spec: KeySpec, value: Any) -> None:
        """Persist first, then remember: a failed write changes nothing."""
        overlay = copy.deepcopy(self._overlay)
        overlay.setdefault(spec.profile, {})[spec.name] = value
        if self.user_config_path is not None:
            # a crash leaves the old overlay or the new one, never half of it
            text = json.dumps(overlay, indent=4, ensure_ascii=False) + "\n"
            write_text(self.user_config_path, text)
        self._overlay = overlay


# Helpers ---------------------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(path, "", f"cannot read: {exc.strerror or exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(path, "", f"invalid JSON at line {exc.lineno}: {exc.msg}") from exc


def _validate(data: Any, source: str) -> None:
    """JSON schema first, then the measurand lists (the meter cannot run without them)."""
    errors = sorted(_VALIDATOR.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        key, reason = _describe(errors[0])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ConfigError(source, key, reason + more)
    for profile, values in data.items():
        for name, value in values.items():
            spec = KEYS.get(name) if profile != "Custom" else None
            if spec and spec.csl and spec.csl.get("itemFormat") == "measurand":
                csl_reason = _csl_error(spec, value, data, items_only=True)
                if csl_reason:
                    raise ConfigError(source, f"{profile}.{name}", csl_reason)


def _describe(error: jsonschema.ValidationError) -> tuple[str, str]:
    """(Profile.Key, reason) for a schema error, naming the missing or extra key itself."""
    path = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, dict):
        required = error.validator_value if isinstance(error.validator_value, list) else []
        missing = [k for k in required if k not in error.instance]
        return ".".join([*path, missing[0]]), "required key missing"
    if (error.validator == "additionalProperties" and isinstance(error.instance, dict)
            and isinstance(error.schema, Mapping)):
        allowed = error.schema.get("properties", {})
        extra = sorted(k for k in error.instance if k not in allowed)
        what = "unknown key" if path else "unknown profile"
        return ".".join([*path[:2], extra[0]]), what
    return ".".join(path[:2]), error.message


def _schema_error(spec: KeySpec, value: Any) -> str | None:
    error = jsonschema.exceptions.best_match(
        jsonschema.Draft7Validator(spec.schema).iter_errors(value)
    )
    return error.message if error else None


def _csl_error(
    spec: KeySpec, value: Any, data: Mapping[str, Any], *, items_only: bool = False
) -> str | None:
    """Item and length rules of a comma separated list key (1.6 §5.3, §3.16.4)."""
    if not spec.csl or not isinstance(value, str):
        return None
    items = _split_csl(value)
    item_schema = spec.csl.get("items")
    for item in items:
        fmt = spec.csl.get("itemFormat")
        reason = _item_format_error(fmt, item) if fmt else None
        if reason is None and item_schema is not None:
            err = jsonschema.exceptions.best_match(
                jsonschema.Draft7Validator(item_schema).iter_errors(item)
            )
            reason = f"item {item!r}: {err.message}" if err else None
        if reason:
            return reason
    supported_key = spec.csl.get("supportedKey")
    if supported_key:
        owner = KEYS[supported_key]
        supported = _split_csl(data.get(owner.profile, {}).get(supported_key, owner.default))
        supported_measurands = {parse_measurand(s)[0] for s in supported}
        for item in items:
            if parse_measurand(item)[0] not in supported_measurands:
                return f"measurand {item!r} not in {supported_key} (1.6 §3.16.4)"
    if items_only:
        return None
    max_key = spec.csl.get("maxLengthKey")
    if max_key:
        limit = data.get(KEYS[max_key].profile, {}).get(max_key)
        if limit is not None and len(items) > limit:
            return f"{len(items)} items, {max_key} is {limit}"
    return None


def _soft_checks(data: Mapping[str, Any]) -> list[str]:
    """List rules libocpp only applies to ChangeConfiguration: reported, never fatal on load
    (libocpp's own config-full.json has ConnectorPhaseRotation "RST0.RST,...")."""
    warnings = []
    for profile, values in data.items():
        if profile == "Custom":
            continue
        for name, value in values.items():
            spec = KEYS[name]
            reason = _csl_error(spec, value, data) if spec.csl else None
            if reason:
                warnings.append(f"{profile}.{name}: {reason}")
    return warnings


def _security_profile_rule(value: int, cfg: ChargePointConfig) -> str | None:
    """Security whitepaper A05.FR.01 (only upwards) and A05.FR.02 (1/2 need a password)."""
    current = cfg.get("Security", "SecurityProfile")
    if value <= current:
        return f"SecurityProfile can only be raised (is {current}, A05.FR.01)"
    if value in (1, 2) and not cfg.get("Security", "AuthorizationKey", None):
        return "SecurityProfile 1 and 2 need an AuthorizationKey (A05.FR.02)"
    return None


def _to_text(value: Any) -> str:
    """A JSON value as the CiString500 of KeyValue.value (1.6 §7.29)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return str(value)


def _from_text(spec: KeySpec, text: str) -> Any:
    """A ChangeConfiguration value (always a string) as the key's JSON type; ValueError if not."""
    stripped = text.strip()
    if spec.type == "boolean":
        if stripped.lower() in ("true", "false"):  # CiString: case-insensitive
            return stripped.lower() == "true"
        raise ValueError(f"{spec.name} takes true or false, not {text!r}")
    if spec.type == "integer":
        if re.fullmatch(r"[+-]?[0-9]+", stripped):
            return int(stripped)
        raise ValueError(f"{spec.name} takes an integer, not {text!r}")
    if spec.type == "number":
        try:
            number = float(stripped)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise ValueError(f"{spec.name} takes a number, not {text!r}")
        return int(number) if number.is_integer() else number
    if spec.type == "array":
        return _split_csl(text)
    if spec.type == "object":
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"{spec.name} takes a JSON object") from None
    return text
