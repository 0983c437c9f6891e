//! Stories of proactive work (issue #7): hotspots, 举一反三, burst alerts, proactive tasks and
//! the monthly topic, each run on SQLite and PostgreSQL.

use crate::helpers::{app, complaint, expect, order_id, seed_complaint as seed, Backend};
use jiesu_core::Role;
use serde_json::{json, Value};

const WANGJING: &str = "110105026"; // 望京街道
const CGZF: &str = "dept.cgzf"; // 城管执法局
const NOISE: &str = "hjbh.zs.sg"; // 夜间施工噪音
const VENDING: &str = "cxjs.csgl.zd"; // 占道经营

fn field_of(v: &Value) -> String {
    v["error"]["fields"][0]["field"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

pub async fn hotspots_group_a_repeated_problem_and_a_task_on_it_is_handled_found_elsewhere_and_made_a_topic(
    b: Backend,
) {
    let mut app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let wangjing = app.user("wj_mgr", Role::UnitManager, Some(WANGJING)).await;
    let cgzf = app
        .user("cgzf_handler", Role::UnitHandler, Some(CGZF))
        .await;

    // Four people about night work at one estate, two about the same elsewhere, one other.
    let wangjing_texts = [
        "望京西园三区旁工地夜间施工噪音扰民，凌晨两点还在施工",
        "望京西园三区工地夜间施工噪音太大，晚上睡不着",
        "投诉望京西园三区附近工地夜间施工噪音扰民",
        "望京西园三区工地半夜施工噪音扰民，请管一管",
    ];
    let mut here = Vec::new();
    for (i, t) in wangjing_texts.iter().enumerate() {
        here.push(
            seed(
                &app,
                &op,
                t,
                "朝阳区望京西园三区",
                NOISE,
                &format!("1381234567{i}"),
            )
            .await,
        );
        app.clock.advance(chrono::Duration::hours(2));
    }
    let mut there = Vec::new();
    for (i, t) in [
        "翠林小区旁工地夜间施工噪音扰民，凌晨还在施工",
        "翠林小区工地夜间施工噪音扰民严重",
    ]
    .iter()
    .enumerate()
    {
        there.push(
            seed(
                &app,
                &op,
                t,
                "丰台区右安门翠林小区",
                NOISE,
                &format!("1391234567{i}"),
            )
            .await,
        );
    }
    seed(
        &app,
        &op,
        "中关村大街停车难，车位太少",
        "海淀区中关村大街",
        VENDING,
        "13700000000",
    )
    .await;

    // The hotspot list puts the estate's problem first, described by place and problem.
    let hot = expect(app.get("/api/v1/hotspots", Some(&sup)).await, 200);
    let first = &hot[0];
    assert_eq!(first["rank"], 1);
    assert_eq!(
        ids(&first["request_ids"]),
        {
            let mut h = here.clone();
            h.sort();
            h
        },
        "{hot}"
    );
    assert_eq!(first["size"], 4);
    assert_eq!(first["street"][1], "望京街道");
    assert_eq!(first["categories"][0], json!([NOISE, 4]));
    let description = first["description"].as_str().unwrap();
    assert!(description.starts_with("望京西园三区"), "{description}");
    assert!(
        description.contains("施工") || description.contains("噪音"),
        "{description}"
    );
    let key = first["key"].as_str().unwrap().to_string();
    // The default view is the live index fed at intake; a date range mines the database.
    let ranged = expect(
        app.get("/api/v1/hotspots?from=2026-11-01&to=2026-11-30", Some(&sup))
            .await,
        200,
    );
    assert_eq!(ranged[0]["request_ids"], first["request_ids"]);
    assert_eq!(ranged[0]["description"], first["description"]);
    assert_eq!(ranged[0]["categories"], first["categories"]);
    assert!(hot
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["size"].as_u64().unwrap() >= 2));
    // A district filter keeps only that district's problems.
    let fengtai = expect(
        app.get("/api/v1/hotspots?district=110106&top=5", Some(&sup))
            .await,
        200,
    );
    assert_eq!(fengtai.as_array().unwrap().len(), 1, "{fengtai}");
    assert_eq!(ids(&fengtai[0]["request_ids"]), {
        let mut t = there.clone();
        t.sort();
        t
    });
    // Unit staff do not mine the city.
    expect(app.get("/api/v1/hotspots", Some(&wangjing)).await, 403);
    expect(app.get("/api/v1/alerts", Some(&cgzf)).await, 403);

    // A supervisor opens a task from the hotspot; the dispatcher may not.
    let task = json!({
        "title": "望京西园三区工地夜间施工扰民专项治理",
        "description": "核查工地夜间施工许可，督促停工或降噪，并向周边居民公示。",
        "source": { "kind": "hotspot", "ref": key },
        "request_ids": here,
        "units": [{ "unit_code": WANGJING, "role": "lead" }, { "unit_code": CGZF, "role": "co" }],
        "time_limit_class": "general"
    });
    expect(
        app.post("/api/v1/tasks", Some(&disp), task.clone()).await,
        403,
    );
    expect(
        app.post("/api/v1/tasks", Some(&wangjing), task.clone())
            .await,
        403,
    );
    let v = expect(app.post("/api/v1/tasks", Some(&sup), task).await, 201);
    let task_id = v["id"].as_str().unwrap().to_string();
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["channel"], "proactive");
    assert_eq!(v["assignments"].as_array().unwrap().len(), 2);

    // The units handle it like any order: acknowledge, reply.
    for (token, unit) in [(&wangjing, WANGJING), (&cgzf, CGZF)] {
        let order = order_id(&v, unit, 1);
        expect(
            app.post(
                &format!("/api/v1/assignments/{order}/acknowledge"),
                Some(token),
                json!({}),
            )
            .await,
            200,
        );
        let body = json!({ "to_requester": "已责令工地夜间停工", "to_center": "已核查并责令夜间停工，周边已公示", "outcome": "resolved" });
        expect(
            app.post(
                &format!("/api/v1/assignments/{order}/reply"),
                Some(token),
                body,
            )
            .await,
            200,
        );
    }
    let listed = expect(
        app.get("/api/v1/tasks?status=replied", Some(&sup)).await,
        200,
    );
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["id"], task_id.as_str());
    assert_eq!(
        (listed[0]["orders"].as_i64(), listed[0]["replied"].as_i64()),
        (Some(2), Some(2))
    );
    assert_eq!(listed[0]["source_kind"], "hotspot");
    assert_eq!(listed[0]["request_ids"].as_array().unwrap().len(), 4);
    let open = expect(
        app.get("/api/v1/tasks?status=dispatched", Some(&sup)).await,
        200,
    );
    assert!(open.as_array().unwrap().is_empty());
    // The prompting requests record that a task was opened on them.
    let r = expect(
        app.get(&format!("/api/v1/requests/{}", here[0]), Some(&sup))
            .await,
        200,
    );
    assert!(
        r["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "request.task_opened"),
        "{r}"
    );

    // 举一反三: the same problem at another street, from the task and from the hotspot.
    let elsewhere = expect(
        app.get(&format!("/api/v1/tasks/{task_id}/elsewhere"), Some(&sup))
            .await,
        200,
    );
    assert_eq!(elsewhere.as_array().unwrap().len(), 1, "{elsewhere}");
    assert_eq!(elsewhere[0]["street"][1], "右安门街道");
    assert_eq!(ids(&elsewhere[0]["request_ids"]), {
        let mut t = there.clone();
        t.sort();
        t
    });
    let similar = expect(
        app.get(&format!("/api/v1/hotspots/{key}/similar"), Some(&sup))
            .await,
        200,
    );
    assert_eq!(similar[0]["key"], elsewhere[0]["key"]);
    expect(
        app.get("/api/v1/hotspots/nope/similar", Some(&sup)).await,
        404,
    );
    let by_rank = expect(app.get("/api/v1/hotspots/1/similar", Some(&sup)).await, 200);
    assert_eq!(by_rank[0]["key"], elsewhere[0]["key"]);
    expect(
        app.get("/api/v1/hotspots/99/similar", Some(&sup)).await,
        404,
    );
    // …and a task opens there too.
    let there_task = json!({
        "title": "翠林小区工地夜间施工扰民（举一反三）",
        "description": "参照望京西园三区的做法核查处置。",
        "source": { "kind": "elsewhere", "ref": task_id },
        "request_ids": there,
        "units": [{ "unit_code": "110106001", "role": "lead" }]
    });
    let v = expect(
        app.post("/api/v1/tasks", Some(&app.admin), there_task)
            .await,
        201,
    );
    let there_id = v["id"].as_str().unwrap().to_string();

    // The monthly topic: the repeated problem is the first proposal.
    let proposals = expect(
        app.get("/api/v1/topics/proposals?month=2026-11", Some(&sup))
            .await,
        200,
    );
    assert_eq!(proposals[0]["category_code"], NOISE, "{proposals}");
    assert_eq!(proposals[0]["volume"], 6);
    assert_eq!(proposals[0]["districts"], 2);
    assert!(proposals[0]["description"]
        .as_str()
        .unwrap()
        .starts_with("望京西园三区"));
    let topic = json!({
        "month": "2026-11", "title": "居民区周边工地夜间施工扰民", "lead_unit": CGZF,
        "problems": [
            { "category_code": NOISE, "description": "居民区旁工地夜间违规施工" },
            { "category_code": "hjbh.zs.sh", "description": "夜间社会生活噪声" }
        ],
        "tasks": [task_id, there_id]
    });
    let t = expect(app.post("/api/v1/topics", Some(&sup), topic).await, 201);
    assert_eq!(t["tasks_total"], 2);
    assert_eq!(t["tasks_done"], 1);
    let nov = t["months"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["month"] == "2026-11")
        .unwrap();
    assert_eq!(nov["requests"], json!([6, 0]));
    let again = expect(
        app.get(
            &format!("/api/v1/topics/{}", t["id"].as_str().unwrap()),
            Some(&sup),
        )
        .await,
        200,
    );
    assert_eq!(again["title"], "居民区周边工地夜间施工扰民");
    // After a restart the live index is rebuilt from the database.
    let before = hot[0]["request_ids"].clone();
    app.restart().await;
    let hot = expect(app.get("/api/v1/hotspots", Some(&sup)).await, 200);
    assert_eq!(hot[0]["request_ids"], before);
    let tasks = expect(app.get("/api/v1/tasks", Some(&sup)).await, 200);
    assert!(tasks
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["topic_id"] == again["id"]));
}

pub async fn bad_proactive_input_gets_422_naming_the_field(b: Backend) {
    let app = app!(b);
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let id = seed(
        &app,
        &app.admin,
        "望京西园三区夜间施工噪音扰民",
        "朝阳区望京西园三区",
        NOISE,
        "13812345678",
    )
    .await;
    for (path, field) in [
        ("/api/v1/hotspots?top=0", "top"),
        ("/api/v1/hotspots?from=2026-13-01", "from"),
        ("/api/v1/hotspots?from=2026-11-05&to=2026-11-01", "from"),
        ("/api/v1/alerts?date=yesterday", "date"),
        ("/api/v1/tasks?status=done", "status"),
        ("/api/v1/topics/proposals?month=2026-1", "month"),
    ] {
        let v = expect(app.get(path, Some(&sup)).await, 422);
        assert_eq!(field_of(&v), field, "{path}: {v}");
    }
    let good = json!({
        "title": "t", "description": "d", "source": { "kind": "hotspot", "ref": id },
        "request_ids": [id], "units": [{ "unit_code": WANGJING, "role": "lead" }]
    });
    let bad = |path: &str, value: Value| {
        let mut b = good.clone();
        let (head, last) = path.rsplit_once('/').map_or(("", path), |(h, l)| (h, l));
        let target = if head.is_empty() {
            &mut b
        } else {
            b.pointer_mut(&format!("/{head}")).unwrap()
        };
        target[last] = value;
        b
    };
    for (body, field) in [
        (bad("source/kind", json!("rumour")), "source.kind"),
        (bad("title", json!(" ")), "title"),
        (
            bad("request_ids", json!(["no-such-request"])),
            "request_ids[0]",
        ),
        (
            bad("units", json!([{ "unit_code": "nowhere", "role": "lead" }])),
            "units[0].unit_code",
        ),
        (bad("units", json!([])), "units"),
        (
            bad("units", json!([{ "unit_code": WANGJING, "role": "co" }])),
            "units",
        ),
        (
            bad("time_limit_class", json!("someday")),
            "time_limit_class",
        ),
    ] {
        let v = expect(
            app.post("/api/v1/tasks", Some(&sup), body.clone()).await,
            422,
        );
        assert_eq!(field_of(&v), field, "{body}: {v}");
    }
    let before = app.event_count().await;
    let topic = json!({ "month": "2026-11", "title": "x", "lead_unit": CGZF, "problems": [{ "category_code": NOISE, "description": "d" }] });
    let v = expect(app.post("/api/v1/topics", Some(&sup), topic).await, 422);
    assert_eq!(field_of(&v), "problems");
    let topic = json!({ "month": "2026-11", "title": "x", "lead_unit": CGZF,
        "problems": [{ "category_code": NOISE, "description": "d" }, { "category_code": "nope", "description": "d" }] });
    let v = expect(app.post("/api/v1/topics", Some(&sup), topic).await, 422);
    assert_eq!(field_of(&v), "problems[1].category_code");
    let mut proactive = complaint("望京西园三区夜间施工噪音扰民");
    proactive["channel"] = json!("proactive");
    let v = expect(
        app.post("/api/v1/requests", Some(&app.admin), proactive)
            .await,
        422,
    );
    assert_eq!(field_of(&v), "channel");
    assert_eq!(app.event_count().await, before, "nothing changed");
    expect(app.get("/api/v1/topics/nope", Some(&sup)).await, 404);
    expect(
        app.get("/api/v1/tasks/nope/elsewhere", Some(&sup)).await,
        404,
    );
}

pub async fn a_burst_at_one_street_raises_an_alert_with_its_reason(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    app.user("sup1", Role::Supervisor, None).await;
    // One stall a month ago starts the series; then five in a day.
    seed(
        &app,
        &op,
        "中关村那边有人占道摆摊",
        "海淀区中关村",
        VENDING,
        "13700000000",
    )
    .await;
    app.clock.advance(chrono::Duration::days(35));
    // (sessions end meanwhile)
    let op = app.login("op1", "password1").await;
    let sup = app.login("sup1", "password1").await;
    let mut burst = Vec::new();
    for i in 0..5 {
        burst.push(
            seed(
                &app,
                &op,
                &format!("中关村那边流动摊贩占道经营{i}"),
                "海淀区中关村",
                VENDING,
                &format!("1370000001{i}"),
            )
            .await,
        );
        app.clock.advance(chrono::Duration::minutes(20));
    }
    let alerts = expect(
        app.get("/api/v1/alerts?date=2026-12-07", Some(&sup)).await,
        200,
    );
    assert_eq!(alerts.as_array().unwrap().len(), 1, "{alerts}");
    let a = &alerts[0];
    assert_eq!(a["place"], "中关村街道");
    assert_eq!(a["category"], VENDING);
    assert_eq!(a["count"], 5);
    assert!(a["expected"].as_f64().unwrap() < 1.0);
    assert!(a["score"].as_f64().unwrap() > 3.5);
    assert!(a["why_zh"].as_str().unwrap().contains("今日5件"), "{a}");
    assert!(a["why_en"].as_str().unwrap().contains("5 requests today"));
    assert_eq!(ids(&a["request_ids"]), {
        let mut b = burst.clone();
        b.sort();
        b
    });
    // The day before was quiet.
    let quiet = expect(
        app.get("/api/v1/alerts?date=2026-12-06", Some(&sup)).await,
        200,
    );
    assert!(quiet.as_array().unwrap().is_empty());
    // An alert opens a task like a hotspot does.
    let task = json!({
        "title": "中关村大街占道经营突增", "description": "排查流动摊贩，落实门前三包。",
        "source": { "kind": "alert", "ref": "中关村街道|cxjs.csgl.zd|2026-12-07" },
        "request_ids": burst, "units": [{ "unit_code": "dept.cgzf", "role": "lead" }]
    });
    let v = expect(app.post("/api/v1/tasks", Some(&sup), task).await, 201);
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["category_code"], VENDING);
}

pub async fn a_second_node_follows_the_other_nodes_intakes_into_its_hotspots_and_duplicates(
    b: Backend,
) {
    use jiesu::clock::Clock;
    use jiesu::services::{hotspots::live as live_hotspots, suggest};
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    // Another node on the same database, started before these intakes.
    let other = jiesu::open_state(app.config.clone(), std::sync::Arc::new(app.clock.clone()))
        .await
        .expect("a second node");
    let texts = [
        "望京西园三区旁工地夜间施工噪音扰民，凌晨两点还在施工",
        "望京西园三区工地夜间施工噪音太大，晚上睡不着",
        "投诉望京西园三区附近工地夜间施工噪音扰民",
    ];
    let mut ids = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        ids.push(
            seed(
                &app,
                &op,
                t,
                "朝阳区望京西园三区",
                NOISE,
                &format!("1381234567{i}"),
            )
            .await,
        );
    }
    ids.sort();
    let now = app.clock.now().timestamp_millis();
    assert!(other.hotspots.is_empty());
    assert_eq!(live_hotspots::follow(&other).await.unwrap(), 3);
    let hot = other.hotspots.hottest(5, now).unwrap();
    let mut joined = hot[0].request_ids.clone();
    joined.sort();
    assert_eq!(joined, ids, "one problem with the three requests: {hot:?}");
    // Following again adds nothing; the node that took them in skips its own intakes.
    assert_eq!(live_hotspots::follow(&other).await.unwrap(), 0);
    assert_eq!(live_hotspots::follow(&app.state).await.unwrap(), 0);
    assert_eq!(app.state.hotspots.len(), 3);
    // The second node's duplicate suggestions now name them, each once.
    for state in [&other, &app.state] {
        let input = suggest::SuggestInput {
            text: "望京西园三区工地夜间施工噪音扰民，半夜还在施工".into(),
            address: String::new(),
            location: None,
        };
        let s = suggest::suggest(state, input).await.unwrap();
        let mut dupes: Vec<String> = s.duplicates.iter().map(|d| d.id.clone()).collect();
        dupes.sort();
        let distinct = dupes.len();
        dupes.dedup();
        assert_eq!(dupes.len(), distinct, "each duplicate once: {dupes:?}");
        assert!(
            !dupes.is_empty() && dupes.iter().all(|d| ids.contains(d)),
            "{dupes:?}"
        );
    }

    // Both nodes write, turn about and then at once. On PostgreSQL each node remembers the
    // chain head it last wrote and writes after it without reading it; when the other node
    // has written since, that write must notice and append after the real head. A forked
    // chain would fail on the duplicate position or in the verification.
    let user_id: String = sqlx::query_scalar("SELECT id FROM users WHERE username = 'op1'")
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    let actor = jiesu_core::Actor {
        user_id,
        username: "op1".into(),
        role: Role::Operator,
        unit: None,
    };
    let before = app.event_count().await;
    let create = |state: jiesu::services::AppState, i: usize| {
        let actor = actor.clone();
        async move {
            let mut body = complaint("望京西园三区夜间施工噪音扰民。");
            body["requester"]["phone"] = json!(format!("1392222{i:04}"));
            let input = serde_json::from_value(body).unwrap();
            jiesu::services::intake::create(&state, &actor, input)
                .await
                .unwrap()
        }
    };
    let node = |i: usize| {
        if i.is_multiple_of(2) {
            other.clone()
        } else {
            app.state.clone()
        }
    };
    for i in 0..6 {
        create(node(i), i).await;
    }
    let at_once: Vec<_> = (6..30).map(|i| tokio::spawn(create(node(i), i))).collect();
    for t in at_once {
        t.await.unwrap();
    }
    assert_eq!(app.event_count().await, before + 30);
    assert!(jiesu::store::events::verify(app.state.store.reader())
        .await
        .unwrap()
        .is_ok());
    other.store.close().await;
}

/// The dashboard keeps the two kinds of hot problem apart (issue 20): complaints about one
/// place under 热点问题 with the place named, and a question many ask from all over the city
/// (政策咨询) under its own heading, without a place.
pub async fn the_dashboard_puts_a_question_many_ask_apart_from_a_problem_at_one_place(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let noise = [
        "望京西园三区旁工地夜间施工噪音扰民，凌晨两点还在施工",
        "望京西园三区工地夜间施工噪音太大，晚上睡不着",
        "投诉望京西园三区附近工地夜间施工噪音扰民",
    ];
    for (i, t) in noise.iter().enumerate() {
        seed(
            &app,
            &op,
            t,
            "朝阳区望京西园三区",
            NOISE,
            &format!("1381234567{i}"),
        )
        .await;
    }
    let asked = [
        "请问新能源小客车指标怎么申请？家庭摇号积分怎么算",
        "咨询新能源小客车指标申请条件，家庭摇号怎么积分",
        "新能源小客车指标家庭申请需要什么材料？摇号积分规则是什么",
        "想了解新能源小客车指标的家庭摇号积分怎么计算",
    ];
    for (i, t) in asked.iter().enumerate() {
        let body = json!({
            "kind": "consultation", "text": t,
            "requester": { "phone": format!("1391234567{i}") },
        });
        expect(app.post("/api/v1/requests", Some(&op), body).await, 201);
    }
    let mut browser = crate::ui::Browser::with_session(&app, &sup);
    let page = browser.get("/ui/dashboard").await;
    assert_eq!(page.status, 200);
    let section = |id: &str| -> String {
        page.body
            .split(&format!("data-testid=\"{id}\""))
            .nth(1)
            .and_then(|s| s.split("</section>").next())
            .unwrap_or_else(|| panic!("no {id} section"))
            .to_string()
    };
    let places = section("hotspots");
    let questions = section("hot-questions");
    assert!(places.contains("望京"), "{places}");
    assert!(
        places.contains("噪音") || places.contains("施工"),
        "{places}"
    );
    assert!(
        !places.contains("小客车"),
        "the question is not a place's problem: {places}"
    );
    assert!(questions.contains("小客车"), "{questions}");
    assert!(!questions.contains("噪音"), "{questions}");
    let rows = |html: &str| html.matches("<tr><td>").count();
    assert_eq!(
        rows(&questions),
        1,
        "one question, not one a phrasing: {questions}"
    );
    // Its size: the third cell of the row (heat, problem, size, span).
    let size: usize = questions
        .split("<tr><td>")
        .nth(1)
        .and_then(|row| row.split("<td>").nth(2))
        .and_then(|cell| cell.split('<').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no size in {questions}"));
    assert!(
        (3..=4).contains(&size),
        "most of the four askers in it: {questions}"
    );
}
