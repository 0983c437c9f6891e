//! Requests, their orders, extension requests and callbacks. Rows are plain structs: the
//! services load them inside a write transaction, let `jiesu_core::workflow` decide, and save.

use super::{from_millis, millis, Dialect, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored request.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: String,
    pub number: String,
    pub jurisdiction: String,
    pub kind: String,
    pub channel: String,
    pub merged_line: Option<String>,
    pub status: String,
    pub title: String,
    pub body: String,
    pub address: String,
    pub category_code: Option<String>,
    pub time_limit_class: Option<String>,
    pub requester_name: String,
    pub requester_phone: String,
    pub enterprise_name: Option<String>,
    pub credit_code: Option<String>,
    pub confidential: bool,
    pub round: i64,
    pub primary_id: Option<String>,
    pub callback_attempts: i64,
    pub callback_done: bool,
    pub answer: Option<String>,
    pub close_reason: Option<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

pub(crate) const REQUEST_COLUMNS: &str = "id, number, jurisdiction, kind, channel, merged_line, status, title, body, address, \
    category_code, time_limit_class, requester_name, requester_phone, enterprise_name, credit_code, confidential, \
    round, primary_id, callback_attempts, callback_done, answer, close_reason, created_by, created_at, updated_at, closed_at";

pub(crate) fn request_from_row(r: &AnyRow) -> Result<RequestRow, sqlx::Error> {
    Ok(RequestRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        jurisdiction: r.try_get("jurisdiction")?,
        kind: r.try_get("kind")?,
        channel: r.try_get("channel")?,
        merged_line: r.try_get("merged_line")?,
        status: r.try_get("status")?,
        title: r.try_get("title")?,
        body: r.try_get("body")?,
        address: r.try_get("address")?,
        category_code: r.try_get("category_code")?,
        time_limit_class: r.try_get("time_limit_class")?,
        requester_name: r.try_get("requester_name")?,
        requester_phone: r.try_get("requester_phone")?,
        enterprise_name: r.try_get("enterprise_name")?,
        credit_code: r.try_get("credit_code")?,
        confidential: r.try_get::<i64, _>("confidential")? != 0,
        round: r.try_get("round")?,
        primary_id: r.try_get("primary_id")?,
        callback_attempts: r.try_get("callback_attempts")?,
        callback_done: r.try_get::<i64, _>("callback_done")? != 0,
        answer: r.try_get("answer")?,
        close_reason: r.try_get("close_reason")?,
        created_by: r.try_get("created_by")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
        closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(from_millis),
    })
}

const NEXT_NUMBER: &str = "INSERT INTO day_counters (day, last) VALUES ($1, 1) \
     ON CONFLICT (day) DO UPDATE SET last = day_counters.last + 1 RETURNING last";

/// The next `$2` numbers of day `$1`: returns the last.
const NEXT_NUMBERS: &str = "INSERT INTO day_counters (day, last) VALUES ($1, $2) \
     ON CONFLICT (day) DO UPDATE SET last = day_counters.last + EXCLUDED.last RETURNING last";

/// [`NEXT_NUMBERS`] as an autocommitted PostgreSQL statement that commits without waiting for
/// the WAL flush (see [`Store::side_counter`]).
const NEXT_NUMBERS_EARLY: &str = "INSERT INTO day_counters (day, last) \
     SELECT $1, $2 FROM (SELECT set_config('synchronous_commit', 'off', true)) AS early \
     ON CONFLICT (day) DO UPDATE SET last = day_counters.last + EXCLUDED.last RETURNING last";

/// PostgreSQL: the next `n` numbers of a local day, in order, taken before the requests are
/// written (see [`Store::side_counter`]); a request that then fails leaves a gap. SQLite:
/// `None`, and [`next_number`] takes one inside the transaction.
pub async fn reserve_numbers(
    store: &Store,
    day: &str,
    n: usize,
) -> Result<Option<Vec<String>>, StoreError> {
    let n = n as i64;
    Ok(store
        .side_counter(NEXT_NUMBERS_EARLY, NEXT_NUMBERS, day, n)
        .await?
        .map(|last| {
            (last - n + 1..=last)
                .map(|k| format!("{day}-{k:06}"))
                .collect()
        }))
}

/// The next human number of a local day: `20261128-000123`, inside the transaction.
pub async fn next_number(tx: &mut Tx, day: &str) -> Result<String, StoreError> {
    tx.take_turn().await; // PostgreSQL: the turn before the counter row (see `turn.rs`)
    let n: i64 = sqlx::query_scalar(NEXT_NUMBER)
        .bind(day)
        .fetch_one(tx.conn())
        .await?;
    Ok(format!("{day}-{n:06}"))
}

/// The `INSERT` of a request row, its values bound by [`bind_row`].
fn insert_sql() -> String {
    format!(
        "INSERT INTO requests ({REQUEST_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
         $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)"
    )
}

/// Binds a request row's 27 columns, in [`REQUEST_COLUMNS`] order.
pub(super) fn bind_row<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    r: &'q RequestRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&r.id)
        .bind(&r.number)
        .bind(&r.jurisdiction)
        .bind(&r.kind)
        .bind(&r.channel)
        .bind(&r.merged_line)
        .bind(&r.status)
        .bind(&r.title)
        .bind(&r.body)
        .bind(&r.address)
        .bind(&r.category_code)
        .bind(&r.time_limit_class)
        .bind(&r.requester_name)
        .bind(&r.requester_phone)
        .bind(&r.enterprise_name)
        .bind(&r.credit_code)
        .bind(r.confidential as i64)
        .bind(r.round)
        .bind(&r.primary_id)
        .bind(r.callback_attempts)
        .bind(r.callback_done as i64)
        .bind(&r.answer)
        .bind(&r.close_reason)
        .bind(&r.created_by)
        .bind(millis(r.created_at))
        .bind(millis(r.updated_at))
        .bind(r.closed_at.map(millis))
}

/// Inserts a new request.
pub async fn insert(tx: &mut Tx, r: &RequestRow) -> Result<(), StoreError> {
    let sql = insert_sql();
    bind_row(sqlx::query(&sql), r).execute(tx.conn()).await?;
    Ok(())
}

/// Inserts a new request and links to it the suggestion shown for it, if any; false when
/// there is no such unlinked suggestion (the caller must then not commit). On PostgreSQL both
/// are one statement (a data-modifying `WITH`), one round trip where they were two.
pub(super) async fn insert_linked(
    tx: &mut Tx,
    r: &RequestRow,
    suggestion_id: Option<&str>,
) -> Result<bool, StoreError> {
    let Some(sid) = suggestion_id else {
        insert(tx, r).await?;
        return Ok(true);
    };
    if tx.dialect() == Dialect::Sqlite {
        insert(tx, r).await?;
        return super::suggestions::link(tx, sid, &r.id).await;
    }
    let sql = format!(
        "WITH inserted AS ({} RETURNING id) UPDATE suggestions SET request_id = (SELECT id FROM inserted) \
         WHERE id = $28 AND request_id IS NULL",
        insert_sql()
    );
    let done = bind_row(sqlx::query(&sql), r)
        .bind(sid)
        .execute(tx.conn())
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Saves the mutable columns of a request.
pub async fn save(tx: &mut Tx, r: &RequestRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE requests SET status = $2, category_code = $3, time_limit_class = $4, round = $5, primary_id = $6, \
         callback_attempts = $7, callback_done = $8, answer = $9, close_reason = $10, updated_at = $11, closed_at = $12 \
         WHERE id = $1",
    )
    .bind(&r.id).bind(&r.status).bind(&r.category_code).bind(&r.time_limit_class).bind(r.round).bind(&r.primary_id)
    .bind(r.callback_attempts).bind(r.callback_done as i64).bind(&r.answer).bind(&r.close_reason)
    .bind(millis(r.updated_at)).bind(r.closed_at.map(millis))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Loads a request inside a write transaction, locking its row on PostgreSQL so that two
/// people acting on it at once are serialised.
pub async fn lock(tx: &mut Tx, id: &str) -> Result<Option<RequestRow>, StoreError> {
    let sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1{}",
        tx.dialect().for_update()
    );
    let row = sqlx::query(&sql).bind(id).fetch_optional(tx.conn()).await?;
    Ok(row.as_ref().map(request_from_row).transpose()?)
}

/// Loads a request by id or by its human number.
pub async fn get<'c, E>(conn: E, id_or_number: &str) -> Result<Option<RequestRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let sql = format!("SELECT {REQUEST_COLUMNS} FROM requests WHERE id = $1 OR number = $1");
    let row = sqlx::query(&sql)
        .bind(id_or_number)
        .fetch_optional(conn)
        .await?;
    Ok(row.as_ref().map(request_from_row).transpose()?)
}

/// `columns` of the requests with these ids, in no particular order (missing ids are left
/// out).
async fn rows_by_id(
    pool: &AnyPool,
    columns: &str,
    ids: &[String],
) -> Result<Vec<AnyRow>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {columns} FROM requests WHERE id IN ({})",
        super::placeholders(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    Ok(q.fetch_all(pool).await?)
}

/// Requests by id, in no particular order (missing ids are left out).
pub async fn get_many(pool: &AnyPool, ids: &[String]) -> Result<Vec<RequestRow>, StoreError> {
    let rows = rows_by_id(pool, REQUEST_COLUMNS, ids).await?;
    Ok(rows
        .iter()
        .map(request_from_row)
        .collect::<Result<_, _>>()?)
}

/// What a duplicate suggestion shows of an earlier request, and what decides whether it is
/// one (still open, recent enough).
#[derive(Debug, Clone)]
pub struct DuplicateCandidate {
    /// Id.
    pub id: String,
    /// The day's number.
    pub number: String,
    /// Title.
    pub title: String,
    /// Status.
    pub status: String,
    /// When it was recorded.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// [`DuplicateCandidate`]s by id (five columns, not the whole row: suggest reads up to ten
/// per keystroke pause).
pub async fn duplicate_candidates(
    pool: &AnyPool,
    ids: &[String],
) -> Result<Vec<DuplicateCandidate>, StoreError> {
    let rows = rows_by_id(pool, "id, number, title, status, created_at", ids).await?;
    Ok(rows
        .iter()
        .map(|r| {
            Ok::<_, sqlx::Error>(DuplicateCandidate {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                status: r.try_get("status")?,
                created_at: from_millis(r.try_get("created_at")?),
            })
        })
        .collect::<Result<_, _>>()?)
}

/// The address and text of requests by id, as `address text`: what their place is resolved
/// from.
pub async fn place_texts(
    pool: &AnyPool,
    ids: &[String],
) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let rows = rows_by_id(pool, "id, address, body", ids).await?;
    rows.iter()
        .map(|r| {
            let address: String = r.try_get("address")?;
            let body: String = r.try_get("body")?;
            Ok((r.try_get("id")?, format!("{address} {body}")))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Filters of the request list.
#[derive(Debug, Default, Clone)]
pub struct ListFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only requests with an order at this unit or a unit under it (a unit path prefix).
    pub unit_path: Option<String>,
    /// Page, from 1.
    pub page: i64,
    /// Rows per page.
    pub per_page: i64,
}

/// One page of requests, newest first, and the total count.
pub async fn list(pool: &AnyPool, f: &ListFilter) -> Result<(Vec<RequestRow>, i64), StoreError> {
    let scope = "($2 = '' OR EXISTS (SELECT 1 FROM assignments a WHERE a.request_id = requests.id AND a.unit_path LIKE $2 || '%'))";
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM requests WHERE ($1 = '' OR status = $1) AND {scope}"
    ))
    .bind(f.status.as_deref().unwrap_or(""))
    .bind(f.unit_path.as_deref().unwrap_or(""))
    .fetch_one(pool)
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE ($1 = '' OR status = $1) AND {scope} \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(f.status.as_deref().unwrap_or(""))
    .bind(f.unit_path.as_deref().unwrap_or(""))
    .bind(f.per_page)
    .bind((f.page - 1) * f.per_page)
    .fetch_all(pool)
    .await?;
    Ok((
        rows.iter()
            .map(request_from_row)
            .collect::<Result<_, _>>()?,
        total,
    ))
}

/// Requests merged into `primary_id`.
pub async fn merged_into(pool: &AnyPool, primary_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM requests WHERE primary_id = $1 ORDER BY created_at")
            .bind(primary_id)
            .fetch_all(pool)
            .await?,
    )
}

/// A stored order.
#[derive(Debug, Clone)]
pub struct AssignmentRow {
    pub id: String,
    pub request_id: String,
    pub jurisdiction: String,
    pub unit_code: String,
    pub unit_path: String,
    pub role: String,
    pub round: i64,
    pub status: String,
    pub time_limit_class: String,
    pub dispatched_at: DateTime<Utc>,
    pub acknowledge_by: DateTime<Utc>,
    pub reply_by: DateTime<Utc>,
    pub reply_warn_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub replied_at: Option<DateTime<Utc>>,
    pub returned_at: Option<DateTime<Utc>>,
    pub return_reason: Option<String>,
    pub outcome: Option<String>,
    pub reply_to_requester: Option<String>,
    pub reply_to_center: Option<String>,
    pub ack_overdue_at: Option<DateTime<Utc>>,
    pub reply_warned_at: Option<DateTime<Utc>>,
    pub reply_overdue_at: Option<DateTime<Utc>>,
    pub dispatched_by: String,
}

pub(crate) const ASSIGNMENT_COLUMNS: &str = "id, request_id, jurisdiction, unit_code, unit_path, role, round, status, time_limit_class, \
    dispatched_at, acknowledge_by, reply_by, reply_warn_at, acknowledged_at, replied_at, returned_at, return_reason, outcome, \
    reply_to_requester, reply_to_center, ack_overdue_at, reply_warned_at, reply_overdue_at, dispatched_by";

fn opt_time(r: &AnyRow, col: &str) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    Ok(r.try_get::<Option<i64>, _>(col)?.map(from_millis))
}

pub(crate) fn assignment_from_row(r: &AnyRow) -> Result<AssignmentRow, sqlx::Error> {
    Ok(AssignmentRow {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        jurisdiction: r.try_get("jurisdiction")?,
        unit_code: r.try_get("unit_code")?,
        unit_path: r.try_get("unit_path")?,
        role: r.try_get("role")?,
        round: r.try_get("round")?,
        status: r.try_get("status")?,
        time_limit_class: r.try_get("time_limit_class")?,
        dispatched_at: from_millis(r.try_get("dispatched_at")?),
        acknowledge_by: from_millis(r.try_get("acknowledge_by")?),
        reply_by: from_millis(r.try_get("reply_by")?),
        reply_warn_at: from_millis(r.try_get("reply_warn_at")?),
        acknowledged_at: opt_time(r, "acknowledged_at")?,
        replied_at: opt_time(r, "replied_at")?,
        returned_at: opt_time(r, "returned_at")?,
        return_reason: r.try_get("return_reason")?,
        outcome: r.try_get("outcome")?,
        reply_to_requester: r.try_get("reply_to_requester")?,
        reply_to_center: r.try_get("reply_to_center")?,
        ack_overdue_at: opt_time(r, "ack_overdue_at")?,
        reply_warned_at: opt_time(r, "reply_warned_at")?,
        reply_overdue_at: opt_time(r, "reply_overdue_at")?,
        dispatched_by: r.try_get("dispatched_by")?,
    })
}

/// Inserts an order.
pub async fn insert_assignment(tx: &mut Tx, a: &AssignmentRow) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO assignments ({ASSIGNMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
         $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24)"
    ))
    .bind(&a.id).bind(&a.request_id).bind(&a.jurisdiction).bind(&a.unit_code).bind(&a.unit_path).bind(&a.role)
    .bind(a.round).bind(&a.status).bind(&a.time_limit_class).bind(millis(a.dispatched_at)).bind(millis(a.acknowledge_by))
    .bind(millis(a.reply_by)).bind(millis(a.reply_warn_at)).bind(a.acknowledged_at.map(millis)).bind(a.replied_at.map(millis))
    .bind(a.returned_at.map(millis)).bind(&a.return_reason).bind(&a.outcome).bind(&a.reply_to_requester)
    .bind(&a.reply_to_center).bind(a.ack_overdue_at.map(millis)).bind(a.reply_warned_at.map(millis))
    .bind(a.reply_overdue_at.map(millis)).bind(&a.dispatched_by)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Saves the mutable columns of an order.
pub async fn save_assignment(tx: &mut Tx, a: &AssignmentRow) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE assignments SET status = $2, reply_by = $3, acknowledged_at = $4, replied_at = $5, returned_at = $6, \
         return_reason = $7, outcome = $8, reply_to_requester = $9, reply_to_center = $10, ack_overdue_at = $11, \
         reply_warned_at = $12, reply_overdue_at = $13, reply_warn_at = $14 WHERE id = $1",
    )
    .bind(&a.id).bind(&a.status).bind(millis(a.reply_by)).bind(a.acknowledged_at.map(millis))
    .bind(a.replied_at.map(millis)).bind(a.returned_at.map(millis)).bind(&a.return_reason).bind(&a.outcome)
    .bind(&a.reply_to_requester).bind(&a.reply_to_center).bind(a.ack_overdue_at.map(millis))
    .bind(a.reply_warned_at.map(millis)).bind(a.reply_overdue_at.map(millis)).bind(millis(a.reply_warn_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The orders of a request, oldest first.
pub async fn assignments_of<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<AssignmentRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE request_id = $1 ORDER BY round, dispatched_at, id"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// The orders of several requests, in each request's order (as [`assignments_of`]).
pub async fn assignments_of_many(
    pool: &AnyPool,
    request_ids: &[String],
) -> Result<Vec<AssignmentRow>, StoreError> {
    if request_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE request_id IN ({}) \
         ORDER BY request_id, round, dispatched_at, id",
        super::placeholders(request_ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in request_ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// The request id an order belongs to.
pub async fn request_of_assignment(
    pool: &AnyPool,
    assignment_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM assignments WHERE id = $1")
            .bind(assignment_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// Orders in one of `statuses` whose `column` deadline is before `before` and whose `flag`
/// column is still empty: the work of the deadline sweep.
pub async fn due_orders(
    pool: &AnyPool,
    statuses: &[&str],
    column: &str,
    before: DateTime<Utc>,
    flag: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let list: Vec<String> = statuses.iter().map(|s| format!("'{s}'")).collect();
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE status IN ({}) AND {column} < $1 AND {flag} IS NULL \
         ORDER BY {column} LIMIT $2",
        list.join(", ")
    );
    let rows = sqlx::query(&sql)
        .bind(millis(before))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Open orders past a deadline (for supervision), unit-scoped by path prefix.
pub async fn overdue(
    pool: &AnyPool,
    now: DateTime<Utc>,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    scoped_orders(
        pool,
        "((status = 'dispatched' AND acknowledge_by < $1) OR (status IN ('dispatched', 'acknowledged') AND reply_by < $1))",
        now,
        unit_path,
        limit,
    )
    .await
}

/// Open orders whose pre-breach warning time has passed but whose reply deadline has not
/// (about to breach), soonest deadline first, unit-scoped by path prefix.
pub async fn about_to_breach(
    pool: &AnyPool,
    now: DateTime<Utc>,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    scoped_orders(
        pool,
        "status IN ('dispatched', 'acknowledged') AND reply_warn_at <= $1 AND reply_by >= $1",
        now,
        unit_path,
        limit,
    )
    .await
}

/// Orders matching `condition` (on `$1` = now) under a unit path, soonest deadline first.
async fn scoped_orders(
    pool: &AnyPool,
    condition: &str,
    now: DateTime<Utc>,
    unit_path: &str,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE {condition} \
         AND unit_path LIKE $2 || '%' ORDER BY reply_by LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(millis(now))
        .bind(unit_path)
        .bind(limit)
        .fetch_all(pool)
        .await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// Requests waiting for re-dispatch after their lead unit returned them (退单待处理), oldest
/// return first.
pub async fn returned_waiting(
    pool: &AnyPool,
    limit: i64,
) -> Result<Vec<AssignmentRow>, StoreError> {
    let sql = format!(
        "SELECT {ASSIGNMENT_COLUMNS} FROM assignments a WHERE a.status = 'returned' AND a.role = 'lead' \
         AND EXISTS (SELECT 1 FROM requests r WHERE r.id = a.request_id AND r.status = 'received' AND r.round = a.round) \
         ORDER BY a.returned_at LIMIT $1"
    );
    let rows = sqlx::query(&sql).bind(limit).fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(assignment_from_row)
        .collect::<Result<_, _>>()?)
}

/// A stored extension request.
#[derive(Debug, Clone)]
pub struct ExtensionRow {
    pub id: String,
    pub assignment_id: String,
    pub request_id: String,
    pub hours: i64,
    pub reason: String,
    pub status: String,
    pub requested_by: String,
    pub requested_at: DateTime<Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub old_reply_by: DateTime<Utc>,
    pub new_reply_by: Option<DateTime<Utc>>,
}

pub(crate) const EXTENSION_COLUMNS: &str =
    "id, assignment_id, request_id, hours, reason, status, requested_by, requested_at, \
    decided_by, decided_at, old_reply_by, new_reply_by";

pub(crate) fn extension_from_row(r: &AnyRow) -> Result<ExtensionRow, sqlx::Error> {
    Ok(ExtensionRow {
        id: r.try_get("id")?,
        assignment_id: r.try_get("assignment_id")?,
        request_id: r.try_get("request_id")?,
        hours: r.try_get("hours")?,
        reason: r.try_get("reason")?,
        status: r.try_get("status")?,
        requested_by: r.try_get("requested_by")?,
        requested_at: from_millis(r.try_get("requested_at")?),
        decided_by: r.try_get("decided_by")?,
        decided_at: opt_time(r, "decided_at")?,
        old_reply_by: from_millis(r.try_get("old_reply_by")?),
        new_reply_by: opt_time(r, "new_reply_by")?,
    })
}

/// Inserts an extension request.
pub async fn insert_extension(tx: &mut Tx, e: &ExtensionRow) -> Result<(), StoreError> {
    sqlx::query(&format!("INSERT INTO extensions ({EXTENSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"))
        .bind(&e.id).bind(&e.assignment_id).bind(&e.request_id).bind(e.hours).bind(&e.reason).bind(&e.status)
        .bind(&e.requested_by).bind(millis(e.requested_at)).bind(&e.decided_by).bind(e.decided_at.map(millis))
        .bind(millis(e.old_reply_by)).bind(e.new_reply_by.map(millis))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Saves a decision on an extension request.
pub async fn save_extension(tx: &mut Tx, e: &ExtensionRow) -> Result<(), StoreError> {
    sqlx::query("UPDATE extensions SET status = $2, decided_by = $3, decided_at = $4, new_reply_by = $5 WHERE id = $1")
        .bind(&e.id).bind(&e.status).bind(&e.decided_by).bind(e.decided_at.map(millis)).bind(e.new_reply_by.map(millis))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// The extension requests of a request.
pub async fn extensions_of<'c, E>(
    conn: E,
    request_id: &str,
) -> Result<Vec<ExtensionRow>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(&format!(
        "SELECT {EXTENSION_COLUMNS} FROM extensions WHERE request_id = $1 ORDER BY requested_at"
    ))
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .iter()
        .map(extension_from_row)
        .collect::<Result<_, _>>()?)
}

/// The request id an extension request belongs to.
pub async fn request_of_extension(
    pool: &AnyPool,
    extension_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT request_id FROM extensions WHERE id = $1")
            .bind(extension_id)
            .fetch_optional(pool)
            .await?,
    )
}

/// A recorded callback attempt.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CallbackRow {
    pub id: String,
    pub request_id: String,
    pub round: i64,
    pub reached: bool,
    pub resolved: Option<bool>,
    pub satisfaction: Option<String>,
    pub note: Option<String>,
    pub outcome: String,
    pub agent_id: String,
    pub at: DateTime<Utc>,
}

/// Inserts a callback attempt.
pub async fn insert_callback(tx: &mut Tx, c: &CallbackRow) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO callbacks (id, request_id, round, reached, resolved, satisfaction, note, outcome, agent_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(&c.id).bind(&c.request_id).bind(c.round).bind(c.reached as i64).bind(c.resolved.map(|b| b as i64))
    .bind(&c.satisfaction).bind(&c.note).bind(&c.outcome).bind(&c.agent_id).bind(millis(c.at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The callbacks of a request, oldest first.
pub async fn callbacks_of(
    pool: &AnyPool,
    request_id: &str,
) -> Result<Vec<CallbackRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, request_id, round, reached, resolved, satisfaction, note, outcome, agent_id, at FROM callbacks \
         WHERE request_id = $1 ORDER BY at, id",
    )
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CallbackRow {
                id: r.try_get("id")?,
                request_id: r.try_get("request_id")?,
                round: r.try_get("round")?,
                reached: r.try_get::<i64, _>("reached")? != 0,
                resolved: r.try_get::<Option<i64>, _>("resolved")?.map(|v| v != 0),
                satisfaction: r.try_get("satisfaction")?,
                note: r.try_get("note")?,
                outcome: r.try_get("outcome")?,
                agent_id: r.try_get("agent_id")?,
                at: from_millis(r.try_get("at")?),
            })
        })
        .collect()
}

/// (id, title, body) of requests created since `since` that are still open, oldest first:
/// what the near-duplicate index starts from.
pub async fn open_texts_since(
    pool: &AnyPool,
    since: DateTime<Utc>,
) -> Result<Vec<(String, String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, title, body FROM requests WHERE created_at >= $1 AND status NOT IN ('answered', 'closed', 'merged') ORDER BY created_at",
    )
    .bind(millis(since))
    .fetch_all(pool)
    .await?)
}

/// (id, title, body, category) of closed requests with a category: training data.
pub async fn closed_with_category(
    pool: &AnyPool,
) -> Result<Vec<(String, String, String, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, title, body, category_code FROM requests WHERE status = 'closed' AND category_code IS NOT NULL ORDER BY created_at",
    )
    .fetch_all(pool)
    .await?)
}

/// Requests created in [from, to) per category code (None: no category).
pub async fn volume_by_category(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(Option<String>, i64)>, StoreError> {
    Ok(sqlx::query_as("SELECT category_code, COUNT(*) FROM requests WHERE created_at >= $1 AND created_at < $2 GROUP BY category_code")
        .bind(millis(from))
        .bind(millis(to))
        .fetch_all(pool)
        .await?)
}
