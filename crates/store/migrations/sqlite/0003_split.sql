-- Split proving: a split task (state 'proving') owns segment tasks, each leased, proved and
-- verified like any task; the node joins them when all are done.
ALTER TABLE tasks ADD COLUMN parent_id INTEGER REFERENCES tasks(id);
ALTER TABLE tasks ADD COLUMN segment_index INTEGER;
CREATE INDEX tasks_by_parent ON tasks (parent_id, segment_index);
