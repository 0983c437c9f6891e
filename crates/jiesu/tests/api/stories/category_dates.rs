//! Issue 18: a category added with a later `valid_from` is announced: kept inactive, refused
//! at intake (422 naming `category_code` and its day) until the sweep applies it on its day,
//! then it takes requests; a day before this month is refused naming `valid_from`. A dispatch
//! catalogue rule naming an inactive or unknown category is refused with 422 naming
//! `category_code`, in the API and in `jiesu catalogue import` (exit 2 naming row and column);
//! a category announced for later may have its rule ready.

use super::cast::{staff, CHAOYANG};
use crate::helpers::{app, complaint, expect, Backend, TestApp};
use chrono::Duration;
use jiesu_core::Role;
use serde_json::{json, Value};

const NEW: &str = "cxjs.csgl.dcd"; // 电动车充电桩, announced for 1 December
const SHIPPED: &str = "cxjs.csgl.hw"; // 环境卫生和垃圾分类, deactivated below

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

fn filed_in(category: &str) -> Value {
    let mut body = complaint("小区里的电动车充电桩坏了好几天，晚上没法充电。");
    body["category_code"] = json!(category);
    body
}

fn rule(category: &str) -> Value {
    json!({ "category_code": category, "area_code": CHAOYANG,
        "units": [{ "unit": "{street}", "role": "lead" }], "note": "朝阳区" })
}

fn run(app: &TestApp, args: &[&str]) -> (Option<i32>, String) {
    let out = app.cli().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

pub async fn a_category_dated_ahead_takes_requests_on_its_day_and_rules_need_an_active_category(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let add = json!({ "code": NEW, "name": "电动车充电桩", "parent_code": "cxjs.csgl",
        "time_limit_class": "general", "keywords": "充电桩",
        "valid_from": "2026-11-30T16:00:00Z" });

    // A day before this month is refused naming the field; nothing is kept.
    let events = app.event_count().await;
    let mut early = add.clone();
    early["valid_from"] = json!("2026-10-31T00:00:00Z");
    let e = expect(
        app.post("/api/v1/categories", Some(&admin), early).await,
        422,
    );
    assert_eq!(field(&e), "valid_from", "{e}");
    assert_eq!(app.event_count().await, events);

    // Announced: listed inactive, refused at intake naming the field and its day.
    let c = expect(app.post("/api/v1/categories", Some(&admin), add).await, 201);
    assert_eq!(c["active"], false, "{c}");
    let e = expect(
        app.post("/api/v1/requests", Some(&s.operator), filed_in(NEW))
            .await,
        422,
    );
    assert_eq!(field(&e), "category_code", "{e}");
    assert!(e.to_string().contains("2026-12-01"), "{e}");
    assert_eq!(
        jiesu::services::categories::apply_due(&app.state)
            .await
            .unwrap(),
        0
    );
    // Its dispatch rule may be ready for its day.
    expect(
        app.post("/api/v1/catalogue", Some(&sup), rule(NEW)).await,
        201,
    );

    // A rule naming an inactive or unknown category is refused naming the field.
    expect(
        app.patch(
            &format!("/api/v1/categories/{SHIPPED}"),
            &admin,
            json!({ "active": false }),
        )
        .await,
        200,
    );
    let events = app.event_count().await;
    for code in [SHIPPED, "nope"] {
        let e = expect(
            app.post("/api/v1/catalogue", Some(&sup), rule(code)).await,
            422,
        );
        assert_eq!(field(&e), "category_code", "{code}: {e}");
    }
    // … and in the console's import, by row and column, keeping nothing.
    let file = app.dir.path().join("rules.csv");
    std::fs::write(
        &file,
        format!(
            "id,category_code,area_code,units,note,active\n,{NEW},{CHAOYANG},{{street}}:lead,甲,1\n,{SHIPPED},{CHAOYANG},{{street}}:lead,乙,1\n"
        ),
    )
    .unwrap();
    let (code, err) = run(&app, &["catalogue", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("row 3, category_code"), "{err}");
    assert_eq!(app.event_count().await, events);

    // 2 December: the sweep applies it; it takes a request.
    app.clock.advance(Duration::days(30));
    assert_eq!(
        jiesu::services::categories::apply_due(&app.state)
            .await
            .unwrap(),
        1
    );
    let operator = app.login("op1", "password1").await;
    let r = expect(
        app.post("/api/v1/requests", Some(&operator), filed_in(NEW))
            .await,
        201,
    );
    assert_eq!(r["category_code"], NEW, "{r}");
    let admin = app.login("admin", "adminpass1").await;
    let c = expect(
        app.get(&format!("/api/v1/categories/{NEW}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(c["category"]["active"], true, "{c}");
}
