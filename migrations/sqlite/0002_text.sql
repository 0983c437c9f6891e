-- Text intelligence (issue #3): the knowledge base, the dispatch catalogue, and the
-- suggestions shown at intake (so production accuracy is measurable). Mirrors
-- ../postgres/0002_text.sql.

-- Knowledge-base entries (知识库) operators search while on a call.
CREATE TABLE kb_entries (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    answer      TEXT NOT NULL,
    tags        TEXT NOT NULL,
    unit_code   TEXT REFERENCES units (code),
    valid_until BIGINT,
    active      BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- The dispatch catalogue (派单目录): category (a code prefix) x area (a unit code, or '' for
-- the whole city) -> units. `units` is JSON: [{"unit": "co.heating" | "{street}" |
-- "{community}" | "{district}", "role": "lead" | "co"}]. Rules are never edited in place:
-- a change deactivates the old row and inserts a new one, so history stays.
CREATE TABLE dispatch_rules (
    id            TEXT PRIMARY KEY,
    category_code TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    units         TEXT NOT NULL,
    note          TEXT NOT NULL,
    active        BIGINT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    retired_at    BIGINT
);
CREATE INDEX dispatch_rules_active ON dispatch_rules (active, category_code);

-- What intake suggested, and what the operator finally chose.
CREATE TABLE suggestions (
    id               TEXT PRIMARY KEY,
    request_id       TEXT REFERENCES requests (id),
    created_at       BIGINT NOT NULL,
    source           TEXT NOT NULL,
    top_category     TEXT,
    top_lead_unit    TEXT,
    payload          TEXT NOT NULL,
    kb_entry_used    TEXT REFERENCES kb_entries (id)
);
CREATE INDEX suggestions_request ON suggestions (request_id);
CREATE INDEX suggestions_created ON suggestions (created_at);
