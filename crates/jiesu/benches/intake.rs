//! Intake benchmark (issue #5): requests/s and latency of intake over HTTP with suggestions
//! (`POST /requests/suggest`, then `POST /requests` with its `suggestion_id`), at a given
//! concurrency, against the `jiesu serve` binary; beside the raw insert limit of the same
//! database with the same durability settings, measured in the same run: one-row
//! transactions of a request-sized row (SQLite: its single writer; PostgreSQL: the same
//! concurrency). Also the server's peak memory (VmHWM) at the end.
//!
//!     cargo bench -p jiesu --bench intake -- --requests 20000 --concurrency 32 \
//!         [--postgres postgres://postgres@127.0.0.1:5432/test] [--out FILE] [--server BIN]
//!
//! `--server` runs another build of `jiesu` (for example one saved before a change), so two
//! builds can be compared in the same sitting: a shared machine's speed drifts from one
//! quarter of an hour to the next.

mod common;

use common::{arg, arg_or, cpu_secs, machine, peak_rss_mib, percentile_ms as pct, phrase, Server};
use jiesu::sim::templates::{PROBLEMS, QUESTIONS};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The command line.
struct Args {
    requests: usize,
    concurrency: usize,
    postgres: Option<String>,
    out: Option<String>,
    /// Another build of `jiesu` to run as the server, to compare two builds in one sitting.
    server: Option<String>,
}

fn args() -> Args {
    Args {
        requests: arg_or("--requests", 20_000),
        concurrency: arg_or("--concurrency", 32),
        postgres: arg("--postgres"),
        out: arg("--out"),
        server: arg("--server"),
    }
}

/// Seconds the server is left to finish background work before its CPU time is read.
const SETTLE_SECS: u64 = 6;

/// CPU time of every PostgreSQL server process on the machine, in seconds.
fn postgres_cpu_secs() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "postgres")
        })
        .map(cpu_secs)
        .sum()
}

/// The raw insert limit: one-row transactions of a request-sized row for `secs` seconds.
async fn raw_inserts(
    url: &str,
    sqlite: bool,
    concurrency: usize,
    secs: f64,
) -> anyhow::Result<f64> {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(if sqlite { 1 } else { concurrency as u32 })
        .after_connect(move |c, _| {
            Box::pin(async move {
                if sqlite {
                    c.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;")
                        .await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await?;
    pool.execute("DROP TABLE IF EXISTS bench_raw").await?;
    pool.execute(
        "CREATE TABLE bench_raw (id TEXT PRIMARY KEY, number TEXT NOT NULL, body TEXT NOT NULL, phone TEXT NOT NULL, created_at BIGINT NOT NULL)",
    )
    .await?;
    let body =
        "望京西园三区旁边的工地夜里十二点还在施工，噪音特别大，孩子没法睡觉，希望有关部门管一管。"
            .repeat(2);
    let done = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..if sqlite { 1 } else { concurrency })
        .map(|w| {
            let (pool, done, body) = (pool.clone(), done.clone(), body.clone());
            tokio::spawn(async move {
                let mut i = 0usize;
                while start.elapsed().as_secs_f64() < secs {
                    let mut tx = pool.begin().await?;
                    sqlx::query("INSERT INTO bench_raw (id, number, body, phone, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(format!("{w}-{i}"))
                        .bind(format!("N{w}{i}"))
                        .bind(&body)
                        .bind("13800000000")
                        .bind(i as i64)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 1;
                }
                Ok::<_, sqlx::Error>(())
            })
        })
        .collect();
    for t in tasks {
        t.await??;
    }
    let rate = done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64();
    pool.execute("DROP TABLE bench_raw").await?;
    pool.close().await;
    Ok(rate)
}

fn texts() -> Vec<String> {
    let places = [
        "花家地西里",
        "望京西园三区",
        "右安门东街",
        "方庄芳城园",
        "回龙观龙泽苑",
        "天通苑北一区",
        "双井富力城",
        "五道口华清嘉园",
    ];
    let mut out = Vec::new();
    for (i, p) in PROBLEMS.iter().enumerate() {
        for (j, t) in p.texts.iter().enumerate() {
            out.push(phrase(t, places[(i + j) % places.len()], 3));
        }
    }
    for q in QUESTIONS {
        out.extend(q.texts.iter().map(|t| t.to_string()));
    }
    out
}

async fn intake(
    server: &Server,
    n: usize,
    concurrency: usize,
) -> anyhow::Result<(f64, Vec<Duration>, Vec<Duration>)> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let token = server.admin_token(&client).await?;
    let texts = Arc::new(texts());
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, token, texts, next, base) = (
                client.clone(),
                token.clone(),
                texts.clone(),
                next.clone(),
                server.base.clone(),
            );
            tokio::spawn(async move {
                let mut pairs = Vec::new();
                let mut creates = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let text = &texts[i % texts.len()];
                    let t0 = Instant::now();
                    let s: serde_json::Value = client
                        .post(format!("{base}/api/v1/requests/suggest"))
                        .bearer_auth(&token)
                        .json(&json!({ "text": text }))
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?;
                    let t1 = Instant::now();
                    let resp = client
                        .post(format!("{base}/api/v1/requests"))
                        .bearer_auth(&token)
                        .json(&json!({
                            "kind": "complaint", "text": text,
                            "requester": { "name": "王女士", "phone": format!("139{:08}", i) },
                            "suggestion_id": s["suggestion_id"],
                        }))
                        .send()
                        .await?;
                    anyhow::ensure!(
                        resp.status().as_u16() == 201,
                        "intake answered {}",
                        resp.status()
                    );
                    let t2 = Instant::now();
                    pairs.push(t2 - t0);
                    creates.push(t2 - t1);
                }
                Ok::<_, anyhow::Error>((pairs, creates))
            })
        })
        .collect();
    let mut pairs = Vec::new();
    let mut creates = Vec::new();
    for t in tasks {
        let (p, c) = t.await??;
        pairs.extend(p);
        creates.extend(c);
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    Ok((rate, pairs, creates))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let dir = tempfile::tempdir()?;
    let (db_url, name, raw_url, sqlite) = match &a.postgres {
        Some(admin) => {
            use sqlx::Connection;
            let url = common::create_postgres_database(admin).await?;
            let mut c = sqlx::PgConnection::connect(admin).await?;
            let version: String = sqlx::query_scalar("SHOW server_version")
                .fetch_one(&mut c)
                .await?;
            (
                Some(url.clone()),
                format!("PostgreSQL {version}"),
                url,
                false,
            )
        }
        None => {
            let raw = format!("sqlite://{}?mode=rwc", dir.path().join("raw.db").display());
            (
                None,
                format!(
                    "SQLite {} (WAL, synchronous=FULL)",
                    sqlx_sqlite_version().await?
                ),
                raw,
                true,
            )
        }
    };
    eprintln!("raw insert limit …");
    let raw = raw_inserts(&raw_url, sqlite, a.concurrency, 5.0).await?;
    eprintln!("{raw:.0} rows/s; starting the server …");
    let server = Server::start(
        dir.path(),
        db_url.as_deref(),
        a.server.as_deref(),
        Duration::from_secs(60),
    )
    .await?;
    let _ = intake(&server, 300.min(a.requests), a.concurrency).await?; // warm-up
    eprintln!(
        "intake of {} requests at concurrency {} …",
        a.requests, a.concurrency
    );
    let (server_cpu0, client_cpu0) = (cpu_secs(server.child.id()), cpu_secs(std::process::id()));
    let pg_cpu0 = postgres_cpu_secs();
    let (rate, pairs, creates) = intake(&server, a.requests, a.concurrency).await?;
    // Work the intakes left behind (search index catch-up, merges) counts too: let it finish.
    tokio::time::sleep(Duration::from_secs(SETTLE_SECS)).await;
    let server_cpu = (cpu_secs(server.child.id()) - server_cpu0) * 1000.0 / a.requests as f64;
    let client_cpu = (cpu_secs(std::process::id()) - client_cpu0) * 1000.0 / a.requests as f64;
    // PostgreSQL's own processes (ended backends are not counted: the pool keeps them).
    let db_cpu = if sqlite {
        0.0
    } else {
        (postgres_cpu_secs() - pg_cpu0) * 1000.0 / a.requests as f64
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let rss = peak_rss_mib(server.child.id());
    drop(server);
    let report = format!(
        "# Intake benchmark ({name})\n\nMachine: {}. Client and server on the same machine (the client is this benchmark, the server `jiesu serve` in release).\n\n\
         Each intake is two calls, as at an operator's desk: `POST /api/v1/requests/suggest` (classifier, place, units, duplicates, knowledge base; the suggestion is stored) and `POST /api/v1/requests` with its `suggestion_id` (stored with its event before the 201).\n\n\
         | | value |\n|---|---|\n\
         | intakes over HTTP, concurrency {} | {rate:.0} /s |\n\
         | latency of an intake (suggest + create), p50 / p99 | {:.1} / {:.1} ms |\n\
         | latency of the create call alone, p50 / p99 | {:.1} / {:.1} ms |\n\
         | baseline: raw one-row insert transactions, same database and durability ({}) | {raw:.0} /s |\n\
         | ratio intake / raw insert | {:.2} |\n\
         | CPU time per intake: server (with the background work it caused, read {SETTLE_SECS} s after the last intake) / PostgreSQL processes / client (this benchmark) | {server_cpu:.2} / {db_cpu:.2} / {client_cpu:.2} ms |\n\
         | the rate that CPU time allows on {cores} cores, with nothing else running | {:.0} /s |\n\
         | server peak memory (VmHWM) after {} intakes | {rss:.0} MiB |\n",
        machine(),
        a.concurrency,
        pct(&pairs, 0.5),
        pct(&pairs, 0.99),
        pct(&creates, 0.5),
        pct(&creates, 0.99),
        if sqlite { "one writer" } else { "same concurrency" },
        rate / raw,
        cores * 1000.0 / (server_cpu + db_cpu + client_cpu),
        a.requests + 300.min(a.requests),
    );
    common::write_report(a.out.as_deref().map(std::path::Path::new), &report)?;
    if let (Some(admin), Some(url)) = (&a.postgres, db_url) {
        common::drop_postgres_database(admin, &url).await?;
    }
    Ok(())
}

async fn sqlx_sqlite_version() -> anyhow::Result<String> {
    use sqlx::Connection;
    let mut c = sqlx::SqliteConnection::connect("sqlite::memory:").await?;
    Ok(sqlx::query_scalar("SELECT sqlite_version()")
        .fetch_one(&mut c)
        .await?)
}
