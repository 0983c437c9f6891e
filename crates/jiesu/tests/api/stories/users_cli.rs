//! Issue 18: users through the CLI. `jiesu user export` writes `username,role,unit,active` as
//! CSV or xlsx, never a password or hash; `import` adds users (each with a one-time password
//! printed once, which logs in), disables and enables users with the users API's events, all
//! or nothing, and a bad row exits 2 naming its row and column.

use super::cast::{staff, WANGJING};
use crate::helpers::{app, Backend, TestApp};
use reqwest::StatusCode;
use serde_json::json;

fn run(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = app.cli().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn count(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = $1")
        .bind(action)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

async fn login_status(app: &TestApp, username: &str, password: &str) -> StatusCode {
    let body = json!({ "username": username, "password": password });
    app.post("/api/v1/auth/token", None, body).await.0
}

pub async fn users_export_and_import_through_the_cli_with_one_time_passwords_events_and_named_bad_rows(
    b: Backend,
) {
    let app = app!(b);
    staff(&app).await;
    let dir = app.dir.path();
    let out = dir.join("users.csv");
    let (code, _, err) = run(&app, &["user", "export", "--out", out.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with('\u{feff}'));
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "username,role,unit,active");
    assert!(lines.contains(&"op1,operator,,1"), "{text}");
    assert!(lines.contains(&format!("wj_mgr,unit_manager,{WANGJING},1").as_str()));
    assert!(!text.contains("argon2") && !text.contains("password1"));
    let known = lines.len() - 1;

    // Two added (one of them disabled at once), one disabled, the rest as they are.
    let file = dir.join("changes.csv");
    let body: Vec<String> = lines
        .iter()
        .map(|l| match *l {
            "op1,operator,,1" => "op1,operator,,0".to_string(),
            l => l.to_string(),
        })
        .collect();
    std::fs::write(
        &file,
        format!(
            "{}\nwj_handler2,unit_handler,{WANGJING},1\nold_op,operator,,0\n",
            body.join("\n")
        ),
    )
    .unwrap();
    let events = app.event_count().await;
    let (code, stdout, err) = run(
        &app,
        &["user", "import", file.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        stdout.trim(),
        format!(
            "2 would be added, 1 would be changed, {} unchanged",
            known - 1
        )
    );
    assert_eq!(app.event_count().await, events);
    assert_eq!(login_status(&app, "op1", "password1").await, StatusCode::OK);

    let (code, stdout, err) = run(&app, &["user", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    let mut out_lines = stdout.lines();
    assert_eq!(
        out_lines.next().unwrap(),
        format!("2 added, 1 changed, {} unchanged", known - 1)
    );
    let passwords: Vec<(String, String)> = out_lines
        .map(|l| {
            let parts: Vec<&str> = l.split(' ').collect();
            assert_eq!(parts[0], "password", "{stdout}");
            (parts[1].to_string(), parts[2].to_string())
        })
        .collect();
    assert_eq!(passwords.len(), 2, "{stdout}");
    assert_ne!(passwords[0].1, passwords[1].1);
    // user.created twice, user.disabled for op1 and for old_op.
    assert_eq!(app.event_count().await, events + 4);
    assert_eq!(count(&app, "user.created").await as usize, known + 2);
    assert_eq!(count(&app, "user.disabled").await, 2);

    // The new handler logs in with the printed password and sees 望京's work; the disabled ones
    // cannot log in.
    let (name, pw) = &passwords[0];
    assert_eq!(name, "wj_handler2");
    let token = app.login(name, pw).await;
    let me = crate::helpers::expect(app.get("/api/v1/me", Some(&token)).await, 200);
    assert_eq!(me["unit"]["code"], WANGJING, "{me}");
    assert_eq!(
        login_status(&app, "old_op", &passwords[1].1).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_status(&app, "op1", "password1").await,
        StatusCode::UNAUTHORIZED
    );

    // Enabling through the xlsx round trip: export, flip op1 back on, import.
    let xlsx = dir.join("users.xlsx");
    let args = [
        "user",
        "export",
        "--format",
        "xlsx",
        "--out",
        xlsx.to_str().unwrap(),
    ];
    let (code, _, err) = run(&app, &args);
    assert_eq!(code, Some(0), "{err}");
    let (code, stdout, err) = run(&app, &["user", "import", xlsx.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        stdout.trim(),
        format!("0 added, 0 changed, {} unchanged", known + 2)
    );
    std::fs::write(&file, "username,role,active\nop1,operator,1\n").unwrap();
    let (code, stdout, err) = run(&app, &["user", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(stdout.trim(), "0 added, 1 changed, 0 unchanged");
    assert_eq!(count(&app, "user.enabled").await, 1);
    assert_eq!(login_status(&app, "op1", "password1").await, StatusCode::OK);

    // A bad row exits 2 naming its row and column, and nothing of the file is kept.
    let events = app.event_count().await;
    for (row, named) in [
        ("new one,operator,,1".to_string(), "row 3, username"),
        ("newer,boss,,1".to_string(), "row 3, role"),
        ("newer,unit_handler,,1".to_string(), "row 3, unit"),
        ("newer,unit_handler,999999999,1".to_string(), "row 3, unit"),
        ("newer,operator,,maybe".to_string(), "row 3, active"),
        ("op1,dispatcher,,1".to_string(), "row 3, role"),
        (format!("cb1,callback_agent,{WANGJING},1"), "row 3, unit"),
        ("fresh,operator,,1".to_string(), "row 3, username"),
    ] {
        std::fs::write(
            &file,
            format!("username,role,unit,active\nfresh,operator,,1\n{row}\n"),
        )
        .unwrap();
        let (code, _, err) = run(&app, &["user", "import", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{row}: {err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    assert_eq!(app.event_count().await, events);
    let (code, stdout, _) = run(&app, &["user", "export"]);
    assert_eq!(code, Some(0));
    assert!(!stdout.contains("fresh,"), "{stdout}");
}
