"""The harness's end of one OCPP-J connection: send (correct or broken) frames, wait for frames.

`HarnessPeer` drives the project's session core through the asyncio `Session`, with the websocket
wrapped so that every text frame in either direction is recorded first, as a `TraceRecord`
(`conformance.wire`).
CALLs from the peer are answered by `handlers` (defaults per role in `conformance.defaults`) and
also land in the backlog, so a case can `wait_for("StatusNotification", {...})`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import Any

from chargebench.inbox import Inbox, wait_until
from chargebench.matching import MessagePattern
from chargebench.ocppj import VERSIONS, OcppSession, Role, Session, version_for
from chargebench.ocppj import events as ev
from chargebench.ocppj.frames import Direction, encode_call
from chargebench.trace import TraceRecord
from conformance import wire
from conformance.expect import REPLY_TYPES, Mismatch, contradicts, expectation, failure

Handler = Callable[[dict], Any]


class _RecordingSocket:
    """A websocket proxy that hands every text frame to `record` before passing it on."""

    def __init__(self, ws: Any, record: Callable[[Direction, str], None], out: Direction,
                 inn: Direction) -> None:
        self.ws, self._record, self._out, self._in = ws, record, out, inn

    async def send(self, text: str) -> None:
        self._record(self._out, text)
        await self.ws.send(text)

    async def close(self, code: int = 1000, reason: str = "") -> None:
        await self.ws.close(code, reason)

    async def __aiter__(self):
        async for message in self.ws:
            text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
            self._record(self._in, text)
            yield text


class HarnessPeer:
    """ChargeBench's side of a connection to the system under test.

    `role` is the role ChargeBench plays. Use `call()`/`request()` for valid CALLs, `send_raw()`
    for broken ones, `wait_for()` for anything the peer sends. `log` keeps every frame.
    """

    def __init__(
        self,
        ws: Any,
        role: Role,
        *,
        handlers: Mapping[str, Handler] | None = None,
        timeout: float = 10.0,
        cp_id: str = "",
    ) -> None:
        self.role = role
        self.timeout = timeout
        #: how long a charge point under test may take to send its BootNotification
        self.boot_timeout = timeout
        self.cp_id = cp_id
        self.log: list[TraceRecord] = []
        self.violations: list[ev.ProtocolViolation] = []
        #: Set once a BootNotification on this connection was Accepted (OCPP 1.6 §4.2).
        self.booted = asyncio.Event()
        #: Set once the harness answered a BootNotification on this connection (any status).
        self.boot_answered = asyncio.Event()
        #: BootNotification CALLs received and not answered yet: while there is one, the
        #: harness playing the CSMS sends no CALL (OCPP-J 1.6 errata §3.10).
        self._boots_in_flight: set[str] = set()
        self._boot_done = asyncio.Event()
        self._boot_done.set()
        #: sees every frame of this connection (the listener's wire-state model)
        self.observer: Callable[[TraceRecord], None] | None = None
        #: How the charge point under test connected (`conformance.endpoints.Admission`), set
        #: by the listener; None on connections ChargeBench opened.
        self.security: Any = None
        self.handlers: dict[str, Handler] = dict(handlers or {})
        #: what the peer sent and no `wait_for` took yet (`chargebench.inbox`)
        self.inbox = Inbox()
        #: CALL ids -> action per direction, to label each reply with the action it answers
        self._actions: dict[tuple[Direction, str], str] = {}
        out = Direction.CP_TO_CS if role is Role.CHARGE_POINT else Direction.CS_TO_CP
        inn = out.reverse
        self.ws = ws
        # the version agreed in the handshake (OCPP-J 1.6 §3.1); a peer under test that agreed
        # to none (or to one we do not speak) is still examined in the default version
        agreed = getattr(ws, "subprotocol", None)
        version = version_for(agreed if agreed in VERSIONS else None)
        core = OcppSession(role, version=version, call_timeout=timeout)
        self.session = Session(
            _RecordingSocket(ws, self._record, out, inn), core, self.handlers,
            on_event=self._on_event,
        )
        self._reader = self.session.start()
        self.incoming_dir = inn

    # Recording

    def _record(self, direction: Direction, text: str) -> None:
        frame = wire.parse(direction, text, cp_id=self.cp_id)
        if frame.type in REPLY_TYPES and frame.id is not None:
            # OCPP-J 1.6 §4.1.4: a reply carries the id of the CALL it answers, sent the other way
            frame.action = self._actions.get((direction.reverse, frame.id))
        elif frame.type == "CALL" and frame.id is not None:
            self._actions[direction, frame.id] = frame.action or ""
        if frame.type == "CALL" and frame.action == "BootNotification" and frame.id:
            if direction == self.incoming_dir:
                self._boots_in_flight.add(frame.id)
                self._boot_done.clear()
        elif (frame.type in REPLY_TYPES and frame.id in self._boots_in_flight
              and direction != self.incoming_dir):  # our answer to the charger's boot
            frame.action = "BootNotification"
            self._boots_in_flight.discard(frame.id)
            self.boot_answered.set()
            if not self._boots_in_flight:
                self._boot_done.set()
        self.log.append(frame)
        if self.observer is not None:
            self.observer(frame)
        if direction == self.incoming_dir:
            self.inbox.add(frame)

    def _on_event(self, event: ev.Event) -> None:
        if isinstance(event, ev.ProtocolViolation):
            self.violations.append(event)

    @property
    def closed(self) -> bool:
        return self._reader.done()

    def adopt(self, older: HarnessPeer) -> None:
        """Take the frames `older` (a previous connection of the same charge point) received
        and nobody examined yet: a message sent just before a reboot still counts."""
        self.inbox.adopt(older.inbox)
        if older.booted.is_set():
            self.booted.set()  # a reconnect is not a reboot (OCPP 1.6 §4.2)

    async def boot_settled(self, timeout: float | None = None) -> None:
        """Return once no BootNotification of the peer awaits our answer: a CSMS may not send
        before it has answered the boot (OCPP-J 1.6 errata §3.10). Our handler answers at
        once, so this waits a moment at most; `timeout` bounds it all the same."""
        if self._boot_done.is_set():
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._boot_done.wait(), timeout or self.timeout)

    def begin_case(self, *, forget: bool = True) -> int:
        """Forget unconsumed frames from before this case (unless `forget` is False: a
        reconnect within a case keeps them); returns the log position."""
        if forget:
            self.inbox.forget()
        self.violations.clear()
        return len(self.log)

    # Sending

    async def call(
        self, action: str, payload: dict | None = None, *, timeout: float | None = None,
        message_id: str | None = None, concurrent: bool = False,
    ) -> TraceRecord:
        """Send a valid CALL and return the reply frame (CALLRESULT or CALLERROR)."""
        message_id = await self.send_call(
            action, payload, message_id=message_id, concurrent=concurrent
        )
        try:
            return await self.wait_for_reply(message_id, timeout=timeout)
        finally:
            self.session.core.expire_calls()

    async def send_call(
        self, action: str, payload: dict | None = None, *, message_id: str | None = None,
        concurrent: bool = False,
    ) -> str:
        """Send a valid CALL without waiting; returns its message id."""
        if self.role is Role.CENTRAL_SYSTEM:
            await self.boot_settled()
        core = self.session.core
        message_id = core.send_call(
            action, payload or {}, message_id=message_id, concurrent=concurrent,
            timeout=self.timeout,
        )
        self._actions[self.incoming_dir.reverse, message_id] = action
        await self._flush()
        return message_id

    async def request(
        self, action: str, payload: dict | None = None, expect: Mapping[str, Any] | None = None,
        *, timeout: float | None = None,
    ) -> dict:
        """Send a CALL, require a CALLRESULT containing `expect`, return its payload."""
        message_id = await self.send_call(action, payload)
        try:
            frame = await self.wait_for(
                "CALLRESULT", expect, message_id=message_id, timeout=timeout
            )
        finally:
            self.session.core.expire_calls()
        return frame.payload or {}

    async def send_raw(self, text: str) -> None:
        """Send a frame exactly as given (deliberately broken frames)."""
        if self.role is Role.CENTRAL_SYSTEM:
            await self.boot_settled()
        self.session.core.send_raw(text)
        await self._flush()

    async def send_raw_call(self, message_id: str, action: str, payload: Any) -> None:
        """A well-formed CALL frame with an unchecked payload."""
        await self.send_raw(encode_call(message_id, action, payload))

    async def _flush(self) -> None:
        for text in self.session.core.data_to_send():
            await self.session.ws.send(text)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(self._reader, 2)

    # Waiting

    async def wait_for(
        self, what: str, subset: Any = None, *,
        timeout: float | None = None, message_id: str | None = None,
        after: int = 0, after_what: str = "",
    ) -> TraceRecord:
        """Wait for a frame from the peer: an action name (its CALL) or "CALLRESULT"/"CALLERROR",
        whose payload contains `subset` (a `chargebench.matching.contains` subset or any `Matcher`,
        e.g. a `conformance.expect.Payload`). With
        `after`, only a frame that arrived after frame number `after` (`TraceRecord.seq`) counts:
        ordered steps (`after_what` names the step it must follow, for the verdict). Raises
        `Mismatch` naming what came instead."""
        expected = expectation(what, subset, message_id)
        early: list[TraceRecord] = []

        def wanted(frame: TraceRecord) -> bool:
            if not expected.match(frame).ok:
                return False
            refused = self._refused(frame)
            if refused is not None:  # matched, but the core refused it: it cannot pass a case
                raise failure(expected, [frame], timeout,
                              f"the matching frame broke OCPP-J and was refused "
                              f"({refused.error.code}: {refused.error})")
            if (frame.seq or 0) <= after:
                early.append(frame)
                return False
            return True

        try:
            return await self._take(wanted, lambda frame: contradicts(expected, frame),
                                    expected, timeout)
        except Mismatch as error:
            if early:
                raise Mismatch(f"{error}\nout of order: the matching frame came before "
                               f"{after_what or 'the step it must follow'}") from None
            raise

    def _refused(self, frame: TraceRecord) -> ev.ProtocolViolation | None:
        """The violation the core found in `frame`, a CALL of the peer's: a schema break (an
        integer field sent as 1.0 under 1.6's draft-04, a missing required field) earns a
        CALLERROR (OCPP-J 1.6 §4.2.3) however well the frame fits what a case expects."""
        if frame.type != "CALL" or frame.id is None:
            return None
        return next((v for v in self.violations if v.message_id == frame.id), None)

    async def wait_for_reply(self, message_id: str, *, timeout: float | None = None) -> TraceRecord:
        """The CALLRESULT or CALLERROR answering `message_id`, whichever it is."""

        def is_reply(frame: TraceRecord) -> bool:
            return frame.type in REPLY_TYPES and frame.id == message_id

        return await self._take(is_reply, None, f"a reply to {message_id}", timeout)

    async def expect_nothing(
        self, predicate: Callable[[TraceRecord], bool], *, during: float, what: str
    ) -> None:
        """Fail if a frame satisfying `predicate` arrives within `during` seconds."""

        def forbidden(frame: TraceRecord) -> bool:
            if predicate(frame):
                raise failure(f"no {what}", [frame], during, "but it came")
            return False

        await self._take(forbidden, None, what, during, quiet=True)

    async def _take(
        self, wanted: Callable[[TraceRecord], bool], hopeless: Callable[[TraceRecord], bool] | None,
        expected: MessagePattern | str, timeout: float | None, *, quiet: bool = False,
    ) -> TraceRecord:  # None only when `quiet`
        """Scan the inbox, then each new frame, until `wanted` takes one; `hopeless` or the
        deadline raise the verdict. `quiet`: reaching the deadline is success (returns None)."""
        timeout = self.timeout if timeout is None else timeout

        def look() -> TraceRecord | None:
            for index, frame in self.inbox.pending():
                if wanted(frame):
                    return self.inbox.take(index)
                if hopeless is not None and hopeless(frame):
                    raise failure(expected, self.inbox.backlog(), timeout)
            return None

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        frame = await wait_until(self.inbox, look, timeout, stop=self._reader)
        if frame is not None or quiet:
            return frame  # type: ignore[return-value]
        note = "the connection closed" if self.closed and loop.time() < deadline else ""
        raise failure(expected, self.inbox.backlog(), timeout, note)
