"""Cases for a charge point under test, written as data: OCTT's scenario tables.

An OCTT case for a charge point is a table of steps: the tool (ChargeBench, playing the CSMS)
sends a request and checks the answer, a person at the charger does something, the charger
sends a request the tool checks. `Script` is that table; each step is one row:

    Script("TC_012", (
        *CHARGING,                                        # shared rows: plug in, card, Charging
        Send("RemoteStopTransaction", {"transactionId": Var("tx")}, {"status": "Accepted"}),
        Expect("StopTransaction", {"transactionId": Var("tx"), "reason": "Remote"}),
        Expect("StatusNotification", {"status": "Finishing"}),
    ), cleanup=UNPLUG)

`Var` reads a value saved by an earlier row (`Expect(..., save={"tx": "transactionId"})`),
`At` is a dateTime on the charger's own clock. Rows are ordered, as OCTT's steps are: an
`Expect` only takes a frame that arrived after the frame the previous `Expect` took and after
the previous `Send` or `Do` began (a reaction cannot precede its cause); `Unordered(...)`
groups the rows OCTT lets come in either order. Fields are read against the `ocpp` package's
schemas (`conformance.expect.Payload`): optional fields only count when present. A failed row
names the expected and the received frames.

Before the first row, the case's prerequisites are read from the charger with
GetConfiguration (`Ensure` rows, the feature profile): an optional feature it lacks makes the
case not applicable, a required key it lacks (1.6 §9) fails the case naming the key. After
the last row, whatever happened, `cleanup` rows run, then `conformance.idle.restore_idle`
brings the charger back to idle from what the wire showed; when it cannot, the next case is
an error ("charger not idle: ..."), never a verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from chargebench.clock import iso
from chargebench.ocppj.frames import Direction
from chargebench.trace import TraceRecord
from conformance import config_keys
from conformance.expect import Payload, Required, expectation, one_of
from conformance.harness import HarnessPeer
from conformance.idle import restore_idle


@dataclass
class Context:
    """What the rows of one case share: the live connection (it changes on a reboot), the
    listener, the operator, values saved so far and the run's services (file host, PKI)."""

    peer: HarnessPeer
    listener: Any
    operator: Any
    timeout: float
    id_tag: str
    services: dict[str, Any] = field(default_factory=dict)
    vars: dict[str, Any] = field(default_factory=dict)
    #: ordered rows: only frames after `TraceRecord.seq` `cursor` count, `since` names the row
    cursor: int = 0
    since: str = "the case began"
    #: the charger's configuration as read before the first row (key -> entry)
    config: dict[str, dict] = field(default_factory=dict)

    @property
    def settings(self) -> Any:
        return self.services.get("settings")

    def mark(self, what: str) -> None:
        """Later `Expect` rows want frames that arrive from now on (after row `what`)."""
        self.cursor = (self.peer.log[-1].seq or 0) if self.peer.log else self.cursor
        self.since = what

    def now(self) -> datetime:
        """The charger's clock when the operator can read it (a simulator runs fast), else
        the wall clock."""
        reader = getattr(self.operator, "now", None)
        return reader() if reader is not None else datetime.now(UTC)


# Values resolved when a row runs


@dataclass(frozen=True)
class Var:
    """A value saved by an earlier row (`vars[name]`)."""

    name: str

    def resolve(self, ctx: Context) -> Any:
        if self.name not in ctx.vars:
            raise AssertionError(f"no {self.name!r} saved by an earlier step (it failed?)")
        return ctx.vars[self.name]

    def __repr__(self) -> str:
        return f"<{self.name}>"


@dataclass(frozen=True)
class At:
    """An OCPP dateTime `seconds` from now on the charger's clock."""

    seconds: float = 0

    def resolve(self, ctx: Context) -> str:
        return iso(ctx.now() + timedelta(seconds=self.seconds))


@dataclass(frozen=True)
class Svc:
    """A value computed from the run's services, e.g. the file host's URL."""

    make: Callable[[Context], Any]

    def resolve(self, ctx: Context) -> Any:
        return self.make(ctx)


TAG = Svc(lambda ctx: ctx.id_tag)


def resolve(value: Any, ctx: Context) -> Any:
    """`value` with every Var/At/Svc replaced, recursively."""
    if isinstance(value, Var | At | Svc):
        return value.resolve(ctx)
    if isinstance(value, Required):
        return Required(resolve(value.value, ctx))
    if isinstance(value, Mapping):
        return {key: resolve(item, ctx) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [resolve(item, ctx) for item in value]
    return value


# Rows


class Step:
    async def run(self, ctx: Context) -> None:
        raise NotImplementedError


@dataclass(frozen=True)
class Send(Step):
    """The tool sends `action`; the charger must answer a CALLRESULT containing `expect`, or,
    with `error`, a CALLERROR with one of those codes. `save` keeps the reply's fields."""

    action: str
    payload: Any = field(default_factory=dict)
    expect: Any = None
    error: tuple[str, ...] = ()
    save: Mapping[str, str] = field(default_factory=dict)

    async def run(self, ctx: Context) -> None:
        payload = resolve(self.payload, ctx)
        ctx.mark(f"{self.action}.req")
        if self.error:
            message_id = await ctx.peer.send_call(self.action, payload)
            await ctx.peer.wait_for(
                "CALLERROR", {"errorCode": one_of(*self.error)}, message_id=message_id
            )
            ctx.peer.session.core.expire_calls()
            return
        reply = await ctx.peer.request(self.action, payload, resolve(self.expect, ctx))
        for name, key in self.save.items():
            ctx.vars[name] = reply.get(key)


@dataclass(frozen=True)
class Expect(Step):
    """The charger sends `action` containing `subset` within `within` timeouts; `save` keeps
    fields of its payload, or of the tool's answer for names starting "reply.", e.g.
    save={"tx": "reply.transactionId"} after a StartTransaction."""

    action: str
    subset: Any = None
    save: Mapping[str, str] = field(default_factory=dict)
    within: float = 1.0
    #: keep the matched frame as `vars[frame_as]` (for `Between`)
    frame_as: str | None = None

    async def run(self, ctx: Context) -> None:
        frame = await self.take(ctx)
        ctx.cursor, ctx.since = frame.seq or 0, f"{self.action} (seq {frame.seq})"
        await self.keep(ctx, frame)

    async def take(self, ctx: Context) -> TraceRecord:
        subset = resolve(self.subset, ctx)
        rule = Payload(self.action, subset) if isinstance(subset, Mapping) else subset
        return await ctx.peer.wait_for(
            self.action, rule, timeout=ctx.timeout * self.within, after=ctx.cursor,
            after_what=ctx.since,
        )

    async def keep(self, ctx: Context, frame: TraceRecord) -> None:
        if self.frame_as is not None:
            ctx.vars[self.frame_as] = frame
        for name, key in self.save.items():
            if key.startswith("reply."):
                reply = await _reply_to(ctx.peer, frame)
                ctx.vars[name] = (reply.payload or {}).get(key.removeprefix("reply."))
            else:
                ctx.vars[name] = (frame.payload or {}).get(key)


@dataclass(frozen=True)
class Unordered(Step):
    """`Expect` rows OCTT lets come in any order (e.g. StatusNotification Charging and
    StartTransaction: 1.6 §4.9 does not order them); each must follow the row before the
    group, the rows after the group follow the latest of them."""

    steps: tuple[Expect, ...]

    def __init__(self, *steps: Expect) -> None:
        object.__setattr__(self, "steps", steps)

    async def run(self, ctx: Context) -> None:
        start, since, latest = ctx.cursor, ctx.since, ctx.cursor
        for step in self.steps:
            ctx.cursor, ctx.since = start, since
            frame = await step.take(ctx)
            await step.keep(ctx, frame)
            latest = max(latest, frame.seq or 0)
        ctx.cursor, ctx.since = latest, "the rows before"


async def _reply_to(peer: HarnessPeer, call: TraceRecord) -> TraceRecord:
    """Our answer to the charger's CALL (handlers run as tasks: it may be a moment later)."""
    for _ in range(200):
        for frame in reversed(peer.log):
            if frame.id == call.id and frame.type == "CALLRESULT" and frame.dir != call.dir:
                return frame
        await asyncio.sleep(0.005)
    raise AssertionError(f"the harness never answered {call.describe()}")


@dataclass(frozen=True)
class Absent(Step):
    """The charger must NOT send `action` containing `subset` during `during` seconds
    (wall clock; e.g. no StartTransaction after an Invalid Authorize)."""

    action: str
    subset: Any = None
    during: float = 0.5

    async def run(self, ctx: Context) -> None:
        subset = resolve(self.subset, ctx)
        forbidden_frame = expectation(self.action, subset)

        def forbidden(frame: TraceRecord) -> bool:
            return forbidden_frame.match(frame).ok

        what = f"{self.action}{'' if subset is None else f' containing {subset!r}'}"
        await ctx.peer.expect_nothing(forbidden, during=self.during, what=what)


@dataclass(frozen=True)
class NothingBetween(Step):
    """No CALL from the charger other than `allowed` arrived between the frames saved as
    `first` and `last` (`Expect(..., frame_as=...)`), by arrival order, e.g. 1.6 §4.2: while
    Pending the charger SHALL NOT send requests but its BootNotification."""

    first: str
    last: str
    allowed: tuple[str, ...] = ("BootNotification",)
    rule: str = "1.6 §4.2"

    async def run(self, ctx: Context) -> None:
        low, high = Var(self.first).resolve(ctx).seq, Var(self.last).resolve(ctx).seq
        frames = [frame for peer, _ in ctx.services["trace"].peers for frame in peer.log]
        sent = sorted((f for f in frames if low < (f.seq or 0) < high and f.type == "CALL"
                       and f.dir is not Direction.CS_TO_CP and f.action not in self.allowed),
                      key=lambda f: f.seq or 0)
        if sent:
            raise AssertionError(
                f"expected no request but {', '.join(self.allowed)} between the "
                f"{self.first} and the {self.last} ({self.rule}); received:\n"
                + "\n".join(f"  {frame.describe()}" for frame in sent))


@dataclass(frozen=True)
class Do(Step):
    """A person at the charger does `action` (the operator hook: `conformance.operator`)."""

    action: str
    params: Mapping[str, Any] = field(default_factory=dict)

    async def run(self, ctx: Context) -> None:
        params = resolve(self.params, ctx)
        ctx.mark(f"the operator's {self.action}")
        await ctx.operator.perform(self.action, **params)
        ctx.listener.state.note_action(self.action, params)


@dataclass(frozen=True)
class Answer(Step):
    """From now on the tool answers the charger's `action` with `reply` (a payload, resolved
    when the row runs, or a function of the request), on this and later connections."""

    action: str
    reply: Any

    async def run(self, ctx: Context) -> None:
        if callable(self.reply):
            handler = self.reply
        else:
            fixed = resolve(self.reply, ctx)
            handler = lambda _payload: dict(fixed)  # noqa: E731
        ctx.peer.handlers[self.action] = handler
        ctx.listener.overrides[self.action] = handler


@dataclass(frozen=True)
class Reconnect(Step):
    """The charger drops the connection and connects again, within --cb-reconnect-timeout;
    later rows use the new connection. `boot`: it rebooted (reset, power loss, firmware), so
    the next CALL of the harness waits until its BootNotification has been answered
    (OCPP-J 1.6 errata §3.10), within --cb-boot-timeout; a network comeback is no reboot
    (1.6 §4.2) and sends none."""

    boot: bool = True

    async def run(self, ctx: Context) -> None:
        before = len(getattr(ctx.listener, "refusals", []))
        window = _window(ctx, "reconnect_timeout", 3 * ctx.timeout)
        try:
            ctx.peer = await ctx.listener.reconnection(ctx.peer, window)
        except TimeoutError:
            refused = getattr(ctx.listener, "refusals", [])[before:][-3:]
            why = f"; connections refused: {'; '.join(refused)}" if refused else ""
            raise AssertionError(
                f"expected the charge point to connect again within {window:g} s "
                f"(--cb-reconnect-timeout): it did not{why}"
            ) from None
        # what came before and around the reconnect counts
        ctx.services["trace"].add(ctx.peer, forget=False)
        if not self.boot:
            return
        boot_window = _window(ctx, "boot_timeout", ctx.timeout)
        try:
            await asyncio.wait_for(ctx.peer.boot_answered.wait(), boot_window)
        except TimeoutError:
            raise AssertionError(
                f"expected a BootNotification after the reboot within {boot_window:g} s "
                "(1.6 §4.2, --cb-boot-timeout): none came"
            ) from None


def _window(ctx: Context, name: str, default: float) -> float:
    return float(getattr(ctx.settings, name, None) or default)


@dataclass(frozen=True)
class Ensure(Step):
    """A configuration prerequisite (OCTT "Before: configuration state"): `key` must be
    `value`. Checked before the first row against the charger's GetConfiguration: a required
    key (1.6 §9) it does not list fails the case naming the key; an optional one it lacks, or a
    read-only one with another value, makes the case not applicable with the reason. When the
    row runs, a writable key is set with ChangeConfiguration (restored after the case).
    `absent_means`: the value an absent optional key stands for (1.6 §5.13:
    ReserveConnectorZeroSupported "not set" is false)."""

    key: str
    value: str
    absent_means: str | None = None

    def check(self, ctx: Context) -> None:
        """The prerequisite, on the configuration read before the case."""
        key, value, entry = self.key, self.value, ctx.config.get(self.key)
        if entry is None:
            if self.absent_means is not None:
                if config_keys.same(self.absent_means, value):
                    return
                pytest.skip(f"not applicable: needs {key}={value}; the charge point has no {key}"
                            f", which means {self.absent_means} (1.6 {config_keys.clause(key)})")
            profiles = _profiles(ctx) or set()
            required = config_keys.required_in(key, profiles)
            if required is not None:
                raise AssertionError(
                    f"required configuration key {key} is missing (1.6 {required[1]}, "
                    f"{required[0]} profile): GetConfiguration does not list it")
            pytest.skip(f"not applicable: needs {key}={value}; the charge point has no {key} "
                        f"(optional, 1.6 {config_keys.clause(key)})")
        if config_keys.same(entry.get("value", ""), value):
            return
        if entry.get("readonly"):
            pytest.skip(f"not applicable: needs {key}={value}; the charge point has "
                        f"{key}={entry.get('value')} (read-only)")

    async def run(self, ctx: Context) -> None:
        self.check(ctx)
        entry = ctx.config.get(self.key)
        if entry is None or config_keys.same(entry.get("value", ""), self.value):
            return
        reply = await ctx.peer.request("ChangeConfiguration",
                                       {"key": self.key, "value": self.value})
        status = reply.get("status")
        if status == "Accepted":
            entry["value"] = self.value
            return
        if status in ("Rejected", "RebootRequired"):
            # 1.6 §5.3: a charger may refuse a value or apply it only after a reboot
            pytest.skip(f"not applicable: needs {self.key}={self.value}; the charge point "
                        f"answered ChangeConfiguration {status}")
        raise AssertionError(
            f"expected ChangeConfiguration {self.key}={self.value} Accepted or Rejected (1.6 "
            f"§5.3): the charge point lists {self.key} in GetConfiguration but answered {status}")


def _profiles(ctx: Context) -> set[str] | None:
    """SupportedFeatureProfiles of the charger (1.6 §9.1.29), None when it lists none."""
    entry = ctx.config.get("SupportedFeatureProfiles")
    if entry is None or entry.get("value") is None:
        return None
    return {p.strip() for p in str(entry["value"]).split(",") if p.strip()}


@dataclass(frozen=True)
class Read(Step):
    """Save the value of configuration key `key` (read before the case) as `vars[save]`;
    a required key missing fails like `Ensure`."""

    key: str
    save: str

    async def run(self, ctx: Context) -> None:
        entry = ctx.config.get(self.key)
        if entry is None or entry.get("value") is None:
            required = config_keys.required_in(self.key, _profiles(ctx) or set())
            if required is not None:
                raise AssertionError(f"required configuration key {self.key} is missing (1.6 "
                                     f"{required[1]}): GetConfiguration does not list its value")
            pytest.skip(f"not applicable: the charge point has no {self.key}")
        ctx.vars[self.save] = entry["value"]


@dataclass(frozen=True)
class Call(Step):
    """Escape hatch: `fn(ctx)` for what a table cannot say (a check on the file host)."""

    fn: Callable[[Context], Any]

    async def run(self, ctx: Context) -> None:
        result = self.fn(ctx)
        if asyncio.iscoroutine(result):
            await result


@dataclass(frozen=True)
class Script:
    """One OCTT case: its id, the rows, the rows that put the charger back to idle (the
    general restore, `conformance.idle`, runs after them)."""

    case: str
    steps: Sequence[Step]
    cleanup: Sequence[Step] = ()

    def param(self) -> Any:
        """A pytest parameter named and marked with the OCTT id."""
        return pytest.param(self, id=self.case, marks=pytest.mark.octt(self.case))

    async def run(self, ctx: Context, profile: str | None = None) -> None:
        """The case; `profile`: the feature profile (1.6 §3 name) the charger must list in
        SupportedFeatureProfiles, else the case is not applicable."""
        await self._prerequisites(ctx, profile)
        try:
            for step in self.steps:
                await step.run(ctx)
        finally:
            ctx.listener.overrides.clear()
            ctx.listener.restore_handlers(ctx.peer)
            await self._clean(ctx)

    async def _prerequisites(self, ctx: Context, profile: str | None) -> None:
        """Read the configuration (1.6 §5.8) and check every `Ensure` row before the first.
        A case without prerequisites skips the read once the run has the charger's original
        configuration (what `restore_idle` puts back)."""
        ctx.listener.state.changes.clear()
        needs = profile not in (None, "Core") or any(
            isinstance(step, Ensure | Read) for step in self.steps)
        if not needs and ctx.listener.original_config:
            return
        reply = await ctx.peer.request("GetConfiguration", {})
        ctx.config = {
            entry["key"]: dict(entry) for entry in reply.get("configurationKey") or ()
            if isinstance(entry, dict) and "key" in entry
        }
        for key, entry in ctx.config.items():
            if entry.get("value") is not None:
                ctx.listener.original_config.setdefault(key, entry["value"])
        ctx.listener.state.changes.clear()
        supported = _profiles(ctx)
        if profile is not None and profile != "Core":
            if supported is None:
                raise AssertionError("required configuration key SupportedFeatureProfiles is "
                                     "missing (1.6 §9.1.29): GetConfiguration does not list it")
            if profile not in supported:
                pytest.skip(f"not applicable: the charge point does not support {profile} "
                            f"(SupportedFeatureProfiles={','.join(sorted(supported))})")
        for step in self.steps:
            if isinstance(step, Ensure):
                step.check(ctx)

    async def _clean(self, ctx: Context) -> None:
        quick = Context(ctx.peer, ctx.listener, ctx.operator, min(ctx.timeout, 2.0),
                        ctx.id_tag, ctx.services, ctx.vars, config=ctx.config)
        for step in self.cleanup:
            with contextlib.suppress(Exception, pytest.skip.Exception):
                await step.run(quick)
        await quiesce(ctx.listener.current or quick.peer)
        ctx.listener.idle_problem = await restore_idle(
            ctx.listener.state, ctx.listener, ctx.operator, timeout=ctx.timeout,
            reconnect_timeout=_window(ctx, "reconnect_timeout", 3 * ctx.timeout),
            original=ctx.listener.original_config,
        )


async def idle_gate(listener: Any, operator: Any, settings: Any) -> None:
    """Before a case: when the previous case could not restore an idle charger, try once more;
    still not idle -> this case is an error (raised in its setup), never a verdict."""
    if listener.idle_problem is None:
        return
    if getattr(listener, "idle_hopeless", False):
        # restoring failed twice already: judge from the wire only, without waiting again
        problems = listener.state.problems()
        listener.idle_problem = "; ".join(problems) if problems else None
        if listener.idle_problem is not None:
            pytest.fail(f"charger not idle: {listener.idle_problem}", pytrace=False)
        listener.idle_hopeless = False
        return
    listener.idle_problem = await restore_idle(
        listener.state, listener, operator, timeout=settings.timeout,
        reconnect_timeout=getattr(settings, "reconnect_timeout", 3 * settings.timeout),
        original=listener.original_config,
    )
    if listener.idle_problem is not None:
        listener.idle_hopeless = True
        pytest.fail(f"charger not idle: {listener.idle_problem}", pytrace=False)


async def quiesce(peer: HarnessPeer, quiet: float = 0.15, limit: float = 2.0) -> None:
    """Wait until the charger has been silent for `quiet` seconds (at most `limit`), so the
    next case does not see this one's late frames."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    while loop.time() < deadline and not peer.closed:
        seen = len(peer.log)
        await asyncio.sleep(quiet)
        if len(peer.log) == seen:
            return


def params(scripts: Sequence[Script]) -> list:
    return [script.param() for script in scripts]
