-- A run queues chunk by chunk, one transaction each: how far it got (the last record number of its last
-- committed chunk) and its running queue counts (JSON), so a run killed part way resumes where it stopped.
ALTER TABLE run ADD COLUMN queued_through BIGINT;
ALTER TABLE run ADD COLUMN queue_report TEXT;
