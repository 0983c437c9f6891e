//! Issue 18: the dispatch catalogue through the CLI. `jiesu catalogue export` writes the rules
//! in force as CSV or xlsx; `import` adds (empty id), replaces (a changed row) and retires
//! (`active` 0) rules with the API's events, all or nothing, and a bad row exits 2 naming its
//! row and column.

use super::cast::{staff, CHAOYANG};
use crate::helpers::{app, expect, Backend, TestApp};
use serde_json::{json, Value};

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

fn rule<'a>(rules: &'a Value, category: &str) -> Option<&'a Value> {
    rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["category_code"] == category && r["area_code"] == "")
}

pub async fn the_dispatch_catalogue_exports_and_imports_through_the_cli_with_events_and_named_bad_rows(
    b: Backend,
) {
    let app = app!(b);
    let s = staff(&app).await;
    let dir = app.dir.path();
    let csv_out = dir.join("catalogue.csv");
    let (code, _, err) = run(
        &app,
        &["catalogue", "export", "--out", csv_out.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    let text = std::fs::read_to_string(&csv_out).unwrap();
    let lines: Vec<&str> = text.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "id,category_code,area_code,units,note,active");
    let line = |category: &str| {
        *lines
            .iter()
            .find(|l| l.split(',').nth(1) == Some(category))
            .unwrap()
    };
    assert!(line("ggfw.gr").contains(",co.heating:lead|{street}:co,"));
    let shipped = lines.len() - 1;
    let gd_id = line("ggfw.gd").split(',').next().unwrap().to_string();

    // One replaced, one added, one retired, one as it is: a dry run counts and keeps nothing.
    let changed =
        line("ggfw.gr").replace("co.heating:lead|{street}:co", "{street}:lead|co.heating:co");
    let retired = format!("{},0", line("ggfw.gd").strip_suffix(",1").unwrap());
    let file = dir.join("changes.csv");
    std::fs::write(
        &file,
        format!(
            "{}\n{changed}\n,ggfw.gs,{CHAOYANG},co.water:lead|{{street}}:co,朝阳区供水,1\n{}\n{retired}\n",
            lines[0],
            line("ggfw.rq")
        ),
    )
    .unwrap();
    let events = app.event_count().await;
    let (code, out, err) = run(
        &app,
        &["catalogue", "import", file.to_str().unwrap(), "--dry-run"],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        "1 would be added, 2 would be changed, 1 unchanged"
    );
    assert_eq!(app.event_count().await, events);
    let (code, out, err) = run(&app, &["catalogue", "import", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out.trim(), "1 added, 2 changed, 1 unchanged");
    assert_eq!(app.event_count().await, events + 3);
    assert_eq!(count(&app, "catalogue.rule_retired").await, 1);

    // The API sees the change.
    let rules = expect(app.get("/api/v1/catalogue", Some(&s.operator)).await, 200);
    assert_eq!(rules.as_array().unwrap().len(), shipped);
    assert_eq!(
        rule(&rules, "ggfw.gr").unwrap()["units"][0],
        json!({ "unit": "{street}", "role": "lead" })
    );
    assert!(rule(&rules, "ggfw.gd").is_none());
    assert!(rules
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["category_code"] == "ggfw.gs" && r["area_code"] == CHAOYANG));

    // The xlsx export reads back as it is.
    let xlsx = dir.join("catalogue.xlsx");
    let (code, _, err) = run(
        &app,
        &[
            "catalogue",
            "export",
            "--format",
            "xlsx",
            "--out",
            xlsx.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, out, err) = run(&app, &["catalogue", "import", xlsx.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(
        out.trim(),
        format!("0 added, 0 changed, {shipped} unchanged")
    );

    // A bad row exits 2 naming its row and column, and nothing of the file is kept.
    let events = app.event_count().await;
    for (row, named) in [
        (format!("{gd_id},ggfw.gd,,co.power:lead,,1"), "row 3, id"),
        (",ggfw.gd,,co.power:boss,,1".to_string(), "row 3, units"),
        (
            ",nope,,co.power:lead,,1".to_string(),
            "row 3, category_code",
        ),
        (
            ",ggfw.gd,,co.power:lead|co.water:lead,,1".to_string(),
            "row 3, units",
        ),
        (
            ",ggfw.gd,,co.power:lead,,maybe".to_string(),
            "row 3, active",
        ),
    ] {
        std::fs::write(
            &file,
            format!("{}\n,ggfw.gd,,co.power:lead,恢复,1\n{row}\n", lines[0]),
        )
        .unwrap();
        let (code, _, err) = run(&app, &["catalogue", "import", file.to_str().unwrap()]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    assert_eq!(app.event_count().await, events);
    let rules = expect(app.get("/api/v1/catalogue", Some(&s.operator)).await, 200);
    assert!(rule(&rules, "ggfw.gd").is_none());
}
