"""The small parts of loadtest: stats verdicts, options, handler answers, CLI usage errors."""

from __future__ import annotations

import argparse

import pytest

from chargebench.cli import UsageError
from chargebench.ocppj.validation import check_payload
from chargebench.ocppj.versions import OCPP16
from loadtest import messages
from loadtest.cli import add_parser, run_seconds
from loadtest.handlers import handler_table
from loadtest.options import LoadOptions, read_mix
from loadtest.report import ActionStats, verdict


def _row(name: str, requests: int, failures: int, p95: float | None) -> ActionStats:
    return ActionStats("OCPP", name, requests, failures, 1.0, p95, p95, p95, 1.0)


class TestVerdict:
    def test_within_thresholds_passes(self):
        """No reasons when the aggregate p95 and failure ratio are within the limits."""
        rows = [_row("Heartbeat", 100, 1, 20.0), _row("Aggregated", 100, 1, 20.0)]
        assert verdict(rows, max_p95_ms=50, max_failure_ratio=0.02) == []

    def test_each_threshold_gives_its_reason(self):
        """p95 and failure ratio are judged separately, each named in the verdict."""
        rows = [_row("Aggregated", 100, 5, 80.0)]
        reasons = verdict(rows, max_p95_ms=50, max_failure_ratio=0.01)
        assert [r.split()[0] for r in reasons] == ["p95", "failure"]

    def test_nothing_measured_fails(self):
        """A run without requests never passes."""
        assert verdict([_row("Aggregated", 0, 0, None)]) == ["no requests were made"]


def test_messages_are_schema_valid():
    """Every payload the users send is valid against its OCPP 1.6 request schema."""
    payloads = {
        "BootNotification": messages.boot_notification("LT-0-1"),
        "StatusNotification": messages.status_notification(1, "Charging"),
        "Authorize": messages.authorize("TAG"),
        "StartTransaction": messages.start_transaction(1, "TAG", 0),
        "MeterValues": messages.meter_values(1, 7, 1234, 11000.0),
        "StopTransaction": messages.stop_transaction(7, "TAG", 1234),
    }
    for action, payload in payloads.items():
        check_payload(OCPP16, action, payload, response=False)


def test_handlers_answer_with_valid_responses():
    """The default handler table's answers are valid CALLRESULT payloads."""
    handlers = handler_table()
    requests = {
        "GetConfiguration": {"key": ["HeartbeatInterval", "Nope"]},
        "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "30"},
        "RemoteStartTransaction": {"idTag": "TAG"},
        "Reset": {"type": "Soft"},
        "TriggerMessage": {"requestedMessage": "Heartbeat"},
    }
    for action, payload in requests.items():
        check_payload(OCPP16, action, handlers[action](payload), response=True)
    reply = handlers["GetConfiguration"]({"key": ["HeartbeatInterval"]})
    assert reply["configurationKey"][0]["value"] == "30"


def test_mix_file_weights_and_errors(tmp_path):
    """A mix file sets weights by class name and names what is wrong with a bad one."""
    known = {"IdleCharger", "ChargingCharger"}
    good = tmp_path / "mix.yaml"
    good.write_text("IdleCharger: 2\nChargingCharger: 0\n")
    assert read_mix(good, known) == {"IdleCharger": 2, "ChargingCharger": 0}
    bad = tmp_path / "bad.yaml"
    bad.write_text("Idle: 1\n")
    with pytest.raises(ValueError, match="unknown user class 'Idle'"):
        read_mix(bad, known)


def test_options_default_without_parser():
    """Users built by Locust's library API (no parsed options) get the defaults."""
    assert LoadOptions.of(None) == LoadOptions()
    parsed = argparse.Namespace(meter_interval=2.0)
    assert LoadOptions.of(parsed).meter_interval == 2.0


def test_run_time_syntax():
    """Locust's run-time forms convert to seconds; anything else is a usage error."""
    assert [run_seconds(t) for t in ("90", "30s", "2m", "1h30m")] == [90, 30, 120, 5400]
    with pytest.raises(UsageError):
        run_seconds("soon")


@pytest.mark.parametrize("argv", [
    ["load"], ["load", "--host", "http://x"], ["load", "--host", "ws://x", "--builtin-csms"],
    ["load", "--host", "ws://x", "-u", "0"], ["load", "--host", "ws://x", "-t", "0s"],
])
def test_usage_errors(argv):
    """Bad argument combinations raise UsageError (exit code 2) before anything starts."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    with pytest.raises(UsageError):
        args.func(args)
