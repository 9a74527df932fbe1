"""Where and how a charge point connects: URL, security profile, reconnect back-off.

Security profiles (whitepaper edition 3 §2, EVerest config guide): 0 ws:// without
authentication, 1 ws:// + HTTP Basic with AuthorizationKey, 2 wss:// + Basic, 3 wss:// with a
client certificate. Back-off follows libocpp's RetryBackOff* keys.
"""

from __future__ import annotations

import random
import socket
import ssl
from dataclasses import dataclass
from typing import Any

from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.security import basic_auth_header, client_ssl_context


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for profiles 2/3: the CA that signed the CSMS certificate, and for profile 3
    the charge point's own certificate and key."""

    ca: str
    cert: str | None = None
    key: str | None = None


def endpoint(config, csms_url: str | None = None) -> str:
    """The OCPP-J URL: base URL + "/" + ChargePointId (OCPP-J 1.6 §3.1.1).

    `csms_url` overrides CentralSystemURI. The scheme follows SecurityProfile (libocpp writes
    "host:port/path" without one): ws:// for 0/1, wss:// for 2/3, so raising the profile to 2
    (whitepaper A05) moves the same address to TLS.
    """
    base = (csms_url or config.central_system_uri or "").rstrip("/")
    scheme = "wss://" if security_profile(config) >= 2 else "ws://"
    if base.startswith(("ws://", "wss://")):
        base = base.split("://", 1)[1]
    return f"{scheme}{base}/{config.charge_point_id}"


def security_profile(config) -> int:
    return int(config.security_profile or 0)


def connect_options(
    config, tls: TlsFiles | None = None, ssl_context: ssl.SSLContext | None = None
) -> dict[str, Any]:
    """Keyword arguments for `chargebench.ocppj.connect` for the configured security profile."""
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
    if profile >= 2:
        if ssl_context is None:
            if tls is None:
                raise ValueError(f"SecurityProfile {profile} needs a CA file (TlsFiles)")
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
