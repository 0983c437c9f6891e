//! `jiesu text …`: train and evaluate the classifier, resolve a place, find duplicate groups.

use crate::cli_progress::Bar;
use anyhow::Context;
use clap::Subcommand;
use jiesu::config::Config;
use jiesu_text::classify::{self, TrainOptions, TrainingExample};
use std::path::PathBuf;

/// The text commands.
#[derive(Subcommand)]
pub enum TextCommand {
    /// Train a classifier. Without `--out`: the learning loop on the configured database —
    /// the category (the city's taxonomy) and the lead unit, from closed requests
    /// (`--from-db`) or a CSV `text,category,unit`; judged against the model in force on the
    /// last held-back weeks and put in force only if better. With `--out`: the category
    /// classifier alone from a CSV `id,text,label` (or `--from-db`) into a model folder.
    Train {
        /// CSV with header `id,text,label` (with `--out`) or `text,category,unit` (UTF-8).
        #[arg(long, conflicts_with = "from_db", required_unless_present = "from_db")]
        input: Option<PathBuf>,
        /// Train on closed requests with what the dispatcher finally chose.
        #[arg(long)]
        from_db: bool,
        /// The model folder to write (the server reads `JIESU_MODEL_DIR`, default
        /// `<data dir>/model`).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Recent weeks of closed requests held back to judge the candidate (default
        /// `JIESU_RETRAIN_HOLDOUT_WEEKS`, 2).
        #[arg(long)]
        holdout_weeks: Option<u32>,
        /// Cross-validation folds recorded in metrics.json (0: none).
        #[arg(long, default_value_t = 5)]
        cv_folds: usize,
        /// Unlabelled messages (CSV with `text` or `留言详情`, optionally `title` /
        /// `留言主题`) for self-training; repeat the option for several files.
        #[arg(long)]
        unlabelled: Vec<PathBuf>,
        /// Self-training: pseudo-label unlabelled messages whose calibrated probability
        /// reaches this (0: off).
        #[arg(long, default_value_t = 0.0)]
        self_train: f64,
    },
    /// Put the model in force before the current one back in force (the learning loop).
    Rollback,
    /// The learned models, newest first, with how each was judged (JSON).
    Models,
    /// Evaluate a model on a labelled CSV; prints one JSON object.
    Eval {
        /// The model folder.
        #[arg(long)]
        model: PathBuf,
        /// CSV with header `id,text,label`.
        #[arg(long)]
        input: PathBuf,
    },
    /// Resolve a place in free text; prints JSON. Against the units of the database's city
    /// when `--data-dir` or `JIESU_DATABASE_URL` names one, else Beijing's shipped table.
    Place {
        /// The text.
        text: String,
    },
    /// Find near-duplicate groups in a CSV; prints JSON. With `--gold COLUMN`, also pairwise
    /// precision and recall against that grouping column.
    Dupes {
        /// The CSV.
        #[arg(long)]
        input: PathBuf,
        /// The id column.
        #[arg(long, default_value = "id")]
        id_column: String,
        /// The text column; several, comma-separated, take the first non-empty.
        #[arg(long, default_value = "text")]
        text_column: String,
        /// A column holding gold group ids.
        #[arg(long)]
        gold: Option<String>,
    },
}

/// Runs a text command; `named_db`: a data folder or database was named (`--data-dir`,
/// `JIESU_DATA_DIR`, `JIESU_DATABASE_URL`), so `place` uses its city's units.
pub async fn run(config: Config, command: TextCommand, named_db: bool) -> anyhow::Result<()> {
    match command {
        TextCommand::Train {
            input,
            from_db: _,
            out,
            holdout_weeks,
            cv_folds,
            unlabelled,
            self_train,
        } => {
            let learning = input
                .as_deref()
                .is_none_or(crate::cli_learn::is_learning_csv);
            let out = match out {
                Some(out) => out,
                None if learning => {
                    return crate::cli_learn::train(config, input.as_deref(), holdout_weeks).await
                }
                None => {
                    return Err(crate::cli_args::Usage(
                        "--out is needed for an id,text,label file".into(),
                    )
                    .into())
                }
            };
            let examples = match input {
                Some(path) => classify::read_csv(&path)?,
                None => closed_requests(config).await?,
            };
            anyhow::ensure!(
                examples.len() >= 20,
                "only {} labelled examples: too few to train",
                examples.len()
            );
            let mut opts = TrainOptions::default();
            opts.self_training.threshold = self_train;
            let mut texts = Vec::new();
            for path in &unlabelled {
                texts.extend(classify::read_texts(path)?);
            }
            let training = format!(
                "training on {} examples ({} unlabelled)",
                examples.len(),
                texts.len()
            );
            let mut model =
                Bar::around(&training, || classify::train_semi(&examples, &texts, &opts))?;
            if cv_folds >= 2 {
                let plan = classify::CvPlan {
                    folds: cv_folds,
                    repeats: 1,
                    seed: opts.seed,
                    groups: None,
                };
                model.set_cv_report(Bar::around(
                    &format!("{cv_folds}-fold cross-validation"),
                    || classify::cross_validate_plan(&examples, &texts, &opts, &plan),
                )?);
            }
            model.save(&out)?;
            outln!("{}", serde_json::to_string_pretty(model.metrics())?);
        }
        TextCommand::Rollback => crate::cli_learn::rollback(config).await?,
        TextCommand::Models => crate::cli_learn::models(config).await?,
        TextCommand::Eval { model, input } => {
            let model = classify::Model::load(&model)?;
            let examples = classify::read_csv(&input)?;
            let e = classify::evaluate(&model, &examples);
            // The summary and the reliability table for people on stderr; one JSON object
            // (with the same numbers) on stdout.
            errln!(
                "macro-F1 {:.4}  accuracy {:.4}  {:.4} ms/message  ECE {:.4}  ({} messages)",
                e.macro_f1,
                e.accuracy,
                e.ms_per_doc,
                e.ece,
                e.n
            );
            errln!("top probability    n   mean p   accuracy");
            for b in e.reliability.iter().filter(|b| b.n > 0) {
                errln!(
                    "[{:.1}, {:.1})  {:>6}   {:.3}    {:.3}",
                    b.lower,
                    b.upper,
                    b.n,
                    b.confidence,
                    b.accuracy
                );
            }
            outln!("{}", serde_json::to_string(&e)?);
        }
        TextCommand::Place { text } => {
            let resolved = if named_db {
                // The units of the city the database serves (`jiesu init --city`), as the
                // server's gazetteer has them.
                let state =
                    jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock))
                        .await?;
                let place = state.models.gazetteer().resolve(&text);
                state.store.close().await;
                place
            } else {
                jiesu_text::place::Gazetteer::from_units_csv(jiesu::store::reference::SHIPPED[0].1)?
                    .resolve(&text)
            };
            outln!("{}", serde_json::to_string_pretty(&resolved)?);
        }
        TextCommand::Dupes {
            input,
            id_column,
            text_column,
            gold,
        } => dupes(&input, &id_column, &text_column, gold.as_deref())?,
    }
    Ok(())
}

async fn closed_requests(config: Config) -> anyhow::Result<Vec<TrainingExample>> {
    let state = jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock)).await?;
    let rows = jiesu::store::requests::closed_with_category(state.store.reader()).await?;
    state.store.close().await;
    Ok(rows
        .into_iter()
        .map(|(id, title, body, label)| TrainingExample {
            id,
            text: format!("{title} {body}"),
            label,
        })
        .collect())
}

fn dupes(
    input: &PathBuf,
    id_column: &str,
    text_columns: &str,
    gold: Option<&str>,
) -> anyhow::Result<()> {
    let mut rdr = csv::Reader::from_path(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let headers = rdr.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let id_col = col(id_column).with_context(|| format!("no column {id_column}"))?;
    let text_cols: Vec<usize> = text_columns
        .split(',')
        .map(|c| col(c.trim()).with_context(|| format!("no column {c}")))
        .collect::<anyhow::Result<_>>()?;
    let gold_col = match gold {
        Some(g) => Some(col(g).with_context(|| format!("no column {g}"))?),
        None => None,
    };
    let mut docs = Vec::new();
    let mut gold_groups: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for rec in rdr.records() {
        let rec = rec?;
        let text = text_cols
            .iter()
            .map(|c| &rec[*c])
            .find(|t| !t.trim().is_empty())
            .unwrap_or("");
        docs.push((rec[id_col].to_string(), text.to_string()));
        if let Some(g) = gold_col.filter(|g| !rec[*g].is_empty()) {
            gold_groups
                .entry(rec[g].to_string())
                .or_default()
                .push(rec[id_col].to_string());
        }
    }
    let groups = jiesu_text::dupes::group(&docs, &jiesu_text::dupes::DupConfig::default());
    let mut out = serde_json::json!({ "documents": docs.len(), "groups": groups });
    if gold_col.is_some() {
        let gold: Vec<Vec<String>> = gold_groups.into_values().filter(|g| g.len() > 1).collect();
        let s = jiesu_text::dupes::pair_scores(&groups, &gold);
        out["scores"] = serde_json::json!({
            "precision": s.precision, "recall": s.recall, "f1": s.f1,
            "predicted_pairs": s.predicted_pairs, "gold_pairs": s.gold_pairs, "true_pairs": s.true_pairs,
        });
    }
    outln!("{}", serde_json::to_string(&out)?);
    Ok(())
}
