-- Idempotent intake (issue #21): a client that did not hear the answer to a new request (a
-- failover cut the commit off, a lost connection, a double click) sends it again with the
-- same key and gets the request already made, not a second one. Mirrors
-- ../sqlite/0032_request_keys.sql.

-- One row per keyed request, written in the request's own transaction. The key is the
-- client's (header Idempotency-Key, or the hidden field of the desk's and the portal's forms),
-- scoped to the account that sent it; `fingerprint` is the SHA-256 of the request as sent,
-- so the same key with another request is refused rather than answered with the first.
CREATE TABLE request_keys (
    actor_id     TEXT NOT NULL,
    key          TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    request_id   TEXT NOT NULL REFERENCES requests (id),
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (actor_id, key)
);
CREATE INDEX request_keys_request ON request_keys (request_id);
