//! A request's whole life (dispatch, return, extension, reply, rework, callback, close) and two
//! people acting on it at once.

use super::cast::{
    act, actions, new_request, reply_body, return_accepted, staff, CGZF, HUAJIADI, WANGJING,
    YOUANMEN,
};
use crate::helpers::{app, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

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
    let v = return_accepted(
        &app,
        &s.youanmen,
        &s.dispatcher,
        &order_id(&v, YOUANMEN, 1),
        "该地址属朝阳区望京街道，非本街道辖区",
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
        "assignment.return_requested",
        "assignment.return_accepted",
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
