"""OCPP 2.0.1 commands through the HTTP actions API (issue 18 point 3), over real sockets on
127.0.0.1: the API picks the version from the connected station, holds the payload to that
version's schema (the `ocpp` package's), keeps the version's bookkeeping, and collects the
multi-message results. The station is the independent `ocpp.v201` peer (`tests.csms.peer201`);
the 1.6 one is `ocpp.v16.ChargePoint`."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
import pytest
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16 import call_result as result16
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import ConnectorStatusEnumType as Connector
from ocpp.v201.enums import TransactionEventEnumType as Event
from ocpp.v201.enums import TriggerReasonEnumType as Trigger
from websockets.asyncio.client import connect

from chargebench.ocppj.versions import OCPP201
from csms.api.chargers_api import FOLLOWED, ROUTES
from csms.central import CentralSystem
from tests.csms.peer201 import ANSWERS, Station, station
from tests.csms.test_ui_access import _csrf, login

TOKEN = "v201-admin"
CS = "CS201"
FUTURE = "2030-01-01T00:00:00Z"
COMPONENT = {"name": "OCPPCommCtrlr"}
EVSE_COMPONENT = {"name": "EVSE", "evse": {"id": 1}}

#: issue 18 point 3: every command the CSMS sends in 2.0.1
ISSUE_COMMANDS = {
    "GetVariables", "SetVariables", "GetBaseReport", "GetReport", "SetNetworkProfile",
    "RequestStartTransaction", "RequestStopTransaction", "GetTransactionStatus", "Reset",
    "UnlockConnector", "ChangeAvailability", "TriggerMessage", "SetChargingProfile",
    "GetChargingProfiles", "ClearChargingProfile", "GetCompositeSchedule", "UpdateFirmware",
    "PublishFirmware", "UnpublishFirmware", "GetLog", "SetMonitoringBase",
    "SetVariableMonitoring", "SetMonitoringLevel", "ClearVariableMonitoring",
    "GetMonitoringReport", "SendLocalList", "GetLocalListVersion", "ClearCache", "ReserveNow",
    "CancelReservation", "CertificateSigned", "InstallCertificate", "DeleteCertificate",
    "GetInstalledCertificateIds", "SetDisplayMessage", "GetDisplayMessages",
    "ClearDisplayMessage", "CostUpdated", "CustomerInformation", "DataTransfer",
}  # fmt: skip

PROFILE = {"id": 7, "stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Absolute", "chargingSchedule": [{
               "id": 1, "chargingRateUnit": "A", "startSchedule": "2026-01-01T00:00:00Z",
               "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}]}  # fmt: skip
HASH = {"hashAlgorithm": "SHA256", "issuerNameHash": "a" * 64, "issuerKeyHash": "b" * 64,
        "serialNumber": "01"}  # fmt: skip

#: one legal request per group of part 2 (optional fields left out where the group has them),
#: with the reply the peer gives
GROUPS = {
    "variables": ("GetVariables", {"getVariableData": [
        {"component": COMPONENT, "variable": {"name": "HeartbeatInterval"}}]}),
    "transactions": ("RequestStartTransaction",  # remoteStartId: the CSMS's
                     {"idToken": {"idToken": "TAG-OK", "type": "ISO14443"}}),
    "transaction status": ("GetTransactionStatus", {}),
    "reset": ("Reset", {"type": "OnIdle"}),
    "availability": ("ChangeAvailability", {"operationalStatus": "Inoperative"}),
    "charging profiles": ("SetChargingProfile", {"evseId": 1, "chargingProfile": PROFILE}),
    "firmware": ("UpdateFirmware", {"firmware": {"location": "https://fw.example/1.bin",
                                                 "retrieveDateTime": FUTURE}}),
    "log": ("GetLog", {"logType": "DiagnosticsLog",
                       "log": {"remoteLocation": "https://logs.example/up"}}),
    "local list": ("SendLocalList", {"versionNumber": 3, "updateType": "Full"}),
    "certificates": ("DeleteCertificate", {"certificateHashData": HASH}),
    "display messages": ("SetDisplayMessage", {"message": {
        "id": 1, "priority": "NormalCycle", "message": {"format": "UTF8", "content": "Hi"}}}),
    "monitoring": ("SetVariableMonitoring", {"setMonitoringData": [
        {"value": 5, "type": "Delta", "severity": 8, "component": EVSE_COMPONENT,
         "variable": {"name": "Power"}}]}),
}  # fmt: skip

#: an illegal payload per group: (action, payload, the field the 422 names)
ILLEGAL = [
    ("GetVariables", {"getVariableData": []}, "getVariableData"),  # minItems 1
    ("RequestStartTransaction", {"idToken": {"idToken": "X", "type": "Badge"},
                                 "remoteStartId": 1}, "idToken.type"),
    ("Reset", {"type": "Hard"}, "type"),  # the 1.6 value
    ("ChangeAvailability", {"operationalStatus": "Inoperative", "connectorId": 1},
     "connectorId"),
    ("SetChargingProfile", {"chargingProfile": PROFILE}, "evseId"),
    ("UpdateFirmware", {"firmware": {"location": "x"}}, "firmware.retrieveDateTime"),
    ("SendLocalList", {"versionNumber": 3, "updateType": "Everything"}, "updateType"),
    ("DeleteCertificate", {"certificateHashData": {**HASH, "hashAlgorithm": "MD5"}},
     "certificateHashData.hashAlgorithm"),
    ("SetDisplayMessage", {"message": {"id": 1}}, "message.priority"),
    ("SetVariableMonitoring", {"setMonitoringData": [{"value": 5}]}, "setMonitoringData.0.type"),
    # customData through the API is its vendorId (the rest could hold numbers no frame carries)
    ("DataTransfer", {"vendorId": "V", "customData": {"vendorId": "V", "n": 2**70}},
     "customData.n"),
    ("SetChargingProfile", {"evseId": 1, "chargingProfile": {**PROFILE, "chargingSchedule": [
        {**PROFILE["chargingSchedule"][0], "minChargingRate": 2**70}]}},
     "chargingProfile.chargingSchedule.0.minChargingRate"),
]


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=3) as central:  # fmt: skip
        central.store.upsert_id_tag("TAG-OK")
        yield central


@pytest.fixture
async def api(csms):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}", timeout=10,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


@pytest.fixture
async def cs(csms):
    async with station(csms.url(CS), CS) as peer:
        assert (await peer.boot()).status == "Accepted"
        yield peer


def test_every_issue_command_has_a_route_and_a_peer_answer():
    """The 40 commands of issue 18 point 3 are the 2.0.1 CSMS-initiated actions, each with its
    POST .../actions/{Action} route."""
    assert OCPP201.cs_initiated == ISSUE_COMMANDS
    routed = {op.path.rsplit("/", 1)[1] for op in ROUTES if "/actions/" in op.path}
    assert routed >= ISSUE_COMMANDS
    assert ISSUE_COMMANDS - {"GetBaseReport", "CertificateSigned"} == set(ANSWERS)


@pytest.mark.parametrize("group", sorted(GROUPS))
async def test_a_command_of_each_group_reaches_the_station(api, cs, group):
    """Legal, optional fields left out: sent as given (ids the CSMS allocates filled in), the
    station's reply answered as it came."""
    action, payload = GROUPS[group]
    answer = await api.post(f"/api/chargers/{CS}/actions/{action}", json=payload)
    assert answer.status_code == 200, answer.text
    sent = json.loads(answer.headers["X-OCPP-Request"])
    assert cs.commands[-1][0] == action
    assert {k: v for k, v in sent.items() if k not in ("requestId", "remoteStartId")} == payload
    reply = answer.json()
    assert reply.get("status", "Accepted") == "Accepted" or action == "GetVariables"


@pytest.mark.parametrize(("action", "payload", "field"), ILLEGAL)
async def test_an_illegal_payload_is_refused_before_the_station(api, cs, action, payload, field):
    """Invalid in every version: 422 naming the field; invalid only in the station's version
    (a 1.6 Reset): 409 naming 2.0.1. Nothing reaches the station."""
    answer = await api.post(f"/api/chargers/{CS}/actions/{action}", json=payload)
    assert answer.status_code in (409, 422), answer.text
    assert answer.json()["field"] == field
    if answer.status_code == 409:
        assert "OCPP 2.0.1" in answer.json()["error"]
    assert cs.commands == []


async def test_report_over_several_notify_report_messages_is_one_result(api, csms, cs):
    """B08: GetReport accepted, the report in two NotifyReport messages (tbc, seqNo 0/1): the
    API answers the reply with the report joined, and the values are the station's reported
    configuration."""
    answer = await api.post(f"/api/chargers/{CS}/actions/GetReport", json={"requestId": 11})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "Accepted"
    report = body[FOLLOWED]
    assert (report["requestId"], report["complete"], report["parts"]) == (11, True, 2)
    assert report["missingSeqNo"] == []
    names = [item["variable"]["name"] for item in report["reportData"]]
    assert names == ["HeartbeatInterval", "OfflineThreshold"]
    config = {key: row["value"] for key, row in csms.store.get_reported_config(CS).items()}
    assert config["OCPPCommCtrlr/HeartbeatInterval"] == "60"
    assert config["OCPPCommCtrlr/OfflineThreshold"] == "120"
    url = f"/api/chargers/{CS}/variables"
    variables = await api.get(url, params={"component": "OCPPCommCtrlr"})
    assert variables.status_code == 200 and variables.headers["X-Total-Count"] == "2"
    assert [(v["variable"], v["attribute_type"], v["value"], v["mutability"], v["persistent"])
            for v in variables.json()] == [
        ("HeartbeatInterval", "Actual", "60", "ReadWrite", False),
        ("OfflineThreshold", "Actual", "120", "ReadWrite", False)]  # fmt: skip
    csv = await api.get(url, params={"format": "csv", "limit": 1})
    assert csv.text.splitlines()[0].startswith("component,component_instance,evse_id")
    assert (await api.get("/api/chargers/NOPE/variables")).status_code == 404


async def test_charging_profiles_and_customer_information_are_collected(api, cs):
    """K09 ReportChargingProfiles and N09 NotifyCustomerInformation (two parts) follow their
    request; each comes back as one result."""
    answer = await api.post(f"/api/chargers/{CS}/actions/GetChargingProfiles",
                            json={"requestId": 3, "chargingProfile": {}})  # fmt: skip
    assert answer.status_code == 200, answer.text
    profiles = answer.json()[FOLLOWED]
    assert profiles["complete"] and [p["id"] for p in profiles["chargingProfile"]] == [7]
    answer = await api.post(f"/api/chargers/{CS}/actions/CustomerInformation",
                            json={"requestId": 4, "report": True, "clear": False,
                                  "idToken": {"idToken": "TAG-OK", "type": "ISO14443"}})
    assert answer.status_code == 200, answer.text
    data = answer.json()[FOLLOWED]
    assert (data["complete"], data["parts"], data["data"]) == (True, 2, "name=Asha;card=TAG-OK")


async def test_set_variables_results_join_the_reported_configuration(api, csms, cs):
    """B05: an Accepted SetVariables value is the station's now (stored under NotifyReport's
    key, the EVSE's with @evse)."""
    payload = {"setVariableData": [
        {"attributeValue": "300", "component": COMPONENT,
         "variable": {"name": "HeartbeatInterval"}},
        {"attributeValue": "11000", "component": EVSE_COMPONENT, "variable": {"name": "Power"}},
    ]}  # fmt: skip
    answer = await api.post(f"/api/chargers/{CS}/actions/SetVariables", json=payload)
    assert answer.status_code == 200, answer.text
    assert [r["attributeStatus"] for r in answer.json()["setVariableResult"]] == ["Accepted"] * 2
    config = {key: row["value"] for key, row in csms.store.get_reported_config(CS).items()}
    assert config["OCPPCommCtrlr/HeartbeatInterval"] == "300"
    assert config["EVSE/Power@1"] == "11000"


async def test_request_ids_and_reservations_are_the_csms_bookkeeping(api, csms, cs):
    """UpdateFirmware and GetLog: requestId from the store (the given one replaced, L01, N01);
    ReserveNow: the reservation recorded with the station's status (H01)."""
    fw = {"requestId": 999, "firmware": {"location": "https://fw.example/2.bin",
                                         "retrieveDateTime": FUTURE}}  # fmt: skip
    answer = await api.post(f"/api/chargers/{CS}/actions/UpdateFirmware", json=fw)
    assert answer.status_code == 200, answer.text
    request_id = int(answer.headers["X-OCPP-Request-Id"])
    assert cs.commands[-1][1]["request_id"] == request_id != 999
    reserve = {"id": 21, "expiryDateTime": FUTURE,
               "idToken": {"idToken": "TAG-OK", "type": "ISO14443"}}  # fmt: skip
    answer = await api.post(f"/api/chargers/{CS}/actions/ReserveNow", json=reserve)
    assert answer.status_code == 200, answer.text
    reservation = csms.store.get_reservation(21)
    assert (reservation["charger_id"], reservation["status"]) == (CS, "Accepted")


async def test_an_action_of_another_version_names_the_station_version(api, cs):
    """RemoteStartTransaction is 1.6's: a 2.0.1 station gets 409 naming its version."""
    answer = await api.post(f"/api/chargers/{CS}/actions/RemoteStartTransaction",
                            json={"idTag": "TAG-OK"})  # fmt: skip
    assert answer.status_code == 409
    assert "OCPP 2.0.1" in answer.json()["error"]
    assert cs.commands == []


class Station16(ChargePoint16):
    @on("Reset")
    def on_reset(self, type: str) -> object:
        return result16.Reset(status="Accepted")


async def test_a_1_6_and_a_2_0_1_station_each_get_their_version(api, csms, cs):
    """One CSMS, one API: Reset {type: Hard} is 1.6's (the 2.0.1 station: 409 naming 2.0.1),
    {type: Immediate, evseId} is 2.0.1's (the 1.6 charger: 409 naming 1.6); each reaches its
    own station. GetVariables is 2.0.1 only."""
    ws16 = await connect(csms.url("CP16"), subprotocols=["ocpp1.6"], compression=None, proxy=None)
    cp16 = Station16("CP16", ws16, response_timeout=5)
    reader = asyncio.get_running_loop().create_task(cp16.start())
    try:
        boot = await cp16.call(call16.BootNotification(charge_point_vendor="V",
                                                       charge_point_model="M"), suppress=False)
        assert boot.status == "Accepted"
        hard, immediate = {"type": "Hard"}, {"type": "Immediate", "evseId": 1}
        on16 = await api.post("/api/chargers/CP16/actions/Reset", json=hard)
        on201 = await api.post(f"/api/chargers/{CS}/actions/Reset", json=immediate)
        assert (on16.status_code, on16.json()) == (200, {"status": "Accepted"})
        assert (on201.status_code, on201.json()) == (200, {"status": "Accepted"})
        crossed16 = await api.post("/api/chargers/CP16/actions/Reset", json=immediate)
        crossed201 = await api.post(f"/api/chargers/{CS}/actions/Reset", json=hard)
        assert crossed16.status_code == crossed201.status_code == 409
        assert "OCPP 1.6" in crossed16.json()["error"]
        assert "OCPP 2.0.1" in crossed201.json()["error"]
        get = {"getVariableData": [{"component": COMPONENT, "variable": {"name": "X"}}]}
        only201 = await api.post("/api/chargers/CP16/actions/GetVariables", json=get)
        assert only201.status_code == 409 and "OCPP 1.6" in only201.json()["error"]
        neither = await api.post("/api/chargers/CP16/actions/Reset", json={"type": "Warm"})
        assert neither.status_code == 422 and neither.json()["field"] == "type"
    finally:
        reader.cancel()
        await ws16.close()
    assert [action for action, _ in cs.commands] == ["Reset"]


async def test_remote_start_is_linked_to_the_transaction_event_that_follows(api, csms, cs):
    """F01/F02: RequestStartTransaction's remoteStartId is the CSMS's pending record (the one
    given replaced); the station's TransactionEvent Started carrying it (F02.FR.01) marks the
    record Started with that transaction."""
    payload = {"idToken": {"idToken": "TAG-OK", "type": "ISO14443"}, "remoteStartId": 999,
               "evseId": 1}  # fmt: skip
    answer = await api.post(f"/api/chargers/{CS}/actions/RequestStartTransaction", json=payload)
    assert answer.status_code == 200, answer.text
    remote_start_id = int(answer.headers["X-OCPP-Remote-Start-Id"])
    assert cs.commands[-1][1]["remote_start_id"] == remote_start_id != 999
    assert csms.store.get_remote_start(remote_start_id)["status"] == "Pending"
    reply = await cs.event(Event.started, "TX-R1", 0, Trigger.remote_start, token="TAG-OK",
                           remote_start_id=remote_start_id)  # fmt: skip
    assert reply.id_token_info["status"] == "Accepted"
    record = csms.store.get_remote_start(remote_start_id)
    assert record["status"] == "Started"
    assert record["transaction_id"] == csms.store.station_transaction(CS, "TX-R1")


async def test_password_rotation_of_a_2_0_1_station_is_set_variables(api, cs):
    """The password API speaks the station's version: a 2.0.1 station is sent SetVariables
    SecurityCtrlr.BasicAuthPassword (A01.FR.02; the use case in test_v201_security.py)."""
    answer = await api.put(f"/api/chargers/{CS}/password", json={})
    assert answer.status_code == 200 and answer.json()["outcome"] == "Accepted", answer.text
    [(action, payload)] = cs.commands
    [item] = payload["set_variable_data"]
    assert action == "SetVariables" and item["variable"]["name"] == "BasicAuthPassword"
    assert item["attribute_value"] == answer.json()["authorization_key"]


async def test_the_operator_page_of_a_2_0_1_station_has_its_version_forms(csms, cs):
    """The charger page's command forms come from the connected station's version: a 2.0.1
    station gets the 2.0.1 actions (GetVariables, no RemoteStartTransaction), and a form's
    fields become the 2.0.1 payload the station receives."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}",
                                 timeout=10) as http:  # fmt: skip
        assert (await login(http, TOKEN)).status_code == 303
        page = (await http.get(f"/ui/chargers/{CS}")).text
        forms = set(re.findall(r'<details class="action" data-action="(\w+)"', page))
        assert forms == set(OCPP201.cs_initiated)
        assert "forms from the OCPP 2.0.1 JSON schemas" in page
        answer = await http.post(f"/ui/chargers/{CS}/actions/Reset",
                                 data={"csrf": _csrf(page), "type": "OnIdle", "evseId": "1"},
                                 headers={"Accept": "application/json"})  # fmt: skip
    assert (answer.status_code, answer.json()) == (200, {"status": "Accepted"})
    assert cs.commands == [("Reset", {"type": "OnIdle", "evse_id": 1})]


class RejectingStation(Station):
    """A legal variant: the station refuses every profile (K01.FR.09/.28 are its rules)."""

    @on("SetChargingProfile")
    def refuse(self, **_: object) -> object:
        self.commands.append(("SetChargingProfile", {}))
        return result201.SetChargingProfile(status="Rejected")


async def test_charging_profiles_are_stored_per_evse_replaced_by_id_and_cleared(api, csms, cs):
    """K01: an Accepted profile is the station's on its EVSE; the same id replaces it
    (K01.FR.05); ClearChargingProfile by criteria clears it (K10.FR.04)."""
    url = f"/api/chargers/{CS}/actions/"
    stronger = {**PROFILE, "chargingSchedule": [{**PROFILE["chargingSchedule"][0],
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 32}]}]}  # fmt: skip
    for profile in (PROFILE, stronger):
        answer = await api.post(url + "SetChargingProfile",
                                json={"evseId": 1, "chargingProfile": profile})  # fmt: skip
        assert answer.status_code == 200, answer.text
    active = csms.store.list_charging_profiles(CS)
    assert [(row["connector_id"], row["profile_id"]) for row in active] == [(1, 7)]
    assert active[0]["profile"]["chargingSchedule"][0]["chargingSchedulePeriod"][0]["limit"] == 32
    criteria = {"evseId": 1, "chargingProfilePurpose": "TxDefaultProfile"}
    answer = await api.post(url + "ClearChargingProfile",
                            json={"chargingProfileCriteria": criteria})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert csms.store.list_charging_profiles(CS) == []
    sent = [action for action, _ in cs.commands]
    assert sent == ["SetChargingProfile", "SetChargingProfile", "ClearChargingProfile"]


def _other(**fields: object) -> dict:
    return {"evseId": 1, "chargingProfile": {**PROFILE, "id": 9, **fields}}


@pytest.mark.parametrize(("payload", "requirement", "field"), [
    (_other(), "K01.FR.06", "chargingProfile.stackLevel"),
    (_other(chargingProfilePurpose="ChargingStationExternalConstraints"), "K01.FR.22",
     "chargingProfile.chargingProfilePurpose"),
    (_other(chargingProfilePurpose="TxProfile", stackLevel=3), "K01.FR.03",
     "chargingProfile.transactionId"),
])  # fmt: skip
async def test_a_profile_a_csms_shall_not_send_is_refused_before_the_station(
    api, csms, cs, payload, requirement, field
):
    """Schema-valid but forbidden to a 2.0.1 CSMS: 409 naming the requirement and the field, nothing
    sent. K01.FR.06: profile 7 holds stackLevel 0 TxDefaultProfile on EVSE 1 already."""
    url = f"/api/chargers/{CS}/actions/SetChargingProfile"
    answer = await api.post(url, json={"evseId": 1, "chargingProfile": PROFILE})
    assert answer.status_code == 200, answer.text
    answer = await api.post(url, json=payload)
    assert answer.status_code == 409, answer.text
    assert requirement in answer.json()["error"] and answer.json()["field"] == field
    assert [action for action, _ in cs.commands] == ["SetChargingProfile"]
    clear_all = await api.post(f"/api/chargers/{CS}/actions/ClearChargingProfile", json={})
    assert clear_all.status_code == 409 and "K10.FR.02" in clear_all.json()["error"]
    assert len(cs.commands) == 1 and len(csms.store.list_charging_profiles(CS)) == 1


async def test_a_rejected_profile_is_not_the_stations(api, csms):
    """The station's Rejected (its own rules, K01.FR.09/.28) is recorded, not made active."""
    async with station(csms.url("CS-REJ"), "CS-REJ", cls=RejectingStation) as peer:
        assert (await peer.boot()).status == "Accepted"
        answer = await api.post("/api/chargers/CS-REJ/actions/SetChargingProfile",
                                json={"evseId": 2, "chargingProfile": PROFILE})  # fmt: skip
        assert (answer.status_code, answer.json()) == (200, {"status": "Rejected"})
        assert peer.commands == [("SetChargingProfile", {})]
    assert csms.store.list_charging_profiles("CS-REJ") == []
    (row,) = csms.store.list_charging_profiles("CS-REJ", active_only=False)
    assert (row["connector_id"], row["status"]) == (2, "Rejected")


async def test_one_fleet_on_the_screens_shows_evse_connectors(api, csms, cs):
    """Issue 18 point 4: a 2.0.1 station's connectors (EVSE.connector) on the fleet list, its
    charger page and the dashboard, beside a 1.6 charger's; the fleet's status filter knows
    2.0.1's Occupied."""
    await cs.status(1, 1, Connector.available)
    await cs.status(2, 1, Connector.occupied)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}",
                                 timeout=10) as http:  # fmt: skip
        assert (await login(http, TOKEN)).status_code == 303
        fleet = (await http.get("/ui", params={"status": "Occupied"})).text
        assert "1.1 Available · 2.1 Occupied" in fleet and CS in fleet
        page = (await http.get(f"/ui/chargers/{CS}")).text
        assert 'data-connector="1.1"' in page and 'data-connector="2.1"' in page
        assert '<td data-status="Occupied">Occupied</td>' in page
    dashboard = await api.get("/dashboard")
    assert dashboard.status_code == 200 and "1.1 Available · 2.1 Occupied" in dashboard.text


async def test_an_id_tag_is_registered_with_its_token_type(api):
    """PUT /api/id-tags/{tag} takes the 2.0.1 token type (and 36 characters); the list filters
    by it; a type that is not IdTokenEnumType is 422."""
    tag = "EMAID-" + "0" * 30
    answer = await api.put(f"/api/id-tags/{tag}", json={"token_type": "eMAID"})
    assert answer.status_code == 200 and answer.json()["token_type"] == "eMAID", answer.text
    listed = await api.get("/api/id-tags", params={"token_type": "eMAID"})
    assert [row["id_tag"] for row in listed.json()] == [tag]
    bad = await api.put("/api/id-tags/X1", json={"token_type": "Badge"})
    assert bad.status_code == 422 and bad.json()["field"] == "token_type"
