"""The reference CSMS over real WebSockets on 127.0.0.1: endpoint, admission, registry, liveness."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import InvalidStatus

from chargebench.clock import Clock
from chargebench.ocppj import CallErrorReply, connect
from csms.admission import charge_point_id
from csms.central import CentralSystem
from csms.testing import ScriptedChargePoint

KEY = "key-for-CPB-01234567"  # 20 bytes (A00.FR.205: 16-20)


@pytest.fixture
async def csms(tmp_path):
    async with CentralSystem(port=0, db=tmp_path / "csms.db", log_dir=tmp_path / "logs",
                             log_flush_interval=0.05, call_timeout=2) as central:  # fmt: skip
        central.store.upsert_charger("CP1", serial="SN-1", registration_status="Accepted")
        yield central


async def open_cp(csms, cp_id="CP1", **kw) -> ScriptedChargePoint:
    return await ScriptedChargePoint.connect(csms.url(cp_id), cp_id, **kw)


async def eventually(predicate, timeout: float = 2) -> None:
    """Wait until `predicate()` holds (the CSMS reacts to a close in its own task)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def refused_status(url: str, **kw) -> int:
    with pytest.raises(InvalidStatus) as caught:
        await connect(url, **kw)
    return caught.value.response.status_code


class TestEndpoint:
    def test_path_gives_charge_point_id(self):
        """`/ocpp/{id}` and `/{id}` name the charger; other shapes and unsafe ids do not."""
        assert charge_point_id("/ocpp/CP-1") == "CP-1"
        assert charge_point_id("/CP%2D1?x=1") == "CP-1"
        assert charge_point_id("/a/b/c") is None
        assert charge_point_id("/ocpp/..") is None
        assert charge_point_id("/ocpp/a%2Fb") is None

    async def test_bare_path_accepted(self, csms):
        """A charger connecting on `/{id}` is registered under that id."""
        ws = await connect(f"ws://127.0.0.1:{csms.port}/CP1")
        try:
            conn = await csms.connections.wait_for("CP1", timeout=2)
            assert conn.cp_id == "CP1"
        finally:
            await ws.close()

    async def test_no_common_subprotocol_closes_at_once(self, csms):
        """OCPP-J §3.2: without an agreed subprotocol the CSMS closes right after the handshake."""
        async with ws_connect(csms.url("CP1"), subprotocols=["ocpp2.0.1"], proxy=None) as ws:
            assert ws.subprotocol is None
            async with asyncio.timeout(2):
                await ws.wait_closed()
        assert ws.close_code == 1002
        assert "CP1" not in csms.connections

    async def test_second_connection_replaces_first(self, csms):
        """A new connection for an id closes the old one; the charger stays online."""
        first = await open_cp(csms)
        second = await open_cp(csms)
        try:
            await first.wait_closed(timeout=2)
            assert csms.connections.get("CP1").session is not first.session
            assert (await second.boot())["status"] == "Accepted"
            assert (await second.call("Heartbeat"))["currentTime"]
            assert csms.store.get_charger("CP1")["online"]
        finally:
            await second.close()


class TestUnknownChargers:
    @pytest.mark.parametrize(
        ("policy", "status"), [("accept", "Accepted"), ("pending", "Pending"),
                               ("reject", "Rejected")],
    )  # fmt: skip
    async def test_policy_decides_boot_status(self, tmp_path, policy, status):
        """An unknown id is registered with the policy's status, which BootNotification gives."""
        async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                                 unknown_chargers=policy) as csms:  # fmt: skip
            async with await open_cp(csms, "NEW-1") as cp:
                reply = await cp.boot()
                assert reply["status"] == status
                assert reply["interval"] == (300 if status == "Accepted" else 60)
            assert csms.store.get_charger("NEW-1")["registration_status"] == status

    async def test_refuse_answers_404(self, tmp_path):
        """`refuse`: an unknown id gets HTTP 404 and nothing is stored."""
        async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                                 unknown_chargers="refuse") as csms:  # fmt: skip
            assert await refused_status(csms.url("NEW-1")) == 404
            assert csms.store.get_charger("NEW-1") is None

    async def test_calls_before_accepted_get_security_error(self, tmp_path):
        """OCPP-J errata §3.10: while Pending, CALLs other than BootNotification: SecurityError."""
        async with (
            CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                          unknown_chargers="pending") as csms,
            await open_cp(csms, "NEW-1") as cp,
        ):  # fmt: skip
            with pytest.raises(CallErrorReply) as caught:
                await cp.call("Heartbeat")
            assert caught.value.code == "SecurityError"
            assert (await cp.boot())["status"] == "Pending"
            with pytest.raises(CallErrorReply):
                await cp.call("StatusNotification", {
                    "connectorId": 0, "status": "Available", "errorCode": "NoError"})
            # An operator accepts it; the next boot is Accepted and calls pass.
            csms.store.set_registration_status("NEW-1", "Accepted")
            assert (await cp.boot())["status"] == "Accepted"
            assert "currentTime" in await cp.call("Heartbeat")


class TestBasicAuth:
    @pytest.fixture
    def protected(self, csms):
        csms.store.upsert_charger("CPB", security_profile=1, registration_status="Accepted")
        csms.store.set_charger_password("CPB", KEY, n=2)
        return csms

    async def test_good_credentials_admitted(self, protected):
        """Security profile 1: Basic auth with user = charge point id and its key is admitted."""
        async with await open_cp(protected, "CPB", auth_key=KEY) as cp:
            assert (await cp.boot())["status"] == "Accepted"
            assert protected.connections.get("CPB").profile == 1

    async def test_bad_or_missing_credentials_get_401(self, protected):
        """Wrong key, wrong user or no header: HTTP 401 before any OCPP frame."""
        from chargebench.security import basic_auth_header

        url = protected.url("CPB")
        assert await refused_status(url) == 401
        wrong_key = {"Authorization": basic_auth_header("CPB", "not-the-key-01234567")}
        assert await refused_status(url, additional_headers=wrong_key) == 401
        wrong_user = {"Authorization": basic_auth_header("CP1", KEY)}
        assert await refused_status(url, additional_headers=wrong_user) == 401
        assert "CPB" not in protected.connections

    async def test_no_downgrade_below_profile_seen(self, csms):
        """A profile-0 charger once seen with Basic auth (profile 1) is refused without it."""
        csms.store.set_charger_password("CP1", KEY, n=2)
        async with await open_cp(csms, auth_key=KEY) as cp:
            await cp.boot()
        assert csms.store.get_charger("CP1")["max_profile_seen"] == 1
        assert await refused_status(csms.url("CP1")) == 401


class TestLiveness:
    async def test_late_heartbeat_marks_offline(self, tmp_path):
        """seeds/001 §3.7: silent for interval + 90 s -> offline and disconnected (clock x1000)."""
        async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                                 heartbeat_interval=60, clock=Clock(speed=1000)) as csms:
            csms.store.upsert_charger("CP1", registration_status="Accepted")
            cp = await open_cp(csms)
            await cp.boot()
            assert csms.store.get_charger("CP1")["online"]
            await cp.wait_closed(timeout=3)  # 150 simulated seconds are 0.15 s
            await eventually(lambda: "CP1" not in csms.connections)
            assert not csms.store.get_charger("CP1")["online"]

    async def test_heartbeats_keep_charger_online(self, tmp_path):
        """A charger that heartbeats within the interval is never marked offline."""
        async with CentralSystem(port=0, db=tmp_path / "c.db", log_dir=None,
                                 heartbeat_interval=60, clock=Clock(speed=1000)) as csms:
            csms.store.upsert_charger("CP1", registration_status="Accepted")
            async with await open_cp(csms) as cp:
                await cp.boot()
                for _ in range(6):  # 0.3 s real = 300 simulated seconds
                    await asyncio.sleep(0.05)
                    await cp.call("Heartbeat")
                assert csms.store.get_charger("CP1")["online"]
                assert not csms.connections.get("CP1").stale

    async def test_disconnect_marks_offline(self, csms):
        """Closing the connection marks the charger offline and unregisters it."""
        cp = await open_cp(csms)
        await cp.boot()
        await cp.close()
        await eventually(lambda: "CP1" not in csms.connections)
        # the registry lets go first, the store's offline write follows (csms.server._unregister)
        await eventually(lambda: not csms.store.get_charger("CP1")["online"])


class TestTrace:
    async def test_every_frame_in_message_log_and_file(self, csms, tmp_path):
        """Both directions of each exchange reach the store's message log and charger.CP1.log."""
        async with await open_cp(csms) as cp:
            await cp.boot()
            await cp.call("Heartbeat")
        await csms.trace.flush()
        rows = csms.store.query_log(cp_id="CP1")
        kinds = sorted((r.action, r.type, r.dir) for r in rows)
        assert kinds == [
            ("BootNotification", "CALL", "cp->cs"), ("BootNotification", "CALLRESULT", "cs->cp"),
            ("Heartbeat", "CALL", "cp->cs"), ("Heartbeat", "CALLRESULT", "cs->cp"),
        ]  # fmt: skip
        lines = (tmp_path / "logs" / "charger.CP1.log").read_text().splitlines()
        assert [json.loads(line)["action"] for line in lines].count("Heartbeat") == 2
