//! Three levels of handling (下派 and 签批, issue #18): a street passes its order to a
//! community, which passes it to a property company registered under it; the company's reply
//! is sent back once, then signed off up the chain, reaches the center through the normal
//! reply, is called back and closes. Limits outside the parent's, units not under the holder
//! and other units' staff are refused; a sub-unit sees only its own. A unit that requires its
//! manager's sign-off holds a handler's reply until the manager approves it.

use super::cast::{actions, new_request, staff, HUAJIADI, WANGJING, YOUANMEN};
use crate::helpers::{app, expect, order_id, Backend, TestApp};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::Role;
use serde_json::{json, Value};

const FANGZHOUYUAN: &str = "110105026035"; // 方舟苑社区 (under 望京)
const PROPERTY: &str = "110105026034.wy1"; // a property company registered under 花家地西里

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn sub_of<'a>(view: &'a Value, unit: &str) -> &'a Value {
    view["sub_orders"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|s| s["unit_code"] == unit)
        .unwrap_or_else(|| panic!("no child order of {unit} in {view}"))
}

fn order_of<'a>(view: &'a Value, id: &str) -> &'a Value {
    view["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap()
}

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (reqwest::StatusCode, Value) {
    app.post(&format!("/api/v1{path}"), Some(token), body).await
}

fn sub_reply(text: &str) -> Value {
    json!({ "outcome": "resolved", "to_requester": format!("您反映的问题：{text}"), "to_center": format!("处理情况：{text}") })
}

/// The pending sign-off a unit sees, by the unit whose reply it is.
async fn pending_signoff(app: &TestApp, token: &str, from: &str) -> String {
    let list = expect(app.get("/api/v1/signoffs", Some(token)).await, 200);
    list.as_array()
        .unwrap()
        .iter()
        .find(|g| g["from_unit_code"] == from)
        .unwrap_or_else(|| panic!("no sign-off from {from}: {list}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

pub async fn an_order_passed_down_two_levels_is_sent_back_once_signed_off_up_the_chain_and_closes(
    b: Backend,
) {
    let app = app!(b);
    // 下派 reaches companies registered under a unit (their parent in the unit tree).
    app.exec(
        "INSERT INTO units (code, name, level, parent_code, path, short_name, aliases, active) VALUES \
         ('110105026034.wy1', '花家地西里物业管理有限公司', 'property', '110105026034', \
          '/110105/110105026/110105026034/110105026034.wy1/', '花家地物业', '', 1)",
    )
    .await;
    let s = staff(&app).await;
    let wj_handler = app
        .user("wj_handler", Role::UnitHandler, Some(WANGJING))
        .await;
    let fzy = app
        .user("fzy_handler", Role::UnitHandler, Some(FANGZHOUYUAN))
        .await;
    let pm = app
        .user("pm_handler", Role::UnitHandler, Some(PROPERTY))
        .await;

    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        post(
            &app,
            &s.dispatcher,
            &format!("/requests/{id}/dispatch"),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let a1 = order_id(&v, WANGJING, 1);
    let limit = time(&order_of(&v, &a1)["reply_by"]);
    let pass = |reply_by: DateTime<Utc>, units: &[&str]| json!({ "units": units, "reply_by": reply_by, "note": "请核实现场并答复" });
    let down = format!("/assignments/{a1}/pass-down");

    // Not before the street has acknowledged its order.
    expect(
        post(
            &app,
            &wj_handler,
            &down,
            pass(limit - Duration::days(1), &[HUAJIADI]),
        )
        .await,
        409,
    );
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/assignments/{a1}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );
    // A limit outside the street's own is refused naming reply_by.
    let e = expect(
        post(
            &app,
            &wj_handler,
            &down,
            pass(limit + Duration::hours(1), &[HUAJIADI]),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reply_by", "{e}");
    // A unit not under the street (another street, or the street itself) is refused.
    let e = expect(
        post(
            &app,
            &wj_handler,
            &down,
            pass(limit - Duration::days(1), &[YOUANMEN]),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "units", "{e}");
    let e = expect(
        post(
            &app,
            &wj_handler,
            &down,
            pass(limit - Duration::days(1), &["no-such-unit"]),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "units[0]", "{e}");
    // Another street's manager does not see the order at all.
    expect(
        post(
            &app,
            &s.youanmen,
            &down,
            pass(limit - Duration::days(1), &[HUAJIADI]),
        )
        .await,
        404,
    );

    let v = expect(
        post(
            &app,
            &wj_handler,
            &down,
            pass(limit - Duration::days(1), &[HUAJIADI]),
        )
        .await,
        200,
    );
    let c1 = sub_of(&v, HUAJIADI)["id"].as_str().unwrap().to_string();
    assert_eq!(sub_of(&v, HUAJIADI)["status"], "dispatched");
    let c1_limit = time(&sub_of(&v, HUAJIADI)["reply_by"]);
    assert!(time(&sub_of(&v, HUAJIADI)["acknowledge_by"]) <= c1_limit);
    // Named again while it holds it: refused.
    let e = expect(
        post(
            &app,
            &wj_handler,
            &down,
            pass(limit - Duration::days(1), &[HUAJIADI]),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "units", "{e}");

    // The community sees its child order in its queue and the request; a sibling community,
    // another street and the company (nothing passed to it yet) see nothing.
    let q = expect(app.get("/api/v1/sub-orders", Some(&s.huajiadi)).await, 200);
    assert_eq!(q.as_array().unwrap().len(), 1, "{q}");
    assert_eq!(
        (q[0]["id"].as_str(), q[0]["number"].as_str()),
        (Some(c1.as_str()), r["number"].as_str())
    );
    for other in [&fzy, &s.youanmen, &pm] {
        let q = expect(app.get("/api/v1/sub-orders", Some(other)).await, 200);
        assert_eq!(q.as_array().unwrap().len(), 0, "{q}");
    }
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&fzy)).await,
        404,
    );
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&pm)).await,
        404,
    );
    let seen = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.huajiadi))
            .await,
        200,
    );
    assert!(
        actions(&seen).contains(&"sub_order.passed_down".to_string()),
        "{seen}"
    );
    // Only the community acts on its child order: not the street above it, not its neighbour.
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/sub-orders/{c1}/acknowledge"),
            json!({}),
        )
        .await,
        404,
    );
    expect(
        post(
            &app,
            &fzy,
            &format!("/sub-orders/{c1}/acknowledge"),
            json!({}),
        )
        .await,
        404,
    );
    expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/sub-orders/{c1}/reply"),
            sub_reply("x"),
        )
        .await,
        409,
    );
    expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/sub-orders/{c1}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );

    // The community passes it on to the property company, inside its own limit.
    let down2 = format!("/sub-orders/{c1}/pass-down");
    let e = expect(
        post(
            &app,
            &s.huajiadi,
            &down2,
            pass(c1_limit + Duration::hours(1), &[PROPERTY]),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reply_by", "{e}");
    let e = expect(
        post(
            &app,
            &s.huajiadi,
            &down2,
            pass(c1_limit - Duration::hours(2), &[WANGJING]),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "units", "{e}");
    let v = expect(
        post(
            &app,
            &s.huajiadi,
            &down2,
            pass(c1_limit - Duration::hours(2), &[PROPERTY]),
        )
        .await,
        200,
    );
    let c2 = sub_of(&v, PROPERTY)["id"].as_str().unwrap().to_string();
    assert_eq!(sub_of(&v, PROPERTY)["parent_id"], c1.as_str());
    let q = expect(app.get("/api/v1/sub-orders", Some(&pm)).await, 200);
    assert_eq!(q.as_array().unwrap().len(), 1, "{q}");
    let pm_view = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&pm)).await,
        200,
    );
    assert_eq!(
        pm_view["sub_orders"].as_array().unwrap().len(),
        1,
        "the company sees only its own: {pm_view}"
    );

    // The company acknowledges and replies; the reply waits for the community.
    app.clock.advance(Duration::hours(1));
    expect(
        post(
            &app,
            &pm,
            &format!("/sub-orders/{c2}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );
    let e = expect(
        post(
            &app,
            &pm,
            &format!("/sub-orders/{c2}/reply"),
            json!({ "outcome": "resolved", "to_requester": " ", "to_center": "x" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "to_requester", "{e}");
    expect(
        post(
            &app,
            &pm,
            &format!("/sub-orders/{c2}/reply"),
            sub_reply("已安排清理"),
        )
        .await,
        200,
    );
    let g = pending_signoff(&app, &s.huajiadi, PROPERTY).await;
    // Only the community decides: not the company, not the street.
    expect(
        post(
            &app,
            &pm,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        404,
    );
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        404,
    );
    let e = expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "send_back" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reason", "{e}");
    // Sent back once with a reason, which the company reads.
    let v = expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "send_back", "reason": "请补充整改前后照片" }),
        )
        .await,
        200,
    );
    assert_eq!(sub_of(&v, PROPERTY)["status"], "acknowledged");
    let q = expect(app.get("/api/v1/sub-orders", Some(&pm)).await, 200);
    assert_eq!(q[0]["sent_back_reason"], "请补充整改前后照片", "{q}");
    expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        409,
    );

    // Replied again, approved by the community: it becomes the community's reply to the street.
    expect(
        post(
            &app,
            &pm,
            &format!("/sub-orders/{c2}/reply"),
            sub_reply("已清理并补充照片"),
        )
        .await,
        200,
    );
    let g = pending_signoff(&app, &s.huajiadi, PROPERTY).await;
    let v = expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        200,
    );
    assert_eq!(sub_of(&v, PROPERTY)["status"], "approved");
    assert_eq!(sub_of(&v, HUAJIADI)["status"], "replied");
    assert_eq!(
        sub_of(&v, HUAJIADI)["reply_to_requester"],
        "您反映的问题：已清理并补充照片"
    );
    // The street's order is still the street's: nothing has reached the center yet.
    let center = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(order_of(&center, &a1)["status"], "acknowledged");

    // The street approves: the center's order is replied through the normal path.
    let g = pending_signoff(&app, &s.wangjing, HUAJIADI).await;
    expect(
        post(
            &app,
            &s.wangjing,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        200,
    );
    let center = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(center["status"], "replied", "{center}");
    let order = order_of(&center, &a1);
    assert_eq!(
        (order["status"].as_str(), order["outcome"].as_str()),
        (Some("replied"), Some("resolved"))
    );
    assert_eq!(
        order["reply_to_requester"],
        "您反映的问题：已清理并补充照片"
    );
    let acts = actions(&center);
    for a in [
        "sub_order.passed_down",
        "sub_order.acknowledged",
        "sub_order.replied",
        "sub_order.sent_back",
        "sub_order.approved",
        "assignment.replied",
    ] {
        assert!(acts.contains(&a.to_string()), "{a} missing from {acts:?}");
    }
    // 双反馈: the requester half went to the outbox like any reply.
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE request_id = $1 AND kind = 'reply'")
            .bind(&id)
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(n, 1);

    // Callback, and the request closes.
    let v = expect(
        post(
            &app,
            &s.agent,
            &format!("/requests/{id}/callback"),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed", "{v}");

    // Sub-unit tallies beside the street's KPIs: the community and the company, the
    // company's reply sent back once; the street itself is not among them.
    let t = expect(
        app.get(
            "/api/v1/sub-orders/tallies?month=2026-11",
            Some(&s.wangjing),
        )
        .await,
        200,
    );
    let row = |code: &str| {
        t["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("{code} not in {t}"))
    };
    let hjd = row(HUAJIADI);
    assert_eq!(
        (
            hjd["received"].as_i64(),
            hjd["on_time"].as_i64(),
            hjd["sent_back"].as_i64(),
            hjd["approved"].as_i64()
        ),
        (Some(1), Some(1), Some(0), Some(1))
    );
    let wy = row(PROPERTY);
    assert_eq!(
        (
            wy["received"].as_i64(),
            wy["sent_back"].as_i64(),
            wy["approved"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    assert_eq!(t["units"].as_array().unwrap().len(), 2, "{t}");
    // A community sees its own sub-units' tallies, not its street's.
    expect(
        app.get(
            &format!("/api/v1/sub-orders/tallies?unit={WANGJING}"),
            Some(&s.huajiadi),
        )
        .await,
        403,
    );
    let e = expect(
        app.get(
            "/api/v1/sub-orders/tallies?month=2026-13",
            Some(&s.wangjing),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "month", "{e}");
    // KPI attribution stays with the dispatched unit: the community has no order of its own.
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM assignments WHERE request_id = $1 AND unit_code <> $2",
    )
    .bind(&id)
    .bind(WANGJING)
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(n, 0);
}

pub async fn a_unit_that_requires_signoff_holds_a_handlers_reply_for_its_manager(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let wj_handler = app
        .user("wj_handler", Role::UnitHandler, Some(WANGJING))
        .await;
    // Only an administrator sets it; it is an event.
    expect(
        app.put(
            &format!("/api/v1/units/{WANGJING}/signoff"),
            &s.wangjing,
            json!({ "required": true }),
        )
        .await,
        403,
    );
    expect(
        app.put(
            "/api/v1/units/no-such-unit/signoff",
            &app.admin,
            json!({ "required": true }),
        )
        .await,
        404,
    );
    let before = app.event_count().await;
    expect(
        app.put(
            &format!("/api/v1/units/{WANGJING}/signoff"),
            &app.admin,
            json!({ "required": true }),
        )
        .await,
        200,
    );
    assert_eq!(app.event_count().await, before + 1);

    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        post(
            &app,
            &s.dispatcher,
            &format!("/requests/{id}/dispatch"),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let a1 = order_id(&v, WANGJING, 1);
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/assignments/{a1}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );
    let body = |t: &str| json!({ "to_requester": format!("答复：{t}"), "to_center": format!("反馈：{t}"), "outcome": "partly" });
    // The handler's reply waits: the order stays acknowledged, nothing reaches the center.
    let v = expect(
        post(
            &app,
            &wj_handler,
            &format!("/assignments/{a1}/reply"),
            body("初稿"),
        )
        .await,
        200,
    );
    assert_eq!(order_of(&v, &a1)["status"], "acknowledged", "{v}");
    assert_eq!(v["signoffs"][0]["status"], "pending", "{v}");
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/assignments/{a1}/reply"),
            body("再次"),
        )
        .await,
        409,
    );
    let g = pending_signoff(&app, &s.wangjing, WANGJING).await;
    // Only a manager of the unit decides.
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        403,
    );
    expect(
        post(
            &app,
            &s.youanmen,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        404,
    );
    let v = expect(
        post(
            &app,
            &s.wangjing,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "send_back", "reason": "答复过于简单" }),
        )
        .await,
        200,
    );
    assert_eq!(v["signoffs"][0]["status"], "sent_back");
    assert_eq!(v["signoffs"][0]["reason"], "答复过于简单");
    expect(
        post(
            &app,
            &wj_handler,
            &format!("/assignments/{a1}/reply"),
            body("补充了处理过程"),
        )
        .await,
        200,
    );
    let g = pending_signoff(&app, &s.wangjing, WANGJING).await;
    expect(
        post(
            &app,
            &s.wangjing,
            &format!("/signoffs/{g}/decision"),
            json!({ "decision": "approve" }),
        )
        .await,
        200,
    );
    let center = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(center["status"], "replied", "{center}");
    let order = order_of(&center, &a1);
    assert_eq!(
        (
            order["outcome"].as_str(),
            order["reply_to_requester"].as_str()
        ),
        (Some("partly"), Some("答复：补充了处理过程"))
    );
    let acts = actions(&center);
    for a in [
        "signoff.requested",
        "signoff.sent_back",
        "signoff.approved",
        "assignment.replied",
    ] {
        assert!(acts.contains(&a.to_string()), "{a} missing from {acts:?}");
    }
    // A manager's own reply goes straight through on another order.
    let r = new_request(&app, &s).await;
    let id2 = r["id"].as_str().unwrap().to_string();
    let v = expect(
        post(
            &app,
            &s.dispatcher,
            &format!("/requests/{id2}/dispatch"),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let a2 = order_id(&v, WANGJING, 1);
    expect(
        post(
            &app,
            &s.wangjing,
            &format!("/assignments/{a2}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );
    let v = expect(
        post(
            &app,
            &s.wangjing,
            &format!("/assignments/{a2}/reply"),
            body("经理直接答复"),
        )
        .await,
        200,
    );
    assert_eq!(order_of(&v, &a2)["status"], "replied");
}
