//! `jiesu calendar`: the working-day calendar from the console. `import FILE.csv` sets days
//! (`date,kind,name`, the shipped file's format) as administrators' days, each an event;
//! `list --year Y` prints a year's listed days as that CSV.

use crate::cli_args::{usage, Usage};
use clap::Subcommand;
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::calendar::{self, DayInput};
use jiesu_core::time_limit::CalendarDayKind;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Subcommand)]
pub enum CalendarCommand {
    /// Set the days of a CSV file `date,kind,name` (kind: holiday | workday), for example next
    /// year's 节假日 and 调休 when they are announced. All or nothing; each day an event.
    Import {
        /// The CSV file (UTF-8, header row `date,kind,name`).
        file: PathBuf,
    },
    /// Print a year's listed days as CSV `date,kind,name,source`.
    List {
        /// The year.
        #[arg(long)]
        year: i32,
    },
}

/// Reads `date,kind,name` rows; a bad row stops with its line and column named.
fn read(file: &PathBuf) -> anyhow::Result<Vec<DayInput>> {
    let text =
        std::fs::read_to_string(file).or_else(|e| usage(format!("{}: {e}", file.display())))?;
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers()?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(d), Some(k)) = (col("date"), col("kind")) else {
        return usage("the header must name the columns date,kind[,name]");
    };
    let n = col("name");
    let mut days = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let line = i + 2;
        let rec = rec.or_else(|e| usage(format!("line {line}: {e}")))?;
        let kind_text = rec.get(k).unwrap_or("").trim();
        let Some(kind) = CalendarDayKind::parse(kind_text) else {
            return usage(format!(
                "line {line}, kind: must be holiday or workday, not {kind_text:?}"
            ));
        };
        days.push(DayInput {
            date: rec.get(d).unwrap_or("").trim().to_string(),
            kind,
            name: n.and_then(|n| rec.get(n)).unwrap_or("").to_string(),
        });
    }
    Ok(days)
}

/// Runs a `jiesu calendar` command.
pub async fn run(config: Config, command: CalendarCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(jiesu::clock::SystemClock)).await?;
    let result = match command {
        CalendarCommand::Import { file } => match read(&file) {
            Ok(days) => match calendar::set_days(&state, By::Console, &days, false).await {
                Ok(set) => {
                    println!("{} days set", set.len());
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
            },
            Err(e) => Err(e),
        },
        CalendarCommand::List { year } => match calendar::list_year(&state, year).await {
            Ok(days) => {
                println!("date,kind,name,source");
                for d in days {
                    println!("{},{},{},{}", d.date, d.kind.as_str(), d.name, d.source);
                }
                Ok(())
            }
            Err(e) => Err(Usage(e.message(true)).into()),
        },
    };
    state.store.close().await;
    result
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
