//! `jiesu calendar`: the working-day calendar from the console. `import FILE` (`.csv` or
//! `.xlsx`, columns `date,kind,name`, the shipped file's format) sets days as administrators'
//! days, each an event, all or nothing; `export --year Y [--format csv|xlsx] [--out FILE]`
//! writes a year's listed days (`date,kind,name,source`) in the same form, so that an export
//! edited and imported back sets them; `list --year Y` prints that CSV.

use crate::cli_args::{usage, Usage};
use crate::cli_table::{self, Format, Table};
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::calendar::{self, DayInput};
use jiesu::services::AppState;
use jiesu_core::time_limit::CalendarDayKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The columns of an export (`source` is only read back as information).
const COLUMNS: [&str; 4] = ["date", "kind", "name", "source"];

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// Set the days of a CSV or xlsx file `date,kind,name` (kind: holiday | workday), for
    /// example next year's 节假日 and 调休 when they are announced. All or nothing; each day an
    /// event.
    Import {
        /// The file (`.csv`, UTF-8, or `.xlsx`; header row `date,kind,name`).
        file: PathBuf,
    },
    /// Write a year's listed days as CSV (UTF-8 with a BOM) or xlsx `date,kind,name,source`.
    Export {
        /// The year.
        #[arg(long)]
        year: i32,
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print a year's listed days as CSV `date,kind,name,source`.
    List {
        /// The year.
        #[arg(long)]
        year: i32,
    },
}

/// Reads `date,kind,name` rows; a bad row stops with its line and column named.
fn read(file: &Path) -> anyhow::Result<Vec<DayInput>> {
    let rows = cli_table::read(file)?;
    let table = Table::new(&rows, &["date", "kind"], &COLUMNS[..3])?;
    let mut days = Vec::new();
    for (line, r) in table.rows() {
        let kind_text = r.get("kind");
        let Some(kind) = CalendarDayKind::parse(&kind_text) else {
            return usage(format!(
                "line {line}, kind: must be holiday or workday, not {kind_text:?}"
            ));
        };
        days.push(DayInput {
            date: r.get("date"),
            kind,
            name: r.get("name"),
        });
    }
    Ok(days)
}

/// Runs a `jiesu calendar` command.
pub async fn run(config: Config, command: CalendarCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        CalendarCommand::Import { file } => import(&state, &file).await,
        CalendarCommand::Export { year, format, out } => match year_rows(&state, year).await {
            Ok(rows) => cli_table::write(&COLUMNS, &rows, format, out, "days"),
            Err(e) => Err(e),
        },
        CalendarCommand::List { year } => match year_rows(&state, year).await {
            Ok(rows) => {
                outln!("{}", COLUMNS.join(","));
                for r in rows {
                    outln!("{}", r.join(","));
                }
                Ok(())
            }
            Err(e) => Err(e),
        },
    };
    state.store.close().await;
    result
}

async fn year_rows(state: &AppState, year: i32) -> anyhow::Result<Vec<Vec<String>>> {
    let days = calendar::list_year(state, year)
        .await
        .map_err(|e| Usage(e.message(true)))?;
    Ok(days
        .into_iter()
        .map(|d| {
            vec![
                d.date.to_string(),
                d.kind.as_str().to_string(),
                d.name,
                d.source,
            ]
        })
        .collect())
}

async fn import(state: &AppState, file: &Path) -> anyhow::Result<()> {
    let days = read(file)?;
    match calendar::set_days(state, By::Console, &days, false).await {
        Ok(set) => {
            outln!("{} days set", set.len());
            Ok(())
        }
        Err(e) => {
            let fields: Vec<String> = e
                .fields()
                .iter()
                .map(|f| format!("{}: {}", line_of(&f.field), f.message_en))
                .collect();
            Err(Usage(format!("{} ({})", e.message(true), fields.join("; "))).into())
        }
    }
}

/// `days[3].date` → `line 5, date` (the header is line 1).
fn line_of(field: &str) -> String {
    let parsed = field
        .strip_prefix("days[")
        .and_then(|r| r.split_once("]."))
        .and_then(|(i, f)| Some((i.parse::<usize>().ok()?, f)));
    match parsed {
        Some((i, f)) => format!("line {}, {f}", i + 2),
        None => field.to_string(),
    }
}
