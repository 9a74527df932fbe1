"""SQLite store, part 3: operations the CSMS drives (firmware, diagnostics, reservations, local
lists, charging profiles, certificates, configuration baselines) and security events."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from csms.store._sqlite_base import SqliteBase, page, where
from csms.store._sqlite_states import RESERVATION, all_states, states
from csms.store.base import (
    Certificate,
    ChargingProfileRecord,
    DiagnosticsRequest,
    FirmwareDeployment,
    LocalListUpdate,
    NotFoundError,
    ReportedKey,
    Reservation,
    ReservationIdTaken,
    SecurityEvent,
)
from csms.store.timestamps import TimeLike, to_iso
from csms.store.variables import variable_key

# FirmwareStatus values after which a deployment takes no further notifications (1.6 §4.5 and
# the security extension's SignedFirmwareStatusNotification).
FIRMWARE_FINAL = frozenset(
    {"Installed", "DownloadFailed", "InstallationFailed", "InstallVerificationFailed",
     "InvalidSignature", "SendFailed", "Cancelled"}
)  # fmt: skip
# DiagnosticsStatus (1.6 §4.4) and UploadLogStatus (security extension) end states.
DIAGNOSTICS_FINAL = frozenset(
    {"Uploaded", "UploadFailed", "UploadFailure", "BadMessage", "NotSupportedOperation",
     "PermissionDenied", "Rejected", "SendFailed"}
)  # fmt: skip


class OpsMixin(SqliteBase):
    # Firmware deployments (seeds/001 §6.3) -----------------------------------------------------

    def create_firmware_deployment(
        self,
        charger_id: str,
        location: str,
        retrieve_date: TimeLike,
        *,
        retries: int | None = None,
        retry_interval: int | None = None,
    ) -> int:
        """Record an UpdateFirmware about to be sent (status Pending); the id is its requestId."""
        now = self._now()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO firmware_deployments(charger_id, location, retrieve_date, retries,"
                " retry_interval, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, 'Pending', ?, ?)",
                (charger_id, location, to_iso(retrieve_date), retries, retry_interval, now, now),
            )
            deployment_id = int(cursor.lastrowid)  # type: ignore[arg-type]
            conn.execute(
                "INSERT INTO firmware_status_history(deployment_id, charger_id, status, timestamp)"
                " VALUES (?, ?, 'Pending', ?)",
                (deployment_id, charger_id, now),
            )
            return deployment_id

    def set_firmware_deployment_status(self, deployment_id: int, status: str) -> None:
        """Set a status the CSMS decides itself (e.g. SendFailed, Cancelled) and log it."""
        now = self._now()
        with self._write() as conn:
            row = conn.execute(
                "SELECT charger_id FROM firmware_deployments WHERE id = ?", (deployment_id,)
            ).fetchone()
            if row is None:
                raise NotFoundError(f"firmware deployment {deployment_id}")
            self._firmware_status(conn, deployment_id, row["charger_id"], status, now, now)

    def record_firmware_status(
        self,
        charger_id: str,
        status: str,
        *,
        request_id: int | None = None,
        timestamp: TimeLike | None = None,
    ) -> int | None:
        """Apply a (Signed)FirmwareStatusNotification to the deployment it reports on.

        With `request_id` (signed firmware), that deployment; otherwise the charger's newest
        deployment not yet final. `Idle` (the answer to TriggerMessage when nothing is going on)
        is logged without touching any deployment. Returns the deployment id, or None.
        """
        now = self._now()
        ts = to_iso(timestamp) or now
        with self._write() as conn:
            if request_id is not None:
                row = conn.execute(
                    "SELECT id FROM firmware_deployments WHERE id = ? AND charger_id = ?",
                    (request_id, charger_id),
                ).fetchone()
            elif status == "Idle":
                row = None
            else:
                final = ",".join("?" * len(FIRMWARE_FINAL))
                row = conn.execute(
                    "SELECT id FROM firmware_deployments WHERE charger_id = ?"
                    f" AND status NOT IN ({final}) ORDER BY id DESC LIMIT 1",
                    (charger_id, *sorted(FIRMWARE_FINAL)),
                ).fetchone()
            deployment_id = None if row is None or status == "Idle" else int(row["id"])
            self._firmware_status(conn, deployment_id, charger_id, status, ts, now)
            return deployment_id

    @staticmethod
    def _firmware_status(
        conn: Any, deployment_id: int | None, charger_id: str, status: str, ts: str, now: str
    ) -> None:
        if deployment_id is not None:
            conn.execute(
                "UPDATE firmware_deployments SET status = ?, updated_at = ? WHERE id = ?",
                (status, now, deployment_id),
            )
        conn.execute(
            "INSERT INTO firmware_status_history(deployment_id, charger_id, status, timestamp)"
            " VALUES (?, ?, ?, ?)",
            (deployment_id, charger_id, status, ts),
        )

    def _with_history(self, row: dict[str, Any]) -> FirmwareDeployment:
        row["history"] = self._all(
            "SELECT status, timestamp FROM firmware_status_history WHERE deployment_id = ?"
            " ORDER BY id",
            (row["id"],),
        )
        return row  # type: ignore[return-value]

    def get_firmware_deployment(self, deployment_id: int) -> FirmwareDeployment | None:
        row = self._one("SELECT * FROM firmware_deployments WHERE id = ?", (deployment_id,))
        return None if row is None else self._with_history(row)

    def list_firmware_deployments(
        self, *, charger_id: str | None = None, status: str | None = None
    ) -> list[FirmwareDeployment]:
        """Newest first, each with its status history."""
        clause, params = where({"charger_id": charger_id, "status": status})
        rows = self._all(f"SELECT * FROM firmware_deployments{clause} ORDER BY id DESC", params)
        return [self._with_history(row) for row in rows]

    # Diagnostics and logs ----------------------------------------------------------------------

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
        now = self._now()
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO diagnostics_requests(charger_id, location, log_type, start_time,"
                " stop_time, retries, retry_interval, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 'Requested', ?, ?)",
                (
                    charger_id,
                    location,
                    log_type,
                    to_iso(start_time),
                    to_iso(stop_time),
                    retries,
                    retry_interval,
                    now,
                    now,
                ),
            )
            return int(cursor.lastrowid)  # type: ignore[arg-type]

    def set_diagnostics_file_name(self, request_id: int, file_name: str | None) -> None:
        """The fileName of GetDiagnostics.conf / GetLog.conf (None: nothing to upload)."""
        with self._write() as conn:
            cursor = conn.execute(
                "UPDATE diagnostics_requests SET file_name = ?, updated_at = ? WHERE id = ?",
                (file_name, self._now(), request_id),
            )
            self._require(cursor, f"diagnostics request {request_id}")

    def record_diagnostics_status(
        self,
        charger_id: str,
        status: str,
        *,
        request_id: int | None = None,
        timestamp: TimeLike | None = None,
    ) -> int | None:
        """Apply a DiagnosticsStatusNotification (no request_id: newest open GetDiagnostics) or
        LogStatusNotification (request_id). Idle changes nothing. Returns the request id."""
        if status == "Idle":
            return None
        with self._write() as conn:
            if request_id is not None:
                row = conn.execute(
                    "SELECT id FROM diagnostics_requests WHERE id = ? AND charger_id = ?",
                    (request_id, charger_id),
                ).fetchone()
            else:
                final = ",".join("?" * len(DIAGNOSTICS_FINAL))
                row = conn.execute(
                    "SELECT id FROM diagnostics_requests WHERE charger_id = ? AND log_type IS NULL"
                    f" AND status NOT IN ({final}) ORDER BY id DESC LIMIT 1",
                    (charger_id, *sorted(DIAGNOSTICS_FINAL)),
                ).fetchone()
            if row is None:
                return None
            conn.execute(
                "UPDATE diagnostics_requests SET status = ?, updated_at = ? WHERE id = ?",
                (status, to_iso(timestamp) or self._now(), row["id"]),
            )
            return int(row["id"])

    def set_diagnostics_status(self, request_id: int, status: str) -> None:
        """Set a status the CSMS decides itself (Accepted/Rejected from GetLog.conf, SendFailed)."""
        self._set_status("diagnostics_requests", request_id, status,
                         f"diagnostics request {request_id}")

    def get_diagnostics_request(self, request_id: int) -> DiagnosticsRequest | None:
        return self._one("SELECT * FROM diagnostics_requests WHERE id = ?", (request_id,))

    def list_diagnostics_requests(
        self, *, charger_id: str | None = None
    ) -> list[DiagnosticsRequest]:
        clause, params = where({"charger_id": charger_id})
        return self._all(f"SELECT * FROM diagnostics_requests{clause} ORDER BY id DESC", params)

    # Reservations (1.6 §5.13, §5.1) -------------------------------------------------------------

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
        """Record a ReserveNow about to be sent (status Requested); return its reservationId.

        Without `reservation_id` the store allocates one. With it, a new id is taken as given,
        and an id this charger already has is its replacement (1.6 §5.13: a ReserveNow with a
        known reservationId replaces that reservation), the record overwritten. An id that
        belongs to another charger raises `ReservationIdTaken`."""
        now = self._now()
        values = (charger_id, connector_id, id_tag, parent_id_tag, to_iso(expiry_date), now, now)
        with self._write() as conn:
            if reservation_id is None:
                cursor = conn.execute(
                    "INSERT INTO reservations(charger_id, connector_id, id_tag, parent_id_tag,"
                    " expiry_date, status, created_at, updated_at)"
                    " VALUES (?, ?, ?, ?, ?, 'Requested', ?, ?)",
                    values,
                )
                return int(cursor.lastrowid)  # type: ignore[arg-type]
            cursor = conn.execute(
                "INSERT INTO reservations(id, charger_id, connector_id, id_tag, parent_id_tag,"
                " expiry_date, status, created_at, updated_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'Requested', ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET connector_id = excluded.connector_id,"
                " id_tag = excluded.id_tag, parent_id_tag = excluded.parent_id_tag,"
                " expiry_date = excluded.expiry_date, status = 'Requested',"
                " transaction_id = NULL, updated_at = excluded.updated_at"
                " WHERE reservations.charger_id = excluded.charger_id",
                (reservation_id, *values),
            )
            if cursor.rowcount == 0:
                raise ReservationIdTaken(reservation_id)
            return reservation_id

    def set_reservation_status(self, reservation_id: int, status: str) -> None:
        """ReserveNow.conf status, or Cancelled / Expired / Used as the CSMS learns it."""
        self._set_status("reservations", reservation_id, status, f"reservation {reservation_id}")

    def get_reservation(self, reservation_id: int) -> Reservation | None:
        row = self._one("SELECT * FROM reservations WHERE id = ?", (reservation_id,))
        return states(row, RESERVATION)

    def list_reservations(
        self, *, charger_id: str | None = None, status: str | None = None
    ) -> list[Reservation]:
        clause, params = where({"charger_id": charger_id, "status": status})
        rows = self._all(f"SELECT * FROM reservations{clause} ORDER BY id DESC", params)
        return all_states(rows, RESERVATION)

    # Local authorization lists (1.6 §5.15, §5.10) ----------------------------------------------

    def record_local_list_update(
        self,
        charger_id: str,
        version: int,
        update_type: str,
        entries: list[dict[str, Any]],
        status: str,
        timestamp: TimeLike | None = None,
    ) -> None:
        now = self._now()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO local_list_updates(charger_id, version, update_type, entries, status,"
                " timestamp) VALUES (?, ?, ?, ?, ?, ?)",
                (charger_id, version, update_type, json.dumps(entries), status,
                 to_iso(timestamp) or now),
            )  # fmt: skip
            if status == "Accepted":
                self._set_list_version(conn, charger_id, version, now)

    @staticmethod
    def _set_list_version(conn: Any, charger_id: str, version: int, now: str) -> None:
        conn.execute(
            "INSERT INTO local_list_versions(charger_id, version, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT(charger_id) DO UPDATE SET version = excluded.version,"
            " updated_at = excluded.updated_at",
            (charger_id, version, now),
        )

    def set_local_list_version(self, charger_id: str, version: int) -> None:
        """The version a GetLocalListVersion.conf reported (the charger is the authority)."""
        with self._write() as conn:
            self._set_list_version(conn, charger_id, version, self._now())

    def get_local_list_version(self, charger_id: str) -> int | None:
        row = self._one(
            "SELECT version FROM local_list_versions WHERE charger_id = ?", (charger_id,)
        )
        return None if row is None else int(row["version"])

    def list_local_list_updates(self, charger_id: str) -> list[LocalListUpdate]:
        rows = self._all(
            "SELECT * FROM local_list_updates WHERE charger_id = ? ORDER BY id", (charger_id,)
        )
        for row in rows:
            row["entries"] = json.loads(row["entries"])
        return rows

    # Charging profiles (1.6 §5.16, §5.5) -------------------------------------------------------

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
    ) -> int:
        """Log a SetChargingProfile and its status. `profile` is the wire profile of either
        version (1.6 `csChargingProfiles`, 2.0.1 `chargingProfile`: both name stackLevel,
        chargingProfilePurpose and chargingProfileKind alike); `connector_id` is the 1.6
        connector or the 2.0.1 EVSE; the caller names the id (1.6 chargingProfileId, 2.0.1 id)
        and a 1.6 integer transactionId (a 2.0.1 string one stays in the profile).

        1.6 §5.16 (2.0.1 K01.FR.05, K01.FR.06): an accepted profile replaces one with the same
        id, or with the same stackLevel and purpose on the connector, so those are marked
        cleared.
        """
        ts = to_iso(timestamp) or self._now()
        purpose = profile["chargingProfilePurpose"]
        stack_level = profile["stackLevel"]
        with self._write() as conn:
            if status == "Accepted":
                conn.execute(
                    "UPDATE charging_profiles SET cleared_at = ? WHERE charger_id = ?"
                    " AND status = 'Accepted' AND cleared_at IS NULL AND (profile_id = ?"
                    " OR (connector_id = ? AND stack_level = ? AND purpose = ?))",
                    (ts, charger_id, profile_id, connector_id, stack_level, purpose),
                )  # fmt: skip
            cursor = conn.execute(
                "INSERT INTO charging_profiles(charger_id, connector_id, profile_id, stack_level,"
                " purpose, kind, transaction_id, profile, status, sent_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    charger_id,
                    connector_id,
                    profile_id,
                    stack_level,
                    purpose,
                    profile["chargingProfileKind"],
                    transaction_id,
                    json.dumps(profile),
                    status,
                    ts,
                ),
            )
            return int(cursor.lastrowid)  # type: ignore[arg-type]

    def clear_charging_profiles(
        self,
        charger_id: str,
        *,
        profile_id: int | None = None,
        connector_id: int | None = None,
        purpose: str | None = None,
        stack_level: int | None = None,
        timestamp: TimeLike | None = None,
    ) -> int:
        """Mirror an accepted ClearChargingProfile (1.6 §5.5): by id, or by the other criteria
        combined; no criteria clears all. Returns how many active profiles were cleared."""
        if profile_id is not None:
            filters: dict[str, Any] = {"profile_id": profile_id}
        else:
            filters = {
                "connector_id": connector_id,
                "purpose": purpose,
                "stack_level": stack_level,
            }
        clause, params = where({"charger_id": charger_id, **filters})
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE charging_profiles SET cleared_at = ?{clause}"
                " AND status = 'Accepted' AND cleared_at IS NULL",
                (to_iso(timestamp) or self._now(), *params),
            )
            return cursor.rowcount

    def list_charging_profiles(
        self, charger_id: str, *, active_only: bool = True
    ) -> list[ChargingProfileRecord]:
        """Active means accepted by the charger and not cleared or replaced since."""
        active = " AND status = 'Accepted' AND cleared_at IS NULL" if active_only else ""
        rows = self._all(
            f"SELECT * FROM charging_profiles WHERE charger_id = ?{active} ORDER BY id",
            (charger_id,),
        )
        for row in rows:
            row["profile"] = json.loads(row["profile"])
        return rows

    # Certificates (security extension: InstallCertificate, DeleteCertificate, SignCertificate) --

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
    ) -> int:
        """`certificate_type`: CentralSystemRootCertificate, ManufacturerRootCertificate, or
        ChargePointCertificate for one the CSMS signed (CertificateSigned)."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO certificates(charger_id, certificate_type, hash_algorithm,"
                " issuer_name_hash, issuer_key_hash, serial_number, pem, installed_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    charger_id,
                    certificate_type,
                    hash_algorithm,
                    issuer_name_hash,
                    issuer_key_hash,
                    serial_number,
                    pem,
                    to_iso(timestamp) or self._now(),
                ),
            )
            return int(cursor.lastrowid)  # type: ignore[arg-type]

    def remove_certificate(
        self,
        charger_id: str,
        *,
        serial_number: str,
        issuer_key_hash: str | None = None,
        timestamp: TimeLike | None = None,
    ) -> int:
        """Mark removed after an accepted DeleteCertificate; returns how many rows matched."""
        clause, params = where(
            {
                "charger_id": charger_id,
                "serial_number": serial_number,
                "issuer_key_hash": issuer_key_hash,
            }
        )
        with self._write() as conn:
            cursor = conn.execute(
                f"UPDATE certificates SET removed_at = ?{clause} AND removed_at IS NULL",
                (to_iso(timestamp) or self._now(), *params),
            )
            return cursor.rowcount

    def list_certificates(
        self,
        charger_id: str,
        *,
        certificate_type: str | None = None,
        include_removed: bool = False,
    ) -> list[Certificate]:
        clause, params = where({"charger_id": charger_id, "certificate_type": certificate_type})
        removed = "" if include_removed else " AND removed_at IS NULL"
        return self._all(f"SELECT * FROM certificates{clause}{removed} ORDER BY id", params)

    # Configuration (seeds/000 §6.3: baselines and drift) ----------------------------------------

    def set_config_baseline(
        self, charger_id: str, values: Mapping[str, str | None], *, replace: bool = True
    ) -> None:
        """The keys and values the charger should have; `replace` drops keys not listed."""
        with self._write() as conn:
            if replace:
                conn.execute("DELETE FROM config_baselines WHERE charger_id = ?", (charger_id,))
            conn.executemany(
                "INSERT INTO config_baselines(charger_id, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT(charger_id, key) DO UPDATE SET value = excluded.value",
                [(charger_id, key, value) for key, value in values.items()],
            )

    def get_config_baseline(self, charger_id: str) -> dict[str, str | None]:
        rows = self._all(
            "SELECT key, value FROM config_baselines WHERE charger_id = ? ORDER BY key",
            (charger_id,),
        )
        return {row["key"]: row["value"] for row in rows}

    def record_reported_config(
        self,
        charger_id: str,
        entries: Iterable[Mapping[str, Any]],
        timestamp: TimeLike | None = None,
    ) -> None:
        ts = to_iso(timestamp) or self._now()
        with self._write() as conn:
            conn.executemany(
                "INSERT INTO config_reported(charger_id, key, value, readonly, reported_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(charger_id, key) DO UPDATE SET"
                " value = excluded.value, readonly = excluded.readonly,"
                " reported_at = excluded.reported_at",
                [
                    (charger_id, e["key"], e.get("value"), int(bool(e.get("readonly"))), ts)
                    for e in entries
                ],
            )

    def get_reported_config(self, charger_id: str) -> dict[str, ReportedKey]:
        """1.6 configuration keys and monitors as reported, with a 2.0.1 station's Actual
        values from its device model (`station_variables`) under `variable_key`."""
        rows = self._all(
            "SELECT key, value, readonly, reported_at FROM config_reported"
            " WHERE charger_id = ? ORDER BY key",
            (charger_id,),
        )
        reported: dict[str, ReportedKey] = {
            row["key"]: {
                "value": row["value"],
                "readonly": bool(row["readonly"]),
                "reported_at": row["reported_at"],
            }
            for row in rows
        }
        for var in self._all(
            "SELECT * FROM station_variables WHERE charger_id = ? AND attribute_type = 'Actual'",
            (charger_id,),
        ):
            key = variable_key(
                var["component"], var["variable"], component_instance=var["component_instance"],
                variable_instance=var["variable_instance"], evse_id=var["evse_id"],
                connector_id=var["connector_id"],
            )  # fmt: skip
            reported[key] = {"value": var["value"], "readonly": var["mutability"] == "ReadOnly",
                             "reported_at": var["reported_at"]}  # fmt: skip
        return dict(sorted(reported.items()))

    # Security events (security extension SecurityEventNotification) ---------------------------

    def add_security_event(
        self,
        charger_id: str,
        type: str,
        timestamp: TimeLike,
        *,
        tech_info: str | None = None,
    ) -> int:
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO security_events(charger_id, type, timestamp, tech_info, received_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (charger_id, type, to_iso(timestamp), tech_info, self._now()),
            )
            return int(cursor.lastrowid)  # type: ignore[arg-type]

    def list_security_events(
        self,
        *,
        charger_id: str | None = None,
        since: TimeLike | None = None,
        until: TimeLike | None = None,
        limit: int | None = 100,
        offset: int = 0,
    ) -> list[SecurityEvent]:
        """Newest first."""
        clause, params = where(
            {"charger_id": charger_id, "timestamp >=": to_iso(since), "timestamp <": to_iso(until)}
        )
        return self._all(
            f"SELECT * FROM security_events{clause} ORDER BY timestamp DESC, id DESC"
            f"{page(limit, offset)}",
            params,
        )
