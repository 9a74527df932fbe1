"""The registration gate: which CALLs a side answers before its BootNotification was Accepted.

One rule for both roles, written once (the CSMS, the simulator and the conformance peers all
apply it), sans-I/O: the caller keeps the registration status it already tracks and asks
`BootGate.check(action, status)` before running a handler. The CALLERROR code comes from the
version's fault table (`Fault.NOT_ACCEPTED_YET`), never from a literal.

- Central system (receives the charge point's CALLs): everything but the boot CALL is refused
  until a BootNotification was Accepted (OCPP-J 1.6 errata §3.10, new §5.6; 2.0.1 B01.FR.10,
  B03.FR.07: SecurityError), except, while Pending, the version's `allowed_while_pending` and
  the actions the central system itself asked this charge point for (`asked`: 2.0.1 B01.FR.10,
  B02.FR.09, a message triggered by TriggerMessage).
- Charge point (receives the central system's CALLs): while Rejected it "SHALL NOT respond to
  any Central System initiated message" (1.6 §4.2): no reply at all (`NoReply`), where a
  2.0.1 station answers CALLERROR SecurityError (B03.FR.08, `answers_while_rejected`); while
  Pending the version's `not_while_pending` CALLs "are not allowed" (1.6 §4.2): the same
  CALLERROR.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Collection
from dataclasses import dataclass

from chargebench.ocppj.errors import NoReply, OcppCallError
from chargebench.ocppj.faults import Fault
from chargebench.ocppj.versions import OcppVersion, Role


class Registration(enum.StrEnum):
    """BootNotification.conf `status` (1.6 §7.35; 2.0.1 RegistrationStatusEnumType)."""

    ACCEPTED = "Accepted"
    PENDING = "Pending"
    REJECTED = "Rejected"


@dataclass(frozen=True, slots=True)
class BootGate:
    """The registration rule of the side that *receives* a CALL, in `role`, speaking `version`."""

    version: OcppVersion
    role: Role

    def refuses(self, action: str, status: str | None, asked: Collection[str] = ()) -> bool:
        """Whether a CALL of `action` must not reach its handler while registration is `status`."""
        try:
            self.check(action, status, asked)
        except (OcppCallError, NoReply):
            return True
        return False

    def check(self, action: str, status: str | None, asked: Collection[str] = ()) -> None:
        """Raise what the handler wrapper must answer instead of running the handler:
        `OcppCallError` (the version's NOT_ACCEPTED_YET code) or `NoReply`. `status` is the
        last BootNotification.conf status, None before any; `asked`: the actions the central
        system asked this charge point to send (an accepted 2.0.1 TriggerMessage)."""
        if self.role is Role.CENTRAL_SYSTEM:
            if status == Registration.PENDING and (
                action in self.version.allowed_while_pending or action in asked
            ):
                return  # 2.0.1 B01.FR.10, B02.FR.09: what the central system asked for
            if action != self.version.boot_action and status != Registration.ACCEPTED:
                state = status or "not booted"
                boot = self.version.boot_action
                raise self._refusal(f"{action} before {boot} accepted ({state})")
            return
        if status == Registration.REJECTED:
            if self.version.answers_while_rejected:  # 2.0.1 B03.FR.08: SecurityError
                raise self._refusal(f"{action} while {status}")
            raise NoReply
        if status == Registration.PENDING and action in self.version.not_while_pending:
            raise self._refusal(f"{action} while {status}")

    def _refusal(self, description: str) -> OcppCallError:
        return OcppCallError(self.version.code_for(Fault.NOT_ACCEPTED_YET), description)


@functools.cache
def boot_gate(version: OcppVersion, role: Role) -> BootGate:
    """The shared gate of `role` speaking `version` (one per pair, held by every connection)."""
    return BootGate(version, role)
