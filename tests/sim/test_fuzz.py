"""A simulated charge point survives any frame (issue 15.1, 15.2, 15.5).

A bounded, seeded fuzz run over a real websocket: a raw server on 127.0.0.1 plays the CSMS (it
answers the charge point's own CALLs and sends the fuzzed frames), the charge point is the real
simulator with its state directory and a trace file. Every class of bad input is in the mix:
malformed JSON, lone UTF-16 surrogates, deep nesting, integers beyond 64 bits, wrong types,
unknown actions, negative and unknown ids, replies to ids never sent, bad message types and ids.

Checked after each frame and at the end: every CALL with a readable id gets exactly one reply
that OCPP-J allows (a schema-valid CALLRESULT or a CALLERROR with a 1.6 code and no Python
exception text), no traceback and no "Task exception was never retrieved" in the logs, the
connection is never closed, and the charger then serves a normal transaction.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

from websockets.asyncio.server import ServerConnection

from chargebench.clock import Clock
from chargebench.ocppj import serve
from chargebench.ocppj.v16 import OCPP16
from chargebench.ocppj.validation import check_payload
from chargebench.trace import TraceWriter
from tests.sim.conftest import SPEED, ScriptedCsms, make_config

SEED = 20261207
FRAMES = 3000
#: Wall seconds one fuzzed CALL may take to be answered.
REPLY_WAIT = 5.0
#: Python exception names that must never reach the peer in a CALLERROR description.
_EXCEPTION_TEXT = ("Traceback", "Error:", "Exception", "OverflowError", "ValueError",
                   "KeyError", "TypeError", "RecursionError", "UnicodeEncodeError")

# Valid CSMS CALLs to mutate. Left out on purpose: what reboots or reconnects the charger by
# design (Reset, UpdateFirmware, SignedUpdateFirmware, ChangeConfiguration of security keys,
# certificates): the connection must stay up for the whole run.
_BASE: dict[str, dict[str, Any]] = {
    "ChangeAvailability": {"connectorId": 1, "type": "Inoperative"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 3600, "chargingRateUnit": "A"},
    "ReserveNow": {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "FUZZ1",
                   "reservationId": 1},
    "CancelReservation": {"reservationId": 1},
    "RemoteStartTransaction": {"idTag": "FUZZ2", "connectorId": 1},
    "RemoteStopTransaction": {"transactionId": 1001},
    "UnlockConnector": {"connectorId": 1},
    "GetConfiguration": {"key": ["HeartbeatInterval"]},
    "ClearCache": {},
    "DataTransfer": {"vendorId": "org.fuzz", "messageId": "x", "data": "y"},
    "TriggerMessage": {"requestedMessage": "StatusNotification", "connectorId": 1},
    "SetChargingProfile": {"connectorId": 1, "csChargingProfiles": {
        "chargingProfileId": 7, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
        "chargingProfileKind": "Relative", "chargingSchedule": {
            "chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16}]}}},
    "ClearChargingProfile": {"id": 7},
    "GetLocalListVersion": {},
    "SendLocalList": {"listVersion": 3, "updateType": "Full",
                      "localAuthorizationList": [{"idTag": "FUZZ3",
                                                  "idTagInfo": {"status": "Accepted"}}]},
    "GetDiagnostics": {"location": "http://127.0.0.1:9/", "retries": 0},
    "GetLog": {"logType": "DiagnosticsLog", "requestId": 1, "retries": 0,
               "log": {"remoteLocation": "http://127.0.0.1:9/"}},
    "GetInstalledCertificateIds": {"certificateType": "CentralSystemRootCertificate"},
}
_HUGE = [2**63, -(2**63), 2**64 + 1, 2**70, -(2**100), 10**40, 2**31, -(2**31) - 1]
_ODD = [None, True, "", "x" * 600, [], {}, 1.5, -1, "\ud800", {"a": "\udfff"}]


class Fuzzer:
    """Seeded frames of every class, each with whether it is a CALL that must be answered."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = 0

    def _id(self) -> str:
        self.n += 1
        return f"fz{self.n}"

    def frames(self, count: int) -> Iterator[str]:
        kinds = [self.malformed, self.surrogate, self.deep, self.huge, self.wrong_type,
                 self.unknown_action, self.negative, self.unknown_reply, self.bad_envelope,
                 self.valid]
        for _ in range(count):
            yield self.rng.choice(kinds)()

    def _call(self, action: str, payload: Any) -> str:
        return json.dumps([2, self._id(), action, payload])

    def _base(self) -> tuple[str, dict[str, Any]]:
        action = self.rng.choice(sorted(_BASE))
        return action, json.loads(json.dumps(_BASE[action]))

    def _leaf_paths(self, payload: Any, path: tuple = ()) -> list[tuple]:
        if isinstance(payload, dict):
            return [p for k, v in payload.items() for p in self._leaf_paths(v, (*path, k))] \
                or [path]
        if isinstance(payload, list) and payload:
            return [p for i, v in enumerate(payload) for p in self._leaf_paths(v, (*path, i))]
        return [path]

    def _set(self, payload: dict, value: Any) -> dict:
        path = self.rng.choice(self._leaf_paths(payload))
        if not path:
            return {"x": value}
        target = payload
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return payload

    # Classes

    def malformed(self) -> str:
        text = self.valid()
        cut = self.rng.randrange(1, max(2, len(text) - 1))
        choice = self.rng.randrange(4)
        if choice == 0:
            return text[:cut]
        if choice == 1:
            return text[:cut] + "}{" + text[cut:]
        if choice == 2:
            return "".join(chr(self.rng.randrange(32, 0x2FFF)) for _ in range(20))
        return "[2, 'single', 'quotes', {}]"

    def surrogate(self) -> str:
        action, payload = self._base()
        where = self.rng.randrange(3)
        message_id = self._id()
        if where == 0:
            payload = self._set(payload, "\\ud800")
            text = json.dumps([2, message_id, action, payload]).replace("\\\\ud800", "\\ud800")
            return text
        if where == 1:
            return f'[2,"{message_id}","Heart\\udfffbeat",{{}}]'
        return f'[2,"{message_id}\\ud800","{action}",{{}}]'

    def deep(self) -> str:
        depth = self.rng.choice([50, 1000, 100_000])
        if self.rng.random() < 0.5:
            return "[" * depth + "]" * depth
        message_id = self._id()
        nested = '{"a":' * depth + "1" + "}" * depth
        return f'[2,"{message_id}","DataTransfer",{{"vendorId":"x","data":{nested}}}]'

    def huge(self) -> str:
        action, payload = self._base()
        return self._call(action, self._set(payload, self.rng.choice(_HUGE)))

    def wrong_type(self) -> str:
        action, payload = self._base()
        if self.rng.random() < 0.2:
            return self._call(action, self.rng.choice([[1, 2], "text", 5, True]))
        return self._call(action, self._set(payload, self.rng.choice(_ODD)))

    def unknown_action(self) -> str:
        name = self.rng.choice(["Foo", "", "heartbeat", "BootNotification ", "A" * 300,
                                "StartTransaction", "SetVariables", "Ünïcode"])
        return self._call(name, {})

    def negative(self) -> str:
        action, payload = self._base()
        for key in ("connectorId", "reservationId", "transactionId", "duration", "requestId",
                    "listVersion", "retries"):
            if key in payload:
                payload[key] = self.rng.choice([-1, -5, -(2**31)])
        payload.setdefault("connectorId", -5)
        return self._call(action, payload)

    def unknown_reply(self) -> str:
        message_id = f"never-sent-{self.rng.randrange(10**6)}"
        if self.rng.random() < 0.5:
            return json.dumps([3, message_id, {"status": "Accepted"}])
        return json.dumps([4, message_id, "GenericError", "x", {}])

    def bad_envelope(self) -> str:
        i = self._id()
        return self.rng.choice([
            "[]", "{}", '"text"', "1", "null", "[2]", f'[5,"{i}","Heartbeat",{{}}]',
            f'["2","{i}","Heartbeat",{{}}]', '[2,17,"Heartbeat",{}]', f'[2,"{i}",17,{{}}]',
            f'[2,"{i * 8}","Heartbeat",{{}}]', f'[2,"{i}","ClearCache",{{}},"extra"]',
            f'[3,"{i}"]', f'[4,"{i}","GenericError"]', f'[2,"{i}","ClearCache",null]',
        ])

    def valid(self) -> str:
        action, payload = self._base()
        return self._call(action, payload)


class FuzzCsms:
    """A raw websocket server: answers the charger's CALLs, collects its replies by id."""

    def __init__(self) -> None:
        self.defaults = ScriptedCsms()
        self.ws: ServerConnection | None = None
        self.connected = asyncio.Event()
        self.connections = 0
        self.replies: dict[str, list[Any]] = {}
        self.calls: list[tuple[str, dict]] = []
        self.changed = asyncio.Event()
        self.server: Any = None
        self.url = ""

    async def handler(self, ws: ServerConnection) -> None:
        self.ws = ws
        self.connections += 1
        self.connected.set()
        async for text in ws:
            frame = json.loads(text)
            if frame[0] == 2:
                self.calls.append((frame[2], frame[3]))
                reply = self.defaults.default("CP1", frame[2], frame[3])
                await ws.send(json.dumps([3, frame[1], reply]))
            else:
                self.replies.setdefault(frame[1], []).append(frame)
            self.changed.set()

    async def reply_to(self, message_id: str) -> list[Any]:
        async with asyncio.timeout(REPLY_WAIT):
            while message_id not in self.replies:
                self.changed.clear()
                await self.changed.wait()
        return self.replies[message_id][0]

    async def call(self, action: str, payload: dict) -> list[Any]:
        message_id = f"ok-{len(self.calls)}-{action}-{len(self.replies)}"
        assert self.ws is not None
        await self.ws.send(json.dumps([2, message_id, action, payload]))
        return await self.reply_to(message_id)

    async def wait_call(self, action: str, count: int = 1) -> None:
        async with asyncio.timeout(REPLY_WAIT):
            while sum(1 for a, _ in self.calls if a == action) < count:
                self.changed.clear()
                await self.changed.wait()


def check_reply(action: str | None, frame: list[Any]) -> None:
    """The reply is one OCPP-J allows: a schema-valid CALLRESULT, or a well-formed CALLERROR
    with a 1.6 error code and no exception text."""
    if frame[0] == 3:
        assert action is not None, frame
        check_payload(OCPP16, action, frame[2], True)
        return
    assert frame[0] == 4 and len(frame) == 5, frame
    _, _, code, description, details = frame
    assert code in OCPP16.error_codes and isinstance(description, str) \
        and isinstance(details, dict), frame
    assert not any(word in description for word in _EXCEPTION_TEXT), frame


def _action_of(text: str) -> str | None:
    try:
        frame = json.loads(text)
        return frame[2] if isinstance(frame[2], str) else None
    except (ValueError, RecursionError, IndexError, TypeError, KeyError):
        return None


def expected_reply_id(text: str) -> str | None:
    """The id a reply must carry: that of a CALL whose id is readable (OCPP-J 1.6 §4.2.3);
    None when nothing in the frame can be answered by id. An id holding a lone surrogate is
    not readable: no UTF-8 reply can echo it (it is answered with the unreadable id)."""
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if type(frame) is list and len(frame) >= 2 and frame[0] == 2 and type(frame[1]) is str \
            and not any(0xD800 <= ord(c) <= 0xDFFF for c in frame[1]):
        return frame[1]
    return None


async def test_charger_survives_fuzzed_frames(tmp_path, caplog):
    """3,000 seeded frames of every class: each CALL answered per OCPP-J, no traceback, the
    connection kept, and a normal transaction afterwards."""
    from sim.chargepoint import ChargePoint

    caplog.set_level(logging.WARNING)
    fuzz = FuzzCsms()
    fuzz.server = await serve(fuzz.handler, "127.0.0.1", 0)
    port = fuzz.server.sockets[0].getsockname()[1]
    config = make_config("CP1", Core={
        "SupportedFeatureProfiles": "Core,FirmwareManagement,LocalAuthListManagement,"
                                    "Reservation,SmartCharging,RemoteTrigger",
        "MeterValueSampleInterval": 0})
    trace = TraceWriter(tmp_path / "trace" / "fuzz.jsonl")
    cp = ChargePoint(config, csms_url=f"ws://127.0.0.1:{port}/ocpp", clock=Clock(SPEED),
                     state_dir=tmp_path / "cp", trace_sink=trace)
    await cp.start()
    try:
        await cp.wait_booted(REPLY_WAIT)
        sent = unanswered = 0
        for text in Fuzzer(SEED).frames(FRAMES):
            assert fuzz.ws is not None
            await fuzz.ws.send(text)
            sent += 1
            message_id = expected_reply_id(text)
            if message_id is not None:
                try:
                    reply = await fuzz.reply_to(message_id)
                except TimeoutError:
                    unanswered += 1
                    continue
                check_reply(_action_of(text), reply)
                assert len(fuzz.replies[message_id]) == 1, fuzz.replies[message_id]
        assert unanswered == 0, f"{unanswered} CALLs never answered"
        assert fuzz.connections == 1 and cp.link.connects == 1, "the connection was closed"

        # A normal CSMS puts things back, then a normal transaction runs.
        await fuzz.call("ChangeAvailability", {"connectorId": 0, "type": "Operative"})
        for reservation_id in (1, -1, -5):
            await fuzz.call("CancelReservation", {"reservationId": reservation_id})
        await fuzz.call("ClearChargingProfile", {})
        starts = sum(1 for a, _ in fuzz.calls if a == "StartTransaction")
        stops = sum(1 for a, _ in fuzz.calls if a == "StopTransaction")
        port1 = cp.port(1)
        if port1.tx is not None:
            await cp.stop_transaction(port1, "Other")
        await cp.plug_out(1)
        await cp.plug_in(1)
        assert await cp.present_id_tag("NORMAL01", 1)
        await fuzz.wait_call("StartTransaction", starts + 1)
        await cp.plug_out(1)
        await fuzz.wait_call("StopTransaction", stops + 1)
    finally:
        await cp.stop()
        trace.close()
        fuzz.server.close()
        await fuzz.server.wait_closed()
    gc.collect()  # an unretrieved task exception is logged when its task is collected
    bad = [r for r in caplog.records if r.exc_info or "never retrieved" in r.getMessage()
           or "Traceback" in r.getMessage()]
    assert not bad, "\n".join(f"{r.name}: {r.getMessage()}" for r in bad[:5])
    assert sent == FRAMES
