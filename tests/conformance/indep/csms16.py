"""An OCPP 1.6 CSMS that ChargeBench did not write, to judge the csms-role verdicts against.

Built on the `ocpp` package's `ocpp.v16.ChargePoint` (one instance per connection, server side)
over `websockets` 17; nothing here comes from ChargeBench's CSMS, session core or simulator.
Test code only: never shipped.

`Variant` switches its behaviour: *legal* variants take another choice the spec leaves open
(optional fields omitted, Pending before Accepted, its own reservation ids, a registry of known
charge points), *illegal* ones break exactly one rule. `tests/conformance/test_verdicts_csms.py`
runs the csms-role suite against each and asserts the whole verdict table.

Where the `ocpp` library itself deviates from OCPP-J 1.6 the peer corrects it in a small framing
layer (`_frame_fault`), written from the OCPP-J text: the library spells the 1.6 error code
"FormatViolation" (the 2.0.1 name; 1.6 Table 7 says "FormationViolation") and drops frames whose
id it can read but whose shape is wrong, where §4.2.3 wants a CALLERROR. The `lib_codes` illegal
variant keeps the library's spelling; `lib_dates` its unchecked dateTimes.

CSMS-initiated commands: `POST {trigger_url}/api/chargers/{id}/actions/{Action}` with the payload
as JSON (the suite's `--cb-trigger-url` speaks this), answered once the charge point replied.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

from ocpp.charge_point import camel_to_snake_case
from ocpp.exceptions import SecurityError
from ocpp.routing import on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

#: The id tags the suite expects a CSMS to know (`conformance.capabilities` defaults).
VALID, BLOCKED, EXPIRED = "CB-VALID-1", "CB-BLOCKED-1", "CB-EXPIRED-1"
NEVER_BOOTED = "CB-INDEP-NEVER-BOOTED"


@dataclass(frozen=True)
class Variant:
    """One behaviour of the peer; the defaults are a plain, legal CSMS."""

    name: str = "default"
    legal: bool = True
    # Legal choices (OCPP 1.6 leaves them to the CSMS)
    #: IdTagInfo without expiryDate/parentIdTag, StopTransaction.conf without idTagInfo
    #: (1.6 §6.47: optional), DataTransfer.conf without data
    minimal: bool = False
    #: BootNotification Pending (interval 1 s) the first time, Accepted afterwards (1.6 §4.2)
    pending_first: bool = False
    interval: int = 300
    #: admit only registered ids (404 otherwise, OCPP-J §3.2) instead of any id
    registry: bool = False
    #: reservationId of its own choosing, not the operator's proposal (1.6 §5.13)
    own_reservation_ids: bool = False
    #: the `ocpp` library's own framing where OCPP-J allows it: frames whose id cannot be read
    #: are dropped (§4.2.3 names no id to answer), a reused id is answered again (errata §3.1)
    lenient_framing: bool = False
    #: words commands in its own JSON: dateTimes as "+00:00" with milliseconds, integral
    #: decimals without a fraction (the same values, 1.6 §2.3)
    reformats: bool = False
    #: HTTP Basic with this AuthorizationKey (security profile 1, whitepaper §2.3)
    password: str | None = None
    #: answer CALLs before the boot was accepted: SecurityError is only RECOMMENDED
    #: (OCPP-J 1.6 errata §3.10)
    no_boot_gate: bool = False
    # Illegal: each breaks one rule
    #: Accepted for any unknown id tag (1.6 §4.1, §4.8: the CSMS decides, unknown is Invalid)
    accept_unknown_tags: bool = False
    #: Accepted for a blocked id tag (1.6 §4.1, §7.2 AuthorizationStatus)
    accept_blocked: bool = False
    #: the `ocpp` library's "FormatViolation" for 1.6 (OCPP-J 1.6 §4.2.3 Table 7)
    lib_codes: bool = False
    #: a TxProfile with transactionId in RemoteStartTransaction (1.6 §5.16.2 forbids it)
    tx_id_in_remote_start_profile: bool = False
    #: takes any text as dateTime (the library's schemas do not check formats; OCPP-J 1.6
    #: §4.2.3 Table 7 TypeConstraintViolation)
    lib_dates: bool = False
    #: admits any credentials, or none, at security profile 1 (whitepaper A00.FR.204)
    accept_any_password: bool = False
    #: closes the connection on a CALL of an unknown action instead of NotImplemented
    #: (OCPP-J 1.6 §4.2.3 Table 7)
    drops_unknown_action: bool = False


@dataclass
class _Registry:
    """What the CSMS keeps across connections: a reconnect is not a reboot (1.6 §4.2)."""

    known: set[str] = field(default_factory=set)
    accepted: set[str] = field(default_factory=set)  # boots accepted, by charge point id
    pending_given: set[str] = field(default_factory=set)
    open_tx: dict[int, str] = field(default_factory=dict)  # transaction id -> id tag
    tx_ids: itertools.count = field(default_factory=lambda: itertools.count(1))
    reservation_ids: itertools.count = field(default_factory=lambda: itertools.count(7001))


#: The library logs every CALLERROR it sends with a traceback: noise in a verdict test.
_QUIET = logging.getLogger("tests.conformance.indep.csms16")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class _Connection(ChargePoint):
    """One charge point's connection, on `ocpp.v16.ChargePoint`."""

    def __init__(self, cp_id: str, ws: ServerConnection, csms: IndependentCsms) -> None:
        super().__init__(cp_id, ws, response_timeout=30, logger=_QUIET)
        self.csms, self.v, self.reg = csms, csms.variant, csms.registry
        self._seen_ids: set[str] = set()

    # Framing: what the library does not do per OCPP-J 1.6 §4

    async def route_message(self, raw_msg: str) -> None:
        seen = set() if self.v.lenient_framing else self._seen_ids
        fault = _frame_fault(raw_msg, seen, check_dates=not self.v.lib_dates)
        if fault is IGNORE or (fault is not None and fault[0] == "-1"
                               and self.v.lenient_framing):
            return
        if fault is not None:
            message_id, code = fault
            if self.v.lib_codes and code == "FormationViolation":
                code = "FormatViolation"
            if code == "NotImplemented" and self.v.drops_unknown_action:
                await self._connection.close()
                return
            await self._send(json.dumps([4, message_id, code, "", {}]))
            return
        await super().route_message(raw_msg)

    async def _send(self, message: str) -> None:
        if not self.v.lib_codes:
            # OCPP-J 1.6 §4.2.3 Table 7 spells it FormationViolation
            message = message.replace('"FormatViolation"', '"FormationViolation"', 1)
        await self._connection.send(message)

    def _gate(self) -> None:
        """OCPP-J 1.6 errata §3.10: before the boot was accepted, SecurityError."""
        if self.id not in self.reg.accepted and not self.v.no_boot_gate:
            raise SecurityError(description="BootNotification not accepted yet")

    def _tag(self, id_tag: str) -> IdTagInfo:
        """The CSMS's decision on `id_tag` (1.6 §4.1, §7.2)."""
        expiry = None if self.v.minimal else (datetime.now(UTC) + timedelta(days=1)).isoformat()
        if id_tag == VALID:
            status = "ConcurrentTx" if id_tag in self.reg.open_tx.values() else "Accepted"
            return IdTagInfo(status=status, expiry_date=expiry)
        if id_tag == BLOCKED:
            return IdTagInfo(status="Accepted" if self.v.accept_blocked else "Blocked")
        if id_tag == EXPIRED:
            past = None if self.v.minimal else "2020-01-01T00:00:00Z"
            return IdTagInfo(status="Expired", expiry_date=past)
        return IdTagInfo(status="Accepted" if self.v.accept_unknown_tags else "Invalid")

    # Charge point initiated (1.6 §4)

    @on(Action.boot_notification)
    def on_boot(self, charge_point_vendor: str, charge_point_model: str, **_: Any):
        if self.v.pending_first and self.id not in self.reg.pending_given:
            self.reg.pending_given.add(self.id)
            return call_result.BootNotification(_now(), 1, "Pending")
        self.reg.accepted.add(self.id)
        return call_result.BootNotification(_now(), self.v.interval, "Accepted")

    @on(Action.heartbeat)
    def on_heartbeat(self):
        self._gate()
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def on_status(self, **_: Any):
        self._gate()
        return call_result.StatusNotification()

    @on(Action.authorize)
    def on_authorize(self, id_tag: str):
        self._gate()
        info = self._tag(id_tag)
        if info.status == "ConcurrentTx":  # Authorize judges the tag, not the session
            info = IdTagInfo(status="Accepted", expiry_date=info.expiry_date)
        return call_result.Authorize(id_tag_info=info)

    @on(Action.start_transaction)
    def on_start(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str,
                 **_: Any):  # fmt: skip
        self._gate()
        info = self._tag(id_tag)
        tx = next(self.reg.tx_ids)
        if info.status == "Accepted":
            self.reg.open_tx[tx] = id_tag
        return call_result.StartTransaction(transaction_id=tx, id_tag_info=info)

    @on(Action.stop_transaction)
    def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int,
                id_tag: str | None = None, **_: Any):  # fmt: skip
        self._gate()
        self.reg.open_tx.pop(transaction_id, None)
        if id_tag is None or self.v.minimal:  # 1.6 §4.10: the CSMS MAY send it
            return call_result.StopTransaction()
        return call_result.StopTransaction(id_tag_info=self._tag(id_tag))

    @on(Action.meter_values)
    def on_meter_values(self, **_: Any):
        self._gate()
        return call_result.MeterValues()

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any):
        self._gate()
        return call_result.DataTransfer(status="UnknownVendorId")

    @on(Action.diagnostics_status_notification)
    def on_diagnostics_status(self, **_: Any):
        self._gate()
        return call_result.DiagnosticsStatusNotification()

    @on(Action.firmware_status_notification)
    def on_firmware_status(self, **_: Any):
        self._gate()
        return call_result.FirmwareStatusNotification()

    # Security extension (whitepaper edition 3)

    @on(Action.security_event_notification)
    def on_security_event(self, **_: Any):
        self._gate()
        return call_result.SecurityEventNotification()

    @on(Action.signed_firmware_status_notification)
    def on_signed_firmware_status(self, **_: Any):
        self._gate()
        return call_result.SignedFirmwareStatusNotification()

    @on(Action.log_status_notification)
    def on_log_status(self, **_: Any):
        self._gate()
        return call_result.LogStatusNotification()

    @on(Action.sign_certificate)
    def on_sign_certificate(self, csr: str):
        self._gate()
        chain = _sign(csr)
        # A02.FR.06: the signed certificate follows in CertificateSigned
        asyncio.get_running_loop().call_later(
            0.05, lambda: asyncio.ensure_future(self._quietly(call.CertificateSigned(chain)))
        )
        return call_result.SignCertificate(status="Accepted")

    async def _quietly(self, request: Any) -> None:
        with contextlib.suppress(Exception):
            await self.call(request)

    # Central System initiated: what the operator asks for (the trigger surface)

    async def command(self, action: str, payload: dict) -> Any:
        """Send `action` with the operator's `payload`, as this CSMS chooses to word it."""
        payload = dict(payload)
        if action == "ChangeConfiguration" and payload.get("key") == "AuthorizationKey":
            # A charge point may reconnect with the new key the moment it has sent Accepted,
            # before this side has read that answer: admit the offered key meanwhile.
            self.csms.offered_passwords[self.id] = payload["value"]
            try:
                result = await self.call(call.ChangeConfiguration(**payload))
            finally:
                del self.csms.offered_passwords[self.id]
            if result.status == "Accepted":  # whitepaper A01.FR.04: the new key from now on
                self.csms.passwords[self.id] = payload["value"]
            return result
        if action == "ReserveNow" and self.v.own_reservation_ids:
            payload["reservationId"] = next(self.reg.reservation_ids)
        if (action == "RemoteStartTransaction" and self.v.tx_id_in_remote_start_profile
                and "chargingProfile" in payload):
            payload["chargingProfile"] = {**payload["chargingProfile"], "transactionId": 1}
        if self.v.reformats:
            payload = _reformatted(payload)
        request = getattr(call, action)(**camel_to_snake_case(payload))
        # skip validation only where the variant breaks the schema on purpose
        return await self.call(request, suppress=False,
                               skip_schema_validation=self.v.tx_id_in_remote_start_profile)


#: `_frame_fault`'s answer for a frame to drop without a reply
IGNORE = ("", "")


def _frame_fault(text: str, seen: set[str], *, check_dates: bool = True
                 ) -> tuple[str, str] | None:
    """(message id, CALLERROR code) for a frame OCPP-J 1.6 §4 makes an error, `IGNORE`, or
    None (the library takes it).

    Frames whose id cannot be read get id "-1" (OCPP-J 1.6 names none). Payload checks stay
    with the library (its schemas).
    """
    try:
        frame = json.loads(text)
    except ValueError:
        return "-1", "FormationViolation"  # §4.1.2: not valid JSON
    if not isinstance(frame, list) or not frame:
        return "-1", "FormationViolation"  # §4.2: a message is a JSON array
    if frame[0] not in (2, 3, 4):
        return IGNORE  # §4.1.3: a server SHALL ignore the payload of an unknown message type
    if len(frame) < 2 or not isinstance(frame[1], str):
        return "-1", "FormationViolation"  # §4.1.4 Table 3: the id is a string
    message_id = frame[1]
    if frame[0] != 2:
        return None
    if len(message_id) > 36:
        return message_id, "FormationViolation"  # §4.1.4 Table 3: at most 36 characters
    if len(frame) != 4 or not isinstance(frame[2], str) or not isinstance(frame[3], dict):
        return message_id, "FormationViolation"  # §4.2.1: [2, id, action, {payload}]
    if message_id in seen:
        return message_id, "ProtocolError"  # §4.1.4: ids unique per sender and connection
    seen.add(message_id)
    if not hasattr(call, frame[2]):
        return message_id, "NotImplemented"  # §4.2.3 Table 7: unknown action
    if check_dates and not _is_date_time(frame[3].get("timestamp", "2020-01-01T00:00:00Z")):
        return message_id, "TypeConstraintViolation"  # Table 7: a field's data type
    return None


def _basic(user: str, key: str) -> set[str]:
    """The RFC 7617 Basic credentials a charge point may present: its id and AuthorizationKey
    (whitepaper §2.3, A00.FR.204). The whitepaper's example encodes "<ChargePointId>:
    <AuthorizationKey>" without saying whether a hex key (A00.FR.205) goes as its text or as
    the bytes it spells, and charge points differ: both are taken."""
    forms = {key.encode()}
    with contextlib.suppress(ValueError):
        forms.add(bytes.fromhex(key))
    return {"Basic " + base64.b64encode(user.encode() + b":" + form).decode("ascii")
            for form in forms}


def _reformatted(value: Any) -> Any:
    """`value` with the same JSON values spelled another way (`Variant.reformats`)."""
    if isinstance(value, dict):
        return {key: _reformatted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reformatted(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _is_date_time(value):
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment.isoformat(timespec="milliseconds")
    return value


def _is_date_time(value: object) -> bool:
    """An RFC 3339 date-time (OCPP 1.6 §2.3 dateTime); the library's schemas skip formats."""
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _sign(csr_pem: str) -> str:
    """A certificate for `csr_pem` from a throwaway CA, as PEM (whitepaper A02)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    csr = x509.load_pem_x509_csr(csr_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Independent CSMS CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(csr.subject).issuer_name(issuer)
        .public_key(csr.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


class IndependentCsms:
    """The peer: `await IndependentCsms(variant).start()`, then `url`, `trigger_url`."""

    def __init__(self, variant: Variant = Variant(), *, cp_ids: tuple[str, ...] = ()) -> None:
        self.variant = variant
        self.registry = _Registry(known=set(cp_ids) | {NEVER_BOOTED})
        self.connections: dict[str, _Connection] = {}
        #: AuthorizationKey per charge point id, when the variant uses HTTP Basic
        self.passwords: dict[str, str] = {}
        #: a new AuthorizationKey sent in a ChangeConfiguration not answered yet
        self.offered_passwords: dict[str, str] = {}
        self._ws_server: Any = None
        self._http: asyncio.Server | None = None

    async def start(self) -> IndependentCsms:
        self._ws_server = await serve(
            self._on_connect, "127.0.0.1", 0, subprotocols=["ocpp1.6"], compression=None,
            process_request=self._admit,
        )
        self._http = await asyncio.start_server(self._on_http, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._ws_server.sockets[0].getsockname()[1]}/ocpp"

    @property
    def trigger_url(self) -> str:
        assert self._http is not None
        return f"http://127.0.0.1:{self._http.sockets[0].getsockname()[1]}"

    def capabilities(self) -> dict:
        """What this CSMS declares to the suite (`--cb-capabilities`)."""
        declared: dict[str, Any] = {
            "profiles": ["core", "ocppj", "firmware", "localauth", "reservation",
                         "smartcharging", "remotetrigger", "security"],
            "rejects_unknown_charge_points": self.variant.registry,
        }
        if self.variant.registry:
            declared["never_booted_cp_id"] = NEVER_BOOTED
        return declared

    async def close(self) -> None:
        self._ws_server.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._ws_server.wait_closed(), 5)
        if self._http is not None:
            self._http.close()

    def suite_args(self) -> list[str]:
        """The suite's options for this CSMS's security profile and credentials."""
        if self.variant.password is None:
            return []
        return ["--cb-security-profile", "1", "--cb-password", self.variant.password]

    def _admit(self, connection: ServerConnection, request: Any) -> Any:
        cp_id = unquote(request.path.rstrip("/").rsplit("/", 1)[-1])
        if self.variant.registry and cp_id not in self.registry.known:
            return connection.respond(HTTPStatus.NOT_FOUND, "unknown charge point\n")
        key = self.passwords.get(cp_id, self.variant.password)
        offered = self.offered_passwords.get(cp_id)
        allowed = _basic(cp_id, key) if key is not None else set()
        if offered is not None:
            allowed |= _basic(cp_id, offered)
        if key is not None and not self.variant.accept_any_password and \
                request.headers.get("Authorization") not in allowed:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "bad credentials\n")
        return None

    async def _on_connect(self, ws: ServerConnection) -> None:
        if ws.subprotocol is None:  # OCPP-J 1.6 §3.2: no session without ocpp1.6
            await ws.close(1002, "ocpp1.6 required")
            return
        cp_id = unquote(ws.request.path.rstrip("/").rsplit("/", 1)[-1])
        if not self.variant.registry:
            self.registry.known.add(cp_id)
        connection = _Connection(cp_id, ws, self)
        self.connections[cp_id] = connection
        with contextlib.suppress(ConnectionClosed):
            await connection.start()

    # The trigger surface: a minimal HTTP/1.1 endpoint

    async def _on_http(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
            method, path, _ = head[0].split(" ", 2)
            headers = {k.strip().lower(): v.strip() for k, _, v in
                       (line.partition(":") for line in head[1:] if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, answer = await self._action(method, path, body)
        except Exception as error:  # a bad request must not kill the peer
            status, answer = 400, {"error": f"{type(error).__name__}: {error}"}
        data = json.dumps(answer).encode()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n".encode() + data)
        with contextlib.suppress(Exception):
            await writer.drain()
            writer.close()

    async def _action(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if method != "POST" or len(parts) != 5 or parts[:2] != ["api", "chargers"] \
                or parts[3] != "actions":
            return 404, {"error": "POST /api/chargers/{id}/actions/{Action}"}
        cp_id, action = unquote(parts[2]), parts[4]
        connection = self.connections.get(cp_id)
        if connection is None:
            return 409, {"error": f"{cp_id} is not connected"}
        try:
            result = await connection.command(action, json.loads(body or b"{}"))
        except Exception as error:
            return 502, {"error": f"{type(error).__name__}: {error}"}
        return 200, {"result": repr(result)}
