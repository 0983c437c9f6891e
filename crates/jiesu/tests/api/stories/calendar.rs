//! Issue 18: the official working-day calendar. The shipped days (春节, 国庆 and their 调休
//! weekends) move working-day deadlines; administrators add next year's days through the API,
//! each an event, and a shipped reload never overwrites them.

use super::cast::{relogin, staff, Staff, WANGJING};
use crate::helpers::{expect, Backend, TestApp};
use chrono::{DateTime, Duration, FixedOffset, TimeZone, Utc};
use serde_json::{json, Value};

fn bj(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    FixedOffset::east_opt(8 * 3600)
        .unwrap()
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Records a complaint and dispatches it to 望京 as `general` (2 h / 7 working days):
/// (acknowledge_by, reply_by).
async fn dispatch_general(app: &TestApp, s: &Staff) -> (DateTime<Utc>, DateTime<Utc>) {
    let r = super::cast::new_request(app, s).await;
    let id = r["id"].as_str().unwrap();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }], "time_limit_class": "general" }),
        )
        .await,
        200,
    );
    let a = &v["assignments"][0];
    (
        serde_json::from_value(a["acknowledge_by"].clone()).unwrap(),
        serde_json::from_value(a["reply_by"].clone()).unwrap(),
    )
}

async fn day_events(app: &TestApp) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'calendar.day_set'")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap()
}

fn field(body: &Value) -> &str {
    body["error"]["fields"][0]["field"].as_str().unwrap_or("")
}

pub async fn a_holiday_week_pushes_working_day_deadlines_and_admins_add_next_years_days(
    b: Backend,
) {
    // Tuesday 2025-09-30 10:00, the day before 国庆.
    let Some(mut app) = TestApp::spawn_at(b, bj(2025, 9, 30, 10)).await else {
        return;
    };
    let s = staff(&app).await;

    // The shipped 2025 days: 10-01..10-08 off, Sunday 09-28 and Saturday 10-11 worked.
    let year = expect(
        app.get("/api/v1/calendar?year=2025", Some(&s.operator))
            .await,
        200,
    );
    let days: Vec<(&str, &str)> = year
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| {
            d["date"].as_str().unwrap() >= "2025-09-28"
                && d["date"].as_str().unwrap() <= "2025-10-11"
        })
        .map(|d| (d["date"].as_str().unwrap(), d["kind"].as_str().unwrap()))
        .collect();
    let mut want = vec![("2025-09-28", "workday")];
    want.extend((1..=8).map(|d| {
        (
            [
                "2025-10-01",
                "2025-10-02",
                "2025-10-03",
                "2025-10-04",
                "2025-10-05",
                "2025-10-06",
                "2025-10-07",
                "2025-10-08",
            ][d - 1],
            "holiday",
        )
    }));
    want.push(("2025-10-11", "workday"));
    assert_eq!(days, want);
    let oct1 = expect(
        app.get("/api/v1/calendar/2025-10-01", Some(&s.operator))
            .await,
        200,
    );
    assert_eq!(
        (oct1["name"].as_str(), oct1["source"].as_str()),
        (Some("国庆节"), Some("shipped"))
    );

    // 7 working days from Tuesday 10:00: 14 h that day, then 10-09, 10-10, Saturday 10-11
    // (worked), 10-13, 10-14, 10-15, and 10 h of Thursday 10-16. Without the calendar it
    // would have been Thursday 10-09 10:00, a week earlier.
    let (ack, reply) = dispatch_general(&app, &s).await;
    assert_eq!(ack, bj(2025, 9, 30, 12));
    assert_eq!(reply, bj(2025, 10, 16, 10));

    // Friday 10-10 23:00: the 调休 Saturday counts, so 2 working hours end Saturday 01:00
    // (not Monday 01:00); 7 working days: 1 h Friday, Saturday, 10-13..10-17, 23 h of Monday 10-20.
    app.clock
        .advance(bj(2025, 10, 10, 23) - bj(2025, 9, 30, 10));
    let s = relogin(&app).await;
    let (ack, reply) = dispatch_general(&app, &s).await;
    assert_eq!(ack, bj(2025, 10, 11, 1));
    assert_eq!(reply, bj(2025, 10, 20, 23));

    // 2027 is not shipped: an administrator adds 春节 when it is announced.
    app.clock.advance(bj(2027, 2, 4, 10) - bj(2025, 10, 10, 23));
    let s = relogin(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    // Thursday 2027-02-04 10:00 before: Monday 02-15 10:00.
    let (_, before) = dispatch_general(&app, &s).await;
    assert_eq!(before, bj(2027, 2, 15, 10));

    // Not an administrator: 403, and nothing is set.
    let events = day_events(&app).await;
    for token in [&s.dispatcher, &s.wangjing] {
        expect(
            app.put(
                "/api/v1/calendar/2027-02-08",
                token,
                json!({ "kind": "holiday", "name": "春节" }),
            )
            .await,
            403,
        );
        expect(
            app.post(
                "/api/v1/calendar",
                Some(token),
                json!({ "days": [{ "date": "2027-02-08", "kind": "holiday" }] }),
            )
            .await,
            403,
        );
        expect(app.delete("/api/v1/calendar/2025-10-01", token).await, 403);
    }
    expect(
        app.get("/api/v1/calendar/2027-02-08", Some(&admin)).await,
        404,
    );

    // Bad input names the field and changes nothing.
    let bad = expect(
        app.put(
            "/api/v1/calendar/2027-02-30",
            &admin,
            json!({ "kind": "holiday" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "date");
    let bad = expect(
        app.put(
            "/api/v1/calendar/2027-02-08",
            &admin,
            json!({ "kind": "vacation" }),
        )
        .await,
        400,
    );
    assert_eq!(field(&bad), "kind", "{bad}");
    // A weekday is worked anyway: a workday must be a weekend day.
    let bad = expect(
        app.put(
            "/api/v1/calendar/2027-02-08",
            &admin,
            json!({ "kind": "workday" }),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "kind");
    let bad = expect(
        app.post(
            "/api/v1/calendar",
            Some(&admin),
            json!({ "days": [
        { "date": "2027-02-09", "kind": "holiday" }, { "date": "27-2-9", "kind": "holiday" } ] }),
        )
        .await,
        422,
    );
    assert_eq!(field(&bad), "days[1].date");
    expect(
        app.get("/api/v1/calendar/2027-02-09", Some(&admin)).await,
        404,
    );
    assert_eq!(day_events(&app).await, events);

    // The administrator adds Monday and Tuesday off (one by PUT, one in a list) and a worked
    // Saturday: each an event naming the administrator.
    let set = expect(
        app.put(
            "/api/v1/calendar/2027-02-08",
            &admin,
            json!({ "kind": "holiday", "name": "春节" }),
        )
        .await,
        200,
    );
    assert_eq!(
        (set["kind"].as_str(), set["source"].as_str()),
        (Some("holiday"), Some("admin"))
    );
    expect(
        app.post(
            "/api/v1/calendar",
            Some(&admin),
            json!({ "days": [
        { "date": "2027-02-09", "kind": "holiday", "name": "春节" },
        { "date": "2027-02-20", "kind": "workday", "name": "春节" } ] }),
        )
        .await,
        200,
    );
    assert_eq!(day_events(&app).await, events + 3);
    let actors: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT actor_role FROM events WHERE action = 'calendar.day_set'",
    )
    .fetch_all(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(actors, vec!["admin".to_string()]);
    let y2027 = expect(
        app.get("/api/v1/calendar?year=2027", Some(&s.wangjing))
            .await,
        200,
    );
    assert_eq!(y2027.as_array().unwrap().len(), 3);

    // Two days off more: the next order's deadline moves two days, to Wednesday 02-17; the
    // order already dispatched keeps its own.
    let (_, after) = dispatch_general(&app, &s).await;
    assert_eq!(after, bj(2027, 2, 17, 10));
    assert_eq!(after - before, Duration::days(2));

    // Removing a day is an event too.
    let removed_before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'calendar.day_removed'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    expect(app.delete("/api/v1/calendar/2027-02-09", &admin).await, 204);
    expect(app.delete("/api/v1/calendar/2027-02-09", &admin).await, 404);
    let removed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'calendar.day_removed'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(removed, removed_before + 1);

    // An administrator's change to a shipped day survives a reload of the shipped calendar.
    expect(
        app.put(
            "/api/v1/calendar/2025-10-08",
            &admin,
            json!({ "kind": "holiday", "name": "国庆节（本市）" }),
        )
        .await,
        200,
    );
    sqlx::query("DELETE FROM reference_versions WHERE name = 'holidays'")
        .execute(app.state.store.reader())
        .await
        .unwrap();
    app.restart().await;
    let admin = app.login("admin", "adminpass1").await;
    let oct8 = expect(
        app.get("/api/v1/calendar/2025-10-08", Some(&admin)).await,
        200,
    );
    assert_eq!(
        (oct8["name"].as_str(), oct8["source"].as_str()),
        (Some("国庆节（本市）"), Some("admin"))
    );
    let y2025 = expect(
        app.get("/api/v1/calendar?year=2025", Some(&admin)).await,
        200,
    );
    assert_eq!(
        y2025.as_array().unwrap().len(),
        year.as_array().unwrap().len()
    );
    let y2027 = expect(
        app.get("/api/v1/calendar?year=2027", Some(&admin)).await,
        200,
    );
    assert_eq!(y2027.as_array().unwrap().len(), 2);

    // The console imports next year's days from a CSV file and lists them.
    let csv = app.dir.path().join("2027.csv");
    std::fs::write(
        &csv,
        "date,kind,name\n2027-09-26,workday,国庆节\n2027-10-01,holiday,国庆节\n",
    )
    .unwrap();
    let out = app
        .cli()
        .args(["calendar", "import"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("2 days set"));
    for (body, named) in [
        (
            "date,kind,name\n2027-10-02,holiday,国庆节\n2027-13-01,holiday,x\n",
            "line 3, date",
        ),
        (
            "date,kind,name\n2027-10-02,vacation,国庆节\n",
            "line 2, kind",
        ),
        (
            "date,kind,name\n2027-10-04,workday,国庆节\n",
            "line 2, kind",
        ),
    ] {
        std::fs::write(&csv, body).unwrap();
        let out = app
            .cli()
            .args(["calendar", "import"])
            .arg(&csv)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(named), "{named}: {err}");
    }
    let out = app
        .cli()
        .args(["calendar", "list", "--year", "2027"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        [
            "date,kind,name,source",
            "2027-02-08,holiday,春节,admin",
            "2027-02-20,workday,春节,admin",
            "2027-09-26,workday,国庆节,admin",
            "2027-10-01,holiday,国庆节,admin",
        ]
    );
    let by_console: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE action = 'calendar.day_set' AND actor_id = 'console'",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(by_console, 2);

    // The year goes out as xlsx and comes back: an edited workbook sets its days (a new one
    // added in the sheet), and a bad cell in it is named by line and column.
    let xlsx = app.dir.path().join("2027.xlsx");
    let out = app
        .cli()
        .args([
            "calendar", "export", "--year", "2027", "--format", "xlsx", "--out",
        ])
        .arg(&xlsx)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    let mut rows: Vec<Vec<String>> = {
        use calamine::Reader;
        let mut back: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
        let range = back.worksheet_range_at(0).unwrap().unwrap();
        range
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect()
    };
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0], ["date", "kind", "name", "source"]);
    rows.push(vec!["2027-10-02".into(), "holiday".into(), "国庆节".into()]);
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    // The new day's date typed as an Excel date, not text.
    let date = rust_xlsxwriter::ExcelDateTime::from_ymd(2027, 10, 3).unwrap();
    let fmt = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    ws.write_datetime_with_format(6, 0, &date, &fmt).unwrap();
    ws.write_string(6, 1, "holiday").unwrap();
    ws.write_string(6, 2, "国庆节").unwrap();
    let edited = app.dir.path().join("2027-edited.xlsx");
    wb.save(&edited).unwrap();
    let out = app
        .cli()
        .args(["calendar", "import"])
        .arg(&edited)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("6 days set"));
    let y2027 = expect(
        app.get("/api/v1/calendar?year=2027", Some(&admin)).await,
        200,
    );
    let dates: Vec<&str> = y2027
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["date"].as_str().unwrap())
        .collect();
    assert!(
        dates.contains(&"2027-10-02") && dates.contains(&"2027-10-03"),
        "{dates:?}"
    );
    assert_eq!(dates.len(), 6);

    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (r, row) in [
        ["date", "kind", "name"],
        ["2027-10-04", "holiday", "国庆节"],
        ["2027-02-30", "holiday", "x"],
    ]
    .iter()
    .enumerate()
    {
        for (c, v) in row.iter().enumerate() {
            ws.write_string(r as u32, c as u16, *v).unwrap();
        }
    }
    wb.save(&edited).unwrap();
    let events = app.event_count().await;
    let out = app
        .cli()
        .args(["calendar", "import"])
        .arg(&edited)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("line 3, date"), "{err}");
    assert_eq!(app.event_count().await, events);

    // The CSV export is the list's form with a BOM.
    let out = app
        .cli()
        .args(["calendar", "export", "--year", "2027"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with('\u{feff}'));
    assert!(text.contains("2027-10-03,holiday,国庆节,admin"), "{text}");
}
