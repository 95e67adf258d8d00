-- Indexes for the worklist queries (claim by status and due date, a worker's items, an item's history).
CREATE INDEX IF NOT EXISTS work_item_status_due ON work_item (status, due_date);
CREATE INDEX IF NOT EXISTS work_item_caseworker ON work_item (caseworker_id, status);
CREATE INDEX IF NOT EXISTS work_item_person ON work_item (person_id);
CREATE INDEX IF NOT EXISTS work_item_action_item ON work_item_action (item_id);
CREATE INDEX IF NOT EXISTS work_item_evidence_run ON work_item_evidence (run_id);
