"""Secrets are redacted where frames become records (issue 15 point 12): the wire keeps them,
every trace record (and so every log and trace file) does not."""

from __future__ import annotations

import json

import pytest

from chargebench.ocppj import OcppSession, Role
from chargebench.redaction import REDACTED, SECRET_FIELDS, redact
from chargebench.trace import TraceWriter, make_tracer, read_trace

KEY = "0123456789abcdef0123456789abcdef"
PEM_KEY = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----"


def test_change_configuration_key_is_redacted_in_the_trace_file_not_on_the_wire(tmp_path):
    path = tmp_path / "trace.jsonl"
    with TraceWriter(path) as writer:
        core = OcppSession(Role.CENTRAL_SYSTEM, tracer=make_tracer(writer, "CP", "s"))
        payload = {"key": "AuthorizationKey", "value": KEY}
        core.send_call("ChangeConfiguration", payload)
        [wire] = core.data_to_send()
    assert json.loads(wire)[3]["value"] == KEY  # the charger still gets the key
    assert payload["value"] == KEY  # the caller's dict is untouched
    text = path.read_text()
    assert KEY not in text
    [record] = read_trace(path)
    assert record.payload == {"key": "AuthorizationKey", "value": REDACTED}


def test_received_change_configuration_is_redacted_in_the_record_not_for_the_handler():
    records = []
    core = OcppSession(Role.CHARGE_POINT, tracer=make_tracer(records.append, "CP", "s"))
    frame = json.dumps([2, "1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": KEY}])
    [event] = core.receive_text(frame)
    assert event.payload["value"] == KEY
    assert records[0].payload["value"] == REDACTED


def test_raw_frame_naming_a_secret_is_not_kept():
    records = []
    core = OcppSession(Role.CHARGE_POINT, tracer=make_tracer(records.append, "CP", "s"))
    broken = '[2, "1", "ChangeConfiguration", {"key": "AuthorizationKey", "value": "' + KEY
    core.receive_text(broken)
    assert all(KEY not in json.dumps(r.payload) for r in records)


@pytest.mark.parametrize(
    ("action", "response", "payload", "secret"),
    [
        ("GetConfiguration", True,
         {"configurationKey": [{"key": "AuthorizationKey", "readonly": False, "value": KEY},
                               {"key": "HeartbeatInterval", "readonly": False, "value": "60"}]},
         KEY),
        ("SetVariables", False,
         {"setVariableData": [{"attributeValue": KEY, "component": {"name": "SecurityCtrlr"},
                               "variable": {"name": "BasicAuthPassword"}}]}, KEY),
        ("GetVariables", True,
         {"getVariableResult": [{"attributeStatus": "Accepted", "attributeValue": KEY,
                                 "component": {"name": "SecurityCtrlr"},
                                 "variable": {"name": "BasicAuthPassword"}}]}, KEY),
        ("NotifyReport", False,
         {"requestId": 1, "seqNo": 0, "generatedAt": "2026-01-01T00:00:00Z",
          "reportData": [{"component": {"name": "SecurityCtrlr"},
                          "variable": {"name": "BasicAuthPassword"},
                          "variableAttribute": [{"value": KEY}]}]}, KEY),
        ("CertificateSigned", False, {"certificateChain": "-----BEGIN CERTIFICATE-----\nA\n"
                                      "-----END CERTIFICATE-----\n" + PEM_KEY}, "MHcCAQEEIB"),
        ("DataTransfer", False, {"vendorId": "x", "data": PEM_KEY}, "MHcCAQEEIB"),
    ],
)
def test_each_rule_redacts_the_value_and_keeps_the_name(action, response, payload, secret):
    before = json.dumps(payload)
    redacted = redact(action, payload, response=response)
    assert secret not in json.dumps(redacted)
    assert json.dumps(payload) == before  # copied, never changed in place
    text = json.dumps(redacted)
    assert "AuthorizationKey" in text or "BasicAuthPassword" in text or REDACTED in text


def test_other_values_and_messages_pass_through_as_the_same_object():
    payload = {"key": "HeartbeatInterval", "value": "60"}
    assert redact("ChangeConfiguration", payload, response=False) is payload
    assert {rule.action for rule in SECRET_FIELDS} >= {"ChangeConfiguration", "SetVariables"}
