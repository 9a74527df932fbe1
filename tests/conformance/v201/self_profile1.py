"""Our 2.0.1 station dialling with security profile 1 (HTTP Basic with its BasicAuthPassword)
under the cs-role suite: the A cases of the password need a station that uses one, and the
self run's default station connects at profile 0. Test code only.

`python -m tests.conformance.v201.self_profile1 --results DIR [-- pytest args]`
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

CASES = Path(__file__).resolve().parents[3] / "conformance" / "cases" / "v201"
STATION_ID = "CB-CONFORM-1"


def main(argv: list[str] | None = None) -> int:
    import pytest

    from chargebench.ports import listen_port
    from conformance import selfsim
    from conformance.background import BackgroundLoop
    from conformance.operator import ControlOperator
    from conformance.v201 import selfstation
    from tests.conformance.v201.indep_station201 import Hooks

    parser = argparse.ArgumentParser(prog="self_profile1")
    parser.add_argument("--results", type=Path, required=True)
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:cut]), argv[cut + 1:]
    port = listen_port()
    url = f"ws://127.0.0.1:{port}/ocpp"
    work = Path(tempfile.mkdtemp(prefix="cb-conform-p1-"))
    profile = [{"configurationSlot": 1, "connectionData": {
        "messageTimeout": 30, "ocppCsmsUrl": url, "ocppInterface": "Wired0",
        "ocppTransport": "JSON", "ocppVersion": "OCPP20", "securityProfile": 1}}]
    try:
        with BackgroundLoop() as loop:
            async def start():
                station = selfstation.build(STATION_ID, url, state_dir=work / "cs", settings={
                    "NetworkConnectionProfiles": json.dumps(profile), "SecurityProfile": "1"})
                await station.start()
                return station

            station = loop.run(start())
            password = station.settings.text("BasicAuthPassword") or ""
            try:
                return int(pytest.main([
                    str(CASES), "-p", "no:cacheprovider", "--cb-role", "cs", "--cb-ocpp",
                    "2.0.1", "--cb-results", str(args.results), "--cb-listen",
                    f"127.0.0.1:{port}", "--cb-cp-id", STATION_ID, "--cb-timeout", "5",
                    "--cb-connect-timeout", "30", "--cb-boot-timeout", "15",
                    "--cb-reconnect-timeout", "30", "--cb-password", password, *extra,
                ], plugins=[Hooks(ControlOperator(selfsim.SimControl(station),
                                                  loop.submit))]))
            finally:
                with contextlib.suppress(Exception):
                    loop.run(station.stop(), timeout=10)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
