"""ChargeBench as the OCPP 2.0.1 Charging Station when a CSMS is under test (part 6 chapter 3):
the messages the OCTT sends, its answers to the CSMS's CALLs, and the reusable states of part 6
§3.18 the cases build on (`Station`).

Payloads follow the `ocpp` package's 2.0.1 schemas (the session core validates each frame both
ways against them); the station is deliberately small: one EVSE with one connector, the
variables the CSMS sets kept in memory and read back, every other CSMS command left to the
session core's CALLERROR NotImplemented (OCPP-J 2.0.1 §4.2.3) unless a case answers it.

    station = Station(peer, settings, trigger)
    await station.boot()                          # Reusable State Booted
    await station.energy_transfer_started()       # Authorized, cable plugged in, Charging
    await station.command("RequestStopTransaction", {...}, {"status": "Accepted"})
    await station.event("Ended", "RemoteStop", stopped_reason="Remote")

What the CSMS is asked to send goes through the trigger hook, and the conversation (ask,
command, reconnect, still serving) through the 1.6 suite's `ChargePoint` (one home per
concept): only the messages and states of 2.0.1 are this module's own.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from chargebench.matching import AnyOf, Equals, Matcher, Present
from conformance.casesteps import step
from conformance.chargepoint import ChargePoint, Reply, at
from conformance.endpoints import now as iso
from conformance.expect import Mismatch, an_int, one_of, present
from conformance.harness import Handler, HarnessPeer
from conformance.settings import Settings
from conformance.triggers import Trigger

#: <Configured model> and <Configured vendorName> of part 6 (BootNotification.chargingStation)
CHARGING_STATION = {"model": "Conformance", "vendorName": "ChargeBench"}
#: the EVSE and connector of the station (<Configured evseId>, <Configured connectorId>)
EVSE_ID, CONNECTOR_ID = 1, 1
#: <Configured valid_idtoken_type> (and that of the other configured tokens): an RFID card
TOKEN_TYPE = "ISO14443"

#: a field the CSMS must leave out (part 6 "omitted", "omit")
absent = Present(False)


def absent_or(*choices: Any) -> Matcher:
    """A field that is absent or one of `choices` (part 6 "attributeType is absent or
    attributeType = Actual")."""
    return AnyOf([absent, *(Equals(choice) for choice in choices)])


def id_token(value: str, kind: str = TOKEN_TYPE) -> dict:
    """An IdTokenType (part 2 §2.28)."""
    return {"idToken": value, "type": kind}


def station_handlers() -> dict[str, Handler]:
    """Answers to the CSMS's CALLs: SetVariables stores (B05), GetVariables reads back what was
    set and reports the rest UnknownVariable (B06: the station models no other variable),
    GetLocalListVersion tells version 1 (D01/D02 may ask it first), CostUpdated is taken
    (I02: unasked, at any time)."""
    variables: dict[tuple[str, str], str] = {}

    def key(entry: dict) -> tuple[str, str]:
        return entry["component"]["name"], entry["variable"]["name"]

    def set_variables(payload: dict) -> dict:
        results = []
        for entry in payload["setVariableData"]:
            variables[key(entry)] = entry["attributeValue"]
            results.append({"attributeStatus": "Accepted", "component": entry["component"],
                             "variable": entry["variable"]})
        return {"setVariableResult": results}

    def get_variables(payload: dict) -> dict:
        results = []
        for entry in payload["getVariableData"]:
            result: dict[str, Any] = {"component": entry["component"],
                                      "variable": entry["variable"]}
            if key(entry) in variables:
                result |= {"attributeStatus": "Accepted", "attributeValue": variables[key(entry)]}
            else:
                result["attributeStatus"] = "UnknownVariable"
            results.append(result)
        return {"getVariableResult": results}

    return {"SetVariables": set_variables, "GetVariables": get_variables,
            # D01/D02 step 1 (optional): the list the station holds has version 1
            "GetLocalListVersion": lambda _: {"versionNumber": 1},
            # I02: the running cost a CSMS may send at any time during a transaction
            "CostUpdated": lambda _: {}}


def boot_notification(reason: str = "PowerUp") -> dict:
    """BootNotificationRequest as part 6 sends it: reason, <Configured model/vendorName>."""
    return {"reason": reason, "chargingStation": dict(CHARGING_STATION)}


def status_notification(status: str = "Available", evse: int = EVSE_ID,
                        connector: int = CONNECTOR_ID) -> dict:  # fmt: skip
    return {"timestamp": iso(), "connectorStatus": status, "evseId": evse,
            "connectorId": connector}


def notify_event(actual: str = "Available", event_id: int = 1, *, evse: int = EVSE_ID,
                 connector: int = CONNECTOR_ID, component: str = "Connector",
                 variable: str = "AvailabilityState", trigger: str = "Delta") -> dict:  # fmt: skip
    """NotifyEventRequest with trigger Delta on Connector.AvailabilityState (part 6 §3.18)."""
    where: dict[str, Any] = {"name": component}
    if component == "Connector":
        where["evse"] = {"id": evse, "connectorId": connector}
    elif component == "EVSE":
        where["evse"] = {"id": evse}
    return {"generatedAt": iso(), "seqNo": 0, "tbc": False, "eventData": [{
        "eventId": event_id, "timestamp": iso(), "trigger": trigger, "actualValue": actual,
        "eventNotificationType": "HardWiredNotification", "component": where,
        "variable": {"name": variable},
    }]}


async def ask(peer: HarnessPeer, action: str, payload: dict,
              expect: dict[str, Any] | None = None) -> dict:
    """One expectation: send `action`, require a CALLRESULT containing `expect` (an Allure
    step of its own)."""
    with step(f"{action}: CALLRESULT {expect or ''}".strip()):
        return await peer.request(action, payload, expect or {})


#: BootNotificationResponse as B01.FR.02 requires it: a status, currentTime and interval
BOOT_ANSWER = {"status": one_of("Accepted", "Pending", "Rejected"), "currentTime": present,
               "interval": an_int}


async def booted(peer: HarnessPeer, reason: str = "PowerUp", status: str = "Available") -> dict:
    """Reusable State Booted (part 6 §3.18, Table 698): BootNotification reason PowerUp must be
    Accepted (with currentTime and interval: B01.FR.02), then StatusNotification Available and
    NotifyEvent AvailabilityState Available are answered ("responds accordingly")."""
    reply = await ask(peer, "BootNotification", boot_notification(reason), BOOT_ANSWER)
    if reply["status"] != "Accepted":  # the state needs Accepted at once (Pending: TC_B_02)
        raise Mismatch(f"expected BootNotificationResponse status Accepted, received "
                       f"{reply['status']} ({reply}): register {peer.cp_id!r} in the CSMS, or "
                       "name a registered station with --cb-cp-id")
    peer.booted.set()
    await ask(peer, "StatusNotification", status_notification(status))
    await ask(peer, "NotifyEvent", notify_event(status))
    return reply


# The transaction the station runs (part 2 E: its states as part 6 §3.18 walks them)

#: the reusable states of a transaction, in the order a session passes them
STATES = ("EVConnectedPreSession", "Authorized", "EnergyTransferStarted",
          "EnergyTransferSuspended", "StopAuthorized", "EVConnectedPostSession", "EVDisconnected")


@dataclass
class Transaction:
    """One transaction of the station: its own string id (E01.FR.15), the next seqNo
    (E01.FR.07: 0 for the first event), and where §3.18's states left it."""

    id: str = field(default_factory=lambda: f"CB-{secrets.token_hex(6)}")
    evse: int = EVSE_ID
    connector: int = CONNECTOR_ID
    seq: int = 0
    state: str = ""
    authorized: bool = False
    ev_connected: bool = False
    ended: bool = False
    meter: float = 1000.0  # Wh, only ever increases


class Station:
    """One Charging Station played by ChargeBench against the CSMS under test; the reusable
    states of part 6 §3.18 as methods."""

    def __init__(self, peer: HarnessPeer, settings: Settings, trigger: Trigger, *,
                 redial: Callable[..., Awaitable[HarnessPeer]] | None = None) -> None:
        self.link = ChargePoint(peer, settings, trigger, redial=redial)
        self.cb = settings
        #: the transaction §3.18's states act on (the latest one started)
        self.tx: Transaction | None = None
        self.transactions: list[Transaction] = []
        self._event_ids = 1

    @property
    def peer(self) -> HarnessPeer:
        return self.link.peer

    # Configured id tokens (part 6 "<Configured valid_idtoken_idtoken>", ...)

    @property
    def valid_token(self) -> dict:
        return id_token(self.cb.id_tag)

    @property
    def blocked_token(self) -> dict:
        return id_token(self.cb.capabilities.blocked_id_tag)

    @property
    def expired_token(self) -> dict:
        return id_token(self.cb.capabilities.expired_id_tag)

    @staticmethod
    def invalid_token() -> dict:
        """A token no CSMS knows (<Configured invalid_idtoken_idtoken>)."""
        return id_token(f"CB-UNKNOWN-{secrets.token_hex(4).upper()}")

    # Station-initiated messages: the CSMS's answer is the verdict

    async def ask(self, action: str, payload: dict,
                  expect: Mapping[str, Any] | None = None) -> dict:  # fmt: skip
        return await self.link.ask(action, payload, expect)

    async def boot(self, reason: str = "PowerUp", status: str = "Available") -> dict:
        """Reusable State Booted (a connector with an EV reports `status` Occupied)."""
        return await booted(self.peer, reason, status)

    async def notify_connector(self, status: str, *, evse: int = EVSE_ID,
                               connector: int = CONNECTOR_ID) -> None:  # fmt: skip
        """"The OCTT notifies the CSMS about the status change of the connector": a
        StatusNotification and a NotifyEvent of AvailabilityState, each answered."""
        await self.ask("StatusNotification", status_notification(status, evse, connector))
        self._event_ids += 1
        await self.ask("NotifyEvent", notify_event(status, self._event_ids, evse=evse,
                                                   connector=connector))  # fmt: skip

    async def authorize(self, token: dict | None = None, status: Any = "Accepted") -> dict:
        """AuthorizeRequest (C01); the CSMS must decide `status` (a value or a matcher) for it."""
        reply = await self.ask("Authorize", {"idToken": token or self.valid_token},
                               {"idTokenInfo": {"status": status}})  # fmt: skip
        return reply["idTokenInfo"]

    async def event(self, event_type: str, trigger_reason: str, *,
                    charging_state: str | None = None, stopped_reason: str | None = None,
                    token: dict | None = None, expect: Mapping[str, Any] | None = None,
                    tx: Transaction | None = None, evse: bool | None = None,
                    meter: str | tuple[str, ...] | None = None, signed: bool = False,
                    remote_start_id: int | None = None,
                    **extra: Any) -> dict:  # fmt: skip
        """A TransactionEventRequest of the current transaction (a new one for Started when
        none runs); `expect` is what the response must contain. `evse` (default: on Started)
        names the EVSE and connector; `meter` adds an energy register sample per context given
        (`signed`: with a signedMeterValue, E01.FR.04 / J02)."""
        if tx is None:
            if event_type == "Started" or self.tx is None or self.tx.ended:
                tx = self.begin()
            else:
                tx = self.tx
        info: dict[str, Any] = {"transactionId": tx.id}
        if charging_state is not None:
            info["chargingState"] = charging_state
        if stopped_reason is not None:
            info["stoppedReason"] = stopped_reason
        if remote_start_id is not None:  # F01.FR.25, F02.FR.01
            info["remoteStartId"] = remote_start_id
        payload: dict[str, Any] = {"eventType": event_type, "timestamp": at(),
                                   "triggerReason": trigger_reason, "seqNo": tx.seq,
                                   "transactionInfo": info, **extra}  # fmt: skip
        if evse if evse is not None else event_type == "Started":
            payload["evse"] = {"id": tx.evse, "connectorId": tx.connector}
        if token is not None:
            payload["idToken"] = token
        if meter is not None:
            payload["meterValue"] = [self.sample(tx, context, signed)
                                     for context in ((meter,) if isinstance(meter, str) else meter)]
        tx.seq += 1
        if event_type == "Ended":
            tx.ended = True
        return await self.ask("TransactionEvent", payload, expect)

    @staticmethod
    def sample(tx: Transaction | None, context: str, signed: bool = False,
               timestamp: str | None = None) -> dict:  # fmt: skip
        """A MeterValueType with the energy register (J02) in `context`, the transaction's
        register moved on (the station's main meter: 0 Wh without one)."""
        value = 0.0
        if tx is not None:
            tx.meter += 100
            value = tx.meter
        sampled: dict[str, Any] = {"value": value, "context": context,
                                   "measurand": "Energy.Active.Import.Register",
                                   "unitOfMeasure": {"unit": "Wh"}}  # fmt: skip
        if signed:  # <Generated SignedMeterValueType>: OCMF-like data the CSMS may only keep
            sampled["signedMeterValue"] = {
                "signedMeterData": base64.b64encode(f"OCMF|{value}".encode()).decode(),
                "signingMethod": "ECDSA-secp256r1-SHA256", "encodingMethod": "OCMF",
                "publicKey": base64.b64encode(b"ChargeBench conformance key").decode()}
        return {"timestamp": timestamp or at(), "sampledValue": [sampled]}

    def begin(self, evse: int = EVSE_ID, connector: int = CONNECTOR_ID) -> Transaction:
        """A new transaction the next events belong to."""
        self.tx = Transaction(evse=evse, connector=connector)
        self.transactions.append(self.tx)
        return self.tx

    @property
    def running(self) -> bool:
        return self.tx is not None and not self.tx.ended

    def _state(self, name: str) -> Transaction:
        assert self.tx is not None
        self.tx.state = name
        return self.tx

    # Reusable states (part 6 §3.18)

    async def ev_connected_pre_session(self, *, meter: str | None = None) -> dict:
        """Table 701: connector Occupied, then TransactionEvent CablePluggedIn EVConnected:
        Updated when Authorized came first, else Started (`meter`: with a sample of that
        context, J01 Transaction.Begin)."""
        await self.notify_connector("Occupied")
        started = self.running and self.tx is not None and self.tx.authorized
        reply = await self.event("Updated" if started else "Started", "CablePluggedIn",
                                 charging_state="EVConnected", evse=True, meter=meter)
        self._state("EVConnectedPreSession").ev_connected = True
        return reply

    async def authorized(self, token: dict | None = None) -> dict:
        """Table 702: Authorize Accepted, then TransactionEvent Authorized with the token,
        Updated after EVConnectedPreSession, else Started; its idTokenInfo Accepted."""
        token = token or self.valid_token
        await self.authorize(token)
        pre_session = self.running and self.tx is not None and self.tx.ev_connected
        reply = await self.event("Updated" if pre_session else "Started", "Authorized",
                                 token=token, expect={"idTokenInfo": {"status": "Accepted"}})
        self._state("Authorized").authorized = True
        return reply

    async def energy_transfer_started(self) -> dict:
        """Table 703: Authorized unless it is; part 1 (connector Occupied, CablePluggedIn) when
        no EV is connected; part 2: ChargingStateChanged to Charging."""
        if not (self.running and self.tx is not None and self.tx.authorized):
            await self.authorized()
        assert self.tx is not None
        if not self.tx.ev_connected:
            await self.notify_connector("Occupied")
            await self.event("Updated", "CablePluggedIn", charging_state="EVConnected",
                             evse=True)  # fmt: skip
            self.tx.ev_connected = True
        reply = await self.event("Updated", "ChargingStateChanged", charging_state="Charging")
        self._state("EnergyTransferStarted")
        return reply

    async def energy_transfer_suspended(self) -> dict:
        """Table 704: from EnergyTransferStarted, ChargingStateChanged to SuspendedEV."""
        await self._from("EnergyTransferStarted", self.energy_transfer_started)
        reply = await self.event("Updated", "ChargingStateChanged", charging_state="SuspendedEV")
        self._state("EnergyTransferSuspended")
        return reply

    async def stop_authorized(self, token: dict | None = None) -> dict:
        """Table 705: from EnergyTransferStarted, TransactionEvent StopAuthorized (with the
        token, so the CSMS can answer its idTokenInfo: Accepted)."""
        await self._from("EnergyTransferStarted", self.energy_transfer_started)
        reply = await self.event("Updated", "StopAuthorized", token=token or self.valid_token,
                                 expect={"idTokenInfo": {"status": "Accepted"}})
        self._state("StopAuthorized")
        return reply

    async def ev_connected_post_session(self) -> dict:
        """Table 706: from StopAuthorized, ChargingStateChanged to EVConnected."""
        await self._from("StopAuthorized", self.stop_authorized)
        reply = await self.event("Updated", "ChargingStateChanged", charging_state="EVConnected")
        self._state("EVConnectedPostSession")
        return reply

    async def ev_disconnected(self, *, meter: tuple[str, ...] | None = None,
                              signed: bool = False) -> dict:  # fmt: skip
        """Table 707: from EVConnectedPostSession, connector Available, then TransactionEvent
        Ended EVCommunicationLost, Idle, stoppedReason EVDisconnected."""
        await self._from("EVConnectedPostSession", self.ev_connected_post_session)
        await self.notify_connector("Available")
        reply = await self.event("Ended", "EVCommunicationLost", charging_state="Idle",
                                 stopped_reason="EVDisconnected", meter=meter,
                                 signed=signed)  # fmt: skip
        self._state("EVDisconnected").ev_connected = False
        return reply

    async def ev_charging_needs(self, expect: Any = None) -> dict:
        """NotifyEVChargingNeeds of the mock EV on the configured EVSE (K15): AC, 16 A at most;
        the CSMS answers `expect` (default: Accepted or Processing, part 6 Table 710)."""
        self.peer.handlers.setdefault("SetChargingProfile", lambda _: {"status": "Accepted"})
        return await self.ask("NotifyEVChargingNeeds", {
            "evseId": EVSE_ID, "maxScheduleTuples": 3, "chargingNeeds": {
                "requestedEnergyTransfer": "AC_three_phase", "departureTime": at(3600),
                "acChargingParameters": {"energyAmount": 20000, "evMinCurrent": 6,
                                         "evMaxCurrent": 16, "evMaxVoltage": 400}}},
            {"status": expect or one_of("Accepted", "Processing")})

    async def tx_profile_set(self, needs: dict | None = None) -> dict:
        """The CSMS's SetChargingProfile for the running transaction (K15.FR.07): EVSE 1, a
        TxProfile naming the transaction; Accepted (the handler). Waits up to 60 s when the
        needs were answered Processing (part 6 Table 710, note of step 3)."""
        assert self.tx is not None
        wait = 60.0 if needs is not None and needs.get("status") == "Processing" else None
        with step("the CSMS sends SetChargingProfile TxProfile for the transaction"):
            frame = await self.peer.wait_for("SetChargingProfile", {
                "evseId": self.tx.evse, "chargingProfile": {
                    "chargingProfilePurpose": "TxProfile", "transactionId": self.tx.id}},
                timeout=wait)
        return frame.payload

    async def ev_charging_schedule(self, profile: dict, status: Any = "Accepted",
                                   scale: float = 1.0) -> dict:  # fmt: skip
        """NotifyEVChargingSchedule with the schedule of the CSMS's `profile` (`scale` > 1: an
        EV that exceeds it, K15.FR.12); the CSMS answers `status`."""
        schedule = dict(profile["chargingProfile"]["chargingSchedule"][0])
        schedule["chargingSchedulePeriod"] = [
            {**period, "limit": period["limit"] * scale}
            for period in schedule["chargingSchedulePeriod"]]
        return await self.ask("NotifyEVChargingSchedule", {
            "timeBase": at(), "evseId": EVSE_ID, "chargingSchedule": schedule},
            {"status": status})

    async def iso15118_smart_charging(self) -> dict:
        """Table 710, ISO15118SmartCharging: the EV's needs (Accepted or Processing), the
        CSMS's TxProfile for the transaction (Accepted), the EV's schedule within it
        (Accepted), then Charging. Returns the SetChargingProfile the CSMS sent."""
        needs = await self.ev_charging_needs()
        profile = await self.tx_profile_set(needs)
        await self.ev_charging_schedule(profile)
        await self.event("Updated", "ChargingStateChanged", charging_state="Charging")
        self._state("EnergyTransferStarted")
        return profile

    async def _from(self, state: str, reach: Callable[[], Awaitable[Any]]) -> None:
        """"If State is NOT `state` then execute Reusable State `state`"."""
        if not (self.running and self.tx is not None and self.tx.state == state):
            await reach()

    async def reserved(self, evse: int = EVSE_ID, reservation_id: int = 1) -> dict:
        """Table 699: the CSMS sends ReserveNow for <Specified evseId> with the valid token and
        no connectorType; Accepted; the connector is then Reserved."""
        request = {"id": reservation_id, "expiryDateTime": at(3600),
                   "idToken": self.valid_token, "evseId": evse}
        payload = await self.command("ReserveNow", request, {"status": "Accepted"},
                                     {"evseId": evse, "connectorType": absent,
                                      "idToken": self.valid_token})  # fmt: skip
        await self.notify_connector("Reserved", evse=evse)
        return payload

    async def unavailable(self, evse: int | None = EVSE_ID, connector: int | None = None,
                          reply: str = "Accepted") -> dict:  # fmt: skip
        """Table 700: the CSMS sends ChangeAvailability Inoperative for the EVSE (connectorId
        omitted); Accepted; its connectors are then Unavailable."""
        return await self.change_availability("Inoperative", evse, connector, reply)

    async def change_availability(self, status: str, evse: int | None = None,
                                  connector: int | None = None,
                                  reply: str = "Accepted") -> dict:  # fmt: skip
        """G03-G08: the CSMS sends ChangeAvailability `status` for the station (no evse),
        an EVSE (no connectorId) or a connector; when `reply` is Accepted the connector
        reports the new state (Unavailable / Available)."""
        request: dict[str, Any] = {"operationalStatus": status}
        expect: dict[str, Any] = {"operationalStatus": status}
        if evse is None:
            expect["evse"] = absent
        else:
            request["evse"] = {"id": evse} if connector is None else {"id": evse,
                                                                      "connectorId": connector}
            expect["evse"] = ({"id": evse, "connectorId": absent} if connector is None
                              else {"id": evse, "connectorId": connector})
        payload = await self.command("ChangeAvailability", request, {"status": reply}, expect)
        if reply == "Accepted":
            await self.notify_connector("Unavailable" if status == "Inoperative" else "Available")
        return payload

    # CSMS-initiated messages: the CALL the CSMS sends is the verdict

    async def command(self, action: str, request: Mapping[str, Any], reply: Reply,
                      expect: Mapping[str, Any] | None = None) -> dict:  # fmt: skip
        """Have the CSMS send `action` (`ChargePoint.command`): its CALL must contain `expect`
        (default: `request`); the station answers `reply`."""
        return await self.link.command(action, request, reply, expect)

    async def reconnect(self, **options: Any) -> HarnessPeer:
        return await self.link.reconnect(**options)

    async def still_serving(self) -> None:
        """The CSMS still answers on this connection: a Heartbeat gets its currentTime (G02)."""
        await self.link.still_serving()

    async def close(self) -> None:
        """End what a case left running (best effort, no verdict), so the valid token is free
        for the next case."""
        for tx in self.transactions:
            if not tx.ended:
                with contextlib.suppress(Exception):
                    await self.event("Ended", "AbnormalCondition", stopped_reason="Other",
                                     tx=tx)  # fmt: skip
