//! `jiesu kb`: the knowledge base from the console. `export [--format csv|xlsx] [--out FILE]
//! [--status S]` writes the entries; `import FILE [--dry-run]` (CSV or xlsx, the export's
//! columns; `keywords` `|`-separated; dates `YYYY-MM-DD`, `valid_to` inclusive, or RFC 3339)
//! adds and changes entries all or nothing, as drafts unless `status` says `published`; a bad
//! row exits 2 naming its row and column. `review`, `publish` and `expire` move every entry
//! matching `--source`, `--category`, `--unit` one workflow step, as one batch.

use crate::cli_args::{usage, Usage};
use crate::cli_table::{self, Format, Table};
use clap::{Args, Subcommand};
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::kb::{self, Filter, KbEntry};
use jiesu::services::kb_import::{self, ImportRow};
use jiesu_core::kb::{KbStatus, KbStep};
use std::path::PathBuf;
use std::sync::Arc;

/// The columns of an export and an import.
const COLUMNS: [&str; 10] = [
    "id",
    "title",
    "answer",
    "category",
    "unit_code",
    "source",
    "valid_from",
    "valid_to",
    "keywords",
    "status",
];

/// Which entries a step or an export takes.
#[derive(Args)]
pub struct Which {
    /// Only entries from this source.
    #[arg(long)]
    source: Option<String>,
    /// Only entries of this category.
    #[arg(long)]
    category: Option<String>,
    /// Only entries owned by this unit.
    #[arg(long)]
    unit: Option<String>,
}

impl Which {
    fn filter(self, status: Option<KbStatus>) -> Filter {
        Filter {
            status,
            category: self.category,
            unit_code: self.unit,
            source: self.source,
            title: None,
        }
    }
}

#[derive(Subcommand)]
pub enum KbCommand {
    /// Write the active entries as CSV (UTF-8 with a BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Only entries in this status (draft, reviewed, published, expired).
        #[arg(long, value_parser = status_arg)]
        status: Option<KbStatus>,
        #[command(flatten)]
        which: Which,
    },
    /// Add and change entries from a CSV or xlsx file with the export's columns
    /// (id,title,answer,category,unit_code,source,valid_from,valid_to,keywords,status).
    /// All or nothing; new entries are drafts unless status says published.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Review every matching draft (draft → reviewed), as one batch.
    Review(Which),
    /// Publish every matching reviewed entry (reviewed → published), as one batch.
    Publish(Which),
    /// Withdraw every matching published entry (published → expired), as one batch.
    Expire(Which),
}

fn status_arg(s: &str) -> Result<KbStatus, String> {
    KbStatus::parse(s).ok_or_else(|| "must be draft, reviewed, published or expired".to_string())
}

/// Runs a `jiesu kb` command.
pub async fn run(config: Config, command: KbCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        KbCommand::Export {
            format,
            out,
            status,
            which,
        } => export(&state, format, out, status, which).await,
        KbCommand::Import { file, dry_run } => import(&state, &file, dry_run).await,
        KbCommand::Review(w) => step(&state, KbStep::Review, w).await,
        KbCommand::Publish(w) => step(&state, KbStep::Publish, w).await,
        KbCommand::Expire(w) => step(&state, KbStep::Expire, w).await,
    };
    state.store.close().await;
    result
}

async fn step(state: &jiesu::services::AppState, step: KbStep, which: Which) -> anyhow::Result<()> {
    let n = kb::step_all(state, By::Console, step, which.filter(None))
        .await
        .map_err(|e| Usage(e.message(true)))?;
    println!(
        "{n} entries {}",
        match step {
            KbStep::Review => "reviewed",
            KbStep::Publish => "published",
            KbStep::Expire => "expired",
        }
    );
    Ok(())
}

fn day_or_time(
    state: &jiesu::services::AppState,
    t: Option<chrono::DateTime<chrono::Utc>>,
    to: bool,
) -> String {
    let Some(t) = t else { return String::new() };
    let offset = state.config.offset();
    let local = t.with_timezone(&offset);
    if local.time() == chrono::NaiveTime::MIN {
        let day = local.date_naive();
        let day = if to {
            day.pred_opt().unwrap_or(day)
        } else {
            day
        };
        day.format("%Y-%m-%d").to_string()
    } else {
        t.to_rfc3339()
    }
}

fn cells(state: &jiesu::services::AppState, e: &KbEntry) -> Vec<String> {
    vec![
        e.id.clone(),
        e.title.clone(),
        e.answer.clone(),
        e.category.clone(),
        e.unit_code.clone().unwrap_or_default(),
        e.source.clone(),
        day_or_time(state, e.valid_from, false),
        day_or_time(state, e.valid_until, true),
        e.tags.join("|"),
        e.status.as_str().to_string(),
    ]
}

async fn export(
    state: &jiesu::services::AppState,
    format: Format,
    out: Option<PathBuf>,
    status: Option<KbStatus>,
    which: Which,
) -> anyhow::Result<()> {
    let all = kb_import::export(state, By::Console, &which.filter(status))
        .await
        .map_err(|e| Usage(e.message(true)))?;
    let rows: Vec<Vec<String>> = all.iter().map(|e| cells(state, e)).collect();
    cli_table::write(&COLUMNS, &rows, format, out, "entries")
}

/// A date cell: `YYYY-MM-DD` (local midnight; for `valid_to` the day is included) or RFC 3339.
fn when(
    state: &jiesu::services::AppState,
    n: usize,
    column: &str,
    cell: &str,
) -> anyhow::Result<Option<chrono::DateTime<chrono::Utc>>> {
    if cell.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(cell) {
        return Ok(Some(t.with_timezone(&chrono::Utc)));
    }
    match jiesu_core::dates::parse_day(cell) {
        Ok(day) => {
            let day = if column == "valid_to" {
                day.succ_opt().unwrap_or(day)
            } else {
                day
            };
            Ok(Some(state.config.local_midnight(day)))
        }
        Err(_) => usage(format!(
            "row {n}, {column}: must be YYYY-MM-DD or RFC 3339, not {cell:?}"
        )),
    }
}

fn import_rows(
    state: &jiesu::services::AppState,
    table: &[Vec<String>],
) -> anyhow::Result<Vec<ImportRow>> {
    let table = Table::new(table, &["title", "answer"], &COLUMNS)?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        let some = |v: String| (!v.is_empty()).then_some(v);
        let status = match r.get("status").as_str() {
            "" => None,
            s => match KbStatus::parse(s) {
                Some(s) => Some(s),
                None => {
                    return usage(format!(
                        "row {n}, status: must be draft or published, not {s:?}"
                    ))
                }
            },
        };
        rows.push(ImportRow {
            id: some(r.get("id")),
            title: r.get("title"),
            answer: r.get("answer"),
            tags: r
                .get("keywords")
                .split('|')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect(),
            category: r.get("category"),
            unit_code: some(r.get("unit_code")),
            source: r.get("source"),
            valid_from: when(state, n, "valid_from", &r.get("valid_from"))?,
            valid_until: when(state, n, "valid_to", &r.get("valid_to"))?,
            status,
        });
    }
    Ok(rows)
}

async fn import(
    state: &jiesu::services::AppState,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let rows = import_rows(state, &cli_table::read(file)?)?;
    cli_table::report(
        kb_import::import(state, By::Console, &rows, dry_run).await,
        dry_run,
    )?;
    eprintln!(
        "{} rows in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
