//! KPI benchmark (issue #4): the monthly ranking of streets/townships over a month of N
//! requests, against one plain full scan of the same orders in the same run.
//!
//!     cargo bench -p jiesu --bench kpi -- --requests 2000000 [--postgres URL] --out benches/kpi-report.md

mod common;

use common::{arg, arg_or};
use jiesu::clock::SystemClock;
use jiesu::config::Config;
use jiesu::services::kpi::{ranking_json, Level, Month};
use jiesu_text::seeded::Rng;
use std::sync::Arc;
use std::time::Instant;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let n: usize = arg_or("--requests", 100_000);
    let dir = tempfile::tempdir()?;
    let mut config = Config::from_env()?;
    config.data_dir = dir.path().to_path_buf();
    config.database_url = None;
    let backend = match arg("--postgres") {
        Some(admin) => {
            config.database_url = Some(common::create_postgres_database(&admin).await?);
            "PostgreSQL 15"
        }
        None => "SQLite (WAL)",
    };
    let state = jiesu::open_state(config.clone(), Arc::new(SystemClock)).await?;
    let pool = state.store.reader().clone();
    let streets: Vec<(String, String)> = sqlx::query_as("SELECT code, path FROM units WHERE level IN ('subdistrict', 'township', 'zone') ORDER BY code")
        .fetch_all(&pool)
        .await?;
    let month = Month::parse("2026-10")?;
    let start = config.local_midnight(month.first_day()).timestamp_millis();
    let span = config
        .local_midnight(month.next().first_day())
        .timestamp_millis()
        - start;
    let mut rng = Rng::new(0x2545f4914f6cdd1d);
    let t0 = Instant::now();
    let batch = 1000;
    for chunk_start in (0..n).step_by(batch) {
        let end = (chunk_start + batch).min(n);
        let mut tx = state.store.begin().await?;
        let mut req = String::from("INSERT INTO requests (id, number, jurisdiction, kind, channel, status, title, body, address, requester_name, requester_phone, confidential, round, callback_attempts, callback_done, created_by, created_at, updated_at, query_code) VALUES ");
        let mut asg = String::from("INSERT INTO assignments (id, request_id, jurisdiction, unit_code, unit_path, role, round, status, time_limit_class, dispatched_at, acknowledge_by, reply_by, reply_warn_at, acknowledged_at, replied_at, dispatched_by) VALUES ");
        let mut cbs = String::from("INSERT INTO callbacks (id, request_id, round, reached, resolved, satisfaction, note, outcome, agent_id, at) VALUES ");
        let mut any_cb = false;
        for i in chunk_start..end {
            let at = start + rng.below(span as usize) as i64;
            let (code, path) = &streets[rng.below(streets.len())];
            let sep = if i == chunk_start { "" } else { ", " };
            req += &format!("{sep}('r{i}', 'n{i}', '110000', 'complaint', 'phone', 'closed', 't', 'b', '', '', '13800000000', 0, 1, 0, 1, 'bench', {at}, {at}, 'BENCH234')");
            let ack = at + rng.below(240) as i64 * 60_000;
            asg += &format!("{sep}('a{i}', 'r{i}', '110000', '{code}', '{path}', 'lead', 1, 'replied', 'general', {at}, {}, {}, {}, {ack}, {ack}, 'bench')", at + 7_200_000, at + 604_800_000, at + 483_840_000);
            if rng.below(10) < 7 {
                let resolved = (rng.below(10) < 8) as i64;
                let sat = ["satisfied", "basic", "unsatisfied"][rng.below(3)];
                cbs += &format!(
                    "{}('c{i}', 'r{i}', 1, 1, {resolved}, '{sat}', NULL, 'closed', 'bench', {})",
                    if any_cb { ", " } else { "" },
                    (at + 86_400_000).min(start + span - 1)
                );
                any_cb = true;
            }
        }
        sqlx::query(&req).execute(tx.conn()).await?;
        sqlx::query(&asg).execute(tx.conn()).await?;
        if any_cb {
            sqlx::query(&cbs).execute(tx.conn()).await?;
        }
        tx.commit().await?;
    }
    let load_s = t0.elapsed().as_secs_f64();
    // The rows went in directly, so build the rollups the way `jiesu kpi rollups --rebuild`
    // does, and check them against a full recount.
    let t = Instant::now();
    let days = jiesu::services::kpi::rebuild_rollups(&state, &jiesu::progress::Silent)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(true)))?;
    let rebuild_s = t.elapsed().as_secs_f64();
    let differ = jiesu::services::kpi::check_rollups(&state, month)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(true)))?
        .len();
    assert_eq!(differ, 0, "rollups differ from a full recount");
    // Baseline: one plain scan of the month's orders, counting what the response rate needs.
    let mut base = Vec::new();
    let mut rank = Vec::new();
    let mut recount = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        for m in [month, month.previous()] {
            let counts = jiesu::services::kpi::month_tallies_recounted(&state, m)
                .await
                .map_err(|e| anyhow::anyhow!("{}", e.message(true)))?;
            std::hint::black_box(counts);
        }
        recount.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let _: (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), SUM(CASE WHEN acknowledged_at <= acknowledge_by THEN 1 ELSE 0 END) FROM assignments WHERE dispatched_at >= $1 AND dispatched_at < $2",
        )
        .bind(start)
        .bind(start + span)
        .fetch_one(&pool)
        .await?;
        base.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let json = ranking_json(&state, month, Level::Subdistrict)
            .await
            .map_err(|e| anyhow::anyhow!("{}", e.message(true)))?;
        rank.push(t.elapsed().as_secs_f64());
        std::hint::black_box(json);
    }
    let best = |v: &[f64]| v.iter().cloned().fold(f64::INFINITY, f64::min);
    let report = format!(
        "# KPI benchmark ({backend})\n\n{n} requests in 2026-10 over {} streets/townships (one lead order each, 70 % called back); \
         loaded in {load_s:.0} s by direct inserts; daily rollups then rebuilt from scratch in {rebuild_s:.1} s ({days} days), \
         and they agree with a full recount for every unit ({differ} differences).\n\n\
         | | best of 3, s |\n|---|---|\n\
         | monthly ranking, subdistrict level (three rates from the rollups, unit tree, classes, previous month) | {:.3} |\n\
         | baseline: one plain scan of the month's orders (COUNT + SUM) | {:.3} |\n\
         | the same counts recounted from orders and callbacks (this month and the previous, no rollups) | {:.3} |\n\
         | plain scan ÷ ranking (how many times faster the ranking is) | {:.1}× |\n| recount ÷ ranking | {:.0}× |\n",
        streets.len(), best(&rank), best(&base), best(&recount), best(&base) / best(&rank), best(&recount) / best(&rank),
    );
    common::write_report(arg("--out").as_deref().map(std::path::Path::new), &report)?;
    state.store.close().await;
    if let (Some(admin), Some(url)) = (arg("--postgres"), &config.database_url) {
        common::drop_postgres_database(&admin, url).await?;
    }
    Ok(())
}
