-- Assessment appeals (考核申诉, issue #18). Mirrors ../sqlite/0013_appeals.sql.

-- A unit contests one part (response, resolution or satisfaction) of an order's assessment
-- before the month is frozen; the center grants it (the part of that order no longer counts
-- in the unit's rates) or refuses it with a reason. At most one open or granted appeal per
-- order and part.
CREATE TABLE appeals (
    id              TEXT PRIMARY KEY,
    assignment_id   TEXT NOT NULL REFERENCES assignments (id),
    request_id      TEXT NOT NULL REFERENCES requests (id),
    unit_code       TEXT NOT NULL,
    part            TEXT NOT NULL,
    month           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    evidence        TEXT,
    status          TEXT NOT NULL,
    filed_by        TEXT NOT NULL,
    filed_at        BIGINT NOT NULL,
    decided_by      TEXT,
    decided_at      BIGINT,
    decision_reason TEXT
);
CREATE UNIQUE INDEX appeals_one_live ON appeals (assignment_id, part) WHERE status <> 'refused';
CREATE INDEX appeals_month ON appeals (month, status);

-- Reached callbacks left out of the resolution or the satisfaction rate by a granted appeal.
ALTER TABLE kpi_daily ADD COLUMN resolution_exempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE kpi_daily ADD COLUMN satisfaction_exempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE kpi_daily ADD COLUMN co_resolution_exempt BIGINT NOT NULL DEFAULT 0;
ALTER TABLE kpi_daily ADD COLUMN co_satisfaction_exempt BIGINT NOT NULL DEFAULT 0;
