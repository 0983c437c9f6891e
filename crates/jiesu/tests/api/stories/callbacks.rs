//! Callbacks and merges: consultations answered at intake, duplicates merged with their own
//! callback, and requesters who cannot be reached.

use super::cast::{act, new_request, reply_body, staff, WANGJING};
use crate::helpers::{app, complaint, expect, order_id, Backend};
use serde_json::json;

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
