//! Issue 16, input: every date, month and number parameter is parsed into a bounded value and
//! refused with 422 naming it (extreme dates used to reach `expect` and answer 500); control
//! characters are refused naming the field; the free-text fields that had no limit have one.

use super::cast::{act, new_request, reply_body, staff, CGZF, WANGJING};
use crate::helpers::{app, complaint, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

fn field_of(v: &Value) -> String {
    v["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// `(path, field)`: each path carries one extreme or out-of-range date, month or number.
const EXTREME: &[(&str, &str)] = &[
    ("/api/v1/kpi/ranking?month=%2B262142-12", "month"),
    ("/api/v1/kpi/ranking?month=-262143-01", "month"),
    ("/api/v1/kpi/ranking?month=1999-12", "month"),
    ("/api/v1/kpi/report?month=%2B262142-12", "month"),
    (
        "/api/v1/kpi/units/110105026?from=%2B262142-12&to=%2B262142-12",
        "month",
    ),
    (
        "/api/v1/kpi/units/110105026?from=-262143-01&to=2026-01",
        "month",
    ),
    (
        "/api/v1/supervision/unsatisfied?month=%2B262142-12",
        "month",
    ),
    ("/api/v1/supervision/summons?month=-262143-01", "month"),
    (
        "/api/v1/supervision/unsatisfied?month=2026-11&min=9223372036854775807",
        "min",
    ),
    ("/api/v1/supervision/overdue?limit=0", "limit"),
    (
        "/api/v1/supervision/returned?limit=-9223372036854775808",
        "limit",
    ),
    ("/api/v1/requests?page=9223372036854775807", "page"),
    ("/api/v1/requests?per_page=0", "per_page"),
    ("/api/v1/alerts?date=%2B262142-12-31", "date"),
    ("/api/v1/alerts?date=-262143-01-01", "date"),
    ("/api/v1/alerts?date=2101-01-01", "date"),
    ("/api/v1/hotspots?from=-262143-01-01", "from"),
    ("/api/v1/hotspots?to=%2B262142-12-31", "to"),
    ("/api/v1/text/accuracy?to=%2B262142-12-31", "to"),
    ("/api/v1/text/accuracy?from=-262143-01-01", "from"),
    ("/api/v1/search?q=noise&to=%2B262142-12-31", "to"),
    ("/api/v1/search?q=noise&from=-262143-01-01", "from"),
    ("/api/v1/topics/proposals?month=%2B262142-12", "month"),
];

pub async fn extreme_dates_months_and_numbers_are_refused_with_422_naming_the_field(b: Backend) {
    let app = app!(b);
    let sup = app.user("sup16", Role::Supervisor, None).await;
    for (path, field) in EXTREME {
        for token in [&app.admin, &sup] {
            let (status, v) = app.get(path, Some(token)).await;
            assert_eq!(status.as_u16(), 422, "{path}: {v}");
            assert_eq!(field_of(&v), *field, "{path}: {v}");
        }
    }
    // The pages that read a month or a date answer 422 too, not 500.
    for path in [
        "/ui/dashboard?month=%2B262142-12",
        "/ui/governance?date=-262143-01-01",
        "/ui/topics/proposals?month=%2B262142-12",
    ] {
        let resp = reqwest::Client::new()
            .get(format!("{}{path}", app.base))
            .bearer_auth(&sup)
            .header("cookie", format!("jiesu_session={sup}"))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
    }
    // KPI rules dated out of range, and a knowledge-base entry valid until year 9999.
    let rules = |from: &str| json!({ "version": format!("v-{from}"), "w_response": 0.2, "w_resolution": 0.4, "w_satisfaction": 0.4, "basic_weight": 0.8, "class_size": 1, "effective_from": from });
    let v = expect(
        app.post("/api/v1/kpi/rules", Some(&app.admin), rules("2101-01-01"))
            .await,
        422,
    );
    assert_eq!(field_of(&v), "effective_from", "{v}");
    let (status, v) = app
        .post(
            "/api/v1/kpi/rules",
            Some(&app.admin),
            rules("+262142-12-31"),
        )
        .await;
    assert!([400, 422].contains(&status.as_u16()), "{status}: {v}");
    let v = expect(
        app.post(
            "/api/v1/kb",
            Some(&sup),
            json!({ "title": "t", "answer": "a", "valid_until": "9999-12-31T00:00:00Z" }),
        )
        .await,
        422,
    );
    assert_eq!(field_of(&v), "valid_until", "{v}");
}

pub async fn control_characters_are_refused_naming_the_field_and_long_texts_are_limited(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup16", Role::Supervisor, None).await;
    let before = app.event_count().await;

    // NUL (and the other C0 controls) in a JSON string, at any depth: 422 naming the field.
    let mut nul_text = complaint("望京西园三区夜间施工\u{0}噪音扰民");
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), nul_text.clone())
            .await,
        422,
    );
    assert_eq!(field_of(&v), "text", "{v}");
    nul_text["text"] = json!("夜间施工噪音");
    nul_text["requester"]["name"] = json!("王\u{1b}[31m女士");
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), nul_text)
            .await,
        422,
    );
    assert_eq!(field_of(&v), "requester.name", "{v}");
    // Line breaks and tabs in multi-line text stay allowed.
    expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区夜间施工噪音扰民。\n\t凌晨两点还在施工。\r\n"),
        )
        .await,
        201,
    );
    // In a query string or a path: 422 naming the parameter (or `path`).
    let v = expect(app.get("/api/v1/search?q=a%00b", Some(&sup)).await, 422);
    assert_eq!(field_of(&v), "q", "{v}");
    let v = expect(app.get("/api/v1/requests/abc%00def", Some(&sup)).await, 422);
    assert_eq!(field_of(&v), "path", "{v}");

    // merged_line, a task's address and an unreached callback's note have limits.
    let mut merged = complaint("望京西园三区夜间施工噪音扰民");
    merged["channel"] = json!("merged_line");
    merged["merged_line"] = json!("1".repeat(51));
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), merged.clone())
            .await,
        422,
    );
    assert_eq!(field_of(&v), "merged_line", "{v}");
    merged["merged_line"] = json!("12315");
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), merged)
            .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let task = |address: String| {
        json!({
            "title": "t", "description": "d", "source": { "kind": "hotspot", "ref": id.clone() },
            "request_ids": [id.clone()], "units": [{ "unit_code": WANGJING, "role": "lead" }],
            "address": address
        })
    };
    let v = expect(
        app.post("/api/v1/tasks", Some(&sup), task("路".repeat(501)))
            .await,
        422,
    );
    assert_eq!(field_of(&v), "address", "{v}");

    let r = new_request(&app, &s).await;
    let rid = r["id"].as_str().unwrap();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{rid}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": CGZF, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let o = order_id(&v, CGZF, 1);
    act(&app, &s.cgzf, &o, "acknowledge", json!({})).await;
    act(&app, &s.cgzf, &o, "reply", reply_body("已处理")).await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{rid}/callback"),
            Some(&s.agent),
            json!({ "reached": false, "note": "无人接听".repeat(1300) }),
        )
        .await,
        422,
    );
    assert_eq!(field_of(&v), "note", "{v}");
    // The refusals above left nothing behind: two requests, a dispatch, two order actions.
    let view = expect(
        app.get(&format!("/api/v1/requests/{rid}"), Some(&s.agent))
            .await,
        200,
    );
    assert_eq!(
        view["callbacks"].as_array().map_or(0, Vec::len),
        0,
        "{view}"
    );
    assert!(app.event_count().await > before);
}
