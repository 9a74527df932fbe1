"""An OCPP 2.0.1 Charging Station that ChargeBench did not write, to judge the 2.0.1 cs-role
verdicts against: the `ocpp` package's `ocpp.v201.ChargePoint` (routing, schema validation,
RPC matching by other people) over `websockets` 17, with nothing of ChargeBench's simulator,
CSMS or session core. Test code only: never shipped.

It has one EVSE with one connector, a small device model (reported by GetBaseReport, read and
written by GetVariables/SetVariables) and the operator control surface the cases drive
(`plug_in`, `plug_out`, `present_id_tag`). Transactions start and stop at
TxStartPoint/TxStopPoint "EVConnected,Authorized" (ReadOnly: a case wanting another point is
not applicable).

`Variant` switches legal choices part 2 leaves open (optional fields omitted, connector status
by NotifyEvent instead of StatusNotification, no LocalAuthListCtrlr at all) and illegal ones,
each breaking one rule: a seqNo gap in TransactionEventRequests (part 6 §2.1), UnlockFailed
where nothing prevents unlocking (F05.FR.04), UnknownComponent for an unknown variable
(B06.FR.07).

`python -m tests.conformance.v201.indep_station201 VARIANT --results DIR [-- pytest args]`
runs the cs-role suite against it, as `chargebench conform --ocpp 2.0.1 --role cs --self` runs
it against our simulator.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from ocpp.routing import after, on
from ocpp.v201 import ChargePoint, call, call_result
from ocpp.v201.enums import Action
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

logging.getLogger("ocpp").setLevel(logging.CRITICAL)

#: station seconds per wall second (EVConnectionTimeOut 20 s: 1 s of wall time)
SPEED = 20.0


@dataclass(frozen=True)
class Variant:
    name: str = "legal"
    legal: bool = True
    #: False: every optional field left out (stoppedReason Local omitted, no meterValue...)
    optional_fields: bool = True
    #: connector status by NotifyEvent AvailabilityState instead of StatusNotification
    notify_event: bool = False
    #: the device model has a LocalAuthListCtrlr (D); False: no such component at all
    local_list: bool = True
    # Illegal: each breaks one rule
    seq_no_gap: bool = False  # seqNo jumps by 2 (part 6 §2.1: sequentially numbered)
    unlock_fails: bool = False  # UnlockFailed with nothing in the way (F05.FR.04)
    unknown_variable_as_component: bool = False  # UnknownComponent for it (B06.FR.07)
    expired_root_accepted: bool = False  # an expired root installed (M05.FR.07)
    clear_unknown_display_accepted: bool = False  # Accepted for an unknown id (O05.FR.02)
    offline_flag_missing: bool = False  # queued events without offline true (E04.FR.03)


VARIANTS = {v.name: v for v in (
    Variant(),
    Variant("legal-minimal", optional_fields=False),
    Variant("legal-notify-event", notify_event=True),
    Variant("no-local-list", local_list=False),
    Variant("seq-no-gap", legal=False, seq_no_gap=True),
    Variant("unlock-fails", legal=False, unlock_fails=True),
    Variant("unknown-variable", legal=False, unknown_variable_as_component=True),
    Variant("expired-root-accepted", legal=False, expired_root_accepted=True),
    Variant("display-clear-unknown", legal=False, clear_unknown_display_accepted=True),
    Variant("offline-flag-missing", legal=False, offline_flag_missing=True),
)}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Var:
    value: str
    data_type: str = "integer"
    mutability: str = "ReadWrite"
    values_list: str | None = None
    instance: str | None = None


def device_model(variant: Variant) -> dict[tuple[str, str], Var]:
    model = {
        ("OCPPCommCtrlr", "OfflineThreshold"): Var("60"),
        ("OCPPCommCtrlr", "HeartbeatInterval"): Var("300"),
        ("OCPPCommCtrlr", "MessageTimeout"): Var("30", mutability="ReadOnly",
                                                  instance="Default"),
        ("AuthCtrlr", "AuthorizeRemoteStart"): Var("false", "boolean"),
        ("AuthCtrlr", "LocalAuthorizeOffline"): Var("true", "boolean"),
        ("AuthCtrlr", "LocalPreAuthorize"): Var("false", "boolean"),
        ("TxCtrlr", "TxStartPoint"): Var("EVConnected,Authorized", "MemberList", "ReadOnly",
                                         "EVConnected,Authorized,PowerPathClosed"),
        ("TxCtrlr", "TxStopPoint"): Var("EVConnected,Authorized", "MemberList", "ReadOnly",
                                        "EVConnected,Authorized,PowerPathClosed"),
        ("TxCtrlr", "EVConnectionTimeOut"): Var("60"),
        ("AuthCacheCtrlr", "Enabled"): Var("true", "boolean"),
        # M: a certificate store without the additional root check (M05.FR.09)
        ("SecurityCtrlr", "AdditionalRootCertificateCheck"): Var("false", "boolean",
                                                                 "ReadOnly"),
    }
    # O: display messages in two formats (HTML and URI not supported), every priority
    model[("DisplayMessageCtrlr", "Enabled")] = Var("true", "boolean")
    model[("DisplayMessageCtrlr", "Available")] = Var("true", "boolean", "ReadOnly")
    model[("DisplayMessageCtrlr", "SupportedFormats")] = Var(
        "ASCII,UTF8", "MemberList", "ReadOnly", "ASCII,HTML,URI,UTF8")
    model[("DisplayMessageCtrlr", "SupportedPriorities")] = Var(
        "AlwaysFront,InFront,NormalCycle", "MemberList", "ReadOnly",
        "AlwaysFront,InFront,NormalCycle")
    if variant.local_list:
        model[("LocalAuthListCtrlr", "Enabled")] = Var("true", "boolean")
        model[("LocalAuthListCtrlr", "Available")] = Var("true", "boolean", "ReadOnly")
    return model


def _valid(var: Var, value: str) -> bool:
    """The value fits the variable's dataType (B05.FR.07)."""
    if var.data_type == "integer":
        return value.lstrip("-").isdigit()
    if var.data_type == "boolean":
        return value in ("true", "false")
    if var.data_type == "MemberList":
        allowed = set((var.values_list or "").split(","))
        return all(member in allowed for member in value.split(","))
    return True


class IndependentStation(ChargePoint):
    """One station on one connection at a time; `launch()` keeps it connected."""

    def __init__(self, url: str, station_id: str, variant: Variant) -> None:
        self.url, self.variant = url, variant
        self.model = device_model(variant)
        self.lock = asyncio.Lock()
        self.plugged = False
        self.inoperative = False
        self.pending_inoperative = False
        self.tx: str | None = None
        self.tx_token: dict | None = None
        self.seq = itertools.count()
        self.local_version = 0
        self.runner: asyncio.Task | None = None
        self._tasks: set[asyncio.Task] = set()
        self.boot_reason = "PowerUp"
        #: display messages by id, as received (snake_case keys, the `ocpp` package's)
        self.messages: dict[int, dict] = {}
        self.timer: asyncio.Task | None = None
        #: installed roots: (certificateType, certificate)
        self.roots: list[tuple[str, x509.Certificate]] = []
        # offline (the operator's go_offline/go_online): TransactionEvents queued with
        # offline true (E04.FR.03, E12), sent once connected again; an idToken Accepted
        # online is taken offline (LocalAuthorizeOffline with its Authorization Cache)
        self.online_wanted = asyncio.Event()
        self.online_wanted.set()
        self.link_up = False
        self.offline = False
        self.queue: list[Any] = []
        self.accepted: set[str] = set()
        super().__init__(station_id, None)

    # connection ----------------------------------------------------------------------------

    def launch(self) -> IndependentStation:
        """Connect (and reconnect) in the background."""
        self.runner = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            self.runner.cancel()
            with contextlib.suppress(BaseException):
                await self.runner

    async def _run(self) -> None:
        while True:
            await self.online_wanted.wait()
            with contextlib.suppress(OSError, asyncio.TimeoutError, Exception):
                async with connect(f"{self.url}/{self.id}", compression=None,
                                   subprotocols=[Subprotocol("ocpp2.0.1")]) as ws:
                    self._connection = ws
                    self.link_up = True
                    reader = asyncio.get_running_loop().create_task(ChargePoint.start(self))
                    await self._request(call.BootNotification(
                        charging_station={"model": "Indep", "vendor_name": "NotChargeBench"},
                        reason=self.boot_reason))
                    await self._status()
                    # A04.FR.01: start-up and reset are critical security events
                    kind = "StartupOfTheDevice" if self.boot_reason == "PowerUp" else (
                        "ResetOrReboot")
                    self.boot_reason = "PowerUp"
                    await self._request(call.SecurityEventNotification(type=kind,
                                                                       timestamp=now()))
                    while self.queue:  # E12.FR.01: the queue first, in order
                        await self.call(self.queue.pop(0))
                    self.offline = False
                    await reader
            self.link_up = False
            await asyncio.sleep(0.2)

    async def _request(self, payload: Any) -> Any:
        """A CALL; offline a TransactionEvent is queued (None), anything else dropped."""
        if isinstance(payload, call.TransactionEvent) and (self.offline or not self.link_up):
            if not self.variant.offline_flag_missing:
                payload.offline = True
            self.queue.append(payload)
            return None
        if not self.link_up:
            return None
        async with self.lock:
            return await self.call(payload)

    async def go_offline(self) -> None:
        self.online_wanted.clear()
        self.offline = True
        with contextlib.suppress(Exception):
            await self._connection.close()

    async def go_online(self) -> None:
        self.online_wanted.set()

    def spawn(self, coroutine: Any) -> None:
        """Work after a response: in a task of its own (the reader must go on reading the
        answers to what it sends)."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # what the station reports ---------------------------------------------------------------

    def _connector_status(self) -> str:
        if self.inoperative and not self.tx:
            return "Unavailable"
        return "Occupied" if self.plugged else "Available"

    async def _status(self) -> None:
        status = self._connector_status()
        if self.variant.notify_event:
            await self._request(call.NotifyEvent(generated_at=now(), seq_no=0, event_data=[{
                "event_id": 1, "timestamp": now(), "trigger": "Delta", "actual_value": status,
                "event_notification_type": "HardWiredNotification",
                "component": {"name": "Connector", "evse": {"id": 1, "connector_id": 1}},
                "variable": {"name": "AvailabilityState"}}]))
            return
        await self._request(call.StatusNotification(timestamp=now(), connector_status=status,
                                                  evse_id=1, connector_id=1))

    async def _event(self, event_type: str, trigger: str, tx: str | None = None,
                     **info: Any) -> Any:
        seq = next(self.seq)
        if self.variant.seq_no_gap and seq > 0:
            seq += 1
        extra: dict[str, Any] = {}
        if event_type == "Started":
            extra["evse"] = {"id": 1, "connector_id": 1}
            self.seq = itertools.count(1)
            seq = 0
        for key in ("id_token", "evse"):
            if key in info:
                extra[key] = info.pop(key)
        if self.variant.optional_fields and event_type in ("Started", "Ended"):
            extra["meter_value"] = [{"timestamp": now(), "sampled_value": [{
                "value": 0.0, "context": "Transaction.Begin" if event_type == "Started"
                else "Transaction.End"}]}]
        transaction_info = {"transaction_id": tx or self.tx, **info}
        reply = await self._request(call.TransactionEvent(
            event_type=event_type, timestamp=now(), trigger_reason=trigger, seq_no=seq,
            transaction_info=transaction_info, **extra))
        return reply

    async def _end(self, trigger: str, reason: str, state: str) -> None:
        info: dict[str, Any] = {"charging_state": state}
        if reason != "Local" or self.variant.optional_fields:
            info["stopped_reason"] = reason
        tx, self.tx, self.tx_token = self.tx, None, None  # over once decided
        await self._event("Ended", trigger, tx=tx, **info)
        if self.pending_inoperative:
            self.pending_inoperative, self.inoperative = False, True
            await self._status()

    async def _authorized(self, token: dict, trigger: str, **info: Any) -> None:
        """The driver (or the CSMS) authorized `token`: Started or Updated with it, then
        Charging when the EV is there; no EV within EVConnectionTimeOut ends it (E03.FR.05)."""
        self.tx_token = token
        if not self.plugged:
            self.timer = asyncio.get_running_loop().create_task(self._connection_timeout())
        if self.tx is None:
            self.tx = str(uuid.uuid4())
            await self._event("Started", trigger, id_token=token, **info)
        else:
            await self._event("Updated", trigger, id_token=token, **info)
        if self.plugged:
            await self._event("Updated", "ChargingStateChanged", charging_state="Charging")

    async def _connection_timeout(self) -> None:
        seconds = int(self.model[("TxCtrlr", "EVConnectionTimeOut")].value) / SPEED
        await asyncio.sleep(seconds)
        if not self.plugged and self.tx is not None:
            await self._end("EVConnectTimeout", "Timeout", "Idle")

    # control surface (conformance.operator) -------------------------------------------------

    async def plug_in(self, connector: int = 1) -> None:
        self.plugged = True
        if self.timer is not None:
            self.timer.cancel()
        await self._status()
        if self.tx is None:
            self.tx = str(uuid.uuid4())
            await self._event("Started", "CablePluggedIn", charging_state="EVConnected")
        else:  # the first event after connecting names the EVSE and connector (part 6 §2.1)
            await self._event("Updated", "CablePluggedIn", charging_state="Charging",
                              evse={"id": 1, "connector_id": 1})

    async def plug_out(self, connector: int = 1) -> None:
        self.plugged = False
        if self.tx is not None:
            await self._end("EVCommunicationLost", "EVDisconnected", "Idle")
        await self._status()

    async def present_id_tag(self, tag: str, connector: int | None = None) -> bool:
        token = {"id_token": tag, "type": "ISO14443"}
        if self.tx_token is not None and self.tx_token["id_token"] == tag:
            await self._end("StopAuthorized", "Local", "EVConnected")
            return True
        reply = await self._request(call.Authorize(id_token=token))
        if reply is None:  # offline: C13 LocalAuthorizeOffline with the cache
            accepted = tag in self.accepted
        else:
            accepted = reply.id_token_info["status"] == "Accepted"
            (self.accepted.add if accepted else self.accepted.discard)(tag)
        if not accepted or self.tx_token is not None:
            return False
        await self._authorized(token, "Authorized")
        return True

    def now(self) -> datetime:
        return datetime.now(UTC)

    # CSMS commands ---------------------------------------------------------------------------

    @on(Action.reset)
    async def reset(self, type: str, **_: Any):
        if self.tx is not None and type == "OnIdle":
            return call_result.Reset(status="Scheduled")
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    async def reboot(self, type: str, **_: Any):
        if self.tx is None or type == "Immediate":
            self.spawn(self._reboot())

    async def _reboot(self) -> None:
        await asyncio.sleep(0.05)
        if self.tx is not None:
            await self._end("ResetCommand", "ImmediateReset",
                            "EVConnected" if self.plugged else "Idle")
        self.boot_reason = "RemoteReset"
        await self._connection.close()

    @on(Action.get_base_report)
    async def get_base_report(self, request_id: int, report_base: str, **_: Any):
        if report_base == "SummaryInventory":
            return call_result.GetBaseReport(status="NotSupported")
        return call_result.GetBaseReport(status="Accepted")

    @after(Action.get_base_report)
    async def send_report(self, request_id: int, report_base: str, **_: Any):
        self.spawn(self._report(request_id, report_base))

    async def _report(self, request_id: int, report_base: str) -> None:
        entries = []
        for (component, name), var in self.model.items():
            if report_base == "ConfigurationInventory" and var.mutability == "ReadOnly":
                continue
            variable = {"name": name, **({"instance": var.instance} if var.instance else {})}
            characteristics: dict[str, Any] = {"data_type": var.data_type,
                                               "supports_monitoring": False}
            if var.values_list:
                characteristics["values_list"] = var.values_list
            entries.append({"component": {"name": component}, "variable": variable,
                            "variable_attribute": [{"type": "Actual", "value": var.value,
                                                    "mutability": var.mutability}],
                            "variable_characteristics": characteristics})
        half = len(entries) // 2
        for seq, part in enumerate((entries[:half], entries[half:])):
            await self._request(call.NotifyReport(request_id=request_id, generated_at=now(),
                                               seq_no=seq, tbc=seq == 0, report_data=part))

    def _lookup(self, entry: dict) -> tuple[str | None, Var | None]:
        component, name = entry["component"]["name"], entry["variable"]["name"]
        components = {c for c, _ in self.model}
        if component not in components:
            return "UnknownComponent", None
        var = self.model.get((component, name))
        if var is None:
            if self.variant.unknown_variable_as_component:
                return "UnknownComponent", None
            return "UnknownVariable", None
        if entry.get("attribute_type", "Actual") != "Actual":
            return "NotSupportedAttributeType", None
        return None, var

    @on(Action.get_variables)
    async def get_variables(self, get_variable_data: list, **_: Any):
        results = []
        for entry in get_variable_data:
            status, var = self._lookup(entry)
            result: dict[str, Any] = {"component": entry["component"],
                                      "variable": entry["variable"],
                                      "attribute_status": status or "Accepted"}
            if "attribute_type" in entry:
                result["attribute_type"] = entry["attribute_type"]
            if var is not None:
                result["attribute_value"] = var.value
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @on(Action.set_variables)
    async def set_variables(self, set_variable_data: list, **_: Any):
        results = []
        for entry in set_variable_data:
            status, var = self._lookup(entry)
            result: dict[str, Any] = {"component": entry["component"],
                                      "variable": entry["variable"]}
            if "attribute_type" in entry:
                result["attribute_type"] = entry["attribute_type"]
            if var is not None and var.mutability == "ReadOnly":
                status = "Rejected"
            elif var is not None and not _valid(var, entry["attribute_value"]):
                status = "Rejected"
                result["attribute_status_info"] = {"reason_code": "InvalidValue"}
            elif var is not None:
                var.value = entry["attribute_value"]
            result["attribute_status"] = status or "Accepted"
            results.append(result)
        return call_result.SetVariables(set_variable_result=results)

    @on(Action.change_availability)
    async def change_availability(self, operational_status: str, **_: Any):
        inoperative = operational_status == "Inoperative"
        if self.tx is not None and inoperative:
            self.pending_inoperative = True
            return call_result.ChangeAvailability(status="Scheduled")
        return call_result.ChangeAvailability(status="Accepted")

    @after(Action.change_availability)
    async def apply_availability(self, operational_status: str, **_: Any):
        self.spawn(self._availability(operational_status))

    async def _availability(self, operational_status: str) -> None:
        inoperative = operational_status == "Inoperative"
        if self.tx is not None or inoperative == self.inoperative:
            return
        self.inoperative = inoperative
        await self._status()

    @on(Action.unlock_connector)
    async def unlock_connector(self, evse_id: int, connector_id: int, **_: Any):
        if evse_id != 1 or connector_id != 1:
            return call_result.UnlockConnector(status="UnknownConnector")
        if self.tx_token is not None:
            return call_result.UnlockConnector(status="OngoingAuthorizedTransaction")
        return call_result.UnlockConnector(
            status="UnlockFailed" if self.variant.unlock_fails else "Unlocked")

    @on(Action.trigger_message)
    async def trigger_message(self, requested_message: str, **_: Any):
        if requested_message in ("Heartbeat", "StatusNotification"):
            return call_result.TriggerMessage(status="Accepted")
        if requested_message == "BootNotification":
            return call_result.TriggerMessage(status="Rejected")
        return call_result.TriggerMessage(status="NotImplemented")

    @after(Action.trigger_message)
    async def triggered(self, requested_message: str, **_: Any):
        self.spawn(self._triggered(requested_message))

    async def _triggered(self, requested_message: str) -> None:
        if requested_message == "Heartbeat":
            await self._request(call.Heartbeat())
        elif requested_message == "StatusNotification":
            await self._status()

    @on(Action.request_start_transaction)
    async def request_start(self, id_token: dict, remote_start_id: int, **_: Any):
        if self.tx_token is not None or self.inoperative:
            return call_result.RequestStartTransaction(status="Rejected")
        return call_result.RequestStartTransaction(status="Accepted")

    @after(Action.request_start_transaction)
    async def remote_start(self, id_token: dict, remote_start_id: int, **_: Any):
        self.spawn(self._remote_start(id_token, remote_start_id))

    async def _remote_start(self, id_token: dict, remote_start_id: int) -> None:
        if self.tx_token is not None:
            return
        if self.model[("AuthCtrlr", "AuthorizeRemoteStart")].value == "true":  # F02.FR.08
            reply = await self._request(call.Authorize(id_token=id_token))
            if reply.id_token_info["status"] != "Accepted":
                return
        await self._authorized(id_token, "RemoteStart", remote_start_id=remote_start_id)

    @on(Action.request_stop_transaction)
    async def request_stop(self, transaction_id: str, **_: Any):
        status = "Accepted" if transaction_id == self.tx else "Rejected"
        return call_result.RequestStopTransaction(status=status)

    @after(Action.request_stop_transaction)
    async def remote_stop(self, transaction_id: str, **_: Any):
        if transaction_id == self.tx:
            self.spawn(self._end("RemoteStop", "Remote", "EVConnected" if self.plugged else "Idle"))

    @on(Action.clear_cache)
    async def clear_cache(self, **_: Any):
        enabled = self.model[("AuthCacheCtrlr", "Enabled")].value == "true"
        return call_result.ClearCache(status="Accepted" if enabled else "Rejected")

    @on(Action.get_local_list_version)
    async def get_local_list_version(self, **_: Any):
        enabled = self.variant.local_list and (
            self.model[("LocalAuthListCtrlr", "Enabled")].value == "true")
        return call_result.GetLocalListVersion(
            version_number=self.local_version if enabled else 0)

    @on(Action.send_local_list)
    async def send_local_list(self, version_number: int, update_type: str, **_: Any):
        if not self.variant.local_list:
            return call_result.SendLocalList(status="Failed")
        if update_type == "Differential" and version_number <= self.local_version:
            return call_result.SendLocalList(status="VersionMismatch")
        self.local_version = version_number
        return call_result.SendLocalList(status="Accepted")

    # O. Display messages, P. DataTransfer ---------------------------------------------------

    def _shown(self) -> dict[int, dict]:
        """The messages held: a transaction's only while it runs (O02.FR.02)."""
        for key in [k for k, m in self.messages.items()
                    if m.get("transaction_id") not in (None, self.tx)]:
            del self.messages[key]
        return self.messages

    @on(Action.set_display_message)
    async def set_display_message(self, message: dict, **_: Any):
        formats = self.model[("DisplayMessageCtrlr", "SupportedFormats")].value.split(",")
        if message["message"]["format"] not in formats:
            return call_result.SetDisplayMessage(status="NotSupportedMessageFormat")
        if message.get("transaction_id") not in (None, self.tx):
            return call_result.SetDisplayMessage(status="UnknownTransaction")
        if message["priority"] == "AlwaysFront":  # O01.FR.16: a second one replaces it
            self.messages = {k: m for k, m in self.messages.items()
                             if m["priority"] != "AlwaysFront"}
        self.messages[message["id"]] = message
        return call_result.SetDisplayMessage(status="Accepted")

    @on(Action.get_display_messages)
    async def get_display_messages(self, request_id: int, id: list | None = None,
                                   priority: str | None = None, state: str | None = None,
                                   **_: Any):
        found = [m for m in self._shown().values() if (not id or m["id"] in id)
                 and priority in (None, m["priority"]) and state in (None, m.get("state"))]
        if found:
            self.spawn(self._request(call.NotifyDisplayMessages(request_id=request_id,
                                                                message_info=found)))
        return call_result.GetDisplayMessages(status="Accepted" if found else "Unknown")

    @on(Action.clear_display_message)
    async def clear_display_message(self, id: int, **_: Any):
        known = self._shown().pop(id, None) is not None
        accepted = known or self.variant.clear_unknown_display_accepted
        return call_result.ClearDisplayMessage(status="Accepted" if accepted else "Unknown")

    @on(Action.data_transfer)
    async def data_transfer(self, vendor_id: str, **_: Any):
        # P01.FR.05/06: no vendor extension; the minimal variant just rejects (legal too)
        return call_result.DataTransfer(
            status="UnknownVendorId" if self.variant.optional_fields else "Rejected")


    # M: root certificates ------------------------------------------------------------------

    @staticmethod
    def _hash(cert: x509.Certificate) -> dict:
        """CertificateHashDataType, SHA256: issuer DN DER, and the key bits taken from the
        end of the DER SubjectPublicKeyInfo (an uncompressed P-256 point is its last 65
        bytes; RSA keys: the whole BIT STRING after its header is not handled: EC only)."""
        spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)

        def sha(data: bytes) -> str:
            digest = hashes.Hash(hashes.SHA256())
            digest.update(data)
            return digest.finalize().hex()

        return {"hash_algorithm": "SHA256", "issuer_name_hash": sha(cert.issuer.public_bytes()),
                "issuer_key_hash": sha(spki[-65:]),
                "serial_number": format(cert.serial_number, "x")}

    @on(Action.install_certificate)
    async def install_certificate(self, certificate_type: str, certificate: str, **_: Any):
        try:
            cert = x509.load_pem_x509_certificate(certificate.encode())
        except ValueError:
            return call_result.InstallCertificate(status="Rejected")
        moment = datetime.now(UTC)
        if not self.variant.expired_root_accepted and not (
                cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc):
            return call_result.InstallCertificate(status="Rejected")  # M05.FR.07
        if not any(c == cert for _, c in self.roots):
            self.roots.append((certificate_type, cert))
        return call_result.InstallCertificate(status="Accepted")

    @on(Action.get_installed_certificate_ids)
    async def get_installed_certificate_ids(self, certificate_type: list | None = None,
                                            **_: Any):
        chain = [{"certificate_type": kind, "certificate_hash_data": self._hash(cert)}
                 for kind, cert in self.roots
                 if not certificate_type or kind in certificate_type]
        if not chain:
            return call_result.GetInstalledCertificateIds(status="NotFound")  # M03.FR.02
        return call_result.GetInstalledCertificateIds(
            status="Accepted", certificate_hash_data_chain=chain)

    @on(Action.delete_certificate)
    async def delete_certificate(self, certificate_hash_data: dict, **_: Any):
        def same(cert: x509.Certificate) -> bool:
            mine = self._hash(cert)
            return all(str(mine[k]).lower() == str(certificate_hash_data.get(k, "")).lower()
                       for k in ("issuer_name_hash", "issuer_key_hash", "serial_number"))

        keep = [(kind, cert) for kind, cert in self.roots if not same(cert)]
        if len(keep) == len(self.roots):
            return call_result.DeleteCertificate(status="NotFound")  # M04.FR.04
        self.roots = keep
        return call_result.DeleteCertificate(status="Accepted")

# The runner: the cs-role suite against this station --------------------------------------------

CASES = Path(__file__).resolve().parents[3] / "conformance" / "cases" / "v201"
STATION_ID = "CB-CONFORM-1"


class Hooks:
    def __init__(self, operator: Any) -> None:
        self.operator = operator

    def pytest_cb_operator(self, config: Any) -> Any:
        return self.operator


def main(argv: list[str] | None = None) -> int:
    import pytest

    from chargebench.ports import listen_port
    from conformance.background import BackgroundLoop
    from conformance.operator import ControlOperator

    parser = argparse.ArgumentParser(prog="indep_station201")
    parser.add_argument("variant", choices=sorted(VARIANTS))
    parser.add_argument("--results", type=Path, required=True)
    parser.add_argument("--timeout", default="3", help="--cb-timeout (default %(default)s)")
    argv = sys.argv[1:] if argv is None else argv
    cut = argv.index("--") if "--" in argv else len(argv)
    args, extra = parser.parse_args(argv[:cut]), argv[cut + 1:]
    port = listen_port()  # the station dials before the harness listens
    with BackgroundLoop() as loop:
        async def start() -> IndependentStation:
            return IndependentStation(f"ws://127.0.0.1:{port}/ocpp", STATION_ID,
                                      VARIANTS[args.variant]).launch()

        station = loop.run(start())
        try:
            return int(pytest.main([
                str(CASES), "-p", "no:cacheprovider", "--cb-role", "cs", "--cb-ocpp", "2.0.1",
                "--cb-results", str(args.results), "--cb-listen", f"127.0.0.1:{port}",
                "--cb-cp-id", STATION_ID, "--cb-timeout", args.timeout,
                "--cb-connect-timeout", "20", *extra,
            ], plugins=[Hooks(ControlOperator(station, loop.submit))]))
        finally:
            with contextlib.suppress(Exception):
                loop.run(station.stop(), timeout=5)


if __name__ == "__main__":
    sys.exit(main())
