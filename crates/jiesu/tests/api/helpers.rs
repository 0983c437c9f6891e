//! `TestApp`: spawns the real application on port 0 with a fresh database (a temporary
//! SQLite folder, or a new PostgreSQL database dropped afterwards) and a manual clock.

use chrono::TimeZone;
use jiesu::clock::ManualClock;
use jiesu::config::Config;
use jiesu::services::{auth, AppState};
use jiesu_core::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

/// Which database a story runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The PostgreSQL server used for tests; each test gets its own database on it.
pub fn postgres_admin_url() -> String {
    std::env::var("JIESU_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn with_database(admin_url: &str, db: &str) -> String {
    let (base, _) = admin_url.rsplit_once('/').expect("url has a database");
    format!("{base}/{db}")
}

/// Creates a fresh PostgreSQL database, or None (with a note) when the server is absent and
/// `JIESU_TEST_REQUIRE_POSTGRES` is not set.
pub async fn fresh_postgres() -> Option<(String, String)> {
    use sqlx::Connection;
    let admin = postgres_admin_url();
    let mut conn = match sqlx::PgConnection::connect(&admin).await {
        Ok(c) => c,
        Err(e) if std::env::var("JIESU_TEST_REQUIRE_POSTGRES").is_err() => {
            eprintln!("skipping PostgreSQL story: cannot connect to {admin}: {e}");
            return None;
        }
        Err(e) => panic!("PostgreSQL required but not reachable at {admin}: {e}"),
    };
    let name = format!("jiesu_test_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    Some((with_database(&admin, &name), name))
}

/// Drops a test database (from Drop, so also after a failed test).
pub fn drop_postgres(name: String) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use sqlx::Connection;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            }
        })
    })
    .join()
    .expect("drop thread");
}

/// A running application.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub clock: ManualClock,
    pub config: Config,
    client: reqwest::Client,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<()>>,
    pub dir: tempfile::TempDir,
    pg_name: Option<String>,
    pub admin: String,
}

/// The instant every test starts at: Monday 2026-11-02 10:00 in Beijing.
pub fn start_time() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 11, 2, 2, 0, 0).unwrap()
}

impl TestApp {
    /// Spawns the app, or None when the backend is unavailable here.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns the app after `prepare` has filled its data folder (a model, say).
    pub async fn spawn_with(
        backend: Backend,
        prepare: impl FnOnce(&std::path::Path),
    ) -> Option<TestApp> {
        Self::spawn_full(backend, prepare, |_| {}).await
    }

    /// Spawns the app with `configure` applied to its configuration last (limits, say).
    pub async fn spawn_configured(
        backend: Backend,
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::spawn_full(backend, |_| {}, configure).await
    }

    /// Spawns the app with its clock standing at `at` instead of [`start_time`] (a story
    /// about a past holiday week, issue 18).
    pub async fn spawn_at(backend: Backend, at: chrono::DateTime<chrono::Utc>) -> Option<TestApp> {
        Self::spawn_inner(backend, |_| {}, |_| {}, at).await
    }

    async fn spawn_full(
        backend: Backend,
        prepare: impl FnOnce(&std::path::Path),
        configure: impl FnOnce(&mut Config),
    ) -> Option<TestApp> {
        Self::spawn_inner(backend, prepare, configure, start_time()).await
    }

    async fn spawn_inner(
        backend: Backend,
        prepare: impl FnOnce(&std::path::Path),
        configure: impl FnOnce(&mut Config),
        at: chrono::DateTime<chrono::Utc>,
    ) -> Option<TestApp> {
        let dir = tempfile::tempdir().expect("temp dir");
        prepare(dir.path());
        let (database_url, pg_name) = match backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => {
                let (url, name) = fresh_postgres().await?;
                (Some(url), Some(name))
            }
        };
        let mut config = Config::from_env().expect("config");
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.database_url = database_url;
        config.admin_password = Some("adminpass1".to_string().into());
        config.sweep_interval = std::time::Duration::ZERO;
        // Tests seal the audit chain by hand (issue 16).
        config.audit_checkpoint_interval = std::time::Duration::ZERO;
        // Tests run the search catch-up by hand, so a background one cannot race them.
        config.search_refresh = std::time::Duration::ZERO;
        config.retrain_interval = std::time::Duration::ZERO;
        config.webhook_url = None;
        // Every test client is 127.0.0.1: the per-address limits are off unless a story
        // turns them on (`spawn_configured`).
        config.rate_track = None;
        config.rate_portal = None;
        config.rate_login = None;
        config.rate_suggest = None;
        // Stories move the clock by hours and keep their tokens; the idle timeout has its own
        // story (stories/logins.rs), which turns it on.
        config.session_idle_minutes = 0;
        // The gauges that need queries are recounted at each scrape, so a story sees its own
        // database's; no refresh job runs (issue 17). /metrics answers this host, no token.
        config.metrics_refresh = std::time::Duration::ZERO;
        config.metrics_token = None;
        configure(&mut config);
        let clock = ManualClock::new(at);
        let (base, state, shutdown, server) = launch(&config, &clock).await;
        let mut app = TestApp {
            base,
            state,
            clock,
            config,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            server: Some(server),
            dir,
            pg_name,
            admin: String::new(),
        };
        app.admin = app.login("admin", "adminpass1").await;
        Some(app)
    }

    /// Stops the server and starts it again on the same database.
    pub async fn restart(&mut self) {
        self.stop().await;
        let (base, state, shutdown, server) = launch(&self.config, &self.clock).await;
        (self.base, self.state, self.shutdown, self.server) =
            (base, state, Some(shutdown), Some(server));
    }

    /// Stops the server gracefully and waits for it.
    pub async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(h) = self.server.take() {
            h.await.expect("server stopped");
        }
        // The index allows one writer per folder: let go of this process's.
        self.state.search = None;
    }

    /// Logs in and returns the token.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/auth/token",
                None,
                json!({ "username": username, "password": password }),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// Creates a user with the password `password1` and returns their token.
    pub async fn user(&self, username: &str, role: Role, unit: Option<&str>) -> String {
        auth::create_user(&self.state, username, role, unit, "password1")
            .await
            .expect("user created");
        self.login(username, "password1").await
    }

    async fn send(&self, req: reqwest::RequestBuilder, token: Option<&str>) -> (StatusCode, Value) {
        let req = match token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.expect("request sent");
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// POSTs JSON.
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client.post(format!("{}{path}", self.base)).json(&body),
            token,
        )
        .await
    }

    /// POSTs a raw body with a content type.
    pub async fn post_raw(
        &self,
        path: &str,
        token: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", content_type)
            .body(body);
        self.send(req, Some(token)).await
    }

    /// GETs.
    pub async fn get(&self, path: &str, token: Option<&str>) -> (StatusCode, Value) {
        self.send(self.client.get(format!("{}{path}", self.base)), token)
            .await
    }

    /// POSTs nothing and returns the raw body.
    pub async fn post_text(&self, path: &str, token: &str) -> (u16, String) {
        let resp = self
            .client
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// GETs the raw body.
    pub async fn get_text(&self, path: &str, token: &str) -> (u16, String) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("sent");
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// PUTs JSON.
    pub async fn put(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client.put(format!("{}{path}", self.base)).json(&body),
            Some(token),
        )
        .await
    }

    /// PATCHes JSON.
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(
            self.client
                .patch(format!("{}{path}", self.base))
                .json(&body),
            Some(token),
        )
        .await
    }

    /// DELETEs.
    pub async fn delete(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(
            self.client.delete(format!("{}{path}", self.base)),
            Some(token),
        )
        .await
    }

    /// The number of stored events.
    pub async fn event_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM events")
            .fetch_one(self.state.store.reader())
            .await
            .unwrap()
    }

    /// Runs a statement directly against the database (tampering, inspection).
    pub async fn exec(&self, sql: &str) {
        sqlx::query(sql)
            .execute(self.state.store.reader())
            .await
            .expect("statement runs");
    }

    /// Environment for running the `jiesu` binary against this app's database.
    /// `JIESU_TEST_CLI` names another binary than the one Cargo built (a private copy, when
    /// several worktrees share one target folder and rebuild `jiesu` in turn).
    pub fn cli(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(cli_bin());
        cmd.arg("--data-dir")
            .arg(self.dir.path())
            .env("JIESU_LOG", "warn")
            .env_remove("JIESU_DATABASE_URL");
        if let Some(url) = &self.config.database_url {
            cmd.env("JIESU_DATABASE_URL", url);
        }
        cmd
    }
}

type Running = (
    String,
    AppState,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
);

async fn launch(config: &Config, clock: &ManualClock) -> Running {
    let built = jiesu::App::build(config.clone(), Arc::new(clock.clone()))
        .await
        .expect("app builds");
    let base = format!("http://{}", built.local_addr().unwrap());
    let state = built.state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        built
            .run(async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
    });
    (base, state, tx, server)
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(name) = self.pg_name.take() {
            drop_postgres(name);
        }
    }
}

/// A plain complaint.
pub fn complaint(text: &str) -> Value {
    json!({
        "kind": "complaint",
        "channel": "phone",
        "text": text,
        "address": "朝阳区望京西园三区",
        "requester": { "name": "王女士", "phone": "13812345678" }
    })
}

/// Records a complaint at `address` in `category` from `phone` as `op`; returns its id.
pub async fn seed_complaint(
    app: &TestApp,
    op: &str,
    text: &str,
    address: &str,
    category: &str,
    phone: &str,
) -> String {
    let mut body = complaint(text);
    body["address"] = json!(address);
    body["category_code"] = json!(category);
    body["requester"]["phone"] = json!(phone);
    let v = expect(app.post("/api/v1/requests", Some(op), body).await, 201);
    v["id"].as_str().unwrap().to_string()
}

/// Asserts a status and returns the body.
#[track_caller]
pub fn expect(got: (StatusCode, Value), want: u16) -> Value {
    assert_eq!(got.0.as_u16(), want, "unexpected status; body: {}", got.1);
    got.1
}

/// The id of the order of `unit` in `round` in a request view.
pub fn order_id(view: &Value, unit: &str, round: i64) -> String {
    view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["unit_code"] == unit && a["round"] == round && a["status"] != "returned")
        .unwrap_or_else(|| panic!("no live order for {unit} in round {round}: {view}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The app on backend `$backend`, or returns from the story when that backend is absent
/// (PostgreSQL not reachable and not required).
macro_rules! app {
    ($backend:expr) => {
        match $crate::helpers::TestApp::spawn($backend).await {
            Some(app) => app,
            None => return,
        }
    };
}
pub(crate) use app;

/// The `jiesu` binary the CLI tests run: `JIESU_TEST_CLI` names another binary than the one
/// Cargo built (a private copy, when several worktrees share one target folder and rebuild
/// `jiesu` in turn).
pub fn cli_bin() -> std::ffi::OsString {
    std::env::var_os("JIESU_TEST_CLI").unwrap_or_else(|| env!("CARGO_BIN_EXE_jiesu").into())
}
