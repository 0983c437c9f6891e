-- Issue 18: the working-day calendar lives (store/calendar.rs, services/calendar.rs).
-- Mirrors ../sqlite/0011_calendar.sql column for column.

-- The festival a day belongs to (春节, 国庆节, ...), and who set it: 'shipped' rows come from
-- reference/holidays.csv and follow a newer shipped file; 'admin' rows were entered by an
-- administrator (API, CLI) and are never overwritten by the shipped file.
ALTER TABLE calendar_days ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE calendar_days ADD COLUMN source TEXT NOT NULL DEFAULT 'shipped';
ALTER TABLE calendar_days ADD COLUMN updated_by TEXT NOT NULL DEFAULT 'system';
ALTER TABLE calendar_days ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
