-- Several replicas: a replica catching up on the journal looks up the nonces of the tasks
-- other replicas escrowed.
CREATE INDEX quote_nonces_by_task ON quote_nonces (task_id);
