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
`At` is a dateTime on the charger's own clock. Expectations about the charger's CALLs are
order-free within a case (OCTT: "steps may be reversed"), because `HarnessPeer.wait_for`
leaves unmatched frames in the backlog. A failed row names the expected and the received
frames. `cleanup` rows run after the case whatever happened, best effort, so the next case
starts from an idle charger.
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
from conformance.harness import HarnessPeer
from conformance.wire import Frame, one_of


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

    async def run(self, ctx: Context) -> None:
        frame = await ctx.peer.wait_for(
            self.action, resolve(self.subset, ctx), timeout=ctx.timeout * self.within
        )
        for name, key in self.save.items():
            if key.startswith("reply."):
                reply = await _reply_to(ctx.peer, frame)
                ctx.vars[name] = (reply.payload or {}).get(key.removeprefix("reply."))
            else:
                ctx.vars[name] = (frame.payload or {}).get(key)


async def _reply_to(peer: HarnessPeer, call: Frame) -> Frame:
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
        from conformance.wire import matches

        def forbidden(frame: Frame) -> bool:
            return frame.type == "CALL" and frame.action == self.action and (
                subset is None or matches(subset, frame.payload)
            )

        what = f"{self.action}{'' if subset is None else f' containing {subset!r}'}"
        await ctx.peer.expect_nothing(forbidden, during=self.during, what=what)


@dataclass(frozen=True)
class Do(Step):
    """A person at the charger does `action` (the operator hook: `conformance.operator`)."""

    action: str
    params: Mapping[str, Any] = field(default_factory=dict)

    async def run(self, ctx: Context) -> None:
        await ctx.operator.perform(self.action, **resolve(self.params, ctx))


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
    """The charger drops the connection and connects again (reboot, reset, network back);
    later rows use the new connection."""

    within: float = 3.0

    async def run(self, ctx: Context) -> None:
        before = len(getattr(ctx.listener, "refusals", []))
        try:
            ctx.peer = await ctx.listener.reconnection(ctx.peer, ctx.timeout * self.within)
        except TimeoutError:
            refused = getattr(ctx.listener, "refusals", [])[before:][-3:]
            why = f"; connections refused: {'; '.join(refused)}" if refused else ""
            raise AssertionError(
                f"expected the charge point to connect again within "
                f"{ctx.timeout * self.within:g} s: it did not{why}"
            ) from None
        ctx.services["trace"].add(ctx.peer)


#: Configuration keys OCPP 1.6 §9.1 marks "required" (Core profile): one a case needs and the
#: charge point lacks is a failure naming the key, never "not applicable".
REQUIRED_CORE_KEYS = {
    "AuthorizeRemoteTxRequests": "§9.1.3", "ClockAlignedDataInterval": "§9.1.5",
    "ConnectionTimeOut": "§9.1.6", "ConnectorPhaseRotation": "§9.1.7",
    "GetConfigurationMaxKeys": "§9.1.9", "HeartbeatInterval": "§9.1.10",
    "LocalAuthorizeOffline": "§9.1.12", "LocalPreAuthorize": "§9.1.13",
    "MeterValuesAlignedData": "§9.1.15", "MeterValuesSampledData": "§9.1.17",
    "MeterValueSampleInterval": "§9.1.19", "NumberOfConnectors": "§9.1.21",
    "ResetRetries": "§9.1.22", "StopTransactionOnEVSideDisconnect": "§9.1.23",
    "StopTransactionOnInvalidId": "§9.1.24", "StopTxnAlignedData": "§9.1.25",
    "StopTxnSampledData": "§9.1.27", "SupportedFeatureProfiles": "§9.1.29",
    "TransactionMessageAttempts": "§9.1.31", "TransactionMessageRetryInterval": "§9.1.32",
    "UnlockConnectorOnEVSideDisconnect": "§9.1.33",
}


@dataclass(frozen=True)
class Ensure(Step):
    """A configuration prerequisite (OCTT "Before: configuration state"): `key` must be
    `value`; set it when writable. A read-only key with another value makes the case not
    applicable to this charger (skipped with the reason), never passed."""

    key: str
    value: str

    async def run(self, ctx: Context) -> None:
        reply = await ctx.peer.request("GetConfiguration", {"key": [self.key]})
        known = {k["key"]: k for k in reply.get("configurationKey", [])}
        entry = known.get(self.key)
        if entry is not None and str(entry.get("value", "")).lower() == self.value.lower():
            return
        if entry is None and self.key in REQUIRED_CORE_KEYS:
            raise AssertionError(f"the charge point lacks {self.key}, a required configuration "
                                 f"key (OCPP 1.6 {REQUIRED_CORE_KEYS[self.key]})")
        if entry is None or entry.get("readonly"):
            pytest.skip(f"not applicable: needs {self.key}={self.value}; the charge point has "
                        f"{'no such key' if entry is None else entry.get('value')} (read-only)")
        await ctx.peer.request("ChangeConfiguration", {"key": self.key, "value": self.value},
                               {"status": "Accepted"})


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
    """One OCTT case: its id, the rows, the rows that put the charger back to idle."""

    case: str
    steps: Sequence[Step]
    cleanup: Sequence[Step] = ()

    def param(self) -> Any:
        """A pytest parameter named and marked with the OCTT id."""
        return pytest.param(self, id=self.case, marks=pytest.mark.octt(self.case))

    async def run(self, ctx: Context) -> None:
        try:
            for step in self.steps:
                await step.run(ctx)
        finally:
            ctx.listener.overrides.clear()
            ctx.listener.restore_handlers(ctx.peer)
            await self._clean(ctx)

    async def _clean(self, ctx: Context) -> None:
        quick = Context(ctx.peer, ctx.listener, ctx.operator, min(ctx.timeout, 2.0),
                        ctx.id_tag, ctx.services, ctx.vars)
        for step in self.cleanup:
            with contextlib.suppress(Exception, pytest.skip.Exception):
                await step.run(quick)
        await quiesce(quick.peer)


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
