-- The worklist reads the family-violence flag of each listed item's NCP as of the current registry snapshot
-- (a flag set after the item was queued protects too): a partial index of the flagged cases keeps that
-- per-item probe small (a few percent of the cases) instead of a walk of the whole case index.
CREATE INDEX IF NOT EXISTS registry_ncp_case_family_violence ON registry_ncp_case (snapshot_id, person_id)
WHERE family_violence = 'Y';
