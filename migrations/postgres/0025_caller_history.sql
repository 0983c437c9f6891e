-- The caller's history at the intake desk (issue #23). Mirrors ../sqlite/0025_caller_history.sql.

-- A follow-up call (催办) recorded on an open request instead of a new request: counted as a
-- reminder, not as intake. Its event is `request.reminded`.
CREATE TABLE request_reminders (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    channel     TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX request_reminders_request ON request_reminders (request_id);
CREATE INDEX request_reminders_at ON request_reminders (created_at);

-- A supervisor's mark on a number as abusive (恶意来电), with a reason and an expiry. It is
-- shown to the operator while in force and never blocks a call or hides a request. The
-- number is stored as requests store it (requester_phone) and answered masked only.
CREATE TABLE caller_marks (
    id          TEXT PRIMARY KEY,
    phone       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_by  TEXT,
    revoked_at  BIGINT
);
CREATE INDEX caller_marks_phone ON caller_marks (phone);
