-- Reminders that chase units by SMS (催办, issue #19). Mirrors ../postgres/0022_unit_reminders.sql.

-- One row per order and kind of reminder: the key makes each reminder go once, whichever
-- sweep or node gets there first. `to_unit` is the unit texted (the parent unit for an
-- escalation), `due_at` when its texts may go (after the quiet hours, or the next hour when
-- the unit had its hourly cap): the cap counts these rows. Phones are kept masked; the unit
-- record has the full ones.
CREATE TABLE sms_unit_reminders (
    assignment_id TEXT NOT NULL REFERENCES assignments (id),
    kind          TEXT NOT NULL,
    request_id    TEXT NOT NULL REFERENCES requests (id),
    unit_code     TEXT NOT NULL,
    to_unit       TEXT NOT NULL,
    due_at        BIGINT NOT NULL,
    recipients    TEXT NOT NULL,
    at            BIGINT NOT NULL,
    PRIMARY KEY (assignment_id, kind)
);
CREATE INDEX sms_unit_reminders_due ON sms_unit_reminders (to_unit, due_at);

-- The texts to a unit's duty phone and liaison ({number}, {category}, {deadline}, {unit});
-- never the requester's name or phone. Admins edit them like the requester texts.
INSERT INTO sms_templates (kind, zh, en, updated_by, updated_at) VALUES
    ('unit_new_emergency', '【12345紧急】新派紧急工单{number}（{category}），请于{deadline}前办理答复',
     '[12345] URGENT order {number} ({category}), reply by {deadline}.', 'system', 0),
    ('unit_before_breach', '【12345催办】工单{number}（{category}）将于{deadline}到期，请尽快办理答复',
     '[12345] Order {number} ({category}) is due {deadline}. Please reply soon.', 'system', 0),
    ('unit_breach', '【12345催办】工单{number}（{category}）已于{deadline}超期，请立即办理答复',
     '[12345] Order {number} ({category}) is overdue since {deadline}. Reply now.', 'system', 0),
    ('unit_escalation', '【12345督办】{unit}工单{number}（{category}）已于{deadline}超期未办，请督促',
     '[12345] {unit} order {number} ({category}) overdue since {deadline}. Please chase.', 'system', 0);
