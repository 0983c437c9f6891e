//! Least visibility for units (issue #16): a unit sees the request, its own orders and what
//! the requester was told; other units' center-only replies, return reasons, extensions and
//! order events stay with the center; and a missing id answers exactly as another unit's.

use super::cast::{act, new_request, return_accepted, staff, CGZF, WANGJING, YOUANMEN};
use crate::helpers::{app, expect, order_id, Backend};
use serde_json::json;

const TO_CENTER: &str = "仅供中心：施工方是区里重点工程";
const EXTENSION_REASON: &str = "延期理由：需要等待区住建委协调";
const RETURN_REASON: &str = "退单理由：不属于右安门辖区";
const TO_REQUESTER: &str = "已责令施工方夜间停工";

pub async fn units_see_their_own_part_and_missing_ids_answer_as_forbidden_ones(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let number = r["number"].as_str().unwrap().to_string();
    // 望京 leads, 城管 and 右安门 co-handle.
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [
                { "unit_code": WANGJING, "role": "lead" },
                { "unit_code": CGZF, "role": "co" },
                { "unit_code": YOUANMEN, "role": "co" },
            ] }),
        )
        .await,
        200,
    );
    let lead = order_id(&v, WANGJING, 1);
    let cgzf = order_id(&v, CGZF, 1);
    let youanmen = order_id(&v, YOUANMEN, 1);
    return_accepted(&app, &s.youanmen, &s.dispatcher, &youanmen, RETURN_REASON).await;
    act(&app, &s.wangjing, &lead, "acknowledge", json!({})).await;
    let v = act(
        &app,
        &s.wangjing,
        &lead,
        "extension",
        json!({ "hours": 24, "reason": EXTENSION_REASON }),
    )
    .await;
    let ext = v["extensions"][0]["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/extensions/{ext}/decision"),
            Some(&s.dispatcher),
            json!({ "approve": true }),
        )
        .await,
        200,
    );
    act(
        &app,
        &s.wangjing,
        &lead,
        "reply",
        json!({ "to_requester": TO_REQUESTER, "to_center": TO_CENTER, "outcome": "resolved" }),
    )
    .await;
    act(&app, &s.cgzf, &cgzf, "acknowledge", json!({})).await;

    // The center sees everything (so the checks below can fail).
    let (_, center) = app
        .get_text(&format!("/api/v1/requests/{id}"), &s.dispatcher)
        .await;
    for secret in [TO_CENTER, EXTENSION_REASON, RETURN_REASON, TO_REQUESTER] {
        assert!(center.contains(secret), "the center sees {secret}");
    }

    // The co-handler sees the request, its own order, and what the requester was told.
    let co = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.cgzf))
            .await,
        200,
    );
    let text = co.to_string();
    assert!(
        text.contains(TO_REQUESTER),
        "the reply to the requester is shared"
    );
    for secret in [TO_CENTER, EXTENSION_REASON, RETURN_REASON] {
        assert!(
            !text.contains(secret),
            "a co-handler must not see {secret}: {text}"
        );
    }
    let orders = co["assignments"].as_array().unwrap();
    assert_eq!(orders.len(), 3, "the other orders are listed");
    assert!(co["extensions"].as_array().unwrap().is_empty());
    assert!(co["callbacks"].as_array().unwrap().is_empty());
    for e in co["events"].as_array().unwrap() {
        let order = e["assignment_id"].as_str();
        assert!(
            order.is_none() || order == Some(cgzf.as_str()),
            "only its own order's events: {e}"
        );
    }
    // The lead sees its own extension and reply to the center, not 右安门's return reason.
    let own = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.wangjing))
            .await,
        200,
    )
    .to_string();
    assert!(own.contains(TO_CENTER) && own.contains(EXTENSION_REASON));
    assert!(!own.contains(RETURN_REASON), "{own}");

    // A unit with no order here (花家地, a community under 望京) gets the answer a missing
    // request gets, by id and by number.
    let missing_id = "00000000-0000-7000-8000-000000000000";
    let missing_number = format!("{}9", &number[..number.len() - 1]);
    let missing_number = if missing_number == number {
        format!("{}8", &number[..number.len() - 1])
    } else {
        missing_number
    };
    for (real, fake) in [(&id, missing_id), (&number, missing_number.as_str())] {
        let seen = app
            .get(&format!("/api/v1/requests/{real}"), Some(&s.huajiadi))
            .await;
        let missing = app
            .get(&format!("/api/v1/requests/{fake}"), Some(&s.huajiadi))
            .await;
        assert_eq!(seen.0.as_u16(), 404, "{}", seen.1);
        assert_eq!(
            seen, missing,
            "another unit's request answers as a missing one"
        );
    }
    // Acting on another unit's order answers as acting on a missing one.
    let before = app.event_count().await;
    let foreign = app
        .post(
            &format!("/api/v1/assignments/{cgzf}/acknowledge"),
            Some(&s.huajiadi),
            json!({}),
        )
        .await;
    let missing = app
        .post(
            &format!("/api/v1/assignments/{missing_id}/acknowledge"),
            Some(&s.huajiadi),
            json!({}),
        )
        .await;
    assert_eq!(foreign.0.as_u16(), 404, "{}", foreign.1);
    assert_eq!(foreign, missing);
    // Center actions are refused by role before the id is looked at.
    for (path, body) in [
        (
            "dispatch",
            json!({ "assignments": [{ "unit_code": CGZF, "role": "co" }] }),
        ),
        ("answer", json!({ "answer": "x" })),
        ("merge", json!({ "into": missing_id })),
        (
            "callback",
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        ),
        (
            "arbitrate",
            json!({ "assignments": [{ "unit_code": CGZF, "role": "lead" }], "reason": "x" }),
        ),
    ] {
        let real = app
            .post(
                &format!("/api/v1/requests/{id}/{path}"),
                Some(&s.huajiadi),
                body.clone(),
            )
            .await;
        let fake = app
            .post(
                &format!("/api/v1/requests/{missing_id}/{path}"),
                Some(&s.huajiadi),
                body,
            )
            .await;
        assert_eq!(real.0.as_u16(), 403, "{path}: {}", real.1);
        assert_eq!(real, fake, "{path}");
    }
    let real = app
        .post(
            &format!("/api/v1/extensions/{ext}/decision"),
            Some(&s.huajiadi),
            json!({ "approve": false }),
        )
        .await;
    let fake = app
        .post(
            &format!("/api/v1/extensions/{missing_id}/decision"),
            Some(&s.huajiadi),
            json!({ "approve": false }),
        )
        .await;
    assert_eq!(real.0.as_u16(), 403);
    assert_eq!(real, fake);
    assert_eq!(
        app.event_count().await,
        before,
        "nothing refused left a trace"
    );
}
