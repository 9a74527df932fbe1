"""Obeying a `FaultPlan` (sim/features/faults.py) on a live connection.

The plan is pure data; this module does what its `Decision` says at the two places a charge
point touches the wire: `inbound` wraps the handler of every CSMS CALL (after the registration
guard of 1.6 §4.2), `outbound` wraps every CALL of our own (boot, status, transaction messages,
notifications). A charge point without a plan pays one attribute test per message.

Outbound effects other than a delay mean "the CALL does not get through": the caller sees the
`CallFailed` it would see from a real CSMS or network (CALLERROR for REJECT/CALLERROR, a timeout
for IGNORE and MALFORMED, `ConnectionLost` for DROP), so its retry rules (1.6 §4.10 transaction
message attempts, boot retry) are exercised as they would be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chargebench.ocppj import (
    CallErrorReply,
    CallTimeout,
    ConnectionLost,
    NoReply,
    OcppCallError,
    Session,
)
from sim.features.context import Clocked, Spawner
from sim.features.faults import Decision, Effect, FaultPlan

__all__ = ["FaultContext", "inbound", "outbound"]


class FaultContext(Clocked, Spawner, Protocol):
    """What obeying a plan uses: the plan, the clock (delays), the live session (a dropped
    connection, a malformed frame) and `spawn` (what happens after the handler returns)."""

    @property
    def fault_plan(self) -> FaultPlan | None: ...

    @property
    def session(self) -> Session | None: ...


def inbound(ctx: FaultContext, action: str, run: Callable[[], Any]) -> Any:
    """Answer a CSMS CALL as the plan says; `run()` runs the real handler."""
    plan = ctx.fault_plan
    if plan is None:
        return run()
    decision = plan.decide(action, "in")
    if decision.delay_s > 0:
        return _later(ctx, decision, action, run)
    return _apply_inbound(ctx, decision, run)


async def _later(ctx: FaultContext, decision: Decision, action: str, run: Callable[[], Any]) -> Any:
    await ctx.clock.sleep(decision.delay_s)
    result = _apply_inbound(ctx, decision, run)
    return await result if hasattr(result, "__await__") else result


def _apply_inbound(ctx: FaultContext, decision: Decision, run: Callable[[], Any]) -> Any:
    effect = decision.effect
    if decision.passes:
        return run()
    if effect is Effect.REJECT:
        return decision.reply
    if effect is Effect.CALLERROR:
        raise OcppCallError(decision.error_code, decision.description)
    session = ctx.session
    if effect is Effect.MALFORMED and session is not None:
        ctx.spawn(session.send_raw(decision.frame))  # instead of the reply
    elif effect is Effect.DROP and session is not None:
        ctx.spawn(session.close())
    raise NoReply  # IGNORE, and no reply goes out after MALFORMED / DROP either


async def outbound(ctx: FaultContext, session: Session, action: str, payload: dict) -> dict:
    """Send one of our CALLs through `session` as the plan says; its CALLRESULT payload."""
    plan = ctx.fault_plan
    if plan is None:
        return await session.call(action, payload)
    decision = plan.decide(action, "out")
    if decision.delay_s > 0:
        await ctx.clock.sleep(decision.delay_s)
    effect = decision.effect
    if decision.passes:
        return await session.call(action, payload)
    if effect in (Effect.REJECT, Effect.CALLERROR):
        raise CallErrorReply(action=action, message_id="", code=decision.error_code or
                             "GenericError", description="injected fault", details={})
    if effect is Effect.DROP:
        await session.close()
        raise ConnectionLost("fault plan dropped the connection", action=action, message_id="")
    if effect is Effect.MALFORMED:
        await session.send_raw(decision.frame)
    raise CallTimeout(f"{action}: not sent (fault plan {effect.value})", action=action,
                      message_id="")
