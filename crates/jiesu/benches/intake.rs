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
//! builds can be compared in the same sitting: this machine's speed drifts by ±10 % from one
//! quarter of an hour to the next.

use jiesu::sim::templates::{PROBLEMS, QUESTIONS};
use serde_json::json;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Args {
    requests: usize,
    concurrency: usize,
    postgres: Option<String>,
    out: Option<String>,
    /// Another build of `jiesu` to run as the server, to compare two builds in one sitting.
    server: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        requests: 20_000,
        concurrency: 32,
        postgres: None,
        out: None,
        server: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(k) = it.next() {
        match k.as_str() {
            "--requests" => {
                a.requests = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--requests N")
            }
            "--concurrency" => {
                a.concurrency = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--concurrency N")
            }
            "--postgres" => a.postgres = it.next(),
            "--out" => a.out = it.next(),
            "--server" => a.server = it.next(),
            _ => {}
        }
    }
    a
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_default();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let rustc = Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let load = std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default();
    format!(
        "{} cores ({cpu}), {mem:.0} GiB RAM, load average {load} at the start; {rustc}; jiesu {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        env!("CARGO_PKG_VERSION")
    )
}

fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Seconds the server is left to finish background work before its CPU time is read.
const SETTLE_SECS: u64 = 6;

/// CPU time (user + system) a process has used so far, in seconds.
fn cpu_secs(pid: u32) -> f64 {
    let tick = 100.0; // USER_HZ on Linux
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = s.rsplit_once(')')?.1;
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some((f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?) / tick)
        })
        .unwrap_or(0.0)
}

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

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_server(
    dir: &std::path::Path,
    db: Option<&str>,
    server_bin: Option<&str>,
) -> anyhow::Result<Server> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let bin = server_bin.unwrap_or(env!("CARGO_BIN_EXE_jiesu"));
    let mut cmd = Command::new(bin);
    cmd.arg("serve")
        .env("JIESU_DATA_DIR", dir)
        .env("JIESU_ADDR", format!("127.0.0.1:{port}"))
        .env("JIESU_ADMIN_PASSWORD", "bench-password")
        .env("JIESU_LOG", "warn")
        .stdout(Stdio::null());
    match db {
        Some(url) => cmd.env("JIESU_DATABASE_URL", url),
        None => cmd.env_remove("JIESU_DATABASE_URL"),
    };
    let child = cmd.spawn()?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..600 {
        if client
            .get(format!("{}/healthz", server.base))
            .send()
            .await
            .is_ok()
        {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server did not start")
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
            out.push(
                t.replace("{p}", places[(i + j) % places.len()])
                    .replace("{b}", "3")
                    .replace("{h}", "十二"),
            );
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
    let token: String = client
        .post(format!("{}/api/v1/auth/token", server.base))
        .json(&json!({ "username": "admin", "password": "bench-password" }))
        .send()
        .await?
        .json::<serde_json::Value>()
        .await?["token"]
        .as_str()
        .expect("token")
        .to_string();
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
            let db = format!("jiesu_bench_{}", std::process::id());
            let mut c = sqlx::PgConnection::connect(admin).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
                .execute(&mut c)
                .await?;
            sqlx::query(&format!("CREATE DATABASE {db}"))
                .execute(&mut c)
                .await?;
            let url = format!("{}/{db}", admin.rsplit_once('/').expect("url").0);
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
    let server = start_server(dir.path(), db_url.as_deref(), a.server.as_deref()).await?;
    let _ = intake(&server, 300.min(a.requests), a.concurrency).await?; // warm-up
    eprintln!(
        "intake of {} requests at concurrency {} …",
        a.requests, a.concurrency
    );
    let (server_cpu0, client_cpu0) = (cpu_secs(server.child.id()), cpu_secs(std::process::id()));
    let pg_cpu0 = postgres_cpu_secs();
    let (rate, mut pairs, mut creates) = intake(&server, a.requests, a.concurrency).await?;
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
        pct(&mut pairs, 0.5),
        pct(&mut pairs, 0.99),
        pct(&mut creates, 0.5),
        pct(&mut creates, 0.99),
        if sqlite { "one writer" } else { "same concurrency" },
        rate / raw,
        cores * 1000.0 / (server_cpu + db_cpu + client_cpu),
        a.requests + 300.min(a.requests),
    );
    print!("{report}");
    if let Some(out) = a.out {
        std::fs::write(out, &report)?;
    }
    if let (Some(admin), Some(url)) = (&a.postgres, db_url) {
        use sqlx::Connection;
        let db = url.rsplit('/').next().unwrap_or_default().to_string();
        let mut c = sqlx::PgConnection::connect(admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
            .execute(&mut c)
            .await?;
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
