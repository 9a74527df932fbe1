"""Run the conformance suite in a pytest subprocess, with peers on a background loop here."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from chargebench.ports import listen_port

ROOT = Path(__file__).resolve().parents[2]
CASES = ROOT / "conformance" / "cases"
#: Scaled down so that a peer that never answers fails fast; raise it on a slow machine.
TIMEOUT = "0.3"
PASSWORD = "CB-TEST-PASSWORD-1"


@dataclass
class Run:
    returncode: int
    output: str
    summary: dict | None

    def outcomes(self) -> dict[str, str]:
        """Full case id (with parameter when several tests share one) -> outcome."""
        cases = (self.summary or {}).get("cases", [])
        return {case["case"]: case["outcome"] for case in cases}


def free_port() -> int:
    """A port for a harness that the peer may dial before it listens (see chargebench.ports)."""
    return listen_port()


def run_suite(tmp_path: Path, *args: str, timeout: float = 120) -> Run:
    """`pytest conformance/cases ARGS` in a subprocess, results in `tmp_path`."""
    results = tmp_path / "results"
    command = [
        sys.executable, "-m", "pytest", str(CASES), "-p", "no:cacheprovider", "-q",
        "--cb-results", str(results), "--cb-timeout", TIMEOUT, *args,
    ]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
    )
    summary_path = results / "summary.json"
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else None
    return Run(done.returncode, done.stdout + done.stderr, summary)


def capabilities(tmp_path: Path, **entries: object) -> str:
    """Write a capabilities YAML file and return its path."""
    import yaml

    path = tmp_path / "capabilities.yaml"
    path.write_text(yaml.safe_dump(entries))
    return str(path)


class Background:
    """One suite run (`chargebench conform ...` or a peer's runner) in a subprocess started in
    the background, so that several runs overlap (they mostly wait on timers) and several tests
    read one run's verdicts. `--results` goes in before the command's `--`; output goes to a
    file, not a pipe, so a chatty run never blocks."""

    def __init__(self, workdir: Path, command: list[str], timeout: float = 150) -> None:
        import time

        self.results = workdir / "results"
        self.timeout = timeout
        cut = command.index("--")
        command = [*command[:cut], "--results", str(self.results), *command[cut:]]
        self._out = open(workdir / "output.txt", "w+", encoding="utf-8")  # noqa: SIM115
        self.started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self._out,
                                        stderr=subprocess.STDOUT, text=True)
        self._done: tuple[int, str, dict, float] | None = None

    def wait(self) -> tuple[int, str, dict, float]:
        """(exit code, output, case -> summary entry, wall seconds from start to exit)."""
        import time

        if self._done is None:
            try:
                code = self.process.wait(self.timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                code = self.process.wait()
            elapsed = time.monotonic() - self.started
            self._out.seek(0)
            output = self._out.read()
            self._out.close()
            summary = self.results / "summary.json"
            cases = json.loads(summary.read_text())["cases"] if summary.exists() else []
            self._done = (code, output, {case["case"]: case for case in cases}, elapsed)
        return self._done

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


class SelfRun(Background):
    """`chargebench conform --role ROLE --self` in the background (`Background`), with an
    optional fault plan for the simulated peer."""

    def __init__(self, workdir: Path, role: str, *pytest_args: str, faults: dict | None = None,
                 conform_args: tuple[str, ...] = (), timeout: float = 150) -> None:
        import yaml

        command = [sys.executable, "-m", "chargebench", "conform", "--role", role, "--self"]
        if faults is not None:
            plan = workdir / "faults.yaml"
            plan.write_text(yaml.safe_dump(faults))
            command += ["--self-faults", str(plan)]
        command += [*conform_args, "--", "-q", "-p", "no:cacheprovider", *pytest_args]
        super().__init__(workdir, command, timeout)


#: --cb-timeout of the independent runs: the charger answers in milliseconds and its timers run
#: 20 times as fast, so 3 s leaves room on a loaded machine and keeps failing cases short
INDEPENDENT_TIMEOUT = "3"


class IndependentRun(Background):
    """The cp-role suite against the independent charge point of `tests.conformance.indep`
    (variant `variant`), started in the background like `SelfRun`; `wait()` gives the same
    (exit code, output, case -> summary entry, seconds)."""

    def __init__(self, workdir: Path, variant: str, *pytest_args: str,
                 timeout: float = 170) -> None:  # fmt: skip
        command = [sys.executable, "-m", "tests.conformance.indep.run_cp16", variant,
                   "--timeout", INDEPENDENT_TIMEOUT, "--",
                   "-q", "-p", "no:cacheprovider", "-p", "no:warnings", *pytest_args]
        super().__init__(workdir, command, timeout)
