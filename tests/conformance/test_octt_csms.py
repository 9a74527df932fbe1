"""The OCTT cases for a CSMS under test: all pass against the built-in CSMS through
`chargebench conform --self`, fail against a CSMS that decides wrongly, and a case that needs a
never-booted charge point gets one."""

from __future__ import annotations

import pytest

from conformance.background import BackgroundLoop
from conformance.capabilities import Capabilities
from conformance.catalog import load_catalog
from conformance.selfpeers import ReferenceCsms
from conformance.settings import Settings
from tests.conformance.helpers import run_suite


@pytest.mark.slow
def test_builtin_csms_passes_every_case_within_a_minute(self_runs):
    """`chargebench conform --role csms --self` runs every csms-role case against the built-in
    CSMS (triggered through its HTTP actions API): none fails or is skipped for want of a
    trigger, and the whole run takes under 60 s."""
    code, output, cases, elapsed = self_runs("csms-self", "csms").wait()
    assert code == 0, output[-6000:]
    outcomes = {name: case["outcome"] for name, case in cases.items()}
    assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
    expected = {case.full_id for (_, role), case in load_catalog().items() if role == "csms"}
    assert expected <= set(outcomes), sorted(expected - set(outcomes))
    assert outcomes["RPC_020_CS"] == "passed"
    assert elapsed < 60, f"took {elapsed:.1f} s"


#: The security cases each profile makes applicable, all of which the built-in CSMS passes.
#: From profile 1 on the self CSMS also refuses unknown ids (RPC_023).
SECURED = {
    1: {"TC_073_CS", "TC_083_CS", "TC_085_CS", "RPC_023_CS", "RPC_024_CS", "RPC_025_CS"},
    2: {"TC_073_CS", "TC_083_CS", "TC_085_CS", "TC_086_CS", "RPC_023_CS", "RPC_024_CS",
        "RPC_025_CS"},
    3: {"TC_086_CS", "TC_087_CS", "RPC_023_CS", "RPC_026_CS"},
}


@pytest.mark.slow
def test_builtin_csms_passes_at_every_security_profile(self_runs):
    """`--self-profile N`: the built-in CSMS serves basic auth (1), TLS with basic auth (2) or
    mutual TLS (3); every case passes or is not applicable, including that profile's security
    cases (a new AuthorizationKey and a raised profile do not break the cases after them)."""
    runs = {n: self_runs(f"csms-self-{n}", "csms", conform_args=("--self-profile", str(n)))
            for n in SECURED}  # started together: they overlap
    for profile, run in runs.items():
        code, output, cases, _ = run.wait()
        assert code == 0, output[-6000:]
        outcomes = {name: case["outcome"] for name, case in cases.items()}
        assert set(outcomes.values()) <= {"passed", "not_applicable"}, outcomes
        assert all(outcomes.get(case) == "passed" for case in SECURED[profile]), (
            profile, {case: outcomes.get(case) for case in SECURED[profile]})


@pytest.mark.slow
def test_csms_accepting_every_tag_fails_authorize_cases(tmp_path):
    """A CSMS that answers Accepted for every id tag (the reference CSMS has no tag store)
    fails TC_023_1-3, and the verdict names the expected and the received status."""
    with BackgroundLoop() as loop:
        csms = loop.run(ReferenceCsms().start())
        run = run_suite(
            tmp_path, "--cb-role", "csms", "--cb-target", csms.url, "-k", "authorize_refused"
        )
    outcomes = run.outcomes()
    assert {outcomes[f"TC_023_{n}_CS"] for n in (1, 2, 3)} == {"failed"}, outcomes
    assert "expected CALLRESULT" in run.output
    assert '{"idTagInfo":{"status":"Accepted"}}' in run.output


def test_never_booted_id_is_fresh_declared_or_absent():
    """RPC_020's charge point: the declared id, else a new derivative of --cb-cp-id when the
    CSMS admits unknown ids, else none (the case is skipped, never passed)."""
    admits = Settings("csms", cp_id="CP-1",
                      capabilities=Capabilities(rejects_unknown_charge_points=False))
    first, second = admits.never_booted_cp_id(), admits.never_booted_cp_id()
    assert first != second and first.startswith("CP-1-") and second.startswith("CP-1-")
    declared = Settings("csms", capabilities=Capabilities(never_booted_cp_id="CP-NB"))
    assert declared.never_booted_cp_id() == "CP-NB"
    assert Settings("csms").never_booted_cp_id() is None


# A CSMS that cannot be reached: one line at the start, exit 1, no verdict at all


async def _no_subprotocol_server():
    from websockets.asyncio.server import serve

    async def handler(ws):
        await ws.wait_closed()

    return await serve(handler, "127.0.0.1", 0, compression=None)  # agrees to none


async def _tls_server(pki):
    from websockets.asyncio.server import serve

    from chargebench.security import server_ssl_context

    async def handler(ws):
        await ws.wait_closed()

    context = server_ssl_context(pki.csms_cert, pki.csms_key)
    return await serve(handler, "127.0.0.1", 0, ssl=context, subprotocols=["ocpp1.6"],
                       compression=None)


@pytest.mark.parametrize("kind, expected", [
    ("down", "connection refused"),
    ("unknown-id", "HTTP 404, the CSMS does not know this charge point"),
    ("bad-password", "HTTP 401, credentials refused (check --cb-password"),
    ("no-subprotocol", "not ocpp1.6 (OCPP-J 1.6 §3.1.2)"),
    ("untrusted-tls", "TLS handshake failed (certificate verify failed"),
    ("short-key", "AuthorizationKey must be"),
])
def test_unreachable_csms_stops_the_run_in_one_line(tmp_path, kind, expected):
    """Target down, handshake refused (404, 401, no subprotocol), TLS failing or our own key
    unusable: the first line of the run says `could not connect to URL: why` (and the option
    to check), no case passes or fails, exit 1."""
    from chargebench.security import init_pki
    from tests.conformance.helpers import free_port

    args: list[str] = []
    with BackgroundLoop() as loop:
        if kind in ("down", "short-key"):
            url = f"ws://127.0.0.1:{free_port()}/ocpp"
            if kind == "short-key":  # found before dialling: whitepaper A00.FR.205
                args = ["--cb-security-profile", "1", "--cb-password", "SHORT"]
        elif kind in ("unknown-id", "bad-password"):
            password = "CB-RIGHT-PASSWORD" if kind == "bad-password" else None
            known = ("CB-CONFORM-1",) if password else ("CB-SOMEONE-ELSE",)
            url = loop.run(ReferenceCsms(known_ids=known, password=password).start()).url
            if password:
                args = ["--cb-security-profile", "1", "--cb-password", "CB-WRONG-PASSWORD"]
        elif kind == "no-subprotocol":
            server = loop.run(_no_subprotocol_server())
            url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
        else:
            ours, theirs = init_pki(tmp_path / "ours"), init_pki(tmp_path / "theirs")
            server = loop.run(_tls_server(theirs))
            url = f"wss://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
            args = ["--cb-ca", str(ours.ca_cert)]
        run = run_suite(tmp_path, "--cb-role", "csms", "--cb-target", url, *args)
    assert run.returncode == 1, run.output[-3000:]
    first = next(line for line in run.output.splitlines() if line.startswith("ChargeBench:"))
    assert first.startswith(f"ChargeBench: could not connect to {url}/CB-CONFORM-1: "), first
    assert expected in first, first
    assert kind != "short-key" or first.endswith("(--cb-password)"), first
    assert run.summary is not None and run.summary["cases"] == [], run.summary
    assert run.summary["problem"] == first.removeprefix("ChargeBench: ")


def test_trace_records_pair_every_reply_with_its_call():
    """The conformance trace names the action of every reply, both ways, with its latency,
    and a CALLERROR's payload is [code, description, details] as the session core traces it:
    the trace report finds no "reply without CALL"."""
    from datetime import datetime, timedelta

    from conformance.wire import parse, trace_records
    from reports.stats import compute

    frames = [
        parse("cp->cs", '[2,"a","Heartbeat",{}]'),
        parse("cs->cp", '[3,"a",{"currentTime":"2026-01-01T00:00:00Z"}]'),
        parse("cs->cp", '[2,"b","Reset",{"type":"Soft"}]'),
        parse("cp->cs", '[4,"b","NotSupported","",{}]'),
        parse("cp->cs", "not json"),
    ]
    frames[1].ts = (datetime.fromisoformat(frames[0].ts) + timedelta(milliseconds=12)).isoformat()
    records = trace_records(frames, "CP-1", "c0")
    assert [(r.type, r.action) for r in records] == [
        ("CALL", "Heartbeat"), ("CALLRESULT", "Heartbeat"), ("CALL", "Reset"),
        ("CALLERROR", "Reset"), ("RAW", None)]
    assert records[1].latency_ms == 12.0 and records[3].latency_ms is not None
    assert records[3].payload == ["NotSupported", "", {}]
    stats = compute(records)
    assert [a.kind for a in stats.anomalies] == ["RAW frame"]
    assert stats.error_codes == {("NotSupported", "Reset"): 1}


def test_expectations_compare_json_values_not_spellings():
    """A command's dateTime in another RFC 3339 spelling and a number in another JSON spelling
    (6000 for 6000.0, 1.0 for 1) are the values the operator asked for (1.6 §2.3, RFC 8259
    §6); a boolean is no number, another instant another value."""
    from chargebench.matching import contains

    def matches(subset, payload):
        return contains(subset).match(payload).ok

    assert matches({"limit": 6000.0}, {"limit": 6000})
    assert matches({"startSchedule": "2026-01-01T00:00:00Z"},
                   {"startSchedule": "2026-01-01T00:00:00.000+00:00"})
    assert matches({"connectorId": 1}, {"connectorId": 1.0})
    assert not matches({"connectorId": 1}, {"connectorId": True})
    assert not matches({"startSchedule": "2026-01-01T00:00:00Z"},
                       {"startSchedule": "2026-01-01T00:00:01Z"})
    assert not matches({"startSchedule": "2026-01-01T00:00:00Z"},
                       {"startSchedule": "2026-01-01T00:00:00"})  # no offset: not RFC 3339
