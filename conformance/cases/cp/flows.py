"""Rows shared by the charge point cases (OCTT's "reusable states"): a driver plugging in and
presenting a card, a charging session, stopping it, configuration changes."""

from __future__ import annotations

from typing import Any

from conformance.expect import Required, one_of, present
from conformance.steps import TAG, Do, Ensure, Expect, Send, Unordered, Var

OTHER_TAG = "CB-VALID-2"
PARENT_TAG = "CB-PARENT-1"

PLUG = Do("plug_in", {"connector": 1})
UNPLUG = Do("plug_out", {"connector": 1})


def card(tag: Any = TAG) -> Do:
    """The driver presents `tag` at connector 1."""
    return Do("present_id_tag", {"tag": tag, "connector": 1})


def status(value: str, connector: int = 1, *, within: float = 1.0, **fields: Any) -> Expect:
    """The charger reports `value` for `connector` (1.6 §4.9)."""
    return Expect("StatusNotification", {"connectorId": connector, "status": value, **fields},
                  within=within)


def config(key: str, value: str, expect: str | Any = None) -> Send | Ensure:
    """A configuration prerequisite (`Ensure`: read before the case, set when writable,
    restored after it), or with `expect` a ChangeConfiguration (1.6 §5.3) answered `expect`."""
    if expect is None:
        return Ensure(key, value)
    return Send("ChangeConfiguration", {"key": key, "value": value}, {"status": expect})


def started(tag: Any = TAG, reservation: int | None = None, **fields: Any) -> Expect:
    """StartTransaction for `tag` on connector 1; saves our transactionId as "tx". With
    `reservation`, the reservationId it must carry (1.6 §5.13: SHALL, though the schema
    makes the field optional)."""
    if reservation is not None:
        fields["reservationId"] = Required(reservation)
    return Expect("StartTransaction", {"connectorId": 1, "idTag": tag, **fields},
                  save={"tx": "reply.transactionId"})


def stopped(reason: Any, **fields: Any) -> Expect:
    """StopTransaction of "tx" with `reason`; 1.6 §6.49: an absent reason means Local, and
    an optional field (idTag) is checked only when present."""
    return Expect("StopTransaction", {"transactionId": Var("tx"), "reason": reason, **fields})


def charging(tag: Any = TAG) -> Unordered:
    """StartTransaction and StatusNotification Charging, in either order (1.6 §4.9 does not
    order them)."""
    return Unordered(started(tag), status("Charging"))


#: Plug in first, then the card: Preparing, Authorize, StartTransaction, Charging (TC_003).
CHARGING = (PLUG, status("Preparing"), card(), Expect("Authorize", {"idTag": TAG}),
            charging())
#: The driver ends the session with the same card (StopTransaction and Finishing in either
#: order), then unplugs.
STOP_LOCAL = (card(), Unordered(stopped("Local", idTag=TAG), status("Finishing")), UNPLUG,
              status("Available"))
#: Back to idle after a session: `conformance.idle.restore_idle` does it after every case,
#: from what the wire showed; nothing case-specific is needed.
IDLE_AFTER_SESSION: tuple = ()
BOOTED = (Expect("BootNotification", {"chargePointVendor": present}), status("Available"))
ANY_RESET_REASON = one_of("HardReset", "SoftReset", "Reboot", "PowerLoss")
