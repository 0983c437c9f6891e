-- Three rates and rankings (issue #4). Mirrors ../postgres/0003_kpi.sql.

-- KPI rules (weights, basic-satisfaction weight, class size), versioned and effective-dated:
-- the rules of a month are the latest whose effective_from is not after the month's start.
CREATE TABLE kpi_rules (
    version        TEXT PRIMARY KEY,
    effective_from BIGINT NOT NULL,
    rules          TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Orders excluded from their unit's rates (不纳入考核), with a reason and an approver.
CREATE TABLE exemptions (
    assignment_id TEXT PRIMARY KEY REFERENCES assignments (id),
    reason        TEXT NOT NULL,
    approved_by   TEXT NOT NULL,
    approved_at   BIGINT NOT NULL
);

-- Frozen monthly rankings: the exact published payload and the rules version it used.
CREATE TABLE kpi_snapshots (
    month         TEXT NOT NULL,
    level         TEXT NOT NULL,
    rules_version TEXT NOT NULL,
    payload       TEXT NOT NULL,
    frozen_by     TEXT NOT NULL,
    frozen_at     BIGINT NOT NULL,
    PRIMARY KEY (month, level)
);

CREATE INDEX callbacks_reached_at ON callbacks (reached, at);
CREATE INDEX assignments_dispatched ON assignments (dispatched_at);
