-- Multi-prover and racing tasks: a parent task waits in 'proving' while its legs (tasks with
-- parent_id, one per leg) are proved; it is done when `need` of them are. A leg that is
-- itself split owns segment tasks. Every leg and every segment of a leg names its group and
-- its leg, so the lease query can keep one prover key to one leg.
ALTER TABLE tasks ADD COLUMN composition TEXT;
ALTER TABLE tasks ADD COLUMN need INTEGER;
ALTER TABLE tasks ADD COLUMN group_id INTEGER REFERENCES tasks(id);
ALTER TABLE tasks ADD COLUMN leg_id INTEGER REFERENCES tasks(id);
CREATE INDEX tasks_by_group ON tasks (group_id, leg_id);
