//! `jiesu simulate` and `jiesu demo`: a city's month lived through the services, and the
//! platform started with that month already in it.

use anyhow::Context;
use chrono::{Datelike, Duration, NaiveDate};
use jiesu::clock::{Clock, ManualClock, SystemClock};
use jiesu::config::Config;
use jiesu::progress::Progress;
use jiesu::services::{auth, AppState};
use jiesu::sim::{self, Summary};
use jiesu_core::Role;
use std::sync::Arc;

/// Delivers the simulated requesters' messages nowhere (they are fictional), counting them in
/// the debug log only.
struct SimSender;

impl jiesu::store::outbox::Sender for SimSender {
    fn send<'a>(
        &'a self,
        msg: &'a jiesu::store::outbox::OutboxMessage,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            tracing::debug!(id = %msg.id, "simulated message dropped");
            Ok(())
        })
    }
}

/// The options of both commands.
#[derive(clap::Args, Debug, Clone)]
pub struct SimArgs {
    /// Days to simulate, 1–3660 (default 30; `demo`: from the first of last month to
    /// yesterday).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: Option<u32>,
    /// Requests per day, 1–200000 (weekdays; weekends bring three quarters).
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub per_day: u32,
    /// Seed: the same seed gives the same city.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// First day (local), e.g. 2026-10-01; default: so that the last simulated day is
    /// yesterday.
    #[arg(long)]
    pub start: Option<NaiveDate>,
}

fn default_start(config: &Config, days: u32) -> NaiveDate {
    today(config) - Duration::days(i64::from(days))
}

fn today(config: &Config) -> NaiveDate {
    (chrono::Utc::now() + config.offset()).date_naive()
}

/// Runs the simulation into the configured database, printing a line per simulated day.
pub async fn simulate(mut config: Config, args: SimArgs) -> anyhow::Result<Summary> {
    let days = args.days.unwrap_or(30);
    // Simulated data can be recreated from its seed, so SQLite commits need not survive
    // a power cut (an OS crash-safe WAL is kept).
    config.sqlite_synchronous = "NORMAL".into();
    let start = args.start.unwrap_or_else(|| default_start(&config, days));
    let clock = ManualClock::new(config.local_midnight(start) - Duration::hours(1));
    let mut state: AppState = jiesu::open_state(config, Arc::new(clock.clone())).await?;
    state.sender = Arc::new(SimSender);
    let opts = sim::Options {
        days,
        per_day: args.per_day,
        seed: args.seed,
        start,
    };
    let started = std::time::Instant::now();
    errln!(
        "simulating {} days from {start}, about {} requests a day, seed {}",
        days,
        args.per_day,
        args.seed
    );
    let bar = crate::cli_progress::Bar::new("simulated days");
    let mut report = |day: u32, s: &Summary| {
        let rate = s.requests as f64 / started.elapsed().as_secs_f64().max(1e-3);
        let note = format!(
            "· {} requests ({rate:.0}/s) · {} orders · {} callbacks · {} closed",
            s.requests, s.orders, s.callbacks, s.closed
        );
        bar.report(u64::from(day), u64::from(days), &note);
    };
    let summary = sim::run(&state, &clock, opts, &mut report)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(true)))?;
    bar.finish();
    errln!(
        "done in {:.1} s (simulated clock ends at {})",
        started.elapsed().as_secs_f64(),
        clock.now().with_timezone(&state.config.offset())
    );
    state.store.close().await;
    Ok(summary)
}

/// Prints the summary as a small table.
pub fn print_summary(s: &Summary) {
    let rows = [
        ("requests 诉求", s.requests),
        ("answered at intake 直接答复", s.answered_at_intake),
        ("merged repeats 并单", s.merged),
        ("enterprise 企业诉求", s.enterprise),
        ("orders 工单", s.orders),
        ("multi-dispatched 多派", s.multi_dispatched),
        ("returned 退单", s.returned),
        ("return rejected 退单驳回", s.return_rejected),
        ("acknowledged late 超时签收", s.acknowledged_late),
        ("extensions 延期申请", s.extensions),
        ("replies 反馈", s.replies),
        ("callbacks 回访", s.callbacks),
        ("reworks 二次办理", s.reworks),
        ("closed 办结", s.closed),
        ("appeals filed 考核申诉", s.appeals_filed),
        ("appeals granted 申诉成立", s.appeals_granted),
        ("appeals refused 申诉不成立", s.appeals_refused),
        ("passed down 下派", s.passed_down),
        ("sent back at sign-off 签批退回", s.sent_back),
        ("child orders returned 退回上级", s.sub_returned),
        ("child extensions asked 下派延期", s.sub_extensions),
        ("child orders replied late 下派超期", s.sub_late),
        ("whistles blown 吹哨", s.whistles),
        ("departments summoned 报到单位", s.summoned),
        ("reports late 迟到报到", s.reports_late),
        ("solved on the spot 小事不出社区", s.community),
        ("replies checked 办结审核", s.reply_reviews),
        ("checks sent back 审核退回", s.reviews_sent_back),
        ("refused actions", s.refused),
    ];
    for (k, v) in rows {
        outln!("{k:<32} {v:>9}");
    }
}

/// The demo users: (username, role, unit, what they do).
const DEMO_USERS: &[(&str, Role, Option<&str>, &str)] = &[
    ("demo.operator", Role::Operator, None, "话务员 operator"),
    (
        "demo.dispatcher",
        Role::Dispatcher,
        None,
        "派单员 dispatcher",
    ),
    (
        "demo.callback",
        Role::CallbackAgent,
        None,
        "回访员 callback agent",
    ),
    ("demo.supervisor", Role::Supervisor, None, "督办 supervisor"),
    (
        "demo.wangjing",
        Role::UnitManager,
        Some("110105026"),
        "望京街道 unit manager",
    ),
    (
        "demo.huajiadi",
        Role::UnitHandler,
        Some("110105026034"),
        "花家地西里社区 handler",
    ),
    (
        "demo.cgzf",
        Role::UnitHandler,
        Some("dept.cgzf"),
        "市城管执法局 handler",
    ),
];

/// On a database of another city (`jiesu init --city`), the demo users' Beijing street and
/// community stand for the city's first street with a community and that community (the
/// departments keep their codes, which every city has).
async fn demo_units(
    state: &AppState,
) -> anyhow::Result<std::collections::HashMap<&'static str, String>> {
    let pool = state.store.reader();
    let mut out = std::collections::HashMap::new();
    if jiesu::store::city::served(pool).await?.code == jiesu::store::city::BEIJING {
        return Ok(out);
    }
    let units = jiesu::store::reference::units(pool, None, None).await?;
    let street = units.iter().find(|s| {
        matches!(s.level.as_str(), "subdistrict" | "township")
            && units
                .iter()
                .any(|c| c.parent_code.as_deref() == Some(s.code.as_str()))
    });
    let street = street.or_else(|| {
        units
            .iter()
            .find(|s| matches!(s.level.as_str(), "subdistrict" | "township"))
    });
    if let Some(s) = street {
        out.insert("110105026", s.code.clone());
        if let Some(c) = units
            .iter()
            .find(|c| c.parent_code.as_deref() == Some(s.code.as_str()))
        {
            out.insert("110105026034", c.code.clone());
        }
    }
    Ok(out)
}

/// Starts the platform with a simulated month in it (simulated first when the data folder has
/// no requests yet) and demo users for every role.
pub async fn demo(
    mut config: Config,
    args: SimArgs,
    addr: Option<std::net::SocketAddr>,
    password: String,
) -> anyhow::Result<()> {
    if let Some(a) = addr {
        config.addr = a;
    }
    let existing = {
        let state = jiesu::open_state(config.clone(), Arc::new(SystemClock)).await?;
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests")
            .fetch_one(state.store.reader())
            .await?;
        state.store.close().await;
        n
    };
    if existing == 0 {
        // By default the demo lives last month and this month up to yesterday, so this
        // month's ranking has last month's to compare with (进步类).
        let mut args = args;
        if args.start.is_none() && args.days.is_none() {
            let today = today(&config);
            let first = today.with_day(1).expect("day 1");
            let start = first
                .checked_sub_months(chrono::Months::new(1))
                .expect("in range");
            args.start = Some(start);
            args.days = Some((today - start).num_days().max(1) as u32);
        }
        let summary = simulate(config.clone(), args).await?;
        print_summary(&summary);
    } else {
        outln!("{existing} requests already in the data folder: starting without simulating");
    }
    config.admin_password = Some(password.clone().into());
    let app = jiesu::App::build(config, Arc::new(SystemClock)).await?;
    let local = demo_units(&app.state).await?;
    for (name, role, unit, _) in DEMO_USERS {
        let unit = unit.map(|u| local.get(u).map_or(u, String::as_str));
        match auth::create_user(&app.state, name, *role, unit, &password).await {
            Ok(_) | Err(jiesu::error::AppError::Conflict(_)) => {}
            Err(e) => anyhow::bail!("cannot create {name}: {}", e.message(true)),
        }
    }
    let addr = app.local_addr()?;
    outln!("\nJiesu demo: http://{addr}  (API http://{addr}/api/v1)");
    outln!("Users (password {password}):");
    outln!("  {:<18} 系统管理员 admin", "admin");
    for (name, _, unit, what) in DEMO_USERS {
        match unit.and_then(|u| local.get(u)) {
            Some(code) => outln!("  {name:<18} {what} → {code}"),
            None => outln!("  {name:<18} {what}"),
        }
    }
    app.run(crate::shutdown_signal())
        .await
        .context("the demo server stopped")
}
