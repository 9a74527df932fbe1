"""The run's settings, read once from the `--cb-*` options (see `conformance.plugin`)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path

from conformance.capabilities import Capabilities

#: Role names on the command line: the role of the system UNDER TEST (OCPP 1.6 names).
ROLES = ("cp", "csms")
#: OCPP versions the suite tests; 1.6 is the default
VERSIONS = ("1.6", "2.0.1")
#: the roles under test of OCPP 2.0.1, as part 6 names them: "cs" a Charging Station (the 1.6
#: name "cp" is accepted for it), "csms" a CSMS (`conformance.v201.catalog.ROLES`)
V201_ROLES = ("cs", "csms")


@dataclass(frozen=True)
class Settings:
    """What the case fixtures need to reach the system under test."""

    role: str  # "csms": a CSMS is under test, ChargeBench plays the charge point; "cp": reverse
    target: str | None = None  # CSMS under test: OCPP-J endpoint URL, the cp id is appended
    listen: tuple[str, int] = ("127.0.0.1", 9000)  # where a charge point under test connects
    cp_id: str = "CB-CONFORM-1"
    security_profile: int = 0
    password: str | None = None  # AuthorizationKey (profiles 1, 2)
    # TLS (profiles 2, 3)
    ca: Path | None = None
    ca_key: Path | None = None  # signs CSRs of a charge point under test
    cert: Path | None = None
    key: Path | None = None
    invalid_cert: Path | None = None
    invalid_key: Path | None = None
    # Selection
    profiles: frozenset[str] | None = None  # None: every profile the capabilities support
    capabilities: Capabilities = field(default_factory=Capabilities)
    # Timing and output
    timeout: float = 10.0
    #: charge point under test: how long it may take to connect at the start of the run, to
    #: send its BootNotification once connected, to come back after a reset or power loss
    #: (real chargers back off 30 s and more)
    connect_timeout: float = 120.0
    boot_timeout: float = 60.0
    reconnect_timeout: float = 90.0
    results: Path | None = None
    trigger_url: str | None = None
    trigger_token: str | None = None  # Bearer token of the HTTP actions API
    id_tag: str = "CB-VALID-1"  # an id tag the CSMS under test accepts
    operator: str = "auto"  # auto | terminal | none
    #: AuthorizationKeys the CSMS under test changed during the run (TC_073), by charge point
    #: id: later cases dial with them, as a real charge point would, and the summary names them
    changed_keys: dict[str, str] = field(default_factory=dict)
    #: "1.6" (roles cp, csms) or "2.0.1" (roles cs, csms: `V201_ROLES`)
    ocpp: str = "1.6"

    def password_for(self, cp_id: str) -> str | None:
        """The AuthorizationKey charge point `cp_id` presents now."""
        return self.changed_keys.get(cp_id, self.password)

    def never_booted_cp_id(self) -> str | None:
        """A charge point id the CSMS under test has never seen boot (see
        `conformance.capabilities`): the declared one, else a fresh derivative of `cp_id` when
        the CSMS admits unknown charge points, else None (the case cannot run)."""
        declared = self.capabilities.never_booted_cp_id
        if declared:
            return declared
        if self.capabilities.rejects_unknown_charge_points:
            return None
        return f"{self.cp_id}-NB{secrets.token_hex(3).upper()}"

    @property
    def tls(self) -> bool:
        return self.security_profile >= 2 or bool(self.target and self.target.startswith("wss"))

    def url_for(self, cp_id: str | None = None) -> str:
        """Connection URL of a charge point: endpoint + "/" + percent-encoded id (OCPP-J §3.1.1)."""
        from urllib.parse import quote

        if not self.target:
            raise ValueError("--cb-target is required when a CSMS is under test")
        return self.target.rstrip("/") + "/" + quote(cp_id or self.cp_id, safe="")
