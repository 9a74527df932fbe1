"""OCPP 2.0.1 in the sans-I/O core: its version data, its fault table, its CALLERRORs."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema_rs
import pytest

from chargebench.ocppj import (
    Fault,
    LocalProtocolError,
    OcppCallError,
    OcppSession,
    Role,
    SessionPair,
    boot_gate,
    version_for,
)
from chargebench.ocppj import events as ev
from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.v201 import OCPP201
from chargebench.ocppj.validation import validator_class, validator_for
from chargebench.ocppj.versions import FAULT_CODES_201, VERSIONS

#: the 2.0.1 specification: the team's ../shared beside the project, else the machine's
_SHARED = [Path(__file__).resolve().parents[3] / "shared", Path("/work/shared")]
SPEC_201 = next((d for d in _SHARED if d.is_dir()), _SHARED[-1]) / "ocpp-spec" / "2.0.1"

BOOT = {"reason": "PowerUp", "chargingStation": {"model": "M", "vendorName": "V"}}
STATUS = {"timestamp": "2026-01-01T00:00:00Z", "connectorStatus": "Available", "evseId": 1,
          "connectorId": 1}  # fmt: skip


def cs_receives(text: str) -> tuple[OcppSession, list]:
    core = OcppSession(Role.CENTRAL_SYSTEM, version=OCPP201)
    return core, core.receive_text(text)


def only_reply(core: OcppSession) -> list:
    frames = core.data_to_send()
    assert len(frames) == 1, frames
    return json.loads(frames[0])


def _status(**change) -> str:
    return json.dumps([2, "1", "StatusNotification", {**STATUS, **change}])


# (raw frame received by a CSMS speaking 2.0.1, fault, code, reply id): every part-4 code the
# receiver of a CALL can earn, and the "-1" of an unreadable id (OCPP-J 2.0.1 §4.2.3)
MALFORMED = [
    ("{not json", Fault.INVALID_JSON, "RpcFrameworkError", "-1"),
    ('{"a": 1}', Fault.NOT_AN_ARRAY, "RpcFrameworkError", "-1"),
    ('[2, 17, "Heartbeat", {}]', Fault.BAD_MESSAGE_ID, "RpcFrameworkError", "-1"),
    ('[2, "' + "x" * 37 + '", "Heartbeat", {}]', Fault.MESSAGE_ID_TOO_LONG,
     "RpcFrameworkError", "x" * 37),
    ('[2, "1", "Heartbeat"]', Fault.WRONG_LENGTH, "RpcFrameworkError", "1"),
    ('[2, "1", 5, {}]', Fault.BAD_ACTION, "RpcFrameworkError", "1"),
    ('[7, "1", "Heartbeat", {}]', Fault.UNKNOWN_MESSAGE_TYPE, "MessageTypeNotSupported", "-1"),
    ('[2, "1", "Heartbeat", [1]]', Fault.PAYLOAD_NOT_OBJECT, "FormatViolation", "1"),
    ('[2, "1", "Heartbeat", {"s": "\\ud800"}]', Fault.LONE_SURROGATE, "FormatViolation", "1"),
    ('[2, "1", "FlyToMoon", {}]', Fault.UNKNOWN_ACTION, "NotImplemented", "1"),
    # a 1.6 action is no 2.0.1 action
    ('[2, "1", "StartTransaction", {}]', Fault.UNKNOWN_ACTION, "NotImplemented", "1"),
    ('[2, "1", "RequestStartTransaction", {"remoteStartId": 1, "idToken": '
     '{"idToken": "A", "type": "Central"}}]', Fault.UNSUPPORTED_ACTION, "NotSupported", "1"),
    ('[2, "1", "BootNotification", {"reason": "PowerUp"}]', Fault.MISSING_FIELD,
     "OccurrenceConstraintViolation", "1"),
    (_status(evseId="1"), Fault.WRONG_TYPE, "TypeConstraintViolation", "1"),
    (_status(connectorStatus="Sleeping"), Fault.BAD_ENUM, "PropertyConstraintViolation", "1"),
    ('[2, "1", "Heartbeat", {"extra": true}]', Fault.EXTRA_PROPERTY, "ProtocolError", "1"),
    ('[2, "1", "BootNotification", {"reason": "PowerUp", "chargingStation": '
     '{"model": "M", "vendorName": "' + "V" * 51 + '"}}]', Fault.STRING_TOO_LONG,
     "PropertyConstraintViolation", "1"),
    (_status(timestamp="yesterday"), Fault.BAD_DATE_TIME, "TypeConstraintViolation", "1"),
    ('[2, "1", "MeterValues", {"evseId": 1, "meterValue": []}]', Fault.OCCURRENCE,
     "OccurrenceConstraintViolation", "1"),
    ('[2, "1", "NotifyEVChargingNeeds", {"evseId": 1, "chargingNeeds": {"requestedEnergy'
     'Transfer": "DC", "dcChargingParameters": {"evMaxCurrent": 1, "evMaxVoltage": 1, '
     '"stateOfCharge": 101}}}]', Fault.OUT_OF_RANGE, "PropertyConstraintViolation", "1"),
    (_status(evseId=2**70), Fault.BEYOND_INT64, "PropertyConstraintViolation", "1"),
]


@pytest.mark.parametrize(("frame", "fault", "code", "reply_id"), MALFORMED,
                         ids=[f"{m[1].name}-{i}" for i, m in enumerate(MALFORMED)])  # fmt: skip
def test_malformed_call_gets_the_part4_code(frame, fault, code, reply_id):
    """Each malformed frame is answered with the OCPP-J 2.0.1 §4.3 code the 2.0.1 table gives."""
    core, events = cs_receives(frame)
    reply = only_reply(core)
    assert reply == [4, reply_id, code, reply[3], {}]
    assert FAULT_CODES_201[fault] == code
    assert [type(e) for e in events] == [ev.ProtocolViolation]
    assert events[0].error.fault is fault and events[0].replied


def test_error_description_fits_string_255():
    """OCPP-J 2.0.1 §4.2.3 Table 7: errorDescription is string[255], even when the schema error
    quotes a long value the peer sent."""
    core, _ = cs_receives(_status(evseId="x" * 1000))
    reply = only_reply(core)
    assert reply[2] == "TypeConstraintViolation" and len(reply[3]) == 255


def test_duplicate_message_id_is_an_rpc_framework_error():
    """OCPP-J 2.0.1 §4.1.4: an id the sender used before on this connection is refused."""
    core, _ = cs_receives('[2, "d1", "Heartbeat", {}]')
    core.send_result("d1", {"currentTime": "2026-01-01T00:00:00Z"})
    core.data_to_send()
    core.receive_text('[2, "d1", "Heartbeat", {}]')
    assert only_reply(core)[:3] == [4, "d1", "RpcFrameworkError"]


def test_fault_table_is_complete_and_uses_part4_codes_only():
    """Every fault has a code, each one of OCPP-J 2.0.1 §4.3 Table 8; the 1.6 spellings are gone."""
    assert set(FAULT_CODES_201) == set(Fault)
    assert set(FAULT_CODES_201.values()) <= OCPP201.error_codes
    assert len(OCPP201.error_codes) == 12
    assert not {"FormationViolation", "OccurenceConstraintViolation"} & OCPP201.error_codes


def test_error_codes_are_those_of_part4_table8():
    """The 12 codes are the rows of the spec's Table 8 (read from the spec text)."""
    text = (SPEC_201 / "OCPP-2.0.1_edition3_part4_ocpp-j-specification.md").read_text("utf-8")
    table = text.split("Table 8. Valid Error Codes", 1)[1].split("</table>", 1)[0]
    codes = set(re.findall(r"<tr><td>(\w+)</td>", table)) - {"ErrorCode"}
    assert codes == OCPP201.error_codes


def test_the_64_actions_are_the_schemas_of_the_ocpp_package():
    """Actions come from `ocpp.v201`'s request schemas; each compiles both ways as draft-06."""
    names = {p.name for p in resources.files("ocpp.v201.schemas").iterdir()}
    assert len(OCPP201.actions) == 64
    assert {f"{a}Request.json" for a in OCPP201.actions} | {
        f"{a}Response.json" for a in OCPP201.actions} == {n for n in names if n.endswith(".json")}
    assert validator_class(OCPP201) is jsonschema_rs.Draft6Validator
    for action in OCPP201.actions:
        assert '"draft-06' in OCPP201.schema_text(action, False).replace("/draft-06", '"draft-06')
        validator_for(OCPP201, action, False)
        validator_for(OCPP201, action, True)
    assert set(OCPP201.profiles) == OCPP201.actions


def test_directions_agree_with_part2():
    """Each request the part 2 text says is "sent by the Charging Station to the CSMS" (or the
    other way) is initiated by that side here; DataTransfer goes both ways."""
    text = (SPEC_201 / "OCPP-2.0.1_edition3_part2_specification.md").read_text("utf-8")
    said = re.findall(r"(\w+?)Request PDU sent by the (Charging Station|CSMS) to the", text)
    by_name = {a.lower(): a for a in OCPP201.actions}
    checked = 0
    for name, sender in said:
        action = by_name.get(name.lower().removeprefix("the"))
        if action is None or action == "DataTransfer":
            continue
        side = OCPP201.cp_initiated if sender == "Charging Station" else OCPP201.cs_initiated
        assert action in side, f"{action}: part 2 says sent by {sender}"
        checked += 1
    assert checked >= 45  # the sentence is garbled for a few messages in the markdown
    assert "DataTransfer" in OCPP201.cp_initiated & OCPP201.cs_initiated
    assert OCPP201.cp_initiated | OCPP201.cs_initiated == OCPP201.actions
    assert len(OCPP201.cp_initiated & OCPP201.cs_initiated) == 1


def test_the_handshake_picks_the_version():
    """The subprotocol names of OCPP-J 2.0.1 §3.1.2 Table 1 give each version."""
    assert version_for("ocpp2.0.1") is OCPP201 and version_for("ocpp1.6") is OCPP16
    assert list(VERSIONS) == ["ocpp2.0.1", "ocpp1.6"]


def test_round_trip_in_memory_with_2_0_1():
    """A 2.0.1 charge point core and CSMS core exchange a BootNotification; 1.6 payloads are
    refused on the way out, by the 2.0.1 schemas."""
    pair = SessionPair(version=OCPP201)
    message_id = pair.cp.send_call("BootNotification", BOOT)
    pair.deliver()
    [call] = pair.cs_events
    assert isinstance(call, ev.CallReceived) and call.payload == BOOT
    pair.cs.send_result(message_id, {"currentTime": "2026-01-01T00:00:00Z", "interval": 60,
                                     "status": "Accepted"})  # fmt: skip
    pair.deliver()
    assert isinstance(pair.cp_events[-1], ev.ResultReceived)
    with pytest.raises(LocalProtocolError, match="invalid"):
        pair.cp.send_call("BootNotification", {"chargePointVendor": "V", "chargePointModel": "M"})


def test_gate_refuses_before_boot_and_takes_the_asked_report_while_pending():
    """B01.FR.10: before Accepted, SecurityError for anything but BootNotification, except the
    NotifyReport a Pending station sends because the CSMS asked (GetBaseReport)."""
    gate = boot_gate(OCPP201, Role.CENTRAL_SYSTEM)
    with pytest.raises(OcppCallError) as refused:
        gate.check("Heartbeat", "Pending")
    assert refused.value.code == "SecurityError"
    gate.check("NotifyReport", "Pending")
    gate.check("BootNotification", None)
    assert gate.refuses("NotifyReport", "Rejected") and gate.refuses("NotifyReport", None)
    assert boot_gate(OCPP16, Role.CENTRAL_SYSTEM).refuses("NotifyReport", "Pending")
    # B02.FR.05: a Pending 2.0.1 station answers RequestStartTransaction itself (Rejected)
    boot_gate(OCPP201, Role.CHARGE_POINT).check("RequestStartTransaction", "Pending")
