"""An independent OCPP 2.0.1 charging station for the CSMS's tests (issue 18 point 6).

Built on the `ocpp` package's `ocpp.v201.ChargePoint` (routing, schema validation and RPC
matching written by other people) over plain `websockets`, with nothing of ChargeBench's session
core, simulator or CSMS: when it and our CSMS agree, two implementations agree. It validates what
it sends and what it receives against the package's own 2.0.1 schemas.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from ssl import SSLContext

from ocpp.routing import after, on
from ocpp.v201 import ChargePoint
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as dt
from ocpp.v201.enums import (
    BootReasonEnumType,
    ConnectorStatusEnumType,
    IdTokenEnumType,
    ReadingContextEnumType,
    TransactionEventEnumType,
    TriggerReasonEnumType,
)
from websockets.asyncio.client import ClientConnection, connect

logging.getLogger("ocpp").setLevel(logging.CRITICAL)

SUBPROTOCOL = "ocpp2.0.1"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Station(ChargePoint):
    """One 2.0.1 charging station; `call()` sends `ocpp.v201.call` dataclasses. The CSMS's
    CALLs it answers (GetBaseReport, CertificateSigned) and what follows them land in
    `received` as (action, payload)."""

    ws: ClientConnection

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.received: asyncio.Queue[tuple[str, dict]] = asyncio.Queue()
        #: every CSMS CALL answered by `ANSWERS`, as (action, snake_case payload)
        self.commands: list[tuple[str, dict]] = []
        for action, answer in ANSWERS.items():
            route = self.route_map.setdefault(action, {"_skip_schema_validation": False})
            route.setdefault("_on_action", self._answering(action, answer))

    def _answering(self, action: str, answer: Callable[[dict], dict]) -> Callable[..., object]:
        def on_action(**payload: object) -> object:
            self.commands.append((action, payload))
            return getattr(result201, action)(**answer(payload))

        return on_action

    @after("GetReport")
    async def report_in_parts(self, request_id: int, **_: object) -> None:
        """B08: the report in two NotifyReport messages (tbc, seqNo 0 and 1)."""
        for seq, name in enumerate(("HeartbeatInterval", "OfflineThreshold")):
            item = dt.ReportDataType(
                component=dt.ComponentType(name="OCPPCommCtrlr"),
                variable=dt.VariableType(name=name),
                variable_attribute=[dt.VariableAttributeType(value=str(60 * (seq + 1)))],
            )  # fmt: skip
            await self.call(call201.NotifyReport(request_id=request_id, generated_at=now(),
                                                 seq_no=seq, report_data=[item], tbc=seq == 0),
                            suppress=False)  # fmt: skip

    @after("GetChargingProfiles")
    async def report_profiles(self, request_id: int, **_: object) -> None:
        """K09: one ReportChargingProfiles with one TxDefault profile on EVSE 1."""
        profile = {"id": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
                   "chargingProfileKind": "Absolute", "chargingSchedule": [{
                       "id": 1, "chargingRateUnit": "A",
                       "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]}  # fmt: skip
        await self.call(call201.ReportChargingProfiles(
            request_id=request_id, charging_limit_source="CSO", evse_id=1,
            charging_profile=[profile]), suppress=False)  # fmt: skip

    @after("GetMonitoringReport")
    async def monitoring_report(self, request_id: int, **_: object) -> None:
        """N02: the monitors in two NotifyMonitoringReport parts (tbc, seqNo 0 and 1), the
        first one without monitors (`monitor` is optional)."""
        monitor = dt.MonitoringDataType(
            component=dt.ComponentType(name="EVSE", evse=dt.EVSEType(id=1)),
            variable=dt.VariableType(name="Power"),
            variable_monitoring=[dt.VariableMonitoringType(
                id=3, transaction=False, value=5, type="Delta", severity=8)],
        )  # fmt: skip
        for seq, monitors in enumerate((None, [monitor])):
            await self.call(call201.NotifyMonitoringReport(
                request_id=request_id, seq_no=seq, generated_at=now(), monitor=monitors,
                tbc=seq == 0), suppress=False)  # fmt: skip

    @after("CustomerInformation")
    async def customer_data(self, request_id: int, **_: object) -> None:
        """N09: the customer's data in two NotifyCustomerInformation parts."""
        for seq, text in enumerate(("name=Asha;", "card=TAG-OK")):
            await self.call(call201.NotifyCustomerInformation(
                data=text, seq_no=seq, generated_at=now(), request_id=request_id,
                tbc=seq == 0), suppress=False)  # fmt: skip

    @on("GetBaseReport")
    async def on_get_base_report(self, request_id: int, report_base: str, **_: object) -> object:
        """B07: Accepted; the report itself follows (`after`) as one NotifyReport."""
        return result201.GetBaseReport(status="Accepted")

    @after("GetBaseReport")
    async def report(self, request_id: int, **_: object) -> None:
        security = dt.ReportDataType(
            component=dt.ComponentType(name="SecurityCtrlr"),
            variable=dt.VariableType(name="SecurityProfile"),
            variable_attribute=[dt.VariableAttributeType(value="1", mutability="ReadOnly")],
        )  # fmt: skip
        reply = await self.call(call201.NotifyReport(request_id=request_id, generated_at=now(),
                                                     seq_no=0, report_data=[security]),
                                suppress=False)  # fmt: skip
        await self.received.put(("NotifyReport", {"request_id": request_id, "reply": reply}))

    @on("CertificateSigned")
    async def on_certificate_signed(self, certificate_chain: str, **more: object) -> object:
        """A02: accept the chain (this peer does not check it; the CSMS's test does)."""
        await self.received.put(("CertificateSigned",
                                 {"certificate_chain": certificate_chain, **more}))  # fmt: skip
        return result201.CertificateSigned(status="Accepted")

    async def boot(self, *, serial: str | None = "SN-201",
                   reason: BootReasonEnumType = BootReasonEnumType.power_up) -> object:  # fmt: skip
        """BootNotification; `serial=None` leaves every optional field out."""
        station = dt.ChargingStationType(
            vendor_name="Indep", model="V201", serial_number=serial,
            firmware_version=None if serial is None else "2.0.1-test",
        )  # fmt: skip
        return await self.call(call201.BootNotification(charging_station=station, reason=reason),
                               suppress=False)  # fmt: skip

    async def status(self, evse: int, connector: int, status: ConnectorStatusEnumType) -> object:
        return await self.call(call201.StatusNotification(
            timestamp=now(), connector_status=status, evse_id=evse, connector_id=connector),
            suppress=False)  # fmt: skip

    async def authorize(self, token: str, kind: IdTokenEnumType = IdTokenEnumType.iso14443):
        return await self.call(call201.Authorize(id_token=dt.IdTokenType(token, kind)),
                               suppress=False)  # fmt: skip

    async def event(
        self, kind: TransactionEventEnumType, tx: str, seq: int,
        trigger: TriggerReasonEnumType, *, token: str | None = None, evse: int | None = 1,
        register_wh: float | None = None, context: ReadingContextEnumType | None = None,
        **info: object,
    ) -> object:  # fmt: skip
        """One TransactionEvent; `register_wh` adds an energy register reading in kWh
        (multiplier 3 on Wh would be as legal: the CSMS must scale either)."""
        meter = None
        if register_wh is not None:
            sample = dt.SampledValueType(
                value=register_wh / 1000, context=context,
                unit_of_measure=dt.UnitOfMeasureType(unit="kWh"),
            )  # fmt: skip
            meter = [dt.MeterValueType(timestamp=now(), sampled_value=[sample])]
        return await self.call(call201.TransactionEvent(
            event_type=kind, timestamp=now(), trigger_reason=trigger, seq_no=seq,
            transaction_info=dt.TransactionType(transaction_id=tx, **info),  # type: ignore[arg-type]
            meter_value=meter, evse=None if evse is None else dt.EVSEType(id=evse, connector_id=1),
            id_token=None if token is None else dt.IdTokenType(token, IdTokenEnumType.iso14443),
        ), suppress=False)  # fmt: skip


def _accepted(_: dict) -> dict:
    return {"status": "Accepted"}


def _plain(value: object) -> object:
    """`value` without its customData: an echo of the CSMS's vendor data (any JSON, numbers of
    any size) is not this station's to send back."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items() if key != "custom_data"}
    return value


def _variables(result: str, extra: dict) -> Callable[[dict], dict]:
    def answer(p: dict) -> dict:
        items = p["get_variable_data" if result == "get_variable_result" else "set_variable_data"]
        return {result: [{"attribute_status": "Accepted", "component": _plain(item["component"]),
                          "variable": _plain(item["variable"]), **extra}
                         for item in items]}  # fmt: skip

    return answer


#: a legal answer to every CSMS CALL of 2.0.1 this peer does not answer itself (part 2's
#: response messages; `ocpp` checks each against its schema before sending)
ANSWERS: dict[str, Callable[[dict], dict]] = {
    **dict.fromkeys(
        ["GetReport", "RequestStopTransaction", "Reset", "ChangeAvailability", "TriggerMessage",
         "SetChargingProfile", "GetChargingProfiles", "ClearChargingProfile",
         "GetCompositeSchedule", "UpdateFirmware", "GetLog", "SendLocalList", "ClearCache",
         "ReserveNow", "CancelReservation", "InstallCertificate", "DeleteCertificate",
         "SetDisplayMessage", "ClearDisplayMessage", "CustomerInformation", "SetNetworkProfile",
         "SetMonitoringBase", "SetMonitoringLevel", "GetMonitoringReport", "PublishFirmware"],
        _accepted,
    ),
    "GetVariables": _variables("get_variable_result", {"attribute_value": "42"}),
    "SetVariables": _variables("set_variable_result", {}),
    "RequestStartTransaction": lambda p: {"status": "Accepted", "transaction_id": "TX-REMOTE"},
    "GetTransactionStatus": lambda p: {"messages_in_queue": False},
    "UnlockConnector": lambda p: {"status": "Unlocked"},
    "GetLocalListVersion": lambda p: {"version_number": 3},
    "GetInstalledCertificateIds": lambda p: {"status": "NotFound"},
    "GetDisplayMessages": lambda p: {"status": "Unknown"},
    "CostUpdated": lambda p: {},
    "DataTransfer": lambda p: {"status": "UnknownVendorId"},
    "UnpublishFirmware": lambda p: {"status": "Unpublished"},
    "SetVariableMonitoring": lambda p: {"set_monitoring_result": [
        {"status": "Accepted", "type": item["type"], "severity": item["severity"],
         "component": _plain(item["component"]), "variable": _plain(item["variable"])}
        for item in p["set_monitoring_data"]]},
    "ClearVariableMonitoring": lambda p: {"clear_monitoring_result": [
        {"status": "Accepted", "id": n} for n in p["id"]]},
}


#: OCPP 2.0.1 A01.FR.01: the basic-auth password's component and variable
PASSWORD_VARIABLE = ("SecurityCtrlr", "BasicAuthPassword")


class SecurityStation(Station):
    """A 2.0.1 station for the security use cases (A01, A05), in its legal variants: SetVariables
    answered per variable, SecurityCtrlr.BasicAuthPassword with `password_status` (Accepted,
    Rejected, RebootRequired, ...) and every other variable with `other_status`; GetVariables of
    OCPPCommCtrlr.NetworkConfigurationPriority answered with `priority`. `before_answer`, when
    set, is awaited with the SetVariables payload before the answer goes out (a test probes the
    CSMS while the request is unanswered)."""

    password_status = "Accepted"
    #: the status of every other variable (NetworkConfigurationPriority: A05.FR.02/03 Rejected)
    other_status = "Accepted"
    priority = "0"
    before_answer: Callable[[dict], Awaitable[None]] | None = None

    @on("SetVariables")
    async def on_set_variables(self, set_variable_data: list[dict], **more: object) -> object:
        payload = {"set_variable_data": set_variable_data, **more}
        self.commands.append(("SetVariables", payload))
        if self.before_answer is not None:
            await self.before_answer(payload)
        results = []
        for item in set_variable_data:
            names = (item["component"]["name"], item["variable"]["name"])
            status = self.password_status if names == PASSWORD_VARIABLE else self.other_status
            results.append({"attribute_status": status, "component": _plain(item["component"]),
                            "variable": _plain(item["variable"])})  # fmt: skip
        return result201.SetVariables(set_variable_result=results)

    @on("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict], **more: object) -> object:
        self.commands.append(("GetVariables", {"get_variable_data": get_variable_data, **more}))
        return result201.GetVariables(get_variable_result=[
            {"attribute_status": "Accepted", "component": _plain(item["component"]),
             "variable": _plain(item["variable"]), "attribute_value": self.priority}
            for item in get_variable_data])  # fmt: skip


class IllegalSecurityStation(SecurityStation):
    """Illegal answers to SetVariables (not schema-checked on the way out): `illegal` "status"
    gives BasicAuthPassword an attributeStatus the schema does not have; "elsewhere" answers
    Accepted for a variable it was not asked about, and nothing for the password."""

    illegal = "status"

    @on("SetVariables", skip_schema_validation=True)
    async def on_set_variables(self, set_variable_data: list[dict], **more: object) -> object:
        self.commands.append(("SetVariables", {"set_variable_data": set_variable_data, **more}))
        if self.illegal == "status":
            return result201.SetVariables(set_variable_result=[
                {"attribute_status": "Maybe", "component": _plain(item["component"]),
                 "variable": _plain(item["variable"])} for item in set_variable_data])
        return result201.SetVariables(set_variable_result=[
            {"attribute_status": "Accepted", "component": {"name": "OCPPCommCtrlr"},
             "variable": {"name": "HeartbeatInterval"}}])  # fmt: skip


def basic_auth(cp_id: str, password: str) -> dict[str, str]:
    """The Authorization header of A00.FR.202-205: user = station identity, the password sent
    as its UTF-8 text (written here from the spec, not taken from ChargeBench)."""
    token = base64.b64encode(f"{cp_id}:{password}".encode()).decode("ascii")
    return {"Authorization": f"Basic {token}"}


@contextlib.asynccontextmanager
async def station(url: str, cp_id: str, *, subprotocols: Sequence[str] = (SUBPROTOCOL,),
                  cls: type[Station] = Station, password: str | None = None,
                  ssl: SSLContext | None = None, compression: str | None = None,
                  ) -> AsyncIterator[Station]:  # fmt: skip
    """A connected `Station` (or subclass `cls`) whose reader runs until the block ends;
    `password`: HTTP Basic (security profiles 1 and 2); `ssl`: the TLS context of a wss://
    `url` (profile 3: with the station's certificate); `compression="deflate"` offers RFC 7692
    (websockets' own implementation)."""
    headers = basic_auth(cp_id, password) if password is not None else None
    ws = await connect(url, subprotocols=list(subprotocols), compression=compression,  # type: ignore[list-item]
                       proxy=None, open_timeout=5, additional_headers=headers,
                       ssl=ssl)  # fmt: skip
    peer = cls(cp_id, ws, response_timeout=5)
    peer.ws = ws
    reader = asyncio.get_running_loop().create_task(peer.start())
    try:
        yield peer
    finally:
        reader.cancel()
        with contextlib.suppress(BaseException):
            await reader
        await ws.close()
