"""Events the session core returns from `receive_text()` and `expire_calls()`.

The I/O layer acts on them: dispatch a `CallReceived` to a handler, resolve the waiting caller on
`ResultReceived` / `ErrorReceived` / `CallTimedOut` / `ReplyRejected` / `CallLost`, log the rest
as verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chargebench.ocppj.errors import RemoteProtocolError


@dataclass(slots=True, frozen=True)
class CallReceived:
    """A valid CALL the application must answer with `send_result` or `send_error`."""

    message_id: str
    action: str
    payload: dict


@dataclass(slots=True, frozen=True)
class ResultReceived:
    """The CALLRESULT of our outstanding CALL, payload valid."""

    message_id: str
    action: str
    payload: dict
    latency: float


@dataclass(slots=True, frozen=True)
class ErrorReceived:
    """The CALLERROR answering our outstanding CALL."""

    message_id: str
    action: str
    code: str
    description: str
    details: Any
    latency: float


@dataclass(slots=True, frozen=True)
class ReplyRejected:
    """The reply to our CALL is unusable (CALLRESULT payload violates the response schema)."""

    message_id: str
    action: str
    error: RemoteProtocolError


@dataclass(slots=True, frozen=True)
class CallTimedOut:
    """Our CALL got no reply within its timeout (OCPP-J 1.6 §4.1.1)."""

    message_id: str
    action: str


@dataclass(slots=True, frozen=True)
class CallLost:
    """Our CALL can get no reply: the connection ended first (`OcppSession.receive_eof`).
    `cause` is the exception the I/O layer saw (None for an orderly close)."""

    message_id: str
    action: str
    cause: BaseException | None


@dataclass(slots=True, frozen=True)
class LateReply:
    """A reply to a CALL that had already timed out: surfaced, never silently dropped."""

    message_id: str
    action: str
    frame: Any


@dataclass(slots=True, frozen=True)
class UnknownReply:
    """A reply whose id matches no CALL we sent on this connection."""

    message_id: str
    frame: Any


@dataclass(slots=True, frozen=True)
class ProtocolViolation:
    """The peer broke OCPP-J; `replied` says whether the core already sent a CALLERROR for it."""

    error: RemoteProtocolError
    message_id: str | None
    raw: str
    replied: bool


Event = (
    CallReceived
    | ResultReceived
    | ErrorReceived
    | ReplyRejected
    | CallTimedOut
    | CallLost
    | LateReply
    | UnknownReply
    | ProtocolViolation
)
