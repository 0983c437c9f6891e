-- SMS, second part (issue #19). Mirrors ../postgres/0024_sms_changes.sql.

-- Texts to the requester when the handling changes: merged into another request (the
-- surviving request's number and query code), sent to another unit after a return, and an
-- extension granted (the new deadline). Each fits one SMS (70 characters) as sent.
INSERT INTO sms_templates (kind, zh, en, updated_by, updated_at) VALUES
    ('merged', '【12345】您的诉求{number}已并入{into}一并办理，查询码{code}',
     '[12345] {number} merged into {into}, code {code}', 'system', 0),
    ('redispatched', '【12345】您的诉求{number}已转由{unit}办理',
     '[12345] Request {number} now handled by {unit}', 'system', 0),
    ('extended', '【12345】您的诉求{number}办理期限延至{deadline}',
     '[12345] Request {number}: deadline extended to {deadline}', 'system', 0);

-- A rating by SMS that was unsatisfied or unresolved is recorded as the callback (channel
-- sms) and sends the request to rework (二次办理), status `followup`: an agent still calls
-- the requester. The agent's follow-up call is kept here, not as a second callback, so the
-- three rates count the requester's answer once.
ALTER TABLE sms_ratings ADD COLUMN followed_up_by TEXT;
ALTER TABLE sms_ratings ADD COLUMN followed_up_at BIGINT;
ALTER TABLE sms_ratings ADD COLUMN follow_up_note TEXT;

-- A unit's own quiet hours for reminders (催办): '' follows JIESU_SMS_UNIT_QUIET_HOURS, 'off'
-- none, '22-8' from 22:00 to 08:00 local time. Emergency orders' texts always go.
ALTER TABLE units ADD COLUMN sms_quiet_hours TEXT NOT NULL DEFAULT '';
