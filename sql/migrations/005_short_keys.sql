-- Idempotency keys keep the first 128 bits of their SHA-256 (32 hex characters, `worklists.keys`): every
-- queued item is inserted at a random place of the key's unique index, and at state scale (millions of
-- items) each chunk's commit rewrites most of that index's pages, so its size is the queue's cost. A
-- shortened key is still the same item's key, so reruns keep corroborating the items queued before.
UPDATE work_item SET idempotency_key = substr(idempotency_key, 1, 32);
-- No query looks items up by NCP; the index took every queued item at a random place as well.
DROP INDEX IF EXISTS work_item_person;
