-- The entries of a batch (an import, a step of many entries) for the search index, which
-- reads them when it meets the batch's one event (issue #23). Mirrors
-- ../postgres/0033_kb_versions_batch.sql.
CREATE INDEX kb_versions_batch ON kb_versions (batch_id);
