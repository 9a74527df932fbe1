"""What the operator UI's pages say, read over a real socket from a real CSMS after real
chargers connected through its OCPP endpoint: the fleet's search, sort, filters and CSV, the
three connection states, times to the second; a charger's generated command forms and their
answers; the event stream; the business pages' forms (issue 21 point 1)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re

import httpx
import pytest

from chargebench.ocppj.v16 import OCPP16
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint, now_iso
from tests.csms.test_ui_access import _csrf, login

TOKEN = "ui-pages-admin-token"


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=3) as central:  # fmt: skip
        store = central.store
        store.upsert_id_tag("TAG1", status="Accepted")
        store.upsert_charger("CP-NEVER", registration_status="Accepted", vendor="Acme")
        store.upsert_connector("CP-NEVER", 1)
        store.upsert_connector("CP-NEVER", 2)
        store.upsert_charger("CP-OFF", registration_status="Accepted")
        store.record_boot("CP-OFF", vendor="Acme", model="Pole", firmware_version="2.0")
        store.record_status("CP-OFF", 1, "Charging", timestamp="2026-01-01T10:00:00.123456Z")
        yield central


@pytest.fixture
async def http(csms):
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}",
                                 timeout=10) as client:  # fmt: skip
        assert (await login(client, TOKEN)).status_code == 303
        yield client


@pytest.fixture
async def cp(csms):
    async with await ScriptedChargePoint.connect(csms.url("CP-ON"), "CP-ON") as charger:
        await charger.boot(chargePointVendor="Volt<&>", firmwareVersion="1.0")
        await charger.call("Heartbeat")
        await charger.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                  "status": "Available",
                                                  "timestamp": now_iso()})  # fmt: skip
        yield charger


def _rows(html: str) -> dict[str, list[str]]:
    return {m.group(1): re.findall(r"<td[^>]*>(.*?)</td>", m.group(0))
            for m in re.finditer(r'<tr data-charger="([^"]+)">.*?</tr>', html)}  # fmt: skip


async def test_fleet_states_times_search_sort_filters_and_csv(csms, http, cp):
    rows = _rows((await http.get("/ui")).text)
    assert list(rows) == ["CP-NEVER", "CP-OFF", "CP-ON"]
    assert "never connected" in rows["CP-NEVER"][3] and rows["CP-NEVER"][7] == "never connected"
    assert rows["CP-OFF"][3] == "offline"
    assert rows["CP-OFF"][7] == "unknown (offline; last reported: 1 Charging)"  # not live
    assert rows["CP-ON"][3] == "online" and rows["CP-ON"][7] == "1 Available"
    assert rows["CP-ON"][1] == "Volt&lt;&amp;&gt; Scripted"  # escaped, as sent
    # times: UTC to the second in <time datetime>, for the browser to show in its zone
    heartbeat = rows["CP-ON"][4]
    assert re.fullmatch(r'<time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">'
                        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC</time>", heartbeat), heartbeat
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", (await http.get("/ui")).text)
    # search, filters, sort
    assert list(_rows((await http.get("/ui", params={"q": "acme"})).text)) == ["CP-NEVER",
                                                                               "CP-OFF"]
    for connection, expected in (("online", ["CP-ON"]), ("offline", ["CP-OFF"]),
                                 ("never", ["CP-NEVER"])):
        page = await http.get("/ui", params={"connection": connection})
        assert list(_rows(page.text)) == expected, connection
    # a status filter sees live statuses only: CP-OFF's last "Charging" does not count
    assert list(_rows((await http.get("/ui", params={"status": "Charging"})).text)) == []
    assert list(_rows((await http.get("/ui", params={"status": "Available"})).text)) == ["CP-ON"]
    by_connection = await http.get("/ui", params={"sort": "connection", "dir": "asc"})
    assert list(_rows(by_connection.text)) == ["CP-ON", "CP-OFF", "CP-NEVER"]
    descending = await http.get("/ui", params={"sort": "id", "dir": "desc"})
    assert list(_rows(descending.text)) == ["CP-ON", "CP-OFF", "CP-NEVER"]
    # CSV of the same rows
    reply = await http.get("/ui", params={"q": "cp-o", "format": "csv"})
    assert reply.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(reply.text)))
    assert [(r["id"], r["connection"]) for r in table] == [("CP-OFF", "offline"),
                                                           ("CP-ON", "online")]
    assert table[1]["vendor"] == "Volt<&>"
    # the live region's fragment is the table alone
    fragment = await http.get("/ui", params={"fragment": "table"})
    assert fragment.text.startswith("<p") and "<html" not in fragment.text


async def test_dashboard_says_never_connected_and_offline(csms, http, cp):
    """The read-only dashboard: no "1 ? · 2 ?" for a charger never heard from, no stale
    status for an offline one, times to the second."""
    page = (await http.get("/dashboard", auth=("operator", TOKEN))).text
    assert "1 ? · 2 ?" not in page and "never connected" in page
    assert "unknown (offline; last reported: 1 Charging)" in page
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", page)


async def test_charger_page_has_a_form_per_action_from_its_schema(csms, http, cp):
    page = (await http.get("/ui/chargers/CP-ON")).text
    actions = set(re.findall(r'<details class="action" data-action="(\w+)"', page))
    assert actions == set(OCPP16.cs_initiated)
    form = re.search(r'data-action="RemoteStartTransaction".*?</details>', page, re.S).group(0)
    names = re.findall(r'name="([\w.]+)"', form)
    assert {"csrf", "idTag", "connectorId", "chargingProfile.chargingProfileId",
            "chargingProfile.chargingSchedule.chargingRateUnit",
            "chargingProfile.chargingSchedule.chargingSchedulePeriod"} <= set(names)
    # idTag is required (1.6 §6.33) and at most 20 characters (CiString20Type)
    assert re.search(r'<input type="text" name="idTag" size="20" required>', form)
    # a required field of the optional chargingProfile is not required by the browser
    assert '<input type="number" name="chargingProfile.chargingProfileId" step="1" ' in form
    assert not re.search(r'name="chargingProfile.chargingProfileId"[^>]*required', form)
    reset = re.search(r'data-action="Reset".*?</details>', page, re.S).group(0)
    assert re.findall(r"<option[^>]*>(\w+)</option>", reset) == ["Hard", "Soft"]
    for section in ("Connectors", "Commands", "Transactions", "Message log", "Configuration",
                    "Security", "Firmware"):
        assert f"<h2>{section}</h2>" in page, section
    assert "<svg" in page  # the message log's sequence diagram
    assert (await http.get("/ui/chargers/NOPE")).status_code == 404


async def test_command_from_its_form_reaches_the_charger(csms, http, cp):
    """The form's fields become the OCPP payload (types from the schema); the answer is the
    charger's reply, as JSON for the page's script or as a page without it."""
    csrf = _csrf((await http.get("/ui/chargers/CP-ON")).text)
    cp.replies["ChangeAvailability"] = {"status": "Scheduled"}
    cp.replies["GetConfiguration"] = {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "300"}]}
    sending = asyncio.create_task(http.post(
        "/ui/chargers/CP-ON/actions/ChangeAvailability",
        data={"csrf": csrf, "connectorId": "1", "type": "Inoperative"},
        headers={"Accept": "application/json"}))  # fmt: skip
    action, payload = await cp.next_call()
    assert (action, payload) == ("ChangeAvailability", {"connectorId": 1, "type": "Inoperative"})
    reply = await sending
    assert (reply.status_code, reply.json()) == (200, {"status": "Scheduled"})
    # without script: a page with the answer
    sending = asyncio.create_task(http.post("/ui/chargers/CP-ON/actions/GetConfiguration",
                                            data={"csrf": csrf, "key": '["HeartbeatInterval"]'}))
    assert await cp.next_call() == ("GetConfiguration", {"key": ["HeartbeatInterval"]})
    page = await sending
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&quot;HeartbeatInterval&quot;" in page.text
    # what the charger reported is its page's configuration now (1.6 §9.1)
    charger = (await http.get("/ui/chargers/CP-ON")).text
    config = re.search(r"<h2>Configuration</h2>(.*?)</section>", charger, re.S).group(1)
    assert "<td>HeartbeatInterval</td><td>300</td><td>rw</td>" in config
    # the schema's check names the field; nothing is sent
    bad = await http.post("/ui/chargers/CP-ON/actions/Reset", data={"csrf": csrf, "type": "Warm"},
                          headers={"Accept": "application/json"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["field"] == "type"
    not_a_number = await http.post("/ui/chargers/CP-ON/actions/ChangeAvailability",
                                   data={"csrf": csrf, "connectorId": "one",
                                         "type": "Operative"},
                                   headers={"Accept": "application/json"})  # fmt: skip
    assert not_a_number.status_code == 422 and not_a_number.json()["field"] == "connectorId"
    assert cp.calls.empty()
    offline = await http.post("/ui/chargers/CP-OFF/actions/Reset",
                              data={"csrf": csrf, "type": "Soft"},
                              headers={"Accept": "application/json"})  # fmt: skip
    assert offline.status_code == 409


async def test_event_stream_carries_status_transactions_and_connections(csms, http, cp):
    async with http.stream("GET", "/ui/events", params={"cp_id": "CP-ON"}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.aiter_lines()

        async def next_event() -> dict:
            async with asyncio.timeout(10):
                async for line in lines:
                    if line.startswith("data: "):
                        return json.loads(line[6:])
            raise AssertionError("stream ended")

        await cp.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                             "status": "Preparing"})  # fmt: skip
        assert await next_event() == {"kind": "status", "cp_id": "CP-ON", "connector_id": 1,
                                      "status": "Preparing", "error_code": "NoError"}
        tx = (await cp.start_transaction("TAG1"))["transactionId"]
        assert await next_event() == {"kind": "transaction", "cp_id": "CP-ON",
                                      "transaction_id": tx}
        await cp.close()
        assert await next_event() == {"kind": "connection", "cp_id": "CP-ON", "online": False}


async def test_business_pages_and_their_forms(csms, http):
    users_page = await http.get("/ui/users")
    csrf = _csrf(users_page.text)
    made = await http.post("/ui/users", data={"csrf": csrf, "name": "Asha <b>",
                                              "email": "asha@example.com", "role": "USER",
                                              "currency": "INR"})  # fmt: skip
    assert made.status_code == 201
    token = re.search(r'<code id="new-token">([^<]+)</code>', made.text).group(1)
    (user,) = csms.store.list_users()
    assert user["name"] == "Asha <b>" and "Asha &lt;b&gt;" in (await http.get("/ui/users")).text
    top_up = await http.post(f"/ui/users/{user['id']}/top-up", data={"csrf": csrf,
                                                                     "amount": "120.50"})
    assert top_up.status_code == 303
    page = (await http.get(f"/ui/users/{user['id']}")).text
    assert "120.50 INR" in page and "TOP_UP" in page
    bad = await http.post(f"/ui/users/{user['id']}/top-up", data={"csrf": csrf, "amount": "1.005"})
    assert bad.status_code == 422
    off = await http.post(f"/ui/users/{user['id']}/active", data={"csrf": csrf, "active": "false"})
    assert off.status_code == 303 and csms.store.get_user(user["id"])["active"] is False
    tariff = await http.post("/ui/tariffs", data={"csrf": csrf, "charger_id": "CP-OFF",
                                                  "rate_per_kwh": "18.00", "currency": "INR"})
    assert tariff.status_code == 303
    unknown = await http.post("/ui/tariffs", data={"csrf": csrf, "charger_id": "NOPE",
                                                   "rate_per_kwh": "1"})  # fmt: skip
    assert unknown.status_code == 404
    assert "18.00" in (await http.get("/ui/tariffs")).text
    assert token  # shown once, on the creation page


async def test_an_open_event_stream_does_not_hold_the_shutdown(tmp_path):
    """A browser left open on a page must not keep the CSMS from stopping: the API ends its
    event streams when it closes (uvicorn would otherwise wait for them)."""
    loop = asyncio.get_running_loop()
    central = CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                            log_dir=None)  # fmt: skip
    await central.start()
    try:
        client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{central.api_port}", timeout=10,
                                   auth=("operator", TOKEN))  # fmt: skip
        stream = await client.send(client.build_request("GET", "/ui/events"), stream=True)
        assert stream.status_code == 200
        lines = stream.aiter_lines()
        assert (await anext(lines)).startswith("retry:")
    finally:
        began = loop.time()
        await asyncio.wait_for(central.close(), 10)
    assert loop.time() - began < 5
    with pytest.raises(StopAsyncIteration):  # the stream ended, it was not cut mid-event
        while True:
            line = await anext(lines)
            assert not line.startswith("data:")
    await stream.aclose()
    await client.aclose()
