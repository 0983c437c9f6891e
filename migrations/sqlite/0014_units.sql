-- Issue 18: units are managed data (store/units.rs, services/units.rs).
-- Mirrors ../postgres/0014_units.sql column for column.

-- Contacts (值班电话, 联络人), who set the row ('shipped' rows follow a newer reference/units.csv;
-- 'admin' rows were added or edited at run time and the shipped file never overwrites them),
-- and the unit a merged unit went into.
ALTER TABLE units ADD COLUMN duty_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN liaison_name TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN liaison_phone TEXT NOT NULL DEFAULT '';
ALTER TABLE units ADD COLUMN source TEXT NOT NULL DEFAULT 'shipped';
ALTER TABLE units ADD COLUMN merged_into TEXT;
ALTER TABLE units ADD COLUMN updated_by TEXT NOT NULL DEFAULT 'system';
ALTER TABLE units ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

-- Every state a unit had, effective-dated: the state in force at an instant is the row with
-- the latest effective_from not after it. A unit without rows has been as it is since always
-- (the shipped units until their first change, which first records that baseline at 0).
CREATE TABLE unit_versions (
    id             TEXT PRIMARY KEY,
    code           TEXT NOT NULL,
    effective_from BIGINT NOT NULL,
    change         TEXT NOT NULL,
    name           TEXT NOT NULL,
    short_name     TEXT NOT NULL,
    level          TEXT NOT NULL,
    parent_code    TEXT,
    path           TEXT NOT NULL,
    active         BIGINT NOT NULL,
    merged_into    TEXT,
    duty_phone     TEXT NOT NULL,
    liaison_name   TEXT NOT NULL,
    liaison_phone  TEXT NOT NULL,
    changed_by     TEXT NOT NULL
);
CREATE INDEX unit_versions_code ON unit_versions (code, effective_from);

-- Time limits edited at run time (services/limits.rs): a new version is 'admin' and a newer
-- shipped reference/time_limits.csv never adds a version over a class an administrator set.
ALTER TABLE time_limits ADD COLUMN source TEXT NOT NULL DEFAULT 'shipped';
ALTER TABLE time_limits ADD COLUMN created_by TEXT NOT NULL DEFAULT 'system';
