"""The asyncio adapter over real websockets on 127.0.0.1, both roles."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.asyncio.client import connect as raw_connect

from chargebench.ocppj import (
    CallErrorReply,
    CallTimeout,
    ConnectionLost,
    NoReply,
    OcppCallError,
    OcppSession,
    Role,
    Session,
    connect,
    serve,
)
from chargebench.ocppj.events import CallTimedOut, LateReply
from chargebench.trace import TraceWriter, make_tracer, read_trace

NOW = "2026-01-01T00:00:00Z"
BOOT = {"chargePointVendor": "V", "chargePointModel": "M"}


class CentralSystem:
    """A scripted central system on the adapter; per-test handlers, every session kept."""

    def __init__(self, handlers: dict, trace_path=None) -> None:
        self.handlers = handlers
        self.sessions: list[Session] = []
        self.events: list = []
        self.writer = TraceWriter(trace_path) if trace_path else None

    async def handle(self, ws) -> None:
        if ws.subprotocol is None:  # OCPP-J 1.6 §3.2
            await ws.close(1002, "no OCPP subprotocol")
            return
        cp_id = ws.request.path.rsplit("/", 1)[-1]
        tracer = make_tracer(self.writer, cp_id, "s1") if self.writer else None
        session = Session(
            ws, OcppSession(Role.CENTRAL_SYSTEM, tracer=tracer), self.handlers,
            on_event=self.events.append,
        )
        self.sessions.append(session)
        await session.run()


@pytest.fixture
async def central(request):
    handlers = {
        "Heartbeat": lambda payload: {"currentTime": NOW},
        "BootNotification": lambda payload: {"status": "Accepted", "currentTime": NOW,
                                             "interval": 60},
    }
    system = CentralSystem(handlers)
    server = await serve(system.handle, "127.0.0.1", 0)
    system.url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
    yield system
    server.close()
    await server.wait_closed()


async def open_cp(url: str, handlers=None, **core_options) -> Session:
    ws = await connect(f"{url}/CP1")
    session = Session(ws, OcppSession(Role.CHARGE_POINT, **core_options), handlers or {})
    session.start()
    return session


async def test_call_and_result(central):
    """A charge point's CALL gets the central system's CALLRESULT payload."""
    cp = await open_cp(central.url)
    assert (await cp.call("BootNotification", BOOT))["status"] == "Accepted"
    assert (await cp.call("Heartbeat"))["currentTime"] == NOW
    await cp.close()


async def test_dataclass_messages(central):
    """ocpp dataclasses go out as camelCase payloads."""
    from ocpp.v16 import call

    cp = await open_cp(central.url)
    reply = await cp.call(call.BootNotification(charge_point_vendor="V", charge_point_model="M"))
    assert reply["interval"] == 60
    await cp.close()


async def test_handler_error_and_crash(central):
    """OcppCallError in a handler becomes that CALLERROR; a crash becomes InternalError."""
    def refuse(payload):
        raise OcppCallError("SecurityError", "not accepted")

    async def crash(payload):
        raise RuntimeError("boom")

    central.handlers["Authorize"] = refuse
    central.handlers["StatusNotification"] = crash
    cp = await open_cp(central.url)
    with pytest.raises(CallErrorReply) as refused:
        await cp.call("Authorize", {"idTag": "A"})
    assert refused.value.code == "SecurityError"
    with pytest.raises(CallErrorReply) as crashed:
        await cp.call("StatusNotification",
                      {"connectorId": 1, "errorCode": "NoError", "status": "Available"})
    assert crashed.value.code == "InternalError"
    # issue 15 point 2: no exception text or stack detail in a reply
    assert "boom" not in crashed.value.description
    assert "RuntimeError" not in crashed.value.description
    assert (await cp.call("Heartbeat"))["currentTime"] == NOW  # connection still up
    await cp.close()


async def test_no_reply_leaves_the_call_unanswered(central):
    """NoReply from a handler sends nothing; the caller times out and the next CALL works."""
    def silent(payload):
        raise NoReply

    central.handlers["Authorize"] = silent
    cp = await open_cp(central.url)
    with pytest.raises(CallTimeout):
        await cp.call("Authorize", {"idTag": "A"}, timeout=0.2)
    assert (await cp.call("Heartbeat"))["currentTime"] == NOW
    assert not any(type(e).__name__ == "ProtocolViolation" for e in central.events)
    await cp.close()


async def test_missing_handler_gets_not_supported(central):
    """A known action without a handler is answered NotSupported."""
    cp = await open_cp(central.url)
    with pytest.raises(CallErrorReply) as error:
        await cp.call("DataTransfer", {"vendorId": "X"})
    assert error.value.code == "NotSupported"
    await cp.close()


async def test_slow_handler_does_not_delay_replies(central):
    """While one CP's handler sleeps, other CPs' calls are answered."""
    release = asyncio.Event()

    async def slow(payload):
        await release.wait()
        return {"idTagInfo": {"status": "Accepted"}}

    central.handlers["Authorize"] = slow
    first, second = await open_cp(central.url), await open_cp(central.url)
    pending = asyncio.create_task(first.call("Authorize", {"idTag": "A"}))
    await asyncio.sleep(0.05)
    assert (await asyncio.wait_for(second.call("Heartbeat"), 2))["currentTime"] == NOW
    assert not pending.done()
    release.set()
    assert (await pending)["idTagInfo"]["status"] == "Accepted"
    await first.close()
    await second.close()


async def test_handler_may_call_back_without_deadlock(central):
    """A central system handler awaits its own CALL to the charge point inside the handler."""
    async def boot(payload):
        session = central.sessions[-1]
        reply = await session.call("GetConfiguration", {"key": ["HeartbeatInterval"]})
        return {"status": "Accepted", "currentTime": NOW,
                "interval": int(reply["configurationKey"][0]["value"])}

    central.handlers["BootNotification"] = boot
    cp_handlers = {"GetConfiguration": lambda p: {"configurationKey": [
        {"key": "HeartbeatInterval", "readonly": False, "value": "42"}]}}
    cp = await open_cp(central.url, cp_handlers)
    reply = await asyncio.wait_for(cp.call("BootNotification", BOOT), 5)
    assert reply["interval"] == 42
    await cp.close()


async def test_timeout_and_late_reply(central):
    """A reply slower than the call timeout raises CallTimeout; the late reply is an event."""
    release = asyncio.Event()
    late_events = []

    async def slow(payload):
        await release.wait()
        return {"currentTime": NOW}

    central.handlers["Heartbeat"] = slow
    ws = await connect(f"{central.url}/CP1")
    cp = Session(ws, OcppSession(Role.CHARGE_POINT), {}, on_event=late_events.append)
    cp.start()
    with pytest.raises(CallTimeout):
        await cp.call("Heartbeat", timeout=0.2)
    release.set()
    for _ in range(100):
        if any(isinstance(e, LateReply) for e in late_events):
            break
        await asyncio.sleep(0.01)
    assert [type(e) for e in late_events] == [CallTimedOut, LateReply]
    await cp.close()


async def test_malformed_frames_answered_and_connection_kept(central):
    """Raw broken frames over a socket get CALLERRORs and the connection stays open."""
    async with raw_connect(f"{central.url}/CP1", subprotocols=["ocpp1.6"], compression=None,
                           proxy=None) as ws:
        await ws.send("not json")
        assert json.loads(await ws.recv())[:3] == [4, "-1", "FormationViolation"]
        await ws.send('[2, "a", "Heartbeat", {"x": 1}]')
        assert json.loads(await ws.recv())[2] == "FormationViolation"
        await ws.send('[2, "b", "Heartbeat", {}]')
        assert json.loads(await ws.recv()) == [3, "b", {"currentTime": NOW}]


async def test_subprotocol_refused(central):
    """A client offering no OCPP subprotocol is closed right after the handshake."""
    with pytest.raises(ConnectionError):
        await connect(f"{central.url}/CP1", subprotocols=["ocpp9.9"])


async def test_close_fails_pending_call(central):
    """Closing the connection fails an outstanding call with ConnectionLost."""
    never = asyncio.Event()

    async def hang(payload):
        await never.wait()

    central.handlers["Heartbeat"] = hang
    cp = await open_cp(central.url)
    pending = asyncio.create_task(cp.call("Heartbeat"))
    await asyncio.sleep(0.05)
    await central.sessions[-1].close()
    with pytest.raises(ConnectionLost):
        await asyncio.wait_for(pending, 2)


async def test_trace_written_and_read_back(tmp_path):
    """Every frame on the wire becomes a trace record with the DESIGN.md fields."""
    path = tmp_path / "trace.jsonl"
    system = CentralSystem({"Heartbeat": lambda p: {"currentTime": NOW}}, trace_path=path)
    server = await serve(system.handle, "127.0.0.1", 0)
    url = f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/ocpp"
    cp = await open_cp(url)
    await cp.call("Heartbeat")
    await cp.close()
    server.close()
    await server.wait_closed()
    system.writer.close()
    records = list(read_trace(path))
    assert [(r.dir, r.type, r.action) for r in records] == [
        ("cp->cs", "CALL", "Heartbeat"), ("cs->cp", "CALLRESULT", "Heartbeat")]
    assert records[0].cp_id == "CP1" and records[1].latency_ms >= 0
    assert records[1].id == records[0].id and records[1].payload == {"currentTime": NOW}
