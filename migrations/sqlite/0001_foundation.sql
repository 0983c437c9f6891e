-- Jiesu foundation schema (SQLite). Mirrors ../postgres/0001_foundation.sql column for column;
-- tests/schema_parity checks that. Conventions: times are BIGINT milliseconds since the Unix
-- epoch (bound from the injected clock, never SQL now()); flags are BIGINT 0/1; ids are UUIDv7
-- text; `jurisdiction` on the big tables lets a national platform partition by city.

-- Handling units (承办单位): districts, streets/townships, communities, departments, companies.
CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    level       TEXT NOT NULL,
    parent_code TEXT REFERENCES units (code),
    -- '/'-separated codes from the root to this unit, e.g. '/110105/110105001/'.
    path        TEXT NOT NULL,
    short_name  TEXT NOT NULL,
    aliases     TEXT NOT NULL,
    active      BIGINT NOT NULL
);
CREATE INDEX units_parent ON units (parent_code);
CREATE INDEX units_level ON units (level);

-- The three-level category taxonomy with a default unit and time-limit class.
CREATE TABLE categories (
    code              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    name_en           TEXT NOT NULL,
    parent_code       TEXT REFERENCES categories (code),
    level             BIGINT NOT NULL,
    default_unit_code TEXT REFERENCES units (code),
    time_limit_class  TEXT NOT NULL,
    keywords          TEXT NOT NULL
);

-- Time limits (办理时限), effective-dated: the row in force for a class is the one with the
-- latest effective_from not after the dispatch time.
CREATE TABLE time_limits (
    class               TEXT NOT NULL,
    effective_from      BIGINT NOT NULL,
    name_zh             TEXT NOT NULL,
    name_en             TEXT NOT NULL,
    acknowledge_minutes BIGINT NOT NULL,
    reply_minutes       BIGINT NOT NULL,
    day_kind            TEXT NOT NULL,
    PRIMARY KEY (class, effective_from)
);

-- Working-day calendar exceptions: kind 'holiday' (a weekday off) or 'workday' (调休).
CREATE TABLE calendar_days (
    day  TEXT PRIMARY KEY,
    kind TEXT NOT NULL
);

-- Which version of each shipped reference table is loaded.
CREATE TABLE reference_versions (
    name      TEXT PRIMARY KEY,
    version   TEXT NOT NULL,
    loaded_at BIGINT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL,
    unit_code     TEXT REFERENCES units (code),
    active        BIGINT NOT NULL,
    failed_logins BIGINT NOT NULL,
    locked_until  BIGINT,
    created_at    BIGINT NOT NULL
);

-- Login sessions: browser cookies and API bearer tokens; only a SHA-256 of the token is kept.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Per-day counters behind the human request number 20261128-000123.
CREATE TABLE day_counters (
    day  TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- Requests (诉求). `status` is a cache of the events.
CREATE TABLE requests (
    id                TEXT PRIMARY KEY,
    number            TEXT NOT NULL UNIQUE,
    jurisdiction      TEXT NOT NULL,
    kind              TEXT NOT NULL,
    channel           TEXT NOT NULL,
    merged_line       TEXT,
    status            TEXT NOT NULL,
    title             TEXT NOT NULL,
    body              TEXT NOT NULL,
    address           TEXT NOT NULL,
    category_code     TEXT REFERENCES categories (code),
    time_limit_class  TEXT,
    requester_name    TEXT NOT NULL,
    requester_phone   TEXT NOT NULL,
    enterprise_name   TEXT,
    credit_code       TEXT,
    confidential      BIGINT NOT NULL,
    round             BIGINT NOT NULL,
    primary_id        TEXT REFERENCES requests (id),
    callback_attempts BIGINT NOT NULL,
    callback_done     BIGINT NOT NULL,
    answer            TEXT,
    close_reason      TEXT,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    closed_at         BIGINT
);
CREATE INDEX requests_status ON requests (status, created_at);
CREATE INDEX requests_created ON requests (created_at);
CREATE INDEX requests_primary ON requests (primary_id);
CREATE INDEX requests_phone ON requests (requester_phone);

-- Orders (工单): request x unit x round.
CREATE TABLE assignments (
    id                 TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL REFERENCES requests (id),
    jurisdiction       TEXT NOT NULL,
    unit_code          TEXT NOT NULL REFERENCES units (code),
    unit_path          TEXT NOT NULL,
    role               TEXT NOT NULL,
    round              BIGINT NOT NULL,
    status             TEXT NOT NULL,
    time_limit_class   TEXT NOT NULL,
    dispatched_at      BIGINT NOT NULL,
    acknowledge_by     BIGINT NOT NULL,
    reply_by           BIGINT NOT NULL,
    -- When the pre-breach warning is due (a configured share of the time left).
    reply_warn_at      BIGINT NOT NULL,
    acknowledged_at    BIGINT,
    replied_at         BIGINT,
    returned_at        BIGINT,
    return_reason      TEXT,
    outcome            TEXT,
    reply_to_requester TEXT,
    reply_to_center    TEXT,
    ack_overdue_at     BIGINT,
    reply_warned_at    BIGINT,
    reply_overdue_at   BIGINT,
    dispatched_by      TEXT NOT NULL
);
CREATE INDEX assignments_request ON assignments (request_id);
CREATE INDEX assignments_unit ON assignments (unit_path, status);
CREATE INDEX assignments_ack_due ON assignments (status, acknowledge_by);
CREATE INDEX assignments_reply_due ON assignments (status, reply_by);
CREATE INDEX assignments_warn_due ON assignments (status, reply_warn_at);

-- Extension requests (延期申请).
CREATE TABLE extensions (
    id            TEXT PRIMARY KEY,
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    request_id    TEXT NOT NULL REFERENCES requests (id),
    hours         BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    old_reply_by  BIGINT NOT NULL,
    new_reply_by  BIGINT
);
CREATE INDEX extensions_assignment ON extensions (assignment_id);
CREATE INDEX extensions_status ON extensions (status);

-- Callbacks (回访), one row per attempt.
CREATE TABLE callbacks (
    id           TEXT PRIMARY KEY,
    request_id   TEXT NOT NULL REFERENCES requests (id),
    round        BIGINT NOT NULL,
    reached      BIGINT NOT NULL,
    resolved     BIGINT,
    satisfaction TEXT,
    note         TEXT,
    outcome      TEXT NOT NULL,
    agent_id     TEXT NOT NULL,
    at           BIGINT NOT NULL
);
CREATE INDEX callbacks_request ON callbacks (request_id);
CREATE INDEX callbacks_at ON callbacks (at);

-- The append-only, hash-chained history of every change.
CREATE TABLE events (
    seq           BIGINT PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    jurisdiction  TEXT NOT NULL,
    request_id    TEXT,
    assignment_id TEXT,
    actor_id      TEXT NOT NULL,
    actor_role    TEXT NOT NULL,
    action        TEXT NOT NULL,
    before_state  TEXT,
    after_state   TEXT,
    payload       TEXT NOT NULL,
    at            BIGINT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX events_request ON events (request_id, seq);

-- The head of the event chain: one row, locked by every appending transaction, so that the
-- chain has no gaps and a removed last event is detected.
CREATE TABLE event_chain (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO event_chain (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Messages to requesters (the requester half of 双反馈), written in the same transaction as
-- the change and delivered by the outbox job.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES requests (id),
    kind            TEXT NOT NULL,
    recipient       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    claimed_until   BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
