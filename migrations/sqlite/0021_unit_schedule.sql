-- Issue 18: unit changes dated ahead (services/units.rs). A rename, move or close may carry an
-- effective date after today: it waits here, the unit stays as it is (dispatch, names and
-- rankings use the old version), and the sweep applies it once the date has come, recording
-- the version effective from that date. One row per scheduled change.
CREATE TABLE unit_schedule (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL,
    -- The change as submitted (services::units::UnitChange as JSON, without the date).
    change         TEXT NOT NULL,
    effective_from BIGINT NOT NULL,
    -- 'pending', 'applied', 'failed' (no longer valid when due; see note) or 'cancelled'.
    status         TEXT NOT NULL DEFAULT 'pending',
    note           TEXT NOT NULL DEFAULT '',
    scheduled_by   TEXT NOT NULL,
    scheduled_at   BIGINT NOT NULL,
    done_at        BIGINT
);
CREATE INDEX unit_schedule_due ON unit_schedule (status, effective_from);
CREATE INDEX unit_schedule_code ON unit_schedule (code, effective_from);
