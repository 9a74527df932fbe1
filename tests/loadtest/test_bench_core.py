"""`python -m loadtest.bench_core` with 2.0.1 beside 1.6 (issue 18 point 6), tiny, so that it
cannot rot; and the fleet benchmark's honest refusal of 2.0.1 until the simulator speaks it."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from chargebench.ocppj import VERSIONS
from chargebench.ocppj.validation import check_payload
from loadtest import bench_fleet
from loadtest._bench import ServerProcess
from loadtest.bench_core import HOST, SUBPROTOCOLS, main, mix_calls, start_chargebench


def _exchange(port: int, subprotocol: str, frames: list[str]) -> tuple[str | None, list]:
    with connect(f"ws://{HOST}:{port}/CP1", subprotocols=[Subprotocol(subprotocol)],
                 compression=None, proxy=None, open_timeout=10) as ws:
        replies = []
        for frame in frames:
            ws.send(frame)
            replies.append(json.loads(ws.recv(timeout=10)))
        return ws.subprotocol, replies


def test_core_server_speaks_the_version_of_the_handshake() -> None:
    """One port, both versions: a Heartbeat and every CALL of the charging mix get a CALLRESULT
    in each, and a frame with a missing element earns each version's own CALLERROR (1.6
    FormationViolation, OCPP-J 1.6 §4.2.3; 2.0.1 RpcFrameworkError, OCPP-J 2.0.1 §4.3), so a
    2.0.1 figure is 2.0.1 validation."""
    with ServerProcess(start_chargebench) as server:
        for (ocpp, subprotocol), code in zip(SUBPROTOCOLS.items(),
                                             ("FormationViolation", "RpcFrameworkError"),
                                             strict=True):
            charging = [f'[2,"c{n}",{tail}' for n, tail in enumerate(mix_calls("charging", ocpp))]
            agreed, (beat, bad, *answers) = _exchange(
                server.port, subprotocol,
                ['[2,"1","Heartbeat",{}]', '[2,"2","Heartbeat"]', *charging])
            assert agreed == subprotocol
            assert beat[:2] == [3, "1"] and "currentTime" in beat[2], beat
            assert bad[0] == 4 and bad[2] == code, (subprotocol, bad)
            assert [answer[0] for answer in answers] == [3] * len(charging), (ocpp, answers)


@pytest.mark.parametrize("ocpp", ["1.6", "2.0.1"])
def test_charging_mix_is_valid_in_its_version(ocpp: str) -> None:
    """The charging mix's CALLs pass the version's own request schemas (the 2.0.1 ones are
    the 1.6 messages' equivalents, not the 1.6 messages sent over 2.0.1)."""
    version = VERSIONS[SUBPROTOCOLS[ocpp]]
    actions = []
    for tail in mix_calls("charging", ocpp):
        _, _, action, payload = json.loads('[2,"1",' + tail)
        check_payload(version, action, payload, response=False)
        actions.append(action)
    expected = (["StatusNotification", "StartTransaction", "MeterValues", "StopTransaction"]
                if ocpp == "1.6" else ["StatusNotification"] + ["TransactionEvent"] * 3)
    assert actions == expected


@pytest.mark.slow
@pytest.mark.parametrize("mix", ["heartbeat", "charging"])
def test_both_versions_side_by_side_with_their_ratio(
        mix: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--ocpp both`: every figure for 1.6 and 2.0.1, measured in the same run, and the ratio
    2.0.1/1.6 of each; the headline ratio of our core agrees with its row. With the charging
    mix every server answers every CALL in both versions (a CALLERROR would stop the run)."""
    argv = ["--ocpp", "both", "--clients", "2", "--seconds", "0.5", "--warmup", "0.2"]
    assert main([*argv, "--mix", mix]) == 0
    out = capsys.readouterr().out
    assert ("mix=charging" in out.splitlines()) == (mix == "charging"), out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()}
    assert rows["metric"] == ["1.6", "2.0.1", "2.0.1/1.6"], out
    for name in ("raw_rt_s", "python_ocpp_rt_s", "chargebench_rt_s"):
        v16, v201, ratio = (float(value) for value in rows[name])
        assert v16 > 0 and v201 > 0, out
        assert abs(ratio - v201 / v16) <= 0.01 + 0.01 * ratio, out
    for name in ("vs_python_ocpp", "ratio_vs_raw"):
        assert all(float(value) > 0 for value in rows[name]), out
    headline = float(out.split("chargebench_201_vs_16=")[1].split()[0])
    assert abs(headline - float(rows["chargebench_rt_s"][2])) <= 0.011, out


def test_min_ratio_needs_both_versions(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--ocpp", "2.0.1", "--min-ratio", "0.8"])
    assert exited.value.code == 2
    assert "--ocpp both" in capsys.readouterr().err


def test_bench_fleet_refuses_an_unknown_ocpp_version(
        capsys: pytest.CaptureFixture[str]) -> None:
    """The fleet speaks 1.6 and 2.0.1 (issue 19); any other version: exit 2, one line."""
    with pytest.raises(SystemExit) as exited:
        bench_fleet.main(["--cps", "10", "--ocpp", "2.1"])
    assert exited.value.code == 2
    assert "--ocpp" in capsys.readouterr().err
