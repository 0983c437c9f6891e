-- Three levels of handling: 下派 and 签批 (issue #18). Mirrors ../postgres/0015_sub_orders.sql.

-- Child orders (下派工单): the unit holding an order passes it down to units under it in the
-- unit tree (communities, villages, and companies registered with that unit as their parent).
-- A child may be passed down again (parent_id). KPIs keep reading `assignments` only: the
-- dispatched unit stays answerable; these rows feed the sub-unit tallies.
CREATE TABLE sub_orders (
    id                 TEXT PRIMARY KEY,
    request_id         TEXT NOT NULL REFERENCES requests (id),
    assignment_id      TEXT NOT NULL REFERENCES assignments (id),
    parent_id          TEXT REFERENCES sub_orders (id),
    jurisdiction       TEXT NOT NULL,
    from_unit_code     TEXT NOT NULL REFERENCES units (code),
    unit_code          TEXT NOT NULL REFERENCES units (code),
    unit_path          TEXT NOT NULL,
    status             TEXT NOT NULL,
    note               TEXT,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    acknowledge_by     BIGINT NOT NULL,
    reply_by           BIGINT NOT NULL,
    acknowledged_at    BIGINT,
    replied_at         BIGINT,
    outcome            TEXT,
    reply_to_requester TEXT,
    reply_to_center    TEXT,
    closed_at          BIGINT
);
CREATE INDEX sub_orders_request ON sub_orders (request_id);
CREATE INDEX sub_orders_unit ON sub_orders (unit_code, status);
CREATE INDEX sub_orders_path ON sub_orders (unit_path, created_at);

-- Sign-offs (签批): a child's reply waiting for the unit that passed it down, or a handler's
-- reply on an order of a unit that requires its manager's sign-off (sub_order_id NULL). The
-- decision: approved (the reply goes up), sent back with a reason, or withdrawn.
CREATE TABLE signoffs (
    id            TEXT PRIMARY KEY,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    sub_order_id  TEXT REFERENCES sub_orders (id),
    unit_code     TEXT NOT NULL,
    outcome       TEXT NOT NULL,
    to_requester  TEXT NOT NULL,
    to_center     TEXT NOT NULL,
    submitted_by  TEXT NOT NULL,
    submitted_at  BIGINT NOT NULL,
    status        TEXT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    reason        TEXT
);
CREATE INDEX signoffs_unit ON signoffs (unit_code, status);
CREATE INDEX signoffs_request ON signoffs (request_id);

-- Per unit: a handler's reply waits for a manager's sign-off before it reaches the center.
ALTER TABLE units ADD COLUMN signoff_required BIGINT NOT NULL DEFAULT 0;
