//! A gateway that is down for a minute loses nothing (issue 19): bearerbox, smsbox and the fake
//! SMSC are killed for more than sixty real seconds while intakes and a unit's reply go on;
//! the outbox keeps their texts and retries them with backoff (settable, here one second
//! doubling to two); Kannel comes back on the same ports and every text reaches the fake SMSC
//! exactly once, its outbox row sent and then delivered by the gateway's reports. And a text
//! Kannel took whose answer was lost (a timeout) is not sent again once Kannel reports on it.

use super::cast::{staff, through_to_reply, WANGJING};
use super::sms::{through, SECRET};
use crate::helpers::{complaint, expect, Backend, TestApp};
use crate::kannel::{self, Kannel};
use jiesu::store::outbox::{OutboxMessage, Sender};
use serde_json::json;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long the gateway stays down.
const OUTAGE: Duration = Duration::from_secs(61);

async fn messages(app: &TestApp, ids: &[String]) -> Vec<OutboxMessage> {
    let mut all = Vec::new();
    for id in ids {
        all.extend(
            jiesu::store::outbox::for_request(app.state.store.reader(), id)
                .await
                .unwrap(),
        );
    }
    all
}

/// The text an outbox message puts on the phone.
fn text_of(m: &OutboxMessage) -> String {
    m.payload["sms"]
        .as_str()
        .or_else(|| m.payload["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// An intake from `phone`; it must answer 201 promptly whatever the gateway does.
async fn intake(app: &TestApp, token: &str, phone: &str) -> String {
    let mut body = complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。");
    body["requester"]["phone"] = json!(phone);
    let t = Instant::now();
    let r = expect(app.post("/api/v1/requests", Some(token), body).await, 201);
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "an intake waited {:?} on the gateway",
        t.elapsed()
    );
    r["id"].as_str().unwrap().to_string()
}

async fn quick_retry_app(b: Backend) -> Option<TestApp> {
    TestApp::spawn_configured(b, |c| {
        c.sms_texts = true;
        c.sms_secret = Some(SECRET.to_string().into());
        c.sms_rating_hours = 24;
        c.sms_daily_limit = 10;
        // Retries a second after a failure, doubling to at most two seconds apart: the
        // story waits no longer than that once Kannel is back. Sixty seconds of that are
        // about thirty attempts, so the give-up count is set above them.
        c.outbox_retry_base = Duration::from_secs(1);
        c.outbox_retry_max = Duration::from_secs(2);
        c.outbox_max_attempts = 200;
    })
    .await
}

/// Hands the message to the real sender, then loses the answer, as a timeout does.
struct LostAnswer(Arc<dyn Sender>);

impl Sender for LostAnswer {
    fn send<'a>(
        &'a self,
        msg: &'a OutboxMessage,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>> {
        Box::pin(async move {
            self.0.send(msg).await?;
            Err("operation timed out".into())
        })
    }
}

pub async fn a_text_whose_answer_was_lost_is_not_sent_again_once_kannel_reports_it(b: Backend) {
    if !kannel::available() {
        return;
    }
    let Some(app) = quick_retry_app(b).await else {
        return;
    };
    let k = Kannel::start(&app.base, SECRET);
    let state = through(&app, &k);
    let mut lossy = state.clone();
    lossy.sender = Arc::new(LostAnswer(state.sender.clone()));
    let s = staff(&app).await;
    let id = intake(&app, &s.operator, "13812345678").await;
    // Kannel took the text but its answer never came: a failed attempt, to be retried.
    assert_eq!(jiesu::jobs::deliver_outbox(&lossy).await.unwrap(), (0, 1));
    let number = jiesu::store::requests::get(app.state.store.reader(), &id)
        .await
        .unwrap()
        .unwrap()
        .number;
    k.wait_for("13812345678", &number).await;
    // Kannel's reports name the message: it is no longer pending, so the retry finds nothing.
    let start = Instant::now();
    while messages(&app, std::slice::from_ref(&id)).await[0].status != "delivered" {
        assert!(start.elapsed() < Duration::from_secs(10), "no report");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.clock.advance(chrono::Duration::minutes(10));
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 0));
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(k.received().len(), 1, "{:?}", k.received());

    // A real SMSC reports 8 (accepted) long before 1 (on the phone): that first report alone
    // already marks a pending text sent, so it is not sent again.
    let other = intake(&app, &s.operator, "13900000009").await;
    let msg = messages(&app, std::slice::from_ref(&other)).await.remove(0);
    assert_eq!(msg.status, "pending");
    let (code, _) = app
        .get(
            &format!("/api/v1/sms/dlr?secret={SECRET}&id={}&status=8", msg.id),
            None,
        )
        .await;
    assert_eq!(code.as_u16(), 200);
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (0, 0));
    let after = messages(&app, std::slice::from_ref(&other)).await.remove(0);
    assert_eq!(after.status, "sent", "{after:?}");
}

pub async fn a_gateway_down_for_a_minute_loses_nothing_and_sends_each_text_once(b: Backend) {
    if !kannel::available() {
        return;
    }
    let Some(app) = quick_retry_app(b).await else {
        return;
    };
    let mut k = Kannel::start(&app.base, SECRET);
    let state = through(&app, &k);
    let s = staff(&app).await;

    // The outbox job as `jiesu serve` runs it, every 200 ms, the manual clock following
    // real time so that backoffs run out as they would.
    let stop = Arc::new(AtomicBool::new(false));
    let job = tokio::spawn({
        let (state, clock, stop) = (state.clone(), app.clock.clone(), stop.clone());
        async move {
            let (mut last, mut failed) = (Instant::now(), 0);
            while !stop.load(Ordering::SeqCst) {
                let now = Instant::now();
                clock.advance(chrono::Duration::from_std(now - last).unwrap());
                last = now;
                // As the job in `jiesu serve`: an error is logged and the next run tries again.
                match jiesu::jobs::drain_outbox(&state).await {
                    Ok((_, f)) => failed += f,
                    Err(e) => eprintln!("outbox job: {e:#}"),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            failed
        }
    });

    // Before the outage: a receipt goes through.
    let first = intake(&app, &s.operator, "13812345678").await;
    let row = jiesu::store::requests::get(app.state.store.reader(), &first)
        .await
        .unwrap()
        .unwrap();
    k.wait_for("13812345678", &row.number).await;
    assert_eq!(k.received().len(), 1, "{:?}", k.received());
    // Its delivery report is back before the gateway goes (a report Kannel still held would
    // die with it).
    let start = Instant::now();
    while messages(&app, std::slice::from_ref(&first)).await[0].status != "delivered" {
        assert!(start.elapsed() < Duration::from_secs(10), "no report");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The SMSC goes first: Kannel accepts a text and queues it (202, "3: Queued for later
    // delivery"), so the outbox row is sent; bearerbox keeps it in its store file.
    k.stop_smsc();
    let queued = intake(&app, &s.operator, "13700000000").await;
    let start = Instant::now();
    while messages(&app, std::slice::from_ref(&queued)).await[0].status != "sent" {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "not handed to Kannel"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // bearerbox writes its store file in the background: wait until the queued text is in it,
    // as an operator stopping Kannel would (a SIGKILL within that moment loses it in Kannel).
    let start = Instant::now();
    while !k.store_mentions("13700000000") {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "bearerbox never stored the queued text"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Then the whole gateway goes down (SIGKILL); the hotline does not notice.
    k.stop();
    let down = Instant::now();
    let mut ids = vec![first.clone()];
    for i in 0..3 {
        ids.push(intake(&app, &s.operator, &format!("1390000000{i}")).await);
    }
    // The unit replies to the first request: the reply and the rating text wait too.
    through_to_reply(&app, &s, &first, WANGJING, &s.wangjing).await;
    // Half a minute on, more intakes; the waiting texts have been tried again and again.
    tokio::time::sleep(Duration::from_secs(30)).await;
    for i in 3..6 {
        ids.push(intake(&app, &s.operator, &format!("1390000000{i}")).await);
    }
    let waiting: Vec<OutboxMessage> = messages(&app, &ids[1..]).await;
    let reply_texts: Vec<OutboxMessage> = messages(&app, &ids[..1])
        .await
        .into_iter()
        .filter(|m| m.status != "delivered")
        .collect();
    let waiting: Vec<OutboxMessage> = waiting.into_iter().chain(reply_texts).collect();
    assert!(waiting.len() >= 8, "{waiting:?}");
    assert!(waiting.iter().all(|m| m.status == "pending"), "{waiting:?}");
    assert!(
        waiting.iter().any(|m| m.attempts >= 5),
        "not retried while down: {waiting:?}"
    );
    while down.elapsed() < OUTAGE {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let pending = messages(&app, &ids).await;
    let delivered = pending.iter().filter(|m| m.status == "delivered").count();
    assert!(
        delivered == 1
            && pending
                .iter()
                .all(|m| matches!(m.status.as_str(), "pending" | "delivered")),
        "a message was given up or marked sent while the gateway was down: {pending:?}"
    );
    assert_eq!(k.received().len(), 1, "sent while down: {:?}", k.received());

    // Kannel comes back on the same ports: everything Jiesu kept waiting arrives within the
    // retry cap, each exactly once. The text Kannel itself had accepted and queued is Kannel's
    // to keep (its store file): it usually comes out of the store after the restart, but a
    // SIGKILL can lose it inside bearerbox (seen under load), so it may arrive at most once.
    k.restart();
    let back = Instant::now();
    let all = messages(&app, &ids).await;
    let in_kannel = messages(&app, std::slice::from_ref(&queued))
        .await
        .remove(0);
    let count = |m: &OutboxMessage| {
        k.received()
            .iter()
            .filter(|mt| mt.to == m.recipient && mt.text == text_of(m))
            .count()
    };
    while !all.iter().all(|m| count(m) >= 1) {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "only {} of {} texts arrived after the restart: {:?}",
            k.received().len(),
            all.len(),
            k.received()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let caught_up = back.elapsed();
    // Longer than a retry period more: nothing comes twice.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for m in &all {
        let n = count(m);
        assert_eq!(n, 1, "{} arrived {n} times: {:?}", m.id, k.received());
    }
    let from_store = count(&in_kannel);
    assert!(
        from_store <= 1,
        "Kannel's queued text came {from_store} times"
    );
    assert_eq!(
        k.received().len(),
        all.len() + from_store,
        "{:?}",
        k.received()
    );

    // Delivery reports still come back: every row ends delivered, on the timeline too. (Not
    // the one Kannel queued: bearerbox kept its pending report in memory, which died with it.)
    let start = Instant::now();
    loop {
        let msgs = messages(&app, &ids).await;
        if msgs.iter().all(|m| m.status == "delivered") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "not all delivered: {msgs:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let v = expect(
        app.get(&format!("/api/v1/requests/{}", ids[3]), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(
        super::cast::actions(&v).contains(&"sms.delivery".to_string()),
        "{v}"
    );
    stop.store(true, Ordering::SeqCst);
    let failed = job.await.unwrap();
    assert!(failed >= 8, "only {failed} failed attempts while down");
    eprintln!(
        "gateway down {:?}: {} texts kept, {failed} failed attempts, all arrived {:?} after the restart",
        OUTAGE,
        all.len() - 1,
        caught_up
    );
}
