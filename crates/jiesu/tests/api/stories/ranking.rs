//! KPIs: a scripted month gives hand-computed rates, ranks and classes, and a frozen ranking
//! that reproduces byte for byte.

use super::cast::{
    act, new_request, reply_body, return_accepted, staff, through_to_reply, CGZF, HUAJIADI,
    WANGJING, YOUANMEN,
};
use crate::helpers::{app, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

pub async fn a_scripted_month_gives_hand_computed_rates_ranks_and_a_reproducible_frozen_ranking(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let rules = json!({ "version": "test-1", "w_response": 0.2, "w_resolution": 0.4, "w_satisfaction": 0.4, "basic_weight": 0.8, "class_size": 1, "effective_from": "2026-11-01" });
    expect(
        app.post("/api/v1/kpi/rules", Some(&sup), rules.clone())
            .await,
        403,
    );
    expect(
        app.post("/api/v1/kpi/rules", Some(&app.admin), rules.clone())
            .await,
        201,
    );
    expect(
        app.post("/api/v1/kpi/rules", Some(&app.admin), rules).await,
        409,
    );
    let bad = json!({ "version": "bad", "w_response": 0.5, "w_resolution": 0.4, "w_satisfaction": 0.4, "basic_weight": 0.8, "class_size": 1, "effective_from": "2026-11-01" });
    expect(
        app.post("/api/v1/kpi/rules", Some(&app.admin), bad).await,
        422,
    );
    let cb = |resolved: bool, sat: &str| json!({ "reached": true, "resolved": resolved, "satisfaction": sat });

    // R1: 望京 leads (on time), its community co-handles (late), 城管执法 co-handles (on time); satisfied.
    let r1 = new_request(&app, &s).await;
    let id1 = r1["id"].as_str().unwrap();
    let v = expect(app.post(&format!("/api/v1/requests/{id1}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": HUAJIADI, "role": "co" }, { "unit_code": CGZF, "role": "co" }] })).await, 200);
    act(
        &app,
        &s.wangjing,
        &order_id(&v, WANGJING, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    act(
        &app,
        &s.cgzf,
        &order_id(&v, CGZF, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    app.clock.advance(chrono::Duration::hours(3));
    act(
        &app,
        &s.huajiadi,
        &order_id(&v, HUAJIADI, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    for (t, u) in [
        (&s.wangjing, WANGJING),
        (&s.huajiadi, HUAJIADI),
        (&s.cgzf, CGZF),
    ] {
        act(&app, t, &order_id(&v, u, 1), "reply", reply_body("已处理")).await;
    }
    expect(
        app.post(
            &format!("/api/v1/requests/{id1}/callback"),
            Some(&s.agent),
            cb(true, "satisfied"),
        )
        .await,
        200,
    );
    // R2: 右安门 leads; unresolved and unsatisfied, rework, then resolved and basically satisfied.
    let r2 = new_request(&app, &s).await;
    let id2 = r2["id"].as_str().unwrap();
    through_to_reply(&app, &s, id2, YOUANMEN, &s.youanmen).await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id2}/callback"),
            Some(&s.agent),
            cb(false, "unsatisfied"),
        )
        .await,
        200,
    );
    let o = order_id(&v, YOUANMEN, 2);
    act(&app, &s.youanmen, &o, "acknowledge", json!({})).await;
    act(&app, &s.youanmen, &o, "reply", reply_body("已彻底处理")).await;
    expect(
        app.post(
            &format!("/api/v1/requests/{id2}/callback"),
            Some(&s.agent),
            cb(true, "basic"),
        )
        .await,
        200,
    );
    // R3: 右安门 never acknowledges, but the order is exempt (不纳入考核).
    let r3 = new_request(&app, &s).await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{}/dispatch", r3["id"].as_str().unwrap()),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": YOUANMEN, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let o3 = order_id(&v, YOUANMEN, 1);
    expect(
        app.post(
            &format!("/api/v1/assignments/{o3}/exempt"),
            Some(&s.operator),
            json!({ "reason": "x" }),
        )
        .await,
        403,
    );
    expect(
        app.post(
            &format!("/api/v1/assignments/{o3}/exempt"),
            Some(&sup),
            json!({ "reason": "" }),
        )
        .await,
        422,
    );
    expect(
        app.post(
            &format!("/api/v1/assignments/{o3}/exempt"),
            Some(&sup),
            json!({ "reason": "施工许可争议，市级协调中" }),
        )
        .await,
        204,
    );
    expect(
        app.post(
            &format!("/api/v1/assignments/{o3}/exempt"),
            Some(&sup),
            json!({ "reason": "again" }),
        )
        .await,
        409,
    );
    // R4: 望京 returns it (not counted), 城管执法 leads and acknowledges on time.
    let r4 = new_request(&app, &s).await;
    let id4 = r4["id"].as_str().unwrap();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id4}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    return_accepted(
        &app,
        &s.wangjing,
        &s.dispatcher,
        &order_id(&v, WANGJING, 1),
        "属城管执法职责",
    )
    .await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id4}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": CGZF, "role": "lead" }] }),
        )
        .await,
        200,
    );
    act(
        &app,
        &s.cgzf,
        &order_id(&v, CGZF, 1),
        "acknowledge",
        json!({}),
    )
    .await;

    let ranking = expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-11&level=subdistrict",
            Some(&s.wangjing),
        )
        .await,
        200,
    );
    assert_eq!(ranking["rules_version"], "test-1");
    assert_eq!(ranking["frozen"], false);
    let unit = |r: &Value, code: &str| {
        r["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap()
            .clone()
    };
    let wj = unit(&ranking, WANGJING);
    // 望京 + its community: 2 orders, 1 on time; 1 callback, resolved, satisfied → 100·(0.2·0.5 + 0.4 + 0.4) = 90.
    assert_eq!(
        (
            wj["dispatched"].as_u64(),
            wj["response_rate"].as_f64(),
            wj["resolution_rate"].as_f64(),
            wj["satisfaction_rate"].as_f64()
        ),
        (Some(2), Some(0.5), Some(1.0), Some(1.0))
    );
    assert_eq!(wj["composite"], 90.0);
    // 右安门: 2 orders (R3 exempt), both on time; callbacks: unresolved+unsatisfied, resolved+basic
    // → resolution 0.5, satisfaction 0.8/2 = 0.4 → 100·(0.2 + 0.2 + 0.16) = 56.
    let yam = unit(&ranking, YOUANMEN);
    assert_eq!(
        (
            yam["dispatched"].as_u64(),
            yam["response_rate"].as_f64(),
            yam["resolution_rate"].as_f64(),
            yam["satisfaction_rate"].as_f64()
        ),
        (Some(2), Some(1.0), Some(0.5), Some(0.4))
    );
    assert_eq!(yam["composite"], 56.0);
    assert_eq!(
        (wj["rank"].as_u64(), yam["rank"].as_u64()),
        (Some(1), Some(2))
    );
    // Class precedence: priority governance (volume 1 each, tie by code → 望京), then leading.
    assert_eq!(
        (wj["class"].as_str(), yam["class"].as_str()),
        (Some("priority_governance"), Some("leading"))
    );
    // Streets without orders are listed, not ranked.
    let idle = ranking["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["rank"].is_null())
        .count();
    assert_eq!(idle, ranking["units"].as_array().unwrap().len() - 2);
    assert!(ranking["units"].as_array().unwrap().len() >= 349);
    // Departments: 城管执法 has two orders on time and no callbacks → 100.
    let depts = expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-11&level=department",
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(unit(&depts, CGZF)["composite"], 100.0);
    assert_eq!(unit(&depts, CGZF)["dispatched"], 2);
    let trend = expect(
        app.get(
            &format!("/api/v1/kpi/units/{YOUANMEN}?from=2026-10&to=2026-11"),
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(trend.as_array().unwrap().len(), 2);
    assert_eq!(
        (
            trend[0]["dispatched"].as_u64(),
            trend[1]["composite"].as_f64()
        ),
        (Some(0), Some(56.0))
    );
    expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-13&level=subdistrict",
            Some(&sup),
        )
        .await,
        422,
    );
    expect(
        app.get("/api/v1/kpi/ranking?month=2026-11&level=planet", Some(&sup))
            .await,
        422,
    );

    // Freeze: served byte for byte afterwards, even when late data arrives; recomputing with
    // the frozen rules gives the same bytes while nothing changed.
    expect(
        app.post(
            "/api/v1/kpi/months/2026-11/freeze?level=subdistrict",
            Some(&s.operator),
            json!({}),
        )
        .await,
        403,
    );
    let (status, frozen) = app
        .post_text("/api/v1/kpi/months/2026-11/freeze?level=subdistrict", &sup)
        .await;
    assert_eq!(status, 201);
    let again = jiesu::services::kpi::recompute_frozen(
        &app.state,
        jiesu::services::kpi::Month::parse("2026-11").unwrap(),
        jiesu::services::kpi::Level::Subdistrict,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        again, frozen,
        "recomputing a frozen month reproduces it byte for byte"
    );
    expect(
        app.post(
            "/api/v1/kpi/months/2026-11/freeze?level=subdistrict",
            Some(&sup),
            json!({}),
        )
        .await,
        409,
    );
    let r5 = new_request(&app, &s).await;
    through_to_reply(&app, &s, r5["id"].as_str().unwrap(), WANGJING, &s.wangjing).await;
    expect(
        app.post(
            &format!("/api/v1/requests/{}/callback", r5["id"].as_str().unwrap()),
            Some(&s.agent),
            cb(false, "unsatisfied"),
        )
        .await,
        200,
    );
    let (_, served) = app
        .get_text("/api/v1/kpi/ranking?month=2026-11&level=subdistrict", &sup)
        .await;
    assert_eq!(served, frozen);
    let live = jiesu::services::kpi::recompute_frozen(
        &app.state,
        jiesu::services::kpi::Month::parse("2026-11").unwrap(),
        jiesu::services::kpi::Level::Subdistrict,
    )
    .await
    .unwrap()
    .unwrap();
    assert_ne!(
        live, frozen,
        "the late callback changes a recomputation, not the frozen month"
    );

    // The CLI gives the same ranking, as CSV too.
    let out = app
        .cli()
        .args([
            "kpi",
            "ranking",
            "--month",
            "2026-11",
            "--level",
            "subdistrict",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), frozen);
    let out = app
        .cli()
        .args([
            "kpi", "ranking", "--month", "2026-11", "--level", "district", "--format", "csv",
        ])
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(csv.starts_with("\u{feff}code,name,response_rate,resolution_rate,satisfaction_rate,composite,rank,previous_rank,class,volume"), "{csv}");
    // Districts were not frozen: they include R5 (acknowledged on time, then reworked: a second,
    // unacknowledged order; one more reached callback, unresolved and unsatisfied).
    // 朝阳: 4 orders, 2 on time; 2 callbacks, 1 resolved, 1 satisfied → 100·(0.1 + 0.2 + 0.2) = 50.
    assert!(
        csv.lines().any(|l| l.starts_with(
            "110105,朝阳区,0.500000,0.500000,0.500000,50.000000,2,,priority_governance,2"
        )),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l
                .starts_with("110106,丰台区,1.000000,0.500000,0.400000,56.000000,1,,leading,1")),
        "{csv}"
    );

    // Units with repeated unsatisfied callbacks, and the summons list (nobody in the rectify
    // class with only two ranked streets and class size 1).
    let un = expect(
        app.get(
            "/api/v1/supervision/unsatisfied?month=2026-11&min=1",
            Some(&sup),
        )
        .await,
        200,
    );
    let codes: Vec<&str> = un
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["unit_code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, [WANGJING, YOUANMEN]);
    assert_eq!(un[1]["name"], "右安门街道");
    assert_eq!(
        expect(
            app.get(
                "/api/v1/supervision/unsatisfied?month=2026-11&min=2",
                Some(&sup)
            )
            .await,
            200
        ),
        json!([])
    );
    assert_eq!(
        expect(
            app.get("/api/v1/supervision/summons?month=2026-11", Some(&sup))
                .await,
            200
        ),
        json!([])
    );
    expect(
        app.get(
            "/api/v1/supervision/summons?month=2026-11",
            Some(&s.operator),
        )
        .await,
        403,
    );

    // The monthly report opens with the expected sheets and Chinese headers.
    let resp = reqwest::Client::new()
        .get(format!("{}/api/v1/kpi/report?month=2026-11", app.base))
        .bearer_auth(&sup)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let bytes = resp.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).expect("a valid xlsx");
    assert_eq!(
        wb.sheet_names(),
        [
            "街乡镇排名",
            "各区三率",
            "分类诉求量",
            "超期工单",
            "环比变化"
        ]
    );
    let sheet = wb.worksheet_range("街乡镇排名").unwrap();
    assert_eq!(sheet.get_value((0, 0)).unwrap().to_string(), "排名");
    assert_eq!(sheet.get_value((1, 1)).unwrap().to_string(), "望京街道");
    assert_eq!(sheet.get_value((1, 8)).unwrap().to_string(), "治理类");
    let cats = wb.worksheet_range("分类诉求量").unwrap();
    assert_eq!(cats.get_value((1, 0)).unwrap().to_string(), "未分类");
    assert_eq!(cats.get_value((1, 1)).unwrap().to_string(), "5");
    expect(
        app.get("/api/v1/kpi/report?month=2026-11", Some(&s.wangjing))
            .await,
        403,
    );
    let file = app.dir.path().join("r.xlsx");
    let out = app
        .cli()
        .args([
            "kpi",
            "ranking",
            "--month",
            "2026-11",
            "--format",
            "xlsx",
            "--out",
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wb = calamine::open_workbook::<calamine::Xlsx<_>, _>(&file).unwrap();
    assert_eq!(wb.sheet_names(), ["排名"]);
}
