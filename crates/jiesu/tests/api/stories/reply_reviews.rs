//! 办结审核 (issue 18): the admin turns the check on for one category; a reply on it waits for
//! the center (no callback meanwhile), is sent back once with a reason (the order is handled
//! again, its deadline unchanged), replied again and approved, and the callback then closes it.
//! Replies on other categories go straight to the callback.

use super::cast::{act, actions, reply_body, staff, WANGJING};
use crate::helpers::{app, complaint, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

pub async fn a_checked_category_holds_the_reply_until_the_center_approves(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let admin = app.user("admin2", Role::Admin, None).await;
    let cats = expect(app.get("/api/v1/categories", Some(&sup)).await, 200);
    let list = cats
        .as_array()
        .or_else(|| cats["categories"].as_array())
        .unwrap_or_else(|| panic!("{cats}"));
    let leaves: Vec<String> = list
        .iter()
        .filter(|c| c["level"] == 3)
        .map(|c| c["code"].as_str().unwrap().to_string())
        .take(2)
        .collect();
    let (checked, plain) = (leaves[0].clone(), leaves[1].clone());

    // Only the admin sets the flag; an unknown category is 404.
    let flag = |on: bool| json!({ "reply_review": on });
    assert_eq!(
        app.put(
            &format!("/api/v1/categories/{checked}/reply-review"),
            &sup,
            flag(true)
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.put("/api/v1/categories/nope/reply-review", &admin, flag(true))
            .await
            .0,
        404
    );
    let (st, v) = app
        .put(
            &format!("/api/v1/categories/{checked}/reply-review"),
            &admin,
            flag(true),
        )
        .await;
    assert_eq!(st, 200, "{v}");
    let l = expect(app.get("/api/v1/reply-reviews", Some(&sup)).await, 200);
    assert_eq!(l["categories"], json!([checked.clone()]), "{l}");

    let through = |category: String| {
        let app = &app;
        let s = &s;
        async move {
            let mut body = complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。");
            body["category_code"] = json!(category);
            let r = expect(
                app.post("/api/v1/requests", Some(&s.operator), body).await,
                201,
            );
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
            let o = order_id(&v, WANGJING, 1);
            act(app, &s.wangjing, &o, "acknowledge", json!({})).await;
            act(app, &s.wangjing, &o, "reply", reply_body("已协调停工")).await;
            (id, o)
        }
    };
    // A plain category: straight to the callback.
    let (plain_id, _) = through(plain).await;
    let (id, o) = through(checked).await;
    let l = expect(
        app.get("/api/v1/reply-reviews?status=pending", Some(&s.dispatcher))
            .await,
        200,
    );
    let pending = l["reviews"].as_array().unwrap();
    assert_eq!(pending.len(), 1, "{l}");
    assert_eq!(pending[0]["request_id"], id.as_str());
    let rv = pending[0]["id"].as_str().unwrap().to_string();
    // The callback queue holds the plain reply back only until its callback; the checked
    // one waits for the center.
    let due: Vec<String> = jiesu::store::queues::callback_due(
        app.state.store.reader(),
        100,
        jiesu::clock::Clock::now(&app.clock),
    )
    .await
    .unwrap()
    .into_iter()
    .map(|r| r.id)
    .collect();
    assert!(due.contains(&plain_id), "{due:?}");
    assert!(!due.contains(&id), "{due:?}");
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        409,
    );
    // Units do not check replies; sending back needs a reason.
    expect(
        app.post(
            &format!("/api/v1/reply-reviews/{rv}/decision"),
            Some(&s.wangjing),
            json!({ "decision": "approve" }),
        )
        .await,
        403,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/reply-reviews/{rv}/decision"),
            Some(&s.dispatcher),
            json!({ "decision": "send_back" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "reason", "{v}");
    let before = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await,
        200,
    );
    let reply_by = before["assignments"][0]["reply_by"].clone();
    let v = expect(
        app.post(
            &format!("/api/v1/reply-reviews/{rv}/decision"),
            Some(&s.dispatcher),
            json!({ "decision": "send_back", "reason": "未说明施工许可核查结果" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "sent_back", "{v}");
    expect(
        app.post(
            &format!("/api/v1/reply-reviews/{rv}/decision"),
            Some(&sup),
            json!({ "decision": "approve" }),
        )
        .await,
        409,
    );
    let r = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await,
        200,
    );
    assert_eq!(r["status"], "in_progress", "{r}");
    assert_eq!(r["assignments"][0]["status"], "acknowledged", "{r}");
    assert_eq!(r["assignments"][0]["reply_by"], reply_by, "{r}");

    // Replied again, approved by the supervisor, then called back and closed.
    act(
        &app,
        &s.wangjing,
        &o,
        "reply",
        reply_body("已核查施工许可并协调停工"),
    )
    .await;
    let l = expect(
        app.get("/api/v1/reply-reviews?status=pending", Some(&sup))
            .await,
        200,
    );
    let rv2 = l["reviews"][0]["id"].as_str().unwrap().to_string();
    assert_ne!(rv2, rv);
    let v = expect(
        app.post(
            &format!("/api/v1/reply-reviews/{rv2}/decision"),
            Some(&sup),
            json!({ "decision": "approve" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "approved", "{v}");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed", "{v}");
    let r = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await,
        200,
    );
    let acts = actions(&r);
    for a in [
        "reply_review.requested",
        "assignment.reply_sent_back",
        "reply_review.approved",
    ] {
        assert!(acts.iter().any(|x| x == a), "{a} not in {acts:?}");
    }
    expect(
        app.get("/api/v1/reply-reviews?status=nope", Some(&sup))
            .await,
        422,
    );
    let report = jiesu::services::audit::verify(app.state.store.reader(), &app.config)
        .await
        .unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
    // A check's decision changed by hand is named by the replay.
    super::audit::a_hand_edit_is_named(
        &app,
        "reply_reviews",
        "status",
        "UPDATE reply_reviews SET status = status || 'x'",
        "UPDATE reply_reviews SET status = substr(status, 1, length(status) - 1)",
    )
    .await;
}
