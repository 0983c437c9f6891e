-- Daily rollups behind the three rates, populations and dispatch arbitration (issue #4). Mirrors ../sqlite/0004_kpi_rollups.sql.

-- Per local day and unit: the orders dispatched that day (response counts) and the reached
-- callbacks made that day (resolution and satisfaction counts), with the same attribution,
-- returns and exemptions as a full recount. `day` is the local day number,
-- (time in ms + the city's UTC offset in ms) / 86400000. Derived data: a day's rows are
-- recomputed from the base tables whenever the day is marked dirty.
CREATE TABLE kpi_daily (
    day         BIGINT NOT NULL,
    unit_code   TEXT NOT NULL,
    dispatched  BIGINT NOT NULL,
    on_time     BIGINT NOT NULL,
    led         BIGINT NOT NULL,
    called_back BIGINT NOT NULL,
    resolved    BIGINT NOT NULL,
    satisfied   BIGINT NOT NULL,
    basic       BIGINT NOT NULL,
    -- Reached callbacks of rounds the unit co-handled (they count only when the rules
    -- attribute callbacks to co-handlers too).
    co_called_back BIGINT NOT NULL,
    co_resolved    BIGINT NOT NULL,
    co_satisfied   BIGINT NOT NULL,
    co_basic       BIGINT NOT NULL,
    PRIMARY KEY (day, unit_code)
);

-- Days whose rollup rows may be stale. Every transaction that dispatches, acknowledges,
-- returns, exempts, merges or records a callback marks the days it touches, in the same
-- transaction; the version grows with each mark so a recount that raced a change is not
-- taken as final.
CREATE TABLE kpi_dirty_days (
    day     BIGINT PRIMARY KEY,
    version BIGINT NOT NULL
);

-- Which UTC offset the rollups were built with (one row); a different offset rebuilds them.
CREATE TABLE kpi_rollup_state (
    id        INTEGER PRIMARY KEY,
    offset_ms BIGINT NOT NULL
);

-- Residents per unit, for ranking the priority-governance class per 10,000 residents.
CREATE TABLE unit_population (
    unit_code  TEXT PRIMARY KEY REFERENCES units (code),
    population BIGINT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Dispatch disputes decided by the center (派单争议仲裁): the unit named is responsible for the
-- request's round and may not return it.
CREATE TABLE arbitrations (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (id),
    round      BIGINT NOT NULL,
    unit_code  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_at BIGINT NOT NULL
);
CREATE INDEX arbitrations_request ON arbitrations (request_id, round);
