//! Issue 17, metrics and logs: `/metrics` in the Prometheus text format counts intakes by
//! channel and HTTP requests by route template, shows the gauges, answers only this host (or
//! a bearer of the token), and every answer carries a request id. The metrics recorder is one
//! per process and the stories run in parallel, so counters are compared as "rose by at least".

use super::cast::{staff, WANGJING};
use crate::helpers::{complaint, expect, Backend, TestApp};
use serde_json::json;

/// The value of the sample `series` (name with its labels, as rendered), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

async fn scrape(app: &TestApp, headers: &[(&str, &str)]) -> (u16, String) {
    let mut req = reqwest::Client::new().get(format!("{}/metrics", app.base));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.expect("sent");
    let status = resp.status().as_u16();
    if status == 200 {
        let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    }
    (status, resp.text().await.unwrap())
}

pub async fn metrics_count_intakes_and_routes_and_answer_only_this_host(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let wechat = "jiesu_intakes_total{channel=\"wechat\"}";
    let (status, before) = scrape(&app, &[]).await;
    assert_eq!(status, 200, "{before}");
    // Every channel is there from the start, at 0 or more.
    for channel in ["phone", "web", "wechat", "open311", "enterprise"] {
        let series = format!("jiesu_intakes_total{{channel=\"{channel}\"}}");
        assert!(sample(&before, &series).is_some(), "{series} in\n{before}");
    }
    let was = sample(&before, wechat).unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let mut body = complaint(&format!("小区门口垃圾堆放{i}天无人清理"));
        body["channel"] = json!("wechat");
        let v = expect(
            app.post("/api/v1/requests", Some(&s.operator), body).await,
            201,
        );
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let id = &ids[0];
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.operator))
            .await,
        200,
    );
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&s.operator),
            json!({ "text": "望京西园三区门口垃圾堆放无人清理" }),
        )
        .await,
        200,
    );
    // A wrong password is a login failure.
    let failures = "jiesu_login_failures_total";
    let failed_before = sample(&before, failures).unwrap();
    expect(
        app.post(
            "/api/v1/auth/token",
            None,
            json!({ "username": "op1", "password": "not-the-password" }),
        )
        .await,
        401,
    );

    let (status, after) = scrape(&app, &[]).await;
    assert_eq!(status, 200);
    let now = sample(&after, wechat).unwrap();
    assert!(now >= was + 3.0, "wechat intakes {was} -> {now}");
    assert!(sample(&after, failures).unwrap() >= failed_before + 1.0);
    // The route label is the template, never the id.
    let route =
        "jiesu_http_requests_total{route=\"/api/v1/requests/{id}\",method=\"GET\",status=\"200\"}";
    assert!(sample(&after, route).unwrap() >= 1.0, "{route} in\n{after}");
    assert!(
        !after.contains(id.as_str()),
        "a request id in a label:\n{after}"
    );
    let posted =
        "jiesu_http_requests_total{route=\"/api/v1/requests\",method=\"POST\",status=\"201\"}";
    assert!(sample(&after, posted).unwrap() >= 3.0, "{posted}");
    // Latency histograms with the latency buckets.
    assert!(
        after.contains("jiesu_http_request_duration_seconds_bucket{route=\"/api/v1/requests\",method=\"POST\",status=\"201\",le=\"0.005\"}"),
        "{after}"
    );
    assert!(sample(&after, "jiesu_suggestion_duration_seconds_count").unwrap_or(0.0) >= 1.0);
    // The gauges that need queries are recounted at the scrape (refresh 0 in tests). The
    // stories share the recorder, so only their presence and plausibility are checked here;
    // scripts/prometheus.py checks values against a process of its own.
    for g in [
        "jiesu_orders{state=\"dispatched\"}",
        "jiesu_orders{state=\"replied\"}",
        "jiesu_orders_overdue",
        "jiesu_outbox_backlog",
        "jiesu_event_chain_head",
        "jiesu_hotspot_follow_lag_events",
        "jiesu_search_follow_lag_events",
    ] {
        let v = sample(&after, g).unwrap_or_else(|| panic!("{g} missing in\n{after}"));
        assert!(v >= 0.0, "{g} = {v}");
    }
    assert!(sample(&after, "jiesu_event_chain_head").unwrap() >= 1.0);
    assert!(after.contains("jiesu_db_connections_idle{pool="), "{after}");
    assert!(
        after.contains("# TYPE jiesu_intakes_total counter"),
        "{after}"
    );

    // A request that came through a proxy is not this host's, whatever the peer.
    let (status, body) = scrape(&app, &[("x-forwarded-for", "203.0.113.7")]).await;
    assert_eq!(status, 403, "{body}");
    assert!(!body.contains("jiesu_intakes_total"));
}

pub async fn a_metrics_token_is_required_when_set_and_every_answer_has_a_request_id(b: Backend) {
    if b == Backend::Postgres {
        return; // Neither depends on the database.
    }
    let token = "scrape-token-0123456789";
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.metrics_token = Some(token.to_string().into());
    })
    .await
    else {
        return;
    };
    let (status, _) = scrape(&app, &[]).await;
    assert_eq!(status, 403, "this host without the token");
    let (status, _) = scrape(&app, &[("authorization", "Bearer wrong-token-0123456789")]).await;
    assert_eq!(status, 403);
    let bearer = format!("Bearer {token}");
    let (status, text) = scrape(&app, &[("authorization", &bearer)]).await;
    assert_eq!(status, 200);
    assert!(text.contains("jiesu_intakes_total"));
    // Even through a proxy, the token is enough.
    let (status, _) = scrape(
        &app,
        &[
            ("authorization", &bearer),
            ("x-forwarded-for", "203.0.113.7"),
        ],
    )
    .await;
    assert_eq!(status, 200);

    // Request ids: the caller's is echoed, a bad one replaced, a missing one made.
    let client = reqwest::Client::new();
    let id_of = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .map(|v| v.to_str().unwrap().to_string())
    };
    let r = client
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "trace-42_abc.DEF")
        .send()
        .await
        .unwrap();
    assert_eq!(id_of(&r).as_deref(), Some("trace-42_abc.DEF"));
    for bad in ["x".repeat(65), "has space".to_string()] {
        let r = client
            .get(format!("{}/healthz", app.base))
            .header("x-request-id", bad.as_str())
            .send()
            .await
            .unwrap();
        let got = id_of(&r).expect("an id");
        assert_ne!(got, bad);
        assert!(uuid::Uuid::parse_str(&got).is_ok(), "{got}");
    }
    // Errors and unknown routes carry one too, each its own.
    let a = client
        .get(format!("{}/no/such/route", app.base))
        .send()
        .await
        .unwrap();
    let b2 = client
        .get(format!("{}/api/v1/me", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!((a.status().as_u16(), b2.status().as_u16()), (404, 401));
    let (ia, ib) = (id_of(&a).unwrap(), id_of(&b2).unwrap());
    assert!(uuid::Uuid::parse_str(&ia).is_ok() && uuid::Uuid::parse_str(&ib).is_ok());
    assert_ne!(ia, ib);
    let (_, text) = scrape(&app, &[("authorization", &bearer)]).await;
    // An unknown path is counted under one label, not its own.
    assert!(
        text.contains(
            "jiesu_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"}"
        ),
        "{text}"
    );
    assert!(!text.contains("/no/such/route"));
}
