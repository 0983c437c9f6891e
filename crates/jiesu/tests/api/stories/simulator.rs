//! The simulator: days of a city's hotline lived through the real services, deterministically.

use crate::helpers::{expect, Backend, TestApp};
use jiesu_core::Role;
use serde_json::Value;

async fn simulated(b: Backend, seed: u64) -> Option<(TestApp, jiesu::sim::Summary)> {
    simulated_for(b, seed, 4, 60).await
}

async fn simulated_for(
    b: Backend,
    seed: u64,
    days: u32,
    per_day: u32,
) -> Option<(TestApp, jiesu::sim::Summary)> {
    let app = TestApp::spawn(b).await?;
    let opts = jiesu::sim::Options {
        days,
        per_day,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
    };
    let opts_days = opts.days;
    let mut days = Vec::new();
    let summary = jiesu::sim::run(&app.state, &app.clock, opts, &mut |d, _| days.push(d))
        .await
        .unwrap();
    assert_eq!(
        days,
        (1..=opts_days).collect::<Vec<_>>(),
        "a report per simulated day"
    );
    Some((app, summary))
}

/// A few simulated days go through the real services: every request is stored with its
/// events, the mix looks like a hotline's, the chain verifies, the rollups agree with a full
/// recount, and the same seed gives the same city.
pub async fn the_simulator_lives_days_through_the_services_deterministically(b: Backend) {
    use jiesu::services::kpi::{check_rollups, Month};
    let Some((app, s)) = simulated(b, 7).await else {
        return;
    };
    // Weekdays 60 ± 10 %, weekends three quarters (3–6 Nov 2026 are Tue–Fri).
    assert!((4 * 54..=4 * 66).contains(&s.requests), "{s:?}");
    // Requests taken in by the hotline; whistle tasks and requests solved on the spot are
    // counted apart.
    let stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests WHERE created_by <> '' AND channel NOT IN ('community', 'proactive')",
    )
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(stored as u64, s.requests);
    let consult: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE kind = 'consultation'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    let share = consult as f64 / s.requests as f64;
    assert!((0.45..0.7).contains(&share), "consultations {share}");
    let answered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE status = 'answered'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(answered as u64, s.answered_at_intake);
    assert!(s.answered_at_intake as f64 > 0.7 * consult as f64, "{s:?}");
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assignments")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(orders as u64, s.orders);
    assert!(s.callbacks > 0 && s.closed > 0 && s.replies > 0, "{s:?}");
    assert!(s.refused * 50 <= s.requests, "few refused actions: {s:?}");
    // Every stored request has its creation event.
    let missing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'request.created')",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(missing, 0);
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        check_rollups(&app.state, Month::parse("2026-11").unwrap())
            .await
            .unwrap(),
        []
    );
    let ranking = jiesu::services::kpi::ranking_json(
        &app.state,
        Month::parse("2026-11").unwrap(),
        jiesu::services::kpi::Level::Subdistrict,
    )
    .await
    .unwrap();
    let ranking: Value = serde_json::from_str(&ranking).unwrap();
    let ranked = ranking["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| !u["rank"].is_null())
        .count();
    assert!(ranked >= 20, "{ranked} streets ranked");

    // The same seed lives the same city; another seed another.
    if let Some((_, again)) = simulated(b, 7).await {
        assert_eq!(again, s);
    }
    if let Some((_, other)) = simulated(b, 8).await {
        assert_ne!(other.by_category, s.by_category);
    }
}

/// A simulated month: units appeal a few of the orders that went badly for them (考核申诉)
/// and the center grants some and refuses others with a reason, as stored.
pub async fn a_simulated_month_has_appeals_filed_and_decided(b: Backend) {
    let Some((app, s)) = simulated_for(b, 11, 30, 40).await else {
        return;
    };
    // Units appeal some of the orders that went badly, and the center decides them.
    assert!(s.appeals_filed > 0, "some appeals filed: {s:?}");
    assert!(
        s.appeals_granted + s.appeals_refused > 0,
        "some appeals decided: {s:?}"
    );
    assert!(s.appeals_filed < s.orders / 5, "appeals are rare: {s:?}");
    let appeals: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT status, decision_reason FROM appeals")
            .fetch_all(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(appeals.len() as u64, s.appeals_filed);
    let count = |st: &str| appeals.iter().filter(|(s, _)| s == st).count() as u64;
    assert_eq!(count("granted"), s.appeals_granted);
    assert_eq!(count("refused"), s.appeals_refused);
    assert!(appeals
        .iter()
        .filter(|(s, _)| s == "refused")
        .all(|(_, r)| r.as_deref().is_some_and(|r| !r.trim().is_empty())));
    // Each step left its event.
    for (action, n) in [
        ("appeal.filed", s.appeals_filed),
        ("appeal.granted", s.appeals_granted),
        ("appeal.refused", s.appeals_refused),
    ] {
        let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = $1")
            .bind(action)
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
        assert_eq!(events as u64, n, "{action}");
    }
    // Streets pass some orders down to a community and sign the replies off (下派, 签批).
    assert!(s.passed_down > 0, "some orders passed down: {s:?}");
    assert!(
        s.passed_down < s.orders / 3,
        "most orders are answered by the unit itself: {s:?}"
    );
    let count = |sql: &'static str| {
        let app = &app;
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(app.state.store.reader())
                .await
                .unwrap() as u64
        }
    };
    // Every chain passed down is signed off unless the month ended while it was under way.
    assert!(
        s.sub_approved <= s.passed_down && s.sub_approved * 10 >= s.passed_down * 6,
        "{s:?}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM sub_orders WHERE status = 'approved'").await,
        s.sub_approved
    );
    // A community returns a few (退回上级); each is passed to another community.
    assert!(s.sub_returned > 0, "some child orders returned: {s:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM sub_orders").await,
        s.passed_down + s.sub_returned
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM sub_orders WHERE status = 'returned'").await,
        s.sub_returned
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM signoffs WHERE status = 'sent_back'").await,
        s.sent_back
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE action = 'sub_order.approved'").await,
        s.sub_approved
    );
    // Some ask for more time, and some reply late: the sweep marks those.
    assert!(s.sub_extensions > 0 && s.sub_late > 0, "{s:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM sub_extensions").await,
        s.sub_extensions
    );
    let late = count("SELECT COUNT(*) FROM sub_orders WHERE overdue_at IS NOT NULL").await;
    assert!(late > 0, "the sweep marked late child orders: {s:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM events WHERE action = 'sub_order.overdue'").await,
        late
    );
    // 吹哨报到: streets summon departments for a few per cent of the problems; most report in
    // time, some late, and the sweep marks those not reported by the limit.
    assert!(s.whistles > 0 && s.whistles * 20 < s.requests, "{s:?}");
    assert!(s.summoned >= 2 * s.whistles, "{s:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM whistle_reports").await,
        s.summoned
    );
    assert!(
        s.reports_late > 0 && s.reports_late * 2 < s.summoned,
        "{s:?}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM whistle_reports WHERE reported_at > report_by").await,
        s.reports_late
    );
    assert!(
        count("SELECT COUNT(*) FROM whistle_reports WHERE late_marked_at IS NOT NULL").await > 0
    );
    // 小事不出社区: requests solved on the spot, called back like any other.
    assert!(s.community > 0 && s.community * 10 < s.requests, "{s:?}");
    assert_eq!(
        count("SELECT COUNT(*) FROM requests WHERE channel = 'community'").await,
        s.community
    );
    assert!(
        count("SELECT COUNT(*) FROM callbacks c JOIN requests r ON r.id = c.request_id WHERE r.channel = 'community'").await > 0
    );
    // 办结审核 on the two categories the center checks (about one in eight sent back for rework;
    // this month's dozen checks may have none).
    assert!(
        s.reply_reviews > 0 && s.reviews_sent_back * 4 <= s.reply_reviews,
        "{s:?}"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM reply_reviews WHERE status <> 'pending'").await,
        s.reply_reviews
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM reply_reviews WHERE status = 'sent_back'").await,
        s.reviews_sent_back
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM reply_reviews r JOIN requests q ON q.id = r.request_id \
               WHERE q.category_code NOT IN ('wsjs.spyp.sp', 'scjg.tzsb.dt')"
        )
        .await,
        0
    );
    // Problems without one place (issue #22 item 5): the talent-subsidy policy and the
    // developer 恒远云栖's project, asked about from all over the city, are each mostly one
    // hotspot, keyed by the policy or the company, holding only requests about it.
    let sup = app.user("sup_hot", Role::Supervisor, None).await;
    let hot = expect(
        app.get(
            "/api/v1/hotspots?from=2026-11-03&to=2026-12-02&top=100",
            Some(&sup),
        )
        .await,
        200,
    );
    let hot = hot.as_array().unwrap();
    for (key, word) in [("人才政策", "人才"), ("恒远云栖", "恒远云栖")] {
        let about: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, address FROM requests WHERE body LIKE $1 AND primary_id IS NULL",
        )
        .bind(format!("%{word}%"))
        .fetch_all(app.state.store.reader())
        .await
        .unwrap();
        let places: std::collections::HashSet<&str> =
            about.iter().map(|(_, a)| a.as_str()).collect();
        assert!(about.len() >= 4 && places.len() >= 3, "{key}: {about:?}");
        let group = hot
            .iter()
            .filter(|p| p["description"].as_str().unwrap().starts_with(key))
            .max_by_key(|p| p["size"].as_u64().unwrap())
            .unwrap_or_else(|| panic!("no hotspot keyed {key}: {hot:?}"));
        let ids: Vec<&str> = group["request_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        let held = about
            .iter()
            .filter(|(id, _)| ids.contains(&id.as_str()))
            .count();
        assert!(
            held * 2 > about.len(),
            "{key}: one hotspot holds {held} of {}",
            about.len()
        );
        for id in &ids {
            let body: String = sqlx::query_scalar("SELECT body FROM requests WHERE id = $1")
                .bind(id)
                .fetch_one(app.state.store.reader())
                .await
                .unwrap();
            assert!(body.contains(word), "{key} holds {body}");
        }
    }
    // The whole month replays to the same tables (`jiesu audit verify`).
    let mismatches = jiesu::store::replay::compare(app.state.store.reader())
        .await
        .unwrap();
    assert!(
        mismatches.is_empty(),
        "{:?}",
        &mismatches[..mismatches.len().min(20)]
    );
    // Every stored request has its creation event.
    let missing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'request.created')",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(missing, 0);
}
