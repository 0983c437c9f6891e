//! Jiesu, the application: storage (`store`), use cases (`services`), the HTTP edge (`web`),
//! background jobs (`jobs`) and start-up (`App`). The `jiesu` binary in `main.rs` is a thin
//! CLI over this library; the integration tests start the same `App`.

pub mod clock;
pub mod config;
pub mod error;
pub mod jobs;
pub mod messages;
pub mod services;
pub mod sim;
pub mod store;
pub mod web;

use crate::clock::Clock;
use crate::config::Config;
use crate::services::AppState;
use crate::store::{SqliteOptions, Store};
use secrecy::ExposeSecret;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A built application: database open and migrated, reference data loaded, listener bound.
pub struct App {
    /// Shared state.
    pub state: AppState,
    listener: TcpListener,
    /// The generated admin password, when this start created `admin` without one.
    pub generated_admin_password: Option<String>,
}

/// Opens the database named by the configuration, migrates it and loads reference data.
pub async fn open_state(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    secure_data_dir(&config.data_dir)?;
    let mut store = Store::open(
        &config.database_url(),
        &SqliteOptions {
            synchronous: config.sqlite_synchronous.clone(),
        },
    )
    .await?;
    store.set_utc_offset_hours(config.utc_offset_hours);
    let mut tx = store.begin().await?;
    if store::kpi::ensure_rollup_offset(&mut tx, store.day_offset_ms(), false).await? {
        tracing::info!("KPI rollups marked for a rebuild");
    }
    let loaded = store::reference::load_shipped(&mut tx, clock.now()).await?;
    services::catalogue::load_shipped(&config.jurisdiction, &mut tx, clock.now()).await?;
    tx.commit().await?;
    if !loaded.is_empty() {
        tracing::info!(?loaded, "reference data loaded");
    }
    let sender: Arc<dyn store::outbox::Sender> = match &config.webhook_url {
        Some(url) => Arc::new(jobs::WebhookSender::new(url.clone())),
        None => Arc::new(jobs::LogSender),
    };
    let models =
        services::models::Models::load(store.reader(), &config.model_dir(), clock.now()).await?;
    let hotspots =
        services::hotspots::live::Live::load(store.reader(), &models, clock.now()).await?;
    let logins = services::auth::LoginGate::load(&store, &config, clock.now()).await?;
    let state = AppState {
        store,
        config: Arc::new(config),
        clock,
        sender,
        models: Arc::new(models),
        hotspots: Arc::new(hotspots),
        search: None,
        search_lock: Arc::default(),
        sessions: Arc::default(),
        logins: Arc::new(logins),
    };
    // Requests recorded before query codes existed get one (SQL has no portable CSPRNG).
    let issued = services::portal::issue_missing_query_codes(&state)
        .await
        .map_err(|e| anyhow::anyhow!("cannot issue query codes: {e}"))?;
    if issued > 0 {
        tracing::info!(issued, "query codes issued to earlier requests");
    }
    Ok(state)
}

/// Keeps the data folder private (on Unix): the process's umask becomes 077, so whatever is
/// created from now on (the SQLite file and its -wal/-shm, the search index, keys) is its
/// owner's only; the folder is made 0700 and what it already holds 0600 (folders 0700).
pub fn secure_data_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    private_umask();
    std::fs::create_dir_all(dir)
        .map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", dir.display()))?;
    make_private(dir).map_err(|e| anyhow::anyhow!("cannot make {} private: {e}", dir.display()))?;
    Ok(())
}

#[cfg(unix)]
fn private_umask() {
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(not(unix))]
fn private_umask() {}

#[cfg(not(unix))]
fn make_private(_: &std::path::Path) -> std::io::Result<()> {
    Ok(())
}

/// 0700 for folders, 0600 for files, recursively; symbolic links are left alone.
#[cfg(unix)]
fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_dir() {
        if meta.permissions().mode() & 0o777 != 0o700 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))?;
        }
        for entry in std::fs::read_dir(path)? {
            make_private(&entry?.path())?;
        }
    } else if meta.is_file() && meta.permissions().mode() & 0o777 != 0o600 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

/// Opens the node's search index in the data folder.
pub fn open_search(state: &AppState) -> anyhow::Result<services::search::SearchIndex> {
    let dir = state.config.data_dir.join("search");
    services::search::SearchIndex::open(&dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot open the search index in {} (is another jiesu using this data folder?): {e}",
            dir.display()
        )
    })
}

impl App {
    /// Builds the application the same way for `jiesu serve` and for tests.
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        let listener = TcpListener::bind(config.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.addr))?;
        let admin_password = config
            .admin_password
            .as_ref()
            .map(|p| p.expose_secret().to_string());
        let mut state = open_state(config, clock).await?;
        // The audit key: made at the first start when none is configured, refused if short.
        services::audit::AuditKey::load(&state.config, true)?;
        state.search = Some(Arc::new(open_search(&state)?));
        let generated_admin_password =
            services::auth::ensure_admin(&state, admin_password.as_deref())
                .await
                .map_err(|e| anyhow::anyhow!("cannot create admin: {e}"))?;
        Ok(App {
            state,
            listener,
            generated_admin_password,
        })
    }

    /// The address actually bound (port 0 becomes a real port).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests and closes the
    /// database.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let jobs = jobs::spawn(self.state.clone(), stopped);
        let state = self.state.clone();
        axum::serve(
            self.listener,
            web::router(self.state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await?;
        let _ = stop.send(true);
        for job in jobs {
            let _ = job.await;
        }
        if let Err(e) = jobs::seal_chain(&state).await {
            tracing::error!(error = %e, "sealing the audit chain at shutdown failed");
        }
        state.store.close().await;
        Ok(())
    }
}
