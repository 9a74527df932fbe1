"""OCPP requests per second of ONE Locust worker process, full validation on the client side.

    python -m loadtest.bench_locust --users 100 --seconds 10

The fast scripted CSMS (`loadtest.scripted_csms`, on the session core) runs in its own process;
one headless Locust process (locustfile `loadtest/locust_flood.py`) runs `--users` charge
points that send Heartbeats back to back through `OcppClient` (both payloads validated, every
request recorded in Locust's stats). Prints requests/s counted after `--warmup`, and failures.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from loadtest._bench import ServerProcess
from loadtest.bench_core import HOST
from loadtest.scripted_csms import start_scripted_csms

_LOCUSTFILE = Path(__file__).with_name("locust_flood.py")


def run_worker(port: int, users: int, seconds: float, warmup: float,
               profile: str | None = None) -> dict[str, str]:
    """Run one headless Locust process against `port`; return its BENCH key=values."""
    locust = [sys.executable, "-m", "locust"]
    if profile:
        locust = [sys.executable, "-m", "cProfile", "-o", profile, "-m", "locust"]
    command = [
        *locust, "-f", str(_LOCUSTFILE), "--headless", "--only-summary",
        "-u", str(users), "-r", str(users), "-t", f"{warmup + seconds:.0f}s",
        "--host", f"ws://{HOST}:{port}/ocpp", "--warmup", str(warmup),
        "--stop-timeout", "2", "--loglevel", "WARNING",
    ]
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=warmup + seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(item.split("=", 1) for item in line.split()[1:])
    raise RuntimeError(f"locust printed no result (exit {done.returncode}):\n{done.stderr}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtest.bench_locust",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the worker")
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 5000 or not 0 < args.seconds <= 600:
        parser.error("--users must be 1..5000 and --seconds 0..600")
    with ServerProcess(start_scripted_csms) as server:
        result = run_worker(server.port, args.users, args.seconds, args.warmup, args.profile)
    print(f"users={args.users}")
    print(f"ocpp_req_s={result['ocpp_req_s']}")
    print(f"failed={result['failed']}")


if __name__ == "__main__":
    main()
