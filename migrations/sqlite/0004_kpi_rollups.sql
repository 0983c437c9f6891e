-- Daily rollups behind the three rates (issue #4). Mirrors ../postgres/0004_kpi_rollups.sql.

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
