"""gevent I/O layer on the session core: one websocket-client connection per charge point.

The second I/O layer next to `chargebench.ocppj.adapter` (asyncio), for Locust, which is gevent:
a reader greenlet feeds every received frame to `OcppSession.receive_text()`, answers
CSMS-initiated CALLs from a handler table and wakes the greenlet blocked in `call()`. Framing,
validation, message ids and timeouts stay in the core; this module only moves text.

Needs gevent's monkey patching (importing `locust` does it) so that socket reads yield.

    client = OcppClient("ws://127.0.0.1:9000/ocpp/CP1", request_event=env.events.request)
    client.connect()
    client.call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import gevent
import gevent.event
import gevent.lock
import gevent.monkey
import websocket

from chargebench.ocppj import events as ev
from chargebench.ocppj.core import OcppSession, State, Tracer
from chargebench.ocppj.errors import (
    CallErrorReply,
    CallFailed,
    CallTimeout,
    ConnectionLost,
    InvalidReply,
    LocalProtocolError,
    OcppCallError,
)
from chargebench.ocppj.faults import Fault
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion, Role
from loadtest.handlers import Handler, handler_table

log = logging.getLogger(__name__)

#: Locust's request_type for OCPP CALLs, and for the websocket handshake.
REQUEST_TYPE = "OCPP"
CONNECT_TYPE = "WS"

_CLOSED = (websocket.WebSocketException, OSError)


class _Outcome(NamedTuple):
    payload: dict | None
    error: CallFailed | None
    latency: float | None  # seconds, from the core's clock; None: measure it here
    length: int  # characters of the reply frame


class OcppClient:
    """A charge point's OCPP-J connection for one greenlet: `connect()`, `call()`, `close()`.

    Every `call()` fires `request_event` (Locust's `environment.events.request`) once, with the
    round-trip time and, on CALLERROR, timeout, invalid reply or lost connection, the exception.
    """

    def __init__(
        self,
        url: str,
        *,
        request_event: Any = None,
        handlers: Mapping[str, Handler] | None = None,
        # Session core
        validate: bool = True,
        call_timeout: float = 30.0,
        tracer: Tracer | None = None,
        # Connection
        connect_timeout: float = 10.0,
        on_event: Callable[[ev.Event], None] | None = None,
        version: OcppVersion = DEFAULT_VERSION,
    ) -> None:
        """`handlers` answers CSMS-initiated CALLs (default: `loadtest.handlers.handler_table()`);
        `on_event` sees late/unknown replies and protocol violations, which are logged otherwise."""
        self.url = url
        self.request_event = request_event
        self.handlers = handler_table() if handlers is None else handlers
        self.validate = validate
        self.call_timeout = call_timeout
        self.tracer = tracer
        self.connect_timeout = connect_timeout
        self.on_event = on_event
        self.version = version
        self.core: OcppSession | None = None
        self._ws: websocket.WebSocket | None = None
        self._reader: gevent.Greenlet | None = None
        self._call_lock = gevent.lock.Semaphore()
        self._waiting: str | None = None
        self._done = gevent.event.Event()
        self._outcome: _Outcome | None = None

    @property
    def connected(self) -> bool:
        return self._ws is not None

    # Connection

    def connect(self) -> None:
        """Open the websocket (subprotocol ocpp1.6, no compression) and start the reader.

        Raises `ConnectionError` when the handshake fails or the server agrees to no OCPP
        subprotocol (OCPP-J 1.6 §3.2); either way one "WS connect" request is recorded.
        """
        if not gevent.monkey.is_module_patched("socket"):
            raise RuntimeError("OcppClient needs gevent monkey patching (import locust first)")
        if self._ws is not None:
            raise LocalProtocolError("already connected")
        started = time.perf_counter()
        error: Exception | None = None
        try:
            ws = websocket.create_connection(
                self.url,
                subprotocols=[self.version.subprotocol],
                timeout=self.connect_timeout,
                enable_multithread=True,  # its send lock also covers the reader's pongs
                skip_utf8_validation=True,
            )
        except (*_CLOSED, ValueError) as exc:
            error = ConnectionError(f"{self.url}: {exc}")
        else:
            if ws.subprotocol != self.version.subprotocol:
                ws.close()
                error = ConnectionError(f"{self.url}: server agreed to no OCPP subprotocol")
        self._fire(CONNECT_TYPE, "connect", (time.perf_counter() - started) * 1000, 0, error)
        if error is not None:
            raise error
        ws.settimeout(None)
        self.core = OcppSession(
            Role.CHARGE_POINT,
            version=self.version,  # the one the handshake agreed to (checked above)
            accept=self.handlers.keys(),
            validate_incoming=self.validate,
            validate_outgoing=self.validate,
            call_timeout=self.call_timeout,
            tracer=self.tracer,
        )
        self._ws = ws
        self._reader = gevent.spawn(self._read_loop, ws, self.core)

    def close(self, timeout: float = 2.0) -> None:
        """Start the closing handshake and wait up to `timeout` for the reader to see it end."""
        ws, reader = self._ws, self._reader
        if ws is None:
            return
        with contextlib.suppress(_CLOSED):
            ws.send_close()
        if reader is not None and not reader.join(timeout):
            reader.kill(block=False)
        self._teardown(ws)

    # Our CALLs

    def call(self, action: str, payload: dict | None = None, *, timeout: float | None = None,
             name: str | None = None) -> dict:
        """Send a CALL, block this greenlet until its reply, return the CALLRESULT payload.
        `name`: the row of Locust's statistics (default the action; 2.0.1 users name each
        TransactionEvent eventType apart).

        Raises `CallErrorReply`, `CallTimeout`, `InvalidReply` or `ConnectionLost` (all
        `CallFailed`) after recording the failure; `LocalProtocolError` for our own bad payload.
        """
        with self._call_lock:  # OCPP-J 1.6 §4.1.1: one outstanding CALL per direction
            started = time.perf_counter()
            outcome = self._call(action, {} if payload is None else payload, timeout)
        latency = outcome.latency
        elapsed = time.perf_counter() - started if latency is None else latency
        self._fire(REQUEST_TYPE, name or action, elapsed * 1000, outcome.length,
                   outcome.error)
        if outcome.error is not None:
            raise outcome.error
        return outcome.payload  # type: ignore[return-value]

    def _call(self, action: str, payload: dict, timeout: float | None) -> _Outcome:
        core, ws = self.core, self._ws
        if core is None or ws is None or core.state is State.CLOSED:
            return _Outcome(None, ConnectionLost("not connected", action=action, message_id=""),
                            None, 0)
        message_id = core.send_call(action, payload, timeout=timeout)
        self._waiting = message_id
        self._outcome = None
        self._done.clear()
        try:
            self._flush(ws, core)
        except _CLOSED:
            self._teardown(ws)
        while self._outcome is None and self._ws is ws:
            deadline = core.next_deadline()
            if deadline is None:  # resolved meanwhile, or the connection dropped the CALL
                break
            if not self._done.wait(max(0.0, deadline - time.monotonic()) + 0.001):
                self._handle(core.expire_calls(), 0)
        outcome = self._outcome
        self._waiting = None
        if outcome is None:
            lost = ConnectionLost("connection closed", action=action, message_id=message_id)
            return _Outcome(None, lost, None, 0)
        return outcome

    # Reading

    def _read_loop(self, ws: websocket.WebSocket, core: OcppSession) -> None:
        cause: BaseException | None = None
        try:
            while True:
                text = ws.recv()
                if not text:  # close frame (answered by websocket-client) or EOF
                    break
                if type(text) is bytes:
                    text = text.decode("utf-8", "replace")
                self._handle(core.receive_text(text), len(text))
                self._flush(ws, core)
        except _CLOSED as exc:
            cause = exc
        finally:
            # the core hears the end of the stream: our waiting CALL fails with CallLost
            self._handle(core.receive_eof(cause), 0)
            self._teardown(ws)

    def _handle(self, events: list[ev.Event], length: int) -> None:
        for event in events:
            kind = type(event)
            if kind is ev.ResultReceived:
                self._resolve(event.message_id, _Outcome(event.payload, None, event.latency,
                                                         length))
            elif kind is ev.CallReceived:
                self._dispatch(event)
            elif kind is ev.ErrorReceived:
                error = CallErrorReply(
                    action=event.action, message_id=event.message_id, code=event.code,
                    description=event.description, details=event.details,
                )
                self._resolve(event.message_id, _Outcome(None, error, event.latency, length))
            elif kind is ev.ReplyRejected:
                error = InvalidReply(
                    action=event.action, message_id=event.message_id, error=event.error
                )
                self._resolve(event.message_id, _Outcome(None, error, None, length))
            elif kind is ev.CallTimedOut:
                error = CallTimeout(f"{event.action}: no reply in time", action=event.action,
                                    message_id=event.message_id)
                self._resolve(event.message_id, _Outcome(None, error, None, 0))
            elif kind is ev.CallLost:
                lost = ConnectionLost("connection closed", action=event.action,
                                      message_id=event.message_id)
                lost.__cause__ = event.cause
                self._resolve(event.message_id, _Outcome(None, lost, None, 0))
            else:
                log.debug("%s: %s", self.url, event)
            if self.on_event is not None:
                self.on_event(event)

    def _resolve(self, message_id: str, outcome: _Outcome) -> None:
        if message_id == self._waiting and self._outcome is None:
            self._outcome = outcome
            self._done.set()

    def _dispatch(self, event: ev.CallReceived) -> None:
        core = self.core
        assert core is not None
        if core.state is State.CLOSED:
            return
        try:
            reply = self.handlers[event.action](event.payload)
            core.send_result(event.message_id, reply)
        except OcppCallError as exc:
            core.send_error(event.message_id, exc.code, exc.description, exc.details)
        except Exception as exc:  # a handler bug must not kill the connection
            log.exception("%s: handler for %s failed", self.url, event.action)
            core.reject(event.message_id, Fault.HANDLER_FAILED, f"{type(exc).__name__}: {exc}")

    # Writing and teardown

    @staticmethod
    def _flush(ws: websocket.WebSocket, core: OcppSession) -> None:
        for frame in core.data_to_send():
            ws.send(frame)

    def _teardown(self, ws: websocket.WebSocket) -> None:
        """Forget the connection (once) and wake a caller still waiting for its reply."""
        if self._ws is not ws:
            return
        self._ws = None
        with contextlib.suppress(_CLOSED):
            ws.shutdown()
        self._done.set()

    def _fire(self, request_type: str, name: str, response_time: float, length: int,
              exception: Exception | None) -> None:
        if self.request_event is not None:
            self.request_event.fire(
                request_type=request_type, name=name, response_time=response_time,
                response_length=length, exception=exception, context={},
            )
