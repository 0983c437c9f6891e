//! Issue 23 in the pages: the knowledge base kept by a city. A street writes an entry of its
//! own domain (a draft) and may not write another street's; the center finds it among the
//! drafts, reviews everything its filter matches in one batch and publishes it; the history
//! shows every step. At the desk the operator answers from it and says whether it helped, on
//! the request's page; the verdict stays with the request.

use crate::helpers::{app, Backend};
use crate::ui::{csrf, Browser};
use jiesu_core::Role;

const WANGJING: &str = "110105026"; // 望京街道
const YOUANMEN: &str = "110106001"; // 右安门街道 (丰台)

fn field<'a>(html: &'a str, marker: &str) -> &'a str {
    html.split(marker)
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no {marker} in {html}"))
}

pub async fn a_street_drafts_an_entry_the_center_reviews_and_publishes_it_and_the_desk_rates_it(
    b: Backend,
) {
    let app = app!(b);
    let street = app.user("wj1", Role::UnitHandler, Some(WANGJING)).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let op = app.user("op1", Role::Operator, None).await;

    // The street's form starts with its own unit; the entry is saved as a draft.
    let mut unit = Browser::with_session(&app, &street);
    let form = unit.get("/ui/kb/new").await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert!(form
        .body
        .contains(&format!("name=\"unit_code\" value=\"{WANGJING}\"")));
    let token = csrf(&form.body);
    let entry = [
        ("_csrf", token.as_str()),
        ("title", "望京街道垃圾分类桶站开放时间？"),
        (
            "answer",
            "望京街道各小区桶站每天 6:30–9:00、18:00–21:00 开放，其余时间请投放到定时定点亭。",
        ),
        ("tags", "垃圾分类，桶站 开放时间"),
        ("category", "环境保护"),
        ("unit_code", WANGJING),
        ("source", "望京街道办事处公告"),
        ("valid_from", "2026-01-01"),
        ("valid_until", "2099-12-31"),
    ];
    // A wrong date and another street's domain are refused, naming the field / the rule.
    let mut bad = entry.to_vec();
    bad[8] = ("valid_until", "2099-02-30");
    let refused = unit.post("/ui/kb", &bad).await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    assert!(
        refused.body.contains("<code>valid_until</code>"),
        "{}",
        refused.body
    );
    let mut other = entry.to_vec();
    other[5] = ("unit_code", YOUANMEN);
    assert_eq!(unit.post("/ui/kb", &other).await.status, 403);
    let saved = unit.post("/ui/kb", &entry).await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let id = saved
        .location
        .trim_start_matches("/ui/kb/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = unit.get(&saved.location).await;
    assert!(page.body.contains("data-status=\"draft\""), "{}", page.body);
    assert!(!page.body.contains("kb-steps"), "a unit does not review");
    // The unit's list opens on its own entries; a step is the center's.
    let list = unit.get("/ui/kb").await;
    assert_eq!(list.body.matches("data-testid=\"kb-row\"").count(), 1);
    // Another street sees neither the draft nor its history.
    let other_street = app.user("yam1", Role::UnitHandler, Some(YOUANMEN)).await;
    let mut other = Browser::with_session(&app, &other_street);
    assert_eq!(other.get(&format!("/ui/kb/{id}")).await.status, 404);
    let theirs = other
        .get(&format!("/ui/kb?unit={WANGJING}&status=draft"))
        .await;
    assert_eq!(theirs.status, 200);
    assert_eq!(theirs.body.matches("data-testid=\"kb-row\"").count(), 0);
    let any = other.get("/ui/kb?unit=").await;
    assert_eq!(any.body.matches("data-testid=\"kb-row\"").count(), 0);
    let step = [("_csrf", token.as_str()), ("step", "review")];
    assert_eq!(
        unit.post(&format!("/ui/kb/{id}/step"), &step).await.status,
        403
    );
    assert_eq!(unit.post("/ui/kb/steps", &step).await.status, 403);

    // The center lists the drafts, reviews all its filter matches, publishes the entry.
    let mut center = Browser::with_session(&app, &sup);
    let drafts = center
        .get("/ui/kb?status=draft&title=%E6%9C%9B%E4%BA%AC")
        .await;
    assert_eq!(drafts.status, 200, "{}", drafts.body);
    assert!(
        drafts.body.contains(&format!("/ui/kb/{id}")),
        "{}",
        drafts.body
    );
    assert_eq!(center.get("/ui/kb?status=done").await.status, 422);
    assert_eq!(center.get("/ui/kb?page=0").await.status, 422);
    let token = csrf(&drafts.body);
    let all = center
        .post(
            "/ui/kb/steps",
            &[
                ("_csrf", token.as_str()),
                ("step", "review"),
                ("title", "望京"),
            ],
        )
        .await;
    assert_eq!(all.status, 303, "{}", all.body);
    let after = center.get(&all.location).await;
    assert!(
        after.body.contains("data-testid=\"kb-moved\""),
        "{}",
        after.body
    );
    let page = center.get(&format!("/ui/kb/{id}")).await;
    assert!(
        page.body.contains("data-status=\"reviewed\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("data-testid=\"kb-step-publish\""));
    let published = center
        .post(
            &format!("/ui/kb/{id}/step"),
            &[("_csrf", token.as_str()), ("step", "publish")],
        )
        .await;
    assert_eq!(published.status, 303, "{}", published.body);
    // Publishing twice is a conflict, not a second step.
    let again = center
        .post(
            &format!("/ui/kb/{id}/step"),
            &[("_csrf", token.as_str()), ("step", "publish")],
        )
        .await;
    assert_eq!(again.status, 409, "{}", again.body);
    let page = center.get(&format!("/ui/kb/{id}")).await;
    assert!(page.body.contains("data-status=\"published\""));
    assert_eq!(
        page.body.matches("data-testid=\"kb-version\"").count(),
        3,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("<td>wj1</td>") && page.body.contains("<td>sup1</td>"),
        "the history names who: {}",
        page.body
    );

    // At the desk the answer is offered with its 有用 / 没用 buttons; the operator answers
    // from it and rates it on the request's page.
    let mut desk = Browser::with_session(&app, &op);
    let token = csrf(&desk.get("/ui/intake").await.body);
    let typed = [
        ("_csrf", token.as_str()),
        ("kind", "consultation"),
        ("phone", "13812345678"),
        ("text", "请问望京街道垃圾分类桶站几点开放？"),
    ];
    let panel = desk.post("/ui/intake/suggest", &typed).await;
    assert!(
        panel.body.contains(&format!("value=\"answer:{id}\"")),
        "{}",
        panel.body
    );
    assert!(panel
        .body
        .contains(&format!("hx-post=\"/ui/kb/{id}/rate\"")));
    let suggestion_id = field(&panel.body, "name=\"suggestion_id\" value=\"").to_string();
    let answer = format!("answer:{id}");
    let mut fields = typed.to_vec();
    fields.push(("action", &answer));
    fields.push(("suggestion_id", &suggestion_id));
    let done = desk.post("/ui/intake", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let request_id = done
        .location
        .trim_start_matches("/ui/requests/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let number = {
        let r = crate::helpers::expect(
            app.get(&format!("/api/v1/requests/{request_id}"), Some(&op))
                .await,
            200,
        );
        r["number"].as_str().unwrap().to_string()
    };
    let detail = desk.get(&done.location).await;
    assert!(
        detail.body.contains("data-testid=\"kb-helpful\""),
        "{}",
        detail.body
    );
    assert!(
        detail
            .body
            .contains(&format!("&#34;request_id&#34;:&#34;{request_id}&#34;")),
        "{}",
        detail.body
    );
    let bad = desk
        .post(
            &format!("/ui/kb/{id}/rate"),
            &[("_csrf", token.as_str()), ("helpful", "maybe")],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let rated = desk
        .post(
            &format!("/ui/kb/{id}/rate"),
            &[
                ("_csrf", token.as_str()),
                ("helpful", "0"),
                // The request's number names it as well as its id; the id is kept.
                ("request_id", number.as_str()),
            ],
        )
        .await;
    assert_eq!(rated.status, 200, "{}", rated.body);
    assert!(rated.body.contains("已评价：没用"), "{}", rated.body);
    assert!(rated.body.contains("data-testid=\"kb-rated\""));
    let detail = desk.get(&format!("/ui/requests/{request_id}")).await;
    assert!(detail.body.contains("已评价：没用"), "{}", detail.body);
    assert!(!detail.body.contains("data-testid=\"kb-helpful\""));
    // A unit's staff do not rate answers at the desk.
    let token = csrf(&unit.get("/ui/kb").await.body);
    let refused = unit
        .post(
            &format!("/ui/kb/{id}/rate"),
            &[("_csrf", token.as_str()), ("helpful", "1")],
        )
        .await;
    assert_eq!(refused.status, 403);
    // The verdict is an event naming the entry and the request.
    let payloads: Vec<String> =
        sqlx::query_scalar("SELECT payload FROM events WHERE action = 'kb.rated'")
            .fetch_all(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(payloads.len(), 1, "{payloads:?}");
    assert!(payloads[0].contains(&id) && payloads[0].contains(&request_id));
    // The stale page lists what needs a look (nothing yet: one verdict is not "often").
    let stale = center.get("/ui/kb/stale").await;
    assert_eq!(stale.status, 200, "{}", stale.body);
    assert_eq!(
        stale.body.matches("data-testid=\"kb-stale-row\"").count(),
        0
    );
    assert_eq!(unit.get("/ui/kb/stale").await.status, 403);

    // A second call: the operator marks the offered answer at the desk (没用, then changes
    // their mind: 有用) before any request exists, then answers from it. The buttons send the
    // intake form's key (the call's): the desk's verdict is one (the latest), and it goes
    // with the request the call made.
    let form = desk.get("/ui/intake").await;
    let token = csrf(&form.body);
    let call = field(&form.body, "name=\"idempotency_key\" value=\"").to_string();
    let typed = [
        ("_csrf", token.as_str()),
        ("idempotency_key", call.as_str()),
        ("kind", "consultation"),
        ("phone", "13812345679"),
        ("text", "请问望京街道垃圾分类桶站几点开放？"),
    ];
    let panel = desk.post("/ui/intake/suggest", &typed).await;
    assert!(panel_sends_the_call(&panel.body), "{}", panel.body);
    let suggestion_id = field(&panel.body, "name=\"suggestion_id\" value=\"").to_string();
    for helpful in ["0", "1"] {
        let at_desk = desk
            .post(
                &format!("/ui/kb/{id}/rate"),
                &[
                    ("_csrf", token.as_str()),
                    ("helpful", helpful),
                    ("idempotency_key", call.as_str()),
                ],
            )
            .await;
        assert_eq!(at_desk.status, 200, "{}", at_desk.body);
    }
    let mut fields = typed.to_vec();
    fields.push(("action", &answer));
    fields.push(("suggestion_id", &suggestion_id));
    let done = desk.post("/ui/intake", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let second = done
        .location
        .trim_start_matches("/ui/requests/")
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let detail = desk.get(&done.location).await;
    assert!(detail.body.contains("已评价：有用"), "{}", detail.body);
    assert!(!detail.body.contains("data-testid=\"kb-helpful\""));
    let verdicts: Vec<(Option<String>, i64)> = sqlx::query_as(
        "SELECT request_id, helpful FROM kb_feedback WHERE entry_id = $1 ORDER BY helpful",
    )
    .bind(&id)
    .fetch_all(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(
        verdicts,
        vec![(Some(request_id.clone()), 0), (Some(second), 1)],
        "one verdict a call, each with its request"
    );
}

/// The JSON an import answered.
fn json_of(got: &crate::ui::Got) -> serde_json::Value {
    serde_json::from_str(&got.body).unwrap_or_else(|e| panic!("{e}: {}", got.body))
}

/// The center imports a file from the list page (a dry run first, then for real; bad rows
/// named by row and column, nothing stored), and exports the entries as xlsx and CSV, which
/// import again unchanged. Unit staff do neither.
pub async fn the_center_imports_and_exports_entries_from_the_kb_page(b: Backend) {
    use jiesu::services::tables::{self, TableFormat};
    let app = app!(b);
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let street = app.user("wj_mgr", Role::UnitManager, Some(WANGJING)).await;
    let mut center = Browser::with_session(&app, &sup);
    let list = center.get("/ui/kb").await;
    assert!(
        list.body.contains("data-testid=\"kb-import\""),
        "{}",
        list.body
    );
    let token = csrf(&list.body);
    let total = |v: serde_json::Value| v["total"].as_i64().unwrap();
    let entries = |status: &'static str| {
        let app = &app;
        let sup = sup.clone();
        async move {
            crate::helpers::expect(
                app.get(
                    &match status {
                        "" => "/api/v1/kb/entries".to_string(),
                        s => format!("/api/v1/kb/entries?status={s}"),
                    },
                    Some(&sup),
                )
                .await,
                200,
            )
        }
    };
    let csv = "title,answer,category,unit_code,valid_to,keywords,status\n\
               供暖报修电话,拨打热力集团热线报修。,城乡建设,,2027-03-31,暖气|供暖,published\n\
               垃圾分类桶站开放时间,每天 7:00–9:00、18:00–20:00。,城乡建设,110105026,,,\n";
    let dry = center
        .post_bytes(
            "/ui/kb/import?name=知识库.csv&dry_run=true",
            &token,
            csv.into(),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    let v = json_of(&dry);
    assert_eq!(
        (v["added"].as_u64(), v["dry_run"].as_bool()),
        (Some(2), Some(true))
    );
    assert!(v["message"].as_str().unwrap().contains("试导入"), "{v}");
    assert_eq!(total(entries("").await), 0, "a dry run stores nothing");
    let done = center
        .post_bytes("/ui/kb/import?name=kb.csv", &token, csv.into())
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let v = json_of(&done);
    assert_eq!(
        v["message"], "已导入：新增 2 条，修改 0 条，0 条不变",
        "{v}"
    );
    assert_eq!(total(entries("published").await), 1);
    assert_eq!(total(entries("draft").await), 1);

    // Bad rows are named by their row in the file (the header is row 1); nothing is stored.
    let bad = "title,answer,valid_from,status\n甲,答复一,2026-13-01,\n乙,答复二,,maybe\n";
    let refused = center
        .post_bytes("/ui/kb/import?name=bad.csv", &token, bad.into())
        .await;
    assert_eq!(refused.status, 422, "{}", refused.body);
    let v = json_of(&refused);
    let fields: Vec<(&str, &str)> = v["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["field"].as_str().unwrap(), f["message"].as_str().unwrap()))
        .collect();
    assert_eq!(fields.len(), 2, "{v}");
    assert_eq!(fields[0].0, "rows[0].valid_from");
    assert!(fields[0].1.starts_with("第 2 行 valid_from："), "{v}");
    assert_eq!(fields[1].0, "rows[1].status");
    assert!(fields[1].1.starts_with("第 3 行 status："), "{v}");
    for (name, body, why) in [
        ("kb.txt", csv, "not .csv or .xlsx"),
        ("kb.xlsx", csv, "CSV bytes under an xlsx name"),
        ("kb.csv", "问题,答复\n甲,乙\n", "no title/answer header"),
    ] {
        let got = center
            .post_bytes(&format!("/ui/kb/import?name={name}"), &token, body.into())
            .await;
        assert_eq!(got.status, 422, "{why}: {}", got.body);
        assert_eq!(
            json_of(&got)["error"]["fields"][0]["field"],
            "file",
            "{why}"
        );
    }
    assert_eq!(total(entries("").await), 2);

    // The street's draft is reviewed: an export carries that status, and reads back as it is.
    let n = crate::helpers::expect(
        app.post(
            "/api/v1/kb/steps",
            Some(&sup),
            serde_json::json!({ "step": "review" }),
        )
        .await,
        200,
    );
    assert_eq!(n["count"], 1, "{n}");
    // Export as xlsx: a download in the import's columns, which imports again unchanged.
    let (status, headers, xlsx) = center.get_file("/ui/kb/export?format=xlsx").await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"kb-2026"));
    let rows = tables::parse(&xlsx, TableFormat::Xlsx).unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][..3], ["id", "title", "answer"]);
    let heating = rows.iter().find(|r| r[1] == "供暖报修电话").unwrap();
    assert_eq!(
        (heating[7].as_str(), heating[8].as_str()),
        ("2027-03-31", "暖气|供暖")
    );
    assert!(rows.iter().any(|r| r[9] == "reviewed"), "{rows:?}");
    let again = center
        .post_bytes("/ui/kb/import?name=kb.xlsx", &token, xlsx)
        .await;
    let v = json_of(&again);
    assert_eq!(
        (
            v["added"].as_u64(),
            v["changed"].as_u64(),
            v["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(2)),
        "{v}"
    );
    // The list's filter goes with the CSV export.
    let (status, _, csv_out) = center
        .get_file("/ui/kb/export?format=csv&status=published")
        .await;
    assert_eq!(status, 200);
    let rows = tables::parse(&csv_out, TableFormat::Csv).unwrap();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(center.get_file("/ui/kb/export?format=pdf").await.0, 422);

    // A street keeps its entries one by one: no import, no export.
    let mut unit = Browser::with_session(&app, &street);
    let page = unit.get("/ui/kb").await;
    assert!(!page.body.contains("data-testid=\"kb-import\""));
    let token = csrf(&page.body);
    let got = unit
        .post_bytes("/ui/kb/import?name=kb.csv", &token, csv.into())
        .await;
    assert_eq!(got.status, 403, "{}", got.body);
    assert_eq!(unit.get_file("/ui/kb/export?format=csv").await.0, 403);
    assert_eq!(total(entries("").await), 2);
}

/// Whether the desk's 有用 / 没用 buttons send the intake form's key with their verdict.
fn panel_sends_the_call(panel: &str) -> bool {
    panel.contains("hx-params=\"helpful,request_id,idempotency_key\"")
}
