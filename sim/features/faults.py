"""Fault injection for one charge point: a plan of misbehaviours the adapter layer consults.

DESIGN "Fault injection": drop/delay the connection, reject commands, send malformed frames.
`FaultPlan` is pure data (no I/O, no clock): before answering a CSMS CALL, or before sending
one of its own, the charge point asks `plan.decide(action, direction)` and obeys the `Decision`:

=================  ===============================================================================
`Effect.PASS`      behave normally (then still wait `decision.delay_s`: the slow network)
`Effect.DELAY`     wait `decision.delay_s` before replying / sending
`Effect.REJECT`    reply `decision.reply` (e.g. {"status": "Rejected"}) without running the handler
`Effect.IGNORE`    never reply (the CSMS sees a timeout, OCPP-J 1.6 §4.1.1)
`Effect.CALLERROR` reply CALLERROR `decision.error_code` / `decision.description`
`Effect.MALFORMED` send `decision.frame` as is (`Session.send_raw`) instead of the reply
`Effect.DROP`      close the websocket now (no reply / the CALL is not sent)
=================  ===============================================================================

Rules match an action name (or "*") and a direction ("in": CSMS CALLs, "out": our CALLs, "any"),
may skip the first `after` matches and apply `times` times (None: always). The first rule that
applies wins. `FaultPlan.from_dict` reads the scenario/fleet YAML form.
"""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_MALFORMED_FRAME", "Decision", "Effect", "FaultPlan", "FaultRule"]

#: A frame that is not valid JSON (OCPP-J 1.6 §4.2: the peer answers FormationViolation).
DEFAULT_MALFORMED_FRAME = '[2, "broken", "Heartbeat", {'


class Effect(enum.Enum):
    PASS = "pass"
    DELAY = "delay"
    REJECT = "reject"
    IGNORE = "ignore"
    CALLERROR = "callerror"
    MALFORMED = "malformed"
    DROP = "drop"


@dataclass(frozen=True)
class Decision:
    """What to do with one message; `delay_s` always applies (rule delay + network latency)."""

    effect: Effect = Effect.PASS
    delay_s: float = 0.0
    reply: dict[str, Any] | None = None
    error_code: str = ""
    description: str = ""
    frame: str = ""

    @property
    def passes(self) -> bool:
        return self.effect in (Effect.PASS, Effect.DELAY)


@dataclass
class FaultRule:
    """One misbehaviour: `effect` on `action` ("*" = any) in `direction`."""

    action: str
    effect: Effect
    direction: str = "in"  # "in": CSMS -> CP CALLs, "out": CP -> CSMS CALLs, "any"
    after: int = 0  # skip this many matching messages first
    times: int | None = 1  # apply this many times; None: every time
    delay_s: float = 0.0
    status: str = "Rejected"  # REJECT: the status field of the reply
    reply: dict[str, Any] | None = None  # REJECT: the whole reply, overriding `status`
    error_code: str = "InternalError"  # CALLERROR (OCPP-J 1.6 §4.2.3 codes)
    description: str = "injected fault"
    frame: str = DEFAULT_MALFORMED_FRAME  # MALFORMED
    used: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.effect = Effect(self.effect)
        if self.direction not in ("in", "out", "any"):
            raise ValueError(f"direction {self.direction!r} is not in, out or any")

    def matches(self, action: str, direction: str) -> bool:
        return (self.action in ("*", action)) and self.direction in ("any", direction)

    def decision(self, latency_s: float) -> Decision:
        return Decision(
            effect=self.effect,
            delay_s=latency_s + self.delay_s,
            reply=(self.reply if self.reply is not None else {"status": self.status})
            if self.effect is Effect.REJECT else None,
            error_code=self.error_code if self.effect is Effect.CALLERROR else "",
            description=self.description if self.effect is Effect.CALLERROR else "",
            frame=self.frame if self.effect is Effect.MALFORMED else "",
        )


@dataclass
class FaultPlan:
    """The faults of one charge point. `latency_s` slows every message (a slow network);
    `drop_at_message` closes the connection at the N-th message (1-based, both directions)."""

    rules: list[FaultRule] = field(default_factory=list)
    latency_s: float = 0.0
    drop_at_message: int | None = None
    _seen: Counter = field(default_factory=Counter, init=False, repr=False)
    _messages: int = field(default=0, init=False, repr=False)

    def decide(self, action: str, direction: str = "in") -> Decision:
        """The Decision for the next message `action` going `direction`; counts it."""
        self._messages += 1
        if self.drop_at_message is not None and self._messages == self.drop_at_message:
            return Decision(Effect.DROP, self.latency_s)
        for rule in self.rules:
            if not rule.matches(action, direction):
                continue
            key = id(rule)
            self._seen[key] += 1
            if self._seen[key] <= rule.after:
                continue
            if rule.times is not None and rule.used >= rule.times:
                continue
            rule.used += 1
            return rule.decision(self.latency_s)
        return Decision(Effect.PASS, self.latency_s)

    def add(self, action: str, effect: Effect | str, **options: Any) -> FaultPlan:
        """Append a rule; returns the plan for chaining."""
        self.rules.append(FaultRule(action, Effect(effect), **options))
        return self

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FaultPlan:
        """From YAML: {latency_s, drop_at_message, rules: [{action, effect, ...}]}."""
        data = dict(data or {})
        rules = [FaultRule(**rule) for rule in data.pop("rules", [])]
        unknown = set(data) - {"latency_s", "drop_at_message"}
        if unknown:
            raise ValueError(f"unknown fault plan keys: {sorted(unknown)}")
        return cls(rules=rules, **data)
