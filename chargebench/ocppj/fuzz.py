"""Seeded frame fuzzing for either role: frames a peer may send, each with what OCPP-J owes it.

    for case in fuzz_frames(seed=7, count=2000, role=Role.CHARGE_POINT):
        await ws.send(case.text)
        ...                                  # a reply with id case.reply_id, or none
    problems = check_reply(case, reply)      # what is wrong with the reply, per OCPP-J 1.6 §4.2.3

Every class of bad input seen in the field (issue 15): malformed JSON, lone UTF-16 surrogates,
deep nesting, integers beyond 64 bits, NaN/Infinity, wrong JSON types, unknown actions, wrong
MessageTypeIds and lengths, bad or duplicate message ids, replies to ids never sent, and valid
CALLs with one field mutated. `role` is the sender's: a charge point fuzzes a CSMS with
charge-point-initiated actions and the reverse. Deterministic per seed (random.Random).
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from chargebench.ocppj.faults import UNREADABLE_ID
from chargebench.ocppj.versions import DEFAULT_VERSION, OcppVersion, Role

#: Classes of frames, in the order of the issue's list; `FuzzCase.kind` is one of them.
KINDS = (
    "valid", "malformed_json", "surrogate", "deep", "huge_int", "non_finite", "wrong_type",
    "missing_field", "extra_field", "unknown_action", "wrong_message_type", "wrong_length",
    "bad_id", "duplicate_id", "unknown_reply", "not_array", "edge_values", "embedded",
)

NOW = "2026-01-01T00:00:00Z"

#: A valid request per charge-point-initiated 1.6 action (the fuzzer mutates these).
CP_SAMPLES: dict[str, dict] = {
    "Authorize": {"idTag": "FUZZ-TAG"},
    "BootNotification": {"chargePointVendor": "Fuzz", "chargePointModel": "F1"},
    "DataTransfer": {"vendorId": "com.example.fuzz", "messageId": "m", "data": "x"},
    "DiagnosticsStatusNotification": {"status": "Idle"},
    "FirmwareStatusNotification": {"status": "Idle"},
    "Heartbeat": {},
    "MeterValues": {"connectorId": 1, "transactionId": 1, "meterValue": [
        {"timestamp": NOW, "sampledValue": [{"value": "10", "unit": "Wh"}]}]},
    "StartTransaction": {"connectorId": 1, "idTag": "FUZZ-TAG", "meterStart": 0,
                         "timestamp": NOW},
    "StatusNotification": {"connectorId": 1, "errorCode": "NoError", "status": "Available"},
    "StopTransaction": {"transactionId": 1, "meterStop": 10, "timestamp": NOW},
    "SecurityEventNotification": {"type": "FuzzEvent", "timestamp": NOW},
    "SignCertificate": {"csr": "not a csr"},
    "LogStatusNotification": {"status": "Idle", "requestId": 1},
    "SignedFirmwareStatusNotification": {"status": "Idle", "requestId": 1},
}

#: A valid request per central-system-initiated 1.6 action.
CS_SAMPLES: dict[str, dict] = {
    "ChangeAvailability": {"connectorId": 1, "type": "Operative"},
    "ChangeConfiguration": {"key": "HeartbeatInterval", "value": "60"},
    "ClearCache": {},
    "GetConfiguration": {},
    "RemoteStartTransaction": {"idTag": "FUZZ-TAG", "connectorId": 1},
    "RemoteStopTransaction": {"transactionId": 1},
    "Reset": {"type": "Soft"},
    "UnlockConnector": {"connectorId": 1},
    "TriggerMessage": {"requestedMessage": "Heartbeat"},
    "GetCompositeSchedule": {"connectorId": 1, "duration": 60},
    "ReserveNow": {"connectorId": 1, "expiryDate": NOW, "idTag": "FUZZ-TAG",
                   "reservationId": 1},
    "CancelReservation": {"reservationId": 1},
    "GetLocalListVersion": {},
    "DataTransfer": {"vendorId": "com.example.fuzz"},
}

#: kinds whose message id the receiver records (a well-formed CALL with an object payload)
_REACH_SEEN = frozenset({"valid", "wrong_type", "missing_field", "extra_field", "unknown_action",
                         "edge_values", "embedded"})
#: schema-valid values at the edges of what a receiver holds: they reach the handlers
_EDGE_INTS = (0, -1, -5, 2**31, -(2**31) - 1, 2**63 - 1, -(2**63), 10**18)
_EDGE_STRINGS = ("", " ", "ä€😀", "\u0000", "'; DROP TABLE transactions; --", "../../etc")
_EDGE_TIMES = ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "9999-12-31T23:59:59-14:00",
               "2026-02-28T24:00:00Z", "1970-01-01T00:00:00.123456789Z")
_HUGE = (2**64, -(2**64), 2**63, -(2**63) - 1, 10**30, 2**200)
_WRONG: tuple[Any, ...] = ("1", 1.5, True, None, [], {}, "", -1)


@dataclass(frozen=True, slots=True)
class FuzzCase:
    """One frame to send and what the receiver owes it."""

    seq: int
    kind: str
    text: str
    #: the id the reply must carry; None: no reply allowed (a reply to a reply, OCPP-J §4.1.3)
    reply_id: str | None
    #: only these CALLERROR codes are correct (None: any reply of the right id will do)
    codes: frozenset[str] | None = None


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _nest(depth: int, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return "[" * depth + "1" + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


def _paths(payload: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a payload (dict keys and list indices)."""
    found = []
    if isinstance(payload, dict):
        for key, value in payload.items():
            found.append((*prefix, key))
            found.extend(_paths(value, (*prefix, key)))
    elif isinstance(payload, list):
        for index, value in enumerate(payload):
            found.append((*prefix, index))
            found.extend(_paths(value, (*prefix, index)))
    return found


def _set(payload: Any, path: tuple, value: Any) -> None:
    for step in path[:-1]:
        payload = payload[step]
    payload[path[-1]] = value


def _delete(payload: Any, path: tuple) -> None:
    for step in path[:-1]:
        payload = payload[step]
    if isinstance(payload, dict):
        del payload[path[-1]]
    else:
        payload.pop(path[-1])


def fuzz_frames(
    seed: int, count: int, *, role: Role = Role.CHARGE_POINT,
    version: OcppVersion = DEFAULT_VERSION, kinds: tuple[str, ...] = KINDS,
) -> Iterator[FuzzCase]:
    """`count` frames from the `role` side, every kind in turn, deterministic per `seed`."""
    rng = random.Random(seed)
    samples = CP_SAMPLES if role is Role.CHARGE_POINT else CS_SAMPLES
    actions = sorted(a for a in samples if a in version.initiated_by(role))
    recent: list[str] = []
    formation = frozenset({"FormationViolation"})
    for seq in range(count):
        kind = kinds[seq % len(kinds)]
        message_id = f"fz{seed}-{seq}"
        action = rng.choice(actions)
        payload = json.loads(json.dumps(samples[action]))
        case = _make(kind, rng, seq, message_id, action, payload, recent, formation)
        if kind in _REACH_SEEN:
            recent.append(case.reply_id)  # type: ignore[arg-type]
            del recent[:-4]  # well inside the receiver's memory of recent ids (32)
        yield case


def _make(kind: str, rng: random.Random, seq: int, message_id: str, action: str,
          payload: dict, recent: list[str], formation: frozenset[str]) -> FuzzCase:  # fmt: skip
    call = [2, message_id, action, payload]
    if kind == "valid":
        return FuzzCase(seq, kind, _dumps(call), message_id)
    if kind == "malformed_json":
        text = _dumps(call)
        choice = rng.randrange(4)
        if choice == 0:
            text = text[: rng.randrange(1, len(text))]
        elif choice == 1:
            text = text + rng.choice(["]", "}", ",", "x", "\x00"])
        elif choice == 2:
            text = text.replace('"', "'", 1)
        else:
            text = "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(1, 40)))
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            text += "x"  # still JSON by chance: trailing garbage never is
        return FuzzCase(seq, kind, text, UNREADABLE_ID, formation)
    if kind == "surrogate":
        lone = rng.choice(["\\ud800", "\\udfff", "\\udbff", "\\udc00x"])
        where = rng.randrange(3)
        if where == 0:  # in the message id: unreadable
            return FuzzCase(seq, kind, f'[2,"{lone}","{action}",{{}}]', UNREADABLE_ID, formation)
        if where == 1:  # as a key
            return FuzzCase(seq, kind, f'[2,"{message_id}","{action}",{{"{lone}":1}}]',
                            message_id, formation)  # fmt: skip
        body = _dumps(payload)
        text = f'[2,"{message_id}","{action}",' + (
            body[:-1] + f',"s":"a{lone}b"}}' if body != "{}" else f'{{"s":"{lone}"}}') + "]"
        return FuzzCase(seq, kind, text, message_id, formation)
    if kind == "deep":
        depth = rng.choice([40, 100, 300, 999, 5000, 100000])
        inner = _nest(depth, rng)
        if rng.random() < 0.5:
            text = f'[2,"{message_id}","{action}",{{"x":{inner}}}]'
            return FuzzCase(seq, kind, text, message_id, formation)
        return FuzzCase(seq, kind, inner, UNREADABLE_ID, formation)
    if kind == "huge_int":
        ints = [p for p in _paths(payload) if type(_get(payload, p)) is int]
        value = rng.choice(_HUGE)
        if ints:
            _set(payload, rng.choice(ints), value)
        else:
            payload["connectorId"] = value
        codes = frozenset({"PropertyConstraintViolation", "FormationViolation",
                           "TypeConstraintViolation", "OccurenceConstraintViolation"})
        return FuzzCase(seq, kind, _dumps([2, message_id, action, payload]), message_id, codes)
    if kind == "non_finite":
        token = rng.choice(["NaN", "Infinity", "-Infinity", "1e999", "-1e400"])
        text = f'[2,"{message_id}","{action}",{{"connectorId":{token}}}]'
        unreadable = token in ("NaN", "Infinity", "-Infinity")
        return FuzzCase(seq, kind, text, UNREADABLE_ID if unreadable else message_id)
    if kind in ("wrong_type", "missing_field", "extra_field"):
        paths = _paths(payload)
        if kind == "wrong_type" and paths:
            _set(payload, rng.choice(paths), rng.choice(_WRONG))
        elif kind == "missing_field" and paths:
            _delete(payload, rng.choice(paths))
        else:
            payload[rng.choice(["extra", "évènement", "x" * 50])] = rng.choice((*_WRONG, 1))
        return FuzzCase(seq, kind, _dumps([2, message_id, action, payload]), message_id)
    if kind == "edge_values":
        for path in _paths(payload):
            value = _get(payload, path)
            if type(value) is int and rng.random() < 0.7:
                _set(payload, path, rng.choice(_EDGE_INTS))
            elif type(value) is str and path[-1] == "timestamp":
                _set(payload, path, rng.choice(_EDGE_TIMES))
            elif type(value) is str and rng.random() < 0.3:
                _set(payload, path, rng.choice(_EDGE_STRINGS))
        return FuzzCase(seq, kind, _dumps([2, message_id, action, payload]), message_id)
    if kind == "embedded":
        # DataTransfer carrying a payload in a string (Plug & Charge over 1.6): the same
        # classes one level down, where the frame checks cannot see them
        inner = rng.choice([
            '{"idToken":{"idToken":"\\ud800","type":"eMAID"}}', "[" * 5000 + "]" * 5000,
            '{"idToken":NaN}', '{"idToken":{"idToken":"A","type":"eMAID"},"x":' + str(2**70)
            + "}", '{"idToken":"flat"}', '{"idToken":{"idToken":"A","type":"eMAID"}}', "[]",
            '{"certificate":"-----BEGIN CERTIFICATE-----\\nA\\n-----END CERTIFICATE-----",'
            '"idToken":{"idToken":"A","type":"eMAID"}}', "{",
        ])  # fmt: skip
        message = rng.choice(["Authorize", "GetCertificateStatus", "Get15118EVCertificate"])
        payload = {"vendorId": "org.openchargealliance.iso15118pnc", "messageId": message,
                   "data": inner}  # fmt: skip
        return FuzzCase(seq, kind, _dumps([2, message_id, "DataTransfer", payload]), message_id)
    if kind == "unknown_action":
        name = rng.choice(["FlyToMoon", "", "heartbeat", "Heartbeat ", "A" * 200, "ÄÖÜ"])
        return FuzzCase(seq, kind, _dumps([2, message_id, name, {}]), message_id)
    if kind == "wrong_message_type":
        head = rng.choice([0, 1, 5, 7, -2, 2.0, "2", None, True, 2**70])
        return FuzzCase(seq, kind, _dumps([head, message_id, action, payload]), UNREADABLE_ID,
                        formation)  # fmt: skip
    if kind == "wrong_length":
        frame = rng.choice([[2, message_id], [2, message_id, action],
                            [2, message_id, action, payload, 1]])  # fmt: skip
        return FuzzCase(seq, kind, _dumps(frame), message_id, formation)
    if kind == "bad_id":
        bad: Any = rng.choice([17, None, 1.5, [], {}, True, "x" * 37])
        reply: str = bad if isinstance(bad, str) else UNREADABLE_ID
        return FuzzCase(seq, kind, _dumps([2, bad, action, payload]), reply, formation)
    if kind == "duplicate_id":
        if recent:
            old = rng.choice(recent)
            return FuzzCase(seq, kind, _dumps([2, old, "Heartbeat", {}]), old,
                            frozenset({"ProtocolError"}))  # fmt: skip
        return FuzzCase(seq, kind, _dumps(call), message_id)
    if kind == "unknown_reply":
        if rng.random() < 0.5:
            return FuzzCase(seq, kind, _dumps([3, f"never-{seq}", {"status": "Accepted"}]), None)
        return FuzzCase(seq, kind, _dumps([4, f"never-{seq}", "GenericError", "", {}]), None)
    if kind == "not_array":
        text = rng.choice(['{"a":1}', '"text"', "42", "null", "true", "[]", '""'])
        return FuzzCase(seq, kind, text, UNREADABLE_ID, formation)
    raise ValueError(f"unknown fuzz kind {kind!r}")


def _get(payload: Any, path: tuple) -> Any:
    for step in path:
        payload = payload[step]
    return payload


#: Words that betray an exception's text or a stack in a CALLERROR description.
_LEAKS = ("Traceback", 'File "', "Error:", "Exception", "line ", "sqlite", "Python")


def check_reply(case: FuzzCase, reply_text: str | None, *, version: OcppVersion = DEFAULT_VERSION
                ) -> list[str]:  # fmt: skip
    """What is wrong with `reply_text` (None: nothing came) as the answer to `case`."""
    if case.reply_id is None:
        return [] if reply_text is None else [f"reply to a non-CALL: {reply_text[:120]}"]
    if reply_text is None:
        return ["no reply"]
    try:
        reply = json.loads(reply_text)
    except ValueError:
        return [f"reply is not JSON: {reply_text[:120]}"]
    problems = []
    if type(reply) is not list or not reply or reply[0] not in (3, 4):
        return [f"reply is not a CALLRESULT/CALLERROR: {reply_text[:120]}"]
    if reply[1] != case.reply_id:
        problems.append(f"reply id {reply[1]!r}, expected {case.reply_id!r}")
    if reply[0] == 3:
        if len(reply) != 3 or type(reply[2]) is not dict:
            problems.append(f"malformed CALLRESULT {reply_text[:120]}")
        elif case.codes is not None:
            problems.append(f"CALLRESULT where a CALLERROR {sorted(case.codes)} is due")
        return problems
    if len(reply) != 5 or type(reply[3]) is not str or type(reply[4]) is not dict:
        return [*problems, f"malformed CALLERROR {reply_text[:120]}"]
    code, description = reply[2], reply[3]
    if code not in version.error_codes:
        problems.append(f"error code {code!r} is not OCPP-J's")
    if code == "InternalError":
        problems.append(f"InternalError ({description[:80]})")
    if case.codes is not None and code not in case.codes:
        problems.append(f"{code}, expected one of {sorted(case.codes)}")
    if any(word in description for word in _LEAKS):
        problems.append(f"description leaks internals: {description[:120]}")
    return problems


@dataclass(slots=True)
class FuzzReport:
    """What a fuzz run found; `violations` pairs a case with what was wrong."""

    sent: int = 0
    replies: int = 0
    closed_by_peer: int = 0
    violations: list[tuple[FuzzCase, str]] = field(default_factory=list)
    kinds: Counter = field(default_factory=Counter)

    def summary(self) -> str:
        return (f"{self.sent} frames ({len(self.kinds)} kinds), {self.replies} replies, "
                f"{len(self.violations)} violations, {self.closed_by_peer} connections closed "
                "by the peer")  # fmt: skip


async def run_fuzz(
    url: str, cases: Iterable[FuzzCase], *, reply_timeout: float = 5.0,
    boot: tuple[str, dict] | None = ("BootNotification", CP_SAMPLES["BootNotification"]),
    sentinel: tuple[str, dict] = ("Heartbeat", {}), subprotocol: str = DEFAULT_VERSION.subprotocol,
) -> FuzzReport:
    """Send each case over one connection to `url` (a CSMS endpoint, as a charge point) and
    check the answer it gets, one frame at a time. After a frame that must not be answered, a
    `sentinel` CALL shows whether anything was answered anyway. A connection the peer closes
    is a violation; the run reconnects (and boots again) and goes on."""
    from websockets.exceptions import ConnectionClosed

    from chargebench.ocppj.adapter import connect

    report = FuzzReport()
    ws = None
    sentinels = 0

    async def open_connection():
        connection = await connect(url, subprotocols=[subprotocol])
        if boot is not None:
            await connection.send(_dumps([2, "fuzz-boot", boot[0], boot[1]]))
            await _next_reply(connection, reply_timeout)
        return connection

    try:
        ws = await open_connection()
        for case in cases:
            report.sent += 1
            report.kinds[case.kind] += 1
            try:
                await ws.send(case.text)
                if case.reply_id is not None:
                    reply = await _next_reply(ws, reply_timeout)
                    report.replies += reply is not None
                    for problem in check_reply(case, reply):
                        report.violations.append((case, problem))
                    continue
                sentinels += 1
                sentinel_id = f"sentinel-{sentinels}"
                await ws.send(_dumps([2, sentinel_id, sentinel[0], sentinel[1]]))
                while True:
                    reply = await _next_reply(ws, reply_timeout)
                    if reply is None:
                        report.violations.append((case, "sentinel not answered"))
                        break
                    if json.loads(reply)[1] == sentinel_id:
                        break
                    report.replies += 1
                    report.violations.append((case, f"reply to a non-CALL: {reply[:120]}"))
            except ConnectionClosed:
                report.closed_by_peer += 1
                report.violations.append((case, "connection closed by the peer"))
                ws = await open_connection()
    finally:
        if ws is not None:
            await ws.close()
    return report


async def _next_reply(ws: Any, timeout: float) -> str | None:
    """The next CALLRESULT/CALLERROR text (CALLs from the peer are refused and skipped); None
    when nothing comes in `timeout` seconds."""
    import asyncio

    try:
        async with asyncio.timeout(timeout):
            while True:
                text = await ws.recv()
                if isinstance(text, bytes):
                    text = text.decode("utf-8", "replace")
                try:
                    frame = json.loads(text)
                except ValueError:
                    return text
                if type(frame) is list and frame and frame[0] == 2 and len(frame) > 1:
                    await ws.send(_dumps([4, frame[1], "NotSupported", "fuzzing", {}]))
                    continue
                return text
    except TimeoutError:
        return None
