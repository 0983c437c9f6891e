//! Requests (诉求): their rows, day numbers, and the reads over them. Their orders,
//! extension requests and callbacks have modules of their own (`assignments`, `extensions`,
//! `callbacks`). Rows are plain structs: the services load them inside a write transaction,
//! let `jiesu_core::workflow` decide, and save.

use super::{from_millis, millis, word, Dialect, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use jiesu_core::{Channel, RequestKind, RequestStatus};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

/// A stored request.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: String,
    pub number: String,
    pub jurisdiction: String,
    pub kind: RequestKind,
    pub channel: Channel,
    pub merged_line: Option<String>,
    pub status: RequestStatus,
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
    /// The query code (查询码) the requester tracks the request with; None only on a request
    /// recorded before codes existed, until the next start gives it one.
    pub query_code: Option<String>,
}

/// What a new request is made of; everything else (id, status, round, callback state) starts
/// the same for every request, in [`RequestRow::new`].
#[derive(Debug, Clone)]
pub struct RequestDraft {
    pub number: String,
    pub jurisdiction: String,
    pub kind: RequestKind,
    pub channel: Channel,
    pub merged_line: Option<String>,
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
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl RequestRow {
    /// A request just taken in: a new UUIDv7 id, a fresh query code, received, round 1,
    /// nothing called back.
    pub fn new(d: RequestDraft) -> RequestRow {
        RequestRow {
            id: uuid::Uuid::now_v7().to_string(),
            number: d.number,
            jurisdiction: d.jurisdiction,
            kind: d.kind,
            channel: d.channel,
            merged_line: d.merged_line,
            status: RequestStatus::Received,
            title: d.title,
            body: d.body,
            address: d.address,
            category_code: d.category_code,
            time_limit_class: d.time_limit_class,
            requester_name: d.requester_name,
            requester_phone: d.requester_phone,
            enterprise_name: d.enterprise_name,
            credit_code: d.credit_code,
            confidential: d.confidential,
            round: 1,
            primary_id: None,
            callback_attempts: 0,
            callback_done: false,
            answer: None,
            close_reason: None,
            created_by: d.created_by,
            created_at: d.created_at,
            updated_at: d.created_at,
            closed_at: None,
            query_code: Some(new_query_code()),
        }
    }
}

/// A query code from the operating system's CSPRNG.
pub fn new_query_code() -> String {
    use rand::RngCore;
    jiesu_core::QueryCode::random(|| rand::rngs::OsRng.next_u32())
        .as_str()
        .to_string()
}

pub(crate) const REQUEST_COLUMNS: &str = "id, number, jurisdiction, kind, channel, merged_line, status, title, body, address, \
    category_code, time_limit_class, requester_name, requester_phone, enterprise_name, credit_code, confidential, \
    round, primary_id, callback_attempts, callback_done, answer, close_reason, created_by, created_at, updated_at, closed_at, query_code";

pub(crate) fn request_from_row(r: &AnyRow) -> Result<RequestRow, sqlx::Error> {
    Ok(RequestRow {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        jurisdiction: r.try_get("jurisdiction")?,
        kind: word(r, "kind", RequestKind::parse)?,
        channel: word(r, "channel", Channel::parse)?,
        merged_line: r.try_get("merged_line")?,
        status: word(r, "status", RequestStatus::parse)?,
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
        query_code: r.try_get("query_code")?,
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
         $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
    )
}

/// Binds a request row's 28 columns, in [`REQUEST_COLUMNS`] order.
pub(super) fn bind_row<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    r: &'q RequestRow,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(&r.id)
        .bind(&r.number)
        .bind(&r.jurisdiction)
        .bind(r.kind.as_str())
        .bind(r.channel.as_str())
        .bind(&r.merged_line)
        .bind(r.status.as_str())
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
        .bind(&r.query_code)
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
         WHERE id = $29 AND request_id IS NULL",
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
    .bind(&r.id).bind(r.status.as_str()).bind(&r.category_code).bind(&r.time_limit_class).bind(r.round).bind(&r.primary_id)
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
    pub status: RequestStatus,
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
                status: word(r, "status", RequestStatus::parse)?,
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
pub async fn list(
    conn: &mut sqlx::AnyConnection,
    f: &ListFilter,
) -> Result<(Vec<RequestRow>, i64), StoreError> {
    let scope = "($2 = '' OR EXISTS (SELECT 1 FROM assignments a WHERE a.request_id = requests.id AND a.unit_path LIKE $2 || '%'))";
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM requests WHERE ($1 = '' OR status = $1) AND {scope}"
    ))
    .bind(f.status.as_deref().unwrap_or(""))
    .bind(f.unit_path.as_deref().unwrap_or(""))
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE ($1 = '' OR status = $1) AND {scope} \
         ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    ))
    .bind(f.status.as_deref().unwrap_or(""))
    .bind(f.unit_path.as_deref().unwrap_or(""))
    .bind(f.per_page)
    .bind((f.page - 1) * f.per_page)
    .fetch_all(&mut *conn)
    .await?;
    Ok((
        rows.iter()
            .map(request_from_row)
            .collect::<Result<_, _>>()?,
        total,
    ))
}

/// Requests merged into `primary_id`.
pub async fn merged_into<'c, E>(conn: E, primary_id: &str) -> Result<Vec<String>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(
        sqlx::query_scalar("SELECT id FROM requests WHERE primary_id = $1 ORDER BY created_at")
            .bind(primary_id)
            .fetch_all(conn)
            .await?,
    )
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

/// Loads two requests inside a write transaction, locking their rows on PostgreSQL in one
/// order (by id) whichever is named first, so that two actions on the same pair taken in
/// opposite directions wait for each other instead of deadlocking or both going ahead
/// (SQLite's single writer already serialises them). Returns them in the order asked.
pub async fn lock_pair(
    tx: &mut Tx,
    a: &str,
    b: &str,
) -> Result<(Option<RequestRow>, Option<RequestRow>), StoreError> {
    let (first, second) = if a <= b { (a, b) } else { (b, a) };
    let first_row = lock(tx, first).await?;
    let second_row = lock(tx, second).await?;
    Ok(if a <= b {
        (first_row, second_row)
    } else {
        (second_row, first_row)
    })
}

/// Whether any request is merged into `id`, read inside the transaction.
pub async fn has_merged(tx: &mut Tx, id: &str) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE primary_id = $1")
        .bind(id)
        .fetch_one(tx.conn())
        .await?;
    Ok(n > 0)
}

/// Gives up to `limit` requests without a query code (recorded before codes existed) a fresh
/// one each; returns their ids. A request that got one meanwhile (another node starting) is
/// left as it is.
pub async fn issue_missing_query_codes(tx: &mut Tx, limit: i64) -> Result<Vec<String>, StoreError> {
    let ids: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT id FROM requests WHERE query_code IS NULL ORDER BY id LIMIT $1{}",
        tx.dialect().for_update()
    ))
    .bind(limit)
    .fetch_all(tx.conn())
    .await?;
    let mut issued = Vec::with_capacity(ids.len());
    for id in ids {
        let done =
            sqlx::query("UPDATE requests SET query_code = $2 WHERE id = $1 AND query_code IS NULL")
                .bind(&id)
                .bind(new_query_code())
                .execute(tx.conn())
                .await?;
        if done.rows_affected() == 1 {
            issued.push(id);
        }
    }
    Ok(issued)
}
