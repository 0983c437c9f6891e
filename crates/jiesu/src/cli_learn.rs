//! `jiesu text train --from-db` / `--input FILE` (text,category,unit), `jiesu text rollback`,
//! `jiesu text models`: the learning loop from the console (`services::learning`).

use crate::cli_args::Usage;
use anyhow::Context;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::learning::{self, Source};
use jiesu::store::text_models::Labelled;
use std::path::Path;

/// Whether a CSV is a learning file: its header names `text`, `category` and `unit`.
pub fn is_learning_csv(path: &Path) -> bool {
    csv::Reader::from_path(path)
        .and_then(|mut r| r.headers().cloned())
        .is_ok_and(|h| {
            let has = |n: &str| h.iter().any(|c| c.trim_start_matches('\u{feff}') == n);
            has("text") && has("category") && has("unit")
        })
}

/// Reads a learning CSV: `text,category,unit` and optionally `address` (other columns
/// ignored; `unit` may be empty).
pub fn read_rows(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut rdr =
        csv::Reader::from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let h = rdr.headers()?.clone();
    let col = |n: &str| h.iter().position(|c| c.trim_start_matches('\u{feff}') == n);
    let (Some(t), Some(c), Some(u)) = (col("text"), col("category"), col("unit")) else {
        anyhow::bail!(
            "{}: the header needs text, category and unit",
            path.display()
        );
    };
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: row {}", path.display(), i + 2))?;
        let field = |k: usize| rec.get(k).unwrap_or("").trim().to_string();
        let (text, category) = (field(t), field(c));
        if text.is_empty() || category.is_empty() {
            anyhow::bail!(
                "{}: row {}: text and category are required",
                path.display(),
                i + 2
            );
        }
        let unit = field(u);
        rows.push(Labelled {
            id: format!("row-{}", i + 2),
            text,
            address: col("address").map(field).unwrap_or_default(),
            category,
            lead: (!unit.is_empty()).then_some(unit),
            created_at: chrono::DateTime::default(),
        });
    }
    Ok(rows)
}

/// Trains a candidate, judges it and promotes it if better; prints the model as JSON.
pub async fn train(config: Config, input: Option<&Path>, weeks: Option<u32>) -> anyhow::Result<()> {
    let source = match input {
        Some(path) => Source::Rows {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            rows: read_rows(path)?,
        },
        None => Source::Db,
    };
    let state = jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock)).await?;
    let weeks = weeks.unwrap_or(state.config.retrain_holdout_weeks);
    errln!("training a candidate and judging it on the last {weeks} week(s)");
    let done = learning::train(&state, By::Console, source, weeks).await;
    state.store.close().await;
    let report = done.map_err(|e| Usage(e.message(true)))?;
    let m = &report.model;
    errln!(
        "{} {}: score {} against {} on {} held-back requests",
        m.id,
        if report.promoted {
            "promoted"
        } else {
            "rejected"
        },
        m.score.map_or("-".into(), |s| format!("{s:.4}")),
        m.incumbent_score.map_or("-".into(), |s| format!("{s:.4}")),
        m.eval_examples
    );
    outln!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}

/// Restores the previous model.
pub async fn rollback(config: Config) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock)).await?;
    let done = learning::rollback(&state, By::Console).await;
    state.store.close().await;
    let m = done.map_err(|e| Usage(e.message(true)))?;
    errln!("{} is in force again", m.id);
    outln!("{}", serde_json::to_string_pretty(&m)?);
    Ok(())
}

/// Lists the models, newest first.
pub async fn models(config: Config) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock)).await?;
    let list = learning::list(&state).await;
    state.store.close().await;
    outln!("{}", serde_json::to_string_pretty(&list?)?);
    Ok(())
}
