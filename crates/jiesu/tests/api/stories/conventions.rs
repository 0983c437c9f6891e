//! The conventions people expect of a service: compressed answers, CSV files Excel opens
//! (UTF-8 BOM), request lists exported as CSV or xlsx with the list's filters and scoping,
//! and JSON errors that name the field's whole path.

use super::cast::{staff, WANGJING, YOUANMEN};
use crate::helpers::{app, complaint, expect, Backend, TestApp};
use serde_json::json;
use std::io::Read;

/// Records a complaint from `phone` and, with `unit`, dispatches it there as lead.
async fn seeded(app: &TestApp, op: &str, disp: &str, phone: &str, unit: Option<&str>) {
    let mut body = complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。");
    body["requester"]["phone"] = json!(phone);
    let v = expect(app.post("/api/v1/requests", Some(op), body).await, 201);
    if let Some(unit) = unit {
        let id = v["id"].as_str().unwrap();
        expect(
            app.post(
                &format!("/api/v1/requests/{id}/dispatch"),
                Some(disp),
                json!({ "assignments": [{ "unit_code": unit, "role": "lead" }] }),
            )
            .await,
            200,
        );
    }
}

/// GETs `path` with `token` (none when empty) and these extra headers: status, headers, raw
/// body.
async fn raw(
    app: &TestApp,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new().get(format!("{}{path}", app.base));
    if !token.is_empty() {
        req = req.bearer_auth(token);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// The data lines of a CSV export (after the header), checking its BOM.
fn csv_lines(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8(body.to_vec()).expect("UTF-8");
    let text = text
        .strip_prefix('\u{feff}')
        .expect("a CSV begins with a BOM");
    text.lines().skip(1).map(str::to_string).collect()
}

pub async fn answers_are_compressed_and_csv_exports_open_in_excel(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    seeded(
        &app,
        &s.operator,
        &s.dispatcher,
        "13812345678",
        Some(WANGJING),
    )
    .await;
    seeded(
        &app,
        &s.operator,
        &s.dispatcher,
        "13900001111",
        Some(YOUANMEN),
    )
    .await;

    // JSON and pages come gzip- or br-encoded when the client accepts it, plain otherwise.
    let gz = [("accept-encoding", "gzip")];
    let (status, h, body) = raw(&app, "/api/v1/requests", &s.dispatcher, &gz).await;
    assert_eq!(status, 200);
    assert_eq!(h["content-encoding"], "gzip");
    let list: serde_json::Value = serde_json::from_slice(&gunzip(&body)).unwrap();
    assert_eq!(list["total"], 2);
    let (_, h, body) = raw(&app, "/api/v1/requests", &s.dispatcher, &[]).await;
    assert!(h.get("content-encoding").is_none());
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&body).unwrap(),
        list
    );
    let (status, h, body) = raw(&app, "/ui/login", "", &gz).await;
    assert_eq!(status, 200);
    assert_eq!(h["content-encoding"], "gzip");
    assert!(String::from_utf8(gunzip(&body)).unwrap().contains("<form"));
    let (_, h, _) = raw(&app, "/ui/login", "", &[("accept-encoding", "br")]).await;
    assert_eq!(h["content-encoding"], "br");

    // Every CSV the server writes begins with a BOM, compressed or not.
    let (status, h, body) = raw(&app, "/api/v1/requests/export", &s.dispatcher, &gz).await;
    assert_eq!(status, 200);
    assert_eq!(h["content-encoding"], "gzip");
    assert_eq!(csv_lines(&gunzip(&body)).len(), 2);
    // xlsx is a zip already: sent as it is.
    let (status, h, body) = raw(
        &app,
        "/api/v1/requests/export?format=xlsx",
        &s.dispatcher,
        &gz,
    )
    .await;
    assert_eq!(status, 200);
    assert!(h.get("content-encoding").is_none());
    assert!(body.starts_with(b"PK"));
    let (status, _, body) = raw(
        &app,
        "/api/v1/kpi/ranking?month=2026-11&format=csv",
        &s.dispatcher,
        &[],
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.starts_with("\u{feff}code,name,".as_bytes()));
}

pub async fn request_lists_export_as_csv_and_xlsx_with_their_filters_and_scope(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    seeded(
        &app,
        &s.operator,
        &s.dispatcher,
        "13812345678",
        Some(WANGJING),
    )
    .await;
    seeded(
        &app,
        &s.operator,
        &s.dispatcher,
        "13900001111",
        Some(YOUANMEN),
    )
    .await;
    seeded(&app, &s.operator, &s.dispatcher, "13700002222", None).await;
    let export = |token: &str, query: &str| {
        let (token, path) = (token.to_string(), format!("/api/v1/requests/export{query}"));
        let app = &app;
        async move { raw(app, &path, &token, &[]).await }
    };

    // The center: every request, Chinese headers by default, the cap and the total said.
    let (status, h, body) = export(&s.dispatcher, "?format=csv").await;
    assert_eq!(status, 200);
    assert!(h["content-type"].to_str().unwrap().starts_with("text/csv"));
    assert_eq!(h["x-row-cap"], "10000");
    assert_eq!(h["x-total-count"], "3");
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(
        text.starts_with("\u{feff}诉求编号,受理时间,诉求类型"),
        "{text}"
    );
    assert_eq!(csv_lines(&body).len(), 3);
    // The list's filters: status and unit.
    let (_, h, body) = export(&s.dispatcher, "?status=dispatched").await;
    assert_eq!(h["x-total-count"], "2");
    assert_eq!(csv_lines(&body).len(), 2);
    let (_, _, body) = export(&s.dispatcher, &format!("?unit={WANGJING}")).await;
    let lines = csv_lines(&body);
    assert_eq!(lines.len(), 1);
    assert!(lines[0].contains(WANGJING) && lines[0].contains("138****5678"));

    // Phones are masked even for the role that sees them in full on screen.
    let (_, _, body) = export(&s.agent, "").await;
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.contains("138****5678") && text.contains("139****1111"),
        "{text}"
    );
    for phone in ["13812345678", "13900001111", "13700002222"] {
        assert!(!text.contains(phone), "{phone} in {text}");
    }

    // A unit exports only its own work, and not another unit's.
    let (_, h, body) = export(&s.wangjing, "?lang=en").await;
    assert_eq!(h["x-total-count"], "1");
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(
        text.starts_with("\u{feff}Number,Received at,Kind"),
        "{text}"
    );
    assert_eq!(csv_lines(&body).len(), 1);
    assert!(!text.contains("139****1111"));
    let (status, _, _) = export(&s.wangjing, &format!("?unit={YOUANMEN}")).await;
    assert_eq!(status, 403);

    // xlsx: the same rows in a workbook, with a note of the cap.
    let (status, h, body) = export(&s.dispatcher, "?format=xlsx&status=dispatched&lang=en").await;
    assert_eq!(status, 200);
    assert!(h["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    use calamine::Reader;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(body)).expect("a valid xlsx");
    assert_eq!(wb.sheet_names(), ["Requests", "Notes"]);
    let sheet = wb.worksheet_range("Requests").unwrap();
    assert_eq!(sheet.height(), 3, "a header and two rows");
    assert_eq!(sheet.get_value((0, 0)).unwrap().to_string(), "Number");
    assert_eq!(sheet.get_value((1, 4)).unwrap().to_string(), "Dispatched");
    let phones: Vec<String> = (1..3)
        .map(|r| sheet.get_value((r, 9)).unwrap().to_string())
        .collect();
    assert!(phones.iter().all(|p| p.contains("****")), "{phones:?}");
    let note = wb.worksheet_range("Notes").unwrap();
    assert!(note
        .get_value((0, 0))
        .unwrap()
        .to_string()
        .contains("10000"));

    // The dispatcher's and the units' pages link to it in their language, and the link
    // works with the page's session cookie.
    for (token, page) in [(&s.dispatcher, "/ui/dispatch"), (&s.wangjing, "/ui/unit")] {
        let cookie = format!("jiesu_session={token}");
        let (status, _, body) = raw(&app, page, "", &[("cookie", &cookie)]).await;
        let html = String::from_utf8(body).unwrap();
        assert_eq!(status, 200, "{page}");
        assert!(
            html.contains("/api/v1/requests/export?format=csv&amp;lang=zh")
                && html.contains("/api/v1/requests/export?format=xlsx&amp;lang=zh"),
            "{page}: {html}"
        );
        let link = "/api/v1/requests/export?format=csv&lang=zh";
        let (status, _, body) = raw(&app, link, "", &[("cookie", &cookie)]).await;
        assert_eq!(status, 200);
        assert!(!csv_lines(&body).is_empty());
    }

    // Bad parameters name themselves.
    let field = |v: serde_json::Value| v["error"]["fields"][0]["field"].clone();
    let v = expect(
        app.get("/api/v1/requests/export?format=pdf", Some(&s.dispatcher))
            .await,
        422,
    );
    assert_eq!(field(v), "format");
    let v = expect(
        app.get("/api/v1/requests/export?lang=fr", Some(&s.dispatcher))
            .await,
        422,
    );
    assert_eq!(field(v), "lang");
    let v = expect(
        app.get("/api/v1/requests/export?status=lost", Some(&s.dispatcher))
            .await,
        422,
    );
    assert_eq!(field(v), "status");
    expect(app.get("/api/v1/requests/export", None).await, 401);
}

pub async fn json_errors_name_the_fields_whole_path(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let field = |v: serde_json::Value| v["error"]["fields"][0]["field"].clone();
    let mut bad = complaint("x");
    bad["requester"]["age"] = json!(30);
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), bad).await,
        400,
    );
    assert_eq!(field(v), "requester.age");
    let mut bad = complaint("x");
    bad["requester"].as_object_mut().unwrap().remove("phone");
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), bad).await,
        400,
    );
    assert_eq!(field(v), "requester.phone");
    let v = expect(
        app.post("/api/v1/requests", Some(&s.operator), complaint("x"))
            .await,
        201,
    );
    let id = v["id"].as_str().unwrap();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "boss" }] }),
        )
        .await,
        400,
    );
    assert_eq!(field(v.clone()), "assignments[0].role");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("boss"),
        "{v}"
    );
}
