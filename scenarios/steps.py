"""Execute steps: one small coroutine per verb, run on every charge point the step targets.

Simulated durations (`wait`, `within`) become waits of the event loop through the shared `Clock`,
with a floor (`min_wait`) so a check at speed 600 still allows for real network latency. On a
`VirtualTimeLoop` (the built-in CSMS) the loop's time is virtual and those waits cost no wall
time. A failing step stops its sequence; `StepFailed` carries what was expected and what came.
"""

from __future__ import annotations

import asyncio
import time
from collections import ChainMap
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from chargebench.clock import Clock
from chargebench.matching import MessagePattern, as_json, compile_matcher
from chargebench.ocppj import CallFailed
from chargebench.trace import TraceRecord
from scenarios.backends import Backend, ExternalBackend, Skip
from scenarios.files import FileServers
from scenarios.model import ACTION_VERBS, CHECK_VERBS, Scenario, Step
from scenarios.results import FAILED, PASSED, SKIPPED, StepResult
from scenarios.stations import Station, apply_faults
from scenarios.values import UnknownVariable, parse_duration, substitute
from sim.v201.station import ChargingStation

__all__ = ["Executor", "StepFailed"]

#: How many failing charge points a step's verdict names before "and N more".
_NAMED = 3


class StepFailed(Exception):
    """The step's expectation did not hold (a verdict, not a bug). `received`: the trace
    records that came instead, when the step waited for a frame (its message names them too)."""

    def __init__(self, message: str, received: Iterable[TraceRecord] = ()) -> None:
        super().__init__(message)
        self.received = list(received)


@dataclass(slots=True)
class Timing:
    clock: Clock
    default_within: float  # simulated seconds
    min_wait: float = 2.0  # wall seconds
    action_timeout: float = 15.0  # wall seconds for one charge point action

    def wall(self, simulated: float, floor: float | None = None) -> float:
        return max(simulated / self.clock.speed, self.min_wait if floor is None else floor)


class Executor:
    """Runs a scenario's steps against its stations and backend; see the module docstring."""

    def __init__(
        self, scenario: Scenario, backend: Backend, stations: dict[str, Station], timing: Timing,
        files: FileServers | None = None,
    ) -> None:
        self.scenario = scenario
        self.backend = backend
        self.files = files
        self.stations = stations
        self.timing = timing
        self.globals: dict[str, Any] = dict(scenario.variables)
        self.cp_vars: dict[str, dict[str, Any]] = {cp: {} for cp in stations}
        self.handlers: dict[str, Callable[..., Awaitable[None]]] = {
            verb: getattr(self, f"_{verb}") for verb in (*ACTION_VERBS, *CHECK_VERBS, "set")
        }

    # Sequences

    async def run_steps(
        self, steps: list[Step], scope: Mapping[str, Any], target: list[str] | None = None
    ) -> list[StepResult]:
        """Run `steps` in order; stop after the first failure."""
        results = []
        for step in steps:
            result = await self.run(step, scope, target)
            results.append(result)
            if result.status == FAILED:
                break
        return results

    async def run(
        self, step: Step, scope: Mapping[str, Any], target: list[str] | None = None
    ) -> StepResult:
        result = StepResult(step.title, step.where)
        started = time.monotonic()
        target = step.on or target
        try:
            await self._dispatch(step, scope, target, result)
        except Skip as skip:
            result.status, result.detail = SKIPPED, str(skip)
        except (StepFailed, UnknownVariable) as failure:
            result.status, result.detail = FAILED, str(failure)
            result.received = getattr(failure, "received", [])
        result.seconds = time.monotonic() - started
        if result.status == PASSED and any(c.status == FAILED for c in result.children):
            result.status = FAILED
        return result

    async def _dispatch(
        self, step: Step, scope: Mapping[str, Any], target: list[str] | None, result: StepResult
    ) -> None:
        verb = step.verb
        if verb == "wait":
            seconds = parse_duration(substitute(step.args, ChainMap(*_maps(scope), self.globals)))
            await self.timing.clock.sleep(seconds)
        elif verb == "sequence":
            result.children = await self.run_steps(step.children, scope, target)
        elif verb == "parallel":
            result.children = list(await asyncio.gather(
                *(self.run(child, scope, target) for child in step.children)
            ))
        elif verb == "repeat":
            name = step.args.get("as")
            for n in range(1, step.args["times"] + 1):
                inner = ChainMap({name: n} if name else {}, *_maps(scope))
                iteration = StepResult(f"iteration {n}", step.where)
                iteration.children = await self.run_steps(step.children, inner, target)
                iteration.status = _worst(iteration.children)
                result.children.append(iteration)
                if iteration.status == FAILED:
                    break
        elif verb == "include":
            # `with:` values are resolved where they are used: they may name ${cp}
            inner = ChainMap(step.scope, *_maps(scope))
            result.children = await self.run_steps(step.children, inner, target)
        elif verb == "set" and not step.on:
            self.globals.update(substitute(step.args, ChainMap(*_maps(scope), self.globals)))
        else:
            await self._on_each(step, scope, target)

    async def _on_each(self, step: Step, scope: Mapping[str, Any], target: list[str] | None
                       ) -> None:
        """Run a charge-point step on every targeted charge point at once."""
        ids = self.scenario.resolve_target(target)
        unknown = [cp for cp in ids if cp not in self.stations]
        if unknown:
            raise StepFailed(f"no charge point named {', '.join(unknown)}")
        handler = self.handlers[step.verb]
        outcomes = await asyncio.gather(
            *(self._on_one(handler, step, scope, self.stations[cp]) for cp in ids),
            return_exceptions=True,
        )
        failures = [(cp, o) for cp, o in zip(ids, outcomes, strict=True)
                    if isinstance(o, BaseException)]
        for _, outcome in failures:
            if not isinstance(outcome, StepFailed | Skip | UnknownVariable):
                raise outcome
        failed = [(cp, o) for cp, o in failures if not isinstance(o, Skip)]
        if failed:
            lines = [f"{cp}: {outcome}" for cp, outcome in failed[:_NAMED]]
            if len(failed) > _NAMED:
                lines.append(f"... and {len(failed) - _NAMED} more charge points")
            received = [r for _, o in failed[:_NAMED] for r in getattr(o, "received", [])]
            raise StepFailed("\n".join(lines) if len(ids) > 1 else str(failed[0][1]), received)
        if failures:
            raise failures[0][1]

    async def _on_one(self, handler, step: Step, scope: Mapping[str, Any], st: Station) -> None:
        variables = ChainMap(*_maps(scope), self.cp_vars[st.id], self.globals, {"cp": st.id})
        try:
            args = substitute(step.args, variables)
        except UnknownVariable:
            if step.verb == "assert" and self._store_only(step.args):
                # against an external CSMS the store asserts that would capture it were
                # skipped: this one is skipped for the same reason, not failed
                raise Skip("assert: reads the built-in CSMS's store") from None
            raise
        if step.verb in ACTION_VERBS:
            st.inbox.action_started()
        try:
            await handler(st, args if args is not None else {}, variables)
        finally:
            if step.verb in CHECK_VERBS:
                st.inbox.checked()

    def _store_only(self, args: Any) -> bool:
        """An `assert:` that only reads the CSMS's store, run against an external CSMS."""
        return (isinstance(self.backend, ExternalBackend) and isinstance(args, Mapping)
                and "upload" not in args)

    def _capture(self, st: Station, captures: Mapping[str, Any]) -> None:
        self.cp_vars[st.id].update(captures)
        self.globals.update(captures)

    # Charge point actions

    async def _act(self, st: Station, action: Awaitable[Any]) -> Any:
        try:
            async with asyncio.timeout(self.timing.action_timeout):
                return await action
        except TimeoutError:
            raise StepFailed(f"no outcome within {self.timing.action_timeout:.0f} s") from None
        except (CallFailed, ValueError, AssertionError) as error:
            raise StepFailed(f"{type(error).__name__}: {error}") from None

    async def _connect(self, st: Station, args: dict, _v) -> None:
        await st.ensure_started()
        wall = self.timing.wall(parse_duration(args.get("within", self.timing.default_within)))
        deadline = _loop_time() + wall
        while st.cp.session is None:
            if _loop_time() > deadline:
                raise StepFailed(_not_booted(st, f"within {wall:.1f} s (wall clock)"))
            await asyncio.sleep(0.01)

    async def _boot(self, st: Station, args: dict, _v) -> None:
        await st.ensure_started()
        within = parse_duration(args.get("within", max(self.timing.default_within, 120)))
        wall = self.timing.wall(within, floor=5.0)
        try:
            await st.cp.wait_booted(timeout=wall)
        except TimeoutError:
            raise StepFailed(_not_booted(st, f"within {within:g} s")) from None

    async def _plug_in(self, st: Station, args: Any, _v) -> None:
        await self._act(st, st.cp.plug_in(_connector(args)))

    async def _plug_out(self, st: Station, args: Any, _v) -> None:
        await self._act(st, st.cp.plug_out(_connector(args)))

    async def _ev_full(self, st: Station, args: Any, _v) -> None:
        await self._act(st, st.cp.ev_full(_connector(args)))

    async def _present_id_tag(self, st: Station, args: Any, _v) -> None:
        if isinstance(args, str):
            args = {"id_tag": args}
        await self._act(st, st.cp.present_id_tag(args["id_tag"], args.get("connector")))

    async def _fault(self, st: Station, args: dict, _v) -> None:
        connector = args.get("connector", 1)
        if args.get("clear"):
            await self._act(st, st.cp.clear_fault(connector))
        else:
            await self._act(st, st.cp.fault(connector, args.get("error_code", "OtherError")))

    async def _go_offline(self, st: Station, _a, _v) -> None:
        await self._act(st, st.cp.go_offline())

    async def _go_online(self, st: Station, _a, _v) -> None:
        await self._act(st, st.cp.go_online())

    async def _power_loss(self, st: Station, _a, _v) -> None:
        await self._act(st, st.cp.power_loss())

    async def _send(self, st: Station, args: dict, _v) -> None:
        reply = await self._act(st, st.cp.call(args["action"], args.get("payload", {})))
        self._check_reply(st, args, reply)

    async def _command(self, st: Station, args: dict, _v) -> None:
        if args.get("external") == "skip" and isinstance(self.backend, ExternalBackend):
            raise Skip(f"{args['action']}: marked external: skip")
        timeout = self.timing.action_timeout
        try:
            reply = await self.backend.command(st.id, args["action"], args.get("payload", {}),
                                               timeout)
        except (CallFailed, RuntimeError, LookupError) as error:
            raise StepFailed(f"{args['action']}: {type(error).__name__}: {error}") from None
        self._check_reply(st, args, reply)

    def _check_reply(self, st: Station, args: dict, reply: Any) -> None:
        if "reply" not in args:
            return
        result = compile_matcher(args["reply"]).match(reply, "reply")
        if not result.ok:
            problems = "; ".join(str(m) for m in result.mismatches)
            raise StepFailed(f"{args['action']} reply: {problems}")
        self._capture(st, result.captures)

    async def _operator(self, st: Station, args: dict, _v) -> None:
        await self.backend.operate(st.id, args)

    async def _fault_plan(self, st: Station, args: dict, _v) -> None:
        try:
            apply_faults(st.cp, args)
        except (TypeError, ValueError) as error:
            raise StepFailed(f"not a fault plan: {error}") from None

    # Checks

    async def _expect(self, st: Station, args: dict, _v) -> None:
        pattern = MessagePattern.from_spec(args)
        count = args.get("count", 1)
        within = parse_duration(args.get("within", self.timing.default_within))
        found = await st.inbox.wait(pattern, count, self.timing.wall(within),
                                    since_start=args.get("since") == "start")
        if len(found) < count:
            raise StepFailed(_missing(pattern, args, within, count, found, st),
                             st.inbox.near_misses(pattern))
        st.inbox.consume(found)
        for item in found:
            self._capture(st, item.result.captures)

    async def _expect_not(self, st: Station, args: dict, _v) -> None:
        pattern = MessagePattern.from_spec(args)
        within = parse_duration(args.get("within", self.timing.default_within))
        found = await st.inbox.wait(pattern, 1, self.timing.wall(within, floor=0.0),
                                    since_start=args.get("since") == "start")
        if found:
            raise StepFailed(f"expected no {pattern.describe()} within {within:g} s, "
                             f"but got: {_show(found[0].record)}", [found[0].record])

    async def _assert(self, st: Station, args: dict, _v) -> None:
        within = parse_duration(args.get("within", 0))
        deadline = _loop_time() + self.timing.wall(within, floor=1.0)
        checks = {kind: spec for kind, spec in args.items() if kind != "within"}
        while True:
            problems = [await self._assert_one(st, kind, spec) for kind, spec in checks.items()]
            problems = [p for p in problems if p]
            if not problems or _loop_time() > deadline:
                break
            await asyncio.sleep(0.05)
        if problems:
            raise StepFailed("; ".join(problems))

    async def _assert_one(self, st: Station, kind: str, spec: dict) -> str | None:
        if kind == "upload":
            return self._assert_upload(spec)
        state = await self.backend.state(kind, st.id, spec)
        if state is None:
            return f"{kind}: none found"
        result = compile_matcher(spec).match(state, kind)
        if not result.ok:
            return "; ".join(str(m) for m in result.mismatches)
        self._capture(st, result.captures)
        return None

    def _assert_upload(self, spec: dict) -> str | None:
        """Some file uploaded to the scenario's servers (`files:`) matches `spec`."""
        if self.files is None:
            raise StepFailed("assert: upload needs the scenario's file servers (add files:)")
        uploads = self.files.uploads()
        matcher = compile_matcher(spec)
        for item in uploads:
            if matcher.match(item, "upload").ok:
                return None
        seen = ", ".join(f"{u['path']} ({u['size']} bytes)" for u in uploads) or "nothing"
        return f"upload: none matches {as_json(spec)}; uploaded: {seen}"

    async def _set(self, st: Station, args: dict, _v) -> None:
        self.cp_vars[st.id].update(args)


def _loop_time() -> float:
    """The loop's time: what "wall" waits count in (virtual on a `VirtualTimeLoop`)."""
    return asyncio.get_running_loop().time()


def _maps(scope: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(scope.maps) if isinstance(scope, ChainMap) else [scope]


def _worst(results: list[StepResult]) -> str:
    statuses = {r.status for r in results}
    return FAILED if FAILED in statuses else PASSED


def _connector(args: Any) -> int:
    if isinstance(args, int):
        return args
    return (args or {}).get("connector", 1)


def _show(record: TraceRecord) -> str:
    return f"{record.type} {record.action} {record.dir} {as_json(record.payload)}"


def _missing(pattern: MessagePattern, args: dict, within: float, count: int, found: list,
             st: Station) -> str:
    wanted = pattern.describe()
    if "payload" in args:
        wanted += f" with {as_json(args['payload'])}"
    text = f"expected {wanted}"
    if count > 1:
        text += f" x{count} (got {len(found)})"
    text += f" within {within:g} s"
    misses = st.inbox.near_misses(pattern)
    if not misses:
        return text + "; nothing came"
    lines = [text + "; came instead:"]
    for record in misses:
        reasons = "; ".join(str(m) for m in pattern.match(record).mismatches) or "already matched"
        lines.append(f"  {_show(record)}  ({reasons})")
    return "\n".join(lines)


def _not_booted(st: Station, within: str) -> str:
    """Why a station is not booted, in the words a user acts on: the connection failure of the
    simulated charge point ("could not connect to ws://.../CP: connection refused", HTTP 401,
    TLS...) when it never got online, else the last BootNotification status. A dead or wrong
    target stays a failed step (exit 1, like any verdict against that target): the URL itself
    was checked before the run (`check_csms_url`, exit 2), and other stations may pass."""
    cp = st.cp
    if cp.link.connects == 0 and cp.link.failure:
        from sim.features.connection import endpoint

        where = (f"{cp.csms_url}/{cp.id}" if isinstance(cp, ChargingStation)
                 else endpoint(cp.config, cp.csms_url))
        return (f"could not connect to {where}: {cp.link.failure} "
                f"(nothing connected {within})")
    return f"BootNotification not Accepted {within} (last status: {cp.registration or 'no reply'})"
