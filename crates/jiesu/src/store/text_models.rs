//! The learned text models (category and lead unit) with how each was judged, the history
//! they learn from (closed requests with what the dispatcher finally chose), and what each
//! dispatch says of the suggestion it followed.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// A model's place in the loop (`text_models.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelState {
    /// Trained, being judged.
    Candidate,
    /// In force (at most one).
    Active,
    /// Was in force; a rollback may restore it.
    Retired,
    /// Judged no better than the model in force.
    Rejected,
}

impl ModelState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelState::Candidate => "candidate",
            ModelState::Active => "active",
            ModelState::Retired => "retired",
            ModelState::Rejected => "rejected",
        }
    }

    fn parse(s: &str) -> ModelState {
        match s {
            "active" => ModelState::Active,
            "retired" => ModelState::Retired,
            "rejected" => ModelState::Rejected,
            _ => ModelState::Candidate,
        }
    }
}

/// A model's record without its weights.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelInfo {
    /// Id (UUIDv7).
    pub id: String,
    /// Where it is in the loop.
    pub state: ModelState,
    /// `db` (closed requests) or `csv:<file name>`.
    pub source: String,
    /// When it was trained.
    pub created_at: DateTime<Utc>,
    /// Who trained it (`system` for the scheduled job, `console`, a user id).
    pub created_by: String,
    /// Training examples.
    pub trained_examples: i64,
    /// The held-back weeks it was judged on.
    pub eval_from: Option<DateTime<Utc>>,
    /// End of the held-back weeks.
    pub eval_to: Option<DateTime<Utc>>,
    /// Held-back requests judged.
    pub eval_examples: i64,
    /// Its score on them (mean of category and lead-unit accuracy).
    pub score: Option<f64>,
    /// The model in force when it was judged.
    pub incumbent_id: Option<String>,
    /// That model's score on the same requests.
    pub incumbent_score: Option<f64>,
    /// Details (per part, label counts, the decision's reason).
    pub metrics: serde_json::Value,
    /// When it was put in force.
    pub activated_at: Option<DateTime<Utc>>,
    /// The model it replaced then.
    pub previous_id: Option<String>,
}

/// The weights of a model: the two files of each classifier.
pub struct ModelBytes {
    /// Category classifier `model.bin`.
    pub category_weights: Vec<u8>,
    /// Category classifier `metrics.json`.
    pub category_metrics: Vec<u8>,
    /// Lead-unit classifier `model.bin`.
    pub unit_weights: Vec<u8>,
    /// Lead-unit classifier `metrics.json`.
    pub unit_metrics: Vec<u8>,
}

const INFO: &str = "id, state, source, created_at, created_by, trained_examples, eval_from, \
    eval_to, eval_examples, score, incumbent_id, incumbent_score, metrics, activated_at, previous_id";

fn info(r: &sqlx::any::AnyRow) -> Result<ModelInfo, StoreError> {
    let metrics: String = r.try_get("metrics")?;
    let at = |c: &str| -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(r.try_get::<Option<i64>, _>(c)?.map(from_millis))
    };
    Ok(ModelInfo {
        id: r.try_get("id")?,
        state: ModelState::parse(&r.try_get::<String, _>("state")?),
        source: r.try_get("source")?,
        created_at: from_millis(r.try_get("created_at")?),
        created_by: r.try_get("created_by")?,
        trained_examples: r.try_get("trained_examples")?,
        eval_from: at("eval_from")?,
        eval_to: at("eval_to")?,
        eval_examples: r.try_get("eval_examples")?,
        score: r.try_get("score")?,
        incumbent_id: r.try_get("incumbent_id")?,
        incumbent_score: r.try_get("incumbent_score")?,
        metrics: serde_json::from_str(&metrics).unwrap_or(serde_json::Value::Null),
        activated_at: at("activated_at")?,
        previous_id: r.try_get("previous_id")?,
    })
}

/// Stores a judged model (its state decided).
pub async fn insert(tx: &mut Tx, m: &ModelInfo, bytes: &ModelBytes) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO text_models (id, state, source, created_at, created_by, trained_examples, \
         eval_from, eval_to, eval_examples, score, incumbent_id, incumbent_score, metrics, \
         category_weights, category_metrics, unit_weights, unit_metrics, activated_at, previous_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(&m.id)
    .bind(m.state.as_str())
    .bind(&m.source)
    .bind(millis(m.created_at))
    .bind(&m.created_by)
    .bind(m.trained_examples)
    .bind(m.eval_from.map(millis))
    .bind(m.eval_to.map(millis))
    .bind(m.eval_examples)
    .bind(m.score)
    .bind(&m.incumbent_id)
    .bind(m.incumbent_score)
    .bind(m.metrics.to_string())
    .bind(bytes.category_weights.clone())
    .bind(bytes.category_metrics.clone())
    .bind(bytes.unit_weights.clone())
    .bind(bytes.unit_metrics.clone())
    .bind(m.activated_at.map(millis))
    .bind(&m.previous_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Every model, newest first (without weights).
pub async fn list(pool: &AnyPool) -> Result<Vec<ModelInfo>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {INFO} FROM text_models ORDER BY created_at DESC, id DESC"
    ))
    .fetch_all(pool)
    .await?;
    rows.iter().map(info).collect()
}

/// The model in force, if any.
pub async fn active(conn: &mut sqlx::AnyConnection) -> Result<Option<ModelInfo>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {INFO} FROM text_models WHERE state = 'active'"
    ))
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(info).transpose()
}

/// The id of the model in force (one indexed lookup: every node checks it per suggestion).
pub async fn active_id(pool: &AnyPool) -> Result<Option<String>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT id FROM text_models WHERE state = 'active'")
            .fetch_optional(pool)
            .await?,
    )
}

/// One model's record.
pub async fn get(
    conn: &mut sqlx::AnyConnection,
    id: &str,
) -> Result<Option<ModelInfo>, StoreError> {
    let row = sqlx::query(&format!("SELECT {INFO} FROM text_models WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(info).transpose()
}

/// One model's weights.
pub async fn bytes(pool: &AnyPool, id: &str) -> Result<Option<ModelBytes>, StoreError> {
    let row = sqlx::query(
        "SELECT category_weights, category_metrics, unit_weights, unit_metrics \
         FROM text_models WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(|r| {
        Ok(ModelBytes {
            category_weights: r.try_get("category_weights")?,
            category_metrics: r.try_get("category_metrics")?,
            unit_weights: r.try_get("unit_weights")?,
            unit_metrics: r.try_get("unit_metrics")?,
        })
    })
    .transpose()
}

/// Puts `id` in force (retiring the model in force, which it records as its previous one).
pub async fn activate(
    tx: &mut Tx,
    id: &str,
    previous: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE text_models SET state = 'retired' WHERE state = 'active'")
        .execute(tx.conn())
        .await?;
    sqlx::query(
        "UPDATE text_models SET state = 'active', activated_at = $2, previous_id = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(millis(now))
    .bind(previous)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// Restores `previous` in force after `current` (a rollback): `current` is retired, and
/// `previous` keeps the model it had replaced, so rollbacks go back one step at a time.
pub async fn restore(
    tx: &mut Tx,
    current: &str,
    previous: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE text_models SET state = 'retired' WHERE id = $1")
        .bind(current)
        .execute(tx.conn())
        .await?;
    sqlx::query("UPDATE text_models SET state = 'active', activated_at = $2 WHERE id = $1")
        .bind(previous)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// One closed request as the models learn it: its text, final category and final lead unit.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Request id.
    pub id: String,
    /// Title and body.
    pub text: String,
    /// The address given apart (may be empty).
    pub address: String,
    /// The request's category when it closed.
    pub category: String,
    /// The lead unit of its last round (a lead the center accepted back excluded).
    pub lead: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// Closed requests with a category created before `to`, oldest first, with the lead unit
/// the dispatcher finally chose (the latest round's lead that was not returned).
pub async fn history(pool: &AnyPool, to: DateTime<Utc>) -> Result<Vec<Labelled>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.id, r.title, r.body, r.address, r.category_code, r.created_at, \
         (SELECT a.unit_code FROM assignments a WHERE a.request_id = r.id AND a.role = 'lead' \
          ORDER BY a.round DESC, CASE WHEN a.status = 'returned' THEN 1 ELSE 0 END, a.dispatched_at DESC LIMIT 1) AS lead \
         FROM requests r WHERE r.status = 'closed' AND r.category_code IS NOT NULL AND r.created_at < $1 \
         ORDER BY r.created_at, r.id",
    )
    .bind(millis(to))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            let title: String = r.try_get("title")?;
            let body: String = r.try_get("body")?;
            Ok(Labelled {
                id: r.try_get("id")?,
                text: format!("{title} {body}"),
                address: r.try_get("address")?,
                category: r.try_get("category_code")?,
                lead: r.try_get("lead")?,
                created_at: from_millis(r.try_get("created_at")?),
            })
        })
        .collect()
}

/// The newest closed request's creation time (the end of the history).
pub async fn newest_closed(pool: &AnyPool) -> Result<Option<DateTime<Utc>>, StoreError> {
    let max: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(created_at) FROM requests WHERE status = 'closed' AND category_code IS NOT NULL",
    )
    .fetch_one(pool)
    .await?;
    Ok(max.map(from_millis))
}

/// Records on the suggestion linked to a request (if any) the lead unit a dispatch chose and
/// whether it was the suggested one.
pub async fn record_dispatch(
    tx: &mut Tx,
    request_id: &str,
    lead: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE suggestions SET dispatched_lead = $2, dispatched_at = $3, \
         lead_taken = CASE WHEN top_lead_unit = $2 THEN 1 ELSE 0 END WHERE request_id = $1",
    )
    .bind(request_id)
    .bind(lead)
    .bind(millis(now))
    .execute(tx.conn())
    .await?;
    Ok(())
}
