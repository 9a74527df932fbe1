"""CSMS-initiated actions: one generic `execute()` plus a thin named wrapper per action.

    reply = await commands.reset(csms, "CP001", type="Soft")
    reply = await commands.send(csms, "CP001", "Reset", {"type": "Soft"})   # no bookkeeping

Wrappers take the OCPP fields as keyword arguments (camelCase, as on the wire) and return the
charger's reply payload. Errors: `NotConnected` (no live connection), and from the session core
`CallErrorReply`, `CallTimeout`, `InvalidReply`, `ConnectionLost` (all `CallFailed`).

Bookkeeping records what the CSMS must remember: firmware deployments, diagnostics/log requests,
reservations, local list versions, charging profiles, certificates and configuration. Each
version has its table (`csms.v16.commands`, `csms.v201.commands`: `BOOKKEEPING` and
`ALLOCATED_FIELDS`), chosen by the version the charger's connection speaks; an action that
version does not send raises `UnknownAction`. In 1.6 a ReserveNow's reservationId is the
caller's when given (the same charger's id replaces that reservation, 1.6 §5.13; another
charger's raises `ReservationIdTaken`), else the store allocates one. GetLog and
SignedUpdateFirmware (2.0.1: GetLog and UpdateFirmware) requestIds always come from the store: a
value given by the caller is replaced. `CommandResult.request` is what was sent.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion
from csms.dispatch import ASKED
from csms.followups import Collected
from csms.store.base import Store

if TYPE_CHECKING:
    from csms.central import CentralSystem

log = logging.getLogger(__name__)


class NotConnected(Exception):
    """The charger has no live connection: nothing was sent."""

    def __init__(self, cp_id: str) -> None:
        super().__init__(f"charge point {cp_id!r} is not connected")
        self.cp_id = cp_id


@dataclass(frozen=True, slots=True)
class CommandResult:
    """What was sent (with allocated ids filled in) and what came back; `followed`: the
    multi-message result that followed an accepted request (a report over several
    NotifyReport messages, B07/B08), None for an action without one."""

    request: dict
    reply: dict
    followed: Collected | None = None


async def send(
    csms: CentralSystem, cp_id: str, action: str, payload: dict, *, timeout: float | None = None
) -> dict:
    """Send one CALL to a connected charger and return its CALLRESULT payload."""
    conn = csms.connections.get(cp_id)
    if conn is None:
        raise NotConnected(cp_id)
    return await conn.session.call(action, payload, timeout=timeout)


async def execute(
    csms: CentralSystem, cp_id: str, action: str, payload: dict, *, timeout: float | None = None
) -> CommandResult:
    """`send()` with the action's bookkeeping before and after, from the table of the version
    the charger's connection speaks (`bookkeeping_for`). An action with a multi-message result
    (`Bookkeeping.follow_up`) waits, after an accepted reply, for the messages that carry it
    (at most `timeout`, default the call timeout) and returns them in `followed`."""
    conn = csms.connections.get(cp_id)
    if conn is None:
        raise NotConnected(cp_id)  # before any bookkeeping row is created
    version = conn.session.core.version
    if action not in version.cs_initiated:
        raise UnknownAction(cp_id, action, version)
    keeper = bookkeeping_for(version).get(action)
    state: Any = None
    if keeper is not None and keeper.prepare is not None:
        payload, state = await asyncio.to_thread(keeper.prepare, csms.store, cp_id, dict(payload))
    asked = keeper.asks(payload) if keeper is not None and keeper.asks is not None else None
    offered = keeper.offers(payload) if keeper is not None and keeper.offers is not None else None
    if offered is not None:
        # a new basic-auth password is admitted beside the stored one from before its CALL
        # until its answer is recorded: a charger that takes it, answers and reconnects at once
        # may dial in before the CSMS has read the reply (csms.server; whitepaper A01.FR.03,
        # 2.0.1 A01.FR.03 then leave only the new one)
        csms.offered.setdefault(cp_id, []).append(offered)
    if asked is not None:
        # before the CALL: the station may send what it was asked for before its reply is read
        conn.extra.setdefault(ASKED, set()).add(asked)
    collector = None
    if keeper is not None and keeper.follow_up is not None:
        # registered before the CALL: a station may send the first part before its reply
        collector = csms.followups.expect(cp_id, keeper.follow_up, payload["requestId"])
    try:
        try:
            reply = await send(csms, cp_id, action, payload, timeout=timeout)
        except Exception:
            if asked is not None:
                conn.extra.get(ASKED, set()).discard(asked)
            if keeper is not None and keeper.failed is not None and state is not None:
                await asyncio.to_thread(keeper.failed, csms.store, state)
            raise
        if asked is not None and keeper is not None and not keeper.follows(reply):
            conn.extra.get(ASKED, set()).discard(asked)  # not Accepted: nothing will be sent
        if keeper is not None and keeper.record is not None:
            await _record(csms, cp_id, keeper.record, payload, reply, state)
        followed = None
        if collector is not None and keeper is not None and keeper.follows(reply):
            wait = timeout if timeout is not None else csms.config.call_timeout
            followed = await collector.wait(wait)
    finally:
        if collector is not None:
            csms.followups.forget(collector)
        if offered is not None:
            _withdraw(csms, cp_id, offered)
    return CommandResult(payload, reply, followed)


def _withdraw(csms: CentralSystem, cp_id: str, offered: str) -> None:
    keys = csms.offered.get(cp_id, [])
    keys.remove(offered)
    if not keys:
        csms.offered.pop(cp_id, None)


async def _record(csms: CentralSystem, cp_id: str, record: Record, payload: dict, reply: dict,
                  state: Any) -> None:  # fmt: skip
    # visible to admission while it runs: a charger reconnecting at once after an Accepted
    # AuthorizationKey or SecurityProfile change is judged on the new value (csms.server)
    recording = asyncio.ensure_future(asyncio.to_thread(
        record, csms.store, cp_id, payload, reply, state))
    pending = csms.recording.setdefault(cp_id, set())
    pending.add(recording)

    def done(_: asyncio.Future) -> None:
        pending.discard(recording)
        if not pending and csms.recording.get(cp_id) is pending:
            del csms.recording[cp_id]

    recording.add_done_callback(done)
    # shielded: a cancelled caller leaves the write (already in its thread) to finish
    await asyncio.shield(recording)


class RequestRefused(Exception):
    """The request is valid against the schema but breaks a rule of what the CSMS may send in
    the station's version (e.g. 2.0.1 K01.FR.06): nothing was sent. `problems` name
    requirement, field and reason."""

    def __init__(self, cp_id: str, action: str, problems: list[Any]) -> None:
        listed = "; ".join(str(problem) for problem in problems)
        super().__init__(f"{action} for {cp_id!r} not sent: {listed}")
        self.problems = problems


class UnknownAction(Exception):
    """The action is not one the CSMS sends in the OCPP version the charger speaks."""

    def __init__(self, cp_id: str, action: str, version: OcppVersion) -> None:
        super().__init__(f"charge point {cp_id!r} speaks OCPP {version.name}, which has no "
                         f"CSMS-initiated {action}")  # fmt: skip
        self.version = version


# Bookkeeping ------------------------------------------------------------------------------------

Prepare = Callable[[Store, str, dict], tuple[dict, Any]]
Record = Callable[[Store, str, dict, dict, Any], None]
Failed = Callable[[Store, Any], None]


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """Store work around one action; each hook runs in a worker thread."""

    #: before sending: may allocate an id and put it in the payload; returns (payload, state)
    prepare: Prepare | None = None
    #: after the reply: record the outcome
    record: Record | None = None
    #: the CALL failed (timeout, CALLERROR, disconnect): mark what `prepare` created
    failed: Failed | None = None
    #: the station's action that carries the result after an accepted reply, matched by the
    #: request's `requestId` (2.0.1 NotifyReport after GetBaseReport, B07.FR.04)
    follow_up: str | None = None
    #: the charger's action the request asks it to send (2.0.1 TriggerMessage): let through
    #: the registration gate while Pending (B01.FR.10, B02.FR.09) unless the reply refuses
    asks: Callable[[dict], str | None] | None = None
    #: the new basic-auth password the request offers (1.6 AuthorizationKey, 2.0.1
    #: BasicAuthPassword): admitted too while the request is unanswered (`execute`)
    offers: Callable[[dict], str | None] | None = None

    def follows(self, reply: dict) -> bool:
        """Whether the reply announces the follow-up messages (an accepted request)."""
        return reply.get("status") == "Accepted"


@dataclass(frozen=True, slots=True)
class PasswordChange:
    """How a version sets a charger's basic-auth password (security profiles 1 and 2): 1.6
    ChangeConfiguration AuthorizationKey (whitepaper A01), 2.0.1 SetVariables
    SecurityCtrlr.BasicAuthPassword (A01.FR.02). The version's bookkeeping stores the key
    when the charger's status is in `stored`."""

    action: str
    #: the payload that sets `key`
    request: Callable[[str], dict]
    #: the charger's status for the password in its reply (None: the reply does not answer it)
    status: Callable[[dict], str | None]
    #: the statuses that make the key the charger's (A01.FR.03); any other keeps the old one
    stored: tuple[str, ...]
    #: the version's key rule: the key as sent and stored, or ValueError (never naming it)
    check: Callable[[str], str]


def bookkeeping_for(version: OcppVersion) -> Mapping[str, Bookkeeping]:
    """The bookkeeping table of `version` (`csms.v16.commands`, `csms.v201.commands`), chosen
    the way `csms.dispatch` chooses handler tables."""
    return _tables()[version].BOOKKEEPING


def allocated_fields(version: OcppVersion) -> Mapping[str, str]:
    """Id fields the CSMS fills in for `version`'s actions when the caller leaves them out
    (or always): action -> field."""
    return _tables()[version].ALLOCATED_FIELDS


def password_change_for(version: OcppVersion) -> PasswordChange:
    """How `version` sets the basic-auth password (`PasswordChange`)."""
    return _tables()[version].PASSWORD


@functools.cache
def _tables() -> dict[OcppVersion, Any]:
    from csms.v16 import commands as v16
    from csms.v201 import commands as v201

    return {module.VERSION: module for module in (v16, v201)}


# Named wrappers ---------------------------------------------------------------------------------


def _command(action: str) -> Callable[..., Any]:
    async def command(
        csms: CentralSystem, cp_id: str, *, timeout: float | None = None, **fields: Any
    ) -> dict:
        return (await execute(csms, cp_id, action, fields, timeout=timeout)).reply

    command.__name__ = command.__qualname__ = _snake(action)
    command.__doc__ = f"Send {action}.req (OCPP 1.6{' security' if _is_security(action) else ''}) "
    command.__doc__ += "with the given fields; return the .conf payload."
    return command


def _snake(action: str) -> str:
    out = []
    for i, ch in enumerate(action):
        if ch.isupper() and i and not action[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


def _is_security(action: str) -> bool:
    return DEFAULT_VERSION.profiles.get(action) == "Security"


remote_start_transaction = _command("RemoteStartTransaction")
remote_stop_transaction = _command("RemoteStopTransaction")
change_availability = _command("ChangeAvailability")
change_configuration = _command("ChangeConfiguration")
get_configuration = _command("GetConfiguration")
clear_cache = _command("ClearCache")
reset = _command("Reset")
unlock_connector = _command("UnlockConnector")
trigger_message = _command("TriggerMessage")
data_transfer = _command("DataTransfer")
update_firmware = _command("UpdateFirmware")
get_diagnostics = _command("GetDiagnostics")
send_local_list = _command("SendLocalList")
get_local_list_version = _command("GetLocalListVersion")
reserve_now = _command("ReserveNow")
cancel_reservation = _command("CancelReservation")
set_charging_profile = _command("SetChargingProfile")
clear_charging_profile = _command("ClearChargingProfile")
get_composite_schedule = _command("GetCompositeSchedule")
certificate_signed = _command("CertificateSigned")
install_certificate = _command("InstallCertificate")
delete_certificate = _command("DeleteCertificate")
get_installed_certificate_ids = _command("GetInstalledCertificateIds")
extended_trigger_message = _command("ExtendedTriggerMessage")
get_log = _command("GetLog")
signed_update_firmware = _command("SignedUpdateFirmware")
