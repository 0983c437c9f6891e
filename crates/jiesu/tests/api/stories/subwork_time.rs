//! Child orders keep time (issue #18): a street passes its order to two communities; one asks
//! for more time (refused outside the street's own limit, then approved inside it), is marked
//! late by the deadline sweep once its new limit passes, and the street's tallies count it;
//! the other returns the order with a reason, and the street passes it to a third community.
//! Both replies are signed off and become the street's reply. Other units may not decide.

use super::cast::{new_request, staff, HUAJIADI, WANGJING};
use crate::helpers::{app, expect, order_id, Backend, TestApp};
use chrono::{DateTime, Duration, Utc};
use jiesu::clock::Clock;
use jiesu_core::Role;
use serde_json::{json, Value};

const FANGZHOUYUAN: &str = "110105026035"; // 方舟苑社区 (under 望京)
const DAXIYANG: &str = "110105026036"; // 大西洋新城社区 (under 望京)

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

async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (reqwest::StatusCode, Value) {
    app.post(&format!("/api/v1{path}"), Some(token), body).await
}

fn reply(text: &str) -> Value {
    json!({ "outcome": "resolved", "to_requester": format!("已处理：{text}"), "to_center": format!("核实：{text}") })
}

fn actions(v: &Value) -> Vec<String> {
    v["events"]
        .as_array()
        .map(|es| {
            es.iter()
                .map(|e| e["action"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub async fn a_child_order_asks_for_time_runs_late_is_returned_and_passed_to_another_community(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let wj = app
        .user("wj_handler", Role::UnitHandler, Some(WANGJING))
        .await;
    let fzy = app
        .user("fzy_handler", Role::UnitHandler, Some(FANGZHOUYUAN))
        .await;
    let dxy = app
        .user("dxy_handler", Role::UnitHandler, Some(DAXIYANG))
        .await;
    let id = new_request(&app, &s).await["id"]
        .as_str()
        .unwrap()
        .to_string();
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
            &wj,
            &format!("/assignments/{a1}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );
    let street_limit = time(
        &v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == a1)
            .unwrap()["reply_by"],
    );
    let child_limit = street_limit - Duration::days(3);
    let v = expect(
        post(
            &app,
            &wj,
            &format!("/assignments/{a1}/pass-down"),
            json!({ "units": [HUAJIADI, FANGZHOUYUAN], "reply_by": child_limit }),
        )
        .await,
        200,
    );
    let hjd_c = sub_of(&v, HUAJIADI)["id"].as_str().unwrap().to_string();
    let fzy_c = sub_of(&v, FANGZHOUYUAN)["id"].as_str().unwrap().to_string();
    for (token, c) in [(&s.huajiadi, &hjd_c), (&fzy, &fzy_c)] {
        expect(
            post(
                &app,
                token,
                &format!("/sub-orders/{c}/acknowledge"),
                json!({}),
            )
            .await,
            200,
        );
    }

    // 延期: not past the street's own limit, not without a reason, not by another unit.
    let ask = format!("/sub-orders/{hjd_c}/extension");
    let e = expect(
        post(
            &app,
            &s.huajiadi,
            &ask,
            json!({ "reply_by": street_limit + Duration::hours(1), "reason": "需协调物业" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reply_by", "{e}");
    let e = expect(
        post(
            &app,
            &s.huajiadi,
            &ask,
            json!({ "reply_by": street_limit, "reason": " " }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reason", "{e}");
    expect(
        post(
            &app,
            &fzy,
            &ask,
            json!({ "reply_by": street_limit, "reason": "代为申请" }),
        )
        .await,
        404,
    );
    let asked = child_limit + Duration::days(1);
    let v = expect(
        post(
            &app,
            &s.huajiadi,
            &ask,
            json!({ "reply_by": asked, "reason": "需协调物业公司维修" }),
        )
        .await,
        200,
    );
    let x = &sub_of(&v, HUAJIADI)["extensions"][0];
    assert_eq!(x["status"], "pending", "{v}");
    let xid = x["id"].as_str().unwrap().to_string();
    expect(
        post(
            &app,
            &s.huajiadi,
            &ask,
            json!({ "reply_by": asked, "reason": "再申请" }),
        )
        .await,
        409,
    );
    // The street sees it waiting; the community itself and another street may not decide.
    let list = expect(
        app.get("/api/v1/sub-extensions?status=pending", Some(&wj))
            .await,
        200,
    );
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    let decide = format!("/sub-extensions/{xid}/decision");
    expect(
        post(&app, &s.huajiadi, &decide, json!({ "decision": "approve" })).await,
        404,
    );
    expect(
        post(&app, &s.youanmen, &decide, json!({ "decision": "approve" })).await,
        404,
    );
    let e = expect(
        post(&app, &wj, &decide, json!({ "decision": "refuse" })).await,
        422,
    );
    assert_eq!(field(&e), "reason", "{e}");
    let e = expect(
        post(
            &app,
            &wj,
            &decide,
            json!({ "decision": "approve", "reply_by": street_limit + Duration::minutes(1) }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "reply_by", "{e}");
    let v = expect(
        post(&app, &wj, &decide, json!({ "decision": "approve" })).await,
        200,
    );
    assert_eq!(time(&sub_of(&v, HUAJIADI)["reply_by"]), asked);
    assert_eq!(sub_of(&v, HUAJIADI)["extensions"][0]["status"], "approved");
    expect(
        post(&app, &wj, &decide, json!({ "decision": "approve" })).await,
        409,
    );

    // 退回上级: a reason is required; returned, the child is closed to its unit.
    let back = format!("/sub-orders/{fzy_c}/return");
    let e = expect(post(&app, &fzy, &back, json!({ "reason": "" })).await, 422);
    assert_eq!(field(&e), "reason", "{e}");
    let v = expect(
        post(
            &app,
            &fzy,
            &back,
            json!({ "reason": "该地址不在本社区辖区，属大西洋新城" }),
        )
        .await,
        200,
    );
    assert_eq!(sub_of(&v, FANGZHOUYUAN)["status"], "returned");
    assert_eq!(
        sub_of(&v, FANGZHOUYUAN)["return_reason"],
        "该地址不在本社区辖区，属大西洋新城"
    );
    expect(
        post(
            &app,
            &fzy,
            &format!("/sub-orders/{fzy_c}/reply"),
            reply("x"),
        )
        .await,
        409,
    );
    // The street passes the work to the community the return named.
    let v = expect(
        post(
            &app,
            &wj,
            &format!("/assignments/{a1}/pass-down"),
            json!({ "units": [DAXIYANG], "reply_by": street_limit - Duration::hours(6) }),
        )
        .await,
        200,
    );
    let dxy_c = sub_of(&v, DAXIYANG)["id"].as_str().unwrap().to_string();
    expect(
        post(
            &app,
            &dxy,
            &format!("/sub-orders/{dxy_c}/acknowledge"),
            json!({}),
        )
        .await,
        200,
    );

    // The sweep: nothing before the new limit; past it, 花家地西里 once, not 大西洋新城.
    let before = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    assert_eq!(before.sub_overdue, 0);
    app.clock
        .advance(asked - app.clock.now() + Duration::hours(1));
    let rep = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    assert_eq!(rep.sub_overdue, 1, "{rep:?}");
    let rep = jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    assert_eq!(rep.sub_overdue, 0, "{rep:?}");
    let s = super::cast::relogin(&app).await;
    let wj = app.login("wj_handler", "password1").await;
    let dxy = app.login("dxy_handler", "password1").await;
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&wj)).await,
        200,
    );
    assert!(sub_of(&v, HUAJIADI)["overdue_at"].is_string(), "{v}");
    assert!(sub_of(&v, DAXIYANG)["overdue_at"].is_null(), "{v}");
    let acts = actions(&v);
    for a in [
        "sub_extension.requested",
        "sub_extension.approved",
        "sub_order.returned",
        "sub_order.overdue",
    ] {
        assert!(acts.iter().any(|x| x == a), "{a} missing from {acts:?}");
    }
    // The street's tallies count the late child and the returned one.
    let t = expect(app.get("/api/v1/sub-orders/tallies", Some(&wj)).await, 200);
    let row = |code: &str| {
        t["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["unit_code"] == code)
            .cloned()
            .unwrap_or_else(|| panic!("no {code} in {t}"))
    };
    assert_eq!(
        (
            row(HUAJIADI)["late"].as_i64(),
            row(HUAJIADI)["returned"].as_i64()
        ),
        (Some(1), Some(0))
    );
    assert_eq!(
        (
            row(FANGZHOUYUAN)["late"].as_i64(),
            row(FANGZHOUYUAN)["returned"].as_i64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(row(DAXIYANG)["late"].as_i64(), Some(0));
    // A late child may still reply; both replies signed off become the street's reply.
    expect(
        post(
            &app,
            &s.huajiadi,
            &format!("/sub-orders/{hjd_c}/reply"),
            reply("物业已维修"),
        )
        .await,
        200,
    );
    expect(
        post(
            &app,
            &dxy,
            &format!("/sub-orders/{dxy_c}/reply"),
            reply("已协调施工方"),
        )
        .await,
        200,
    );
    let pending = expect(app.get("/api/v1/signoffs", Some(&wj)).await, 200);
    let ids: Vec<String> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 2, "{pending}");
    let mut v = Value::Null;
    for g in ids {
        v = expect(
            post(
                &app,
                &wj,
                &format!("/signoffs/{g}/decision"),
                json!({ "decision": "approve" }),
            )
            .await,
            200,
        );
    }
    let order = v["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == a1)
        .unwrap()
        .clone();
    assert_eq!(order["status"], "replied", "{v}");
    let center = order["reply_to_center"].as_str().unwrap();
    assert!(
        center.contains("物业已维修") && center.contains("已协调施工方"),
        "{center}"
    );
    assert!(
        !center.contains("方舟苑"),
        "a returned child does not feed the reply: {center}"
    );
    // `jiesu audit verify`'s replay still agrees with every table.
    let mismatches = jiesu::store::replay::compare(app.state.store.reader())
        .await
        .unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
    // A hand edit of a child order, a sign-off or a request for time is named by the replay.
    for (table, field) in [
        ("sub_orders", "return_reason"),
        ("signoffs", "to_center"),
        ("sub_extensions", "reason"),
    ] {
        super::audit::a_hand_edit_is_named(
            &app,
            table,
            field,
            &format!("UPDATE {table} SET {field} = {field} || 'x' WHERE {field} IS NOT NULL"),
            &format!(
                "UPDATE {table} SET {field} = substr({field}, 1, length({field}) - 1) WHERE {field} IS NOT NULL"
            ),
        )
        .await;
    }
}
