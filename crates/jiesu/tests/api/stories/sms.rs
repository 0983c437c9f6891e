//! SMS through a real Kannel (issue 19): bearerbox, smsbox and the fake SMSC carry the
//! receipt, the unit's reply and the rating request to the requester's phone; the requester's
//! answers come back through the fake SMSC and become the callback, or send the request to
//! rework with an agent's follow-up call; delivery reports mark messages delivered; TD stops
//! later texts.

use super::cast::{actions, new_request, staff, through_to_reply, WANGJING};
use crate::helpers::{complaint, expect, Backend, TestApp};
use crate::kannel::{self, Kannel};
use jiesu::clock::Clock;
use jiesu_core::{Actor, Role};
use serde_json::{json, Value};
use std::sync::Arc;

pub(super) const SECRET: &str = "sms-secret-for-the-stories";

pub(super) async fn sms_app(b: Backend) -> Option<TestApp> {
    TestApp::spawn_configured(b, |c| {
        c.sms_texts = true;
        c.sms_secret = Some(SECRET.to_string().into());
        c.sms_rating_hours = 24;
        c.sms_daily_limit = 10;
    })
    .await
}

/// The app's state sending through `k`, with delivery reports back to the app.
pub(super) fn through(app: &TestApp, k: &Kannel) -> jiesu::services::AppState {
    let mut state = app.state.clone();
    let config = jiesu::config::KannelConfig {
        url: k.sendsms_url.clone(),
        username: k.user.0.clone(),
        password: k.user.1.clone().into(),
        from: "12345".into(),
    };
    let secret: secrecy::SecretString = SECRET.to_string().into();
    state.sender = Arc::new(jiesu::jobs::KannelSender::new(
        config,
        Some(&app.base),
        Some(&secret),
    ));
    state
}

pub(super) fn agent() -> Actor {
    Actor {
        user_id: "agent".into(),
        username: "agent".into(),
        role: Role::CallbackAgent,
        unit: None,
    }
}

async fn in_callback_queue(app: &TestApp, id: &str) -> bool {
    jiesu::services::queues::callbacks_due(&app.state, &agent(), 100)
        .await
        .unwrap()
        .iter()
        .any(|d| d.id == id)
}

/// Waits (up to 10 s) until `check` holds for the request as the dispatcher sees it.
pub(super) async fn wait_request(
    app: &TestApp,
    token: &str,
    id: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let start = std::time::Instant::now();
    loop {
        let v = expect(
            app.get(&format!("/api/v1/requests/{id}"), Some(token))
                .await,
            200,
        );
        if check(&v) {
            return v;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "request never got there: {v}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until every outbox message of `id` carries the gateway's delivery report.
async fn wait_delivered(app: &TestApp, id: &str) {
    let start = std::time::Instant::now();
    loop {
        let msgs = jiesu::store::outbox::for_request(app.state.store.reader(), id)
            .await
            .unwrap();
        if !msgs.is_empty() && msgs.iter().all(|m| m.status == "delivered") {
            return;
        }
        assert!(
            start.elapsed().as_secs() < 10,
            "not all delivered: {msgs:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

pub async fn requester_texts_go_through_kannel_and_ratings_come_back_by_sms(b: Backend) {
    if !kannel::available() {
        return;
    }
    let Some(app) = sms_app(b).await else { return };
    let mut k = Kannel::start(&app.base, SECRET);
    let state = through(&app, &k);
    let s = staff(&app).await;
    let phone = "13812345678";

    // Intake: the receipt with the number and the query code, one SMS (≤ 70 characters).
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let row = jiesu::store::requests::get(app.state.store.reader(), &id)
        .await
        .unwrap()
        .unwrap();
    let code = row.query_code.clone().unwrap();
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let receipt = k.wait_for(phone, &row.number).await;
    assert!(receipt.text.contains(&code), "{receipt:?}");
    assert!(receipt.text.contains("回复TD退订"));
    assert_eq!(receipt.from, "12345");
    assert!(receipt.text.chars().count() <= 70, "{}", receipt.text);

    // The unit replies: the reply text and then the rating request reach the phone.
    through_to_reply(&app, &s, &id, WANGJING, &s.wangjing).await;
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (2, 0));
    k.wait_for(phone, "您反映的问题已处理：已处理").await;
    let rating = k.wait_for(phone, "回复1满意 2基本满意 3不满意").await;
    assert!(rating.text.contains(&row.number));
    assert!(rating.text.chars().count() <= 70, "{}", rating.text);
    // Delivery reports come back through Kannel and mark every message delivered.
    wait_delivered(&app, &id).await;
    // While the rating is awaited the agents do not see the request.
    assert!(!in_callback_queue(&app, &id).await);

    // "1 Y" from the requester's phone: the callback, by SMS, closes the request.
    k.text_from(phone, "1 Y");
    let v = wait_request(&app, &s.dispatcher, &id, |v| v["status"] == "closed").await;
    let calls = v["callbacks"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{v}");
    assert_eq!(calls[0]["channel"], "sms");
    assert_eq!(calls[0]["satisfaction"], "satisfied");
    assert_eq!(calls[0]["resolved"], true);
    assert!(actions(&v).contains(&"sms.delivery".to_string()));

    // Another requester answers "3 N".
    let other = "13900001111";
    let mut body = complaint("小区门口路灯不亮已经一周了。");
    body["requester"]["phone"] = json!(other);
    let r2 = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id2 = r2["id"].as_str().unwrap().to_string();
    through_to_reply(&app, &s, &id2, WANGJING, &s.wangjing).await;
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (3, 0));
    k.wait_for(other, "回复1满意").await;
    assert!(!in_callback_queue(&app, &id2).await);
    k.text_from(other, "3 N");
    // "3 N" is the callback (channel sms) and sends the request round again (二次办理),
    // exactly as an agent's unhappy callback does. The request and its events are read by
    // two statements, so wait until both show the rework.
    let v = wait_request(&app, &s.dispatcher, &id2, |v| {
        actions(v).contains(&"callback.rework".to_string()) && v["round"] == 2
    })
    .await;
    assert_eq!(v["status"], "dispatched", "{v}");
    assert_eq!(v["round"], 2, "{v}");
    let calls = v["callbacks"].as_array().unwrap();
    assert_eq!(calls.len(), 1, "{v}");
    assert_eq!(calls[0]["channel"], "sms");
    assert_eq!(calls[0]["satisfaction"], "unsatisfied");
    assert_eq!(calls[0]["resolved"], false);
    assert_eq!(calls[0]["outcome"], "rework");
    assert!(actions(&v).contains(&"sms.rating".to_string()), "{v}");
    let ratings = jiesu::store::sms::ratings_of(app.state.store.reader(), &id2)
        .await
        .unwrap();
    assert_eq!(
        ratings,
        vec![(1, "followup".to_string(), Some("3 N".to_string()))]
    );
    // It is not a callback due any more, but every unhappy requester still gets a call: the
    // agents' follow-up list shows it, marked as an SMS rating with what they wrote.
    assert!(!in_callback_queue(&app, &id2).await);
    let due = expect(app.get("/api/v1/sms/follow-ups", Some(&s.agent)).await, 200);
    let mine: Vec<&Value> = due["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["request_id"] == id2.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{due}");
    assert_eq!(mine[0]["answer"], "3 N");
    assert_eq!(
        mine[0]["requester"]["phone"], other,
        "agents call the number"
    );
    let page = reqwest::Client::new()
        .get(format!("{}/ui/callback", app.base))
        .header("cookie", format!("jiesu_session={}", s.agent))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(&format!("follow-up-{}", v["number"].as_str().unwrap())),
        "{page}"
    );
    // Units may not see the list; an unknown follow-up is a 404; an unreached call keeps it.
    assert_eq!(
        app.get("/api/v1/sms/follow-ups", Some(&s.wangjing)).await.0,
        403
    );
    let fid = mine[0]["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/sms/follow-ups/{fid}");
    expect(
        app.post(
            "/api/v1/sms/follow-ups/nope",
            Some(&s.agent),
            json!({ "reached": true }),
        )
        .await,
        404,
    );
    let (status, err) = app
        .post(&path, Some(&s.agent), json!({ "reached": "yes" }))
        .await;
    assert_eq!(status, 400, "{err}");
    assert!(err.to_string().contains("reached"), "{err}");
    let r = expect(
        app.post(&path, Some(&s.agent), json!({ "reached": false }))
            .await,
        200,
    );
    assert_eq!(r["done"], false);
    let r = expect(
        app.post(
            &path,
            Some(&s.agent),
            json!({ "reached": true, "note": "路灯维修需更换线路，已说明" }),
        )
        .await,
        200,
    );
    assert_eq!(r["done"], true);
    expect(
        app.post(&path, Some(&s.agent), json!({ "reached": true }))
            .await,
        409,
    );
    let due = expect(app.get("/api/v1/sms/follow-ups", Some(&s.agent)).await, 200);
    assert!(
        !due["follow_ups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["request_id"] == id2.as_str()),
        "{due}"
    );
    // The follow-up is an event, not a second callback: the rates count the answer once.
    let v = expect(
        app.get(&format!("/api/v1/requests/{id2}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(v["callbacks"].as_array().unwrap().len(), 1, "{v}");
    let follow = actions(&v).iter().filter(|a| *a == "sms.follow_up").count();
    assert_eq!(follow, 2, "one event per call: {v}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM callbacks WHERE request_id = $1")
        .bind(&id2)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(n, 1);

    // TD: nothing more goes to that number.
    k.text_from(other, "TD");
    let start = std::time::Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_optouts WHERE phone = $1")
            .bind(other)
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
        if n == 1 {
            break;
        }
        assert!(start.elapsed().as_secs() < 10, "TD was not recorded");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut body = complaint("路灯又坏了。");
    body["requester"]["phone"] = json!(other);
    let r3 = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id3 = r3["id"].as_str().unwrap();
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 0));
    let v = expect(
        app.get(&format!("/api/v1/requests/{id3}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(actions(&v).contains(&"sms.withheld".to_string()), "{v}");
    assert!(
        jiesu::store::outbox::for_request(app.state.store.reader(), id3)
            .await
            .unwrap()
            .is_empty()
    );

    // The gateway's endpoints want the secret.
    let wrong = format!("/api/v1/sms/inbound?secret=wrong-secret-123456&from={phone}&text=1");
    assert_eq!(app.get(&wrong, None).await.0, 401);
    assert_eq!(
        app.get(&format!("/api/v1/sms/dlr?id={id}&status=1"), None)
            .await
            .0,
        401
    );
}

/// Without the gateway: texts that are not ratings are kept for an agent, quiet hours hold
/// texts until 08:00, the daily cap withholds the rest, and admins edit the templates.
pub async fn sms_rules_and_templates_hold_back_what_they_must(b: Backend) {
    let Some(app) = sms_app(b).await else { return };
    let s = staff(&app).await;
    let inbound = |from: &str, text: &str| {
        format!(
            "/api/v1/sms/inbound?secret={SECRET}&from={from}&text={}",
            form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        )
    };
    // An answer that is not a rating is kept, and the request goes to the agents.
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    through_to_reply(&app, &s, &id, WANGJING, &s.wangjing).await;
    assert!(!in_callback_queue(&app, &id).await);
    let v = expect(
        app.get(&inbound("13812345678", "你们什么时候来？"), None)
            .await,
        200,
    );
    assert_eq!(v["outcome"], "unparsed");
    assert!(in_callback_queue(&app, &id).await);
    // The agent reads what the requester wrote.
    let due = jiesu::services::queues::callbacks_due(&app.state, &agent(), 100)
        .await
        .unwrap();
    let mine = due.iter().find(|d| d.id == id).unwrap();
    assert_eq!(mine.sms_answer.as_deref(), Some("你们什么时候来？"));
    let page = reqwest::Client::new()
        .get(format!("{}/ui/callback", app.base))
        .header("cookie", format!("jiesu_session={}", s.agent))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("短信回复</span> 你们什么时候来？"), "{page}");
    // A bad number is a 422 naming the field.
    let (status, v) = app.get(&inbound("12", "1"), None).await;
    assert_eq!(status, 422, "{v}");
    assert!(v.to_string().contains("from"), "{v}");

    // No answer within the rating time: the request goes to the agents anyway.
    let r = new_request(&app, &s).await;
    let id2 = r["id"].as_str().unwrap().to_string();
    through_to_reply(&app, &s, &id2, WANGJING, &s.wangjing).await;
    assert!(!in_callback_queue(&app, &id2).await);
    app.clock.advance(chrono::Duration::hours(25));
    assert!(in_callback_queue(&app, &id2).await);

    // Quiet hours: at 23:00 Beijing a receipt waits for 08:00.
    let state = app.state.clone();
    jiesu::jobs::deliver_outbox(&state).await.unwrap(); // what the earlier steps wrote
    let now = app.clock.now();
    let local = now.with_timezone(&app.state.config.offset());
    let next_23 = app.state.config.local_midnight(local.date_naive()) + chrono::Duration::hours(23);
    let next_23 = if next_23 > now {
        next_23
    } else {
        next_23 + chrono::Duration::days(1)
    };
    app.clock.advance(next_23 - now);
    let s = crate::stories::cast::relogin(&app).await;
    let mut body = complaint("深夜噪音。");
    body["requester"]["phone"] = json!("13700000001");
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let held =
        jiesu::store::outbox::for_request(app.state.store.reader(), r["id"].as_str().unwrap())
            .await
            .unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        jiesu::jobs::deliver_outbox(&state).await.unwrap(),
        (0, 0),
        "held until 08:00"
    );
    app.clock.advance(chrono::Duration::hours(9));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));

    // The daily cap: the eleventh text of the day to one number is withheld.
    let s = crate::stories::cast::relogin(&app).await;
    let mut ids = Vec::new();
    for i in 0..11 {
        let mut body = complaint(&format!("第{i}次反映楼道堆物。"));
        body["requester"]["phone"] = json!("13700000002");
        let r = expect(
            app.post("/api/v1/requests", Some(&s.operator), body).await,
            201,
        );
        ids.push(r["id"].as_str().unwrap().to_string());
    }
    let last = &ids[10];
    assert!(
        jiesu::store::outbox::for_request(app.state.store.reader(), last)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        jiesu::store::outbox::for_request(app.state.store.reader(), &ids[9])
            .await
            .unwrap()
            .len()
            == 1
    );

    // Templates: admins read and change them; others may not; a change is used at once.
    let admin = app.login("admin", "adminpass1").await;
    let v = expect(app.get("/api/v1/sms/templates", Some(&admin)).await, 200);
    let kinds: Vec<&str> = v["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "answer",
            "extended",
            "merged",
            "rating",
            "receipt",
            "redispatched",
            "reply",
            "unit_before_breach",
            "unit_breach",
            "unit_escalation",
            "unit_new_emergency"
        ]
    );
    assert_eq!(
        app.get("/api/v1/sms/templates", Some(&s.operator)).await.0,
        403
    );
    let body = json!({ "kind": "receipt", "zh": "【12345】已受理{number}，查询码{code}", "en": "[12345] {number} received, code {code}" });
    expect(app.put("/api/v1/sms/templates", &admin, body).await, 200);
    let (status, v) = app
        .put(
            "/api/v1/sms/templates",
            &admin,
            json!({ "kind": "receipt", "zh": " ", "en": "x" }),
        )
        .await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(
        app.put(
            "/api/v1/sms/templates",
            &admin,
            json!({ "kind": "nope", "zh": "a", "en": "b" })
        )
        .await
        .0,
        404
    );
    let mut body = complaint("新模板测试。");
    body["requester"]["phone"] = json!("13700000003");
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let msg =
        &jiesu::store::outbox::for_request(app.state.store.reader(), r["id"].as_str().unwrap())
            .await
            .unwrap()[0];
    let text = msg.payload["sms"].as_str().unwrap();
    assert!(
        text.starts_with("【12345】已受理") && text.contains(r["number"].as_str().unwrap()),
        "{text}"
    );
}
