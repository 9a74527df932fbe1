"""Rows shared by the charge point cases (OCTT's "reusable states"): a driver plugging in and
presenting a card, a charging session, stopping it, configuration changes."""

from __future__ import annotations

from typing import Any

from conformance.steps import TAG, Do, Expect, Send, Var
from conformance.wire import one_of, present

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


def config(key: str, value: str, expect: str | Any = "Accepted") -> Send:
    """ChangeConfiguration (1.6 §5.3) answered `expect`."""
    return Send("ChangeConfiguration", {"key": key, "value": value}, {"status": expect})


def started(tag: Any = TAG, **fields: Any) -> Expect:
    """StartTransaction for `tag` on connector 1; saves our transactionId as "tx"."""
    return Expect("StartTransaction", {"connectorId": 1, "idTag": tag, **fields},
                  save={"tx": "reply.transactionId"})


def stopped(reason: str, **fields: Any) -> Expect:
    return Expect("StopTransaction", {"transactionId": Var("tx"), "reason": reason, **fields})


#: Plug in first, then the card: Preparing, Authorize, StartTransaction, Charging (TC_003).
CHARGING = (PLUG, status("Preparing"), card(), Expect("Authorize", {"idTag": TAG}),
            started(), status("Charging"))
#: The driver ends the session with the same card, then unplugs.
STOP_LOCAL = (card(), stopped("Local", idTag=TAG), status("Finishing"), UNPLUG,
              status("Available"))
#: Best effort back to idle after a session, whatever state the case left.
IDLE_AFTER_SESSION = (
    Send("RemoteStopTransaction", {"transactionId": Var("tx")}), UNPLUG,
    Send("ChangeAvailability", {"connectorId": 0, "type": "Operative"}),
)
BOOTED = (Expect("BootNotification", {"chargePointVendor": present}), status("Available"))
ANY_RESET_REASON = one_of("HardReset", "SoftReset", "Reboot", "PowerLoss")
