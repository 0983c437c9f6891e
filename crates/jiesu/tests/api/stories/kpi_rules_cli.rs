//! Issue 18: KPI rules through the CLI. `jiesu kpi rules export` writes every stored version as
//! CSV or xlsx; `import` adds each new version with the API's event, all or nothing; a version
//! name is never reused for other rules; a bad row exits 2 naming its row and column.

use crate::helpers::{app, expect, Backend, TestApp};
use serde_json::json;

fn run(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = app.cli().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const HEADER: &str = "version,effective_from,w_response,w_resolution,w_satisfaction,basic_weight,class_size,callbacks_count_for,volume_per_10k";

pub async fn kpi_rules_export_and_import_through_the_cli_as_new_versions_with_named_bad_rows(
    b: Backend,
) {
    let app = app!(b);
    let dir = app.dir.path();
    let file = dir.join("rules.csv");
    let row = "v2027,2027-01-01,0.3,0.3,0.4,0.7,5,lead_and_co,1";
    std::fs::write(&file, format!("{HEADER}\n{row}\n")).unwrap();
    let events = app.event_count().await;
    let (code, out, err) = run(
        &app,
        &[
            "kpi",
            "rules",
            "import",
            file.to_str().unwrap(),
            "--dry-run",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        "1 would be added, 0 would be changed, 0 unchanged"
    );
    assert_eq!(app.event_count().await, events);
    let (code, out, err) = run(&app, &["kpi", "rules", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "1 added, 0 changed, 0 unchanged");
    assert_eq!(app.event_count().await, events + 1);

    // The API knows the version now: the same name is a conflict.
    let body = json!({ "version": "v2027", "w_response": 0.2, "w_resolution": 0.4, "w_satisfaction": 0.4, "basic_weight": 0.8, "class_size": 10, "effective_from": "2027-02-01" });
    expect(
        app.post("/api/v1/kpi/rules", Some(&app.admin), body).await,
        409,
    );

    // The export has it as imported, and its xlsx reads back as it is.
    let csv_out = dir.join("export.csv");
    let (code, _, err) = run(
        &app,
        &["kpi", "rules", "export", "--out", csv_out.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], HEADER);
    assert!(lines.contains(&row), "{lines:?}");
    let xlsx = dir.join("rules.xlsx");
    let (code, _, err) = run(
        &app,
        &[
            "kpi",
            "rules",
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(&app, &["kpi", "rules", "import", xlsx.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        format!("0 added, 0 changed, {} unchanged", lines.len() - 1)
    );

    // A bad row exits 2 naming its row and column, and nothing of the file is kept.
    let events = app.event_count().await;
    for (bad, named) in [
        (
            "v2027,2027-01-01,0.2,0.4,0.4,0.7,5,lead_and_co,1",
            "row 3, version",
        ),
        (
            "v2028,2028-01-01,abc,0.4,0.4,0.7,5,lead,0",
            "row 3, w_response",
        ),
        (
            "v2028,2028-01-01,0.2,0.4,0.4,0.7,5,nobody,0",
            "row 3, callbacks_count_for",
        ),
        (
            "v2028,2028-13-01,0.2,0.4,0.4,0.7,5,lead,0",
            "row 3, effective_from",
        ),
    ] {
        std::fs::write(
            &file,
            format!("{HEADER}\nv2029,2029-01-01,0.2,0.4,0.4,0.8,10,lead,0\n{bad}\n"),
        )
        .unwrap();
        let (code, _, err) = run(&app, &["kpi", "rules", "import", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    assert_eq!(app.event_count().await, events);
}
