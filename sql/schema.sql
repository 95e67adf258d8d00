-- csmatch schema, version 1: portable DDL for SQLite and PostgreSQL.
-- Conventions: timestamps end in _at (UTC), dates end in _date (or dob); money in dollars.
-- {{IDENTITY}} is the one dialect token: an auto-increment integer primary key.
-- Later changes go in sql/migrations/NNN_name.sql, never here.

CREATE TABLE IF NOT EXISTS schema_version (
    version     INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    applied_at  TIMESTAMP NOT NULL
);

-- Registry snapshot: the tables hold exactly one snapshot (the current one) outside a load transaction.
CREATE TABLE IF NOT EXISTS registry_snapshot (
    snapshot_id     TEXT PRIMARY KEY,
    loaded_at       TIMESTAMP NOT NULL,
    is_current      BOOLEAN NOT NULL,
    ncp_rows        INTEGER NOT NULL,
    alias_rows      INTEGER NOT NULL,
    ncp_case_rows   INTEGER NOT NULL,
    known_employer_rows INTEGER NOT NULL,
    known_address_rows  INTEGER NOT NULL,
    ncp_added       INTEGER NOT NULL,
    ncp_removed     INTEGER NOT NULL,
    ncp_changed     INTEGER NOT NULL
);

CREATE TABLE IF NOT EXISTS registry_ncp (
    snapshot_id     TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    ssn             TEXT,
    first_name      TEXT,
    middle_name     TEXT,
    last_name       TEXT,
    suffix          TEXT,
    dob             DATE,
    sex             TEXT,
    address_line1   TEXT,
    address_line2   TEXT,
    city            TEXT,
    state           TEXT,
    zip             TEXT,
    PRIMARY KEY (snapshot_id, person_id)
);

CREATE TABLE IF NOT EXISTS registry_alias (
    snapshot_id     TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    first_name      TEXT,
    middle_name     TEXT,
    last_name       TEXT,
    suffix          TEXT,
    ssn             TEXT
);
CREATE INDEX IF NOT EXISTS registry_alias_person ON registry_alias (snapshot_id, person_id);

CREATE TABLE IF NOT EXISTS registry_ncp_case (
    snapshot_id     TEXT NOT NULL,
    case_id         TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    caseworker_id   TEXT,
    office_id       TEXT,
    case_status     TEXT,
    order_status    TEXT,
    current_support_monthly NUMERIC(14, 2),
    arrears_balance NUMERIC(14, 2),
    family_violence TEXT,
    PRIMARY KEY (snapshot_id, case_id)
);
CREATE INDEX IF NOT EXISTS registry_ncp_case_person ON registry_ncp_case (snapshot_id, person_id);

CREATE TABLE IF NOT EXISTS registry_known_employer (
    snapshot_id     TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    fein            TEXT,
    employer_name   TEXT,
    start_date      DATE,
    end_date        DATE,
    iwo_active      TEXT
);
CREATE INDEX IF NOT EXISTS registry_known_employer_person ON registry_known_employer (snapshot_id, person_id);

CREATE TABLE IF NOT EXISTS registry_known_address (
    snapshot_id     TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    address_line1   TEXT,
    address_line2   TEXT,
    city            TEXT,
    state           TEXT,
    zip             TEXT,
    verified_date   DATE
);
CREATE INDEX IF NOT EXISTS registry_known_address_person ON registry_known_address (snapshot_id, person_id);

-- Every file ever offered, by content: a file seen before is skipped, not reprocessed.
CREATE TABLE IF NOT EXISTS file_manifest (
    sha256          TEXT PRIMARY KEY,
    source          TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    received_at     TIMESTAMP NOT NULL,
    status          TEXT NOT NULL,          -- claimed | processed | rejected | failed
    reason          TEXT,
    attempts        INTEGER NOT NULL,
    claimed_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS run (
    run_id          TEXT PRIMARY KEY,
    source          TEXT NOT NULL,
    file_sha256     TEXT NOT NULL REFERENCES file_manifest (sha256),
    file_name       TEXT NOT NULL,
    model_version   TEXT NOT NULL,
    snapshot_id     TEXT NOT NULL,
    status          TEXT NOT NULL,          -- running | finished
    started_at      TIMESTAMP NOT NULL,
    finished_at     TIMESTAMP,
    summary         TEXT                    -- JSON
);

-- The decided matches of each run (decision auto | review), with per-field evidence as JSON.
CREATE TABLE IF NOT EXISTS run_match (
    run_id          TEXT NOT NULL REFERENCES run (run_id),
    record_number   BIGINT NOT NULL,
    source          TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    match_weight    DOUBLE PRECISION,
    match_probability DOUBLE PRECISION,
    decision        TEXT NOT NULL,
    runner_up_person_id TEXT,
    runner_up_weight DOUBLE PRECISION,
    blocking_rules  TEXT,
    reasons         TEXT,
    model_version   TEXT,
    evidence        TEXT,                   -- JSON: {"<field>_level": ..., "<field>_weight": ...}
    PRIMARY KEY (run_id, record_number)
);

CREATE TABLE IF NOT EXISTS work_item (
    item_id         {{IDENTITY}},
    idempotency_key TEXT NOT NULL UNIQUE,
    item_kind       TEXT NOT NULL,
    case_id         TEXT,
    person_id       TEXT NOT NULL,
    caseworker_id   TEXT,
    office_id       TEXT,
    source          TEXT NOT NULL,
    new_info        TEXT NOT NULL,          -- JSON
    due_date        DATE,
    family_violence BOOLEAN NOT NULL,
    match_weight    DOUBLE PRECISION,
    match_probability DOUBLE PRECISION,
    decision        TEXT NOT NULL,
    reasons         TEXT,
    file_sha256     TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    record_number   BIGINT NOT NULL,
    run_id          TEXT NOT NULL REFERENCES run (run_id),
    model_version   TEXT,
    status          TEXT NOT NULL,          -- open | claimed | resolved
    assigned_to     TEXT,
    claimed_at      TIMESTAMP,
    disposition     TEXT,
    resolved_at     TIMESTAMP,
    created_at      TIMESTAMP NOT NULL
);

-- Every sighting of an item's fact: the first one and each corroboration (another source, run or file).
CREATE TABLE IF NOT EXISTS work_item_evidence (
    idempotency_key TEXT NOT NULL REFERENCES work_item (idempotency_key),
    run_id          TEXT NOT NULL REFERENCES run (run_id),
    record_number   BIGINT NOT NULL,
    source          TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    match_weight    DOUBLE PRECISION,
    match_probability DOUBLE PRECISION,
    decision        TEXT NOT NULL,
    added_at        TIMESTAMP NOT NULL,
    PRIMARY KEY (idempotency_key, run_id, record_number)
);

CREATE TABLE IF NOT EXISTS work_item_action (
    action_id       {{IDENTITY}},
    item_id         BIGINT NOT NULL REFERENCES work_item (item_id),
    action          TEXT NOT NULL,          -- claim | resolve
    worker          TEXT NOT NULL,
    disposition     TEXT,
    note            TEXT,
    acted_at        TIMESTAMP NOT NULL
);
