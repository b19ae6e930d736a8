-- MoltZap schema, version 1 (PostgreSQL).
--
-- Ids, names and user ids are TEXT with the "C" collation, so ORDER BY and the keyset
-- comparisons of paging are bytewise whatever the database's collation, exactly as in Go
-- and in the SQLite store. Times are timestamptz (microsecond precision); the store always
-- supplies them, no column defaults to now().

CREATE TABLE agents (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    name                TEXT COLLATE "C" NOT NULL UNIQUE,
    description         TEXT,
    display_name        TEXT,
    owner_user_id       TEXT COLLATE "C",
    status              TEXT NOT NULL CHECK (status IN ('pending_claim', 'active', 'suspended')),
    api_key_id          TEXT COLLATE "C" NOT NULL UNIQUE,
    api_key_secret_hash TEXT NOT NULL,
    claim_token         TEXT COLLATE "C" UNIQUE,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);

CREATE INDEX agents_owner ON agents (owner_user_id, name);

CREATE TABLE contacts (
    id              TEXT COLLATE "C" PRIMARY KEY,
    owner_user_id   TEXT COLLATE "C" NOT NULL,
    contact_user_id TEXT COLLATE "C" NOT NULL,
    relationship    TEXT,
    status          TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted')),
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CHECK (owner_user_id <> contact_user_id)
);

-- One edge per unordered pair of users, whichever direction it was made in.
CREATE UNIQUE INDEX contacts_pair ON contacts
    (LEAST(owner_user_id, contact_user_id), GREATEST(owner_user_id, contact_user_id));
CREATE INDEX contacts_owner ON contacts (owner_user_id, created_at, id);
CREATE INDEX contacts_contact ON contacts (contact_user_id, created_at, id);

CREATE TABLE tasks (
    id                 TEXT COLLATE "C" PRIMARY KEY,
    app_id             TEXT COLLATE "C" NOT NULL,
    initiator_agent_id TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
    status             TEXT NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'active', 'failed', 'closed')),
    started_at         TIMESTAMPTZ,
    ended_at           TIMESTAMPTZ,
    created_at         TIMESTAMPTZ NOT NULL
);

CREATE INDEX tasks_initiator ON tasks (initiator_agent_id);
-- The stale-task sweeper reads the waiting tasks, oldest first.
CREATE INDEX tasks_waiting ON tasks (created_at, id) WHERE status = 'waiting';

CREATE TABLE task_participants (
    task_id     TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    agent_id    TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
    admitted_at TIMESTAMPTZ,
    PRIMARY KEY (task_id, agent_id)
);

CREATE INDEX task_participants_agent ON task_participants (agent_id, task_id);

CREATE TABLE conversations (
    id              TEXT COLLATE "C" PRIMARY KEY,
    task_id         TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    type            TEXT NOT NULL CHECK (type IN ('dm', 'group')),
    name            TEXT,
    created_by      TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
    -- metadata is kept as the exact JSON text the server gave (validated before insert).
    metadata        TEXT,
    last_message_at TIMESTAMPTZ,
    archived_at     TIMESTAMPTZ,
    -- last_seq is the seq of the newest message. AppendMessage bumps it with
    -- UPDATE ... RETURNING in the transaction of the insert: the row lock orders the
    -- writers of one conversation, whichever node they run on, and a rollback returns
    -- the number, so seqs stay gap-free.
    last_seq        BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX conversations_task ON conversations (task_id, created_at, id);

CREATE TABLE conversation_participants (
    conversation_id TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    agent_id        TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
    joined_at       TIMESTAMPTZ NOT NULL,
    last_read_seq   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, agent_id)
);

CREATE INDEX conversation_participants_agent ON conversation_participants (agent_id, conversation_id);

CREATE TABLE messages (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    conversation_id     TEXT COLLATE "C" NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    task_id             TEXT COLLATE "C" NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    sender_id           TEXT COLLATE "C" NOT NULL REFERENCES agents (id),
    seq                 BIGINT NOT NULL,
    reply_to_id         TEXT COLLATE "C" REFERENCES messages (id),
    parts               BYTEA NOT NULL,
    tagged_entities     TEXT[],
    -- The TM decision: its tag, the recipients of a forward, the reason of a block.
    decision_tag        TEXT NOT NULL DEFAULT 'pending' CHECK (decision_tag IN ('pending', 'forward', 'block')),
    decision_recipients TEXT[] CHECK (decision_recipients IS NULL OR decision_tag = 'forward'),
    decision_reason     TEXT CHECK (decision_reason IS NULL OR decision_tag = 'block'),
    created_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE INDEX messages_task ON messages (task_id, seq);
