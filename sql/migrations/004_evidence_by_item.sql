-- A sighting refers to its item by id and to its file through its run; its key is (run, record, item).
-- A run's sightings then append at the end of the key's B-tree, in record order, instead of landing at
-- random places of an index on the 64-character idempotency key: on SQLite a 20M-record run rewrote most
-- of that index in every chunk's transaction. The source and file of a sighting are its run's.
CREATE TABLE work_item_evidence_by_item (
    item_id         BIGINT NOT NULL REFERENCES work_item (item_id),
    run_id          TEXT NOT NULL REFERENCES run (run_id),
    record_number   BIGINT NOT NULL,
    match_weight    DOUBLE PRECISION,
    match_probability DOUBLE PRECISION,
    decision        TEXT NOT NULL,
    added_at        TIMESTAMP NOT NULL,
    CONSTRAINT work_item_evidence_key PRIMARY KEY (run_id, record_number, item_id)
);
INSERT INTO work_item_evidence_by_item (item_id, run_id, record_number, match_weight, match_probability,
    decision, added_at)
SELECT w.item_id, e.run_id, e.record_number, e.match_weight, e.match_probability, e.decision, e.added_at
FROM work_item_evidence e JOIN work_item w ON w.idempotency_key = e.idempotency_key;
DROP TABLE work_item_evidence;
ALTER TABLE work_item_evidence_by_item RENAME TO work_item_evidence;
CREATE INDEX work_item_evidence_item ON work_item_evidence (item_id);
