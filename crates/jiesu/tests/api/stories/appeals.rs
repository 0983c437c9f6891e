//! Assessment appeals (考核申诉): a street appeals parts of its orders' assessments, the
//! center grants one and refuses another, and the frozen month's rates and ranking counts
//! show it; the refusals (another unit's order, a second open appeal, a frozen month, a
//! unit deciding) answer 404/403/409.

use super::cast::{act, actions, new_request, reply_body, staff, CHAOYANG, WANGJING, YOUANMEN};
use crate::helpers::{app, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

fn unit(r: &Value, code: &str) -> Value {
    r["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .unwrap_or_else(|| panic!("{code} not in {r}"))
        .clone()
}

fn rates(u: &Value) -> (Option<f64>, Option<f64>, Option<f64>) {
    (
        u["response_rate"].as_f64(),
        u["resolution_rate"].as_f64(),
        u["satisfaction_rate"].as_f64(),
    )
}

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

pub async fn appeals_granted_and_refused_show_in_the_frozen_months_rates_and_counts(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let wj_handler = app
        .user("wj_handler", Role::UnitHandler, Some(WANGJING))
        .await;
    let dispatch = |id: String| {
        let app = &app;
        let s = &s;
        async move {
            expect(
                app.post(
                    &format!("/api/v1/requests/{id}/dispatch"),
                    Some(&s.dispatcher),
                    json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
                )
                .await,
                200,
            )
        }
    };
    let cb = |resolved: bool, sat: &str| json!({ "reached": true, "resolved": resolved, "satisfaction": sat });

    // A: 望京 acknowledges late, replies; resolved and satisfied.
    let ra = new_request(&app, &s).await;
    let ida = ra["id"].as_str().unwrap().to_string();
    let v = dispatch(ida.clone()).await;
    let a1 = order_id(&v, WANGJING, 1);
    app.clock.advance(chrono::Duration::hours(3));
    act(&app, &s.wangjing, &a1, "acknowledge", json!({})).await;
    act(&app, &s.wangjing, &a1, "reply", reply_body("已处理")).await;
    expect(
        app.post(
            &format!("/api/v1/requests/{ida}/callback"),
            Some(&s.agent),
            cb(true, "satisfied"),
        )
        .await,
        200,
    );
    // B: on time, replied; unresolved and unsatisfied → round 2, acknowledged on time.
    let rb = new_request(&app, &s).await;
    let idb = rb["id"].as_str().unwrap().to_string();
    let v = dispatch(idb.clone()).await;
    let b1 = order_id(&v, WANGJING, 1);
    // Before any callback, resolution cannot be appealed: nothing is assessed yet.
    expect(
        app.post(
            &format!("/api/v1/orders/{b1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "resolution", "reason": "尚未回访" }),
        )
        .await,
        409,
    );
    act(&app, &s.wangjing, &b1, "acknowledge", json!({})).await;
    act(&app, &s.wangjing, &b1, "reply", reply_body("已处理")).await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{idb}/callback"),
            Some(&s.agent),
            cb(false, "unsatisfied"),
        )
        .await,
        200,
    );
    let b2 = order_id(&v, WANGJING, 2);
    act(&app, &s.wangjing, &b2, "acknowledge", json!({})).await;

    let ranking = |who: String, level: &'static str| {
        let app = &app;
        async move {
            expect(
                app.get(
                    &format!("/api/v1/kpi/ranking?month=2026-11&level={level}"),
                    Some(&who),
                )
                .await,
                200,
            )
        }
    };
    // 望京: 3 orders, 2 on time; 2 callbacks, 1 resolved, 1 satisfied.
    let before = unit(&ranking(sup.clone(), "subdistrict").await, WANGJING);
    assert_eq!(rates(&before), (Some(2.0 / 3.0), Some(0.5), Some(0.5)));
    assert_eq!(
        (
            before["appealed"].as_u64(),
            before["appeals_granted"].as_u64()
        ),
        (Some(0), Some(0))
    );

    // Who may appeal: the manager of the order's unit; another unit's manager gets 404, a
    // handler and the center 403.
    let body = json!({ "part": "response", "reason": "系统故障导致签收延迟", "evidence": "https://example.org/outage-notice" });
    expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.youanmen),
            body.clone(),
        )
        .await,
        404,
    );
    expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&wj_handler),
            body.clone(),
        )
        .await,
        403,
    );
    expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&sup),
            body.clone(),
        )
        .await,
        403,
    );
    expect(
        app.post(
            "/api/v1/orders/no-such-order/appeals",
            Some(&s.wangjing),
            body.clone(),
        )
        .await,
        404,
    );
    // Bad input names its field.
    let e = expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "speed", "reason": "x" }),
        )
        .await,
        400,
    );
    assert_eq!(field(&e), "part", "{e}");
    let e = expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "response", "reason": "  " }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reason", "{e}");
    let e = expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "response", "reason": "长".repeat(1001) }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reason", "{e}");

    // Three appeals: A's response, B's resolution and B's satisfaction.
    let p1 = expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            body.clone(),
        )
        .await,
        201,
    );
    assert_eq!(
        (p1["status"].as_str(), p1["month"].as_str()),
        (Some("open"), Some("2026-11"))
    );
    // A second open appeal of the same part: 409.
    expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            body.clone(),
        )
        .await,
        409,
    );
    let p2 = expect(
        app.post(
            &format!("/api/v1/orders/{b1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "resolution", "reason": "诉求超出职权范围" }),
        )
        .await,
        201,
    );
    let p3 = expect(
        app.post(
            &format!("/api/v1/orders/{b1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "satisfaction", "reason": "诉求人对政策不满，非办理问题" }),
        )
        .await,
        201,
    );
    let (p1, p2, p3) = (
        p1["id"].as_str().unwrap().to_string(),
        p2["id"].as_str().unwrap().to_string(),
        p3["id"].as_str().unwrap().to_string(),
    );
    // Open appeals change nothing yet.
    assert_eq!(
        rates(&unit(&ranking(sup.clone(), "subdistrict").await, WANGJING)),
        (Some(2.0 / 3.0), Some(0.5), Some(0.5))
    );

    // Lists: the unit sees its own, another unit none, the center all; filters.
    let list = |who: String, q: &'static str| {
        let app = &app;
        async move { app.get(&format!("/api/v1/appeals{q}"), Some(&who)).await }
    };
    assert_eq!(
        expect(list(s.wangjing.clone(), "").await, 200)["appeals"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        expect(list(s.youanmen.clone(), "").await, 200)["appeals"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        expect(list(sup.clone(), "?status=open&month=2026-11").await, 200)["appeals"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        expect(list(sup.clone(), "?month=2026-10").await, 200)["appeals"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        field(&expect(list(sup.clone(), "?status=maybe").await, 422)),
        "status"
    );
    assert_eq!(
        field(&expect(list(sup.clone(), "?month=2026-13").await, 422)),
        "month"
    );
    expect(list(s.operator.clone(), "").await, 403);

    // Decisions: a unit cannot decide; refusing needs a reason.
    let decide = |who: String, id: String, body: Value| {
        let app = &app;
        async move {
            app.post(&format!("/api/v1/appeals/{id}/decision"), Some(&who), body)
                .await
        }
    };
    expect(
        decide(
            s.wangjing.clone(),
            p1.clone(),
            json!({ "decision": "grant" }),
        )
        .await,
        403,
    );
    // Dispatchers read the appeals but do not decide them (supervisors and admin do).
    expect(
        decide(
            s.dispatcher.clone(),
            p1.clone(),
            json!({ "decision": "grant" }),
        )
        .await,
        403,
    );
    let e = expect(
        decide(sup.clone(), p2.clone(), json!({ "decision": "refuse" })).await,
        422,
    );
    assert_eq!(field(&e), "reason", "{e}");
    let e = expect(
        decide(sup.clone(), p2.clone(), json!({ "decision": "maybe" })).await,
        400,
    );
    assert_eq!(field(&e), "decision", "{e}");
    expect(
        decide(
            sup.clone(),
            "no-such-appeal".into(),
            json!({ "decision": "grant" }),
        )
        .await,
        404,
    );
    let g = expect(
        decide(
            sup.clone(),
            p1.clone(),
            json!({ "decision": "grant", "reason": "经核实系统故障" }),
        )
        .await,
        200,
    );
    assert_eq!(g["status"], "granted");
    assert!(g["decided_by"].is_string());
    expect(
        decide(
            sup.clone(),
            p1.clone(),
            json!({ "decision": "refuse", "reason": "again" }),
        )
        .await,
        409,
    );
    // A granted part cannot be appealed again.
    expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            body.clone(),
        )
        .await,
        409,
    );
    let r = expect(
        decide(
            sup.clone(),
            p2.clone(),
            json!({ "decision": "refuse", "reason": "属于本单位职责" }),
        )
        .await,
        200,
    );
    assert_eq!(
        (r["status"].as_str(), r["decision_reason"].as_str()),
        (Some("refused"), Some("属于本单位职责"))
    );
    expect(
        decide(
            sup.clone(),
            p3.clone(),
            json!({ "decision": "grant", "reason": "政策性诉求" }),
        )
        .await,
        200,
    );
    // The unit sees the outcomes.
    let mine = expect(list(s.wangjing.clone(), "?status=granted").await, 200);
    assert_eq!(mine["appeals"].as_array().unwrap().len(), 2);
    let refused = expect(list(s.wangjing.clone(), "?status=refused").await, 200);
    assert_eq!(refused["appeals"][0]["decision_reason"], "属于本单位职责");
    // Every step is an event on the request.
    let view = expect(
        app.get(&format!("/api/v1/requests/{idb}"), Some(&sup))
            .await,
        200,
    );
    let acts = actions(&view);
    for a in ["appeal.filed", "appeal.refused", "appeal.granted"] {
        assert!(acts.iter().any(|x| x == a), "{a} in {acts:?}");
    }

    // One more appeal stays open until the freeze.
    let p4 = expect(
        app.post(
            &format!("/api/v1/orders/{b2}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "response", "reason": "待核实" }),
        )
        .await,
        201,
    )["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Granted: A's response and B's satisfaction no longer count; B's resolution still does.
    // 望京: 2 orders on time of 2; resolution 1/2; satisfaction 1/1 → 100·(0.2 + 0.2 + 0.4) = 80.
    let after = unit(&ranking(sup.clone(), "subdistrict").await, WANGJING);
    assert_eq!(rates(&after), (Some(1.0), Some(0.5), Some(1.0)));
    assert_eq!(after["composite"], 80.0);
    assert_eq!(
        (
            after["appealed"].as_u64(),
            after["appeals_granted"].as_u64()
        ),
        (Some(4), Some(2))
    );
    // The district above counts them too.
    let cy = unit(&ranking(sup.clone(), "district").await, CHAOYANG);
    assert_eq!(
        (cy["appealed"].as_u64(), cy["appeals_granted"].as_u64()),
        (Some(4), Some(2))
    );
    assert_eq!(
        unit(&ranking(sup.clone(), "subdistrict").await, YOUANMEN)["appealed"],
        0
    );
    // The rollups agree with a full recount, before and after the rollup job catches up.
    let month = jiesu::services::kpi::Month::parse("2026-11").unwrap();
    assert!(jiesu::services::kpi::check_rollups(&app.state, month)
        .await
        .unwrap()
        .is_empty());
    jiesu::services::kpi::refresh_rollups(&app.state)
        .await
        .unwrap();
    assert!(jiesu::services::kpi::check_rollups(&app.state, month)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        rates(&unit(&ranking(sup.clone(), "subdistrict").await, WANGJING)),
        (Some(1.0), Some(0.5), Some(1.0))
    );
    // CSV carries the counts.
    let (_, csv) = app
        .get_text(
            "/api/v1/kpi/ranking?month=2026-11&level=subdistrict&format=csv",
            &sup,
        )
        .await;
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with(",volume,appealed,appeals_granted"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with(WANGJING) && l.ends_with(",4,2")),
        "{csv}"
    );

    // Freeze the month: it keeps the appeals' effect; no more appeals or decisions for it.
    let (status, frozen) = app
        .post_text("/api/v1/kpi/months/2026-11/freeze?level=subdistrict", &sup)
        .await;
    assert_eq!(status, 201);
    let fz: Value = serde_json::from_str(&frozen).unwrap();
    let w = unit(&fz, WANGJING);
    assert_eq!(rates(&w), (Some(1.0), Some(0.5), Some(1.0)));
    assert_eq!(
        (w["appealed"].as_u64(), w["appeals_granted"].as_u64()),
        (Some(4), Some(2))
    );
    let e = expect(
        app.post(
            &format!("/api/v1/orders/{b2}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "response", "reason": "再次申诉" }),
        )
        .await,
        409,
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("2026-11"),
        "{e}"
    );
    expect(
        app.post(
            &format!("/api/v1/orders/{a1}/appeals"),
            Some(&s.wangjing),
            json!({ "part": "satisfaction", "reason": "冻结后" }),
        )
        .await,
        409,
    );
    expect(
        decide(sup.clone(), p4.clone(), json!({ "decision": "grant" })).await,
        409,
    );
    let again = jiesu::services::kpi::recompute_frozen(
        &app.state,
        month,
        jiesu::services::kpi::Level::Subdistrict,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(again, frozen, "appeals cannot change a frozen month");
}

/// The supervisors' list of units with repeated failures (`/supervision/unsatisfied`) leaves out
/// a failure whose part the center granted on appeal, and keeps one whose appeal it refused.
pub async fn a_granted_appeal_takes_a_failure_off_the_unsatisfied_list(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let listed = |who: String| {
        let app = &app;
        async move {
            let v = expect(
                app.get(
                    "/api/v1/supervision/unsatisfied?month=2026-11&min=1",
                    Some(&who),
                )
                .await,
                200,
            );
            v.as_array()
                .or_else(|| v["units"].as_array())
                .unwrap_or_else(|| panic!("a list: {v}"))
                .iter()
                .find(|u| u["unit_code"] == WANGJING || u["code"] == WANGJING)
                .map(|u| u["unsatisfied"].as_i64().unwrap())
        }
    };
    // Two requests to 望京, both resolved but unsatisfied at the callback.
    let mut orders = Vec::new();
    for _ in 0..2 {
        let r = new_request(&app, &s).await;
        let id = r["id"].as_str().unwrap().to_string();
        let v = expect(
            app.post(
                &format!("/api/v1/requests/{id}/dispatch"),
                Some(&s.dispatcher),
                json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
            )
            .await,
            200,
        );
        let o = order_id(&v, WANGJING, 1);
        act(&app, &s.wangjing, &o, "acknowledge", json!({})).await;
        act(&app, &s.wangjing, &o, "reply", reply_body("已处理")).await;
        expect(
            app.post(
                &format!("/api/v1/requests/{id}/callback"),
                Some(&s.agent),
                json!({ "reached": true, "resolved": true, "satisfaction": "unsatisfied" }),
            )
            .await,
            200,
        );
        orders.push(o);
    }
    assert_eq!(listed(sup.clone()).await, Some(2));
    let mut appeals = Vec::new();
    for o in &orders {
        let p = expect(
            app.post(
                &format!("/api/v1/orders/{o}/appeals"),
                Some(&s.wangjing),
                json!({ "part": "satisfaction", "reason": "诉求人对政策不满，非办理问题" }),
            )
            .await,
            201,
        );
        appeals.push(p["id"].as_str().unwrap().to_string());
    }
    // Open appeals change nothing; a refused one neither; a granted one takes its failure off.
    assert_eq!(listed(sup.clone()).await, Some(2));
    for (id, decision) in appeals.iter().zip(["refuse", "grant"]) {
        expect(
            app.post(
                &format!("/api/v1/appeals/{id}/decision"),
                Some(&sup),
                json!({ "decision": decision, "reason": "核实" }),
            )
            .await,
            200,
        );
    }
    assert_eq!(listed(sup.clone()).await, Some(1));
    // The appeals replay from their events; a hand edit turning the refusal into a grant is
    // named by replay and compare (jiesu audit verify).
    let replay = jiesu::store::replay::compare(app.state.store.reader())
        .await
        .unwrap();
    assert!(replay.is_empty(), "replay disagrees: {replay:?}");
    sqlx::query("UPDATE appeals SET status = 'granted' WHERE status = 'refused'")
        .execute(app.state.store.reader())
        .await
        .unwrap();
    let replay = jiesu::store::replay::compare(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(
        replay
            .iter()
            .map(|m| (m.table, m.field.as_str()))
            .collect::<Vec<_>>(),
        [("appeals", "status")],
        "{replay:?}"
    );
    // With both failures now exempt, 望京 leaves the list.
    assert_eq!(listed(sup.clone()).await, None);
}
