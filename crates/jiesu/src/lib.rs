//! Jiesu, the application: storage (`store`), use cases (`services`), the HTTP edge (`web`),
//! background jobs (`jobs`) and start-up (`App`). The `jiesu` binary in `main.rs` is a thin
//! CLI over this library; the integration tests start the same `App`.

pub mod clock;
pub mod config;
pub mod error;
pub mod jobs;
pub mod messages;
pub mod progress;
pub mod services;
pub mod sim;
pub mod store;
pub mod telemetry;
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
pub async fn open_state(mut config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<AppState> {
    secure_data_dir(&config.data_dir)?;
    let mut store = Store::open(
        &config.database_url(),
        &SqliteOptions {
            synchronous: config.sqlite_synchronous.clone(),
        },
    )
    .await?;
    store.set_utc_offset_hours(config.utc_offset_hours);
    if let Some(url) = &config.standby_database_url {
        store.with_standby(url).await?;
    }
    let mut tx = store.begin().await?;
    // Nodes started at once take turns here (PostgreSQL), so only the first loads.
    store::lead::starting(&mut tx).await?;
    if store::kpi::ensure_rollup_offset(&mut tx, store.day_offset_ms(), false).await? {
        tracing::info!("KPI rollups marked for a rebuild");
    }
    // A city built by `jiesu init --city` is this node's jurisdiction unless one is configured.
    if let Some(city) = store::city::current(tx.conn()).await? {
        if std::env::var("JIESU_JURISDICTION").map_or(true, |v| v.is_empty()) {
            config.jurisdiction = city.jurisdiction;
        }
    }
    let loaded = store::reference::load_shipped(&mut tx, clock.now()).await?;
    services::catalogue::load_shipped(&config.jurisdiction, &mut tx, clock.now()).await?;
    tx.commit().await?;
    if !loaded.is_empty() {
        tracing::info!(?loaded, "reference data loaded");
    }
    // Kannel first, then the webhook, else the log (issue 19).
    let sender: Arc<dyn store::outbox::Sender> = match (&config.kannel, &config.webhook_url) {
        (Some(k), _) => Arc::new(jobs::KannelSender::new(
            k.clone(),
            config.sms_callback_url.as_deref(),
            config.sms_secret.as_ref(),
        )),
        (None, Some(url)) => Arc::new(jobs::WebhookSender::new(url.clone())),
        (None, None) => Arc::new(jobs::LogSender),
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
        telemetry::install();
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

    /// Serves until `shutdown` resolves, then lets in-flight requests finish for at most
    /// `shutdown_grace` (connections still busy then are closed), stops the jobs and closes
    /// the database.
    ///
    /// HTTP/1.1 through hyper's own connection builder rather than `axum::serve`, which has no
    /// header timeout: a connection that has not sent a whole request head within
    /// `header_read_timeout` is closed, a body that stalls for `body_timeout` is refused (408,
    /// see `web::router`), at most `max_connections` are open at once (more wait in the listen
    /// queue), and every request carries `ConnectInfo<SocketAddr>` as `axum::serve` set it.
    pub async fn run(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let jobs = jobs::spawn(self.state.clone(), stopped);
        let state = self.state.clone();
        let config = self.state.config.clone();
        serve(self.listener, web::router(self.state), &config, shutdown).await;
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

/// The accept loop of [`App::run`]; returns once `shutdown` resolved and every connection
/// finished or was closed at the end of the grace period.
async fn serve(
    listener: TcpListener,
    router: axum::Router,
    config: &Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) {
    use axum::extract::ConnectInfo;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    let (closing, close) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout)
        .keep_alive(true);
    let body_timeout = config.body_timeout;
    tokio::pin!(shutdown);
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            _ = &mut shutdown => break,
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
        };
        let (stream, peer) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // EMFILE and friends: wait a moment rather than spin
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service =
            hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                let mut req = req.map(|body| {
                    axum::body::Body::new(tower_http::timeout::TimeoutBody::new(body_timeout, body))
                });
                req.extensions_mut().insert(ConnectInfo(peer));
                router.clone().oneshot(req)
            });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let mut close = close.clone();
        connections.spawn(async move {
            let _slot = slot;
            let closing = async move {
                // the guard `wait_for` returns is not Send: drop it here
                let _ = close.wait_for(|closing| *closing).await.is_ok();
            };
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                _ = closing => {
                    // finish the request in flight, take no new one
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(config.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "shutdown grace period over: closing the connections still busy"
        );
        connections.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// `web/client.rs` reads the peer from `ConnectInfo<SocketAddr>`, as `axum::serve` with
    /// `into_make_service_with_connect_info` set it: the hand-built server sets it too.
    #[tokio::test]
    async fn every_request_carries_the_peer_address_as_connect_info() {
        let router =
            axum::Router::new().route(
                "/peer",
                axum::routing::get(
                    |ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>| async move {
                        peer.to_string()
                    },
                ),
            );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config = Config::from_env().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            serve(listener, router, &config, async {
                let _ = stopped.await;
            })
            .await
        });
        let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
        let me = conn.local_addr().unwrap();
        conn.write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut answer = String::new();
        conn.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.ends_with(&me.to_string()), "{answer} (peer {me})");
        let _ = stop.send(());
        server.await.unwrap();
    }
}
