-- 吹哨报到, 小事不出社区 and 办结审核 (issue #18). Mirrors ../postgres/0017_whistles_community_reply_reviews.sql.

-- 吹哨报到: a street opens a proactive task (tasks.source_kind = 'whistle') and summons units;
-- one row per summoned unit's order. The unit reports (报到: acknowledges and names a person
-- in charge) by report_by; the deadline sweep marks a unit that has not reported by then once
-- (late_marked_at), with an event.
CREATE TABLE whistle_reports (
    assignment_id    TEXT PRIMARY KEY REFERENCES assignments (id),
    task_id          TEXT NOT NULL REFERENCES requests (id),
    whistle_unit     TEXT NOT NULL REFERENCES units (code),
    unit_code        TEXT NOT NULL REFERENCES units (code),
    report_hours     BIGINT NOT NULL,
    report_by        BIGINT NOT NULL,
    reported_at      BIGINT,
    reported_by      TEXT,
    person_in_charge TEXT,
    person_contact   TEXT,
    late_marked_at   BIGINT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX whistle_reports_task ON whistle_reports (task_id);
CREATE INDEX whistle_reports_due ON whistle_reports (report_by);
CREATE INDEX whistle_reports_created ON whistle_reports (created_at);

-- 办结审核: when a category's flag is on, a unit's reply on a request of that category waits
-- for the center's check (pending) before the callback; approved, or sent back with a reason
-- (the order returns to handling, its deadline unchanged).
ALTER TABLE categories ADD COLUMN reply_review BIGINT NOT NULL DEFAULT 0;
CREATE TABLE reply_reviews (
    id            TEXT PRIMARY KEY,
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    request_id    TEXT NOT NULL REFERENCES requests (id),
    unit_code     TEXT NOT NULL,
    status        TEXT NOT NULL,
    replied_at    BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    reason        TEXT
);
CREATE INDEX reply_reviews_request ON reply_reviews (request_id);
CREATE INDEX reply_reviews_status ON reply_reviews (status);
