//! `jiesu kb`: the knowledge base from the console. `export [--format csv|xlsx] [--out FILE]
//! [--status S]` writes the entries; `import FILE [--dry-run]` (CSV or xlsx, the export's
//! columns; `keywords` `|`-separated; dates `YYYY-MM-DD`, `valid_to` inclusive, or RFC 3339)
//! adds and changes entries all or nothing, as drafts unless `status` says `published`; a bad
//! row exits 2 naming its row and column. `review`, `publish` and `expire` move every entry
//! matching `--source`, `--category`, `--unit` one workflow step, as one batch.

use crate::cli_args::Usage;
use crate::cli_table::{self, Format};
use clap::{Args, Subcommand};
use jiesu::config::Config;
use jiesu::services::accounts::By;
use jiesu::services::kb::{self, Filter};
use jiesu::services::kb_import;
use jiesu_core::kb::{KbStatus, KbStep};
use std::path::PathBuf;
use std::sync::Arc;

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
    outln!(
        "{n} entries {}",
        match step {
            KbStep::Review => "reviewed",
            KbStep::Publish => "published",
            KbStep::Expire => "expired",
        }
    );
    Ok(())
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
    let rows: Vec<Vec<String>> = all.iter().map(|e| kb_import::cells(state, e)).collect();
    cli_table::write(&kb_import::COLUMNS, &rows, format, out, "entries")
}

async fn import(
    state: &jiesu::services::AppState,
    file: &std::path::Path,
    dry_run: bool,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let rows = kb_import::rows_of_table(state, &cli_table::read(file)?)
        .map_err(|e| cli_table::refused(&e))?;
    cli_table::report(
        kb_import::import(state, By::Console, &rows, dry_run).await,
        dry_run,
    )?;
    errln!(
        "{} rows in {:.1} s",
        rows.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
