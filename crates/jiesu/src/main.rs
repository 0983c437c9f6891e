//! The `jiesu` command: serve the platform, manage users, verify the audit chain.

/// `println!` for the command's output, without its panic when the reader has gone
/// (`jiesu … | head`): see [`out_bytes`].
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::out_bytes(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// `eprintln!` for progress, warnings and errors, without its panic when standard error is a
/// closed pipe (`jiesu … 2>&1 | head -1`): see [`err_bytes`].
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::err_bytes(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

mod cli_args;
mod cli_calendar;
mod cli_catalogue;
mod cli_categories;
mod cli_city;
mod cli_hotspots;
mod cli_kb;
mod cli_kpi_rules;
mod cli_learn;
mod cli_limits;
mod cli_open311;
mod cli_progress;
mod cli_sim;
mod cli_table;
mod cli_text;
mod cli_units;
mod cli_users;

use anyhow::Context;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use cli_args::{usage, LevelArg, RankingFormat, RoleArg, Usage};
use jiesu::clock::SystemClock;
use jiesu::config::Config;
use jiesu::services::accounts::{self, By, Change};
use jiesu::services::{auth, kpi};
use jiesu_core::Role;
use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// mimalloc: the server allocates on many threads at once (two async workers, the SQLite
/// driver's threads, the search indexer); glibc's allocator showed ~7 % of the server's CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "jiesu",
    version,
    about = "Jiesu (接诉): a 12345 citizen service hotline platform"
)]
struct Cli {
    /// Data folder (SQLite file, derived indexes). Env: JIESU_DATA_DIR.
    #[arg(long, global = true, env = "JIESU_DATA_DIR")]
    data_dir: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the platform (HTTP API on --addr).
    Serve {
        /// Address to listen on. Env: JIESU_ADDR.
        #[arg(long, env = "JIESU_ADDR")]
        addr: Option<SocketAddr>,
    },
    /// Build another city: its districts, streets/townships (and communities and villages
    /// with --villages), the center, departments and companies named for it, categories, time
    /// limits and holidays, in the database `serve` uses (JIESU_DATABASE_URL, else SQLite in
    /// the data folder); creates admin as serve does. Exit 2 on an unknown code or a database
    /// holding another city's requests.
    Init(cli_city::InitArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The working-day calendar (节假日, 调休): import a year's days, list a year.
    Calendar {
        #[command(subcommand)]
        command: cli_calendar::CalendarCommand,
    },
    /// Units (承办单位): export the table as CSV or xlsx, import changes from one.
    Units {
        #[command(subcommand)]
        command: cli_units::UnitsCommand,
    },
    /// The dispatch catalogue (派单目录): export the rules in force as CSV or xlsx, import
    /// changes from one.
    Catalogue {
        #[command(subcommand)]
        command: cli_catalogue::CatalogueCommand,
    },
    /// Time limits (办理时限): export every version as CSV or xlsx, import new versions from one.
    Limits {
        #[command(subcommand)]
        command: cli_limits::LimitsCommand,
    },
    /// Categories (诉求分类): export the table as CSV or xlsx, import changes from one.
    Categories {
        #[command(subcommand)]
        command: cli_categories::CategoriesCommand,
    },
    /// The knowledge base (知识库): export and import entries as CSV or xlsx, and move them
    /// through review and publication in bulk.
    Kb {
        #[command(subcommand)]
        command: cli_kb::KbCommand,
    },
    /// Open311 GeoReport v2: client keys and the services offered.
    Open311 {
        #[command(subcommand)]
        command: cli_open311::Open311Command,
    },
    /// Text intelligence: classifier training and evaluation, places, duplicates.
    Text {
        #[command(subcommand)]
        command: cli_text::TextCommand,
    },
    /// Three rates and rankings.
    Kpi {
        #[command(subcommand)]
        command: KpiCommand,
    },
    /// Mine hot problems (热点) from a CSV of requests; prints JSON or CSV. Exit code 2 on bad
    /// input.
    Hotspots(cli_hotspots::HotspotsArgs),
    /// Rebuild the derived search index from the database (stop the server first).
    Reindex,
    /// Live simulated days through the services: requests, dispatch, units, callbacks.
    Simulate {
        #[command(flatten)]
        args: cli_sim::SimArgs,
    },
    /// Start the platform with a simulated month in it and demo users for every role (data in
    /// ./jiesu-demo unless --data-dir is given).
    Demo {
        #[command(flatten)]
        args: cli_sim::SimArgs,
        /// Address to listen on. Env: JIESU_ADDR.
        #[arg(long, env = "JIESU_ADDR")]
        addr: Option<SocketAddr>,
        /// The demo users' password. Env: JIESU_DEMO_PASSWORD.
        #[arg(long, env = "JIESU_DEMO_PASSWORD", default_value = "jiesu-demo")]
        password: String,
    },
    /// The audit trail.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Requesters' personal data: retention and export.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
}

#[derive(Subcommand)]
enum PrivacyCommand {
    /// Remove the name and phone of requesters whose request closed longer ago than
    /// JIESU_PRIVACY_RETENTION_DAYS (default 1095), one event per request (the server's
    /// hourly job does the same).
    Redact,
    /// Everything held about one phone number (requests, replies to the requester,
    /// callbacks) as JSON, for a personal-information request; leaves an event.
    Export {
        /// The requester's phone number.
        #[arg(long)]
        phone: String,
        /// Write here (0600) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user.
    Add {
        #[arg(long)]
        username: String,
        /// The role.
        #[arg(long)]
        role: RoleArg,
        /// Unit code, for unit_handler and unit_manager.
        #[arg(long)]
        unit: Option<String>,
        /// The password (or use --password-stdin).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user: no login, and their sessions end.
    Disable { username: String },
    /// Enable a disabled user.
    Enable { username: String },
    /// Set a user's password (their sessions end).
    ResetPassword {
        username: String,
        /// The new password (or use --password-stdin).
        #[arg(long, conflicts_with = "password_stdin")]
        password: Option<String>,
        /// Read the new password from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// End every session of a user.
    RevokeSessions { username: String },
    /// Write every user (username,role,unit,active; never a password) as CSV (UTF-8 with a
    /// BOM) or xlsx.
    Export {
        /// csv (default) or xlsx.
        #[arg(long, value_enum, default_value = "csv")]
        format: cli_table::Format,
        /// The file to write (standard output when absent; xlsx needs a file).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Add users and disable or enable them from a CSV or xlsx file with the export's columns.
    /// All or nothing; each change an event; each added user's one-time password is printed
    /// once.
    Import {
        /// The file (`.csv` or `.xlsx`).
        file: PathBuf,
        /// Count what would change without changing anything.
        #[arg(long)]
        dry_run: bool,
    },
}

fn password_arg(password: Option<String>, stdin: bool) -> anyhow::Result<String> {
    match (password, stdin) {
        (Some(p), _) => Ok(p),
        (None, true) => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            Ok(s.trim_end_matches(['\r', '\n']).to_string())
        }
        (None, false) => usage("give --password or --password-stdin"),
    }
}

#[derive(Subcommand)]
enum KpiCommand {
    /// The KPI rules' versions: export as CSV or xlsx, import new versions from one.
    Rules {
        #[command(subcommand)]
        command: cli_kpi_rules::KpiRulesCommand,
    },
    /// A month's ranking (frozen if the month is frozen, else computed now).
    Ranking {
        /// `YYYY-MM`.
        #[arg(long)]
        month: String,
        /// The units ranked.
        #[arg(long, value_enum, default_value = "subdistrict")]
        level: LevelArg,
        /// The output (xlsx needs --out).
        #[arg(long, value_enum, default_value = "json")]
        format: RankingFormat,
        /// Write here instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The monthly report workbook (sheets: ranking, rates by district, volume by category,
    /// overdue, month-over-month).
    Report {
        /// `YYYY-MM`.
        #[arg(long)]
        month: String,
        /// The .xlsx file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// The daily rollups behind the rates: refresh the days marked dirty (default), rebuild
    /// them all, or check a month against a full recount (exit 1 on any difference).
    Rollups {
        /// Drop and recount every day.
        #[arg(long)]
        rebuild: bool,
        /// Compare this month (`YYYY-MM`) with a full recount.
        #[arg(long)]
        check: Option<String>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the event hash chain, check its sealed checkpoints with the audit key, and replay
    /// the events against the requests, orders, extensions and callbacks; exit 1 naming every
    /// problem found.
    Verify,
    /// Seal the chain's head now (the server does so every JIESU_AUDIT_CHECKPOINT_SECONDS
    /// and at shutdown).
    Checkpoint,
}

fn config(cli: &Cli) -> anyhow::Result<Config> {
    let mut config = Config::from_env().map_err(|e| Usage(format!("{e:#}")))?;
    if let Some(d) = &cli.data_dir {
        config.data_dir = d.clone();
    }
    Ok(config)
}

/// Writes the command's output to standard output. A reader that has gone (`jiesu … | head`)
/// ends the command quietly with 141, the status of a tool ended by SIGPIPE (`cat`, `grep`), so
/// `set -o pipefail` still sees that the command did not finish (an `audit verify` cut short
/// must not pass for a clean one); any other failure to write (a full disk behind `>`) ends it
/// with 1 and says so. `println!` would panic in both cases.
fn out_bytes(bytes: &[u8]) {
    use std::io::Write;
    let written = {
        let mut out = std::io::stdout().lock();
        out.write_all(bytes).and_then(|()| out.flush())
    };
    if let Err(e) = written {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        errln!("error: writing the output: {e}");
        std::process::exit(1);
    }
}

/// Writes a diagnostic to standard error. If nobody reads it any more, the message is dropped
/// and the command goes on: its output and exit code still say how it ended, and a panic would
/// turn a finished command into a failed one.
fn err_bytes(bytes: &[u8]) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(bytes);
}

/// Exit codes: 0 done, 1 failed (or problems found), 2 a bad value on the command line or in
/// the environment (clap's own usage errors exit 2 as well).
#[tokio::main]
async fn main() -> ExitCode {
    // a bad JIESU_LOG_FORMAT is a bad value like any other
    if let Err(e) = jiesu::telemetry::init_logs() {
        errln!("error: {e:#}");
        return ExitCode::from(2);
    }
    // `serve --help` lists every environment variable
    let command =
        Cli::command().mut_subcommand("serve", |c| c.after_long_help(jiesu::config::env_help()));
    let cli = Cli::from_arg_matches(&command.get_matches()).unwrap_or_else(|e| e.exit());
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            errln!("error: {e:#}");
            ExitCode::from(if e.is::<Usage>() { 2 } else { 1 })
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = config(&cli)?;
    match cli.command {
        Command::Serve { addr } => {
            if let Some(a) = addr {
                config.addr = a;
            }
            serve(config).await
        }
        Command::Init(args) => cli_city::run(config, args).await,
        Command::User { command } => user(config, command).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => verify(config).await,
        Command::Audit {
            command: AuditCommand::Checkpoint,
        } => {
            let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
            let sealed = jiesu::jobs::seal_chain(&state).await;
            state.store.close().await;
            match sealed? {
                Some(seq) => outln!("audit chain sealed at event {seq}"),
                None => outln!("nothing new to seal (or no audit key)"),
            }
            Ok(())
        }
        Command::Privacy { command } => privacy(config, command).await,
        Command::Text { command } => {
            // `text place` resolves against the database's city when one is named.
            let named = cli.data_dir.is_some()
                || config.database_url.is_some()
                || std::env::var_os("JIESU_DATA_DIR").is_some();
            cli_text::run(config, command, named).await
        }
        Command::Open311 { command } => cli_open311::run(config, command).await,
        Command::Calendar { command } => cli_calendar::run(config, command).await,
        Command::Units { command } => cli_units::run(config, command).await,
        Command::Categories { command } => cli_categories::run(config, command).await,
        Command::Kb { command } => cli_kb::run(config, command).await,
        Command::Catalogue { command } => cli_catalogue::run(config, command).await,
        Command::Limits { command } => cli_limits::run(config, command).await,
        Command::Kpi {
            command: KpiCommand::Rules { command },
        } => cli_kpi_rules::run(config, command).await,
        Command::Hotspots(args) => cli_hotspots::run(&args).map_err(|e| Usage(e.0).into()),
        Command::Kpi {
            command:
                KpiCommand::Ranking {
                    month,
                    level,
                    format,
                    out,
                },
        } => {
            if format == RankingFormat::Xlsx && out.is_none() {
                return usage("--format xlsx needs --out FILE");
            }
            let month = kpi::Month::parse(&month).map_err(|e| cli_error(e.into()))?;
            let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
            let level = level.0;
            let payload = kpi::ranking_json(&state, month, level)
                .await
                .map_err(cli_error)?;
            let bytes = match format {
                RankingFormat::Json => payload.into_bytes(),
                RankingFormat::Csv => {
                    jiesu::web::kpi_api::ranking_csv(&serde_json::from_str(&payload)?)
                        .map_err(cli_error)?
                        .into_bytes()
                }
                RankingFormat::Xlsx => {
                    jiesu::services::report::ranking_xlsx(&serde_json::from_str(&payload)?)
                        .map_err(cli_error)?
                }
            };
            state.store.close().await;
            match out {
                Some(path) => std::fs::write(&path, bytes)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => outln!("{}", String::from_utf8_lossy(&bytes)),
            }
            Ok(())
        }
        Command::Kpi {
            command: KpiCommand::Report { month, out },
        } => {
            let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
            let month = kpi::Month::parse(&month).map_err(|e| cli_error(e.into()))?;
            let bytes = jiesu::services::report::monthly_xlsx(&state, month)
                .await
                .map_err(cli_error)?;
            state.store.close().await;
            std::fs::write(&out, bytes)
                .with_context(|| format!("cannot write {}", out.display()))?;
            outln!("wrote {}", out.display());
            Ok(())
        }
        Command::Kpi {
            command: KpiCommand::Rollups { rebuild, check },
        } => {
            let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
            let started = std::time::Instant::now();
            let bar = cli_progress::Bar::new("rollups");
            let days = if rebuild {
                kpi::rebuild_rollups(&state, &bar).await
            } else {
                kpi::refresh_rollups_with(&state, &bar).await
            }
            .map_err(cli_error)?;
            bar.finish();
            outln!(
                "{days} days recounted in {:.2} s",
                started.elapsed().as_secs_f64()
            );
            let mut differ = 0;
            if let Some(month) = check {
                let month = kpi::Month::parse(&month).map_err(|e| cli_error(e.into()))?;
                let diffs = kpi::check_rollups(&state, month).await.map_err(cli_error)?;
                for (unit, rolled, recounted) in &diffs {
                    outln!("{unit}: rollups {rolled:?} ≠ recount {recounted:?}");
                }
                differ = diffs.len();
                outln!(
                    "{}: {} units differ from a full recount",
                    month.label(),
                    differ
                );
            }
            state.store.close().await;
            if differ > 0 {
                std::process::exit(1);
            }
            Ok(())
        }
        Command::Simulate { args } => {
            let summary = cli_sim::simulate(config, args).await?;
            cli_sim::print_summary(&summary);
            Ok(())
        }
        Command::Demo {
            args,
            addr,
            password,
        } => {
            if cli.data_dir.is_none() {
                config.data_dir = PathBuf::from("jiesu-demo");
            }
            cli_sim::demo(config, args, addr, password).await
        }
        Command::Reindex => {
            let mut state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
            state.search = Some(Arc::new(jiesu::open_search(&state)?));
            let bar = cli_progress::Bar::new("reindex");
            let events = jiesu::services::search::rebuild(&state, &bar).await?;
            bar.finish();
            let docs = state.search.as_ref().map(|s| s.len()).unwrap_or(0);
            outln!("search index rebuilt: {events} events read, {docs} documents");
            state.store.close().await;
            Ok(())
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let app = jiesu::App::build(config, Arc::new(SystemClock)).await?;
    let addr = app.local_addr()?;
    if let Some(pw) = &app.generated_admin_password {
        outln!("Created user admin with password: {pw}\n(shown once; set JIESU_ADMIN_PASSWORD to choose it)");
    }
    outln!("Jiesu is listening on http://{addr} (API: http://{addr}/api/v1, health: http://{addr}/healthz)");
    app.run(shutdown_signal()).await
}

pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

async fn user(config: Config, command: UserCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
    match command {
        UserCommand::Add {
            username,
            role,
            unit,
            password,
            password_stdin,
        } => {
            let role = role.0;
            let password = password_arg(password, password_stdin)?;
            let id = accounts::create_user_by(
                &state,
                By::Console,
                &username,
                role,
                unit.as_deref(),
                &password,
            )
            .await
            .map_err(cli_error)?;
            outln!("created user {username} ({role}) id {id}");
        }
        UserCommand::List => {
            outln!("{:<20} {:<16} {:<12} active", "username", "role", "unit");
            for u in auth::list_users(&state).await.map_err(cli_error)? {
                outln!(
                    "{:<20} {:<16} {:<12} {}",
                    u.username,
                    u.role.as_str(),
                    u.unit_code.as_deref().unwrap_or("-"),
                    u.active
                );
            }
        }
        UserCommand::Disable { username } => {
            let c = Change::Disable;
            accounts::change_user(&state, By::Console, &username, c)
                .await
                .map_err(cli_error)?;
            outln!("disabled {username}; their sessions ended");
        }
        UserCommand::Enable { username } => {
            let c = Change::Enable;
            accounts::change_user(&state, By::Console, &username, c)
                .await
                .map_err(cli_error)?;
            outln!("enabled {username}");
        }
        UserCommand::RevokeSessions { username } => {
            let c = Change::RevokeSessions;
            accounts::change_user(&state, By::Console, &username, c)
                .await
                .map_err(cli_error)?;
            outln!("ended every session of {username}");
        }
        UserCommand::ResetPassword {
            username,
            password,
            password_stdin,
        } => {
            let password = password_arg(password, password_stdin)?;
            accounts::reset_password(&state, By::Console, &username, &password)
                .await
                .map_err(cli_error)?;
            outln!("new password set for {username}; their sessions ended");
        }
        UserCommand::Export { format, out } => {
            let done = cli_users::export(&state, format, out).await;
            state.store.close().await;
            return done;
        }
        UserCommand::Import { file, dry_run } => {
            let done = cli_users::import(&state, &file, dry_run).await;
            state.store.close().await;
            return done;
        }
    }
    state.store.close().await;
    Ok(())
}

/// An error for the terminal: the message and each bad field, in English; bad input is a
/// usage error (exit 2).
fn cli_error(e: jiesu::error::AppError) -> anyhow::Error {
    let fields: Vec<String> = e
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.field, f.message_en))
        .collect();
    let message = if fields.is_empty() {
        e.message(true)
    } else {
        format!("{} ({})", e.message(true), fields.join("; "))
    };
    match e {
        jiesu::error::AppError::Invalid(_) | jiesu::error::AppError::Malformed(..) => {
            Usage(message).into()
        }
        _ => anyhow::anyhow!(message),
    }
}

async fn verify(config: Config) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
    let report = jiesu::services::audit::verify(state.store.reader(), &state.config).await;
    state.store.close().await;
    let report = report?;
    match &report.broken {
        None => outln!("audit chain intact: {} events verified", report.events),
        Some(broken) => errln!("audit chain BROKEN: {broken}"),
    }
    if report.seal_problems.is_empty() {
        outln!(
            "{} checkpoints verified with the audit key; {} events after the last one",
            report.checkpoints,
            report.unsealed
        );
    }
    for p in &report.seal_problems {
        errln!("audit checkpoint FAILED: {p}");
    }
    if report.mismatches.is_empty() {
        outln!("requests, assignments, extensions and callbacks agree with their events");
    }
    for m in &report.mismatches {
        errln!("audit replay MISMATCH: {m}");
    }
    if !report.intact() {
        std::process::exit(1);
    }
    Ok(())
}

async fn privacy(config: Config, command: PrivacyCommand) -> anyhow::Result<()> {
    let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
    let result = match command {
        PrivacyCommand::Redact => jiesu::jobs::redact_personal_data(&state)
            .await
            .map(|n| outln!("{n} requests redacted")),
        PrivacyCommand::Export { phone, out } => {
            let who = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
            let actor = jiesu_core::Actor {
                user_id: format!("cli:{who}"),
                username: format!("cli:{who}"),
                role: Role::Admin,
                unit: None,
            };
            match jiesu::services::privacy::export(&state, &actor, &phone).await {
                Ok(v) => write_export(&v, out.as_deref()),
                Err(e) => Err(cli_error(e)),
            }
        }
    };
    state.store.close().await;
    result
}

fn write_export(v: &serde_json::Value, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(v)?;
    match out {
        None => outln!("{text}"),
        Some(path) => {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts
                .open(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            f.write_all(text.as_bytes())?;
            outln!("wrote {}", path.display());
        }
    }
    Ok(())
}
