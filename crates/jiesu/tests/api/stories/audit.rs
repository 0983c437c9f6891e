//! Issue 16: an audit trail that cannot be quietly rewritten (replay and compare, sealed
//! checkpoints), requesters' data removed after the retention and exported on request, and a
//! private data folder.

use super::cast::{act, relogin, reply_body, staff, Staff, HUAJIADI, WANGJING};
use crate::helpers::{app, complaint, expect, order_id, Backend, TestApp};
use serde_json::{json, Value};
use sqlx::Row;

/// Runs `jiesu audit verify`: (exit code, stdout, stderr).
fn cli_verify(app: &TestApp) -> (i32, String, String) {
    let out = app.cli().args(["audit", "verify"]).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Verifies in process: the report.
async fn verify(app: &TestApp) -> jiesu::services::audit::VerifyReport {
    jiesu::services::audit::verify(app.state.store.reader(), &app.config)
        .await
        .unwrap()
}

/// A hand edit (`edit`) of one row is named by replay and compare (`jiesu audit verify`) as
/// `table`.`field`; `undo` puts it back and the tables agree with the events again. Used by
/// the stories of the tables issue 18 added (reply checks, child orders, sign-offs, requests
/// for more time, whistle reports).
pub async fn a_hand_edit_is_named(app: &TestApp, table: &str, field: &str, edit: &str, undo: &str) {
    assert!(
        verify(app).await.mismatches.is_empty(),
        "clean before {edit}"
    );
    app.exec(edit).await;
    let report = verify(app).await;
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.table == table && m.field == field),
        "{edit} not named as {table}.{field}: {:?}",
        report.mismatches
    );
    app.exec(undo).await;
    assert!(verify(app).await.mismatches.is_empty(), "{undo}");
}

async fn scalar(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

/// A request through dispatch to two units, a late acknowledgement marked by the sweep, an
/// extension, replies, an unreachable callback, an unsatisfied one (round 2), round 2's
/// replies and a satisfied callback that closes it. Returns (request id, round-1 lead order).
async fn a_whole_life(app: &TestApp, s: &Staff) -> (String, String) {
    let v = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区夜间施工噪音扰民。"),
        )
        .await,
        201,
    );
    let id = v["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": HUAJIADI, "role": "co" }] }),
        )
        .await,
        200,
    );
    let lead = order_id(&v, WANGJING, 1);
    let co = order_id(&v, HUAJIADI, 1);
    app.clock.advance(chrono::Duration::hours(3));
    jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    let s = relogin(app).await;
    act(app, &s.wangjing, &lead, "acknowledge", json!({})).await;
    act(app, &s.huajiadi, &co, "acknowledge", json!({})).await;
    let v = act(
        app,
        &s.wangjing,
        &lead,
        "extension",
        json!({ "hours": 48, "reason": "需协调施工单位" }),
    )
    .await;
    let ext = v["extensions"][0]["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/extensions/{ext}/decision"),
            Some(&s.dispatcher),
            json!({ "approve": true }),
        )
        .await,
        200,
    );
    act(app, &s.huajiadi, &co, "reply", reply_body("已配合")).await;
    act(app, &s.wangjing, &lead, "reply", reply_body("已停工")).await;
    let callback = |body: Value| {
        let id = id.clone();
        let agent = s.agent.clone();
        async move {
            expect(
                app.post(
                    &format!("/api/v1/requests/{id}/callback"),
                    Some(&agent),
                    body,
                )
                .await,
                200,
            )
        }
    };
    callback(json!({ "reached": false, "note": "无人接听" })).await;
    let v = callback(json!({ "reached": true, "resolved": false, "satisfaction": "unsatisfied", "note": "仍有夜间施工" })).await;
    assert_eq!(v["round"], 2);
    for (unit, token) in [(WANGJING, &s.wangjing), (HUAJIADI, &s.huajiadi)] {
        let o = order_id(&v, unit, 2);
        act(app, token, &o, "acknowledge", json!({})).await;
        act(app, token, &o, "reply", reply_body("已彻底整改")).await;
    }
    let v =
        callback(json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" })).await;
    assert_eq!(v["status"], "closed");
    (id, lead)
}

/// Re-hashes the chain from `from` on, as an attacker who edited an event would, and moves
/// the head: the chain itself then verifies.
async fn rehash_from(app: &TestApp, from: i64) {
    let pool = app.state.store.reader();
    let mut prev: String = sqlx::query_scalar("SELECT hash FROM events WHERE seq = $1")
        .bind(from - 1)
        .fetch_one(pool)
        .await
        .unwrap();
    let rows = sqlx::query(
        "SELECT seq, id, jurisdiction, request_id, assignment_id, actor_id, actor_role, action, \
         before_state, after_state, payload, at FROM events WHERE seq >= $1 ORDER BY seq",
    )
    .bind(from)
    .fetch_all(pool)
    .await
    .unwrap();
    for r in &rows {
        let get = |c: &str| r.get::<Option<String>, _>(c);
        let seq: i64 = r.get("seq");
        let hash = jiesu::store::events::link_hash(
            &prev,
            seq,
            &r.get::<String, _>("id"),
            &r.get::<String, _>("jurisdiction"),
            get("request_id").as_deref(),
            get("assignment_id").as_deref(),
            &r.get::<String, _>("actor_id"),
            &r.get::<String, _>("actor_role"),
            &r.get::<String, _>("action"),
            get("before_state").as_deref(),
            get("after_state").as_deref(),
            &r.get::<String, _>("payload"),
            r.get("at"),
        );
        sqlx::query("UPDATE events SET prev_hash = $1, hash = $2 WHERE seq = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(seq)
            .execute(pool)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE event_chain SET hash = $1 WHERE id = 1")
        .bind(&prev)
        .execute(pool)
        .await
        .unwrap();
}

/// Finding 9: hand edits of a request's status, an order's reply to the requester or a
/// callback's satisfaction are named by `jiesu audit verify` (replay and compare), and so is a
/// rewritten and re-hashed chain (the sealed checkpoints); an untouched database verifies.
pub async fn audit_verify_names_hand_edits_and_a_rehashed_chain(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let (id, lead) = a_whole_life(&app, &s).await;
    // A consultation answered at intake, and a duplicate merged into the closed request's
    // sibling: their rows replay too.
    let mut c = complaint("请问噪音投诉的处理时限是多久？");
    c["kind"] = json!("consultation");
    let s = relogin(&app).await;
    let cons = expect(
        app.post("/api/v1/requests", Some(&s.operator), c).await,
        201,
    );
    let cons = cons["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{cons}/answer"),
            Some(&s.operator),
            json!({ "answer": "一般诉求七个工作日内办结。" }),
        )
        .await,
        200,
    );
    let first = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园四区施工噪音。"),
        )
        .await,
        201,
    );
    let dup = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园四区施工噪音，同一工地。"),
        )
        .await,
        201,
    );
    expect(
        app.post(
            &format!("/api/v1/requests/{}/merge", dup["id"].as_str().unwrap()),
            Some(&s.operator),
            json!({ "into": first["id"] }),
        )
        .await,
        200,
    );
    let sealed = jiesu::jobs::seal_chain(&app.state).await.unwrap();
    let head: i64 = sqlx::query_scalar("SELECT seq FROM event_chain WHERE id = 1")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(sealed, Some(head));
    assert_eq!(
        jiesu::jobs::seal_chain(&app.state).await.unwrap(),
        None,
        "nothing new to seal"
    );

    // Untouched: everything verifies.
    let (code, out, err) = cli_verify(&app);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("agree with their events") && out.contains("0 events after the last one"),
        "{out}"
    );

    // Three hand edits, each named by table, row and field, then put back.
    let callback_id = scalar(
        &app,
        "SELECT id FROM callbacks WHERE satisfaction = 'unsatisfied'",
    )
    .await;
    let edits = [
        (
            format!("UPDATE requests SET status = 'replied' WHERE id = '{id}'"),
            format!("requests {id} status"),
            format!("UPDATE requests SET status = 'closed' WHERE id = '{id}'"),
        ),
        (
            format!("UPDATE assignments SET reply_to_requester = '已经处理完毕' WHERE id = '{lead}'"),
            format!("assignments {lead} reply_to_requester"),
            format!("UPDATE assignments SET reply_to_requester = '您反映的问题已处理：已停工' WHERE id = '{lead}'"),
        ),
        (
            format!("UPDATE callbacks SET satisfaction = 'satisfied' WHERE id = '{callback_id}'"),
            format!("callbacks {callback_id} satisfaction"),
            format!("UPDATE callbacks SET satisfaction = 'unsatisfied' WHERE id = '{callback_id}'"),
        ),
    ];
    for (edit, named, undo) in &edits {
        app.exec(edit).await;
        let (code, out, err) = cli_verify(&app);
        assert_eq!(code, 1, "{edit}: {out}");
        assert!(err.contains(&format!("MISMATCH: {named}")), "{edit}: {err}");
        assert!(
            out.contains("audit chain intact"),
            "the chain itself is whole: {out}"
        );
        app.exec(undo).await;
        assert!(verify(&app).await.intact(), "{undo}");
    }
    // A row nobody recorded, and an extension's decision changed by hand.
    app.exec("UPDATE extensions SET status = 'refused'").await;
    let report = verify(&app).await;
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.table == "extensions" && m.field == "status"),
        "{:?}",
        report.mismatches
    );
    app.exec("UPDATE extensions SET status = 'approved'").await;

    // Rewrite the lead's reply in its event and in the table alike, and re-hash the chain
    // after it: the chain and the replay agree, the sealed checkpoint does not.
    let seq: i64 = sqlx::query_scalar(
        "SELECT seq FROM events WHERE action = 'assignment.replied' AND assignment_id = $1",
    )
    .bind(&lead)
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    let payload = scalar(
        &app,
        &format!("SELECT payload FROM events WHERE seq = {seq}"),
    )
    .await;
    let forged = payload.replace("已停工", "已处理完毕");
    assert_ne!(payload, forged);
    sqlx::query("UPDATE events SET payload = $1 WHERE seq = $2")
        .bind(&forged)
        .bind(seq)
        .execute(app.state.store.reader())
        .await
        .unwrap();
    app.exec(&format!(
        "UPDATE assignments SET reply_to_requester = '您反映的问题已处理：已处理完毕', \
         reply_to_center = '已核实并处理：已处理完毕' WHERE id = '{lead}'"
    ))
    .await;
    let (code, _, err) = cli_verify(&app);
    assert_eq!(code, 1);
    assert!(
        err.contains("altered"),
        "without the re-hash the chain breaks: {err}"
    );
    rehash_from(&app, seq).await;
    let report = verify(&app).await;
    assert!(
        report.broken.is_none() && report.mismatches.is_empty(),
        "{report:?}"
    );
    let (code, out, err) = cli_verify(&app);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("audit chain intact"), "{out}");
    assert!(
        err.contains(&format!(
            "checkpoint of event {head}: the chain was rewritten"
        )),
        "{err}"
    );

    // Dropping the checkpoints too: the node's own last checkpoint, kept beside the database,
    // is missing from it.
    app.exec("DELETE FROM audit_checkpoints").await;
    let (code, _, err) = cli_verify(&app);
    assert_eq!(code, 1);
    assert!(
        err.contains(&format!("checkpoint of event {head} kept in")),
        "{err}"
    );
    assert!(err.contains("missing from the database"), "{err}");
}

/// Privacy: an admin (API) or the operator at the console (CLI) exports everything held
/// about one phone, which leaves an event; after the retention the requester's name and phone
/// are removed by the job with one event per request, the statistics' fields stay, the
/// export finds nothing more, and the audit still verifies (a quiet removal does not).
pub async fn requesters_are_redacted_after_the_retention_and_exported_on_request(b: Backend) {
    let app = app!(b);
    let s = staff(&app).await;
    let (closed, _) = a_whole_life(&app, &s).await;
    let s = relogin(&app).await;
    let open = expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区路灯不亮。"),
        )
        .await,
        201,
    );
    let open = open["id"].as_str().unwrap().to_string();
    let mut other = complaint("花家地西里垃圾清运不及时。");
    other["requester"] = json!({ "name": "李先生", "phone": "13900001111" });
    let other = expect(
        app.post("/api/v1/requests", Some(&s.operator), other).await,
        201,
    );
    let other = other["id"].as_str().unwrap().to_string();

    // The export: admins only, a valid phone, everything about it.
    let admin = app.login("admin", "adminpass1").await;
    let path = "/api/v1/privacy/export";
    expect(
        app.post(path, Some(&s.operator), json!({ "phone": "13812345678" }))
            .await,
        403,
    );
    let bad = expect(
        app.post(path, Some(&admin), json!({ "phone": "12345" }))
            .await,
        422,
    );
    assert_eq!(bad["error"]["fields"][0]["field"], "phone");
    let v = super::cast::export_of(&app, &admin, "138 1234 5678").await;
    let reqs = v["requests"].as_array().unwrap();
    assert_eq!(reqs.len(), 2, "{v}");
    let full = reqs.iter().find(|r| r["id"] == closed.as_str()).unwrap();
    assert_eq!(full["requester"]["name"], "王女士");
    assert_eq!(full["requester"]["phone"], "13812345678");
    assert_eq!(full["replies"].as_array().unwrap().len(), 4, "{full}");
    assert!(full["replies"][0]["text"]
        .as_str()
        .unwrap()
        .starts_with("您反映的问题已处理"));
    let mut sats: Vec<String> = full["callbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["satisfaction"].to_string())
        .collect();
    sats.sort();
    assert_eq!(sats, ["\"satisfied\"", "\"unsatisfied\"", "null"]);
    let out = app
        .cli()
        .args(["privacy", "export", "--phone", "13812345678"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cli["requests"].as_array().unwrap().len(), 2);
    assert!(cli["exported_by"].as_str().unwrap().starts_with("cli:"));
    let exported = scalar(
        &app,
        "SELECT CAST(COUNT(*) AS TEXT) FROM events WHERE action = 'privacy.exported'",
    )
    .await;
    assert_eq!(exported, "2");

    // Not before the retention is over.
    assert_eq!(
        jiesu::jobs::redact_personal_data(&app.state).await.unwrap(),
        0
    );
    app.clock.advance(chrono::Duration::days(3 * 365 + 1));
    assert_eq!(
        jiesu::jobs::redact_personal_data(&app.state).await.unwrap(),
        1
    );
    assert_eq!(
        jiesu::jobs::redact_personal_data(&app.state).await.unwrap(),
        0,
        "once"
    );
    let row = sqlx::query(
        "SELECT requester_name, requester_phone, redacted_at, category_code, address FROM requests WHERE id = $1",
    )
    .bind(&closed)
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("requester_name"), "");
    assert_eq!(row.get::<String, _>("requester_phone"), "");
    assert!(row.get::<Option<i64>, _>("redacted_at").is_some());
    assert_eq!(row.get::<String, _>("address"), "朝阳区望京西园三区");
    let recipients = scalar(
        &app,
        &format!(
            "SELECT COALESCE(MAX(recipient), 'none') FROM outbox WHERE request_id = '{closed}'"
        ),
    )
    .await;
    assert_eq!(recipients, "", "the outbox forgets the phone too");
    let redactions = scalar(
        &app,
        &format!("SELECT CAST(COUNT(*) AS TEXT) FROM events WHERE action = 'privacy.redacted' AND request_id = '{closed}'"),
    )
    .await;
    assert_eq!(redactions, "1");
    let kept = scalar(
        &app,
        &format!("SELECT requester_phone FROM requests WHERE id = '{open}'"),
    )
    .await;
    assert_eq!(kept, "13812345678", "an open request keeps its requester");

    // Views show nothing of them; the export no longer finds the closed request; the search
    // index holds no name or phone.
    let admin = app.login("admin", "adminpass1").await;
    let v = expect(
        app.get(&format!("/api/v1/requests/{closed}"), Some(&admin))
            .await,
        200,
    );
    assert_eq!(v["requester"]["name"], "");
    assert_eq!(v["requester"]["phone"], "****");
    assert_eq!(
        v["callbacks"].as_array().unwrap().len(),
        3,
        "statistics keep the callbacks"
    );
    let v = super::cast::export_of(&app, &admin, "13812345678").await;
    assert_eq!(super::cast::exported_ids(&v), [open.as_str()]);
    jiesu::services::search::catch_up(&app.state).await.unwrap();
    for q in ["王女士", "13812345678"] {
        let found = expect(
            app.get(&format!("/api/v1/search?q={q}"), Some(&admin))
                .await,
            200,
        );
        assert!(
            !found.to_string().contains(&closed),
            "{q} finds the redacted request: {found}"
        );
    }

    // The redaction is explained by its event: the audit verifies. A removal by hand is not.
    let report = verify(&app).await;
    assert!(report.intact(), "{report:?}");
    app.exec(&format!(
        "UPDATE requests SET requester_phone = '' WHERE id = '{other}'"
    ))
    .await;
    let report = verify(&app).await;
    assert!(
        report
            .mismatches
            .iter()
            .any(|m| m.table == "requests" && m.row == other && m.field == "requester_phone"),
        "{report:?}"
    );
}

/// Finding 11 (files): the data folder is 0700 and what it holds 0600, including a database
/// file that was 0644 before the start and everything created after it (-wal/-shm, the search
/// index, the audit key).
pub async fn the_data_folder_and_its_files_are_private(b: Backend) {
    use std::os::unix::fs::PermissionsExt;
    let prepared = |dir: &std::path::Path| {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let db = dir.join("jiesu.db");
        std::fs::write(&db, b"").unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    };
    let Some(app) = TestApp::spawn_with(b, prepared).await else {
        return;
    };
    let s = staff(&app).await;
    expect(
        app.post(
            "/api/v1/requests",
            Some(&s.operator),
            complaint("望京西园三区路灯不亮。"),
        )
        .await,
        201,
    );
    jiesu::services::search::catch_up(&app.state).await.unwrap();
    jiesu::jobs::seal_chain(&app.state).await.unwrap();
    let dir = app.dir.path();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(dir), 0o700);
    let mut names = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                assert_eq!(mode(&p), 0o700, "{}", p.display());
                stack.push(p);
            } else {
                assert_eq!(mode(&p), 0o600, "{}", p.display());
                names.push(p.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    let mut expected = vec!["audit.key", "audit-checkpoint.json"];
    if b == Backend::Sqlite {
        expected.extend(["jiesu.db", "jiesu.db-wal", "jiesu.db-shm"]);
    }
    for name in expected {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    assert!(names.iter().any(|n| n.starts_with("search/")), "{names:?}");
}
