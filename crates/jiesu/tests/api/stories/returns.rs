//! 退单审核 (issue 18): a unit's return waits for the dispatcher. Accepted, the order is
//! returned and the request is dispatched again; rejected with a reason, the unit keeps the
//! order, reads why, replies, and the request goes on. Only the center reviews, once.

use super::cast::{
    act, actions, new_request, reply_body, review_return, staff, WANGJING, YOUANMEN,
};
use crate::helpers::{app, expect, order_id, Backend, TestApp};
use jiesu::services::kpi::{check_rollups, month_tallies_recounted, refresh_rollups, Month};
use jiesu_core::Role;
use serde_json::{json, Value};

const RETURN_REASON: &str = "该地址属朝阳区望京街道，非本街道辖区";
const REJECT_REASON: &str = "经核实该小区在本街道辖区内，请继续办理";

fn order<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
}

async fn dispatched_to(app: &TestApp, dispatcher: &str, id: &str, unit: &str) -> Value {
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(dispatcher),
            json!({ "assignments": [{ "unit_code": unit, "role": "lead" }] }),
        )
        .await,
        200,
    )
}

/// The pending returns as the dispatcher lists them.
async fn pending(app: &TestApp, token: &str) -> Vec<Value> {
    expect(
        app.get("/api/v1/returns?status=pending", Some(token)).await,
        200,
    )
    .as_array()
    .unwrap()
    .clone()
}

/// Replay agrees with the tables and the KPI rollups with a full recount.
async fn consistent(app: &TestApp) {
    let replay = jiesu::store::replay::compare(app.state.store.reader())
        .await
        .unwrap();
    assert!(replay.is_empty(), "replay disagrees: {replay:?}");
    let month = Month::parse("2026-11").unwrap();
    refresh_rollups(&app.state).await.unwrap();
    assert_eq!(check_rollups(&app.state, month).await.unwrap(), []);
}

pub async fn an_accepted_return_goes_back_to_dispatch_and_another_unit_takes_it(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let v = dispatched_to(&app, &s.dispatcher, &id, YOUANMEN).await;
    let o = order_id(&v, YOUANMEN, 1);
    act(&app, &s.youanmen, &o, "acknowledge", json!({})).await;

    // The return waits: the order stays with the unit, the request with it.
    let v = act(
        &app,
        &s.youanmen,
        &o,
        "return",
        json!({ "reason": RETURN_REASON }),
    )
    .await;
    assert_eq!(v["status"], "in_progress");
    assert_eq!(order(&v, &o)["status"], "acknowledged");
    assert_eq!(v["return_reviews"][0]["status"], "pending");
    assert_eq!(v["return_reviews"][0]["reason"], RETURN_REASON);
    let (status, body) = app
        .post(
            &format!("/api/v1/assignments/{o}/return"),
            Some(&s.youanmen),
            json!({ "reason": "再退一次" }),
        )
        .await;
    assert_eq!(status, 409, "a second return while one is pending: {body}");
    let (status, body) = app
        .post(
            &format!("/api/v1/assignments/{o}/reply"),
            Some(&s.youanmen),
            reply_body("x"),
        )
        .await;
    assert_eq!(status, 409, "no reply while the return waits: {body}");
    let list = pending(&app, &s.dispatcher).await;
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["assignment_id"], o.as_str());
    assert_eq!(list[0]["unit_code"], YOUANMEN);
    assert_eq!(list[0]["number"], r["number"]);
    assert_eq!(list[0]["role"], "lead");
    assert_eq!(pending(&app, &sup).await.len(), 1);
    expect(app.get("/api/v1/returns", Some(&s.youanmen)).await, 403);
    expect(
        app.get("/api/v1/returns?status=maybe", Some(&s.dispatcher))
            .await,
        400,
    );

    // Only the center reviews.
    let accept = json!({ "decision": "accept" });
    let (status, _) = review_return(&app, &s.youanmen, &o, accept.clone()).await;
    assert_eq!(status, 403);
    let (status, _) = review_return(&app, &s.operator, &o, accept.clone()).await;
    assert_eq!(status, 403);
    let (status, body) =
        review_return(&app, &s.dispatcher, &o, json!({ "decision": "maybe" })).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["fields"][0]["field"], "decision", "{body}");
    let (status, _) = review_return(&app, &s.dispatcher, "no-such-order", accept.clone()).await;
    assert_eq!(status, 404);

    let (status, v) = review_return(&app, &s.dispatcher, &o, accept.clone()).await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "received");
    assert_eq!(order(&v, &o)["status"], "returned");
    assert_eq!(order(&v, &o)["return_reason"], RETURN_REASON);
    assert_eq!(v["return_reviews"][0]["status"], "accepted");
    let (status, body) = review_return(&app, &s.dispatcher, &o, accept).await;
    assert_eq!(status, 409, "a second review: {body}");
    assert!(pending(&app, &s.dispatcher).await.is_empty());
    let accepted = expect(
        app.get("/api/v1/returns?status=accepted", Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(accepted.as_array().unwrap().len(), 1);
    let waiting = expect(
        app.get("/api/v1/supervision/returned", Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(waiting[0]["id"], o.as_str());

    // Re-dispatched to the right street, which handles it.
    let v = dispatched_to(&app, &s.dispatcher, &id, WANGJING).await;
    assert_eq!(v["status"], "dispatched");
    let w = order_id(&v, WANGJING, 1);
    act(&app, &s.wangjing, &w, "acknowledge", json!({})).await;
    let v = act(
        &app,
        &s.wangjing,
        &w,
        "reply",
        reply_body("已协调施工方停工"),
    )
    .await;
    assert_eq!(v["status"], "replied");
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    let acts = actions(&v);
    for needed in ["assignment.return_requested", "assignment.return_accepted"] {
        assert!(acts.iter().any(|a| a == needed), "{needed}: {acts:?}");
    }
    // The returned order does not count for the street that returned it.
    let tallies = month_tallies_recounted(&app.state, Month::parse("2026-11").unwrap())
        .await
        .unwrap();
    assert_eq!(tallies.get(YOUANMEN).map_or(0, |t| t.dispatched), 0);
    assert_eq!(tallies[WANGJING].dispatched, 1);
    consistent(&app).await;
}

pub async fn a_rejected_return_stays_with_the_unit_which_reads_why_and_replies(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let v = dispatched_to(&app, &s.dispatcher, &id, WANGJING).await;
    let o = order_id(&v, WANGJING, 1);
    let reply_by = order(&v, &o)["reply_by"].clone();
    let v = act(
        &app,
        &s.wangjing,
        &o,
        "return",
        json!({ "reason": "不属本街道" }),
    )
    .await;
    assert_eq!(v["status"], "dispatched");

    // A rejection needs a reason of at most 500 characters.
    for body in [
        json!({ "decision": "reject" }),
        json!({ "decision": "reject", "reason": "  " }),
        json!({ "decision": "reject", "reason": "理".repeat(501) }),
    ] {
        let (status, err) = review_return(&app, &s.dispatcher, &o, body).await;
        assert_eq!(status, 422, "{err}");
        assert_eq!(err["error"]["fields"][0]["field"], "reason", "{err}");
    }
    let (status, v) = review_return(
        &app,
        &s.dispatcher,
        &o,
        json!({ "decision": "reject", "reason": REJECT_REASON }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["status"], "dispatched");
    assert_eq!(order(&v, &o)["status"], "dispatched");
    assert_eq!(order(&v, &o)["reply_by"], reply_by, "the clock runs on");
    let (status, _) = review_return(&app, &s.dispatcher, &o, json!({ "decision": "accept" })).await;
    assert_eq!(status, 409, "a second review");

    // The unit still holds it and reads the reason.
    let mine = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.wangjing))
            .await,
        200,
    );
    assert_eq!(mine["return_reviews"][0]["status"], "rejected");
    assert_eq!(mine["return_reviews"][0]["decision_reason"], REJECT_REASON);
    assert!(actions(&mine)
        .iter()
        .any(|a| a == "assignment.return_rejected"));
    // Another unit sees neither the return nor the decision.
    let other = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.youanmen))
            .await,
        404,
    );
    assert!(!other.to_string().contains(REJECT_REASON));
    let returned = expect(
        app.get("/api/v1/supervision/returned", Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(returned, json!([]));

    act(&app, &s.wangjing, &o, "acknowledge", json!({})).await;
    let v = act(
        &app,
        &s.wangjing,
        &o,
        "reply",
        reply_body("已协调施工方夜间停工"),
    )
    .await;
    assert_eq!(v["status"], "replied");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed");
    // A rejected return is no return: the order counts for the street.
    let tallies = month_tallies_recounted(&app.state, Month::parse("2026-11").unwrap())
        .await
        .unwrap();
    assert_eq!(tallies[WANGJING].dispatched, 1);
    assert_eq!(tallies[WANGJING].called_back, 1);
    consistent(&app).await;
    // A hand edit of the review (the dispatcher's reason) is named by replay and compare.
    sqlx::query("UPDATE return_reviews SET decision_reason = '已同意' WHERE status = 'rejected'")
        .execute(app.state.store.reader())
        .await
        .unwrap();
    let replay = jiesu::store::replay::compare(app.state.store.reader())
        .await
        .unwrap();
    assert!(
        replay
            .iter()
            .any(|m| m.table == "return_reviews" && m.field == "decision_reason"),
        "{replay:?}"
    );
}
