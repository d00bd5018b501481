-- Settlement: the ledger's journal, used quote nonces and PoZK epochs.
-- The journal is the source of truth; balances are rebuilt by replaying it (Ledger::replay).

CREATE TABLE ledger_entries (
    seq    INTEGER PRIMARY KEY,
    -- the operation's name (deposit, escrow, release, ...), for queries
    kind   TEXT    NOT NULL,
    -- zkpool_ledger::Op as JSON
    op     TEXT    NOT NULL,
    at_ms  INTEGER NOT NULL
);

CREATE TABLE ledger_postings (
    seq        INTEGER NOT NULL REFERENCES ledger_entries(seq),
    idx        INTEGER NOT NULL,
    from_acct  TEXT    NOT NULL,
    to_acct    TEXT    NOT NULL,
    -- base units as a decimal string (u128 does not fit INTEGER)
    amount     TEXT    NOT NULL,
    PRIMARY KEY (seq, idx)
);
CREATE INDEX ledger_postings_by_to ON ledger_postings (to_acct);
CREATE INDEX ledger_postings_by_from ON ledger_postings (from_acct);

-- Nonces of accepted quotes: the primary key makes a replayed quote impossible to commit.
CREATE TABLE quote_nonces (
    nonce    INTEGER PRIMARY KEY,
    task_id  INTEGER NOT NULL REFERENCES tasks(id),
    used_ms  INTEGER NOT NULL
);

-- Small counters; `quote_nonce_next` is the first nonce not yet handed out. Nonces are
-- reserved in blocks so that issuing a quote does not need a write per quote.
CREATE TABLE settlement_meta (
    name   TEXT    PRIMARY KEY,
    value  INTEGER NOT NULL
);
INSERT INTO settlement_meta (name, value) VALUES ('quote_nonce_next', 1);

CREATE TABLE epochs (
    id          INTEGER PRIMARY KEY,
    started_ms  INTEGER NOT NULL,
    -- NULL while open; set once, in the transaction that writes the epoch's ledger entries
    closed_ms   INTEGER,
    -- the settlement as JSON (shares, work, stakes), for display
    summary     TEXT
);
