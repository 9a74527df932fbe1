"""Remote start/stop for users (seeds/001 §4.3) and per-user stats (§7.4) over real HTTP, with a
scripted charge point on a real WebSocket where the charger has to answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest

from chargebench.ocppj import OcppCallError
from csms.central import CentralSystem
from csms.services.billing_service import bill_transaction
from csms.testing import ScriptedChargePoint, now_iso
from tests.csms import business_fixtures
from tests.csms.business_fixtures import ADMIN_TOKEN, as_user, new_user

# Fixtures shared with the other business API tests.
admin = business_fixtures.admin
base_url = business_fixtures.base_url
central = business_fixtures.central
ctx = business_fixtures.ctx

START = {"charger_id": "CP001", "connector_id": 1}


@asynccontextmanager
async def available_charger(central, cp_id: str = "CP001") -> AsyncIterator[ScriptedChargePoint]:
    """A booted charge point whose connector 1 reported Available."""
    async with await ScriptedChargePoint.connect(central.url(cp_id), cp_id) as cp:
        await cp.boot()
        await status(cp, "Available")
        yield cp


async def status(cp: ScriptedChargePoint, value: str, connector_id: int = 1) -> None:
    payload = {"connectorId": connector_id, "status": value, "errorCode": "NoError"}
    await cp.call("StatusNotification", payload)


def fail_with_callerror(payload: dict) -> dict:
    raise OcppCallError("InternalError", "relay stuck")


class TestRemoteStart:
    async def test_start_transaction_consumes_the_pending_record(self, central, base_url, admin):
        """The record is Pending when RemoteStartTransaction goes out and Started, linked to
        the real transactionId, once the charger's StartTransaction arrives."""
        created = await new_user(admin, "Lee")
        user, tag = created["user"], created["user"]["rfid_card_id"]
        async with available_charger(central) as cp, as_user(base_url, created["token"]) as me:
            reply = await me.post(f"/api/users/{user['id']}/remote-start", json=START)
            assert reply.status_code == 201, reply.text
            body = reply.json()
            assert (body["reply"], body["remote_start"]["status"]) == (
                {"status": "Accepted"},
                "Pending",
            )
            assert await cp.next_call() == (
                "RemoteStartTransaction",
                {"connectorId": 1, "idTag": tag},
            )
            tx = (await cp.start_transaction(tag, connector_id=1))["transactionId"]
            record = (await me.get(f"/api/remote-starts/{body['id']}")).json()
            assert (record["status"], record["transaction_id"], record["reply_status"]) == (
                "Started",
                tx,
                "Accepted",
            )
            listed = (await me.get(f"/api/users/{user['id']}/remote-starts")).json()
            assert [(r["id"], r["status"]) for r in listed] == [(body["id"], "Started")]

    async def test_double_request_rejected_and_callerror(self, central, admin):
        """A second request while one is pending is 409; a StartTransaction with another tag
        does not consume it; a Rejected reply ends a record Rejected, a CALLERROR Failed."""
        user = (await new_user(admin, "Ana"))["user"]
        url = f"/api/users/{user['id']}/remote-start"
        async with available_charger(central) as cp:
            first = (await admin.post(url, json=START)).json()
            assert (await admin.post(url, json=START)).status_code == 409  # still pending
            await cp.start_transaction("OTHER-TAG", connector_id=1)
            assert (await admin.get(f"/api/remote-starts/{first['id']}")).json()["status"] == (
                "Pending"
            )
            await cp.start_transaction(user["rfid_card_id"], connector_id=1)
            cp.replies["RemoteStartTransaction"] = {"status": "Rejected"}
            rejected = (await admin.post(url, json=START)).json()
            assert (rejected["reply"]["status"], rejected["remote_start"]["status"]) == (
                "Rejected",
                "Rejected",
            )
            cp.replies["RemoteStartTransaction"] = fail_with_callerror
            assert (await admin.post(url, json=START)).status_code == 502
        statuses = [r["status"] for r in central.store.list_remote_starts(user_id=user["id"])]
        assert statuses == ["Failed", "Rejected", "Started"]

    async def test_refusals(self, central, base_url, admin):
        """403 for another user's id, 409 when not connected or the connector not Available;
        a refused request leaves no pending record."""
        central.store.upsert_charger("CP001", registration_status="Accepted")
        alice, bob = await new_user(admin, "Alice"), await new_user(admin, "Bob")
        url = f"/api/users/{alice['user']['id']}/remote-start"
        async with as_user(base_url, bob["token"]) as other:
            assert (await other.post(url, json=START)).status_code == 403
        assert (await admin.post(url, json=START)).status_code == 409  # not connected
        async with available_charger(central) as cp:
            await status(cp, "Preparing")
            busy = await admin.post(url, json=START)
            assert (busy.status_code, "Preparing" in busy.json()["error"]) == (409, True)
        assert central.store.list_remote_starts() == []


class TestRemoteStartExpiry:
    @pytest.fixture
    async def central(self, tmp_path):
        """A CSMS whose remote starts expire after half a second."""
        async with CentralSystem(
            port=0,
            db=tmp_path / "csms.db",
            log_dir=None,
            admin_token=ADMIN_TOKEN,
            call_timeout=2,
            remote_start_timeout=0.5,
        ) as csms:
            yield csms

    async def test_expires_when_no_start_transaction_comes(self, central, admin):
        """No StartTransaction within the timeout: Expired, a late one is not linked, and the
        connector takes a new remote start."""
        user = (await new_user(admin, "Sam"))["user"]
        url = f"/api/users/{user['id']}/remote-start"
        async with available_charger(central) as cp:
            pending = (await admin.post(url, json=START)).json()
            await asyncio.sleep(0.6)
            record = (await admin.get(f"/api/remote-starts/{pending['id']}")).json()
            assert (record["status"], record["reply_status"]) == ("Expired", "Accepted")
            await cp.start_transaction(user["rfid_card_id"], connector_id=1)
            late = (await admin.get(f"/api/remote-starts/{pending['id']}")).json()
            assert (late["status"], late["transaction_id"]) == ("Expired", None)
            await status(cp, "Available")
            assert (await admin.post(url, json=START)).status_code == 201


class TestRemoteStop:
    async def test_user_stops_own_session_only(self, central, base_url, admin):
        """A USER stops their own running session (RemoteStopTransaction with its id), gets 403
        for another's, 409 once it is stopped or its charger is gone; ADMIN stops any."""
        alice, bob = await new_user(admin, "Alice"), await new_user(admin, "Bob")
        async with available_charger(central) as cp:
            tx_a = (await cp.start_transaction(alice["user"]["rfid_card_id"]))["transactionId"]
            tx_b = (await cp.start_transaction(bob["user"]["rfid_card_id"], connector_id=2))[
                "transactionId"
            ]
            async with as_user(base_url, alice["token"]) as me:
                stopped = await me.post(f"/api/transactions/{tx_a}/stop")
                assert stopped.json() == {"transaction_id": tx_a, "reply": {"status": "Accepted"}}
                assert await cp.next_call() == ("RemoteStopTransaction", {"transactionId": tx_a})
                assert (await me.post(f"/api/transactions/{tx_b}/stop")).status_code == 403
                await cp.stop_transaction(tx_a, 1000, reason="Remote")
                assert (await me.post(f"/api/transactions/{tx_a}/stop")).status_code == 409
            assert (await admin.post("/api/transactions/999/stop")).status_code == 404
        assert (await admin.post(f"/api/transactions/{tx_b}/stop")).status_code == 409  # gone
        async with available_charger(central):
            assert (await admin.post(f"/api/transactions/{tx_b}/stop")).status_code == 200

    async def test_documented_in_openapi(self, admin):
        """The new routes are in the OpenAPI document with their roles."""
        paths = (await admin.get("/api/openapi.json")).json()["paths"]
        stop = paths["/api/transactions/{transaction_id}/stop"]["post"]
        assert stop["x-role"] == "ADMIN or USER (own data)"
        assert "not online" in stop["responses"]["409"]["description"]
        start = paths["/api/users/{user_id}/remote-start"]["post"]
        assert {"201", "409", "504"} <= set(start["responses"])
        for path in (
            "/api/users/{user_id}/stats",
            "/api/users/{user_id}/remote-starts",
            "/api/remote-starts/{remote_start_id}",
        ):
            assert "get" in paths[path], path


class TestUserStats:
    async def test_totals_for_own_user_only(self, central, base_url, admin):
        """Energy, spending and ₹/kWh from the user's billed sessions; 403 for another user."""
        store = central.store
        store.upsert_charger("CP001", registration_status="Accepted")
        store.set_tariff(None, "12.50")
        created, other = await new_user(admin, "Ravi", top_up="1000"), await new_user(admin, "X")
        user, tag = created["user"], created["user"]["rfid_card_id"]
        t0 = datetime(2025, 1, 17, 10, tzinfo=UTC)
        for day, (start, stop) in enumerate(((0, 8000), (8000, 10000))):
            tx = store.start_transaction("CP001", 1, tag, start, t0 + timedelta(days=day))
            store.stop_transaction(tx, stop, t0 + timedelta(days=day, hours=1))
            bill_transaction(store, tx, t0)
        store.start_transaction("CP001", 2, tag, 0, now_iso())  # running: counted, no energy
        async with as_user(base_url, created["token"]) as me:
            stats = (await me.get(f"/api/users/{user['id']}/stats")).json()
            assert {k: stats[k] for k in ("sessions", "running_sessions", "energy_kwh")} == {
                "sessions": 3,
                "running_sessions": 1,
                "energy_kwh": "10.000",
            }
            assert (stats["spending"], stats["currency"], stats["average_cost_per_kwh"]) == (
                "125.00",
                "INR",
                "12.50",
            )
            day_two = {"since": "2025-01-18T00:00:00Z", "until": "2025-01-19T00:00:00Z"}
            period = (await me.get(f"/api/users/{user['id']}/stats", params=day_two)).json()
            assert (period["sessions"], period["energy_kwh"], period["spending"]) == (
                1,
                "2.000",
                "25.00",
            )
            other_id = other["user"]["id"]
            assert (await me.get(f"/api/users/{other_id}/stats")).status_code == 403
