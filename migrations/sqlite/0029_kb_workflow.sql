-- A knowledge base a city can keep (issue #23). Mirrors ../postgres/0029_kb_workflow.sql.

-- Entries gain where they come from, a category, a validity start and a workflow status:
-- draft -> reviewed -> published -> expired (an edit starts a new draft version). Entries
-- that existed before are published. `tags` are the keywords, `valid_until` the validity
-- end. `last_used_at`: the last time an operator answered from it or rated it.
ALTER TABLE kb_entries ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE kb_entries ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE kb_entries ADD COLUMN valid_from BIGINT;
ALTER TABLE kb_entries ADD COLUMN status TEXT NOT NULL DEFAULT 'published';
ALTER TABLE kb_entries ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE kb_entries ADD COLUMN last_used_at BIGINT;
CREATE INDEX kb_entries_updated ON kb_entries (updated_at);
CREATE INDEX kb_entries_status ON kb_entries (status, active);

-- Every version of every entry, as it was when that version was made or its status
-- changed: the entry's history. A bulk import or a bulk review writes one event naming its
-- batch; the versions it made carry that batch id.
CREATE TABLE kb_versions (
    entry_id    TEXT NOT NULL REFERENCES kb_entries (id),
    version     BIGINT NOT NULL,
    status      TEXT NOT NULL,
    title       TEXT NOT NULL,
    answer      TEXT NOT NULL,
    tags        TEXT NOT NULL,
    category    TEXT NOT NULL,
    unit_code   TEXT,
    source      TEXT NOT NULL,
    valid_from  BIGINT,
    valid_until BIGINT,
    batch_id    TEXT,
    changed_by  TEXT NOT NULL,
    changed_at  BIGINT NOT NULL,
    PRIMARY KEY (entry_id, version, status)
);

-- An operator's verdict on an answer offered at the intake desk: helpful (1) or not (0).
CREATE TABLE kb_feedback (
    id          TEXT PRIMARY KEY,
    entry_id    TEXT NOT NULL REFERENCES kb_entries (id),
    request_id  TEXT REFERENCES requests (id),
    helpful     BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX kb_feedback_entry ON kb_feedback (entry_id);
