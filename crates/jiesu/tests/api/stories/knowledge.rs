//! What operators answer from: the knowledge base, the dispatch catalogue, and search over
//! requests and answers.

use super::cast::{staff, CHAOYANG, HUAJIADI, WANGJING, YOUANMEN};
use crate::helpers::{app, complaint, expect, Backend};
use jiesu_core::Role;
use serde_json::json;

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
