//! Issue 23 in the pages: the intake desk shows the caller's history for the number typed,
//! with a supervisor's abusive-caller mark, and "记为催办" records the call as a reminder on
//! the open request instead of a new one; the supervisors' page marks and lifts a number.

use crate::helpers::{app, complaint, expect, Backend};
use crate::ui::{csrf, Browser};
use jiesu_core::Role;

fn with_csrf<'a>(token: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("_csrf", token)];
    v.extend_from_slice(fields);
    v
}

pub async fn the_desk_shows_the_callers_history_and_records_a_reminder(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let first = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区工地夜间施工噪音扰民，凌晨两点还在施工。"),
        )
        .await,
        201,
    );
    let id = first["id"].as_str().unwrap();

    // The supervisor marks the number on the marks page; the page masks it.
    let mut boss = Browser::with_session(&app, &sup);
    let page = boss.get("/ui/callers").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data-testid=\"mark-form\""));
    let token = csrf(&page.body);
    let bad = boss
        .post(
            "/ui/callers/marks",
            &with_csrf(
                &token,
                &[
                    ("phone", "12"),
                    ("reason", "辱骂"),
                    ("expires_at", "2026-12-01"),
                ],
            ),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>phone</code>"), "{}", bad.body);
    let ok = boss
        .post(
            "/ui/callers/marks",
            &with_csrf(
                &token,
                &[
                    ("phone", "13812345678"),
                    ("reason", "多次辱骂话务员"),
                    ("expires_at", "2026-12-01"),
                ],
            ),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = boss.get("/ui/callers").await;
    assert!(page.body.contains("138****5678"));
    assert!(!page.body.contains("13812345678"));
    assert!(page.body.contains("多次辱骂话务员"));

    // The operator types the number: the panel lists the open request first with the mark.
    let mut desk = Browser::with_session(&app, &op);
    let intake = desk.get("/ui/intake").await;
    assert!(intake.body.contains("hx-post=\"/ui/intake/history\""));
    let token = csrf(&intake.body);
    let typed = [
        ("_csrf", token.as_str()),
        ("phone", "138 1234 5678"),
        ("text", "工地夜间施工噪音还在继续"),
    ];
    let panel = desk.post("/ui/intake/history", &typed).await;
    assert_eq!(panel.status, 200, "{}", panel.body);
    assert!(
        panel.body.contains("data-testid=\"caller-mark\""),
        "{}",
        panel.body
    );
    assert!(panel.body.contains("多次辱骂话务员"));
    assert!(panel.body.contains(first["number"].as_str().unwrap()));
    assert!(panel.body.contains(&format!("value=\"remind:{id}\"")));
    assert!(!panel.body.contains("13812345678"));
    // Half a number shows the hint, not an error.
    let half = desk
        .post(
            "/ui/intake/history",
            &[("_csrf", token.as_str()), ("phone", "1381")],
        )
        .await;
    assert_eq!(half.status, 200);
    assert!(!half.body.contains("caller-mark"));

    // 记为催办: the request gets the reminder, no new request is recorded.
    let remind = format!("remind:{id}");
    let done = desk
        .post(
            "/ui/intake",
            &[
                ("_csrf", token.as_str()),
                ("kind", "complaint"),
                ("channel", "phone"),
                ("phone", "13812345678"),
                ("text", "工地夜间施工噪音还在继续"),
                ("action", remind.as_str()),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.location.starts_with(&format!("/ui/requests/{id}")),
        "{}",
        done.location
    );
    let list = expect(app.get("/api/v1/requests", Some(&op)).await, 200);
    assert_eq!(list["total"], 1, "{list}");
    let h = expect(
        app.get("/api/v1/callers/history?phone=13812345678", Some(&op))
            .await,
        200,
    );
    assert_eq!(h["requests"][0]["reminders"], 1);
    let detail = desk.get(&format!("/ui/requests/{id}")).await;
    assert!(
        detail.body.contains("来电催办"),
        "the timeline shows the reminder"
    );

    // The dashboard shows the month's repeat callers and reminder calls in a tile of its own.
    let dash = boss.get("/ui/dashboard?month=2026-11").await; // the default is the last complete month
    assert_eq!(dash.status, 200, "{}", dash.body);
    let tile = dash
        .body
        .split("data-testid=\"dashboard-repeat-callers\"")
        .nth(1)
        .expect("the repeat-caller tile");
    assert!(tile.contains("data-testid=\"reminder-calls\">1<"), "{tile}");
    assert!(
        tile.contains("data-testid=\"repeat-callers\">0<"),
        "one request from the number: no repeat caller yet; {tile}"
    );
}
