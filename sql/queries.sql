-- Named queries of pipeline.database.Database. Bound parameters only (:name), never formatted values.
-- A block named <name>.<dialect> overrides <name> for that dialect.

-- name: schema_versions
SELECT version FROM schema_version ORDER BY version;

-- name: schema_version_insert
INSERT INTO schema_version (version, name, applied_at) VALUES (:version, :name, :applied_at);

-- name: schema_version_table_exists.sqlite
SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version';

-- name: schema_version_table_exists.postgresql
SELECT count(*) FROM information_schema.tables
WHERE table_schema = current_schema() AND table_name = 'schema_version';

-- ---------------------------------------------------------------- registry snapshot

-- name: snapshot_current
SELECT snapshot_id, loaded_at, ncp_rows, alias_rows, ncp_case_rows, known_employer_rows, known_address_rows,
       ncp_added, ncp_removed, ncp_changed
FROM registry_snapshot WHERE is_current;

-- name: snapshot_insert
INSERT INTO registry_snapshot (snapshot_id, loaded_at, is_current, ncp_rows, alias_rows, ncp_case_rows,
    known_employer_rows, known_address_rows, ncp_added, ncp_removed, ncp_changed)
VALUES (:snapshot_id, :loaded_at, FALSE, :ncp_rows, :alias_rows, :ncp_case_rows, :known_employer_rows,
    :known_address_rows, 0, 0, 0);

-- name: snapshot_make_current
UPDATE registry_snapshot SET is_current = (snapshot_id = :snapshot_id),
    ncp_added = CASE WHEN snapshot_id = :snapshot_id THEN :added ELSE ncp_added END,
    ncp_removed = CASE WHEN snapshot_id = :snapshot_id THEN :removed ELSE ncp_removed END,
    ncp_changed = CASE WHEN snapshot_id = :snapshot_id THEN :changed ELSE ncp_changed END;

-- name: registry_keys_to_rebuild.sqlite
-- (drop, create) statements for the registry tables' secondary indexes: a load drops them, inserts, then
-- builds them again (one sort each instead of millions of random index inserts).
SELECT 'DROP INDEX "' || replace(name, '"', '""') || '"', sql FROM sqlite_master
WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('registry_ncp', 'registry_alias',
    'registry_ncp_case', 'registry_known_employer', 'registry_known_address')
ORDER BY name;

-- name: registry_keys_to_rebuild.postgresql
-- The same, plus the primary keys of the tables a load truncates (registry_ncp keeps its key: it still
-- holds the old snapshot, which stays readable during the load).
SELECT format('DROP INDEX %I', i.relname), pg_get_indexdef(i.oid)
FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
WHERE t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    AND t.relname IN ('registry_ncp', 'registry_alias', 'registry_ncp_case', 'registry_known_employer',
        'registry_known_address')
    AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
UNION ALL
SELECT format('ALTER TABLE %I DROP CONSTRAINT %I', t.relname, c.conname),
    format('ALTER TABLE %I ADD CONSTRAINT %I %s', t.relname, c.conname, pg_get_constraintdef(c.oid))
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
WHERE t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
    AND c.contype = 'p'
    AND t.relname IN ('registry_alias', 'registry_ncp_case', 'registry_known_employer', 'registry_known_address')
ORDER BY 1;

-- name: registry_load_settings.postgresql
-- The rebuilt indexes sort in memory, in this backend (parallel workers only slowed them down on 2 cores).
SET LOCAL maintenance_work_mem = '256MB';
SET LOCAL max_parallel_maintenance_workers = 0;

-- name: registry_clear_details
-- Outside a load the tables hold only the current snapshot, which the new one replaces. registry_ncp keeps
-- it until the diff.
DELETE FROM registry_alias;
DELETE FROM registry_ncp_case;
DELETE FROM registry_known_employer;
DELETE FROM registry_known_address;

-- name: registry_clear_details.postgresql
-- Locks the tables in read_registry's order (no deadlock with a reader); readers wait for the commit.
TRUNCATE registry_alias, registry_ncp_case, registry_known_employer, registry_known_address;

-- name: registry_analyze
-- Statistics of the cases, without which SQLite's planner probes the whole case index for the worklist's
-- per-item family-violence check instead of the partial index of flagged cases (migration 006).
ANALYZE registry_ncp_case;

-- name: registry_analyze.postgresql
-- Fresh statistics (new rows included) so the diff joins the two snapshots instead of probing 2M times.
ANALYZE registry_ncp;
ANALYZE registry_ncp_case;

-- name: ncp_diff
-- The NCPs in both the old and the new snapshot (by person_id), and of those how many changed.
SELECT count(*) AS kept,
    coalesce(sum(CASE WHEN n.ssn IS DISTINCT FROM o.ssn OR n.first_name IS DISTINCT FROM o.first_name
        OR n.middle_name IS DISTINCT FROM o.middle_name OR n.last_name IS DISTINCT FROM o.last_name
        OR n.suffix IS DISTINCT FROM o.suffix OR n.dob IS DISTINCT FROM o.dob OR n.sex IS DISTINCT FROM o.sex
        OR n.address_line1 IS DISTINCT FROM o.address_line1
        OR n.address_line2 IS DISTINCT FROM o.address_line2 OR n.city IS DISTINCT FROM o.city
        OR n.state IS DISTINCT FROM o.state OR n.zip IS DISTINCT FROM o.zip THEN 1 ELSE 0 END), 0) AS changed
FROM registry_ncp o JOIN registry_ncp n ON n.snapshot_id = :new AND n.person_id = o.person_id
WHERE o.snapshot_id = :old;

-- name: registry_drop_previous_ncp
DELETE FROM registry_ncp WHERE snapshot_id <> :snapshot_id;

-- name: wanted_person_create
CREATE TEMPORARY TABLE wanted_person (person_id TEXT PRIMARY KEY);

-- name: wanted_person_drop
DROP TABLE wanted_person;

-- ---------------------------------------------------------------- file manifest

-- name: manifest_claim
INSERT INTO file_manifest (sha256, source, file_name, size_bytes, received_at, status, reason, attempts,
    claimed_at, updated_at)
VALUES (:sha256, :source, :file_name, :size_bytes, :received_at, 'claimed', NULL, 1, :now, :now)
ON CONFLICT (sha256) DO NOTHING;

-- name: manifest_reclaim_failed
-- A failed file is retried; a file rejected as one source (e.g. wrong_file_type) may still be another's.
UPDATE file_manifest SET status = 'claimed', reason = NULL, attempts = attempts + 1, claimed_at = :now,
    updated_at = :now, source = :source, file_name = :file_name
WHERE sha256 = :sha256 AND (status = 'failed' OR (status = 'rejected' AND source <> :source));

-- name: manifest_mark
UPDATE file_manifest SET status = :status, reason = :reason, updated_at = :now WHERE sha256 = :sha256;

-- name: manifest_get
SELECT sha256, source, file_name, size_bytes, received_at, status, reason, attempts, claimed_at, updated_at
FROM file_manifest WHERE sha256 = :sha256;

-- ---------------------------------------------------------------- runs

-- name: run_start
-- A run that finished is queued again from the start (a forced re-run); an unfinished one (killed or failed
-- part way) keeps its queue progress and resumes after its last committed chunk.
INSERT INTO run (run_id, source, file_sha256, file_name, model_version, snapshot_id, status, started_at)
VALUES (:run_id, :source, :file_sha256, :file_name, :model_version, :snapshot_id, 'running', :now)
ON CONFLICT (run_id) DO UPDATE SET status = 'running', model_version = excluded.model_version,
    snapshot_id = excluded.snapshot_id, started_at = excluded.started_at, finished_at = NULL,
    queued_through = CASE WHEN run.status = 'finished' THEN NULL ELSE run.queued_through END,
    queue_report = CASE WHEN run.status = 'finished' THEN NULL ELSE run.queue_report END;

-- name: run_finish
UPDATE run SET status = 'finished', finished_at = :now, summary = :summary WHERE run_id = :run_id;

-- name: run_get
SELECT run_id, source, file_sha256, file_name, model_version, snapshot_id, status, started_at, finished_at,
    summary
FROM run WHERE run_id = :run_id;

-- ---------------------------------------------------------------- queue

-- name: bulk_write_settings.postgresql
-- Queueing sorts each chunk's items (by queue order, by key) in memory, not in temp files.
SET LOCAL work_mem = '256MB';

-- name: run_queue_progress
SELECT queued_through, queue_report FROM run WHERE run_id = :run_id;

-- name: run_queue_progress_update
UPDATE run SET queued_through = :queued_through, queue_report = :queue_report WHERE run_id = :run_id;

-- name: run_match_count_after
SELECT count(*) FROM run_match WHERE run_id = :run_id AND record_number > :after;

-- name: queued_item_create
-- One chunk of a run's work items; `seq` is their queueing order (on SQLite the rowid). It outlives the
-- chunks' transactions (and, after a failure, the run: the next run on the connection empties it first).
CREATE TEMPORARY TABLE IF NOT EXISTS queued_item (
    seq             INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    item_kind       TEXT NOT NULL,
    case_id         TEXT,
    person_id       TEXT NOT NULL,
    caseworker_id   TEXT,
    office_id       TEXT,
    source          TEXT NOT NULL,
    new_info        TEXT NOT NULL,
    due_date        DATE,
    family_violence BOOLEAN NOT NULL,
    match_weight    DOUBLE PRECISION,
    match_probability DOUBLE PRECISION,
    decision        TEXT NOT NULL,
    reasons         TEXT,
    file_sha256     TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    record_number   BIGINT NOT NULL,
    run_id          TEXT NOT NULL,
    model_version   TEXT
);

-- name: queued_item_clear
DELETE FROM queued_item;

-- name: queued_item_clear.postgresql
TRUNCATE queued_item;

-- name: queued_item_drop
DROP TABLE queued_item;

-- name: work_item_insert_queued
-- A new key inserts an open item; a known one (or a repeat within the range) is left alone.
INSERT INTO work_item (idempotency_key, item_kind, case_id, person_id, caseworker_id, office_id, source,
    new_info, due_date, family_violence, match_weight, match_probability, decision, reasons, file_sha256,
    file_name, record_number, run_id, model_version, status, created_at)
SELECT idempotency_key, item_kind, case_id, person_id, caseworker_id, office_id, source, new_info, due_date,
    family_violence, match_weight, match_probability, decision, reasons, file_sha256, file_name,
    record_number, run_id, model_version, 'open', :now
FROM queued_item WHERE seq >= :first AND seq < :stop ORDER BY seq
ON CONFLICT (idempotency_key) DO NOTHING;

-- name: work_item_evidence_insert_queued
-- Each item's id by its key; in (record, item) order, so the sightings append to the key's B-tree. A repeated
-- sighting keeps its first row (lowest seq).
INSERT INTO work_item_evidence (item_id, run_id, record_number, match_weight, match_probability, decision,
    added_at)
SELECT w.item_id, q.run_id, q.record_number, q.match_weight, q.match_probability, q.decision, :now
FROM queued_item q JOIN work_item w ON w.idempotency_key = q.idempotency_key
WHERE q.seq >= :first AND q.seq < :stop ORDER BY q.record_number, w.item_id, q.seq
ON CONFLICT (run_id, record_number, item_id) DO NOTHING;

-- ---------------------------------------------------------------- worklist

-- name: claim_items.postgresql
WITH picked AS (
    SELECT item_id FROM work_item WHERE status = 'open'
    ORDER BY CASE WHEN caseworker_id = :worker THEN 0 ELSE 1 END, due_date NULLS LAST, item_id
    LIMIT :n FOR UPDATE SKIP LOCKED)
UPDATE work_item SET status = 'claimed', assigned_to = :worker, claimed_at = :now
WHERE item_id IN (SELECT item_id FROM picked)
RETURNING item_id;

-- name: claim_items.sqlite
WITH picked AS (
    SELECT item_id FROM work_item WHERE status = 'open'
    ORDER BY CASE WHEN caseworker_id = :worker THEN 0 ELSE 1 END, due_date NULLS LAST, item_id
    LIMIT :n)
UPDATE work_item SET status = 'claimed', assigned_to = :worker, claimed_at = :now
WHERE item_id IN (SELECT item_id FROM picked)
RETURNING item_id;

-- name: action_insert
INSERT INTO work_item_action (item_id, action, worker, disposition, note, acted_at)
VALUES (:item_id, :action, :worker, :disposition, :note, :now);

-- name: resolve_item
UPDATE work_item SET status = 'resolved', disposition = :disposition, resolved_at = :now,
    assigned_to = COALESCE(assigned_to, :worker)
WHERE item_id = :item_id AND status <> 'resolved';

-- name: address_items_after
-- Migration 007: the next batch of locate-hit address items (withheld ones are stored as `{"type": ...`
-- with a space and are left out: their address is not kept to compute a key from).
SELECT item_id, person_id, case_id, new_info, idempotency_key FROM work_item
WHERE item_kind = 'locate_hit' AND new_info LIKE '{"type":"address"%' AND item_id > :after
ORDER BY item_id LIMIT :batch;

-- name: item_rekey
-- An item keeps its key when the new one is taken (it stays the separate item it was).
UPDATE work_item SET idempotency_key = :idempotency_key
WHERE item_id = :item_id AND NOT EXISTS (SELECT 1 FROM work_item WHERE idempotency_key = :idempotency_key);

-- name: item_status
SELECT status FROM work_item WHERE item_id = :item_id;

-- name: labels
SELECT w.item_id, w.item_kind, w.disposition, w.resolved_at, w.person_id, r.source, r.file_name,
    r.file_sha256, e.record_number, e.run_id
FROM work_item w JOIN work_item_evidence e ON e.item_id = w.item_id JOIN run r ON r.run_id = e.run_id
WHERE w.status = 'resolved' AND w.disposition <> 'duplicate'
ORDER BY w.item_id, e.run_id, e.record_number;

-- ---------------------------------------------------------------- audit

-- name: audit_item
SELECT item_id, idempotency_key, item_kind, case_id, person_id, caseworker_id, office_id, source, new_info,
    due_date, family_violence, match_weight, match_probability, decision, reasons, status, assigned_to,
    claimed_at, disposition, resolved_at, created_at
FROM work_item WHERE item_id = :item_id;

-- name: audit_evidence
SELECT r.source, e.record_number, e.decision, e.added_at, e.match_weight, e.match_probability,
    m.person_id AS matched_person_id, m.blocking_rules, m.reasons, m.evidence, m.runner_up_person_id,
    m.runner_up_weight,
    r.run_id, r.model_version, r.snapshot_id, r.started_at AS run_started_at,
    r.finished_at AS run_finished_at,
    f.sha256 AS file_sha256, f.file_name, f.received_at AS file_received_at, f.size_bytes AS file_size_bytes,
    f.status AS file_status
FROM work_item w
JOIN work_item_evidence e ON e.item_id = w.item_id
JOIN run r ON r.run_id = e.run_id
JOIN file_manifest f ON f.sha256 = r.file_sha256
LEFT JOIN run_match m ON m.run_id = e.run_id AND m.record_number = e.record_number
WHERE w.item_id = :item_id
ORDER BY e.added_at, e.run_id, e.record_number;

-- name: audit_actions
SELECT action_id, action, worker, disposition, note, acted_at
FROM work_item_action WHERE item_id = :item_id ORDER BY action_id;
