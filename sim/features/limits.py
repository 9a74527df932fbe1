"""Smart charging on a live charge point (1.6 §3.13, §5.16): the glue around the sans-I/O
`sim.v16.smart_charging.SmartCharging`.

The transaction flow tells it when a transaction begins (`started`, again with the CSMS's
transactionId once StartTransaction.conf arrives) and ends (`stopped`: TxProfiles go, §3.13.1);
`apply()` puts the composite limit of every charging connector on its meter, so the EV model,
the metered power and Current.Offered follow it, and re-runs itself when the limit next changes
(`SmartCharging.next_change`). Profile handlers re-apply after every call. Without the
SmartCharging profile every call is a no-op and the meters run at the hardware rating.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from sim.features import transactions
from sim.features.context import LimitsContext
from sim.v16.smart_charging import SmartCharging

if TYPE_CHECKING:
    from sim.features.transactions import Port

__all__ = ["LimitsContext", "apply", "install_remote_start_profile", "started", "stopped",
           "then_apply"]


def _active(ctx: LimitsContext) -> SmartCharging | None:
    if "SmartCharging" not in (ctx.config.supported_feature_profiles or []):
        return None
    return ctx.features.smart


def started(ctx: LimitsContext, port: Port) -> None:
    """A transaction began on `port` (Relative schedules count from its start, 7.13), or its
    StartTransaction.conf arrived (TxProfiles may name the transactionId from then on); the
    two may come in either order."""
    smart = _active(ctx)
    if smart is not None and port.tx is not None:
        transaction_id = ctx.queue.tx_ids.get(port.tx.local_id)
        smart.transaction_started(port.id, transaction_id, port.tx.began)
        apply(ctx)


def stopped(ctx: LimitsContext, port: Port) -> None:
    """The transaction on `port` ended, or a remote start that installed a TxProfile never
    became one: its TxProfiles cease to exist (§3.13.1, 7.10)."""
    if _active(ctx) is not None and ctx.features.built("smart"):
        ctx.features.smart.transaction_stopped(port.id)
        apply(ctx)


def install_remote_start_profile(ctx: LimitsContext, port: Port, profile: dict) -> bool:
    """RemoteStartTransaction.req chargingProfile (§5.11, errata 3.41); False: answer Rejected.
    A charge point without smart charging ignores the profile."""
    smart = _active(ctx)
    if smart is None:
        return True
    smart.transaction_expected(port.id)
    if smart.install_remote_start_profile(port.id, profile):
        return True
    smart.transaction_stopped(port.id)
    return False


def apply(ctx: LimitsContext) -> None:
    """Put the limits in force on every connector with a transaction; re-arm the timer."""
    smart = _active(ctx)
    if smart is None:
        return
    changes = []
    for port in ctx.ports:
        if port.tx is None:
            continue
        transactions.advance(ctx, port)  # energy so far at the old rate
        amps, watts = smart.limit_at(port.id)
        port.meter.set_limit(amps=amps, watts=watts, phases=smart.phases_at(port.id))
        ctx.spawn(transactions.sync_energized(ctx, port))  # C5 / E3 (§4.9)
        changes.append(smart.next_change(port.id))
    upcoming = [t for t in changes if t is not None]
    ctx.features.schedule("smart_charging", min(upcoming, default=None), partial(apply, ctx))


def then_apply(handler: Callable[[SmartCharging, dict], Any]
               ) -> Callable[[LimitsContext, dict], Any]:
    """A profile handler (`SmartCharging.on_*`) as a charge-point handler that re-applies the
    limits after every call."""

    def run(ctx: LimitsContext, payload: dict) -> Any:
        reply = handler(ctx.features.smart, payload)
        apply(ctx)
        return reply

    run.__doc__ = handler.__doc__
    return run
