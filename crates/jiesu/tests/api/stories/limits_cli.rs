//! Issue 18: time limits through the CLI. `jiesu limits export` writes every version as CSV or
//! xlsx; `import` adds a version for each row that differs (from now when its date is empty),
//! with the API's event, all or nothing, and a bad row exits 2 naming its row and column.

use crate::helpers::{app, expect, Backend, TestApp};
use serde_json::Value;

fn run(app: &TestApp, args: &[&str]) -> (Option<i32>, String, String) {
    let out = app.cli().args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn versions(app: &TestApp, class: &str) -> Vec<Value> {
    let all = expect(app.get("/api/v1/time-limits", Some(&app.admin)).await, 200);
    all.as_array()
        .unwrap()
        .iter()
        .filter(|v| v["class"] == class)
        .cloned()
        .collect()
}

pub async fn time_limits_export_and_import_through_the_cli_as_new_versions_with_named_bad_rows(
    b: Backend,
) {
    let app = app!(b);
    let dir = app.dir.path();
    let csv_out = dir.join("limits.csv");
    let (code, _, err) = run(
        &app,
        &["limits", "export", "--out", csv_out.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(
        lines[0],
        "class,effective_from,name_zh,name_en,acknowledge_minutes,reply_minutes,day_kind"
    );
    let line = |class: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(&format!("{class},")))
            .unwrap()
    };
    assert!(line("general").ends_with(",一般,General,120,10080,working"));
    let all = lines.len() - 1;

    // General gets 8 working days from now, a new class comes, emergency stays.
    let file = dir.join("changes.csv");
    std::fs::write(
        &file,
        format!(
            "{}\ngeneral,,一般,General,120,11520,working\nnight_noise,,夜间噪声,Night noise,20,240,calendar\n{}\n",
            lines[0],
            line("emergency")
        ),
    )
    .unwrap();
    let events = app.event_count().await;
    let (code, out, err) = run(
        &app,
        &["limits", "import", file.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        "2 would be added, 0 would be changed, 1 unchanged"
    );
    assert_eq!(app.event_count().await, events);
    let (code, out, err) = run(&app, &["limits", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "2 added, 0 changed, 1 unchanged");
    assert_eq!(app.event_count().await, events + 2);
    let general = versions(&app, "general").await;
    assert_eq!(general.len(), 2, "the old version stays: {general:?}");
    assert_eq!(general[1]["reply_minutes"], 11520);
    assert_eq!(
        versions(&app, "night_noise").await[0]["acknowledge_minutes"],
        20
    );

    // The xlsx export reads back as it is.
    let xlsx = dir.join("limits.xlsx");
    let (code, _, err) = run(
        &app,
        &[
            "limits",
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(&app, &["limits", "import", xlsx.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        format!("0 added, 0 changed, {} unchanged", all + 2)
    );

    // A bad row exits 2 naming its row and column, and nothing of the file is kept.
    let events = app.event_count().await;
    let past = line("complex").replace(",21600,", ",30000,");
    for (row, named) in [
        (
            "complex,,复杂,Complex,120,abc,working".to_string(),
            "row 3, reply_minutes",
        ),
        (
            "complex,,复杂,Complex,120,30000,weekly".to_string(),
            "row 3, day_kind",
        ),
        (past, "row 3, effective_from"),
        (
            "complex,yesterday,复杂,Complex,120,30000,working".to_string(),
            "row 3, effective_from",
        ),
    ] {
        std::fs::write(
            &file,
            format!(
                "{}\nemergency,,紧急,Emergency,15,120,calendar\n{row}\n",
                lines[0]
            ),
        )
        .unwrap();
        let (code, _, err) = run(&app, &["limits", "import", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    assert_eq!(app.event_count().await, events);
    assert_eq!(versions(&app, "emergency").await.len(), 1);
}
