"""SQLite schema of the reference CSMS (a Python string, so it ships in the wheel with the code).

Conventions: timestamps are TEXT in the canonical form of `timestamps.py` (UTC, µs, `Z`), so
text order is time order; money and exact meter readings are TEXT holding a Decimal, never REAL;
enumerations hold the OCPP 1.6 spelling (`Accepted`, `EVDisconnected`...).
"""

SCHEMA_VERSION = 3  # 2: users, API tokens, wallets, wallet ledger, billing retry queue
#                    3: remote starts (pending transaction records, seeds/001 §4.3 step 5d)

SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS locations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    address     TEXT,
    timezone    TEXT,
    latitude    REAL,
    longitude   REAL
);

CREATE TABLE IF NOT EXISTS chargers (
    id                   TEXT PRIMARY KEY,              -- chargePointId, last segment of the URL
    location_id          TEXT REFERENCES locations(id),
    serial               TEXT,
    vendor               TEXT,
    model                TEXT,
    firmware_version     TEXT,
    iccid                TEXT,
    imsi                 TEXT,
    meter_type           TEXT,
    meter_serial         TEXT,
    security_profile     INTEGER NOT NULL DEFAULT 0,
    max_profile_seen     INTEGER NOT NULL DEFAULT 0,    -- never admitted below this again
    auth_key_hash        TEXT,                          -- scrypt$n$r$p$salt$hash, see passwords.py
    registration_status  TEXT NOT NULL DEFAULT 'Pending',
    last_boot            TEXT,
    last_heartbeat       TEXT,
    online               INTEGER NOT NULL DEFAULT 0,
    online_since         TEXT,
    online_session       TEXT                           -- the connection that set online
);
CREATE INDEX IF NOT EXISTS chargers_location ON chargers(location_id);
-- charge point ids that differ only in letter case are one identity (csms.admission)
CREATE INDEX IF NOT EXISTS chargers_id_nocase ON chargers(id COLLATE NOCASE);

CREATE TABLE IF NOT EXISTS connectors (
    charger_id          TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    connector_id        INTEGER NOT NULL,               -- 0 is the charge point as a whole
    connector_type      TEXT,
    max_power_w         INTEGER,
    status              TEXT,
    error_code          TEXT,
    info                TEXT,
    vendor_id           TEXT,
    vendor_error_code   TEXT,
    timestamp           TEXT,
    PRIMARY KEY (charger_id, connector_id)
);

CREATE TABLE IF NOT EXISTS status_history (
    id                  INTEGER PRIMARY KEY,
    charger_id          TEXT NOT NULL,
    connector_id        INTEGER NOT NULL,               -- 1.6 connector, 2.0.1 EVSE
    status              TEXT NOT NULL,
    error_code          TEXT,
    info                TEXT,
    vendor_id           TEXT,
    vendor_error_code   TEXT,
    timestamp           TEXT,
    received_at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_history_cp ON status_history(charger_id, connector_id, id);

CREATE TABLE IF NOT EXISTS id_tags (
    id_tag          TEXT PRIMARY KEY,
    status          TEXT NOT NULL DEFAULT 'Accepted',
    expiry_date     TEXT,
    parent_id_tag   TEXT
);
CREATE INDEX IF NOT EXISTS id_tags_parent ON id_tags(parent_id_tag);

CREATE TABLE IF NOT EXISTS tariffs (
    charger_id      TEXT PRIMARY KEY,                   -- '' is the global fallback
    rate_per_kwh    TEXT NOT NULL,                      -- Decimal as text
    currency        TEXT NOT NULL DEFAULT 'INR'
);

-- The INTEGER PRIMARY KEY is the OCPP transactionId. AUTOINCREMENT: an id is never reused, even
-- after the newest row is deleted, so a charge point can never be handed an id it saw before.
CREATE TABLE IF NOT EXISTS transactions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id          TEXT NOT NULL REFERENCES chargers(id),
    connector_id        INTEGER NOT NULL,               -- 1.6 connector, 2.0.1 EVSE
    id_tag              TEXT NOT NULL,
    id_tag_status       TEXT,
    meter_start         INTEGER NOT NULL,
    start_time          TEXT NOT NULL,
    reservation_id      INTEGER,
    meter_stop          INTEGER,
    stop_time           TEXT,
    stop_reason         TEXT,
    id_tag_stop         TEXT,
    status              TEXT NOT NULL DEFAULT 'Running',
    energy_wh           INTEGER,
    tariff_rate         TEXT,
    amount              TEXT,
    currency            TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_cp ON transactions(charger_id, connector_id, stop_time);
CREATE INDEX IF NOT EXISTS transactions_tag ON transactions(id_tag, stop_time);
CREATE INDEX IF NOT EXISTS transactions_status ON transactions(status);
CREATE INDEX IF NOT EXISTS transactions_start ON transactions(start_time);

CREATE TABLE IF NOT EXISTS meter_values (
    id              INTEGER PRIMARY KEY,
    charger_id      TEXT NOT NULL,
    connector_id    INTEGER NOT NULL,
    transaction_id  INTEGER,                            -- no FK: a charger may report a stale id
    timestamp       TEXT NOT NULL,
    value           TEXT NOT NULL,                      -- exactly as sent
    measurand       TEXT NOT NULL,
    phase           TEXT,
    unit            TEXT,                               -- as sent (NULL when omitted)
    context         TEXT NOT NULL,
    location        TEXT NOT NULL,
    format          TEXT NOT NULL,
    norm_value      TEXT,                               -- Decimal text in norm_unit
    norm_unit       TEXT
);
CREATE INDEX IF NOT EXISTS meter_values_tx ON meter_values(transaction_id, timestamp);
CREATE INDEX IF NOT EXISTS meter_values_cp ON meter_values(charger_id, connector_id, timestamp);

CREATE TABLE IF NOT EXISTS message_log (
    id          INTEGER PRIMARY KEY,
    ts          TEXT NOT NULL,
    cp_id       TEXT NOT NULL,
    dir         TEXT NOT NULL,                          -- 'cp->cs' | 'cs->cp'
    type        TEXT NOT NULL,                          -- CALL | CALLRESULT | CALLERROR
    msg_id      TEXT,
    action      TEXT,
    payload     TEXT,                                   -- JSON
    latency_ms  REAL,
    session     TEXT
);
CREATE INDEX IF NOT EXISTS message_log_cp_ts ON message_log(cp_id, ts);
CREATE INDEX IF NOT EXISTS message_log_ts ON message_log(ts);
CREATE INDEX IF NOT EXISTS message_log_action ON message_log(action, ts);

CREATE TABLE IF NOT EXISTS firmware_deployments (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    charger_id      TEXT NOT NULL REFERENCES chargers(id),
    location        TEXT NOT NULL,                      -- firmware URI
    retrieve_date   TEXT NOT NULL,
    retries         INTEGER,
    retry_interval  INTEGER,
    status          TEXT NOT NULL DEFAULT 'Pending',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS firmware_deployments_cp ON firmware_deployments(charger_id, id);

CREATE TABLE IF NOT EXISTS firmware_status_history (
    id              INTEGER PRIMARY KEY,
    deployment_id   INTEGER REFERENCES firmware_deployments(id),
    charger_id      TEXT NOT NULL,
    status          TEXT NOT NULL,
    timestamp       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS firmware_history_dep ON firmware_status_history(deployment_id, id);

CREATE TABLE IF NOT EXISTS diagnostics_requests (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- also the requestId of GetLog
    charger_id      TEXT NOT NULL REFERENCES chargers(id),
    location        TEXT NOT NULL,                      -- upload URI
    log_type        TEXT,                               -- NULL: GetDiagnostics; else GetLog logType
    start_time      TEXT,
    stop_time       TEXT,
    retries         INTEGER,
    retry_interval  INTEGER,
    file_name       TEXT,
    status          TEXT NOT NULL DEFAULT 'Requested',
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS diagnostics_requests_cp ON diagnostics_requests(charger_id, id);

CREATE TABLE IF NOT EXISTS reservations (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,  -- the OCPP reservationId
    charger_id      TEXT NOT NULL REFERENCES chargers(id),
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT NOT NULL,
    parent_id_tag   TEXT,
    expiry_date     TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'Requested',
    transaction_id  INTEGER,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_cp ON reservations(charger_id, connector_id, status);

CREATE TABLE IF NOT EXISTS local_list_versions (
    charger_id      TEXT PRIMARY KEY REFERENCES chargers(id),
    version         INTEGER NOT NULL,
    updated_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS local_list_updates (
    id              INTEGER PRIMARY KEY,
    charger_id      TEXT NOT NULL,
    version         INTEGER NOT NULL,
    update_type     TEXT NOT NULL,                      -- Full | Differential
    entries         TEXT NOT NULL,                      -- JSON localAuthorizationList
    status          TEXT NOT NULL,                      -- SendLocalList.conf status
    timestamp       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS local_list_updates_cp ON local_list_updates(charger_id, id);

CREATE TABLE IF NOT EXISTS charging_profiles (
    id                  INTEGER PRIMARY KEY,
    charger_id          TEXT NOT NULL,
    connector_id        INTEGER NOT NULL,               -- 1.6 connector, 2.0.1 EVSE
    profile_id          INTEGER NOT NULL,               -- 1.6 chargingProfileId, 2.0.1 id
    stack_level         INTEGER NOT NULL,
    purpose             TEXT NOT NULL,
    kind                TEXT NOT NULL,
    transaction_id      INTEGER,                        -- 1.6 only (2.0.1: in profile)
    profile             TEXT NOT NULL,                  -- JSON wire profile
    status              TEXT NOT NULL,                  -- SetChargingProfile.conf status
    sent_at             TEXT NOT NULL,
    cleared_at          TEXT
);
CREATE INDEX IF NOT EXISTS charging_profiles_cp ON charging_profiles(charger_id, cleared_at);

CREATE TABLE IF NOT EXISTS certificates (
    id                  INTEGER PRIMARY KEY,
    charger_id          TEXT NOT NULL,
    certificate_type    TEXT NOT NULL,                  -- CertificateUse, or ChargePointCertificate
    hash_algorithm      TEXT,
    issuer_name_hash    TEXT,
    issuer_key_hash     TEXT,
    serial_number       TEXT,
    pem                 TEXT,
    installed_at        TEXT NOT NULL,
    removed_at          TEXT
);
CREATE INDEX IF NOT EXISTS certificates_cp ON certificates(charger_id, removed_at);

CREATE TABLE IF NOT EXISTS config_baselines (
    charger_id  TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT,
    PRIMARY KEY (charger_id, key)
);

CREATE TABLE IF NOT EXISTS config_reported (
    charger_id  TEXT NOT NULL,
    key         TEXT NOT NULL,
    value       TEXT,
    readonly    INTEGER NOT NULL DEFAULT 0,
    reported_at TEXT NOT NULL,
    PRIMARY KEY (charger_id, key)
);

CREATE TABLE IF NOT EXISTS security_events (
    id          INTEGER PRIMARY KEY,
    charger_id  TEXT NOT NULL,
    type        TEXT NOT NULL,
    timestamp   TEXT NOT NULL,
    tech_info   TEXT,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS security_events_cp ON security_events(charger_id, timestamp);

-- Business (schema 2): users with a virtual RFID id (seeds/001 §7.2), wallets (§7.3), billing
-- retries (§4.1 step 5, §5.4 "Billing Retry Mechanism").
CREATE TABLE IF NOT EXISTS users (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    email           TEXT UNIQUE,
    role            TEXT NOT NULL DEFAULT 'USER',       -- ADMIN | USER
    rfid_card_id    TEXT NOT NULL UNIQUE,               -- the idTag sent in RemoteStartTransaction
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS api_tokens (
    token_hash      TEXT PRIMARY KEY,                   -- sha256 hex of the bearer token
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS api_tokens_user ON api_tokens(user_id);

CREATE TABLE IF NOT EXISTS wallets (
    user_id         TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    balance         TEXT NOT NULL DEFAULT '0.00',       -- Decimal as text
    currency        TEXT NOT NULL DEFAULT 'INR',
    updated_at      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS wallet_transactions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    type            TEXT NOT NULL,                      -- TOP_UP | CHARGE_DEDUCT | ADJUSTMENT
    amount          TEXT NOT NULL,                      -- signed Decimal text: -85.00, +500.00
    balance_after   TEXT NOT NULL,                      -- running balance
    currency        TEXT NOT NULL,
    transaction_id  INTEGER,                            -- the charging transaction (CHARGE_DEDUCT)
    reference       TEXT,                               -- payment id (TOP_UP)
    created_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS wallet_transactions_user ON wallet_transactions(user_id, id);
-- A charging transaction is deducted at most once; a payment is credited at most once.
CREATE UNIQUE INDEX IF NOT EXISTS wallet_transactions_charge
    ON wallet_transactions(transaction_id) WHERE type = 'CHARGE_DEDUCT';
CREATE UNIQUE INDEX IF NOT EXISTS wallet_transactions_reference
    ON wallet_transactions(reference) WHERE reference IS NOT NULL;

CREATE TABLE IF NOT EXISTS billing_retries (
    transaction_id  INTEGER PRIMARY KEY REFERENCES transactions(id),
    state           TEXT NOT NULL DEFAULT 'Pending',    -- Pending | Done | Review
    reason          TEXT,
    attempts        INTEGER NOT NULL DEFAULT 1,
    first_failed_at TEXT NOT NULL,
    last_attempt_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_retries_due ON billing_retries(state, next_attempt_at);

-- Remote starts (schema 3): the pending transaction record of seeds/001 §4.3 step 5d, created
-- before RemoteStartTransaction is sent. Pending until a StartTransaction for the same charger,
-- connector and idTag links it (Started), or it ends Rejected / Failed / Expired.
CREATE TABLE IF NOT EXISTS remote_starts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id         TEXT REFERENCES users(id) ON DELETE CASCADE,
    charger_id      TEXT NOT NULL,
    connector_id    INTEGER NOT NULL,
    id_tag          TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'Pending',    -- Pending|Started|Rejected|Failed|Expired
    reply_status    TEXT,                               -- RemoteStartTransaction.conf status
    transaction_id  INTEGER REFERENCES transactions(id),
    reason          TEXT,
    requested_at    TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS remote_starts_open
    ON remote_starts(charger_id, connector_id, id_tag, status);
CREATE INDEX IF NOT EXISTS remote_starts_user ON remote_starts(user_id, id);
"""


#: Version 4 (csms.store.migrations): what an OCPP 2.0.1 station adds. New tables only, so the
#: rows of the baseline tables keep their shape. A 2.0.1 transaction is also a `transactions` row
#: (one registry for billing, the API and the dashboard) with `connector_id` = its EVSE id.
SCHEMA_4 = """
-- 2.0.1 StatusNotification names an EVSE and a connector of it (part 2 G01)
CREATE TABLE IF NOT EXISTS evse_connectors (
    charger_id      TEXT NOT NULL REFERENCES chargers(id) ON DELETE CASCADE,
    evse_id         INTEGER NOT NULL,
    connector_id    INTEGER NOT NULL,
    status          TEXT NOT NULL,                      -- ConnectorStatusEnumType
    timestamp       TEXT NOT NULL,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (charger_id, evse_id, connector_id)
);

-- the station chooses a 2.0.1 transactionId (string[36], unique per station: E01.FR.08)
CREATE TABLE IF NOT EXISTS station_transactions (
    charger_id      TEXT NOT NULL,
    station_tx_id   TEXT NOT NULL,
    transaction_id  INTEGER NOT NULL,                   -- transactions.id
    PRIMARY KEY (charger_id, station_tx_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS station_transactions_tx ON station_transactions(transaction_id);

-- every TransactionEvent received, by seqNo (part 2 E §1.3.2: gaps show what is missing)
CREATE TABLE IF NOT EXISTS transaction_events (
    charger_id      TEXT NOT NULL,
    station_tx_id   TEXT NOT NULL,
    seq_no          INTEGER NOT NULL,
    event_type      TEXT NOT NULL,                      -- Started / Updated / Ended
    trigger_reason  TEXT NOT NULL,
    timestamp       TEXT NOT NULL,
    offline         INTEGER NOT NULL DEFAULT 0,
    charging_state  TEXT,
    id_token        TEXT,
    evse_id         INTEGER,
    received_at     TEXT NOT NULL,
    PRIMARY KEY (charger_id, station_tx_id, seq_no)
);
"""


#: Version 5: an OCPP 2.0.1 station's device model as the station reports it (part 2 B07/B08
#: NotifyReport, B05/B06 results, N07 NotifyEvent): one row per component, variable and
#: attribute type. An absent instance is '' and an absent EVSE or connector 0 (EVSE and
#: connector ids are > 0 in 2.0.1), so the key is unique without NULLs.
SCHEMA_5 = """
CREATE TABLE IF NOT EXISTS station_variables (
    charger_id          TEXT NOT NULL,
    component           TEXT NOT NULL,
    component_instance  TEXT NOT NULL,
    evse_id             INTEGER NOT NULL,
    connector_id        INTEGER NOT NULL,
    variable            TEXT NOT NULL,
    variable_instance   TEXT NOT NULL,
    attribute_type      TEXT NOT NULL,                  -- AttributeEnumType
    value               TEXT,                           -- NULL: not reported (WriteOnly)
    mutability          TEXT,                           -- NULL: not reported
    persistent          INTEGER,
    constant            INTEGER,
    characteristics     TEXT,                           -- JSON VariableCharacteristicsType
    reported_at         TEXT NOT NULL,
    PRIMARY KEY (charger_id, component, component_instance, evse_id, connector_id, variable,
                 variable_instance, attribute_type)
);
"""


#: Version 6: an id tag may be registered as one 2.0.1 IdTokenEnumType (C01: an IdToken is its
#: value and its type; ISO14443 "04A2..." and eMAID "04A2..." are two tokens). NULL: any type,
#: as every 1.6 idTag (which has none).
SCHEMA_6 = """
ALTER TABLE id_tags ADD COLUMN token_type TEXT
"""


#: Version 7: the messages `chargebench csms --workers N` passes between its processes when one is
#: over NOTIFY's payload limit (`csms.cluster`: the NOTIFY carries the row's id). PostgreSQL only
#: (a cluster needs it); a SQLite file records the version with no statement, so one version
#: number means one schema on both backends.
SCHEMA_7_POSTGRES = """
CREATE TABLE IF NOT EXISTS cluster_messages (
    id          TEXT PRIMARY KEY,
    body        TEXT NOT NULL,
    created     TIMESTAMPTZ NOT NULL DEFAULT now()
)
"""


#: Version 8: what a 2.0.1 station notifies beyond its device model and transactions, kept per
#: station (until then only in the message log), and the serial the operator registered for a
#: charger, kept apart from the one its boot reports (`chargers.registered_serial`).
SCHEMA_8 = """
-- K11/K12 NotifyChargingLimit: a limit or schedule an external system (EMS, SO, Other) set on
-- the station; one row per EVSE (0: the station as a whole, evseId left out) and source,
-- deleted by the matching ClearedChargingLimit (K13.FR.02)
CREATE TABLE IF NOT EXISTS external_charging_limits (
    charger_id          TEXT NOT NULL,
    evse_id             INTEGER NOT NULL,
    source              TEXT NOT NULL,                  -- ChargingLimitSourceEnumType
    is_grid_critical    INTEGER,                        -- NULL: not said
    schedules           TEXT,                           -- JSON ChargingScheduleType list
    reported_at         TEXT NOT NULL,
    PRIMARY KEY (charger_id, evse_id, source)
);

-- L03 PublishFirmwareStatusNotification: the latest status of a Local Controller's publishing
CREATE TABLE IF NOT EXISTS publish_firmware_status (
    charger_id          TEXT PRIMARY KEY,
    status              TEXT NOT NULL,                  -- PublishFirmwareStatusEnumType
    request_id          INTEGER,                        -- the PublishFirmwareRequest's
    locations           TEXT,                           -- JSON URI list (L03.FR.04: Published)
    reported_at         TEXT NOT NULL
);

-- O04 NotifyDisplayMessages: the messages a station reported it has configured, by id
CREATE TABLE IF NOT EXISTS display_messages (
    charger_id          TEXT NOT NULL,
    message_id          INTEGER NOT NULL,
    request_id          INTEGER NOT NULL,               -- the GetDisplayMessagesRequest's
    info                TEXT NOT NULL,                  -- JSON MessageInfoType as reported
    reported_at         TEXT NOT NULL,
    PRIMARY KEY (charger_id, message_id)
);

-- N09 NotifyCustomerInformation: each part by seqNo; a request's data is the parts in order
CREATE TABLE IF NOT EXISTS customer_information (
    charger_id          TEXT NOT NULL,
    request_id          INTEGER NOT NULL,
    seq_no              INTEGER NOT NULL,
    data                TEXT NOT NULL,
    tbc                 INTEGER NOT NULL,
    generated_at        TEXT NOT NULL,
    received_at         TEXT NOT NULL,
    PRIMARY KEY (charger_id, request_id, seq_no)
);

-- A00.FR.405/511: the serial a charger's certificate must name is the operator's word, never
-- what its boot claims (`chargers.serial`). Rows written before this version keep their serial
-- as registered: which of them a boot wrote cannot be told any more.
ALTER TABLE chargers ADD COLUMN registered_serial TEXT;
UPDATE chargers SET registered_serial = serial;
"""
