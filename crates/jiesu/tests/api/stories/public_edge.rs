//! The public edge (issue 16): tracking by number + query code that cannot be brute-forced,
//! per-address limits answered 429 with `Retry-After`, the portal's smaller body limit, and
//! merges that cannot lose requests when raced.

use super::cast::{staff, WANGJING};
use crate::helpers::{complaint, expect, Backend, TestApp};
use jiesu_core::Role;
use serde_json::{json, Value};

/// A browser without a login: keeps the anonymous CSRF cookie, posts forms.
struct Visitor {
    base: String,
    client: reqwest::Client,
    cookie: String,
    token: String,
    forwarded_for: Option<String>,
}

/// A page as answered.
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: String,
}

impl Visitor {
    async fn new(app: &TestApp, page: &str) -> Visitor {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let resp = client
            .get(format!("{}{page}", app.base))
            .send()
            .await
            .unwrap();
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|c| c.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("jiesu_csrf"))
            .expect("an anonymous CSRF cookie");
        let html = resp.text().await.unwrap();
        let token = html
            .split("name=\"_csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .expect("a CSRF field")
            .to_string();
        Visitor {
            base: app.base.clone(),
            client,
            cookie,
            token,
            forwarded_for: None,
        }
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", &self.token)];
        form.extend_from_slice(fields);
        let mut req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .form(&form);
        if let Some(f) = &self.forwarded_for {
            req = req.header("x-forwarded-for", f);
        }
        answer(req.send().await.unwrap()).await
    }

    async fn track(&self, number: &str, code: &str) -> Answer {
        self.post("/ui/portal/track", &[("number", number), ("code", code)])
            .await
    }

    async fn submit(&self, text: &str) -> Answer {
        self.post(
            "/ui/portal",
            &[
                ("kind", "complaint"),
                ("name", "李先生"),
                ("phone", "13698765432"),
                ("text", text),
                ("address", "朝阳区花家地西里"),
            ],
        )
        .await
    }
}

async fn answer(resp: reqwest::Response) -> Answer {
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    Answer {
        status,
        retry_after,
        body: resp.text().await.unwrap(),
    }
}

fn between<'a>(html: &'a str, testid: &str) -> &'a str {
    html.split(&format!("data-testid=\"{testid}\">"))
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("no {testid} in {html}"))
}

fn is_code(c: &str) -> bool {
    c.len() == 8
        && c.bytes()
            .all(|b| jiesu_core::query_code::ALPHABET.contains(&b))
}

/// A code that is well formed but not `code`.
fn other_code(code: &str) -> String {
    if code == "22222222" {
        "33333333"
    } else {
        "22222222"
    }
    .to_string()
}

pub async fn tracking_takes_the_query_code_and_locks_a_guessed_number_on_every_node(b: Backend) {
    let Some(mut app) = TestApp::spawn_configured(b, |c| {
        c.track_max_attempts = 4;
        c.track_window = std::time::Duration::from_secs(600);
    })
    .await
    else {
        return;
    };
    let s = staff(&app).await;

    // The operator is given the code with the new request, to read out; units never see it.
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区夜间施工噪音扰民"),
        )
        .await,
        201,
    );
    let (id, number) = (r["id"].as_str().unwrap(), r["number"].as_str().unwrap());
    let code = r["query_code"].as_str().expect("a query code").to_string();
    assert!(is_code(&code), "{code}");
    let again = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert_eq!(
        again["query_code"],
        json!(code),
        "the center can read it out later"
    );
    let list = expect(app.get("/api/v1/requests", Some(&s.dispatcher)).await, 200);
    assert!(list["items"][0].get("query_code").is_none(), "not in lists");
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let unit_view = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.wangjing))
            .await,
        200,
    );
    assert!(
        unit_view.get("query_code").is_none(),
        "units never see the code"
    );
    assert!(
        !unit_view.to_string().contains(&code),
        "nor anywhere in their view"
    );
    let page = reqwest::Client::new()
        .get(format!("{}/ui/requests/{id}", app.base))
        .header("cookie", format!("jiesu_session={}", s.operator))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("data-testid=\"query-code\" ") && page.contains(&code),
        "the operator's page shows it"
    );

    // The portal receipt shows number and code; both track the request.
    let citizen = Visitor::new(&app, "/ui/portal").await;
    let done = citizen.submit("花家地西里小区门口路灯不亮").await;
    assert_eq!(done.status, 201, "{}", done.body);
    let own = between(&done.body, "portal-number").to_string();
    let own_code = between(&done.body, "portal-code").to_string();
    assert!(is_code(&own_code), "{own_code}");
    let stranger = Visitor::new(&app, "/ui/portal/track").await;
    let right = stranger.track(&own, &own_code.to_lowercase()).await;
    assert_eq!(right.status, 200, "{}", right.body);
    assert!(right.body.contains("路灯不亮") && !right.body.contains("李先生"));

    // Wrong code, unknown number, both: one answer, word for word (the typed number aside).
    let wrong_code = stranger.track(&own, &other_code(&own_code)).await;
    let unknown_number = stranger.track("20991231-999999", &own_code).await;
    let both = stranger
        .track("20991231-999998", &other_code(&own_code))
        .await;
    let by_phone = stranger.track(&own, "13698765432").await;
    for (a, typed) in [
        (&wrong_code, own.as_str()),
        (&unknown_number, "20991231-999999"),
        (&both, "20991231-999998"),
        (&by_phone, own.as_str()),
    ] {
        assert_eq!(a.status, 404, "{}", a.body);
        assert!(!a.body.contains("路灯不亮"));
        assert_eq!(
            a.body.replace(typed, "N"),
            wrong_code.body.replace(own.as_str(), "N"),
            "the same page whatever was wrong"
        );
    }

    // Guesses at one number: past the limit, every attempt at it waits, even the right code,
    // and an unknown number locks the same way.
    for _ in 0..2 {
        assert_eq!(
            stranger.track(&own, &other_code(&own_code)).await.status,
            404
        );
    }
    let locked = stranger.track(&own, &own_code).await;
    assert_eq!(locked.status, 429, "{}", locked.body);
    assert!(locked.retry_after.is_some_and(|s| s > 0 && s <= 600));
    assert!(!locked.body.contains("路灯不亮"));
    for _ in 0..3 {
        stranger.track("20991231-999999", &own_code).await;
    }
    let unknown_locked = stranger.track("20991231-999999", &own_code).await;
    assert_eq!(unknown_locked.status, 429);
    // Another number is not affected.
    assert_eq!(stranger.track(number, &code).await.status, 200);

    // The count is in the database: a restarted node and another node refuse it too.
    app.restart().await;
    let fresh = Visitor::new(&app, "/ui/portal/track").await;
    assert_eq!(fresh.track(&own, &own_code).await.status, 429);
    let other = jiesu::open_state(app.config.clone(), std::sync::Arc::new(app.clock.clone()))
        .await
        .expect("a second node");
    let refused = jiesu::services::portal::track(&other, &own, &own_code).await;
    assert!(matches!(
        refused,
        Err(jiesu::error::AppError::TooManyRequests(_))
    ));
    // After the window, the right code works again (and clears the count).
    app.clock.advance(chrono::Duration::minutes(11));
    assert_eq!(fresh.track(&own, &own_code).await.status, 200);
    assert_eq!(
        jiesu::services::portal::purge_track_attempts(&app.state)
            .await
            .unwrap(),
        2,
        "the unknown numbers' stale counts are purged"
    );

    // A request from before query codes gets one at the next start, with an event.
    app.exec(&format!(
        "UPDATE requests SET query_code = NULL WHERE id = '{id}'"
    ))
    .await;
    app.restart().await;
    let after = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&app.admin))
            .await,
        200,
    );
    let issued = after["query_code"].as_str().expect("issued at start");
    assert!(is_code(issued) && issued != code);
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE action = 'requests.query_codes_issued'",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(n, 1);
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub async fn per_address_limits_answer_429_with_retry_after_and_the_portal_takes_small_forms(
    b: Backend,
) {
    let limit = |s: &str| jiesu::config::RateLimit::parse(s).unwrap();
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.rate_track = limit("3/60");
        c.rate_portal = limit("3/3600");
        c.rate_login = limit("3/60");
        c.rate_suggest = limit("3/60");
        c.portal_body_limit = 8192;
        // Behind a proxy on 127.0.0.1: the client is what it forwards.
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    })
    .await
    else {
        return;
    };
    let op = app.user("op1", Role::Operator, None).await;

    // Portal: a form over the portal's limit is refused (a staff form may be 1 MiB), then
    // two more are taken, and the fourth from this address in the hour waits.
    let citizen = Visitor::new(&app, "/ui/portal").await;
    let long = "路灯不亮".repeat(1000);
    let big = citizen.submit(&long).await;
    assert_eq!(big.status, 413, "{}", big.body);
    assert!(big.body.contains("8 KiB"), "{}", big.body);
    assert_eq!(
        citizen.submit("花家地西里小区门口路灯不亮").await.status,
        201
    );
    assert_eq!(
        citizen
            .submit("花家地西里小区门口路灯还是不亮")
            .await
            .status,
        201
    );
    let flood = citizen.submit("花家地西里小区门口路灯一直不亮").await;
    assert_eq!(flood.status, 429, "{}", flood.body);
    assert!(flood.retry_after.is_some_and(|s| s > 0), "Retry-After");
    assert!(
        flood.body.contains("请求过于频繁"),
        "a page, in Chinese: {}",
        flood.body
    );
    // Another client (as the trusted proxy says) has its own allowance.
    let mut neighbour = Visitor::new(&app, "/ui/portal").await;
    neighbour.forwarded_for = Some("198.51.100.7".into());
    assert_eq!(
        neighbour.submit("花家地西里小区门口井盖缺失").await.status,
        201
    );
    // A requester's upload draws on the same allowance: refused from this address before
    // its proof is even looked at, heard (a wrong code: 404) from the neighbour's.
    let upload = |from: Option<&'static str>| {
        let mut req = reqwest::Client::new()
            .post(format!(
                "{}/api/v1/public/attachments?number=20991231-000005&code=22222222&name=a.jpg",
                app.base
            ))
            .body(vec![0xFF, 0xD8, 0xFF, 0xE0]);
        if let Some(f) = from {
            req = req.header("x-forwarded-for", f);
        }
        req.send()
    };
    let refused = answer(upload(None).await.unwrap()).await;
    assert_eq!(refused.status, 429, "{}", refused.body);
    assert!(refused.retry_after.is_some_and(|s| s > 0));
    let heard = upload(Some("198.51.100.7")).await.unwrap();
    assert_eq!(heard.status().as_u16(), 404);

    // Tracking.
    let stranger = Visitor::new(&app, "/ui/portal/track").await;
    for n in 1..=3 {
        let number = format!("20991231-00000{n}");
        assert_eq!(stranger.track(&number, "22222222").await.status, 404);
    }
    let t = stranger.track("20991231-000009", "22222222").await;
    assert_eq!(t.status, 429);
    assert!(t.retry_after.is_some_and(|s| s > 0));

    // Logins: the API's JSON error, in the caller's language. (This client comes through
    // the proxy as 192.0.2.10; the logins of the set-up came from 127.0.0.1.)
    let client = reqwest::Client::new();
    let login = |body: Value| {
        client
            .post(format!("{}/api/v1/auth/token", app.base))
            .header("accept-language", "en")
            .header("x-forwarded-for", "192.0.2.10")
            .json(&body)
    };
    for _ in 0..3 {
        let r = login(json!({ "username": "op1", "password": "wrong-pass" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401);
    }
    let r = answer(
        login(json!({ "username": "op1", "password": "password1" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.retry_after.is_some_and(|s| s > 0));
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["error"]["code"], "too_many_requests");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("too many requests"));
    // Sending a forwarded address of one's own from an address that is not a trusted proxy
    // cannot reach past it: here the proxy is trusted, so a forwarded client is another one.
    let elsewhere = client
        .post(format!("{}/api/v1/auth/token", app.base))
        .header("x-forwarded-for", "203.0.113.5")
        .json(&json!({ "username": "op1", "password": "password1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status().as_u16(), 200);

    // Suggestions.
    for _ in 0..3 {
        let (st, _) = app
            .post(
                "/api/v1/requests/suggest",
                Some(&op),
                json!({ "text": "路灯不亮" }),
            )
            .await;
        assert_eq!(st.as_u16(), 200);
    }
    let (st, v) = app
        .post(
            "/api/v1/requests/suggest",
            Some(&op),
            json!({ "text": "路灯不亮" }),
        )
        .await;
    assert_eq!(st.as_u16(), 429, "{v}");
    assert_eq!(v["error"]["code"], "too_many_requests");
    // Reads are not limited.
    expect(app.get("/api/v1/me", Some(&op)).await, 200);
}

pub async fn opposite_merges_raced_in_pairs_have_one_winner_and_lose_no_request(b: Backend) {
    let app = crate::helpers::app!(b);
    let s = staff(&app).await;
    let mut ids = Vec::new();
    for i in 0..40 {
        let mut body = complaint(&format!("望京西园三区夜间施工噪音扰民，第{i}次反映"));
        body["requester"]["phone"] = json!(format!("139{:08}", i));
        let v = expect(
            app.post("/api/v1/requests", Some(&s.operator), body).await,
            201,
        );
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    // 20 pairs: "merge A into B" and "merge B into A" sent together, all pairs at once.
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for pair in ids.chunks(2) {
        for (from, into) in [(&pair[0], &pair[1]), (&pair[1], &pair[0])] {
            let (app, token) = (app.clone(), s.operator.clone());
            let (from, into) = (from.clone(), into.clone());
            tasks.push(tokio::spawn(async move {
                let (st, v) = app
                    .post(
                        &format!("/api/v1/requests/{from}/merge"),
                        Some(&token),
                        json!({ "into": into }),
                    )
                    .await;
                (st.as_u16(), v)
            }));
        }
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    for (k, pair) in results.chunks(2).enumerate() {
        let mut codes = [pair[0].0, pair[1].0];
        codes.sort();
        assert_eq!(
            codes,
            [200, 409],
            "pair {k}: {:?} / {:?}",
            pair[0].1,
            pair[1].1
        );
    }
    // Nothing is lost: each request is open in the dispatch queue or merged into one that is.
    let mut open = std::collections::HashSet::new();
    let mut merged = Vec::new();
    for id in &ids {
        let v = expect(
            app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
                .await,
            200,
        );
        match v["status"].as_str().unwrap() {
            "received" => {
                open.insert(id.clone());
            }
            "merged" => merged.push(v["primary_id"].as_str().unwrap().to_string()),
            other => panic!("{id} is {other}"),
        }
    }
    assert_eq!((open.len(), merged.len()), (20, 20));
    assert!(
        merged.iter().all(|p| open.contains(p)),
        "every primary is open"
    );
    let queue = expect(
        app.get(
            "/api/v1/requests?status=received&per_page=200",
            Some(&s.dispatcher),
        )
        .await,
        200,
    );
    assert_eq!(queue["total"], 20);

    // Chains are refused: into a merged request, or a request others are merged into.
    let (a, b2) = (&ids[0], &ids[1]);
    let (merged_one, primary) = if open.contains(a) { (b2, a) } else { (a, b2) };
    let extra = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区噪音"),
        )
        .await,
        201,
    );
    let extra = extra["id"].as_str().unwrap();
    let into_merged = app
        .post(
            &format!("/api/v1/requests/{extra}/merge"),
            Some(&s.operator),
            json!({ "into": merged_one }),
        )
        .await;
    assert_eq!(into_merged.0.as_u16(), 409, "{}", into_merged.1);
    let primary_away = app
        .post(
            &format!("/api/v1/requests/{primary}/merge"),
            Some(&s.operator),
            json!({ "into": extra }),
        )
        .await;
    assert_eq!(primary_away.0.as_u16(), 409, "{}", primary_away.1);
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The address in `html` that starts with `prefix`, its `&` read back from the escape.
fn address_in(html: &str, prefix: &str) -> String {
    let rest = html
        .split(prefix)
        .nth(1)
        .unwrap_or_else(|| panic!("no {prefix} in the page"));
    let end = rest.find('"').unwrap();
    format!("{prefix}{}", &rest[..end])
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

async fn get_status(url: &str) -> u16 {
    reqwest::get(url).await.unwrap().status().as_u16()
}

/// The tracking page and the receipt link files and the upload with a grant, never the
/// query code (issue 20: addresses end up in histories, logs and `Referer`s): the grant
/// opens this request's public files and takes an upload; one changed character, the grant
/// of one request used on another, a later expiry written in, or the clock two hours on,
/// and it opens nothing (404). API clients keep sending the code itself.
pub async fn the_portal_links_files_with_a_grant_never_the_query_code(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("花家地西里三区门口垃圾堆放多日无人清理"),
        )
        .await,
        201,
    );
    let (number, code) = (
        r["number"].as_str().unwrap().to_string(),
        r["query_code"].as_str().unwrap().to_string(),
    );
    let other = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("花家地西里四区路灯不亮"),
        )
        .await,
        201,
    );
    let other_number = other["number"].as_str().unwrap();
    // The requester's photo, sent by an API client with the code.
    let photo = super::attachments::phone_photo();
    let sent = reqwest::Client::new()
        .post(format!(
            "{}/api/v1/public/attachments?number={number}&code={code}&name=a.jpg",
            app.base
        ))
        .body(photo.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 201);
    let aid = sent.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();

    let visitor = Visitor::new(&app, "/ui/portal/track").await;
    let page = visitor.track(&number, &code).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains(&code),
        "the query code is not on the page"
    );
    assert!(!page.body.contains("code="), "no address carries a code");
    let file = format!(
        "{}{}",
        app.base,
        address_in(&page.body, &format!("/api/v1/public/attachments/{aid}?"))
    );
    assert!(file.contains("grant="), "{file}");
    assert_eq!(get_status(&file).await, 200);
    let thumb = address_in(
        &page.body,
        &format!("/api/v1/public/attachments/{aid}/thumbnail?"),
    );
    assert_eq!(get_status(&format!("{}{thumb}", app.base)).await, 200);

    // Changed, moved to another request, or given a later expiry: nothing.
    let grant = file.split("grant=").nth(1).unwrap().to_string();
    let (expiry, mac) = grant.split_once('.').unwrap();
    let last = mac.chars().last().unwrap();
    let flipped = format!(
        "{expiry}.{}{}",
        &mac[..mac.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let later = format!("{}.{mac}", expiry.parse::<i64>().unwrap() + 3600);
    let with = |n: &str, g: &str| {
        format!(
            "{}/api/v1/public/attachments/{aid}?number={n}&grant={g}",
            app.base
        )
    };
    assert_eq!(get_status(&with(&number, &flipped)).await, 404);
    assert_eq!(get_status(&with(&number, &later)).await, 404);
    assert_eq!(get_status(&with(&number, "")).await, 404);
    assert_eq!(get_status(&with(&number, "x.y")).await, 404);
    let list = |n: &str, g: &str| {
        format!(
            "{}/api/v1/public/attachments?number={n}&grant={g}",
            app.base
        )
    };
    assert_eq!(get_status(&list(&number, &grant)).await, 200);
    assert_eq!(get_status(&list(other_number, &grant)).await, 404);

    // The page's upload address takes the requester's next photo.
    let upload = address_in(&page.body, "/api/v1/public/attachments?number=");
    assert!(
        upload.contains("grant=") && !upload.contains("code="),
        "{upload}"
    );
    let sent = reqwest::Client::new()
        .post(format!("{}{upload}&name=b.jpg", app.base))
        .body(photo)
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 201);

    // The receipt of a portal submission: its upload address carries a grant too.
    let portal = Visitor::new(&app, "/ui/portal").await;
    let done = portal.submit("花家地西里五区井盖缺失，夜里很危险").await;
    assert_eq!(done.status, 201, "{}", done.body);
    let upload = address_in(&done.body, "/api/v1/public/attachments?number=");
    assert!(
        upload.contains("grant=") && !upload.contains("code="),
        "{upload}"
    );
    let sent = reqwest::Client::new()
        .post(format!("{}{upload}&name=c.jpg", app.base))
        .body(super::attachments::phone_photo())
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 201);

    // Two hours on, the tracking page's links open nothing; tracking again makes new ones.
    app.clock.advance(chrono::Duration::minutes(121));
    assert_eq!(get_status(&file).await, 404);
    let page = visitor.track(&number, &code).await;
    let fresh = address_in(&page.body, &format!("/api/v1/public/attachments/{aid}?"));
    assert_eq!(get_status(&format!("{}{fresh}", app.base)).await, 200);
}
