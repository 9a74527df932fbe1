"""The operator UI in a real browser (Debian's chromium, headless, driven by Playwright): log in,
find a charger in the fleet, send RemoteStartTransaction from its page's generated form, and
see the charger's answer and then its transaction, status and meter values arrive live
(server-sent events) in a page that was never reloaded.

The charger is the `ocpp` package's ChargePoint (a peer we did not write) over a real
websocket to a real CSMS (SQLite file, HTTP API on 127.0.0.1). The test also writes
docs/screenshots/csms-fleet.png and csms-charger.png, the pictures the README shows.
"""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from csms.central import CentralSystem
from tests.browser import VIEWPORT, async_browser

TOKEN = "ui-browser-admin-token"
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
#: what a step may take on two busy cores
STEP_MS = 15_000


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Peer(ChargePoint):
    """Accepts RemoteStartTransaction and then starts the transaction it was asked for."""

    def __init__(self, cp_id: str, ws) -> None:
        super().__init__(cp_id, ws)
        self.started: asyncio.Queue[int] = asyncio.Queue()

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                        **_: object) -> call_result.RemoteStartTransaction:  # fmt: skip
        return call_result.RemoteStartTransaction(status="Accepted")

    @after(Action.remote_start_transaction)
    async def then_start(self, id_tag: str, connector_id: int | None = None, **_: object) -> None:
        connector = connector_id or 1
        await self.call(call.StatusNotification(connector_id=connector, error_code="NoError",
                                                status="Preparing"))  # fmt: skip
        reply = await self.call(call.StartTransaction(
            connector_id=connector, id_tag=id_tag, meter_start=1000, timestamp=_iso(
                datetime.now(UTC))))  # fmt: skip
        await self.call(call.StatusNotification(connector_id=connector, error_code="NoError",
                                                status="Charging"))  # fmt: skip
        self.started.put_nowait(reply.transaction_id)


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=5) as central:  # fmt: skip
        store = central.store
        store.upsert_id_tag("TAG1", status="Accepted")
        store.upsert_charger("CP-NEVER", registration_status="Accepted", vendor="Acme",
                             model="Wallbox")  # fmt: skip
        store.upsert_connector("CP-NEVER", 1)
        # offline: it booted and reported Charging once, then its connection went away
        store.upsert_charger("CP-OFF", registration_status="Accepted")
        store.record_boot("CP-OFF", vendor="Acme", model="Pole", firmware_version="1.2.0")
        store.record_status("CP-OFF", 1, "Charging", error_code="NoError",
                            timestamp=_iso(datetime.now(UTC) - timedelta(hours=3)))  # fmt: skip
        yield central


@pytest.fixture
async def peer(csms):
    ws = await websockets.connect(csms.url("CP-PEER"), subprotocols=["ocpp1.6"],
                                  compression=None, open_timeout=10)  # fmt: skip
    charger = Peer("CP-PEER", ws)
    reader = asyncio.create_task(charger.start())
    try:
        boot = await charger.call(call.BootNotification(charge_point_model="AC22",
                                                        charge_point_vendor="Peer"))  # fmt: skip
        assert boot.status == "Accepted"
        await charger.call(call.Heartbeat())
        await charger.call(call.StatusNotification(connector_id=1, error_code="NoError",
                                                   status="Available"))  # fmt: skip
        yield charger
    finally:
        await ws.close()
        reader.cancel()
        await asyncio.gather(reader, return_exceptions=True)


async def test_remote_start_from_the_charger_page_shows_the_transaction_live(csms, peer):
    base = f"http://127.0.0.1:{csms.api_port}"
    async with async_browser() as browser:
        context = await browser.new_context(viewport=VIEWPORT, timezone_id="Asia/Kolkata",
                                            locale="en-US")  # fmt: skip
        page = await context.new_page()
        page.set_default_timeout(STEP_MS)

        # nothing without logging in: the fleet sends the browser to the login page
        await page.goto(f"{base}/ui")
        assert re.search(r"/ui/login\?next=%2Fui$", page.url), page.url
        await page.fill("input[name=token]", TOKEN)
        await page.click("button:has-text('Log in')")
        await page.wait_for_url(f"{base}/ui")

        # the fleet: never connected and offline chargers say so, no stale live status
        rows = page.locator("tr[data-charger]")
        assert await rows.count() == 3
        never = page.locator('tr[data-charger="CP-NEVER"]')
        assert await never.locator("td[data-connection]").inner_text() == "never connected"
        assert "never connected" in await never.locator("td").nth(7).inner_text()
        off = page.locator('tr[data-charger="CP-OFF"]')
        assert await off.locator("td[data-connection]").inner_text() == "offline"
        assert (await off.locator("td").nth(7).inner_text()).startswith("unknown (offline")
        on_row = page.locator('tr[data-charger="CP-PEER"]')
        assert await on_row.locator("td").nth(7).inner_text() == "1 Available"
        # its last heartbeat in the operator's zone (Asia/Kolkata), to the second
        heartbeat = await on_row.locator("td time").inner_text()
        assert re.fullmatch(r"\d\d/\d\d/\d{4}, \d\d:\d\d:\d\d GMT\+5:30", heartbeat), heartbeat
        # the fleet follows the CSMS too: a new status arrives without a reload
        await page.wait_for_function("document.body.dataset.live == 'open'")
        await page.evaluate("window.notReloaded = true")
        await peer.call(call.StatusNotification(connector_id=2, error_code="NoError",
                                                status="Unavailable"))  # fmt: skip
        await page.wait_for_function(
            "document.querySelector('tr[data-charger=\"CP-PEER\"]').children[7].textContent"
            " == '1 Available · 2 Unavailable'")
        assert await page.evaluate("window.notReloaded") is True
        SHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SHOTS / "csms-fleet.png"), full_page=True)

        # find it: search, then its page
        await page.fill("input[name=q]", "peer")
        await page.click("text=Apply")
        await page.wait_for_function("document.querySelectorAll('tr[data-charger]').length == 1")
        await page.click('a[href="/ui/chargers/CP-PEER"]')
        await page.wait_for_url(f"{base}/ui/chargers/CP-PEER")
        await page.wait_for_function("document.body.dataset.live == 'open'")  # SSE connected
        await page.evaluate("window.notReloaded = true")
        assert await page.locator("#transactions tr[data-tx]").count() == 0

        # RemoteStartTransaction from its generated form (1.6 §5.11)
        form = page.locator('details[data-action="RemoteStartTransaction"]')
        await form.locator("summary").click()
        assert await form.locator("legend").first.inner_text() == "chargingProfile"
        await form.locator('input[name="idTag"]').fill("TAG1")
        await form.locator('input[name="connectorId"]').fill("1")
        await form.locator("button[type=submit]").click()
        answer = page.locator("#answer-RemoteStartTransaction")
        await page.wait_for_function(
            "document.getElementById('answer-RemoteStartTransaction').dataset.status")
        text = await answer.inner_text()
        assert text.startswith("200 ") and '"status": "Accepted"' in text, text
        tx_id = await asyncio.wait_for(peer.started.get(), STEP_MS / 1000)

        # the transaction and the Charging status arrive without a reload
        await page.locator(f'#transactions tr[data-tx="{tx_id}"]').wait_for()
        await page.wait_for_function(
            "document.querySelector('#connectors tr[data-connector=\"1\"] td[data-status]')"
            ".dataset.status == 'Charging'")
        for minute, wh in enumerate((2000, 3500, 5500, 7000), start=1):
            at = datetime.now(UTC) + timedelta(minutes=minute)
            await peer.call(call.MeterValues(connector_id=1, transaction_id=tx_id, meter_value=[{
                "timestamp": _iso(at), "sampledValue": [{
                    "value": str(wh), "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh"}]}]))  # fmt: skip
        await page.locator("#transactions svg polyline.energy").wait_for()
        await page.locator("#transactions svg polyline.power").wait_for()
        row = page.locator(f'#transactions tr[data-tx="{tx_id}"] td')
        await page.wait_for_function(
            f"document.querySelector('#transactions tr[data-tx=\"{tx_id}\"]')"
            ".children[6].textContent == '6.000'")
        assert await row.nth(2).inner_text() == "TAG1"
        assert await page.evaluate("window.notReloaded") is True

        # times in the operator's zone (Asia/Kolkata), to the second
        started = await row.nth(4).locator("time").inner_text()
        assert re.fullmatch(r"\d\d/\d\d/\d{4}, \d\d:\d\d:\d\d GMT\+5:30", started), started
        await page.locator("#log svg").wait_for()  # the sequence diagram of the message log
        await page.screenshot(path=str(SHOTS / "csms-charger.png"), full_page=True)
        await context.close()
