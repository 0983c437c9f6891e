-- Child orders keep time (issue #18): the deadline sweep marks a child order past its reply
-- limit once (overdue_at, event sub_order.overdue); a child may return to the unit that passed
-- it down with a reason (status 'returned', return_reason), and may ask it for more time
-- (sub_extensions), granted only inside that unit's own limit. Mirrors ../postgres/0019_sub_order_time.sql.

ALTER TABLE sub_orders ADD COLUMN overdue_at BIGINT;
ALTER TABLE sub_orders ADD COLUMN return_reason TEXT;

-- A child's request for a later reply limit, decided by the unit that passed it down.
CREATE TABLE sub_extensions (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES requests (id),
    sub_order_id    TEXT NOT NULL REFERENCES sub_orders (id),
    -- The child's unit (asks) and the unit above it (decides).
    unit_code       TEXT NOT NULL,
    from_unit_code  TEXT NOT NULL,
    old_reply_by    BIGINT NOT NULL,
    asked_reply_by  BIGINT NOT NULL,
    reason          TEXT NOT NULL,
    -- pending, approved, refused, withdrawn (the child was returned or closed first).
    status          TEXT NOT NULL,
    requested_by    TEXT NOT NULL,
    requested_at    BIGINT NOT NULL,
    decided_by      TEXT,
    decided_at      BIGINT,
    new_reply_by    BIGINT,
    decision_reason TEXT
);
CREATE INDEX sub_extensions_sub ON sub_extensions (sub_order_id);
CREATE INDEX sub_extensions_decider ON sub_extensions (from_unit_code, status);
