"""OCPP-J robustness probes (OCPP-J 1.6 §4 and its errata), as data shared by both roles.

Each probe is one catalogue case: a frame ChargeBench sends, built for the role under test, and
the CALLERROR it must earn. The expected codes come from the project's fault table
(`chargebench.ocppj.versions.FAULT_CODES_16`), so the suite, the session core and the docs agree.
A probe ends by checking that the peer still answers a valid CALL: dropping the connection is no
answer, and a peer that does nothing fails every probe.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from chargebench.ocppj.faults import Fault
from chargebench.ocppj.frames import encode_call, encode_error, encode_result
from chargebench.ocppj.versions import FAULT_CODES_16
from chargebench.trace import TraceRecord
from conformance.endpoints import boot
from conformance.expect import one_of, present
from conformance.harness import HarnessPeer

#: A CALL the system under test answers without side effects, per role under test.
PING: dict[str, tuple[str, dict]] = {
    "csms": ("Heartbeat", {}),
    "cp": ("GetConfiguration", {"key": ["HeartbeatInterval"]}),
}

#: Payload faults: (action, payload) the role under test must reject, per fault.
PAYLOAD_FAULTS: dict[Fault, dict[str, tuple[str, object]]] = {
    Fault.MISSING_FIELD: {
        "csms": ("StatusNotification", {"connectorId": 0, "status": "Available"}),
        "cp": ("RemoteStopTransaction", {}),
    },
    Fault.WRONG_TYPE: {
        "csms": ("StatusNotification",
                 {"connectorId": "0", "errorCode": "NoError", "status": "Available"}),
        "cp": ("RemoteStopTransaction", {"transactionId": "one"}),
    },
    Fault.BAD_ENUM: {
        "csms": ("StatusNotification",
                 {"connectorId": 0, "errorCode": "NoError", "status": "Sleeping"}),
        "cp": ("ChangeAvailability", {"connectorId": 0, "type": "Sometimes"}),
    },
    Fault.STRING_TOO_LONG: {
        "csms": ("Authorize", {"idTag": "X" * 21}),  # IdToken: CiString20Type
        "cp": ("GetConfiguration", {"key": ["K" * 51]}),  # CiString50Type
    },
    Fault.EXTRA_PROPERTY: {
        "csms": ("Heartbeat", {"chargeBench": 1}),
        "cp": ("GetConfiguration", {"chargeBench": 1}),
    },
    Fault.BAD_DATE_TIME: {
        "csms": ("StartTransaction",
                 {"connectorId": 1, "idTag": "CB1", "meterStart": 0, "timestamp": "yesterday"}),
    },
}

Builder = Callable[[str, str], str]  # (message id, role under test) -> frame text


def _ping_frame(shape: Callable[[str, str, dict], list]) -> Builder:
    def build(message_id: str, role: str) -> str:
        action, payload = PING[role]
        return json.dumps(shape(message_id, action, payload))

    return build


def _payload_frame(fault: Fault) -> Builder:
    def build(message_id: str, role: str) -> str:
        action, payload = PAYLOAD_FAULTS[fault][role]
        return encode_call(message_id, action, payload)

    return build


@dataclass(frozen=True)
class Probe:
    """One broken frame and the CALLERROR it must get."""

    case: str
    fault: Fault
    build: Builder
    #: False when the frame's id cannot be read: any id is accepted in the reply
    #: (OCPP-J 1.6 names none; the project answers "-1" as OCPP-J 2.0.1 §4.2.3 does).
    echoes_id: bool = True
    #: Codes also accepted besides the table's: where OCPP-J §4.2.3 Table 7's descriptions
    #: overlap, each code whose description fits is a legal answer.
    also: tuple[str, ...] = ()
    #: No answer at all is also legal (the frame cannot be answered or SHALL be ignored);
    #: the peer must still answer a valid CALL afterwards.
    may_ignore: bool = False

    @property
    def codes(self) -> tuple[str, ...]:
        # 1.6 spellings only: OCPP-J errata §5.1/§5.2 keep "OccurenceConstraintViolation" and
        # "FormationViolation" ("do not fix": "FormatViolation" is OCPP 2.0's code)
        return tuple(dict.fromkeys((FAULT_CODES_16[self.fault], *self.also)))

    @property
    def roles(self) -> tuple[str, ...]:
        table = PAYLOAD_FAULTS.get(self.fault)
        return ("cp", "csms") if table is None else tuple(sorted(table))


def _raw(text: str) -> Builder:
    return lambda message_id, role: text.replace("{id}", message_id)


PROBES: tuple[Probe, ...] = (
    # OCPP-J 1.6 §4.1.2: the frame must be valid JSON. Its id cannot be read and OCPP-J 1.6
    # names no id for such an answer: a CALLERROR (any id, e.g. "-1") or none are both legal
    Probe("RPC_001", Fault.INVALID_JSON, _raw('[2, "{id}", "Heartbeat", {'), echoes_id=False,
          may_ignore=True),
    # §4.2: every message is a JSON array (no readable id either: as RPC_001)
    Probe("RPC_002", Fault.NOT_AN_ARRAY,
          _raw('{"messageTypeId": 2, "uniqueId": "{id}", "action": "Heartbeat"}'),
          echoes_id=False, may_ignore=True),
    # §4.1.3: a message type not in Table 2 the receiver "SHALL ignore": silence is the
    # answer; a CALLERROR is tolerated (it processes nothing)
    Probe("RPC_003", Fault.UNKNOWN_MESSAGE_TYPE, _ping_frame(lambda i, a, p: [5, i, a, p]),
          echoes_id=False, may_ignore=True,
          also=tuple(sorted(set(FAULT_CODES_16.values())))),
    # §4.1.4 Table 3: the message id is a string (no string id to answer: as RPC_001)
    Probe("RPC_004", Fault.BAD_MESSAGE_ID, _ping_frame(lambda i, a, p: [2, 12345, a, p]),
          echoes_id=False, may_ignore=True),
    # §4.2.1: a CALL has exactly 4 elements
    Probe("RPC_005", Fault.WRONG_LENGTH, _ping_frame(lambda i, a, p: [2, i, a])),
    # §4.2.1 Table 4: the action is a case-sensitive string
    Probe("RPC_006", Fault.BAD_ACTION, _ping_frame(lambda i, a, p: [2, i, 42, p])),
    # §4.2.1 Table 4: the payload is a JSON object
    Probe("RPC_007", Fault.PAYLOAD_NOT_OBJECT, _ping_frame(lambda i, a, p: [2, i, a, [p]])),
    # §4.1.4 Table 3: at most 36 characters (the id is built by `probe_id`)
    Probe("RPC_008", Fault.MESSAGE_ID_TOO_LONG, _ping_frame(lambda i, a, p: [2, i, a, p])),
    # §4.2.3 Table 7 NotImplemented: action not known by the receiver
    Probe("RPC_009", Fault.UNKNOWN_ACTION, _raw('[2, "{id}", "ChargeBenchNoSuchAction", {}]')),
    # §4.2.3 Table 7 NotSupported: known, but not one the receiver handles (wrong direction)
    Probe("RPC_010", Fault.UNSUPPORTED_ACTION,
          lambda i, role: encode_call(i, *(("Reset", {"type": "Soft"}) if role == "csms"
                                          else ("Heartbeat", {}))),
          also=("NotImplemented",)),
    # §4.2.3 Table 7 and errata §3.2: payloads checked against the 1.6 JSON schemas.
    # A missing required field: "Payload for Action is incomplete" (ProtocolError), a field
    # violating its occurrence constraint (OccurenceConstraintViolation), a payload not
    # conforming to the PDU structure (FormationViolation): each description fits
    Probe("RPC_011", Fault.MISSING_FIELD, _payload_frame(Fault.MISSING_FIELD),
          also=("OccurenceConstraintViolation", "FormationViolation")),
    Probe("RPC_012", Fault.WRONG_TYPE, _payload_frame(Fault.WRONG_TYPE)),
    # a value outside the enumeration: "invalid value" (PropertyConstraintViolation) or not
    # conforming to the PDU definition (FormationViolation)
    Probe("RPC_013", Fault.BAD_ENUM, _payload_frame(Fault.BAD_ENUM),
          also=("FormationViolation",)),
    # a string over its CiStringNType length breaks the field's data type (1.6 §7.x) as much
    # as its value: TypeConstraintViolation fits too
    Probe("RPC_014", Fault.STRING_TOO_LONG, _payload_frame(Fault.STRING_TOO_LONG),
          also=("TypeConstraintViolation",)),
    Probe("RPC_015", Fault.EXTRA_PROPERTY, _payload_frame(Fault.EXTRA_PROPERTY)),
    Probe("RPC_019", Fault.BAD_DATE_TIME, _payload_frame(Fault.BAD_DATE_TIME)),
)


def probes_for(role: str) -> list[Probe]:
    return [probe for probe in PROBES if role in probe.roles]


def probe_id(probe: Probe) -> str:
    """A fresh message id; 37 characters for the too-long probe."""
    if probe.fault is Fault.MESSAGE_ID_TOO_LONG:
        return secrets.token_hex(19)[:37]
    return "cb-" + secrets.token_hex(8)


# The checks, shared by both roles' test modules.


async def ready(peer: HarnessPeer, role: str) -> None:
    """The connection is past BootNotification.conf Accepted (ChargeBench boots as a charge
    point; as a CSMS it waits for the charge point's boot)."""
    if peer.booted.is_set():
        return
    if role == "csms":
        await boot(peer)
        return
    try:
        await asyncio.wait_for(peer.booted.wait(), peer.boot_timeout)
    except TimeoutError:
        raise AssertionError(f"the charge point sent no accepted BootNotification within "
                             f"{peer.boot_timeout:g} s (1.6 §4.2, --cb-boot-timeout)") from None


async def ping(peer: HarnessPeer, role: str) -> None:
    """The peer still answers a valid CALL with a CALLRESULT."""
    action, payload = PING[role]
    await peer.request(action, payload, {"currentTime": present} if action == "Heartbeat" else {})


async def check_probe(peer: HarnessPeer, role: str, probe: Probe) -> None:
    """Send the broken frame; require a CALLERROR with a code OCPP-J allows for it (or, where
    the probe says so, accept silence); then the peer must still answer a valid CALL."""
    await ready(peer, role)
    message_id = probe_id(probe)
    await peer.send_raw(probe.build(message_id, role))
    if probe.may_ignore:
        def wrong(frame: TraceRecord) -> bool:
            return frame.type == "CALLERROR" and (frame.error or {}).get(
                "errorCode") not in probe.codes

        # a CALLERROR, if any, comes before the answer to the CALL sent after the frame
        await ping(peer, role)
        await peer.expect_nothing(wrong, during=min(peer.timeout, 0.2),
                                  what=f"CALLERROR other than {list(probe.codes)}")
        return
    await peer.wait_for(
        "CALLERROR", {"errorCode": one_of(*probe.codes)},
        message_id=message_id if probe.echoes_id else None,
    )
    await ping(peer, role)


async def check_duplicate_id(peer: HarnessPeer, role: str) -> None:
    """OCPP-J 1.6 §4.1.4: a CALL reusing a message id. Errata §3.1 lets a sender reuse the id
    of a message it retries, and §4.2.3 names no error code, so a CALLRESULT (taken as a
    retry) and a CALLERROR of any code are both legal; the CALL must be answered, and the
    connection must still work."""
    await ready(peer, role)
    action, payload = PING[role]
    message_id = "cb-" + secrets.token_hex(8)
    first = await peer.call(action, payload, message_id=message_id)
    assert first.type == "CALLRESULT", f"the first CALL was not answered: {first.describe()}"
    await peer.send_raw(encode_call(message_id, action, payload))
    await peer.wait_for_reply(message_id)
    await ping(peer, role)


async def check_concurrent_calls(peer: HarnessPeer, role: str) -> None:
    """OCPP-J 1.6 §4.1.1 NOTE: a CALL may arrive while another is open; each gets a reply."""
    await ready(peer, role)
    action, payload = PING[role]
    first = await peer.send_call(action, payload, concurrent=True)
    second = await peer.send_call(action, payload, concurrent=True)
    for message_id in (first, second):
        await peer.wait_for_reply(message_id)
    peer.session.core.expire_calls()
    await ping(peer, role)


async def check_late_reply(peer: HarnessPeer, role: str) -> None:
    """A CALLRESULT/CALLERROR for a CALL no longer outstanding (it timed out) is not answered
    (replies answer CALLs only, OCPP-J 1.6 §4.2.2-4.2.3) and does not break the connection."""
    await ready(peer, role)
    result_id, error_id = "cb-late-" + secrets.token_hex(6), "cb-late-" + secrets.token_hex(6)
    await peer.send_raw(encode_result(result_id, {}))
    await peer.send_raw(encode_error(error_id, "GenericError", "late reply", {}))
    await peer.expect_nothing(
        lambda frame: frame.id in (result_id, error_id),
        during=min(peer.timeout, 2.0), what="answer to a reply nobody asked for",
    )
    await ping(peer, role)
