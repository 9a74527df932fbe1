"""Configuration of one reference CSMS process: built by the CLI, or by a test in one line.

Everything the running parts need comes from here (the composition root passes it down), so a test
can start a CSMS on port 0 with an accelerated clock without touching globals.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from chargebench.clock import Clock
from chargebench.security import DEFAULT_CPO_NAME


class UnknownChargerPolicy(enum.Enum):
    """What happens when a charge point id that is not in the store connects."""

    #: registered on the spot; its BootNotification is Accepted
    ACCEPT = "accept"
    #: registered as Pending (OCPP 1.6 §4.2.1): an operator must accept it
    PENDING = "pending"
    #: registered as Rejected: the connection opens, BootNotification is Rejected
    REJECT = "reject"
    #: the WebSocket upgrade is refused with HTTP 404; nothing is stored
    REFUSE = "refuse"

    @property
    def registration_status(self) -> str | None:
        """BootNotification status given to a newly seen charger (None: never admitted)."""
        return {"accept": "Accepted", "pending": "Pending", "reject": "Rejected"}.get(self.value)


@dataclass(slots=True)
class CsmsConfig:
    """Keyword-only settings of the reference CSMS, grouped like `websockets.serve()`."""

    # Endpoints
    host: str = "127.0.0.1"
    port: int = 9000
    #: HTTP API port; None: no HTTP API
    api_port: int | None = None
    api_host: str | None = None  # None: same as host
    #: accepted connections waiting for accept() (large: a fleet reconnects all at once)
    backlog: int = 4096
    #: RFC 7692 permessage-deflate, used when a charger offers it (OCPP-J 2.0.1 §3.3: required
    #: of a CSMS; a charger that does not offer it, as our simulator, costs nothing)
    compression: bool = True

    # Store and data
    db: str | Path = "chargebench-csms.db"
    seed: str | Path | None = None
    #: store durability; "NORMAL" only for load tests (see csms.store.sqlite)
    db_synchronous: str = "FULL"
    log_dir: str | Path | None = "logs"
    #: how often buffered trace records are written to the message log (seconds)
    log_flush_interval: float = 0.25

    # Registration
    unknown_chargers: UnknownChargerPolicy = UnknownChargerPolicy.ACCEPT
    #: Heartbeat interval given in BootNotification.conf when Accepted (seeds/001 §3.5.1: 300 s)
    heartbeat_interval: int = 300
    #: retry interval given in BootNotification.conf when Pending or Rejected (OCPP 1.6 §4.2.1)
    boot_retry_interval: int = 60
    #: a charger is marked offline when silent for interval + this (seeds/001 §3.7: 90 s)
    heartbeat_grace: float = 90.0

    # Security (security whitepaper edition 3)
    admin_token: str | None = None
    tls_cert: str | Path | None = None
    tls_key: str | Path | None = None
    #: CA that issues charge point certificates: verifies profile 3 client certificates
    tls_ca: str | Path | None = None
    #: key of `tls_ca`: lets the CSMS sign SignCertificate.req CSRs (A02/A03)
    ca_key: str | Path | None = None
    #: O of every charge point certificate (A00.FR.404)
    cpo_name: str = DEFAULT_CPO_NAME

    # Timeouts
    #: how long a CSMS-initiated CALL waits for the reply (OCPP-J 1.6 §4.1.1)
    call_timeout: float = 30.0
    #: how long a remote start waits for the charger's StartTransaction before its pending
    #: record expires (seeds/001 §4.3; like the charger's ConnectionTimeOut)
    remote_start_timeout: float = 120.0
    #: WebSocket Ping to every charger this often (s); no Pong by the next one closes the
    #: connection (`csms.server.KeepAlive`). None: no pings, the heartbeat monitor alone.
    ws_ping_interval: float | None = 20.0

    # Latency
    #: seconds between freezing the long-lived heap out of CPython's full collections
    #: (`chargebench.gcpolicy`); None leaves the collector alone. Process-wide: one CSMS per
    #: process.
    gc_freeze_interval: float | None = 5.0

    # Time: protocol time (heartbeats, staleness, timestamps); tests accelerate it
    clock: Clock = field(default_factory=Clock)

    def __post_init__(self) -> None:
        if isinstance(self.unknown_chargers, str):
            self.unknown_chargers = UnknownChargerPolicy(self.unknown_chargers)
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None
