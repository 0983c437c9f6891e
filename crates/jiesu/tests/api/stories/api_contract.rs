//! The API's contract: bad input gets a clear 4xx and changes nothing, and the OpenAPI
//! document describes every route.

use super::cast::{act, new_request, reply_body, staff, CGZF, WANGJING};
use crate::helpers::{app, complaint, expect, order_id, Backend};
use serde_json::{json, Value};

pub async fn bad_input_gets_a_clear_4xx_and_changes_nothing(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let before = app.event_count().await;
    let requests_before =
        expect(app.get("/api/v1/requests", Some(&s.dispatcher)).await, 200)["total"].clone();

    let field = |v: &Value| {
        v["error"]["fields"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // Syntax, types, unknown values, missing and unknown fields.
    let v = expect(
        app.post_raw(
            "/api/v1/requests",
            &s.operator,
            "application/json",
            b"{\"kind\": ".to_vec(),
        )
        .await,
        400,
    );
    assert_eq!(v["error"]["code"], "malformed");
    let mut bad = complaint("x");
    bad["kind"] = json!(3);
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            400
        )),
        "kind"
    );
    let mut bad = complaint("x");
    bad["kind"] = json!("complain");
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            400
        )),
        "kind"
    );
    let v = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            json!({ "kind": "help", "requester": { "phone": "13812345678" } }),
        )
        .await,
        400,
    );
    assert_eq!(field(&v), "text");
    let mut bad = complaint("x");
    bad["requester"]["age"] = json!(30);
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            400
        )),
        "requester.age"
    );
    // Validation: phone, credit code, empty text, enterprise channel without enterprise.
    let mut bad = complaint("   ");
    bad["requester"]["phone"] = json!("12345");
    bad["requester"]["enterprise"] =
        json!({ "name": "某科技有限公司", "credit_code": "91350100M000100Y44" });
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), bad).await,
        422,
    );
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "text",
            "requester.phone",
            "requester.enterprise.credit_code"
        ]
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("输入有误"),
        "Chinese by default: {v}"
    );
    let mut bad = complaint("企业诉求");
    bad["channel"] = json!("enterprise");
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            422
        )),
        "requester.enterprise"
    );
    let mut bad = complaint("有分类");
    bad["category_code"] = json!("no.such");
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            422
        )),
        "category_code"
    );
    // Size and media type.
    let huge = complaint(&"噪".repeat(400_000));
    expect(
        app.post("/api/v1/requests", Some(&s.operator), huge).await,
        413,
    );
    expect(
        app.post_raw(
            "/api/v1/requests",
            &s.operator,
            "text/plain",
            b"hello".to_vec(),
        )
        .await,
        415,
    );
    // No or bad login.
    expect(
        app.post("/api/v1/requests", None, complaint("x")).await,
        401,
    );
    expect(
        app.post("/api/v1/requests", Some("not-a-token"), complaint("x"))
            .await,
        401,
    );
    // Unknown units, wrong roles, two leads.
    let v = expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": "999999", "role": "co" }] })).await, 422);
    assert_eq!(field(&v), "assignments[1].unit_code");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "boss" }] }),
        )
        .await,
        400,
    );
    assert_eq!(field(&v), "assignments[0].role");
    expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": CGZF, "role": "lead" }] })).await, 422);
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [] }),
        )
        .await,
        422,
    );
    expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "time_limit_class": "whenever" })).await, 422);
    // A callback before any reply; unknown ids.
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        409,
    );
    expect(
        app.get("/api/v1/requests/nope", Some(&s.dispatcher)).await,
        404,
    );
    expect(
        app.post(
            "/api/v1/assignments/nope/acknowledge",
            Some(&s.wangjing),
            json!({}),
        )
        .await,
        404,
    );
    expect(
        app.get("/api/v1/requests?status=lost", Some(&s.dispatcher))
            .await,
        422,
    );
    expect(
        app.get("/api/v1/requests?page=abc", Some(&s.dispatcher))
            .await,
        400,
    );
    // English on request.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/requests", app.base))
        .bearer_auth(&s.operator)
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({ "kind": "help", "text": "", "requester": { "phone": "1" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid input"),
        "{v}"
    );
    assert_eq!(
        app.event_count().await,
        before,
        "refused input leaves no trace"
    );
    assert_eq!(
        expect(app.get("/api/v1/requests", Some(&s.dispatcher)).await, 200)["total"],
        requests_before
    );

    // Illegal transitions: acknowledge twice, reply before acknowledging, extension before acknowledging.
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = order_id(&v, WANGJING, 1);
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            reply_body("x"),
        )
        .await,
        409,
    );
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/extension"),
            Some(&s.wangjing),
            json!({ "hours": 24, "reason": "x" }),
        )
        .await,
        409,
    );
    act(&app, &s.wangjing, &order, "acknowledge", json!({})).await;
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&s.wangjing),
            json!({}),
        )
        .await,
        409,
    );
    assert_eq!(v["error"]["code"], "conflict");
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            json!({ "to_requester": "好", "to_center": "" , "outcome": "resolved" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "to_center");
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            json!({ "to_requester": "好", "to_center": "好" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "outcome");
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/extension"),
            Some(&s.wangjing),
            json!({ "hours": 0, "reason": "x" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "hours");
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(&s.operator),
            json!({ "answer": "x" }),
        )
        .await,
        409,
    );
    expect(
        app.get("/api/v1/no/such/route", Some(&s.operator)).await,
        404,
    );
}

pub async fn openapi_describes_every_route(b: Backend) {
    if b == Backend::Postgres {
        return; // The document does not depend on the database.
    }
    let app = app!(b);
    let spec = expect(app.get("/api/v1/openapi.json", None).await, 200);
    let paths = spec["paths"].as_object().expect("paths");
    let served = [
        ("/openapi.json", "get"),
        ("/auth/token", "post"),
        ("/auth/token", "delete"),
        ("/me", "get"),
        ("/requests", "post"),
        ("/requests", "get"),
        // issue 17: exports
        ("/requests/export", "get"),
        ("/requests/{id}", "get"),
        ("/requests/{id}/dispatch", "post"),
        ("/requests/{id}/answer", "post"),
        ("/requests/{id}/merge", "post"),
        ("/requests/{id}/callback", "post"),
        // issue 23: the caller's history
        ("/requests/{id}/reminders", "post"),
        ("/callers/history", "get"),
        ("/callers/stats", "get"),
        ("/callers/marks", "get"),
        ("/callers/marks", "post"),
        ("/callers/marks/{id}", "delete"),
        ("/assignments/{id}/acknowledge", "post"),
        ("/assignments/{id}/return", "post"),
        ("/assignments/{id}/extension", "post"),
        ("/assignments/{id}/reply", "post"),
        // issue 18: 退单审核
        ("/assignments/{id}/return-review", "post"),
        ("/returns", "get"),
        ("/extensions/{id}/decision", "post"),
        ("/units", "get"),
        // issue 18: units as managed data
        ("/units", "post"),
        ("/units/{code}", "get"),
        ("/units/{code}", "patch"),
        ("/units/{code}/merge", "post"),
        ("/units/{code}/close", "post"),
        ("/units/{code}/changes", "get"),
        ("/units/{code}/changes/{id}", "delete"),
        // issue 18: categories as managed data
        ("/categories", "post"),
        ("/categories/{code}", "get"),
        ("/categories/{code}", "patch"),
        ("/time-limits", "get"),
        ("/time-limits", "post"),
        ("/categories", "get"),
        ("/supervision/overdue", "get"),
        ("/kb", "get"),
        ("/kb", "post"),
        ("/kb/{id}", "get"),
        ("/kb/{id}", "put"),
        ("/kb/{id}", "delete"),
        // issue 23: a knowledge base a city can keep
        ("/kb/entries", "get"),
        ("/kb/stale", "get"),
        ("/kb/import", "post"),
        ("/kb/steps", "post"),
        ("/kb/{id}/history", "get"),
        ("/kb/{id}/feedback", "post"),
        ("/kb/{id}/review", "post"),
        ("/kb/{id}/publish", "post"),
        ("/kb/{id}/expire", "post"),
        ("/catalogue", "get"),
        ("/catalogue", "post"),
        ("/catalogue/{id}", "put"),
        ("/catalogue/{id}", "delete"),
        ("/requests/suggest", "post"),
        ("/text/accuracy", "get"),
        ("/text/models", "get"),
        ("/text/models/rollback", "post"),
        ("/search", "get"),
        ("/kpi/ranking", "get"),
        ("/kpi/months/{month}/freeze", "post"),
        ("/kpi/units/{code}", "get"),
        ("/kpi/rules", "post"),
        ("/kpi/population", "put"),
        // issue 18: the working-day calendar
        ("/calendar", "get"),
        ("/calendar", "post"),
        ("/calendar/{date}", "get"),
        ("/calendar/{date}", "put"),
        ("/calendar/{date}", "delete"),
        ("/supervision/disputes", "get"),
        ("/requests/{id}/arbitrate", "post"),
        ("/assignments/{id}/exempt", "post"),
        // issue 18: appeals
        ("/orders/{id}/appeals", "post"),
        ("/appeals", "get"),
        ("/appeals/{id}/decision", "post"),
        // issue 18: 下派 and 签批
        ("/assignments/{id}/pass-down", "post"),
        ("/sub-orders", "get"),
        ("/sub-orders/tallies", "get"),
        ("/sub-orders/{id}/pass-down", "post"),
        ("/sub-orders/{id}/acknowledge", "post"),
        ("/sub-orders/{id}/reply", "post"),
        ("/signoffs", "get"),
        ("/signoffs/{id}/decision", "post"),
        // issue 18: child orders keep time (延期, 退回上级)
        ("/sub-orders/{id}/extension", "post"),
        ("/sub-orders/{id}/return", "post"),
        ("/sub-extensions", "get"),
        ("/sub-extensions/{id}/decision", "post"),
        ("/units/{code}/signoff", "put"),
        // issue 18: 吹哨报到, 小事不出社区, 办结审核
        ("/whistles", "get"),
        ("/whistles", "post"),
        ("/whistles/tally", "get"),
        ("/whistles/{id}", "get"),
        ("/orders/{id}/report", "post"),
        ("/community/requests", "post"),
        ("/community/tally", "get"),
        ("/categories/{code}/reply-review", "put"),
        ("/reply-reviews", "get"),
        ("/reply-reviews/{id}/decision", "post"),
        ("/kpi/report", "get"),
        ("/supervision/about-to-breach", "get"),
        ("/supervision/returned", "get"),
        ("/supervision/unsatisfied", "get"),
        ("/supervision/summons", "get"),
        ("/hotspots", "get"),
        ("/hotspots/{key}/similar", "get"),
        ("/alerts", "get"),
        ("/tasks", "get"),
        ("/tasks", "post"),
        ("/tasks/{id}/elsewhere", "get"),
        ("/topics/proposals", "get"),
        ("/topics", "post"),
        ("/topics/{id}", "get"),
        // issue 16: privacy
        ("/privacy/export", "post"),
        // issue 16: users
        ("/users", "get"),
        ("/users", "post"),
        ("/users/{username}/disable", "post"),
        ("/users/{username}/enable", "post"),
        ("/users/{username}/password", "post"),
        ("/users/{username}/revoke-sessions", "post"),
        // issue 19: SMS through a gateway
        ("/sms/inbound", "get"),
        ("/sms/dlr", "get"),
        ("/sms/templates", "get"),
        ("/sms/templates", "put"),
        ("/sms/follow-ups", "get"),
        ("/sms/follow-ups/{id}", "post"),
        // issue 20: attachments
        ("/requests/{id}/attachments", "post"),
        ("/requests/{id}/attachments", "get"),
        ("/assignments/{id}/attachments", "post"),
        ("/attachments/{id}", "get"),
        ("/attachments/{id}", "delete"),
        ("/attachments/{id}/thumbnail", "get"),
        ("/attachments/{id}/original", "get"),
        ("/public/attachments", "post"),
        ("/public/attachments", "get"),
        ("/public/attachments/{id}", "get"),
        ("/public/attachments/{id}/thumbnail", "get"),
        ("/evidence-rules", "get"),
        ("/categories/{code}/evidence", "put"),
        // issue 20: district maps
        ("/maps/districts", "get"),
        ("/maps/figures", "get"),
        ("/maps/points", "get"),
    ];
    for (path, method) in served {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "openapi.json lacks {method} {path}"
        );
        // And the route really exists (not 404 from the fallback).
        let (status, _) = match method {
            "get" => {
                app.get(
                    &format!("/api/v1{}", path.replace("{id}", "x")),
                    Some(&app.admin),
                )
                .await
            }
            _ => (reqwest::StatusCode::OK, Value::Null),
        };
        assert_ne!((status.as_u16(), path), (404, "/units"));
    }
    let documented: usize = paths
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "delete", "put", "patch"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(
        documented,
        served.len(),
        "openapi.json documents routes the server does not serve"
    );
}

/// `/readyz` answers from the database, `/healthz` from the process: with the database gone,
/// the node is alive but not ready.
pub async fn readiness_follows_the_database_and_liveness_does_not(b: Backend) {
    let app = app!(b);
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status.as_u16(), 200, "{body}");
    assert_eq!(body["status"], "ready");
    app.state.store.close().await;
    let (status, body) = app.get("/readyz", None).await;
    assert_eq!(status.as_u16(), 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    let (status, _) = app.get("/healthz", None).await;
    assert_eq!(status.as_u16(), 200);
}
