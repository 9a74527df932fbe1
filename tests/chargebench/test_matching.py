"""The one matcher language: every operator, nesting, captures, spec errors, message patterns,
and the conformance subsets (`contains`) judged by the same rules."""

from __future__ import annotations

import pytest

from chargebench.matching import (
    MatcherSpecError,
    MessagePattern,
    Predicate,
    Present,
    compile_matcher,
    contains,
)
from chargebench.trace import TraceRecord


def ok(spec, value) -> bool:
    return compile_matcher(spec).match(value).ok


class TestOperators:
    def test_literal_equals(self):
        """A plain value matches only an equal value; 1 and 1.0 are equal, True and 1 are not."""
        assert ok("Accepted", "Accepted")
        assert not ok("Accepted", "Rejected")
        assert ok(1, 1.0)
        assert not ok(1, True)

    def test_datetimes_equal_by_instant(self):
        """A dateTime (1.6 §2.3) equals the same instant in another RFC 3339 spelling, as the
        conformance cases compare it (`chargebench.clock.same_instant`); YAML's own timestamp
        value too. Another instant, or a text without an offset, is not equal."""
        import yaml

        assert ok("2026-01-01T00:00:00Z", "2026-01-01T00:00:00.000+00:00")
        assert ok("2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00Z")
        assert ok(yaml.safe_load("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00.000Z")
        assert not ok("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z")
        assert not ok("2026-01-01T00:00:00Z", "2026-01-01T00:00:00")
        assert not ok("Accepted", "2026-01-01T00:00:00Z")

    def test_regex_searches(self):
        """regex uses re.search: anchors are the author's choice; non-text never matches."""
        assert ok({"regex": "^RFID-"}, "RFID-42")
        assert not ok({"regex": "^RFID-"}, "X-RFID-42")
        assert not ok({"regex": "1"}, 1)

    def test_range_is_inclusive_and_open_ended(self):
        """range [low, high] includes both ends; null leaves a side open; numeric text counts
        (sampledValue.value is a string), other text does not."""
        assert ok({"range": [1, 5]}, 1) and ok({"range": [1, 5]}, 5)
        assert not ok({"range": [1, 5]}, 5.01)
        assert ok({"range": [None, 0]}, -40)
        assert ok({"range": [0, None]}, "7") and not ok({"range": [0, 6]}, "6.5")
        assert not ok({"range": [0, None]}, "seven") and not ok({"range": [0, None]}, True)

    def test_any_of_takes_values_or_matchers(self):
        """any_of holds if one alternative (value or matcher) holds."""
        spec = {"any_of": ["Accepted", {"regex": "^Concurrent"}]}
        assert ok(spec, "ConcurrentTx")
        assert not ok(spec, "Blocked")

    def test_present_and_absent(self):
        """present/absent look at whether the field exists, not at its value."""
        assert ok({"parentIdTag": {"absent": True}}, {"idTag": "A"})
        assert not ok({"parentIdTag": {"absent": True}}, {"parentIdTag": None})
        assert ok({"parentIdTag": {"present": True}}, {"parentIdTag": None})

    def test_some_and_not(self):
        """some: one list element matches; not: inverts."""
        values = {"sampledValue": [{"measurand": "SoC"}, {"measurand": "Power.Active.Import"}]}
        assert ok({"sampledValue": {"some": {"measurand": "SoC"}}}, values)
        assert not ok({"sampledValue": {"some": {"measurand": "Voltage"}}}, values)
        assert ok({"not": "Faulted"}, "Available")

    def test_list_literal_matches_element_wise(self):
        """A list spec needs the same length and each element to match."""
        assert ok([1, {"range": [2, 3]}], [1, 2])
        assert not ok([1, 2], [1, 2, 3])


class TestFieldsAndCaptures:
    def test_unnamed_fields_are_ignored(self):
        """A mapping matches the fields it names; other fields may be anything."""
        assert ok({"idTagInfo": {"status": "Accepted"}},
                  {"transactionId": 7, "idTagInfo": {"status": "Accepted", "expiryDate": "x"}})

    def test_capture_only_when_everything_matches(self):
        """Captures are returned with the result; a failed match reports where and why."""
        matcher = compile_matcher({"transactionId": {"capture": "tx", "range": [1, None]},
                                   "idTagInfo": {"status": "Accepted"}})
        good = matcher.match({"transactionId": 9, "idTagInfo": {"status": "Accepted"}})
        assert good.ok and good.captures == {"tx": 9}
        bad = matcher.match({"transactionId": 0, "idTagInfo": {"status": "Invalid"}}, "payload")
        assert [m.path for m in bad.mismatches] == ["payload.transactionId",
                                                    "payload.idTagInfo.status"]
        assert 'got "Invalid"' in str(bad.mismatches[1])

    def test_absent_field_reports_absent(self):
        """A missing field says 'got absent', not a Python repr."""
        result = compile_matcher({"meterStop": 5}).match({}, "payload")
        assert str(result.mismatches[0]) == "payload.meterStop: expected 5, got absent"


class TestSpecErrors:
    @pytest.mark.parametrize(("spec", "path", "reason"), [
        ({"a": {"regex": "("}}, ("a", "regex"), "invalid regular expression"),
        ({"a": {"range": [3, 1]}}, ("a", "range"), "is empty"),
        ({"a": {"range": [1]}}, ("a", "range"), "[low, high]"),
        ({"a": {"any_of": []}}, ("a", "any_of"), "non-empty list"),
        ({"a": {"present": "yes"}}, ("a", "present"), "true or false"),
        ({"a": {"capture": "1x"}}, ("a", "capture"), "variable name"),
    ])
    def test_malformed_spec_names_its_path(self, spec, path, reason):
        """A malformed operator raises MatcherSpecError with the path to it."""
        with pytest.raises(MatcherSpecError) as caught:
            compile_matcher(spec)
        assert caught.value.path == path
        assert reason in caught.value.reason

    def test_placeholders_are_accepted_leniently(self):
        """At load time an operand holding ${var} is accepted; it is checked when it runs."""
        from scenarios.values import has_variables

        compile_matcher({"a": {"range": ["${low}", None]}, "b": {"regex": "${re}"}},
                        placeholder=has_variables)


def record(**fields) -> TraceRecord:
    base = dict(ts="t", cp_id="CP", dir="cp->cs", type="CALL", id="1", action="Heartbeat",
                payload={}, latency_ms=None, session="s")
    return TraceRecord(**{**base, **fields})


class TestMessagePattern:
    def test_defaults_to_a_call_in_either_direction(self):
        """Without dir/type a pattern matches a CALL of the action, whoever sent it."""
        pattern = MessagePattern.from_spec({"action": "Heartbeat"})
        assert pattern.match(record()).ok
        assert pattern.match(record(dir="cs->cp")).ok
        assert not pattern.match(record(type="CALLRESULT")).ok

    def test_payload_and_frame_fields(self):
        """Direction, type and payload all have to match; mismatches name the field."""
        pattern = MessagePattern.from_spec({"action": "BootNotification", "type": "CALLRESULT",
                                            "dir": "cs->cp", "payload": {"status": "Accepted"}})
        reply = record(action="BootNotification", type="CALLRESULT", dir="cs->cp",
                       payload={"status": "Pending"})
        result = pattern.match(reply)
        assert [m.path for m in result.mismatches] == ["payload.status"]


class TestOneLanguage:
    """Conformance subsets (`contains`) and scenario specs are one language with one rule."""

    def test_a_number_is_a_number_in_both_spellings(self):
        """JSON has one number type (RFC 8259 §6): 1 matches 1.0 and 1.0 matches 1, in a YAML
        spec and in a conformance subset alike; a boolean is no number in either."""
        for spelled in (lambda s: compile_matcher(s), contains):
            assert spelled({"connectorId": 1}).match({"connectorId": 1.0}).ok
            assert spelled({"limit": 6000.0}).match({"limit": 6000}).ok
            assert not spelled({"connectorId": 1}).match({"connectorId": True}).ok
            assert not spelled({"connectorId": 1}).match({"connectorId": "1"}).ok
            assert not spelled({"connectorId": 1}).match({"connectorId": 2}).ok

    def test_integer_ness_is_the_schemas_question(self):
        """Whether 1.0 may stand in an integer field is decided by the version's schemas, not
        by the matcher: 1.6 declares draft-04, whose integer has no fraction."""
        from chargebench.ocppj.errors import RemoteProtocolError
        from chargebench.ocppj.validation import check_payload
        from chargebench.ocppj.versions import DEFAULT_VERSION

        payload = {"connectorId": 1.0, "errorCode": "NoError", "status": "Available"}
        assert DEFAULT_VERSION.schema_draft == "draft-04"
        with pytest.raises(RemoteProtocolError):
            check_payload(DEFAULT_VERSION, "StatusNotification", payload, False)
        check_payload(DEFAULT_VERSION, "StatusNotification", {**payload, "connectorId": 1}, False)

    def test_a_subset_contains_what_it_names(self):
        """A subset ignores fields it does not name, finds each list item anywhere in the
        list, and fails on an absent field, whatever the field's matcher."""
        profile = {"chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.0},
                                              {"startPeriod": 60, "limit": 8}]}
        assert contains({"chargingSchedulePeriod": [{"limit": 8.0}, {"limit": 16}]}).match(
            profile).ok
        assert not contains({"chargingSchedulePeriod": [{"limit": 9}]}).match(profile).ok
        assert not contains({"chargingSchedulePeriod": [{"limit": 8}]}).match(
            {"chargingSchedulePeriod": {"limit": 8}}).ok
        assert not contains({"idTag": lambda value: True}).match({}).ok
        assert not contains({"idTag": Present(True)}).match({}).ok

    def test_a_predicate_that_raises_is_no_match(self):
        """A named test that meets data it cannot read fails the match instead of crashing,
        and a failed match names it."""
        upper = Predicate("<upper case>", lambda value: value.isupper())
        result = contains({"idTag": upper}).match({"idTag": 7})
        assert [str(m) for m in result.mismatches] == ["idTag: expected <upper case>, got 7"]
        assert contains({"idTag": upper}).match({"idTag": "ABC"}).ok

    def test_a_callerror_is_matched_by_its_field_names(self):
        """A CALLERROR's payload is [code, description, details] as traced; an object matcher
        sees it as errorCode, errorDescription, errorDetails (OCPP-J 1.6 §4.2.3), a list
        matcher as the list."""
        error = record(type="CALLERROR", action=None, payload=["NotSupported", "", {}])
        by_name = MessagePattern(type="CALLERROR", payload=contains({"errorCode": "NotSupported"}))
        assert by_name.match(error).ok
        wrong = MessagePattern(type="CALLERROR", payload=contains({"errorCode": "InternalError"}))
        assert not wrong.match(error).ok
        spec = MessagePattern.from_spec({"action": "Reset", "type": "CALLERROR",
                                         "payload": ["NotSupported", "", {}]})
        assert spec.match(record(type="CALLERROR", action="Reset",
                                 payload=["NotSupported", "", {}])).ok
        assert MessagePattern.from_spec({"action": "Reset", "type": "CALLERROR",
                                         "payload": {"errorCode": "NotSupported"}}).match(
            record(type="CALLERROR", action="Reset", payload=["NotSupported", "", {}])).ok

    def test_a_pattern_can_name_the_message_id(self):
        """A reply is expected by the id of the CALL it answers; any action, when not named."""
        reply = record(type="CALLRESULT", id="7", action=None, payload={"status": "Accepted"})
        assert MessagePattern(type="CALLRESULT", message_id="7").match(reply).ok
        assert not MessagePattern(type="CALLRESULT", message_id="8").match(reply).ok
