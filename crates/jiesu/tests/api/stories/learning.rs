//! The learning loop (issue #22): a model trained from the database's history (the
//! simulator's city) suggests the fine category and the lead unit; a worse candidate is not
//! promoted; a rollback restores the previous model, served without a restart.

use crate::helpers::{expect, Backend, TestApp};
use jiesu_core::Role;
use serde_json::{json, Value};

/// Two simulated weeks: the first to learn from, the second held back to judge on.
async fn city(b: Backend, seed: u64) -> Option<TestApp> {
    let app = TestApp::spawn(b).await?;
    let opts = jiesu::sim::Options {
        days: 14,
        per_day: 40,
        seed,
        start: chrono::NaiveDate::from_ymd_opt(2026, 11, 2).unwrap(),
    };
    jiesu::sim::run(&app.state, &app.clock, opts, &mut |_, _| {})
        .await
        .unwrap();
    Some(app)
}

fn cli(app: &TestApp, args: &[&str]) -> (Option<i32>, Value, String) {
    let out = app.cli().args(args).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code(), json, stderr)
}

async fn count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = $1")
        .bind(action)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

/// Closed requests with their final category and lead, oldest first.
async fn closed(app: &TestApp) -> Vec<jiesu::store::text_models::Labelled> {
    let rows = jiesu::store::text_models::history(app.state.store.reader(), app.state.clock.now())
        .await
        .unwrap();
    rows.into_iter().filter(|r| r.lead.is_some()).collect()
}

fn write_csv(dir: &std::path::Path, name: &str, rows: &[[String; 4]]) -> String {
    let path = dir.join(name);
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(["text", "category", "unit", "address"])
        .unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    w.flush().unwrap();
    path.display().to_string()
}

async fn suggest(app: &TestApp, token: &str, text: &str, address: &str) -> Value {
    let body = json!({ "text": text, "address": address });
    expect(
        app.post("/api/v1/requests/suggest", Some(token), body)
            .await,
        200,
    )
}

/// `jiesu text train --from-db` learns the city's own taxonomy and lead units from closed
/// requests; judged on the held-back week it is put in force at once (no model before), and
/// the running server suggests the fine (level 3) category and the lead unit the dispatchers
/// chose for most held-back requests. A dispatch records whether the suggested lead was
/// taken, and `/text/accuracy` reports it by week and by category.
pub async fn a_model_trained_from_the_history_suggests_the_fine_category_and_unit(b: Backend) {
    let Some(app) = city(b, 21).await else {
        return;
    };
    let (code, report, err) = cli(
        &app,
        &["text", "train", "--from-db", "--holdout-weeks", "1"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(report["promoted"], true, "{report}");
    let model = &report["model"];
    assert_eq!(model["state"], "active");
    assert_eq!(model["source"], "db");
    assert!(model["eval_examples"].as_i64().unwrap() >= 30, "{model}");
    assert!(model["incumbent_id"].is_null());
    assert!(model["score"].as_f64().unwrap() > 0.6, "{model}");
    let id = model["id"].as_str().unwrap().to_string();
    assert_eq!(count(&app, "text.model_trained").await, 1);
    assert_eq!(count(&app, "text.model_promoted").await, 1);

    // The held-back week: requests the model never learned from.
    let from = chrono::DateTime::parse_from_rfc3339(model["eval_from"].as_str().unwrap())
        .unwrap()
        .timestamp_millis();
    let held: Vec<_> = closed(&app)
        .await
        .into_iter()
        .filter(|r| r.created_at.timestamp_millis() >= from)
        .take(20)
        .collect();
    assert!(held.len() >= 10, "{} held back", held.len());
    let op = app.user("op1", Role::Operator, None).await;
    let (mut fine, mut unit) = (0, 0);
    for r in &held {
        let (category, lead) = (&r.category, r.lead.as_ref().unwrap());
        let s = suggest(&app, &op, &r.text, &r.address).await;
        assert_eq!(s["source"], "learned", "{s}");
        assert_eq!(s["model"], id.as_str());
        let leaves = s["categories"].as_array().unwrap();
        // The city's taxonomy, down to level 3.
        assert!(leaves
            .iter()
            .any(|c| c["code"].as_str().unwrap().matches('.').count() == 2));
        fine += usize::from(leaves[0]["code"] == category.as_str());
        let lead_sug = s["units"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["role"] == "lead")
            .cloned()
            .unwrap_or(Value::Null);
        unit += usize::from(lead_sug["unit_code"] == lead.as_str());
    }
    assert!(
        fine * 10 >= held.len() * 7,
        "fine category {fine}/{}",
        held.len()
    );
    assert!(
        unit * 10 >= held.len() * 6,
        "lead unit {unit}/{}",
        held.len()
    );

    // A dispatch records whether the suggested lead was taken.
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let (text, lead) = (&held[0].text, held[0].lead.as_ref().unwrap());
    let s = suggest(&app, &op, text, &held[0].address).await;
    let suggested = s["units"][0]["unit_code"].as_str().unwrap().to_string();
    let mut body = crate::helpers::complaint(text);
    body["address"] = json!(held[0].address);
    body["suggestion_id"] = s["suggestion_id"].clone();
    body["category_code"] = s["categories"][0]["code"].clone();
    let r = expect(app.post("/api/v1/requests", Some(&op), body).await, 201);
    let rid = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{rid}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": lead, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let (dispatched, taken): (Option<String>, Option<i64>) =
        sqlx::query_as("SELECT dispatched_lead, lead_taken FROM suggestions WHERE request_id = $1")
            .bind(rid)
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(dispatched.as_deref(), Some(lead.as_str()));
    assert_eq!(taken, Some(i64::from(suggested == *lead)));
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let acc = expect(app.get("/api/v1/text/accuracy", Some(&sup)).await, 200);
    assert!(acc["n"].as_u64().unwrap() >= 1, "{acc}");
    // The simulated operators took suggestions too: two weeks and more of them.
    let weeks = acc["by_week"].as_array().unwrap();
    assert!(weeks.len() >= 2, "{acc}");
    let in_weeks: u64 = weeks.iter().map(|w| w["n"].as_u64().unwrap()).sum();
    assert_eq!(in_weeks, acc["n"].as_u64().unwrap());
    assert!(!acc["by_category"].as_array().unwrap().is_empty(), "{acc}");
    assert!(acc["overruled"].is_array());
}

/// A candidate trained on shuffled labels scores below the model in force on the held-back
/// week and is kept as rejected (both scores recorded); a rollback puts the model before back
/// in force, and the running server serves it from the next suggestion on.
pub async fn a_worse_candidate_is_not_promoted_and_a_rollback_restores_the_previous_model(
    b: Backend,
) {
    let Some(app) = city(b, 22).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let history = closed(&app).await;
    assert!(history.len() > 100, "{} closed", history.len());
    // A: a few dozen labelled rows from a CSV (the first model: in force when judged).
    let few: Vec<_> = history
        .iter()
        .take(30)
        .map(|r| {
            let lead = r.lead.clone().unwrap();
            [r.text.clone(), r.category.clone(), lead, r.address.clone()]
        })
        .collect();
    let weak = write_csv(dir.path(), "few.csv", &few);
    let (code, a, err) = cli(
        &app,
        &["text", "train", "--input", &weak, "--holdout-weeks", "1"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(a["promoted"], true, "{a}");
    assert_eq!(a["model"]["source"], "csv:few.csv");
    let a_id = a["model"]["id"].as_str().unwrap().to_string();
    // B: the first week's history beats it.
    let (code, bm, err) = cli(
        &app,
        &["text", "train", "--from-db", "--holdout-weeks", "1"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(bm["promoted"], true, "{bm}");
    let b_id = bm["model"]["id"].as_str().unwrap().to_string();
    assert_eq!(bm["model"]["incumbent_id"], a_id.as_str());
    assert_eq!(bm["model"]["previous_id"], a_id.as_str());
    assert!(bm["model"]["score"].as_f64() > bm["model"]["incumbent_score"].as_f64());
    // C: every label shifted to another row's: worse, so not promoted.
    let shuffled: Vec<_> = history
        .iter()
        .zip(history.iter().cycle().skip(7))
        .map(|(r, o)| {
            let lead = o.lead.clone().unwrap();
            [r.text.clone(), o.category.clone(), lead, r.address.clone()]
        })
        .collect();
    let bad = write_csv(dir.path(), "shuffled.csv", &shuffled);
    let (code, c, err) = cli(
        &app,
        &["text", "train", "--input", &bad, "--holdout-weeks", "1"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(c["promoted"], false, "{c}");
    assert_eq!(c["model"]["state"], "rejected");
    assert_eq!(c["model"]["incumbent_id"], b_id.as_str());
    let (mine, theirs) = (
        c["model"]["score"].as_f64().unwrap(),
        c["model"]["incumbent_score"].as_f64().unwrap(),
    );
    assert!(mine < theirs, "{mine} < {theirs}");
    assert_eq!(count(&app, "text.model_rejected").await, 1);
    let op = app.user("op1", Role::Operator, None).await;
    let last = history.last().unwrap();
    let (text, address) = (&last.text, &last.address);
    assert_eq!(
        suggest(&app, &op, text, address).await["model"],
        b_id.as_str()
    );

    // The list, for supervisors; the rollback, for administrators only.
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let list = expect(app.get("/api/v1/text/models", Some(&sup)).await, 200);
    let states: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["rejected", "active", "retired"]);
    expect(
        app.post("/api/v1/text/models/rollback", Some(&sup), json!({}))
            .await,
        403,
    );

    // The administrators' page: the models as judged, the rollback button, both languages
    // (a fresh session: the simulated weeks outlived the first).
    let admin = app.login("admin", "adminpass1").await;
    let mut browser = crate::ui::Browser::with_session(&app, &admin);
    let page = browser.get("/ui/admin/text").await;
    assert_eq!(page.status, 200, "{}", page.body);
    for part in [
        "text-model-rejected",
        "text-model-active",
        "text-model-retired",
        "text-rollback",
        "text-accuracy-weeks",
        "回退到上一个模型",
    ] {
        assert!(page.body.contains(part), "{part}");
    }
    let en = browser.get("/ui/admin/text?lang=en").await;
    assert!(en.body.contains("Roll back to the previous model"));

    // One command restores A; the running server follows it without a restart.
    let (code, back, err) = cli(&app, &["text", "rollback"]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(back["id"], a_id.as_str());
    assert_eq!(count(&app, "text.model_rolled_back").await, 1);
    assert_eq!(
        suggest(&app, &op, text, address).await["model"],
        a_id.as_str()
    );
    let page = browser.get("/ui/admin/text").await;
    assert!(!page.body.contains("text-rollback"), "A replaced nothing");
    // A replaced nothing: nothing further to roll back to.
    let (code, _, err) = cli(&app, &["text", "rollback"]);
    assert_eq!(code, Some(2), "{err}");
    expect(
        app.post("/api/v1/text/models/rollback", Some(&admin), json!({}))
            .await,
        409,
    );
}

/// The models trained so far, newest first.
async fn models(app: &TestApp) -> Vec<jiesu::store::text_models::ModelInfo> {
    jiesu::store::text_models::list(app.state.store.reader())
        .await
        .unwrap()
}

/// Waits (real time) until `n` models are stored; panics after two minutes.
async fn until_models(app: &TestApp, n: usize) -> Vec<jiesu::store::text_models::ModelInfo> {
    for _ in 0..1200 {
        let got = models(app).await;
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{n} models were not trained in two minutes");
}

/// The scheduled retraining (issue 22) as `jiesu serve` runs it, on every node of a
/// cluster (two nodes on PostgreSQL, one on SQLite) with a one-second interval. On
/// PostgreSQL a node's turn trains nothing while another session holds the job's lock. The
/// first turn trains one model on the history and puts it in force (no model before); later turns
/// on every node train nothing while the clock stays within half an interval of it (one
/// node trains at a time, and a model that recent is enough); once the clock has moved a
/// day, one more model is trained and judged against the one in force.
pub async fn the_retraining_job_trains_one_model_a_period_across_the_nodes(b: Backend) {
    let Some(app) = city(b, 23).await else {
        return;
    };
    assert!(models(&app).await.is_empty());
    let nodes = if b == Backend::Postgres { 2 } else { 1 };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut states = Vec::new();
    for _ in 0..nodes {
        let mut config = app.config.clone();
        config.retrain_interval = std::time::Duration::from_secs(1);
        // Two simulated weeks: one to learn from, one held back.
        config.retrain_holdout_weeks = 1;
        let state = jiesu::open_state(config, std::sync::Arc::new(app.clock.clone()))
            .await
            .expect("a node");
        states.push(state);
    }
    let period = std::time::Duration::from_secs(1);
    if b == Backend::Postgres {
        // While another session holds the job's lock, a node's turn trains nothing.
        let held = jiesu::store::lead::try_lead(&app.state.store, jiesu::jobs::LEAD_RETRAIN)
            .await
            .unwrap()
            .expect("the lock is free");
        for s in &states {
            let turn = jiesu::jobs::retrain_once(s, period).await.unwrap();
            assert!(turn.is_none());
        }
        assert!(models(&app).await.is_empty());
        drop(held);
    }
    let mut tasks = Vec::new();
    for state in &states {
        tasks.extend(jiesu::jobs::spawn(state.clone(), stopped.clone()));
    }

    let first = until_models(&app, 1).await;
    // Three more turns on every node: nothing more is trained.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let got = models(&app).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let a = &got[0];
    assert_eq!(a.id, first[0].id);
    assert_eq!(a.created_by, "system");
    assert_eq!(a.source, "db");
    assert_eq!(a.state, jiesu::store::text_models::ModelState::Active);
    assert!(a.eval_examples >= 30, "{a:?}");
    assert_eq!(count(&app, "text.model_trained").await, 1);
    assert_eq!(count(&app, "text.model_promoted").await, 1);

    // A day later: the next turn trains once more, judged against the model in force.
    app.clock.advance(chrono::Duration::days(1));
    let got = until_models(&app, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let got_after = models(&app).await;
    assert_eq!(got_after.len(), 2, "{got_after:?}");
    let second = &got[0];
    assert_eq!(second.created_by, "system");
    assert_eq!(second.incumbent_id.as_deref(), Some(a.id.as_str()));
    assert!(second.incumbent_score.is_some() && second.score.is_some());
    assert_eq!(count(&app, "text.model_trained").await, 2);

    stop.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    for s in states {
        s.store.close().await;
    }
}
