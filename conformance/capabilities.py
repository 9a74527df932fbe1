"""What the system under test declares it supports (`--cb-capabilities FILE`, YAML).

The catalogue's `requires` entries are checked against it, so a conditional case is skipped as
"not applicable" with the reason, never silently passed. Example file::

    profiles: [core, ocppj, firmware]
    connectors: 2
    fixed_cable: false
    rejects_unknown_charge_points: true
    config_keys: [StopTransactionOnEVSideDisconnect, UnlockConnectorOnEVSideDisconnect]
    # CSMS under test: what it must already know (ChargeBench plays the charge point)
    never_booted_cp_id: CP-NEVER-BOOTED   # registered, never sent a BootNotification
    blocked_id_tag: CB-BLOCKED-1          # the CSMS answers Blocked for it
    expired_id_tag: CB-EXPIRED-1          # the CSMS answers Expired for it

A case that needs a charge point the CSMS has never seen boot (RPC_020: a CALL before
BootNotification) cannot reuse `--cb-cp-id`: a CSMS rightly keeps a booted charger's
registration across reconnects (OCPP 1.6 §4.2: a reconnect is not a reboot). It uses
`never_booted_cp_id` when given, else `--cb-cp-id` plus a random suffix, which only a CSMS that
admits unknown charge points (`rejects_unknown_charge_points: false`) lets in; otherwise the case
is skipped, never passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chargebench.security import DEFAULT_CPO_NAME

#: Every certification profile a catalogue entry may name.
PROFILES = (
    "core", "ocppj", "security", "firmware", "localauth", "reservation", "smartcharging",
    "remotetrigger",
)


@dataclass(frozen=True)
class Capabilities:
    """Declared features; the defaults describe a plain Core-only, one-connector system."""

    profiles: frozenset[str] = frozenset({"core", "ocppj"})
    connectors: int = 1
    fixed_cable: bool = False
    rejects_unknown_charge_points: bool = True
    config_keys: frozenset[str] = field(default_factory=frozenset)
    # CSMS under test
    never_booted_cp_id: str | None = None
    blocked_id_tag: str = "CB-BLOCKED-1"
    expired_id_tag: str = "CB-EXPIRED-1"
    #: O of charge point certificates (security whitepaper A00.FR.404), for SignCertificate CSRs
    cpo_name: str = DEFAULT_CPO_NAME

    @classmethod
    def load(cls, path: str | Path) -> Capabilities:
        data: dict[str, Any] = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        unknown = set(data) - {f for f in cls.__dataclass_fields__}
        if unknown:
            raise ValueError(f"{path}: unknown capability keys {sorted(unknown)}")
        bad = set(data.get("profiles", ())) - set(PROFILES)
        if bad:
            raise ValueError(f"{path}: unknown profiles {sorted(bad)}; known: {PROFILES}")
        for name in ("profiles", "config_keys"):
            if name in data:
                data[name] = frozenset(data[name])
        return cls(**data)

    def unmet(self, requirement: str, security_profile: int) -> str | None:
        """Why `requirement` does not hold, or None. Forms: `profile:X`, `fixed_cable`,
        `not fixed_cable`, `connectors>=N`, `config:Key`, `rejects_unknown_charge_points`,
        `security_profile in A,B`."""
        name, _, arg = requirement.partition(":")
        if name == "without profile":
            return f"the system supports profile {arg}" if arg in self.profiles else None
        if name == "profile":
            return None if arg in self.profiles else f"profile {arg} not supported"
        if name == "config":
            return None if arg in self.config_keys else f"configuration key {arg} not present"
        if requirement in ("fixed_cable", "not fixed_cable"):
            wanted = requirement == "fixed_cable"
            return None if self.fixed_cable is wanted else f"needs {requirement}"
        if requirement.startswith("connectors>="):
            need = int(requirement.removeprefix("connectors>="))
            return None if self.connectors >= need else f"needs {need} connectors"
        if requirement == "rejects_unknown_charge_points":
            ok = self.rejects_unknown_charge_points
            return None if ok else "the system admits unknown charge points"
        if requirement.startswith("security_profile in "):
            allowed = {int(p) for p in requirement.removeprefix("security_profile in ").split(",")}
            ok = security_profile in allowed
            return None if ok else f"needs security profile {sorted(allowed)}"
        raise ValueError(f"unknown requirement {requirement!r}")
