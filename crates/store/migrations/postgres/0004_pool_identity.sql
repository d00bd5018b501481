-- Who the pool is, pinned by the first replica: the address its quotes are signed by. A
-- replica started with another signing key would sign quotes the others refuse; it is
-- refused at start instead (Store::pin_pool_signer).
CREATE TABLE pool_identity (
    name   TEXT  PRIMARY KEY,
    value  TEXT  NOT NULL
);
