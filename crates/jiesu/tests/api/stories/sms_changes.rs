//! Issue 19, second part: texts to the requester when the handling changes (merged, sent to
//! another unit after a return, extension granted), each exactly once through a real Kannel;
//! a unit's own quiet hours for reminders; and the privacy job clearing what requesters
//! texted back.

use super::cast::{act, actions, new_request, return_accepted, staff, CGZF, WANGJING, YOUANMEN};
use super::sms::{sms_app, through, SECRET};
use crate::helpers::{complaint, expect, order_id, Backend, TestApp};
use crate::kannel::{self, Kannel};
use chrono::{DateTime, Duration, Utc};
use jiesu::clock::Clock;
use serde_json::{json, Value};

/// The texts the fake SMSC got for `phone` whose text has `part`.
fn got(k: &Kannel, phone: &str, part: &str) -> Vec<String> {
    k.received()
        .into_iter()
        .filter(|m| m.to == phone && m.text.contains(part))
        .map(|m| m.text)
        .collect()
}

async fn query_code(app: &TestApp, id: &str) -> (String, String) {
    let row = jiesu::store::requests::get(app.state.store.reader(), id)
        .await
        .unwrap()
        .unwrap();
    (row.number, row.query_code.unwrap_or_default())
}

pub async fn a_merge_a_new_unit_and_an_extension_each_text_the_requester_once(b: Backend) {
    if !kannel::available() {
        return;
    }
    let Some(app) = sms_app(b).await else { return };
    let k = Kannel::start(&app.base, SECRET);
    let state = through(&app, &k);
    let s = staff(&app).await;
    let phone = "13812345678";
    let other = "13900002222";

    // Two requests about the same noise; the second is merged into the first.
    let r1 = new_request(&app, &s).await;
    let id = r1["id"].as_str().unwrap().to_string();
    let (number, code) = query_code(&app, &id).await;
    let mut body = complaint("望京西园三区夜里施工，吵得睡不着。");
    body["requester"]["phone"] = json!(other);
    let r2 = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id2 = r2["id"].as_str().unwrap().to_string();
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (2, 0)); // the receipts
    expect(
        app.post(
            &format!("/api/v1/requests/{id2}/merge"),
            Some(&s.operator),
            json!({ "into": id }),
        )
        .await,
        200,
    );
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let merged = k.wait_for(other, "已并入").await;
    assert!(merged.text.contains(&number), "{merged:?}");
    assert!(
        merged.text.contains(&code),
        "the surviving request's query code: {merged:?}"
    );
    assert!(merged.text.contains(r2["number"].as_str().unwrap()));
    assert!(merged.text.chars().count() <= 70, "{}", merged.text);

    // The first street returns the first request; the center sends it to 望京.
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": YOUANMEN, "role": "lead" }] }),
        )
        .await,
        200,
    );
    return_accepted(
        &app,
        &s.youanmen,
        &s.dispatcher,
        &order_id(&v, YOUANMEN, 1),
        "非本街道辖区",
    )
    .await;
    assert_eq!(
        jiesu::jobs::deliver_outbox(&state).await.unwrap(),
        (0, 0),
        "a first dispatch and a return text nobody"
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&s.dispatcher),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let unit = jiesu::store::reference::unit(app.state.store.reader(), WANGJING)
        .await
        .unwrap()
        .unwrap();
    let moved = k.wait_for(phone, "已转由").await;
    assert!(
        moved.text.contains(&number) && moved.text.contains(&unit.short_name),
        "{moved:?}"
    );
    assert!(moved.text.chars().count() <= 70, "{}", moved.text);

    // 望京 asks for two more days and gets them: the new deadline reaches the requester.
    let lead = order_id(&v, WANGJING, 1);
    act(&app, &s.wangjing, &lead, "acknowledge", json!({})).await;
    let v = act(
        &app,
        &s.wangjing,
        &lead,
        "extension",
        json!({ "hours": 48, "reason": "需协调施工单位" }),
    )
    .await;
    assert_eq!(
        jiesu::jobs::deliver_outbox(&state).await.unwrap(),
        (0, 0),
        "asking texts nobody"
    );
    let ext = v["extensions"][0]["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/extensions/{ext}/decision"),
            Some(&s.dispatcher),
            json!({ "approve": true }),
        )
        .await,
        200,
    );
    let reply_by: DateTime<Utc> = serde_json::from_value(
        v["assignments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == lead.as_str())
            .unwrap()["reply_by"]
            .clone(),
    )
    .unwrap();
    let deadline = reply_by
        .with_timezone(&app.state.config.offset())
        .format("%m-%d %H:%M")
        .to_string();
    assert_eq!(jiesu::jobs::deliver_outbox(&state).await.unwrap(), (1, 0));
    let extended = k.wait_for(phone, "期限延至").await;
    assert!(
        extended.text.contains(&deadline) && extended.text.contains(&number),
        "{extended:?}"
    );
    assert!(extended.text.chars().count() <= 70, "{}", extended.text);

    // Exactly one text each: the receipt and the two changes to the first requester, the
    // receipt and the merge to the second.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(got(&k, phone, "").len(), 3, "{:?}", k.received());
    assert_eq!(got(&k, other, "").len(), 2, "{:?}", k.received());
    for kind in ["已转由", "期限延至"] {
        assert_eq!(got(&k, phone, kind).len(), 1, "{kind}");
    }

    // The rules hold for these texts too: after TD the next merge texts nothing.
    let mut body = complaint("又是夜间施工。");
    body["requester"]["phone"] = json!("13900003333");
    let r3 = expect(
        app.post("/api/v1/requests", Some(&s.operator), body).await,
        201,
    );
    let id3 = r3["id"].as_str().unwrap().to_string();
    jiesu::jobs::deliver_outbox(&state).await.unwrap();
    let inbound = format!("/api/v1/sms/inbound?secret={SECRET}&from=13900003333&text=TD");
    expect(app.get(&inbound, None).await, 200);
    expect(
        app.post(
            &format!("/api/v1/requests/{id3}/merge"),
            Some(&s.operator),
            json!({ "into": id }),
        )
        .await,
        200,
    );
    let msgs = jiesu::store::outbox::for_request(app.state.store.reader(), &id3)
        .await
        .unwrap();
    assert!(msgs.iter().all(|m| m.kind != "merged"), "{msgs:?}");
    let v = expect(
        app.get(&format!("/api/v1/requests/{id3}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(actions(&v).contains(&"sms.withheld".to_string()), "{v}");
}

async fn set_duty_phone(app: &TestApp, code: &str, phone: &str) {
    let mut u = jiesu::store::units::get(app.state.store.reader(), code)
        .await
        .unwrap()
        .unwrap();
    u.duty_phone = phone.into();
    let mut tx = app.state.store.begin().await.unwrap();
    jiesu::store::units::save(&mut tx, &u).await.unwrap();
    tx.commit().await.unwrap();
}

/// When each reminder to the units of `id` may go.
async fn reminder_due(app: &TestApp, id: &str) -> Vec<DateTime<Utc>> {
    jiesu::store::events::for_request(app.state.store.reader(), id)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "sms.unit_reminder")
        .map(|e| e.payload["due_at"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// A unit's own quiet hours hold its reminders: `off` texts at night, `23-10` waits until
/// 10:00, a unit without its own follows JIESU_SMS_UNIT_QUIET_HOURS (22-8 here).
pub async fn each_unit_keeps_its_own_quiet_hours_for_reminders(b: Backend) {
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.sms_texts = true;
        c.sms_unit_quiet_hours = Some((22, 8));
    })
    .await
    else {
        return;
    };
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let path = |code: &str| format!("/api/v1/units/{code}");
    // Bad values name the field; units may not change it.
    for bad in ["25-3", "night", "8-8"] {
        let (status, v) = app
            .patch(&path(WANGJING), &admin, json!({ "sms_quiet_hours": bad }))
            .await;
        assert_eq!(status, 422, "{bad}: {v}");
        assert!(v.to_string().contains("sms_quiet_hours"), "{v}");
    }
    assert_eq!(
        app.patch(
            &path(WANGJING),
            &s.wangjing,
            json!({ "sms_quiet_hours": "off" })
        )
        .await
        .0,
        403
    );
    let v = expect(
        app.patch(&path(WANGJING), &admin, json!({ "sms_quiet_hours": "off" }))
            .await,
        200,
    );
    assert_eq!(v["sms_quiet_hours"], "off");
    let v = expect(
        app.patch(&path(CGZF), &admin, json!({ "sms_quiet_hours": " 23-10 " }))
            .await,
        200,
    );
    assert_eq!(v["sms_quiet_hours"], "23-10");
    let v = expect(app.get(&path(CGZF), Some(&admin)).await, 200);
    assert_eq!(v["sms_quiet_hours"], "23-10");
    assert_eq!(
        expect(app.get(&path(YOUANMEN), Some(&admin)).await, 200)["sms_quiet_hours"],
        ""
    );
    let n: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE action = 'unit.sms_quiet_hours'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(n, 2, "one event per change");
    // The admin units page shows the setting.
    let mut browser = crate::ui::Browser::with_session(&app, &admin);
    let page = browser
        .get("/ui/admin?view=units&state=all&q=dept.cgzf")
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<td>23-10</td>"), "{}", page.body);
    assert!(
        page.body.contains("name=\"sms_quiet_hours\""),
        "the unit form edits it"
    );

    // One general order to each unit; at 23:00 the sweep writes their reminders.
    let mut ids = Vec::new();
    let mut warn = app.clock.now();
    for unit in [WANGJING, CGZF, YOUANMEN] {
        set_duty_phone(&app, unit, "13900000001").await;
        let r = new_request(&app, &s).await;
        let id = r["id"].as_str().unwrap().to_string();
        expect(
            app.post(
                &format!("/api/v1/requests/{id}/dispatch"),
                Some(&s.dispatcher),
                json!({ "assignments": [{ "unit_code": unit, "role": "lead" }], "time_limit_class": "general" }),
            )
            .await,
            200,
        );
        let a = jiesu::store::assignments::assignments_of(app.state.store.reader(), &id)
            .await
            .unwrap()
            .remove(0);
        warn = warn.max(a.reply_warn_at);
        ids.push(id);
    }
    let cfg = &app.state.config;
    let day = warn.with_timezone(&cfg.offset()).date_naive();
    let mut night = cfg.local_midnight(day) + Duration::hours(23);
    if night < warn {
        night += Duration::days(1);
    }
    app.clock.advance(night - app.clock.now());
    jiesu::jobs::sweep_deadlines(&app.state).await.unwrap();
    let next_day =
        cfg.local_midnight(night.with_timezone(&cfg.offset()).date_naive()) + Duration::days(1);
    let off = reminder_due(&app, &ids[0]).await;
    let own = reminder_due(&app, &ids[1]).await;
    let default = reminder_due(&app, &ids[2]).await;
    assert!(!off.is_empty() && !own.is_empty() && !default.is_empty());
    assert!(off.iter().all(|d| *d == night), "{off:?}");
    assert!(
        own.iter().all(|d| *d == next_day + Duration::hours(10)),
        "{own:?}"
    );
    assert!(
        default.iter().all(|d| *d == next_day + Duration::hours(8)),
        "{default:?}"
    );
    // Back to the default: empty or "default".
    let admin = app.login("admin", "adminpass1").await; // the day's session ran out
    let v = expect(
        app.patch(&path(CGZF), &admin, json!({ "sms_quiet_hours": "default" }))
            .await,
        200,
    );
    assert_eq!(v["sms_quiet_hours"], "");
}

async fn inbound_rows(app: &TestApp, id: &str) -> Vec<(String, String)> {
    sqlx::query_as::<_, (String, String)>(
        "SELECT phone, text FROM sms_inbound WHERE request_id = $1",
    )
    .bind(id)
    .fetch_all(app.state.store.reader())
    .await
    .unwrap()
}

/// The privacy job clears what requesters texted back with their request (text and number)
/// and keeps opt-outs, which honour TD.
pub async fn the_privacy_job_clears_texts_from_requesters_and_keeps_opt_outs(b: Backend) {
    let Some(app) = TestApp::spawn_configured(b, |c| {
        c.sms_texts = true;
        c.sms_secret = Some(SECRET.to_string().into());
        c.sms_rating_hours = 24;
        c.privacy_retention_days = 30;
    })
    .await
    else {
        return;
    };
    let s = staff(&app).await;
    let phone = "13812345678";
    let r = new_request(&app, &s).await;
    let id = r["id"].as_str().unwrap().to_string();
    super::cast::through_to_reply(&app, &s, &id, WANGJING, &s.wangjing).await;
    let inbound = |text: &str| {
        format!(
            "/api/v1/sms/inbound?secret={SECRET}&from={phone}&text={}",
            form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>()
        )
    };
    let v = expect(app.get(&inbound("1 Y 谢谢王师傅"), None).await, 200);
    assert_eq!(v["outcome"], "unparsed");
    // The agent closes it after reading the text; then the requester opts out.
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&s.agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "satisfied" }),
        )
        .await,
        200,
    );
    expect(app.get(&inbound("TD"), None).await, 200);
    assert_eq!(
        inbound_rows(&app, &id).await,
        vec![("138****5678".to_string(), "1 Y 谢谢王师傅".to_string())]
    );

    app.clock.advance(Duration::days(31));
    assert_eq!(
        jiesu::services::privacy::redact_due(&app.state)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        inbound_rows(&app, &id).await,
        vec![(String::new(), String::new())]
    );
    let answers = jiesu::store::sms::ratings_of(app.state.store.reader(), &id)
        .await
        .unwrap();
    assert!(
        answers
            .iter()
            .all(|(_, _, a)| a.as_deref().unwrap_or("").is_empty()),
        "{answers:?}"
    );
    let optouts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_optouts WHERE phone = $1")
        .bind(phone)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(optouts, 1, "the opt-out stays");
    let s = super::cast::relogin(&app).await; // the month's sessions ran out
    let v: Value = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&s.dispatcher))
            .await,
        200,
    );
    assert!(actions(&v).contains(&"privacy.redacted".to_string()), "{v}");
}

/// The SMS templates page: linked from the admin page, lists every template in both
/// languages, refuses a text that is too long with the error beside it, saves a good one.
pub async fn admins_edit_sms_templates_on_their_page(b: Backend) {
    let Some(app) = TestApp::spawn(b).await else {
        return;
    };
    let s = staff(&app).await;
    let admin = app.login("admin", "adminpass1").await;
    let mut browser = crate::ui::Browser::with_session(&app, &admin);
    let page = browser.get("/ui/admin").await;
    assert!(
        page.body.contains("href=\"/ui/admin/sms\""),
        "linked from the admin page"
    );
    let page = browser.get("/ui/admin/sms").await;
    assert_eq!(page.status, 200);
    for kind in [
        "receipt",
        "merged",
        "redispatched",
        "extended",
        "unit_breach",
    ] {
        assert!(
            page.body.contains(&format!("sms-template-{kind}")),
            "{kind}"
        );
    }
    assert!(page.body.contains("已并入{into}一并办理"));
    let token = crate::ui::csrf(&page.body);
    let long = "长".repeat(301);
    let got = browser
        .post(
            "/ui/admin/sms",
            &[
                ("_csrf", &token),
                ("kind", "extended"),
                ("zh", &long),
                ("en", "x"),
            ],
        )
        .await;
    assert_eq!(got.status, 422, "{}", got.body);
    assert!(
        got.body.contains("data-testid=\"sms-template-error\""),
        "{}",
        got.body
    );
    assert!(got.body.contains("模板内容须为1至300字"), "{}", got.body);
    assert!(got.body.contains(&long), "what was typed comes back");
    let before = jiesu::store::sms::templates(app.state.store.reader())
        .await
        .unwrap();
    assert!(before
        .iter()
        .any(|t| t.kind == "extended" && t.zh.starts_with("【12345】")));
    let got = browser
        .post(
            "/ui/admin/sms",
            &[
                ("_csrf", &token),
                ("kind", "extended"),
                ("zh", "【12345】诉求{number}延期至{deadline}"),
                ("en", "[12345] {number} due {deadline}"),
            ],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    assert!(
        got.location.starts_with("/ui/admin/sms"),
        "{}",
        got.location
    );
    let page = browser.get("/ui/admin/sms").await;
    assert!(page.body.contains("诉求{number}延期至{deadline}"));
    // Only administrators.
    let mut other = crate::ui::Browser::with_session(&app, &s.dispatcher);
    assert_eq!(other.get("/ui/admin/sms").await.status, 403);
}
