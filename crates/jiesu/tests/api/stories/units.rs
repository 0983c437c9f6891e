//! Issue 18: units are managed data. A street added at run time is found by place resolution
//! and takes orders; renamed the next month, November still ranks it under its old name and
//! December under the new one. A merged street keeps its past month; a closed unit is refused
//! as a dispatch target; a shipped reload never overwrites an administrator's edit.

use super::cast::{act, relogin, reply_body, staff, suggest, Staff, CHAOYANG, WANGJING, YOUANMEN};
use crate::helpers::{expect, order_id, Backend, TestApp};
use chrono::Duration;
use jiesu::clock::Clock;
use jiesu_core::Role;
use serde_json::{json, Value};

const YUNJING: &str = "110105901"; // 云景湾街道, added at run time
const YUNJING_EAST: &str = "110105902"; // 云景湾东街道, merged into 云景湾
const YUNJING_COMMUNITY: &str = "110105902001"; // 云景湾东一社区, moved by the merge, then closed

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

async fn unit_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action LIKE 'unit.%'")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

/// Records a complaint at `address` and dispatches it to `unit` as lead: (request, order).
async fn dispatch_to(app: &TestApp, s: &Staff, unit: &str, address: &str) -> (String, String) {
    let mut body = crate::helpers::complaint("小区门口道路破损，坑洼积水，行人难走。");
    body["address"] = json!(address);
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": unit, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = order_id(&v, unit, 1);
    (id, order)
}

async fn ranked(app: &TestApp, token: &str, month: &str) -> Value {
    expect(
        app.get(
            &format!("/api/v1/kpi/ranking?month={month}&level=subdistrict"),
            Some(token),
        )
        .await,
        200,
    )
}

fn row<'a>(ranking: &'a Value, code: &str) -> Option<&'a Value> {
    ranking["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
}

pub async fn a_unit_added_and_renamed_at_run_time_takes_orders_and_merges_and_closes_keep_history(
    b: Backend,
) {
    let Some(mut app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let street = json!({ "code": YUNJING, "name": "云景湾街道", "level": "subdistrict",
        "parent_code": CHAOYANG, "duty_phone": "010-84567890", "liaison_name": "李明", "liaison_phone": "13900001111" });

    // Only administrators add units; bad input names the field and leaves nothing.
    let events = unit_events(&app).await;
    expect(
        app.post("/api/v1/units", Some(&s.dispatcher), street.clone())
            .await,
        403,
    );
    for (patch, named) in [
        (json!({ "code": "有空格 x" }), "code"),
        (json!({ "name": "" }), "name"),
        (json!({ "level": "province" }), "level"),
        (json!({ "parent_code": WANGJING }), "parent_code"),
        (json!({ "parent_code": "nowhere" }), "parent_code"),
        (json!({ "duty_phone": "call me" }), "duty_phone"),
        (json!({ "code": WANGJING }), "code"),
    ] {
        let mut body = street.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let bad = expect(app.post("/api/v1/units", Some(&admin), body).await, 422);
        assert_eq!(field(&bad), named, "{bad}");
    }
    assert_eq!(unit_events(&app).await, events);

    // Added: an event, listed, and place resolution finds it without a restart.
    let added = expect(
        app.post("/api/v1/units", Some(&admin), street.clone())
            .await,
        201,
    );
    assert_eq!(added["path"], format!("/{CHAOYANG}/{YUNJING}/"));
    assert_eq!(added["source"], "admin");
    assert_eq!(unit_events(&app).await, events + 1);
    let listed = expect(
        app.get("/api/v1/units?q=云景湾", Some(&s.operator)).await,
        200,
    );
    assert_eq!(listed[0]["code"], YUNJING);
    assert_eq!(listed[0]["duty_phone"], "010-84567890");
    let v = suggest(
        &app,
        &s.operator,
        "朝阳区云景湾街道金盏路口道路破损，坑洼积水。",
    )
    .await;
    assert_eq!(v["place"]["street"]["code"], YUNJING, "{v}");
    expect(
        app.post(
            "/api/v1/units",
            Some(&admin),
            json!({ "code": YUNJING_EAST, "name": "云景湾东街道", "level": "subdistrict", "parent_code": CHAOYANG }),
        )
        .await,
        201,
    );
    expect(
        app.post(
            "/api/v1/units",
            Some(&admin),
            json!({ "code": YUNJING_COMMUNITY, "name": "云景湾东一社区", "level": "community", "parent_code": YUNJING_EAST }),
        )
        .await,
        201,
    );

    // Its staff acknowledge and reply to November's orders.
    let yj = app.user("yj_mgr", Role::UnitManager, Some(YUNJING)).await;
    let yje = app
        .user("yje_mgr", Role::UnitManager, Some(YUNJING_EAST))
        .await;
    let (nov_req, nov_order) = dispatch_to(&app, &s, YUNJING, "朝阳区云景湾街道金盏路").await;
    act(&app, &yj, &nov_order, "acknowledge", json!({})).await;
    act(&app, &yj, &nov_order, "reply", reply_body("已修补路面")).await;
    let (east_req, east_order) = dispatch_to(&app, &s, YUNJING_EAST, "朝阳区云景湾东街道").await;
    act(&app, &yje, &east_order, "acknowledge", json!({})).await;
    act(&app, &yje, &east_order, "reply", reply_body("已修补路面")).await;

    // December: renamed (same code), the unit's orders and months continue.
    app.clock.advance(Duration::days(30));
    let s = relogin(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let yj = app.login("yj_mgr", "password1").await;
    let yje = app.login("yje_mgr", "password1").await;
    expect(
        app.patch(
            &format!("/api/v1/units/{YUNJING}"),
            &s.dispatcher,
            json!({ "name": "x" }),
        )
        .await,
        403,
    );
    let renamed = expect(
        app.patch(
            &format!("/api/v1/units/{YUNJING}"),
            &admin,
            json!({ "name": "云景湾新城街道", "short_name": "云景湾新城" }),
        )
        .await,
        200,
    );
    assert_eq!(renamed["name"], "云景湾新城街道");
    let (dec_req, dec_order) = dispatch_to(&app, &s, YUNJING, "朝阳区云景湾新城街道").await;
    act(&app, &yj, &dec_order, "acknowledge", json!({})).await;
    act(&app, &yj, &dec_order, "reply", reply_body("已修补路面")).await;
    expect(
        app.get(&format!("/api/v1/requests/{nov_req}"), Some(&yj))
            .await,
        200,
    );
    expect(
        app.get(&format!("/api/v1/requests/{dec_req}"), Some(&yj))
            .await,
        200,
    );
    let v = suggest(&app, &s.operator, "朝阳区云景湾新城街道金盏路口道路破损。").await;
    assert_eq!(v["place"]["street"]["code"], YUNJING, "{v}");
    let nov = ranked(&app, &yj, "2026-11").await;
    let dec = ranked(&app, &yj, "2026-12").await;
    assert_eq!(row(&nov, YUNJING).unwrap()["name"], "云景湾街道");
    assert_eq!(row(&nov, YUNJING).unwrap()["dispatched"], 1);
    assert_eq!(row(&dec, YUNJING).unwrap()["name"], "云景湾新城街道");
    assert_eq!(row(&dec, YUNJING).unwrap()["dispatched"], 1);

    // A merge waits for the unit's open orders; then its community moves to the target and
    // November stays its own.
    let (_, open) = dispatch_to(&app, &s, YUNJING_EAST, "朝阳区云景湾东街道").await;
    let merge = format!("/api/v1/units/{YUNJING_EAST}/merge");
    let bad = expect(
        app.post(&merge, Some(&admin), json!({ "into": YUNJING }))
            .await,
        422,
    );
    assert_eq!(field(&bad), "code", "{bad}");
    let bad = expect(
        app.post(
            &merge,
            Some(&admin),
            json!({ "into": WANGJING.to_string() + "x" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "into");
    act(&app, &yje, &open, "acknowledge", json!({})).await;
    act(&app, &yje, &open, "reply", reply_body("已修补路面")).await;
    expect(
        app.post(&merge, Some(&s.dispatcher), json!({ "into": YUNJING }))
            .await,
        403,
    );
    let merged = expect(
        app.post(&merge, Some(&admin), json!({ "into": YUNJING }))
            .await,
        200,
    );
    assert_eq!(
        (merged["active"].as_bool(), merged["merged_into"].as_str()),
        (Some(false), Some(YUNJING))
    );
    let moved = expect(
        app.get(&format!("/api/v1/units/{YUNJING_COMMUNITY}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(moved["unit"]["parent_code"], YUNJING);
    assert_eq!(
        moved["unit"]["path"],
        format!("/{CHAOYANG}/{YUNJING}/{YUNJING_COMMUNITY}/")
    );
    let nov = ranked(&app, &yj, "2026-11").await;
    assert_eq!(row(&nov, YUNJING_EAST).unwrap()["dispatched"], 1);
    assert_eq!(row(&nov, YUNJING).unwrap()["dispatched"], 1);
    expect(
        app.get(&format!("/api/v1/requests/{east_req}"), Some(&yje))
            .await,
        200,
    );
    let trend = expect(
        app.get(
            &format!("/api/v1/kpi/units/{YUNJING_EAST}?from=2026-11&to=2026-12"),
            Some(&admin),
        )
        .await,
        200,
    );
    assert_eq!(trend[0]["dispatched"], 1, "{trend}");
    let bad = expect(
        app.post(
            &format!("/api/v1/requests/{east_req}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": YUNJING_EAST, "role": "lead" }] }),
        )
        .await,
        422,
    );
    assert!(
        bad.to_string().contains("assignments[0].unit_code"),
        "{bad}"
    );

    // A street with an active community cannot close; the community can, and is then refused
    // as a dispatch target while its record stays readable.
    let bad = expect(
        app.post(
            &format!("/api/v1/units/{YUNJING}/close"),
            Some(&admin),
            json!({}),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "code");
    let closed = expect(
        app.post(
            &format!("/api/v1/units/{YUNJING_COMMUNITY}/close"),
            Some(&admin),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(closed["active"], false);
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            crate::helpers::complaint("云景湾东一社区路灯不亮。"),
        )
        .await,
        201,
    );
    let bad = expect(
        app.post(
            &format!("/api/v1/requests/{}/dispatch", r["id"].as_str().unwrap()),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": YUNJING_COMMUNITY, "role": "lead" }] }),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "assignments[0].unit_code");
    let closed_list = expect(
        app.get("/api/v1/units?state=closed&q=云景湾", Some(&admin))
            .await,
        200,
    );
    assert_eq!(closed_list.as_array().unwrap().len(), 2);

    // An administrator's edit of a shipped unit survives a reload of the shipped file, and
    // the units added at run time survive a restart (the gazetteer is rebuilt from them).
    expect(
        app.patch(
            &format!("/api/v1/units/{YOUANMEN}"),
            &admin,
            json!({ "name": "右安门街道办事处", "duty_phone": "010-63500000" }),
        )
        .await,
        200,
    );
    let events = unit_events(&app).await;
    app.exec("DELETE FROM reference_versions WHERE name = 'units'")
        .await;
    app.restart().await;
    let op = app.login("op1", "password1").await;
    let yam = expect(
        app.get(&format!("/api/v1/units/{YOUANMEN}"), Some(&op))
            .await,
        200,
    );
    assert_eq!(yam["unit"]["name"], "右安门街道办事处");
    assert_eq!(yam["unit"]["duty_phone"], "010-63500000");
    assert!(yam["versions"].as_array().unwrap().len() >= 2, "{yam}");
    let wj = expect(
        app.get(&format!("/api/v1/units/{WANGJING}"), Some(&op))
            .await,
        200,
    );
    assert_eq!(wj["unit"]["source"], "shipped");
    let v = suggest(&app, &op, "朝阳区云景湾新城街道金盏路口道路破损。").await;
    assert_eq!(v["place"]["street"]["code"], YUNJING, "{v}");
    assert_eq!(unit_events(&app).await, events);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT action FROM events WHERE action LIKE 'unit.%' ORDER BY action",
    )
    .fetch_all(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(
        actions,
        ["unit.added", "unit.changed", "unit.closed", "unit.merged"]
    );
}

fn run(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = app.cli().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub async fn units_export_and_import_as_csv_and_xlsx_with_counts_events_and_named_bad_rows(
    b: Backend,
) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let dir = app.dir.path();
    let csv_out = dir.join("units.csv");
    let (code, _, err) = run(
        &app,
        &["units", "export", "--out", csv_out.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "code,name,short_name,level,parent_code,duty_phone,liaison_name,liaison_phone,active,merged_into"
    );
    let at = |code: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(&format!("{code},")))
            .unwrap()
    };
    assert!(at(CHAOYANG) < at(WANGJING), "parents first");
    let shipped = lines.len() - 1;

    // One changed, one added, one as it is: a dry run counts and keeps nothing.
    let wangjing = lines[at(WANGJING)].replacen(",,,,1,", ",010-64700000,,,1,", 1);
    assert_ne!(wangjing, lines[at(WANGJING)], "{}", lines[at(WANGJING)]);
    let file = dir.join("changes.csv");
    std::fs::write(
        &file,
        format!(
            "{}\n{wangjing}\n110105903,云景湾北街道,,subdistrict,{CHAOYANG},,王芳,13800002222,1,\n{}\n",
            lines[0],
            lines[at(YOUANMEN)]
        ),
    )
    .unwrap();
    let events = unit_events(&app).await;
    let (code, out, err) = run(
        &app,
        &["units", "import", file.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        "1 would be added, 1 would be changed, 1 unchanged"
    );
    assert_eq!(unit_events(&app).await, events);
    expect(
        app.get("/api/v1/units/110105903", Some(&app.admin)).await,
        404,
    );
    let (code, out, err) = run(&app, &["units", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "1 added, 1 changed, 1 unchanged");
    let console: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE action LIKE 'unit.%' AND actor_id = 'console'",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!((unit_events(&app).await, console), (events + 2, 2));
    let wj = expect(
        app.get(&format!("/api/v1/units/{WANGJING}"), Some(&app.admin))
            .await,
        200,
    );
    assert_eq!(wj["unit"]["duty_phone"], "010-64700000");
    let added = expect(
        app.get("/api/v1/units/110105903", Some(&app.admin)).await,
        200,
    );
    assert_eq!(added["unit"]["liaison_name"], "王芳");

    // A bad row exits 2 naming its row and column, and nothing of the file is kept.
    for (body, named) in [
        ("110105904,甲街道,,province,110105,,,,1,", "row 3, level"),
        (
            "110105904,甲街道,,subdistrict,110105,,,,maybe,",
            "row 3, active",
        ),
        (
            "110105904,甲街道,,subdistrict,110105026,,,,1,",
            "row 3, parent_code",
        ),
    ] {
        std::fs::write(
            &file,
            format!(
                "{}\n110105905,乙街道,,subdistrict,110105,,,,1,\n{body}\n",
                lines[0]
            ),
        )
        .unwrap();
        let (code, _, err) = run(&app, &["units", "import", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    expect(
        app.get("/api/v1/units/110105905", Some(&app.admin)).await,
        404,
    );
    assert_eq!(unit_events(&app).await, events + 2);

    // xlsx: the whole table goes out and comes back unchanged.
    let xlsx = dir.join("units.xlsx");
    let (code, _, err) = run(
        &app,
        &[
            "units",
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(
        &app,
        &["units", "import", xlsx.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        format!(
            "0 would be added, 0 would be changed, {} unchanged",
            shipped + 1
        )
    );
}

/// Dispatches the standard complaint to 望京 as `emergency`: its acknowledge-by.
async fn emergency_ack_by(app: &TestApp, s: &Staff) -> chrono::DateTime<chrono::Utc> {
    let r = super::cast::new_request(app, s).await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{}/dispatch", r["id"].as_str().unwrap()),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "time_limit_class": "emergency" }),
        )
        .await,
        200,
    );
    serde_json::from_value(v["assignments"][0]["acknowledge_by"].clone()).unwrap()
}

pub async fn an_administrator_changes_a_time_limit_as_a_new_version_and_running_orders_keep_theirs(
    b: Backend,
) {
    let Some(mut app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let now = app.clock.now();
    let first = emergency_ack_by(&app, &s).await;
    assert_eq!(first, now + Duration::minutes(30));
    let version = json!({ "class": "emergency", "name_zh": "紧急", "name_en": "Emergency",
        "acknowledge_minutes": 15, "reply_minutes": 60, "day_kind": "calendar" });
    expect(
        app.post("/api/v1/time-limits", Some(&s.dispatcher), version.clone())
            .await,
        403,
    );
    for (patch, named) in [
        (json!({ "reply_minutes": 10 }), "reply_minutes"),
        (json!({ "day_kind": "lunar" }), "day_kind"),
        (json!({ "class": "Bad Class" }), "class"),
        (
            json!({ "effective_from": (now - Duration::days(1)).to_rfc3339() }),
            "effective_from",
        ),
    ] {
        let mut body = version.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let bad = expect(
            app.post("/api/v1/time-limits", Some(&app.admin), body)
                .await,
            422,
        );
        assert_eq!(field(&bad), named, "{bad}");
    }
    let added = expect(
        app.post("/api/v1/time-limits", Some(&app.admin), version.clone())
            .await,
        201,
    );
    assert_eq!(added["acknowledge_minutes"], 15);
    expect(
        app.post("/api/v1/time-limits", Some(&app.admin), version.clone())
            .await,
        409,
    );
    // Tomorrow's version waits for tomorrow.
    let mut later = version.clone();
    later["acknowledge_minutes"] = json!(20);
    later["effective_from"] = json!((now + Duration::days(1)).to_rfc3339());
    expect(
        app.post("/api/v1/time-limits", Some(&app.admin), later)
            .await,
        201,
    );
    assert_eq!(
        emergency_ack_by(&app, &s).await,
        now + Duration::minutes(15)
    );
    let events: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'time_limit.version_added'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(events, 2);
    let all = expect(app.get("/api/v1/time-limits", Some(&s.wangjing)).await, 200);
    let emergency = |all: &Value| {
        all.as_array()
            .unwrap()
            .iter()
            .filter(|v| v["class"] == "emergency")
            .count()
    };
    assert_eq!(emergency(&all), 3);

    // A newer shipped file adds no version over the administrator's class.
    app.exec("UPDATE reference_versions SET version = 'older' WHERE name = 'time_limits'")
        .await;
    app.restart().await;
    let s = relogin(&app).await;
    assert_eq!(
        emergency_ack_by(&app, &s).await,
        now + Duration::minutes(15)
    );
    let all = expect(app.get("/api/v1/time-limits", Some(&s.wangjing)).await, 200);
    assert_eq!(emergency(&all), 3);
}
