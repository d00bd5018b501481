-- Blob bytes in the database, so that every replica serves every blob without a shared disk:
-- content-addressed by the blob's hash, in chunks of at most 1 MiB (crates/store/src/blobs.rs),
-- written in the transaction that records the blob and deleted in the one that collects it.
CREATE TABLE blob_chunks (
    hash  TEXT    NOT NULL,
    idx   BIGINT  NOT NULL,
    data  BYTEA   NOT NULL,
    PRIMARY KEY (hash, idx)
);
