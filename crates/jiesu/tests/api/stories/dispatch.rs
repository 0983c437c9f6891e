//! After dispatch: deadlines marked by the sweep and listed for supervision, and disputes
//! between units arbitrated by the center.

use super::cast::{act, actions, new_request, return_accepted, staff, CGZF, WANGJING, YOUANMEN};
use crate::helpers::{app, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

pub async fn deadlines_are_marked_once_by_the_sweep_and_listed_for_supervision(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let supervisor = app.user("sup1", Role::Supervisor, None).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    // Emergency: 30 min to acknowledge, 2 h to reply (calendar).
    let v = expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": CGZF, "role": "co" }], "time_limit_class": "emergency" })).await, 200);
    let a = &v["assignments"][0];
    let dispatched: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(a["dispatched_at"].clone()).unwrap();
    let ack_by: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(a["acknowledge_by"].clone()).unwrap();
    let reply_by: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(a["reply_by"].clone()).unwrap();
    assert_eq!(ack_by - dispatched, chrono::Duration::minutes(30));
    assert_eq!(reply_by - dispatched, chrono::Duration::hours(2));
    act(
        &app,
        &s.cgzf,
        &order_id(&v, CGZF, 1),
        "acknowledge",
        json!({}),
    )
    .await;

    assert_eq!(
        jiesu::jobs::sweep_deadlines(&app.state).await.unwrap(),
        jiesu::jobs::SweepReport::default()
    );
    app.clock.advance(chrono::Duration::minutes(31));
    let rep = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    assert_eq!(
        (rep.ack_overdue, rep.reply_warned, rep.reply_overdue),
        (1, 0, 0)
    );
    let overdue = expect(
        app.get("/api/v1/supervision/overdue", Some(&supervisor))
            .await,
        200,
    );
    assert_eq!(overdue.as_array().unwrap().len(), 1);
    assert_eq!(overdue[0]["unit_code"], WANGJING);
    assert_eq!(overdue[0]["ack_overdue"], true);
    // Pre-breach: 20 % of 2 h = the last 24 min.
    app.clock.advance(chrono::Duration::minutes(70));
    let rep = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    assert_eq!(
        (rep.ack_overdue, rep.reply_warned, rep.reply_overdue),
        (0, 2, 0)
    );
    let soon = expect(
        app.get("/api/v1/supervision/about-to-breach", Some(&supervisor))
            .await,
        200,
    );
    assert_eq!(soon.as_array().unwrap().len(), 2, "{soon}");
    app.clock.advance(chrono::Duration::minutes(20));
    let rep = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    assert_eq!(
        (rep.ack_overdue, rep.reply_warned, rep.reply_overdue),
        (0, 0, 2)
    );
    assert_eq!(
        expect(
            app.get("/api/v1/supervision/about-to-breach", Some(&supervisor))
                .await,
            200
        ),
        json!([])
    );
    // Idempotent: a second sweep finds nothing new.
    assert_eq!(
        jiesu::jobs::sweep_deadlines(&app.state).await.unwrap(),
        jiesu::jobs::SweepReport::default()
    );
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    let acts = actions(&v);
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "assignment.ack_overdue")
            .count(),
        1
    );
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "assignment.reply_warning")
            .count(),
        2
    );
    assert_eq!(
        acts.iter()
            .filter(|a| *a == "assignment.reply_overdue")
            .count(),
        2
    );
    // Units see only their own overdue orders; operators none.
    let mine = expect(
        app.get("/api/v1/supervision/overdue", Some(&s.cgzf)).await,
        200,
    );
    assert!(mine
        .as_array()
        .unwrap()
        .iter()
        .all(|o| o["unit_code"] == CGZF));
    expect(
        app.get("/api/v1/supervision/overdue", Some(&s.operator))
            .await,
        403,
    );
}

/// Two units return the same request: it waits as a dispute; the center names the responsible
/// unit with a reason; that unit cannot return it again, and the decision is in the history.
pub async fn dispatch_disputes_are_listed_and_arbitrated_and_the_decision_holds(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    let dispatch_to =
        |unit: &'static str| json!({ "assignments": [{ "unit_code": unit, "role": "lead" }] });
    let arbitration = json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "reason": "工地位于望京街道辖区，属地负责" });
    // Nothing to arbitrate before a return.
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/arbitrate"),
            Some(&s.dispatcher),
            arbitration.clone(),
        )
        .await,
        409,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            dispatch_to(WANGJING),
        )
        .await,
        200,
    );
    return_accepted(
        &app,
        &s.wangjing,
        &s.dispatcher,
        &order_id(&v, WANGJING, 1),
        "不属本街道，应由城管执法处理",
    )
    .await;
    let list = expect(
        app.get("/api/v1/supervision/disputes", Some(&sup)).await,
        200,
    );
    assert_eq!(list, json!([]), "one return is not yet a dispute");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            dispatch_to(YOUANMEN),
        )
        .await,
        200,
    );
    return_accepted(
        &app,
        &s.youanmen,
        &s.dispatcher,
        &order_id(&v, YOUANMEN, 1),
        "地点在朝阳区望京，非本街道辖区",
    )
    .await;
    let list = expect(
        app.get("/api/v1/supervision/disputes", Some(&sup)).await,
        200,
    );
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["request_id"], id);
    let reasons: Vec<&str> = list[0]["returns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["return_reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "不属本街道，应由城管执法处理",
            "地点在朝阳区望京，非本街道辖区"
        ]
    );
    expect(
        app.get("/api/v1/supervision/disputes", Some(&s.wangjing))
            .await,
        403,
    );

    expect(
        app.post(
            &format!("/api/v1/requests/{id}/arbitrate"),
            Some(&s.operator),
            arbitration.clone(),
        )
        .await,
        403,
    );
    let (status, body) = app
        .post(
            &format!("/api/v1/requests/{id}/arbitrate"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "reason": " " }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(body["error"]["fields"][0]["field"], "reason");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/arbitrate"),
            Some(&s.dispatcher),
            arbitration,
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "dispatched");
    assert_eq!(
        expect(
            app.get("/api/v1/supervision/disputes", Some(&sup)).await,
            200
        ),
        json!([])
    );
    let orders: Vec<&Value> = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["unit_code"] == WANGJING && o["status"] == "dispatched")
        .collect();
    let order = orders[0]["id"].as_str().unwrap().to_string();
    let (status, body) = app
        .post(
            &format!("/api/v1/assignments/{order}/return"),
            Some(&s.wangjing),
            json!({ "reason": "仍不属本街道" }),
        )
        .await;
    assert_eq!(status, 409, "{body}");
    act(&app, &s.wangjing, &order, "acknowledge", json!({})).await;
    let view = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await,
        200,
    );
    let events = actions(&view);
    assert!(
        events.iter().any(|a| a == "request.arbitrated"),
        "{events:?}"
    );
}
