-- Who may read an artifact. A witness holds a requester's private inputs: only the requester
-- keys that uploaded a blob, the admin, and a prover key while it holds a live lease on a
-- task that uses the blob may read it (decided in Rust from these rows, tasks and leases).
CREATE TABLE blob_owners (
    hash    TEXT    NOT NULL,
    key_id  INTEGER NOT NULL REFERENCES keys(id),
    PRIMARY KEY (hash, key_id)
);
-- The artifacts each task (or segment) uses.
CREATE TABLE task_blobs (
    task_id INTEGER NOT NULL REFERENCES tasks(id),
    hash    TEXT    NOT NULL,
    PRIMARY KEY (task_id, hash)
);
CREATE INDEX task_blobs_by_hash ON task_blobs (hash);
INSERT OR IGNORE INTO task_blobs (task_id, hash)
    SELECT t.id, j.value FROM tasks t, json_each(t.spec, '$.artifacts') j;
INSERT OR IGNORE INTO blob_owners (hash, key_id)
    SELECT tb.hash, t.requester_key FROM task_blobs tb JOIN tasks t ON t.id = tb.task_id;
