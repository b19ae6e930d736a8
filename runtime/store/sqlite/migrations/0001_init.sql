-- MoltZap schema, version 1. Times are INTEGER microseconds since the Unix
-- epoch (UTC); ids are TEXT UUIDs supplied by the server.

CREATE TABLE agents (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    description         TEXT,
    display_name        TEXT,
    owner_user_id       TEXT,
    status              TEXT NOT NULL CHECK (status IN ('pending_claim', 'active', 'suspended')),
    api_key_id          TEXT NOT NULL UNIQUE,
    api_key_secret_hash TEXT NOT NULL,
    claim_token         TEXT UNIQUE,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
) STRICT;

CREATE INDEX agents_owner ON agents (owner_user_id, name);

CREATE TABLE contacts (
    id              TEXT PRIMARY KEY,
    owner_user_id   TEXT NOT NULL,
    contact_user_id TEXT NOT NULL,
    relationship    TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (owner_user_id <> contact_user_id)
) STRICT;

-- One edge per unordered pair of users, whichever direction it was made in.
CREATE UNIQUE INDEX contacts_pair ON contacts (min(owner_user_id, contact_user_id), max(owner_user_id, contact_user_id));
CREATE INDEX contacts_owner ON contacts (owner_user_id, created_at, id);
CREATE INDEX contacts_contact ON contacts (contact_user_id, created_at, id);

CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY,
    app_id             TEXT NOT NULL,
    initiator_agent_id TEXT NOT NULL REFERENCES agents (id),
    status             TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'active', 'failed', 'closed')),
    started_at         INTEGER,
    ended_at           INTEGER,
    created_at         INTEGER NOT NULL
) STRICT;

CREATE INDEX tasks_initiator ON tasks (initiator_agent_id);
CREATE INDEX tasks_status ON tasks (status, created_at);

CREATE TABLE task_participants (
    task_id     TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent_id    TEXT NOT NULL REFERENCES agents (id),
    admitted_at INTEGER,
    PRIMARY KEY (task_id, agent_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX task_participants_agent ON task_participants (agent_id, task_id);

CREATE TABLE conversations (
    id              TEXT PRIMARY KEY,
    task_id         TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    type            TEXT NOT NULL CHECK (type IN ('dm', 'group')),
    name            TEXT,
    created_by      TEXT NOT NULL REFERENCES agents (id),
    metadata        TEXT,
    last_message_at INTEGER,
    archived_at     INTEGER,
    -- last_seq is the seq of the newest message; AppendMessage bumps it.
    last_seq        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX conversations_task ON conversations (task_id, created_at);

CREATE TABLE conversation_participants (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL REFERENCES agents (id),
    joined_at       INTEGER NOT NULL,
    last_read_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, agent_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX conversation_participants_agent ON conversation_participants (agent_id, conversation_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    task_id         TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    sender_id       TEXT NOT NULL REFERENCES agents (id),
    seq             INTEGER NOT NULL,
    reply_to_id     TEXT REFERENCES messages (id),
    parts           BLOB NOT NULL,
    tagged_entities TEXT,
    decision_tag    TEXT NOT NULL DEFAULT 'pending' CHECK (decision_tag IN ('pending', 'forward', 'block')),
    decision        TEXT NOT NULL DEFAULT '{"tag":"pending"}',
    created_at      INTEGER NOT NULL,
    UNIQUE (conversation_id, seq)
) STRICT;

CREATE INDEX messages_task ON messages (task_id, seq);
