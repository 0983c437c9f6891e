//! 小事不出社区 (issue 18): a community's staff record a request they solved on the spot; it is
//! created replied by their own unit, is called back like any request, and is tallied apart
//! (per community and street), never in the street's dispatched-order rates.

use super::cast::{act, actions, new_request, staff, HUAJIADI, WANGJING};
use crate::helpers::{app, expect, order_id, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

fn solved(phone: &str, to_center: &str) -> Value {
    json!({
        "kind": "help",
        "text": "花家地西里3号楼楼道灯不亮，老人夜里上下楼不便。",
        "address": "朝阳区花家地西里3号楼",
        "requester": { "name": "赵大爷", "phone": phone },
        "to_requester": "已当场联系物业更换楼道灯，现已恢复照明。",
        "to_center": to_center,
    })
}

pub async fn a_request_solved_on_the_spot_is_called_back_and_counted_apart(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;

    // Bad values name their field; only community staff record; intake refuses the channel.
    let v = expect(
        app.post(
            "/api/v1/community/requests",
            Some(&s.huajiadi),
            solved("12", "已更换楼道灯"),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "requester.phone", "{v}");
    let v = expect(
        app.post(
            "/api/v1/community/requests",
            Some(&s.huajiadi),
            solved("13812345678", " "),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "to_center", "{v}");
    for who in [&s.wangjing, &s.operator, &s.cgzf] {
        expect(
            app.post(
                "/api/v1/community/requests",
                Some(who),
                solved("13812345678", "已更换楼道灯"),
            )
            .await,
            403,
        );
    }
    let v = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            json!({ "kind": "help", "channel": "community", "text": "楼道灯不亮", "requester": { "phone": "13812345678" } }),
        )
        .await,
        422,
    );
    assert_eq!(field(&v), "channel", "{v}");

    // A dispatched order to 望京, acknowledged late: the street's own rates.
    let r = new_request(&app, &s).await;
    let rid = r["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{rid}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let o = order_id(&v, WANGJING, 1);
    app.clock.advance(chrono::Duration::hours(3));
    act(&app, &s.wangjing, &o, "acknowledge", json!({})).await;

    // 花家地西里 solves one on the spot.
    let c = expect(
        app.post(
            "/api/v1/community/requests",
            Some(&s.huajiadi),
            solved("13812345678", "已更换楼道灯"),
        )
        .await,
        201,
    );
    assert_eq!(c["status"], "replied", "{c}");
    let cid = c["id"].as_str().unwrap().to_string();
    let view = expect(
        app.get(&format!("/api/v1/requests/{cid}"), Some(&sup))
            .await,
        200,
    );
    assert_eq!(view["channel"], "community", "{view}");
    let orders = view["assignments"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{view}");
    assert_eq!(orders[0]["unit_code"], HUAJIADI);
    assert_eq!(orders[0]["status"], "replied");
    let acts = actions(&view);
    for a in [
        "request.created",
        "assignment.dispatched",
        "assignment.acknowledged",
        "assignment.replied",
    ] {
        assert!(acts.iter().any(|x| x == a), "{a} not in {acts:?}");
    }
    // The community sees it as its own order; another street does not.
    expect(
        app.get(&format!("/api/v1/requests/{cid}"), Some(&s.huajiadi))
            .await,
        200,
    );
    expect(
        app.get(&format!("/api/v1/requests/{cid}"), Some(&s.youanmen))
            .await,
        404,
    );

    // It still gets its callback: resolved and satisfied closes it.
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{cid}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed", "{v}");

    // 望京's dispatched-order rates know only the order the center dispatched.
    let ranking = expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-11&level=subdistrict",
            Some(&sup),
        )
        .await,
        200,
    );
    let wj = ranking["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == WANGJING)
        .unwrap_or_else(|| panic!("望京 not in {ranking}"))
        .clone();
    assert_eq!(wj["dispatched"], 1, "{wj}");
    assert_eq!(wj["response_rate"].as_f64(), Some(0.0), "{wj}");
    assert!(wj["satisfaction_rate"].is_null(), "{wj}");

    // The separate tally, per community and street.
    for who in [&sup, &s.wangjing, &s.huajiadi] {
        let t = expect(
            app.get("/api/v1/community/tally?month=2026-11", Some(who))
                .await,
            200,
        );
        let u = &t["units"][0];
        assert_eq!(
            (
                u["unit_code"].as_str(),
                u["street_code"].as_str(),
                u["recorded"].as_u64(),
                u["called_back"].as_u64(),
                u["resolved"].as_u64(),
                u["satisfied"].as_u64()
            ),
            (
                Some(HUAJIADI),
                Some(WANGJING),
                Some(1),
                Some(1),
                Some(1),
                Some(1)
            ),
            "{t}"
        );
        assert_eq!(t["streets"][0]["unit_code"], WANGJING, "{t}");
        assert_eq!(t["streets"][0]["recorded"], 1, "{t}");
    }
    let t = expect(
        app.get("/api/v1/community/tally?month=2026-11", Some(&s.youanmen))
            .await,
        200,
    );
    assert_eq!(t["units"].as_array().unwrap().len(), 0, "{t}");
    expect(
        app.get("/api/v1/community/tally?month=2026-11", Some(&s.operator))
            .await,
        403,
    );
    let report = jiesu::services::audit::verify(app.state.store.reader(), &app.config)
        .await
        .unwrap();
    assert!(report.mismatches.is_empty(), "{:?}", report.mismatches);
}
