"""Reaching the system under test: as a charge point (dial the CSMS) or as a CSMS (listen).

`dial()` / `probe_handshake()` serve `--cb-role csms`; `Listener` serves `--cb-role cp`, where the
charge point under test connects to `--cb-listen` and stays connected from case to case.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import InvalidHandshake, InvalidStatus

from chargebench.clock import iso
from chargebench.dualport import DualPort
from chargebench.ocppj import Role, serve
from chargebench.ocppj.adapter import select_ocpp_subprotocol
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion
from chargebench.security import (
    SubjectIdentity,
    basic_auth_header,
    check_basic_auth,
    client_ssl_context,
    peer_identity,
    server_ssl_context,
)
from conformance.defaults import charge_point_handlers, csms_handlers
from conformance.harness import Handler, HarnessPeer
from conformance.idle import WireState
from conformance.settings import Settings

# Dialling a CSMS under test


def _client_ssl(settings: Settings, cert: Any = None, key: Any = None) -> ssl.SSLContext | None:
    if not (settings.target or "").startswith("wss"):
        return None
    if settings.ca is None:
        raise ValueError("a wss:// target needs --cb-ca")
    if cert is None and settings.security_profile == 3:
        cert, key = settings.cert, settings.key
    return client_ssl_context(settings.ca, cert, key)


def _auth_headers(settings: Settings, cp_id: str, password: str | None) -> dict[str, str]:
    # Security whitepaper §2.3: profiles 1 and 2 authenticate with HTTP Basic
    if settings.security_profile in (1, 2) and password is not None:
        return {"Authorization": basic_auth_header(cp_id, password)}
    return {}


async def dial(
    settings: Settings, *, cp_id: str | None = None, password: str | None = None,
    subprotocols: Sequence[str] | None = None, version: OcppVersion = DEFAULT_VERSION,
    handlers: dict[str, Handler] | None = None,
) -> HarnessPeer:
    """Connect to the CSMS under test as charge point `cp_id` (not yet booted), with
    `password` (default: --cb-password, or the key a case changed it to) when the security
    profile uses Basic auth, offering `version`'s subprotocol (OCPP 1.6 unless told: the
    2.0.1 suite passes `OCPP201` and its station's `handlers`, `conformance.v201.station`)."""
    cp_id = cp_id or settings.cp_id
    ws = await ws_connect(
        settings.url_for(cp_id), subprotocols=list(subprotocols or (version.subprotocol,)),
        compression=None, proxy=None, open_timeout=settings.timeout, ssl=_client_ssl(settings),
        additional_headers=_auth_headers(settings, cp_id, password or settings.password_for(cp_id)),
    )
    if ws.subprotocol != version.subprotocol:
        await ws.close(1002, "no OCPP subprotocol agreed")
        raise AssertionError(f"the CSMS agreed to subprotocol {ws.subprotocol!r}, "
                             f"not {version.subprotocol}")
    return HarnessPeer(
        ws, Role.CHARGE_POINT, handlers=charge_point_handlers() if handlers is None else handlers,
        timeout=settings.timeout, cp_id=cp_id,
    )


BOOT_PAYLOAD = {
    "chargePointVendor": "ChargeBench", "chargePointModel": "Conformance",
    "firmwareVersion": "1.0",
}


async def boot(peer: HarnessPeer) -> dict:
    """BootNotification until Accepted (OCPP 1.6 §4.2); fails on Rejected, honours Pending."""
    for _ in range(3):
        reply = await peer.request("BootNotification", BOOT_PAYLOAD)
        if reply["status"] == "Accepted":
            peer.booted.set()
            return reply
        if reply["status"] == "Rejected":
            break
        await asyncio.sleep(min(reply.get("interval", 1), 2))
    raise AssertionError(f"BootNotification not accepted: {reply}")


@dataclass(frozen=True)
class Handshake:
    """How an opening handshake ended (OCPP-J 1.6 §3.2)."""

    status: int | None = None  # HTTP status when the upgrade was refused
    subprotocol: str | None = None  # agreed when upgraded
    closed_by_server: bool = False  # upgraded, then closed by the server within the timeout
    error: str | None = None  # TLS/TCP failure
    violation: str | None = None  # a handshake response that broke RFC 6455

    @property
    def refused(self) -> bool:
        """No OCPP session came of it: HTTP refusal, transport failure or an immediate close."""
        return self.status is not None or self.error is not None or self.closed_by_server

    def describe(self) -> str:
        if self.violation is not None:
            return f"a handshake response breaking RFC 6455: {self.violation}"
        if self.status is not None:
            return f"HTTP {self.status}"
        if self.error is not None:
            return f"failed: {self.error}"
        after = ", then closed by the server" if self.closed_by_server else ", left open"
        return f"upgraded with subprotocol {self.subprotocol!r}{after}"


async def probe_handshake(
    settings: Settings, *, cp_id: str | None = None, subprotocols: Sequence[str] = ("ocpp1.6",),
    password: str | None = None, cert: Any = None, key: Any = None,
) -> Handshake:
    """Open a connection the way a case wants it broken and report how the CSMS reacted."""
    cp_id = cp_id or settings.cp_id
    try:
        ws = await ws_connect(
            settings.url_for(cp_id), subprotocols=list(subprotocols) or None,
            compression=None, proxy=None, open_timeout=settings.timeout,
            ssl=_client_ssl(settings, cert, key),
            additional_headers=_auth_headers(settings, cp_id, password),
        )
    except InvalidStatus as exc:
        return Handshake(status=exc.response.status_code)
    except InvalidHandshake as exc:
        if cert is not None and isinstance(exc.__cause__, ssl.SSLError | EOFError):
            # TLS 1.3 (RFC 8446 §4.4.2.4): the server judges the client certificate after the
            # client's Finished, so its refusal ends the connection while the client is already
            # reading the HTTP response
            return Handshake(error=f"TLS connection ended before any HTTP response "
                             f"({type(exc.__cause__).__name__}: {exc.__cause__})")
        return Handshake(violation=str(exc))
    except (OSError, ssl.SSLError, TimeoutError) as exc:
        return Handshake(error=f"{type(exc).__name__}: {exc}")
    try:
        async with asyncio.timeout(min(settings.timeout, 3.0)):
            await ws.wait_closed()
        closed = True
    except TimeoutError:
        closed = False
    finally:
        await ws.close()
    return Handshake(subprotocol=ws.subprotocol, closed_by_server=closed)


# Listening for a charge point under test


@dataclass(frozen=True)
class Admission:
    """How a charge point under test connected (security whitepaper §2): the profile its
    credentials make, over TLS or not, the AuthorizationKey it presented, its certificate's
    CN and O (profile 3, A00.FR.404/405)."""

    profile: int = 0
    tls: bool = False
    key: str | None = None
    client: SubjectIdentity | None = None

    def describe(self) -> str:
        parts = [f"security profile {self.profile}", "TLS" if self.tls else "plain ws://"]
        if self.key is not None:
            parts.append("HTTP Basic")
        if self.client is not None:
            parts.append(f"client certificate CN={self.client.common_name} "
                         f"O={self.client.organization}")
        return ", ".join(parts)


class Listener:
    """ChargeBench's CSMS endpoint for a charge point under test; one live connection at a time.

    ws:// and wss:// share the `--cb-listen` port (`chargebench.dualport`), so the charge point
    keeps its address when a case raises its SecurityProfile. Each connection is admitted with
    the profile its credentials make (`Admission`, on `peer.security`): HTTP Basic checked
    against `password` (the AuthorizationKey a case set last), the client certificate verified
    against --cb-ca. A charge point once connected at profile N is never again admitted below
    N (`floor`, whitepaper A05.FR.09).

    `overrides` replace default handlers for connections opened from now on (set them before
    asking the charge point to reconnect); `refuse_subprotocol_once` makes the next upgrade
    answer without Sec-WebSocket-Protocol (OCPP-J §3.2).
    """

    def __init__(self, settings: Settings, *, heartbeat_interval: int = 300) -> None:
        self.settings = settings
        self.heartbeat_interval = heartbeat_interval
        self.overrides: dict[str, Handler] = {}
        self.refuse_subprotocol_once = False
        self.current: HarnessPeer | None = None
        self.connections = 0
        self.unnegotiated: asyncio.Queue[tuple[list, bool]] = asyncio.Queue()
        #: the AuthorizationKey HTTP Basic must carry (profiles 1, 2)
        self.password: str | None = settings.password
        #: the lowest security profile still admitted
        self.floor = settings.security_profile
        #: why connections were refused, newest last (for verdicts)
        self.refusals: list[str] = []
        self._admissions: dict[Any, Admission] = {}
        #: the charger's state as the wire shows it, over all its connections
        self.state = WireState()
        #: configuration as first read from the charger (what cases restore)
        self.original_config: dict[str, str] = {}
        #: why the last case could not restore an idle charger (the next case errors)
        self.idle_problem: str | None = None
        #: restoring failed after the case and again before the next: stop trying
        self.idle_hopeless = False
        #: charge point ids that connected and were refused (not --cb-cp-id)
        self.strangers: list[str] = []
        #: why no charger is there: set once waiting for the first connection timed out
        self.absent: str | None = None
        self._changed = asyncio.Event()
        self._servers: list[Any] = []
        self._front: DualPort | None = None
        self._tls_port: int | None = None

    @property
    def tls_available(self) -> bool:
        return self.settings.cert is not None and self.settings.key is not None

    async def start(self) -> None:
        host, port = self.settings.listen
        s = self.settings
        options: dict[str, Any] = {
            "select_subprotocol": self._select, "process_request": self._admit,
        }
        if s.security_profile >= 2 and not self.tls_available:
            raise ValueError("security profiles 2 and 3 need --cb-cert/--cb-key for the CSMS")
        plain = await serve(self._handler, "127.0.0.1", 0, **options)
        self._servers.append(plain)
        tls_port = self._tls_port = None
        if self.tls_available:
            # a client certificate is verified when presented (profile 3), optional otherwise
            context = server_ssl_context(s.cert, s.key, s.ca)
            tls = await serve(self._handler, "127.0.0.1", 0, ssl=context, **options)
            self._servers.append(tls)
            tls_port = self._tls_port = tls.sockets[0].getsockname()[1]
        self._front = await DualPort(
            host, port, plain.sockets[0].getsockname()[1], tls_port
        ).start()
        self.announce()

    @property
    def port(self) -> int:
        assert self._front is not None
        return self._front.port

    @property
    def tls_attempts(self) -> int:
        """Connections that began a TLS handshake so far."""
        return self._front.tls_attempts if self._front is not None else 0

    async def use_server_context(self, context: ssl.SSLContext | None) -> None:
        """Answer wss:// from now on with `context` (e.g. a certificate the charger must
        refuse, whitepaper A00.FR.309); None: back to --cb-cert."""
        assert self._front is not None
        if context is None:
            self._front.tls_port = self._tls_port
            return
        options = {"select_subprotocol": self._select, "process_request": self._admit}
        other = await serve(self._handler, "127.0.0.1", 0, ssl=context, **options)
        self._servers.append(other)
        self._front.tls_port = other.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self.current is not None:
            await self.current.close()
        if self._front is not None:
            await self._front.close()
        for server in self._servers:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 3)

    def default_handlers(self) -> dict[str, Handler]:
        """What the listener answers the charger's CALLs with (the 2.0.1 listener,
        `conformance.v201.central`, answers 2.0.1's)."""
        return csms_handlers(self.heartbeat_interval)

    def restore_handlers(self, peer: HarnessPeer) -> None:
        """Back to the default answers on `peer` (a case replaced some)."""
        peer.handlers.clear()
        peer.handlers.update(self.default_handlers())
        _watch_boot(peer)

    @property
    def endpoint(self) -> str:
        """The OCPP-J endpoint URL to configure on the charger (it appends "/" + its id)."""
        host, _ = self.settings.listen
        scheme = "wss" if self.settings.security_profile >= 2 else "ws"
        return f"{scheme}://{host}:{self.port}/ocpp"

    def announce(self) -> None:
        """One line at the start: where the charger must connect, as whom."""
        s = self.settings
        print(f"conform: waiting up to {s.connect_timeout:g} s for the charge point under test: "
              f"configure it with the OCPP-J URL {self.endpoint} and charge point id {s.cp_id} "
              f"(it connects to {self.endpoint}/{s.cp_id})", file=sys.__stderr__, flush=True)

    async def charger(self) -> HarnessPeer:
        """The charger's live connection for a case. The first wait lasts
        --cb-connect-timeout; when no charger came, the one-line reason is kept and every
        later case fails at once with it (no case can pass without a charger)."""
        if self.absent is not None:
            pytest.fail(self.absent, pytrace=False)
        first = self.connections == 0
        window = self.settings.connect_timeout if first else self.settings.reconnect_timeout
        try:
            return await self.connection(window)
        except TimeoutError:
            pass
        reason = self._why_absent(window)
        if first:
            self.absent = reason
            if self.strangers or self.refusals:
                # a charger came and was refused (another id, OCPP-J 1.6 §3.2, or bad
                # credentials): none with the expected id will come, so the run stops here, as
                # the csms role does for a CSMS it cannot reach: one line, exit 1, no verdicts
                pytest.exit(reason, returncode=1)  # the plugin prints "conform: REASON"
            print(f"conform: {reason}", file=sys.__stderr__, flush=True)
        pytest.fail(reason, pytrace=False)

    def _why_absent(self, window: float) -> str:
        if self.strangers:
            return (f"a charger connected as {self.strangers[-1]} and was refused: the suite "
                    f"expects {self.settings.cp_id}")
        if self.refusals:
            return f"a charger connected and was refused: {self.refusals[-1]}"
        return (f"no charge point connected to {self.endpoint}/{self.settings.cp_id} within "
                f"{window:g} s")

    async def connection(self, timeout: float | None = None) -> HarnessPeer:
        """The live connection of the charge point, waiting up to `timeout` for one."""
        timeout = self.settings.timeout if timeout is None else timeout
        async with asyncio.timeout(timeout):
            while self.current is None or self.current.closed:
                self._changed.clear()
                await self._changed.wait()
        return self.current

    async def reconnection(self, old: HarnessPeer | None, timeout: float) -> HarnessPeer:
        """A connection other than `old` (after a reset or a power cycle)."""
        async with asyncio.timeout(timeout):
            while self.current is None or self.current is old or self.current.closed:
                self._changed.clear()
                await self._changed.wait()
        return self.current

    # websockets callbacks

    def _select(self, connection: ServerConnection, offered: list[str]) -> str | None:
        if self.refuse_subprotocol_once:
            self.refuse_subprotocol_once = False
            return None
        return select_ocpp_subprotocol(connection, offered)

    def _admit(self, connection: ServerConnection, request: Any) -> Any:
        cp_id = request.path.rstrip("/").rsplit("/", 1)[-1]
        s = self.settings
        if s.cp_id and cp_id != s.cp_id:
            # OCPP-J 1.6 §3.2: unknown identity -> 404
            self.strangers.append(unquote(cp_id))
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charge point\n")
        admission, refusal = self._credentials(connection, request, cp_id)
        if refusal is None and admission.profile < self.floor:
            # whitepaper A05.FR.09: no way back below a profile once connected with it
            refusal = f"{admission.describe()} is below security profile {self.floor}"
        if refusal is not None:
            self.refusals.append(refusal)
            return connection.respond(HTTPStatus.UNAUTHORIZED, refusal + "\n")
        self._admissions[connection] = admission
        return None

    def _credentials(self, connection: ServerConnection, request: Any,
                     cp_id: str) -> tuple[Admission, str | None]:  # fmt: skip
        """The profile the connection's credentials make (whitepaper §2.3-§2.5), or why
        they are refused."""
        ssl_object = connection.transport.get_extra_info("ssl_object")
        client = None
        if ssl_object is not None:
            with contextlib.suppress(ValueError):
                client = peer_identity(ssl_object)  # verified against --cb-ca by the handshake
        header = request.headers.get("Authorization")
        key = None
        if header is not None:
            if self.password is None:
                return Admission(), "HTTP Basic credentials, but no AuthorizationKey is known"
            if not check_basic_auth(header, cp_id, self.password, accept_hex_text=True):
                return Admission(), "bad HTTP Basic credentials (A00.FR.203)"
            key = self.password
        tls = ssl_object is not None
        if client is not None:
            return Admission(3, True, key, client), None
        if tls and key is None:
            return Admission(), "TLS without HTTP Basic or a client certificate (A00.FR.205)"
        return Admission(2 if tls else (1 if key else 0), tls, key), None

    async def _handler(self, ws: ServerConnection) -> None:
        admission = self._admissions.pop(ws, Admission())
        if ws.subprotocol is None:
            await self._watch_unnegotiated(ws)
            return
        handlers = self.default_handlers()
        handlers.update(self.overrides)
        peer = HarnessPeer(
            ws, Role.CENTRAL_SYSTEM, handlers=handlers, timeout=self.settings.timeout,
            cp_id=self.settings.cp_id,
        )
        _watch_boot(peer)
        peer.boot_timeout = self.settings.boot_timeout
        peer.observer = lambda frame: self.state.observe(frame, frame.dir == peer.incoming_dir)
        peer.security = admission
        self.floor = max(self.floor, peer.security.profile)
        self.connections += 1
        if self.current is not None:
            peer.adopt(self.current)
        self.current = peer
        self._changed.set()
        with contextlib.suppress(Exception):
            await peer._reader
        self._changed.set()

    async def _watch_unnegotiated(self, ws: ServerConnection) -> None:
        """Record what a charge point does on a connection without subprotocol: frames it sent
        and whether it closed the connection itself within the timeout."""
        frames: list = []
        try:
            async with asyncio.timeout(self.settings.timeout):
                async for message in ws:
                    frames.append(message)
            closed = True
        except TimeoutError:
            closed = False
        except Exception:
            closed = True
        await self.unnegotiated.put((frames, closed))
        await ws.close()


def _watch_boot(peer: HarnessPeer) -> None:
    """Set `peer.booted` once our BootNotification.conf said Accepted."""
    answer: Callable[[dict], Any] = peer.handlers["BootNotification"]

    def boot(payload: dict) -> Any:
        reply = answer(payload)
        if reply.get("status") == "Accepted":
            peer.booted.set()
        return reply

    peer.handlers["BootNotification"] = boot


def now() -> str:
    """Current UTC time as an OCPP dateTime."""
    return iso(datetime.now(UTC))
