"""The small parts of loadtest: stats verdicts, options, handler answers, CLI usage errors."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from chargebench.cli import UsageError
from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.validation import check_payload
from loadtest import messages
from loadtest.cli import LOCUSTFILE, add_parser, run_seconds
from loadtest.handlers import handler_table
from loadtest.options import LoadOptions, MixError, read_mix
from loadtest.report import ActionStats, RunSoFar, read_so_far, verdict


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
    """A mix file sets weights by class name; a bad one is refused with every problem and
    where it is (FILE:LINE:COL: field: reason)."""
    good = tmp_path / "mix.yaml"
    good.write_text("IdleCharger: 2\nChargingCharger: 0\n")
    assert read_mix(good) == {"IdleCharger": 2, "ChargingCharger": 0}
    assert read_mix(LOCUSTFILE.with_name("mix.yaml")) == {
        "IdleCharger": 6, "ChargingCharger": 3, "BootStormCharger": 1}
    bad = tmp_path / "bad.yaml"
    bad.write_text("IdleCharger: 1\nIdle: 1\nBootStormCharger: -2\nChargingCharger: yes\n")
    with pytest.raises(MixError) as caught:
        read_mix(bad)
    lines = str(caught.value).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith(f"{bad}:2:1: ") and "Idle" in lines[0]
    assert lines[1].startswith(f"{bad}:3:19: BootStormCharger: ")
    assert lines[2].startswith(f"{bad}:4:18: ChargingCharger: ")
    zero = tmp_path / "zero.yaml"
    zero.write_text("IdleCharger: 0\nChargingCharger: 0\nBootStormCharger: 0\n")
    with pytest.raises(MixError, match="every weight is 0"):
        read_mix(zero)
    with pytest.raises(MixError, match=r"nope.yaml:1:1: cannot read"):
        read_mix(tmp_path / "nope.yaml")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"IdleCharger: \xff\xfe\n")
    with pytest.raises(MixError, match=r"binary.yaml:1:1: not UTF-8"):
        read_mix(binary)
    broken = tmp_path / "broken.yaml"
    broken.write_text("IdleCharger: [1\n")
    with pytest.raises(MixError, match=r"broken.yaml:2:1: YAML syntax"):
        read_mix(broken)


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


@pytest.mark.parametrize("form", [["--mix", "{}"], ["--mix={}"]])
def test_bad_mix_is_a_usage_error_before_locust_starts(tmp_path, capsys, form):
    """`chargebench load ... -- --mix bad.yaml`: exit 2 naming the file and line, no run."""
    from chargebench.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("IdleCharger: 1\nidle: 2\n")
    extra = [part.format(bad) for part in form]
    code = main(["load", "--csms", "ws://127.0.0.1:9/ocpp", "--csv", str(tmp_path / "run"),
                 "--", *extra])
    assert code == 2
    assert f"{bad}:2:1" in capsys.readouterr().err
    assert not (tmp_path / "run.log").exists()


def test_locust_itself_refuses_a_bad_mix(tmp_path):
    """Run by `locust -f` directly, a bad mix stops Locust with exit 2 and one message."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("BootStormCharger: -1\n")
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", "1",
         "-t", "1s", "--host", "ws://127.0.0.1:9/ocpp", "--mix", str(bad)],
        capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2, done.stderr[-2000:]
    assert f"{bad}:1:19: BootStormCharger:" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_so_far_from_the_stats_history(tmp_path):
    """The progress line reads the newest complete line of Locust's stats history."""
    history = tmp_path / "run_stats_history.csv"
    assert read_so_far(history) is None
    header = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,Total Request Count,"
              "Total Failure Count\n")
    history.write_text(header)
    assert read_so_far(history) is None
    history.write_text(header + "1,10,,Aggregated,12.5,0,4,25,0\n"
                       "2,20,,Aggregated,40.0,1.0,4,65,2\n3,20,,Aggre")
    so_far = read_so_far(history)
    assert so_far == RunSoFar(users=20, rps=40.0, requests=65, failures=2)
    assert so_far.describe() == "20 chargers · 40 req/s · 65 requests · 2 failed"
