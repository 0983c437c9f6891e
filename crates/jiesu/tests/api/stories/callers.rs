//! The caller's history at the intake desk (issue 23): a second call from the same number is
//! recorded as a reminder (催办) on the open request instead of a new request, counted as such;
//! a supervisor marks a number as abusive (恶意来电) until an expiry, the desk shows it while it
//! is in force, it blocks nothing, and every mark and unmark is an event.

use super::cast::{actions, staff, WANGJING};
use crate::helpers::{app, complaint, expect, start_time, Backend, TestApp};
use jiesu_core::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PHONE: &str = "13812345678";
const NOISE: &str = "望京西园三区工地夜间施工噪音扰民，凌晨两点还在施工。";

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

fn numbers(h: &Value) -> Vec<String> {
    h["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap().to_string())
        .collect()
}

async fn remind(app: &TestApp, id: &str, token: &str, body: Value) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/requests/{id}/reminders"),
        Some(token),
        body,
    )
    .await
}

pub async fn a_second_call_from_the_same_number_attaches_as_a_reminder_to_the_open_request(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let post = |body: Value| app.post("/api/v1/requests", Some(&s.operator), body);

    // Three earlier calls: a noise complaint sent to 望京, a consultation answered on the spot
    // (through the app), and someone else's complaint.
    let noise = expect(post(complaint(NOISE)).await, 201);
    let noise_id = noise["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{noise_id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    app.clock.advance(chrono::Duration::minutes(5));
    let ask = json!({ "kind": "consultation", "channel": "app", "text": "请问居住证在哪里办理？",
                      "requester": { "phone": "+86 138-1234-5678" } });
    let ask = expect(post(ask).await, 201);
    let ask_id = ask["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{ask_id}/answer"),
            Some(&s.operator),
            json!({ "answer": "到居住地派出所办理。" }),
        )
        .await,
        200,
    );
    let mut other = complaint("小区门口路灯不亮。");
    other["requester"]["phone"] = json!("13900001111");
    let other = expect(post(other).await, 201);

    // The desk asks with the number as the caller says it and what they say now: the open
    // noise complaint comes first, then the rest newest first; the other caller's is absent.
    let url = "/api/v1/callers/history?phone=138%201234%205678&text=%E5%B7%A5%E5%9C%B0%E5%A4%9C%E9%97%B4%E6%96%BD%E5%B7%A5%E5%99%AA%E9%9F%B3%E8%BF%98%E5%9C%A8%E7%BB%A7%E7%BB%AD";
    let (status, h) = app.get(url, Some(&s.operator)).await;
    assert_eq!(status, 200, "{h}");
    assert_eq!(h["phone"], "138****5678");
    assert!(!h.to_string().contains(PHONE), "the number leaks: {h}");
    assert_eq!(
        numbers(&h),
        [
            noise["number"].as_str().unwrap(),
            ask["number"].as_str().unwrap()
        ]
    );
    let first = &h["requests"][0];
    assert_eq!(first["same_problem"], true, "{h}");
    assert_eq!(first["open"], true);
    assert_eq!(first["unit_code"], WANGJING);
    assert_eq!(first["status"], "dispatched");
    assert_eq!(h["requests"][1]["open"], false);
    assert_eq!(h["requests"][1]["channel"], "app");
    assert_eq!(h["requests"][1]["same_problem"], false);
    assert!(!numbers(&h).contains(&other["number"].as_str().unwrap().to_string()));
    // Without the text nothing is "the same problem": newest first.
    let plain = expect(
        app.get(
            &format!("/api/v1/callers/history?phone={PHONE}"),
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(plain["requests"][0]["id"], ask_id.as_str());

    // A bad or missing number names `phone`; unit staff and callback agents are refused.
    for q in ["phone=12345", "phone=", ""] {
        let v = expect(
            app.get(&format!("/api/v1/callers/history?{q}"), Some(&s.operator))
                .await,
            422,
        );
        assert_eq!(field(&v), "phone");
    }
    for token in [&s.wangjing, &s.huajiadi, &s.agent] {
        expect(
            app.get(
                &format!("/api/v1/callers/history?phone={PHONE}"),
                Some(token),
            )
            .await,
            403,
        );
    }

    // The follow-up call is a reminder on the open request, twice: no new request.
    let note = json!({ "note": "来电催办：今晚又在施工", "channel": "phone" });
    let r = expect(
        remind(&app, &noise_id, &s.operator, note.clone()).await,
        201,
    );
    assert_eq!(r["reminders"], 1);
    let r = expect(remind(&app, &noise_id, &s.dispatcher, json!({})).await, 201);
    assert_eq!(r["reminders"], 2);
    let view = expect(
        app.get(&format!("/api/v1/requests/{noise_id}"), Some(&s.operator))
            .await,
        200,
    );
    let reminded = actions(&view)
        .iter()
        .filter(|a| *a == "request.reminded")
        .count();
    assert_eq!(reminded, 2, "{view}");
    // The request itself counts its reminders.
    assert_eq!(view["reminders"], 2, "{view}");
    // The unit handling it sees the reminders on its request's timeline.
    let unit_view = expect(
        app.get(&format!("/api/v1/requests/{noise_id}"), Some(&s.wangjing))
            .await,
        200,
    );
    assert!(actions(&unit_view).contains(&"request.reminded".to_string()));
    assert_eq!(unit_view["reminders"], 2);
    let h = expect(app.get(url, Some(&s.operator)).await, 200);
    assert_eq!(h["requests"][0]["reminders"], 2);
    assert_eq!(h["requests"].as_array().unwrap().len(), 2);
    let admin = app.login("admin", "adminpass1").await;
    let export = super::cast::export_of(&app, &admin, PHONE).await;
    let mine = export["requests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == noise_id.as_str())
        .unwrap();
    assert_eq!(
        mine["reminders"][0]["note"], "来电催办：今晚又在施工",
        "{mine}"
    );

    // A closed request takes no reminder (the call is a new request); bad input names its
    // field (an unknown channel is malformed, 400); a unit user may not record one; an unknown request is 404.
    expect(remind(&app, &ask_id, &s.operator, json!({})).await, 409);
    let long = json!({ "note": "催".repeat(1001) });
    let v = expect(remind(&app, &noise_id, &s.operator, long).await, 422);
    assert_eq!(field(&v), "note");
    let v = expect(
        remind(&app, &noise_id, &s.operator, json!({ "channel": "fax" })).await,
        400,
    );
    assert_eq!(field(&v), "channel");
    expect(remind(&app, &noise_id, &s.wangjing, json!({})).await, 403);
    expect(remind(&app, "nope", &s.operator, json!({})).await, 404);

    // The statistics count the repeat caller and the reminders apart from intake.
    let st = expect(
        app.get(
            "/api/v1/callers/stats?from=2026-11-01&to=2026-11-30",
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(st["intakes"], 3, "{st}");
    assert_eq!(st["repeat_callers"], 1);
    assert_eq!(st["repeat_requests"], 2);
    assert_eq!(st["reminders"], 2);
    let v = expect(
        app.get(
            "/api/v1/callers/stats?from=2026-11-30&to=2026-11-01",
            Some(&sup),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "to");
    let v = expect(
        app.get("/api/v1/callers/stats?from=11/01", Some(&sup))
            .await,
        422,
    );
    assert_eq!(field(&v), "from");
    expect(
        app.get("/api/v1/callers/stats", Some(&s.operator)).await,
        403,
    );
}

pub async fn an_abusive_caller_mark_shows_until_it_expires_and_blocks_nothing(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let in_two_days = (start_time() + chrono::Duration::days(2)).to_rfc3339();
    let body =
        json!({ "phone": "138 1234 5678", "reason": "多次辱骂话务员", "expires_at": in_two_days });

    // Only supervisors mark; bad values name their field.
    expect(
        app.post("/api/v1/callers/marks", Some(&s.operator), body.clone())
            .await,
        403,
    );
    for (bad, name) in [
        (
            json!({ "phone": "12", "reason": "x", "expires_at": in_two_days }),
            "phone",
        ),
        (
            json!({ "phone": PHONE, "reason": " ", "expires_at": in_two_days }),
            "reason",
        ),
        (
            json!({ "phone": PHONE, "reason": "x", "expires_at": "2026-11-01" }),
            "expires_at",
        ),
        (
            json!({ "phone": PHONE, "reason": "x", "expires_at": "2030-01-01" }),
            "expires_at",
        ),
        (
            json!({ "phone": PHONE, "reason": "x", "expires_at": "soon" }),
            "expires_at",
        ),
    ] {
        let v = expect(
            app.post("/api/v1/callers/marks", Some(&sup), bad).await,
            422,
        );
        assert_eq!(field(&v), name, "{v}");
    }

    let before = app.event_count().await;
    let m = expect(
        app.post("/api/v1/callers/marks", Some(&sup), body).await,
        201,
    );
    assert_eq!(app.event_count().await, before + 1, "the mark is an event");
    assert_eq!(m["phone"], "138****5678");
    let listed = expect(app.get("/api/v1/callers/marks", Some(&sup)).await, 200);
    assert_eq!(listed[0]["id"], m["id"]);
    assert!(!listed.to_string().contains(PHONE));

    // The desk shows the mark; the call is still recorded and listed.
    expect(
        app.post("/api/v1/requests", Some(&s.operator), complaint(NOISE))
            .await,
        201,
    );
    let h = expect(
        app.get(
            &format!("/api/v1/callers/history?phone={PHONE}"),
            Some(&s.operator),
        )
        .await,
        200,
    );
    assert_eq!(h["marks"][0]["reason"], "多次辱骂话务员", "{h}");
    assert_eq!(h["requests"].as_array().unwrap().len(), 1);
    assert!(!h.to_string().contains(PHONE));

    // After the expiry the desk no longer shows it.
    app.clock
        .advance(chrono::Duration::days(2) + chrono::Duration::seconds(1));
    let s = super::cast::relogin(&app).await;
    let sup = app.login("sup1", "password1").await;
    let h = expect(
        app.get(
            &format!("/api/v1/callers/history?phone={PHONE}"),
            Some(&s.operator),
        )
        .await,
        200,
    );
    assert_eq!(h["marks"], json!([]), "{h}");
    let id = m["id"].as_str().unwrap();
    expect(
        app.delete(&format!("/api/v1/callers/marks/{id}"), &sup)
            .await,
        404,
    );

    // A new mark is lifted before its expiry: an event too, and the desk stops showing it.
    let body = json!({ "phone": PHONE, "reason": "骚扰", "expires_at": "2026-12-31" });
    let m = expect(
        app.post("/api/v1/callers/marks", Some(&sup), body).await,
        201,
    );
    let id = m["id"].as_str().unwrap();
    let before = app.event_count().await;
    expect(
        app.delete(&format!("/api/v1/callers/marks/{id}"), &s.operator)
            .await,
        403,
    );
    expect(
        app.delete(&format!("/api/v1/callers/marks/{id}"), &sup)
            .await,
        200,
    );
    assert_eq!(
        app.event_count().await,
        before + 1,
        "the unmark is an event"
    );
    expect(
        app.delete(&format!("/api/v1/callers/marks/{id}"), &sup)
            .await,
        404,
    );
    let h = expect(
        app.get(
            &format!("/api/v1/callers/history?phone={PHONE}"),
            Some(&s.operator),
        )
        .await,
        200,
    );
    assert_eq!(h["marks"], json!([]));

    // The marks are held about the number: a personal-information export lists both.
    let admin = app.login("admin", "adminpass1").await;
    let export = super::cast::export_of(&app, &admin, PHONE).await;
    let marks = export["caller_marks"].as_array().unwrap();
    assert_eq!(marks.len(), 2, "{export}");
    assert!(marks[1]["revoked_at"].is_string());
}

/// The retention job removes the number from a mark once it is no longer in force (expired or
/// lifted), one `privacy.mark_redacted` event each; a mark in force keeps it.
pub async fn an_expired_abusive_caller_mark_loses_its_number_to_the_retention_job(b: Backend) {
    let app = app!(b);
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let mark = |phone: &str, days: i64| {
        json!({
            "phone": phone, "reason": "多次辱骂话务员",
            "expires_at": (start_time() + chrono::Duration::days(days)).to_rfc3339(),
        })
    };
    let short = expect(
        app.post("/api/v1/callers/marks", Some(&sup), mark(PHONE, 2))
            .await,
        201,
    );
    let long = expect(
        app.post("/api/v1/callers/marks", Some(&sup), mark("13987654321", 30))
            .await,
        201,
    );
    let lifted = expect(
        app.post("/api/v1/callers/marks", Some(&sup), mark("13700001111", 30))
            .await,
        201,
    );
    let phone_of = |id: &Value| {
        let sql = format!(
            "SELECT phone FROM caller_marks WHERE id = '{}'",
            id.as_str().unwrap()
        );
        let app = &app;
        async move { scalar(app, &sql).await }
    };
    let redactions = || {
        scalar(
            &app,
            "SELECT CAST(COUNT(*) AS TEXT) FROM events WHERE action = 'privacy.mark_redacted'",
        )
    };

    // In force: nothing to redact.
    jiesu::jobs::redact_personal_data(&app.state).await.unwrap();
    assert_eq!(phone_of(&short["id"]).await, PHONE);
    assert_eq!(redactions().await, "0");

    // One lifted, one expired: both lose the number, the mark in force keeps it.
    let id = lifted["id"].as_str().unwrap();
    expect(
        app.delete(&format!("/api/v1/callers/marks/{id}"), &sup)
            .await,
        200,
    );
    app.clock
        .advance(chrono::Duration::days(2) + chrono::Duration::seconds(1));
    jiesu::jobs::redact_personal_data(&app.state).await.unwrap();
    assert_eq!(phone_of(&short["id"]).await, "");
    assert_eq!(phone_of(&lifted["id"]).await, "");
    assert_eq!(phone_of(&long["id"]).await, "13987654321");
    assert_eq!(redactions().await, "2");
    let payload = scalar(
        &app,
        "SELECT payload FROM events WHERE action = 'privacy.mark_redacted' ORDER BY seq LIMIT 1",
    )
    .await;
    assert!(payload.contains(short["id"].as_str().unwrap()), "{payload}");
    assert!(!payload.contains(PHONE), "{payload}");

    // Idempotent; the export of the number no longer finds the lapsed mark; the supervisors'
    // list still shows the mark in force, masked.
    jiesu::jobs::redact_personal_data(&app.state).await.unwrap();
    assert_eq!(redactions().await, "2");
    let admin = app.login("admin", "adminpass1").await;
    let export = super::cast::export_of(&app, &admin, PHONE).await;
    assert_eq!(export["caller_marks"], json!([]), "{export}");
    let sup = app.login("sup1", "password1").await;
    let listed = expect(app.get("/api/v1/callers/marks", Some(&sup)).await, 200);
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["phone"], "139****4321");
}

async fn scalar(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}
