//! `jiesu catalogue`: the dispatch catalogue (派单目录) from the console. `export [--format
//! csv|xlsx] [--out FILE]` writes every rule in force; `import FILE [--dry-run]` (CSV or xlsx by
//! extension, the export's columns) adds rules (empty `id`), replaces the rule a row names when
//! the row differs, and retires it when `active` is 0 — the same events as the API's
//! `/catalogue`, all or nothing — and prints the added, changed and unchanged counts. A bad row
//! exits 2 naming its row and column. The file code is `cli_table`'s.

use crate::cli_args::{usage, Usage};
use crate::cli_table::{self, Format, Table};
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::catalogue::{self, ImportRow, RuleInput, StoredRule};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of an export and an import; `units` is `unit:role|unit:role` (role `lead` or
/// `co`, exactly one lead; a unit may be `{street}`, `{community}` or `{district}`).
const COLUMNS: [&str; 6] = [
    "id",
    "category_code",
    "area_code",
    "units",
    "note",
    "active",
];

#[derive(Subcommand)]
pub enum CatalogueCommand {
    /// Write every rule in force as CSV (UTF-8 with a BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add, replace and retire rules from a CSV or xlsx file with the export's columns
    /// (id,category_code,area_code,units,note,active). All or nothing; each change an event.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

fn cells(r: &StoredRule) -> Vec<String> {
    let units: Vec<String> = r
        .rule
        .units
        .iter()
        .map(|u| format!("{}:{}", u.unit, u.role.as_str()))
        .collect();
    vec![
        r.rule.id.clone(),
        r.rule.category_code.clone(),
        r.rule.area_code.clone(),
        units.join("|"),
        r.note.clone(),
        "1".to_string(),
    ]
}

/// Turns the table into import rows; a bad `units` cell or flag is named by row and column.
fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<ImportRow>> {
    let table = Table::new(table, &["category_code", "units"], &COLUMNS)?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        let units = catalogue::parse_units(&r.get("units"))
            .or_else(|e| usage(format!("row {n}, units: {e} (write unit:lead|unit:co)")))?;
        rows.push(ImportRow {
            id: r.get("id"),
            active: r.flag(n, "active", true)?,
            input: RuleInput {
                category_code: r.get("category_code"),
                area_code: r.get("area_code"),
                units,
                note: r.get("note"),
            },
        });
    }
    Ok(rows)
}

/// Runs a `jiesu catalogue` command.
pub async fn run(config: Config, command: CatalogueCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        CatalogueCommand::Export { format, out } => export(&state, format, out).await,
        CatalogueCommand::Import { file, dry_run } => import(&state, &file, dry_run).await,
    };
    state.store.close().await;
    result
}

async fn export(
    state: &jiesu::services::AppState,
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let all = catalogue::list(state)
        .await
        .map_err(|e| Usage(e.message(true)))?;
    let rows: Vec<Vec<String>> = all.iter().map(cells).collect();
    cli_table::write(&COLUMNS, &rows, format, out, "rules")
}

async fn import(
    state: &jiesu::services::AppState,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let rows = import_rows(&cli_table::read(file)?)?;
    cli_table::report(
        catalogue::import(state, By::Console, &rows, dry_run).await,
        dry_run,
    )
}
