//! Issue 18: categories are managed data. A category added at run time is suggested, takes a
//! request and is dispatched with its class's deadline without a restart (and another node
//! picks it up from the log); renamed, moved, deactivated (refused for new requests, old ones
//! keep it), reactivated and changed from an announced date; a renamed category's old month
//! keeps its old name; the shipped file never overwrites an administrator's edit; the CLI
//! exports and imports the table all or nothing.

use super::cast::{staff, suggest, WANGJING};
use crate::helpers::{complaint, expect, Backend, TestApp};
use chrono::{DateTime, Duration, Utc};
use jiesu::clock::Clock;
use jiesu_core::Role;
use serde_json::{json, Value};

const NEW: &str = "cxjs.csgl.hdg"; // 换电柜安全, added at run time
const SHIPPED: &str = "cxjs.csgl.hw"; // 环境卫生和垃圾分类

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

async fn count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = $1")
        .bind(action)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

fn filed_in(category: &str) -> Value {
    let mut body = complaint("小区门口的换电柜冒烟，担心起火，请尽快处理。");
    body["category_code"] = json!(category);
    body
}

async fn category(app: &TestApp, code: &str) -> Value {
    // Any logged-in user reads a category with its history.
    let token = app.login("admin2", "password1").await;
    expect(
        app.get(&format!("/api/v1/categories/{code}"), Some(&token))
            .await,
        200,
    )
}

pub async fn a_category_added_at_run_time_takes_requests_at_once_and_changes_with_versions(
    b: Backend,
) {
    let Some(mut app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let admin = app.user("admin2", Role::Admin, None).await;
    // Another node on the same database, started before the change.
    let other = jiesu::open_state(app.config.clone(), std::sync::Arc::new(app.clock.clone()))
        .await
        .expect("a second node");
    let add = json!({ "code": NEW, "name": "换电柜安全", "name_en": "Battery swap cabinets",
        "parent_code": "cxjs.csgl", "time_limit_class": "utilities", "keywords": "换电柜|换电柜冒烟" });

    // Only administrators; bad input names its field and changes nothing.
    expect(
        app.post("/api/v1/categories", Some(&s.operator), add.clone())
            .await,
        403,
    );
    let events = app.event_count().await;
    for (patch, named) in [
        (json!({ "code": "Bad Code" }), "code"),
        (json!({ "code": "cxjs" }), "code"),
        (json!({ "parent_code": SHIPPED }), "parent_code"),
        (json!({ "parent_code": "nope" }), "parent_code"),
        (json!({ "time_limit_class": "nope" }), "time_limit_class"),
        (json!({ "default_unit_code": "nope" }), "default_unit_code"),
        (json!({ "name": "" }), "name"),
    ] {
        let mut body = add.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        let e = expect(
            app.post("/api/v1/categories", Some(&admin), body).await,
            422,
        );
        assert_eq!(field(&e), named, "{e}");
    }
    assert_eq!(app.event_count().await, events);

    // Added: listed, suggested from its keywords, filed in and dispatched with its class's
    // deadline (utilities: 24 calendar hours), all without a restart.
    let c = expect(app.post("/api/v1/categories", Some(&admin), add).await, 201);
    assert_eq!(
        (c["level"].as_i64(), c["active"].as_bool()),
        (Some(3), Some(true))
    );
    let all = expect(app.get("/api/v1/categories", Some(&s.operator)).await, 200);
    assert!(all.as_array().unwrap().iter().any(|c| c["code"] == NEW));
    let v = suggest(&app, &s.operator, "小区门口的换电柜冒烟了").await;
    assert_eq!(v["categories"][0]["code"], NEW, "{v}");
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), filed_in(NEW))
            .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let d = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let reply_by: DateTime<Utc> =
        serde_json::from_value(d["assignments"][0]["reply_by"].clone()).unwrap();
    assert_eq!(reply_by - app.clock.now(), Duration::hours(24));

    // The other node knows it once it follows the log.
    assert_eq!(other.models.category_name(NEW), None);
    jiesu::services::categories::follow(&other).await.unwrap();
    assert_eq!(
        other.models.category_name(NEW).as_deref(),
        Some("换电柜安全")
    );

    // Renamed and moved under another level-2 category: versions, same code.
    let c = expect(
        app.patch(
            &format!("/api/v1/categories/{NEW}"),
            &admin,
            json!({ "name": "换电柜消防安全", "parent_code": "cxjs.wygl" }),
        )
        .await,
        200,
    );
    assert_eq!(
        (c["name"].as_str(), c["level"].as_i64()),
        (Some("换电柜消防安全"), Some(3))
    );
    let h = category(&app, NEW).await;
    let changes: Vec<&str> = h["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["change"].as_str().unwrap())
        .collect();
    assert_eq!(changes, ["added", "moved"]);
    for (body, named) in [
        (json!({ "parent_code": "cxjs" }), "parent_code"),
        (
            json!({ "name": "旧" , "valid_from": "2026-10-31T00:00:00Z" }),
            "valid_from",
        ),
        (json!({ "time_limit_class": "nope" }), "time_limit_class"),
    ] {
        let e = expect(
            app.patch(&format!("/api/v1/categories/{NEW}"), &admin, body)
                .await,
            422,
        );
        assert_eq!(field(&e), named, "{e}");
    }
    let e = expect(
        app.patch(
            "/api/v1/categories/cxjs.wygl",
            &admin,
            json!({ "active": false }),
        )
        .await,
        422,
    );
    assert_eq!(field(&e), "active", "{e}");
    expect(
        app.patch(
            &format!("/api/v1/categories/{NEW}"),
            &s.dispatcher,
            json!({ "name": "x" }),
        )
        .await,
        403,
    );

    // Deactivated: refused for new requests (422 naming the field), not suggested; the old
    // request keeps it. Reactivated: takes requests again.
    expect(
        app.patch(
            &format!("/api/v1/categories/{NEW}"),
            &admin,
            json!({ "active": false }),
        )
        .await,
        200,
    );
    let e = expect(
        app.post("/api/v1/requests", Some(&s.operator), filed_in(NEW))
            .await,
        422,
    );
    assert_eq!(field(&e), "category_code", "{e}");
    let v = suggest(&app, &s.operator, "小区门口的换电柜冒烟了").await;
    assert!(
        v["categories"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["code"] != NEW),
        "{v}"
    );
    let old = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(old["category_code"], NEW, "{old}");
    expect(
        app.patch(
            &format!("/api/v1/categories/{NEW}"),
            &admin,
            json!({ "active": true }),
        )
        .await,
        200,
    );
    expect(
        app.post("/api/v1/requests", Some(&s.operator), filed_in(NEW))
            .await,
        201,
    );

    // An announced rename waits for its date, then a sweep (any node) applies it.
    let from = app.clock.now() + Duration::days(2);
    let c = expect(
        app.patch(
            &format!("/api/v1/categories/{NEW}"),
            &admin,
            json!({ "name": "换电柜", "valid_from": from }),
        )
        .await,
        200,
    );
    assert_eq!(c["name"], "换电柜消防安全");
    let h = category(&app, NEW).await;
    let last = h["versions"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["applied"].as_bool(), last["category"]["name"].as_str()),
        (Some(false), Some("换电柜"))
    );
    assert_eq!(
        jiesu::services::categories::apply_due(&app.state)
            .await
            .unwrap(),
        0
    );
    app.clock.advance(Duration::days(3));
    let admin = app.login("admin2", "password1").await;
    jiesu::services::categories::follow(&other).await.unwrap();
    assert_eq!(category(&app, NEW).await["category"]["name"], "换电柜");
    assert_eq!(
        jiesu::services::categories::apply_due(&app.state)
            .await
            .unwrap(),
        0
    );
    jiesu::services::categories::follow(&app.state)
        .await
        .unwrap();
    assert_eq!(
        app.state.models.category_name(NEW).as_deref(),
        Some("换电柜")
    );
    assert_eq!(count(&app, "category.added").await, 1);
    assert_eq!(count(&app, "category.changed").await, 5);

    // An administrator's edit of a shipped category survives a newer shipped file.
    expect(
        app.patch(
            &format!("/api/v1/categories/{SHIPPED}"),
            &admin,
            json!({ "name": "环境卫生" }),
        )
        .await,
        200,
    );
    app.exec("DELETE FROM reference_versions WHERE name = 'categories'")
        .await;
    app.restart().await;
    let admin = app.login("admin2", "password1").await;
    let h = expect(
        app.get(&format!("/api/v1/categories/{SHIPPED}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(
        (
            h["category"]["name"].as_str(),
            h["category"]["source"].as_str()
        ),
        (Some("环境卫生"), Some("admin"))
    );
    let h = expect(
        app.get(&format!("/api/v1/categories/{NEW}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(h["category"]["name"], "换电柜");
}

pub async fn a_renamed_category_keeps_its_old_name_in_its_old_month(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    app.user("admin2", Role::Admin, None).await;
    let sup = jiesu_core::Actor {
        user_id: "sup".into(),
        username: "sup".into(),
        role: Role::Supervisor,
        unit: None,
    };
    expect(
        app.post("/api/v1/requests", Some(&s.operator), filed_in(SHIPPED))
            .await,
        201,
    );
    // December: renamed, and 办结审核 switched on (both versions from now on).
    app.clock.advance(Duration::days(30));
    let s = super::cast::relogin(&app).await;
    let admin = app.login("admin2", "password1").await;
    expect(
        app.patch(
            &format!("/api/v1/categories/{SHIPPED}"),
            &admin,
            json!({ "name": "环境卫生" }),
        )
        .await,
        200,
    );
    expect(
        app.put(
            &format!("/api/v1/categories/{SHIPPED}/reply-review"),
            &admin,
            json!({ "reply_review": true }),
        )
        .await,
        200,
    );
    expect(
        app.post("/api/v1/requests", Some(&s.operator), filed_in(SHIPPED))
            .await,
        201,
    );
    app.clock.advance(Duration::minutes(5));
    let day = |y, m| {
        app.state
            .config
            .local_midnight(chrono::NaiveDate::from_ymd_opt(y, m, 1).unwrap())
    };
    let name_in = |v: Vec<(Option<(String, String)>, i64)>| {
        v.into_iter()
            .find_map(|(c, _)| c.filter(|c| c.0 == SHIPPED).map(|c| c.1))
    };
    let (from, to) = (day(2026, 11), day(2026, 12));
    let nov = jiesu::services::supervision::volume_by_category(&app.state, &sup, from, to, 10)
        .await
        .unwrap();
    assert_eq!(name_in(nov).as_deref(), Some("环境卫生和垃圾分类"));
    let (from, to) = (day(2026, 12), day(2027, 1));
    let dec = jiesu::services::supervision::volume_by_category(&app.state, &sup, from, to, 10)
        .await
        .unwrap();
    assert_eq!(name_in(dec).as_deref(), Some("环境卫生"));
    // The switch is a version too: in force from December, not in November.
    let h = category(&app, SHIPPED).await;
    let v = h["versions"].as_array().unwrap();
    assert_eq!(v[0]["change"], "baseline");
    assert_eq!(v[0]["category"]["reply_review"], false);
    assert_eq!(v.last().unwrap()["category"]["reply_review"], true);
    let at_nov =
        jiesu::store::categories::at(app.state.store.reader(), SHIPPED, from - Duration::days(10))
            .await
            .unwrap()
            .unwrap();
    assert!(!at_nov.reply_review && at_nov.name == "环境卫生和垃圾分类");
    assert_eq!(count(&app, "category.reply_review").await, 1);
}

fn run(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = app.cli().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub async fn categories_export_and_import_as_csv_and_xlsx_all_or_nothing_with_named_bad_rows(
    b: Backend,
) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    app.user("admin2", Role::Admin, None).await;
    let dir = app.dir.path();
    let csv_out = dir.join("categories.csv");
    let (code, _, err) = run(
        &app,
        &["categories", "export", "--out", csv_out.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "code,name,name_en,parent_code,level,time_limit_class,default_unit_code,keywords,reply_review,active"
    );
    let at = |code: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(&format!("{code},")))
            .unwrap()
    };
    assert!(
        at("cxjs") < at("cxjs.csgl") && at("cxjs.csgl") < at(SHIPPED),
        "parents first"
    );
    let all = lines.len() - 1;

    // One changed, one added, one as it is: a dry run counts and keeps nothing.
    let renamed = lines[at(SHIPPED)].replacen("环境卫生和垃圾分类", "环境卫生", 1);
    let file = dir.join("changes.csv");
    std::fs::write(
        &file,
        format!(
            "{}\n{renamed}\n{NEW},换电柜安全,,cxjs.csgl,3,utilities,,换电柜,0,1\n{}\n",
            lines[0],
            lines[at("cxjs.csgl")]
        ),
    )
    .unwrap();
    let events = app.event_count().await;
    let (code, out, err) = run(
        &app,
        &["categories", "import", file.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        "1 would be added, 1 would be changed, 1 unchanged"
    );
    assert_eq!(app.event_count().await, events);
    let (code, out, err) = run(&app, &["categories", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "1 added, 1 changed, 1 unchanged");
    assert_eq!(app.event_count().await, events + 2);
    assert_eq!(
        category(&app, SHIPPED).await["category"]["name"],
        "环境卫生"
    );
    assert_eq!(
        category(&app, NEW).await["category"]["time_limit_class"],
        "utilities"
    );

    // The xlsx export reads back as it is.
    let xlsx = dir.join("categories.xlsx");
    let (code, _, err) = run(
        &app,
        &[
            "categories",
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(&app, &["categories", "import", xlsx.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        format!("0 added, 0 changed, {} unchanged", all + 1)
    );

    // A bad row exits 2 naming its row and column, and nothing of the file is kept.
    let events = app.event_count().await;
    for (row, named) in [
        (
            "cxjs.new1,新类,,cxjs.csgl,3,nope,,,0,1",
            "row 3, time_limit_class",
        ),
        (
            "cxjs.new1,新类,,cxjs.csgl,3,general,,,0,maybe",
            "row 3, active",
        ),
        (
            "cxjs.new1,新类,,cxjs.csgl.hw,3,general,,,0,1",
            "row 3, parent_code",
        ),
    ] {
        std::fs::write(
            &file,
            format!(
                "{}\n{NEW},换电柜安全2,,cxjs.csgl,3,utilities,,换电柜,0,1\n{row}\n",
                lines[0]
            ),
        )
        .unwrap();
        let (code, _, err) = run(&app, &["categories", "import", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    assert_eq!(app.event_count().await, events);
    assert_eq!(category(&app, NEW).await["category"]["name"], "换电柜安全");
}
