//! `jiesu kpi rules`: the KPI rules' versions from the console. `export [--format csv|xlsx]
//! [--out FILE]` writes every stored version; `import FILE [--dry-run]` (CSV or xlsx by
//! extension, the export's columns) adds each row whose version name is new, with the API's
//! event, all or nothing (a row reusing a name with other rules is refused: versions never
//! change), and prints the counts. A bad row exits 2 naming its row and column.

use crate::cli_args::{usage, Usage};
use crate::cli_table::{self, Format, Table};
use chrono::NaiveDate;
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::{directory, kpi};
use jiesu_core::kpi::KpiRules;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of an export and an import (`effective_from` is the first day, YYYY-MM-DD).
const COLUMNS: [&str; 9] = [
    "version",
    "effective_from",
    "w_response",
    "w_resolution",
    "w_satisfaction",
    "basic_weight",
    "class_size",
    "callbacks_count_for",
    "volume_per_10k",
];

#[derive(Subcommand)]
pub enum KpiRulesCommand {
    /// Write every stored version of the KPI rules as CSV (UTF-8 with a BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add versions from a CSV or xlsx file with the export's columns. All or nothing.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<kpi::RulesInput>> {
    let table = Table::new(table, &COLUMNS, &COLUMNS)?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        let num = |column: &str| -> anyhow::Result<f64> {
            let v = r.get(column);
            v.parse()
                .or_else(|_| usage(format!("row {n}, {column}: a number, not {v:?}")))
        };
        let size = r.get("class_size");
        let from = r.get("effective_from");
        let attribution = r.get("callbacks_count_for");
        rows.push(kpi::RulesInput {
            effective_from: NaiveDate::parse_from_str(&from, "%Y-%m-%d")
                .or_else(|_| usage(format!("row {n}, effective_from: YYYY-MM-DD, not {from:?}")))?,
            rules: KpiRules {
                version: r.get("version"),
                w_response: num("w_response")?,
                w_resolution: num("w_resolution")?,
                w_satisfaction: num("w_satisfaction")?,
                basic_weight: num("basic_weight")?,
                class_size: size.parse().or_else(|_| {
                    usage(format!("row {n}, class_size: a whole number, not {size:?}"))
                })?,
                callbacks_count_for: serde_json::from_value(serde_json::json!(attribution))
                    .or_else(|_| {
                        usage(format!(
                            "row {n}, callbacks_count_for: lead or lead_and_co, not {attribution:?}"
                        ))
                    })?,
                volume_per_10k: r.flag(n, "volume_per_10k", false)?,
            },
        });
    }
    Ok(rows)
}

/// Runs a `jiesu kpi rules` command.
pub async fn run(config: Config, command: KpiRulesCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        KpiRulesCommand::Export { format, out } => export(&state, format, out).await,
        KpiRulesCommand::Import { file, dry_run } => import(&state, &file, dry_run).await,
    };
    state.store.close().await;
    result
}

async fn export(
    state: &jiesu::services::AppState,
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let all = directory::kpi_rules(state)
        .await
        .map_err(|e| Usage(e.message(true)))?;
    let offset = state.config.offset();
    let rows: Vec<Vec<String>> = all
        .iter()
        .map(|v| {
            let r = &v.rules;
            let who = serde_json::to_value(r.callbacks_count_for).unwrap_or_default();
            vec![
                r.version.clone(),
                v.effective_from
                    .with_timezone(&offset)
                    .date_naive()
                    .to_string(),
                r.w_response.to_string(),
                r.w_resolution.to_string(),
                r.w_satisfaction.to_string(),
                r.basic_weight.to_string(),
                r.class_size.to_string(),
                who.as_str().unwrap_or("lead").to_string(),
                if r.volume_per_10k { "1" } else { "0" }.to_string(),
            ]
        })
        .collect();
    cli_table::write(&COLUMNS, &rows, format, out, "versions")
}

async fn import(
    state: &jiesu::services::AppState,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let rows = import_rows(&cli_table::read(file)?)?;
    cli_table::report(
        kpi::import_rules(state, By::Console, &rows, dry_run).await,
        dry_run,
    )
}
