//! Places on a map (issue 20): a request's coordinates come in WGS-84, GCJ-02 or BD-09 and are
//! stored as WGS-84 within a metre; the embedded district boundaries put the point in its
//! district; bad coordinates are a 422 naming the field; the map endpoints give the city's
//! districts, per-district figures that match the district ranking, and the located requests.

use super::cast::{actions, dispatched_complaint, staff, CHAOYANG, WANGJING, YOUANMEN};
use crate::helpers::{app, complaint, expect, Backend};
use jiesu::services::open311::keys;
use jiesu_core::geo::{distance_m, wgs84_to_bd09, wgs84_to_gcj02};
use jiesu_core::Role;
use serde_json::{json, Value};

const HAIDIAN: &str = "110108";

fn field(v: &Value) -> &str {
    v["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

pub async fn located_requests_are_stored_in_wgs84_placed_in_their_district_and_drawn_on_the_maps(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let post = |body: Value| app.post("/api/v1/requests", Some(&s.operator), body);
    let located = |text: &str, lat: f64, lon: f64, datum: &str| {
        let mut c = complaint(text);
        c["location"] = json!({ "lat": lat, "lon": lon, "coord_system": datum });
        c
    };

    // GPS truth: Wangjing (朝阳区), Zhongguancun (海淀区), the Bund (Shanghai: no boundary here).
    let wangjing = (39.99600, 116.47000);
    let zgc = (39.98410, 116.30750);
    let bund = (31.24000, 121.49000);
    let (b_lat, b_lon) = wgs84_to_bd09(wangjing.0, wangjing.1);
    let (g_lat, g_lon) = wgs84_to_gcj02(zgc.0, zgc.1);
    let r1 = expect(
        post(located("望京西园路灯不亮。", b_lat, b_lon, "bd09")).await,
        201,
    );
    let r2 = expect(
        post(located("中关村大街井盖缺失。", g_lat, g_lon, "GCJ-02")).await,
        201,
    );
    let r3 = expect(
        post(located("外滩附近噪音。", bund.0, bund.1, "wgs84")).await,
        201,
    );
    let plain = expect(post(complaint("没有坐标的诉求。")).await, 201);

    // Bad coordinates are refused before anything is written, naming the field.
    for (body, name) in [
        (located("纬度越界。", 95.0, 116.4, "wgs84"), "location.lat"),
        (located("经度越界。", 39.9, 216.4, "wgs84"), "location.lon"),
        (
            located("未知坐标系。", 39.9, 116.4, "mercator"),
            "location.coord_system",
        ),
    ] {
        let (status, v) = post(body).await;
        assert_eq!(status, 422, "{v}");
        assert_eq!(field(&v), name, "{v}");
    }
    let (status, v) = post(
        json!({ "kind": "complaint", "text": "x", "requester": { "phone": "13812345678" },
        "location": { "lat": "north", "lon": 116.4 } }),
    )
    .await;
    assert_eq!(
        status, 400,
        "not a number is a 400 naming the field, never a 500: {v}"
    );
    assert_eq!(field(&v), "location.lat", "{v}");

    // Every located request has its `request.located` event; the plain one has none.
    for r in [&r1, &r2, &r3] {
        let id = r["id"].as_str().unwrap();
        let (_, view) = app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await;
        assert!(
            actions(&view).contains(&"request.located".to_string()),
            "{view}"
        );
    }
    let (_, view) = app
        .get(
            &format!("/api/v1/requests/{}", plain["id"].as_str().unwrap()),
            Some(&sup),
        )
        .await;
    assert!(!actions(&view).contains(&"request.located".to_string()));

    // The points: WGS-84 within a metre of the truth, each in its district (none in Shanghai).
    let (status, pts) = app
        .get("/api/v1/maps/points?month=2026-11", Some(&sup))
        .await;
    assert_eq!(status, 200, "{pts}");
    let pts = pts.as_array().unwrap().clone();
    assert_eq!(pts.len(), 3, "only located requests: {pts:?}");
    for (r, truth, district) in [
        (&r1, wangjing, Some(CHAOYANG)),
        (&r2, zgc, Some(HAIDIAN)),
        (&r3, bund, None),
    ] {
        let p = pts.iter().find(|p| p["id"] == r["id"]).expect("drawn");
        let at = (p["lat"].as_f64().unwrap(), p["lon"].as_f64().unwrap());
        let d = distance_m(at, truth);
        assert!(d < 1.0, "{} is {d} m from the GPS point", r["number"]);
        assert_eq!(p["district_code"].as_str(), district, "{p}");
    }
    let (status, _) = app
        .get("/api/v1/maps/points?month=2026-11", Some(&s.wangjing))
        .await;
    assert_eq!(status, 403, "a unit does not see the city's points");
    let (status, v) = app
        .get("/api/v1/maps/points?month=November", Some(&sup))
        .await;
    assert_eq!(status, 422, "{v}");

    // The districts: Beijing's 16, in WGS-84, each with its unit's code.
    let (status, geo) = app.get("/api/v1/maps/districts", Some(&sup)).await;
    assert_eq!(status, 200);
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 16);
    let chaoyang = features
        .iter()
        .find(|f| f["properties"]["name"] == "朝阳区")
        .expect("朝阳区 is drawn");
    assert_eq!(chaoyang["properties"]["code"], CHAOYANG);
    let first = &chaoyang["geometry"]["coordinates"][0][0][0];
    assert!(
        (115.4..117.6).contains(&first[0].as_f64().unwrap()),
        "{first}"
    );

    // Dispatched to 望京, the request counts for 朝阳区; the map's figures are the ranking's.
    let id = r1["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let (status, figures) = app
        .get("/api/v1/maps/figures?month=2026-11", Some(&sup))
        .await;
    assert_eq!(status, 200, "{figures}");
    let (_, ranking) = app
        .get(
            "/api/v1/kpi/ranking?month=2026-11&level=district",
            Some(&sup),
        )
        .await;
    let figures = figures.as_array().unwrap();
    let units = ranking["units"].as_array().unwrap();
    assert_eq!(figures.len(), units.len());
    for u in units {
        let f = figures
            .iter()
            .find(|f| f["code"] == u["code"])
            .expect("every district");
        for k in [
            "volume",
            "response_rate",
            "resolution_rate",
            "satisfaction_rate",
        ] {
            assert_eq!(f[k], u[k], "{k} of {}", u["name"]);
        }
        assert_eq!(f["on_map"], true, "{} is drawn", u["name"]);
    }
    let cy = |figures: &[Value]| {
        figures
            .iter()
            .find(|f| f["code"] == CHAOYANG)
            .unwrap()
            .clone()
    };
    assert_eq!(cy(figures)["volume"], 1);
    assert_eq!(cy(figures)["overdue"], 0);

    // A month later the order is overdue: the map counts it for 朝阳区 and nowhere else.
    app.clock.advance(chrono::Duration::days(30));
    let sup = app.user("sup2", Role::Supervisor, None).await; // the first session has expired
    let (status, figures) = app
        .get("/api/v1/maps/figures?month=2026-11", Some(&sup))
        .await;
    assert_eq!(status, 200, "{figures}");
    let figures = figures.as_array().unwrap();
    assert_eq!(cy(figures)["overdue"], 1);
    let total: i64 = figures.iter().map(|f| f["overdue"].as_i64().unwrap()).sum();
    assert_eq!(total, 1);
}

pub async fn open311_coordinates_in_baidu_datum_are_stored_in_wgs84(b: Backend) {
    let app = app!(b);
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let (_, key) = keys::add(&app.state, "test", "街道随手拍").await.unwrap();
    let truth = (39.98410, 116.30750);
    let (b_lat, b_lon) = wgs84_to_bd09(truth.0, truth.1);
    let (lat, lon) = (b_lat.to_string(), b_lon.to_string());
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("api_key", key.as_str()),
            ("service_code", "cxjs.csgl.hw"),
            ("lat", &lat),
            ("long", &lon),
            ("datum", "bd09"),
            ("description", "中关村大街垃圾堆放三天无人清运"),
            ("phone", "13812345678"),
        ])
        .finish();
    let resp = reqwest::Client::new()
        .post(format!("{}/open311/v2/requests.json", app.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let (_, pts) = app
        .get("/api/v1/maps/points?month=2026-11", Some(&sup))
        .await;
    let p = &pts[0];
    let at = (p["lat"].as_f64().unwrap(), p["lon"].as_f64().unwrap());
    assert!(distance_m(at, truth) < 1.0, "{p}");
    assert_eq!(p["district_code"], HAIDIAN);
}

/// A page with HTML's escapes undone (the maps' JSON sits in an attribute).
fn unescape(body: &str) -> String {
    body.replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x2f;", "/")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// The ranking table of a dashboard page.
fn ranking_table(body: &str) -> &str {
    let from = body
        .find("data-testid=\"ranking\"")
        .expect("the ranking table");
    let to = from + body[from..].find("</table>").unwrap();
    &body[from..to]
}

pub async fn the_dashboard_opens_on_the_last_complete_month_filters_its_ranking_and_maps_districts(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    for (text, unit) in [
        ("望京西园路灯不亮。", WANGJING),
        ("右安门外大街井盖缺失。", YOUANMEN),
    ] {
        dispatched_complaint(&app, &s, text, unit).await;
    }
    let mut browser = crate::ui::Browser::with_session(&app, &sup);

    // On 2 November the dashboard opens on October, the last complete month.
    let page = browser.get("/ui/dashboard").await;
    assert_eq!(page.status, 200);
    assert!(page
        .body
        .contains("<input type=\"month\" name=\"month\" value=\"2026-10\">"));

    // November, streets: both units ranked; filtered by 朝阳区 only 望京.
    let page = browser
        .get("/ui/dashboard?month=2026-11&level=subdistrict")
        .await;
    let table = ranking_table(&page.body);
    assert!(
        table.contains("望京街道") && table.contains("右安门街道"),
        "{table}"
    );
    assert!(
        page.body.contains("1 / 1 · 2"),
        "the pager counts the rows shown"
    );
    let page = browser
        .get(&format!(
            "/ui/dashboard?month=2026-11&level=subdistrict&district={CHAOYANG}"
        ))
        .await;
    let table = ranking_table(&page.body);
    assert!(
        table.contains("望京街道") && !table.contains("右安门街道"),
        "{table}"
    );
    assert!(page.body.contains("1 / 1 · 1"));
    // A class no unit has this month leaves the table empty; a page past the end shows the last.
    let page = browser
        .get("/ui/dashboard?month=2026-11&level=subdistrict&class=nonesuch&page=9")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("1 / 1 · 0"));

    // The district map is there, with the month's figures and the click-through address.
    let page = browser.get("/ui/dashboard?month=2026-11").await;
    assert!(page.body.contains("data-testid=\"district-map\""));
    let body = unescape(&page.body);
    assert!(body.contains(r#""geo":"/api/v1/maps/districts""#), "{body}");
    assert!(body.contains(r#""href":"/ui/dashboard?month=2026-11&level=subdistrict&district=""#));
    assert!(body.contains(&format!(
        r#"{{"code":"{CHAOYANG}","name":"朝阳区","value":1.0}}"#
    )));
    // The governance page carries its map too.
    let page = browser.get("/ui/governance").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"governance-map\""));
}

/// The district a map point lies in decides the suggested place (issue 20: "resolve the unit
/// from the coordinates where a boundary is known, else from the address"): a text with no
/// place is placed in the point's district; a text naming another district gives way, the
/// disagreement noted and the text's reading kept as an alternative; a text naming a street
/// inside the point's district keeps its street; the dispatch form of a located request is
/// suggested from its point.
pub async fn a_map_point_decides_the_district_of_the_suggested_place(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let wangjing = (39.99600, 116.47000); // GPS truth, 朝阳区
    let (b_lat, b_lon) = wgs84_to_bd09(wangjing.0, wangjing.1);
    let suggest = |text: &str, location: Value| {
        app.post(
            "/api/v1/requests/suggest",
            Some(&s.operator),
            json!({ "text": text, "location": location }),
        )
    };
    let pin = json!({ "lat": b_lat, "lon": b_lon, "coord_system": "bd09" });

    let none = expect(suggest("路灯不亮，晚上很黑。", Value::Null).await, 200);
    assert_ne!(none["place"]["status"], "resolved", "{}", none["place"]);
    let v = expect(suggest("路灯不亮，晚上很黑。", pin.clone()).await, 200);
    assert_eq!(v["place"]["status"], "resolved", "{}", v["place"]);
    assert_eq!(v["place"]["district"]["code"], CHAOYANG, "{}", v["place"]);
    assert!(
        v["notes"].to_string().contains("地图坐标"),
        "{}",
        v["notes"]
    );

    let v = expect(
        suggest("海淀区中关村大街井盖缺失。", pin.clone()).await,
        200,
    );
    assert_eq!(v["place"]["district"]["code"], CHAOYANG, "{}", v["place"]);
    assert!(v["notes"].to_string().contains("不一致"), "{}", v["notes"]);
    assert!(
        v["place"]["alternatives"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["district"]["code"] == "110108"),
        "the text's reading stays as an alternative: {}",
        v["place"]
    );

    let v = expect(
        suggest("望京街道望京西园三区路灯不亮。", pin.clone()).await,
        200,
    );
    assert_eq!(v["place"]["street"]["code"], WANGJING, "{}", v["place"]);
    assert!(
        !v["notes"].to_string().contains("地图坐标"),
        "{}",
        v["notes"]
    );

    let (status, v) = suggest("路灯不亮。", json!({ "lat": 95.0, "lon": 116.4 })).await;
    assert_eq!(status, 422, "{v}");
    assert_eq!(field(&v), "location.lat", "{v}");

    // A request recorded with only a point: its dispatch form is suggested from the point.
    let mut c = complaint("路灯不亮，晚上很黑。");
    c["address"] = json!("");
    c["location"] = pin;
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), c).await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    let mut desk = crate::ui::Browser::with_session(&app, &s.dispatcher);
    let form = desk.get(&format!("/ui/dispatch/{id}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    let place = form
        .body
        .split("data-testid=\"dispatch-place\"")
        .nth(1)
        .unwrap_or_else(|| panic!("no place on the form: {}", form.body));
    assert!(
        place[..place.find("</p>").unwrap()].contains("朝阳区"),
        "{place}"
    );
    assert!(
        form.body.contains("地图坐标"),
        "the form says the point decided"
    );
}

/// The portal's map pin (issue 20): the page carries the pin map and 使用我的位置; the shapes
/// it draws are public (no login); a submission with the pin is placed in its district, the
/// request's page shows the point; half a pin is refused naming the field.
pub async fn the_portal_pins_a_place_and_the_request_page_shows_it(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let mut citizen = crate::ui::Browser::new(&app);
    let form = citizen.get("/ui/portal").await;
    assert_eq!(form.status, 200);
    assert!(form.body.contains("data-pin-map=\"/ui/portal/districts\""));
    assert!(form.body.contains("data-testid=\"locate\""));
    let shapes = citizen.get("/ui/portal/districts").await;
    assert_eq!(shapes.status, 200);
    let geo: Value = serde_json::from_str(&shapes.body).unwrap();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 16, "Beijing's 16 districts");
    assert!(features.iter().any(|f| f["properties"]["code"] == CHAOYANG));
    let token = crate::ui::csrf(&form.body);
    let fields = |lat: &'static str, lon: &'static str| {
        vec![
            ("_csrf", token.clone()),
            ("kind", "complaint".into()),
            ("phone", "13698765432".into()),
            ("text", "小区门口路灯不亮，晚上很黑".into()),
            ("address", "小区门口".into()),
            ("lat", lat.into()),
            ("lon", lon.into()),
            ("coord_system", "wgs84".into()),
        ]
    };
    let half = fields("39.996", "");
    let half: Vec<(&str, &str)> = half.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = citizen.post("/ui/portal", &half).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(refused.body.contains("location.lon"), "{}", refused.body);
    let pinned = fields("39.996000", "116.470000");
    let pinned: Vec<(&str, &str)> = pinned.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = citizen.post("/ui/portal", &pinned).await;
    assert_eq!(done.status, 201, "{}", done.body);
    let number = crate::ui::testid_text(&done.body, "portal-number");
    let r = expect(
        app.get(&format!("/api/v1/requests/{number}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(actions(&r).contains(&"request.located".to_string()), "{r}");
    let id = r["id"].as_str().unwrap();
    let mut desk = crate::ui::Browser::with_session(&app, &s.dispatcher);
    let page = desk.get(&format!("/ui/requests/{id}")).await;
    let point = crate::ui::testid_text(&page.body, "point");
    assert!(
        point.starts_with("39.99600, 116.47000") && point.contains("朝阳区"),
        "{point}"
    );
    // The portal's events are the requester's, not an operator's (it acts with that role).
    let by_portal = "<span class=\"muted\">诉求人（网上）</span>";
    assert!(
        page.body.matches(by_portal).count() >= 2,
        "created and located by the requester: {}",
        page.body
    );
    assert!(!page.body.contains("<span class=\"muted\">话务员</span>"));
}

/// The ranking pages 30 units at a time (issue 20: 349 streets made a 6,400-pixel page): 31
/// streets with a request this month are 30 on the first page, with a link to the second,
/// which holds the last one; the filter by district narrows the count.
pub async fn the_dashboard_ranking_pages_thirty_units_at_a_time(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let units = expect(
        app.get("/api/v1/units?level=subdistrict&limit=10000", Some(&sup))
            .await,
        200,
    );
    let streets: Vec<(String, String)> = units
        .as_array()
        .unwrap_or_else(|| panic!("{units}"))
        .iter()
        .map(|u| {
            (
                u["code"].as_str().unwrap().to_string(),
                u["name"].as_str().unwrap().to_string(),
            )
        })
        .take(31)
        .collect();
    assert_eq!(streets.len(), 31, "{units}");
    for (code, name) in &streets {
        dispatched_complaint(&app, &s, &format!("{name}路灯不亮。"), code).await;
    }
    let mut browser = crate::ui::Browser::with_session(&app, &sup);
    let rows = |body: &str| ranking_table(body).matches("<tr class=").count();
    let first = browser
        .get("/ui/dashboard?month=2026-11&level=subdistrict")
        .await;
    assert_eq!(first.status, 200);
    assert_eq!(rows(&first.body), 30, "{}", ranking_table(&first.body));
    assert!(first.body.contains("1 / 2 · 31"), "the pager");
    let next = first
        .body
        .split("data-testid=\"ranking-next\" href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("a link to the next page")
        .replace("&amp;", "&");
    let second = browser.get(&next).await;
    assert_eq!(rows(&second.body), 1, "{}", ranking_table(&second.body));
    assert!(second.body.contains("2 / 2 · 31"));
    assert!(!second.body.contains("data-testid=\"ranking-next\""));
    // The streets on the two pages are the 31, each once.
    let named = |body: &str| -> Vec<String> {
        streets
            .iter()
            .filter(|(_, name)| ranking_table(body).contains(&format!(">{name}<")))
            .map(|(code, _)| code.clone())
            .collect()
    };
    let (a, b2) = (named(&first.body), named(&second.body));
    assert_eq!(a.len() + b2.len(), 31, "{a:?} {b2:?}");
    assert!(a.iter().all(|c| !b2.contains(c)));
}
