"""asyncio adapter: one websocket connection driving one `OcppSession` core.

It only feeds received frames to the core, writes what the core returns, dispatches CALLs to
handlers and resolves the futures of our own CALLs. Handlers that are coroutines run as tasks, so
a slow handler never delays other replies, and a handler may itself `await session.call(...)`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.asyncio.server import Server, ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from chargebench.ocppj import events as ev
from chargebench.ocppj.core import OcppSession, State
from chargebench.ocppj.errors import (
    CallErrorReply,
    CallTimeout,
    ConnectionLost,
    InvalidReply,
    LocalProtocolError,
    NoReply,
    OcppCallError,
)
from chargebench.ocppj.faults import Fault
from chargebench.ocppj.payloads import action_of, to_payload
from chargebench.ocppj.versions import DEFAULT_VERSION, VERSIONS, OcppVersion

log = logging.getLogger(__name__)

Handler = Callable[[dict], Any]
Connection = ClientConnection | ServerConnection


class Session:
    """Runs one OCPP-J connection: call `run()` (or `start()`), then `call()` as needed."""

    __slots__ = ("_call_lock", "_tasks", "_waiters", "core", "handlers", "on_event", "ws")

    def __init__(
        self,
        ws: Connection,
        core: OcppSession,
        handlers: Mapping[str, Handler] | None = None,
        *,
        on_event: Callable[[ev.Event], None] | None = None,
    ) -> None:
        """`on_event` sees every event, including late/unknown replies and protocol violations."""
        self.ws = ws
        self.core = core
        self.handlers = handlers or {}
        self.on_event = on_event
        self._waiters: dict[str, asyncio.Future] = {}
        self._tasks: set[asyncio.Task] = set()
        self._call_lock: asyncio.Lock | None = None

    # Our CALLs

    async def call(self, message: Any, payload: dict | None = None, *, timeout=None) -> dict:
        """Send a CALL and return the CALLRESULT payload.

        `message` is an action name with `payload`, or an `ocpp.v16.call` dataclass. Raises
        `CallErrorReply`, `CallTimeout`, `InvalidReply` or `ConnectionLost`; OCPP-J 1.6 §4.1.1
        allows one outstanding CALL, so concurrent callers wait their turn.
        """
        if isinstance(message, str):
            action, body = message, payload if payload is not None else {}
        else:
            action, body = action_of(message), to_payload(message)
        if self._call_lock is None:
            self._call_lock = asyncio.Lock()
        async with self._call_lock:
            if self.core.state is State.CLOSED:
                raise ConnectionLost("connection closed", action=action, message_id="")
            message_id = self.core.send_call(action, body, timeout=timeout)
            future = asyncio.get_running_loop().create_future()
            self._waiters[message_id] = future
            try:
                await self._flush()
            except ConnectionClosed:
                self._abandon(message_id, future)  # nothing outstanding on a dead connection
                raise ConnectionLost(
                    "connection closed", action=action, message_id=message_id
                ) from None
            except BaseException:
                # cancelled while the frame was being written (a closing connection, a full
                # buffer): the next caller must not find this CALL outstanding (OCPP-J §4.1.1)
                self._abandon(message_id, future)
                raise
            try:
                return await self._wait(future)
            finally:
                # a caller that gave up (cancelled, connection lost) leaves nothing outstanding
                self._waiters.pop(message_id, None)
                future.cancel()
                self.core.forget_call(message_id)

    def _abandon(self, message_id: str, future: asyncio.Future) -> None:
        """Forget a CALL nobody will wait for: the core's outstanding id, its waiter, and a
        ConnectionLost the reader may already have put in its future (else asyncio reports
        "Future exception was never retrieved")."""
        self._waiters.pop(message_id, None)
        self.core.forget_call(message_id)
        if future.done() and not future.cancelled():
            future.exception()
        future.cancel()

    async def _wait(self, future: asyncio.Future) -> dict:
        core = self.core
        while not future.done():
            deadline = core.next_deadline()
            delay = 0.0 if deadline is None else max(0.0, deadline - core.now()) + 0.001
            try:
                async with asyncio.timeout(delay):
                    return await asyncio.shield(future)
            except TimeoutError:
                self._handle(core.expire_calls())
        return future.result()

    async def send_raw(self, text: str) -> None:
        """Send a frame as is (deliberately broken frames for conformance tests)."""
        if self.core.state is State.CLOSED:
            raise ConnectionLost("connection closed", action="(raw frame)", message_id="")
        self.core.send_raw(text)
        await self._flush()

    # Reading

    async def run(self) -> None:
        """Read frames until the connection closes; then the core hears the end of the stream
        (`receive_eof`, with the exception that ended it) and fails whatever still waits."""
        cause: BaseException | None = None
        try:
            async for text in self.ws:
                if isinstance(text, bytes):
                    text = text.decode("utf-8", "replace")
                self._handle(self.core.receive_text(text))
                if self.core.has_data_to_send:
                    await self._flush()
        except ConnectionClosed as exc:
            cause = exc
        except BaseException as exc:
            cause = exc
            raise
        finally:
            self._handle(self.core.receive_eof(cause))
            self._fail_waiters()

    def start(self) -> asyncio.Task:
        """Run the reader in a task (for clients that go on calling)."""
        task = asyncio.get_running_loop().create_task(self.run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    # Internals

    def _handle(self, events: list[ev.Event]) -> None:
        for event in events:
            error: Exception | None = None
            if isinstance(event, ev.CallReceived):
                self._dispatch(event)
            elif isinstance(event, ev.ResultReceived):
                self._resolve(event.message_id, event.payload, None)
            elif isinstance(event, ev.ErrorReceived):
                error = CallErrorReply(
                    action=event.action, message_id=event.message_id, code=event.code,
                    description=event.description, details=event.details,
                )
                self._resolve(event.message_id, None, error)
            elif isinstance(event, ev.CallTimedOut):
                error = CallTimeout(
                    f"{event.action}: no reply in time", action=event.action,
                    message_id=event.message_id,
                )
                self._resolve(event.message_id, None, error)
            elif isinstance(event, ev.ReplyRejected):
                error = InvalidReply(
                    action=event.action, message_id=event.message_id, error=event.error
                )
                self._resolve(event.message_id, None, error)
            elif isinstance(event, ev.CallLost):
                error = ConnectionLost(
                    "connection closed", action=event.action, message_id=event.message_id
                )
                error.__cause__ = event.cause
                self._resolve(event.message_id, None, error)
            else:
                log.debug("%s", event)
            if self.on_event is not None:
                self.on_event(event)

    def _resolve(self, message_id: str, result: Any, error: Exception | None) -> None:
        future = self._waiters.pop(message_id, None)
        if future is None or future.done():
            return
        if error is None:
            future.set_result(result)
        else:
            future.set_exception(error)

    def _dispatch(self, event: ev.CallReceived) -> None:
        handler = self.handlers.get(event.action)
        if handler is None:
            self.core.reject(event.message_id, Fault.UNSUPPORTED_ACTION, event.action)
            return
        try:
            reply = handler(event.payload)
        except Exception as exc:  # a handler bug must not kill the connection
            self._answer_failure(event, exc)
            return
        if isinstance(reply, Awaitable):
            task = asyncio.get_running_loop().create_task(self._finish(event, reply))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        else:
            self._answer(event, reply)

    async def _finish(self, event: ev.CallReceived, pending: Awaitable) -> None:
        try:
            reply = await pending
        except Exception as exc:
            self._answer_failure(event, exc)
        else:
            self._answer(event, reply)
        with contextlib.suppress(ConnectionClosed):
            await self._flush()

    def _answer(self, event: ev.CallReceived, reply: Any) -> None:
        if self.core.state is State.CLOSED:
            return  # the connection ended while the handler ran: nobody to answer
        try:
            self.core.send_result(event.message_id, to_payload(reply))
        except (LocalProtocolError, TypeError) as exc:
            self._answer_failure(event, exc)

    def _answer_failure(self, event: ev.CallReceived, exc: Exception) -> None:
        if self.core.state is State.CLOSED:
            log.debug("%s after the connection ended: %s", event.action, exc)
            return
        if isinstance(exc, NoReply):
            self.core.ignore(event.message_id)
            return
        if isinstance(exc, OcppCallError):
            self.core.send_error(event.message_id, exc.code, exc.description, exc.details)
            return
        if isinstance(exc, OverflowError):
            # a schema-valid number our storage cannot hold (SQLite: signed 64 bits) is the
            # peer's value, not our bug: PropertyConstraintViolation (OCPP-J 1.6 §4.2.3)
            log.warning("%s: a value is out of range (%s)", event.action, exc)
            self.core.reject(event.message_id, Fault.BEYOND_INT64)
            return
        log.exception("handler for %s failed", event.action, exc_info=exc)
        # OCPP-J 1.6 §4.2.3 InternalError; the exception's text stays in our log: a reply never
        # tells the peer about our internals
        self.core.reject(event.message_id, Fault.HANDLER_FAILED)

    async def _flush(self) -> None:
        for frame in self.core.data_to_send():
            await self.ws.send(frame)

    def _fail_waiters(self) -> None:
        waiters, self._waiters = self._waiters, {}
        for message_id, future in waiters.items():
            if not future.done():
                future.set_exception(
                    ConnectionLost("connection closed", action="?", message_id=message_id)
                )


# Transport helpers: OCPP-J 1.6 §3 connection rules on top of websockets.


def subprotocol_selector(
    versions: Iterable[OcppVersion],
) -> Callable[[ServerConnection, Sequence[str]], str | None]:
    """The websockets `select_subprotocol` of a server speaking `versions`: the first subprotocol
    the client offers that the server speaks, since the client lists them in its order of
    preference (OCPP-J 2.0.1 §3.1.3: "ocpp2.0.1, ocpp1.6" prefers 2.0.1). None when there is no
    common one: the handshake completes without the header and the handler closes the connection
    at once (OCPP-J 1.6 §3.2, 2.0.1 §3.2)."""
    spoken = frozenset(version.subprotocol for version in versions)

    def select(connection: ServerConnection, offered: Sequence[str]) -> str | None:
        return next((name for name in offered if name in spoken), None)

    return select


#: the selector of a server that speaks only `DEFAULT_VERSION` (the 1.6 conformance listener,
#: whose cases are 1.6: a station offering "ocpp2.0.1, ocpp1.6" must still get 1.6 there)
select_ocpp_subprotocol = subprotocol_selector([DEFAULT_VERSION])


async def serve(handler: Callable[[ServerConnection], Awaitable[None]], host: str, port: int,
                *, versions: Iterable[OcppVersion] | None = None, **options: Any) -> Server:
    """A websockets server with OCPP-J defaults: subprotocol negotiation, no compression.
    `versions`: the OCPP versions the server speaks (default: all of `VERSIONS`)."""
    spoken = list(VERSIONS.values()) if versions is None else list(versions)
    options.setdefault("compression", None)
    options.setdefault("select_subprotocol", subprotocol_selector(spoken))
    options.setdefault("subprotocols", [version.subprotocol for version in spoken])
    options.setdefault("max_size", 1 << 20)
    return await ws_serve(handler, host, port, **options)


async def connect(url: str, *, subprotocols: list[str] | None = None, **options: Any
                  ) -> ClientConnection:
    """Open an OCPP-J client connection; raises `ConnectionError` when the server does not
    agree to an OCPP subprotocol (OCPP-J 1.6 §3.2)."""
    options.setdefault("compression", None)
    options.setdefault("proxy", None)
    options.setdefault("open_timeout", 10)
    offered = [Subprotocol(name) for name in subprotocols or [DEFAULT_VERSION.subprotocol]]
    ws = await ws_connect(url, subprotocols=offered, **options)
    if ws.subprotocol is None:
        await ws.close(1002, "no OCPP subprotocol agreed")
        raise ConnectionError(f"{url}: server agreed to no OCPP subprotocol")
    return ws
