//! Issue 18: unit changes with a date, and every node following them. A rename dated next
//! month waits (the old name dispatches, resolves and ranks until then) and the sweep applies
//! it in force from its day; a change no longer valid on its day is marked failed with its
//! reason; a day before the current month is refused naming the field. A street added on one
//! node is resolved from an address on another once it follows the log, and a move reaches
//! the search index without a reindex.

use super::cast::{act, relogin, reply_body, staff, suggest, Staff, CHAOYANG, WANGJING};
use crate::helpers::{expect, order_id, Backend, TestApp};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::Role;
use serde_json::{json, Value};

const YUNJING: &str = "110105901"; // 云景湾街道, added at run time
const YUNJING_EAST: &str = "110105902"; // 云景湾东街道
const YUNJING_COMMUNITY: &str = "110105901001"; // 云景湾一社区

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

async fn add(app: &TestApp, admin: &str, code: &str, name: &str, level: &str, parent: &str) {
    expect(
        app.post(
            "/api/v1/units",
            Some(admin),
            json!({ "code": code, "name": name, "level": level, "parent_code": parent }),
        )
        .await,
        201,
    );
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

async fn ranked_name(app: &TestApp, token: &str, month: &str, code: &str) -> Value {
    let r = expect(
        app.get(
            &format!("/api/v1/kpi/ranking?month={month}&level=subdistrict"),
            Some(token),
        )
        .await,
        200,
    );
    r["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == code)
        .map(|u| u["name"].clone())
        .unwrap_or(Value::Null)
}

pub async fn a_unit_change_dated_ahead_waits_for_its_day_and_a_bad_day_is_named(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    add(&app, &admin, YUNJING, "云景湾街道", "subdistrict", CHAOYANG).await;
    add(
        &app,
        &admin,
        YUNJING_EAST,
        "云景湾东街道",
        "subdistrict",
        CHAOYANG,
    )
    .await;
    add(
        &app,
        &admin,
        YUNJING_COMMUNITY,
        "云景湾一社区",
        "community",
        YUNJING,
    )
    .await;
    app.user("yj_mgr", Role::UnitManager, Some(YUNJING)).await;
    let patch = |code: &'static str, body: Value| {
        let (app, admin) = (&app, admin.clone());
        async move {
            app.patch(&format!("/api/v1/units/{code}"), &admin, body)
                .await
        }
    };

    // A day before this month's first, or not a day, is refused naming the field; nothing is
    // kept and no event written. So is a dated change that is wrong today.
    let events = app.event_count().await;
    for day in ["2026-10-31", "next month", "2026-02-30"] {
        let bad = expect(
            patch(YUNJING, json!({ "name": "x街道", "effective_from": day })).await,
            422,
        );
        assert_eq!(field(&bad), "effective_from", "{day}: {bad}");
    }
    let bad = expect(
        patch(
            YUNJING,
            json!({ "parent_code": "nowhere", "effective_from": "2026-12-01" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "parent_code", "{bad}");
    assert_eq!(app.event_count().await, events);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM unit_schedule").await, 0);

    // Back-dated within the month: applies now, in force from that day's midnight.
    let now = expect(
        patch(
            WANGJING,
            json!({ "duty_phone": "010-84000000", "effective_from": "2026-11-01" }),
        )
        .await,
        200,
    );
    assert_eq!(now["duty_phone"], "010-84000000");
    let wj = expect(
        app.get(&format!("/api/v1/units/{WANGJING}"), Some(&admin))
            .await,
        200,
    );
    let last = wj["versions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        at(&last["effective_from"]),
        "2026-10-31T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );

    // Dated ahead: a rename from 1 December waits, answered 202 with the change.
    let sched = expect(
        patch(
            YUNJING,
            json!({ "name": "云景湾新城街道", "short_name": "云景湾新城", "effective_from": "2026-12-01" }),
        )
        .await,
        202,
    );
    assert_eq!(sched["status"], "pending");
    assert_eq!(sched["change"]["name"], "云景湾新城街道");
    assert_eq!(
        at(&sched["effective_from"]),
        "2026-11-30T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    // A move dated ahead whose new parent closes before its day.
    expect(
        patch(
            YUNJING_COMMUNITY,
            json!({ "parent_code": YUNJING_EAST, "effective_from": "2026-12-01" }),
        )
        .await,
        202,
    );
    expect(
        app.post(
            &format!("/api/v1/units/{YUNJING_EAST}/close"),
            Some(&admin),
            json!({}),
        )
        .await,
        200,
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE action = 'unit.change_scheduled'"
        )
        .await,
        2
    );

    // Until then the old name is in force: the unit, place resolution and November's orders.
    let yj = expect(
        app.get(&format!("/api/v1/units/{YUNJING}"), Some(&s.operator))
            .await,
        200,
    );
    assert_eq!(yj["unit"]["name"], "云景湾街道");
    assert_eq!(yj["scheduled"][0]["status"], "pending");
    let v = suggest(&app, &s.operator, "朝阳区云景湾街道金盏路口道路破损。").await;
    assert_eq!(v["place"]["street"]["code"], YUNJING, "{v}");
    let mgr = app.login("yj_mgr", "password1").await;
    let (_, nov) = dispatch_to(&app, &s, YUNJING, "朝阳区云景湾街道金盏路").await;
    act(&app, &mgr, &nov, "acknowledge", json!({})).await;
    act(&app, &mgr, &nov, "reply", reply_body("已修补路面")).await;
    assert_eq!(
        jiesu::services::unit_schedule::apply_due(&app.state)
            .await
            .unwrap(),
        0
    );

    // 2 December: the sweep applies the rename in force from 1 December; the move fails
    // with its reason and an event; a second sweep does nothing.
    app.clock.advance(Duration::days(30));
    assert_eq!(
        jiesu::services::unit_schedule::apply_due(&app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        jiesu::services::unit_schedule::apply_due(&app.state)
            .await
            .unwrap(),
        0
    );
    let s = relogin(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let mgr = app.login("yj_mgr", "password1").await;
    let yj = expect(
        app.get(&format!("/api/v1/units/{YUNJING}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(yj["unit"]["name"], "云景湾新城街道");
    assert_eq!(yj["scheduled"][0]["status"], "applied");
    let last = yj["versions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["unit"]["name"], "云景湾新城街道");
    assert_eq!(
        at(&last["effective_from"]),
        "2026-11-30T16:00:00Z".parse::<DateTime<Utc>>().unwrap()
    );
    let community = expect(
        app.get(&format!("/api/v1/units/{YUNJING_COMMUNITY}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(community["unit"]["parent_code"], YUNJING);
    assert_eq!(community["scheduled"][0]["status"], "failed");
    assert!(
        community["scheduled"][0]["note"]
            .as_str()
            .unwrap()
            .contains("parent_code"),
        "{community}"
    );
    assert_eq!(
        count(
            &app,
            "SELECT COUNT(*) FROM events WHERE action = 'unit.change_failed'"
        )
        .await,
        1
    );
    let v = suggest(&app, &s.operator, "朝阳区云景湾新城街道金盏路口道路破损。").await;
    assert_eq!(v["place"]["street"]["code"], YUNJING, "{v}");
    let (_, dec) = dispatch_to(&app, &s, YUNJING, "朝阳区云景湾新城街道").await;
    act(&app, &mgr, &dec, "acknowledge", json!({})).await;
    // November ranks the old name, December the new one.
    assert_eq!(
        ranked_name(&app, &admin, "2026-11", YUNJING).await,
        "云景湾街道"
    );
    assert_eq!(
        ranked_name(&app, &admin, "2026-12", YUNJING).await,
        "云景湾新城街道"
    );
}

pub async fn a_unit_added_on_one_node_is_resolved_on_another_and_a_move_reaches_the_search_index(
    b: Backend,
) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let other = jiesu::open_state(app.config.clone(), std::sync::Arc::new(app.clock.clone()))
        .await
        .expect("a second node");
    let text = "朝阳区云景湾街道金盏路口道路破损，坑洼积水。";
    let street =
        |state: &jiesu::services::AppState| state.models.gazetteer().resolve(text).codes().street;
    assert_ne!(street(&other).as_deref(), Some(YUNJING));

    // Added on node A: A resolves it at once, B once it has followed the log.
    add(&app, &admin, YUNJING, "云景湾街道", "subdistrict", CHAOYANG).await;
    assert_eq!(street(&app.state).as_deref(), Some(YUNJING));
    assert_ne!(street(&other).as_deref(), Some(YUNJING));
    assert!(jiesu::services::unit_schedule::follow(&other)
        .await
        .unwrap());
    assert_eq!(street(&other).as_deref(), Some(YUNJING));
    assert_eq!(
        other.models.unit_name(YUNJING).as_deref(),
        Some("云景湾街道")
    );
    assert!(!jiesu::services::unit_schedule::follow(&other)
        .await
        .unwrap());
    // A rename on A reaches B's unit names the same way.
    expect(
        app.patch(
            &format!("/api/v1/units/{YUNJING}"),
            &admin,
            json!({ "name": "云景湾新城街道" }),
        )
        .await,
        200,
    );
    assert!(jiesu::services::unit_schedule::follow(&other)
        .await
        .unwrap());
    assert_eq!(
        other.models.unit_name(YUNJING).as_deref(),
        Some("云景湾新城街道")
    );

    // A community's order is found under its street; moved to another street, the search
    // index follows without a reindex.
    add(
        &app,
        &admin,
        YUNJING_EAST,
        "云景湾东街道",
        "subdistrict",
        CHAOYANG,
    )
    .await;
    add(
        &app,
        &admin,
        YUNJING_COMMUNITY,
        "云景湾一社区",
        "community",
        YUNJING_EAST,
    )
    .await;
    let (req, _) = dispatch_to(&app, &s, YUNJING_COMMUNITY, "朝阳区云景湾一社区").await;
    jiesu::services::search::catch_up(&app.state).await.unwrap();
    let found = |unit: &'static str| {
        let (app, admin, req) = (&app, admin.clone(), req.clone());
        async move {
            let v = expect(
                app.get(
                    &format!("/api/v1/search?q=道路破损&unit={unit}"),
                    Some(&admin),
                )
                .await,
                200,
            );
            v.to_string().contains(&req)
        }
    };
    assert!(found(YUNJING_EAST).await);
    assert!(!found(YUNJING).await);
    expect(
        app.patch(
            &format!("/api/v1/units/{YUNJING_COMMUNITY}"),
            &admin,
            json!({ "parent_code": YUNJING }),
        )
        .await,
        200,
    );
    jiesu::services::search::catch_up(&app.state).await.unwrap();
    assert!(found(YUNJING).await, "found under the new street");
    assert!(!found(YUNJING_EAST).await, "no longer under the old one");
    other.store.close().await;
}
