"""Where and how a charge point connects: URL, security profile, reconnect back-off, and the
state of its connection lifecycle (`Link`).

Security profiles (whitepaper edition 3 §2, EVerest config guide): 0 ws:// without
authentication, 1 ws:// + HTTP Basic with AuthorizationKey, 2 wss:// + Basic, 3 wss:// with a
client certificate. Back-off follows libocpp's RetryBackOff* keys.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.aiotasks import LeanEvent
from chargebench.ocppj import ConnectionLost
from chargebench.security import basic_auth_header, client_ssl_context
from sim.features import fault_hooks
from sim.tasks import LeanLock

if TYPE_CHECKING:
    from chargebench.ocppj import Session

#: action -> handler(payload): the table of the version agreed (`sim.dispatch.HandlerTable`)
Handlers = Mapping[str, Callable[[dict], Any]]

#: BootNotification's answer that lets a charge point send and answer everything; the same
#: word in 1.6 (RegistrationStatus, §7.37) and 2.0.1 (RegistrationStatusEnumType)
ACCEPTED = "Accepted"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for profiles 2/3: the CA that signed the CSMS certificate, and for profile 3
    the charge point's own certificate and key."""

    ca: str
    cert: str | None = None
    key: str | None = None


class Link:
    """One charge point's connection lifecycle: what the connection loop
    (`sim.features.online`) changes as it connects, boots, loses the connection and reboots,
    and what the control surface asks of it (`online_wanted`, `reboot_reason`).

    Version-neutral: the session speaks the version agreed in the handshake and `handlers` is
    that version's table. Everything else reads it: `online` says whether a CALL can go out
    now, `booted` is set once BootNotification was accepted on this power cycle. Slots: a
    fleet holds one per charge point.
    """

    __slots__ = ("aligned", "booted", "connects", "failure", "handlers", "main", "on_attempt",
                 "online_wanted", "reboot_reason", "registration", "session", "stopping",
                 "ticker")

    def __init__(self, handlers: Handlers) -> None:
        #: the handlers of the version agreed in the last handshake (before one: the version
        #: offered first); the connection loop sets it per connection
        self.handlers = handlers
        #: BootNotification status of this power cycle (None: not booted yet)
        self.registration: str | None = None
        self.session: Session | None = None
        #: cleared by go_offline (the loop waits), set by start and go_online
        self.online_wanted = LeanEvent()
        self.booted = LeanEvent()
        #: why the next disconnect is a reboot (Reset, power loss), None otherwise
        self.reboot_reason: str | None = None
        self.stopping = False
        #: connections made since the charge point was built
        self.connects = 0
        #: why this charge point is not (yet) accepted: "connection refused", "HTTP 401",
        #: "boot Rejected"... (None once BootNotification was accepted)
        self.failure: str | None = None
        #: called once when the first connection attempt of a start ends (`Fleet.start`)
        self.on_attempt: Callable[[], None] | None = None
        #: the connection loop's task, and the one Heartbeat / clock-aligned task of this
        #: connection
        self.main: asyncio.Task | None = None
        self.ticker: asyncio.Task | None = None
        #: a 2.0.1 station's clock-aligned task of this connection (restarted when its
        #: interval changes, J01)
        self.aligned: asyncio.Task | None = None

    @property
    def accepted(self) -> bool:
        """BootNotification was accepted on this power cycle (1.6 §4.2, 2.0.1 B01)."""
        return self.registration == ACCEPTED

    @property
    def online(self) -> bool:
        """Connected and accepted by the CSMS: messages can go out now."""
        return self.session is not None and self.registration == ACCEPTED


class LinkedSender:
    """What a 1.6 charge point and a 2.0.1 station share about sending: the state of their
    `link`, and one ordered sender for every CALL of theirs (OCPP-J 1.6 and 2.0.1 §4.1.1: one
    CALL at a time), through the fault plan if there is one. Boot, status, heartbeat, the
    offline queue and every feature's notifications share it, across reconnects too (a CALL
    still waiting on a closing connection finishes, with ConnectionLost, before the next one
    goes out on the new one). The class holds no state of its own: `link` and `_sender` are
    the owner's."""

    link: Link
    _sender: asyncio.Lock | None

    @property
    def session(self) -> Session | None:
        """The live OCPP-J session, None while offline (`link.session`)."""
        return self.link.session

    @property
    def registration(self) -> str | None:
        """BootNotification status of this power cycle, None before one (`link.registration`)."""
        return self.link.registration

    @property
    def online(self) -> bool:
        """Connected and accepted by the CSMS: messages can go out now."""
        return self.link.online

    async def call(self, action: str, payload: dict) -> dict:
        """Send a CALL now; ConnectionLost when offline or not accepted (1.6 §4.2, 2.0.1
        B02.FR.02)."""
        session = self.link.session
        if session is None or not self.link.accepted:
            raise ConnectionLost("offline", action=action, message_id="")
        return await self.send(session, action, payload)

    async def send(self, session: Session, action: str, payload: dict) -> dict:
        """Every CALL of ours goes out here, one at a time in the order asked."""
        if self._sender is None:
            self._sender = LeanLock()
        async with self._sender:
            # both owners are FaultContexts (fault_plan, clock, spawn); the mixin is not
            return await fault_hooks.outbound(self, session, action, payload)  # type: ignore[arg-type]


def endpoint(config, csms_url: str | None = None) -> str:
    """The OCPP-J URL: base URL + "/" + ChargePointId (OCPP-J 1.6 §3.1.1).

    `csms_url` overrides CentralSystemURI. See `uses_tls` for the scheme.
    """
    base = _base(config, csms_url)
    if "://" in base:
        base = base.split("://", 1)[1]
    scheme = "wss://" if uses_tls(config, csms_url) else "ws://"
    return f"{scheme}{base}/{config.charge_point_id}"


def uses_tls(config, csms_url: str | None = None) -> bool:
    """Whether the connection is TLS: a wss:// URL, or SecurityProfile 2/3 (whitepaper §2).

    libocpp writes CentralSystemURI as "host:port/path" without scheme and takes the scheme
    from the profile, so raising the profile to 2 (whitepaper A05) moves the same address to
    TLS; a ws:// URL at profile 2/3 does the same. An explicit wss:// is never downgraded to
    ws://: a user pointing at a TLS CSMS that accepts everyone gets TLS at profile 0/1 too (the
    profile then only decides Basic auth and client certificates). libocpp instead refuses a
    wss:// CentralSystemURI at profile 0/1 ("secure schema in URI does not fit with insecure
    security-profile", websocket_uri.cpp); a test tool has no reason to.
    """
    return _base(config, csms_url).lower().startswith("wss://") or security_profile(config) >= 2


def _base(config, csms_url: str | None) -> str:
    return (csms_url or config.central_system_uri or "").strip().rstrip("/")


def security_profile(config) -> int:
    return int(config.security_profile or 0)


def connect_options(
    config, tls: TlsFiles | None = None, ssl_context: ssl.SSLContext | None = None,
    csms_url: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for `chargebench.ocppj.connect` for the configured security profile
    and the URL `endpoint(config, csms_url)` connects to (TLS when `uses_tls`)."""
    profile = security_profile(config)
    # libocpp WebSocketPingInterval: 0 or absent = no websocket pings (heartbeats suffice);
    # also saves a keep-alive task per charge point in a large fleet.
    ping = config.websocket_ping_interval or 0
    options: dict[str, Any] = {"ping_interval": ping if ping > 0 else None}
    if ping > 0:
        options["ping_timeout"] = config.websocket_pong_timeout or 5
    if profile in (1, 2):
        key = config.authorization_key
        if not key:
            raise ValueError(f"SecurityProfile {profile} needs Security.AuthorizationKey")
        options["additional_headers"] = {
            "Authorization": basic_auth_header(config.charge_point_id, key)
        }
    if uses_tls(config, csms_url):
        if ssl_context is None:
            if tls is None:
                why = f"SecurityProfile {profile}" if profile >= 2 else "wss://"
                raise ValueError(f"{why} needs a CA file (TlsFiles)")
            if profile == 3 and tls.cert is None:
                raise ValueError("SecurityProfile 3 needs a client certificate")
            ssl_context = client_ssl_context(tls.ca, tls.cert if profile == 3 else None,
                                             tls.key if profile == 3 else None)
        options["ssl"] = ssl_context
    return options


def backoff_delay(config, attempt: int, rng: random.Random = random._inst) -> float:
    """Seconds to wait before reconnect attempt `attempt` (1-based), as libocpp does:
    RetryBackoffWaitMinimum doubled per attempt up to RetryBackoffRepeatTimes doublings, plus
    a random 0..RetryBackoffRandomRange seconds so a fleet does not reconnect in lockstep."""
    minimum = config.get_int("Internal", "RetryBackoffWaitMinimum")
    doublings = min(max(0, attempt - 1), config.get_int("Internal", "RetryBackoffRepeatTimes"))
    jitter = rng.uniform(0, config.get_int("Internal", "RetryBackoffRandomRange"))
    return minimum * (2**doublings) + jitter


def failure_reason(error: BaseException) -> str:
    """Why a connection attempt failed, in the words a user acts on: "connection refused",
    "HTTP 401", "TLS: certificate verify failed", "timeout", "wss without --ca"... One short
    label per cause, so a fleet can count its charge points by reason."""
    if isinstance(error, InvalidStatus):
        return f"HTTP {error.response.status_code}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "TLS: certificate verify failed"
    if isinstance(error, ssl.SSLError):
        return f"TLS: {error.reason or 'handshake failed'}"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, TimeoutError):
        return "timeout"
    if isinstance(error, socket.gaierror):
        return "unknown host"
    if isinstance(error, ValueError) and "CA file" in str(error):
        return "wss without --ca"
    if isinstance(error, ValueError):
        return str(error)  # our own: a profile's credentials are missing
    if isinstance(error, InvalidHandshake):
        return f"handshake: {type(error).__name__}"
    if isinstance(error, ConnectionError) and "subprotocol" in str(error):
        return "no OCPP subprotocol agreed"
    if isinstance(error, OSError):
        return f"network: {error.strerror or type(error).__name__}"
    return type(error).__name__
