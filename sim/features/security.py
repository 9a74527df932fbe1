"""Security of a live charge point's connection (security whitepaper A01, A04, A05).

- Connecting: `connect_options(ctx)` gives the profile's options, the TLS files coming from the
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
from typing import TYPE_CHECKING, Any, Protocol

from chargebench.ocppj import Session
from sim.features import connection
from sim.features.certificates import CertificateStore, fallback_profile
from sim.features.context import Configured, Sender, Spawner
from sim.features.security_events import SecurityEvents

if TYPE_CHECKING:
    from sim.features.connection import TlsFiles

__all__ = [
    "FALLBACK_AFTER", "ProfileState", "SecurityContext", "config_changed", "connect_failed",
    "connect_options", "connected", "deliver_events", "security_event",
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


class SecurityFeatures(Protocol):
    """The certificate store, the security event log and the profile change state."""

    @property
    def certs(self) -> CertificateStore: ...

    @property
    def events(self) -> SecurityEvents: ...

    @property
    def profile_state(self) -> ProfileState: ...

    def built(self, name: str) -> bool: ...


class SecurityContext(Configured, Sender, Spawner, Protocol):
    """What the connection's security uses: the configuration (SecurityProfile,
    AuthorizationKey), the TLS material the charge point was given, the CSMS URL override, the
    live session (closed to reconnect), `call` for SecurityEventNotification, and its
    certificate store, event log and profile state."""

    @property
    def tls(self) -> TlsFiles | None: ...

    @property
    def ssl_context(self) -> ssl.SSLContext | None: ...

    @property
    def csms_url(self) -> str | None: ...

    @property
    def session(self) -> Session | None: ...

    @property
    def features(self) -> SecurityFeatures: ...


def connect_options(ctx: SecurityContext) -> dict[str, Any]:
    """`chargebench.ocppj.connect` options for the current SecurityProfile; raises ValueError
    when the profile's credentials are missing (counted as a failed attempt)."""
    tls = ctx.tls
    if tls is None and ctx.ssl_context is None and connection.uses_tls(ctx.config, ctx.csms_url):
        tls = ctx.features.certs.tls_files()
    return connection.connect_options(ctx.config, tls, ctx.ssl_context, ctx.csms_url)


def connected(ctx: SecurityContext, ws: Any) -> None:
    """A connection is up: the raised profile is final (A05.FR.09); the CSMS certificate tells
    the store which root is in use (M04.FR.06, M05.FR.12)."""
    state = ctx.features.profile_state
    state.connected_profile = connection.security_profile(ctx.config)
    state.previous, state.failures = None, 0
    ssl_object = ws.transport.get_extra_info("ssl_object") if ws.transport else None
    if ssl_object is not None:
        ctx.features.certs.on_connected(ssl_object.getpeercert(binary_form=True))


def connect_failed(ctx: SecurityContext, error: BaseException) -> None:
    """Count a failed attempt; fall back to the previous profile after FALLBACK_AFTER."""
    if isinstance(error, ssl.SSLCertVerificationError):
        security_event(ctx, "InvalidCentralSystemCertificate", str(error))
    state = ctx.features.profile_state
    state.failures += 1
    back = fallback_profile(
        previous=state.previous, current=connection.security_profile(ctx.config),
        failed_attempts=state.failures, max_attempts=FALLBACK_AFTER,
        connected_since_change=False,
    )
    if back is not None:
        state.previous, state.failures = None, 0
        ctx.config.set_value("SecurityProfile", back)  # A05.FR.08: bypasses only-upwards


def config_changed(ctx: SecurityContext, key: str, value: Any) -> None:
    """`ChargePointConfig.subscribe` listener: reconnect after a new key or a raised profile."""
    state = ctx.features.profile_state
    if key == "SecurityProfile":
        current = state.connected_profile
        if current is None or int(value) <= current:
            return  # a fallback, or nothing connected yet: the next attempt uses it anyway
        state.previous, state.failures = current, 0
        security_event(ctx, "ReconfigurationOfSecurityParameters", f"SecurityProfile {value}")
        _reconnect(ctx)
    elif key == "AuthorizationKey" and connection.security_profile(ctx.config) in (1, 2):
        security_event(ctx, "ReconfigurationOfSecurityParameters", "AuthorizationKey")
        _reconnect(ctx)


def _reconnect(ctx: SecurityContext) -> None:
    session = ctx.session
    if session is not None:
        ctx.spawn(_close_after_reply(session))


async def _close_after_reply(session: Any) -> None:
    # The handler that accepted the change has returned; its reply is written before we run.
    await asyncio.sleep(0)
    with contextlib.suppress(Exception):
        await session.close(1000, "reconnecting with new security settings")


def security_event(ctx: SecurityContext, kind: str, tech_info: str | None = None) -> None:
    """Log a security event (A04); when it is critical and we are online, send it now."""
    if ctx.features.events.record(kind, tech_info) is not None and ctx.online:
        ctx.spawn(deliver_events(ctx))


async def deliver_events(ctx: SecurityContext) -> None:
    """Send the queued SecurityEventNotifications (A04.FR.02/03); the rest waits for later."""
    if ctx.features.built("events") and ctx.features.events.pending:
        await ctx.features.events.deliver(ctx.call)
