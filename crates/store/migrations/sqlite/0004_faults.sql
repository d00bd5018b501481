-- Fault attribution: every lease that ends without an accepted proof records the node's
-- verdict (zkpool_types::FaultKind code), every finished task its cause (TaskCause code).
-- Provers are accountable by key, so a lease records the key it was granted to.
ALTER TABLE leases ADD COLUMN key_id INTEGER REFERENCES keys(id);
ALTER TABLE leases ADD COLUMN fault TEXT;
-- Collateral locked from the key's stake for this lease (base units, 0 for free-tier tasks),
-- and where it went: NULL while locked, 'released' or 'slashed'.
ALTER TABLE leases ADD COLUMN collateral INTEGER NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN collateral_end TEXT;
-- The longest this lease may live, however often it heartbeats (unix ms).
ALTER TABLE leases ADD COLUMN max_ms INTEGER;
UPDATE leases SET key_id = (SELECT key_id FROM provers WHERE provers.id = leases.prover_id);
CREATE INDEX leases_by_task ON leases (task_id, key_id);

ALTER TABLE tasks ADD COLUMN cause TEXT;
-- 1 for a quoted (paid) task and its segments: leases need collateral, the epoch counts it.
ALTER TABLE tasks ADD COLUMN paid INTEGER NOT NULL DEFAULT 0;
-- Collateral each lease of this task locks (base units).
ALTER TABLE tasks ADD COLUMN collateral INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET cause = 'proved' WHERE state = 'done';
UPDATE tasks SET cause = 'prover_fault' WHERE state = 'failed';
