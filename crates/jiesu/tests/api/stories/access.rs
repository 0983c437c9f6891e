//! Who may see and do what: other units' orders, login slow-down and logout, masked phone
//! numbers and confidential requesters.

use super::cast::{act, new_request, staff, CGZF, CHAOYANG, WANGJING, YOUANMEN};
use crate::helpers::{app, complaint, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::json;

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

    // A street in another district: no view, no list entry, no action; and the answers are
    // those of a request that does not exist.
    let (status, body) = app
        .get(&format!("/api/v1/requests/{id}"), Some(&s.youanmen))
        .await;
    assert_eq!(status.as_u16(), 404, "{body}");
    assert_eq!(body["error"]["code"], "not_found");
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
        404,
    );
    assert_eq!(app.event_count().await, before);
    // A community under the street does not see its parent's order either.
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.huajiadi))
            .await,
        404,
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
