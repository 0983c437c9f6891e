-- The city this database serves (jiesu init --city, issue #18). Mirrors ../sqlite/0016_city.sql.

-- At most one row (id = 1). No row means the Beijing set compiled into the binary
-- (reference/units.csv), loaded at start as before; a row means the units were built for
-- this city by `jiesu init --city` and the shipped Beijing units are never loaded over them.
CREATE TABLE city (
    id            BIGINT PRIMARY KEY,
    code          TEXT NOT NULL,
    name          TEXT NOT NULL,
    short_name    TEXT NOT NULL,
    province_code TEXT NOT NULL,
    province_name TEXT NOT NULL,
    jurisdiction  TEXT NOT NULL,
    units_version TEXT NOT NULL,
    initialised_at BIGINT NOT NULL
);
