-- Issue 18: categories are managed data (store/categories.rs, services/categories.rs).
-- Mirrors ../sqlite/0018_category_versions.sql column for column.

-- Whether new requests may be filed in the category (an inactive one keeps its old requests),
-- who set the row ('shipped' rows follow a newer reference/categories.csv; 'admin' rows were
-- added or edited at run time and the shipped file never overwrites them), and when.
ALTER TABLE categories ADD COLUMN active BIGINT NOT NULL DEFAULT 1;
ALTER TABLE categories ADD COLUMN source TEXT NOT NULL DEFAULT 'shipped';
ALTER TABLE categories ADD COLUMN updated_by TEXT NOT NULL DEFAULT 'system';
ALTER TABLE categories ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;

-- Every state a category had or is announced to have, effective-dated: the state in force at
-- an instant is the row with the latest valid_from not after it (ties: the later id). A
-- category without rows has been as it is since always (its first change records that
-- baseline at 0). applied = 0 marks an announced change whose date has not come yet: the
-- categories row still holds the state in force, and a sweep copies it there when due.
CREATE TABLE category_versions (
    id                TEXT PRIMARY KEY,
    code              TEXT NOT NULL,
    valid_from        BIGINT NOT NULL,
    change            TEXT NOT NULL,
    name              TEXT NOT NULL,
    name_en           TEXT NOT NULL,
    parent_code       TEXT,
    level             BIGINT NOT NULL,
    default_unit_code TEXT,
    time_limit_class  TEXT NOT NULL,
    keywords          TEXT NOT NULL,
    reply_review      BIGINT NOT NULL,
    active            BIGINT NOT NULL,
    applied           BIGINT NOT NULL,
    changed_by        TEXT NOT NULL,
    recorded_at       BIGINT NOT NULL
);
CREATE INDEX category_versions_code ON category_versions (code, valid_from);
CREATE INDEX category_versions_pending ON category_versions (applied, valid_from);
