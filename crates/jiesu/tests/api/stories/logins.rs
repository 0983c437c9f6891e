//! Logins that hold (issue 16, findings 2, 7 and 8): parallel guesses are counted atomically
//! and throttled per (account, source); unknown, wrong and disabled get the same answers; a
//! flood of logins waits for a few password checks or is turned away; administrators disable,
//! enable, reset and revoke, each an event with its actor; sessions end when idle and are
//! purged; cookie-authenticated API writes need the CSRF token; cookies are `Secure` and
//! `__Host-` over HTTPS; the pre-login CSRF secret is the server's.

use super::cast::{new_request, staff, WANGJING};
use crate::helpers::{expect, order_id, Backend, TestApp};
use jiesu::services::auth::{account_key, FREE_FAILURES};
use jiesu_core::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// The app behind a trusted proxy at 127.0.0.1, so a test can speak from any address.
async fn proxied(
    b: Backend,
    configure: impl FnOnce(&mut jiesu::config::Config),
) -> Option<TestApp> {
    TestApp::spawn_configured(b, |c| {
        c.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
        configure(c);
    })
    .await
}

macro_rules! proxied_app {
    ($b:expr) => {
        proxied_app!($b, |_| {})
    };
    ($b:expr, $configure:expr) => {
        match proxied($b, $configure).await {
            Some(app) => app,
            None => return,
        }
    };
}

/// A login attempt from `source`: status, body and `Retry-After`.
async fn attempt(
    app: &TestApp,
    source: &str,
    user: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    attempt_at(&app.base, source, user, password).await
}

async fn attempt_at(
    base: &str,
    source: &str,
    user: &str,
    password: &str,
) -> (u16, Value, Option<String>) {
    let resp = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/token"))
        .header("x-forwarded-for", source)
        .json(&json!({ "username": user, "password": password }))
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, resp.json().await.unwrap_or(Value::Null), retry)
}

/// Many login attempts at once (each its own task): the answers in the order given.
async fn at_once(
    app: &TestApp,
    tries: Vec<(String, String, String)>,
) -> Vec<(u16, Value, Option<String>)> {
    let tasks: Vec<_> = tries
        .into_iter()
        .map(|(source, user, pw)| {
            let base = app.base.clone();
            tokio::spawn(async move { attempt_at(&base, &source, &user, &pw).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

async fn failures(app: &TestApp, key: &str) -> i64 {
    sqlx::query_scalar("SELECT failures FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(app.state.store.reader())
        .await
        .unwrap()
        .unwrap_or(0)
}

pub async fn parallel_wrong_passwords_are_counted_atomically_and_lock_out_only_their_source(
    b: Backend,
) {
    let app = proxied_app!(b);
    app.user("victim", Role::Operator, None).await;
    let attacker = "198.51.100.7";
    // 39 wrong passwords and the right one, all at once, from one source.
    let tries = (0..40)
        .map(|i| {
            let pw = if i == 20 {
                "password1"
            } else {
                "wrong-password"
            };
            (attacker.to_string(), "victim".to_string(), pw.to_string())
        })
        .collect();
    let answers = at_once(&app, tries).await;
    let count = |s: u16| answers.iter().filter(|a| a.0 == s).count() as i64;
    let (ok, bad, held) = (count(200), count(401), count(429));
    assert_eq!(ok + bad + held, 40, "{answers:?}");
    // No more guesses are judged than the allowance: the count is never read stale.
    assert!(bad <= FREE_FAILURES, "{bad} wrong passwords were judged");
    assert!(ok <= 1 && held >= 40 - FREE_FAILURES - 1, "{ok} / {held}");
    assert!(answers
        .iter()
        .filter(|a| a.0 == 429)
        .all(|a| a.2.as_deref() == Some("1") && a.1["error"]["code"] == "too_many_attempts"));
    // Every judged failure is counted, once, per source and per account.
    let acct = account_key("victim");
    let source_key = format!("s:{acct}:{attacker}");
    assert_eq!(failures(&app, &source_key).await, bad);
    assert_eq!(failures(&app, &format!("a:{acct}")).await, bad);
    // The lockout engages exactly at the allowance: the source gets its remaining
    // failures, then waits, even with the right password.
    for _ in bad..FREE_FAILURES {
        assert_eq!(attempt(&app, attacker, "victim", "nope-nope").await.0, 401);
    }
    let (status, _, retry) = attempt(&app, attacker, "victim", "password1").await;
    assert_eq!((status, retry.as_deref()), (429, Some("1")));
    // The owner elsewhere is not held back by the attacker's failures.
    assert_eq!(
        attempt(&app, "203.0.113.9", "victim", "password1").await.0,
        200
    );
    // The wait doubles for the attacker's source.
    app.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(attempt(&app, attacker, "victim", "nope-nope").await.0, 401);
    let (status, _, retry) = attempt(&app, attacker, "victim", "password1").await;
    assert_eq!((status, retry.as_deref()), (429, Some("2")));
}

pub async fn unknown_wrong_and_disabled_logins_get_the_same_answers_and_admin_stays_reachable(
    b: Backend,
) {
    let app = proxied_app!(b);
    app.user("known", Role::Operator, None).await;
    app.user("gone", Role::Operator, None).await;
    expect(
        app.post("/api/v1/users/gone/disable", Some(&app.admin), json!({}))
            .await,
        200,
    );
    // The same sequence, each from its own source: a wrong password, an unknown name, a
    // disabled user with the right password.
    let mut seen = Vec::new();
    for (source, user, pw) in [
        ("192.0.2.1", "known", "wrong-password"),
        ("192.0.2.2", "nobody", "password1"),
        ("192.0.2.3", "gone", "password1"),
    ] {
        let mut answers = Vec::new();
        for _ in 0..FREE_FAILURES + 2 {
            let (status, body, retry) = attempt(&app, source, user, pw).await;
            answers.push((status, body.to_string(), retry));
        }
        seen.push(answers);
    }
    assert_eq!(
        seen[0], seen[1],
        "an unknown name answers like a wrong password"
    );
    assert_eq!(
        seen[0], seen[2],
        "a disabled user answers like a wrong password"
    );
    assert_eq!(seen[0][0].0, 401);
    assert_eq!(seen[0][FREE_FAILURES as usize].0, 429);

    // `admin` cannot be kept out by someone elsewhere, however often they try.
    for _ in 0..FREE_FAILURES + 5 {
        attempt(&app, "198.51.100.66", "admin", "guess-guess").await;
    }
    assert_eq!(
        attempt(&app, "198.51.100.66", "admin", "adminpass1")
            .await
            .0,
        429
    );
    assert_eq!(
        attempt(&app, "192.0.2.50", "admin", "adminpass1").await.0,
        200
    );

    // Past the ceiling of failures on one account from everywhere (set here directly: it
    // takes fifty argon2 checks otherwise), each source has one free failure, not five; a
    // source with none still gets in with the right password.
    let acct = account_key("known");
    app.exec(&format!(
        "UPDATE login_throttle SET failures = {} WHERE key = 'a:{acct}'",
        jiesu::services::auth::ACCOUNT_CEILING
    ))
    .await;
    assert_eq!(
        attempt(&app, "192.0.2.60", "known", "wrong-again").await.0,
        401
    );
    assert_eq!(
        attempt(&app, "192.0.2.60", "known", "password1").await.0,
        429
    );
    assert_eq!(
        attempt(&app, "192.0.2.61", "known", "password1").await.0,
        200
    );
}

pub async fn a_flood_of_logins_waits_for_a_few_password_checks_or_is_turned_away(b: Backend) {
    let app = proxied_app!(b, |c| {
        c.login_hashers = 1;
        c.login_queue = 2;
    });
    // Unknown names, each its own throttle key: only the hashing bound holds them.
    let tries = (0..48)
        .map(|i| {
            (
                "198.51.100.9".to_string(),
                format!("ghost{i}"),
                "password1".to_string(),
            )
        })
        .collect();
    let answers = at_once(&app, tries).await;
    let busy: Vec<_> = answers.iter().filter(|a| a.0 == 503).collect();
    assert!(
        answers.iter().all(|a| a.0 == 401 || a.0 == 503),
        "{answers:?}"
    );
    assert!(
        !busy.is_empty(),
        "48 logins at once against one checker and a queue of 2"
    );
    assert!(busy
        .iter()
        .all(|a| a.2.as_deref() == Some("1") && a.1["error"]["code"] == "busy"));
    assert_eq!(
        app.state.logins.peak(),
        1,
        "never more password checks at once than allowed"
    );
    // A login turned away does not count against the name.
    let turned_away = answers.iter().position(|a| a.0 == 503).unwrap();
    let key = format!(
        "s:{}:198.51.100.9",
        account_key(&format!("ghost{turned_away}"))
    );
    assert_eq!(failures(&app, &key).await, 0);
}

async fn events(app: &TestApp, action: &str) -> Vec<(String, String, Value)> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor_id, actor_role, payload FROM events WHERE action = $1 ORDER BY seq",
    )
    .bind(action)
    .fetch_all(app.state.store.reader())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(a, r, p)| (a, r, serde_json::from_str(&p).unwrap()))
        .collect()
}

pub async fn administrators_disable_enable_reset_and_revoke_and_each_is_an_event_with_its_actor(
    b: Backend,
) {
    let app = crate::helpers::app!(b);
    let me = expect(app.get("/api/v1/me", Some(&app.admin)).await, 200);
    let admin_id = me["user_id"].as_str().unwrap().to_string();
    let new = json!({ "username": "clerk", "role": "operator", "password": "password1" });
    let v = expect(app.post("/api/v1/users", Some(&app.admin), new).await, 201);
    assert_eq!(
        (v["username"].clone(), v["active"].clone()),
        (json!("clerk"), json!(true))
    );
    assert!(v.get("password_hash").is_none());
    let created = events(&app, "user.created").await;
    let last = created.last().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        (admin_id.as_str(), "admin")
    );

    // Only administrators.
    let clerk = app.login("clerk", "password1").await;
    expect(app.get("/api/v1/users", Some(&clerk)).await, 403);
    expect(
        app.post("/api/v1/users/admin/disable", Some(&clerk), json!({}))
            .await,
        403,
    );
    expect(
        app.post("/api/v1/users/nobody/disable", Some(&app.admin), json!({}))
            .await,
        404,
    );
    expect(
        app.post("/api/v1/users/admin/disable", Some(&app.admin), json!({}))
            .await,
        409,
    );

    // Disabling ends the sessions at once and refuses logins like a wrong password.
    let second = app.login("clerk", "password1").await;
    expect(app.get("/api/v1/me", Some(&clerk)).await, 200);
    let v = expect(
        app.post("/api/v1/users/clerk/disable", Some(&app.admin), json!({}))
            .await,
        200,
    );
    assert_eq!(v["active"], false);
    expect(app.get("/api/v1/me", Some(&clerk)).await, 401);
    expect(app.get("/api/v1/me", Some(&second)).await, 401);
    let login = json!({ "username": "clerk", "password": "password1" });
    let refused = expect(
        app.post("/api/v1/auth/token", None, login.clone()).await,
        401,
    );
    assert_eq!(refused["error"]["code"], "bad_credentials");
    let e = events(&app, "user.disabled").await;
    assert_eq!(
        (e[0].0.as_str(), &e[0].2["sessions_ended"]),
        (admin_id.as_str(), &json!(2))
    );

    expect(
        app.post("/api/v1/users/clerk/enable", Some(&app.admin), json!({}))
            .await,
        200,
    );
    let clerk = app.login("clerk", "password1").await;
    expect(
        app.post(
            "/api/v1/users/clerk/revoke-sessions",
            Some(&app.admin),
            json!({}),
        )
        .await,
        200,
    );
    expect(app.get("/api/v1/me", Some(&clerk)).await, 401);

    // A new password: the old one and the old sessions stop working.
    let clerk = app.login("clerk", "password1").await;
    let short = json!({ "password": "short" });
    let v = expect(
        app.post("/api/v1/users/clerk/password", Some(&app.admin), short)
            .await,
        422,
    );
    assert_eq!(v["error"]["fields"][0]["field"], "password");
    let pw = json!({ "password": "new-password-2" });
    expect(
        app.post("/api/v1/users/clerk/password", Some(&app.admin), pw)
            .await,
        200,
    );
    expect(app.get("/api/v1/me", Some(&clerk)).await, 401);
    expect(
        app.post("/api/v1/auth/token", None, login.clone()).await,
        401,
    );
    let clerk = app.login("clerk", "new-password-2").await;
    for action in [
        "user.enabled",
        "user.sessions_revoked",
        "user.password_reset",
    ] {
        let e = events(&app, action).await;
        assert_eq!(e.len(), 1, "{action}");
        assert_eq!(e[0].0, admin_id, "{action} names the administrator");
    }

    // The console: `jiesu user disable|enable|reset-password|revoke-sessions`.
    let out = app
        .cli()
        .args(["user", "disable", "clerk"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // This node learns of it from the database within the cache's 5 s; a session it has
    // not cached yet is refused at once.
    let fresh = {
        expect(
            app.post("/api/v1/users/clerk/enable", Some(&app.admin), json!({}))
                .await,
            200,
        );
        let t = app.login("clerk", "new-password-2").await;
        let out = app
            .cli()
            .args(["user", "revoke-sessions", "clerk"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        t
    };
    expect(app.get("/api/v1/me", Some(&fresh)).await, 401);
    let mut cmd = app.cli();
    cmd.args([
        "user",
        "reset-password",
        "clerk",
        "--password",
        "third-password",
    ]);
    assert!(cmd.output().unwrap().status.success());
    app.login("clerk", "third-password").await;
    let by_console = events(&app, "user.disabled").await;
    assert_eq!(
        (by_console[1].0.as_str(), by_console[1].1.as_str()),
        ("console", "console")
    );
    drop(clerk);
}

pub async fn sessions_end_when_idle_and_the_purge_deletes_expired_and_idle_ones(b: Backend) {
    let app = match TestApp::spawn_configured(b, |c| c.session_idle_minutes = 30).await {
        Some(app) => app,
        None => return,
    };
    let token = app.user("idler", Role::Operator, None).await;
    let busy = app.login("idler", "password1").await;
    for _ in 0..3 {
        // Used every 20 minutes: stays.
        app.clock.advance(chrono::Duration::minutes(20));
        expect(app.get("/api/v1/me", Some(&busy)).await, 200);
    }
    // Unused for 60 minutes: ended.
    expect(app.get("/api/v1/me", Some(&token)).await, 401);
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sessions")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap()
    };
    let before = count().await;
    let (sessions, _) = jiesu::services::auth::purge(&app.state).await.unwrap();
    // The idle one and the admin's (idle too) go; the busy one stays.
    assert_eq!(sessions, 2);
    assert_eq!(count().await, before - 2);
    expect(app.get("/api/v1/me", Some(&busy)).await, 200);
    // Expired sessions go too, and login counters quiet for an hour.
    attempt(&app, "x", "idler", "wrong-password").await;
    app.clock.advance(chrono::Duration::hours(13));
    let (sessions, counters) = jiesu::services::auth::purge(&app.state).await.unwrap();
    assert_eq!((sessions, counters), (1, 2));
    assert_eq!(count().await, 0);
}

/// `Set-Cookie` values of a response.
fn set_cookies(resp: &reqwest::Response) -> Vec<String> {
    resp.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

pub async fn cookie_api_writes_need_the_csrf_token_and_cookies_are_secure_over_https(b: Backend) {
    let app = proxied_app!(b);
    let s = staff(&app).await;
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
    let client = reqwest::Client::new();
    let url = format!("{}/api/v1/assignments/{order}/acknowledge", app.base);
    let cookie = format!("jiesu_session={}", s.wangjing);
    // A cross-site form: the cookie, a text/plain body, a foreign Origin.
    let forged = client
        .post(&url)
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let wrong = client
        .post(&url)
        .header("cookie", &cookie)
        .header(
            "x-csrf-token",
            jiesu::web::ui::csrf::token("another-session"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    // Reads with the cookie still work; the page's token makes the write go through.
    let me = client
        .get(format!("{}/api/v1/me", app.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let ok = client
        .post(&url)
        .header("cookie", &cookie)
        .header("x-csrf-token", jiesu::web::ui::csrf::token(&s.wangjing))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    // Bearer tokens need none.
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/extension"),
            Some(&s.wangjing),
            json!({ "hours": 48, "reason": "需协调施工单位" }),
        )
        .await,
        200,
    );
    // Logging out with the cookie is a write too.
    let logout = |csrf: Option<String>| {
        let mut req = client
            .delete(format!("{}/api/v1/auth/token", app.base))
            .header("cookie", &cookie);
        if let Some(t) = csrf {
            req = req.header("x-csrf-token", t);
        }
        req.send()
    };
    assert_eq!(logout(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    let with = Some(jiesu::web::ui::csrf::token(&s.wangjing));
    assert_eq!(logout(with).await.unwrap().status(), StatusCode::NO_CONTENT);

    // Over HTTPS (a trusted proxy says so): Secure and __Host- cookies, read back by name.
    let login = json!({ "username": "op1", "password": "password1" });
    let resp = client
        .post(format!("{}/api/v1/auth/token", app.base))
        .header("x-forwarded-proto", "https")
        .json(&login)
        .send()
        .await
        .unwrap();
    let set = set_cookies(&resp);
    assert!(
        set[0].starts_with("__Host-jiesu_session=") && set[0].contains("; Secure"),
        "{set:?}"
    );
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me = |proto: &'static str, name: &'static str| {
        client
            .get(format!("{}/api/v1/me", app.base))
            .header("x-forwarded-proto", proto)
            .header("cookie", format!("{name}={token}"))
            .send()
    };
    assert_eq!(
        me("https", "__Host-jiesu_session").await.unwrap().status(),
        200
    );
    assert_eq!(me("https", "jiesu_session").await.unwrap().status(), 401);
    // Without the proxy's word: plain names (an untrusted peer's word is not believed:
    // the unit tests in web/cookies.rs).
    let plain = client
        .post(format!("{}/api/v1/auth/token", app.base))
        .json(&login)
        .send()
        .await
        .unwrap();
    let set = set_cookies(&plain);
    assert!(
        set[0].starts_with("jiesu_session=") && !set[0].contains("Secure"),
        "{set:?}"
    );
    let page = client
        .get(format!("{}/ui/login", app.base))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    let set = set_cookies(&page);
    assert!(
        set.iter()
            .any(|c| c.starts_with("__Host-jiesu_csrf=") && c.contains("; Secure")),
        "{set:?}"
    );
}

pub async fn the_pre_login_csrf_secret_is_issued_by_the_server(b: Backend) {
    let app = crate::helpers::app!(b);
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    // A secret the client made up is replaced, not used.
    let page = client
        .get(format!("{}/ui/login", app.base))
        .header("cookie", "jiesu_csrf=attacker-chosen")
        .send()
        .await
        .unwrap();
    let set = set_cookies(&page);
    let issued = set
        .iter()
        .find_map(|c| c.strip_prefix("jiesu_csrf="))
        .and_then(|c| c.split(';').next())
        .expect("the server issues its own secret")
        .to_string();
    assert_ne!(issued, "attacker-chosen");
    assert!(issued.contains('.'), "signed: {issued}");
    let html = page.text().await.unwrap();
    assert!(!html.contains(&jiesu::web::ui::csrf::token("attacker-chosen")));
    // A login form forged with the made-up secret is refused; with the issued one it works.
    let post = |secret: String, token: String| {
        client
            .post(format!("{}/ui/login", app.base))
            .header("cookie", format!("jiesu_csrf={secret}"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([
                        ("_csrf", token.as_str()),
                        ("username", "admin"),
                        ("password", "adminpass1"),
                    ])
                    .finish(),
            )
            .send()
    };
    let forged = post(
        "attacker-chosen".into(),
        jiesu::web::ui::csrf::token("attacker-chosen"),
    );
    assert_eq!(forged.await.unwrap().status(), StatusCode::FORBIDDEN);
    let good = post(issued.clone(), jiesu::web::ui::csrf::token(&issued));
    assert_eq!(good.await.unwrap().status(), StatusCode::SEE_OTHER);
}
