"""The fleet's control API (issue 21 §2, §5) over real sockets, driving a real fleet connected to
the built-in CSMS: what the API does must show in the CSMS's store, what it refuses must be one
line of JSON with the right status (401, 403, 404, 422), never a 500.

Everything runs in this process on 127.0.0.1: `CentralSystem` (SQLite file in tmp_path), a
`Fleet` of three charge points on an accelerated clock, `sim.ui.UiServer` on port 0, and httpx
as the client.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from chargebench.clock import Clock
from csms.central import CentralSystem
from sim.fleet import Fleet
from sim.ui import COOKIE, CSRF_HEADER, FleetView, UiServer
from tests.sim.conftest import SPEED, libocpp_config

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")

TOKEN = "fleet-admin-token"
SETTLE = 20.0


@dataclass
class Rig:
    csms: CentralSystem
    fleet: Fleet
    ui: UiServer
    api: httpx.AsyncClient  # with the Bearer token

    def tag(self, n: int) -> str:
        return self.fleet.identities[n].id_tags[0]

    def cp_id(self, n: int) -> str:
        return self.fleet.identities[n].cp_id


def template() -> dict:
    return libocpp_config(
        Internal={"RetryBackoffWaitMinimum": 1, "RetryBackoffRandomRange": 1},
        Core={"ClockAlignedDataInterval": 0, "MeterValueSampleInterval": 0,
              "ConnectionTimeOut": 3600},
    )


@pytest.fixture
async def rig(tmp_path) -> AsyncIterator[Rig]:
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=None,
                             unknown_chargers="accept") as csms:
        fleet = Fleet(template(), 3, csms_url=csms.url().rstrip("/"), seed=7, ramp=0,
                      clock=Clock(SPEED), state_dir=tmp_path / "fleet", gc_freeze_interval=None)
        for identity in fleet.identities:
            csms.store.upsert_id_tag(identity.id_tags[0])
        await fleet.start()
        try:
            await fleet.wait_booted(SETTLE)
            async with UiServer(FleetView.of_fleet(fleet, TOKEN)) as ui, httpx.AsyncClient(
                    base_url=ui.url(""), headers={"Authorization": f"Bearer {TOKEN}"},
                    timeout=SETTLE) as api:
                yield Rig(csms, fleet, ui, api)
        finally:
            await fleet.stop()


async def until(predicate: Callable[[], Any], timeout: float = SETTLE) -> Any:
    """Poll a blocking `predicate` (a store read) in a thread until it is truthy."""
    async with asyncio.timeout(timeout):
        while not (result := await asyncio.to_thread(predicate)):
            await asyncio.sleep(0.05)
        return result


def csms_status(csms: CentralSystem, cp_id: str, connector: int = 1) -> str | None:
    statuses = {c["connector_id"]: c["status"] for c in csms.store.list_connectors(cp_id)}
    return statuses.get(connector)


async def test_plug_in_and_tag_start_a_transaction_in_the_csms(rig: Rig):
    cp_id = rig.cp_id(0)
    r = await rig.api.post(f"/api/fleet/{cp_id}/actions/plug_in", json={"connector": 1})
    assert r.status_code == 200, r.text
    assert r.json()["charger"]["connectors"][0]["status"] == "Preparing"
    assert await until(lambda: csms_status(rig.csms, cp_id) == "Preparing")

    r = await rig.api.post(f"/api/fleet/{cp_id}/actions/present_id_tag",
                           json={"id_tag": rig.tag(0), "connector": 1})
    assert r.status_code == 200, r.text
    assert r.json()["result"] is True
    running = await until(lambda: rig.csms.store.list_transactions(
        charger_id=cp_id, status="Running", limit=None))
    assert [(t["connector_id"], t["id_tag"]) for t in running] == [(1, rig.tag(0))]
    assert await until(lambda: csms_status(rig.csms, cp_id) == "Charging")

    state = (await rig.api.get(f"/api/fleet/{cp_id}")).json()
    assert state["connectors"][0]["status"] == "Charging"
    assert state["connectors"][0]["id_tag"] == rig.tag(0)

    # the CSMS does not know this tag: the charger says so and charges nothing
    other = rig.cp_id(1)
    r = await rig.api.post(f"/api/fleet/{other}/actions/present_id_tag",
                           json={"id_tag": "NOSUCHTAG"})
    assert r.status_code == 200 and r.json()["result"] is False


async def test_present_id_tag_without_a_tag_presents_the_chargers_own(rig: Rig):
    cp_id = rig.cp_id(1)
    r = await rig.api.post(f"/api/fleet/{cp_id}/actions/present_id_tag", json={})
    assert (r.status_code, r.json()["result"]) == (200, True)
    assert await until(lambda: csms_status(rig.csms, cp_id) == "Preparing")  # authorize first
    r = await rig.api.post(f"/api/fleet/{cp_id}/actions/plug_in", json={})
    running = await until(lambda: rig.csms.store.list_transactions(
        charger_id=cp_id, status="Running", limit=None))
    assert [t["id_tag"] for t in running] == [rig.tag(1)]


async def test_selection_by_ids_and_by_filter(rig: Rig):
    ids = [rig.cp_id(0), rig.cp_id(2)]
    r = await rig.api.post("/api/fleet/actions/plug_in", json={"ids": ids})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["selected"], body["ok"]) == (2, 2)
    assert await until(lambda: [csms_status(rig.csms, i) for i in ids] == ["Preparing"] * 2)
    assert csms_status(rig.csms, rig.cp_id(1)) == "Available"

    # a filter: every charger with a Preparing connector faults; the third stays as it was
    r = await rig.api.post("/api/fleet/actions/fault",
                           json={"status": "Preparing", "error_code": "GroundFailure"})
    assert r.json()["selected"] == 2
    assert await until(lambda: [csms_status(rig.csms, i) for i in ids] == ["Faulted"] * 2)
    errors = {c["charger_id"]: c["error_code"] for c in rig.csms.store.list_connectors()
              if c["connector_id"] == 1}
    assert errors[ids[0]] == "GroundFailure"

    listing = (await rig.api.get("/api/fleet", params={"status": "Faulted"})).json()
    assert {c["id"] for c in listing["chargers"]} == set(ids)
    assert listing["statuses"] == {"Faulted": 2, "Available": 1}

    # match "" is everyone: all go offline, then online again
    r = await rig.api.post("/api/fleet/actions/go_offline", json={"match": ""})
    assert r.json()["selected"] == 3
    assert await until(lambda: not any(cp.online for cp in rig.fleet.charge_points))
    listing = (await rig.api.get("/api/fleet", params={"online": "false"})).json()
    assert listing["matching"] == 3
    await rig.api.post("/api/fleet/actions/go_online", json={"match": ""})
    await rig.fleet.wait_booted(SETTLE)


@pytest.mark.parametrize(("method", "path", "body", "status", "field"), [
    ("POST", "/api/fleet/NOPE/actions/plug_in", {}, 404, "cp_id"),
    ("GET", "/api/fleet/NOPE", None, 404, "cp_id"),
    ("POST", "/api/fleet/{cp}/actions/explode", {}, 422, "action"),
    ("POST", "/api/fleet/{cp}/actions/plug_in", {"connector": 7}, 404, "connector"),
    ("POST", "/api/fleet/{cp}/actions/plug_in", {"connector": 0}, 404, "connector"),
    ("POST", "/api/fleet/{cp}/actions/plug_in", {"connector": 65}, 422, "connector"),
    ("POST", "/api/fleet/{cp}/actions/plug_in", {"connector": "1"}, 422, "connector"),
    ("POST", "/api/fleet/{cp}/actions/present_id_tag", {"id_tag": "X" * 21}, 422, "id_tag"),
    ("POST", "/api/fleet/{cp}/actions/fault", {"error_code": "Bad"}, 422, "error_code"),
    ("POST", "/api/fleet/{cp}/actions/plug_in", {"volts": 3}, 422, "volts"),
    ("POST", "/api/fleet/actions/plug_in", {}, 422, "ids"),
    ("POST", "/api/fleet/actions/plug_in", {"ids": ["NOPE"]}, 404, "cp_id"),
    ("GET", "/api/fleet?limit=0", None, 422, "limit"),
    ("GET", "/api/fleet?status=Sleeping", None, 422, "status"),
])
async def test_bad_input_is_one_line_never_a_500(rig: Rig, method, path, body, status, field):
    path = path.replace("{cp}", rig.cp_id(0))
    r = await rig.api.request(method, path, json=body)
    assert r.status_code == status, r.text
    assert r.json()["field"] == field
    assert "\n" not in r.json()["error"]
    # nothing happened to the charger
    assert not any(p.plugged for cp in rig.fleet.charge_points for p in cp.ports)


async def test_malformed_body_is_422(rig: Rig):
    r = await rig.api.post(f"/api/fleet/{rig.cp_id(0)}/actions/plug_in", content=b"{nope",
                           headers={"Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["field"] == "body"


async def test_openapi_lists_every_route_and_status(rig: Rig):
    doc = (await rig.api.get("/api/openapi.json")).json()
    act = doc["paths"]["/api/fleet/{cp_id}/actions/{action}"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(act["responses"])
    action = next(p for p in act["parameters"] if p["name"] == "action")
    assert "present_id_tag" in action["schema"]["enum"]
    assert doc["paths"]["/login"]["get"]["security"] == []


# Access (issue 21 §5) ---------------------------------------------------------------------------


async def test_nothing_without_the_token_but_the_login_page(rig: Rig):
    cp_id = rig.cp_id(0)
    async with httpx.AsyncClient(base_url=rig.ui.url(""), timeout=SETTLE) as anon:
        for method, path in [("GET", "/api/fleet"), ("GET", f"/api/fleet/{cp_id}"),
                             ("POST", f"/api/fleet/{cp_id}/actions/plug_in"),
                             ("POST", "/api/fleet/actions/plug_in"),
                             ("GET", "/api/openapi.json"), ("POST", "/logout")]:
            r = await anon.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["WWW-Authenticate"] == "Bearer"
        r = await anon.get("/")
        assert (r.status_code, r.headers["location"]) == (303, "/login")
        wrong = {"Authorization": f"Bearer {TOKEN}x"}
        assert (await anon.get("/api/fleet", headers=wrong)).status_code == 401
        assert (await anon.get("/", headers=wrong)).status_code == 401
        assert (await anon.get("/login")).status_code == 200
        assert (await anon.get("/login", params={"token": "wrong"})).status_code == 401
        r = await anon.post("/login", content=b"token=wrong",
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status_code == 401 and COOKIE not in r.cookies
    assert not rig.fleet.charge_points[0].ports[0].plugged


async def test_a_session_posts_only_with_its_csrf_token(rig: Rig):
    cp_id = rig.cp_id(0)
    async with httpx.AsyncClient(base_url=rig.ui.url(""), timeout=SETTLE) as browser:
        r = await browser.post("/login", content=f"token={TOKEN}".encode(),
                               headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert (r.status_code, r.headers["location"]) == (303, "/")
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie
        page = await browser.get("/")
        assert page.status_code == 200
        csrf = page.text.split('name="csrf" content="')[1].split('"')[0]
        assert len(csrf) >= 20
        assert (await browser.get("/api/fleet")).status_code == 200  # GET: the cookie suffices

        plug = f"/api/fleet/{cp_id}/actions/plug_in"
        r = await browser.post(plug, json={})  # what a cross-site form could send
        assert r.status_code == 403 and CSRF_HEADER in r.json()["error"]
        r = await browser.post(plug, json={}, headers={CSRF_HEADER: csrf + "x"})
        assert r.status_code == 403
        assert not rig.fleet.charge_points[0].ports[0].plugged
        r = await browser.post(plug, json={}, headers={CSRF_HEADER: csrf})
        assert r.status_code == 200, r.text
        assert rig.fleet.charge_points[0].ports[0].plugged

        # another session's CSRF token is no good either; after logout the cookie is dead
        async with httpx.AsyncClient(base_url=rig.ui.url(""), timeout=SETTLE) as other:
            await other.get("/login", params={"token": TOKEN})
            assert other.cookies.get(COOKIE)
            r = await other.post(f"/api/fleet/{cp_id}/actions/ev_full", json={},
                                 headers={CSRF_HEADER: csrf})
            assert r.status_code == 403
        sid = browser.cookies.get(COOKIE)
        r = await browser.post("/logout", headers={CSRF_HEADER: csrf})
        assert r.status_code == 303
    async with httpx.AsyncClient(base_url=rig.ui.url(""), timeout=SETTLE,
                                 cookies={COOKIE: sid}) as replay:
        assert (await replay.get("/api/fleet")).status_code == 401
