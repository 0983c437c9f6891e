//! Messages to requesters: the outbox survives a restart and retries with backoff, and the
//! webhook sender posts each message.

use super::cast::{act, new_request, reply_body, staff, WANGJING};
use crate::helpers::{app, expect, order_id, Backend};
use serde_json::{json, Value};

/// A sender that fails a given number of times, then succeeds.
struct Flaky(std::sync::atomic::AtomicUsize);

impl jiesu::store::outbox::Sender for Flaky {
    fn send<'a>(
        &'a self,
        _: &'a jiesu::store::outbox::OutboxMessage,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            let left = self.0.load(std::sync::atomic::Ordering::SeqCst);
            if left > 0 {
                self.0.store(left - 1, std::sync::atomic::Ordering::SeqCst);
                Err("gateway down".into())
            } else {
                Ok(())
            }
        })
    }
}

pub async fn outbox_messages_survive_a_restart_and_are_retried_with_backoff(b: Backend) {
    let mut app = app!(b);
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
    act(&app, &s.wangjing, &order, "acknowledge", json!({})).await;
    act(&app, &s.wangjing, &order, "reply", reply_body("已处理")).await;

    // The process stops before anything was delivered; after the restart the message is there.
    app.restart().await;
    let pending = jiesu::store::outbox::for_request(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].status, "pending");

    let mut state = app.state.clone();
    state.sender = std::sync::Arc::new(Flaky(std::sync::atomic::AtomicUsize::new(2)));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 1));
    // Backing off: not due again at once.
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 0));
    app.clock.advance(chrono::Duration::seconds(21));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 1));
    app.clock.advance(chrono::Duration::seconds(41));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let sent = jiesu::store::outbox::for_request(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert_eq!((sent[0].status.as_str(), sent[0].attempts), ("sent", 3));
    app.clock.advance(chrono::Duration::hours(2));
    assert_eq!(
        jiesu::jobs::deliver_outbox(&state).await.unwrap(),
        (0, 0),
        "a sent message is not sent again"
    );
    // The server still answers after the restart.
    expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
}

pub async fn the_webhook_sender_posts_each_message_and_retries_on_failure(b: Backend) {
    use std::sync::{Arc, Mutex};
    let app = app!(b);
    let s = staff(&app).await;
    // A gateway that fails the first call and records what it receives.
    let seen: Arc<Mutex<Vec<Value>>> = Arc::default();
    let record = seen.clone();
    let gateway = axum::Router::new().route(
        "/sms",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, axum::Json(mut body): axum::Json<Value>| {
                let record = record.clone();
                async move {
                    let mut seen = record.lock().unwrap();
                    body["header_key"] =
                        json!(headers.get("idempotency-key").and_then(|v| v.to_str().ok()));
                    seen.push(body);
                    if seen.len() == 1 {
                        axum::http::StatusCode::SERVICE_UNAVAILABLE
                    } else {
                        axum::http::StatusCode::OK
                    }
                }
            },
        ),
    );
    let url = serve_gateway(gateway).await;

    let r = answered_consultation(
        &app,
        &s.operator,
        "13700001234",
        "可在社保卡服务网点或“北京人社”APP挂失补办。",
    )
    .await;
    let mut state = app.state.clone();
    state.sender = Arc::new(jiesu::jobs::WebhookSender::new(url));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 1));
    app.clock.advance(chrono::Duration::seconds(30));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    // The retry carries the same idempotency key (the message id), in the header and the body.
    let key = seen[0]["header_key"]
        .as_str()
        .expect("an Idempotency-Key header");
    assert_eq!(seen[1]["header_key"], key);
    assert_eq!(seen[1]["idempotency_key"], key);
    assert_eq!(seen[1]["id"], key);
    assert_eq!(seen[1]["recipient"], "13700001234");
    assert_eq!(seen[1]["kind"], "answer");
    assert_eq!(seen[1]["message"]["number"], r["number"]);
    assert!(seen[1]["message"]["text"]
        .as_str()
        .unwrap()
        .contains("挂失补办"));
}

/// A slow gateway does not hold the batch up: the gateway here answers only once three
/// messages are in flight at the same time (and fails them after 5 s otherwise), so one
/// message at a time would fail them all.
pub async fn the_outbox_hands_messages_to_the_gateway_several_at_a_time(b: Backend) {
    use std::sync::Arc;
    let app = app!(b);
    let s = staff(&app).await;
    let together = Arc::new(tokio::sync::Barrier::new(3));
    let gateway = axum::Router::new().route(
        "/sms",
        axum::routing::post(move || {
            let together = together.clone();
            async move {
                match tokio::time::timeout(std::time::Duration::from_secs(5), together.wait()).await
                {
                    Ok(_) => axum::http::StatusCode::OK,
                    Err(_) => axum::http::StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    let url = serve_gateway(gateway).await;
    for phone in ["13700001231", "13700001232", "13700001233"] {
        answered_consultation(&app, &s.operator, phone, "可在社保卡服务网点挂失补办。").await;
    }
    let mut state = app.state.clone();
    state.sender = Arc::new(jiesu::jobs::WebhookSender::new(url));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (3, 0));
}

/// Serves `gateway` on a free loopback port; its `/sms` URL.
async fn serve_gateway(gateway: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, gateway).await.unwrap() });
    url
}

/// A consultation from `phone`, answered at intake (which puts a message in the outbox).
async fn answered_consultation(
    app: &crate::helpers::TestApp,
    operator: &str,
    phone: &str,
    answer: &str,
) -> Value {
    let body = json!({ "kind": "consultation", "text": "社保卡丢失如何补办？", "requester": { "phone": phone } });
    let r = expect(
        app.post("/api/v1/requests", Some(operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/answer"),
            Some(operator),
            json!({ "answer": answer }),
        )
        .await,
        200,
    );
    r
}

/// A request without a phone number (an Open311 client may send none) has nowhere to send a
/// message: the outbox writes nothing rather than a message with an empty recipient.
pub async fn the_outbox_writes_nothing_for_a_request_without_a_phone(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    let payload = json!({ "kind": "reply", "text": "已处理" });
    let mut tx = app.state.store.begin().await.unwrap();
    let none =
        jiesu::store::outbox::enqueue(&mut tx, &id, "reply", " ", &payload, chrono::Utc::now())
            .await
            .unwrap();
    let some = jiesu::store::outbox::enqueue(
        &mut tx,
        &id,
        "reply",
        "13800000000",
        &payload,
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(none, None);
    let written = jiesu::store::outbox::for_request(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(Some(written[0].id.clone()), some);
    assert_eq!(written[0].recipient, "13800000000");
}
