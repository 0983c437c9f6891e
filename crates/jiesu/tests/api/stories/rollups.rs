//! KPI roll-ups: the maintained daily tallies agree with a full recount through every kind of
//! change.

use super::cast::{
    act, new_request, relogin, reply_body, return_accepted, staff, through_to_reply, CGZF,
    HUAJIADI, WANGJING, YOUANMEN,
};
use crate::helpers::{app, complaint, expect, order_id, Backend, TestApp};
use jiesu_core::Role;
use serde_json::{json, Value};

/// The month's counts from the daily rollups equal a full recount, after every kind of change
/// that moves a count: dispatch to several units, on-time and late acknowledgement on another
/// day, a return and re-dispatch, rework, a merged requester's callback, an unreachable
/// requester, and an exemption that lands after its days were already rolled up.
pub async fn kpi_rollups_agree_with_a_full_recount_through_every_kind_of_change(b: Backend) {
    use jiesu::services::kpi::{check_rollups, month_tallies, refresh_rollups, Month};
    let app = app!(b);
    let mut s = staff(&app).await;
    app.user("sup1", Role::Supervisor, None).await;
    let month = Month::parse("2026-11").unwrap();
    let dirty = |app: &TestApp| {
        let store = app.state.store.clone();
        async move {
            jiesu::store::kpi::dirty_days(store.reader(), 1000)
                .await
                .unwrap()
                .len()
        }
    };
    // Checks that rollups and recount agree both before and after the dirty days are
    // refreshed (the refreshed answer comes from the stored rollups alone).
    let agree = |app: &TestApp, step: &'static str| {
        let state = app.state.clone();
        async move {
            assert_eq!(
                check_rollups(&state, month).await.unwrap(),
                [],
                "{step}, before refresh"
            );
            refresh_rollups(&state).await.unwrap();
            assert_eq!(
                check_rollups(&state, month).await.unwrap(),
                [],
                "{step}, after refresh"
            );
        }
    };
    let cb = |resolved: bool, sat: &str| json!({ "reached": true, "resolved": resolved, "satisfaction": sat });

    // R1 with a merged duplicate; 望京 leads, 花家地 co-handles.
    let r1 = new_request(&app, &s).await;
    let id1 = r1["id"].as_str().unwrap().to_string();
    let mut dup = complaint("望京西园三区工地夜里还在施工，吵得睡不着。");
    dup["requester"]["phone"] = json!("13900001111");
    let d = expect(
        app.post("/api/v1/requests", Some(&s.operator), dup).await,
        201,
    );
    let dup_id = d["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{dup_id}/merge"),
            Some(&s.operator),
            json!({ "into": r1["number"] }),
        )
        .await,
        200,
    );
    let v = expect(app.post(&format!("/api/v1/requests/{id1}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": HUAJIADI, "role": "co" }] })).await, 200);
    let lead1 = order_id(&v, WANGJING, 1);
    agree(&app, "dispatched").await;
    assert_eq!(dirty(&app).await, 0);
    act(&app, &s.wangjing, &lead1, "acknowledge", json!({})).await;
    assert!(
        dirty(&app).await > 0,
        "an acknowledgement marks its day dirty"
    );
    // 花家地 acknowledges the next day, late.
    app.clock.advance(chrono::Duration::hours(30));
    s = relogin(&app).await;
    act(
        &app,
        &s.huajiadi,
        &order_id(&v, HUAJIADI, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    agree(&app, "acknowledged on two days").await;
    act(&app, &s.wangjing, &lead1, "reply", reply_body("已处理")).await;
    act(
        &app,
        &s.huajiadi,
        &order_id(&v, HUAJIADI, 1),
        "reply",
        reply_body("已配合"),
    )
    .await;
    expect(
        app.post(
            &format!("/api/v1/requests/{id1}/callback"),
            Some(&s.agent),
            cb(true, "satisfied"),
        )
        .await,
        200,
    );
    expect(
        app.post(
            &format!("/api/v1/requests/{dup_id}/callback"),
            Some(&s.agent),
            cb(false, "unsatisfied"),
        )
        .await,
        200,
    );
    agree(&app, "callbacks incl. a merged requester's").await;

    // R2: returned by 望京, re-dispatched to 右安门, reworked, called back on a later day.
    let r2 = new_request(&app, &s).await;
    let id2 = r2["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id2}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    refresh_rollups(&app.state).await.unwrap();
    return_accepted(
        &app,
        &s.wangjing,
        &s.dispatcher,
        &order_id(&v, WANGJING, 1),
        "不属本街道",
    )
    .await;
    agree(&app, "returned").await;
    through_to_reply(&app, &s, &id2, YOUANMEN, &s.youanmen).await;
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
    app.clock.advance(chrono::Duration::hours(26));
    s = relogin(&app).await;
    let sup = app.login("sup1", "password1").await;
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
    agree(&app, "rework").await;

    // R3: the requester cannot be reached.
    let r3 = new_request(&app, &s).await;
    let id3 = r3["id"].as_str().unwrap().to_string();
    through_to_reply(&app, &s, &id3, CGZF, &s.cgzf).await;
    expect(
        app.post(
            &format!("/api/v1/requests/{id3}/callback"),
            Some(&s.agent),
            json!({ "reached": false }),
        )
        .await,
        200,
    );
    agree(&app, "unreachable").await;

    // R1's lead is exempted after its days were rolled up: its order and both callbacks
    // (its own and the merged requester's, on another day) leave 望京's counts.
    let before = month_tallies(&app.state, month).await.unwrap()[WANGJING];
    expect(
        app.post(
            &format!("/api/v1/assignments/{lead1}/exempt"),
            Some(&sup),
            json!({ "reason": "市级协调" }),
        )
        .await,
        204,
    );
    agree(&app, "exempted").await;
    let after = month_tallies(&app.state, month)
        .await
        .unwrap()
        .get(WANGJING)
        .copied()
        .unwrap_or_default();
    assert_eq!(
        (
            before.dispatched - after.dispatched,
            before.called_back - after.called_back
        ),
        (1, 2)
    );

    // Co-handlers' callbacks are kept apart: 花家地 co-handled R1, whose requester and merged
    // requester were both reached. Under rules that count callbacks for co-handlers too, they
    // reach 望京's rates (花家地 is under it); volume per 10,000 residents ranks only streets
    // with a recorded population.
    let hjd = month_tallies(&app.state, month).await.unwrap()[HUAJIADI];
    assert_eq!(
        (hjd.called_back, hjd.co_called_back, hjd.co_satisfied),
        (0, 2, 1)
    );
    let admin = app.login("admin", "adminpass1").await;
    let pop = |units: Value| json!({ "units": units });
    let (status, body) = app
        .put("/api/v1/kpi/population", &admin, pop(json!([{ "unit_code": YOUANMEN, "population": 0 }, { "unit_code": "nowhere", "population": 5 }])))
        .await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["units[0].population", "units[1].unit_code"]);
    let (status, _) = app
        .put(
            "/api/v1/kpi/population",
            &sup,
            pop(json!([{ "unit_code": YOUANMEN, "population": 50000 }])),
        )
        .await;
    assert_eq!(status, 403);
    let (status, body) = app
        .put(
            "/api/v1/kpi/population",
            &admin,
            pop(json!([{ "unit_code": YOUANMEN, "population": 50000 }])),
        )
        .await;
    assert_eq!((status.as_u16(), body["units"].as_u64()), (200, Some(1)));
    let rules = json!({ "version": "co-1", "w_response": 0.2, "w_resolution": 0.4, "w_satisfaction": 0.4, "basic_weight": 0.8, "class_size": 1, "callbacks_count_for": "lead_and_co", "volume_per_10k": true, "effective_from": "2026-11-01" });
    expect(
        app.post("/api/v1/kpi/rules", Some(&admin), rules).await,
        201,
    );
    let ranking = expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-11&level=subdistrict",
            Some(&sup),
        )
        .await,
        200,
    );
    let unit = |code: &str| {
        ranking["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["code"] == code)
            .unwrap()
            .clone()
    };
    // 望京: R1's lead order exempt, R2's returned: only 花家地's co order counts, with both callbacks
    // (one satisfied and resolved, one unresolved and unsatisfied).
    let wj = unit(WANGJING);
    assert_eq!(
        (wj["called_back"].as_u64(), wj["resolution_rate"].as_f64()),
        (Some(2), Some(0.5))
    );
    assert!(wj.get("volume_per_10k").is_none(), "{wj}");
    let yam = unit(YOUANMEN);
    assert_eq!(yam["volume_per_10k"].as_f64(), Some(0.2));
    assert_eq!(yam["class"], "priority_governance");

    // The checker is not vacuous: a tampered rollup row is found, by the CLI too.
    let bump = "UPDATE kpi_daily SET dispatched = dispatched + 1 WHERE unit_code = $1";
    sqlx::query(bump)
        .bind(YOUANMEN)
        .execute(app.state.store.reader())
        .await
        .unwrap();
    let diffs = check_rollups(&app.state, month).await.unwrap();
    assert_eq!(
        diffs.iter().map(|d| d.0.as_str()).collect::<Vec<_>>(),
        [YOUANMEN]
    );
    let out = app
        .cli()
        .args(["kpi", "rollups", "--check", "2026-11"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = app
        .cli()
        .args(["kpi", "rollups", "--rebuild", "--check", "2026-11"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("2026-11: 0 units differ"), "{text}");

    // Another UTC offset buckets days differently: the next start rebuilds them.
    let mut tx = app.state.store.begin().await.unwrap();
    assert!(jiesu::store::kpi::ensure_rollup_offset(&mut tx, 0, false)
        .await
        .unwrap());
    assert!(!jiesu::store::kpi::ensure_rollup_offset(&mut tx, 0, false)
        .await
        .unwrap());
    assert!(jiesu::store::kpi::ensure_rollup_offset(
        &mut tx,
        app.state.store.day_offset_ms(),
        false
    )
    .await
    .unwrap());
    tx.commit().await.unwrap();
    assert!(dirty(&app).await >= 3);
    agree(&app, "after a rebuild").await;
}
