"""Raising a charger's security profile, never lowering it (OCPP 2.0.1 A05; 1.6 whitepaper A05).

2.0.1, the A05 scenario: SetNetworkProfile puts a NetworkConnectionProfile with the higher
securityProfile into a free configuration slot (B09), SetVariables
OCPPCommCtrlr.NetworkConfigurationPriority puts that slot first (B10.FR.01), Reset OnIdle makes
the station reconnect through it (A05.FR.05). 1.6: ChangeConfiguration SecurityProfile, after
which the charger reconnects by itself (whitepaper A05.FR.05-07).

What the CSMS set is kept by the version's bookkeeping as the charger's configuration baseline
(2.0.1: the slot's profile, `slot_key`, then the profile asked for; 1.6: the SecurityProfile
key; `TARGET_KEYS`). The new profile becomes the charger's when it reconnects with it (2.0.1
A05.FR.06, 1.6 A05.FR.09; `reached`, called at admission), and from then on nothing lower is
admitted (A05.FR.07, `csms.admission`). Until then the old profile still admits: a charger
that cannot connect with the new one falls back (2.0.1 B10.FR.07, 1.6 A05.FR.08).

The upgrade endpoint refuses a lower profile before anything is sent (`downgrade`; A00.FR.005,
A05.FR.10). The plain actions API sends what it is given, a lower SetNetworkProfile too: a test
tool must be able to check that a station rejects it (B09.FR.04); admission still keeps the
floor. `upgrade()` runs the flow through `commands.execute`, each step with its bookkeeping
and in the message log.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chargebench.ocppj.versions import OCPP201, OcppVersion
from csms.admission import required_profile
from csms.store.base import Charger

#: baseline key of the profile the CSMS asked a 2.0.1 station to reconnect with (A05 step 1);
#: the variable that reports the profile in use (SecurityCtrlr.SecurityProfile, ReadOnly)
TARGET_KEY = "SecurityCtrlr/SecurityProfile"
#: the baseline keys of a profile asked for, per version (1.6: the configuration key that
#: ChangeConfiguration set, csms.v16.commands)
TARGET_KEYS = (TARGET_KEY, "SecurityProfile")
#: 2.0.1 device model: the variable that orders the configuration slots (B10)
PRIORITY = ("OCPPCommCtrlr", "NetworkConfigurationPriority")
#: SetVariableStatusEnumType values that set NetworkConfigurationPriority (B10.FR.01)
PRIORITY_SET = ("Accepted", "RebootRequired")
#: ResetStatusEnumType values after which the station reboots (B11.FR.01, B12.FR.01)
RESET_OK = ("Accepted", "Scheduled")


def slot_key(slot: int) -> str:
    """Baseline key of the securityProfile of configuration slot `slot` (B09)."""
    return f"NetworkConnectionProfile[{slot}]/securityProfile"


def downgrade(charger: Charger | None, profile: int) -> str | None:
    """Why asking `charger` to use `profile` is a downgrade (None: it is not). The floor is the
    profile it is registered at or has connected with (`csms.admission.required_profile`)."""
    if charger is None:
        return None
    floor = required_profile(charger)
    if profile >= floor:
        return None
    return (f"security profile {profile} is below {floor}, the profile charge point "
            f"{charger['id']!r} is registered at or has connected with: no downgrade over OCPP "
            "(2.0.1 A00.FR.005, A05.FR.07, A05.FR.10, B09.FR.04; 1.6 whitepaper A05.FR.01)")


def slots(priority: str) -> list[int]:
    """The slots of a NetworkConfigurationPriority value ("1,0" -> [1, 0]); ValueError for
    anything else."""
    if not priority.strip():
        return []
    out = []
    for part in priority.split(","):
        part = part.strip()
        if not part.isascii() or not part.isdigit() or len(part) > 9:
            raise ValueError(f"NetworkConfigurationPriority {priority!r} is not a list of slots")
        out.append(int(part))
    return out


def next_slot(priority: str) -> int:
    """The lowest slot not in the station's NetworkConfigurationPriority: the one A05 fills
    (B09.FR.06: a station has at least two; it answers Rejected for one it lacks, B09.FR.05)."""
    used = set(slots(priority))
    return next(slot for slot in range(len(used) + 1) if slot not in used)


def priority_with(slot: int, priority: str) -> str:
    """`priority` with `slot` first and the others after it in their order (A05 step 1)."""
    return ",".join(str(s) for s in [slot, *(s for s in slots(priority) if s != slot)])


def first_slot_profile(baseline: Mapping[str, str | None], priority: str) -> int | None:
    """The securityProfile the CSMS set for the first slot of `priority` (None: unknown)."""
    try:
        order = slots(priority)
    except ValueError:
        return None
    value = baseline.get(slot_key(order[0])) if order else None
    return int(value) if value is not None and value.isdigit() else None


def reached(charger: Charger, baseline: Mapping[str, str | None], achieved: int) -> int | None:
    """The profile to record for `charger` now that it connected at `achieved` (A05.FR.06):
    the one asked for, once reached; None when nothing changes."""
    asked = [int(value) for key in TARGET_KEYS if (value := baseline.get(key)) is not None
             and value.isascii() and value.isdigit() and len(value) < 10]  # fmt: skip
    reachable = [target for target in asked if charger["security_profile"] < target <= achieved]
    return max(reachable, default=None)


# The flow ---------------------------------------------------------------------------------------

#: `commands.execute` bound to one CSMS: (cp_id, action, payload) -> CommandResult
Execute = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class Upgrade:
    """What `upgrade()` did: each step as sent and answered, and how it ended: "Pending" (the
    station reboots or reconnects with the new profile; recorded when it does) or "Refused"
    (`refused_by` answered something else; nothing more was sent)."""

    profile: int
    slot: int | None = None
    steps: list[dict] = field(default_factory=list)
    outcome: str = "Pending"
    refused_by: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"securityProfile": self.profile, "outcome": self.outcome,
                               "steps": self.steps}  # fmt: skip
        if self.slot is not None:
            out["configurationSlot"] = self.slot
        if self.refused_by is not None:
            out["refusedBy"] = self.refused_by
        return out


class UpgradeInput(ValueError):
    """The request lacks what the charger's version needs (`field` names it)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


async def upgrade(execute: Execute, cp_id: str, version: OcppVersion, body: Mapping[str, Any],
                  ) -> Upgrade:  # fmt: skip
    """Ask the connected charger `cp_id` to reconnect at `body["securityProfile"]` (the
    caller has checked it is no `downgrade`). The charger's errors (`CallFailed`) propagate,
    as for one action; the steps done so far are in the message log."""
    profile = body["securityProfile"]
    if version is not OCPP201:
        # 1.6 whitepaper A05.FR.05-07: the charger reconnects by itself after Accepted
        done = Upgrade(profile)
        await _step(done, execute, cp_id, "ChangeConfiguration",
                    {"key": "SecurityProfile", "value": str(profile)}, ("Accepted",))  # fmt: skip
        return done
    if "ocppCsmsUrl" not in body:
        raise UpgradeInput("OCPP 2.0.1 needs ocppCsmsUrl: the URL the station dials through "
                           "its new network profile, without its identity (B09)", "ocppCsmsUrl")
    slot = body.get("configurationSlot")
    priority = ""
    done = Upgrade(profile)
    component = {"component": {"name": PRIORITY[0]}, "variable": {"name": PRIORITY[1]}}
    reply = await _step(done, execute, cp_id, "GetVariables",
                        {"getVariableData": [component]}, None)  # fmt: skip
    result = reply["getVariableResult"][0] if reply.get("getVariableResult") else {}
    if result.get("attributeStatus") == "Accepted":
        priority = result.get("attributeValue") or ""
    try:
        slot = next_slot(priority) if slot is None else slot
    except ValueError as error:
        raise UpgradeInput(f"{error}; give configurationSlot", "configurationSlot") from None
    done.slot = slot
    connection = {"ocppVersion": "OCPP20", "ocppTransport": "JSON",
                  "ocppCsmsUrl": body["ocppCsmsUrl"],
                  "messageTimeout": body.get("messageTimeout", 30), "securityProfile": profile,
                  "ocppInterface": body.get("ocppInterface", "Wired0")}  # fmt: skip
    steps: list[tuple[str, dict, tuple[str, ...]]] = [
        # A05 prerequisite, B09.FR.01
        ("SetNetworkProfile", {"configurationSlot": slot, "connectionData": connection},
         ("Accepted",)),
        # A05 steps 1-2, B10.FR.01
        ("SetVariables", {"setVariableData": [{**component,
                                               "attributeValue": priority_with(slot, priority)}]},
         PRIORITY_SET),
        # A05 step 3: the station reboots and connects through the new first slot (A05.FR.05)
        ("Reset", {"type": "OnIdle"}, RESET_OK),
    ]  # fmt: skip
    for action, payload, accepted in steps:
        await _step(done, execute, cp_id, action, payload, accepted)
        if done.refused_by is not None:
            break
    return done


async def _step(done: Upgrade, execute: Execute, cp_id: str, action: str, payload: dict,
                accepted: tuple[str, ...] | None) -> dict:  # fmt: skip
    result = await execute(cp_id, action, payload)
    reply: dict = result.reply
    done.steps.append({"action": action, "request": result.request, "reply": reply})
    if accepted is not None and _status(reply) not in accepted:
        done.outcome, done.refused_by = "Refused", action
    return reply


def _status(reply: dict) -> str | None:
    if "setVariableResult" in reply:
        results = reply["setVariableResult"]
        return results[0]["attributeStatus"] if results else None
    return reply.get("status")
