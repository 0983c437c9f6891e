//! Several nodes on one database (issue 21): a URL listing a dead host first is served from
//! the live one, and the background jobs run on one node at a time.

use super::cast::{new_request, staff};
use crate::helpers::{app, Backend, TestApp};
use jiesu::store::lead::try_lead;
use reqwest::StatusCode;

/// The sweep's lock is held by one run at a time across everything sharing the database; a
/// second taker is turned away until the first lets go (PostgreSQL), while SQLite's single
/// node always leads.
pub async fn a_job_runs_on_one_node_at_a_time_and_the_next_takes_over_when_it_lets_go(b: Backend) {
    let app = app!(b);
    const KEY: i64 = 0x6a69_6573_0001;
    let first = try_lead(&app.state.store, KEY).await.unwrap();
    assert!(first.is_some(), "the first run leads");
    let second = try_lead(&app.state.store, KEY).await.unwrap();
    match b {
        Backend::Postgres => assert!(second.is_none(), "a second run is turned away"),
        Backend::Sqlite => assert!(second.is_some(), "one node: every run leads"),
    }
    drop(second);
    drop(first);
    // The lock goes with the session, which closes in the background: the next run takes it.
    let mut taken = None;
    for _ in 0..50 {
        taken = try_lead(&app.state.store, KEY).await.unwrap();
        if taken.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(
        taken.is_some(),
        "the next run takes over once the holder is gone"
    );
}

/// PostgreSQL only: `postgres://…@127.0.0.1:1,<the test server>/db` — nothing listens on
/// port 1, as after a primary's death — starts, is ready and records a request.
pub async fn a_database_url_listing_a_dead_host_first_is_served_by_the_live_one() {
    let Some(app) = TestApp::spawn_configured(Backend::Postgres, |c| {
        let url = c.database_url.clone().expect("a PostgreSQL URL");
        let (scheme, rest) = url.split_once("://").unwrap();
        let (user, hosts) = rest.rsplit_once('@').unwrap_or(("", rest));
        let at = if user.is_empty() { "" } else { "@" };
        c.database_url = Some(format!("{scheme}://{user}{at}127.0.0.1:1,{hosts}"));
    })
    .await
    else {
        return;
    };
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    assert!(r["number"].as_str().is_some_and(|n| !n.is_empty()), "{r}");
}

/// PostgreSQL only: a write refused by a read-only session (a demoted primary, SQLSTATE 25006)
/// counts as a failover (503, the pool moves), and such a host is not one that takes writes.
pub async fn a_write_refused_as_read_only_is_a_failover_and_the_host_not_writable() {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let Ok(mut conn) = sqlx::AnyConnection::connect(&crate::helpers::postgres_admin_url()).await
    else {
        assert!(
            std::env::var("JIESU_TEST_REQUIRE_POSTGRES").is_err(),
            "PostgreSQL required"
        );
        return;
    };
    sqlx::query("SET default_transaction_read_only = on")
        .execute(&mut conn)
        .await
        .unwrap();
    let e = sqlx::query("CREATE TEMP TABLE t (x INT)")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(jiesu::store::failover::is_failover(&e), "{e}");
    let writable: bool = sqlx::query_scalar(jiesu::store::failover::TAKES_WRITES)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert!(!writable, "a read-only session does not take writes");
}

/// Reports read from a standby only where one answers (issue 21): pointed at a primary (the
/// test PostgreSQL), no host is in recovery, so reports read the primary and say nothing of
/// a lag; SQLite refuses a standby URL. (The failover script checks a real standby: the
/// header and the dashboard's line under load, and their return after a failover.)
pub async fn reports_read_the_primary_when_no_standby_answers() {
    sqlx::any::install_default_drivers();
    let opts = jiesu::store::SqliteOptions {
        synchronous: "NORMAL".into(),
    };
    let dir = tempfile::tempdir().unwrap();
    let sqlite = format!("sqlite://{}/j.db?mode=rwc", dir.path().display());
    let mut lite = jiesu::store::Store::open(&sqlite, &opts).await.unwrap();
    let e = lite
        .with_standby(&crate::helpers::postgres_admin_url())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("PostgreSQL"), "{e}");
    lite.close().await;
    let Some((url, name)) = crate::helpers::fresh_postgres().await else {
        return;
    };
    let mut store = jiesu::store::Store::open(&url, &opts).await.unwrap();
    assert!(store.with_standby("sqlite://x.db").await.is_err());
    // Two hosts, the first refusing connections, the second a primary: no standby.
    let (scheme, rest) = url.split_once("://").unwrap();
    let (user, host_db) = rest.split_once('@').unwrap();
    let two = format!("{scheme}://{user}@127.0.0.1:1,{host_db}");
    store.with_standby(&two).await.unwrap();
    let (reports, staleness) = store.for_reports();
    assert_eq!(staleness, None);
    let one: i64 = sqlx::query_scalar("SELECT 1")
        .fetch_one(reports.reader())
        .await
        .unwrap();
    assert_eq!(one, 1);
    store.close().await;
    crate::helpers::drop_postgres(name);
}

/// PostgreSQL only: three nodes started at the same moment on one new database (a fresh
/// cluster's first boot, issue 21) all start, take turns at loading the shipped data, and
/// leave one `admin` whose password is the configured one.
pub async fn nodes_started_at_once_on_a_new_database_all_start_with_one_admin() {
    let Some((url, name)) = crate::helpers::fresh_postgres().await else {
        return;
    };
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let starts = dirs.iter().map(|dir| {
        let mut config = jiesu::config::Config::from_env().expect("config");
        config.addr = "127.0.0.1:0".parse().unwrap();
        config.data_dir = dir.path().to_path_buf();
        config.database_url = Some(url.clone());
        config.admin_password = Some("adminpass1".to_string().into());
        let clock = jiesu::clock::ManualClock::new(crate::helpers::start_time());
        jiesu::App::build(config, std::sync::Arc::new(clock))
    });
    let apps = futures_util::future::join_all(starts).await;
    let mut built = Vec::new();
    for app in apps {
        let app = app.unwrap_or_else(|e| panic!("a node failed to start: {e:#}"));
        assert!(app.generated_admin_password.is_none());
        built.push(app);
    }
    let store = &built[0].state.store;
    let admins: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE username = 'admin'")
        .fetch_one(store.reader())
        .await
        .unwrap();
    assert_eq!(admins, 1);
    for app in built {
        app.state.store.close().await;
    }
    crate::helpers::drop_postgres(name);
}
