-- Disk is bounded: each requester key has a storage quota (the sizes of the blobs it owns),
-- and blobs no live task needs are collected after a retention period. `used_ms` is the last
-- time a blob was uploaded or named by a submitted task: the retention clock starts there.
ALTER TABLE blobs ADD COLUMN used_ms INTEGER NOT NULL DEFAULT 0;
UPDATE blobs SET used_ms = created_ms;
CREATE INDEX blobs_by_used ON blobs (used_ms);
CREATE INDEX blob_owners_by_key ON blob_owners (key_id);
CREATE INDEX tasks_by_proof ON tasks (proof_hash);
