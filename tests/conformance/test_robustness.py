"""The robustness cases pass against correct peers and fail against broken or inert ones."""

from __future__ import annotations

import pytest

from conformance.background import BackgroundLoop
from conformance.capabilities import PROFILES
from conformance.robustness import PROBES
from conformance.selfpeers import ReferenceChargePoint, ReferenceCsms
from tests.conformance.helpers import PASSWORD, capabilities, free_port, run_suite
from tests.conformance.peers import inert_charge_point, inert_csms, mutant

pytestmark = pytest.mark.slow
ALL_PROFILES = list(PROFILES)
NEVER_BOOTED = "CB-NEVER-BOOTED"


@pytest.fixture
def background():
    with BackgroundLoop() as loop:
        yield loop


def _csms_run(tmp_path, url: str, *args: str):
    caps = capabilities(tmp_path, profiles=ALL_PROFILES, never_booted_cp_id=NEVER_BOOTED)
    return run_suite(
        tmp_path, "--cb-role", "csms", "--cb-target", url, "--cb-capabilities", caps,
        "--cb-security-profile", "1", "--cb-password", PASSWORD, *args,
    )


def _cp_run(tmp_path, background, port: int, *args: str, wrap=None):
    async def start():
        options = {} if wrap is None else {"wrap": wrap}
        return ReferenceChargePoint(f"ws://127.0.0.1:{port}/ocpp", **options).start()

    cp = background.run(start())
    try:
        return run_suite(tmp_path, "--cb-role", "cp", "--cb-listen", f"127.0.0.1:{port}",
                         "--cb-profile", "ocppj", *args)
    finally:
        background.run(cp.stop())


def test_csms_role_passes_against_reference_csms(tmp_path, background):
    """Every csms-role robustness case passes against a correct CSMS; summary.json is written.
    (The reference CSMS has no id tags or trigger: the OCTT cases run against the built-in
    CSMS, tests/conformance/test_octt_csms.py.)"""
    known = ("CB-CONFORM-1", NEVER_BOOTED)
    csms = background.run(ReferenceCsms(known_ids=known, password=PASSWORD).start())
    run = _csms_run(tmp_path, csms.url, "-k", "rpc or cold_boot")
    assert run.returncode == 0, run.output
    assert set(run.outcomes().values()) == {"passed", "not_applicable"}, run.outcomes()
    assert run.outcomes()["RPC_024_CS"] == "passed"
    assert run.summary["profiles"]["ocppj"]["failed"] == 0
    assert list(tmp_path.glob("results/traces/*.jsonl")), "no message trace written"


def test_cp_role_passes_against_reference_charge_point(tmp_path, background):
    """Every cp-role robustness case passes against a correct charge point."""
    run = _cp_run(tmp_path, background, free_port())
    assert run.returncode == 0, run.output
    assert set(run.outcomes().values()) == {"passed"}, run.outcomes()


def test_inert_csms_fails_every_case(tmp_path, background):
    """Against a CSMS that accepts the connection and does nothing, no case passes: every OCTT
    case begins with a BootNotification it must answer."""
    server = background.run(inert_csms())
    port = server.sockets[0].getsockname()[1]
    run = _csms_run(tmp_path, f"ws://127.0.0.1:{port}/ocpp", "--cb-timeout", "0.05")
    assert run.returncode == 1
    outcomes = run.outcomes()
    assert "passed" not in outcomes.values(), outcomes
    assert "received instead: nothing" in run.output


def test_inert_charge_point_fails_every_case(tmp_path, background):
    """Against a charge point that connects and does nothing, no case passes."""
    port = free_port()
    task = background.submit(inert_charge_point(f"ws://127.0.0.1:{port}/ocpp/CB-CONFORM-1"))
    try:
        run = run_suite(tmp_path, "--cb-role", "cp", "--cb-listen", f"127.0.0.1:{port}",
                        "--cb-timeout", "0.05", "--cb-boot-timeout", "0.05")
    finally:
        task.cancel()
    assert run.returncode == 1
    assert "passed" not in run.outcomes().values(), run.outcomes()


MALFORMED = [f"RPC_{n:03d}" for n in range(1, 16)]
#: Frames OCPP-J does not require an answer to (`Probe.may_ignore`): ignoring them passes.
MAY_IGNORE = {probe.case for probe in PROBES if probe.may_ignore}


def _caught_by(name: str) -> tuple[list[str], list[str]]:
    """(cases a mutant must fail, cases where its answer is legal and that must pass):
    silence is legal for frames without a readable (string) id or of an unknown type, any code for
    the unknown type (OCPP-J 1.6 §4.1.3 SHALL ignore)."""
    probes = [probe for probe in PROBES if probe.case in MALFORMED]
    legal = [p.case for p in probes
             if (p.may_ignore if name == "ignores-malformed" else "GenericError" in p.codes)]
    return [p.case for p in probes if p.case not in legal], legal


@pytest.mark.parametrize("name", ["wrong-code", "ignores-malformed"])
def test_broken_csms_fails_malformed_frame_cases(tmp_path, background, name):
    """A CSMS answering broken frames with the wrong code, or not at all, fails each of those
    cases with a message naming the expected and the received frame."""
    csms = background.run(ReferenceCsms(password=PASSWORD, wrap=mutant(name)).start())
    # a local peer answers in milliseconds; the short wait makes the silent mutant fail fast
    run = _csms_run(tmp_path, csms.url, "-k", "malformed_frame", "--cb-timeout", "0.1")
    outcomes = run.outcomes()
    caught, legal = _caught_by(name)
    assert all(outcomes[f"{case}_CS"] == "failed" for case in caught), outcomes
    assert all(outcomes[f"{case}_CS"] == "passed" for case in legal), outcomes
    assert "expected CALLERROR" in run.output
    assert ("GenericError" if name == "wrong-code" else "received instead") in run.output


@pytest.mark.parametrize("name", ["wrong-code", "ignores-malformed"])
def test_broken_charge_point_fails_malformed_frame_cases(tmp_path, background, name):
    """The same mutants of the charge point fail the cp-role malformed-frame cases."""
    run = _cp_run(tmp_path, background, free_port(), "-k", "malformed_frame",
                  "--cb-timeout", "0.1", wrap=mutant(name))
    outcomes = run.outcomes()
    caught, legal = _caught_by(name)
    assert all(outcomes[f"{case}_CP"] == "failed" for case in caught), outcomes
    assert all(outcomes[f"{case}_CP"] == "passed" for case in legal), outcomes
    assert "expected CALLERROR" in run.output


def test_no_charge_point_no_pass_one_line(tmp_path):
    """With nothing connecting, the run names the URL and id to configure, waits
    --cb-connect-timeout once, then every case fails at once with one line, none passes, exit 1."""
    port = free_port()
    run = run_suite(tmp_path, "--cb-role", "cp", "--cb-listen", f"127.0.0.1:{port}",
                    "--cb-connect-timeout", "1", "-k", "RPC_001 or RPC_017 or TC_001",
                    timeout=60)
    url = f"ws://127.0.0.1:{port}/ocpp"
    assert run.returncode == 1, run.output
    assert f"configure it with the OCPP-J URL {url} and charge point id CB-CONFORM-1" in run.output
    line = f"conform: no charge point connected to {url}/CB-CONFORM-1 within 1 s"
    assert run.output.count(line) == 1, run.output
    outcomes = run.outcomes()
    assert outcomes and "passed" not in outcomes.values(), outcomes


def test_charge_point_under_another_id_is_refused(tmp_path, background):
    """A charger connecting as another id is refused (HTTP 404, OCPP-J 1.6 §3.2); after
    --cb-connect-timeout the run stops before the first verdict with one line naming the
    refused id: exit 1, no per-case errors."""
    port = free_port()
    task = background.submit(inert_charge_point(f"ws://127.0.0.1:{port}/ocpp/CB-SOMEONE-ELSE"))
    try:
        run = run_suite(tmp_path, "--cb-role", "cp", "--cb-listen", f"127.0.0.1:{port}",
                        "--cb-connect-timeout", "1.5", "-k", "RPC_017 or TC_001", timeout=60)
    finally:
        task.cancel()
    assert run.returncode == 1, run.output
    line = ("conform: a charger connected as CB-SOMEONE-ELSE and was refused: the suite "
            "expects CB-CONFORM-1")
    assert run.output.count(line) == 1, run.output
    assert run.outcomes() == {}, run.outcomes()
    assert run.output.count("was refused") <= 2, run.output  # our line, pytest's exit reason


@pytest.mark.parametrize("role", ["csms", "cp"])
def test_silence_on_frames_needing_no_answer_passes(tmp_path, background, role):
    """A peer that never sends a CALLERROR passes the probes OCPP-J lets it ignore (an id it
    cannot read, an unknown MessageTypeId: `Probe.may_ignore`), as long as it keeps
    answering. Run with a timeout that fits a loaded machine: the silence is not timed."""
    selected = " or ".join(sorted(MAY_IGNORE))
    if role == "csms":
        csms = background.run(ReferenceCsms(password=PASSWORD, wrap=mutant("ignores-malformed"))
                              .start())
        run = _csms_run(tmp_path, csms.url, "-k", selected, "--cb-timeout", "5")
    else:
        run = _cp_run(tmp_path, background, free_port(), "-k", selected, "--cb-timeout", "5",
                      wrap=mutant("ignores-malformed"))
    suffix = "_CS" if role == "csms" else "_CP"
    assert run.outcomes() == {case + suffix: "passed" for case in MAY_IGNORE}, run.summary
