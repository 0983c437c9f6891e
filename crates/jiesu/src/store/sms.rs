//! SMS (issue 19): the requester templates, opt-outs (退订), ratings asked by SMS (短信回访),
//! messages received from phones, and delivery reports on outbox rows. Sending itself is the
//! outbox's (`outbox.rs`); the rules live in `services::sms`.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{AnyPool, Row};

/// A requester text template in both languages.
#[derive(Debug, Clone, Serialize)]
pub struct Template {
    /// `receipt`, `reply`, `answer` or `rating`.
    pub kind: String,
    /// 中文.
    pub zh: String,
    /// English.
    pub en: String,
    /// Who changed it last (`system` for the shipped text).
    pub updated_by: String,
    /// When (the epoch for the shipped text).
    pub updated_at: DateTime<Utc>,
}

fn template_from_row(r: &sqlx::any::AnyRow) -> Result<Template, StoreError> {
    Ok(Template {
        kind: r.try_get("kind")?,
        zh: r.try_get("zh")?,
        en: r.try_get("en")?,
        updated_by: r.try_get("updated_by")?,
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// Every template, by kind.
pub async fn templates(pool: &AnyPool) -> Result<Vec<Template>, StoreError> {
    let rows =
        sqlx::query("SELECT kind, zh, en, updated_by, updated_at FROM sms_templates ORDER BY kind")
            .fetch_all(pool)
            .await?;
    rows.iter().map(template_from_row).collect()
}

/// One template, read inside the caller's transaction.
pub async fn template(tx: &mut Tx, kind: &str) -> Result<Option<Template>, StoreError> {
    let row = sqlx::query(
        "SELECT kind, zh, en, updated_by, updated_at FROM sms_templates WHERE kind = $1",
    )
    .bind(kind)
    .fetch_optional(tx.conn())
    .await?;
    row.as_ref().map(template_from_row).transpose()
}

/// Replaces the texts of an existing template; `false` when there is no such kind.
pub async fn set_template(tx: &mut Tx, t: &Template) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE sms_templates SET zh = $2, en = $3, updated_by = $4, updated_at = $5 WHERE kind = $1",
    )
    .bind(&t.kind)
    .bind(&t.zh)
    .bind(&t.en)
    .bind(&t.updated_by)
    .bind(millis(t.updated_at))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Whether `phone` has opted out (回复TD退订).
pub async fn opted_out(tx: &mut Tx, phone: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_optouts WHERE phone = $1")
        .bind(phone)
        .fetch_one(tx.conn())
        .await?;
    Ok(n > 0)
}

/// Records an opt-out; `false` when the number had already opted out.
pub async fn opt_out(tx: &mut Tx, phone: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    if opted_out(tx, phone).await? {
        return Ok(false);
    }
    sqlx::query("INSERT INTO sms_optouts (phone, at) VALUES ($1, $2)")
        .bind(phone)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(true)
}

/// Messages written to `phone` since `since` (the daily cap counts these).
pub async fn written_since(
    tx: &mut Tx,
    phone: &str,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE recipient = $1 AND created_at >= $2")
            .bind(phone)
            .bind(millis(since))
            .fetch_one(tx.conn())
            .await?,
    )
}

/// Records that a rating was asked by SMS for a request's round.
pub async fn ask_rating(
    tx: &mut Tx,
    request_id: &str,
    round: i64,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO sms_ratings (id, request_id, round, asked_at, status, answer, answered_at) \
         VALUES ($1, $2, $3, $4, 'awaiting', NULL, NULL)",
    )
    .bind(&id)
    .bind(request_id)
    .bind(round)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(id)
}

/// A rating waiting for the requester's answer.
#[derive(Debug, Clone)]
pub struct AwaitingRating {
    /// The rating's id.
    pub id: String,
    /// The request it is about.
    pub request_id: String,
}

/// The newest rating awaiting an answer from `phone`, on a request still waiting for its
/// callback (status `replied`, or merged and not yet called back).
pub async fn awaiting_from(tx: &mut Tx, phone: &str) -> Result<Option<AwaitingRating>, StoreError> {
    let row = sqlx::query(
        "SELECT s.id, s.request_id FROM sms_ratings s JOIN requests r ON r.id = s.request_id \
         WHERE r.requester_phone = $1 AND s.status = 'awaiting' AND s.round = r.round \
         AND (r.status = 'replied' OR (r.status = 'merged' AND r.callback_done = 0)) \
         ORDER BY s.asked_at DESC, s.id DESC LIMIT 1",
    )
    .bind(phone)
    .fetch_optional(tx.conn())
    .await?;
    row.map(|r| {
        Ok(AwaitingRating {
            id: r.try_get("id")?,
            request_id: r.try_get("request_id")?,
        })
    })
    .transpose()
}

/// Records the answer to a rating: `answered` (it became the callback), `unhappy` or
/// `unparsed` (both back in the callback agents' queue).
pub async fn answer_rating(
    tx: &mut Tx,
    id: &str,
    status: &str,
    answer: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE sms_ratings SET status = $2, answer = $3, answered_at = $4 WHERE id = $1")
        .bind(id)
        .bind(status)
        .bind(answer)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The SMS ratings of a request, oldest first: (round, status, answer).
pub async fn ratings_of(
    pool: &AnyPool,
    request_id: &str,
) -> Result<Vec<(i64, String, Option<String>)>, StoreError> {
    let rows = sqlx::query(
        "SELECT round, status, answer FROM sms_ratings WHERE request_id = $1 ORDER BY asked_at, id",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("round")?,
                r.try_get("status")?,
                r.try_get("answer")?,
            ))
        })
        .collect()
}

/// Keeps a message received from a phone (masked number) and what became of it.
pub async fn record_inbound(
    tx: &mut Tx,
    masked_phone: &str,
    text: &str,
    request_id: Option<&str>,
    outcome: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sms_inbound (id, phone, text, request_id, outcome, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(uuid::Uuid::now_v7().to_string())
    .bind(masked_phone)
    .bind(text)
    .bind(request_id)
    .bind(outcome)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Applies a delivery report to an outbox message: Kannel's codes 1 (delivered to the phone)
/// and 2/16 (failed at the phone or rejected by the SMSC) settle its status; 4, 8 (buffered,
/// at the SMSC) record the report and mark a still pending message sent. The request id, or `None` for an unknown message.
pub async fn delivery_report(
    tx: &mut Tx,
    outbox_id: &str,
    code: i64,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let status = match code {
        1 => Some("delivered"),
        2 | 16 => Some("failed"),
        _ => None,
    };
    // Two statements rather than a COALESCE over a NULL parameter, whose type PostgreSQL
    // cannot infer. Any other report (4 buffered, 8 at the SMSC) says the gateway has the message: one
    // still pending here (its attempt timed out before the answer came) is sent, not sent again.
    let sql = match status {
        Some(_) => "UPDATE outbox SET dlr_status = $2, dlr_at = $3, status = $4 WHERE id = $1",
        None => {
            "UPDATE outbox SET dlr_status = $2, dlr_at = $3, \
                 status = CASE WHEN status = 'pending' THEN 'sent' ELSE status END WHERE id = $1"
        }
    };
    let mut q = sqlx::query(sql)
        .bind(outbox_id)
        .bind(code)
        .bind(millis(now));
    if let Some(s) = status {
        q = q.bind(s);
    }
    let done = q.execute(tx.conn()).await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    Ok(
        sqlx::query_scalar("SELECT request_id FROM outbox WHERE id = $1")
            .bind(outbox_id)
            .fetch_optional(tx.conn())
            .await?,
    )
}

/// The requester's answer by SMS that sent each of `ids` to the callback agents (unsatisfied,
/// unresolved or not a rating), the newest per request, by request id.
pub async fn queued_answers(
    pool: &AnyPool,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT request_id, answer FROM sms_ratings WHERE request_id IN ({}) \
         AND status IN ('unhappy', 'unparsed') AND answer IS NOT NULL ORDER BY answered_at, id",
        super::placeholders(ids.len())
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql);
    for id in ids {
        q = q.bind(id);
    }
    // Later rows overwrite earlier ones: the newest answer wins.
    Ok(q.fetch_all(pool).await?.into_iter().collect())
}

/// Records that reminder `kind` (催办) of order `assignment_id` is written; `false` when it
/// already was (by this node or another), so each reminder goes once.
#[allow(clippy::too_many_arguments)]
pub async fn claim_unit_reminder(
    tx: &mut Tx,
    assignment_id: &str,
    kind: &str,
    request_id: &str,
    unit_code: &str,
    to_unit: &str,
    recipients: &str,
    now: DateTime<Utc>,
    due: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO sms_unit_reminders (assignment_id, kind, request_id, unit_code, to_unit, due_at, recipients, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (assignment_id, kind) DO NOTHING",
    )
    .bind(assignment_id).bind(kind).bind(request_id).bind(unit_code).bind(to_unit).bind(millis(due))
    .bind(recipients).bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Open orders past their reply deadline (marked by the sweep) whose escalation (督办) is due:
/// as long after the deadline as their warning came before it, and not yet escalated.
pub async fn escalations_due(
    pool: &AnyPool,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<super::assignments::AssignmentRow>, StoreError> {
    use super::assignments::{assignment_from_row, ASSIGNMENT_COLUMNS};
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE status IN ('dispatched', 'acknowledged') \
         AND reply_overdue_at IS NOT NULL AND reply_by + (reply_by - reply_warn_at) <= $1 \
         AND NOT EXISTS (SELECT 1 FROM sms_unit_reminders r WHERE r.assignment_id = assignments.id \
         AND r.kind = 'unit_escalation') ORDER BY reply_by LIMIT $2"
    );
    let rows = sqlx::query(&sql)
        .bind(millis(now))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Reminders to unit `to_unit` due from `from` to before `until` (the hourly cap counts them).
pub async fn unit_reminders_due_between(
    tx: &mut Tx,
    to_unit: &str,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<i64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sms_unit_reminders WHERE to_unit = $1 AND due_at >= $2 AND due_at < $3 \
         AND recipients <> ''",
    )
    .bind(to_unit)
    .bind(millis(from))
    .bind(millis(until))
    .fetch_one(tx.conn())
    .await?;
    Ok(n)
}

/// Sets a rating's status (an answer that could not become the callback: `unhappy`).
pub async fn set_rating_status(tx: &mut Tx, id: &str, status: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE sms_ratings SET status = $2 WHERE id = $1")
        .bind(id)
        .bind(status)
        .execute(tx.conn())
        .await?;
    Ok(())
}
