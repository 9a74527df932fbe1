"""Security of a live charge point's connection (security whitepaper A01, A04, A05).

- Connecting: `connect_options(cp)` gives the profile's options, the TLS files coming from the
  charge point's own certificate store (installed CentralSystemRootCertificate, the
  ChargePointCertificate of A02) unless the charge point was given its own.
- AuthorizationKey (A01, OCPP-J 1.6 §6.2.2 / whitepaper §2.4): an accepted change at profile 1
  or 2 is followed, after the reply, by a reconnect with the new key.
- SecurityProfile (A05): only upwards (A05.FR.01, `ChargePointConfig`'s rule, so a downgrade is
  Rejected), with the certificates in place (A05.FR.03/04, the store's check). Accepted: after
  the reply, reconnect with the new profile (A05.FR.05); if it cannot connect
  `FALLBACK_AFTER` times in a row it falls back to the previous profile (A05.FR.08); once
  connected with the new one there is no way back (A05.FR.09).
- Security events (A04): the store's events are delivered after each boot/reconnect and as
  soon as they are raised while online.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sim.features import connection
from sim.features.certificates import fallback_profile

if TYPE_CHECKING:
    from sim.chargepoint import ChargePoint

__all__ = [
    "FALLBACK_AFTER", "ProfileState", "config_changed", "connect_failed", "connect_options",
    "connected", "deliver_events", "security_event",
]

#: Failed connection attempts with a raised profile before falling back (A05.FR.08 leaves the
#: number to the implementation).
FALLBACK_AFTER = 3


@dataclass(slots=True)
class ProfileState:
    """What the connection loop remembers about security profile changes."""

    connected_profile: int | None = None  # profile of the last successful connection
    previous: int | None = None  # profile before the last raise, until connected with the new
    failures: int = 0  # failed attempts since the last raise


def connect_options(cp: ChargePoint) -> dict[str, Any]:
    """`chargebench.ocppj.connect` options for the current SecurityProfile; raises ValueError
    when the profile's credentials are missing (counted as a failed attempt)."""
    tls = cp.tls
    if tls is None and cp.ssl_context is None and connection.uses_tls(cp.config, cp.csms_url):
        tls = cp.features.certs.tls_files()
    return connection.connect_options(cp.config, tls, cp.ssl_context, cp.csms_url)


def connected(cp: ChargePoint, ws: Any) -> None:
    """A connection is up: the raised profile is final (A05.FR.09); the CSMS certificate tells
    the store which root is in use (M04.FR.06, M05.FR.12)."""
    state = cp.features.profile_state
    state.connected_profile = connection.security_profile(cp.config)
    state.previous, state.failures = None, 0
    ssl_object = ws.transport.get_extra_info("ssl_object") if ws.transport else None
    if ssl_object is not None:
        cp.features.certs.on_connected(ssl_object.getpeercert(binary_form=True))


def connect_failed(cp: ChargePoint, error: BaseException) -> None:
    """Count a failed attempt; fall back to the previous profile after FALLBACK_AFTER."""
    if isinstance(error, ssl.SSLCertVerificationError):
        security_event(cp, "InvalidCentralSystemCertificate", str(error))
    state = cp.features.profile_state
    state.failures += 1
    back = fallback_profile(
        previous=state.previous, current=connection.security_profile(cp.config),
        failed_attempts=state.failures, max_attempts=FALLBACK_AFTER,
        connected_since_change=False,
    )
    if back is not None:
        state.previous, state.failures = None, 0
        cp.config.set_value("SecurityProfile", back)  # A05.FR.08: bypasses only-upwards


def config_changed(cp: ChargePoint, key: str, value: Any) -> None:
    """`ChargePointConfig.subscribe` listener: reconnect after a new key or a raised profile."""
    state = cp.features.profile_state
    if key == "SecurityProfile":
        current = state.connected_profile
        if current is None or int(value) <= current:
            return  # a fallback, or nothing connected yet: the next attempt uses it anyway
        state.previous, state.failures = current, 0
        security_event(cp, "ReconfigurationOfSecurityParameters", f"SecurityProfile {value}")
        _reconnect(cp)
    elif key == "AuthorizationKey" and connection.security_profile(cp.config) in (1, 2):
        security_event(cp, "ReconfigurationOfSecurityParameters", "AuthorizationKey")
        _reconnect(cp)


def _reconnect(cp: ChargePoint) -> None:
    session = cp.session
    if session is not None:
        cp.spawn(_close_after_reply(session))


async def _close_after_reply(session: Any) -> None:
    # The handler that accepted the change has returned; its reply is written before we run.
    await asyncio.sleep(0)
    with contextlib.suppress(Exception):
        await session.close(1000, "reconnecting with new security settings")


def security_event(cp: ChargePoint, kind: str, tech_info: str | None = None) -> None:
    """Log a security event (A04); when it is critical and we are online, send it now."""
    if cp.features.events.record(kind, tech_info) is not None and cp.online:
        cp.spawn(deliver_events(cp))


async def deliver_events(cp: ChargePoint) -> None:
    """Send the queued SecurityEventNotifications (A04.FR.02/03); the rest waits for later."""
    if cp.features.built("events") and cp.features.events.pending:
        await cp.features.events.deliver(cp.call)
