-- Tracking that cannot be brute-forced (issue 16). Mirrors the other tree column for column
-- (tests/schema_parity).

-- The query code (查询码): eight random characters of 23456789ABCDEFGHJKMNPQRSTUVWXYZ, drawn
-- from a CSPRNG at intake. Kept readable, not hashed, so that the center can read it out
-- to a requester who calls in; it is never shown to units. Requests recorded before this
-- migration get one at the next start (SQL has no portable CSPRNG), with an event.
ALTER TABLE requests ADD COLUMN query_code TEXT;
-- Only the rows still without a code: the start-up backfill looks here, so on a large table
-- every later start reads an empty index instead of scanning every request.
CREATE INDEX requests_without_query_code ON requests (id) WHERE query_code IS NULL;

-- Tracking attempts per request number as typed (whether or not such a request exists, so
-- a lock tells nothing): the attempts in the window that began at window_start (ms). Shared
-- by every node, so spreading guesses over nodes does not help. Rows whose window has
-- passed are purged by the sweep job.
CREATE TABLE track_attempts (
    number       TEXT PRIMARY KEY,
    attempts     BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);
CREATE INDEX track_attempts_window ON track_attempts (window_start);
