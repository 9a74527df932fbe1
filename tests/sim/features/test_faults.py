"""Fault plans: which Decision each message gets."""

from __future__ import annotations

import pytest

from sim.features.faults import Decision, Effect, FaultPlan


def test_default_passes():
    """An empty plan passes everything."""
    assert FaultPlan().decide("Reset") == Decision()


def test_reject_once_then_pass():
    """A reject rule answers the chosen status once, then the action behaves again."""
    plan = FaultPlan().add("RemoteStartTransaction", "reject")
    first = plan.decide("RemoteStartTransaction")
    assert first.effect is Effect.REJECT and first.reply == {"status": "Rejected"}
    assert plan.decide("RemoteStartTransaction").passes


def test_after_and_times():
    """`after` skips matches, `times=None` applies forever, other actions are untouched."""
    plan = FaultPlan().add("Heartbeat", "ignore", direction="out", after=2, times=None)
    effects = [plan.decide("Heartbeat", "out").effect for _ in range(4)]
    assert effects == [Effect.PASS, Effect.PASS, Effect.IGNORE, Effect.IGNORE]
    assert plan.decide("Heartbeat", "in").passes


def test_callerror_malformed_delay_and_latency():
    """CALLERROR carries its code; malformed its frame; delays add to the network latency."""
    plan = FaultPlan(latency_s=0.5)
    plan.add("Reset", Effect.CALLERROR, error_code="NotSupported", description="no")
    plan.add("GetConfiguration", "malformed", frame="[")
    plan.add("*", "delay", delay_s=2)
    err = plan.decide("Reset")
    assert (err.effect, err.error_code, err.description) == (Effect.CALLERROR, "NotSupported",
                                                             "no")
    assert plan.decide("GetConfiguration").frame == "["
    assert plan.decide("ClearCache") == Decision(Effect.DELAY, 2.5)
    assert plan.decide("ClearCache") == Decision(Effect.PASS, 0.5)


def test_drop_at_message():
    """The connection drops at the N-th message in either direction."""
    plan = FaultPlan(drop_at_message=3)
    assert [plan.decide(a, d).effect for a, d in
            [("BootNotification", "out"), ("Reset", "in"), ("StatusNotification", "out")]
            ] == [Effect.PASS, Effect.PASS, Effect.DROP]


def test_from_dict():
    """The YAML form builds the same plan; unknown keys are refused."""
    plan = FaultPlan.from_dict({"latency_s": 1, "rules": [
        {"action": "UnlockConnector", "effect": "reject", "status": "UnlockFailed"}]})
    assert plan.decide("UnlockConnector").reply == {"status": "UnlockFailed"}
    with pytest.raises(ValueError):
        FaultPlan.from_dict({"latency": 1})
    with pytest.raises(ValueError):
        FaultPlan.from_dict({"rules": [{"action": "X", "effect": "explode"}]})
