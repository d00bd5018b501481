-- zkpool node schema. Business rules live in Rust (crates/store/src/*.rs), not here.

CREATE TABLE keys (
    id           INTEGER PRIMARY KEY,
    role         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    -- sha256 of the bearer secret; the secret itself is never stored.
    secret_hash  TEXT    NOT NULL UNIQUE,
    created_ms   INTEGER NOT NULL,
    revoked      INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE blobs (
    hash        TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE provers (
    id              INTEGER PRIMARY KEY,
    key_id          INTEGER NOT NULL REFERENCES keys(id),
    name            TEXT    NOT NULL,
    hardware        TEXT    NOT NULL,
    memory_bytes    INTEGER NOT NULL,
    systems         TEXT    NOT NULL,
    last_seen_ms    INTEGER NOT NULL,
    tasks_done      INTEGER NOT NULL DEFAULT 0,
    work_done       INTEGER NOT NULL DEFAULT 0,
    busy_ms         INTEGER NOT NULL DEFAULT 0,
    failures        INTEGER NOT NULL DEFAULT 0,
    invalid_proofs  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (key_id, name)
);

CREATE TABLE tasks (
    id               INTEGER PRIMARY KEY,
    requester_key    INTEGER NOT NULL REFERENCES keys(id),
    system           TEXT    NOT NULL,
    label            TEXT,
    spec             TEXT    NOT NULL,
    work             INTEGER NOT NULL,
    memory_bytes     INTEGER NOT NULL,
    statement        BLOB    NOT NULL,
    state            TEXT    NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL,
    -- fencing token: grows with every lease; only the current one may complete the task.
    token            INTEGER NOT NULL DEFAULT 0,
    lease_id         INTEGER,
    prover_id        INTEGER,
    lease_expires_ms INTEGER,
    proof_hash       TEXT,
    prove_ms         INTEGER,
    verify_ms        INTEGER,
    created_ms       INTEGER NOT NULL,
    finished_ms      INTEGER
);
CREATE INDEX tasks_by_state ON tasks (state, id);

CREATE TABLE leases (
    id          INTEGER PRIMARY KEY,
    task_id     INTEGER NOT NULL REFERENCES tasks(id),
    prover_id   INTEGER NOT NULL REFERENCES provers(id),
    token       INTEGER NOT NULL,
    granted_ms  INTEGER NOT NULL,
    ended_ms    INTEGER,
    -- done | expired | failed | invalid | revoked; NULL while active.
    outcome     TEXT
);
CREATE INDEX leases_by_prover ON leases (prover_id, outcome);

CREATE TABLE task_failures (
    id         INTEGER PRIMARY KEY,
    task_id    INTEGER NOT NULL REFERENCES tasks(id),
    prover_id  INTEGER,
    at_ms      INTEGER NOT NULL,
    reason     TEXT    NOT NULL
);
CREATE INDEX task_failures_by_task ON task_failures (task_id);
