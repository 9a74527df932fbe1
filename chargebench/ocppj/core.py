"""The sans-I/O OCPP-J session core: text frames in, events and frames to send out.

No sockets and no asyncio here (compare websockets' `protocol.py` and h11). Feed every received
text frame to `receive_text()`, act on the events it returns, and write whatever
`data_to_send()` returns. Call `expire_calls()` when `next_deadline()` has passed, and
`receive_eof()` when the connection is gone: the outstanding CALL fails with a `CallLost` event
that carries the exception the I/O layer saw. `state` says which of these are still allowed
(h11's `_state.py`, websockets' `protocol.State`): every entry point checks it.
"""

from __future__ import annotations

import enum
import json
import re
import secrets
import time
from collections.abc import Callable, Collection
from typing import Any, NamedTuple

from chargebench.ocppj import events as ev
from chargebench.ocppj.errors import LocalProtocolError, RemoteProtocolError
from chargebench.ocppj.faults import UNREADABLE_ID, Fault
from chargebench.ocppj.frames import (
    CALL,
    CALLERROR,
    CALLRESULT,
    Direction,
    MessageType,
    encode_call,
    encode_error,
    encode_result,
)
from chargebench.ocppj.validation import check_payload
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion, Role
from chargebench.ocppj.wellformed import MAX_DEPTH, check_frame, has_lone_surrogate, suspect

#: tracer(dir, type, message_id, action, payload, latency_seconds)
Tracer = Callable[[Direction, MessageType, str | None, str | None, Any, float | None], None]

_FRAME_LENGTH = {CALL: 4, CALLRESULT: 3, CALLERROR: 5}
#: How many of the peer's recent message ids are remembered to detect duplicates.
_SEEN_IDS = 32
#: How many timed-out CALLs are remembered so that a late reply is recognised as late.
_EXPIRED_IDS = 32


def _no_constant(name: str) -> Any:
    # RFC 8259 §6: NaN and Infinity are not JSON, though Python's parser takes them by default
    raise ValueError(f"{name} is not JSON")


_decode = json.JSONDecoder(parse_constant=_no_constant).decode
#: the head of a frame, `[2,"id",` (an id of 1-36 plain characters), read without parsing
_HEAD = re.compile(r'\A\s*\[\s*([234])\s*,\s*"([^"\\\x00-\x1f]{1,36})"\s*,')


class State(enum.Enum):
    """Where a session is: OPEN carries frames both ways; CLOSED (after `receive_eof()`) takes
    nothing more and sends nothing more."""

    OPEN = "open"
    CLOSED = "closed"


class _Pending(NamedTuple):
    action: str
    sent_at: float
    deadline: float


class OcppSession:
    """One OCPP-J connection's protocol state, for either role."""

    __slots__ = (
        "_accept", "_clock", "_expired", "_id_prefix", "_next_id", "_outbox", "_peer_pending",
        "_pending", "_seen", "_state", "_trace_in", "_trace_out", "_tracer", "call_timeout", "role",
        "supported_profiles", "validate_incoming", "validate_outgoing", "version",
    )

    def __init__(
        self,
        role: Role,
        *,
        version: OcppVersion = DEFAULT_VERSION,
        # What we accept from the peer
        supported_profiles: Collection[str] | None = None,
        accept: Collection[str] | None = None,
        # Validation
        validate_incoming: bool = True,
        validate_outgoing: bool = True,
        # Timeouts
        call_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        tracer: Tracer | None = None,
    ) -> None:
        """`supported_profiles`: feature profiles we implement (None: all); `accept`: actions
        we have handlers for (None: every action the peer may initiate)."""
        self.role = role
        self.version = version
        self.supported_profiles = None if supported_profiles is None else set(supported_profiles)
        self._accept = None if accept is None else frozenset(accept)
        self.validate_incoming = validate_incoming
        self.validate_outgoing = validate_outgoing
        self.call_timeout = call_timeout
        self._clock = clock
        self._tracer = tracer
        self._trace_out = (Direction.CP_TO_CS if role is Role.CHARGE_POINT
                           else Direction.CS_TO_CP)
        self._trace_in = self._trace_out.reverse
        self._id_prefix = secrets.token_hex(4) + "-"
        self._next_id = 0
        self._outbox: list[str] = []
        self._pending: dict[str, _Pending] = {}
        self._expired: dict[str, str] = {}
        self._peer_pending: dict[str, tuple[str, float]] = {}
        self._seen: dict[str, None] = {}
        self._state = State.OPEN

    # State

    @property
    def state(self) -> State:
        return self._state

    def now(self) -> float:
        """The core's clock (deadlines from `next_deadline()` are on it)."""
        return self._clock()

    def receive_eof(self, cause: BaseException | None = None) -> list[ev.Event]:
        """The connection is gone (closed, reset, or never to be read again): every CALL of ours
        still waiting fails with a `CallLost` carrying `cause`, the peer's unanswered CALLs are
        dropped (there is nobody to answer), and the session is CLOSED. Idempotent."""
        if self._state is State.CLOSED:
            return []
        self._state = State.CLOSED
        lost: list[ev.Event] = [
            ev.CallLost(message_id, pending.action, cause)
            for message_id, pending in self._pending.items()
        ]
        self._pending.clear()
        self._peer_pending.clear()
        self._outbox.clear()
        return lost

    def _require_open(self, what: str) -> None:
        if self._state is not State.OPEN:
            raise LocalProtocolError(f"{what} on a {self._state.value} session")

    # Output

    def data_to_send(self) -> list[str]:
        """Frames to write to the websocket, in order; the core forgets them."""
        out, self._outbox = self._outbox, []
        return out

    @property
    def has_data_to_send(self) -> bool:
        """Whether `data_to_send()` would return frames (so an I/O layer may skip a flush)."""
        return bool(self._outbox)

    @property
    def outstanding(self) -> str | None:
        """The message id of our CALL still waiting for its reply, if any."""
        return next(iter(self._pending), None)

    def next_deadline(self) -> float | None:
        """Clock time at which `expire_calls()` has something to do."""
        return min((p.deadline for p in self._pending.values()), default=None)

    # Sending

    def send_call(
        self,
        action: str,
        payload: dict,
        *,
        timeout: float | None = None,
        message_id: str | None = None,
        concurrent: bool = False,
    ) -> str:
        """Queue a CALL and return its message id. Only one may be outstanding
        (OCPP-J 1.6 §4.1.1) unless `concurrent` says the caller breaks that on purpose."""
        self._require_open("send_call")
        version = self.version
        if action not in version.initiated_by(self.role):
            who = self.role.name
            raise LocalProtocolError(f"{who} may not send {action} in OCPP {version.name}")
        if self._pending and not concurrent:
            raise LocalProtocolError(f"{action}: a CALL is still outstanding ({self.outstanding})")
        if self.validate_outgoing:
            self._check_own(action, payload, response=False)
        if message_id is None:
            self._next_id += 1
            message_id = f"{self._id_prefix}{self._next_id}"
        elif message_id in self._pending:
            raise LocalProtocolError(f"message id {message_id!r} is already outstanding")
        now = self._clock()
        wait = self.call_timeout if timeout is None else timeout
        self._pending[message_id] = _Pending(action, now, now + wait)
        self._outbox.append(encode_call(message_id, action, payload))
        if self._tracer:
            self._tracer(self._trace_out, MessageType.CALL, message_id, action, payload, None)
        return message_id

    def send_result(self, message_id: str, payload: dict) -> None:
        """Answer the peer's CALL `message_id` (validated against its response schema)."""
        self._require_open("send_result")
        action, received_at = self._take_peer_call(message_id)
        if self.validate_outgoing:
            try:
                self._check_own(action, payload, response=True)
            except LocalProtocolError:
                self._peer_pending[message_id] = (action, received_at)
                raise
        self._outbox.append(encode_result(message_id, payload))
        if self._tracer:
            latency = self._clock() - received_at
            self._tracer(
                self._trace_out, MessageType.CALLRESULT, message_id, action, payload, latency
            )

    def send_error(
        self, message_id: str, code: str, description: str = "", details: dict | None = None
    ) -> None:
        """Answer the peer's CALL `message_id` with a CALLERROR (OCPP-J 1.6 §4.2.3)."""
        self._require_open("send_error")
        if code not in self.version.error_codes:
            raise LocalProtocolError(f"{code!r} is not an OCPP {self.version.name} error code")
        action, received_at = self._take_peer_call(message_id)
        self._queue_error(message_id, action, code, description, details, received_at)

    def ignore(self, message_id: str) -> None:
        """Leave the peer's CALL `message_id` unanswered on purpose (1.6 §4.2, Rejected): the
        core forgets it, so the peer's next CALL is not taken for a concurrent one."""
        if self._state is State.CLOSED:
            return  # nothing is answered on a closed session anyway
        self._take_peer_call(message_id)

    def forget_call(self, message_id: str) -> None:
        """Stop waiting for our CALL `message_id` (the caller gave up, or the connection closed):
        the next CALL may go out, and a reply that still comes is reported as a LateReply."""
        pending = self._pending.pop(message_id, None)
        if pending is not None:
            self._remember(self._expired, message_id, pending.action, _EXPIRED_IDS)

    def reject(self, message_id: str, fault: Fault, description: str = "") -> None:
        """Answer the peer's CALL with the CALLERROR the fault table gives `fault`."""
        self.send_error(message_id, self.version.code_for(fault), description or fault.value)

    def send_raw(self, text: str) -> None:
        """Queue a frame exactly as given, unchecked: for deliberately broken frames."""
        self._require_open("send_raw")
        self._outbox.append(text)
        if self._tracer:
            self._tracer(self._trace_out, MessageType.RAW, None, None, text, None)

    # Receiving

    def receive_text(self, text: str) -> list[ev.Event]:
        """Process one received text frame; answers malformed CALLs itself."""
        self._require_open("receive_text")
        try:
            frame = _decode(text)
        except RecursionError:
            # valid JSON, nested deeper than the parser goes: the head still names the message
            return self._too_deep(text)
        except ValueError:
            return self._violation(Fault.INVALID_JSON, UNREADABLE_ID, text, "not valid JSON")
        if suspect(text):
            problem = check_frame(frame)
            if problem is not None:
                events = self._unholdable(frame, text, *problem)
                if events is not None:
                    return events
        if type(frame) is not list:
            return self._violation(Fault.NOT_AN_ARRAY, UNREADABLE_ID, text, "not a JSON array")
        if not frame or type(frame[0]) is not int or frame[0] not in _FRAME_LENGTH:
            head = frame[0] if frame else None
            return self._violation(
                Fault.UNKNOWN_MESSAGE_TYPE, UNREADABLE_ID, text, f"MessageTypeId {head!r}"
            )
        kind = frame[0]
        message_id = frame[1] if len(frame) > 1 else None
        if type(message_id) is not str:
            return self._violation(
                Fault.BAD_MESSAGE_ID, UNREADABLE_ID, text, f"message id {message_id!r}"
            )
        # OCPP-J 1.6 §4.1.4: at most 36 characters. The reply echoes the id so it can be matched.
        if len(message_id) > self.version.max_message_id_length:
            return self._violation(
                Fault.MESSAGE_ID_TOO_LONG, message_id, text, f"{len(message_id)} characters",
                reply=kind == CALL,
            )
        if len(frame) != _FRAME_LENGTH[kind]:
            name, length = MessageType.of_id(kind), _FRAME_LENGTH[kind]
            detail = f"{name} has {len(frame)} elements, not {length}"
            if kind == CALL:
                return self._violation(Fault.WRONG_LENGTH, message_id, text, detail)
            return self._bad_reply(message_id, Fault.WRONG_LENGTH, text, detail)
        if kind == CALL:
            return self._receive_call(message_id, frame[2], frame[3], text)
        if kind == CALLRESULT:
            return self._receive_result(message_id, frame[2], text)
        return self._receive_error(message_id, frame, text)

    def expire_calls(self) -> list[ev.Event]:
        """Time out every outstanding CALL past its deadline."""
        now = self._clock()
        events: list[ev.Event] = []
        for message_id, pending in list(self._pending.items()):
            if pending.deadline <= now:
                del self._pending[message_id]
                self._remember(self._expired, message_id, pending.action, _EXPIRED_IDS)
                events.append(ev.CallTimedOut(message_id, pending.action))
        return events

    # Internals

    def _receive_call(self, message_id: str, action: Any, payload: Any, text: str) -> list:
        if type(action) is not str:
            return self._violation(Fault.BAD_ACTION, message_id, text, f"action {action!r}")
        if payload is None:  # OCPP-J 1.6 §4.2.1: null and {} both mean "no payload"
            payload = {}
        elif type(payload) is not dict:
            kind = type(payload).__name__
            return self._violation(Fault.PAYLOAD_NOT_OBJECT, message_id, text, kind)
        if message_id in self._seen or message_id in self._peer_pending:
            # OCPP-J 1.6 §4.1.4: ids are unique per sender on a connection
            return self._violation(Fault.DUPLICATE_MESSAGE_ID, message_id, text, message_id)
        self._remember(self._seen, message_id, None, _SEEN_IDS)
        version = self.version
        if action not in version.actions:
            return self._violation(Fault.UNKNOWN_ACTION, message_id, text, action)
        if not self._accepts(action):
            return self._violation(Fault.UNSUPPORTED_ACTION, message_id, text, action)
        if self.validate_incoming:
            try:
                check_payload(version, action, payload, response=False)
            except RemoteProtocolError as error:
                if self._tracer:
                    self._tracer(
                        self._trace_in, MessageType.CALL, message_id, action, payload, None
                    )
                self._queue_error(message_id, action, error.code, str(error), None, self._clock())
                return [ev.ProtocolViolation(error, message_id, text, True)]
        events: list[ev.Event] = []
        if self._peer_pending:
            # OCPP-J 1.6 §4.1.1: the peer SHOULD NOT send a CALL before its previous one is answered
            events.append(self._concurrent_call(message_id, text))
        self._peer_pending[message_id] = (action, self._clock())
        if self._tracer:
            self._tracer(self._trace_in, MessageType.CALL, message_id, action, payload, None)
        events.append(ev.CallReceived(message_id, action, payload))
        return events

    def _receive_result(self, message_id: str, payload: Any, text: str) -> list:
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return self._unmatched_reply(message_id, MessageType.CALLRESULT, payload, text)
        latency = self._clock() - pending.sent_at
        if self._tracer:
            self._tracer(
                self._trace_in, MessageType.CALLRESULT, message_id, pending.action, payload, latency
            )
        if payload is None:
            payload = {}
        try:
            if type(payload) is not dict:
                raise self._error(Fault.PAYLOAD_NOT_OBJECT, type(payload).__name__)
            if self.validate_incoming:
                check_payload(self.version, pending.action, payload, response=True)
        except RemoteProtocolError as error:
            return [ev.ReplyRejected(message_id, pending.action, error)]
        return [ev.ResultReceived(message_id, pending.action, payload, latency)]

    def _receive_error(self, message_id: str, frame: list, text: str) -> list:
        _, _, code, description, details = frame
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return self._unmatched_reply(message_id, MessageType.CALLERROR, frame[2:], text)
        latency = self._clock() - pending.sent_at
        if self._tracer:
            body = frame[2:]
            self._tracer(
                self._trace_in, MessageType.CALLERROR, message_id, pending.action, body, latency
            )
        if type(code) is not str or type(description) is not str or type(details) is not dict:
            error = self._error(Fault.WRONG_TYPE, "CALLERROR fields: string, string, object")
            return [ev.ReplyRejected(message_id, pending.action, error)]
        events: list[ev.Event] = [
            ev.ErrorReceived(message_id, pending.action, code, description, details, latency)
        ]
        if code not in self.version.error_codes:
            error = self._error(Fault.SCHEMA_OTHER, f"unknown error code {code!r}")
            events.append(ev.ProtocolViolation(error, message_id, text, False))
        return events

    def _too_deep(self, text: str) -> list:
        """A frame too deep to parse: answered with its id when the head shows one
        (OCPP-J 1.6 §4.2.3), as any frame nested too deep (`wellformed.MAX_DEPTH`)."""
        head = _HEAD.match(text)
        detail = f"nested deeper than {MAX_DEPTH}"
        if head is None:
            return self._violation(Fault.TOO_DEEP, UNREADABLE_ID, text, detail)
        kind, message_id = int(head[1]), head[2]
        if kind == CALL:
            return self._violation(Fault.TOO_DEEP, message_id, text, detail)
        return self._bad_reply(message_id, Fault.TOO_DEEP, text, detail)

    def _unholdable(self, frame: Any, text: str, fault: Fault, detail: str) -> list | None:
        """A frame that parsed but holds what we cannot carry on (`wellformed`): answered like
        any malformed frame, with its own id when that id is readable (OCPP-J 1.6 §4.2.3)."""
        message_id, kind = UNREADABLE_ID, None
        if (
            type(frame) is list and len(frame) > 1 and type(frame[0]) is int
            and frame[0] in _FRAME_LENGTH and type(frame[1]) is str
            and len(frame[1]) <= self.version.max_message_id_length
            and not has_lone_surrogate(frame[1])
        ):
            message_id, kind = frame[1], frame[0]
        if kind in (CALLRESULT, CALLERROR):
            return self._bad_reply(message_id, fault, text, detail)
        if kind is None and fault is Fault.BEYOND_INT64:
            return None  # the frame's structure is the first fault (e.g. MessageTypeId 2**70)
        return self._violation(fault, message_id, text, detail)

    def _unmatched_reply(self, message_id: str, kind: MessageType, body: Any, text: str) -> list:
        if self._tracer:
            self._tracer(self._trace_in, kind, message_id, None, body, None)
        action = self._expired.pop(message_id, None)
        if action is not None:
            return [ev.LateReply(message_id, action, text)]
        return [ev.UnknownReply(message_id, text)]

    def _bad_reply(self, message_id: str, fault: Fault, text: str, detail: str) -> list:
        """A malformed CALLRESULT/CALLERROR: nothing to answer, but the waiting CALL fails."""
        if self._tracer:
            self._tracer(self._trace_in, MessageType.RAW, message_id, None, text, None)
        error = self._error(fault, detail)
        pending = self._pending.pop(message_id, None)
        if pending is None:
            return [ev.ProtocolViolation(error, message_id, text, False)]
        return [ev.ReplyRejected(message_id, pending.action, error)]

    def _violation(
        self, fault: Fault, message_id: str, text: str, detail: str, *, reply: bool = True
    ) -> list:
        error = self._error(fault, detail)
        if self._tracer:
            self._tracer(self._trace_in, MessageType.RAW, message_id, None, text, None)
        if reply:
            self._queue_error(message_id, None, error.code, str(error), None, self._clock())
        return [ev.ProtocolViolation(error, message_id, text, reply)]

    def _concurrent_call(self, message_id: str, text: str) -> ev.ProtocolViolation:
        error = self._error(
            Fault.CONCURRENT_CALL, f"{message_id} while {next(iter(self._peer_pending))} is open"
        )
        return ev.ProtocolViolation(error, message_id, text, False)

    def _queue_error(
        self, message_id: str, action: str | None, code: str, description: str,
        details: dict | None, since: float,
    ) -> None:
        limit = self.version.max_error_description
        if limit is not None and len(description) > limit:
            description = description[: limit - 3] + "..."  # OCPP-J 2.0.1 §4.2.3 string[255]
        self._outbox.append(encode_error(message_id, code, description, details))
        if self._tracer:
            body = [code, description, details or {}]
            latency = self._clock() - since
            self._tracer(self._trace_out, MessageType.CALLERROR, message_id, action, body, latency)

    def _error(self, fault: Fault, detail: str) -> RemoteProtocolError:
        return RemoteProtocolError(f"{fault.value}: {detail}", fault, self.version.code_for(fault))

    def _take_peer_call(self, message_id: str) -> tuple[str, float]:
        try:
            return self._peer_pending.pop(message_id)
        except KeyError:
            raise LocalProtocolError(f"no unanswered CALL with id {message_id!r}") from None

    def _accepts(self, action: str) -> bool:
        if action not in self.version.initiated_by(self.role.peer):
            return False
        if self._accept is not None and action not in self._accept:
            return False
        profiles = self.supported_profiles
        return profiles is None or self.version.profiles[action] in profiles

    def _check_own(self, action: str, payload: Any, *, response: bool) -> None:
        try:
            check_payload(self.version, action, payload, response)
        except RemoteProtocolError as error:
            kind = "response" if response else "request"
            raise LocalProtocolError(f"{action} {kind} invalid: {error}", error.fault) from None

    @staticmethod
    def _remember(store: dict, key: str, value: Any, limit: int) -> None:
        store[key] = value
        if len(store) > limit:
            del store[next(iter(store))]
