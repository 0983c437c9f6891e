-- The call a verdict at the intake desk was given in (issue #23): the desk form's key, so a
-- verdict given before the request existed goes with the request that call made, and a
-- second click in the same call replaces the first. Mirrors ../sqlite/0034_kb_feedback_call.sql.
ALTER TABLE kb_feedback ADD COLUMN call_key TEXT;
CREATE INDEX kb_feedback_call ON kb_feedback (created_by, call_key);
