//! A new request sent twice is made once (issue 21): `Idempotency-Key` on the API, and the
//! key the desk's and the portal's forms carry. A client whose answer was lost (a failover
//! cut the commit off) sends the request again and gets the one already made.

use super::cast::staff;
use crate::helpers::{app, complaint, Backend, TestApp};
use crate::ui::{csrf, Browser};
use reqwest::StatusCode;
use serde_json::{json, Value};

/// POSTs a new request as `token` with `key` as its `Idempotency-Key`: the status, whether
/// the answer says it was replayed, and the body.
async fn keyed(app: &TestApp, token: &str, key: &str, body: &Value) -> (StatusCode, bool, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/v1/requests", app.base))
        .bearer_auth(token)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let replayed = resp
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true");
    (status, replayed, resp.json().await.unwrap())
}

async fn count(app: &TestApp, like: &str) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM requests WHERE body LIKE $1")
        .bind(format!("%{like}%"))
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

/// The key a form carries (made when it was drawn).
fn form_key(html: &str) -> String {
    html.split("name=\"idempotency_key\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .filter(|k| !k.is_empty())
        .unwrap_or_else(|| panic!("the form carries no key: {html}"))
        .to_string()
}

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
}

pub async fn a_request_sent_again_with_its_key_is_made_once(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let op2 = app.user("op2", jiesu_core::Role::Operator, None).await;
    let mut body = complaint("望京西园三区楼道堆放杂物（KEY-1）。");
    body["location"] = json!({ "lat": 39.996, "lon": 116.47 });
    let (st, replayed, first) = keyed(&app, &s.operator, "intake-0001", &body).await;
    assert_eq!(st, StatusCode::CREATED, "{first}");
    assert!(!replayed);
    let (st, replayed, again) = keyed(&app, &s.operator, "intake-0001", &body).await;
    assert_eq!(st, StatusCode::CREATED, "{again}");
    assert!(replayed, "the second answer says it was made already");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["number"], first["number"]);
    assert_eq!(count(&app, "KEY-1").await, 1);
    // The place went in with the request, in its transaction.
    let id = first["id"].as_str().unwrap();
    let places: i64 =
        sqlx::query_scalar("SELECT count(*) FROM request_locations WHERE request_id = $1")
            .bind(id)
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(places, 1);

    // The same key with another request is refused, naming the header; nothing is made.
    let other = complaint("望京西园三区楼道堆放杂物（KEY-2）。");
    let (st, _, refused) = keyed(&app, &s.operator, "intake-0001", &other).await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert_eq!(field(&refused), "Idempotency-Key", "{refused}");
    assert_eq!(count(&app, "KEY-2").await, 0);
    // Keys are the account's own: another operator's same key makes their own request.
    let (st, replayed, theirs) = keyed(&app, &op2, "intake-0001", &body).await;
    assert_eq!(st, StatusCode::CREATED, "{theirs}");
    assert!(!replayed);
    assert_ne!(theirs["id"], first["id"]);
    assert_eq!(count(&app, "KEY-1").await, 2);
    // A key that is not 1-255 visible ASCII characters is a 422 naming the header.
    for bad in ["", "with space", &"k".repeat(256)] {
        let (st, _, v) = keyed(&app, &s.operator, bad, &other).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}: {v}");
        assert_eq!(field(&v), "Idempotency-Key", "{v}");
    }
    assert_eq!(count(&app, "KEY-2").await, 0);

    // Eight clients send the same keyed request at the same moment: one request, and every
    // one of them is answered with it.
    let body = complaint("望京西园三区楼道堆放杂物（KEY-3）。");
    let sends = (0..8).map(|_| keyed(&app, &s.operator, "intake-0003", &body));
    let answers = futures_util::future::join_all(sends).await;
    let ids: std::collections::HashSet<String> = answers
        .iter()
        .map(|(st, _, v)| {
            assert_eq!(*st, StatusCode::CREATED, "{v}");
            v["id"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(
        answers.iter().filter(|(_, r, _)| !r).count(),
        1,
        "one made it"
    );
    assert_eq!(count(&app, "KEY-3").await, 1);
    let created: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM events WHERE action = 'request.created' AND request_id = $1",
    )
    .bind(ids.iter().next().unwrap())
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(created, 1, "one creation event");

    // A key is remembered for a week: the privacy job forgets it (an event saying how many),
    // and the same request sent after that is a new one.
    app.clock.advance(
        chrono::Duration::days(jiesu::services::privacy::KEY_DAYS) + chrono::Duration::hours(1),
    );
    let forgotten = jiesu::services::privacy::forget_request_keys(&app.state)
        .await
        .unwrap();
    assert_eq!(forgotten, 3, "intake-0001 of two operators and intake-0003");
    let s = super::cast::relogin(&app).await;
    let (st, replayed, later) = keyed(&app, &s.operator, "intake-0003", &body).await;
    assert_eq!(st, StatusCode::CREATED, "{later}");
    assert!(!replayed, "a week on, the key is new again");
    assert_eq!(count(&app, "KEY-3").await, 2);
}

pub async fn a_desk_or_portal_form_sent_twice_makes_one_request(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let mut desk = Browser::with_session(&app, &s.operator);
    let form = desk.get("/ui/intake").await;
    let token = csrf(&form.body);
    let key = form_key(&form.body);
    let fields = |text: &'static str| {
        vec![
            ("_csrf", token.clone()),
            ("idempotency_key", key.clone()),
            ("kind", "complaint".to_string()),
            ("phone", "13812345678".to_string()),
            ("text", text.to_string()),
            ("address", "朝阳区望京西园三区".to_string()),
            ("action", "create".to_string()),
        ]
    };
    let sent = fields("楼道灯坏了（DESK-1）。");
    let sent: Vec<(&str, &str)> = sent.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let first = desk.post("/ui/intake", &sent).await;
    assert_eq!(first.status, 303, "{}", first.body);
    let second = desk.post("/ui/intake", &sent).await;
    assert_eq!(second.status, 303, "{}", second.body);
    assert_eq!(
        second.location.split('?').next(),
        first.location.split('?').next(),
        "the second click lands on the request the first made"
    );
    assert_eq!(count(&app, "DESK-1").await, 1);
    // The form reused after Back and edited is a new request (the key gives way).
    let edited = fields("楼道灯坏了，电梯也坏了（DESK-2）。");
    let edited: Vec<(&str, &str)> = edited.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let third = desk.post("/ui/intake", &edited).await;
    assert_eq!(third.status, 303, "{}", third.body);
    assert_ne!(
        third.location.split('?').next(),
        first.location.split('?').next()
    );
    assert_eq!(count(&app, "DESK-2").await, 1);

    // The portal: a citizen's double click gives one number.
    let mut citizen = Browser::new(&app);
    let form = citizen.get("/ui/portal").await;
    let token = csrf(&form.body);
    let key = form_key(&form.body);
    let sent = [
        ("_csrf", token.as_str()),
        ("idempotency_key", key.as_str()),
        ("kind", "complaint"),
        ("phone", "13698765432"),
        ("text", "小区门口路灯不亮（PORTAL-1）"),
        ("address", "小区门口"),
    ];
    let number = |body: &str| crate::ui::testid_text(body, "portal-number");
    let one = citizen.post("/ui/portal", &sent).await;
    assert_eq!(one.status, 201, "{}", one.body);
    let two = citizen.post("/ui/portal", &sent).await;
    assert_eq!(two.status, 201, "{}", two.body);
    assert_eq!(number(&one.body), number(&two.body));
    assert_eq!(count(&app, "PORTAL-1").await, 1);
}
