-- messages_task served no query: ListMessages reads (conversation_id, seq), the
-- reply check and GetMessage read id. Dropping it spares every append one B-tree insert.
-- (Tasks are never deleted, so the ON DELETE CASCADE from tasks does not need it.)
DROP INDEX messages_task;
