"""The operator's dashboard (`GET /dashboard`) of a running CSMS, read over a real socket after
real chargers booted, charged and faulted through its OCPP endpoint."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from csms.api.dashboard import REFRESH_S
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint, now_iso

TOKEN = "dash-admin-token"
VENDOR = "<b>x</b>&'\""  # what a charger says is shown as text, never as markup


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP-OFF", registration_status="Accepted")
        central.store.upsert_id_tag("TAG1", status="Accepted")
        yield central


async def _status(cp: ScriptedChargePoint, connector: int, status: str,
                  error: str = "NoError") -> None:  # fmt: skip
    await cp.call("StatusNotification", {"connectorId": connector, "errorCode": error,
                                         "status": status, "timestamp": now_iso()})


async def test_dashboard_shows_live_chargers_sessions_and_faults(csms):
    async with await ScriptedChargePoint.connect(csms.url("CP-ON"), "CP-ON") as cp:
        await cp.boot(chargePointVendor=VENDOR)
        await _status(cp, 1, "Charging")
        await _status(cp, 2, "Faulted", "GroundFailure")
        tx = (await cp.start_transaction("TAG1", meter_start=1000))["transactionId"]
        await cp.call("MeterValues", {"connectorId": 1, "transactionId": tx, "meterValue": [{
            "timestamp": now_iso(), "sampledValue": [
                {"value": "3500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]})
        response = await _async_get(csms, auth=("operator", TOKEN))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    text = response.text
    assert f'<meta http-equiv="refresh" content="{REFRESH_S}">' in text
    tables = _tables(text)
    chargers = {row[0]: row for row in tables["Chargers"]}
    assert chargers["CP-ON"][3] == "online" and chargers["CP-ON"][7] == "1 Charging · 2 Faulted"
    assert chargers["CP-OFF"][3] == "offline"
    assert chargers["CP-ON"][1] == html.escape(VENDOR) + " Scripted" and VENDOR not in text
    (session,) = tables["Running sessions"]  # 2.5 kWh so far
    assert session[:4] == [str(tx), "CP-ON", "1", "TAG1"] and session[5] == "2.500"
    (fault,) = tables["Faults, last 24 h"]
    assert fault[:3] == ["CP-ON", "2", "1"]
    assert "<b>2</b><span>chargers</span>" in text and "<b>1</b><span>online</span>" in text
    assert "<b>1</b><span>connectors faulted</span>" in text


def _tables(page: str) -> dict[str, list[list[str]]]:
    """Each section's table rows (cells as markup), by the section's heading."""
    tables = {}
    for title, body in re.findall(r"<h2>(.*?)</h2>(.*?)</section>", page):
        tables[html.unescape(title)] = [re.findall(r"<td[^>]*>(.*?)</td>", row)
                                        for row in re.findall(r"<tr>(.*?)</tr>", body)
                                        if "<td" in row]
    return tables


async def test_dashboard_login(csms):
    """Browsers get a Basic prompt; the admin token is the password, or a Bearer token."""
    anonymous = await _async_get(csms)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")
    assert (await _async_get(csms, auth=("operator", "wrong"))).status_code == 401
    garbled = {"Authorization": "Basic !!!not-base64"}
    assert (await _async_get(csms, headers=garbled)).status_code == 401
    assert (await _async_get(csms, auth=("operator", "pässwörd"))).status_code == 401  # not 500
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert (await _async_get(csms, headers=bearer)).status_code == 200
    # the JSON API stays Bearer-only
    api = f"http://127.0.0.1:{csms.api_port}/api/chargers"
    async with httpx.AsyncClient() as client:
        assert (await client.get(api, auth=("operator", TOKEN))).status_code == 401


async def _async_get(csms: CentralSystem, **kw) -> httpx.Response:
    async with httpx.AsyncClient(timeout=5) as client:
        return await client.get(f"http://127.0.0.1:{csms.api_port}/dashboard", **kw)
