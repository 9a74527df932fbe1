"""pytest plugin of the conformance suite (entry point `pytest11: chargebench`).

Loaded by every pytest run of the project, so it is inert unless `--cb-role` is given: it then
adds nothing but its options, markers and hook specs. With `--cb-role` it registers a
`ConformanceRun`, which maps each collected case to its catalogue entry (`@pytest.mark.octt`),
drops cases of the other role or of unselected profiles, skips cases the capabilities rule out
("not applicable: ..."), and prints/writes the per-profile summary. Fixtures live in
`conformance/cases/conftest.py`, next to the cases, never here.

`--cb-ocpp 2.0.1` runs the OCPP 2.0.1 suite instead: the catalogue `conformance/v201/catalog.yaml`
(every part 6 case), the cases under `conformance/cases/v201/` (and only those: a 1.6 run never
collects them), roles "cs" and "csms". Every catalogued case of the role appears once: its
implementation, else the placeholder of `cases/v201/test_not_implemented.py`, SKIPPED "not
implemented" (never passed). Whether a case applies to the station under test is read from its
device model once it is connected (`conformance.v201.prerequisites`, by the cs cases' fixtures):
NOT APPLICABLE with the reason, as the 1.6 capabilities make it at collection. The
per-profile lines ("Core: 58/60 passed, 2 not applicable") are also JUnit `<properties>` and
Allure environment entries. A run in which no selected case is implemented tested nothing: it
ends as pytest's "no tests collected" (exit 5; `chargebench conform`: 2, as a 1.6 run that
selects no case), with the reason in the terminal and summary.json.
"""

from __future__ import annotations

import contextlib
import os
import re
import warnings
from dataclasses import replace
from pathlib import Path

import pytest

from conformance import casesteps, hooks
from conformance.capabilities import PROFILES, Capabilities
from conformance.catalog import Case, load_catalog
from conformance.settings import ROLES, V201_ROLES, VERSIONS, Settings
from conformance.summary import (
    NOT_APPLICABLE,
    NOT_IMPLEMENTED,
    AnyCase,
    Summary,
    case_verdict,
    error_verdict,
    trace_name,
)
from conformance.v201 import catalog as v201
from reports.allure import write_allure
from reports.junit import write_junit
from reports.outcome import Outcome, Verdict

SETTINGS = pytest.StashKey[Settings]()
#: Cases after which the system under test expects a higher security profile from the charge
#: point (whitepaper A05: never back down): every case after them would need the new level.
RUN_LAST = frozenset({"TC_083"})
CASE = pytest.StashKey[AnyCase]()
#: the marker of the 2.0.1 placeholder of a catalogued case without an implementation
PLACEHOLDER = "cb_not_implemented"


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where pytest expects Ctrl-C (`conformance.cli`), so both end the run
    the same way; the type tells the closing line which signal it was."""


#: SIGTERMs `conformance.cli` received: SIGTERM may reach pytest as a plain KeyboardInterrupt
#: (through asyncio.Runner's SIGINT handler), so the closing line looks here as well
TERMINATED: list[int] = []


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("chargebench", "ChargeBench conformance (OCPP 1.6J, 2.0.1)")
    add = group.addoption
    add("--cb-role", choices=(*ROLES, "cs"),
        help="role of the system under test; enables the suite (OCPP 1.6: cp or csms; "
        "2.0.1: cs, the Charging Station, cp accepted for it, or csms)")
    add("--cb-ocpp", choices=VERSIONS, default=VERSIONS[0],
        help="OCPP version of the suite (default %(default)s)")
    add("--cb-target", metavar="URL", help="OCPP-J endpoint of the CSMS under test")
    add("--cb-listen", metavar="HOST:PORT", default="127.0.0.1:9000",
        help="where the charge point under test connects (default %(default)s)")
    add("--cb-cp-id", metavar="ID", default="CB-CONFORM-1", help="charge point identity")
    add("--cb-security-profile", type=int, choices=(0, 1, 2, 3), default=0)
    add("--cb-password", metavar="KEY", help="AuthorizationKey for security profiles 1 and 2")
    add("--cb-ca", metavar="PEM", help="CA certificate (profiles 2, 3)")
    add("--cb-ca-key", metavar="PEM",
        help="key of --cb-ca: signs charge point CSRs (SignCertificate, security cases)")
    add("--cb-cert", metavar="PEM", help="our certificate: client (profile 3) or server")
    add("--cb-key", metavar="PEM", help="key of --cb-cert")
    add("--cb-invalid-cert", metavar="PEM", help="a client certificate the CSMS must refuse")
    add("--cb-invalid-key", metavar="PEM", help="key of --cb-invalid-cert")
    add("--cb-profile", metavar="LIST",
        help=f"certification profiles to run, comma-separated ({','.join(PROFILES)})")
    add("--cb-capabilities", metavar="FILE", help="YAML: what the system under test supports")
    add("--cb-results", metavar="DIR", help="write summary.json and message traces here")
    add("--cb-timeout", type=float, default=10.0, metavar="S",
        help="how long to wait for each expected frame (default %(default)s)")
    add("--cb-connect-timeout", type=float, default=120.0, metavar="S",
        help="charge point under test: wait this long for it to connect (default %(default)s)")
    add("--cb-boot-timeout", type=float, default=60.0, metavar="S",
        help="charge point under test: wait this long for its BootNotification after a "
        "reboot (default %(default)s)")
    add("--cb-reconnect-timeout", type=float, default=90.0, metavar="S",
        help="charge point under test: wait this long for it to come back after a reset, "
        "power loss or network loss (default %(default)s)")
    add("--cb-trigger-url", metavar="URL", help="HTTP actions API of the CSMS under test")
    add("--cb-trigger-token", metavar="TOKEN",
        help="Bearer token for --cb-trigger-url (default: $CB_TRIGGER_TOKEN)")
    add("--cb-operator", choices=("auto", "terminal", "none"), default="auto",
        help="who performs physical actions at a charge point under test")
    add("--cb-id-tag", metavar="TAG", default="CB-VALID-1", help="an id tag the CSMS accepts")


@pytest.hookimpl(tryfirst=True)  # before pytest-asyncio reads its configuration
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "octt(id): the catalogue id of a conformance case")
    config.addinivalue_line(
        "markers", f"{PLACEHOLDER}: the placeholder of a 2.0.1 case without an implementation")
    config.addinivalue_line(
        "markers", "cb_requires(component, variable=None, contains=None, equals=None): a "
        "2.0.1 case's prerequisite in the station's device model (conformance.v201."
        "prerequisites)")
    role = config.getoption("--cb-role", None)
    if role is None:
        return
    own_configuration(config)
    try:
        settings = settings_from(config)
    except pytest.UsageError as error:  # CI reads the result files: say it there too
        _write_usage_error(config, role, str(error))
        raise
    config.stash[SETTINGS] = settings
    run = ConformanceRun(settings)
    run.pluginmanager = config.pluginmanager
    # --junitxml: the verdicts are written by the project's one JUnit writer (`reports.junit`),
    # not by pytest's junitxml plugin, whose configure (after this tryfirst one) then sees none
    run.junit = Path(config.option.xmlpath) if getattr(config.option, "xmlpath", None) else None
    if run.junit is not None:
        config.option.xmlpath = None
    # --alluredir likewise: `reports.allure` writes the results, allure-pytest stays idle
    run.allure = getattr(config.option, "allure_report_dir", None)
    if run.allure is not None:
        run.clean_allure = bool(getattr(config.option, "clean_alluredir", False))
        config.option.allure_report_dir = None
    config.pluginmanager.register(run, "chargebench-conformance-run")


#: Where the cases live: collected when a run names no paths (the plugin's own testpaths).
CASES = Path(__file__).with_name("cases")
#: the OCPP 2.0.1 cases: collected by 2.0.1 runs only
V201_CASES = CASES / "v201"
#: pytest-asyncio's warning about a loop scope the cases name themselves (`own_configuration`)
_UNSET_LOOP_SCOPE = 'The configuration option "asyncio_default_fixture_loop_scope" is unset'


def own_configuration(config: pytest.Config) -> None:
    """Set what the cases need, whatever rootdir and ini file the run found: a user's
    directory has no pyproject of ours, and pytest-asyncio then runs in strict mode, where no
    case would run ("async def functions are not natively supported").

    - asyncio mode "auto" for the run; every case and async fixture runs on the one session
      loop (`conformance/cases/conftest.py` marks the cases, the fixtures name it), so fixture
      and test loop scopes match whatever the ini's defaults say;
    - the markers the cases use (`octt`), so `--strict-markers` holds;
    - the cases as testpaths when the command line names none.
    """
    config.option.asyncio_mode = "auto"
    # pytest-asyncio warns with warnings.warn in its own pytest_configure, which runs after
    # this one (tryfirst): a filter of the interpreter, not of pytest's ini, applies there
    warnings.filterwarnings("ignore", message=_UNSET_LOOP_SCOPE, category=pytest.PytestWarning)
    # pyftpdlib (the harness's FTP server for firmware and diagnostics cases) imports asyncore
    # and asynchat, deprecated since 3.6: noise in a verdict report, not the tester's concern
    config.addinivalue_line(
        "filterwarnings", r"ignore:The asyn\w+ module is deprecated:DeprecationWarning"
    )
    if config.args_source is not pytest.Config.ArgsSource.ARGS:
        v201_run = config.getoption("--cb-ocpp", VERSIONS[0]) == "2.0.1"
        config.args = [str(V201_CASES if v201_run else CASES)]


def _write_usage_error(config: pytest.Config, role: str, message: str) -> None:
    """A bad --cb-* option ends the run before any session: one ERROR verdict in the JUnit
    file, the Allure results and summary.json the run was asked for (as pytest's junitxml
    records a collection error), so a CI job reading them never sees a stale or empty pass."""
    verdicts = [error_verdict("options", message, "UsageError")]
    suite = _suite(role, config.getoption("--cb-ocpp", VERSIONS[0]))
    xmlpath = getattr(config.option, "xmlpath", None)
    alluredir = getattr(config.option, "allure_report_dir", None)
    results = config.getoption("--cb-results", None)
    with contextlib.suppress(OSError):  # an unwritable place: the usage line still stands
        if xmlpath:
            write_junit(suite, verdicts, Path(xmlpath))
        if alluredir:
            write_allure(verdicts, Path(alluredir), suite=suite,
                         clean=bool(getattr(config.option, "clean_alluredir", False)))
        if results:
            summary = Summary()
            summary.record("options", verdicts[0])
            summary.problem = message
            summary.write(Path(results) / "summary.json", role)


def settings_from(config: pytest.Config) -> Settings:
    """Validate the options into `Settings`; a bad combination is a usage error."""
    opt = config.getoption
    path = lambda name: Path(opt(name)) if opt(name) else None  # noqa: E731
    role, ocpp = opt("--cb-role"), opt("--cb-ocpp")
    if ocpp == "2.0.1":
        role = "cs" if role == "cp" else role  # the station: "cs" in part 6, "cp" in 1.6
        if opt("--cb-capabilities"):  # prerequisites will come from the device model
            raise pytest.UsageError("--cb-capabilities: not read by the OCPP 2.0.1 suite")
    elif role == "cs":  # 1.6 OCTT ids end in _CS when the Central System is under test
        raise pytest.UsageError("--cb-role cs names the OCPP 2.0.1 Charging Station: for "
                                "OCPP 1.6 say cp (charge point) or csms")
    known = tuple(v201.PROFILE_NAMES) if ocpp == "2.0.1" else PROFILES
    host, _, port = opt("--cb-listen").rpartition(":")
    if not host or not port.isdigit():
        raise pytest.UsageError("--cb-listen wants HOST:PORT")
    profiles = None
    if opt("--cb-profile"):
        profiles = frozenset(p.strip() for p in opt("--cb-profile").split(",") if p.strip())
        if profiles - set(known):
            raise pytest.UsageError(f"--cb-profile: unknown {sorted(profiles - set(known))}")
    try:
        capabilities = (
            Capabilities.load(opt("--cb-capabilities")) if opt("--cb-capabilities")
            else Capabilities()
        )
    except (OSError, ValueError, TypeError) as error:
        raise pytest.UsageError(f"--cb-capabilities: {error}") from None
    if opt("--cb-role") == "csms" and not opt("--cb-target"):
        raise pytest.UsageError("--cb-role csms needs --cb-target URL (the CSMS under test)")
    return Settings(
        role=role, ocpp=ocpp, target=opt("--cb-target"), listen=(host, int(port)),
        cp_id=opt("--cb-cp-id"), security_profile=opt("--cb-security-profile"),
        password=opt("--cb-password"), ca=path("--cb-ca"), ca_key=path("--cb-ca-key"),
        cert=path("--cb-cert"),
        key=path("--cb-key"), invalid_cert=path("--cb-invalid-cert"),
        invalid_key=path("--cb-invalid-key"), profiles=profiles, capabilities=capabilities,
        timeout=opt("--cb-timeout"), results=path("--cb-results"),
        connect_timeout=opt("--cb-connect-timeout"), boot_timeout=opt("--cb-boot-timeout"),
        reconnect_timeout=opt("--cb-reconnect-timeout"),
        trigger_url=opt("--cb-trigger-url"),
        trigger_token=opt("--cb-trigger-token") or os.environ.get("CB_TRIGGER_TOKEN"),
        operator=opt("--cb-operator"),
        id_tag=opt("--cb-id-tag"),
    )


def item_case_id(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("octt")
    return marker.args[0] if marker and marker.args else None


def item_roles(item: pytest.Item) -> tuple[str, ...]:
    """Cases under cases/csms or cases/cp belong to that role under test; others to both.
    2.0.1: cases under cases/v201/cs or cases/v201/csms, others to both 2.0.1 roles."""
    for parent in item.path.parents:
        if parent.name in ROLES and parent.parent.name == "cases":
            return (parent.name,)
        if parent.name == "v201" and parent.parent.name == "cases":
            return V201_ROLES
        if (parent.name in V201_ROLES and parent.parent.name == "v201"
                and parent.parent.parent.name == "cases"):
            return (parent.name,)
    return ROLES


def _suite(role: str, ocpp: str) -> str:
    """The JUnit suite (Allure parent suite) of a run."""
    return f"chargebench.conformance.{role}" if ocpp == "1.6" else (
        f"chargebench.conformance.v201.{role}")


class ConformanceRun:
    """The active part of the plugin, registered only when `--cb-role` is given."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.v201 = settings.ocpp == "2.0.1"
        self.catalog: dict[tuple[str, str], Case] = {} if self.v201 else load_catalog()
        #: the 2.0.1 catalogue, by full case id
        self.catalog201 = v201.load_catalog() if self.v201 else {}
        self.summary = (Summary("2.0.1", v201.PROFILE_NAMES) if self.v201 else Summary())
        #: 2.0.1: why the run tests nothing (no selected case implemented), else None
        self.nothing_tested: str | None = None
        self.selected = 0
        #: seconds per case, summed over its phases (setup, call, teardown)
        self.seconds: dict[str, float] = {}
        self.pluginmanager: pytest.PytestPluginManager | None = None  # set on registration
        self.interrupted: str | None = None  # "SIGINT" or "SIGTERM" once one ended the run
        #: where --junitxml asked for the JUnit report (`reports.junit`), or None
        self.junit: Path | None = None
        #: where --alluredir asked for Allure results (`reports.allure`), or None
        self.allure: str | None = None
        self.clean_allure = False
        #: the steps each case recorded (`conformance.casesteps`)
        self.steps: dict[str, list[Verdict]] = {}

    def pytest_ignore_collect(self, collection_path: Path, config: pytest.Config) -> bool | None:
        """A 1.6 run leaves cases/v201 alone; a 2.0.1 run collects nothing else of cases/."""
        path = collection_path
        if not (path == CASES or CASES in path.parents) or path.name in _ALWAYS:
            return None
        inside = path == V201_CASES or V201_CASES in path.parents
        if self.v201:
            return True if not inside and path != CASES else None
        return True if inside else None

    def lookup(self, case_id: str, role: str) -> AnyCase | None:
        """The catalogue entry of `case_id` for `role` in this run's version."""
        if self.v201:
            case = self.catalog201.get(case_id)
            return case if case is not None and case.role == role else None
        return self.catalog.get((case_id, role))

    def selected_profile(self, case: AnyCase) -> bool:
        return self.settings.profiles is None or bool(set(case.profiles) & self.settings.profiles)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]):
        if self.v201:
            items[:] = self._placeholders_yield(config, items)
        role, keep, drop = self.settings.role, [], []
        problems: list[tuple[str, str]] = []
        for item in items:
            case_id = item_case_id(item)
            if case_id is None:
                problems.append((item.nodeid, "no @pytest.mark.octt(...) marker"))
                continue
            if self.v201 and v201.role_of(case_id) not in item_roles(item):
                problems.append((item.nodeid, f"{case_id} is a {v201.role_of(case_id)} case "
                                 f"in the folder of the {'/'.join(item_roles(item))} cases"))
                continue
            if role not in item_roles(item) or (self.v201 and v201.role_of(case_id) != role):
                drop.append(item)
                continue
            case = self.lookup(case_id, role)
            if case is None:
                where = "v201/catalog.yaml" if self.v201 else "catalog.yaml"
                problems.append((item.nodeid, f"{case_id} ({role}) is not in {where}"))
                continue
            if not self.selected_profile(case):
                drop.append(item)
                continue
            item.stash[CASE] = case
            item.user_properties.extend([("octt", case.full_id), ("profile", case.profile)])
            if item.get_closest_marker(PLACEHOLDER) is not None:
                item.add_marker(pytest.mark.skip(reason=NOT_IMPLEMENTED))
                keep.append(item)
                continue
            reason = self.not_applicable(case)
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"{NOT_APPLICABLE}: {reason}"))
            keep.append(item)
        if problems:
            for nodeid, problem in problems:  # in JUnit and Allure too (`pytest_sessionfinish`)
                self.summary.record(nodeid, error_verdict(nodeid, problem, "UsageError"))
            raise pytest.UsageError("conformance catalogue mismatch:\n  " + "\n  ".join(
                f"{nodeid}: {problem}" for nodeid, problem in problems))
        if drop:
            config.hook.pytest_deselected(items=drop)
        items[:] = sorted(keep, key=lambda item: item_case_id(item) in RUN_LAST)  # stable
        self.selected = len(keep)
        if self.v201 and keep and all(i.get_closest_marker(PLACEHOLDER) for i in keep):
            self.nothing_tested = (
                f"none of the {len(keep)} selected OCPP 2.0.1 {role} cases is implemented yet: "
                "nothing was tested")
            self.summary.problem = self.nothing_tested

    @staticmethod
    def _placeholders_yield(config: pytest.Config, items: list[pytest.Item]) -> list[pytest.Item]:
        """A placeholder gives way to the implementation of its case."""
        implemented = {item_case_id(i) for i in items if not i.get_closest_marker(PLACEHOLDER)}
        kept: list[pytest.Item] = []
        gone: list[pytest.Item] = []
        for item in items:
            placeholder = item.get_closest_marker(PLACEHOLDER) is not None
            (gone if placeholder and item_case_id(item) in implemented else kept).append(item)
        if gone:
            config.hook.pytest_deselected(items=gone)
        return kept

    @pytest.hookimpl(trylast=True)
    def pytest_keyboard_interrupt(self, excinfo) -> None:
        """Ctrl-C or SIGTERM: no "!!! KeyboardInterrupt !!!" and no stack location from pytest's
        terminal reporter (it prints both in pytest_sessionfinish and pytest_unconfigure); the
        run ends with one line of ours instead (`pytest_terminal_summary`)."""
        reporter = self.pluginmanager.get_plugin("terminalreporter") if self.pluginmanager else None
        if isinstance(excinfo.value, pytest.Session.Interrupted) and self.summary.errors():
            return  # pytest stops after collection errors: no signal (`pytest_collectreport`)
        if not isinstance(excinfo.value, KeyboardInterrupt):
            # pytest.exit(reason): one line "conform: reason" instead of "! Exit: reason !",
            # unless the run's problem was already said (the csms role's preflight)
            if reporter is not None:
                said = self.summary.problem is not None
                line = f"conform: {getattr(excinfo.value, 'msg', excinfo.value)}"
                reporter._report_keyboardinterrupt = (
                    (lambda: None) if said else (lambda: reporter.write_line(line, red=True))
                )
            if self.summary.problem is None:  # summary.json names why no case ran
                self.summary.problem = str(getattr(excinfo.value, "msg", excinfo.value))
            return
        terminated = isinstance(excinfo.value, Terminated) or bool(TERMINATED)
        self.interrupted = "SIGTERM" if terminated else "SIGINT"
        if reporter is not None:
            reporter._report_keyboardinterrupt = lambda: None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """A CSMS under test that cannot be reached ends the run before the first case: one
        line saying why, exit code 1, no verdict (`conformance.preflight`)."""
        config = session.config
        if self.settings.role != "csms" or config.option.collectonly or not session.items:
            return
        if self.nothing_tested:  # no case will reach the CSMS
            return
        from conformance import preflight

        problem = preflight.check(self.settings)
        if problem is None:
            return
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"ChargeBench: {problem}", red=True, bold=True)
        self.summary.problem = problem
        pytest.exit(problem, returncode=1)

    def not_applicable(self, case: AnyCase) -> str | None:
        if self.v201:  # read from the device model once the station is connected, by the
            return None  # cases' fixture (`conformance.v201.prerequisites`), not here
        caps, level = self.settings.capabilities, self.settings.security_profile
        for requirement in (f"profile:{case.profile}", *case.requires):
            reason = caps.unmet(requirement, level)
            if reason:
                return reason
        return None

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A case module that does not import (or a collector that fails otherwise) is an
        ERROR verdict: a `<testcase>` with `<error>` in JUnit, broken in Allure, listed under
        `errors` in summary.json, and the run fails (`pytest_sessionfinish`)."""
        if report.failed:
            # a module outside the rootdir fails under the session's collector (node id "")
            named = _IMPORTING.search(report.longreprtext)
            nodeid = report.nodeid or (named[1] if named else "collection")
            self.summary.record(nodeid, error_verdict(nodeid, _collect_reason(report),
                                                      "collection"))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        case: AnyCase | None = getattr(report, "cb_case", None)
        if case is None:
            return
        outcome, reason = Outcome(report.outcome), ""
        if report.skipped:
            reason = _skip_reason(report)
            outcome = (Outcome.NOT_APPLICABLE if reason.startswith(NOT_APPLICABLE)
                       else Outcome.SKIPPED)
        elif report.failed:
            if report.when == "setup":  # e.g. "charger not idle": no verdict on the case
                outcome = Outcome.ERROR
            crash = getattr(report.longrepr, "reprcrash", None)
            if crash is not None:  # the verdict: expected ... received instead ...
                reason = crash.message
            else:
                reason = report.longreprtext.splitlines()[-1] if report.longreprtext else ""
        elif report.when != "call":
            return
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration
        verdict = case_verdict(case, outcome, reason, expected=getattr(report, "cb_expected", ""),
                               received=getattr(report, "cb_received", []))
        self.summary.record(report.nodeid, verdict, case)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        case = item.stash.get(CASE, None)
        if case is not None:
            report = outcome.get_result()
            report.cb_case = case
            from conformance.expect import Mismatch

            error = call.excinfo.value if call.excinfo is not None else None
            if isinstance(error, Mismatch):  # the verdict's evidence, as trace records
                report.cb_expected = error.expected
                report.cb_received = [replace(frame, cp_id=self.settings.cp_id)
                                      for frame in error.received]

    def judged(self) -> list[Verdict]:
        """Every verdict in run order, completed with its duration, its steps and the trace
        file the run wrote for it."""
        verdicts = []
        for nodeid, verdict in self.summary.verdicts.items():
            trace = None
            if self.settings.results is not None:
                trace = self.settings.results / "traces" / f"{trace_name(nodeid)}.jsonl"
            verdict.seconds = self.seconds.get(nodeid, 0.0)
            verdict.trace = trace if trace is not None and trace.is_file() else None
            verdict.steps = self.steps.get(nodeid, [])
            verdicts.append(verdict)
        return verdicts

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The JUnit report (`reports.junit`) and Allure results (`reports.allure`), also
        after Ctrl-C or SIGTERM: what finished.

        A run with collection errors fails as a usage/environment error (pytest's
        USAGE_ERROR, `chargebench conform` exit 2), not as pytest's "interrupted" (which
        `conform` reports as Ctrl-C): the suite itself is broken, no verdict was reached."""
        if self.summary.errors() and self.interrupted is None:
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        elif (self.nothing_tested and self.interrupted is None
              and not session.config.option.collectonly):
            session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED  # placeholders are no tests
        suite = _suite(self.settings.role, self.settings.ocpp)
        profiles = self.profile_properties()
        if self.junit is not None:
            write_junit(suite, self.judged(), self.junit)
            if profiles:
                _junit_properties(self.junit, profiles)
        if self.allure is not None:
            write_allure(self.judged(), Path(self.allure), suite=suite,
                         environment={**allure_environment(self.settings), **profiles},
                         clean=self.clean_allure)

    def profile_properties(self) -> dict[str, str]:
        """2.0.1: the per-certification-profile table as properties, "profile.core" ->
        "Core: 58/60 passed, 2 not applicable" (JUnit `<properties>`, Allure environment)."""
        if not self.v201:
            return {}
        lines = self.summary.profile_lines()
        return {f"profile.{key}": line for key, line in zip(
            self.summary.per_profile(), lines, strict=True)}

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item):
        """Record the case's steps (`conformance.casesteps`) for its verdict."""
        casesteps.begin()
        try:
            return (yield)
        finally:
            self.steps[item.nodeid] = casesteps.end()

    def pytest_terminal_summary(self, terminalreporter, exitstatus, config) -> None:
        version = ", OCPP 2.0.1" if self.v201 else ""
        terminalreporter.section(
            f"ChargeBench conformance{version} ({self.settings.role} under test)")
        for line in self.summary.lines():
            terminalreporter.write_line(line)
        for cp_id, key in self.settings.changed_keys.items():
            terminalreporter.write_line(
                f"the CSMS now expects AuthorizationKey {key} from {cp_id} (TC_073): give it "
                "as --cb-password next time")
        if self.allure is not None:
            terminalreporter.write_line(f"Allure results written to {self.allure}")
        if self.settings.results is not None:
            path = self.settings.results / "summary.json"
            self.summary.write(path, self.settings.role)
            terminalreporter.write_line(f"summary written to {path}")
        if self.junit is not None:
            terminalreporter.write_line(f"JUnit written to {self.junit}")
        if self.interrupted:
            where = f"; results in {self.settings.results}" if self.settings.results else ""
            terminalreporter.write_line(
                f"interrupted by {self.interrupted}: {len(self.summary.verdicts)} of "
                f"{self.selected} cases finished{where}", red=True, bold=True)


def allure_environment(settings: Settings) -> dict[str, str]:
    """What Allure shows as the run's environment: what was tested, in which role, at which
    profiles, and the OCPP version."""
    listen = f"{settings.listen[0]}:{settings.listen[1]}"
    return {
        "target": (settings.target or "") if settings.role == "csms"
        else f"charge point at {listen}",
        "role": f"{settings.role} under test",
        "profiles": ",".join(sorted(settings.profiles)) if settings.profiles else "all declared",
        "security.profile": str(settings.security_profile),
        "ocpp.version": "2.0.1" if settings.ocpp == "2.0.1" else "1.6J",
        "charge.point.id": settings.cp_id,
    }


def _junit_properties(path: Path, properties: dict[str, str]) -> None:
    """Add `properties` to the JUnit file's `<testsuite>` as its `<properties>` (the JUnit
    schema's place for what describes the whole suite; CI servers show them)."""
    import xml.etree.ElementTree as ET

    tree = ET.parse(path)
    root = tree.getroot()
    node = ET.Element("properties")
    for name, value in properties.items():
        ET.SubElement(node, "property", name=name, value=value)
    root.insert(0, node)
    tree.write(path, encoding="utf-8", xml_declaration=True)


#: files of cases/ that every run needs, whichever version it collects
_ALWAYS = frozenset({"conftest.py", "__init__.py"})
#: the module named by pytest's report of a module that does not import
_IMPORTING = re.compile(r"importing test module '([^']+)'")


def _collect_reason(report: pytest.CollectReport) -> str:
    """One line for a collection error: pytest's `E   ...` line (the exception), else the
    last line of its report."""
    lines = [line.strip() for line in report.longreprtext.splitlines() if line.strip()]
    raised = [line.removeprefix("E").strip() for line in lines if line.startswith("E ")]
    return (raised or lines or ["collection failed"])[-1]


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")
