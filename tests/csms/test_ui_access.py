"""Who reaches the operator UI (issue 21 point 5), over a real socket to a real CSMS: nothing
but the login page without logging in; the session cookie is HttpOnly and SameSite=Strict;
every POST needs the session's CSRF token; a USER token gets the rights the API gives it."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest

from csms.api import ui
from csms.central import CentralSystem
from csms.services import users

TOKEN = "ui-access-admin-token"
#: a value for each path parameter of the UI's routes
PATH_VALUES = {"cp_id": "CP1", "user_id": None, "action": "Reset"}


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, api_port=0, admin_token=TOKEN, db=tmp_path / "csms.db",
                             log_dir=None, call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP1", registration_status="Accepted")
        yield central


@pytest.fixture
def user(csms):
    """(user, its API token) of a USER with a wallet."""
    made = users.create_user(csms.store, "Asha", email="asha@example.com")
    return made, users.issue_token(csms.store, made["id"])


def client(csms, **kw) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=f"http://127.0.0.1:{csms.api_port}", timeout=10, **kw)


def _csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def login(http: httpx.AsyncClient, token: str) -> httpx.Response:
    form = await http.get("/ui/login")
    return await http.post("/ui/login", data={"csrf": _csrf(form.text), "token": token,
                                              "next": "/ui"})  # fmt: skip


def _url(path: str, user_id: str) -> str:
    values = {**PATH_VALUES, "user_id": user_id}
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


async def test_nothing_but_the_login_page_without_a_session(csms, user):
    """Pages answer 303 to the login page (keeping where the operator was going), the event
    stream and every form 401; the login page alone is open."""
    made, _ = user
    async with client(csms) as http:
        assert (await http.get("/ui/login")).status_code == 200
        checked = 0
        for op in ui.ROUTES:
            if op.path == "/ui/login":
                continue
            url = _url(op.path, made["id"])
            reply = await http.request(op.method, url, data={"csrf": "x"} if op.method == "POST"
                                       else None)  # fmt: skip
            if op.method == "GET" and op.path != "/ui/events":
                assert reply.status_code == 303, (url, reply.status_code)
                assert reply.headers["location"].startswith("/ui/login?next=%2Fui")
            else:
                assert reply.status_code == 401, (op.method, url, reply.status_code)
            checked += 1
        assert checked == len(ui.ROUTES) - 2
        # the fragments the live regions fetch and the CSV are no way around it either
        for url in ("/ui?fragment=table", "/ui?format=csv", "/ui/chargers/CP1?fragment=log"):
            assert (await http.get(url)).status_code in (303, 401), url
        # nor a wrong token presented otherwise
        assert (await http.get("/ui", auth=("x", "wrong"))).status_code == 303
        assert (await http.get("/ui", headers={"Authorization": "Bearer no"})).status_code == 303


async def test_login_sets_a_strict_http_only_session_cookie(csms):
    async with client(csms) as http:
        bad = await login(http, "wrong-token")
        assert bad.status_code == 401 and "unknown token" in bad.text
        assert "cb_session" not in http.cookies
        good = await login(http, TOKEN)
        assert good.status_code == 303 and good.headers["location"] == "/ui"
        cookie = next(v for k, v in good.headers.multi_items()
                      if k == "set-cookie" and v.startswith("cb_session="))  # fmt: skip
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/ui"} <= attributes, cookie
        fleet = await http.get("/ui")
        assert fleet.status_code == 200 and "<h1>Fleet</h1>" in fleet.text
        assert fleet.headers["x-frame-options"] == "DENY"  # no framing of a form elsewhere
        assert fleet.headers["cache-control"] == "no-store"
        assert TOKEN not in fleet.text and TOKEN not in cookie  # the token stays on the server
        # logging out ends the session on the server: the old cookie opens nothing
        old = http.cookies["cb_session"]
        out = await http.post("/ui/logout", data={"csrf": _csrf(fleet.text)})
        assert out.status_code == 303
    async with client(csms, cookies={"cb_session": old}) as replay:
        assert (await replay.get("/ui")).status_code == 303


async def test_login_form_itself_needs_its_csrf_token(csms):
    async with client(csms) as http:
        await http.get("/ui/login")  # sets the double-submit cookie
        reply = await http.post("/ui/login", data={"csrf": "forged", "token": TOKEN})
        assert reply.status_code == 403 and "cb_session" not in http.cookies
    async with client(csms) as fresh:  # a forged form from elsewhere has no cookie at all
        reply = await fresh.post("/ui/login", data={"csrf": "x", "token": TOKEN})
        assert reply.status_code == 403


async def test_login_redirects_only_inside_the_ui(csms):
    async with client(csms) as http:
        form = await http.get("/ui/login", params={"next": "https://evil.example/ui"})
        assert 'name="next" value="/ui"' in form.text
        reply = await http.post("/ui/login", data={"csrf": _csrf(form.text), "token": TOKEN,
                                                   "next": "//evil.example/ui"})  # fmt: skip
        assert reply.headers["location"] == "/ui"


async def test_every_post_needs_the_sessions_csrf_token(csms, user):
    """403 on a missing or wrong token for every form, and nothing changes."""
    made, _ = user
    async with client(csms) as http:
        await login(http, TOKEN)
        for op in ui.ROUTES:
            if op.method != "POST" or op.path == "/ui/login":
                continue
            url = _url(op.path, made["id"])
            for data in ({}, {"csrf": "wrong"}, {"csrf": ""}):
                fields = {"rate_per_kwh": "99", "amount": "500", "active": "false",
                          "name": "Mallory", "type": "Soft", **data}  # fmt: skip
                reply = await http.post(url, data=fields)
                assert reply.status_code == 403, (url, data, reply.status_code)
        assert csms.store.list_tariffs() == []
        assert [u["name"] for u in csms.store.list_users()] == ["Asha"]
        assert csms.store.get_user(made["id"])["active"] is True
        assert (await http.get("/ui")).status_code == 200  # still logged in
        # with the right token the same form works
        page = await http.get("/ui/tariffs")
        ok = await http.post("/ui/tariffs", data={"csrf": _csrf(page.text),
                                                  "rate_per_kwh": "12.50"})  # fmt: skip
        assert ok.status_code == 303
        (tariff,) = csms.store.list_tariffs()
        assert tariff["rate_per_kwh"] == Decimal("12.50") and tariff["charger_id"] is None


async def test_basic_auth_reads_but_cannot_post(csms):
    """HTTP Basic (the token as password) opens the pages, but a browser resends it by
    itself, so it carries no CSRF token: forms need a session."""
    async with client(csms, auth=("operator", TOKEN)) as http:
        fleet = await http.get("/ui")
        assert fleet.status_code == 200
        reply = await http.post("/ui/tariffs", data={"csrf": "", "rate_per_kwh": "1"})
        assert reply.status_code == 403
        assert csms.store.list_tariffs() == []


async def test_a_user_token_has_the_users_rights(csms, user):
    """A USER logs in to their own account: no fleet, no other user, no charger commands;
    their own wallet top-up works (as in the API, 001 §7.2)."""
    made, token = user
    other = users.create_user(csms.store, "Ravi", email="ravi@example.com")
    async with client(csms) as http:
        reply = await login(http, token)
        assert reply.headers["location"] == "/ui/me"
        mine = await http.get("/ui/me")
        assert mine.status_code == 200 and made["rfid_card_id"] in mine.text
        for url in ("/ui", "/ui/chargers/CP1", f"/ui/users/{other['id']}", "/ui/tariffs",
                    "/ui/users", "/ui/events"):
            assert (await http.get(url)).status_code == 403, url
        csrf = _csrf(mine.text)
        forbidden = await http.post("/ui/chargers/CP1/actions/Reset",
                                    data={"csrf": csrf, "type": "Soft"})  # fmt: skip
        assert forbidden.status_code == 403
        theirs = await http.post(f"/ui/users/{other['id']}/top-up",
                                 data={"csrf": csrf, "amount": "5"})  # fmt: skip
        assert theirs.status_code == 403
        top_up = await http.post(f"/ui/users/{made['id']}/top-up",
                                 data={"csrf": csrf, "amount": "250.00"})  # fmt: skip
        assert top_up.status_code == 303 and top_up.headers["location"] == "/ui/me"
        assert csms.store.get_wallet(made["id"])["balance"] == Decimal("250.00")
        assert csms.store.get_wallet(other["id"])["balance"] == Decimal("0.00")
        # deactivated: the session opened before opens nothing any more, nor a new login
        csms.store.set_user_active(made["id"], False)
        assert (await http.get("/ui/me")).status_code == 303
    async with client(csms) as http:
        assert (await login(http, token)).status_code == 401
        assert "cb_session" not in http.cookies
