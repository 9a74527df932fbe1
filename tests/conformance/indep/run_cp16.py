"""`python -m tests.conformance.indep.run_cp16 VARIANT --results DIR [-- pytest args]`: the
cp-role suite against the independent charge point (`cp16.VARIANTS[VARIANT]`), the way
`chargebench conform --role cp --self` runs it against the simulator: the charger on a
background loop, the operator hook on its control surface, pytest in this process."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from chargebench.ports import listen_port
from conformance.background import BackgroundLoop
from conformance.operator import ControlOperator
from tests.conformance.indep.cp16 import VARIANTS, IndependentChargePoint, capabilities

CASES = Path(__file__).resolve().parents[3] / "conformance" / "cases"
CP_ID = "CB-CONFORM-1"


class Hooks:
    def __init__(self, operator: Any) -> None:
        self.operator = operator

    def pytest_cb_operator(self, config: pytest.Config) -> Any:
        return self.operator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="run_cp16")
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--speed", type=float, default=20.0,
                        help="charger seconds per wall second (default %(default)s)")
    parser.add_argument("--timeout", default="5", help="--cb-timeout (default %(default)s)")
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:cut]), argv[cut + 1:]
    options = VARIANTS[args.variant]
    port = listen_port()  # the charger dials before the harness listens
    args.results.mkdir(parents=True, exist_ok=True)
    declared = args.results / "capabilities.yaml"
    declared.write_text(yaml.safe_dump(capabilities(options)))
    with BackgroundLoop() as loop:
        async def start() -> IndependentChargePoint:
            return IndependentChargePoint(f"ws://127.0.0.1:{port}/ocpp", CP_ID, options,
                                          speed=args.speed).start()

        charger = loop.run(start())
        try:
            return int(pytest.main([
                str(CASES), "-p", "no:cacheprovider", "--cb-role", "cp",
                "--cb-results", str(args.results), "--cb-listen", f"127.0.0.1:{port}",
                "--cb-capabilities", str(declared), "--cb-cp-id", CP_ID,
                "--cb-timeout", args.timeout, *extra,
            ], plugins=[Hooks(ControlOperator(charger, loop.submit))]))
        finally:
            loop.run(charger.stop(), timeout=10)


if __name__ == "__main__":
    sys.exit(main())
