-- Logins that hold against parallel guessing and cannot be used to keep an owner out
-- (issue 16).
--
-- Failed logins, counted by one atomic UPDATE per attempt: per (account, client address)
-- (`key` = 's:' || account || ':' || address), the throttle that makes a source wait, and per
-- account (`key` = 'a:' || account), the ceiling across all sources. `account` is the SHA-256
-- of the submitted username, known or not, so the answers do not tell which names exist.
-- Times are ms since the epoch. Rows quiet for a while are purged by a job.
CREATE TABLE login_throttle (
    key           TEXT PRIMARY KEY,
    account       TEXT NOT NULL,
    failures      BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    last_at       BIGINT NOT NULL
);
CREATE INDEX login_throttle_account ON login_throttle (account);
CREATE INDEX login_throttle_last_at ON login_throttle (last_at);

-- When a session was last used: sessions idle longer than the idle timeout end.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Keys the servers share (all nodes read the same row): `anon_csrf` signs the anti-forgery
-- secret handed to browsers before login, so a client cannot invent its own.
CREATE TABLE server_keys (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
