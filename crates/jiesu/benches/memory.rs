//! Server memory benchmark (issue #5): the peak resident memory (VmHWM) of `jiesu serve` with
//! N requests stored on SQLite, after start-up and a short mixed load (intakes with
//! suggestions, lists, a ranking). Requests are spread over the last 12 months; those of the
//! last 30 days are 40 % still open, which is what the in-memory duplicate index holds. The
//! baseline is the same server on an empty database, measured in the same run.
//!
//!     cargo bench -p jiesu --bench memory -- --stored 1000000,5000000 [--out FILE]

mod common;

use common::{arg, phrase, status_mib, Server};
use jiesu::sim::templates::PROBLEMS;
use jiesu_text::seeded::Rng;
use serde_json::json;
use std::time::{Duration, Instant};

/// Loads `n` requests straight into the database (the server is not running).
async fn load(dir: &std::path::Path, n: usize) -> anyhow::Result<usize> {
    let mut config = jiesu::config::Config::from_env()?;
    config.data_dir = dir.to_path_buf();
    config.database_url = None;
    config.sqlite_synchronous = "NORMAL".into();
    let state = jiesu::open_state(config, std::sync::Arc::new(jiesu::clock::SystemClock)).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let year = 365 * 86_400_000i64;
    let month = 30 * 86_400_000i64;
    let places = [
        "花家地西里",
        "望京西园三区",
        "方庄芳城园",
        "回龙观龙泽苑",
        "天通苑北一区",
        "双井富力城",
        "华清嘉园",
        "芍药居北里",
    ];
    let texts: Vec<String> = PROBLEMS
        .iter()
        .flat_map(|p| p.texts.iter())
        .enumerate()
        .map(|(i, t)| phrase(t, places[i % places.len()], 5))
        .collect();
    let mut rng = Rng::new(0x2545_f491_4f6c_dd1d);
    let mut open = 0;
    for start in (0..n).step_by(2000) {
        let end = (start + 2000).min(n);
        let mut sql = String::from("INSERT INTO requests (id, number, jurisdiction, kind, channel, status, title, body, address, requester_name, requester_phone, confidential, round, callback_attempts, callback_done, created_by, created_at, updated_at, query_code) VALUES ");
        for i in start..end {
            // Spread over the year, a little denser towards now.
            let age = rng.f64().powf(1.3) * year as f64;
            let at = now - age as i64;
            let recent = now - at < month;
            let status = if recent && rng.below(10) < 4 {
                open += 1;
                "in_progress"
            } else {
                "closed"
            };
            let text = &texts[rng.below(texts.len())];
            let title: String = text.chars().take(20).collect();
            let sep = if i == start { "" } else { ", " };
            sql += &format!("{sep}('m{i}', 'N{i}', '110000', 'complaint', 'phone', '{status}', '{title}', '{text} 编号{i}', '', '王女士', '1380000{:04}', 0, 1, 0, 0, 'bench', {at}, {at}, 'BENCH234')", i % 10_000);
        }
        let mut tx = state.store.begin().await?;
        sqlx::query(&sql).execute(tx.conn()).await?;
        tx.commit().await?;
    }
    state.store.close().await;
    Ok(open)
}

async fn serve_and_measure(dir: &std::path::Path) -> anyhow::Result<(f64, f64, f64)> {
    let server = Server::start(dir, None, None, Duration::from_secs(1800)).await?;
    let base = server.base.clone();
    let client = reqwest::Client::new();
    let token = server.admin_token(&client).await?;
    for (i, p) in PROBLEMS.iter().cycle().take(300).enumerate() {
        let text = phrase(p.texts[0], "花家地西里", 3);
        let s: serde_json::Value = client
            .post(format!("{base}/api/v1/requests/suggest"))
            .bearer_auth(&token)
            .json(&json!({ "text": text }))
            .send()
            .await?
            .json()
            .await?;
        client
            .post(format!("{base}/api/v1/requests"))
            .bearer_auth(&token)
            .json(&json!({ "kind": "complaint", "text": text, "requester": { "phone": format!("139{i:08}") }, "suggestion_id": s["suggestion_id"] }))
            .send()
            .await?
            .error_for_status()?;
        if i % 50 == 0 {
            for path in [
                "/api/v1/requests?per_page=50",
                "/api/v1/supervision/overdue",
                "/api/v1/search?q=%E5%99%AA%E9%9F%B3",
            ] {
                client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await?;
            }
        }
    }
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    client
        .get(format!(
            "{base}/api/v1/kpi/ranking?month={month}&level=subdistrict"
        ))
        .bearer_auth(&token)
        .send()
        .await?;
    let pid = server.child.id();
    Ok((
        status_mib(pid, "VmHWM:"),
        status_mib(pid, "VmRSS:"),
        server.startup_secs,
    ))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let sizes: Vec<usize> = arg("--stored")
        .unwrap_or_else(|| "100000".into())
        .split(',')
        .map(|s| s.parse().expect("--stored N[,N…]"))
        .collect();
    let mut rows = Vec::new();
    for &n in std::iter::once(&0).chain(&sizes) {
        let dir = tempfile::tempdir()?;
        let t = Instant::now();
        let open = if n > 0 { load(dir.path(), n).await? } else { 0 };
        eprintln!(
            "{n} stored ({open} open recently) in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let (peak, rss, startup) = serve_and_measure(dir.path()).await?;
        eprintln!("peak {peak:.0} MiB");
        rows.push((n, open, peak, rss, startup));
    }
    let base = rows[0].2;
    let mut report = String::from(
        "# Server memory benchmark (SQLite)\n\nPeak resident memory (VmHWM) of `jiesu serve` after start-up and 300 intakes with suggestions, lists, a search and a ranking. \
         Stored requests spread over 12 months; 40 % of the last 30 days' still open (the duplicate index holds those). The search index is empty here \
         (its files are memory-mapped and paged by the OS; see text-report.md for search at 1 M).\n\n\
         | stored requests | open, last 30 days | start-up, s | peak memory, MiB | resident at end, MiB | ratio to the empty baseline |\n|---|---|---|---|---|---|\n",
    );
    for (n, open, peak, rss, startup) in &rows {
        report += &format!(
            "| {} | {open} | {startup:.1} | {peak:.0} | {rss:.0} | {:.2}× |\n",
            if *n == 0 {
                "0 (baseline)".to_string()
            } else {
                n.to_string()
            },
            peak / base
        );
    }
    common::write_report(arg("--out").as_deref().map(std::path::Path::new), &report)?;
    Ok(())
}
