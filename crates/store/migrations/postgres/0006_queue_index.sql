-- The lease query's queue, in id order: a partial index holds only queued tasks, and a plain
-- index scan over it marks the entries of tasks leased since as dead as it passes them, so a
-- lease stops at the first live queued task instead of re-reading (as a bitmap scan over
-- tasks_by_state did) every task that was ever queued and not yet vacuumed away.
CREATE INDEX tasks_queued ON tasks (id) WHERE state = 'queued';

-- A queue's rows change state many times a second: vacuum and re-analyse the tables every
-- proof updates after 1 % of their rows changed (the default waits for 20 %).
ALTER TABLE tasks SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE leases SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);
ALTER TABLE provers SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.01);

-- What a prover holds, for the lease query's memory check, likewise without the dead entries
-- of every lease that ended since the last vacuum.
CREATE INDEX tasks_leased ON tasks (prover_id) WHERE state = 'leased';
