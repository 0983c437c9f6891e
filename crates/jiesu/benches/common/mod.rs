//! What the benchmark binaries share: command-line flags, the machine line of a report,
//! percentiles, /proc readings (memory, CPU time, time spent waiting for a CPU), a `jiesu
//! serve` child with its admin token, a scratch PostgreSQL database, template texts and
//! writing the report. Each bench includes it with `mod common;` and uses part of it.
#![allow(dead_code)] // each bench binary compiles this module and uses only part of it

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// The value after `--name` on the command line, if any (cargo's own `--bench` is skipped
/// like any flag not asked for).
pub fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The parsed value after `--name`, or `default` when the flag is absent; exits with a
/// message when the value does not parse.
pub fn arg_or<T: FromStr>(name: &str, default: T) -> T {
    match arg(name) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("{name}: `{v}` is not a valid value");
            std::process::exit(2)
        }),
    }
}

/// The `p` quantile (0 to 1, nearest rank) of `v` in milliseconds.
pub fn percentile_ms(v: &[Duration], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i].as_secs_f64() * 1000.0
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg gives them.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// One line for a report: cores, CPU model, memory, load average now, rustc, jiesu version.
pub fn machine() -> String {
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
    format!(
        "{} cores ({cpu}), {mem:.0} GiB RAM, load average {} at the start; {rustc}; jiesu {}",
        cores(),
        load_average(),
        env!("CARGO_PKG_VERSION")
    )
}

/// A line of /proc/PID/status in MiB (`key` as `"VmHWM:"`, peak resident memory), 0 when
/// unreadable.
pub fn status_mib(pid: u32, key: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Peak resident memory (VmHWM) of a process, MiB.
pub fn peak_rss_mib(pid: u32) -> f64 {
    status_mib(pid, "VmHWM:")
}

/// CPU time (user + system) a process has used so far, in seconds.
pub fn cpu_secs(pid: u32) -> f64 {
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

/// Nanoseconds this thread has spent runnable but waiting for a CPU (Linux schedstat).
pub fn waited_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

/// A `jiesu serve` child on a free local port with the admin password `bench-password`;
/// killed when dropped.
pub struct Server {
    /// The child process.
    pub child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Seconds from spawning to the first answer of `/healthz`.
    pub startup_secs: f64,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts `bin` (this build's `jiesu` when `None`) on `data_dir` with the database
    /// `db` (SQLite in `data_dir` when `None`) and waits up to `wait` for `/healthz`.
    pub async fn start(
        data_dir: &Path,
        db: Option<&str>,
        bin: Option<&str>,
        wait: Duration,
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let started = Instant::now();
        let mut cmd = Command::new(bin.unwrap_or(env!("CARGO_BIN_EXE_jiesu")));
        cmd.arg("serve")
            .env("JIESU_DATA_DIR", data_dir)
            .env("JIESU_ADDR", format!("127.0.0.1:{port}"))
            .env("JIESU_ADMIN_PASSWORD", "bench-password")
            .env("JIESU_LOG", "warn")
            // One load generator on one address: the per-address limits would measure
            // themselves, not the server.
            .env("JIESU_RATE_SUGGEST", "off")
            .env("JIESU_RATE_LOGIN", "off")
            .stdout(Stdio::null());
        match db {
            Some(url) => cmd.env("JIESU_DATABASE_URL", url),
            None => cmd.env_remove("JIESU_DATABASE_URL"),
        };
        let mut server = Server {
            child: cmd.spawn()?,
            base: format!("http://127.0.0.1:{port}"),
            startup_secs: 0.0,
        };
        let client = reqwest::Client::new();
        while started.elapsed() < wait {
            if client
                .get(format!("{}/healthz", server.base))
                .send()
                .await
                .is_ok()
            {
                server.startup_secs = started.elapsed().as_secs_f64();
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("the server did not start within {wait:?}")
    }

    /// A bearer token for `admin`.
    pub async fn admin_token(&self, client: &reqwest::Client) -> anyhow::Result<String> {
        let reply: serde_json::Value = client
            .post(format!("{}/api/v1/auth/token", self.base))
            .json(&serde_json::json!({ "username": "admin", "password": "bench-password" }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        reply["token"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| anyhow::anyhow!("no token in {reply}"))
    }
}

/// A fresh database `jiesu_bench_PID` on the PostgreSQL server of `admin_url` (a URL to an
/// existing database there); returns its URL.
pub async fn create_postgres_database(admin_url: &str) -> anyhow::Result<String> {
    use sqlx::Connection;
    let db = format!("jiesu_bench_{}", std::process::id());
    let mut c = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db}"))
        .execute(&mut c)
        .await?;
    sqlx::query(&format!("CREATE DATABASE {db}"))
        .execute(&mut c)
        .await?;
    Ok(format!(
        "{}/{db}",
        admin_url.rsplit_once('/').expect("url").0
    ))
}

/// Drops the database of `url` (made by [`create_postgres_database`]), closing its sessions.
pub async fn drop_postgres_database(admin_url: &str, url: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let db = url.rsplit('/').next().unwrap_or_default();
    let mut c = sqlx::PgConnection::connect(admin_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
        .execute(&mut c)
        .await?;
    Ok(())
}

/// A simulator phrasing with its placeholders filled: the place `{p}`, building `{b}` and
/// the hour 十二 for `{h}`.
pub fn phrase(template: &str, place: &str, building: u32) -> String {
    template
        .replace("{p}", place)
        .replace("{b}", &building.to_string())
        .replace("{h}", "十二")
}

/// Prints `report` and, when `out` is given, writes it there.
pub fn write_report(out: Option<&Path>, report: &str) -> anyhow::Result<()> {
    print!("{report}");
    if let Some(out) = out {
        std::fs::write(out, report)?;
    }
    Ok(())
}
