//! Reminders that chase units by SMS (催办, issue 19): an emergency order texts the unit's duty
//! phone and liaison through a real Kannel; the deadline sweep texts before breach, at breach
//! and escalates to the parent unit, each once; quiet hours and the hourly cap hold texts back.

use super::cast::{relogin, staff, Staff, CHAOYANG, WANGJING};
use super::sms::{through, SECRET};
use crate::helpers::{complaint, expect, Backend, TestApp};
use crate::kannel::{self, Kannel};
use chrono::{DateTime, Duration, Utc};
use jiesu::clock::Clock;
use serde_json::{json, Value};

const DUTY: &str = "13900000001";
const LIAISON: &str = "13900000002";
const MANAGER: &str = "13900000009";

async fn set_phones(app: &TestApp, code: &str, duty: &str, liaison: &str) {
    let mut u = jiesu::store::units::get(app.state.store.reader(), code)
        .await
        .unwrap()
        .unwrap();
    u.duty_phone = duty.into();
    u.liaison_phone = liaison.into();
    let mut tx = app.state.store.begin().await.unwrap();
    jiesu::store::units::save(&mut tx, &u).await.unwrap();
    tx.commit().await.unwrap();
}

/// A new complaint dispatched to 望京 under `class`: (id, number, its order's deadlines).
async fn order(
    app: &TestApp,
    s: &Staff,
    class: &str,
) -> (String, String, DateTime<Utc>, DateTime<Utc>) {
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区夜间施工噪音扰民。"),
        )
        .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "time_limit_class": class }),
        )
        .await,
        200,
    );
    let pool = app.state.store.reader();
    let a = jiesu::store::assignments::assignments_of(pool, &id)
        .await
        .unwrap()
        .remove(0);
    let number = jiesu::store::requests::get(pool, &id)
        .await
        .unwrap()
        .unwrap()
        .number;
    (id, number, a.reply_warn_at, a.reply_by)
}

/// The unit reminders written for a request, by kind.
async fn reminders(app: &TestApp, id: &str) -> Vec<(String, String)> {
    jiesu::store::outbox::for_request(app.state.store.reader(), id)
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.kind.starts_with("unit_"))
        .map(|m| (m.kind, m.recipient))
        .collect()
}

async fn reminder_events(app: &TestApp, id: &str) -> Vec<Value> {
    jiesu::store::events::for_request(app.state.store.reader(), id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sms.unit_reminder")
        .map(|e| e.payload)
        .collect()
}

/// Waits (up to 10 s) for a text to `to` that has both `a` and `b`.
async fn wait_text(k: &Kannel, to: &str, a: &str, b: &str) -> kannel::Mt {
    let start = std::time::Instant::now();
    loop {
        let got = k.received();
        if let Some(m) = got
            .iter()
            .find(|m| m.to == to && m.text.contains(a) && m.text.contains(b))
        {
            return m.clone();
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "no SMS to {to} with {a} and {b}: {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub async fn units_are_chased_by_sms_through_kannel_once_per_order_and_kind(b: Backend) {
    if !kannel::available() {
        return;
    }
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.sms_texts = true;
        c.sms_secret = Some(SECRET.to_string().into());
        c.sms_unit_quiet_hours = None;
    })
    .await
    else {
        return;
    };
    let k = Kannel::start(&app.base, SECRET);
    let state = through(&app, &k);
    let s = staff(&app).await;
    set_phones(&app, WANGJING, DUTY, LIAISON).await;
    set_phones(&app, CHAOYANG, MANAGER, "").await;

    // An emergency order texts the duty phone and the liaison at once.
    let (eid, enumber, _, _) = order(&app, &s, "emergency").await;
    jiesu::jobs::deliver_outbox(&state).await.unwrap();
    for phone in [DUTY, LIAISON] {
        let t = k.wait_for(phone, &enumber).await;
        assert!(t.text.contains("紧急"), "{t:?}");
        assert!(t.text.chars().count() <= 70, "{}", t.text);
        assert!(
            !t.text.contains("13812345678") && !t.text.contains("王女士"),
            "{t:?}"
        );
    }
    assert_eq!(reminder_events(&app, &eid).await[0]["label"], "催办短信");

    // A general order: before breach, at breach, then escalation to 朝阳区, once each.
    let (id, number, warn_at, reply_by) = order(&app, &s, "general").await;
    let sweep = |to: DateTime<Utc>| {
        let (app, state) = (&app, &state);
        async move {
            app.clock
                .advance(to - app.clock.now() + Duration::minutes(1));
            for _ in 0..2 {
                jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
            }
            jiesu::jobs::deliver_outbox(state).await.unwrap();
        }
    };
    assert!(reminders(&app, &id).await.is_empty());
    sweep(warn_at).await;
    let t = wait_text(&k, DUTY, &number, "将于").await;
    assert!(t.text.chars().count() <= 70, "{}", t.text);
    sweep(reply_by).await;
    let t = wait_text(&k, LIAISON, &number, "已于").await;
    assert!(t.text.chars().count() <= 70, "{}", t.text);
    sweep(reply_by + (reply_by - warn_at)).await;
    let t = k.wait_for(MANAGER, &number).await;
    assert!(t.text.contains("督办") && t.text.contains("望京"), "{t:?}");
    assert!(t.text.chars().count() <= 70, "{}", t.text);
    let mut got = reminders(&app, &id).await;
    got.sort();
    let want = [
        ("unit_before_breach", DUTY),
        ("unit_before_breach", LIAISON),
        ("unit_breach", DUTY),
        ("unit_breach", LIAISON),
        ("unit_escalation", MANAGER),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(k, p)| (k.to_string(), p.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(reminder_events(&app, &id).await.len(), 3);
    // Every text reached the fake SMSC once: nothing doubled by the second sweeps.
    let to_manager = k
        .received()
        .iter()
        .filter(|m| m.to == MANAGER && m.text.contains(&number))
        .count();
    assert_eq!(to_manager, 1);
    // The emergency order was escalated too; its new-order text went only once.
    assert_eq!(
        reminders(&app, &eid)
            .await
            .iter()
            .filter(|(k, _)| k == "unit_new_emergency")
            .count(),
        2
    );
}

/// Without the gateway: reminders written at night wait for 08:00 (emergencies do not), and no
/// more than the hourly cap of reminders go to one unit in an hour.
pub async fn unit_reminders_wait_for_the_morning_and_keep_to_the_hourly_cap(b: Backend) {
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.sms_texts = true;
        c.sms_unit_hourly_limit = 2;
    })
    .await
    else {
        return;
    };
    let s = staff(&app).await;
    set_phones(&app, WANGJING, DUTY, "").await;
    let mut ids = Vec::new();
    let mut warn = None;
    for _ in 0..3 {
        let (id, _, w, _) = order(&app, &s, "general").await;
        warn = Some(w);
        ids.push(id);
    }
    jiesu::jobs::deliver_outbox(&app.state).await.unwrap(); // the receipts
                                                            // The first 23:00 Beijing time at or after the warnings.
    let cfg = &app.state.config;
    let w = warn.unwrap().max(app.clock.now());
    let local = w.with_timezone(&cfg.offset()).date_naive();
    let mut night = cfg.local_midnight(local) + Duration::hours(23);
    if night < w {
        night += Duration::days(1);
    }
    app.clock.advance(night - app.clock.now());
    let report = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    let written = report.reply_warned + report.reply_overdue;
    assert!(written >= 3, "{report:?}");
    assert_eq!(
        jiesu::jobs::deliver_outbox(&app.state).await.unwrap(),
        (0, 0)
    );
    // 08:00: two go (the cap), the rest one hour later each two.
    let morning = cfg.local_midnight(local) + Duration::hours(32);
    let morning = if morning <= night {
        morning + Duration::days(1)
    } else {
        morning
    };
    app.clock.advance(morning - app.clock.now());
    assert_eq!(
        jiesu::jobs::deliver_outbox(&app.state).await.unwrap(),
        (2, 0)
    );
    let mut left = written - 2;
    while left > 0 {
        app.clock.advance(Duration::hours(1));
        let n = left.min(2);
        assert_eq!(
            jiesu::jobs::deliver_outbox(&app.state).await.unwrap(),
            (n, 0)
        );
        left -= n;
    }
    // An emergency order at night texts at once.
    let now = app.clock.now();
    app.clock.advance(night + Duration::days(1) - now);
    let s = relogin(&app).await; // the day's sessions ran out
    let (eid, _, _, _) = order(&app, &s, "emergency").await;
    let ev = reminder_events(&app, &eid).await;
    assert_eq!(ev.len(), 1, "{ev:?}");
    assert_eq!(
        ev[0]["due_at"]
            .as_str()
            .map(|d| d.parse::<DateTime<Utc>>().unwrap()),
        Some(app.clock.now())
    );
}
