//! 吹哨报到 (issue 18): 望京街道 blows the whistle on three departments with a four-hour report
//! limit; two report in time, the third is marked late by the sweep and reports afterwards;
//! the whistle and the month's tally say who reported in time; the summoned units reply like
//! any order; bad values and strangers are refused.

use super::cast::{act, actions, reply_body, staff, CGZF, WANGJING};
use crate::helpers::{app, expect, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

const ZJW: &str = "dept.zjw"; // 市住建委
const JTW: &str = "dept.jtw"; // 市交通委

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

fn summoned<'a>(w: &'a Value, unit: &str) -> &'a Value {
    w["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_code"] == unit)
        .unwrap_or_else(|| panic!("{unit} not in {w}"))
}

fn tally_of<'a>(t: &'a Value, unit: &str) -> &'a Value {
    t["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["unit_code"] == unit)
        .unwrap_or_else(|| panic!("{unit} not in {t}"))
}

pub async fn a_whistle_on_three_departments_counts_one_late_report(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let zjw = app.user("zjw_handler", Role::UnitHandler, Some(ZJW)).await;
    let jtw = app.user("jtw_mgr", Role::UnitManager, Some(JTW)).await;
    let body = |hours: Value| {
        json!({
            "title": "望京西园三区周边渣土车夜间抛洒、占道施工",
            "description": "多部门联合整治：城管执法查处抛洒，住建委约谈施工单位，交通委调整渣土车通行。",
            "units": [
                { "unit_code": CGZF, "role": "lead" },
                { "unit_code": ZJW, "role": "co" },
                { "unit_code": JTW, "role": "co" }
            ],
            "report_within_hours": hours,
            "address": "朝阳区望京西园三区"
        })
    };

    // Bad values name their field; only a street's staff blow the whistle.
    for bad in [json!(0), json!(169), json!(-3)] {
        let v = expect(
            app.post("/api/v1/whistles", Some(&s.wangjing), body(bad))
                .await,
            422,
        );
        assert_eq!(field(&v), "report_within_hours", "{v}");
    }
    let v = expect(
        app.post(
            "/api/v1/whistles",
            Some(&s.wangjing),
            json!({ "title": "t", "description": "d", "units": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "units[0].unit_code", "{v}");
    let v = expect(
        app.post(
            "/api/v1/whistles",
            Some(&s.wangjing),
            json!({ "title": "t", "description": "d", "units": [{ "unit_code": "dept.nope", "role": "lead" }] }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "units[0].unit_code", "{v}");
    expect(
        app.post("/api/v1/whistles", Some(&s.huajiadi), body(json!(4)))
            .await,
        403,
    );
    expect(
        app.post("/api/v1/whistles", Some(&s.operator), body(json!(4)))
            .await,
        403,
    );
    // Nor through the center's task form.
    let v = expect(
        app.post(
            "/api/v1/tasks",
            Some(&sup),
            json!({ "title": "t", "description": "d", "source": { "kind": "whistle", "ref": WANGJING },
                    "units": [{ "unit_code": CGZF, "role": "lead" }] }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "source.kind", "{v}");

    let w = expect(
        app.post("/api/v1/whistles", Some(&s.wangjing), body(json!(4)))
            .await,
        201,
    );
    let id = w["task_id"].as_str().unwrap().to_string();
    assert_eq!(w["whistle_unit"], WANGJING);
    assert_eq!(w["report_within_hours"], 4);
    assert_eq!(w["units"].as_array().unwrap().len(), 3);
    for u in [CGZF, ZJW, JTW] {
        assert_eq!(summoned(&w, u)["report"], "pending", "{w}");
        assert_eq!(summoned(&w, u)["order_status"], "dispatched", "{w}");
    }
    let order = |w: &Value, u: &str| {
        summoned(w, u)["assignment_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (o_cgzf, o_zjw, o_jtw) = (order(&w, CGZF), order(&w, ZJW), order(&w, JTW));

    // Another street's staff do not see it; a summoned department does.
    expect(
        app.get(&format!("/api/v1/whistles/{id}"), Some(&s.youanmen))
            .await,
        404,
    );
    expect(
        app.get(&format!("/api/v1/whistles/{id}"), Some(&jtw)).await,
        200,
    );

    // 城管 reports after an hour, 住建委 after two: on time. A report names a person.
    app.clock.advance(chrono::Duration::hours(1));
    let v = expect(
        app.post(
            &format!("/api/v1/orders/{o_cgzf}/report"),
            Some(&s.cgzf),
            json!({ "person": "  " }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "person", "{v}");
    // A unit cannot report for another.
    expect(
        app.post(
            &format!("/api/v1/orders/{o_zjw}/report"),
            Some(&s.cgzf),
            json!({ "person": "张队长" }),
        )
        .await,
        404,
    );
    let w = expect(
        app.post(
            &format!("/api/v1/orders/{o_cgzf}/report"),
            Some(&s.cgzf),
            json!({ "person": "张队长", "contact": "010-12345678" }),
        )
        .await,
        200,
    );
    assert_eq!(summoned(&w, CGZF)["report"], "on_time");
    assert_eq!(summoned(&w, CGZF)["person_in_charge"], "张队长");
    assert_eq!(summoned(&w, CGZF)["order_status"], "acknowledged");
    expect(
        app.post(
            &format!("/api/v1/orders/{o_cgzf}/report"),
            Some(&s.cgzf),
            json!({ "person": "张队长" }),
        )
        .await,
        409,
    );
    app.clock.advance(chrono::Duration::hours(1));
    // 住建委 acknowledged first as any order; 报到 then names its person.
    act(&app, &zjw, &o_zjw, "acknowledge", json!({})).await;
    let w = expect(
        app.post(
            &format!("/api/v1/orders/{o_zjw}/report"),
            Some(&zjw),
            json!({ "person": "李科长" }),
        )
        .await,
        200,
    );
    assert_eq!(summoned(&w, ZJW)["report"], "on_time");

    // Before the deadline the sweep marks nothing; past it, 交通委 once.
    assert_eq!(
        jiesu::jobs::sweep_whistle_reports(&app.state)
            .await
            .unwrap(),
        0
    );
    app.clock
        .advance(chrono::Duration::hours(2) + chrono::Duration::minutes(1));
    assert_eq!(
        jiesu::jobs::sweep_whistle_reports(&app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        jiesu::jobs::sweep_whistle_reports(&app.state)
            .await
            .unwrap(),
        0
    );
    let w = expect(
        app.get(&format!("/api/v1/whistles/{id}"), Some(&s.wangjing))
            .await,
        200,
    );
    assert_eq!(summoned(&w, JTW)["report"], "overdue", "{w}");
    assert!(summoned(&w, JTW)["late_marked_at"].is_string(), "{w}");
    let t = expect(
        app.get("/api/v1/whistles/tally?month=2026-11", Some(&sup))
            .await,
        200,
    );
    assert_eq!(tally_of(&t, JTW)["overdue"], 1, "{t}");
    assert_eq!(tally_of(&t, JTW)["not_reported"], 1, "{t}");

    // 交通委 reports late.
    let w = expect(
        app.post(
            &format!("/api/v1/orders/{o_jtw}/report"),
            Some(&jtw),
            json!({ "person": "王处长" }),
        )
        .await,
        200,
    );
    assert_eq!(summoned(&w, JTW)["report"], "late", "{w}");

    // The tally, for the center and for the street: summoned / on time / late / not yet.
    for who in [&sup, &s.wangjing] {
        let t = expect(
            app.get("/api/v1/whistles/tally?month=2026-11", Some(who))
                .await,
            200,
        );
        let counts = |u: &str| {
            let r = tally_of(&t, u);
            (
                r["summoned"].as_u64().unwrap(),
                r["reported_on_time"].as_u64().unwrap(),
                r["reported_late"].as_u64().unwrap(),
                r["not_reported"].as_u64().unwrap(),
            )
        };
        assert_eq!(counts(CGZF), (1, 1, 0, 0), "{t}");
        assert_eq!(counts(ZJW), (1, 1, 0, 0), "{t}");
        assert_eq!(counts(JTW), (1, 0, 1, 0), "{t}");
    }
    let v = expect(
        app.get("/api/v1/whistles/tally?month=2026-13", Some(&sup))
            .await,
        422,
    );
    assert_eq!(field(&v), "month", "{v}");
    // Another street's tally does not show 望京's whistle.
    let t = expect(
        app.get("/api/v1/whistles/tally?month=2026-11", Some(&s.youanmen))
            .await,
        200,
    );
    assert_eq!(t["units"].as_array().unwrap().len(), 0, "{t}");
    let l = expect(
        app.get("/api/v1/whistles?month=2026-11", Some(&sup)).await,
        200,
    );
    assert_eq!(l["whistles"][0]["task_id"], id.as_str());

    // The supervisor's task page shows who reported in time.
    let resp = reqwest::Client::new()
        .get(format!("{}/ui/tasks/{id}?lang=zh", app.base))
        .header("cookie", format!("jiesu_session={sup}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let html = resp.text().await.unwrap();
    for text in ["吹哨报到", "张队长", "按时报到", "迟到报到", "王处长"] {
        assert!(
            html.contains(text),
            "{text} not on the task page: {}",
            &html[..html.len().min(3000)]
        );
    }

    // The summoned units then reply like any order.
    for (token, o) in [(&s.cgzf, &o_cgzf), (&zjw, &o_zjw), (&jtw, &o_jtw)] {
        act(&app, token, o, "reply", reply_body("联合整治完成")).await;
    }
    let r = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await,
        200,
    );
    assert_eq!(r["status"], "replied", "{r}");
    let acts = actions(&r);
    for a in [
        "whistle.blown",
        "whistle.reported",
        "whistle.report_overdue",
    ] {
        assert!(acts.iter().any(|x| x == a), "{a} not in {acts:?}");
    }
    assert_eq!(acts.iter().filter(|a| *a == "whistle.reported").count(), 3);
    // The events still replay to the tables.
    let report = jiesu::services::audit::verify(app.state.store.reader(), &app.config)
        .await
        .unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    // A report's person in charge changed by hand is named by the replay.
    super::audit::a_hand_edit_is_named(
        &app,
        "whistle_reports",
        "person_in_charge",
        "UPDATE whistle_reports SET person_in_charge = person_in_charge || 'x' WHERE person_in_charge IS NOT NULL",
        "UPDATE whistle_reports SET person_in_charge = substr(person_in_charge, 1, length(person_in_charge) - 1) \
         WHERE person_in_charge IS NOT NULL",
    )
    .await;
}
