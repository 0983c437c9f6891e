//! `jiesu units`: the unit table from the console. `export [--format csv|xlsx] [--out FILE]`
//! writes every unit (parents first); `import FILE [--dry-run]` (CSV or xlsx by extension, the
//! export's columns) adds and changes units, each change an event, all or nothing, and prints
//! the added, changed and unchanged counts. A bad row exits 2 naming its row and column.

use crate::cli_args::{usage, Usage};
use clap::{Subcommand, ValueEnum};
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

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Csv,
    Xlsx,
}

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

fn cells(u: &UnitRecord) -> [String; 10] {
    [
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

fn export_bytes(units: &[UnitRecord], format: Format) -> anyhow::Result<Vec<u8>> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(b"\xEF\xBB\xBF".to_vec());
            w.write_record(COLUMNS)?;
            for u in units {
                w.write_record(cells(u))?;
            }
            Ok(w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
        }
        Format::Xlsx => {
            let mut wb = rust_xlsxwriter::Workbook::new();
            let sheet = wb.add_worksheet().set_name("units")?;
            for (c, h) in COLUMNS.iter().enumerate() {
                sheet.write_string(0, c as u16, *h)?;
            }
            for (r, u) in units.iter().enumerate() {
                for (c, v) in cells(u).iter().enumerate() {
                    sheet.write_string(r as u32 + 1, c as u16, v)?;
                }
            }
            Ok(wb.save_to_buffer()?)
        }
    }
}

/// The file's rows as strings (the header first).
fn read_table(file: &Path) -> anyhow::Result<Vec<Vec<String>>> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext == "xlsx" {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::open_workbook(file).or_else(|e| usage(format!("{}: {e}", file.display())))?;
        let Some(Ok(range)) = wb.worksheet_range_at(0) else {
            return usage(format!("{}: no worksheet", file.display()));
        };
        return Ok(range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string().trim().to_string()).collect())
            .collect());
    }
    if ext != "csv" {
        return usage(format!(
            "{}: the file must end in .csv or .xlsx",
            file.display()
        ));
    }
    let text =
        std::fs::read_to_string(file).or_else(|e| usage(format!("{}: {e}", file.display())))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.or_else(|e| usage(format!("row {}: {e}", i + 1)))?;
        rows.push(rec.iter().map(|c| c.trim().to_string()).collect());
    }
    Ok(rows)
}

/// Turns the table into import rows; a bad `active` is named by row and column.
fn import_rows(table: &[Vec<String>]) -> anyhow::Result<Vec<ImportRow>> {
    let Some(header) = table.first() else {
        return usage("the file is empty: it needs a header row");
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(code), Some(name), Some(level)) = (col("code"), col("name"), col("level")) else {
        return usage(format!(
            "the header must name the columns {}",
            COLUMNS[..9].join(",")
        ));
    };
    let mut rows = Vec::new();
    for (i, r) in table.iter().enumerate().skip(1) {
        let get = |c: Option<usize>| c.and_then(|c| r.get(c)).cloned().unwrap_or_default();
        let active = match get(col("active")).as_str() {
            "" | "1" | "true" | "是" => true,
            "0" | "false" | "否" => false,
            other => {
                return usage(format!(
                    "row {}, active: must be 1 or 0, not {other:?}",
                    i + 1
                ))
            }
        };
        let parent = get(col("parent_code"));
        rows.push(ImportRow {
            unit: NewUnit {
                code: get(Some(code)),
                name: get(Some(name)),
                short_name: get(col("short_name")),
                level: get(Some(level)),
                parent_code: (!parent.is_empty()).then_some(parent),
                duty_phone: get(col("duty_phone")),
                liaison_name: get(col("liaison_name")),
                liaison_phone: get(col("liaison_phone")),
            },
            active,
        });
    }
    Ok(rows)
}

/// `rows[3].name` → `row 5, name` (the header is row 1).
fn row_of(field: &str) -> String {
    let parsed = field
        .strip_prefix("rows[")
        .and_then(|r| r.split_once("]."))
        .and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f)));
    match parsed {
        Some((i, f)) => format!("row {}, {f}", i + 2),
        None => field.to_string(),
    }
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
    let bytes = export_bytes(&all, format)?;
    match (out, format) {
        (Some(path), _) => {
            std::fs::write(&path, bytes)?;
            eprintln!("{} units written to {}", all.len(), path.display());
        }
        (None, Format::Csv) => {
            use std::io::Write;
            std::io::stdout().write_all(&bytes)?;
        }
        (None, Format::Xlsx) => return usage("--format xlsx needs --out FILE"),
    }
    Ok(())
}

async fn import(
    state: &jiesu::services::AppState,
    file: &Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let rows = import_rows(&read_table(file)?)?;
    match units::import(state, By::Console, &rows, dry_run).await {
        Ok(sum) => {
            let verb = if dry_run { "would be " } else { "" };
            println!(
                "{} {verb}added, {} {verb}changed, {} unchanged",
                sum.added, sum.changed, sum.unchanged
            );
            Ok(())
        }
        Err(e) => {
            let fields: Vec<String> = e
                .fields()
                .iter()
                .map(|f| format!("{}: {}", row_of(&f.field), f.message_en))
                .collect();
            Err(Usage(format!("{} ({})", e.message(true), fields.join("; "))).into())
        }
    }
}
