"""The one error tree of the session core.

`LocalProtocolError`: we tried something illegal (a harness bug; fix the caller).
`RemoteProtocolError`: the peer broke the spec (a conformance verdict, not a crash).
`CallErrorReply`: a CALLERROR came back for one of our CALLs. `CallTimeout`: none came in time.
`OcppCallError`: raise it in a handler to answer the peer's CALL with that CALLERROR.
"""

from __future__ import annotations

from typing import Any

from chargebench.ocppj.faults import Fault


class OcppJError(Exception):
    """Base of every error the session core raises."""


class LocalProtocolError(OcppJError):
    """We tried to send something the spec forbids (bad payload, second outstanding CALL...)."""

    def __init__(self, message: str, fault: Fault | None = None) -> None:
        super().__init__(message)
        self.fault = fault


class RemoteProtocolError(OcppJError):
    """The peer sent something the spec forbids; `code` is the CALLERROR code it earns."""

    def __init__(self, message: str, fault: Fault, code: str, path: str = "") -> None:
        super().__init__(message)
        self.fault = fault
        self.code = code
        self.path = path


class CallFailed(OcppJError):
    """One of our CALLs did not get a usable CALLRESULT."""

    def __init__(self, message: str, *, action: str, message_id: str) -> None:
        super().__init__(message)
        self.action = action
        self.message_id = message_id


class CallErrorReply(CallFailed):
    """The peer answered our CALL with a CALLERROR."""

    def __init__(
        self, *, action: str, message_id: str, code: str, description: str, details: Any
    ) -> None:
        super().__init__(
            f"{action} got CALLERROR {code}: {description}", action=action, message_id=message_id
        )
        self.code = code
        self.description = description
        self.details = details


class CallTimeout(CallFailed):
    """No reply within the call's timeout (OCPP-J 1.6 §4.1.1)."""


class InvalidReply(CallFailed):
    """The CALLRESULT payload violates the response schema."""

    def __init__(self, *, action: str, message_id: str, error: RemoteProtocolError) -> None:
        super().__init__(f"{action} reply invalid: {error}", action=action, message_id=message_id)
        self.error = error


class ConnectionLost(CallFailed):
    """The connection closed while the CALL was outstanding."""


class OcppCallError(Exception):
    """Raised by a handler to answer with a CALLERROR of its choice (e.g. SecurityError)."""

    def __init__(self, code: str, description: str = "", details: dict | None = None) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.details = details or {}


class NoReply(Exception):
    """Raised by a handler to leave the peer's CALL unanswered: no CALLRESULT, no CALLERROR.

    Outside the error tree on purpose: it is not a failure. 1.6 §4.2: "While Rejected, the
    Charge Point SHALL NOT respond to any Central System initiated message." The peer sees its
    CALL time out.
    """
