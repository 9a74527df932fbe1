"""Default answers of the harness to CALLs from the system under test, per role it plays.

They are the happy path of the version (`chargebench.ocppj.testing.happy_handlers`, one table
per version module); a case that needs another answer replaces one entry of
`HarnessPeer.handlers` (e.g. BootNotification -> Pending for TC_002).
"""

from __future__ import annotations

from chargebench.ocppj import Role
from chargebench.ocppj.testing import happy_handlers
from conformance.harness import Handler


def csms_handlers(heartbeat_interval: int = 300) -> dict[str, Handler]:
    """What ChargeBench answers when it plays the CSMS (a charge point is under test)."""
    return happy_handlers(Role.CENTRAL_SYSTEM, heartbeat_interval=heartbeat_interval)


def charge_point_handlers(config: dict[str, str] | None = None) -> dict[str, Handler]:
    """What ChargeBench answers when it plays the charge point (a CSMS is under test)."""
    return happy_handlers(Role.CHARGE_POINT, config=config)
