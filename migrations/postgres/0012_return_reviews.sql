-- Issue 18, 退单审核: a unit's return goes to the dispatcher, who accepts it (the order is
-- returned and the request waits for re-dispatch) or rejects it with a reason (the order stays
-- with the unit, its clock running). One row per return request; at most one pending per order.
-- Mirrors ../sqlite/0012_return_reviews.sql column for column.
CREATE TABLE return_reviews (
    id            TEXT PRIMARY KEY,
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    request_id    TEXT NOT NULL REFERENCES requests (id),
    unit_code     TEXT NOT NULL,
    reason        TEXT NOT NULL,
    status        TEXT NOT NULL,
    requested_by  TEXT NOT NULL,
    requested_at  BIGINT NOT NULL,
    decided_by    TEXT,
    decided_at    BIGINT,
    decision_reason TEXT
);
CREATE INDEX return_reviews_assignment ON return_reviews (assignment_id);
CREATE INDEX return_reviews_status ON return_reviews (status, requested_at);
