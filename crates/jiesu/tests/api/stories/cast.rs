//! The stories' cast and their shared moves: the units they work in, the seven staff
//! (operator, dispatcher, callback agent and four unit users), a standard complaint and the
//! order verbs every handling story uses.

use crate::helpers::{complaint, expect, order_id, TestApp};
use jiesu_core::Role;
use serde_json::{json, Value};

pub const WANGJING: &str = "110105026"; // 望京街道
pub const HUAJIADI: &str = "110105026034"; // 花家地西里社区 (under 望京)
pub const YOUANMEN: &str = "110106001"; // 右安门街道 (丰台)
pub const CHAOYANG: &str = "110105"; // 朝阳区
pub const CGZF: &str = "dept.cgzf"; // 城管执法局

pub struct Staff {
    pub operator: String,
    pub dispatcher: String,
    pub agent: String,
    pub wangjing: String,
    pub huajiadi: String,
    pub youanmen: String,
    pub cgzf: String,
}

pub async fn staff(app: &TestApp) -> Staff {
    Staff {
        operator: app.user("op1", Role::Operator, None).await,
        dispatcher: app.user("disp1", Role::Dispatcher, None).await,
        agent: app.user("cb1", Role::CallbackAgent, None).await,
        wangjing: app.user("wj_mgr", Role::UnitManager, Some(WANGJING)).await,
        huajiadi: app
            .user("hjd_handler", Role::UnitHandler, Some(HUAJIADI))
            .await,
        youanmen: app.user("yam_mgr", Role::UnitManager, Some(YOUANMEN)).await,
        cgzf: app
            .user("cgzf_handler", Role::UnitHandler, Some(CGZF))
            .await,
    }
}

/// Logs the staff in again (after the clock moved past their sessions).
pub async fn relogin(app: &TestApp) -> Staff {
    let pw = "password1";
    Staff {
        operator: app.login("op1", pw).await,
        dispatcher: app.login("disp1", pw).await,
        agent: app.login("cb1", pw).await,
        wangjing: app.login("wj_mgr", pw).await,
        huajiadi: app.login("hjd_handler", pw).await,
        youanmen: app.login("yam_mgr", pw).await,
        cgzf: app.login("cgzf_handler", pw).await,
    }
}

pub async fn new_request(app: &TestApp, s: &Staff) -> Value {
    expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。"),
        )
        .await,
        201,
    )
}

/// Everything held about `phone`, exported as `token` (an admin): the export (200).
pub async fn export_of(app: &TestApp, token: &str, phone: &str) -> Value {
    expect(
        app.post(
            "/api/v1/privacy/export",
            Some(token),
            json!({ "phone": phone }),
        )
        .await,
        200,
    )
}

/// The ids of an export's requests, oldest first.
pub fn exported_ids(export: &Value) -> Vec<&str> {
    export["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect()
}

/// Asks intake for a suggestion on `text` as `token`: the suggestion (200).
pub async fn suggest(app: &TestApp, token: &str, text: &str) -> Value {
    expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(token),
            json!({ "text": text }),
        )
        .await,
        200,
    )
}

pub async fn act(app: &TestApp, token: &str, order: &str, verb: &str, body: Value) -> Value {
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/{verb}"),
            Some(token),
            body,
        )
        .await,
        200,
    )
}

pub fn reply_body(text: &str) -> Value {
    json!({ "to_requester": format!("您反映的问题已处理：{text}"), "to_center": format!("已核实并处理：{text}"), "outcome": "resolved" })
}

pub fn actions(view: &Value) -> Vec<String> {
    view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

/// The dispatcher sends request `id` to `lead` alone: the answer (200).
pub async fn dispatch_to(app: &TestApp, s: &Staff, id: &str, lead: &str) -> Value {
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": lead, "role": "lead" }] }),
        )
        .await,
        200,
    )
}

/// The operator records a complaint with `text` and the dispatcher sends it to `lead`:
/// the request's id.
pub async fn dispatched_complaint(app: &TestApp, s: &Staff, text: &str, lead: &str) -> String {
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), complaint(text))
            .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    dispatch_to(app, s, &id, lead).await;
    id
}

pub async fn through_to_reply(
    app: &TestApp,
    s: &Staff,
    id: &str,
    lead: &str,
    token: &str,
) -> String {
    let v = dispatch_to(app, s, id, lead).await;
    let o = order_id(&v, lead, v["round"].as_i64().unwrap());
    act(app, token, &o, "acknowledge", json!({})).await;
    act(app, token, &o, "reply", reply_body("已处理")).await;
    o
}

/// The dispatcher's review of an order's pending return (退单审核) as `token`: the answer's
/// status and body.
pub async fn review_return(
    app: &TestApp,
    token: &str,
    order: &str,
    body: Value,
) -> (reqwest::StatusCode, Value) {
    app.post(
        &format!("/api/v1/assignments/{order}/return-review"),
        Some(token),
        body,
    )
    .await
}

/// A unit returns an order (退单) and the dispatcher accepts the return: the request as the
/// dispatcher sees it afterwards. Until the review the order stays with the unit.
pub async fn return_accepted(
    app: &TestApp,
    unit: &str,
    dispatcher: &str,
    order: &str,
    reason: &str,
) -> Value {
    let v = act(app, unit, order, "return", json!({ "reason": reason })).await;
    let held = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == order)
        .unwrap();
    assert_ne!(held["status"], "returned", "a return waits for review: {v}");
    let (status, v) = review_return(app, dispatcher, order, json!({ "decision": "accept" })).await;
    assert_eq!(status, 200, "{v}");
    v
}
