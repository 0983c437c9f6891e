//! A knowledge base a city can keep (issue 23): a 200,000-entry import from a file, review
//! and publication in bulk, a unit editing its own entry through the workflow, operators'
//! verdicts, and the list of entries to review. Answers are real replies (TipDM 2020 附件4
//! in ../shared); the story is skipped where they are absent.

use super::cast::{staff, WANGJING};
use crate::helpers::{app, expect, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const SOURCE: &str = "TipDM 2020 附件4";

/// The real (subject, reply) pairs, or None where ../shared is absent.
fn replies() -> Option<Vec<(String, String)>> {
    // ../shared beside the checkout; JIESU_TEST_SHARED names it for a checkout elsewhere.
    let shared = std::env::var_os("JIESU_TEST_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let file = shared.join("data/tipdm2020/fujian4_messages_with_replies.csv");
    let mut rdr = csv::Reader::from_path(&file).ok()?;
    let pairs: Vec<(String, String)> = rdr
        .records()
        .filter_map(Result::ok)
        .map(|r| {
            (
                r[2].trim().to_string(),
                r[5].split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .filter(|(t, a)| {
            !t.is_empty()
                && !a.is_empty()
                && t.chars().count() <= 150
                && a.chars().count() <= 10_000
        })
        .collect();
    (!pairs.is_empty()).then_some(pairs)
}

/// `n` entries from the real replies, one a row: the i-th repeats reply i mod the count
/// under a numbered title. Row 2 (the first entry) is Wangjing's; row 3's validity ended.
fn write_entries(dir: &Path, pairs: &[(String, String)], n: usize) -> PathBuf {
    let path = dir.join("kb.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record([
        "id",
        "title",
        "answer",
        "category",
        "unit_code",
        "source",
        "valid_from",
        "valid_to",
        "keywords",
        "status",
    ])
    .unwrap();
    for i in 0..n {
        let (topic, answer) = &pairs[i % pairs.len()];
        let title = format!("{topic}（{}）", i / pairs.len() + 1);
        let unit = if i == 0 { WANGJING } else { "" };
        let to = if i == 1 { "2020-12-31" } else { "" };
        let category = ["城乡建设", "交通运输", "劳动和社会保障", "教育文体"][i % 4];
        w.write_record([
            "",
            &title,
            answer,
            category,
            unit,
            SOURCE,
            "",
            to,
            "留言|答复",
            "",
        ])
        .unwrap();
    }
    w.flush().unwrap();
    path
}

fn cli_kb(app: &crate::helpers::TestApp, args: &[&str]) -> (i32, String, String) {
    let out = app.cli().arg("kb").args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ids(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect()
}

async fn search(app: &crate::helpers::TestApp, who: &str, q: &str) -> Value {
    let q: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
    expect(
        app.get(&format!("/api/v1/kb?q={q}&limit=5"), Some(who))
            .await,
        200,
    )
}

pub async fn a_city_imports_reviews_and_publishes_200000_entries(b: Backend) {
    let Some(pairs) = replies() else {
        eprintln!("skip: ../shared/data/tipdm2020 is absent");
        return;
    };
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let dir = tempfile::tempdir().unwrap();

    // A bad row is named by row and column, and nothing is kept.
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "title,answer,unit_code,valid_to\n问,答,,\n问,答,nope,\n问,答,,2026-13-01\n",
    )
    .unwrap();
    let (code, _, err) = cli_kb(&app, &["import", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("row 4, valid_to"), "{err}");
    std::fs::write(&bad, "title,answer,unit_code\n问,答,\n问,答,nope\n,答,\n").unwrap();
    let (code, _, err) = cli_kb(&app, &["import", bad.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("row 3, unit_code") && err.contains("row 4, title"),
        "{err}"
    );

    let file = write_entries(dir.path(), &pairs, 200_000);
    let (code, out, err) = cli_kb(&app, &["import", file.to_str().unwrap(), "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("200000 would be added"), "{out}");
    let page = expect(app.get("/api/v1/kb/entries?limit=1", Some(&sup)).await, 200);
    assert_eq!(page["total"], 0);

    let started = std::time::Instant::now();
    let (code, out, err) = cli_kb(&app, &["import", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("200000 added"), "{out}");
    eprintln!(
        "200000 entries imported in {:.1} s ({b:?})",
        started.elapsed().as_secs_f64()
    );
    let drafts = expect(
        app.get("/api/v1/kb/entries?status=draft&limit=2", Some(&sup))
            .await,
        200,
    );
    assert_eq!(drafts["total"], 200_000);

    // Drafts are not offered at intake.
    let (topic, _) = &pairs[7];
    assert_eq!(
        search(&app, &s.operator, topic)
            .await
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // The center reviews and publishes; a unit and an operator may not.
    let review = json!({ "step": "review", "source": SOURCE });
    expect(
        app.post("/api/v1/kb/steps", Some(&s.wangjing), review.clone())
            .await,
        403,
    );
    expect(
        app.post("/api/v1/kb/steps", Some(&s.operator), review.clone())
            .await,
        403,
    );
    let publish = json!({ "step": "publish", "source": SOURCE });
    assert_eq!(
        expect(
            app.post("/api/v1/kb/steps", Some(&sup), publish.clone())
                .await,
            200
        )["count"],
        0
    );
    assert_eq!(
        expect(app.post("/api/v1/kb/steps", Some(&sup), review).await, 200)["count"],
        200_000
    );
    assert_eq!(
        expect(app.post("/api/v1/kb/steps", Some(&sup), publish).await, 200)["count"],
        200_000
    );
    for action in ["kb.imported", "kb.reviewed", "kb.published"] {
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT COUNT(*) FROM events WHERE action = '{action}'"
        ))
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
        assert_eq!(n, 1, "{action}: one event for the batch");
    }

    // Now the operator finds the answer among 200,000, by the caller's words. The node's
    // index takes in the 200,000 published entries first, as the first search after the
    // publication does (here directly: in a debug build that takes longer than a request may).
    jiesu::services::kb_search::follow(&app.state)
        .await
        .unwrap();
    // Time passes at the desk: the follower's next look reads only what changed since.
    app.clock.advance(chrono::Duration::minutes(1));
    let hits = search(&app, &s.operator, &format!("你好，我想问一下{topic}的事")).await;
    let first = &hits[0];
    assert!(
        first["title"].as_str().unwrap().starts_with(topic.as_str()),
        "{hits}"
    );
    assert_eq!(first["status"], "published");

    // Wangjing keeps its own entry: its edit is a new draft version, not offered until the
    // center reviews and publishes it; another unit may not touch it.
    let own = expect(
        app.get(
            &format!("/api/v1/kb/entries?unit_code={WANGJING}"),
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(own["total"], 1);
    let own = own["entries"][0].clone();
    let id = own["id"].as_str().unwrap().to_string();
    let edit = json!({ "title": "望京街道居住证办理时间", "answer": "工作日 9:00–17:00 到望京街道政务服务中心办理。", "unit_code": WANGJING, "tags": ["居住证"] });
    expect(
        app.put(&format!("/api/v1/kb/{id}"), &s.youanmen, edit.clone())
            .await,
        403,
    );
    let v2 = expect(
        app.put(&format!("/api/v1/kb/{id}"), &s.wangjing, edit)
            .await,
        200,
    );
    assert_eq!(
        (v2["version"].as_i64(), v2["status"].as_str()),
        (Some(2), Some("draft"))
    );
    assert!(
        !ids(&search(&app, &s.operator, "望京街道居住证办理时间").await).contains(&id.as_str())
    );
    expect(
        app.post(&format!("/api/v1/kb/{id}/publish"), Some(&sup), json!({}))
            .await,
        409,
    );
    expect(
        app.post(
            &format!("/api/v1/kb/{id}/review"),
            Some(&s.wangjing),
            json!({}),
        )
        .await,
        403,
    );
    expect(
        app.post(&format!("/api/v1/kb/{id}/review"), Some(&sup), json!({}))
            .await,
        200,
    );
    expect(
        app.post(&format!("/api/v1/kb/{id}/publish"), Some(&sup), json!({}))
            .await,
        200,
    );
    assert_eq!(
        ids(&search(&app, &s.operator, "望京街道居住证办理时间").await)[0],
        id
    );
    let history = expect(
        app.get(&format!("/api/v1/kb/{id}/history"), Some(&sup))
            .await,
        200,
    );
    let steps: Vec<(i64, &str)> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["version"].as_i64().unwrap(),
                h["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            (1, "draft"),
            (1, "reviewed"),
            (1, "published"),
            (2, "draft"),
            (2, "reviewed"),
            (2, "published")
        ]
    );

    // An entry past its validity is not offered, and is flagged for review.
    let expired = expect(
        app.get("/api/v1/kb/stale?unused_days=3650", Some(&sup))
            .await,
        200,
    );
    assert_eq!(expired.as_array().unwrap().len(), 1, "{expired}");
    assert_eq!(expired[0]["reasons"], json!(["past_validity"]));
    let (old_topic, _) = &pairs[1];
    assert!(!ids(&search(&app, &s.operator, old_topic).await)
        .contains(&expired[0]["id"].as_str().unwrap()));
    expect(app.get("/api/v1/kb/stale", Some(&s.operator)).await, 403);

    // The export gives back what was imported.
    let out_file = dir.path().join("out.csv");
    let (code, _, err) = cli_kb(
        &app,
        &[
            "export",
            "--status",
            "published",
            "--out",
            out_file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{err}");
    let exported = csv::Reader::from_path(&out_file).unwrap().records().count();
    assert_eq!(exported, 200_000);
}

pub async fn operators_rate_answers_and_stale_entries_are_flagged(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let mut made = Vec::new();
    for (title, answer) in [
        (
            "居住证在哪里办理？",
            "持身份证到居住地派出所或街道政务服务中心申领居住证。",
        ),
        (
            "公积金怎么提取？",
            "通过北京住房公积金网上业务系统申请提取。",
        ),
        (
            "垃圾分类怎么投放？",
            "厨余垃圾投放到绿色桶，其他垃圾投放到灰色桶。",
        ),
    ] {
        let e = expect(
            app.post(
                "/api/v1/kb",
                Some(&sup),
                json!({ "title": title, "answer": answer, "source": "市政务服务局" }),
            )
            .await,
            201,
        );
        assert_eq!(e["status"], "published");
        made.push(e["id"].as_str().unwrap().to_string());
    }
    let r = expect(
        app.post("/api/v1/requests", Some(&s.operator), json!({ "kind": "consultation", "text": "请问居住证怎么办？", "requester": { "phone": "13812345678" } })).await,
        201,
    );
    let request_id = r["id"].as_str().unwrap();
    // Operators say whether an answer helped: 公积金 not, 居住证 yes. One verdict a person a
    // call: clicking again changes it and adds nothing, so three clicks are one verdict.
    let rate = |id: &str, helpful: bool| {
        (
            format!("/api/v1/kb/{id}/feedback"),
            json!({ "helpful": helpful, "request_id": request_id }),
        )
    };
    for _ in 0..3 {
        let (url, body) = rate(&made[1], false);
        expect(app.post(&url, Some(&s.operator), body).await, 204);
    }
    let stale = expect(app.get("/api/v1/kb/stale", Some(&sup)).await, 200);
    assert_eq!(
        ids(&stale),
        Vec::<&str>::new(),
        "one verdict is not often: {stale}"
    );
    for other in ["op2", "op3"] {
        let op = app.user(other, Role::Operator, None).await;
        let (url, body) = rate(&made[1], false);
        expect(app.post(&url, Some(&op), body).await, 204);
    }
    // Only a published entry is rated: a draft is not the operator's to read (404).
    let draft = expect(
        app.post(
            "/api/v1/kb",
            Some(&sup),
            json!({ "title": "草稿", "answer": "尚未发布的答复。", "status": "draft" }),
        )
        .await,
        201,
    );
    let (url, body) = rate(draft["id"].as_str().unwrap(), true);
    expect(app.post(&url, Some(&s.operator), body).await, 404);
    let (url, body) = rate(&made[0], true);
    expect(app.post(&url, Some(&s.operator), body).await, 204);
    let (url, _) = rate(&made[0], true);
    expect(
        app.post(&url, Some(&s.wangjing), json!({ "helpful": true }))
            .await,
        403,
    );
    let v = expect(
        app.post(&url, Some(&s.operator), json!({ "helpful": "yes" }))
            .await,
        400,
    );
    assert!(v.to_string().contains("helpful"), "{v}");
    let v = expect(
        app.post(
            &url,
            Some(&s.operator),
            json!({ "helpful": true, "request_id": "nope" }),
        )
        .await,
        422,
    );
    assert_eq!(v["error"]["fields"][0]["field"], "request_id");

    let stale = expect(app.get("/api/v1/kb/stale", Some(&sup)).await, 200);
    assert_eq!(ids(&stale), [made[1].as_str()], "{stale}");
    assert_eq!(stale[0]["reasons"], json!(["unhelpful"]));
    assert_eq!(
        (stale[0]["rated"].as_i64(), stale[0]["unhelpful"].as_i64()),
        (Some(3), Some(3))
    );
    let rated: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'kb.rated'")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(rated, 6, "every click is an event, a changed verdict too");

    // Half a year on, the entry nobody used is flagged too; the one rated helpful is not yet.
    app.clock.advance(chrono::Duration::days(179));
    let (url, body) = rate(&made[0], true);
    let op = super::cast::relogin(&app).await.operator;
    expect(app.post(&url, Some(&op), body).await, 204);
    app.clock.advance(chrono::Duration::days(2));
    let sup = app.login("sup1", "password1").await;
    let stale = expect(app.get("/api/v1/kb/stale", Some(&sup)).await, 200);
    let mut flagged = ids(&stale);
    flagged.sort();
    let mut want = vec![made[1].as_str(), made[2].as_str()];
    want.sort();
    assert_eq!(flagged, want, "{stale}");
    let bad = expect(
        app.get("/api/v1/kb/stale?unused_days=x", Some(&sup)).await,
        400,
    );
    assert!(bad.to_string().contains("unused_days"), "{bad}");
}

/// Titles of the knowledge-base hits of a search for `q` as `who`.
async fn found(app: &crate::helpers::TestApp, who: &str, q: &str) -> Vec<String> {
    let q: String = q.bytes().map(|b| format!("%{b:02X}")).collect();
    let v = expect(
        app.get(&format!("/api/v1/search?q={q}&kind=kb"), Some(who))
            .await,
        200,
    );
    let mut titles: Vec<String> = v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["title"].as_str().unwrap().to_string())
        .collect();
    titles.sort();
    titles
}

/// Entries imported in bulk are found by `/search` (the import is one event naming its
/// batch), and a draft is found only by the center and its own unit, as it is read.
pub async fn imported_entries_are_searched_and_drafts_only_by_their_unit_and_the_center(
    b: Backend,
) {
    use super::cast::YOUANMEN;
    let app = app!(b);
    let s = staff(&app).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let rows = json!({ "rows": [
        { "title": "供暖报修电话（中心）", "answer": "拨打热力集团热线报修。", "status": "published" },
        { "title": "供暖报修电话（望京）", "answer": "望京街道供暖办接听报修。", "unit_code": WANGJING },
        { "title": "供暖报修电话（右安门）", "answer": "右安门街道供暖办接听报修。", "unit_code": YOUANMEN },
    ] });
    let sum = expect(app.post("/api/v1/kb/import", Some(&sup), rows).await, 200);
    assert_eq!(sum["added"], 3, "{sum}");
    assert!(jiesu::services::search::catch_up(&app.state).await.unwrap() > 0);
    let all = [
        "供暖报修电话（中心）",
        "供暖报修电话（右安门）",
        "供暖报修电话（望京）",
    ];
    assert_eq!(found(&app, &sup, "供暖报修").await, all);
    assert_eq!(
        found(&app, &s.wangjing, "供暖报修").await,
        ["供暖报修电话（中心）", "供暖报修电话（望京）"]
    );
    assert_eq!(
        found(&app, &s.youanmen, "供暖报修").await,
        ["供暖报修电话（中心）", "供暖报修电话（右安门）"]
    );
    assert_eq!(
        found(&app, &s.operator, "供暖报修").await,
        ["供暖报修电话（中心）"]
    );
    // Reviewed and published in bulk (one event each, naming the batch): everyone's now.
    for step in ["review", "publish"] {
        let n = expect(
            app.post(
                "/api/v1/kb/steps",
                Some(&sup),
                json!({ "step": step, "title": "供暖报修" }),
            )
            .await,
            200,
        );
        assert_eq!(n["count"], 2, "{step}: {n}");
    }
    assert!(jiesu::services::search::catch_up(&app.state).await.unwrap() > 0);
    assert_eq!(found(&app, &s.operator, "供暖报修").await, all);
    assert_eq!(found(&app, &s.wangjing, "供暖报修").await, all);
    // An import that changes an entry (back to a draft, by its id) reaches the search too.
    let list = expect(
        app.get("/api/v1/kb/entries?title=%E4%B8%AD%E5%BF%83", Some(&sup))
            .await,
        200,
    ); // 中心
    let id = list["entries"][0]["id"].as_str().unwrap().to_string();
    let rows = json!({ "rows": [
        { "id": id, "title": "供暖报修电话（中心）", "answer": "拨打热力集团热线报修。", "status": "draft" },
    ] });
    let sum = expect(app.post("/api/v1/kb/import", Some(&sup), rows).await, 200);
    assert_eq!(sum["changed"], 1, "{sum}");
    assert!(jiesu::services::search::catch_up(&app.state).await.unwrap() > 0);
    assert_eq!(
        found(&app, &s.operator, "供暖报修").await,
        ["供暖报修电话（右安门）", "供暖报修电话（望京）"],
        "the center's entry is a draft again: the center's only"
    );
    assert_eq!(found(&app, &sup, "供暖报修").await, all);
}
