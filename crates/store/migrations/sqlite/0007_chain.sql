-- Settlement on Ethereum: each task quoted for the pool contract, from the signed quote to its
-- fulfil (or the missed window the payer claims on chain). The contract holds the money; these
-- rows hold what the node must do about it, so a restart resumes where it stopped.
CREATE TABLE chain_tasks (
    task_id      INTEGER PRIMARY KEY REFERENCES tasks(id),
    -- the contract's task id: the quote's EIP-712 digest, 0x + 64 hex
    chain_task   TEXT    NOT NULL UNIQUE,
    payer        TEXT    NOT NULL,
    verifier     TEXT    NOT NULL,
    nonce        INTEGER NOT NULL UNIQUE,
    reward       INTEGER NOT NULL,
    bond         INTEGER NOT NULL,
    deadline_ms  INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    -- quoted → open (TaskSubmitted seen) → fulfilled | missed; quoted → lapsed
    state        TEXT    NOT NULL,
    block        INTEGER,
    fulfil_tx    TEXT,
    fulfil_gas   INTEGER,
    note         TEXT
);
CREATE INDEX chain_tasks_by_state ON chain_tasks (state, deadline_ms);
-- The next block whose events the node has not applied yet.
CREATE TABLE chain_cursor (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    next_block  INTEGER NOT NULL
);
-- The Ethereum account a machine's share of on-chain rewards is credited to.
ALTER TABLE provers ADD COLUMN payout TEXT;
