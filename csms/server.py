"""The CSMS's OCPP-J endpoint: admission in the HTTP upgrade, then one `Session` per charger.

- Path `/ocpp/{id}` or `/{id}` gives the charge point id (OCPP-J 1.6 §3.1.1).
- Admission (`csms.admission`) runs in `process_request`, before the upgrade: unknown-charger
  policy, Basic authentication, TLS and client certificate. A refusal is an HTTP status, so bad
  credentials never reach OCPP.
- Subprotocols: every version with handlers (`csms.dispatch.versions()`) is offered on the one
  port; the client's preferred one is used (OCPP-J 2.0.1 §3.1.3). None in common: the handshake
  completes without one and we close at once (OCPP-J §3.2).
- A second connection for an id replaces the first; the registry holds the live ones.
- Every frame is traced (`csms.tracelog`); a heartbeat late by interval + grace marks the charger
  offline and closes its connection (`HeartbeatMonitor`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import math
import secrets
import ssl
import weakref
from collections.abc import Callable
from dataclasses import replace
from http import HTTPStatus
from typing import TYPE_CHECKING

from websockets.asyncio.server import Server, ServerConnection
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.protocol import State

from chargebench.aiotasks import cancel_and_wait
from chargebench.ocppj import OcppSession, Role, Session, serve
from chargebench.ocppj.versions import version_for
from chargebench.security import MAX_KEY_BYTES, MIN_KEY_BYTES, parse_basic_auth, peer_identity
from chargebench.trace import make_tracer
from csms import dispatch, profile_upgrade
from csms.admission import Admission, Facts, admit, charge_point_id
from csms.certificates import registered_identity
from csms.outage import RETRY_AFTER
from csms.registry import ChargerConnection
from csms.store.errors import StoreUnavailable

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.store import Store
    from csms.store.base import Charger

log = logging.getLogger(__name__)


def went_offline(cp_id: str, session: str) -> Callable[[Store], bool]:
    """The store step of a connection that ended: its charger offline, unless a newer
    connection of it is the one recorded (`Store.set_online` with `session`)."""
    return lambda uow: uow.set_online(cp_id, False, session=session)

# RFC 6455 §7.4.1
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NORMAL = 1000
#: IANA WebSocket close code registry: "Try Again Later" (the store is unavailable)
CLOSE_TRY_AGAIN_LATER = 1013
#: OCPP 2.0.1 part 2 appendices, security events: the CSMS's record of a refused certificate
INVALID_CERTIFICATE = "InvalidChargingStationCertificate"
#: seconds a reconnecting charger waits for the bookkeeping of its last answered command
RECORDING_WAIT = 5.0


class OcppServer:
    """The websockets server of one `CentralSystem`; `start()`, then `close()`."""

    def __init__(self, csms: CentralSystem) -> None:
        self.csms = csms
        self.server: Server | None = None
        self._admissions: weakref.WeakKeyDictionary[ServerConnection, tuple[str, Admission]] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task] = set()

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> None:
        config = self.csms.config
        self.server = await serve(
            self._handle, config.host, config.port,
            process_request=self._process_request, ssl=ssl_context, backlog=config.backlog,
            # every version with a handler table, on one port (OCPP-J 2.0.1 §3.1.3, §3.2)
            versions=dispatch.versions(),
            ping_interval=None,  # KeepAlive pings, from one task for all connections
            # `--workers N`: every worker listens on the one port, the kernel spreads the
            # connections (SO_REUSEPORT, Linux; csms.cluster_process)
            reuse_port=self.csms.cluster is not None or None,
            # OCPP-J 2.0.1 §3.3: a CSMS supports RFC 7692; negotiated only when offered
            compression="deflate" if config.compression else None,
        )  # fmt: skip

    async def close(self) -> None:
        if self.server is None:
            return
        self.server.close(close_connections=True)
        await self.server.wait_closed()
        self.server = None

    # HTTP upgrade -------------------------------------------------------------------------------

    async def _process_request(self, ws: ServerConnection, request: Request) -> Response | None:
        cp_id = charge_point_id(request.path)
        if cp_id is None:
            return _refuse(ws, HTTPStatus.NOT_FOUND, "expected /ocpp/{chargePointId}")
        try:
            return await self._admit(ws, request, cp_id)
        except StoreUnavailable as error:  # admission needs the store: refuse, nothing crashes
            self.csms.refusals.refused(f"{cp_id}: new connection", error)
            return _refuse(ws, HTTPStatus.SERVICE_UNAVAILABLE, "service unavailable, retry later")

    async def _admit(self, ws: ServerConnection, request: Request, cp_id: str) -> Response | None:
        recording = self.csms.recording.get(cp_id)
        if recording:
            # OCPP-J 1.6 §6.2.2: after accepting a new AuthorizationKey the charger reconnects
            # with it at once, while the CSMS may still be hashing it into the store
            await asyncio.wait(set(recording), timeout=RECORDING_WAIT)
        # the charger, or the id of its case twin: one read (a boot storm's first round trip)
        charger, twin = await self.csms.db.run(lambda uow: uow.charger_or_case_twin(cp_id))
        facts = await self._facts(ws, request.headers, cp_id, charger)
        if twin is not None:
            facts = replace(facts, case_twin=True)
        admission = admit(charger, self.csms.config.unknown_chargers, facts)
        if admission.status is not None:  # not admitted
            log.info("%s: refused (%s %s)", cp_id, admission.status, admission.reason)
            if charger is not None and facts.cert_ok is False:
                # 2.0.1 A00.FR.408 (RECOMMENDED): the CSMS logs the station certificate it
                # refused (CA-signed, but not this station's: A00.FR.404/405); the refusal
                # stands even when the store cannot take the record
                now, reason = self.csms.clock.now(), admission.reason[:255]
                with contextlib.suppress(StoreUnavailable):
                    await self.csms.db.run(lambda uow: uow.add_security_event(
                        cp_id, INVALID_CERTIFICATE, now, tech_info=reason))  # fmt: skip
            return _refuse(ws, admission.status, admission.reason)
        self._admissions[ws] = (cp_id, admission)
        return None

    async def _facts(
        self, ws: ServerConnection, headers: Headers, cp_id: str, charger: Charger | None
    ) -> Facts:
        header = headers.get("Authorization")
        basic_ok = False
        if header is not None and charger is not None:
            parsed = parse_basic_auth(header)
            if parsed is not None and parsed[0] == cp_id:  # A00.FR.204: user = charge point id
                offered = tuple(self.csms.offered.get(cp_id, ()))
                # scrypt is slow on purpose: keep it off the event loop
                basic_ok = await asyncio.to_thread(self._password_ok, cp_id, parsed[1], offered)
        ssl_object = ws.transport.get_extra_info("ssl_object")
        cert_ok: bool | None = None
        if ssl_object is not None and ssl_object.getpeercert(binary_form=True):
            # The TLS layer already verified the chain against tls_ca (A00.FR.403).
            identity = peer_identity(ssl_object)
            # A00.FR.405: the serial the operator registered, never one a boot claims
            cert_ok = identity.matches(registered_identity(charger, cp_id),
                                       self.csms.config.cpo_name)  # fmt: skip
        return Facts(
            basic_sent=header is not None, basic_ok=basic_ok,
            tls=ssl_object is not None, cert_ok=cert_ok,
        )  # fmt: skip

    def _password_ok(self, cp_id: str, password: bytes, offered: tuple[str, ...] = ()) -> bool:
        """The store keeps the AuthorizationKey as configured; a 16-20 byte binary key arrives as
        raw bytes (OCPP-J 1.6 §6.2.2, chargebench.security.basic_auth), so also try its hex. A
        2.0.1 BasicAuthPassword arrives as its UTF-8 text (A00.FR.205), the first candidate.
        `offered`: new passwords of requests not yet answered (`csms.commands.execute`)."""
        verify = self.csms.store.verify_charger_password
        candidates = [password.decode("utf-8", "surrogateescape")]
        if MIN_KEY_BYTES <= len(password) <= MAX_KEY_BYTES:
            candidates += [password.hex().upper(), password.hex()]
        if any(hmac.compare_digest(candidate.encode("utf-8", "surrogateescape"),
                                   key.encode("utf-8"))
               for candidate in candidates for key in offered):  # fmt: skip
            return True
        return any(verify(cp_id, candidate) for candidate in candidates)

    # Connection ---------------------------------------------------------------------------------

    async def _handle(self, ws: ServerConnection) -> None:
        cp_id, admission = self._admissions.pop(ws, (None, None))
        if cp_id is None or admission is None:  # cannot happen: process_request admitted it
            await ws.close(CLOSE_PROTOCOL_ERROR, "not admitted")
            return
        if ws.subprotocol is None:
            # OCPP-J 1.6 §3.2: no common subprotocol -> close the connection at once.
            await ws.close(CLOSE_PROTOCOL_ERROR, "no OCPP subprotocol agreed")
            return
        try:
            conn = await self._register(ws, cp_id, admission)
        except StoreUnavailable as error:  # the store went away since the upgrade was admitted
            self.csms.refusals.refused(f"{cp_id}: new connection", error)
            await ws.close(CLOSE_TRY_AGAIN_LATER, "service unavailable, retry later")
            return
        # websockets keeps the handshake's request and response (headers: about 4 kB per
        # charger, 20 % of the CSMS's memory per connection at 10 000) for the connection's
        # lifetime; admission was their last reader. (A request must stay: websockets takes
        # the connection for one still in its handshake without it.)
        ws.request = Request(ws.request.path, Headers()) if ws.request is not None else None
        ws.response = None
        try:
            await conn.session.run()
        finally:
            await self._unregister(conn)

    async def _unregister(self, conn: ChargerConnection) -> None:
        csms = self.csms
        cp_id = conn.cp_id
        # Registry first (synchronous, so no successor can slip in between), then the store:
        # the offline write names this connection's session and changes nothing once a newer
        # connection recorded itself (issue 15 point 4: however the writes interleave).
        if csms.connections.remove(conn):
            csms.trace.release(cp_id)
        if not conn.stale:
            with contextlib.suppress(Exception):
                await csms.db.run(went_offline(cp_id, conn.session_id))
        if csms.heap is not None:
            csms.heap.note_closed()
        log.info("%s: disconnected (session %s)", cp_id, conn.session_id)

    async def _register(
        self, ws: ServerConnection, cp_id: str, admission: Admission
    ) -> ChargerConnection:
        csms = self.csms
        policy = csms.config.unknown_chargers

        now = csms.clock.now()

        def remember(uow: Store) -> dict:
            # created if admission found none, profile noted, online for this session: one
            # statement on PostgreSQL (a boot storm's second round trip)
            charger, previous = uow.connect_charger(
                cp_id, profile=admission.profile, session=session_id, timestamp=now,
                create=admission.new, registration_status=policy.registration_status)
            if csms.cluster is not None:  # its connection in another worker closes
                csms.cluster.claim(uow, cp_id, previous, session_id)  # type: ignore[arg-type]
            if admission.profile > charger["security_profile"]:
                # A05.FR.06: reconnected with the profile the CSMS asked for: it is the
                # charger's now (csms.profile_upgrade); A05.FR.07: nothing lower admits
                target = profile_upgrade.reached(charger, uow.get_config_baseline(cp_id),
                                                 admission.profile)  # fmt: skip
                if target is not None:
                    uow.set_security_profile(cp_id, target)
                    log.info("%s: security profile %d reached (A05)", cp_id, target)
                    charger = uow.get_charger(cp_id) or charger
            return charger  # type: ignore[return-value]

        session_id = (secrets.token_hex(6) if csms.cluster is None
                      else csms.cluster.session_id(ws.subprotocol))  # fmt: skip
        charger = await csms.db.run(remember)
        tracer = make_tracer(csms.trace, cp_id, session_id)
        # the version is the one agreed in the handshake (OCPP-J 1.6 §3.1)
        core = OcppSession(Role.CENTRAL_SYSTEM, version=version_for(ws.subprotocol),
                           call_timeout=csms.config.call_timeout, tracer=tracer)  # fmt: skip
        session = Session(ws, core)
        # A charger that booted before keeps its registration across reconnections (OCPP 1.6
        # §4.2: BootNotification is sent after a (re)boot, not after a reconnect).
        registration = charger["registration_status"] if charger["last_boot"] else None
        conn = ChargerConnection(
            cp_id=cp_id, session_id=session_id, session=session, profile=admission.profile,
            registration=registration, connected_at=csms.clock.now(),
            last_seen=csms.clock.monotonic(), remote=ws.remote_address,
        )  # fmt: skip
        session.handlers = dispatch.bind(csms, conn)
        session.on_event = lambda event: _touch(csms, conn)
        old = csms.connections.add(conn)
        if old is not None:
            log.info("%s: new connection replaces session %s", cp_id, old.session_id)
            csms.spawn(old.session.close(CLOSE_NORMAL, "replaced by a new connection"))
        log.info("%s: connected (profile %d, session %s)", cp_id, admission.profile, session_id)
        return conn


def _touch(csms: CentralSystem, conn: ChargerConnection) -> None:
    """Any OCPP exchange counts as a sign of life (1.6 §9.1.10 HeartbeatInterval: "interval of
    inactivity (no OCPP exchanges)")."""
    conn.last_seen = csms.clock.monotonic()


def _refuse(ws: ServerConnection, status: HTTPStatus, reason: str) -> Response:
    response = ws.respond(status, f"{reason}\n")
    if status is HTTPStatus.UNAUTHORIZED:
        # RFC 7617 §2: invite Basic authentication (security profiles 1 and 2)
        response.headers["WWW-Authenticate"] = 'Basic realm="OCPP", charset="UTF-8"'
    elif status is HTTPStatus.SERVICE_UNAVAILABLE:  # RFC 9110 §10.2.3
        response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


class HeartbeatMonitor:
    """Marks chargers offline whose last sign of life is older than interval + grace.

    seeds/001 §3.7: "If no heartbeat received within 90 seconds of expected time, connection
    considered stale", then cleaned up: the charger is marked offline and its connection closed.
    Runs on the protocol clock, so a test with `Clock(speed=1000)` sees it in milliseconds.
    """

    def __init__(self, csms: CentralSystem) -> None:
        self.csms = csms
        self._task: asyncio.Task | None = None

    @property
    def deadline(self) -> float:
        config = self.csms.config
        return config.heartbeat_interval + config.heartbeat_grace

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        clock = self.csms.clock
        period = max(self.deadline / 20, 0.001)
        while True:
            await clock.sleep(period)
            await self.check()

    async def check(self) -> list[str]:
        """Mark and close every stale connection now; return their ids."""
        csms = self.csms
        candidates = [c for c in csms.connections if not c.stale]
        stale = []
        for conn in candidates:
            # Judged one by one after each await: a charger heard from while an earlier one was
            # being closed is alive (at speed 2000 a few ms are many simulated seconds).
            silent = csms.clock.monotonic() - conn.last_seen
            if conn.stale or silent <= self.deadline:
                continue
            conn.stale = True
            stale.append(conn.cp_id)
            log.warning("%s: no heartbeat for %.0f s: offline", conn.cp_id, silent)
            try:
                await csms.db.run(went_offline(conn.cp_id, conn.session_id))
            except StoreUnavailable as error:
                # closed all the same; not stale any more, so its unregistering tries again
                conn.stale = False
                csms.refusals.refused(f"{conn.cp_id}: offline flag", error)
            csms.spawn(conn.session.close(CLOSE_NORMAL, "heartbeat timeout"))
        return stale


class KeepAlive:
    """WebSocket Pings to every connection from one task, evenly spread over the interval.

    websockets' own keepalive runs a task per connection (about 1 kB each) and pings each one a
    fixed interval after its handshake, so a boot storm's bursts of handshakes come back every
    20 s as bursts of thousands of pings: stalls of the event loop of 30-70 ms at 10 000
    chargers (loadtest.bench_fleet). Here one task walks the live connections over
    `ws_ping_interval` seconds, a few every `TICK`. A connection whose previous Ping is still
    unanswered when the next is due (a whole interval later, as websockets' default
    ping_timeout = ping_interval) is dropped (RFC 6455 §5.5.2: Pong "as soon as is practical").
    """

    TICK = 0.1

    def __init__(self, csms: CentralSystem) -> None:
        self.csms = csms
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self.csms.config.ws_ping_interval is not None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        interval = self.csms.config.ws_ping_interval
        assert interval is not None
        loop = asyncio.get_running_loop()
        while True:
            round_started = loop.time()
            conns = list(self.csms.connections)
            per_tick = max(1, math.ceil(len(conns) * self.TICK / interval))
            for first in range(0, len(conns), per_tick):
                tick_started = loop.time()
                for conn in conns[first:first + per_tick]:
                    await self.ping(conn)
                await asyncio.sleep(max(0.0, self.TICK - (loop.time() - tick_started)))
            # a round of few connections still lasts one interval
            await asyncio.sleep(max(0.0, interval - (loop.time() - round_started)))

    async def ping(self, conn: ChargerConnection) -> None:
        """Ping `conn` now, or drop it if it never answered the previous Ping."""
        if conn.pong is not None and not conn.pong.done():
            log.warning("%s: no Pong to the last Ping: connection failed", conn.cp_id)
            conn.pong = None
            # RFC 6455 §7.1.7 Fail the WebSocket Connection: a peer that sends no Pong would
            # not complete a closing handshake either, so do not wait close_timeout for one.
            conn.session.ws.transport.abort()
            return
        ws = conn.session.ws
        if ws.state is not State.OPEN:  # closing: ping() would wait for the close to finish
            return
        try:
            # a peer whose socket takes no more data would stall every other ping behind it;
            # it is skipped (its heartbeat monitor deadline still applies)
            async with asyncio.timeout(self.TICK):
                # ping() returns its pong waiter, a Future (typed as an Awaitable):
                # ensure_future gives it back as it is
                conn.pong = asyncio.ensure_future(await ws.ping())
        except (ConnectionClosed, TimeoutError):
            conn.pong = None
