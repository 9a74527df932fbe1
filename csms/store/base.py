"""The repository interface of the reference CSMS: what handlers, services and the API may ask.

Contract shared by every implementation (SQLite now, PostgreSQL next):
- Every write method has committed durably when it returns: only then may the caller acknowledge
  the charge point ("data that is acknowledged to a charge point is on disk").
- Methods are synchronous and short. From asyncio, call them directly for single small writes or
  wrap them in `asyncio.to_thread`; implementations are thread-safe.
- Reads return plain dicts (the TypedDicts below) or None when the row does not exist; the
  message log returns the project's one frame record, `chargebench.trace.TraceRecord`; writes that
  name a missing charger / transaction / deployment... raise `NotFound`. Every error a store
  raises is a `csms.store.errors.StoreError` (a driver's own exceptions are translated).
- Timestamps go in as `datetime` or ISO-8601 text and come out as canonical UTC text
  (`2025-01-17T10:35:00.000000Z`); money goes in and comes out as `Decimal`; states come out as
  the `csms.states` StrEnum members.
- Several writes that must stand or fall together go through `unit_of_work()`, an explicit
  object: the writes are called on it, never on the store. The group commit of the handlers
  (`csms.groupcommit`) is one unit of work per group, each call of the group in a `savepoint()`
  of it.

The interface is one Protocol per aggregate (`ChargerStore`, `TransactionStore`, `WalletStore`...)
and `Store` composes them; a backend implements `Store` and is built by `open_store(url)`. The
contract suite (tests/csms/store_contract) runs every test against every backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from decimal import Decimal
from typing import Any, NamedTuple, Protocol, Self, TypedDict, runtime_checkable

from chargebench.trace import TraceRecord
from csms.states import (
    BillingRetryState,
    IdTagStatus,
    RegistrationStatus,
    RemoteStartStatus,
    ReservationStatus,
    Role,
    TransactionStatus,
    WalletEntryType,
)
from csms.store.errors import (  # noqa: F401  (re-exported: the names callers used)
    InsufficientFundsError,
    NotFound,
    NotFoundError,
    ReservationIdTaken,
    SchemaVersionError,
    StoreError,
)
from csms.store.passwords import DEFAULT_N
from csms.store.timestamps import TimeLike

# Records --------------------------------------------------------------------------------------


class Location(TypedDict):
    id: str
    name: str
    address: str | None
    timezone: str | None
    latitude: float | None
    longitude: float | None


class Charger(TypedDict):
    id: str
    location_id: str | None
    #: the serial last reported (a boot's) or, before any, the registered one
    serial: str | None
    #: the serial the operator registered (`upsert_charger`), never a boot's: the identity a
    #: station certificate's CN must name (A00.FR.405/511; None: the charger's id)
    registered_serial: str | None
    vendor: str | None
    model: str | None
    firmware_version: str | None
    iccid: str | None
    imsi: str | None
    meter_type: str | None
    meter_serial: str | None
    security_profile: int
    max_profile_seen: int
    has_password: bool  # the hash itself never leaves the store
    registration_status: RegistrationStatus
    last_boot: str | None
    last_heartbeat: str | None
    online: bool
    online_since: str | None


class Connector(TypedDict):
    charger_id: str
    connector_id: int
    connector_type: str | None
    max_power_w: int | None
    status: str | None
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: str | None


class StatusRecord(TypedDict):
    id: int
    charger_id: str
    connector_id: int
    status: str
    error_code: str | None
    info: str | None
    vendor_id: str | None
    vendor_error_code: str | None
    timestamp: str | None
    received_at: str


class IdTag(TypedDict):
    id_tag: str
    status: IdTagStatus  # Accepted | Blocked | Expired | Invalid
    expiry_date: str | None
    parent_id_tag: str | None
    #: the 2.0.1 IdTokenEnumType it is registered as; None: any (a 1.6 idTag has no type)
    token_type: str | None


class Tariff(TypedDict):
    charger_id: str | None  # None: the global fallback
    rate_per_kwh: Decimal
    currency: str


class Transaction(TypedDict):
    id: int  # the OCPP transactionId
    charger_id: str
    connector_id: int
    id_tag: str
    id_tag_status: IdTagStatus | None
    meter_start: int
    start_time: str
    reservation_id: int | None
    meter_stop: int | None
    stop_time: str | None
    stop_reason: str | None
    id_tag_stop: str | None
    status: TransactionStatus
    energy_wh: int | None
    tariff_rate: Decimal | None
    amount: Decimal | None
    currency: str | None
    created_at: str
    updated_at: str


class TransactionStart(NamedTuple):
    """What `Store.begin_transaction` decided, in one atomic step."""

    #: the OCPP transactionId (1.6 §4.8: given whatever the status)
    transaction_id: int
    #: the IdTagInfo status to answer, as stored: the caller's, or ConcurrentTx
    id_tag_status: IdTagStatus | None
    #: transactions left open on the same connector, closed now (sent to billing review)
    closed_stale: tuple[int, ...] = ()
    #: True when this was a retried StartTransaction that got its own id back
    replay: bool = False


class EvseConnector(TypedDict):
    """A 2.0.1 connector's last status, addressed by EVSE and connector (part 2 G01)."""

    charger_id: str
    evse_id: int
    connector_id: int
    status: str
    timestamp: str
    received_at: str


class CostBasis(TypedDict):
    """What a transaction's cost so far is reckoned from (I02/I03, `cost_basis`)."""

    meter_start: int
    stop_time: str | None
    amount: Decimal | None  # the billed total once stopped
    rate_per_kwh: Decimal | None  # the charger's tariff, else the global one; None: no tariff
    latest_reading: Decimal | None  # the newest energy register reading (Wh), None: none
    latest_at: str | None  # when it was taken


class TransactionEventResult(NamedTuple):
    """What `Store.record_transaction_event` stored."""

    #: the `transactions` row the station's transactionId maps to
    transaction_id: int
    #: the event (charger, transactionId, seqNo) was stored before: a retry, nothing changed
    duplicate: bool
    #: seqNos missing between the first and the last event received (2.0.1 part 2 E §1.3.2),
    #: read for an Ended event (and a retried one); () for the others
    missing: tuple[int, ...] = ()
    #: the idToken's status as stored and to be answered: the `id_token_status` given, or
    #: ConcurrentTx when the token runs another transaction; None when the event has no token
    id_token_status: str | None = None
    #: with `with_cost_basis`: `Store.cost_basis` as of after the event (None otherwise)
    cost_basis: CostBasis | None = None


class RemoteStart(TypedDict):
    """The pending transaction record of a remote start (seeds/001 §4.3 step 5d)."""

    id: int
    user_id: str | None
    charger_id: str
    connector_id: int
    id_tag: str
    status: RemoteStartStatus
    reply_status: str | None  # the charger's RemoteStartTransaction.conf status
    transaction_id: int | None  # set when Started
    reason: str | None
    requested_at: str
    updated_at: str


class MeterValueRow(TypedDict):
    id: int
    charger_id: str
    connector_id: int
    transaction_id: int | None
    timestamp: str
    value: str
    measurand: str
    phase: str | None
    unit: str | None
    context: str
    location: str
    format: str
    norm_value: Decimal | None
    norm_unit: str | None


class FirmwareStatusRecord(TypedDict):
    status: str
    timestamp: str


class FirmwareDeployment(TypedDict):
    id: int
    charger_id: str
    location: str
    retrieve_date: str
    retries: int | None
    retry_interval: int | None
    status: str
    created_at: str
    updated_at: str
    history: list[FirmwareStatusRecord]


class DiagnosticsRequest(TypedDict):
    id: int
    charger_id: str
    location: str
    log_type: str | None
    start_time: str | None
    stop_time: str | None
    retries: int | None
    retry_interval: int | None
    file_name: str | None
    status: str
    created_at: str
    updated_at: str


class Reservation(TypedDict):
    id: int  # the OCPP reservationId
    charger_id: str
    connector_id: int
    id_tag: str
    parent_id_tag: str | None
    expiry_date: str
    status: ReservationStatus
    transaction_id: int | None
    created_at: str
    updated_at: str


class LocalListUpdate(TypedDict):
    id: int
    charger_id: str
    version: int
    update_type: str
    entries: list[dict[str, Any]]
    status: str
    timestamp: str


class ChargingProfileRecord(TypedDict):
    id: int
    charger_id: str
    connector_id: int
    profile_id: int
    stack_level: int
    purpose: str
    kind: str
    transaction_id: int | None
    profile: dict[str, Any]
    status: str
    sent_at: str
    cleared_at: str | None


class Certificate(TypedDict):
    id: int
    charger_id: str
    certificate_type: str
    hash_algorithm: str | None
    issuer_name_hash: str | None
    issuer_key_hash: str | None
    serial_number: str | None
    pem: str | None
    installed_at: str
    removed_at: str | None


class StationVariable(TypedDict):
    """One attribute of one variable of a 2.0.1 station's device model, as reported (B07/B08
    NotifyReport, B05/B06 results, N07 NotifyEvent). Absent instances and EVSE/connector ids
    are None; `mutability`, `persistent`, `constant`, `characteristics` None when only a value
    was reported (a GetVariables result, an event)."""

    charger_id: str
    component: str
    component_instance: str | None
    evse_id: int | None
    connector_id: int | None
    variable: str
    variable_instance: str | None
    attribute_type: str
    value: str | None
    mutability: str | None
    persistent: bool | None
    constant: bool | None
    characteristics: dict[str, Any] | None
    reported_at: str


class ReportedKey(TypedDict):
    value: str | None
    readonly: bool
    reported_at: str


class ExternalChargingLimit(TypedDict):
    """K11/K12: a limit an external system set on a station (NotifyChargingLimit)."""

    charger_id: str
    evse_id: int | None  # None: the station as a whole
    source: str  # ChargingLimitSourceEnumType
    is_grid_critical: bool | None
    schedules: list[dict[str, Any]] | None  # ChargingScheduleType, as sent (K12.FR.03)
    reported_at: str


class PublishFirmwareStatus(TypedDict):
    """L03: the latest PublishFirmwareStatusNotification of a Local Controller."""

    charger_id: str
    status: str
    request_id: int | None
    locations: list[str] | None
    reported_at: str


class DisplayMessage(TypedDict):
    """O04: one display message a station reported (NotifyDisplayMessages)."""

    charger_id: str
    message_id: int
    request_id: int
    info: dict[str, Any]  # MessageInfoType as reported
    reported_at: str


class CustomerInformation(TypedDict):
    """N09: the customer information a station sent for one request, its parts joined."""

    charger_id: str
    request_id: int
    data: str
    parts: int
    complete: bool  # the last part (no tbc) came and no seqNo before it is missing
    missing_seq_nos: list[int]
    generated_at: str
    received_at: str


class SecurityEvent(TypedDict):
    id: int
    charger_id: str
    type: str
    timestamp: str
    tech_info: str | None
    received_at: str


class User(TypedDict):
    id: str
    name: str
    email: str | None
    role: Role
    rfid_card_id: str  # virtual RFID id, the idTag of the user's sessions (seeds/001 §7.2)
    active: bool
    created_at: str


class Wallet(TypedDict):
    user_id: str
    balance: Decimal
    currency: str
    updated_at: str


class WalletTransaction(TypedDict):
    id: int
    user_id: str
    type: WalletEntryType
    amount: Decimal  # signed: -85.00 for a deduction
    balance_after: Decimal  # running balance (seeds/001 §7.3)
    currency: str
    transaction_id: int | None
    reference: str | None
    created_at: str


class BillingRetry(TypedDict):
    transaction_id: int
    state: BillingRetryState
    reason: str | None
    attempts: int
    first_failed_at: str
    last_attempt_at: str
    next_attempt_at: str


class TransactionFact(TypedDict):
    id: int
    charger_id: str
    connector_id: int
    location_id: str | None
    id_tag: str
    start_time: str
    stop_time: str | None
    energy_wh: int | None
    amount: Decimal | None
    currency: str | None
    status: TransactionStatus


# The interface, one Protocol per aggregate -----------------------------------------------------


class StoreLifecycle(Protocol):
    """Opening, closing and transactions: what every backend provides around the aggregates."""

    def __enter__(self) -> Self: ...
    def __exit__(self, *exc: object) -> None: ...
    def close(self) -> None: ...
    def unit_of_work(self) -> AbstractContextManager[Store]:
        """One all-or-nothing transaction, durable when the block exits; the writes go to the
        object it yields (`with store.unit_of_work() as uow: uow.wallet_credit(...)`), and a
        write on the store itself inside the block raises `StoreError`. Not nested."""
        ...
    def savepoint(self) -> AbstractContextManager[None]:
        """On a unit of work: the block's writes stand or fall together (an exception leaving
        it undoes them and only them) while the unit of work goes on; group commit runs each
        call of a group in one. On the store itself (no unit of work) raises `StoreError`."""
        ...


class LocationStore(Protocol):
    """Locations (sites) that chargers belong to."""

    def upsert_location(
        self,
        location_id: str,
        name: str,
        *,
        address: str | None = None,
        timezone: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None: ...
    def get_location(self, location_id: str) -> Location | None: ...
    def list_locations(self) -> list[Location]: ...


class ChargerStore(Protocol):
    """Chargers, their connection state, credentials and connectors' statuses."""

    def mark_all_offline(self) -> int:
        """Clear every online flag (call at startup: flags from a killed process are stale)."""
        ...
    def upsert_charger(
        self,
        charger_id: str,
        *,
        location_id: str | None = None,
        serial: str | None = None,
        vendor: str | None = None,
        model: str | None = None,
        security_profile: int | None = None,
        registration_status: str | None = None,
    ) -> None:
        """Create the charger or update the given fields (None keeps the stored value).
        `serial` is the operator's: it is the registered serial (`Charger.registered_serial`)
        and the shown serial until a boot reports one."""
        ...
    def get_charger(self, charger_id: str) -> Charger | None: ...
    def charger_named(self, name: str, *, besides: str) -> str | None:
        """A charger other than `besides` whose registered serial or id is `name`
        (A00.FR.405)."""
        ...
    def charger_id_case_twin(self, charger_id: str) -> str | None:
        """A stored charger id equal to `charger_id` but for letter case (not itself)."""
        ...
    def charger_or_case_twin(self, charger_id: str) -> tuple[Charger | None, str | None]:
        """What admission reads, in one query: the charger, or else (None, the id of a stored
        charger equal to `charger_id` but for letter case, if any)."""
        ...
    def connect_charger(
        self, charger_id: str, *, profile: int, session: str,
        timestamp: TimeLike | None = None, create: bool = False,
        registration_status: str | None = None,
    ) -> tuple[Charger, str | None]:
        """The store step of an admitted connection, in one write: the charger created first
        when `create` (with `registration_status`; None: Pending), else NotFound when it is
        missing; `profile` noted (`note_connected_profile`); online for `session`
        (`set_online`). Returns the charger as it is now and the session recorded online
        before (None: it was offline), read with its row locked, so of two connections of one
        charger recorded at once the second sees the first's session."""
        ...
    def list_chargers(
        self,
        *,
        location_id: str | None = None,
        online: bool | None = None,
        registration_status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Charger]: ...
    def set_charger_password(
        self, charger_id: str, password: str | None, *, n: int = DEFAULT_N
    ) -> None:
        """Store the basic-auth key hashed (None removes it)."""
        ...
    def verify_charger_password(self, charger_id: str, password: str) -> bool:
        """True when `password` is the charger's key (False for unknown charger or no key)."""
        ...
    def record_boot(
        self,
        charger_id: str,
        *,
        vendor: str,
        model: str,
        serial: str | None = None,
        firmware_version: str | None = None,
        iccid: str | None = None,
        imsi: str | None = None,
        meter_type: str | None = None,
        meter_serial: str | None = None,
        timestamp: TimeLike | None = None,
    ) -> Charger: ...
    def set_registration_status(self, charger_id: str, status: str) -> None: ...
    def record_heartbeat(self, charger_id: str, timestamp: TimeLike | None = None) -> None: ...
    def set_online(
        self, charger_id: str, online: bool, timestamp: TimeLike | None = None,
        *, session: str | None = None,
    ) -> bool:
        """Online for connection `session`; offline with a `session` only while that connection
        is the one recorded (compare-and-set: PostgreSQL/UPDATE ... WHERE online_session = ?)."""
        ...
    def set_security_profile(self, charger_id: str, profile: int) -> None: ...
    def note_connected_profile(self, charger_id: str, profile: int) -> int:
        """Remember a connection at `profile`; return the highest profile ever seen."""
        ...
    def upsert_connector(
        self,
        charger_id: str,
        connector_id: int,
        *,
        connector_type: str | None = None,
        max_power_w: int | None = None,
    ) -> None: ...
    def record_status(
        self,
        charger_id: str,
        connector_id: int,
        status: str,
        *,
        error_code: str | None = "NoError",
        info: str | None = None,
        vendor_id: str | None = None,
        vendor_error_code: str | None = None,
        timestamp: TimeLike | None = None,
    ) -> None:
        """Set the connector's current status and append it to the status history."""
        ...
    def get_connector(self, charger_id: str, connector_id: int) -> Connector | None: ...
    def list_connectors(self, charger_id: str | None = None) -> list[Connector]:
        """One charger's connectors, or (None) every charger's, by charger and connector id."""
        ...
    def status_history(
        self,
        charger_id: str,
        connector_id: int | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StatusRecord]: ...


class IdTagStore(Protocol):
    """Id tags the CSMS authorizes (1.6 §4.2, §5.13 parent ids)."""

    def upsert_id_tag(
        self,
        id_tag: str,
        *,
        status: str = "Accepted",
        expiry_date: TimeLike | None = None,
        parent_id_tag: str | None = None,
        token_type: str | None = None,
    ) -> None: ...
    def get_id_tag(self, id_tag: str) -> IdTag | None: ...
    def list_id_tags(self, *, parent_id_tag: str | None = None) -> list[IdTag]: ...
    def delete_id_tag(self, id_tag: str) -> bool: ...


class TariffStore(Protocol):
    """Per-charger tariffs and the global fallback."""

    def set_tariff(
        self, charger_id: str | None, rate_per_kwh: Decimal | str, currency: str = "INR"
    ) -> None: ...
    def get_tariff(self, charger_id: str) -> Tariff | None:
        """The charger's own tariff, else the global fallback, else None."""
        ...
    def list_tariffs(self) -> list[Tariff]: ...


class TransactionStore(Protocol):
    """Transactions, remote starts (pending records) and meter values."""

    def start_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: TimeLike,
        *,
        reservation_id: int | None = None,
        id_tag_status: str | None = "Accepted",
    ) -> int:
        """Allocate the transactionId; a retried identical StartTransaction gets the same id.
        A plain allocation (seeding, imports, tests): the OCPP path uses `begin_transaction`."""
        ...
    def begin_transaction(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        meter_start: int,
        timestamp: TimeLike,
        *,
        reservation_id: int | None = None,
        id_tag_status: str | None = "Accepted",
    ) -> TransactionStart:
        """StartTransaction.req in ONE write transaction (PostgreSQL: one transaction at
        SERIALIZABLE, or a partial unique index on (id_tag) WHERE status = 'Running'):
        a replay gets its own id and status back; an Accepted tag already in a running
        transaction is stored and answered ConcurrentTx (1.6 §7.2); a transaction still open on
        the same connector is closed at the new start and sent to billing review (one
        connector cannot run two); then the new one is inserted with the status answered."""
        ...
    def stop_transaction(
        self,
        transaction_id: int,
        meter_stop: int,
        timestamp: TimeLike,
        *,
        reason: str | None = None,
        id_tag: str | None = None,
    ) -> Transaction:
        """Close the transaction; a second stop returns the stored result and changes nothing."""
        ...
    def set_transaction_billing(
        self,
        transaction_id: int,
        status: str,
        *,
        tariff_rate: Decimal | None = None,
        amount: Decimal | None = None,
        currency: str | None = None,
    ) -> None: ...
    def get_transaction(self, transaction_id: int) -> Transaction | None: ...
    def active_transaction(self, charger_id: str, connector_id: int) -> Transaction | None: ...
    def active_transaction_for_tag(self, id_tag: str) -> Transaction | None: ...
    def list_transactions(
        self,
        *,
        charger_id: str | None = None,
        id_tag: str | None = None,
        status: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[Transaction]: ...
    def count_transactions(
        self,
        *,
        charger_id: str | None = None,
        id_tag: str | None = None,
        status: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
    ) -> int: ...
    def create_remote_start(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        requested_at: TimeLike,
        *,
        user_id: str | None = None,
    ) -> RemoteStart:
        """A Pending record, committed before RemoteStartTransaction is sent."""
        ...
    def update_remote_start(
        self,
        remote_start_id: int,
        *,
        status: str | None = None,
        reply_status: str | None = None,
        reason: str | None = None,
    ) -> RemoteStart:
        """Record the charger's reply; `status` applies only while the record is Pending (a
        StartTransaction may have linked it first). NotFoundError for an unknown id."""
        ...
    def link_remote_start(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        transaction_id: int,
        *,
        requested_since: TimeLike,
    ) -> int | None:
        """Mark the newest Pending record for this connector and tag requested at or after
        `requested_since` Started with `transaction_id`; return its id (None: no such record)."""
        ...
    def expire_remote_starts(self, requested_before: TimeLike) -> int:
        """Mark Pending records requested before the cutoff Expired; return how many."""
        ...
    def get_remote_start(self, remote_start_id: int) -> RemoteStart | None: ...
    def list_remote_starts(
        self,
        *,
        user_id: str | None = None,
        charger_id: str | None = None,
        connector_id: int | None = None,
        status: str | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[RemoteStart]:
        """Newest first."""
        ...
    def count_remote_starts(
        self, *, user_id: str | None = None, charger_id: str | None = None,
        status: str | None = None,
    ) -> int: ...
    def add_meter_values(
        self,
        charger_id: str,
        connector_id: int,
        meter_values: list[dict[str, Any]],
        *,
        transaction_id: int | None = None,
    ) -> int:
        """Store every sampledValue of OCPP `meterValue`/`transactionData`; return rows written."""
        ...
    def list_meter_values(
        self,
        *,
        transaction_id: int | None = None,
        charger_id: str | None = None,
        connector_id: int | None = None,
        measurand: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[MeterValueRow]: ...
    def count_meter_values(
        self, *, transaction_id: int | None = None, measurand: str | None = None
    ) -> int: ...


class LogStore(Protocol):
    """The message log: trace records of every frame."""

    def append_log(self, records: Iterable[Mapping[str, Any]]) -> int:
        """Insert many trace records in one transaction; return how many."""
        ...
    def query_log(
        self,
        *,
        cp_id: str | None = None,
        action: str | None = None,
        type: str | None = None,
        direction: str | None = None,
        msg_id: str | None = None,
        session: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = 100,
        offset: int = 0,
        newest_first: bool = False,
    ) -> list[TraceRecord]:
        """The stored records (`chargebench.trace.TraceRecord`), each with its row number as
        `seq`."""
        ...
    def count_log(
        self,
        *,
        cp_id: str | None = None,
        action: str | None = None,
        type: str | None = None,
        direction: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
    ) -> int: ...
    def log_latencies(
        self,
        *,
        direction: str | None = None,
        type: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
    ) -> list[float]:
        """The `latency_ms` of the matching records that have one (`until` inclusive)."""
        ...


class FirmwareStore(Protocol):
    """Firmware deployments and diagnostics/log uploads."""

    def create_firmware_deployment(
        self,
        charger_id: str,
        location: str,
        retrieve_date: TimeLike,
        *,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> int: ...
    def set_firmware_deployment_status(self, deployment_id: int, status: str) -> None: ...
    def record_firmware_status(
        self,
        charger_id: str,
        status: str,
        *,
        request_id: int | None = None,
        timestamp: TimeLike | None = None,
    ) -> int | None:
        """Apply a FirmwareStatusNotification; return the deployment it belongs to, if any."""
        ...
    def get_firmware_deployment(self, deployment_id: int) -> FirmwareDeployment | None: ...
    def list_firmware_deployments(
        self, *, charger_id: str | None = None, status: str | None = None
    ) -> list[FirmwareDeployment]: ...
    def create_diagnostics_request(
        self,
        charger_id: str,
        location: str,
        *,
        log_type: str | None = None,
        start_time: TimeLike | None = None,
        stop_time: TimeLike | None = None,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> int:
        """Record a GetDiagnostics (log_type None) or GetLog; the id is GetLog's requestId."""
        ...
    def set_diagnostics_file_name(self, request_id: int, file_name: str | None) -> None: ...
    def set_diagnostics_status(self, request_id: int, status: str) -> None: ...
    def record_diagnostics_status(
        self,
        charger_id: str,
        status: str,
        *,
        request_id: int | None = None,
        timestamp: TimeLike | None = None,
    ) -> int | None: ...
    def get_diagnostics_request(self, request_id: int) -> DiagnosticsRequest | None: ...
    def list_diagnostics_requests(
        self, *, charger_id: str | None = None
    ) -> list[DiagnosticsRequest]: ...


class ReservationStore(Protocol):
    """Reservations (1.6 §5.13)."""

    def create_reservation(
        self,
        charger_id: str,
        connector_id: int,
        id_tag: str,
        expiry_date: TimeLike,
        *,
        parent_id_tag: str | None = None,
        reservation_id: int | None = None,
    ) -> int:
        """Record a ReserveNow about to be sent; `reservation_id` given: kept (the same
        charger's: replaced, 1.6 §5.13; another charger's: `ReservationIdTaken`)."""
        ...
    def set_reservation_status(self, reservation_id: int, status: str) -> None: ...
    def get_reservation(self, reservation_id: int) -> Reservation | None: ...
    def list_reservations(
        self, *, charger_id: str | None = None, status: str | None = None
    ) -> list[Reservation]: ...


class ChargerConfigStore(Protocol):
    """What the CSMS set on chargers: local lists, profiles, certificates, configuration."""

    def record_local_list_update(
        self,
        charger_id: str,
        version: int,
        update_type: str,
        entries: list[dict[str, Any]],
        status: str,
        timestamp: TimeLike | None = None,
    ) -> None:
        """Log a SendLocalList; the charger's version moves only when `status` is Accepted."""
        ...
    def set_local_list_version(self, charger_id: str, version: int) -> None: ...
    def get_local_list_version(self, charger_id: str) -> int | None: ...
    def list_local_list_updates(self, charger_id: str) -> list[LocalListUpdate]: ...
    def record_charging_profile(
        self,
        charger_id: str,
        connector_id: int,
        profile_id: int,
        profile: dict[str, Any],
        status: str,
        timestamp: TimeLike | None = None,
        *,
        transaction_id: int | None = None,
    ) -> int: ...
    def clear_charging_profiles(
        self,
        charger_id: str,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
        timestamp: TimeLike | None = None,
    ) -> int: ...
    def list_charging_profiles(
        self, charger_id: str, *, active_only: bool = True
    ) -> list[ChargingProfileRecord]: ...
    def add_certificate(
        self,
        charger_id: str,
        certificate_type: str,
        *,
        pem: str | None = None,
        hash_algorithm: str | None = None,
        issuer_name_hash: str | None = None,
        issuer_key_hash: str | None = None,
        serial_number: str | None = None,
        timestamp: TimeLike | None = None,
    ) -> int: ...
    def remove_certificate(
        self,
        charger_id: str,
        *,
        serial_number: str,
        issuer_key_hash: str | None = None,
        timestamp: TimeLike | None = None,
    ) -> int: ...
    def list_certificates(
        self,
        charger_id: str,
        *,
        certificate_type: str | None = None,
        include_removed: bool = False,
    ) -> list[Certificate]: ...
    def set_config_baseline(
        self, charger_id: str, values: Mapping[str, str | None], *, replace: bool = True
    ) -> None: ...
    def get_config_baseline(self, charger_id: str) -> dict[str, str | None]: ...
    def record_reported_config(
        self,
        charger_id: str,
        entries: Iterable[Mapping[str, Any]],
        timestamp: TimeLike | None = None,
    ) -> None:
        """Upsert GetConfiguration.conf `configurationKey` entries ({key, value, readonly})."""
        ...
    def get_reported_config(self, charger_id: str) -> dict[str, ReportedKey]: ...


class SecurityEventStore(Protocol):
    """SecurityEventNotifications and the CSMS's own security findings."""

    def add_security_event(
        self,
        charger_id: str,
        type: str,
        timestamp: TimeLike,
        *,
        tech_info: str | None = None,
    ) -> int: ...
    def list_security_events(
        self,
        *,
        charger_id: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[SecurityEvent]: ...


class UserStore(Protocol):
    """Users and their API tokens (seeds/001 §7)."""

    def create_user(
        self,
        user_id: str,
        name: str,
        rfid_card_id: str,
        *,
        email: str | None = None,
        role: str = "USER",
        active: bool = True,
        currency: str = "INR",
    ) -> User:
        """The user, their id tag and an empty wallet, all or nothing."""
        ...
    def get_user(self, user_id: str) -> User | None: ...
    def get_user_by_rfid(self, rfid_card_id: str) -> User | None: ...
    def list_users(self, *, role: str | None = None, active: bool | None = None) -> list[User]: ...
    def set_user_active(self, user_id: str, active: bool) -> None: ...
    def add_api_token(self, user_id: str, token_hash: str) -> None: ...
    def user_for_token_hash(self, token_hash: str) -> User | None: ...


class WalletStore(Protocol):
    """Wallets, their ledger and the billing retry queue (seeds/001 §4.1, §5.4, §7.3)."""

    def get_wallet(self, user_id: str) -> Wallet | None: ...
    def wallet_credit(
        self,
        user_id: str,
        amount: Decimal,
        *,
        reference: str | None = None,
        type: str = "TOP_UP",
    ) -> WalletTransaction:
        """Credit once per `reference`; a replay returns the first ledger row."""
        ...
    def wallet_debit_for_transaction(
        self,
        user_id: str,
        transaction_id: int,
        amount: Decimal,
        *,
        allow_negative: bool = False,
    ) -> WalletTransaction:
        """Deduct once per transaction id; `InsufficientFundsError` when not covered."""
        ...
    def list_wallet_transactions(
        self,
        *,
        user_id: str | None = None,
        type: str | None = None,
        transaction_id: int | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[WalletTransaction]: ...
    def count_wallet_transactions(
        self, *, user_id: str | None = None, type: str | None = None
    ) -> int: ...
    def queue_billing_retry(
        self, transaction_id: int, reason: str, now: TimeLike, next_attempt_at: TimeLike
    ) -> BillingRetry: ...
    def set_billing_retry_state(
        self, transaction_id: int, state: str, *, reason: str | None = None
    ) -> None: ...
    def get_billing_retry(self, transaction_id: int) -> BillingRetry | None: ...
    def list_billing_retries(
        self, *, state: str | None = None, due_before: TimeLike | None = None
    ) -> list[BillingRetry]: ...


class AnalyticsStore(Protocol):
    """Read models for the analytics API."""

    def transaction_facts(
        self, *, since: TimeLike | None = None, until: TimeLike | None = None
    ) -> list[TransactionFact]: ...
    def fault_counts(
        self, *, since: TimeLike | None = None, until: TimeLike | None = None
    ) -> list[dict[str, Any]]: ...


class StationStore(Protocol):
    """What OCPP 2.0.1 stations add: connectors per EVSE, string transaction ids, events."""

    def record_evse_status(
        self, charger_id: str, evse_id: int, connector_id: int, status: str,
        timestamp: TimeLike,
    ) -> None:
        """Set the connector's current status (2.0.1 StatusNotification)."""
        ...
    def list_evse_connectors(self, charger_id: str | None = None) -> list[EvseConnector]:
        """One station's EVSE connectors, or (None) every station's, by station, EVSE and
        connector."""
        ...
    def record_station_variables(
        self, charger_id: str, rows: Iterable[Mapping[str, Any]], timestamp: TimeLike | None = None
    ) -> None:
        """Keep reported attributes (keys of `StationVariable`; absent optional keys are None).
        A row with `mutability` is a full report (NotifyReport) and replaces what was known;
        one without updates only the value (results, events), keeping the rest."""
        ...
    def list_station_variables(
        self, charger_id: str, *, component: str | None = None
    ) -> list[StationVariable]:
        """The station's device model as reported, ordered by component, EVSE, connector,
        variable and attribute type."""
        ...
    def record_transaction_event(
        self,
        charger_id: str,
        station_tx_id: str,
        seq_no: int,
        event_type: str,
        timestamp: TimeLike,
        *,
        trigger_reason: str,
        offline: bool = False,
        charging_state: str | None = None,
        evse_id: int | None = None,
        id_token: str | None = None,
        id_token_status: str | None = None,
        stopped_reason: str | None = None,
        meter_values: Iterable[dict[str, Any]] = (),
        with_cost_basis: bool = False,
    ) -> TransactionEventResult:
        """One TransactionEvent in ONE write transaction: the event is kept by seqNo (a retried
        one changes nothing and says `duplicate`), the first event of a station's transactionId
        creates its `transactions` row (`connector_id` = EVSE id, `id_tag` '' until a token
        comes), `meter_values` (1.6 wire shape) are stored with it, and an Ended closes it with
        the energy its register readings span (none: status BillingReview).

        An Accepted `id_token` already in another running transaction is stored and answered
        ConcurrentTx (the 1.6 §7.2 policy, as `begin_transaction`; a new transaction is then
        NotAuthorized): the check and the insert are this one step, so two stations starting
        with one token at the same moment cannot both be Accepted, on any backend.

        `with_cost_basis`: the result also has the transaction's `cost_basis` after the event
        (I02.FR.01: the running cost answered to an event with a reading), read with the event's
        own lookup rather than in a query of its own."""
        ...
    def station_transaction(self, charger_id: str, station_tx_id: str) -> int | None:
        """The `transactions` id of a station's transactionId, or None."""
        ...
    def cost_basis(self, transaction_id: int) -> CostBasis | None:
        """In one query, what the transaction's cost so far is reckoned from (the 2.0.1
        TransactionEventResponse's totalCost, I02.FR.01/I03.FR.02); None: no such one."""
        ...
    def station_tx_id(self, transaction_id: int) -> str | None:
        """The station's own transactionId of a 2.0.1 transaction, or None (a 1.6 one)."""
        ...
    def list_transaction_events(self, charger_id: str, station_tx_id: str) -> list[dict]:
        """The events of one station transaction, by seqNo."""
        ...


class StationReportStore(Protocol):
    """What a 2.0.1 station notifies beyond its device model and transactions (schema 8)."""

    def record_charging_limit(
        self, charger_id: str, evse_id: int | None, source: str, *,
        is_grid_critical: bool | None = None, schedules: list[dict[str, Any]] | None = None,
        timestamp: TimeLike | None = None,
    ) -> None:  # fmt: skip
        """K11/K12 NotifyChargingLimit: keep (replace) the limit of `source` on the EVSE (None:
        the station as a whole)."""
        ...
    def clear_charging_limit(self, charger_id: str, source: str, evse_id: int | None) -> int:
        """K13 ClearedChargingLimit: forget the limits of `source` on the EVSE (None: on every
        EVSE and the station); how many there were."""
        ...
    def list_charging_limits(self, charger_id: str) -> list[ExternalChargingLimit]:
        """The station's external limits in force, by EVSE (the station first) and source."""
        ...
    def record_publish_firmware_status(
        self, charger_id: str, status: str, *, request_id: int | None = None,
        locations: list[str] | None = None, timestamp: TimeLike | None = None,
    ) -> None:  # fmt: skip
        """L03: the latest publish-firmware status of the station (replaces the one before)."""
        ...
    def get_publish_firmware_status(self, charger_id: str) -> PublishFirmwareStatus | None: ...
    def record_display_messages(
        self, charger_id: str, request_id: int, messages: Iterable[Mapping[str, Any]],
        timestamp: TimeLike | None = None,
    ) -> None:  # fmt: skip
        """O04: keep each reported MessageInfoType by its id (replacing what was known)."""
        ...
    def remove_display_message(self, charger_id: str, message_id: int) -> bool:
        """O05: the station cleared the message (ClearDisplayMessage Accepted)."""
        ...
    def forget_display_messages(self, charger_id: str, *,
                                besides_request: int | None = None) -> int:  # fmt: skip
        """O03: forget the station's display messages (those reported for `besides_request`
        stay); how many there were."""
        ...
    def list_display_messages(self, charger_id: str) -> list[DisplayMessage]: ...
    def record_customer_information(
        self, charger_id: str, request_id: int, seq_no: int, data: str, *, tbc: bool,
        generated_at: TimeLike, timestamp: TimeLike | None = None,
    ) -> bool:  # fmt: skip
        """N09: keep one part by its seqNo; False when that part was kept already (a retry)."""
        ...
    def list_customer_information(
        self, charger_id: str, *, request_id: int | None = None
    ) -> list[CustomerInformation]:
        """Each request's parts joined into one result, by requestId."""
        ...


@runtime_checkable
class Store(
    StoreLifecycle,
    LocationStore,
    ChargerStore,
    IdTagStore,
    TariffStore,
    TransactionStore,
    StationStore,
    StationReportStore,
    LogStore,
    FirmwareStore,
    ReservationStore,
    ChargerConfigStore,
    SecurityEventStore,
    UserStore,
    WalletStore,
    AnalyticsStore,
    Protocol,
):
    """Persistence of the reference CSMS: every aggregate; see the module docstring for the
    shared contract. Code that needs one aggregate may ask for that Protocol instead."""
