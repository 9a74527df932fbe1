"""`chargebench conform [--ocpp 1.6|2.0.1] --role cp|cs|csms [--self] [pytest args...]`: the
conformance suite.

A thin wrapper around pytest with the plugin: it points pytest at `conformance/cases`, writes
JUnit XML, Allure results, traces and `summary.json` under `--results`, and with `--self` starts
ChargeBench's own peer on 127.0.0.1 for the role under test (the built-in CSMS for `--role csms`,
falling back to the reference CSMS of `conformance.selfpeers`; the reference charge point for
`--role cp`; our 2.0.1 station of `sim.v201`, `conformance.v201.selfstation`, for `--ocpp
2.0.1 --role cs`) and wires the trigger and operator hooks to it; `--self-profile N` runs the
built-in CSMS and the suite at security profile N with a generated PKI. Exit code: 0 every
case passed or was not applicable, 1 a case failed or the CSMS could not be reached, 2 usage or
environment (a bad option, a case module that does not import: an `<error>` in JUnit too),
130 after Ctrl-C and 143 after SIGTERM (both once what finished is written).

`--ocpp 2.0.1` runs the OCPP 2.0.1 suite (`conformance/cases/v201`, catalogue
`conformance/v201/catalog.yaml`); 1.6 stays the default. Its roles are part 6's: `cs` the
Charging Station (`cp`, the 1.6 name, is accepted for it) and `csms`; `--role cs` with 1.6 is a
usage error, since 1.6 OCTT ids end in _CS when the Central System is tested. Every catalogued
case is reported, those without an implementation as SKIPPED "not implemented". Nothing executed
is not a pass: a run in which no selected case is implemented exits 2, as a 1.6 run that selects
no case does (pytest's "no tests collected"); a run in which some ran exits as above, the
not-implemented ones counted per profile beside the verdicts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from chargebench.cli import UsageError, check_csms_url, writable_dir
from conformance.background import BackgroundLoop
from conformance.operator import ControlOperator
from conformance.plugin import TERMINATED, Terminated
from conformance.settings import VERSIONS, Settings

CASES = Path(__file__).with_name("cases")


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `conform` on the root CLI's `subparsers`."""
    parser = subparsers.add_parser(
        "conform", help="run the OCPP conformance suite (1.6J, or 2.0.1 with --ocpp 2.0.1) "
        "against a CSMS or a charge point",
        description="Arguments after `--` go to pytest (e.g. -- --cb-password KEY "
        "--cb-capabilities FILE -k RPC -x); `pytest --help` lists the --cb-* options.",
    )
    parser.add_argument("--role", required=True, choices=("cp", "cs", "csms"),
                        help="role of the system under test: csms, or the station: cp for "
                        "OCPP 1.6 (charge point), cs for 2.0.1 (Charging Station; cp is "
                        "accepted for it)")
    parser.add_argument("--ocpp", choices=VERSIONS, default=VERSIONS[0],
                        help="OCPP version of the suite (default %(default)s); 2.0.1 lists "
                        "every case of its part 6, unimplemented ones as not implemented")
    parser.add_argument("--self", dest="self_peer", action="store_true",
                        help="test ChargeBench's own peer, started on 127.0.0.1")
    parser.add_argument("--results", type=Path, default=Path("results/conformance"),
                        metavar="DIR",
                        help="JUnit, Allure, traces, summary.json (default %(default)s)")
    parser.add_argument("--csms", metavar="URL", help="OCPP-J endpoint of the CSMS under test "
                        "(the charge point id is appended)")
    parser.add_argument("--target", dest="target", metavar="URL",
                        help=argparse.SUPPRESS)  # deprecated spelling of --csms
    parser.add_argument("--ca", metavar="FILE", type=Path,
                        help="CA certificate (PEM) that signed the CSMS's TLS certificate "
                        "(wss://; same as -- --cb-ca)")
    parser.add_argument("--admin-token", metavar="TOKEN",
                        default=os.environ.get("CHARGEBENCH_ADMIN_TOKEN"),
                        help="Bearer token of the CSMS's HTTP actions API, which triggers its "
                        "commands (default: $CHARGEBENCH_ADMIN_TOKEN; same as -- "
                        "--cb-trigger-token)")
    parser.add_argument("--listen", metavar="HOST:PORT",
                        help="where the charge point under test connects")
    for name, default in (("connect", 120), ("boot", 60), ("reconnect", 90)):
        parser.add_argument(f"--{name}-timeout", type=float, metavar="S",
                            help=f"charge point under test: --cb-{name}-timeout (default "
                            f"{default} s)")
    parser.add_argument("--self-profile", type=int, choices=(0, 1, 2, 3), default=0,
                        metavar="N",
                        help="with --role csms --self: run the built-in CSMS and the suite at "
                        "security profile N (1 basic auth, 2 TLS + basic auth, 3 mutual TLS; "
                        "default 0)")
    parser.add_argument("--self-faults", type=Path, metavar="YAML",
                        help="with --role cp|cs --self: a fault plan (sim.features.faults) making "
                        "the simulator misbehave, to see which cases catch it")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="-- then pytest arguments")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run pytest on the cases; returns the project's exit code (`exit_code`). SIGTERM is
    turned into the KeyboardInterrupt pytest handles, so both signals end the run the same
    way: JUnit, Allure and summary.json hold what finished."""
    signals: list[int] = []

    def terminate(signum: int, frame: Any) -> None:
        signals.append(signum)
        TERMINATED.append(signum)
        # handled as Ctrl-C is: by asyncio.Runner's SIGINT handler while a case runs (it
        # cancels the case's task and raises KeyboardInterrupt once that task is done, so no
        # task is left pending), else by Python's default one (KeyboardInterrupt at once)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler) or handler is signal.default_int_handler:
            raise Terminated
        handler(signal.SIGINT, frame)

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        code = _run(args)
    except KeyboardInterrupt:
        code = pytest.ExitCode.INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    return exit_code(code, terminated=signal.SIGTERM in signals)


def exit_code(pytest_code: int, *, terminated: bool = False) -> int:
    """pytest's exit code in the project's terms: 0 ok, 1 a verdict failed, 2 usage or
    environment (pytest's usage error, which the plugin also gives for a case module that does
    not import, or no case selected), 130 after SIGINT, 143 after SIGTERM."""
    if pytest_code == pytest.ExitCode.INTERRUPTED:
        return 143 if terminated else 130
    if pytest_code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.NO_TESTS_COLLECTED):
        return 2
    return int(pytest_code)


def _run(args: argparse.Namespace) -> int:
    results: Path = args.results
    extra = list(args.pytest_args)
    if extra[:1] == ["--"]:
        extra = extra[1:]
    target = args.csms or args.target
    if args.target:
        print("chargebench: --target is deprecated: use --csms", file=sys.stderr)
        if args.csms and args.csms != args.target:
            raise UsageError("--target is the old name of --csms: give one of them")
    if target and args.self_peer:
        raise UsageError("--csms names a CSMS to test; --self starts ChargeBench's own: not both")
    if target:
        check_csms_url(target, "--csms")
        extra += ["--cb-target", target]
    # checked before pytest starts: an unwritable folder is one line, not an INTERNALERROR
    writable_dir(results, "--results")
    if args.ca:
        if not args.ca.is_file():
            raise UsageError(f"--ca {args.ca}: no such file")
        extra += ["--cb-ca", str(args.ca)]
    if args.admin_token:
        extra += ["--cb-trigger-token", args.admin_token]
    if args.listen:
        extra += ["--cb-listen", args.listen]
    for name in ("connect", "boot", "reconnect"):
        if getattr(args, f"{name}_timeout", None) is not None:
            extra += [f"--cb-{name}-timeout", str(getattr(args, f"{name}_timeout"))]
    ocpp = getattr(args, "ocpp", VERSIONS[0])
    role = args.role
    if ocpp == "2.0.1":
        role = "cs" if role == "cp" else role
    elif role == "cs":
        raise UsageError("--role cs is the OCPP 2.0.1 Charging Station (with --ocpp 2.0.1); "
                         "for OCPP 1.6 say --role cp")
    argv = [
        str(CASES / "v201" if ocpp == "2.0.1" else CASES), "-p", "no:cacheprovider",
        "--cb-ocpp", ocpp, "--cb-role", role,
        "--cb-results", str(results), f"--junitxml={results / 'junit.xml'}",
        f"--alluredir={results / 'allure'}",
        # modules this process imported before pytest started cannot be rewritten: no news
        "-W", "ignore::pytest.PytestAssertRewriteWarning", *extra,
    ]
    profile = getattr(args, "self_profile", 0)
    if profile and (args.role != "csms" or not args.self_peer):
        raise UsageError("--self-profile goes with --role csms --self")
    if not args.self_peer:
        return int(pytest.main(argv))
    faults = getattr(args, "self_faults", None)
    peer_role = "cs" if ocpp == "2.0.1" and role == "cs" else args.role
    with BackgroundLoop() as loop, _self_peer(loop, peer_role, results, faults, profile) as (
        extra, plugin,
    ):
        if ocpp == "2.0.1" and "--cb-capabilities" in extra:  # 1.6 declarations
            at = extra.index("--cb-capabilities")
            extra = extra[:at] + extra[at + 2:]
        return int(pytest.main(argv + extra, plugins=[plugin]))


class _Hooks:
    """Implements the suite's hooks for a peer running on the background loop."""

    def __init__(self, operator: Any = None, trigger: Any = None) -> None:
        self.operator, self.trigger = operator, trigger

    def pytest_cb_operator(self, config: pytest.Config) -> Any:
        return self.operator

    def pytest_cb_trigger(self, config: pytest.Config) -> Any:
        return self.trigger


class _LoopTrigger:
    """Trigger hook for a CSMS running on the background loop: fire and forget."""

    def __init__(self, loop: BackgroundLoop, send: Any) -> None:
        self.loop, self.sendfn = loop, send

    async def send(self, cp_id: str, action: str, payload: dict) -> None:
        self.loop.submit(_quietly(self.sendfn(cp_id, action, payload)))


async def _quietly(coroutine: Any) -> None:
    with contextlib.suppress(Exception):
        await coroutine


@contextlib.contextmanager
def _self_peer(
    loop: BackgroundLoop, role: str, results: Path, faults: Path | None = None, profile: int = 0
) -> Iterator[tuple[list, Any]]:
    if role == "cp":
        with _self_charge_point(loop, results, faults) as started:
            yield started
        return
    if role == "cs":
        with _self_station(loop, faults) as started:
            yield started
        return
    work = Path(tempfile.mkdtemp(prefix="cb-conform-"))
    try:
        csms, url, trigger, declared, credentials = loop.run(
            _start_csms(loop, results, profile, work)
        )
        capabilities = results / "self-capabilities.yaml"
        capabilities.parent.mkdir(parents=True, exist_ok=True)
        capabilities.write_text(declared)
        try:
            yield ["--cb-target", url, "--cb-capabilities", str(capabilities),
                   *credentials], _Hooks(trigger=trigger)
        finally:
            loop.run(csms.close())
    finally:
        shutil.rmtree(work, ignore_errors=True)  # its PKI, seed and database: nothing stays


@contextlib.contextmanager
def _self_charge_point(
    loop: BackgroundLoop, results: Path, faults: Path | None
) -> Iterator[tuple[list, Any]]:
    """The simulator (`conformance.selfsim`) connecting to the harness, with a PKI for the
    security cases and the operator hook on its control surface."""
    import yaml

    from chargebench.ports import listen_port
    from chargebench.security import init_pki
    from conformance import selfsim
    from sim.features.faults import FaultPlan

    port = listen_port()  # the simulator dials before the harness listens
    work = Path(tempfile.mkdtemp(prefix="cb-conform-cp-"))
    pki = init_pki(work / "pki", cpo_name="ChargeBench")
    plan = FaultPlan.from_dict(yaml.safe_load(faults.read_text())) if faults else None
    capabilities = results / "self-capabilities.yaml"
    capabilities.parent.mkdir(parents=True, exist_ok=True)
    capabilities.write_text(selfsim.CAPABILITIES)

    async def start() -> Any:
        cp = selfsim.build(SELF_CP_ID, f"ws://127.0.0.1:{port}/ocpp",
                           state_dir=work / "cp", fault_plan=plan)
        await cp.start()
        return cp

    try:
        cp = loop.run(start())
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        yield [
            "--cb-listen", f"127.0.0.1:{port}", "--cb-capabilities", str(capabilities),
            "--cb-ca", str(pki.ca_cert), "--cb-ca-key", str(pki.ca_key),
            "--cb-cert", str(pki.csms_cert), "--cb-key", str(pki.csms_key),
            "--cb-timeout", "5", "--cb-connect-timeout", "30", "--cb-boot-timeout", "15",
            "--cb-reconnect-timeout", "30",
        ], _Hooks(operator=ControlOperator(selfsim.SimControl(cp), loop.submit))
    finally:
        with contextlib.suppress(Exception):
            loop.run(cp.stop(), timeout=10)
        shutil.rmtree(work, ignore_errors=True)  # PKI and the simulator's state


@contextlib.contextmanager
def _self_station(loop: BackgroundLoop, faults: Path | None) -> Iterator[tuple[list, Any]]:
    """Our 2.0.1 station (`conformance.v201.selfstation`) dialling the harness, with the
    operator hook on its control surface."""
    from chargebench.ports import listen_port
    from conformance import selfsim
    from conformance.v201 import selfstation
    from sim.features.faults import FaultPlan

    port = listen_port()  # the station dials before the harness listens
    work = Path(tempfile.mkdtemp(prefix="cb-conform-cs-"))
    plan = FaultPlan.from_dict(yaml.safe_load(faults.read_text())) if faults else None

    async def start() -> Any:
        station = selfstation.build(SELF_CP_ID, f"ws://127.0.0.1:{port}/ocpp",
                                    state_dir=work / "cs", fault_plan=plan)
        await station.start()
        return station

    try:
        station = loop.run(start())
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    try:
        yield [
            "--cb-listen", f"127.0.0.1:{port}", "--cb-timeout", "5",
            "--cb-connect-timeout", "30", "--cb-boot-timeout", "15",
            "--cb-reconnect-timeout", "30",
        ], _Hooks(operator=ControlOperator(selfsim.SimControl(station), loop.submit))
    finally:
        with contextlib.suppress(Exception):
            loop.run(station.stop(), timeout=10)
        shutil.rmtree(work, ignore_errors=True)


#: the suite's default --cb-cp-id, which the self runs keep
SELF_CP_ID = Settings.cp_id
SELF_NEVER_BOOTED = "CB-CONFORM-NEVER-BOOTED"


def _self_capabilities(profile: int) -> str:
    """What the built-in CSMS declares: every profile. At profile 0 it admits unknown charge
    points (csms.config UnknownChargerPolicy.ACCEPT), so never-booted ids are derived from
    --cb-cp-id; from profile 1 on it refuses them (HTTP 404, RPC_023: an unknown id could not
    authenticate anyway) and a registered id stands in for a never-booted one."""
    declared: dict[str, Any] = {
        "profiles": ["core", "ocppj", "firmware", "localauth", "reservation", "smartcharging",
                     "remotetrigger", "security"],
        "rejects_unknown_charge_points": profile > 0,
    }
    if profile:
        declared["never_booted_cp_id"] = SELF_NEVER_BOOTED
    return yaml.safe_dump(declared, sort_keys=False)

#: The id tags the cases expect the CSMS to know (conformance.capabilities defaults).
SELF_SEED = """\
id_tags:
  - {id_tag: CB-VALID-1, status: Accepted}
  - {id_tag: CB-BLOCKED-1, status: Blocked}
  - {id_tag: CB-EXPIRED-1, status: Accepted, expiry: "2020-01-01T00:00:00Z"}
"""


async def _start_csms(loop: BackgroundLoop, results: Path, profile: int, work: Path
                      ) -> tuple[Any, str, Any, str, list[str]]:
    """The built-in CSMS when it is available, driven through its HTTP actions API, with the
    seed, CA and credentials the cases need at security `profile`; else the reference CSMS
    (Core and OCPP-J cases only, profile 0). The last item: the suite's --cb-* credentials.
    `work` holds the PKI, seed and database; the caller removes it."""
    try:
        from chargebench.security import init_pki
        from conformance.triggers import HttpActionsTrigger
        from csms.central import CentralSystem
        from csms.config import CsmsConfig, UnknownChargerPolicy
    except ImportError:
        from conformance.selfpeers import ReferenceCsms

        if profile:
            raise UsageError("--self-profile needs the built-in CSMS (the csms package)") from None
        reference = await ReferenceCsms().start()
        declared = "profiles: [core, ocppj]\nrejects_unknown_charge_points: false\n"
        return reference, reference.url, _LoopTrigger(loop, reference.send), declared, []
    results.mkdir(parents=True, exist_ok=True)
    # A CA key lets the CSMS sign SignCertificate CSRs (whitepaper A02, TC_074); at profile 3
    # the suite presents a client certificate whose CN is its charge point's serial (A00.FR.511)
    pki = await asyncio.to_thread(init_pki, work / "pki", charge_points=[SELF_CP_ID])
    seed = work / "seed.yaml"
    password = secrets.token_hex(10) if profile in (1, 2) else None  # 20 characters
    seed.write_text(SELF_SEED + _self_chargers(profile, password), encoding="utf-8")
    token = secrets.token_urlsafe(24)
    tls = {"tls_cert": pki.csms_cert, "tls_key": pki.csms_key} if profile >= 2 else {}
    unknown = UnknownChargerPolicy.REFUSE if profile else UnknownChargerPolicy.ACCEPT
    csms = CentralSystem(CsmsConfig(
        port=0, db=work / "csms.db", seed=seed, log_dir=results / "csms-logs", api_port=0,
        admin_token=token, tls_ca=pki.ca_cert, ca_key=pki.ca_key, unknown_chargers=unknown,
        **tls,
    ))  # fmt: skip
    await csms.start()
    trigger = HttpActionsTrigger(f"http://127.0.0.1:{csms.api_port}", token)
    credentials = ["--cb-security-profile", str(profile), "--cb-cp-id", SELF_CP_ID,
                   "--cb-ca", str(pki.ca_cert),
                   "--cb-invalid-cert", str(pki.invalid_client_cert),
                   "--cb-invalid-key", str(pki.invalid_client_key)]
    if password is not None:
        credentials += ["--cb-password", password]
    if profile == 3:
        cert, key = pki.charge_points[SELF_CP_ID]
        credentials += ["--cb-cert", str(cert), "--cb-key", str(key)]
    return csms, csms.url().rstrip("/"), trigger, _self_capabilities(profile), credentials


def _self_chargers(profile: int, password: str | None) -> str:
    """Seed entries: at profiles 1-3 the suite's charge point and the never-booted one are
    registered at that profile; the never-booted one shares the suite's serial, so the client
    certificate of profile 3 is valid for both."""
    if not profile:
        return ""
    auth = f', password: "{password}"' if password else ""  # quoted: it may be all digits
    return "chargers:\n" + "".join(
        f"  - {{id: {cp_id}, serial: {SELF_CP_ID}, security_profile: {profile}{auth}}}\n"
        for cp_id in (SELF_CP_ID, SELF_NEVER_BOOTED)
    )
