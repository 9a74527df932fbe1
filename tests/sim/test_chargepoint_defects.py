"""Regression tests for the simulated charge point's defects of issues 14 and 15, one each,
against the scripted CSMS over real websockets on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest

from chargebench.clock import Clock
from chargebench.ocppj import CallErrorReply, ConnectionLost
from sim.fleet import Fleet
from tests.sim.conftest import WAIT, libocpp_config, until
from tests.sim.features.conftest import FileHttpServer

_EXCEPTION_TEXT = ("Error:", "Traceback", "OverflowError", "ValueError")
#: ConnectionTimeOut far beyond the test: the preparation ends when the test says so
_LONG_PREPARATION = {"ConnectionTimeOut": 10**6}


async def _call_error(csms, cp_id: str, action: str, payload: dict) -> CallErrorReply:
    with pytest.raises(CallErrorReply) as caught:
        await csms.call(cp_id, action, payload)
    assert not any(word in caught.value.description for word in _EXCEPTION_TEXT)
    return caught.value


async def test_negative_connector_is_a_constraint_violation(csms, make_cp, caplog):
    """Issue 15.2/15.5: ChangeAvailability connectorId -5 earns PropertyConstraintViolation
    (not InternalError with "ValueError: CP1 has no connector -5"); the charger goes on."""
    cp = await make_cp("CP1")
    await cp.wait_booted(WAIT)
    error = await _call_error(csms, "CP1", "ChangeAvailability",
                              {"connectorId": -5, "type": "Inoperative"})
    assert error.code == "PropertyConstraintViolation"
    assert await csms.call("CP1", "ChangeAvailability",
                           {"connectorId": 7, "type": "Inoperative"}) == {"status": "Rejected"}
    assert (await csms.call("CP1", "GetConfiguration", {"key": ["HeartbeatInterval"]}))[
        "configurationKey"]
    assert not [r for r in caplog.records if r.exc_info]


async def test_huge_duration_is_a_constraint_violation(csms, make_cp, caplog):
    """Issue 15.2: GetCompositeSchedule duration -2^63 (and 2^70) is a constraint CALLERROR,
    never InternalError carrying "OverflowError"."""
    cp = await make_cp("CP1", Core={"SupportedFeatureProfiles": "Core,SmartCharging"})
    await cp.wait_booted(WAIT)
    for duration in (-(2**63), 2**70, -1):
        error = await _call_error(csms, "CP1", "GetCompositeSchedule",
                                  {"connectorId": 1, "duration": duration})
        assert error.code == "PropertyConstraintViolation", duration
    reply = await csms.call("CP1", "GetCompositeSchedule", {"connectorId": 1, "duration": 60})
    assert reply["status"] == "Accepted"
    assert not [r for r in caplog.records if r.exc_info]


async def test_cancel_right_after_reserve_frees_the_connector(csms, clock, tmp_path):
    """Issue 15.8 (`chargebench sim --count 1 --config config-full.json`, SecurityProfile 0):
    ReserveNow Accepted, then CancelReservation for its id at once: Accepted, the connector
    ends Available (not left Reserved by a status task that ran late) and takes a new
    reservation."""
    template = libocpp_config("config-full.json", Security={"SecurityProfile": 0})
    fleet = Fleet(template, 1, csms_url=csms.url, clock=clock, state_dir=tmp_path)
    await fleet.start()
    try:
        await fleet.wait_booted(WAIT)
        cp = fleet.charge_points[0]
        reserve = {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "TAG1",
                   "reservationId": 42}
        assert await csms.call(cp.id, "ReserveNow", reserve) == {"status": "Accepted"}
        assert await csms.call(cp.id, "CancelReservation", {"reservationId": 42}) == \
            {"status": "Accepted"}
        await asyncio.sleep(0.2)  # every status task has run
        assert cp.port(1).status.value == "Available"
        assert csms.statuses(cp.id, 1)[-1] == "Available"
        reserve["reservationId"] = 43
        assert await csms.call(cp.id, "ReserveNow", reserve) == {"status": "Accepted"}
        await until(lambda: cp.port(1).status.value == "Reserved")
    finally:
        await fleet.stop()


async def test_inoperative_while_preparing_is_scheduled_then_done(csms, make_cp, caplog):
    """Issue 15.8b: ChangeAvailability Inoperative while Preparing answers Scheduled (1.6 §5.2:
    §4.9 has no Preparing -> Unavailable) and the charger does it when the preparation ends:
    Available (B1) then Unavailable (A8); no IllegalTransition anywhere."""
    cp = await make_cp("CP1", Core=_LONG_PREPARATION)
    await cp.wait_booted(WAIT)
    await cp.plug_in(1)
    await until(lambda: cp.port(1).status.value == "Preparing")
    assert await csms.call("CP1", "ChangeAvailability",
                           {"connectorId": 1, "type": "Inoperative"}) == {"status": "Scheduled"}
    await asyncio.sleep(0.1)
    assert cp.port(1).status.value == "Preparing"
    await cp.plug_out(1)
    await csms.wait_for(lambda c: c.statuses("CP1", 1)[-1:] == ["Unavailable"])
    assert csms.statuses("CP1", 1)[-3:] == ["Preparing", "Available", "Unavailable"]
    assert not [r for r in caplog.records if r.exc_info]


async def test_operative_while_preparing_is_accepted(csms, make_cp):
    """Issue 15.8b, the other half: Operative while Preparing is simply Accepted."""
    cp = await make_cp("CP1", Core=_LONG_PREPARATION)
    await cp.wait_booted(WAIT)
    await cp.plug_in(1)
    await until(lambda: cp.port(1).status.value == "Preparing")
    assert await csms.call("CP1", "ChangeAvailability",
                           {"connectorId": 1, "type": "Operative"}) == {"status": "Accepted"}
    assert cp.port(1).status.value == "Preparing"


@pytest.fixture
def http_server():
    server = FileHttpServer()
    yield server
    server.close()


async def test_fresh_charger_uploads_diagnostics_and_log(csms, clock, http_server):
    """Issue 15.9: a charger started without a state directory (as `chargebench sim` does by
    default) answers GetDiagnostics with a file name and GetLog Accepted, and uploads."""
    from sim.chargepoint import ChargePoint
    from tests.sim.conftest import make_config

    config = make_config("CP1", FirmwareManagement={"SupportedFileTransferProtocols": "HTTP"})
    cp = ChargePoint(config, csms_url=csms.url, clock=clock)
    await cp.start()
    try:
        await cp.wait_booted(WAIT)
        reply = await csms.call("CP1", "GetDiagnostics", {"location": http_server.url + "/d/"})
        assert reply["fileName"]
        log_reply = await csms.call("CP1", "GetLog", {
            "logType": "DiagnosticsLog", "requestId": 5,
            "log": {"remoteLocation": http_server.url + "/l/"}})
        assert log_reply["status"] == "Accepted"
        await csms.wait_for(lambda c: any(
            p["status"] == "Uploaded" for p in c.sent("LogStatusNotification", "CP1")))
        await csms.wait_for(lambda c: any(
            p["status"] == "Uploaded" for p in c.sent("DiagnosticsStatusNotification", "CP1")))
        body = http_server.received[f"/d/{reply['fileName']}"].decode()
        assert '"id": "CP1"' in body and '"registration": "Accepted"' in body
    finally:
        await cp.stop()


async def test_call_cancelled_mid_write_leaves_nothing_outstanding(csms, make_cp):
    """Issue 14.7, the demo race ("LocalProtocolError: MeterValues: a CALL is still
    outstanding" from the offline queue): a CALL cancelled while its frame waits on a closing
    connection (a Heartbeat whose ticker is stopped) must leave nothing outstanding, so the
    next CALL on that connection fails as the connection does (ConnectionLost), never as a
    protocol error of ours."""
    cp = await make_cp("CP1", Core={"SupportedFeatureProfiles": "Core"})
    await cp.wait_booted(WAIT)
    session = cp.session
    await csms.wait_sent("SecurityEventNotification", cp_id="CP1")  # StartupOfTheDevice
    await until(lambda: session.core.outstanding is None)  # every boot message answered
    csms.sessions["CP1"].ws.transport.pause_reading()  # the CSMS answers no close frame
    closing = asyncio.ensure_future(session.ws.close())
    await asyncio.sleep(0.05)
    stuck = asyncio.ensure_future(cp.call("Heartbeat", {}))
    await asyncio.sleep(0.1)
    assert not stuck.done()  # the frame waits for the closing connection
    stuck.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stuck
    queued = asyncio.ensure_future(cp.send(session, "MeterValues", {
        "connectorId": 1, "meterValue": [{"timestamp": Clock().iso_now(), "sampledValue": [
            {"value": "1"}]}]}))
    await asyncio.sleep(0.05)
    csms.sessions["CP1"].ws.transport.resume_reading()
    with pytest.raises(ConnectionLost):
        await asyncio.wait_for(queued, WAIT)
    await closing
    await cp.wait_booted(WAIT)  # and the charger reconnects as usual


async def test_background_failure_is_logged_not_lost(csms, make_cp, caplog):
    """A failing background task of a charger is logged once under its id; asyncio never
    reports "Task exception was never retrieved"."""
    cp = await make_cp("CP1")
    await cp.wait_booted(WAIT)

    async def broken() -> None:
        raise RuntimeError("boom")

    caplog.set_level(logging.DEBUG)
    task = cp.spawn(broken())
    await asyncio.wait([task])
    del task
    gc.collect()
    await asyncio.sleep(0)
    messages = [r.getMessage() for r in caplog.records]
    assert any("CP1: background task" in m for m in messages), messages
    assert not [m for m in messages if "never retrieved" in m]


async def test_failure_reason_and_paced_start(csms):
    """Fleet: at most `max_handshakes` charge points between connect and BootNotification,
    and a charger not accepted says why."""
    csms.script("BootNotification", *[
        {"status": "Rejected", "currentTime": Clock().iso_now(), "interval": 300}])
    template = libocpp_config("config.json", Core={"HeartbeatInterval": 3600})
    fleet = Fleet(template, 30, csms_url=csms.url, clock=Clock(50), max_handshakes=4)
    await fleet.start()
    try:
        await until(lambda: fleet.booted() == 29, WAIT * 2)
    finally:
        await fleet.stop()
    in_flight, connects, boots = [], 0, 0
    for message in csms.messages:  # in the order the CSMS saw them
        connects += message.dir == "connect"
        boots += message.action == "BootNotification"
        in_flight.append(connects - boots)
    assert max(in_flight) <= 4, max(in_flight)
    assert fleet.failures() == {"boot Rejected": 1}
