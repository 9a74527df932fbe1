"""ChargeBench as the OCPP 2.0.1 CSMS when a Charging Station is under test (part 6 chapter 2).

`Central201` is the 1.6 listener (`conformance.endpoints.Listener`: one live connection of
`--cb-cp-id` at `--cb-listen`, security profiles, reconnects) speaking ocpp2.0.1 only, with the
answers part 6 §2.1 expects of the OCTT (`csms_handlers`): every station CALL answered, an
idToken Accepted unless a case said otherwise (`tokens`). `StationState` keeps what the frames
prove about the station (transactions running, connector statuses, what a case changed), so the
cases' fixture can bring it back to part 6's general preconditions (§2.1: idle, available, no
reservation) whatever a case left behind.

Payloads follow the `ocpp` package's 2.0.1 schemas: the session core validates every frame.
"""

from __future__ import annotations

import contextlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection

from chargebench.ocppj.adapter import subprotocol_selector
from chargebench.ocppj.versions import OCPP201
from chargebench.security import parse_basic_auth, peer_identity
from chargebench.trace import TraceRecord
from conformance.endpoints import Admission, Listener, now
from conformance.harness import Handler

__all__ = ["ACCEPTED", "Central201", "StationState", "csms_handlers", "token"]

#: IdTokenType of the configured valid idToken (part 6 <Configured valid_idtoken_type>): an
#: RFID card, as a person presents one
TOKEN_TYPE = "ISO14443"
ACCEPTED = "Accepted"
_select_201 = subprotocol_selector([OCPP201])


def token(value: str, kind: str = TOKEN_TYPE) -> dict:
    """An IdTokenType."""
    return {"idToken": value, "type": kind}


def csms_handlers(tokens: dict[str, str] | None = None, *, heartbeat_interval: int = 300,
                  on_event: Callable[[dict], dict | None] | None = None,
                  token_info: dict[str, dict] | None = None) -> dict[str, Handler]:
    """The OCTT's answers to a station's CALLs: BootNotification Accepted (B01), an idToken's
    status from `tokens` (default Accepted: C01) in AuthorizeResponse and in the
    TransactionEventResponse of an event that carries one (E01.FR.09), the empty or Accepted
    response every other message has. `on_event(request)` may add to a TransactionEventResponse
    (a case's chargingPriority, updatedPersonalMessage). `token_info` (idToken -> fields)
    adds to an idToken's IdTokenInfo (a case's groupIdToken, cacheExpiryDateTime)."""
    tokens = tokens if tokens is not None else {}
    token_info = token_info if token_info is not None else {}

    def info(idtoken: dict) -> dict:
        return {"status": tokens.get(idtoken.get("idToken", ""), ACCEPTED),
                **token_info.get(idtoken.get("idToken", ""), {})}

    def transaction_event(payload: dict) -> dict:
        reply: dict[str, Any] = {}
        if "idToken" in payload:
            reply["idTokenInfo"] = info(payload["idToken"])
        if on_event is not None:
            reply |= on_event(payload) or {}
        return reply

    empty: Handler = lambda _payload: {}  # noqa: E731
    accepted: Handler = lambda _payload: {"status": "Accepted"}  # noqa: E731
    return {
        "BootNotification": lambda _p: {"currentTime": now(), "interval": heartbeat_interval,
                                        "status": "Accepted"},
        "Heartbeat": lambda _p: {"currentTime": now()},
        "Authorize": lambda p: {"idTokenInfo": info(p["idToken"])},
        "TransactionEvent": transaction_event,
        "StatusNotification": empty, "NotifyEvent": empty, "NotifyReport": empty,
        "NotifyMonitoringReport": empty, "SecurityEventNotification": empty,
        "MeterValues": empty, "FirmwareStatusNotification": empty,
        "LogStatusNotification": empty, "ReservationStatusUpdate": empty,
        "NotifyChargingLimit": empty, "ClearedChargingLimit": empty,
        "ReportChargingProfiles": empty, "NotifyDisplayMessages": empty,
        "NotifyCustomerInformation": empty, "PublishFirmwareStatusNotification": empty,
        "NotifyEVChargingNeeds": accepted, "NotifyEVChargingSchedule": accepted,
        "SignCertificate": accepted,
        "DataTransfer": lambda _p: {"status": "UnknownVendorId"},
        "GetCertificateStatus": lambda _p: {"status": "Failed"},
        "Get15118EVCertificate": lambda _p: {"status": "Failed", "exiResponse": ""},
    }


@dataclass
class StationState:
    """What the frames of every connection prove about the station under test (sans-I/O:
    `observe` each frame), so the fixture can undo what a case left: transactions without an
    Ended event, the latest connector status, availability and variables the station
    accepted to change, reservations it accepted."""

    #: transactionId -> evse id, for transactions seen Started/Updated and not Ended
    transactions: dict[str, int] = field(default_factory=dict)
    #: (evse, connector) -> latest connectorStatus
    status: dict[tuple[int, int], str] = field(default_factory=dict)
    #: (component, variable, instance) -> value the station accepted in a SetVariables
    changed: dict[tuple[str, str, str | None], str] = field(default_factory=dict)
    #: the station or an EVSE/connector was made Inoperative (by its ChangeAvailability)
    inoperative: bool = False
    #: reservation ids the station accepted and may still hold
    reservations: set[int] = field(default_factory=set)
    #: a local list was sent (a case set versions the next must know)
    local_list: bool = False
    #: charging profiles the station accepted: id -> evse
    profiles: dict[int, int] = field(default_factory=dict)
    _calls: dict[str, tuple[str, dict, bool]] = field(default_factory=dict)

    def observe(self, frame: TraceRecord, incoming: bool) -> None:
        """One frame; `incoming`: sent by the station."""
        payload = frame.payload if isinstance(frame.payload, dict) else {}
        if frame.type == "CALL" and frame.id is not None:
            self._calls[frame.id] = (frame.action or "", payload, incoming)
            if incoming:
                self._station_call(frame.action or "", payload)
            return
        call = self._calls.pop(frame.id or "", None)
        if call is None or frame.type != "CALLRESULT" or call[2] == incoming:
            return
        action, request, _ = call
        if not call[2]:  # the station answered one of our CALLs
            self._station_reply(action, request, payload)

    def _station_call(self, action: str, payload: dict) -> None:
        if action == "TransactionEvent":
            info = payload.get("transactionInfo") or {}
            tx = info.get("transactionId")
            if tx is None:
                return
            if payload.get("eventType") == "Ended":
                self.transactions.pop(tx, None)
            else:
                self.transactions[tx] = (payload.get("evse") or {}).get(
                    "id", self.transactions.get(tx, 0))
        elif action == "StatusNotification":
            where = (payload.get("evseId", 0), payload.get("connectorId", 0))
            self.status[where] = payload.get("connectorStatus", "")
        elif action == "ReservationStatusUpdate":
            self.reservations.discard(payload.get("reservationId", -1))

    def _station_reply(self, action: str, request: dict, reply: dict) -> None:
        if action == "SetVariables":
            for asked, result in zip(request.get("setVariableData", ()),
                                     reply.get("setVariableResult", ()), strict=False):
                if result.get("attributeStatus") in ("Accepted", "RebootRequired") and (
                        asked.get("attributeType", "Actual") == "Actual"):
                    self.changed[_key(asked)] = asked.get("attributeValue", "")
        elif action == "ChangeAvailability" and reply.get("status") in ("Accepted",
                                                                         "Scheduled"):
            self.inoperative = request.get("operationalStatus") == "Inoperative" or (
                self.inoperative and "evse" in request)
        elif action == "ReserveNow" and reply.get("status") == "Accepted":
            self.reservations.add(request.get("id", -1))
        elif action == "CancelReservation" and reply.get("status") == "Accepted":
            self.reservations.discard(request.get("reservationId", -1))
        elif action == "SendLocalList" and reply.get("status") == "Accepted":
            self.local_list = True
        elif action == "SetChargingProfile" and reply.get("status") == "Accepted":
            profile = request.get("chargingProfile") or {}
            self.profiles[profile.get("id", -1)] = request.get("evseId", 0)
        elif action == "ClearChargingProfile" and reply.get("status") == "Accepted":
            if "chargingProfileId" in request:
                self.profiles.pop(request["chargingProfileId"], None)
            else:
                self.profiles.clear()


def _key(entry: dict) -> tuple[str, str, str | None]:
    return (entry["component"]["name"], entry["variable"]["name"],
            entry["variable"].get("instance"))


class Central201(Listener):
    """The 1.6 listener speaking OCPP 2.0.1 (subprotocol ocpp2.0.1 only, OCPP-J 2.0.1 §3.1.2)
    with the OCTT's 2.0.1 answers; `tokens` (idToken -> status) is what a case's CSMS says of
    an idToken, `on_event` what it adds to a TransactionEventResponse."""

    def __init__(self, settings: Any, **options: Any) -> None:
        super().__init__(settings, **options)
        self.tokens: dict[str, str] = {}
        #: idToken -> fields a case adds to its IdTokenInfo (groupIdToken)
        self.token_info: dict[str, dict] = {}
        self.on_event: Callable[[dict], dict | None] | None = None
        self.station = StationState()
        #: the listener feeds `state` every frame of every connection: the 2.0.1 model
        self.state = self.station  # type: ignore[assignment]

    def default_handlers(self) -> dict[str, Handler]:
        def on_event(payload: dict) -> dict | None:
            return self.on_event(payload) if self.on_event is not None else None

        return csms_handlers(self.tokens, heartbeat_interval=self.heartbeat_interval,
                             on_event=on_event, token_info=self.token_info)

    def _select(self, connection: ServerConnection, offered: list[str]) -> str | None:
        if self.refuse_subprotocol_once:
            self.refuse_subprotocol_once = False
            return None
        return _select_201(connection, offered)

    def _credentials(self, connection: ServerConnection, request: Any,
                     cp_id: str) -> tuple[Admission, str | None]:  # fmt: skip
        """2.0.1's HTTP Basic: the password is the station's BasicAuthPassword as text, 16-40
        characters (A00.FR.205/304), not 1.6's AuthorizationKey of 16-20 bytes; the user the
        station's identity (A00.FR.204). TLS and client certificates as in 1.6."""
        header = request.headers.get("Authorization")
        if header is None or self.password is None:
            return super()._credentials(connection, request, cp_id)
        parsed = parse_basic_auth(header)
        if parsed is None or not (
                hmac.compare_digest(parsed[0].encode("utf-8"), cp_id.encode("utf-8"))
                and hmac.compare_digest(parsed[1], self.password.encode("utf-8"))):
            return Admission(), "bad HTTP Basic credentials (A00.FR.203)"
        ssl_object = connection.transport.get_extra_info("ssl_object")
        client = None
        if ssl_object is not None:
            with contextlib.suppress(ValueError):
                client = peer_identity(ssl_object)
        if client is not None:
            return Admission(3, True, self.password, client), None
        return Admission(2 if ssl_object is not None else 1, ssl_object is not None,
                         self.password), None
