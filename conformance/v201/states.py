"""The context of a 2.0.1 case with a Charging Station under test, and the reusable states of
part 6 §2.18 (EVConnectedPreSession, Authorized, EnergyTransferStarted, StopAuthorized,
EVDisconnected, Unavailable, Reserved) and memory states of §2.19 (IdTokenCached,
IdTokenLocalAuthList) the cases build on.

Every allowed reaction is accepted: a connector status reported by StatusNotificationRequest or
by NotifyEventRequest (AvailabilityState), an AuthorizeRequest the station may skip (a cached
idToken), TransactionEventRequests whose eventType follows the station's own TxStartPoint and
TxStopPoint, read from its device model (part 6 spells each step "needs to be executed when
TxStartPoint contains ..."). What a station must send, it must send: a missing step fails the
case with what came instead (`conformance.expect.failure`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from chargebench.clock import iso
from chargebench.matching import Matcher
from chargebench.trace import TraceRecord
from conformance.casesteps import step
from conformance.expect import Mismatch, expectation, failure, one_of
from conformance.harness import HarnessPeer
from conformance.operator import Operator
from conformance.settings import Settings
from conformance.v201.central import Central201, token
from conformance.v201.prerequisites import DeviceModelView

__all__ = [
    "Cs",
    "authorized",
    "energy_transfer_started",
    "ev_connected_pre_session",
    "ev_disconnected",
    "stop_authorized",
    "unavailable",
]

_ids = itertools.count(1)


def next_id() -> int:
    """A fresh requestId / remoteStartId / reservation id for this run."""
    return 1000 + next(_ids)


@dataclass
class Cs:
    """One case's view of the station: the connection, ChargeBench's CSMS, the operator at the
    station, what its device model says, and the transaction the case runs."""

    peer: HarnessPeer
    central: Central201
    operator: Operator
    model: DeviceModelView
    settings: Settings
    #: <Configured evseId>, <Configured connectorId>
    evse_id: int = 1
    connector_id: int = 1
    #: the transactionId of the case's transaction, once the station named it
    tx_id: str | None = None
    #: the case's Reusable State Authorized was reached (the driver's idToken accepted)
    authorized: bool = False
    #: connectors the operator plugged in and did not unplug yet; the station was taken offline
    plugged: set[int] = field(default_factory=set)
    offline: bool = False
    #: the log position where the case began (its own frames follow)
    start: int = 0
    #: the case's trace (`conformance.cases.conftest.CaseTrace`): new connections join it
    trace: Any = None

    @property
    def valid(self) -> dict:
        """<Configured valid_idtoken_idtoken / _type>."""
        return token(self.settings.id_tag)

    def time(self, seconds: float = 0) -> str:
        """An OCPP dateTime `seconds` from now on the station's clock (the operator hook's
        `now()`: a simulator's clock may run fast), else the wall clock's."""
        reader = getattr(self.operator, "now", None)
        when = reader() if reader is not None else datetime.now(UTC)
        return iso(when + timedelta(seconds=seconds))

    def points(self, name: str) -> list[str]:
        """TxCtrlr.TxStartPoint / TxStopPoint as the station reported them."""
        value = self.var("TxCtrlr", name) or ""
        return [item.strip() for item in value.split(",") if item.strip()]

    def var(self, component: str, variable: str) -> str | None:
        """The variable's Actual value: as the case set it (SetVariables Accepted), else as
        the device model reported it."""
        for (c, v, _), value in self.central.station.changed.items():
            if c.lower() == component.lower() and v.lower() == variable.lower():
                return value
        return self.model.value(component, variable)

    async def configure(self, component: str, variable: str, value: str) -> bool:
        """A case's Configuration State ("X is Y (If implemented AND ReadWrite)"): set when the
        station has the variable; False when it does not (or refuses: ReadOnly)."""
        if not self.model.has(component, variable):
            return False
        if (self.var(component, variable) or "").lower() == value.lower():
            return True
        reply = await self.ask("SetVariables", {"setVariableData": [{
            "component": {"name": component}, "variable": {"name": variable},
            "attributeValue": value}]})
        return reply["setVariableResult"][0]["attributeStatus"] == "Accepted"

    def flag(self, component: str, variable: str) -> bool:
        return (self.var(component, variable) or "").strip().lower() == "true"

    async def reconnected(self) -> HarnessPeer:
        """The station's next connection (after a reset, a power cycle, a network loss),
        once booted again or reconnected; its frames join the case's trace."""
        old = self.peer
        peer = await self.central.reconnection(old, self.settings.reconnect_timeout)
        if self.trace is not None:
            self.trace.add(peer, forget=False)
        self.peer, self.start = peer, 0
        return peer

    # Talking to the station ----------------------------------------------------------------

    async def act(self, action: str, **params: Any) -> None:
        """A manual action of part 6 ("Connect the EV and EVSE") by the operator hook."""
        with step(f"manual action: {action} {params or ''}".strip()):
            await self.operator.perform(action, **params)
        connector = params.get("connector", self.connector_id)
        if action == "plug_in":
            self.plugged.add(connector)
        elif action == "plug_out":
            self.plugged.discard(connector)
        elif action == "go_offline":
            self.offline = True
        elif action == "go_online":
            self.offline = False

    async def ask(self, action: str, payload: dict, expect: dict | None = None,
                  timeout: float | None = None) -> dict:
        """The OCTT sends `action`; the response must be a CALLRESULT containing `expect`."""
        with step(f"{action}Request -> {action}Response {expect or ''}".strip()):
            return await self.peer.request(action, payload, expect or {}, timeout=timeout)

    async def call(self, action: str, payload: dict) -> TraceRecord:
        """The OCTT sends `action`; the reply frame, CALLRESULT or CALLERROR."""
        with step(f"{action}Request"):
            return await self.peer.call(action, payload)

    async def expect(self, action: str, subset: Any = None, *,
                     timeout: float | None = None) -> dict:
        """The station must send `action` containing `subset`; its payload."""
        with step(f"{action}Request {subset if subset is not None else ''}".strip()):
            frame = await self.peer.wait_for(action, subset, timeout=timeout)
        payload = frame.payload or {}
        self._note(action, payload)
        return payload

    async def expect_any(self, *patterns: tuple[str, Any], what: str,
                         timeout: float | None = None) -> TraceRecord:
        """The station must send one of `patterns` (action, subset): part 6's alternatives."""
        expected = [expectation(action, subset) for action, subset in patterns]

        def wanted(frame: TraceRecord) -> bool:
            return any(pattern.match(frame).ok for pattern in expected)

        with step(what):
            frame = await self.peer._take(wanted, None, what, timeout)
        self._note(frame.action or "", frame.payload or {})
        return frame

    async def expect_status(self, status: str, *, evse: int | None = None,
                            connector: int | None = None, timeout: float | None = None
                            ) -> TraceRecord:
        """G01/G03: the connector's new status, by StatusNotificationRequest or by
        NotifyEventRequest on Connector.AvailabilityState (part 6 lists both)."""
        evse = self.evse_id if evse is None else evse
        connector = self.connector_id if connector is None else connector
        return await self.expect_any(
            ("StatusNotification", {"connectorStatus": status, "evseId": evse,
                                    "connectorId": connector}),
            ("NotifyEvent", {"eventData": [{
                "trigger": "Delta", "actualValue": status,
                "component": {"name": "Connector", "evse": {"id": evse}},
                "variable": {"name": "AvailabilityState"}}]}),
            what=f"connector {evse}/{connector} reported {status} (StatusNotificationRequest "
                 "or NotifyEventRequest AvailabilityState)", timeout=timeout)

    async def expect_nothing(self, action: str, *, during: float, what: str = "") -> None:
        """The station must not send `action` within `during` seconds."""
        with step(f"no {action}Request within {during:g} s"):
            await self.peer.expect_nothing(lambda f: f.type == "CALL" and f.action == action,
                                           during=during, what=what or f"{action}Request")

    def _note(self, action: str, payload: dict) -> None:
        if action == "TransactionEvent":
            tx = (payload.get("transactionInfo") or {}).get("transactionId")
            if tx is not None and self.tx_id is None:
                self.tx_id = tx

    # What the case's frames show -----------------------------------------------------------

    def frames(self, action: str) -> list[TraceRecord]:
        """The station's CALLs `action` since the case began."""
        return [f for f in self.peer.log[self.start:]
                if f.dir == self.peer.incoming_dir and f.type == "CALL" and f.action == action]

    def events(self) -> list[dict]:
        """The TransactionEventRequests of the case, in the order they came."""
        return [f.payload or {} for f in self.frames("TransactionEvent")]

    def check_sequence(self) -> None:
        """Part 6 §2.1: "the provided seqNo are sequentially numbered in chronological order"
        (E01.FR.?? seqNo), the first event of a transaction eventType Started (E01.FR.01), none
        after Ended. Checked over the case's events per transaction."""
        with step("TransactionEventRequest seqNo sequential, Started first, Ended last"):
            by_tx: dict[str, list[dict]] = {}
            for event in self.events():
                tx = (event.get("transactionInfo") or {}).get("transactionId", "")
                by_tx.setdefault(tx, []).append(event)
            for tx, events in by_tx.items():
                numbers = sorted(event["seqNo"] for event in events)
                if numbers != list(range(numbers[0], numbers[0] + len(numbers))):
                    raise Mismatch(f"transaction {tx}: seqNo {numbers} are not sequentially "
                                   "numbered (part 6 §2.1, E01.FR.?? seqNo)",
                                   "sequential seqNo", self.frames("TransactionEvent"))
                ordered = sorted(events, key=lambda e: e["seqNo"])
                kinds = [event["eventType"] for event in ordered]
                started = "Started" in kinds
                if (started and kinds[0] != "Started") or kinds.count("Started") > 1:
                    raise Mismatch(f"transaction {tx}: eventTypes {kinds} by seqNo: Started "
                                   "must be the first (E01.FR.01)", "Started first",
                                   self.frames("TransactionEvent"))
                if ("Ended" in kinds and kinds[-1] != "Ended") or kinds.count("Ended") > 1:
                    raise Mismatch(f"transaction {tx}: eventTypes {kinds} by seqNo: nothing "
                                   "after Ended", "Ended last", self.frames("TransactionEvent"))

    def charging_state(self) -> str | None:
        """The latest chargingState the case's events reported."""
        states = [e["transactionInfo"]["chargingState"] for e in self.events()
                  if "chargingState" in e.get("transactionInfo", {})]
        return states[-1] if states else None

    def ended(self) -> bool:
        return any(e.get("eventType") == "Ended" for e in self.events())


def _starts(cs: Cs, *points: str) -> bool:
    return bool(set(cs.points("TxStartPoint")) & set(points))


def _stops(cs: Cs, *points: str) -> bool:
    return bool(set(cs.points("TxStopPoint")) & set(points))


def transaction_event(**fields: Any) -> dict:
    """A TransactionEventRequest subset; `chargingState`/`stoppedReason`/`remoteStartId` go
    under transactionInfo."""
    info = {k: fields.pop(k) for k in ("chargingState", "stoppedReason", "remoteStartId",
                                       "transactionId") if k in fields}
    if info:
        fields["transactionInfo"] = info
    return fields


async def ev_connected_pre_session(cs: Cs) -> dict | None:
    """Reusable State EVConnectedPreSession (Table 427): connect the EV; Occupied; a
    TransactionEventRequest (CablePluggedIn, ChargingStateChanged or RemoteStart) when
    TxStartPoint contains EVConnected/ParkingBayOccupancy or the transaction started."""
    await cs.act("plug_in", connector=cs.connector_id)
    await cs.expect_status("Occupied")
    # Table 427 step 3: when TxStartPoint contains EVConnected, or the transaction started;
    # and "Started if TxStartPoint is EVConnected or PowerPathClosed and State is Authorized"
    power = cs.authorized and _starts(cs, "PowerPathClosed", "EnergyTransfer")
    if not (_starts(cs, "EVConnected", "ParkingBayOccupancy") or cs.tx_id is not None
            or power):
        return None
    started = cs.tx_id is None
    return await cs.expect("TransactionEvent", transaction_event(
        eventType="Started" if started else "Updated",
        triggerReason=one_of("CablePluggedIn", "ChargingStateChanged", "RemoteStart",
                             "EVDetected", "Authorized"),
        evse={"id": cs.evse_id}))


async def authorized(cs: Cs, *, remote: bool = False, idtoken: dict | None = None) -> dict | None:
    """Reusable State Authorized (Table 428), A (present the idToken) or B (remote): the
    TransactionEventRequest that carries the idToken when TxStartPoint contains Authorized
    or the transaction already started; an AuthorizeRequest if sent must name the idToken."""
    idtoken = idtoken or cs.valid
    had_tx = cs.tx_id is not None
    cs.authorized = True
    remote_id = next_id()
    if remote:
        await cs.ask("RequestStartTransaction", {
            "idToken": idtoken, "remoteStartId": remote_id, "evseId": cs.evse_id,
        }, {"status": "Accepted"})
        if cs.flag("AuthCtrlr", "AuthorizeRemoteStart"):
            await cs.expect("Authorize", {"idToken": idtoken})
    else:
        await cs.act("present_id_tag", tag=idtoken["idToken"], connector=cs.connector_id)
    if not (_starts(cs, "Authorized") or had_tx):
        if not remote:  # nothing else shows the authorization (C01)
            await cs.expect("Authorize", {"idToken": idtoken})
        return None
    trigger = "RemoteStart" if remote else "Authorized"
    subset = transaction_event(eventType="Updated" if had_tx else "Started",
                               triggerReason=trigger, idToken=idtoken)
    if remote:
        subset["transactionInfo"] = {"remoteStartId": remote_id}
    event = await cs.expect("TransactionEvent", subset)
    for frame in cs.frames("Authorize"):
        if (frame.payload or {}).get("idToken") != idtoken:
            raise failure(f"AuthorizeRequest with idToken {idtoken}", [frame], None)
    return event


async def energy_transfer_started(cs: Cs) -> None:
    """Reusable State EnergyTransferStarted (Table 430): the EV connected (part 1 when it was
    not), then a TransactionEventRequest chargingState Charging (ChargingStateChanged),
    unless an earlier event of the case said Charging already."""
    if cs.connector_id not in cs.plugged:
        await ev_connected_pre_session(cs)
    if cs.charging_state() == "Charging":
        return
    await cs.expect("TransactionEvent", transaction_event(
        chargingState="Charging", triggerReason=one_of("ChargingStateChanged", "CablePluggedIn",
                                                       "Authorized", "RemoteStart")))


async def charging(cs: Cs, *, remote: bool = False) -> None:
    """EVConnectedPreSession, Authorized, EnergyTransferStarted: a running transaction."""
    await ev_connected_pre_session(cs)
    await authorized(cs, remote=remote)
    await energy_transfer_started(cs)


async def stop_authorized(cs: Cs, *, remote: bool = False) -> dict:
    """Reusable State StopAuthorized (Table 432): A the same idToken presented again
    (triggerReason StopAuthorized, idToken omitted or the same; stoppedReason Local or
    omitted on an Ended event), B RequestStopTransaction (Accepted, triggerReason
    RemoteStop). With Authorized in TxStopPoint the transaction ends here."""
    assert cs.tx_id is not None, "no transaction to stop"
    if remote:
        await cs.ask("RequestStopTransaction", {"transactionId": cs.tx_id},
                     {"status": "Accepted"})
        event = await cs.expect("TransactionEvent", transaction_event(
            triggerReason="RemoteStop", transactionId=cs.tx_id))
    else:
        await cs.act("present_id_tag", tag=cs.valid["idToken"], connector=cs.connector_id)
        event = await cs.expect("TransactionEvent", transaction_event(
            triggerReason="StopAuthorized", transactionId=cs.tx_id))
        if "idToken" in event and event["idToken"] != cs.valid:
            raise failure(f"idToken omitted or {cs.valid}", [cs.frames("TransactionEvent")[-1]],
                          None)
    if _stops(cs, "Authorized", "PowerPathClosed", "EnergyTransfer") and not cs.ended():
        event = await cs.expect("TransactionEvent", transaction_event(
            eventType="Ended", transactionId=cs.tx_id))
    if event.get("eventType") == "Ended":
        reason = event["transactionInfo"].get("stoppedReason", "Local")
        wanted = ("Remote",) if remote else ("Local",)
        if reason not in wanted:
            raise Mismatch(f"stoppedReason {reason!r}, expected {wanted[0]} (or omitted when "
                           "Local)", f"stoppedReason {wanted[0]}", cs.frames("TransactionEvent"))
    return event


async def ev_disconnected(cs: Cs) -> None:
    """Reusable State EVDisconnected (Table 434): disconnect; Available; the transaction, if
    not ended yet, reports EVCommunicationLost with chargingState Idle."""
    await cs.act("plug_out", connector=cs.connector_id)
    await cs.expect_status("Available")
    if cs.tx_id is not None and not cs.ended():
        await cs.expect("TransactionEvent", transaction_event(
            triggerReason=one_of("EVCommunicationLost", "EVDeparted"), chargingState="Idle",
            transactionId=cs.tx_id))


async def unavailable(cs: Cs, evse: dict | None = None) -> None:
    """Reusable State Unavailable (Table 425): ChangeAvailability Inoperative (Accepted) and
    the connectors of the component reported Unavailable."""
    payload: dict[str, Any] = {"operationalStatus": "Inoperative"}
    if evse is not None:
        payload["evse"] = evse
    await cs.ask("ChangeAvailability", payload, {"status": "Accepted"})
    await cs.expect_status("Unavailable", evse=(evse or {}).get("id"),
                           connector=(evse or {}).get("connectorId"))


async def reserved(cs: Cs, idtoken: dict | None = None, evse_id: int | None = None) -> int:
    """Reusable State Reserved (Table 424): ReserveNow Accepted; the connector Reserved.
    Returns the reservation id."""
    reservation = next_id()
    payload: dict[str, Any] = {"id": reservation, "expiryDateTime": cs.time(3600),
                               "idToken": idtoken or cs.valid}
    payload["evseId"] = cs.evse_id if evse_id is None else evse_id
    await cs.ask("ReserveNow", payload, {"status": "Accepted"})
    await cs.expect_status("Reserved")
    return reservation


async def id_token_local_auth_list(cs: Cs, entries: Iterable[dict] | None = None,
                                   version: int | None = None) -> int:
    """Memory State IdTokenLocalAuthList (Table 444): SendLocalList Full with the valid
    idToken, Accepted. Returns the list version sent."""
    version = version or next_id()
    items = list(entries) if entries is not None else [
        {"idToken": cs.valid, "idTokenInfo": {"status": "Accepted"}}]
    await cs.ask("SendLocalList", {"versionNumber": version, "updateType": "Full",
                                   "localAuthorizationList": items}, {"status": "Accepted"})
    return version


def absent() -> Matcher:
    from chargebench.matching import Present

    return Present(False)


async def booted(cs: Cs, reset: str = "Immediate", *, reason: Any = None) -> dict:
    """Reusable State Booted (Table 423) by ResetRequest: Accepted, the station reconnects
    and sends its BootNotificationRequest (Accepted by us), reports every connector
    Available and a SecurityEventNotification StartupOfTheDevice or ResetOrReboot (A04).
    Returns the BootNotificationRequest."""
    await cs.ask("Reset", {"type": reset}, {"status": "Accepted"})
    return await rebooted(cs, reason=reason)


async def rebooted(cs: Cs, *, reason: Any = None) -> dict:
    """The station's boot after a reset or power cycle (steps 3-8 of Reusable State Booted)."""
    with step("the station reconnects"):
        await cs.reconnected()
    boot = await cs.expect("BootNotification", {"reason": reason} if reason else None,
                           timeout=cs.settings.boot_timeout)
    await cs.expect_status("Available")
    await cs.expect("SecurityEventNotification",
                    {"type": one_of("StartupOfTheDevice", "ResetOrReboot")})
    return boot


async def id_token_cached(cs: Cs, idtoken: dict | None = None) -> None:
    """Memory State IdTokenCached (Table 443, main A): a whole session with the idToken
    Accepted (Authorized, EnergyTransferStarted, StopAuthorized, EVDisconnected), which puts
    its IdTokenInfo in the Authorization Cache (C10.FR.04). The case continues from idle."""
    with step("Memory State IdTokenCached"):
        await charging(cs)
        await stop_authorized(cs)
        await ev_disconnected(cs)
    cs.tx_id, cs.authorized = None, False
