-- Issue 16: an audit trail that cannot be quietly rewritten, and personal data that does not
-- outlive its retention. Mirrors ../sqlite/0009_audit_privacy.sql column for column.

-- Seals of the event chain's head: an HMAC-SHA256, with a key kept outside the database, over
-- (seq, hash, at). `jiesu audit verify` checks each against the chain, so rewriting events
-- and recomputing every hash after them is detected (store/audit.rs, services/audit.rs).
CREATE TABLE audit_checkpoints (
    seq    BIGINT PRIMARY KEY,
    hash   TEXT NOT NULL,
    at     BIGINT NOT NULL,
    -- which key sealed it: the start of a SHA-256 of the key, never the key
    key_id TEXT NOT NULL,
    mac    TEXT NOT NULL
);

-- When the requester's name and phone were removed (a `privacy.redacted` event explains it).
ALTER TABLE requests ADD COLUMN redacted_at BIGINT;
CREATE INDEX requests_closed ON requests (closed_at);
