"""One worker of `chargebench csms --workers N`: routing between the CSMS processes that share
one PostgreSQL database (issue 17 point 5). The processes are started by `csms.cluster_process`.

- **Who holds a charger.** A worker's session ids start with its worker id
  (`{worker}.{subprotocol}.{token}`); the store already records the session of a charger's live
  connection (`online_session`), so that row says which process holds it and which OCPP version
  the connection speaks. The worker id is also the `application_name` of the worker's PostgreSQL
  connections: a worker that is gone is one with no such connection
  (`ClusterStore.clear_dead_sessions`, run when a worker starts).
- **Actions.** A command for a charger this process does not hold (`csms.commands.execute` /
  `send`) is forwarded with NOTIFY on the holder's channel; the holder runs it as a local call
  and NOTIFYs the outcome back on the asker's channel (the reply, or the error as a name the
  asker raises again, so the HTTP API answers exactly as for a local call: 409, 502, 504). No
  reply in time is a `CallTimeout` (504). A message over `NOTIFY_LIMIT` bytes goes into the
  table `cluster_messages` (schema version 7, `csms.store.migrations`: the parent process
  migrates before it starts the workers) and the NOTIFY carries its id (PostgreSQL's payload
  limit: 8000).
- **Replacing a connection.** A charger that reconnects to another process: the new holder's
  store step (`claim`) NOTIFYs the old holder in the transaction that records the new session, so
  the old one hears it once the new one is durable, and closes its connection.
- **One fleet.** `FleetView` is what the HTTP API sees as the registry: this process's live
  connections plus the others' (`RemoteConnection`), read from the database about every second.
  Its listeners (the operator UI's live events, `GET /ui/events`) hear every worker's events:
  each worker hears its own as they happen and NOTIFYs them, batched every `EVENT_FLUSH`
  seconds, on one channel every worker listens on (`EVENTS_CHANNEL`), so a UI connected to any
  worker sees the whole fleet's (best effort, as the stream itself: a full batch drops the
  oldest).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chargebench.ocppj import CallErrorReply, CallFailed, CallTimeout, ConnectionLost
from chargebench.ocppj.versions import OcppVersion, version_for
from csms.followups import Collected
from csms.registry import ChargerConnection, Listener, Registry
from csms.store.errors import ReservationIdTaken, StoreUnavailable

if TYPE_CHECKING:
    from csms.central import CentralSystem
    from csms.cluster_store import ClusterStore
    from csms.commands import CommandResult

log = logging.getLogger(__name__)

#: what separates the worker id, the subprotocol and the token of a session id
SESSION_SEPARATOR = "."
#: bytes of a NOTIFY payload sent as it is; larger ones go through `cluster_messages`
#: (PostgreSQL's limit is 8000 bytes)
NOTIFY_LIMIT = 7900
#: seconds a forwarded command may take beyond its own timeout (two NOTIFY round trips)
FORWARD_MARGIN = 5.0
#: seconds between two reads of the fleet's live connections (`FleetView`)
FLEET_REFRESH = 1.0
#: fleet reads between two sweeps for stopped workers' chargers (`Cluster.sweep`)
SWEEP_EVERY = 30
CHANNEL_PREFIX = "chargebench_"
#: the channel of every worker's UI events (`Cluster.publish`)
EVENTS_CHANNEL = f"{CHANNEL_PREFIX}events"
#: seconds between two NOTIFYs of this worker's UI events
EVENT_FLUSH = 0.25
#: UI events kept for the next flush at most (a boot storm's 10 000 connections and statuses
#: in 0.25 s would be 1 NOTIFY a few kB long each: beyond this the oldest are dropped)
EVENT_BACKLOG = 5000
#: seconds a connection attempt may take (libpq's connect_timeout)
CONNECT_TIMEOUT = 10
CLOSE_NORMAL = 1000  # RFC 6455 §7.4.1


def channel_of(worker_id: str) -> str:
    return f"{CHANNEL_PREFIX}{worker_id}"


def worker_of(session_id: str) -> str:
    """The worker id a cluster session id starts with."""
    return session_id.split(SESSION_SEPARATOR, 1)[0]


def version_of(session_id: str) -> OcppVersion:
    """The OCPP version a cluster session id names (`{worker}.{subprotocol}.{token}`)."""
    parts = session_id.split(SESSION_SEPARATOR)
    return version_for(SESSION_SEPARATOR.join(parts[1:-1]) or None)


class Cluster:
    """This process's part of the cluster; `CentralSystem(cluster=...)` starts and closes it."""

    def __init__(self, url: str, index: int) -> None:
        from csms.store.opening import _libpq_url

        self.url = _libpq_url(url)
        self.index = index
        #: unique across machines and restarts; also our connections' application_name
        self.worker_id = f"w{index}_{secrets.token_hex(4)}"
        self.channel = channel_of(self.worker_id)
        self.csms: CentralSystem | None = None
        self._listen: Any = None
        self._talk: Any = None
        self._pending: dict[str, asyncio.Future] = {}
        self._tasks: list[asyncio.Task] = []
        #: charger id -> session of its live connection, every worker's (`FleetView`)
        self.fleet: dict[str, str] = {}
        #: workers found gone by the last sweep
        self._gone: set[str] = set()
        #: the listeners of every worker's UI events (`FleetView.listeners`)
        self.event_listeners: set[Listener] = set()
        #: this worker's events not NOTIFYed yet
        self._outbox: collections.deque[dict[str, Any]] = collections.deque(
            maxlen=EVENT_BACKLOG)

    # Lifecycle ----------------------------------------------------------------------------------

    async def start(self, csms: CentralSystem) -> None:
        """Listen on our channel, clear what dead workers left online, keep the fleet read."""
        import psycopg

        self.csms = csms
        try:
            await self._connect()
            # what a worker that died between INSERT and its reader's DELETE left behind
            await self._talk.execute(
                "DELETE FROM cluster_messages WHERE created < now() - interval '1 hour'")
        except psycopg.Error as error:
            raise StoreUnavailable(f"cannot connect to PostgreSQL: {error}") from None
        cleared = await asyncio.to_thread(self.store.clear_dead_sessions)
        if cleared:
            log.info("%d chargers left online by a stopped worker marked offline", cleared)
        await self.refresh_fleet()
        csms.connections.listeners.add(self.publish)
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._receive()), loop.create_task(self._keep_fleet()),
                       loop.create_task(self._send_events())]

    async def _connect(self) -> None:
        """Our two connections (named by our worker id), listening on our channel."""
        import psycopg
        from psycopg import sql

        options: dict[str, Any] = {"autocommit": True, "application_name": self.worker_id,
                   "connect_timeout": CONNECT_TIMEOUT}  # fmt: skip
        listen = await psycopg.AsyncConnection.connect(self.url, **options)
        try:
            for channel in (self.channel, EVENTS_CHANNEL):
                await listen.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            talk = await psycopg.AsyncConnection.connect(self.url, **options)
        except BaseException:
            await listen.close()
            raise
        self._listen, self._talk = listen, talk

    async def _reconnect(self) -> None:
        """After the server went away: new connections once it is back (every second)."""
        import psycopg

        lost = asyncio.get_running_loop().time()
        for conn in (self._listen, self._talk):
            with contextlib.suppress(Exception):
                await conn.close()
        while True:
            await asyncio.sleep(1.0)
            try:
                await self._connect()
            except psycopg.Error:
                continue
            log.warning("cluster: PostgreSQL is back after %.1f s: listening again",
                        asyncio.get_running_loop().time() - lost)  # fmt: skip
            return

    async def close(self) -> None:
        if self.csms is not None:
            self.csms.connections.listeners.discard(self.publish)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        for conn in (self._listen, self._talk):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
        for future in self._pending.values():
            if not future.done():
                future.cancel()

    @property
    def store(self) -> ClusterStore:
        assert self.csms is not None
        return self.csms.store  # type: ignore[return-value]

    # Connections ------------------------------------------------------------------------------

    def session_id(self, subprotocol: str | None) -> str:
        """A new connection's session id: ours, with the version it speaks."""
        return SESSION_SEPARATOR.join(
            (self.worker_id, subprotocol or "", secrets.token_hex(6)))

    def claim(self, uow: ClusterStore, cp_id: str, previous: str | None, session: str) -> None:
        """Store step of a new connection, after its session was recorded online in place of
        `previous` (`Store.connect_charger`, which read it with the row locked): a live
        connection of the charger in another worker is told to close, by a NOTIFY sent when
        this transaction commits (one in this worker is the registry's to replace)."""
        if previous is None or previous == session:
            return
        holder = worker_of(previous)
        if holder != self.worker_id:
            uow.notify(channel_of(holder),
                       json.dumps({"op": "close", "cp": cp_id, "session": previous}))

    # Forwarding -------------------------------------------------------------------------------

    async def holder_of(self, cp_id: str) -> str | None:
        """The worker id that holds the charger's live connection, as recorded."""
        cursor = await self._talk.execute(
            "SELECT online_session FROM chargers WHERE id = %s AND online != 0", (cp_id,))
        row = await cursor.fetchone()
        return None if row is None or row[0] is None else worker_of(row[0])

    async def forward(self, op: str, cp_id: str, action: str, payload: dict,
                      timeout: float | None) -> CommandResult | dict:  # fmt: skip
        """Run `commands.execute` (`op` "execute") or `commands.send` ("send") in the worker
        that holds the charger; raises what the local call would have raised."""
        import psycopg

        from csms.commands import NotConnected

        assert self.csms is not None
        try:
            holder = await self.holder_of(cp_id)
        except psycopg.Error as error:
            raise StoreUnavailable(f"PostgreSQL: {error}") from None
        if holder is None or holder == self.worker_id:
            raise NotConnected(cp_id)
        request_id = secrets.token_hex(8)
        log.info("%s: %s forwarded to worker %s (request %s)", cp_id, action, holder, request_id)
        call_timeout = timeout if timeout is not None else self.csms.config.call_timeout
        # an execute may also wait for its follow-up messages, as long again (commands.execute)
        wait = call_timeout * (2 if op == "execute" else 1) + FORWARD_MARGIN
        future = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            try:
                await self._send(channel_of(holder), {
                    "op": op, "id": request_id, "reply_to": self.channel, "cp": cp_id,
                    "action": action, "payload": payload, "timeout": timeout,
                })  # fmt: skip
            except psycopg.Error as error:
                raise StoreUnavailable(f"PostgreSQL: {error}") from None
            async with asyncio.timeout(wait):
                answer = await future
        except TimeoutError:
            raise CallTimeout(f"{action} to {cp_id}: no answer from worker {holder} within "
                              f"{wait:.0f} s", action=action, message_id=request_id) from None
        finally:
            self._pending.pop(request_id, None)
        return _result(op, cp_id, action, answer)

    async def _send(self, channel: str, message: dict) -> None:
        text = json.dumps(message, default=str)
        if len(text.encode()) <= NOTIFY_LIMIT:
            await self._talk.execute("SELECT pg_notify(%s, %s)", (channel, text))
            return
        ref = secrets.token_hex(8)
        async with self._talk.transaction():  # the row is there when the NOTIFY is heard
            await self._talk.execute(
                "INSERT INTO cluster_messages (id, body) VALUES (%s, %s)", (ref, text))
            await self._talk.execute("SELECT pg_notify(%s, %s)",
                                     (channel, json.dumps({"op": "ref", "ref": ref})))  # fmt: skip

    # UI events --------------------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> None:
        """A listener of this worker's registry: the event to our UI listeners now, and to the
        other workers' with the next batch (`_send_events`)."""
        self._deliver(event)
        self._outbox.append(event)

    def _deliver(self, event: dict[str, Any]) -> None:
        for listener in list(self.event_listeners):
            listener(event)

    async def _send_events(self) -> None:
        """NOTIFY what this worker published, every `EVENT_FLUSH` seconds, in as few payloads
        as fit `NOTIFY_LIMIT`; while the database is away, events are dropped (not queued
        for minutes: they are live events, and a reconnecting UI reloads the page)."""
        while True:
            await asyncio.sleep(EVENT_FLUSH)
            try:
                await self.flush_events()
            except Exception as error:
                log.debug("cluster: UI events not sent: %s", error)

    async def flush_events(self) -> None:
        batch: list[str] = []
        size = 0
        while self._outbox:
            text = json.dumps(self._outbox.popleft(), default=str)
            if batch and size + len(text) + 64 > NOTIFY_LIMIT:
                await self._send_batch(batch)
                batch, size = [], 0
            if len(text) + 64 <= NOTIFY_LIMIT:  # one event alone over the limit: dropped
                batch.append(text)
                size += len(text) + 1
        if batch:
            await self._send_batch(batch)

    async def _send_batch(self, events: list[str]) -> None:
        payload = f'{{"op": "events", "from": "{self.worker_id}", "events": [{",".join(events)}]}}'
        await self._talk.execute("SELECT pg_notify(%s, %s)", (EVENTS_CHANNEL, payload))

    # Receiving --------------------------------------------------------------------------------

    async def _receive(self) -> None:
        import psycopg

        while True:
            try:
                async for note in self._listen.notifies():
                    try:
                        message = json.loads(note.payload)
                    except ValueError:
                        log.warning("cluster: unreadable message on %s ignored", self.channel)
                        continue
                    self._spawn(self._handle(message))
            except psycopg.Error as error:
                log.error("cluster: PostgreSQL connection lost (%s): actions for chargers of "
                          "other workers fail until it is back; reconnecting",
                          str(error).strip().splitlines()[0] if str(error) else error)  # fmt: skip
            await self._reconnect()

    def _spawn(self, coro: Any) -> None:
        assert self.csms is not None
        self.csms.spawn(coro)

    async def _handle(self, message: dict) -> None:
        try:
            await self._dispatch(message)
        except Exception as error:  # the database away meanwhile: the asker times out (504)
            log.warning("cluster: message %s not handled: %s", message.get("op"), error)

    async def _dispatch(self, message: dict) -> None:
        op = message.get("op")
        if op == "ref":
            cursor = await self._talk.execute(
                "DELETE FROM cluster_messages WHERE id = %s RETURNING body", (message["ref"],))
            row = await cursor.fetchone()
            if row is None:
                return
            message = json.loads(row[0])
            op = message.get("op")
        if op == "reply":
            future = self._pending.get(message.get("id", ""))
            if future is not None and not future.done():
                future.set_result(message)
        elif op == "close":
            self._close_replaced(message["cp"], message["session"])
        elif op in ("execute", "send"):
            await self._serve(message)
        elif op == "events" and message.get("from") != self.worker_id:  # ours: delivered
            for event in message.get("events", []):
                self._deliver(event)

    def _close_replaced(self, cp_id: str, session: str) -> None:
        assert self.csms is not None
        conn = self.csms.connections.get(cp_id)
        if conn is not None and conn.session_id == session:
            log.info("%s: reconnected to another worker: closing session %s", cp_id, session)
            self.csms.spawn(conn.session.close(CLOSE_NORMAL, "replaced by a new connection"))

    async def _serve(self, message: dict) -> None:
        """Run a forwarded command here and NOTIFY its outcome back."""
        from csms import commands

        assert self.csms is not None
        cp_id, action = message["cp"], message["action"]
        answer: dict[str, Any] = {"op": "reply", "id": message["id"]}
        try:
            if self.csms.connections.get(cp_id) is None:  # gone meanwhile: no second hop
                raise commands.NotConnected(cp_id)
            if message["op"] == "send":
                answer["reply"] = await commands.send(self.csms, cp_id, action,
                                                      message["payload"],
                                                      timeout=message["timeout"])  # fmt: skip
            else:
                result = await commands.execute(self.csms, cp_id, action, message["payload"],
                                                timeout=message["timeout"])  # fmt: skip
                answer["request"], answer["reply"] = result.request, result.reply
                if result.followed is not None:
                    followed = result.followed
                    answer["followed"] = {
                        "action": followed.action, "request_id": followed.request_id,
                        "parts": followed.parts, "complete": followed.complete,
                    }  # fmt: skip
        except Exception as error:  # every failure goes back to the asker, named
            answer.update(error_fields(error))
        with contextlib.suppress(Exception):
            await self._send(message["reply_to"], answer)

    # The fleet ----------------------------------------------------------------------------------

    async def refresh_fleet(self) -> None:
        cursor = await self._talk.execute(
            "SELECT id, online_session FROM chargers WHERE online != 0"
            " AND online_session IS NOT NULL")
        self.fleet = {cp_id: session for cp_id, session in await cursor.fetchall()}

    async def _keep_fleet(self) -> None:
        rounds = 0
        while True:
            await asyncio.sleep(FLEET_REFRESH)
            rounds += 1
            try:
                await self.refresh_fleet()
                if rounds % SWEEP_EVERY == 0:
                    await self.sweep()
            except Exception as error:  # the database away: the last view stays
                log.debug("cluster: fleet not refreshed: %s", error)

    async def sweep(self) -> int:
        """Mark offline the chargers recorded on a worker that had no PostgreSQL connection at
        this sweep and the one before (a process or machine that died; a single sweep might
        fall in a worker's reconnection after an outage). Returns how many."""
        gone = await asyncio.to_thread(self.store.workers_gone)
        dead = sorted(gone & self._gone)
        self._gone = gone
        cleared = await asyncio.to_thread(self.store.clear_sessions_of, dead) if dead else 0
        if cleared:
            log.warning("cluster: %d chargers of stopped workers (%s) marked offline", cleared,
                        ", ".join(dead))  # fmt: skip
        return cleared


# Errors across processes ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    """A `RequestRefused` problem as it crossed processes: its text and field."""

    text: str
    field: str | None

    def __str__(self) -> str:
        return self.text


class RemoteFailure(CallFailed):
    """The holding worker failed in a way that has no local equivalent (502)."""


def error_fields(error: Exception) -> dict[str, Any]:
    from csms.commands import RequestRefused, UnknownAction

    fields: dict[str, Any] = {"error": type(error).__name__, "message": str(error)}
    if isinstance(error, CallFailed):
        fields.update(action=error.action, message_id=error.message_id)
    if isinstance(error, CallErrorReply):
        fields.update(code=error.code, description=error.description, details=error.details)
    elif isinstance(error, UnknownAction):
        fields["version"] = error.version.subprotocol
    elif isinstance(error, ReservationIdTaken):
        fields["reservation_id"] = error.reservation_id
    elif isinstance(error, RequestRefused):
        fields["problems"] = [[str(p), getattr(p, "field", None)] for p in error.problems]
    return fields


def raise_again(cp_id: str, action: str, answer: dict) -> None:
    """Raise again, in the asking process, what the holder's local call raised."""
    from csms.commands import NotConnected, RequestRefused, UnknownAction

    kind, message = answer["error"], answer.get("message", "")
    ids = {"action": answer.get("action", action), "message_id": answer.get("message_id", "")}
    if kind == "NotConnected":
        raise NotConnected(cp_id)
    if kind == "UnknownAction":
        raise UnknownAction(cp_id, action, version_for(answer.get("version")))
    if kind == "ReservationIdTaken":
        raise ReservationIdTaken(answer["reservation_id"])
    if kind == "RequestRefused":
        problems = [_Problem(text, field) for text, field in answer.get("problems", [])]
        raise RequestRefused(cp_id, action, problems)
    if kind == "StoreUnavailable":
        raise StoreUnavailable(message)
    if kind == "CallErrorReply":
        raise CallErrorReply(code=answer["code"], description=answer["description"],
                             details=answer.get("details"), **ids)  # fmt: skip
    if kind == "CallTimeout":
        raise CallTimeout(message, **ids)
    if kind == "ConnectionLost":
        raise ConnectionLost(message, **ids)
    raise RemoteFailure(f"{kind}: {message}", **ids)


def _result(op: str, cp_id: str, action: str, answer: dict) -> CommandResult | dict:
    from csms.commands import CommandResult

    if "error" in answer:
        raise_again(cp_id, action, answer)
    if op == "send":
        return answer["reply"]
    followed = answer.get("followed")
    return CommandResult(
        request=answer["request"], reply=answer["reply"],
        followed=None if followed is None else Collected(**followed),
    )  # fmt: skip


# What the HTTP API sees -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RemoteCore:
    version: OcppVersion


@dataclass(frozen=True, slots=True)
class _RemoteSession:
    core: _RemoteCore


@dataclass(frozen=True, slots=True)
class RemoteConnection:
    """A live connection held by another worker, as the API needs it (id, session, version)."""

    cp_id: str
    session_id: str

    @property
    def worker(self) -> str:
        return worker_of(self.session_id)

    @property
    def session(self) -> _RemoteSession:
        return _RemoteSession(_RemoteCore(version_of(self.session_id)))

    def summary(self) -> dict[str, Any]:
        return {"id": self.cp_id, "session": self.session_id, "worker": self.worker}


class FleetView:
    """The registry as the HTTP API sees it with `--workers N`: this process's connections
    (`Registry`) and the other workers' (`RemoteConnection`, read about every
    `FLEET_REFRESH` seconds). Listeners hear every worker's events (`Cluster.publish`)."""

    def __init__(self, local: Registry, cluster: Cluster) -> None:
        self.local = local
        self.cluster = cluster

    @property
    def listeners(self) -> set[Listener]:
        return self.cluster.event_listeners

    def get(self, cp_id: str) -> ChargerConnection | RemoteConnection | None:
        conn = self.local.get(cp_id)
        if conn is not None:
            return conn
        session = self.cluster.fleet.get(cp_id)
        if session is None or worker_of(session) == self.cluster.worker_id:
            return None
        return RemoteConnection(cp_id, session)

    def __contains__(self, cp_id: object) -> bool:
        return isinstance(cp_id, str) and self.get(cp_id) is not None

    def __iter__(self) -> Iterator[ChargerConnection | RemoteConnection]:
        yield from self.local
        for cp_id, session in list(self.cluster.fleet.items()):
            if cp_id not in self.local and worker_of(session) != self.cluster.worker_id:
                yield RemoteConnection(cp_id, session)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    async def wait_for(self, cp_id: str, timeout: float | None = None) -> ChargerConnection:
        return await self.local.wait_for(cp_id, timeout)


__all__ = ["Cluster", "FleetView", "RemoteConnection", "RemoteFailure", "channel_of",
           "error_fields", "raise_again", "version_of", "worker_of"]  # fmt: skip
