-- Proactive work (主动治理, 未诉先办, 举一反三) and the monthly topic (每月一题). A proactive
-- task IS a request (channel 'proactive', created by the center and dispatched at once), so
-- orders, deadlines, replies, events and KPIs apply unchanged; these tables only say where
-- it came from and which citizen requests prompted it. Mirrors the other tree column for
-- column (tests/schema_parity).

-- A proactive task: its request, and what it was opened from.
CREATE TABLE tasks (
    request_id  TEXT PRIMARY KEY REFERENCES requests (id),
    -- 'hotspot' | 'alert' | 'topic' | 'elsewhere'
    source_kind TEXT NOT NULL,
    -- The hotspot's problem key, the alert's 'place|category|day', the topic id, or the task
    -- whose problem was found elsewhere.
    source_ref  TEXT NOT NULL,
    topic_id    TEXT,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX tasks_created ON tasks (created_at);
CREATE INDEX tasks_topic ON tasks (topic_id);

-- The citizen requests that prompted a task.
CREATE TABLE task_links (
    task_request_id TEXT NOT NULL REFERENCES requests (id),
    request_id      TEXT NOT NULL REFERENCES requests (id),
    PRIMARY KEY (task_request_id, request_id)
);
CREATE INDEX task_links_request ON task_links (request_id);

-- The monthly topic (每月一题): one recurring city-wide problem with a lead unit.
CREATE TABLE topics (
    id         TEXT PRIMARY KEY,
    month      TEXT NOT NULL,
    title      TEXT NOT NULL,
    lead_unit  TEXT NOT NULL REFERENCES units (code),
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX topics_month ON topics (month);

-- The 2-3 concrete problems a topic takes on; progress is measured on their categories.
CREATE TABLE topic_problems (
    topic_id      TEXT NOT NULL REFERENCES topics (id),
    position      BIGINT NOT NULL,
    category_code TEXT REFERENCES categories (code),
    description   TEXT NOT NULL,
    PRIMARY KEY (topic_id, position)
);
