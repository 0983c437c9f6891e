//! What hotspot mining, burst alerts, proactive tasks and monthly topics read and write:
//! citizen requests in a time range as the miner needs them, the `tasks`/`task_links` rows
//! that say where a proactive request came from, and `topics`/`topic_problems`.

use super::{from_millis, millis, word, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::{RequestStatus, TaskOrigin};
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

/// A citizen request as the miner and the burst detector see it.
#[derive(Debug, Clone)]
pub struct MinedRow {
    pub id: String,
    pub created_at: i64,
    pub title: String,
    pub body: String,
    pub address: String,
    pub category_code: Option<String>,
    pub requester_phone: String,
    /// A callback said unresolved or unsatisfied.
    pub dissatisfied: bool,
}

/// The columns a [`MinedRow`] is read from (`r` is the request).
const MINED_COLUMNS: &str =
    "r.id, r.created_at, r.title, r.body, r.address, r.category_code, r.requester_phone, \
     (SELECT COUNT(*) FROM callbacks c WHERE c.request_id = r.id AND c.reached = 1 \
        AND (c.resolved = 0 OR c.satisfaction = 'unsatisfied')) AS unhappy";

fn mined_from_row(r: &sqlx::any::AnyRow) -> Result<MinedRow, sqlx::Error> {
    Ok(MinedRow {
        id: r.try_get("id")?,
        created_at: r.try_get("created_at")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        address: r.try_get("address")?,
        category_code: r.try_get("category_code")?,
        requester_phone: r.try_get("requester_phone")?,
        dissatisfied: r.try_get::<i64, _>("unhappy")? > 0,
    })
}

/// Citizen requests (not proactive tasks) created in [from, to), oldest first; when there are
/// more than `limit`, the newest `limit`.
pub async fn requests_between(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<MinedRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {MINED_COLUMNS} FROM requests r \
         WHERE r.created_at >= $1 AND r.created_at < $2 AND r.channel <> 'proactive' \
         ORDER BY r.created_at DESC, r.id DESC LIMIT $3"
    ))
    .bind(millis(from))
    .bind(millis(to))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .rev()
        .map(mined_from_row)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// The citizen requests (not proactive tasks) among `ids`, oldest first.
pub async fn mined_by_ids(pool: &AnyPool, ids: &[String]) -> Result<Vec<MinedRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {MINED_COLUMNS} FROM requests r \
         WHERE r.id IN ({}) AND r.channel <> 'proactive' ORDER BY r.created_at, r.id",
        super::placeholders(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    q.fetch_all(pool)
        .await?
        .iter()
        .map(mined_from_row)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// A proactive task's origin.
#[derive(Debug, Clone)]
pub struct TaskRow {
    pub request_id: String,
    pub source_kind: TaskOrigin,
    pub source_ref: String,
    pub topic_id: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

/// Stores a task and the requests that prompted it.
pub async fn insert_task(tx: &mut Tx, t: &TaskRow, links: &[String]) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO tasks (request_id, source_kind, source_ref, topic_id, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&t.request_id)
        .bind(t.source_kind.as_str())
        .bind(&t.source_ref)
        .bind(&t.topic_id)
        .bind(&t.created_by)
        .bind(millis(t.created_at))
        .execute(tx.conn())
        .await?;
    for id in links {
        sqlx::query("INSERT INTO task_links (task_request_id, request_id) VALUES ($1, $2)")
            .bind(&t.request_id)
            .bind(id)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// Links an existing task to a topic.
pub async fn set_task_topic(
    tx: &mut Tx,
    task_id: &str,
    topic_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query("UPDATE tasks SET topic_id = $1 WHERE request_id = $2")
        .bind(topic_id)
        .bind(task_id)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A task with its request's status and the progress of its current round.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskSummary {
    /// The task's request id.
    pub id: String,
    /// Its request number.
    pub number: String,
    /// Title.
    pub title: String,
    /// The request status (dispatched, in_progress, replied, closed).
    pub status: RequestStatus,
    /// hotspot, alert, topic or elsewhere.
    pub source_kind: TaskOrigin,
    /// The problem key, alert key, topic id or task id it came from.
    pub source_ref: String,
    /// The topic it belongs to, if any.
    pub topic_id: Option<String>,
    /// Opened, UTC.
    pub created_at: DateTime<Utc>,
    /// Orders of the current round.
    pub orders: i64,
    /// Of those, replied.
    pub replied: i64,
    /// The citizen requests that prompted it.
    pub request_ids: Vec<String>,
}

const TASK_SELECT: &str = "SELECT t.request_id, r.number, r.title, r.status, t.source_kind, t.source_ref, t.topic_id, t.created_at, \
    (SELECT COUNT(*) FROM assignments a WHERE a.request_id = r.id AND a.round = r.round AND a.status <> 'returned') AS orders, \
    (SELECT COUNT(*) FROM assignments a WHERE a.request_id = r.id AND a.round = r.round AND a.status = 'replied') AS replied \
    FROM tasks t JOIN requests r ON r.id = t.request_id";

/// Tasks, newest first, optionally only those whose request has `status` or that belong to
/// `topic_id`.
pub async fn list_tasks(
    pool: &AnyPool,
    status: Option<&str>,
    topic_id: Option<&str>,
    limit: i64,
) -> Result<Vec<TaskSummary>, StoreError> {
    let rows = sqlx::query(&format!(
        "{TASK_SELECT} WHERE ($1 = '' OR r.status = $1) AND ($2 = '' OR t.topic_id = $2) \
         ORDER BY t.created_at DESC, t.request_id DESC LIMIT $3"
    ))
    .bind(status.unwrap_or(""))
    .bind(topic_id.unwrap_or(""))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    summaries(pool, &rows).await
}

/// One task; None when `task_id` is no task.
pub async fn task(pool: &AnyPool, task_id: &str) -> Result<Option<TaskSummary>, StoreError> {
    let rows = sqlx::query(&format!("{TASK_SELECT} WHERE t.request_id = $1"))
        .bind(task_id)
        .fetch_all(pool)
        .await?;
    Ok(summaries(pool, &rows).await?.pop())
}

/// Reads [`TASK_SELECT`] rows, with each task's linked requests (one more query for all).
async fn summaries(
    pool: &AnyPool,
    rows: &[sqlx::any::AnyRow],
) -> Result<Vec<TaskSummary>, StoreError> {
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get("request_id"))
        .collect::<Result<_, _>>()?;
    let mut links: HashMap<String, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        let sql = format!(
            "SELECT task_request_id, request_id FROM task_links WHERE task_request_id IN ({}) \
             ORDER BY task_request_id, request_id",
            super::placeholders(ids.len())
        );
        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
        for id in &ids {
            q = q.bind(id);
        }
        for (task, request) in q.fetch_all(pool).await? {
            links.entry(task).or_default().push(request);
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for (r, id) in rows.iter().zip(ids) {
        out.push(TaskSummary {
            request_ids: links.remove(&id).unwrap_or_default(),
            id,
            number: r.try_get("number")?,
            title: r.try_get("title")?,
            status: word(r, "status", RequestStatus::parse)?,
            source_kind: word(r, "source_kind", TaskOrigin::parse)?,
            source_ref: r.try_get("source_ref")?,
            topic_id: r.try_get("topic_id")?,
            created_at: from_millis(r.try_get("created_at")?),
            orders: r.try_get("orders")?,
            replied: r.try_get("replied")?,
        });
    }
    Ok(out)
}

/// The citizen requests that prompted a task; None when `task_id` is no task.
pub async fn task_links(pool: &AnyPool, task_id: &str) -> Result<Option<Vec<String>>, StoreError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT request_id FROM tasks WHERE request_id = $1")
            .bind(task_id)
            .fetch_optional(pool)
            .await?;
    if found.is_none() {
        return Ok(None);
    }
    Ok(Some(
        sqlx::query_scalar("SELECT request_id FROM task_links WHERE task_request_id = $1")
            .bind(task_id)
            .fetch_all(pool)
            .await?,
    ))
}

/// A monthly topic (每月一题).
#[derive(Debug, Clone, serde::Serialize)]
pub struct TopicRow {
    /// Id.
    pub id: String,
    /// YYYY-MM.
    pub month: String,
    /// Title.
    pub title: String,
    /// The lead unit's code.
    pub lead_unit: String,
    /// Who opened it.
    pub created_by: String,
    /// When, UTC.
    pub created_at: DateTime<Utc>,
}

/// One concrete problem of a topic.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TopicProblem {
    /// The category its progress is measured on.
    pub category_code: Option<String>,
    /// What the problem is.
    pub description: String,
}

/// Stores a topic and its problems.
pub async fn insert_topic(
    tx: &mut Tx,
    t: &TopicRow,
    problems: &[TopicProblem],
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO topics (id, month, title, lead_unit, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&t.id)
        .bind(&t.month)
        .bind(&t.title)
        .bind(&t.lead_unit)
        .bind(&t.created_by)
        .bind(millis(t.created_at))
        .execute(tx.conn())
        .await?;
    for (i, p) in problems.iter().enumerate() {
        sqlx::query("INSERT INTO topic_problems (topic_id, position, category_code, description) VALUES ($1, $2, $3, $4)")
            .bind(&t.id)
            .bind(i as i64)
            .bind(&p.category_code)
            .bind(&p.description)
            .execute(tx.conn())
            .await?;
    }
    Ok(())
}

/// A topic and its problems.
pub async fn topic(
    pool: &AnyPool,
    id: &str,
) -> Result<Option<(TopicRow, Vec<TopicProblem>)>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT id, month, title, lead_unit, created_by, created_at FROM topics WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let topic = TopicRow {
        id: r.try_get("id")?,
        month: r.try_get("month")?,
        title: r.try_get("title")?,
        lead_unit: r.try_get("lead_unit")?,
        created_by: r.try_get("created_by")?,
        created_at: from_millis(r.try_get("created_at")?),
    };
    let rows = sqlx::query(
        "SELECT category_code, description FROM topic_problems WHERE topic_id = $1 ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let problems = rows
        .iter()
        .map(|r| {
            Ok(TopicProblem {
                category_code: r.try_get("category_code")?,
                description: r.try_get("description")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(Some((topic, problems)))
}

/// The problems of several topics, by topic id, each topic's in order (one query).
pub async fn problems_of(
    pool: &AnyPool,
    topic_ids: &[String],
) -> Result<HashMap<String, Vec<TopicProblem>>, StoreError> {
    let mut out: HashMap<String, Vec<TopicProblem>> = HashMap::new();
    if topic_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT topic_id, category_code, description FROM topic_problems WHERE topic_id IN ({}) \
         ORDER BY topic_id, position",
        super::placeholders(topic_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in topic_ids {
        q = q.bind(id);
    }
    for r in q.fetch_all(pool).await? {
        out.entry(r.try_get("topic_id")?)
            .or_default()
            .push(TopicProblem {
                category_code: r.try_get("category_code")?,
                description: r.try_get("description")?,
            });
    }
    Ok(out)
}

/// The request status of each task of several topics, by topic id (one query).
pub async fn task_statuses_of(
    pool: &AnyPool,
    topic_ids: &[String],
) -> Result<HashMap<String, Vec<RequestStatus>>, StoreError> {
    let mut out: HashMap<String, Vec<RequestStatus>> = HashMap::new();
    if topic_ids.is_empty() {
        return Ok(out);
    }
    let sql = format!(
        "SELECT t.topic_id, r.status FROM tasks t JOIN requests r ON r.id = t.request_id \
         WHERE t.topic_id IN ({})",
        super::placeholders(topic_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in topic_ids {
        q = q.bind(id);
    }
    for r in q.fetch_all(pool).await? {
        out.entry(r.try_get("topic_id")?).or_default().push(word(
            &r,
            "status",
            RequestStatus::parse,
        )?);
    }
    Ok(out)
}

/// Callback answers (reached ones) on citizen requests of `category` (or its subcategories)
/// created in [from, to): (satisfied, basic, unsatisfied).
pub async fn satisfaction_in(
    pool: &AnyPool,
    category: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<(i64, i64, i64), StoreError> {
    let row = sqlx::query(
        "SELECT \
           COALESCE(SUM(CASE WHEN c.satisfaction = 'satisfied' THEN 1 ELSE 0 END), 0) AS s, \
           COALESCE(SUM(CASE WHEN c.satisfaction = 'basic' THEN 1 ELSE 0 END), 0) AS b, \
           COALESCE(SUM(CASE WHEN c.satisfaction = 'unsatisfied' THEN 1 ELSE 0 END), 0) AS u \
         FROM callbacks c JOIN requests r ON r.id = c.request_id \
         WHERE c.reached = 1 AND r.channel <> 'proactive' AND r.created_at >= $1 AND r.created_at < $2 \
           AND (r.category_code = $3 OR r.category_code LIKE $4)",
    )
    .bind(millis(from))
    .bind(millis(to))
    .bind(category)
    .bind(format!("{category}.%"))
    .fetch_one(pool)
    .await?;
    Ok((row.try_get("s")?, row.try_get("b")?, row.try_get("u")?))
}

/// Topics, newest month first, then newest opened.
pub async fn list_topics(pool: &AnyPool, limit: i64) -> Result<Vec<TopicRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, month, title, lead_unit, created_by, created_at FROM topics \
         ORDER BY month DESC, created_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(TopicRow {
                id: r.try_get("id")?,
                month: r.try_get("month")?,
                title: r.try_get("title")?,
                lead_unit: r.try_get("lead_unit")?,
                created_by: r.try_get("created_by")?,
                created_at: from_millis(r.try_get("created_at")?),
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
