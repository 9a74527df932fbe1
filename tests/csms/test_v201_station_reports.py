"""What a 2.0.1 station notifies about itself, kept per station and shown by the HTTP API
(issue 18): external charging limits (K11/K12 NotifyChargingLimit, K13 ClearedChargingLimit),
a Local Controller's publish-firmware status (L03), display messages (O03/O04, O05) and
customer information joined into one result (N09). Over real websockets on 127.0.0.1 against
the real CentralSystem, on SQLite and on PostgreSQL, sent by the independent `ocpp.v201` peer
(`tests.csms.peer201`): legal variants (optional fields left out, other allowed choices) and
illegal payloads (past the peer's own schema check) answered with a CALLERROR and not kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from ocpp.exceptions import (
    FormatViolationError,
    OccurrenceConstraintViolationError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.routing import after, on
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201 import datatypes as dt

from csms.central import CentralSystem
from tests.csms.peer201 import Station, now, station
from tests.csms.test_ui_access import login
from tests.pgserver import pg_server, pg_url  # noqa: F401  (fixtures)

TOKEN = "v201-reports"
CS = "CS201"
SCHEDULE = dt.ChargingScheduleType(
    id=1, charging_rate_unit="W",
    charging_schedule_period=[dt.ChargingSchedulePeriodType(start_period=0, limit=11000.0)])
#: what the API shows of SCHEDULE (the wire's camelCase, as sent)
SCHEDULE_JSON = {"id": 1, "chargingRateUnit": "W",
                 "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 11000.0}]}
CONTENT = dt.MessageContentType(format="UTF8", content="Welcome")


@pytest.fixture(params=["sqlite", "postgresql"])
async def csms(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[CentralSystem]:
    db = tmp_path / "csms.db" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=db, log_dir=None,
                             call_timeout=3) as central:  # fmt: skip
        yield central


@pytest.fixture
async def api(csms: CentralSystem) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}", timeout=10,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        yield client


async def illegal(cs: Station, request: object) -> None:
    """Send `request` past the peer's own schema check (the CSMS must catch it)."""
    await cs.call(request, suppress=False, skip_schema_validation=True)


async def get(api: httpx.AsyncClient, what: str, cp_id: str = CS) -> object:
    reply = await api.get(f"/api/chargers/{cp_id}/{what}")
    assert reply.status_code == 200, reply.text
    return reply.json()


async def test_external_charging_limits_are_kept_until_cleared(csms, api):
    """K11/K12: a NotifyChargingLimit is kept per EVSE and source: the minimal one (no evseId:
    the station as a whole; no schedule, no isGridCritical), one on an EVSE with its schedule
    (K12.FR.03), a later one of the same source on that EVSE replacing it; a source CSO (which
    K12.FR.04 forbids) is still kept, the response having no field to refuse with. K13: a
    ClearedChargingLimit with evseId removes that EVSE's limit of that source only, without
    evseId every limit of the source; one for a limit never notified changes nothing."""
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        for request in (
            call201.NotifyChargingLimit(charging_limit={"charging_limit_source": "EMS"}),
            call201.NotifyChargingLimit(charging_limit={"charging_limit_source": "SO",
                                                        "is_grid_critical": False},
                                        evse_id=1, charging_schedule=[SCHEDULE]),
            call201.NotifyChargingLimit(charging_limit={"charging_limit_source": "SO",
                                                        "is_grid_critical": True},
                                        evse_id=1, charging_schedule=[SCHEDULE]),
            call201.NotifyChargingLimit(charging_limit={"charging_limit_source": "SO"},
                                        evse_id=2),
            call201.NotifyChargingLimit(charging_limit={"charging_limit_source": "CSO"},
                                        evse_id=2),
        ):  # fmt: skip
            assert await cs.call(request, suppress=False) == result201.NotifyChargingLimit()
        limits = await get(api, "charging-limits")
        assert [(row["evse_id"], row["source"], row["is_grid_critical"], row["schedules"])
                for row in limits] == [
            (None, "EMS", None, None), (1, "SO", True, [SCHEDULE_JSON]), (2, "CSO", None, None),
            (2, "SO", None, None)]  # fmt: skip
        one = await api.get(f"/api/chargers/{CS}/charging-limits", params={"evse_id": 1})
        assert [row["source"] for row in one.json()] == ["SO"]
        cleared = [call201.ClearedChargingLimit(charging_limit_source="SO", evse_id=2),
                   call201.ClearedChargingLimit(charging_limit_source="Other")]  # never set
        for request in cleared:
            assert await cs.call(request, suppress=False) == result201.ClearedChargingLimit()
        assert [(r["evse_id"], r["source"]) for r in await get(api, "charging-limits")] == [
            (None, "EMS"), (1, "SO"), (2, "CSO")]
        await cs.call(call201.ClearedChargingLimit(charging_limit_source="SO"), suppress=False)
        await cs.call(call201.ClearedChargingLimit(charging_limit_source="EMS"), suppress=False)
        assert [(r["evse_id"], r["source"]) for r in await get(api, "charging-limits")] == [
            (2, "CSO")]


async def test_illegal_charging_limits_are_refused_and_not_kept(csms, api):
    """A source outside ChargingLimitSourceEnumType is PropertyConstraintViolation, a missing
    chargingLimit OccurrenceConstraintViolation, a text evseId TypeConstraintViolation: nothing
    is kept, and the limit in force is untouched by a refused clear."""
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        await cs.call(call201.NotifyChargingLimit(charging_limit={"charging_limit_source": "SO"},
                                                  evse_id=1), suppress=False)  # fmt: skip
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.NotifyChargingLimit(
                charging_limit={"charging_limit_source": "DSO"}))
        with pytest.raises(OccurrenceConstraintViolationError):
            await illegal(cs, call201.NotifyChargingLimit(charging_limit=None, evse_id=1))
        with pytest.raises((TypeConstraintViolationError, FormatViolationError)):
            await illegal(cs, call201.ClearedChargingLimit(charging_limit_source="SO",
                                                           evse_id="1"))  # type: ignore[arg-type]
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.ClearedChargingLimit(charging_limit_source="Grid"))
    assert [(r["evse_id"], r["source"]) for r in await get(api, "charging-limits")] == [
        (1, "SO")]


async def test_publish_firmware_status_is_the_latest(csms, api):
    """L03.FR.01: each PublishFirmwareStatusNotification replaces the station's status: the
    minimal one (status only: Idle, L03.FR.10), then Published with its requestId and URIs
    (L03.FR.04); an unknown status is PropertyConstraintViolation and changes nothing. A
    station that never sent one shows null; an unknown charger is 404. The charger page shows
    it among the station's reports."""
    assert (await api.get("/api/chargers/NOBODY/publish-firmware")).status_code == 404
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        assert await get(api, "publish-firmware") is None
        await cs.call(call201.PublishFirmwareStatusNotification(status="Idle"), suppress=False)
        status = await get(api, "publish-firmware")
        assert (status["status"], status["request_id"], status["locations"]) == ("Idle", None,
                                                                                 None)
        uris = ["http://lc.local/fw.bin", "ftp://lc.local/fw.bin"]
        await cs.call(call201.PublishFirmwareStatusNotification(
            status="Published", location=uris, request_id=42), suppress=False)
        with pytest.raises(PropertyConstraintViolationError):
            await illegal(cs, call201.PublishFirmwareStatusNotification(status="Done"))
    status = await get(api, "publish-firmware")
    assert (status["status"], status["request_id"], status["locations"]) == ("Published", 42,
                                                                             uris)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}",
                                 timeout=10) as http:  # fmt: skip
        assert (await login(http, TOKEN)).status_code == 303
        charger_page = (await http.get(f"/ui/chargers/{CS}")).text
    section = charger_page[charger_page.index("Station reports"):]
    assert "Publish firmware (L03)" in section and "ftp://lc.local/fw.bin" in section
    assert "External charging limits" not in section  # none notified
    assert f"its certificate names {CS}" in charger_page  # no registered serial


class DisplayStation(Station):
    """Two display messages; GetDisplayMessages for all (only requestId) reports both in two
    parts (tbc, O03.FR.03-05), one with criteria reports message 2; after `forget()` it has
    none (O03.FR.06: Unknown)."""

    messages = [dt.MessageInfoType(id=1, priority="NormalCycle", message=CONTENT),
                dt.MessageInfoType(id=2, priority="AlwaysFront", message=CONTENT,
                                   state="Charging", display=dt.ComponentType(name="Display"))]

    @on("GetDisplayMessages")
    async def on_get(self, request_id: int, **criteria: object) -> object:
        return result201.GetDisplayMessages(status="Accepted" if self.messages else "Unknown")

    @after("GetDisplayMessages")
    async def report(self, request_id: int, **criteria: object) -> None:
        chosen = [m for m in self.messages if not criteria or m.id == 2]
        for n, message in enumerate(chosen):
            await self.call(call201.NotifyDisplayMessages(
                request_id=request_id, message_info=[message], tbc=n < len(chosen) - 1),
                suppress=False)  # fmt: skip

    @on("ClearDisplayMessage")
    async def on_clear(self, id: int, **_: object) -> object:
        known = any(m.id == id for m in self.messages)
        self.messages = [m for m in self.messages if m.id != id]
        return result201.ClearDisplayMessage(status="Accepted" if known else "Unknown")


async def test_display_messages_are_kept_by_id(csms, api):
    """O03/O04: the messages of NotifyDisplayMessages are kept by id with their MessageInfo;
    a report asked with criteria (O04) leaves the others; ClearDisplayMessage Accepted (O05)
    forgets one, Unknown nothing; a report of all of them (O03) drops the ones the station no
    longer has, and Unknown to it (none configured, O03.FR.06) drops every one. An unsolicited
    NotifyDisplayMessages with only its requestId is answered and changes nothing."""
    actions = f"/api/chargers/{CS}/actions"
    async with station(csms.url(CS), CS, cls=DisplayStation) as cs:
        await cs.boot()
        reply = await api.post(f"{actions}/GetDisplayMessages", json={"requestId": 1})
        assert reply.json()["status"] == "Accepted", reply.text
        shown = await get(api, "display-messages")
        assert [(m["message_id"], m["request_id"], m["info"]["priority"]) for m in shown] == [
            (1, 1, "NormalCycle"), (2, 1, "AlwaysFront")]
        assert shown[1]["info"]["display"] == {"name": "Display"}
        await cs.call(call201.NotifyDisplayMessages(request_id=9), suppress=False)
        reply = await api.post(f"{actions}/GetDisplayMessages",
                               json={"requestId": 2, "priority": "AlwaysFront"})
        assert [(m["message_id"], m["request_id"]) for m in await get(api, "display-messages")
                ] == [(1, 1), (2, 2)]  # fmt: skip
        for message_id, status in ((1, "Accepted"), (7, "Unknown")):
            reply = await api.post(f"{actions}/ClearDisplayMessage", json={"id": message_id})
            assert reply.json()["status"] == status
        assert [m["message_id"] for m in await get(api, "display-messages")] == [2]
        await cs.call(call201.NotifyDisplayMessages(request_id=3, message_info=[
            dt.MessageInfoType(id=5, priority="InFront", message=CONTENT)]), suppress=False)
        await api.post(f"{actions}/GetDisplayMessages", json={"requestId": 4})  # all: only 2
        assert [(m["message_id"], m["request_id"]) for m in await get(api, "display-messages")
                ] == [(2, 4)]  # fmt: skip
        cs.messages = []
        reply = await api.post(f"{actions}/GetDisplayMessages", json={"requestId": 5})
        assert reply.json()["status"] == "Unknown"
        assert await get(api, "display-messages") == []


async def test_customer_information_is_one_result_per_request(csms, api):
    """N09.FR.05: the parts of one request's NotifyCustomerInformation (tbc) are joined in
    seqNo order into one result, whatever order they come in; a retried part is kept once;
    complete only once the last part came and none before it is missing. N09.FR.06: one part
    saying nothing was found (the minimal message: tbc left out). The CustomerInformation the
    API sends gets its result stored too. A part without seqNo is
    OccurrenceConstraintViolation, data past 512 characters PropertyConstraintViolation (or
    FormatViolation): not kept."""
    async with station(csms.url(CS), CS) as cs:
        await cs.boot()
        for seq, data, tbc in ((1, "card=TAG-OK;", True), (0, "name=Asha;", True),
                               (1, "card=TAG-OK;", True)):  # fmt: skip
            await cs.call(call201.NotifyCustomerInformation(
                data=data, seq_no=seq, generated_at=now(), request_id=7, tbc=tbc),
                suppress=False)  # fmt: skip
        [partial] = await get(api, "customer-information")
        assert (partial["data"], partial["parts"], partial["complete"]) == (
            "name=Asha;card=TAG-OK;", 2, False)
        await cs.call(call201.NotifyCustomerInformation(
            data="since=2024", seq_no=3, generated_at=now(), request_id=7), suppress=False)
        [gap] = await get(api, "customer-information")
        assert (gap["complete"], gap["missing_seq_nos"]) == (False, [2])
        await cs.call(call201.NotifyCustomerInformation(
            data="No data found", seq_no=0, generated_at=now(), request_id=8), suppress=False)
        reply = await api.post(f"/api/chargers/{CS}/actions/CustomerInformation", json={
            "requestId": 9, "report": True, "clear": False,
            "idToken": {"idToken": "TAG-OK", "type": "ISO14443"}})
        assert reply.json()["status"] == "Accepted", reply.text
        with pytest.raises(OccurrenceConstraintViolationError):
            await illegal(cs, call201.NotifyCustomerInformation(
                data="x", seq_no=None, generated_at=now(), request_id=10))
        with pytest.raises((PropertyConstraintViolationError, FormatViolationError)):
            await illegal(cs, call201.NotifyCustomerInformation(
                data="x" * 513, seq_no=0, generated_at=now(), request_id=11))
    results = {r["request_id"]: r for r in await get(api, "customer-information")}
    assert sorted(results) == [7, 8, 9]
    assert (results[8]["data"], results[8]["complete"]) == ("No data found", True)
    assert (results[9]["data"], results[9]["parts"], results[9]["complete"]) == (
        "name=Asha;card=TAG-OK", 2, True)
    only = await api.get(f"/api/chargers/{CS}/customer-information", params={"request_id": 8})
    assert [r["request_id"] for r in only.json()] == [8]
