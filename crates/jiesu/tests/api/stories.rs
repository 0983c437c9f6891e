//! User stories, each run on SQLite and PostgreSQL.

use crate::helpers::{complaint, expect, order_id, Backend, TestApp};
// Proactive work (issue #7) has its own file; the macro in main.rs looks here.
pub use crate::proactive::*;
use jiesu_core::Role;
use serde_json::{json, Value};

const WANGJING: &str = "110105026"; // 望京街道
const HUAJIADI: &str = "110105026034"; // 花家地西里社区 (under 望京)
const YOUANMEN: &str = "110106001"; // 右安门街道 (丰台)
const CHAOYANG: &str = "110105"; // 朝阳区
const CGZF: &str = "dept.cgzf"; // 城管执法局

macro_rules! app {
    ($backend:expr) => {
        match TestApp::spawn($backend).await {
            Some(app) => app,
            None => return,
        }
    };
}

struct Staff {
    operator: String,
    dispatcher: String,
    agent: String,
    wangjing: String,
    huajiadi: String,
    youanmen: String,
    cgzf: String,
}

async fn staff(app: &TestApp) -> Staff {
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
async fn relogin(app: &TestApp) -> Staff {
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

async fn new_request(app: &TestApp, s: &Staff) -> Value {
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

/// Asks intake for a suggestion on `text` as `token`: the suggestion (200).
async fn suggest(app: &TestApp, token: &str, text: &str) -> Value {
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

async fn act(app: &TestApp, token: &str, order: &str, verb: &str, body: Value) -> Value {
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

fn reply_body(text: &str) -> Value {
    json!({ "to_requester": format!("您反映的问题已处理：{text}"), "to_center": format!("已核实并处理：{text}"), "outcome": "resolved" })
}

fn actions(view: &Value) -> Vec<String> {
    view["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

pub async fn a_request_lives_its_whole_life_through_return_extension_rework_and_close(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["status"], "received");
    // The 201 answer (built without re-reading the new request) is the request as stored.
    assert_eq!(
        r,
        expect(
            app.get(&format!("/api/v1/requests/{id}"), Some(&s.operator))
                .await,
            200
        )
    );
    assert!(
        r["number"].as_str().unwrap().starts_with("20261102-"),
        "{}",
        r["number"]
    );

    // Multi-dispatch: a wrong lead street plus two co-handlers.
    let body = json!({ "assignments": [
        { "unit_code": YOUANMEN, "role": "lead" }, { "unit_code": HUAJIADI, "role": "co" }, { "unit_code": CGZF, "role": "co" }
    ], "time_limit_class": "general" });
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            body,
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["assignments"].as_array().unwrap().len(), 3);

    // The wrong street returns it; the request waits for a new lead.
    let v = act(
        &app,
        &s.youanmen,
        &order_id(&v, YOUANMEN, 1),
        "return",
        json!({ "reason": "该地址属朝阳区望京街道，非本街道辖区" }),
    )
    .await;
    assert_eq!(v["status"], "received");
    let waiting = expect(
        app.get("/api/v1/supervision/returned", Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(waiting.as_array().unwrap().len(), 1);
    assert_eq!(waiting[0]["unit_code"], YOUANMEN);
    expect(
        app.get("/api/v1/supervision/returned", Some(&s.wangjing))
            .await,
        403,
    );
    let body = json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] });
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            body,
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "dispatched");

    // Everyone acknowledges; the lead asks for two more days and gets them.
    let v = act(
        &app,
        &s.wangjing,
        &order_id(&v, WANGJING, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    assert_eq!(v["status"], "in_progress");
    act(
        &app,
        &s.huajiadi,
        &order_id(&v, HUAJIADI, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    let v = act(
        &app,
        &s.cgzf,
        &order_id(&v, CGZF, 1),
        "acknowledge",
        json!({}),
    )
    .await;
    let lead = order_id(&v, WANGJING, 1);
    let old_reply_by: chrono::DateTime<chrono::Utc> = serde_json::from_value(
        v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == lead.as_str())
            .unwrap()["reply_by"]
            .clone(),
    )
    .unwrap();
    let v = act(
        &app,
        &s.wangjing,
        &lead,
        "extension",
        json!({ "hours": 48, "reason": "需协调施工单位和城管联合执法" }),
    )
    .await;
    let ext = v["extensions"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(v["extensions"][0]["status"], "pending");
    let v = expect(
        app.post(
            &format!("/api/v1/extensions/{ext}/decision"),
            Some(&s.dispatcher),
            json!({ "approve": true }),
        )
        .await,
        200,
    );
    assert_eq!(v["extensions"][0]["status"], "approved");
    let new_reply_by: chrono::DateTime<chrono::Utc> = serde_json::from_value(
        v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == lead.as_str())
            .unwrap()["reply_by"]
            .clone(),
    )
    .unwrap();
    assert_eq!(new_reply_by - old_reply_by, chrono::Duration::hours(48));

    // Dual replies: the request is replied only when every active unit has replied.
    let v = act(
        &app,
        &s.huajiadi,
        &order_id(&v, HUAJIADI, 1),
        "reply",
        reply_body("社区已上门劝导"),
    )
    .await;
    assert_eq!(v["status"], "in_progress");
    act(
        &app,
        &s.cgzf,
        &order_id(&v, CGZF, 1),
        "reply",
        reply_body("已对施工单位立案"),
    )
    .await;
    let v = act(
        &app,
        &s.wangjing,
        &lead,
        "reply",
        reply_body("已责令夜间停工"),
    )
    .await;
    assert_eq!(v["status"], "replied");
    let to_center = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == lead.as_str())
        .unwrap()["reply_to_center"]
        .clone();
    assert_eq!(to_center, "已核实并处理：已责令夜间停工");
    let outbox = jiesu::store::outbox::for_request(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert_eq!(
        outbox.iter().filter(|m| m.kind == "reply").count(),
        3,
        "the requester half of each dual reply is queued"
    );
    assert!(outbox.iter().all(|m| m.recipient == "13812345678"));

    // Unsatisfied callback: round 2 to the same units.
    let cb = json!({ "reached": true, "resolved": false, "satisfaction": "unsatisfied", "note": "仍有夜间施工" });
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            cb,
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["round"], 2);
    let round2: Vec<&Value> = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["round"] == 2)
        .collect();
    let mut units: Vec<&str> = round2
        .iter()
        .map(|a| a["unit_code"].as_str().unwrap())
        .collect();
    units.sort();
    assert_eq!(
        units,
        vec![HUAJIADI, WANGJING, CGZF]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert!(round2
        .iter()
        .any(|a| a["unit_code"] == WANGJING && a["role"] == "lead"));
    // A round-1 order cannot be touched any more.
    expect(
        app.post(
            &format!("/api/v1/assignments/{lead}/reply"),
            Some(&s.wangjing),
            reply_body("x"),
        )
        .await,
        409,
    );

    for (token, unit) in [
        (&s.wangjing, WANGJING),
        (&s.huajiadi, HUAJIADI),
        (&s.cgzf, CGZF),
    ] {
        let o = order_id(&v, unit, 2);
        act(&app, token, &o, "acknowledge", json!({})).await;
        act(&app, token, &o, "reply", reply_body("夜间施工已全部停止")).await;
    }
    let cb = json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" });
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            cb,
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "resolved");
    assert_eq!(v["callbacks"].as_array().unwrap().len(), 2);

    let acts = actions(&v);
    for needed in [
        "request.created",
        "assignment.dispatched",
        "assignment.returned",
        "assignment.acknowledged",
        "extension.requested",
        "extension.approved",
        "assignment.replied",
        "callback.rework",
        "callback.closed",
    ] {
        assert!(
            acts.iter().any(|a| a == needed),
            "timeline lacks {needed}: {acts:?}"
        );
    }
    assert_eq!(acts.first().unwrap(), "request.created");
    assert_eq!(acts.last().unwrap(), "callback.closed");
    let seqs: Vec<i64> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].as_i64().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // Once closed, nothing more can happen to it.
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        409,
    );
    assert!(jiesu::store::events::verify(app.state.store.reader())
        .await
        .unwrap()
        .is_ok());
}

pub async fn other_units_cannot_see_or_touch_an_order(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let chaoyang = app
        .user("cy_handler", Role::UnitHandler, Some(CHAOYANG))
        .await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = order_id(&v, WANGJING, 1);

    // A street in another district: no view, no list entry, no action.
    let (status, body) = app
        .get(&format!("/api/v1/requests/{id}"), Some(&s.youanmen))
        .await;
    assert_eq!(status.as_u16(), 403, "{body}");
    assert_eq!(body["error"]["code"], "forbidden");
    let list = expect(app.get("/api/v1/requests", Some(&s.youanmen)).await, 200);
    assert_eq!(list["total"], 0);
    let before = app.event_count().await;
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&s.youanmen),
            json!({}),
        )
        .await,
        403,
    );
    assert_eq!(app.event_count().await, before);
    // A community under the street does not see its parent's order either.
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.huajiadi))
            .await,
        403,
    );

    // The street itself and its district do.
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.wangjing))
            .await,
        200,
    );
    let list = expect(app.get("/api/v1/requests", Some(&chaoyang)).await, 200);
    assert_eq!(list["total"], 1);
    expect(
        app.get(
            &format!("/api/v1/requests?unit={YOUANMEN}"),
            Some(&chaoyang),
        )
        .await,
        403,
    );
    // A district handler may act for its street.
    act(&app, &chaoyang, &order, "acknowledge", json!({})).await;
    // Handlers may not return (a manager's decision).
    let (status, _) = app
        .post(
            &format!("/api/v1/assignments/{order}/return"),
            Some(&chaoyang),
            json!({ "reason": "x" }),
        )
        .await;
    assert_eq!(status.as_u16(), 403);
    // Unit staff may not dispatch or call back.
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.wangjing),
            json!({ "assignments": [{ "unit_code": CGZF, "role": "co" }] }),
        )
        .await,
        403,
    );
}

pub async fn bad_input_gets_a_clear_4xx_and_changes_nothing(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let before = app.event_count().await;
    let requests_before =
        expect(app.get("/api/v1/requests", Some(&s.dispatcher)).await, 200)["total"].clone();

    let field = |v: &Value| {
        v["error"]["fields"][0]["field"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    // Syntax, types, unknown values, missing and unknown fields.
    let v = expect(
        app.post_raw(
            "/api/v1/requests",
            &s.operator,
            "application/json",
            b"{\"kind\": ".to_vec(),
        )
        .await,
        400,
    );
    assert_eq!(v["error"]["code"], "malformed");
    let mut bad = complaint("x");
    bad["kind"] = json!(3);
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            400
        )),
        "kind"
    );
    let mut bad = complaint("x");
    bad["kind"] = json!("complain");
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            400
        )),
        "kind"
    );
    let v = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            json!({ "kind": "help", "requester": { "phone": "13812345678" } }),
        )
        .await,
        400,
    );
    assert_eq!(field(&v), "text");
    let mut bad = complaint("x");
    bad["requester"]["age"] = json!(30);
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            400
        )),
        "age"
    );
    // Validation: phone, credit code, empty text, enterprise channel without enterprise.
    let mut bad = complaint("   ");
    bad["requester"]["phone"] = json!("12345");
    bad["requester"]["enterprise"] =
        json!({ "name": "某科技有限公司", "credit_code": "91350100M000100Y44" });
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), bad).await,
        422,
    );
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "text",
            "requester.phone",
            "requester.enterprise.credit_code"
        ]
    );
    assert!(
        v["error"]["message"].as_str().unwrap().contains("输入有误"),
        "Chinese by default: {v}"
    );
    let mut bad = complaint("企业诉求");
    bad["channel"] = json!("enterprise");
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            422
        )),
        "requester.enterprise"
    );
    let mut bad = complaint("有分类");
    bad["category_code"] = json!("no.such");
    assert_eq!(
        field(&expect(
            app.post("/api/v1/requests", Some(&s.operator), bad).await,
            422
        )),
        "category_code"
    );
    // Size and media type.
    let huge = complaint(&"噪".repeat(400_000));
    expect(
        app.post("/api/v1/requests", Some(&s.operator), huge).await,
        413,
    );
    expect(
        app.post_raw(
            "/api/v1/requests",
            &s.operator,
            "text/plain",
            b"hello".to_vec(),
        )
        .await,
        415,
    );
    // No or bad login.
    expect(
        app.post("/api/v1/requests", None, complaint("x")).await,
        401,
    );
    expect(
        app.post("/api/v1/requests", Some("not-a-token"), complaint("x"))
            .await,
        401,
    );
    // Unknown units, wrong roles, two leads.
    let v = expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": "999999", "role": "co" }] })).await, 422);
    assert_eq!(field(&v), "assignments[1].unit_code");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "boss" }] }),
        )
        .await,
        400,
    );
    assert_eq!(field(&v), "assignments[0].role");
    expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": CGZF, "role": "lead" }] })).await, 422);
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [] }),
        )
        .await,
        422,
    );
    expect(app.post(&format!("/api/v1/requests/{id}/dispatch"), Some(&s.dispatcher), json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "time_limit_class": "whenever" })).await, 422);
    // A callback before any reply; unknown ids.
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        409,
    );
    expect(
        app.get("/api/v1/requests/nope", Some(&s.dispatcher)).await,
        404,
    );
    expect(
        app.post(
            "/api/v1/assignments/nope/acknowledge",
            Some(&s.wangjing),
            json!({}),
        )
        .await,
        404,
    );
    expect(
        app.get("/api/v1/requests?status=lost", Some(&s.dispatcher))
            .await,
        422,
    );
    expect(
        app.get("/api/v1/requests?page=abc", Some(&s.dispatcher))
            .await,
        400,
    );
    // English on request.
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/requests", app.base))
        .bearer_auth(&s.operator)
        .header("accept-language", "en-US,en;q=0.9")
        .json(&json!({ "kind": "help", "text": "", "requester": { "phone": "1" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 422);
    let v: Value = resp.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("invalid input"),
        "{v}"
    );
    assert_eq!(
        app.event_count().await,
        before,
        "refused input leaves no trace"
    );
    assert_eq!(
        expect(app.get("/api/v1/requests", Some(&s.dispatcher)).await, 200)["total"],
        requests_before
    );

    // Illegal transitions: acknowledge twice, reply before acknowledging, extension before acknowledging.
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = order_id(&v, WANGJING, 1);
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            reply_body("x"),
        )
        .await,
        409,
    );
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/extension"),
            Some(&s.wangjing),
            json!({ "hours": 24, "reason": "x" }),
        )
        .await,
        409,
    );
    act(&app, &s.wangjing, &order, "acknowledge", json!({})).await;
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&s.wangjing),
            json!({}),
        )
        .await,
        409,
    );
    assert_eq!(v["error"]["code"], "conflict");
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            json!({ "to_requester": "好", "to_center": "" , "outcome": "resolved" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "to_center");
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            json!({ "to_requester": "好", "to_center": "好" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "outcome");
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/extension"),
            Some(&s.wangjing),
            json!({ "hours": 0, "reason": "x" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "hours");
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(&s.operator),
            json!({ "answer": "x" }),
        )
        .await,
        409,
    );
    expect(
        app.get("/api/v1/no/such/route", Some(&s.operator)).await,
        404,
    );
}

pub async fn two_people_acting_at_once_one_wins_the_other_gets_409(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
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
    let order = order_id(&v, WANGJING, 1);
    let second = app.user("wj_mgr2", Role::UnitManager, Some(WANGJING)).await;
    let path = format!("/api/v1/assignments/{order}/acknowledge");
    let (a, b2) = tokio::join!(
        app.post(&path, Some(&s.wangjing), json!({})),
        app.post(&path, Some(&second), json!({}))
    );
    let mut codes = [a.0.as_u16(), b2.0.as_u16()];
    codes.sort();
    assert_eq!(codes, [200, 409], "{:?} {:?}", a.1, b2.1);
    let acks = actions(&expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    ))
    .iter()
    .filter(|a| *a == "assignment.acknowledged")
    .count();
    assert_eq!(acks, 1);

    // Two dispatchers giving the same returned request a new lead at once: one lead results.
    let r2 = new_request(&app, &s).await;
    let id2 = r2["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/requests/{id2}/dispatch");
    let d2 = app.user("disp2", Role::Dispatcher, None).await;
    let (a, b2) = tokio::join!(
        app.post(
            &path,
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] })
        ),
        app.post(
            &path,
            Some(&d2),
            json!({ "assignments": [{ "unit_code": CGZF, "role": "lead" }] })
        )
    );
    let mut codes = [a.0.as_u16(), b2.0.as_u16()];
    codes.sort();
    assert_eq!(codes[0], 200);
    assert!(codes[1] == 409 || codes[1] == 422, "{codes:?}");
    let v = expect(
        app.get(&format!("/api/v1/requests/{id2}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(
        v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["role"] == "lead")
            .count(),
        1
    );
    assert!(jiesu::store::events::verify(app.state.store.reader())
        .await
        .unwrap()
        .is_ok());
}

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

/// A sender that fails a given number of times, then succeeds.
struct Flaky(std::sync::atomic::AtomicUsize);

impl jiesu::store::outbox::Sender for Flaky {
    fn send<'a>(
        &'a self,
        _: &'a jiesu::store::outbox::OutboxMessage,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let left = self.0.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.0.store(left - 1, std::sync::atomic::Ordering::SeqCst);
                Err("gateway down".into())
            } else {
                Ok(())
            }
        })
    }
}

pub async fn outbox_messages_survive_a_restart_and_are_retried_with_backoff(b: Backend) {
    let mut app = app!(b);
    let s = staff(&app).await;
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
    let order = order_id(&v, WANGJING, 1);
    act(&app, &s.wangjing, &order, "acknowledge", json!({})).await;
    act(&app, &s.wangjing, &order, "reply", reply_body("已处理")).await;

    // The process stops before anything was delivered; after the restart the message is there.
    app.restart().await;
    let pending = jiesu::store::outbox::for_request(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, "pending");

    let mut state = app.state.clone();
    state.sender = std::sync::Arc::new(Flaky(std::sync::atomic::AtomicUsize::new(2)));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 1));
    // Backing off: not due again at once.
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 0));
    app.clock.advance(chrono::Duration::seconds(21));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 1));
    app.clock.advance(chrono::Duration::seconds(41));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let sent = jiesu::store::outbox::for_request(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert_eq!((sent[0].status.as_str(), sent[0].attempts), ("sent", 3));
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        jiesu::jobs::deliver_outbox(&state).await.unwrap(),
        (0, 0),
        "a sent message is not sent again"
    );
    // The server still answers after the restart.
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
}

pub async fn logins_are_slowed_after_repeated_failures_and_tokens_end_at_logout(b: Backend) {
    let app = app!(b);
    let token = app.user("op9", Role::Operator, None).await;
    expect(app.get("/api/v1/me", Some(&token)).await, 200);
    let bad = json!({ "username": "op9", "password": "wrong-password" });
    for _ in 0..4 {
        expect(app.post("/api/v1/auth/token", None, bad.clone()).await, 401);
    }
    // The fifth failure starts the slow-down; even the right password must wait.
    expect(app.post("/api/v1/auth/token", None, bad.clone()).await, 401);
    let v = expect(
        app.post(
            "/api/v1/auth/token",
            None,
            json!({ "username": "op9", "password": "password1" }),
        )
        .await,
        429,
    );
    assert_eq!(v["error"]["code"], "too_many_attempts");
    app.clock.advance(chrono::Duration::seconds(2));
    let fresh = app.login("op9", "password1").await;
    expect(
        app.post(
            "/api/v1/auth/token",
            None,
            json!({ "username": "nobody", "password": "password1" }),
        )
        .await,
        401,
    );

    expect(app.delete("/api/v1/auth/token", &fresh).await, 204);
    expect(app.get("/api/v1/me", Some(&fresh)).await, 401);
    // Sessions expire.
    app.clock.advance(chrono::Duration::hours(13));
    expect(app.get("/api/v1/me", Some(&token)).await, 401);
}

pub async fn phone_numbers_are_masked_and_confidential_requesters_hidden_from_units(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let mut body = complaint("小区供暖温度不达标，室温只有十五度。");
    body["requester"]["confidential"] = json!(true);
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    assert_eq!(r["requester"]["phone"], "138****5678");
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.agent))
            .await,
        200,
    );
    assert_eq!(
        v["requester"]["phone"], "13812345678",
        "the callback agent must call them"
    );
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.wangjing))
            .await,
        200,
    );
    assert!(v["requester"].is_null(), "confidential: {v}");
    let text = v.to_string();
    assert!(
        !text.contains("13812345678") && !text.contains("王女士"),
        "nothing of the requester leaks: {text}"
    );
    // The events never carry the number.
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(!v["events"].to_string().contains("13812345678"));
    assert_eq!(v["requester"]["phone"], "138****5678");
}

pub async fn consultations_are_answered_at_intake_and_duplicates_merged_with_their_own_callback(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let body = json!({ "kind": "consultation", "text": "请问居住证在哪里办理？", "requester": { "phone": "010-65123456" } });
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(&s.operator),
            json!({ "answer": "可到户籍所在地派出所或街道政务服务中心办理。" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "answered");
    assert!(v["closed_at"].is_string());
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        409,
    );
    // A complaint cannot be "answered" at intake.
    let c = new_request(&app, &s).await;
    let primary = c["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{primary}/answer"),
            Some(&s.operator),
            json!({ "answer": "x" }),
        )
        .await,
        409,
    );

    // A second requester reports the same problem: merged, with a callback of their own.
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
            json!({ "into": dup_id }),
        )
        .await,
        422,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{dup_id}/merge"),
            Some(&s.operator),
            json!({ "into": c["number"] }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "merged");
    assert_eq!(v["primary_id"], primary.as_str());
    let p = expect(
        app.get(&format!("/api/v1/requests/{primary}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(p["merged_requests"], json!([dup_id]));
    // Not due before the primary replies.
    let ok = json!({ "reached": true, "resolved": true, "satisfaction": "basic" });
    expect(
        app.post(
            &format!("/api/v1/requests/{dup_id}/callback"),
            Some(&s.agent),
            ok.clone(),
        )
        .await,
        409,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{primary}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let o = order_id(&v, WANGJING, 1);
    act(&app, &s.wangjing, &o, "acknowledge", json!({})).await;
    act(&app, &s.wangjing, &o, "reply", reply_body("已处理")).await;
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{dup_id}/callback"),
            Some(&s.agent),
            ok.clone(),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "merged");
    assert_eq!(v["callbacks"][0]["satisfaction"], "basic");
    expect(
        app.post(
            &format!("/api/v1/requests/{dup_id}/callback"),
            Some(&s.agent),
            ok,
        )
        .await,
        409,
    );
}

pub async fn unreachable_requesters_close_after_the_allowed_attempts(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
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
    let none = json!({ "reached": false });
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            none.clone(),
        )
        .await,
        200,
    );
    assert_eq!(
        (v["status"].as_str(), v["callback_attempts"].as_i64()),
        (Some("replied"), Some(1))
    );
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            none.clone(),
        )
        .await,
        200,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            none,
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed");
    assert_eq!(v["close_reason"], "unreachable");
    // A reached callback must say resolved and satisfaction.
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
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
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true }),
        )
        .await,
        422,
    );
    assert_eq!(v["error"]["fields"][0]["field"], "satisfaction");
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.operator),
            json!({ "reached": false }),
        )
        .await,
        403,
    );
}

pub async fn audit_verify_passes_and_names_the_first_edited_or_removed_event(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    new_request(&app, &s).await;

    // One change with more events than one insert statement takes (64): appended whole, in
    // order, returned as stored, and the chain still verifies.
    let before = app.event_count().await;
    let mut tx = app.state.store.begin().await.unwrap();
    for i in 0..150 {
        tx.event(jiesu::store::NewEvent {
            jurisdiction: "110000".into(),
            request_id: Some(id.to_string()),
            assignment_id: None,
            actor_id: "system".into(),
            actor_role: "system".into(),
            action: "test.bulk".into(),
            before: None,
            after: None,
            payload: json!({ "i": i }),
            at: chrono::Utc::now(),
        });
    }
    let stored = tx.commit_events().await.unwrap();
    assert_eq!(stored.len(), 150);
    assert!(stored.windows(2).all(|w| w[1].1.seq == w[0].1.seq + 1));
    assert_eq!(stored[149].1.payload, json!({ "i": 149 }));
    assert_eq!(app.event_count().await, before + 150);
    let timeline = jiesu::store::events::for_request(app.state.store.reader(), id)
        .await
        .unwrap();
    let as_json = |e: &jiesu::store::Event| serde_json::to_value(e).unwrap();
    let read: Vec<Value> = timeline
        .iter()
        .filter(|e| e.action == "test.bulk")
        .map(as_json)
        .collect();
    let returned: Vec<Value> = stored.iter().map(|(_, e)| as_json(e)).collect();
    assert_eq!(read, returned);

    let total = app.event_count().await;
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{total} events verified")));

    // Edit one stored event by hand: the CLI fails and names it.
    let seq: i64 =
        sqlx::query_scalar("SELECT seq FROM events WHERE action = 'assignment.dispatched'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    app.exec(&format!(
        "UPDATE events SET payload = '{{\"unit_code\":\"110106001\"}}' WHERE seq = {seq}"
    ))
    .await;
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("seq {seq}")) && err.contains("altered"),
        "{err}"
    );

    // Removing the last event is caught by the chain head.
    app.exec(&format!("DELETE FROM events WHERE seq >= {seq}"))
        .await;
    let broken = jiesu::store::events::verify(app.state.store.reader())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, seq);
}

pub async fn openapi_describes_every_route(b: Backend) {
    if b == Backend::Postgres {
        return; // The document does not depend on the database.
    }
    let app = app!(b);
    let spec = expect(app.get("/api/v1/openapi.json", None).await, 200);
    let paths = spec["paths"].as_object().expect("paths");
    let served = [
        ("/openapi.json", "get"),
        ("/auth/token", "post"),
        ("/auth/token", "delete"),
        ("/me", "get"),
        ("/requests", "post"),
        ("/requests", "get"),
        ("/requests/{id}", "get"),
        ("/requests/{id}/dispatch", "post"),
        ("/requests/{id}/answer", "post"),
        ("/requests/{id}/merge", "post"),
        ("/requests/{id}/callback", "post"),
        ("/assignments/{id}/acknowledge", "post"),
        ("/assignments/{id}/return", "post"),
        ("/assignments/{id}/extension", "post"),
        ("/assignments/{id}/reply", "post"),
        ("/extensions/{id}/decision", "post"),
        ("/units", "get"),
        ("/categories", "get"),
        ("/supervision/overdue", "get"),
        ("/kb", "get"),
        ("/kb", "post"),
        ("/kb/{id}", "get"),
        ("/kb/{id}", "put"),
        ("/kb/{id}", "delete"),
        ("/catalogue", "get"),
        ("/catalogue", "post"),
        ("/catalogue/{id}", "put"),
        ("/catalogue/{id}", "delete"),
        ("/requests/suggest", "post"),
        ("/text/accuracy", "get"),
        ("/search", "get"),
        ("/kpi/ranking", "get"),
        ("/kpi/months/{month}/freeze", "post"),
        ("/kpi/units/{code}", "get"),
        ("/kpi/rules", "post"),
        ("/kpi/population", "put"),
        ("/supervision/disputes", "get"),
        ("/requests/{id}/arbitrate", "post"),
        ("/assignments/{id}/exempt", "post"),
        ("/kpi/report", "get"),
        ("/supervision/about-to-breach", "get"),
        ("/supervision/returned", "get"),
        ("/supervision/unsatisfied", "get"),
        ("/supervision/summons", "get"),
        ("/hotspots", "get"),
        ("/hotspots/{key}/similar", "get"),
        ("/alerts", "get"),
        ("/tasks", "get"),
        ("/tasks", "post"),
        ("/tasks/{id}/elsewhere", "get"),
        ("/topics/proposals", "get"),
        ("/topics", "post"),
        ("/topics/{id}", "get"),
    ];
    for (path, method) in served {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "openapi.json lacks {method} {path}"
        );
        // And the route really exists (not 404 from the fallback).
        let (status, _) = match method {
            "get" => {
                app.get(
                    &format!("/api/v1{}", path.replace("{id}", "x")),
                    Some(&app.admin),
                )
                .await
            }
            _ => (reqwest::StatusCode::OK, Value::Null),
        };
        assert_ne!((status.as_u16(), path), (404, "/units"));
    }
    let documented: usize = paths
        .values()
        .map(|p| {
            p.as_object()
                .unwrap()
                .keys()
                .filter(|k| ["get", "post", "delete", "put", "patch"].contains(&k.as_str()))
                .count()
        })
        .sum();
    assert_eq!(
        documented,
        served.len(),
        "openapi.json documents routes the server does not serve"
    );
}

pub async fn the_webhook_sender_posts_each_message_and_retries_on_failure(b: Backend) {
    use std::sync::{Arc, Mutex};
    let app = app!(b);
    let s = staff(&app).await;
    // A gateway that fails the first call and records what it receives.
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let record = seen.clone();
    let gateway = axum::Router::new().route(
        "/sms",
        axum::routing::post(move |axum::Json(body): axum::Json<Value>| {
            let record = record.clone();
            async move {
                let mut seen = record.lock().unwrap();
                seen.push(body);
                if seen.len() == 1 {
                    axum::http::StatusCode::SERVICE_UNAVAILABLE
                } else {
                    axum::http::StatusCode::OK
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });

    let body = json!({ "kind": "consultation", "text": "社保卡丢失如何补办？", "requester": { "phone": "13700001234" } });
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(&s.operator),
            json!({ "answer": "可在社保卡服务网点或“北京人社”APP挂失补办。" }),
        )
        .await,
        200,
    );
    let mut state = app.state.clone();
    state.sender = Arc::new(jiesu::jobs::WebhookSender::new(url));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 1));
    app.clock.advance(chrono::Duration::seconds(30));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1]["recipient"], "13700001234");
    assert_eq!(seen[1]["kind"], "answer");
    assert_eq!(seen[1]["message"]["number"], r["number"]);
    assert!(seen[1]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("挂失补办"));
}

pub async fn supervisors_keep_the_knowledge_base_and_operators_answer_from_it(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let entry = json!({ "title": "居住证在哪里办理？", "answer": "持身份证到居住地派出所或街道政务服务中心申领居住证。", "tags": ["居住证", "户籍"], "unit_code": "dept.ga" });
    expect(
        app.post("/api/v1/kb", Some(&s.operator), entry.clone())
            .await,
        403,
    );
    let e = expect(app.post("/api/v1/kb", Some(&sup), entry).await, 201);
    let kb_id = e["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            "/api/v1/kb",
            Some(&sup),
            json!({ "title": "", "answer": "x", "unit_code": "nope" }),
        )
        .await,
        422,
    );
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["title", "unit_code"]);
    let other = json!({ "title": "公积金怎么提取？", "answer": "通过北京住房公积金网上业务系统申请提取。", "tags": ["公积金"] });
    expect(app.post("/api/v1/kb", Some(&sup), other).await, 201);

    let hits = expect(
        app.get(
            "/api/v1/kb?q=%E8%AF%B7%E9%97%AE%E5%B1%85%E4%BD%8F%E8%AF%81%E6%80%8E%E4%B9%88%E5%8A%9E",
            Some(&s.operator),
        )
        .await,
        200,
    ); // 请问居住证怎么办
    assert_eq!(hits.as_array().unwrap().len(), 1, "{hits}");
    assert_eq!(hits[0]["id"], kb_id.as_str());

    let body = json!({ "kind": "consultation", "text": "请问居住证怎么办？", "requester": { "phone": "13812345678" } });
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(&s.operator),
            json!({ "answer": "x", "kb_entry_id": "nope" }),
        )
        .await,
        422,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(&s.operator),
            json!({ "answer": hits[0]["answer"], "kb_entry_id": kb_id }),
        )
        .await,
        200,
    );
    let answered = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "request.answered")
        .unwrap()
        .clone();
    assert_eq!(answered["payload"]["kb_entry_id"], kb_id.as_str());

    // Edits and deletion; an expired entry is no longer found.
    let upd = json!({ "title": "居住证在哪里办理？", "answer": "新的答复", "tags": ["居住证"], "valid_until": "2026-11-02T02:30:00Z" });
    assert_eq!(
        expect(
            app.put(&format!("/api/v1/kb/{kb_id}"), &sup, upd).await,
            200
        )["answer"],
        "新的答复"
    );
    app.clock.advance(chrono::Duration::hours(1));
    assert_eq!(
        expect(
            app.get(
                "/api/v1/kb?q=%E5%B1%85%E4%BD%8F%E8%AF%81",
                Some(&s.operator)
            )
            .await,
            200
        )
        .as_array()
        .unwrap()
        .len(),
        0
    );
    expect(app.delete(&format!("/api/v1/kb/{kb_id}"), &sup).await, 204);
    expect(
        app.get(&format!("/api/v1/kb/{kb_id}"), Some(&s.operator))
            .await,
        404,
    );
}

pub async fn the_dispatch_catalogue_ships_rules_and_keeps_their_history(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let rules = expect(app.get("/api/v1/catalogue", Some(&s.operator)).await, 200);
    let heating = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category_code"] == "ggfw.gr")
        .expect("shipped heating rule")
        .clone();
    assert_eq!(
        heating["units"][0],
        json!({ "unit": "co.heating", "role": "lead" })
    );
    let shipped = rules.as_array().unwrap().len();

    let rule = json!({ "category_code": "ggfw.gr", "area_code": CHAOYANG, "units": [{ "unit": "co.heating", "role": "lead" }, { "unit": "{street}", "role": "co" }, { "unit": "{community}", "role": "co" }], "note": "朝阳区供暖加派社区" });
    expect(
        app.post("/api/v1/catalogue", Some(&s.operator), rule.clone())
            .await,
        403,
    );
    let added = expect(
        app.post("/api/v1/catalogue", Some(&s.dispatcher), rule)
            .await,
        201,
    );
    let bad = json!({ "category_code": "nope", "area_code": HUAJIADI, "units": [{ "unit": "{street}", "role": "co" }, { "unit": "co.none", "role": "co" }] });
    let v = expect(
        app.post("/api/v1/catalogue", Some(&s.dispatcher), bad)
            .await,
        422,
    );
    let fields: Vec<&str> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["category_code", "area_code", "units[1].unit", "units"]
    );
    // Replacing retires the old rule in the same step.
    let newer = json!({ "category_code": "ggfw.gr", "area_code": CHAOYANG, "units": [{ "unit": "{street}", "role": "lead" }, { "unit": "co.heating", "role": "co" }] });
    let replaced = expect(
        app.put(
            &format!("/api/v1/catalogue/{}", added["id"].as_str().unwrap()),
            &s.dispatcher,
            newer.clone(),
        )
        .await,
        200,
    );
    expect(
        app.put(
            &format!("/api/v1/catalogue/{}", added["id"].as_str().unwrap()),
            &s.dispatcher,
            newer,
        )
        .await,
        404,
    );
    let rules = expect(app.get("/api/v1/catalogue", Some(&s.operator)).await, 200);
    assert_eq!(rules.as_array().unwrap().len(), shipped + 1);
    expect(
        app.delete(
            &format!("/api/v1/catalogue/{}", replaced["id"].as_str().unwrap()),
            &s.dispatcher,
        )
        .await,
        204,
    );
    assert_eq!(
        expect(app.get("/api/v1/catalogue", Some(&s.operator)).await, 200)
            .as_array()
            .unwrap()
            .len(),
        shipped
    );
    let history: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM dispatch_rules")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(history as usize, shipped + 2, "retired rules are kept");
}

pub async fn intake_suggests_category_place_units_duplicates_and_answers_and_measures_itself(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let kb = json!({ "title": "暖气不热怎么办？", "answer": "室温低于18℃可拨打热力集团热线，供热单位须在24小时内上门检测。", "tags": ["暖气不热", "室温"] });
    expect(app.post("/api/v1/kb", Some(&sup), kb).await, 201);
    let text = "朝阳区望京花家地西里小区冬天暖气不热，室温只有15度，老人孩子受不了。";
    let v = suggest(&app, &s.operator, text).await;
    assert_eq!(v["source"], "keywords", "no model is trained in tests: {v}");
    assert!(v["notes"][0].as_str().unwrap().contains("no trained model"));
    assert_eq!(v["categories"][0]["code"], "ggfw.gr.sw");
    assert_eq!(v["place"]["status"], "resolved");
    assert_eq!(v["place"]["community"]["code"], HUAJIADI);
    let units: Vec<(&str, &str)> = v["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["unit_code"].as_str().unwrap(),
                u["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(units, [("co.heating", "lead"), (WANGJING, "co")]);
    assert!(v["units"][0]["reasons"][0]
        .as_str()
        .unwrap()
        .contains("catalogue rule"));
    assert_eq!(v["answers"][0]["title"], "暖气不热怎么办？");
    assert_eq!(v["duplicates"].as_array().unwrap().len(), 0);

    // The operator records it with the suggestion, keeping the category; then a neighbour calls.
    let mut body = complaint(text);
    body["category_code"] = json!("ggfw.gr.sw");
    body["suggestion_id"] = v["suggestion_id"].clone();
    let first = expect(
        app.post("/api/v1/requests", Some(&s.operator), body.clone())
            .await,
        201,
    );
    expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        422,
    ); // a suggestion is used once
    let v = suggest(
        &app,
        &s.operator,
        "望京花家地西里小区暖气不热，室温只有15度，老人孩子都受不了，请尽快处理。",
    )
    .await;
    assert_eq!(v["duplicates"][0]["id"], first["id"], "{v}");
    assert!(v["duplicates"][0]["similarity"].as_f64().unwrap() >= 0.3);
    // The same complaint in another street is not offered as a duplicate.
    let v = suggest(
        &app,
        &s.operator,
        "丰台区右安门街道小区暖气不热，室温只有15度，老人孩子受不了。",
    )
    .await;
    assert!(
        v["duplicates"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["id"] != first["id"]),
        "{v}"
    );

    // Dispatching to the suggested lead: the accuracy report counts both kept.
    let id = first["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": "co.heating", "role": "lead" }] }),
        )
        .await,
        200,
    );
    let acc = expect(
        app.get(
            "/api/v1/text/accuracy?from=2026-11-01&to=2026-11-02",
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(
        (
            acc["n"].as_i64(),
            acc["category_kept"].as_i64(),
            acc["lead_kept"].as_i64()
        ),
        (Some(1), Some(1), Some(1)),
        "{acc}"
    );
    assert_eq!(acc["lead_rate"], 1.0);
    expect(
        app.get(
            "/api/v1/text/accuracy?from=2026-11-05&to=2026-11-02",
            Some(&sup),
        )
        .await,
        422,
    );
    expect(
        app.get("/api/v1/text/accuracy", Some(&s.operator)).await,
        403,
    );

    // Bad text: empty, huge, control characters, nothing recognisable.
    expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&s.operator),
            json!({ "text": "  " }),
        )
        .await,
        422,
    );
    expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&s.operator),
            json!({ "text": "噪".repeat(100_001) }),
        )
        .await,
        422,
    );
    let v = suggest(&app, &s.operator, "hello \u{0}\u{7} world 🙂").await;
    assert_eq!(v["source"], "none");
    assert_eq!(v["place"]["status"], "none");
    assert!(v["units"].as_array().unwrap().is_empty());
    expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&s.wangjing),
            json!({ "text": "x" }),
        )
        .await,
        403,
    );
}

fn train_small_model(data_dir: &std::path::Path) {
    use jiesu_text::classify::{train, TrainOptions, TrainingExample};
    let samples = [
        (
            "环境保护",
            [
                "工地夜间施工噪音扰民",
                "工厂排放废气污染空气",
                "河道污水直排发臭",
                "餐馆油烟扰民严重",
                "垃圾焚烧烟雾呛人",
            ],
        ),
        (
            "交通运输",
            [
                "公交车晚点严重",
                "出租车拒载乘客",
                "路口红绿灯时间太短",
                "地铁站出口拥挤",
                "网约车乱收费",
            ],
        ),
        (
            "教育文体",
            [
                "学校乱收补课费",
                "幼儿园入园难",
                "小学划片不合理",
                "体育馆不对外开放",
                "教师体罚学生",
            ],
        ),
    ];
    let mut examples = Vec::new();
    for (label, texts) in samples {
        for (i, t) in texts.iter().enumerate() {
            for j in 0..4 {
                examples.push(TrainingExample {
                    id: format!("{label}{i}{j}"),
                    text: format!("{t}，请有关部门处理{j}"),
                    label: label.to_string(),
                });
            }
        }
    }
    let model = train(&examples, &TrainOptions::default()).expect("trains");
    model.save(&data_dir.join("model")).expect("saves");
}

pub async fn a_trained_model_drives_the_category_suggestions(b: Backend) {
    let Some(app) = TestApp::spawn_with(b, train_small_model).await else {
        return;
    };
    let s = staff(&app).await;
    let v = suggest(&app, &s.operator, "望京西园三区工地夜间施工噪音扰民").await;
    assert_eq!(v["source"], "classifier", "{v}");
    assert_eq!(v["categories"][0]["code"], "hjbh");
    assert_eq!(v["categories"][0]["name"], "环境保护");
    let total: f64 = v["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .sum();
    assert!(
        total <= 1.0 + 1e-9 && v["categories"][0]["score"].as_f64().unwrap() > 0.34,
        "{v}"
    );
    assert!(v["notes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| !n.as_str().unwrap().contains("no trained model")));
    // The top category is refined by keywords under it (噪声 → hjbh.zs…) for dispatch.
    assert!(
        v["refined_category"]
            .as_str()
            .is_some_and(|c| c.starts_with("hjbh")),
        "{v}"
    );
}

pub async fn search_finds_requests_and_answers_follows_the_event_log_and_rebuilds(b: Backend) {
    let mut app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let mut heating = complaint("花家地西里小区暖气不热，室温只有十五度。");
    heating["category_code"] = json!("ggfw.gr.sw");
    let h = expect(
        app.post("/api/v1/requests", Some(&s.operator), heating)
            .await,
        201,
    );
    let noise = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区工地夜间施工噪音扰民。"),
        )
        .await,
        201,
    );
    expect(
        app.post(
            &format!("/api/v1/requests/{}/dispatch", h["id"].as_str().unwrap()),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    expect(app.post("/api/v1/kb", Some(&sup), json!({ "title": "暖气不热怎么办？", "answer": "可拨打热力集团热线报修。", "tags": ["暖气"] })).await, 201);
    assert!(jiesu::services::search::catch_up(&app.state).await.unwrap() > 0);
    assert_eq!(
        jiesu::services::search::catch_up(&app.state).await.unwrap(),
        0,
        "nothing new to read"
    );

    let v = expect(
        app.get("/api/v1/search?q=%E6%9A%96%E6%B0%94", Some(&s.dispatcher))
            .await,
        200,
    ); // 暖气
    let kinds: Vec<(&str, &str)> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| (h["kind"].as_str().unwrap(), h["id"].as_str().unwrap()))
        .collect();
    assert_eq!(v["total"], 2, "{v}");
    assert!(kinds.contains(&("request", h["id"].as_str().unwrap())));
    assert!(kinds.iter().any(|k| k.0 == "kb"));
    // Names by n-grams, filters by status, category and unit.
    let v = expect(
        app.get(
            "/api/v1/search?q=%E8%8A%B1%E5%AE%B6%E5%9C%B0&kind=request",
            Some(&s.dispatcher),
        )
        .await,
        200,
    ); // 花家地
    assert_eq!(v["hits"][0]["id"], h["id"]);
    let v = expect(
        app.get(
            "/api/v1/search?q=%E6%96%BD%E5%B7%A5&status=received",
            Some(&s.dispatcher),
        )
        .await,
        200,
    ); // 施工
    assert_eq!(v["hits"][0]["id"], noise["id"]);
    assert_eq!(
        expect(
            app.get(
                "/api/v1/search?q=%E6%9A%96%E6%B0%94&category=ggfw",
                Some(&s.dispatcher)
            )
            .await,
            200
        )["total"],
        1
    );
    assert_eq!(
        expect(
            app.get(
                "/api/v1/search?q=%E6%9A%96%E6%B0%94&status=closed",
                Some(&s.dispatcher)
            )
            .await,
            200
        )["total"],
        0
    );
    assert_eq!(
        expect(
            app.get(
                "/api/v1/search?q=%E6%9A%96%E6%B0%94&from=2026-11-03",
                Some(&s.dispatcher)
            )
            .await,
            200
        )["total"],
        0
    );
    // Unit staff: only their unit's requests; another street finds nothing.
    assert_eq!(
        expect(
            app.get("/api/v1/search?q=%E6%9A%96%E6%B0%94", Some(&s.wangjing))
                .await,
            200
        )["total"],
        1
    );
    assert_eq!(
        expect(
            app.get("/api/v1/search?q=%E6%96%BD%E5%B7%A5", Some(&s.wangjing))
                .await,
            200
        )["total"],
        0
    );
    assert_eq!(
        expect(
            app.get("/api/v1/search?q=%E6%9A%96%E6%B0%94", Some(&s.youanmen))
                .await,
            200
        )["total"],
        0
    );
    assert_eq!(
        expect(
            app.get(
                "/api/v1/search?q=%E6%9A%96%E6%B0%94&kind=kb",
                Some(&s.youanmen)
            )
            .await,
            200
        )["total"],
        1
    );
    expect(
        app.get(
            &format!("/api/v1/search?q=x&unit={YOUANMEN}"),
            Some(&s.wangjing),
        )
        .await,
        403,
    );
    expect(app.get("/api/v1/search?q=", Some(&s.dispatcher)).await, 422);
    expect(
        app.get("/api/v1/search?q=x&kind=users", Some(&s.dispatcher))
            .await,
        422,
    );
    // Odd query syntax is read leniently, not refused.
    expect(
        app.get(
            "/api/v1/search?q=%22%E6%9A%96%E6%B0%94+AND+(",
            Some(&s.dispatcher),
        )
        .await,
        200,
    );

    // A status change reaches the index through the events.
    let v = expect(
        app.get(
            "/api/v1/search?q=%E6%9A%96%E6%B0%94&status=dispatched",
            Some(&s.dispatcher),
        )
        .await,
        200,
    );
    assert_eq!(v["total"], 1);
    // After a restart the index resumes where it stopped; `jiesu reindex` rebuilds it whole.
    app.restart().await;
    assert_eq!(
        jiesu::services::search::catch_up(&app.state).await.unwrap(),
        0
    );
    app.stop().await;
    let out = app.cli().arg("reindex").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("3 documents"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

async fn through_to_reply(app: &TestApp, s: &Staff, id: &str, lead: &str, token: &str) -> String {
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": lead, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let o = order_id(&v, lead, v["round"].as_i64().unwrap());
    act(app, token, &o, "acknowledge", json!({})).await;
    act(app, token, &o, "reply", reply_body("已处理")).await;
    o
}

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
    act(
        &app,
        &s.wangjing,
        &order_id(&v, WANGJING, 1),
        "return",
        json!({ "reason": "属城管执法职责" }),
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
    assert!(csv.starts_with("code,name,response_rate,resolution_rate,satisfaction_rate,composite,rank,previous_rank,class,volume"), "{csv}");
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
    act(
        &app,
        &s.wangjing,
        &order_id(&v, WANGJING, 1),
        "return",
        json!({ "reason": "不属本街道" }),
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

async fn simulated(b: Backend, seed: u64) -> Option<(TestApp, jiesu::sim::Summary)> {
    let app = TestApp::spawn(b).await?;
    let opts = jiesu::sim::Options {
        days: 4,
        per_day: 60,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
    };
    let mut days = Vec::new();
    let summary = jiesu::sim::run(&app.state, &app.clock, opts, &mut |d, _| days.push(d))
        .await
        .unwrap();
    assert_eq!(days, [1, 2, 3, 4], "a report per simulated day");
    Some((app, summary))
}

/// A few simulated days go through the real services: every request is stored with its
/// events, the mix looks like a hotline's, the chain verifies, the rollups agree with a full
/// recount, and the same seed gives the same city.
pub async fn the_simulator_lives_days_through_the_services_deterministically(b: Backend) {
    use jiesu::services::kpi::{check_rollups, Month};
    let Some((app, s)) = simulated(b, 7).await else {
        return;
    };
    // Weekdays 60 ± 10 %, weekends three quarters (3–6 Nov 2026 are Tue–Fri).
    assert!((4 * 54..=4 * 66).contains(&s.requests), "{s:?}");
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE created_by <> ''")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(stored as u64, s.requests);
    let consult: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE kind = 'consultation'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    let share = consult as f64 / s.requests as f64;
    assert!((0.45..0.7).contains(&share), "consultations {share}");
    let answered: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM requests WHERE status = 'answered'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(answered as u64, s.answered_at_intake);
    assert!(s.answered_at_intake as f64 > 0.7 * consult as f64, "{s:?}");
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assignments")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(orders as u64, s.orders);
    assert!(s.callbacks > 0 && s.closed > 0 && s.replies > 0, "{s:?}");
    assert!(s.refused * 50 <= s.requests, "few refused actions: {s:?}");
    // Every stored request has its creation event.
    let missing: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM requests r WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.action = 'request.created')",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(missing, 0);
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        check_rollups(&app.state, Month::parse("2026-11").unwrap())
            .await
            .unwrap(),
        []
    );
    let ranking = jiesu::services::kpi::ranking_json(
        &app.state,
        Month::parse("2026-11").unwrap(),
        jiesu::services::kpi::Level::Subdistrict,
    )
    .await
    .unwrap();
    let ranking: Value = serde_json::from_str(&ranking).unwrap();
    let ranked = ranking["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| !u["rank"].is_null())
        .count();
    assert!(ranked >= 20, "{ranked} streets ranked");

    // The same seed lives the same city; another seed another.
    if let Some((_, again)) = simulated(b, 7).await {
        assert_eq!(again, s);
    }
    if let Some((_, other)) = simulated(b, 8).await {
        assert_ne!(other.by_category, s.by_category);
    }
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
    act(
        &app,
        &s.wangjing,
        &order_id(&v, WANGJING, 1),
        "return",
        json!({ "reason": "不属本街道，应由城管执法处理" }),
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
    act(
        &app,
        &s.youanmen,
        &order_id(&v, YOUANMEN, 1),
        "return",
        json!({ "reason": "地点在朝阳区望京，非本街道辖区" }),
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

/// Many writes at once (on SQLite they share group commits): every acknowledged write is
/// there with its event, every refused one left nothing, and the chain verifies.
pub async fn concurrent_writes_are_all_durable_and_refusals_leave_nothing(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let before = app.event_count().await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (base, op, disp, id) = (
            app.base.clone(),
            s.operator.clone(),
            s.dispatcher.clone(),
            id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let resp = if i % 3 == 0 {
                // Refused inside its transaction: 望京 already leads this round.
                client
                    .post(format!("{base}/api/v1/requests/{id}/dispatch"))
                    .bearer_auth(disp)
                    .json(&json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }))
                    .send()
                    .await
            } else {
                let mut body = complaint("望京西园三区夜间施工噪音扰民。");
                body["requester"]["phone"] = json!(format!("1390000{i:04}"));
                client
                    .post(format!("{base}/api/v1/requests"))
                    .bearer_auth(op)
                    .json(&body)
                    .send()
                    .await
            };
            let resp = resp.unwrap();
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.unwrap();
            (i, status, v)
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let (i, status, v) = t.await.unwrap();
        if i % 3 == 0 {
            assert!(status == 409 || status == 422, "{status} {v}");
        } else {
            assert_eq!(status, 201, "{v}");
            created.push(v["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(created.len(), 40);
    for id in &created {
        expect(
            app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
                .await,
            200,
        );
    }
    // One creation event each; the refused dispatches left no event.
    assert_eq!(app.event_count().await - before, 40);
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assignments")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(orders, 1);
    // Every request has its own number (on PostgreSQL the day counter is taken in a side
    // transaction of its own).
    let numbers: Vec<String> = sqlx::query_scalar("SELECT number FROM requests")
        .fetch_all(app.state.store.reader())
        .await
        .unwrap();
    let distinct: std::collections::BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "{numbers:?}");
    assert_eq!(numbers.len(), 41);
    // PostgreSQL commits release the chain's lock early and wait on the durability barrier; a
    // broken barrier would silently fall back to slow synchronous commits.
    assert_eq!(
        app.state.store.commits_early(),
        b == Backend::Postgres,
        "early lock release on PostgreSQL only"
    );
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// New requests on PostgreSQL go in batches, each one statement (`store/creates.rs`,
/// `Store::write_at_once`): requests, their suggestions' links and their events together or
/// not at all. Twelve operators racing to use the same suggestion: one request is recorded,
/// eleven get 422 and leave nothing; six with their own suggestions racing one with a taken
/// suggestion: the six are recorded and linked, the seventh refused. The
/// mechanism itself: a refused condition writes nothing; after another node moved the chain's
/// head nothing is written at once and the caller's transaction takes over; on SQLite it is
/// never used. The chain stays whole throughout.
pub async fn writes_at_once_link_a_suggestion_once_and_give_way_when_another_node_wrote(
    b: Backend,
) {
    use jiesu::store::{self, events, AtOnce, AtOnceStatement, Store};
    let app = app!(b);
    let s = staff(&app).await;
    new_request(&app, &s).await; // this node now knows the chain's head
    let text = "望京西园三区夜间施工噪音扰民，凌晨两点还在施工。";
    let v = suggest(&app, &s.operator, text).await;
    let (requests_before, events_before) = (count_requests(&app).await, app.event_count().await);
    let mut racers = Vec::new();
    for i in 0..12 {
        let mut body = complaint(text);
        body["suggestion_id"] = v["suggestion_id"].clone();
        body["requester"]["phone"] = json!(format!("1391111{i:04}"));
        racers.push(race_create(&app, &s.operator, body));
    }
    let mut created = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (201, v) => created.push(v["id"].as_str().unwrap().to_string()),
            (422, v) => assert_eq!(v["error"]["fields"][0]["field"], "suggestion_id", "{v}"),
            (status, v) => panic!("{status} {v}"),
        }
    }
    assert_eq!(created.len(), 1, "one request takes the suggestion");
    assert_eq!(count_requests(&app).await, requests_before + 1);
    assert_eq!(app.event_count().await, events_before + 1);
    let linked: String = sqlx::query_scalar("SELECT request_id FROM suggestions WHERE id = $1")
        .bind(v["suggestion_id"].as_str().unwrap())
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(linked, created[0]);

    // Six suggestions asked at once are all stored (whatever batches they fall into). Six
    // requests with them race one reusing the taken suggestion: the six are recorded and
    // linked, the seventh is refused alone.
    let suggesting: Vec<_> = (0..6)
        .map(|_| {
            race_post(
                &app,
                &s.operator,
                "/api/v1/requests/suggest",
                json!({ "text": text }),
            )
        })
        .collect();
    let mut sids = Vec::new();
    for suggest in suggesting {
        let (status, own) = suggest.await.unwrap();
        assert_eq!(status, 200, "{own}");
        sids.push(own["suggestion_id"].clone());
    }
    sids.push(v["suggestion_id"].clone());
    let mut racers = Vec::new();
    for (i, sid) in sids.into_iter().enumerate() {
        let mut body = complaint(text);
        body["suggestion_id"] = sid.clone();
        body["requester"]["phone"] = json!(format!("1392222{i:04}"));
        racers.push((i, sid, race_create(&app, &s.operator, body)));
    }
    for (i, sid, racer) in racers {
        let (status, v) = racer.await.unwrap();
        if i == 6 {
            assert_eq!(status, 422, "{v}");
            continue;
        }
        assert_eq!(status, 201, "{v}");
        let linked: String = sqlx::query_scalar("SELECT request_id FROM suggestions WHERE id = $1")
            .bind(sid.as_str().unwrap())
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
        assert_eq!(linked, v["id"].as_str().unwrap());
    }
    assert_eq!(count_requests(&app).await, requests_before + 7);

    // The mechanism, with a statement of the test's own: a day counter written where `$2`.
    let store = &app.state.store;
    let statement = AtOnceStatement::new(
        "",
        "$2",
        "c AS (INSERT INTO day_counters (day, last) SELECT $1, 7 WHERE EXISTS (SELECT 1 FROM go))",
        2,
        1,
    );
    let event = |action: &str| app.state.audit_event("system", "system", action, json!({}));
    let day_written = |day: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM day_counters WHERE day = $1")
            .bind(day)
            .fetch_one(store.reader())
            .await
            .unwrap()
            == 1
    };
    let at_once = |day: &'static str, go: bool, action: &'static str| {
        let statement = &statement;
        async move {
            store
                .write_at_once(statement, |q| q.bind(day).bind(go), vec![event(action)])
                .await
                .unwrap()
        }
    };
    let head = events::head_seq(store.reader()).await.unwrap();
    if b == Backend::Sqlite {
        assert!(
            matches!(at_once("t1", true, "test.one").await, AtOnce::NotHere(e) if e.len() == 1)
        );
        assert!(!day_written("t1").await);
        return;
    }
    match at_once("t1", true, "test.one").await {
        AtOnce::Written(stored) => assert_eq!(stored[0].seq, head + 1),
        other => panic!("{other:?}"),
    }
    assert!(day_written("t1").await);
    assert!(matches!(
        at_once("t2", false, "test.two").await,
        AtOnce::Refused
    ));
    assert!(!day_written("t2").await);
    assert_eq!(events::head_seq(store.reader()).await.unwrap(), head + 1);

    // Another node appends: this node's remembered head is stale, so nothing is written at
    // once, and a request still goes in (its transaction reads the head).
    let url = app.config.database_url.clone().unwrap();
    let other = Store::open(
        &url,
        &store::SqliteOptions {
            synchronous: "FULL".into(),
        },
    )
    .await
    .unwrap();
    let mut tx = other.begin().await.unwrap();
    tx.event(event("test.other_node"));
    tx.commit().await.unwrap();
    other.close().await;
    assert!(matches!(at_once("t3", true, "test.three").await, AtOnce::NotHere(e) if e.len() == 1));
    assert!(!day_written("t3").await);
    new_request(&app, &s).await;
    assert_eq!(events::head_seq(store.reader()).await.unwrap(), head + 3);
    assert_eq!(
        events::verify(store.reader()).await.unwrap().ok(),
        Some(head + 3)
    );
}

/// Posts a new request in a task of its own, to race others: its status and body.
fn race_create(app: &TestApp, token: &str, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
    race_post(app, token, "/api/v1/requests", body)
}

/// POSTs in a task of its own, to race others: the status and body.
fn race_post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let (url, token) = (format!("{}{path}", app.base), token.to_string());
    tokio::spawn(async move {
        let resp = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    })
}

async fn count_requests(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}
