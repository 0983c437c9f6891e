//! `jiesu limits`: time limits (办理时限) from the console. `export [--format csv|xlsx] [--out
//! FILE]` writes every version of every class; `import FILE [--dry-run]` (CSV or xlsx by
//! extension, the export's columns) adds a version for each row that differs from the version
//! there is — from its `effective_from` (RFC 3339, never in the past) or, when empty, from now —
//! with the API's event, all or nothing, and prints the counts. A bad row exits 2 naming its
//! row and column. The file code is `cli_table`'s.

use crate::cli_args::{usage, Usage};
use crate::cli_table::{self, Format, Table};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::limits::{self, LimitInput, TimeLimitVersion};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of an export and an import.
const COLUMNS: [&str; 7] = [
    "class",
    "effective_from",
    "name_zh",
    "name_en",
    "acknowledge_minutes",
    "reply_minutes",
    "day_kind",
];

#[derive(Subcommand)]
pub enum LimitsCommand {
    /// Write every version of every time limit as CSV (UTF-8 with a BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add versions from a CSV or xlsx file with the export's columns (class,effective_from,
    /// name_zh,name_en,acknowledge_minutes,reply_minutes,day_kind; an empty effective_from is
    /// now). Rows the same as a version there is are left alone. All or nothing.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

fn cells(v: &TimeLimitVersion) -> Vec<String> {
    vec![
        v.class.clone(),
        v.effective_from
            .to_rfc3339_opts(SecondsFormat::Millis, true),
        v.name_zh.clone(),
        v.name_en.clone(),
        v.acknowledge_minutes.to_string(),
        v.reply_minutes.to_string(),
        v.day_kind.clone(),
    ]
}

/// Turns the table into versions; a bad number or date is named by row and column.
fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<LimitInput>> {
    let table = Table::new(
        table,
        &["class", "acknowledge_minutes", "reply_minutes", "day_kind"],
        &COLUMNS,
    )?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        let minutes = |column: &str| -> anyhow::Result<i64> {
            let v = r.get(column);
            v.parse()
                .or_else(|_| usage(format!("row {n}, {column}: a whole number, not {v:?}")))
        };
        let from = r.get("effective_from");
        let effective_from = if from.is_empty() {
            None
        } else {
            Some(
                DateTime::parse_from_rfc3339(&from)
                    .map(|t| t.with_timezone(&Utc))
                    .or_else(|_| {
                        usage(format!(
                            "row {n}, effective_from: an RFC 3339 time (2026-01-01T00:00:00+08:00) or empty, not {from:?}"
                        ))
                    })?,
            )
        };
        rows.push(LimitInput {
            class: r.get("class"),
            name_zh: r.get("name_zh"),
            name_en: r.get("name_en"),
            acknowledge_minutes: minutes("acknowledge_minutes")?,
            reply_minutes: minutes("reply_minutes")?,
            day_kind: r.get("day_kind"),
            effective_from,
        });
    }
    Ok(rows)
}

/// Runs a `jiesu limits` command.
pub async fn run(config: Config, command: LimitsCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        LimitsCommand::Export { format, out } => export(&state, format, out).await,
        LimitsCommand::Import { file, dry_run } => import(&state, &file, dry_run).await,
    };
    state.store.close().await;
    result
}

async fn export(
    state: &jiesu::services::AppState,
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let all = limits::list(state)
        .await
        .map_err(|e| Usage(e.message(true)))?;
    let rows: Vec<Vec<String>> = all.iter().map(cells).collect();
    cli_table::write(&COLUMNS, &rows, format, out, "versions")
}

async fn import(
    state: &jiesu::services::AppState,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let rows = import_rows(&cli_table::read(file)?)?;
    cli_table::report(
        limits::import(state, By::Console, &rows, dry_run).await,
        dry_run,
    )
}
