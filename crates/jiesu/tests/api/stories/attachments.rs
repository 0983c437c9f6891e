//! Issue 20, attachments: a requester's photo loses its GPS EXIF and gets a thumbnail; an
//! evidence category holds a reply until it has a photo; other units get 404 for the file;
//! a 200 MB upload is refused without being read and a renamed executable by its type; a
//! second node (a `jiesu serve` process) on the same PostgreSQL serves the same file, with
//! ranges; the folder backend names files by their hash.

use super::cast::*;
use crate::helpers::{app, complaint, expect, order_id, Backend, TestApp};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A JPEG as a phone writes it: an EXIF block with the camera (Make "Canon", Model) and a
/// GPS IFD (39.99°N 116.47°E, Wangjing), orientation 6.
pub fn phone_photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 90])
    });
    let mut plain = std::io::Cursor::new(Vec::new());
    img.write_to(&mut plain, image::ImageFormat::Jpeg).unwrap();
    let plain = plain.into_inner();
    // TIFF, big-endian: IFD0 at 8 with Make, Model, Orientation, GPSInfo; the GPS IFD after.
    let mut t: Vec<u8> = b"MM\0\x2a\0\0\0\x08".to_vec();
    let entry = |t: &mut Vec<u8>, tag: u16, typ: u16, count: u32, value: [u8; 4]| {
        t.extend_from_slice(&tag.to_be_bytes());
        t.extend_from_slice(&typ.to_be_bytes());
        t.extend_from_slice(&count.to_be_bytes());
        t.extend_from_slice(&value);
    };
    let ifd0_len = 2 + 4 * 12 + 4;
    let make_at = 8 + ifd0_len as u32; // "Canon\0" (6)
    let model_at = make_at + 6; // "EOS 5D\0\0" (8)
    let gps_at = model_at + 8;
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x010F, 2, 6, make_at.to_be_bytes());
    entry(&mut t, 0x0110, 2, 8, model_at.to_be_bytes());
    entry(&mut t, 0x0112, 3, 1, [0, 6, 0, 0]);
    entry(&mut t, 0x8825, 4, 1, gps_at.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(b"Canon\0EOS 5D\0\0");
    let rationals_at = gps_at + 2 + 4 * 12 + 4;
    t.extend_from_slice(&4u16.to_be_bytes());
    entry(&mut t, 0x0001, 2, 2, *b"N\0\0\0");
    entry(&mut t, 0x0002, 5, 3, rationals_at.to_be_bytes());
    entry(&mut t, 0x0003, 2, 2, *b"E\0\0\0");
    entry(&mut t, 0x0004, 5, 3, (rationals_at + 24).to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    for (n, d) in [
        (39, 1),
        (59, 1),
        (2400, 100),
        (116, 1),
        (28, 1),
        (1200, 100),
    ] {
        t.extend_from_slice(&(n as u32).to_be_bytes());
        t.extend_from_slice(&(d as u32).to_be_bytes());
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend_from_slice(&((2 + 6 + t.len()) as u16).to_be_bytes());
    app1.extend_from_slice(b"Exif\0\0");
    app1.extend_from_slice(&t);
    let mut out = plain[..2].to_vec();
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// POSTs raw bytes; the status and JSON answer.
async fn upload(url: &str, token: Option<&str>, bytes: Vec<u8>) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(url).body(bytes);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GETs a file: status, headers, bytes.
async fn fetch(
    url: &str,
    token: Option<&str>,
    range: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let r = req.send().await.unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, headers, r.bytes().await.unwrap().to_vec())
}

pub async fn a_photo_with_gps_uploaded_at_the_portal_is_stored_without_it_and_shown_as_a_thumbnail(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区门口垃圾堆放多日无人清理"),
        )
        .await,
        201,
    );
    let (id, number) = (r["id"].as_str().unwrap(), r["number"].as_str().unwrap());
    let code = r["query_code"].as_str().unwrap();
    let photo = phone_photo();
    assert!(contains(&photo, b"Canon") && contains(&photo, &[0x88, 0x25]));

    // A wrong query code is a missing request; the right one takes the photo.
    let base = format!("{}/api/v1/public/attachments", app.base);
    let wrong = upload(
        &format!("{base}?number={number}&code=AAAAAAAA&name=x.jpg"),
        None,
        photo.clone(),
    )
    .await;
    assert_eq!(wrong.0, 404, "{}", wrong.1);
    let name = "垃圾堆.jpg";
    let (st, a) = upload(
        &format!(
            "{base}?number={number}&code={code}&name={}",
            urlencode(name)
        ),
        None,
        photo.clone(),
    )
    .await;
    assert_eq!(st, 201, "{a}");
    assert_eq!(a["kind"], "photo");
    assert_eq!(a["content_type"], "image/jpeg");
    assert_eq!(a["uploaded_by"], "requester");
    assert_eq!(a["name"], name);
    let aid = a["id"].as_str().unwrap();

    // The center reads it stored without camera or place, the orientation kept.
    let (st, h, stored) = fetch(
        &format!("{}/api/v1/attachments/{aid}", app.base),
        Some(&s.operator),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(h["content-type"], "image/jpeg");
    assert_eq!(h["x-content-type-options"], "nosniff");
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(
        cd.starts_with("inline;")
            && cd.contains("filename*=UTF-8''%E5%9E%83%E5%9C%BE%E5%A0%86.jpg"),
        "{cd}"
    );
    assert!(
        !contains(&stored, b"Canon") && !contains(&stored, b"EOS 5D"),
        "camera gone"
    );
    let gps_latitude_seconds = [0, 0, 0x09, 0x60, 0, 0, 0, 0x64]; // 2400/100
    assert!(contains(&photo, &gps_latitude_seconds));
    assert!(
        !contains(&stored, &gps_latitude_seconds),
        "no GPS values left"
    );
    // One EXIF block is left: IFD0 with the orientation alone.
    let exif = stored
        .windows(6)
        .position(|w| w == b"Exif\0\0")
        .expect("the orientation's EXIF");
    assert_eq!(stored.windows(6).filter(|w| w == b"Exif\0\0").count(), 1);
    let ifd = &stored[exif + 6 + 8..];
    assert_eq!(
        (&ifd[..2], &ifd[2..4]),
        (&[0u8, 1][..], &[0x01u8, 0x12][..]),
        "one entry: Orientation"
    );
    assert!(stored.len() < photo.len());
    assert_eq!(a["sha256"].as_str().unwrap().len(), 64);
    let decoded = image::load_from_memory(&stored).expect("still a photo");
    assert_eq!((decoded.width(), decoded.height()), (64, 48));

    // The thumbnail is a JPEG, turned as the orientation says (portrait).
    let thumb_url = a["thumbnail_url"].as_str().expect("a thumbnail");
    let (st, h, thumb) = fetch(&format!("{}{thumb_url}", app.base), Some(&s.operator), None).await;
    assert_eq!(
        (st, h["content-type"].to_str().unwrap()),
        (200, "image/jpeg")
    );
    let t = image::load_from_memory(&thumb).unwrap();
    assert_eq!((t.width(), t.height()), (48, 64), "turned upright");

    // The request page shows it as a thumbnail; the requester sees it on the tracking API.
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
        page.contains(&format!("/api/v1/attachments/{aid}/thumbnail")),
        "thumbnail on the page"
    );
    let mine = expect(
        app.get(
            &format!("/api/v1/public/attachments?number={number}&code={code}"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
    let (st, _, public) = fetch(
        &format!(
            "{}/api/v1/public/attachments/{aid}?number={number}&code={code}",
            app.base
        ),
        None,
        None,
    )
    .await;
    assert_eq!((st, public == stored), (200, true));

    // The upload is an event on the request's timeline.
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.operator))
            .await,
        200,
    );
    assert!(actions(&v).contains(&"attachment.added".to_string()), "{v}");
}

/// A request's page (`views::page`: the request, its map point, its files and the orders
/// open for evidence) reads all of them in one snapshot. A photo uploaded after the
/// snapshot's first read is neither among the page's files nor on its timeline; the next page
/// shows both. Read one after another on the pool, as the page did before, the file showed
/// without its event.
pub async fn a_request_page_reads_its_files_in_the_snapshot_of_its_timeline(b: Backend) {
    use jiesu::services::views;
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    let center = jiesu_core::Actor {
        user_id: "supervisor".into(),
        username: "supervisor".into(),
        role: jiesu_core::Role::Supervisor,
        unit: None,
    };
    let added = |p: &views::RequestPage| {
        p.view
            .events
            .iter()
            .flatten()
            .filter(|e| e.action == "attachment.added")
            .count()
    };

    let mut snap = app.state.store.read_snapshot().await.unwrap();
    let before = views::page_in(&mut snap, &center, id).await.unwrap();
    assert_eq!((before.files.len(), added(&before)), (0, 0));
    let (st, a) = upload(
        &format!(
            "{}/api/v1/requests/{id}/attachments?name=site.jpg",
            app.base
        ),
        Some(&s.operator),
        phone_photo(),
    )
    .await;
    assert_eq!(st, 201, "{a}");
    let during = views::page_in(&mut snap, &center, id).await.unwrap();
    assert_eq!(
        (during.files.len(), added(&during)),
        (0, 0),
        "the snapshot saw the upload"
    );
    snap.rollback().await.unwrap();

    let after = views::page(&app.state, &center, id).await.unwrap();
    assert_eq!((after.files.len(), added(&after)), (1, 1));
    assert_eq!(after.files[0].id, a["id"].as_str().unwrap());
    // The staff page shows the file too.
    let page = crate::ui::Browser::with_session(&app, &s.operator)
        .get(&format!("/ui/requests/{id}"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("site.jpg"), "{}", page.body);
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub async fn a_reply_in_an_evidence_category_needs_a_photo_and_other_units_get_404_for_it(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let admin = app.admin.clone();
    let cats = expect(
        app.get("/api/v1/categories", Some(&s.dispatcher)).await,
        200,
    );
    let list = cats
        .as_array()
        .or_else(|| cats["categories"].as_array())
        .unwrap();
    let cat = list.iter().find(|c| c["level"] == 3).unwrap()["code"]
        .as_str()
        .unwrap()
        .to_string();

    // Only the admin sets the rule; an unknown category is 404.
    let rule = json!({ "reply_requires_photo": true });
    assert_eq!(
        app.put(
            &format!("/api/v1/categories/{cat}/evidence"),
            &s.dispatcher,
            rule.clone()
        )
        .await
        .0,
        403
    );
    assert_eq!(
        app.put("/api/v1/categories/nope/evidence", &admin, rule.clone())
            .await
            .0,
        404
    );
    expect(
        app.put(&format!("/api/v1/categories/{cat}/evidence"), &admin, rule)
            .await,
        200,
    );
    let rules = expect(
        app.get("/api/v1/evidence-rules", Some(&s.dispatcher)).await,
        200,
    );
    assert_eq!(rules["reply_requires_photo"], json!([cat.clone()]));

    let mut body = complaint("望京西园三区路面塌陷一个大坑");
    body["category_code"] = json!(cat);
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
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
    act(&app, &s.wangjing, &order, "acknowledge", json!({})).await;

    // Without a photo the reply is refused, naming the field; a PDF is no photo.
    let refused = app
        .post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            reply_body("已填平"),
        )
        .await;
    assert_eq!(refused.0.as_u16(), 422, "{}", refused.1);
    assert_eq!(
        refused.1["error"]["fields"][0]["field"], "attachments",
        "{}",
        refused.1
    );
    let url = format!("{}/api/v1/assignments/{order}/attachments", app.base);
    let (st, pdf) = upload(
        &format!("{url}?name=report.pdf"),
        Some(&s.wangjing),
        b"%PDF-1.4\n%%EOF\n".to_vec(),
    )
    .await;
    assert_eq!(st, 201, "{pdf}");
    assert_eq!(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&s.wangjing),
            reply_body("已填平")
        )
        .await
        .0
        .as_u16(),
        422
    );

    // Another unit cannot attach to the order, nor fetch the file: both 404.
    let (st, _) = upload(
        &format!("{url}?name=x.jpg"),
        Some(&s.youanmen),
        phone_photo(),
    )
    .await;
    assert_eq!(st, 404);
    let (st, photo) = upload(
        &format!("{url}?name=after.jpg&public=true"),
        Some(&s.wangjing),
        phone_photo(),
    )
    .await;
    assert_eq!(st, 201, "{photo}");
    let pid = photo["id"].as_str().unwrap();
    let file = format!("{}/api/v1/attachments/{pid}", app.base);
    assert_eq!(
        fetch(&file, Some(&s.youanmen), None).await.0,
        404,
        "another unit"
    );
    assert_eq!(
        fetch(&format!("{file}/thumbnail"), Some(&s.youanmen), None)
            .await
            .0,
        404
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/requests/{id}/attachments"),
            Some(&s.youanmen)
        )
        .await
        .0
        .as_u16(),
        404
    );
    assert_eq!(
        fetch(&file, Some(&s.wangjing), None).await.0,
        200,
        "its own unit"
    );
    assert_eq!(
        fetch(&file, Some(&s.dispatcher), None).await.0,
        200,
        "the center"
    );
    assert_eq!(fetch(&file, None, None).await.0, 401);

    // With the photo the reply goes through; the public evidence is on the tracking list.
    act(&app, &s.wangjing, &order, "reply", reply_body("已填平")).await;
    let (number, code) = (
        r["number"].as_str().unwrap(),
        r["query_code"].as_str().unwrap(),
    );
    let public = expect(
        app.get(
            &format!("/api/v1/public/attachments?number={number}&code={code}"),
            None,
        )
        .await,
        200,
    );
    let names: Vec<&str> = public
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["after.jpg"], "the PDF was not marked public");
    let listed = expect(
        app.get(
            &format!("/api/v1/requests/{id}/attachments"),
            Some(&s.dispatcher),
        )
        .await,
        200,
    );
    assert_eq!(listed.as_array().unwrap().len(), 2);

    // Removing leaves an event; the file is then gone.
    let (st, _) = app
        .delete(
            &format!("/api/v1/attachments/{}", pdf["id"].as_str().unwrap()),
            &s.wangjing,
        )
        .await;
    assert_eq!(st.as_u16(), 204);
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(actions(&v).contains(&"attachment.removed".to_string()));
}

pub async fn a_200_mb_upload_is_refused_unread_and_a_renamed_executable_by_its_type(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    let url = format!("{}/api/v1/requests/{id}/attachments", app.base);

    // An ELF binary (this test's own) named as a photo: refused by its bytes.
    let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    let head = exe[..64 * 1024].to_vec();
    let (st, v) = upload(&format!("{url}?name=photo.jpg"), Some(&s.operator), head).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file");
    let mz = [b"MZ\x90\0".as_slice(), &[0u8; 60]].concat();
    assert_eq!(
        upload(&format!("{url}?name=a.pdf"), Some(&s.operator), mz)
            .await
            .0,
        422
    );

    // 200 MB of "video", sent as a stream without a length: the server stops reading at the
    // video limit (100 MB) and answers 413; the rest is never sent.
    const TOTAL: u64 = 200 * 1024 * 1024;
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let piece = bytes_of_video_piece();
    let body = futures_util::stream::iter(0..TOTAL / piece.len() as u64).map(move |i| {
        let p = if i == 0 {
            piece.clone()
        } else {
            vec![0u8; piece.len()]
        };
        counter.fetch_add(p.len() as u64, Ordering::Relaxed);
        Ok::<_, std::io::Error>(p)
    });
    let resp = reqwest::Client::new()
        .post(format!("{url}?name=big.mp4"))
        .bearer_auth(&s.operator)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    let read = sent.load(Ordering::Relaxed);
    match resp {
        Ok(r) => {
            assert_eq!(r.status().as_u16(), 413);
            let v: Value = r.json().await.unwrap();
            assert_eq!(v["error"]["fields"][0]["field"], "file", "{v}");
        }
        // the server may close before the client has read its answer
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert!(
        read < TOTAL - 64 * 1024 * 1024,
        "read {read} of {TOTAL} bytes"
    );

    // The same with an honest length is refused before one byte of it is read.
    let sent = Arc::new(AtomicU64::new(0));
    let counter = sent.clone();
    let body = futures_util::stream::iter(0..TOTAL / (1024 * 1024)).map(move |_| {
        counter.fetch_add(1024 * 1024, Ordering::Relaxed);
        Ok::<_, std::io::Error>(vec![0u8; 1024 * 1024])
    });
    let r = reqwest::Client::new()
        .post(format!("{url}?name=big.mp4"))
        .bearer_auth(&s.operator)
        .header("content-length", TOTAL.to_string())
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await;
    if let Ok(r) = r {
        assert_eq!(r.status().as_u16(), 413);
    }
    assert!(
        sent.load(Ordering::Relaxed) < 16 * 1024 * 1024,
        "read {}",
        sent.load(Ordering::Relaxed)
    );

    // Nothing was kept: no attachment, no temporary file.
    let listed = expect(
        app.get(
            &format!("/api/v1/requests/{id}/attachments"),
            Some(&s.operator),
        )
        .await,
        200,
    );
    assert_eq!(listed, json!([]));
    let tmp = app.dir.path().join("attachments-tmp");
    let left = std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "temporary files removed");
}

fn bytes_of_video_piece() -> Vec<u8> {
    let mut p = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    p.resize(1024 * 1024, 0);
    p
}

/// A second node: the real binary, `jiesu serve`, on the same database; its address.
fn second_node(
    app: &TestApp,
    dir: &std::path::Path,
    env: &[(&str, &str)],
) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut cmd = std::process::Command::new(crate::helpers::cli_bin());
    cmd.arg("serve")
        .env("JIESU_ADDR", "127.0.0.1:0")
        .env("JIESU_DATA_DIR", dir)
        .env("JIESU_LOG", "warn")
        .env("JIESU_SWEEP_SECONDS", "0")
        .env("JIESU_SEARCH_REFRESH_MS", "0")
        .env_remove("JIESU_METRICS_TOKEN")
        .env(
            "JIESU_DATABASE_URL",
            app.config.database_url.as_deref().unwrap(),
        )
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("jiesu serve starts");
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("http://") {
        line.clear();
        if out.read_line(&mut line).unwrap() == 0 {
            panic!("the second node stopped");
        }
    }
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap();
    let addr = addr.trim_end_matches('/').to_string();
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, format!("http://{addr}"))
}

pub async fn two_nodes_serve_the_same_attachment_with_ranges(b: Backend) {
    // SQLite: one node, the folder backend (files named by their hash, never their name).
    let folder = tempfile::tempdir().unwrap();
    let folder_path = folder.path().to_path_buf();
    let Some(app) = TestApp::spawn_configured(b, |c| {
        if b == Backend::Sqlite {
            c.attachments.dir = Some(folder_path);
        }
    })
    .await
    else {
        return;
    };
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    // A recording: a WAV of 700 KiB (three chunks).
    let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    wav.extend((0..700 * 1024).map(|i| (i % 251) as u8));
    let (st, a) = upload(
        &format!(
            "{}/api/v1/requests/{id}/attachments?name=..%2F..%2Fetc%2Fcall.wav",
            app.base
        ),
        Some(&s.operator),
        wav.clone(),
    )
    .await;
    assert_eq!(st, 201, "{a}");
    assert_eq!(
        (a["kind"].as_str(), a["name"].as_str()),
        (Some("audio"), Some("call.wav"))
    );
    let aid = a["id"].as_str().unwrap().to_string();
    // The same bytes again are kept once.
    let (_, again) = upload(
        &format!("{}/api/v1/requests/{id}/attachments?name=b.wav", app.base),
        Some(&s.operator),
        wav.clone(),
    )
    .await;
    assert_eq!(again["sha256"], a["sha256"]);

    let check = |base: String, token: String| {
        let (aid, wav) = (aid.clone(), wav.clone());
        async move {
            let url = format!("{base}/api/v1/attachments/{aid}");
            let (st, h, body) = fetch(&url, Some(&token), None).await;
            assert_eq!(
                (st, h["content-type"].to_str().unwrap()),
                (200, "audio/wav")
            );
            assert_eq!(h["accept-ranges"], "bytes");
            assert!(body == wav, "the whole file");
            let (st, h, part) = fetch(&url, Some(&token), Some("bytes=262000-262299")).await;
            assert_eq!(st, 206);
            assert_eq!(
                h["content-range"].to_str().unwrap(),
                format!("bytes 262000-262299/{}", wav.len())
            );
            assert!(part == wav[262000..262300], "a range across two chunks");
            let (st, _, tail) = fetch(&url, Some(&token), Some("bytes=-10")).await;
            assert_eq!((st, tail.as_slice()), (206, &wav[wav.len() - 10..]));
            let (st, h, _) = fetch(&url, Some(&token), Some("bytes=9999999-")).await;
            assert_eq!(st, 416);
            assert_eq!(
                h["content-range"].to_str().unwrap(),
                format!("bytes */{}", wav.len())
            );
        }
    };
    check(app.base.clone(), s.operator.clone()).await;

    match b {
        Backend::Sqlite => {
            let sha = a["sha256"].as_str().unwrap();
            let path = folder.path().join(&sha[..2]).join(sha);
            assert_eq!(std::fs::read(&path).unwrap(), wav, "named by its hash");
            let names: Vec<_> = walk(folder.path());
            assert!(names.iter().all(|n| !n.contains("call")), "{names:?}");
        }
        Backend::Postgres => {
            let dir = tempfile::tempdir().unwrap();
            let key = app.dir.path().join("audit.key");
            let key = key.to_str().unwrap();
            let (mut child, base) = second_node(
                &app,
                dir.path(),
                &[
                    ("JIESU_AUDIT_KEY_FILE", key),
                    ("JIESU_AUDIT_CHECKPOINT_SECONDS", "0"),
                ],
            );
            // The second node runs on the real clock: log in there (the test's sessions are
            // stamped by its manual clock).
            let login = reqwest::Client::new()
                .post(format!("{base}/api/v1/auth/token"))
                .json(&json!({ "username": "op1", "password": "password1" }))
                .send()
                .await
                .unwrap();
            let token: Value = login.json().await.unwrap();
            check(base, token["token"].as_str().expect("a token").to_string()).await;
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    out
}

pub async fn a_scan_command_refuses_a_file_and_leaves_an_event(b: Backend) {
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.attachments.scan_command = Some("! grep -q EICAR-STANDARD-ANTIVIRUS-TEST".into());
    })
    .await
    else {
        return;
    };
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap();
    let url = format!("{}/api/v1/requests/{id}/attachments?name=a.pdf", app.base);
    let bad = b"%PDF-1.4\nX5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*\n"
        .to_vec();
    let (st, v) = upload(&url, Some(&s.operator), bad).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file");
    let (st, v) = upload(&url, Some(&s.operator), b"%PDF-1.4\nclean\n".to_vec()).await;
    assert_eq!(st, 201, "{v}");
    let view = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.operator))
            .await,
        200,
    );
    let acts = actions(&view);
    assert!(
        acts.contains(&"attachment.refused".to_string())
            && acts.contains(&"attachment.added".to_string()),
        "{acts:?}"
    );
}

/// An iPhone-style HEIC of `w`×`h` pixels whose EXIF names a place (made with `heifer`'s
/// encoder: pure Rust, the same crate the server decodes with, so no tool is needed here).
fn heic_photo(w: u32, h: u32) -> Vec<u8> {
    let data = (0..h)
        .flat_map(|y| (0..w).flat_map(move |x| [x * 255 / w, y * 255 / h, 90, 255]))
        .map(|v| v as u16)
        .collect();
    let img = heifer::Image {
        width: w,
        height: h,
        bit_depth: 8,
        has_alpha: false,
        data,
    };
    let metadata = heifer::Metadata {
        exif: Some(b"MM\0\x2a\0\0\0\x08\0\0Apple iPhone 15 GPS 39.9042N 116.4074E".to_vec()),
        ..Default::default()
    };
    heifer::encode_with_metadata(&img, &metadata, &Default::default()).unwrap()
}

/// A phone's HEIC photo (issue 20: "HEIC where a crate decodes it") is taken at the portal:
/// stored as a JPEG of its pixels (browsers cannot show HEIC), without the EXIF that named
/// the place and the phone, named `.jpg`, with a thumbnail, the conversion on its event; a
/// HEIC cut short is a bad photo (422 naming `file`), and an AVIF is refused by its type.
pub async fn a_heic_photo_from_a_phone_is_kept_as_a_jpeg_without_its_place(b: Backend) {
    // The original kept for the center (JIESU_ATTACHMENTS_KEEP_ORIGINAL=1): the HEIC itself.
    let Some(app) = TestApp::spawn_configured(b, |c| c.attachments.keep_original = true).await
    else {
        return;
    };
    let s = staff(&app).await;
    let r = new_request(&app, &s).await;
    let (id, number) = (r["id"].as_str().unwrap(), r["number"].as_str().unwrap());
    let code = r["query_code"].as_str().unwrap();
    let photo = heic_photo(640, 480);
    assert!(contains(&photo, b"GPS 39.9042N") && &photo[4..12] == b"ftypheic");
    let url = |name: &str| {
        format!(
            "{}/api/v1/public/attachments?number={number}&code={code}&name={name}",
            app.base
        )
    };
    let (st, a) = upload(&url("IMG_0412.HEIC"), None, photo.clone()).await;
    assert_eq!(st, 201, "{a}");
    assert_eq!(
        (&a["kind"], &a["content_type"], &a["name"]),
        (
            &json!("photo"),
            &json!("image/jpeg"),
            &json!("IMG_0412.jpg")
        )
    );
    let aid = a["id"].as_str().unwrap();
    let (st, h, stored) = fetch(
        &format!("{}/api/v1/attachments/{aid}", app.base),
        Some(&s.operator),
        None,
    )
    .await;
    assert_eq!(
        (st, h["content-type"].to_str().unwrap()),
        (200, "image/jpeg")
    );
    assert!(!contains(&stored, b"GPS") && !contains(&stored, b"iPhone"));
    assert!(!contains(&stored, b"Exif"), "no EXIF block at all");
    let img = image::load_from_memory(&stored).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (640, 480));
    let p = img.get_pixel(600, 400).0;
    let want = [600 * 255 / 640, 400 * 255 / 480, 90];
    for (got, want) in p.iter().zip(want) {
        assert!(
            u32::from(*got).abs_diff(want) <= 24,
            "{p:?} against {want:?}"
        );
    }
    let (st, h, original) = fetch(
        &format!("{}/api/v1/attachments/{aid}/original", app.base),
        Some(&s.operator),
        None,
    )
    .await;
    assert_eq!(
        (st, h["content-type"].to_str().unwrap()),
        (200, "image/heic")
    );
    assert!(h["content-disposition"]
        .to_str()
        .unwrap()
        .contains("IMG_0412.heic"));
    assert!(original == photo, "the original as uploaded");
    let thumb = a["thumbnail_url"].as_str().expect("a thumbnail");
    let (st, _, t) = fetch(&format!("{}{thumb}", app.base), Some(&s.operator), None).await;
    assert_eq!(st, 200);
    let t = image::load_from_memory(&t).unwrap();
    assert_eq!((t.width(), t.height()), (320, 240));
    let converted: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE request_id = $1 AND action = 'attachment.added' \
         AND payload LIKE '%\"converted_from\":\"image/heic\"%'",
    )
    .bind(id)
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(converted, 1);

    // Cut short: a bad photo, nothing stored; an AVIF: not a type we take.
    let events = app.event_count().await;
    let whole = heic_photo(64, 48);
    let (st, v) = upload(
        &url("cut.heic"),
        None,
        whole[..whole.len() * 2 / 3].to_vec(),
    )
    .await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file");
    let mut avif = whole.clone();
    avif[8..12].copy_from_slice(b"avif");
    let (st, v) = upload(&url("a.avif"), None, avif).await;
    assert_eq!(st, 422, "{v}");
    assert_eq!(v["error"]["fields"][0]["field"], "file");
    assert_eq!(app.event_count().await, events);
    let mine = expect(
        app.get(
            &format!("/api/v1/public/attachments?number={number}&code={code}"),
            None,
        )
        .await,
        200,
    );
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");
}
