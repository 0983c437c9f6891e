//! The learning loop (issue #22): train a candidate (category over the city's own taxonomy
//! and lead unit) from closed requests — the label is what the dispatcher finally chose — or
//! from a labelled CSV; judge it against the model in force on the most recent held-back
//! weeks; put it in force only if it is better; keep every model for a rollback. Each step
//! leaves an event; every node follows the model in force by a version check.

use super::accounts::By;
use super::learned::{lead_label, place_of, Learned};
use super::AppState;
use crate::error::AppError;
use crate::messages;
use crate::store::text_models::{self as store, Labelled, ModelBytes};
pub use crate::store::text_models::{ModelInfo, ModelState};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::dispatch::PlaceCodes;
use jiesu_text::classify::{self, Model, TrainOptions, TrainingExample};
use std::collections::HashMap;
use std::sync::Arc;

/// Where a candidate learns from.
pub enum Source {
    /// Closed requests created before the held-back weeks.
    Db,
    /// Labelled rows (text, category code, lead unit) from a file named `name`.
    Rows {
        /// The file's name (recorded as `csv:<name>`).
        name: String,
        /// The rows.
        rows: Vec<Labelled>,
    },
}

/// What a training run did.
#[derive(Debug, serde::Serialize)]
pub struct TrainReport {
    /// The judged model (its state says whether it was promoted).
    pub model: ModelInfo,
    /// Put in force.
    pub promoted: bool,
}

/// Both parts' figures on held-back requests.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
struct Figures {
    category: f64,
    unit: f64,
    n: usize,
}

impl Figures {
    fn score(&self) -> f64 {
        (self.category + self.unit) / 2.0
    }
}

fn judge(model: &Learned, held: &[(Labelled, PlaceCodes)]) -> Figures {
    let n = held.len().max(1) as f64;
    let cat = held
        .iter()
        .filter(|(h, _)| {
            model.category.predict_top(&h.text).map(|p| p.0) == Some(h.category.clone())
        })
        .count();
    let unit = held
        .iter()
        .filter(|(h, place)| h.lead.is_some() && model.lead(&h.text, place).map(|p| p.0) == h.lead)
        .count();
    Figures {
        category: cat as f64 / n,
        unit: unit as f64 / n,
        n: held.len(),
    }
}

fn fit(rows: &[(String, String, String)]) -> Result<Model, classify::ClassifyError> {
    let examples: Vec<TrainingExample> = rows
        .iter()
        .map(|(id, text, label)| TrainingExample {
            id: id.clone(),
            text: text.clone(),
            label: label.clone(),
        })
        .collect();
    let mut opts = TrainOptions::default();
    // A city's history may hold only a few requests of a category: min_df 3 would leave
    // them with no feature, and calibration needs a few per fold.
    opts.features.min_df = 1;
    if examples.len() < 200 {
        opts.calibration_folds = 0;
    }
    classify::train(&examples, &opts)
}

/// Trains the two classifiers on `rows` (in a blocking thread).
async fn train_pair(
    rows: Vec<(Labelled, PlaceCodes)>,
    parents: HashMap<String, String>,
) -> Result<Learned, AppError> {
    let too_few = |e: classify::ClassifyError| {
        AppError::Conflict(messages::both(
            "err.learning.cannot_train",
            &[("reason", e.to_string())],
        ))
    };
    tokio::task::spawn_blocking(move || {
        let cats: Vec<_> = rows
            .iter()
            .map(|(r, _)| (r.id.clone(), r.text.clone(), r.category.clone()))
            .collect();
        let units: Vec<_> = rows
            .iter()
            .filter_map(|(r, place)| {
                Some((
                    r.id.clone(),
                    r.text.clone(),
                    lead_label(place, r.lead.as_deref()?),
                ))
            })
            .collect();
        Ok(Learned {
            id: uuid::Uuid::now_v7().to_string(),
            category: fit(&cats).map_err(too_few)?,
            unit: fit(&units).map_err(too_few)?,
            parents,
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
}

async fn parents(state: &AppState) -> Result<HashMap<String, String>, AppError> {
    Ok(crate::store::categories::all(state.store.reader())
        .await?
        .into_iter()
        .filter_map(|c| Some((c.code, c.parent_code?)))
        .collect())
}

/// Loads a stored model's classifiers.
async fn load(state: &AppState, info: &ModelInfo) -> Result<Learned, AppError> {
    let b = store::bytes(state.store.reader(), &info.id)
        .await?
        .ok_or(AppError::NotFound("model"))?;
    let bad =
        |e: classify::ClassifyError| AppError::Internal(anyhow::anyhow!("model {}: {e}", info.id));
    let parents = serde_json::from_value(info.metrics["parents"].clone()).unwrap_or_default();
    Ok(Learned {
        id: info.id.clone(),
        category: Model::from_files(&b.category_weights, &b.category_metrics).map_err(bad)?,
        unit: Model::from_files(&b.unit_weights, &b.unit_metrics).map_err(bad)?,
        parents,
    })
}

/// Trains a candidate, judges it against the model in force on the last `weeks` weeks of
/// closed requests (held back from a database-trained candidate), and puts it in force only
/// if its score is higher (the first model: when there is anything to judge it on).
pub async fn train(
    state: &AppState,
    by: By<'_>,
    source: Source,
    weeks: u32,
) -> Result<TrainReport, AppError> {
    by.may_administer()?;
    if !(1..=52).contains(&weeks) {
        return Err(AppError::invalid("weeks", "err.learning.weeks"));
    }
    let pool = state.store.reader();
    let end = match store::newest_closed(pool).await? {
        Some(t) => t + Duration::milliseconds(1),
        None => state.clock.now(),
    };
    let from = end - Duration::weeks(i64::from(weeks));
    let history = store::history(pool, end).await?;
    let (before, held): (Vec<Labelled>, Vec<Labelled>) =
        history.into_iter().partition(|r| r.created_at < from);
    let gazetteer = state.models.gazetteer();
    let placed = |rows: Vec<Labelled>| -> Vec<(Labelled, PlaceCodes)> {
        rows.into_iter()
            .map(|r| {
                let p = place_of(&gazetteer, &r.address, &r.text);
                (r, p)
            })
            .collect()
    };
    let held = placed(held.into_iter().filter(|r| r.lead.is_some()).collect());
    let (source_name, rows) = match source {
        Source::Db => ("db".to_string(), before),
        Source::Rows { name, rows } => (format!("csv:{name}"), rows),
    };
    let rows = placed(rows);
    let trained_examples = rows.len();
    let parents = parents(state).await?;
    let candidate = train_pair(rows, parents.clone()).await?;
    let incumbent = match store::active(
        &mut *pool
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?,
    )
    .await?
    {
        Some(info) => Some((load(state, &info).await?, info)),
        None => None,
    };
    let mine = judge(&candidate, &held);
    let theirs = incumbent.as_ref().map(|(m, _)| judge(m, &held));
    let promoted = !held.is_empty() && theirs.is_none_or(|t| mine.score() > t.score());
    let reason = match (held.is_empty(), theirs) {
        (true, _) => "nothing held back to judge it on",
        (false, None) => "no model in force",
        (false, Some(_)) if promoted => "better than the model in force",
        (false, Some(_)) => "not better than the model in force",
    };
    let now = state.clock.now();
    let (cw, cm) = candidate.category.to_files();
    let (uw, um) = candidate.unit.to_files();
    let mut info = ModelInfo {
        id: candidate.id.clone(),
        state: if promoted {
            ModelState::Active
        } else {
            ModelState::Rejected
        },
        source: source_name,
        created_at: now,
        created_by: who(by),
        trained_examples: trained_examples as i64,
        eval_from: Some(from),
        eval_to: Some(end),
        eval_examples: held.len() as i64,
        score: (!held.is_empty()).then(|| mine.score()),
        incumbent_id: incumbent.as_ref().map(|(_, i)| i.id.clone()),
        incumbent_score: theirs.filter(|_| !held.is_empty()).map(|t| t.score()),
        metrics: serde_json::json!({
            "candidate": mine, "incumbent": theirs, "reason": reason,
            "categories": candidate.category.labels().len(), "units": candidate.unit.labels().len(),
            "parents": parents,
        }),
        activated_at: None,
        previous_id: None,
    };
    let bytes = ModelBytes {
        category_weights: cw,
        category_metrics: cm,
        unit_weights: uw,
        unit_metrics: um,
    };
    let mut tx = state.store.begin().await?;
    // The model in force is stored apart: the candidate goes in as rejected and is then
    // activated, so that "at most one active" holds at every statement.
    let wanted = info.state;
    info.state = ModelState::Rejected;
    store::insert(&mut tx, &info, &bytes).await?;
    let summary = serde_json::json!({
        "model_id": info.id, "source": info.source, "trained_examples": info.trained_examples,
        "eval_from": info.eval_from, "eval_to": info.eval_to, "eval_examples": info.eval_examples,
        "score": info.score, "incumbent_id": info.incumbent_id, "incumbent_score": info.incumbent_score,
        "reason": reason,
    });
    tx.event(by.event(state, "text.model_trained", summary.clone()));
    if wanted == ModelState::Active {
        let previous = info.incumbent_id.clone();
        store::activate(&mut tx, &info.id, previous.as_deref(), now).await?;
        tx.event(by.event(state, "text.model_promoted", summary));
        info.state = ModelState::Active;
        info.activated_at = Some(now);
        info.previous_id = previous;
    } else {
        tx.event(by.event(state, "text.model_rejected", summary));
    }
    tx.commit().await?;
    if promoted {
        state.models.set_learned(Some(Arc::new(candidate)));
    }
    Ok(TrainReport {
        model: info,
        promoted,
    })
}

fn who(by: By<'_>) -> String {
    match by {
        By::User(a) => a.user_id.clone(),
        By::Console => "console".into(),
        By::System => "system".into(),
    }
}

/// Restores the model the one in force replaced (409 when there is none).
pub async fn rollback(state: &AppState, by: By<'_>) -> Result<ModelInfo, AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let nothing = || AppError::Conflict(messages::both("err.learning.nothing_to_roll_back", &[]));
    let current = store::active(tx.conn()).await?.ok_or_else(nothing)?;
    let previous_id = current.previous_id.clone().ok_or_else(nothing)?;
    let previous = store::get(tx.conn(), &previous_id)
        .await?
        .ok_or_else(nothing)?;
    let now = state.clock.now();
    store::restore(&mut tx, &current.id, &previous.id, now).await?;
    tx.event(by.event(
        state,
        "text.model_rolled_back",
        serde_json::json!({ "from": current.id, "to": previous.id }),
    ));
    tx.commit().await?;
    let restored = load(state, &previous).await?;
    state.models.set_learned(Some(Arc::new(restored)));
    let mut info = ModelInfo {
        state: ModelState::Active,
        activated_at: Some(now),
        ..previous
    };
    if let Some(o) = info.metrics.as_object_mut() {
        o.remove("parents");
    }
    Ok(info)
}

/// Every model, newest first (the taxonomy each was trained with left out).
pub async fn list(state: &AppState) -> Result<Vec<ModelInfo>, AppError> {
    let mut list = store::list(state.store.reader()).await?;
    for m in &mut list {
        if let Some(o) = m.metrics.as_object_mut() {
            o.remove("parents");
        }
    }
    Ok(list)
}

/// Loads the model in force when it is not the one this node holds (a version check: one
/// indexed lookup), so a model promoted or rolled back anywhere is served without restart.
pub async fn follow(state: &AppState) -> Result<(), AppError> {
    let id = store::active_id(state.store.reader()).await?;
    let held = state.models.learned().map(|l| l.id.clone());
    if id == held {
        return Ok(());
    }
    let learned = match id {
        None => None,
        Some(id) => {
            let info = store::get(
                &mut *state
                    .store
                    .reader()
                    .acquire()
                    .await
                    .map_err(crate::store::StoreError::from)?,
                &id,
            )
            .await?
            .ok_or(AppError::NotFound("model"))?;
            Some(Arc::new(load(state, &info).await?))
        }
    };
    state.models.set_learned(learned);
    Ok(())
}

/// The scheduled retraining: on the newest history, unless a model was trained less than
/// half a period ago (on this node or another).
pub async fn retrain_due(
    state: &AppState,
    period: std::time::Duration,
) -> Result<Option<TrainReport>, AppError> {
    let now: DateTime<Utc> = state.clock.now();
    let half = Duration::from_std(period / 2).unwrap_or(Duration::days(1));
    let recent = store::list(state.store.reader())
        .await?
        .first()
        .is_some_and(|m| m.created_at > now - half);
    if recent {
        return Ok(None);
    }
    let weeks = state.config.retrain_holdout_weeks;
    Ok(Some(train(state, By::System, Source::Db, weeks).await?))
}
