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
    if config.database_url.is_none() {
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            anyhow::anyhow!(
                "cannot create data folder {}: {e}",
                config.data_dir.display()
            )
        })?;
    }
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
    Ok(AppState {
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
    })
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
        let store = self.state.store.clone();
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
        store.close().await;
        Ok(())
    }
}
