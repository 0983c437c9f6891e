//! Open311 GeoReport v2 (issue 17): clients create requests with a key through the same
//! intake as operators and read them back in JSON and XML; the public listing keeps
//! requesters private; bad input, bad keys, unknown services and floods get the standard's
//! error list with 400, 403, 404 and 429; GCJ-02 coordinates are stored as WGS-84.

use crate::helpers::{complaint, expect, Backend, TestApp};
use jiesu::services::open311::keys;
use serde_json::{json, Value};

const V2: &str = "/open311/v2";

/// An answer as a client sees it.
struct Got {
    status: u16,
    content_type: String,
    retry_after: Option<String>,
    body: String,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

async fn send(req: reqwest::RequestBuilder) -> Got {
    let resp = req.send().await.expect("sent");
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .map(|v| v.to_str().unwrap().to_string())
    };
    Got {
        status: resp.status().as_u16(),
        content_type: header("content-type").unwrap_or_default(),
        retry_after: header("retry-after"),
        body: resp.text().await.unwrap(),
    }
}

async fn get(app: &TestApp, path: &str) -> Got {
    send(reqwest::Client::new().get(format!("{}{V2}{path}", app.base))).await
}

async fn post(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Got {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    send(
        reqwest::Client::new()
            .post(format!("{}{V2}{path}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    )
    .await
}

/// A form, the status it gets and the argument its error names.
type Case<'a> = (Vec<(&'a str, &'a str)>, u16, &'a str);

/// A form: `base` then `extra`.
fn with<'a>(base: &[(&'a str, &'a str)], extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(extra).copied().collect()
}

/// The one error of an errors answer (JSON): (code, description).
fn error_of(g: &Got, status: u16) -> String {
    assert_eq!(g.status, status, "{}", g.body);
    assert_eq!(g.content_type, "application/json; charset=utf-8");
    let v = g.json();
    assert_eq!(v[0]["code"], json!(status), "{v}");
    v[0]["description"].as_str().unwrap().to_string()
}

/// A client with a key creates requests in both formats, reads them back, and the public
/// listing shows no requester's name, phone or email and no confidential request.
pub async fn open311_clients_create_and_read_requests_in_json_and_xml(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let (_, key) = keys::add(&app.state, "test", "街道随手拍").await.unwrap();

    let services = get(&app, "/services.json").await;
    assert_eq!(services.content_type, "application/json; charset=utf-8");
    let list = services.json();
    let hw = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "cxjs.csgl.hw")
        .expect("sanitation offered");
    assert_eq!(hw["service_name"], "环境卫生和垃圾分类");
    assert_eq!(hw["group"], "城乡建设");
    assert_eq!(hw["metadata"], true);
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .all(|s| !s["service_code"].as_str().unwrap().starts_with("qyfw")));
    let def = get(&app, "/services/cxjs.csgl.hw.xml").await;
    assert_eq!(def.content_type, "text/xml; charset=utf-8");
    assert!(def
        .body
        .starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_definition>"));
    assert!(def
        .body
        .contains("<code>kind</code><datatype>singlevaluelist</datatype>"));

    let made = post(
        &app,
        "/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "cxjs.csgl.hw"),
            ("lat", "39.9087"),
            ("long", "116.4177"),
            ("address_string", "东城区东华门街道东单路口"),
            ("description", "东单路口北侧垃圾堆放三天无人清运"),
            ("email", "li.lei@example.com"),
            ("phone", "13812345678"),
            ("first_name", "磊"),
            ("last_name", "李"),
            ("media_url", "https://example.com/p/1.jpg"),
            ("attribute[kind]", "report"),
        ],
    )
    .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let made = made.json();
    let number = made[0]["service_request_id"].as_str().unwrap().to_string();
    let token = made[0]["token"].as_str().unwrap().to_string();

    // Without a phone, the key in the query string, answered in XML.
    let xml = send(
        reqwest::Client::new()
            .post(format!("{}{V2}/requests.xml?api_key={key}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("service_code=cxjs.csgl.hw&address_string=%E4%B8%9C%E5%8D%95&description=%E5%9E%83%E5%9C%BE"),
    )
    .await;
    assert_eq!(xml.status, 200, "{}", xml.body);
    assert!(xml
        .body
        .contains("<service_requests><request><service_request_id>"));

    let one = get(&app, &format!("/requests/{number}.json")).await.json();
    let r = &one[0];
    assert_eq!(r["service_request_id"], number);
    assert_eq!(r["status"], "open");
    assert_eq!(r["service_code"], "cxjs.csgl.hw");
    assert_eq!(r["description"], "东单路口北侧垃圾堆放三天无人清运");
    assert_eq!(r["lat"], 39.9087);
    assert_eq!(r["long"], 116.4177);
    assert_eq!(r["media_url"], "https://example.com/p/1.jpg");
    assert!(r["requested_datetime"]
        .as_str()
        .unwrap()
        .ends_with("+08:00"));
    let one_xml = get(&app, &format!("/requests/{number}.xml")).await;
    assert!(
        one_xml.body.contains("<status>open</status>"),
        "{}",
        one_xml.body
    );
    let by_token = get(&app, &format!("/tokens/{token}.json")).await.json();
    assert_eq!(by_token[0]["service_request_id"], number);

    // Staff see an Open311 request recorded by intake, its client named, kind as sent.
    let staff = expect(
        app.get(&format!("/api/v1/requests/{number}"), Some(&app.admin))
            .await,
        200,
    );
    assert_eq!(staff["channel"], "open311");
    assert_eq!(staff["kind"], "report");
    let events = staff["events"].to_string();
    assert!(
        events.contains("open311.received") && events.contains("街道随手拍"),
        "{events}"
    );

    // A confidential request is not listed; a phone request shows its title, no requester.
    let secret = post(
        &app,
        "/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "cxjs.csgl.hw"),
            ("address_string", "东城区东单"),
            ("description", "保密的举报"),
            ("attribute[confidential]", "true"),
        ],
    )
    .await
    .json();
    let secret = secret[0]["service_request_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut phoned = complaint("望京西园三区垃圾没人收。王先生电话13900001111");
    phoned["category_code"] = json!("cxjs.csgl.hw");
    expect(
        app.post("/api/v1/requests", Some(&app.admin), phoned).await,
        201,
    );
    for format in ["json", "xml"] {
        let all = get(
            &app,
            &format!("/requests.{format}?service_code=cxjs.csgl.hw"),
        )
        .await;
        assert_eq!(all.status, 200, "{}", all.body);
        assert!(all.body.contains(&number));
        for private in [
            "13812345678",
            "li.lei@example.com",
            "李磊",
            "王女士",
            "13900001111",
            &secret,
        ] {
            assert!(
                !all.body.contains(private),
                "{format} listing shows {private}"
            );
        }
    }
    assert_eq!(
        get(&app, &format!("/requests/{secret}.json")).await.status,
        404
    );
    let closed = get(&app, "/requests.json?status=closed").await.json();
    assert_eq!(closed, json!([]));
    let both = get(
        &app,
        &format!("/requests.json?service_request_id={number},{secret}&extensions=true"),
    )
    .await
    .json();
    assert_eq!(both.as_array().unwrap().len(), 1);
    assert_eq!(both[0]["extended_attributes"]["channel"], "open311");

    // GCJ-02 input (a Chinese map's coordinates) is stored as WGS-84.
    let (g_lat, g_lon) = jiesu_core::geo::wgs84_to_gcj02(39.90872, 116.39748);
    let gcj = post(
        &app,
        "/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "cxjs.csgl.hw"),
            ("lat", &g_lat.to_string()),
            ("long", &g_lon.to_string()),
            ("datum", "gcj02"),
        ],
    )
    .await;
    assert_eq!(gcj.status, 200, "{}", gcj.body);
    let gcj = gcj.json();
    let gcj = get(
        &app,
        &format!(
            "/requests/{}.json",
            gcj[0]["service_request_id"].as_str().unwrap()
        ),
    )
    .await
    .json();
    assert!(
        (gcj[0]["lat"].as_f64().unwrap() - 39.90872).abs() < 1e-6,
        "{gcj}"
    );
    assert!(
        (gcj[0]["long"].as_f64().unwrap() - 116.39748).abs() < 1e-6,
        "{gcj}"
    );

    // Requests without a phone replay like any other: the audit trail verifies.
    let report = jiesu::services::audit::verify(app.state.store.reader(), &app.config)
        .await
        .unwrap();
    assert!(
        report.broken.is_none() && report.mismatches.is_empty(),
        "{:?}",
        report.mismatches
    );
}

/// Bad input is refused with 400 naming the argument, keys with 403, unknown services with
/// 404, other methods with 405, and a key over its rate with 429; another key still works.
pub async fn open311_refuses_bad_input_bad_keys_unknown_services_and_floods(backend: Backend) {
    let Some(app) = TestApp::spawn_configured(backend, |c| {
        c.rate_open311 = jiesu::config::RateLimit::parse("20/60").unwrap();
    })
    .await
    else {
        return;
    };
    let (id, key) = keys::add(&app.state, "test", "kiosk").await.unwrap();
    let (_, flood) = keys::add(&app.state, "test", "flood").await.unwrap();
    let (_, other) = keys::add(&app.state, "test", "app").await.unwrap();
    let ok = [("service_code", "cxjs.csgl.hw"), ("address_string", "东单")];

    assert!(error_of(&post(&app, "/requests.json", &ok).await, 403).contains("api_key"));
    let wrong = post(
        &app,
        "/requests.json",
        &with(&ok, &[("api_key", "not-a-key")]),
    )
    .await;
    error_of(&wrong, 403);
    let xml = post(&app, "/requests.xml", &ok).await;
    assert_eq!(xml.status, 403);
    assert!(
        xml.body.contains("<errors><error><code>403</code>"),
        "{}",
        xml.body
    );

    let k = [("api_key", key.as_str())];
    let cases: Vec<Case> = vec![
        (with(&k, &[]), 400, "service_code"),
        (
            with(
                &k,
                &[("service_code", "no.such.service"), ("address_string", "x")],
            ),
            404,
            "",
        ),
        (with(&k, &[("service_code", "cxjs.csgl.hw")]), 400, "lat"),
        (
            with(
                &k,
                &[
                    ("service_code", "cxjs.csgl.hw"),
                    ("lat", "91"),
                    ("long", "116"),
                ],
            ),
            400,
            "lat",
        ),
        (
            with(
                &k,
                &[
                    ("service_code", "cxjs.csgl.hw"),
                    ("address_string", "x"),
                    ("media_url", "not a uri"),
                ],
            ),
            400,
            "media_url",
        ),
        (
            with(
                &k,
                &[
                    ("service_code", "cxjs.csgl.hw"),
                    ("address_string", "x"),
                    ("jurisdiction_id", "a"),
                    ("jurisdiction_id", "b"),
                ],
            ),
            400,
            "jurisdiction_id",
        ),
        (
            with(
                &k,
                &[
                    ("service_code", "cxjs.csgl.hw"),
                    ("address_string", "x"),
                    ("attribute[kind]", "rant"),
                ],
            ),
            400,
            "attribute[kind]",
        ),
    ];
    for (f, status, field) in cases {
        let g = post(&app, "/requests.json", &f).await;
        let d = error_of(&g, status);
        assert!(d.contains(field), "{d}");
    }
    // Contact fields and links are checked by what they must be, and named as the client
    // named them; a link that is not a web link never reaches a page.
    for (name, value) in [
        ("media_url", "javascript:alert(1)"),
        ("media_url", "data:text/html,<b>x</b>"),
        ("email", "not-an-email"),
        ("email", "a@b"),
        ("phone", "call me"),
    ] {
        let f = with(
            &k,
            &[
                ("service_code", "cxjs.csgl.hw"),
                ("address_string", "x"),
                (name, value),
            ],
        );
        let d = error_of(&post(&app, "/requests.json", &f).await, 400);
        assert!(d.starts_with(&format!("{name}:")), "{name}={value}: {d}");
    }
    // Bytes that are not UTF-8 are refused naming their argument, not stored as U+FFFD.
    let raw = send(
        reqwest::Client::new()
            .post(format!("{}{V2}/requests.json?api_key={key}", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("service_code=cxjs.csgl.hw&address_string=x&description=%FF%FE"),
    )
    .await;
    assert!(
        error_of(&raw, 400).starts_with("description:"),
        "{}",
        raw.body
    );
    let long = "长".repeat(4001);
    let g = post(
        &app,
        "/requests.json",
        &[
            ("api_key", &key),
            ("service_code", "cxjs.csgl.hw"),
            ("address_string", "x"),
            ("description", &long),
        ],
    )
    .await;
    assert!(error_of(&g, 400).contains("description"));
    for (query, field) in [
        ("start_date=yesterday", "start_date"),
        ("status=opened", "status"),
        (
            "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
            "end_date",
        ),
        ("page_size=0", "page_size"),
    ] {
        assert!(
            error_of(&get(&app, &format!("/requests.json?{query}")).await, 400).contains(field)
        );
    }
    error_of(&get(&app, "/services/no.such.json").await, 404);
    error_of(&get(&app, "/requests/20990101-000001.json").await, 404);
    error_of(&get(&app, "/tokens/nothing.json").await, 404);
    let put = send(reqwest::Client::new().put(format!("{}{V2}/services.json", app.base))).await;
    assert_eq!(put.status, 405);

    // The flood: twenty a minute per key; other keys keep their own allowance.
    let mut refused = None;
    for _ in 0..21 {
        let g = post(&app, "/requests.json", &with(&ok, &[("api_key", &flood)])).await;
        if g.status == 429 {
            refused = Some(g);
            break;
        }
    }
    let refused = refused.expect("429 within 21 posts");
    assert!(refused.retry_after.is_some());
    error_of(&refused, 429);
    assert_eq!(
        post(&app, "/requests.json", &with(&ok, &[("api_key", &other)]))
            .await
            .status,
        200
    );

    keys::revoke(&app.state, "test", &id).await.unwrap();
    error_of(
        &post(&app, "/requests.json", &with(&ok, &[("api_key", &key)])).await,
        403,
    );
}

/// One connection stores a request without coordinates and then one with them: the
/// statement it prepared for the first must take the second's coordinates (sqlx's `Any`
/// driver types a missing `f64` as PostgreSQL `float4`, which once failed the second insert).
pub async fn open311_rows_with_and_without_coordinates_share_a_connection(b: Backend) {
    let app = crate::helpers::app!(b);
    let s = super::cast::staff(&app).await;
    let first = super::cast::new_request(&app, &s).await;
    let second = super::cast::new_request(&app, &s).await;
    let ids: Vec<String> = [&first, &second]
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let now = chrono::Utc::now();
    let row = |n: usize, lat: Option<f64>, lon: Option<f64>| jiesu::store::open311::Open311Row {
        id: format!("tok-{n}"),
        request_id: ids[n].clone(),
        key_id: "k1".into(),
        service_code: "cxjs.csgl.hw".into(),
        lat,
        lon,
        datum: "wgs84".into(),
        address_string: None,
        address_id: None,
        email: None,
        device_id: None,
        account_id: None,
        media_url: None,
        attributes: "{}".into(),
        created_at: now,
    };
    let mut tx = app.state.store.begin().await.unwrap();
    jiesu::store::open311::insert_key(&mut tx, "k1", "街道随手拍", "hash-k1", now)
        .await
        .unwrap();
    jiesu::store::open311::insert_request(&mut tx, &row(0, None, None))
        .await
        .unwrap();
    jiesu::store::open311::insert_request(
        &mut tx,
        &row(1, Some(39.908_722_1), Some(116.397_499_9)),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut got = jiesu::store::open311::of_requests(app.state.store.reader(), &ids)
        .await
        .unwrap();
    got.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!((got[0].lat, got[0].lon), (None, None));
    assert_eq!(
        (got[1].lat, got[1].lon),
        (Some(39.908_722_1), Some(116.397_499_9))
    );
}
