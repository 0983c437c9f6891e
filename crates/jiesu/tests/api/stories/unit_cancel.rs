//! Issue 18: a unit change dated ahead is listed (`GET /units/{code}/changes`) and cancelled
//! before its day (`DELETE /units/{code}/changes/{id}`, event `unit.change_cancelled`); the
//! sweep never applies a cancelled change, and applies the other one on its day. Only an
//! administrator cancels; a change cancelled, applied or unknown is named by its status.

use super::cast::{staff, CHAOYANG, WANGJING};
use crate::helpers::{app, expect, Backend, TestApp};
use chrono::Duration;
use jiesu_core::Role;
use serde_json::json;

const YUNJING: &str = "110105901"; // 云景湾街道, added at run time

async fn sweep(app: &TestApp) -> usize {
    jiesu::services::unit_schedule::apply_due(&app.state)
        .await
        .unwrap()
}

async fn cancelled_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'unit.change_cancelled'")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

pub async fn a_unit_change_dated_ahead_is_cancelled_before_its_day_and_never_applies(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let body = json!({ "code": YUNJING, "name": "云景湾街道", "level": "subdistrict", "parent_code": CHAOYANG });
    expect(app.post("/api/v1/units", Some(&admin), body).await, 201);
    let path = format!("/api/v1/units/{YUNJING}");
    let rename = json!({ "name": "云景湾新城街道", "effective_from": "2026-12-01" });
    let rename = expect(app.patch(&path, &admin, rename).await, 202);
    let phone = json!({ "duty_phone": "010-84111111", "effective_from": "2026-12-15" });
    let phone = expect(app.patch(&path, &admin, phone).await, 202);
    let (rename_id, phone_id) = (
        rename["id"].as_str().unwrap().to_string(),
        phone["id"].as_str().unwrap().to_string(),
    );

    // Both wait, listed by day, for anyone logged in.
    let changes = format!("{path}/changes");
    let list = expect(app.get(&changes, Some(&s.operator)).await, 200);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [rename_id.as_str(), phone_id.as_str()]);
    assert_eq!(list[0]["change"]["name"], "云景湾新城街道");
    let bad = expect(
        app.get(&format!("{changes}?state=x"), Some(&admin)).await,
        422,
    );
    assert_eq!(bad["error"]["fields"][0]["field"], "state", "{bad}");
    expect(
        app.get("/api/v1/units/nowhere/changes", Some(&admin)).await,
        404,
    );

    // Only an administrator cancels, and only a change of that unit.
    let one = format!("{changes}/{rename_id}");
    let mgr = app.user("yj_mgr", Role::UnitManager, Some(YUNJING)).await;
    let events = app.event_count().await;
    expect(app.delete(&one, &mgr).await, 403);
    expect(app.delete(&one, &s.operator).await, 403);
    let elsewhere = format!("/api/v1/units/{WANGJING}/changes/{rename_id}");
    expect(app.delete(&elsewhere, &admin).await, 404);
    expect(app.delete(&format!("{changes}/nope"), &admin).await, 404);
    assert_eq!(app.event_count().await, events);

    // Cancelled: an event, then gone from the pending list; a second cancel is a conflict.
    let done = expect(app.delete(&one, &admin).await, 200);
    assert_eq!(done["status"], "cancelled");
    assert_eq!(cancelled_events(&app).await, 1);
    assert_eq!(app.event_count().await, events + 1);
    let again = expect(app.delete(&one, &admin).await, 409);
    assert_eq!(again["error"]["code"], "conflict", "{again}");
    let list = expect(app.get(&changes, Some(&admin)).await, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], phone_id.as_str());
    let all = expect(
        app.get(&format!("{changes}?state=all"), Some(&admin)).await,
        200,
    );
    assert_eq!(all[0]["status"], "cancelled");
    assert_eq!(all[1]["status"], "pending");

    // 2 December: the cancelled rename never applies; the name stays.
    app.clock.advance(Duration::days(30));
    assert_eq!(sweep(&app).await, 0);
    let admin = app.login("admin", "adminpass1").await;
    let yj = expect(app.get(&path, Some(&admin)).await, 200);
    assert_eq!(yj["unit"]["name"], "云景湾街道");
    assert_eq!(yj["scheduled"][0]["status"], "cancelled");

    // 16 December: the other change applies on its day; it can no longer be cancelled.
    app.clock.advance(Duration::days(14));
    assert_eq!(sweep(&app).await, 1);
    let admin = app.login("admin", "adminpass1").await;
    let yj = expect(app.get(&path, Some(&admin)).await, 200);
    assert_eq!(yj["unit"]["name"], "云景湾街道");
    assert_eq!(yj["unit"]["duty_phone"], "010-84111111");
    let late = format!("{changes}/{phone_id}");
    expect(app.delete(&late, &admin).await, 409);
    assert_eq!(cancelled_events(&app).await, 1);
    let list = expect(app.get(&changes, Some(&admin)).await, 200);
    assert!(list.as_array().unwrap().is_empty());
}
