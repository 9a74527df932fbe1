"""SQLite store, part 1: what the CSMS knows before any session (sites, chargers, tags, tariffs)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from csms.store import passwords
from csms.store._sqlite_base import SqliteBase, page, where
from csms.store._sqlite_states import CHARGER, ID_TAG, all_states, states
from csms.store.base import (
    Charger,
    Connector,
    IdTag,
    Location,
    StatusRecord,
    Tariff,
)
from csms.store.errors import NotFound
from csms.store.timestamps import TimeLike, to_iso

_CHARGER_COLUMNS = (
    "id, location_id, serial, registered_serial, vendor, model, firmware_version, iccid, imsi, "
    "meter_type, meter_serial, security_profile, max_profile_seen, "
    "auth_key_hash IS NOT NULL AS has_password, registration_status, last_boot, last_heartbeat, "
    "online, online_since"
)
_GLOBAL = ""  # tariffs.charger_id of the global fallback


def _charger(row: dict[str, Any]) -> Charger:
    row["has_password"] = bool(row["has_password"])
    row["online"] = bool(row["online"])
    return states(row, CHARGER)


def _money(value: Decimal | str) -> Decimal:
    """A finite, non-negative Decimal from Decimal or text; floats are refused (no binary money)."""
    try:
        if isinstance(value, float):
            raise InvalidOperation
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValueError(f"not a decimal amount: {value!r}") from None
    if not number.is_finite() or number < 0:
        raise ValueError(f"not a non-negative decimal amount: {value!r}")
    return number


def _tariff(row: dict[str, Any]) -> Tariff:
    return {
        "charger_id": row["charger_id"] or None,
        "rate_per_kwh": Decimal(row["rate_per_kwh"]),
        "currency": row["currency"],
    }


class AssetsMixin(SqliteBase):
    # Locations ---------------------------------------------------------------------------------

    def upsert_location(
        self,
        location_id: str,
        name: str,
        *,
        address: str | None = None,
        timezone: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO locations(id, name, address, timezone, latitude, longitude)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET name=excluded.name,"
                " address=excluded.address, timezone=excluded.timezone,"
                " latitude=excluded.latitude, longitude=excluded.longitude",
                (location_id, name, address, timezone, latitude, longitude),
            )

    def get_location(self, location_id: str) -> Location | None:
        return self._one("SELECT * FROM locations WHERE id = ?", (location_id,))

    def list_locations(self) -> list[Location]:
        return self._all("SELECT * FROM locations ORDER BY id")

    # Chargers ----------------------------------------------------------------------------------

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
        with self._write() as conn:
            conn.execute(
                "INSERT INTO chargers(id, location_id, serial, registered_serial, vendor, model,"
                " security_profile, registration_status) VALUES (?, ?, ?, ?, ?, ?,"
                " coalesce(?, 0), coalesce(?, 'Pending')) ON CONFLICT(id) DO UPDATE SET"
                " location_id=coalesce(excluded.location_id, location_id),"
                " serial=coalesce(?, serial),"
                " registered_serial=coalesce(?, chargers.registered_serial),"
                " vendor=coalesce(?, vendor),"
                " model=coalesce(?, model), security_profile=coalesce(?, security_profile),"
                " registration_status=coalesce(?, registration_status)",
                (
                    charger_id,
                    location_id,
                    serial,
                    serial,
                    vendor,
                    model,
                    security_profile,
                    registration_status,
                    serial,
                    serial,
                    vendor,
                    model,
                    security_profile,
                    registration_status,
                ),
            )

    def get_charger(self, charger_id: str) -> Charger | None:
        row = self._one(f"SELECT {_CHARGER_COLUMNS} FROM chargers WHERE id = ?", (charger_id,))
        return None if row is None else _charger(row)

    def charger_named(self, name: str, *, besides: str) -> str | None:
        """A stored charger other than `besides` whose id (first) or registered serial is
        `name`: whose identity a certificate with CN = `name` would prove (A00.FR.405)."""
        row = self._one(
            "SELECT id FROM chargers WHERE (registered_serial = ? OR id = ?) AND id != ?"
            " ORDER BY id = ? DESC, id LIMIT 1",
            (name, name, besides, name),
        )  # fmt: skip
        return None if row is None else row["id"]

    def charger_id_case_twin(self, charger_id: str) -> str | None:
        """The id of a stored charger equal to `charger_id` but for ASCII letter case (charge
        point ids are ASCII: csms.admission), other than `charger_id` itself."""
        row = self._one(
            "SELECT id FROM chargers WHERE id = ? COLLATE NOCASE AND id != ? LIMIT 1",
            (charger_id, charger_id),
        )
        return None if row is None else row["id"]

    def charger_or_case_twin(self, charger_id: str) -> tuple[Charger | None, str | None]:
        row = self._one(
            f"SELECT {_CHARGER_COLUMNS} FROM chargers WHERE id = ? COLLATE NOCASE"
            " ORDER BY id = ? DESC LIMIT 1",
            (charger_id, charger_id),
        )  # fmt: skip
        if row is None:
            return None, None
        return (_charger(row), None) if row["id"] == charger_id else (None, row["id"])

    def connect_charger(
        self, charger_id: str, *, profile: int, session: str,
        timestamp: TimeLike | None = None, create: bool = False,
        registration_status: str | None = None,
    ) -> tuple[Charger, str | None]:
        with self._write() as conn:  # one writer: nothing changes the row in between
            row = conn.execute(
                "SELECT online, online_session FROM chargers WHERE id = ?", (charger_id,)
            ).fetchone()
            previous = row["online_session"] if row is not None and row["online"] else None
            if create:
                self.upsert_charger(charger_id, registration_status=registration_status)
            self.note_connected_profile(charger_id, profile)
            self.set_online(charger_id, True, timestamp, session=session)
            charger = self.get_charger(charger_id)
        assert charger is not None
        return charger, previous

    def list_chargers(
        self,
        *,
        location_id: str | None = None,
        online: bool | None = None,
        registration_status: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Charger]:
        clause, params = where(
            {
                "location_id": location_id,
                "online": None if online is None else int(online),
                "registration_status": registration_status,
            }
        )
        rows = self._all(
            f"SELECT {_CHARGER_COLUMNS} FROM chargers{clause} ORDER BY id{page(limit, offset)}",
            params,
        )
        return [_charger(row) for row in rows]

    def set_charger_password(
        self, charger_id: str, password: str | None, *, n: int = passwords.DEFAULT_N
    ) -> None:
        # Hash outside the lock: it is the slow part (~50 ms) and touches no shared state.
        hashed = None if password is None else passwords.hash_password(password, n=n)
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET auth_key_hash = ? WHERE id = ?", (hashed, charger_id)
            )
            self._require(cursor, f"charger {charger_id!r}")

    def verify_charger_password(self, charger_id: str, password: str) -> bool:
        row = self._one("SELECT auth_key_hash FROM chargers WHERE id = ?", (charger_id,))
        return row is not None and passwords.verify_password(password, row["auth_key_hash"])

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
    ) -> Charger:
        """Store what BootNotification reported (seeds/001 §3.5.1: firmware version, boot time)."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET vendor = ?, model = ?, serial = coalesce(?, serial),"
                " firmware_version = ?, iccid = ?, imsi = ?, meter_type = ?, meter_serial = ?,"
                " last_boot = ? WHERE id = ?",
                (
                    vendor,
                    model,
                    serial,
                    firmware_version,
                    iccid,
                    imsi,
                    meter_type,
                    meter_serial,
                    to_iso(timestamp) or self._now(),
                    charger_id,
                ),
            )
            self._require(cursor, f"charger {charger_id!r}")
        charger = self.get_charger(charger_id)
        if charger is None:  # deleted meanwhile by another connection
            raise NotFound(f"charger {charger_id!r}")
        return charger

    def _update_charger(self, charger_id: str, sql: str, params: tuple[Any, ...]) -> None:
        with self._write() as conn:
            cursor = conn.execute(f"UPDATE chargers SET {sql} WHERE id = ?", (*params, charger_id))
            self._require(cursor, f"charger {charger_id!r}")

    def set_registration_status(self, charger_id: str, status: str) -> None:
        self._update_charger(charger_id, "registration_status = ?", (status,))

    def record_heartbeat(self, charger_id: str, timestamp: TimeLike | None = None) -> None:
        self._update_charger(charger_id, "last_heartbeat = ?", (to_iso(timestamp) or self._now(),))

    def set_online(
        self, charger_id: str, online: bool, timestamp: TimeLike | None = None,
        *, session: str | None = None,
    ) -> bool:
        """Online: remember `session` as the connection that is. Offline with a `session`: only
        if that connection is still the one recorded (compare-and-set), so the close of an old
        connection, however late it lands, never takes its successor offline. Returns whether
        the row changed."""
        if online:
            since = to_iso(timestamp) or self._now()
            self._update_charger(
                charger_id, "online = 1, online_since = ?, online_session = ?", (since, session)
            )
            return True
        if session is None:
            self._update_charger(
                charger_id, "online = 0, online_since = NULL, online_session = NULL", ()
            )
            return True
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET online = 0, online_since = NULL, online_session = NULL"
                " WHERE id = ? AND online_session = ?",
                (charger_id, session),
            )
            return cursor.rowcount > 0

    def mark_all_offline(self) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET online = 0, online_since = NULL, online_session = NULL"
                " WHERE online != 0"
            )
            return cursor.rowcount

    def set_security_profile(self, charger_id: str, profile: int) -> None:
        self._update_charger(charger_id, "security_profile = ?", (profile,))

    def note_connected_profile(self, charger_id: str, profile: int) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE chargers SET max_profile_seen = max(max_profile_seen, ?) WHERE id = ?",
                (profile, charger_id),
            )
            self._require(cursor, f"charger {charger_id!r}")
            row = conn.execute(
                "SELECT max_profile_seen FROM chargers WHERE id = ?", (charger_id,)
            ).fetchone()
            return int(row[0])

    # Connectors and status ---------------------------------------------------------------------

    def upsert_connector(
        self,
        charger_id: str,
        connector_id: int,
        *,
        connector_type: str | None = None,
        max_power_w: int | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO connectors(charger_id, connector_id, connector_type, max_power_w)"
                " VALUES (?, ?, ?, ?) ON CONFLICT(charger_id, connector_id) DO UPDATE SET"
                " connector_type = coalesce(excluded.connector_type, connector_type),"
                " max_power_w = coalesce(excluded.max_power_w, max_power_w)",
                (charger_id, connector_id, connector_type, max_power_w),
            )

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
        received_at = self._now()
        values = (status, error_code, info, vendor_id, vendor_error_code, to_iso(timestamp))
        with self._write() as conn:
            # OCPP 1.6 §4.9: a StatusNotification may name a connector we were never told
            # about (or 0, the charge point itself): create it rather than lose the status.
            conn.execute(
                "INSERT INTO connectors(charger_id, connector_id, status, error_code, info,"
                " vendor_id, vendor_error_code, timestamp) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(charger_id, connector_id) DO UPDATE SET status = excluded.status,"
                " error_code = excluded.error_code, info = excluded.info,"
                " vendor_id = excluded.vendor_id,"
                " vendor_error_code = excluded.vendor_error_code,"
                " timestamp = excluded.timestamp",
                (charger_id, connector_id, *values),
            )
            conn.execute(
                "INSERT INTO status_history(charger_id, connector_id, status, error_code, info,"
                " vendor_id, vendor_error_code, timestamp, received_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (charger_id, connector_id, *values, received_at),
            )

    def get_connector(self, charger_id: str, connector_id: int) -> Connector | None:
        return self._one(
            "SELECT * FROM connectors WHERE charger_id = ? AND connector_id = ?",
            (charger_id, connector_id),
        )

    def list_connectors(self, charger_id: str | None = None) -> list[Connector]:
        if charger_id is None:
            return self._all("SELECT * FROM connectors ORDER BY charger_id, connector_id")
        return self._all(
            "SELECT * FROM connectors WHERE charger_id = ? ORDER BY connector_id", (charger_id,)
        )

    def status_history(
        self,
        charger_id: str,
        connector_id: int | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StatusRecord]:
        """Newest first."""
        clause, params = where({"charger_id": charger_id, "connector_id": connector_id})
        return self._all(
            f"SELECT * FROM status_history{clause} ORDER BY id DESC{page(limit, offset)}", params
        )

    # Id tags -----------------------------------------------------------------------------------

    def upsert_id_tag(
        self,
        id_tag: str,
        *,
        status: str = "Accepted",
        expiry_date: TimeLike | None = None,
        parent_id_tag: str | None = None,
        token_type: str | None = None,
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO id_tags(id_tag, status, expiry_date, parent_id_tag, token_type)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(id_tag) DO UPDATE SET"
                " status = excluded.status, expiry_date = excluded.expiry_date,"
                " parent_id_tag = excluded.parent_id_tag, token_type = excluded.token_type",
                (id_tag, status, to_iso(expiry_date), parent_id_tag, token_type),
            )  # fmt: skip

    def get_id_tag(self, id_tag: str) -> IdTag | None:
        return states(self._one("SELECT * FROM id_tags WHERE id_tag = ?", (id_tag,)), ID_TAG)

    def list_id_tags(self, *, parent_id_tag: str | None = None) -> list[IdTag]:
        clause, params = where({"parent_id_tag": parent_id_tag})
        return all_states(self._all(f"SELECT * FROM id_tags{clause} ORDER BY id_tag", params),
                          ID_TAG)  # fmt: skip

    def delete_id_tag(self, id_tag: str) -> bool:
        with self._write() as conn:
            return conn.execute("DELETE FROM id_tags WHERE id_tag = ?", (id_tag,)).rowcount > 0

    # Tariffs -----------------------------------------------------------------------------------

    def set_tariff(
        self, charger_id: str | None, rate_per_kwh: Decimal | str, currency: str = "INR"
    ) -> None:
        """Set a charger's rate, or the global fallback when `charger_id` is None (001 §5.4)."""
        rate = _money(rate_per_kwh)
        with self._write() as conn:
            conn.execute(
                "INSERT INTO tariffs(charger_id, rate_per_kwh, currency) VALUES (?, ?, ?)"
                " ON CONFLICT(charger_id) DO UPDATE SET rate_per_kwh = excluded.rate_per_kwh,"
                " currency = excluded.currency",
                (charger_id or _GLOBAL, str(rate), currency),
            )

    def get_tariff(self, charger_id: str) -> Tariff | None:
        row = self._one(
            "SELECT * FROM tariffs WHERE charger_id IN (?, ?)"
            " ORDER BY charger_id = ? LIMIT 1",  # the charger's own row sorts before ''
            (charger_id, _GLOBAL, _GLOBAL),
        )
        return None if row is None else _tariff(row)

    def list_tariffs(self) -> list[Tariff]:
        return [_tariff(row) for row in self._all("SELECT * FROM tariffs ORDER BY charger_id")]
