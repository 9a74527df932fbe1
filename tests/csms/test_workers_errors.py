"""A forwarded command's failure crosses processes as JSON (csms.cluster) and is raised again in
the asking worker as the class a local call raises, so the HTTP API answers the same status: the
round trip of every failure the actions API maps, and the session ids that name the holder."""

from __future__ import annotations

import json

import pytest

from chargebench.ocppj import CallErrorReply, CallFailed, CallTimeout, ConnectionLost
from chargebench.ocppj.versions import OCPP16, OCPP201
from csms.cluster import RemoteFailure, error_fields, raise_again, version_of, worker_of
from csms.commands import NotConnected, RequestRefused, UnknownAction
from csms.store.errors import ReservationIdTaken, StoreUnavailable


class Problem:
    field = "chargingProfile.chargingProfileKind"

    def __str__(self) -> str:
        return "K01.FR.06: not allowed"


IDS = {"action": "Reset", "message_id": "m1"}
FAILURES = [
    NotConnected("CP1"),
    UnknownAction("CP1", "Reset", OCPP201),
    ReservationIdTaken(7),
    RequestRefused("CP1", "Reset", [Problem()]),
    StoreUnavailable("PostgreSQL away"),
    CallErrorReply(code="NotSupported", description="no", details={"a": 1}, **IDS),
    CallTimeout("Reset: no reply in 1 s", **IDS),
    ConnectionLost("Reset: connection closed", **IDS),
]


def crossed(error: Exception) -> Exception:
    """`error` raised again after its fields went through JSON (as over NOTIFY)."""
    answer = json.loads(json.dumps({"op": "reply", "id": "r1", **error_fields(error)}))
    with pytest.raises(Exception) as raised:
        raise_again("CP1", "Reset", answer)
    return raised.value


@pytest.mark.parametrize("error", FAILURES, ids=lambda e: type(e).__name__)
def test_a_failure_is_raised_again_as_its_own_class(error: Exception) -> None:
    """The same class and message, so the API's except clauses answer as for a local call."""
    again = crossed(error)
    assert type(again) is type(error)
    assert str(again) == str(error)


def test_the_details_the_api_reads_survive() -> None:
    """CALLERROR code/description (502 body), the refused field (409 field), the version."""
    reply = crossed(FAILURES[5])
    assert isinstance(reply, CallErrorReply)
    assert (reply.code, reply.description, reply.details) == ("NotSupported", "no", {"a": 1})
    refused = crossed(FAILURES[3])
    assert isinstance(refused, RequestRefused)
    assert refused.problems[0].field == Problem.field
    unknown = crossed(FAILURES[1])
    assert isinstance(unknown, UnknownAction) and unknown.version is OCPP201


def test_anything_else_is_a_call_failure() -> None:
    """A failure with no local equivalent is a CallFailed (the API's 502), named."""
    again = crossed(ValueError("bad"))
    assert isinstance(again, RemoteFailure) and isinstance(again, CallFailed)
    assert "ValueError: bad" in str(again)


def test_a_session_id_names_its_worker_and_version() -> None:
    """`{worker}.{subprotocol}.{token}`: the subprotocol's own dots do not confuse it."""
    assert worker_of("w1_0a1b2c3d.ocpp1.6.5e2c9f0a1b2c") == "w1_0a1b2c3d"
    assert version_of("w1_0a1b2c3d.ocpp1.6.5e2c9f0a1b2c") is OCPP16
    assert version_of("w0_ffffffff.ocpp2.0.1.000000000000") is OCPP201
