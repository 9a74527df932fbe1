"""OCPP 2.0.1 part 6 §2.14, N Diagnostics, with a Charging Station under test: variable
monitoring (N02-N06: SetVariableMonitoring, GetMonitoringReport, SetMonitoringBase/Level,
ClearVariableMonitoring), log upload (N01, to the harness's HTTP server on 127.0.0.1) and
customer information (N09, N10).

A monitoring case is not applicable to a station without MonitoringCtrlr (its device model);
the customer information cases with data need an idToken the station keeps (its
LocalAuthListCtrlr or AuthCacheCtrlr). Every monitor a case installs is cleared after it, the
monitoring base set back to All.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from chargebench.ports import listen_port
from conformance.expect import Mismatch, one_of
from conformance.filehost import FileHost
from conformance.v201.states import Cs, id_token_cached, id_token_local_auth_list, next_id
from conformance.v201.states_nolp import parts, station_now

MONITORING = pytest.mark.cb_requires("MonitoringCtrlr")
#: <Configured severity>
SEVERITY = 8
_INSTALLED = "cb_monitor_ids"


@pytest_asyncio.fixture(autouse=True, loop_scope="session")
async def _monitors_cleared(cs: Cs) -> AsyncIterator[None]:
    yield
    ids = sorted(cs.__dict__.get(_INSTALLED, ()))
    if ids:
        await cs.peer.call("ClearVariableMonitoring", {"id": ids})
    if cs.__dict__.get("cb_base_changed"):
        await cs.peer.call("SetMonitoringBase", {"monitoringBase": "All"})


def _status_info(result: dict, *codes: str) -> None:
    """"statusInfo is absent or statusInfo.reasonCode = ..." (compared case-insensitively)."""
    info = result.get("statusInfo")
    if info is not None and info.get("reasonCode", "").lower() not in {
            c.lower() for c in codes}:
        raise Mismatch(f"statusInfo {info}: absent or reasonCode {' / '.join(codes)} expected",
                       f"statusInfo absent or {' / '.join(codes)}")


def _availability(component: str, evse: int | None = None) -> dict:
    comp: dict[str, Any] = {"name": component}
    if evse is not None:
        comp["evse"] = {"id": evse}
    return {"component": comp, "variable": {"name": "AvailabilityState"}}


def _delta(entry: dict, severity: int = SEVERITY, value: float = 1, **extra: Any) -> dict:
    """A SetMonitoringData of a Delta monitor on `entry` (component/variable)."""
    return {"value": value, "type": "Delta", "severity": severity, **entry, **extra}


def _same(result: dict, asked: dict) -> bool:
    """The result is for the asked component/variable (N04.FR.02), type and severity."""
    return (result["component"]["name"] == asked["component"]["name"]
            and result["variable"]["name"] == asked["variable"]["name"]
            and (result["component"].get("evse") or {}).get("id")
            == (asked["component"].get("evse") or {}).get("id")
            and result.get("type") == asked["type"]
            and result.get("severity") == asked["severity"])


async def _monitor(cs: Cs, *data: dict) -> list[dict]:
    """SetVariableMonitoring of `data`; one result per element (N04.FR.01), remembered for
    clearing when Accepted with an id."""
    reply = await cs.ask("SetVariableMonitoring", {"setMonitoringData": list(data)})
    results = reply["setMonitoringResult"]
    if len(results) != len(data):
        raise Mismatch(f"{len(results)} setMonitoringResult for {len(data)} elements "
                       "(N04.FR.01)", f"{len(data)} results")
    installed = cs.__dict__.setdefault(_INSTALLED, set())
    for result in results:
        if result.get("status") == "Accepted" and "id" in result:
            installed.add(result["id"])
    return results


def _result(results: list[dict], asked: dict, status: str, *codes: str) -> dict:
    """The result of `asked` with `status` (an id when Accepted, none otherwise) and its
    statusInfo absent or one of `codes`."""
    match = [r for r in results if _same(r, asked) and r["status"] == status]
    if not match or (status == "Accepted") != ("id" in match[0]):
        raise Mismatch(f"setMonitoringResult {results}: {status} expected for "
                       f"{asked['component']} {asked['variable']} severity {asked['severity']}"
                       f" ({'with' if status == 'Accepted' else 'without'} an id)",
                       f"status {status}")
    _status_info(match[0], *codes)
    return match[0]


async def _install(cs: Cs, *entries: dict) -> list[dict]:
    """Delta monitors (value 1, <Configured severity>) on `entries` (component/variable):
    every result Accepted with an id, type and severity as asked (N04.FR.02/08/11)."""
    data = [_delta(e) for e in entries]
    results = await _monitor(cs, *data)
    return [_result(results, asked, "Accepted", "NoError") for asked in data]


async def _report(cs: Cs, expect: Any = "Accepted", **criteria: Any) -> list[dict]:
    """GetMonitoringReport: `expect`; when Accepted, the monitors of the
    NotifyMonitoringReportRequests (seqNo from 0, +1 while tbc; N02.FR.?)."""
    request_id = next_id()
    reply = await cs.ask("GetMonitoringReport", {"requestId": request_id, **criteria},
                         {"status": expect})
    _status_info(reply, "NoError", "NotFound")
    if reply["status"] != "Accepted":
        return []
    monitors: list[dict] = []
    for payload in await parts(cs, "NotifyMonitoringReport", request_id):
        monitors.extend(payload.get("monitor") or [])
    return monitors


def _monitor_ids(monitors: list[dict]) -> list[int]:
    return [m["id"] for entry in monitors for m in entry.get("variableMonitoring", ())]


@pytest.mark.octt("TC_N_05_CS")
@MONITORING
async def test_monitoring_base(cs: Cs):
    """TC_N_05_CS: SetMonitoringBase All, FactoryDefault, HardWiredOnly: each Accepted
    (N03.FR.01)."""
    cs.__dict__["cb_base_changed"] = True
    for base in ("All", "FactoryDefault", "HardWiredOnly"):
        reply = await cs.ask("SetMonitoringBase", {"monitoringBase": base},
                             {"status": "Accepted"})
        _status_info(reply, "NoError")


@pytest.mark.octt("TC_N_08_CS")
@MONITORING
async def test_set_one_monitor(cs: Cs):
    """TC_N_08_CS: a Delta monitor on EVSE AvailabilityState: Accepted; reported for that
    component/variable (N04.FR.01, N02.FR.?)."""
    target = _availability("EVSE", cs.evse_id)
    results = await _install(cs, target)
    monitors = await _report(cs, componentVariable=[target])
    if results[0]["id"] not in _monitor_ids(monitors):
        raise Mismatch(f"monitor {results[0]['id']} not reported: {monitors}",
                       "the installed monitor reported")
    for entry in monitors:
        if entry["variable"]["name"] != "AvailabilityState":
            raise Mismatch(f"reported {entry['variable']}, expected AvailabilityState only")


@pytest.mark.octt("TC_N_09_CS")
@MONITORING
async def test_set_two_monitors(cs: Cs):
    """TC_N_09_CS: Delta monitors on EVSE and ChargingStation AvailabilityState in one
    request: both Accepted; both reported (seqNo from 0)."""
    targets = [_availability("EVSE", cs.evse_id), _availability("ChargingStation")]
    results = await _install(cs, *targets)
    reported = set(_monitor_ids(await _report(cs, componentVariable=targets)))
    if {r["id"] for r in results} - reported:
        raise Mismatch(f"monitors {[r['id'] for r in results]} not all reported "
                       f"({sorted(reported)})", "both monitors reported")


@pytest.mark.octt("TC_N_10_CS")
@MONITORING
async def test_two_monitors_same_variable(cs: Cs):
    """TC_N_10_CS: two Delta monitors on EVSE AvailabilityState, severities 8 and 7: both
    Accepted with their own id."""
    target = _availability("EVSE", cs.evse_id)
    data = [_delta(target, 8), _delta(target, 7)]
    results = await _monitor(cs, *data)
    ids = {_result(results, asked, "Accepted", "NoError")["id"] for asked in data}
    if len(ids) != 2:
        raise Mismatch(f"setMonitoringResult {results}: two monitors, two ids", "two ids")


@pytest.mark.octt("TC_N_12_CS")
@MONITORING
async def test_delta_out_of_range(cs: Cs):
    """TC_N_12_CS: a Delta monitor of value -1: Rejected, no id (N04.FR.14)."""
    asked = _delta(_availability("EVSE", cs.evse_id), value=-1)
    _result(await _monitor(cs, asked), asked, "Rejected", "ValueOutOfRange",
            "ValuePositiveOnly")


@pytest.mark.octt("TC_N_15_CS")
@MONITORING
async def test_duplicate_monitor(cs: Cs):
    """TC_N_15_CS: two Delta monitors of the same severity on one variable in one request:
    one Accepted, the other Duplicate (N04.FR.10)."""
    asked = _delta(_availability("EVSE", cs.evse_id))
    results = await _monitor(cs, asked, dict(asked))
    _result(results, asked, "Accepted", "NoError")
    _result(results, asked, "Duplicate", "InvalidValue", "Duplicate")


@pytest.mark.octt("TC_N_40_CS")
@MONITORING
async def test_replace_monitor(cs: Cs):
    """TC_N_40_CS: a Delta monitor of severity 5 set again by its id with severity 4:
    Accepted (N04.FR.12); reported (Delta criteria) with severity 4."""
    target = _availability("EVSE", cs.evse_id)
    first = _result(await _monitor(cs, _delta(target, 5)), _delta(target, 5), "Accepted",
                    "NoError")
    again = _delta(target, 4, id=first["id"])
    _result(await _monitor(cs, again), again, "Accepted", "NoError")
    monitors = await _report(cs, componentVariable=[target],
                             monitoringCriteria=["DeltaMonitoring"])
    found = [m for entry in monitors for m in entry.get("variableMonitoring", ())
             if m["id"] == first["id"]]
    if not found or found[0]["severity"] != 4:
        raise Mismatch(f"monitor {first['id']} reported as {found or monitors}, expected "
                       "severity 4", "severity 4")


@pytest.mark.octt("TC_N_02_CS")
@MONITORING
async def test_report_by_component_variable(cs: Cs):
    """TC_N_02_CS: Delta monitors on ChargingStation and EVSE AvailabilityState present; a
    report of ChargingStation.AvailabilityState and every monitor of the EVSE: Accepted; the
    AvailabilityState monitors reported, of type Delta (N02.FR.?)."""
    results = await _install(cs, _availability("ChargingStation"),
                             _availability("EVSE", cs.evse_id))
    monitors = await _report(cs, componentVariable=[
        _availability("ChargingStation"),
        {"component": {"name": "EVSE", "evse": {"id": cs.evse_id}}}])
    for entry in monitors:
        if entry["variable"]["name"] == "AvailabilityState" and any(
                m["type"] != "Delta" for m in entry["variableMonitoring"]
                if m["id"] in {r["id"] for r in results}):
            raise Mismatch(f"AvailabilityState monitors {entry}: type Delta expected", "Delta")
    missing = {r["id"] for r in results} - set(_monitor_ids(monitors))
    if missing:
        raise Mismatch(f"monitors {sorted(missing)} not in the report {monitors}",
                       "both AvailabilityState monitors reported")


@pytest.mark.octt("TC_N_06_CS")
@MONITORING
async def test_monitoring_base_removes_custom(cs: Cs):
    """TC_N_06_CS: a custom Delta monitor on ChargingStation AvailabilityState reported;
    SetMonitoringBase HardWiredOnly: Accepted; the custom monitor gone from the report
    (N03.FR.05)."""
    target = _availability("ChargingStation")
    monitor = (await _install(cs, target))[0]["id"]
    if monitor not in _monitor_ids(await _report(cs, componentVariable=[target])):
        raise Mismatch(f"monitor {monitor} not reported", "the custom monitor reported")
    cs.__dict__["cb_base_changed"] = True
    reply = await cs.ask("SetMonitoringBase", {"monitoringBase": "HardWiredOnly"},
                         {"status": "Accepted"})
    _status_info(reply, "NoError")
    left = await _report(cs, one_of("Accepted", "EmptyResultSet"), componentVariable=[target])
    if monitor in _monitor_ids(left):
        raise Mismatch(f"custom monitor {monitor} still reported after HardWiredOnly: {left}",
                       "the custom monitor removed")


@pytest.mark.octt("TC_N_11_CS")
@MONITORING
async def test_monitor_unknown_component(cs: Cs):
    """TC_N_11_CS: EVSE 99 (not there): UnknownComponent or Rejected; component
    "NonExistent": UnknownComponent (or UnknownVariable); neither has an id (N04.FR.03)."""
    reply = await cs.ask("SetVariableMonitoring", {"setMonitoringData": [
        {"value": 1, "type": "Delta", "severity": SEVERITY, **_availability("EVSE", 99)},
        {"value": 1234.0, "type": "UpperThreshold", "severity": SEVERITY,
         "component": {"name": "NonExistent"}, "variable": {"name": "Power"}}]})
    results = reply["setMonitoringResult"]
    wanted = {"EVSE": ("UnknownComponent", "Rejected"),
              "NonExistent": ("UnknownComponent", "UnknownVariable")}
    for name, allowed in wanted.items():
        match = [r for r in results if r["component"]["name"] == name]
        if not match or match[0]["status"] not in allowed or "id" in match[0]:
            raise Mismatch(f"setMonitoringResult {results}: {name} {' or '.join(allowed)}, "
                           "no id", f"{name}: {allowed[0]}")


@pytest.mark.octt("TC_N_17_CS")
@MONITORING
async def test_monitoring_level_out_of_range(cs: Cs):
    """TC_N_17_CS: SetMonitoringLevel 10 and -1: Rejected (N05.FR.02)."""
    for severity, code in ((10, "ValueTooHigh"), (-1, "ValueTooLow")):
        reply = await cs.ask("SetMonitoringLevel", {"severity": severity},
                             {"status": "Rejected"})
        _status_info(reply, "ValueOutOfRange", code)


@pytest.mark.octt("TC_N_18_CS")
@MONITORING
async def test_clear_monitors(cs: Cs):
    """TC_N_18_CS: two monitors cleared by id: both Accepted (N06.FR.01); a report of those
    variables then EmptyResultSet (N02.FR.?)."""
    targets = [_availability("ChargingStation"), _availability("EVSE", cs.evse_id)]
    results = await _install(cs, *targets)
    ids = [r["id"] for r in results]
    reply = await cs.ask("ClearVariableMonitoring", {"id": ids})
    cleared = {r["id"]: r for r in reply["clearMonitoringResult"]}
    for monitor in ids:
        if cleared.get(monitor, {}).get("status") != "Accepted":
            raise Mismatch(f"clearMonitoringResult {reply['clearMonitoringResult']}: "
                           f"{monitor} Accepted expected", "Accepted")
        _status_info(cleared[monitor], "NoError")
    cs.__dict__[_INSTALLED] = set()
    await _report(cs, "EmptyResultSet", componentVariable=targets)


@pytest.mark.octt("TC_N_19_CS")
@MONITORING
async def test_clear_unknown_monitor(cs: Cs):
    """TC_N_19_CS: a monitor id above every one reported: NotFound, that id (N06.FR.02)."""
    monitors = await _report(cs, one_of("Accepted", "EmptyResultSet"))
    unknown = max(_monitor_ids(monitors), default=123455) + 1
    reply = await cs.ask("ClearVariableMonitoring", {"id": [unknown]},
                         {"clearMonitoringResult": [{"status": "NotFound", "id": unknown}]})
    _status_info(reply["clearMonitoringResult"][0], "NotFound")


@pytest.mark.octt("TC_N_37_CS")
@MONITORING
async def test_monitor_unknown_variable(cs: Cs):
    """TC_N_37_CS: a variable EVSE does not have: UnknownVariable (N04.FR.04)."""
    await cs.ask("SetVariableMonitoring", {"setMonitoringData": [{
        "value": 1, "type": "Delta", "severity": SEVERITY, "component": {"name": "EVSE"},
        "variable": {"name": "unknownVariable"}}]},
        {"setMonitoringResult": [{"status": "UnknownVariable", "type": "Delta",
                                  "severity": SEVERITY, "component": {"name": "EVSE"},
                                  "variable": {"name": "unknownVariable"}}]})


@pytest.mark.octt("TC_N_47_CS")
@MONITORING
async def test_report_all(cs: Cs):
    """TC_N_47_CS: Delta monitors on ChargingStation and EVSE AvailabilityState present;
    GetMonitoringReport without criteria reports them (N02.FR.11)."""
    results = await _install(cs, _availability("ChargingStation"),
                             _availability("EVSE", cs.evse_id))
    monitors = await _report(cs)
    missing = {r["id"] for r in results} - set(_monitor_ids(monitors))
    if missing:
        raise Mismatch(f"monitors {sorted(missing)} not in the report {monitors}",
                       "every monitor reported")


# N01 Retrieve log information -----------------------------------------------------------

async def _log_uploaded(cs: Cs, files: FileHost, log_type: str) -> None:
    """GetLog to the harness's HTTP server: Accepted with a filename (N01.FR.01), then
    LogStatusNotification Uploading and Uploaded with the requestId (N01.FR.02/03), and the
    file arrived."""
    request_id = next_id()
    reply = await cs.ask("GetLog", {"logType": log_type, "requestId": request_id,
                                    "log": {"remoteLocation": files.upload_http}},
                         {"status": "Accepted"})
    if not reply.get("filename"):
        raise Mismatch(f"GetLogResponse {reply}: filename not omitted and not empty",
                       "a filename")
    await cs.expect("LogStatusNotification", {"status": "Uploading", "requestId": request_id})
    await cs.expect("LogStatusNotification", {"status": "Uploaded", "requestId": request_id})
    if not files.uploads():
        raise Mismatch("the station said Uploaded but no file reached the server",
                       "the log file on the server")


@pytest.mark.octt("TC_N_26_CS")
async def test_diagnostics_upload_failed(cs: Cs):
    """TC_N_26_CS: a location where nothing listens, retries 3: Accepted; Uploading (again
    between attempts, optional), then UploadFailure, BadMessage, PermissionDenied or
    NotSupportedOperation with the requestId (N01.FR.04/08-10), 3 retryIntervals after the
    first Uploading (on the station's clock)."""
    interval = 20
    request_id = next_id()
    await cs.ask("GetLog", {"logType": "DiagnosticsLog", "requestId": request_id,
                            "retries": 3, "retryInterval": interval,
                            "log": {"remoteLocation": f"http://127.0.0.1:{listen_port()}/up/"}},
                 {"status": "Accepted"})
    await cs.expect("LogStatusNotification", {"status": "Uploading", "requestId": request_id})
    began = station_now(cs)
    failures = ("UploadFailure", "BadMessage", "PermissionDenied", "NotSupportedOperation")
    while True:
        report = await cs.expect("LogStatusNotification", {
            "status": one_of("Uploading", *failures), "requestId": request_id},
            timeout=3 * interval + cs.settings.timeout)
        if report["status"] != "Uploading":
            break
    took = (station_now(cs) - began).total_seconds()
    if took < 3 * interval * 0.8:
        raise Mismatch(f"{report['status']} {took:.0f} s after Uploading on the station's "
                       f"clock; 3 x retryInterval = {3 * interval} s expected",
                       f"{3 * interval} s of retries")


@pytest.mark.octt("TC_N_16_CS")
@MONITORING
async def test_monitoring_level_suppresses(cs: Cs):
    """TC_N_16_CS: a Delta monitor of severity 8 on EVSE AvailabilityState, SetMonitoringLevel
    7: Accepted (N05.FR.01); the EV plugged in: no NotifyEventRequest for the EVSE
    (N05.FR.03)."""
    target = _availability("EVSE", cs.evse_id)
    await _install(cs, target)
    level = cs.model.value("MonitoringCtrlr", "ActiveMonitoringLevel") or "9"
    try:
        reply = await cs.ask("SetMonitoringLevel", {"severity": 7}, {"status": "Accepted"})
        _status_info(reply, "NoError")
        await cs.act("plug_in", connector=cs.connector_id)
        await cs.expect_status("Occupied")

        def evse_event(frame: Any) -> bool:
            return frame.type == "CALL" and frame.action == "NotifyEvent" and any(
                e["component"]["name"] == "EVSE" for e in (frame.payload or {}).get(
                    "eventData", ()))

        await cs.peer.expect_nothing(evse_event, during=2.0,
                                     what="NotifyEventRequest for the EVSE")
    finally:
        await cs.peer.call("SetMonitoringLevel", {"severity": int(level)})


@pytest.mark.octt("TC_N_25_CS")
async def test_diagnostics_log(cs: Cs, files: FileHost):
    """TC_N_25_CS: DiagnosticsLog uploaded."""
    await _log_uploaded(cs, files, "DiagnosticsLog")


@pytest.mark.octt("TC_N_35_CS")
async def test_security_log(cs: Cs, files: FileHost):
    """TC_N_35_CS: SecurityLog uploaded."""
    await _log_uploaded(cs, files, "SecurityLog")


# N09/N10 Customer information -----------------------------------------------------------

async def _token_kept(cs: Cs) -> None:
    """Memory State IdTokenLocalAuthList (LocalAuthListCtrlr enabled), else IdTokenCached
    (AuthCacheCtrlr): something the station keeps on the customer."""
    if cs.model.has("LocalAuthListCtrlr") and await cs.configure(
            "LocalAuthListCtrlr", "Enabled", "true"):
        await id_token_local_auth_list(cs)
    elif cs.model.has("AuthCacheCtrlr") and await cs.configure(
            "AuthCacheCtrlr", "Enabled", "true"):
        await id_token_cached(cs)
    else:
        pytest.skip("not applicable: the station keeps no idToken (no LocalAuthListCtrlr or "
                    "AuthCacheCtrlr it enables)")


async def _customer(cs: Cs, expect: Any = "Accepted", *, report: bool = True,
                    clear: bool = False, **who: Any) -> list[dict]:
    request_id = next_id()
    await cs.ask("CustomerInformation", {"requestId": request_id, "report": report,
                                         "clear": clear, **who}, {"status": expect})
    if not report or expect != "Accepted":
        return []
    return await parts(cs, "NotifyCustomerInformation", request_id)


def _with_data(reports: list[dict]) -> None:
    if not any(r.get("data") for r in reports):
        raise Mismatch(f"NotifyCustomerInformationRequest {reports}: data not empty",
                       "data not empty")


@pytest.mark.octt("TC_N_27_CS")
async def test_customer_report_data(cs: Cs):
    """TC_N_27_CS: a customer the station knows: Accepted, data reported (N09.FR.02/05)."""
    await _token_kept(cs)
    _with_data(await _customer(cs, idToken=cs.valid))


@pytest.mark.octt("TC_N_28_CS")
async def test_customer_report_no_data(cs: Cs):
    """TC_N_28_CS: the customer's data cleared first; a report: Accepted, one
    NotifyCustomerInformation, tbc not true (N09.FR.06)."""
    await _customer(cs, report=False, clear=True, idToken=cs.valid)
    await _customer(cs, idToken=cs.valid)


@pytest.mark.octt("TC_N_29_CS")
async def test_customer_report_invalid(cs: Cs):
    """TC_N_29_CS: no customer named: Invalid (N09.FR.09)."""
    await _customer(cs, "Invalid")


@pytest.mark.octt("TC_N_30_CS")
async def test_customer_clear_and_report_data(cs: Cs):
    """TC_N_30_CS: report and clear of a known customer: Accepted, data; a second report:
    when Accepted, its parts end (tbc not true) (N10.FR.01)."""
    await _token_kept(cs)
    _with_data(await _customer(cs, clear=True, idToken=cs.valid))
    await _customer(cs, one_of("Accepted", "Rejected", "Invalid"), idToken=cs.valid)


@pytest.mark.octt("TC_N_31_CS")
async def test_customer_clear_and_report_no_data(cs: Cs):
    """TC_N_31_CS: report and clear of a customer without data: Accepted."""
    await _customer(cs, clear=True, idToken=cs.valid)


@pytest.mark.octt("TC_N_32_CS")
async def test_customer_clear_no_report(cs: Cs):
    """TC_N_32_CS: clear without report: Accepted (N10.FR.01)."""
    await _customer(cs, report=False, clear=True, idToken=cs.valid)


@pytest.mark.octt("TC_N_33_CS")
async def test_customer_clear_invalid(cs: Cs):
    """TC_N_33_CS: clear with no customer named: Invalid."""
    await _customer(cs, "Invalid", report=False, clear=True)
