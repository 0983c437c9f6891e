//! Storage: the audit chain verifies and names the first edited event, concurrent writes are
//! all durable, and writes at once (PostgreSQL batches) link a suggestion once.

use super::cast::{new_request, staff, suggest, WANGJING};
use crate::helpers::{app, complaint, expect, Backend, TestApp};
use serde_json::{json, Value};

pub async fn audit_verify_passes_and_names_the_first_edited_or_removed_event(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    new_request(&app, &s).await;

    // One change with more events than one insert statement takes (64): appended whole, in
    // order, returned as stored, and the chain still verifies.
    let before = app.event_count().await;
    let mut tx = app.state.store.begin().await.unwrap();
    for i in 0..150 {
        tx.event(jiesu::store::NewEvent {
            jurisdiction: "110000".into(),
            request_id: Some(id.to_string()),
            assignment_id: None,
            actor_id: "system".into(),
            actor_role: "system".into(),
            action: "test.bulk".into(),
            before: None,
            after: None,
            payload: json!({ "i": i }),
            at: chrono::Utc::now(),
        });
    }
    let stored = tx.commit_events().await.unwrap();
    assert_eq!(stored.len(), 150);
    assert!(stored.windows(2).all(|w| w[1].1.seq == w[0].1.seq + 1));
    assert_eq!(stored[149].1.payload, json!({ "i": 149 }));
    assert_eq!(app.event_count().await, before + 150);
    let timeline = jiesu::store::events::for_request(app.state.store.reader(), id)
        .await
        .unwrap();
    let as_json = |e: &jiesu::store::Event| serde_json::to_value(e).unwrap();
    let read: Vec<Value> = timeline
        .iter()
        .filter(|e| e.action == "test.bulk")
        .map(as_json)
        .collect();
    let returned: Vec<Value> = stored.iter().map(|(_, e)| as_json(e)).collect();
    assert_eq!(read, returned);

    let total = app.event_count().await;
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("{total} events verified")));

    // Edit one stored event by hand: the CLI fails and names it.
    let seq: i64 =
        sqlx::query_scalar("SELECT seq FROM events WHERE action = 'assignment.dispatched'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    app.exec(&format!(
        "UPDATE events SET payload = '{{\"unit_code\":\"110106001\"}}' WHERE seq = {seq}"
    ))
    .await;
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("seq {seq}")) && err.contains("altered"),
        "{err}"
    );

    // Removing the last event is caught by the chain head.
    app.exec(&format!("DELETE FROM events WHERE seq >= {seq}"))
        .await;
    let broken = jiesu::store::events::verify(app.state.store.reader())
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(broken.seq, seq);
}

/// Many writes at once (on SQLite they share group commits): every acknowledged write is
/// there with its event, every refused one left nothing, and the chain verifies.
pub async fn concurrent_writes_are_all_durable_and_refusals_leave_nothing(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let before = app.event_count().await;
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (base, op, disp, id) = (
            app.base.clone(),
            s.operator.clone(),
            s.dispatcher.clone(),
            id.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let resp = if i % 3 == 0 {
                // Refused inside its transaction: 望京 already leads this round.
                client
                    .post(format!("{base}/api/v1/requests/{id}/dispatch"))
                    .bearer_auth(disp)
                    .json(&json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }))
                    .send()
                    .await
            } else {
                let mut body = complaint("望京西园三区夜间施工噪音扰民。");
                body["requester"]["phone"] = json!(format!("1390000{i:04}"));
                client
                    .post(format!("{base}/api/v1/requests"))
                    .bearer_auth(op)
                    .json(&body)
                    .send()
                    .await
            };
            let resp = resp.unwrap();
            let status = resp.status().as_u16();
            let v: Value = resp.json().await.unwrap();
            (i, status, v)
        }));
    }
    let mut created = Vec::new();
    for t in tasks {
        let (i, status, v) = t.await.unwrap();
        if i % 3 == 0 {
            assert!(status == 409 || status == 422, "{status} {v}");
        } else {
            assert_eq!(status, 201, "{v}");
            created.push(v["id"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(created.len(), 40);
    for id in &created {
        expect(
            app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
                .await,
            200,
        );
    }
    // One creation event each; the refused dispatches left no event.
    assert_eq!(app.event_count().await - before, 40);
    let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM assignments")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(orders, 1);
    // Every request has its own number (on PostgreSQL the day counter is taken in a side
    // transaction of its own).
    let numbers: Vec<String> = sqlx::query_scalar("SELECT number FROM requests")
        .fetch_all(app.state.store.reader())
        .await
        .unwrap();
    let distinct: std::collections::BTreeSet<&String> = numbers.iter().collect();
    assert_eq!(distinct.len(), numbers.len(), "{numbers:?}");
    assert_eq!(numbers.len(), 41);
    // PostgreSQL commits release the chain's lock early and wait on the durability barrier; a
    // broken barrier would silently fall back to slow synchronous commits.
    assert_eq!(
        app.state.store.commits_early(),
        b == Backend::Postgres,
        "early lock release on PostgreSQL only"
    );
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// New requests on PostgreSQL go in batches, each one statement (`store/creates.rs`,
/// `Store::write_at_once`): requests, their suggestions' links and their events together or
/// not at all. Twelve operators racing to use the same suggestion: one request is recorded,
/// eleven get 422 and leave nothing; six with their own suggestions racing one with a taken
/// suggestion: the six are recorded and linked, the seventh refused. The
/// mechanism itself: a refused condition writes nothing; after another node moved the chain's
/// head nothing is written at once and the caller's transaction takes over; on SQLite it is
/// never used. The chain stays whole throughout.
pub async fn writes_at_once_link_a_suggestion_once_and_give_way_when_another_node_wrote(
    b: Backend,
) {
    use jiesu::store::{self, events, AtOnce, AtOnceStatement, Store};
    let app = app!(b);
    let s = staff(&app).await;
    new_request(&app, &s).await; // this node now knows the chain's head
    let text = "望京西园三区夜间施工噪音扰民，凌晨两点还在施工。";
    let v = suggest(&app, &s.operator, text).await;
    let (requests_before, events_before) = (count_requests(&app).await, app.event_count().await);
    let mut racers = Vec::new();
    for i in 0..12 {
        let mut body = complaint(text);
        body["suggestion_id"] = v["suggestion_id"].clone();
        body["requester"]["phone"] = json!(format!("1391111{i:04}"));
        racers.push(race_create(&app, &s.operator, body));
    }
    let mut created = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            (201, v) => created.push(v["id"].as_str().unwrap().to_string()),
            (422, v) => assert_eq!(v["error"]["fields"][0]["field"], "suggestion_id", "{v}"),
            (status, v) => panic!("{status} {v}"),
        }
    }
    assert_eq!(created.len(), 1, "one request takes the suggestion");
    assert_eq!(count_requests(&app).await, requests_before + 1);
    assert_eq!(app.event_count().await, events_before + 1);
    let linked: String = sqlx::query_scalar("SELECT request_id FROM suggestions WHERE id = $1")
        .bind(v["suggestion_id"].as_str().unwrap())
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(linked, created[0]);

    // Six suggestions asked at once are all stored (whatever batches they fall into). Six
    // requests with them race one reusing the taken suggestion: the six are recorded and
    // linked, the seventh is refused alone.
    let suggesting: Vec<_> = (0..6)
        .map(|_| {
            race_post(
                &app,
                &s.operator,
                "/api/v1/requests/suggest",
                json!({ "text": text }),
            )
        })
        .collect();
    let mut sids = Vec::new();
    for suggest in suggesting {
        let (status, own) = suggest.await.unwrap();
        assert_eq!(status, 200, "{own}");
        sids.push(own["suggestion_id"].clone());
    }
    sids.push(v["suggestion_id"].clone());
    let mut racers = Vec::new();
    for (i, sid) in sids.into_iter().enumerate() {
        let mut body = complaint(text);
        body["suggestion_id"] = sid.clone();
        body["requester"]["phone"] = json!(format!("1392222{i:04}"));
        racers.push((i, sid, race_create(&app, &s.operator, body)));
    }
    for (i, sid, racer) in racers {
        let (status, v) = racer.await.unwrap();
        if i == 6 {
            assert_eq!(status, 422, "{v}");
            continue;
        }
        assert_eq!(status, 201, "{v}");
        let linked: String = sqlx::query_scalar("SELECT request_id FROM suggestions WHERE id = $1")
            .bind(sid.as_str().unwrap())
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
        assert_eq!(linked, v["id"].as_str().unwrap());
    }
    assert_eq!(count_requests(&app).await, requests_before + 7);

    // The mechanism, with a statement of the test's own: a day counter written where `$2`.
    let store = &app.state.store;
    let statement = AtOnceStatement::new(
        "",
        "$2",
        "c AS (INSERT INTO day_counters (day, last) SELECT $1, 7 WHERE EXISTS (SELECT 1 FROM go))",
        2,
        1,
    );
    let event = |action: &str| app.state.audit_event("system", "system", action, json!({}));
    let day_written = |day: &'static str| async move {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM day_counters WHERE day = $1")
            .bind(day)
            .fetch_one(store.reader())
            .await
            .unwrap()
            == 1
    };
    let at_once = |day: &'static str, go: bool, action: &'static str| {
        let statement = &statement;
        async move {
            store
                .write_at_once(statement, |q| q.bind(day).bind(go), vec![event(action)])
                .await
                .unwrap()
        }
    };
    let head = events::head_seq(store.reader()).await.unwrap();
    if b == Backend::Sqlite {
        assert!(
            matches!(at_once("t1", true, "test.one").await, AtOnce::NotHere(e) if e.len() == 1)
        );
        assert!(!day_written("t1").await);
        return;
    }
    match at_once("t1", true, "test.one").await {
        AtOnce::Written(stored) => assert_eq!(stored[0].seq, head + 1),
        other => panic!("{other:?}"),
    }
    assert!(day_written("t1").await);
    assert!(matches!(
        at_once("t2", false, "test.two").await,
        AtOnce::Refused
    ));
    assert!(!day_written("t2").await);
    assert_eq!(events::head_seq(store.reader()).await.unwrap(), head + 1);

    // Another node appends: this node's remembered head is stale, so nothing is written at
    // once, and a request still goes in (its transaction reads the head).
    let url = app.config.database_url.clone().unwrap();
    let other = Store::open(
        &url,
        &store::SqliteOptions {
            synchronous: "FULL".into(),
        },
    )
    .await
    .unwrap();
    let mut tx = other.begin().await.unwrap();
    tx.event(event("test.other_node"));
    tx.commit().await.unwrap();
    other.close().await;
    assert!(matches!(at_once("t3", true, "test.three").await, AtOnce::NotHere(e) if e.len() == 1));
    assert!(!day_written("t3").await);
    new_request(&app, &s).await;
    assert_eq!(events::head_seq(store.reader()).await.unwrap(), head + 3);
    assert_eq!(
        events::verify(store.reader()).await.unwrap().ok(),
        Some(head + 3)
    );
}

/// Posts a new request in a task of its own, to race others: its status and body.
fn race_create(app: &TestApp, token: &str, body: Value) -> tokio::task::JoinHandle<(u16, Value)> {
    race_post(app, token, "/api/v1/requests", body)
}

/// POSTs in a task of its own, to race others: the status and body.
fn race_post(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> tokio::task::JoinHandle<(u16, Value)> {
    let (url, token) = (format!("{}{path}", app.base), token.to_string());
    tokio::spawn(async move {
        let resp = reqwest::Client::new()
            .post(url)
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (resp.status().as_u16(), resp.json::<Value>().await.unwrap())
    })
}

async fn count_requests(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM requests")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

/// A page built from several queries (`GET /requests/{id}`: the request, its orders, its
/// events …) reads them in one snapshot, so it never shows half of a write. The snapshot is
/// opened and read once; a dispatch then commits on the writer; the snapshot's later reads,
/// and the page built on it (`views::get_in`, what `views::get` runs), still see the request
/// as it was, with neither the new orders nor the new events, and a fresh read sees all of
/// them. Read statement by statement on the pool (as the view did
/// until the sms story caught a request in round 1 beside its round-2 events), the second
/// read would see the dispatch.
pub async fn a_request_page_reads_one_snapshot_and_never_half_a_write(b: Backend) {
    use jiesu::store::{assignments, events, requests};
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    let store = &app.state.store;

    let mut snap = store.read_snapshot().await.unwrap();
    let before = requests::get(&mut *snap, id).await.unwrap().unwrap();
    let events_before = events::for_request(&mut *snap, id).await.unwrap().len();
    super::cast::dispatch_to(&app, &s, id, WANGJING).await;

    let later = requests::get(&mut *snap, id).await.unwrap().unwrap();
    assert_eq!(later.status, before.status, "the snapshot moved");
    // The page, built on the snapshot, shows the request as it was, whole.
    let center = jiesu_core::Actor {
        user_id: "supervisor".into(),
        username: "supervisor".into(),
        role: jiesu_core::Role::Supervisor,
        unit: None,
    };
    let page = jiesu::services::views::get_in(&mut snap, &center, id)
        .await
        .unwrap();
    assert!(page.assignments.is_empty(), "the page saw the dispatch");
    assert_eq!(page.events.as_ref().map(Vec::len), Some(events_before));
    assert!(assignments::assignments_of(&mut *snap, id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        events::for_request(&mut *snap, id).await.unwrap().len(),
        events_before
    );
    snap.rollback().await.unwrap();

    let now = requests::get(store.reader(), id).await.unwrap().unwrap();
    assert_ne!(now.status, before.status, "the dispatch did not show");
    assert_eq!(
        assignments::assignments_of(store.reader(), id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(events::for_request(store.reader(), id).await.unwrap().len() > events_before);
    // The page itself, read after the write, shows the whole of it.
    let page = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(page["assignments"].as_array().unwrap().len(), 1);
}

/// A personal-data export reads everything about the number in one snapshot: a request
/// taken from the same number while the export reads is in none of it, and in the next.
pub async fn a_personal_data_export_reads_one_snapshot(b: Backend) {
    use jiesu::services::privacy::held_about;
    let app = app!(b);
    let s = staff(&app).await;
    new_request(&app, &s).await;
    let phone = jiesu_core::PhoneNumber::parse("13812345678").unwrap();

    let mut snap = app.state.store.read_snapshot().await.unwrap();
    let first = held_about(&mut snap, &phone).await.unwrap();
    assert_eq!(first.requests.len(), 1);
    let mut other = complaint("花家地西里垃圾清运不及时，已经三天没人收了。");
    other["requester"] = json!({ "name": "王女士", "phone": "13812345678" });
    let other = expect(
        app.post("/api/v1/requests", Some(&s.operator), other).await,
        201,
    );
    let again = held_about(&mut snap, &phone).await.unwrap();
    assert_eq!(
        again.numbers, first.numbers,
        "the snapshot saw the new request"
    );
    snap.rollback().await.unwrap();

    let admin = app.login("admin", "adminpass1").await;
    let v = super::cast::export_of(&app, &admin, "13812345678").await;
    let ids = super::cast::exported_ids(&v);
    assert_eq!(ids.len(), 2, "{v}");
    assert!(ids.contains(&other["id"].as_str().unwrap()));
}
