-- Multi-prover and racing tasks (see migrations/sqlite/0008_groups.sql).
ALTER TABLE tasks ADD COLUMN composition TEXT;
ALTER TABLE tasks ADD COLUMN need BIGINT;
ALTER TABLE tasks ADD COLUMN group_id BIGINT REFERENCES tasks(id);
ALTER TABLE tasks ADD COLUMN leg_id BIGINT REFERENCES tasks(id);
CREATE INDEX tasks_by_group ON tasks (group_id, leg_id);
