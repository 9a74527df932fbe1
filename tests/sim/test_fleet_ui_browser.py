"""The fleet page in chromium (issue 21 §4, fleet path): log in with the printed link, plug a
simulated EV in and present its tag from the page, and see the CSMS's own dashboard show the
connector Charging and the session running.

Everything is real: the built-in CSMS with its HTTP API (SQLite in tmp_path), a `Fleet` of two
charge points connected to it, `sim.ui.UiServer`, and Debian's chromium through Playwright's
async API (the CSMS and the fleet run on this test's event loop). The test also writes
docs/screenshots/fleet.png, the picture the README shows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chargebench.clock import Clock
from csms.central import CentralSystem
from sim.fleet import Fleet
from sim.ui import FleetView, UiServer
from tests.browser import VIEWPORT, async_browser
from tests.sim.conftest import libocpp_config

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "screenshots" / "fleet.png"
TOKEN = "browser-fleet-token"
#: milliseconds the page may take to show what happened (it polls once a second)
WAIT_MS = 20_000


async def test_plug_in_from_the_fleet_page_updates_the_csms(tmp_path):
    template = libocpp_config(
        Internal={"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 1},
        Core={"ClockAlignedDataInterval": 0, "MeterValueSampleInterval": 60,
              "ConnectionTimeOut": 3600, "MeterValuesSampledData":
              "Energy.Active.Import.Register,Power.Active.Import"},
    )
    async with CentralSystem(port=0, api_port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept", admin_token=TOKEN) as csms:
        fleet = Fleet(template, 4, csms_url=csms.url().rstrip("/"), seed=3, ramp=0,
                      clock=Clock(60), state_dir=tmp_path / "fleet", gc_freeze_interval=None)
        for identity in fleet.identities:
            csms.store.upsert_id_tag(identity.id_tags[0])
        await fleet.start()
        try:
            await fleet.wait_booted(20)
            cp_id, tag = fleet.identities[0].cp_id, fleet.identities[0].id_tags[0]
            async with UiServer(FleetView.of_fleet(fleet, TOKEN)) as ui, async_browser() as b:
                context = await b.new_context(
                    viewport=VIEWPORT,
                    http_credentials={"username": "admin", "password": TOKEN})  # CSMS /dashboard
                page = await context.new_page()

                # the login page is all there is without the token
                await page.goto(ui.url("/"))
                assert page.url == ui.url("/login")
                await page.fill("input[name=token]", "wrong")
                await page.click("text=log in")
                await page.wait_for_selector("text=wrong token")
                await page.fill("input[name=token]", TOKEN)
                await page.click("text=log in")
                assert page.url == ui.url("/")

                row = page.locator(f'tr[data-id="{cp_id}"]')
                conn = row.locator('div.conn[data-connector="1"]')
                await conn.locator(".st", has_text="Available").wait_for(timeout=WAIT_MS)
                await row.locator("td.on").wait_for(timeout=WAIT_MS)
                await conn.get_by_role("button", name="plug in", exact=True).click()
                await page.wait_for_selector("#msg:has-text('plug_in')", timeout=WAIT_MS)
                await conn.locator(".st", has_text="Preparing").wait_for(timeout=WAIT_MS)
                assert await conn.locator("input[type=text]").input_value() == tag
                await conn.get_by_role("button", name="present tag").click()
                await page.wait_for_selector("#msg:has-text('accepted')", timeout=WAIT_MS)
                await conn.locator(".st", has_text="Charging").wait_for(timeout=WAIT_MS)
                # the others faulted, plugged in, offline: the picture shows what a fleet does
                others = [page.locator(f'tr[data-id="{identity.cp_id}"]')
                          for identity in fleet.identities[1:]]
                await others[0].get_by_role("button", name="fault", exact=True).click()
                await others[0].locator(".st", has_text="Faulted").wait_for(timeout=WAIT_MS)
                await others[1].get_by_role("button", name="plug in", exact=True).click()
                await others[1].locator(".st", has_text="Preparing").wait_for(timeout=WAIT_MS)
                await others[2].get_by_role("button", name="go offline").click()
                await others[2].locator("td.off").wait_for(timeout=WAIT_MS)
                assert await conn.locator(".st").inner_text() != "Charging"  # tag, kWh, tx
                await asyncio.sleep(1.5)  # a poll or two: the energy figure moves
                SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(SCREENSHOT), full_page=True)

                # the CSMS saw it: its own page, in the same browser
                dash = await context.new_page()
                chargers = dash.locator("section", has_text="Chargers").locator("tr",
                                                                               has_text=cp_id)
                async with asyncio.timeout(WAIT_MS / 1000):
                    while True:  # the CSMS writes the status in the background: read again
                        await dash.goto(f"http://127.0.0.1:{csms.api_port}/dashboard")
                        if "1 Charging" in await chargers.inner_text():
                            break
                        await asyncio.sleep(0.5)
                sessions = dash.locator("section", has_text="Running sessions")
                assert tag in await sessions.locator("tr", has_text=cp_id).inner_text()
                running = csms.store.list_transactions(charger_id=cp_id, status="Running",
                                                       limit=None)
                assert [(t["connector_id"], t["id_tag"]) for t in running] == [(1, tag)]

                # a selection: tick two chargers, one action for both
                for row in others[:2]:
                    await row.locator("input.pick").check()
                await page.select_option("#bulk-action", "go_offline")
                await page.click("#bulk-go")
                await page.wait_for_selector("#msg:has-text('go_offline: 2 of 2 done')",
                                             timeout=WAIT_MS)
                for row in others[:2]:
                    await row.locator("td.off").wait_for(timeout=WAIT_MS)
                assert not fleet.charge_points[1].online and not fleet.charge_points[2].online
                assert fleet.charge_points[0].online
                # the filter narrows the table
                await page.fill("#filter", cp_id)
                await page.locator("#fleet tbody tr").nth(1).wait_for(state="detached",
                                                                       timeout=WAIT_MS)
                assert await page.locator("#fleet tbody tr").count() == 1
                await context.close()
        finally:
            await fleet.stop()
