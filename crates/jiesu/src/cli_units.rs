//! `jiesu units`: the unit table from the console. `export [--format csv|xlsx] [--out FILE]`
//! writes every unit (parents first); `import FILE [--dry-run]` (CSV or xlsx by extension, the
//! export's columns) adds and changes units, each change an event, all or nothing, and prints
//! the added, changed and unchanged counts. A bad row exits 2 naming its row and column.

use crate::cli_args::Usage;
use crate::cli_table::{self, Format, Table};
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::units::{self, ImportRow, NewUnit};
use jiesu::services::units::{UnitFilter, UnitRecord};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of an export and an import (`merged_into` is only read back as information).
const COLUMNS: [&str; 10] = [
    "code",
    "name",
    "short_name",
    "level",
    "parent_code",
    "duty_phone",
    "liaison_name",
    "liaison_phone",
    "active",
    "merged_into",
];

#[derive(Subcommand)]
pub enum UnitsCommand {
    /// Write every unit, parents before children, as CSV (UTF-8 with a BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add and change units from a CSV or xlsx file with the export's columns
    /// (code,name,short_name,level,parent_code,duty_phone,liaison_name,liaison_phone,active).
    /// All or nothing; each change an event.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

fn cells(u: &UnitRecord) -> Vec<String> {
    vec![
        u.code.clone(),
        u.name.clone(),
        u.short_name.clone(),
        u.level.clone(),
        u.parent_code.clone().unwrap_or_default(),
        u.duty_phone.clone(),
        u.liaison_name.clone(),
        u.liaison_phone.clone(),
        if u.active { "1" } else { "0" }.into(),
        u.merged_into.clone().unwrap_or_default(),
    ]
}

/// Turns the table into import rows; a bad `active` is named by row and column.
fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<ImportRow>> {
    let table = Table::new(table, &["code", "name", "level"], &COLUMNS[..9])?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        let parent = r.get("parent_code");
        rows.push(ImportRow {
            active: r.flag(n, "active", true)?,
            unit: NewUnit {
                code: r.get("code"),
                name: r.get("name"),
                short_name: r.get("short_name"),
                level: r.get("level"),
                parent_code: (!parent.is_empty()).then_some(parent),
                duty_phone: r.get("duty_phone"),
                liaison_name: r.get("liaison_name"),
                liaison_phone: r.get("liaison_phone"),
            },
        });
    }
    Ok(rows)
}

/// Runs a `jiesu units` command.
pub async fn run(config: Config, command: UnitsCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        UnitsCommand::Export { format, out } => export(&state, format, out).await,
        UnitsCommand::Import { file, dry_run } => import(&state, &file, dry_run).await,
    };
    state.store.close().await;
    result
}

async fn export(
    state: &jiesu::services::AppState,
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut all = units::list(state, &UnitFilter::default(), i64::MAX)
        .await
        .map_err(|e| Usage(e.message(true)))?;
    all.sort_by(|a, b| {
        (a.path.matches('/').count(), &a.code).cmp(&(b.path.matches('/').count(), &b.code))
    });
    let rows: Vec<Vec<String>> = all.iter().map(cells).collect();
    cli_table::write(&COLUMNS, &rows, format, out, "units")
}

async fn import(
    state: &jiesu::services::AppState,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let rows = import_rows(&cli_table::read(file)?)?;
    cli_table::report(
        units::import(state, By::Console, &rows, dry_run).await,
        dry_run,
    )
}
