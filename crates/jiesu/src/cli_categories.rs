//! `jiesu categories`: the category table from the console. `export [--format csv|xlsx]
//! [--out FILE]` writes every category (parents first); `import FILE [--dry-run]` (CSV or
//! xlsx by extension, the export's columns) adds and changes categories in force now, each
//! change an event and a version, all or nothing, and prints the added, changed and unchanged
//! counts. A bad row exits 2 naming its row and column. The file code is `cli_table`'s.

use crate::cli_args::Usage;
use crate::cli_table::{self, Format, Table};
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::categories::{self, CategoryRecord, ImportRow, NewCategory};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of an export and an import (`level` is only read back as information: it
/// follows from the parent).
const COLUMNS: [&str; 10] = [
    "code",
    "name",
    "name_en",
    "parent_code",
    "level",
    "time_limit_class",
    "default_unit_code",
    "keywords",
    "reply_review",
    "active",
];

#[derive(Subcommand)]
pub enum CategoriesCommand {
    /// Write every category, parents before children, as CSV (UTF-8 with a BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add and change categories from a CSV or xlsx file with the export's columns
    /// (code,name,name_en,parent_code,level,time_limit_class,default_unit_code,keywords,
    /// reply_review,active). All or nothing; each change an event, in force now.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

fn cells(c: &CategoryRecord) -> Vec<String> {
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    vec![
        c.code.clone(),
        c.name.clone(),
        c.name_en.clone(),
        c.parent_code.clone().unwrap_or_default(),
        c.level.to_string(),
        c.time_limit_class.clone(),
        c.default_unit_code.clone().unwrap_or_default(),
        c.keywords.clone(),
        flag(c.reply_review),
        flag(c.active),
    ]
}

/// Turns the table into import rows; a bad flag is named by row and column.
fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<ImportRow>> {
    let table = Table::new(table, &["code", "name", "time_limit_class"], &COLUMNS)?;
    let mut rows = Vec::new();
    for (n, r) in table.rows() {
        let some = |v: String| (!v.is_empty()).then_some(v);
        rows.push(ImportRow {
            active: r.flag(n, "active", true)?,
            category: NewCategory {
                code: r.get("code"),
                name: r.get("name"),
                name_en: r.get("name_en"),
                parent_code: some(r.get("parent_code")),
                time_limit_class: r.get("time_limit_class"),
                default_unit_code: some(r.get("default_unit_code")),
                keywords: r.get("keywords"),
                reply_review: r.flag(n, "reply_review", false)?,
                valid_from: None,
            },
        });
    }
    Ok(rows)
}

/// Runs a `jiesu categories` command.
pub async fn run(config: Config, command: CategoriesCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        CategoriesCommand::Export { format, out } => export(&state, format, out).await,
        CategoriesCommand::Import { file, dry_run } => import(&state, &file, dry_run).await,
    };
    state.store.close().await;
    result
}

async fn export(
    state: &jiesu::services::AppState,
    format: Format,
    out: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut all = categories::list(state)
        .await
        .map_err(|e| Usage(e.message(true)))?;
    all.sort_by(|a, b| (a.level, &a.code).cmp(&(b.level, &b.code)));
    let rows: Vec<Vec<String>> = all.iter().map(cells).collect();
    cli_table::write(&COLUMNS, &rows, format, out, "categories")
}

async fn import(
    state: &jiesu::services::AppState,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let rows = import_rows(&cli_table::read(file)?)?;
    cli_table::report(
        categories::import(state, By::Console, &rows, dry_run).await,
        dry_run,
    )
}
