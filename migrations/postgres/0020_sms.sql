-- SMS through a gateway (issue #19). Mirrors ../sqlite/0020_sms.sql.

-- The texts sent to requesters, one row per kind, in Chinese and English; {number}, {code},
-- {unit} and {text} are filled in when a message is written. Admins edit them
-- (PUT /api/v1/sms/templates); these are the shipped defaults.
CREATE TABLE sms_templates (
    kind       TEXT PRIMARY KEY,
    zh         TEXT NOT NULL,
    en         TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
INSERT INTO sms_templates (kind, zh, en, updated_by, updated_at) VALUES
    ('receipt', '【12345】您的诉求已受理，编号{number}，查询码{code}，可凭此查询进度。回复TD退订',
     '[12345] Request {number} received. Query code {code}. Reply TD to opt out.', 'system', 0),
    ('reply', '【12345】您的诉求{number}已由{unit}办理：{text}',
     '[12345] {unit} on request {number}: {text}', 'system', 0),
    ('answer', '【12345】您的咨询{number}答复：{text}',
     '[12345] Answer to {number}: {text}', 'system', 0),
    ('rating', '【12345】请评价诉求{number}：回复1满意 2基本满意 3不满意; 问题是否解决: Y/N',
     '[12345] Rate request {number}: reply 1 satisfied, 2 fairly, 3 not; solved: Y/N', 'system', 0);

-- Numbers that replied TD (退订): nothing more is sent to them. The full number is kept, as
-- nothing else could honour the wish.
CREATE TABLE sms_optouts (
    phone TEXT PRIMARY KEY,
    at    BIGINT NOT NULL
);

-- A rating asked by SMS (短信回访) for a request's round. While `awaiting` (and younger than
-- JIESU_SMS_RATING_HOURS) the request is held out of the callback agents' queue; an answer
-- that closes it is a callback with channel `sms`; `unhappy` and `unparsed` answers, and no
-- answer in time, put it back in the queue. The phone is the request's, not copied here.
CREATE TABLE sms_ratings (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    round       BIGINT NOT NULL,
    asked_at    BIGINT NOT NULL,
    status      TEXT NOT NULL,
    answer      TEXT,
    answered_at BIGINT
);
CREATE INDEX sms_ratings_request ON sms_ratings (request_id, status);

-- Every message the gateway passed on from a phone (MO), with what became of it; the number
-- masked (138****5678): the request, where one matched, has the full one.
CREATE TABLE sms_inbound (
    id         TEXT PRIMARY KEY,
    phone      TEXT NOT NULL,
    text       TEXT NOT NULL,
    request_id TEXT REFERENCES requests (id),
    outcome    TEXT NOT NULL,
    at         BIGINT NOT NULL
);

-- Delivery reports (DLR): outbox.status becomes `delivered` or `failed` from the gateway's
-- report; the last report's code and time are kept.
ALTER TABLE outbox ADD COLUMN dlr_status BIGINT;
ALTER TABLE outbox ADD COLUMN dlr_at BIGINT;

-- How a callback was made: `phone` (an agent's call, all callbacks so far) or `sms`.
ALTER TABLE callbacks ADD COLUMN channel TEXT NOT NULL DEFAULT 'phone';
