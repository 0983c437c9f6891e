//! The web pages, driven like a browser (cookies, forms, CSRF tokens), on both databases.

use crate::helpers::{app, complaint, expect, seed_complaint, Backend, TestApp};
use jiesu_core::Role;
use serde_json::json;

pub use crate::ui_callers::*;
pub use crate::ui_kb::*;

const WANGJING: &str = "110105026"; // 望京街道
const YOUANMEN: &str = "110106001"; // 右安门街道 (丰台)

/// A browser: keeps cookies, does not follow redirects.
pub(crate) struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

/// A page as received.
pub(crate) struct Got {
    pub(crate) status: u16,
    pub(crate) location: String,
    pub(crate) body: String,
}

impl Browser {
    pub(crate) fn new(app: &TestApp) -> Browser {
        Browser {
            base: app.base.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Vec::new(),
        }
    }

    /// A browser already logged in with a session token (the API token is the cookie value).
    pub(crate) fn with_session(app: &TestApp, token: &str) -> Browser {
        let mut b = Browser::new(app);
        b.cookies.push(("jiesu_session".into(), token.into()));
        b
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Got {
        let resp = req
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        for c in resp.headers().get_all("set-cookie") {
            let (pair, _) = c.to_str().unwrap().split_once(';').unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !v.is_empty() {
                self.cookies.push((k.to_string(), v.to_string()));
            }
        }
        let status = resp.status().as_u16();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        Got {
            status,
            location,
            body: resp.text().await.unwrap(),
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Got {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    /// POSTs `bytes` as the raw body with the page's CSRF token in its header (as the
    /// upload forms' script does).
    pub(crate) async fn post_bytes(&mut self, path: &str, token: &str, bytes: Vec<u8>) -> Got {
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/octet-stream")
            .header("x-csrf-token", token)
            .body(bytes);
        self.send(req).await
    }

    /// GETs a file: the status, the headers and the bytes.
    pub(crate) async fn get_file(
        &mut self,
        path: &str,
    ) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
        let resp = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().await.unwrap().to_vec())
    }

    pub(crate) async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Got {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .client
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(req).await
    }
}

/// The text of the element a page marks `data-testid="{id}"` (up to its first tag).
pub(crate) fn testid_text(html: &str, id: &str) -> String {
    html.split(&format!("data-testid=\"{id}\">"))
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap_or_else(|| panic!("no {id} on the page: {html}"))
        .to_string()
}

/// The CSRF token in a page's forms.
pub(crate) fn csrf(html: &str) -> String {
    html.split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("the page has a CSRF field")
        .to_string()
}

pub async fn the_login_page_renders_and_a_login_sets_the_session_cookie(b: Backend) {
    let app = app!(b);
    let mut browser = Browser::new(&app);
    let home = browser.get("/").await;
    assert_eq!((home.status, home.location.as_str()), (303, "/ui/"));
    let page = browser.get("/ui/").await;
    assert_eq!(page.status, 303, "not logged in: to the login page");
    assert!(page.location.starts_with("/ui/login"), "{}", page.location);
    let page = browser.get("/ui/login").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>登录</h1>"), "{}", page.body);
    let token = csrf(&page.body);
    let wrong = browser
        .post(
            "/ui/login",
            &[
                ("_csrf", &token),
                ("username", "admin"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 401);
    assert!(wrong.body.contains("用户名或密码错误"));
    let ok = browser
        .post(
            "/ui/login",
            &[
                ("_csrf", &token),
                ("username", "admin"),
                ("password", "adminpass1"),
                ("next", "/ui/admin"),
            ],
        )
        .await;
    assert_eq!((ok.status, ok.location.as_str()), (303, "/ui/admin"));
    assert!(browser.cookies.iter().any(|(k, _)| k == "jiesu_session"));
    let admin = browser.get("/ui/admin").await;
    assert_eq!(admin.status, 200);
    assert!(
        admin.body.contains("系统管理员"),
        "the header shows the role"
    );
    let en = browser.get("/ui/admin?lang=en").await;
    assert!(en.body.contains("Administrator") && en.body.contains("Log out"));
}

pub async fn a_form_post_without_the_csrf_token_is_refused(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let mut browser = Browser::new(&app);
    browser.get("/ui/login").await;
    let no_token = browser
        .post(
            "/ui/login",
            &[("username", "admin"), ("password", "adminpass1")],
        )
        .await;
    assert_eq!(no_token.status, 403);
    assert!(
        no_token.body.contains("CSRF"),
        "a human page: {}",
        no_token.body
    );
    assert!(!browser.cookies.iter().any(|(k, _)| k == "jiesu_session"));

    let mut browser = Browser::with_session(&app, &op);
    let form = browser.get("/ui/intake").await;
    assert_eq!(form.status, 200);
    let fields = [
        ("kind", "complaint"),
        ("phone", "13812345678"),
        ("text", "望京西园三区夜间施工噪音扰民"),
    ];
    let forged = browser.post("/ui/intake", &fields).await;
    assert_eq!(forged.status, 403, "no token");
    let mut with_wrong = fields.to_vec();
    with_wrong.push(("_csrf", "0000"));
    assert_eq!(browser.post("/ui/intake", &with_wrong).await.status, 403);
    let list = expect(app.get("/api/v1/requests", Some(&op)).await, 200);
    assert_eq!(list["total"], 0, "nothing was recorded");
    let token = csrf(&form.body);
    let mut good = fields.to_vec();
    good.push(("_csrf", &token));
    let done = browser.post("/ui/intake", &good).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.starts_with("/ui/requests/"));
    // The JSON API with a bearer token needs no CSRF token.
    expect(
        app.post("/api/v1/requests", Some(&op), complaint("API 照旧"))
            .await,
        201,
    );
}

pub async fn a_unit_handler_opening_another_units_request_gets_the_missing_page(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let wj = app.user("wj", Role::UnitHandler, Some(WANGJING)).await;
    let yam = app.user("yam", Role::UnitHandler, Some(YOUANMEN)).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。"),
        )
        .await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let mut own = Browser::with_session(&app, &wj);
    let page = own.get(&format!("/ui/requests/{id}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("凌晨两点还在施工"));
    assert!(page.body.contains("138****5678"), "the phone is masked");
    assert!(!page.body.contains("13812345678"));
    let work = own.get("/ui/unit").await;
    assert!(work.body.contains(r["number"].as_str().unwrap()));

    // Another unit gets the page of a request that does not exist, word for word.
    let mut other = Browser::with_session(&app, &yam);
    let page = other.get(&format!("/ui/requests/{id}")).await;
    let missing = other
        .get("/ui/requests/00000000-0000-7000-8000-000000000000")
        .await;
    assert_eq!(page.status, 404);
    assert_eq!((page.status, &page.body), (missing.status, &missing.body));
    assert!(page.body.contains("<!doctype html>"), "a page, not JSON");
    assert!(!page.body.contains("凌晨两点还在施工"));
    let work = other.get("/ui/unit").await;
    assert!(!work.body.contains(r["number"].as_str().unwrap()));
}

pub async fn user_text_is_escaped_on_every_page(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let mut browser = Browser::with_session(&app, &op);
    let form = browser.get("/ui/intake").await;
    let token = csrf(&form.body);
    let done = browser
        .post(
            "/ui/intake",
            &[
                ("_csrf", &token),
                ("kind", "complaint"),
                ("name", "<b>王</b>"),
                ("phone", "13812345678"),
                ("title", "<script>alert('title')</script>"),
                ("text", "路灯不亮<script>alert(1)</script>&\"quoted\""),
                ("address", "朝阳区<img src=x onerror=alert(2)>"),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(&done.location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("诉求已受理"), "the done message");
    for raw in ["<script>alert", "<img src=x", "<b>王</b>"] {
        assert!(!page.body.contains(raw), "{raw} must be escaped");
    }
    assert!(page
        .body
        .contains("&#60;script&#62;alert(1)&#60;/script&#62;"));
    assert!(page.body.contains("&#60;b&#62;王&#60;/b&#62;"));
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let queue = Browser::with_session(&app, &disp).get("/ui/dispatch").await;
    assert!(!queue.body.contains("<script>alert"));
    assert!(queue.body.contains("&#60;script&#62;"));
}

pub async fn citizens_track_a_request_only_with_its_query_code(b: Backend) {
    let app = app!(b);
    let mut citizen = Browser::new(&app);
    let form = citizen.get("/ui/portal").await;
    assert_eq!(form.status, 200);
    let token = csrf(&form.body);
    let done = citizen
        .post(
            "/ui/portal",
            &[
                ("_csrf", &token),
                ("kind", "complaint"),
                ("name", "李先生"),
                ("phone", "13698765432"),
                ("text", "花家地西里小区门口路灯不亮"),
                ("address", "朝阳区花家地西里"),
            ],
        )
        .await;
    assert_eq!(done.status, 201, "{}", done.body);
    let number = testid_text(&done.body, "portal-number");
    let code = testid_text(&done.body, "portal-code");
    let r = expect(
        app.get(&format!("/api/v1/requests/{number}"), Some(&app.admin))
            .await,
        200,
    );
    assert_eq!(r["query_code"], code.as_str());
    assert_eq!(r["channel"], "web");
    assert_eq!(r["status"], "received");

    let mut stranger = Browser::new(&app);
    let page = stranger.get("/ui/portal/track").await;
    let token = csrf(&page.body);
    let wrong = stranger
        .post(
            "/ui/portal/track",
            &[
                ("_csrf", &token),
                ("number", &number),
                ("code", "13698765432"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 404, "the phone no longer opens it");
    assert!(!wrong.body.contains("路灯不亮"), "nothing of the request");
    assert!(wrong.body.contains("没有找到与该编号和查询码匹配的诉求"));
    let unknown = stranger
        .post(
            "/ui/portal/track",
            &[
                ("_csrf", &token),
                ("number", "20991231-999999"),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(unknown.status, 404, "an unknown number answers the same");
    let right = stranger
        .post(
            "/ui/portal/track",
            &[
                ("_csrf", &token),
                ("number", &number),
                ("code", &code.to_lowercase()),
            ],
        )
        .await;
    assert_eq!(right.status, 200);
    assert!(right.body.contains("已受理") && right.body.contains("路灯不亮"));
    assert!(
        !right.body.contains("李先生"),
        "no requester details on the tracking page"
    );

    // The enterprise portal checks the unified social credit code.
    let form = citizen.get("/ui/portal/enterprise").await;
    let token = csrf(&form.body);
    let bad = citizen
        .post(
            "/ui/portal/enterprise",
            &[
                ("_csrf", &token),
                ("kind", "help"),
                ("phone", "13698765432"),
                ("text", "稳岗补贴迟迟未兑现"),
                ("address", "朝阳区望京"),
                ("enterprise_name", "北京某某科技有限公司"),
                ("credit_code", "91110105MA01234567"),
                ("category_code", "qyfw.zc.dx"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("统一社会信用代码无效"));
}

pub async fn intake_answers_merges_or_dispatches_in_one_click(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let entry = json!({ "title": "居住证在哪里办理？", "answer": "持身份证到居住地派出所或街道政务服务中心申领居住证。", "tags": ["居住证"] });
    let kb = expect(app.post("/api/v1/kb", Some(&sup), entry).await, 201);
    let mut browser = Browser::with_session(&app, &op);
    let token = csrf(&browser.get("/ui/intake").await.body);

    // The live suggestions offer the knowledge-base answer; one click answers and closes.
    let typed = [
        ("_csrf", token.as_str()),
        ("kind", "consultation"),
        ("phone", "13812345678"),
        ("text", "请问居住证在哪里办理？"),
    ];
    let panel = browser.post("/ui/intake/suggest", &typed).await;
    assert_eq!(panel.status, 200);
    let kb_id = kb["id"].as_str().unwrap();
    assert!(
        panel.body.contains(&format!("value=\"answer:{kb_id}\"")),
        "{}",
        panel.body
    );
    let suggestion_id = panel
        .body
        .split("name=\"suggestion_id\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let answer = format!("answer:{kb_id}");
    let mut fields = typed.to_vec();
    fields.push(("action", &answer));
    fields.push(("suggestion_id", &suggestion_id));
    let done = browser.post("/ui/intake", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(&done.location).await;
    assert!(page.body.contains("已直接答复并办结"), "{}", page.body);
    assert!(page.body.contains("街道政务服务中心申领居住证"));

    // A duplicate is merged into the request it repeats.
    let first = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。"),
        )
        .await,
        201,
    );
    let merge = format!("merge:{}", first["id"].as_str().unwrap());
    let done = browser
        .post(
            "/ui/intake",
            &[
                ("_csrf", &token),
                ("kind", "complaint"),
                ("phone", "13900001111"),
                ("text", "望京西园三区夜间施工噪音扰民，凌晨三点还在施工！"),
                ("action", &merge),
            ],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(&done.location).await;
    assert!(page.body.contains("已并单"), "{}", page.body);

    // Operators may not dispatch; an administrator records and dispatches in one go.
    let dispatch = [
        ("kind", "complaint"),
        ("phone", "13812345678"),
        ("text", "望京西园三区路灯不亮"),
        ("action", "dispatch"),
        ("lead", WANGJING),
        ("time_limit_class", "general"),
    ];
    let mut as_op = dispatch.to_vec();
    as_op.push(("_csrf", &token));
    let before = expect(app.get("/api/v1/requests", Some(&op)).await, 200)["total"].clone();
    let refused = browser.post("/ui/intake", &as_op).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let after = expect(app.get("/api/v1/requests", Some(&op)).await, 200)["total"].clone();
    assert_eq!(
        before, after,
        "nothing recorded when the follow-up is not allowed"
    );
    let mut admin = Browser::with_session(&app, &app.admin);
    let admin_token = csrf(&admin.get("/ui/intake").await.body);
    let mut as_admin = dispatch.to_vec();
    as_admin.push(("_csrf", &admin_token));
    let done = admin.post("/ui/intake", &as_admin).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = admin.get(&done.location).await;
    assert!(page.body.contains("已派单。"), "{}", page.body);
    assert!(page.body.contains("望京街道"));
}

const CGZF: &str = "dept.cgzf"; // 城管执法局
const NOISE: &str = "hjbh.zs.sg"; // 夜间施工噪音

/// Records a complaint at `address` about night construction from `phone`; returns its id.
async fn noise(app: &TestApp, op: &str, text: &str, address: &str, phone: &str) -> String {
    seed_complaint(app, op, text, address, NOISE, phone).await
}

/// Four complaints at 望京西园三区 and two at 翠林小区 (丰台) about night construction: the
/// same problem at two places. Returns (here, there).
async fn two_places(app: &TestApp, op: &str) -> (Vec<String>, Vec<String>) {
    let mut here = Vec::new();
    for (i, t) in [
        "望京西园三区旁工地夜间施工噪音扰民，凌晨两点还在施工",
        "望京西园三区工地夜间施工噪音太大，晚上睡不着",
        "投诉望京西园三区附近工地夜间施工噪音扰民",
        "望京西园三区工地半夜施工噪音扰民，请管一管",
    ]
    .iter()
    .enumerate()
    {
        here.push(noise(app, op, t, "朝阳区望京西园三区", &format!("1381234567{i}")).await);
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
            noise(
                app,
                op,
                t,
                "丰台区右安门翠林小区",
                &format!("1391234567{i}"),
            )
            .await,
        );
    }
    (here, there)
}

/// Every `href` of the page that starts with `prefix`, unescaped.
fn links(html: &str, prefix: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(|h| h.replace("&#38;", "&").replace("&amp;", "&"))
        .filter(|h| h.starts_with(prefix))
        .collect()
}

/// The value of the hidden or text input `name` in a form.
fn input(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no input {name}"))
        .to_string()
}

pub async fn a_supervisor_goes_from_a_hotspot_to_tasks_here_and_elsewhere_and_a_monthly_topic(
    b: Backend,
) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let wj = app.user("wj", Role::UnitHandler, Some(WANGJING)).await;
    let (here, there) = two_places(&app, &op).await;
    let mut browser = Browser::with_session(&app, &sup);

    // The governance page, linked from the header, lists the hotspot with a button to open a task.
    let home = browser.get("/ui/").await;
    assert!(
        home.body.contains("href=\"/ui/governance\""),
        "{}",
        home.body
    );
    let gov = browser.get("/ui/governance").await;
    assert_eq!(gov.status, 200, "{}", gov.body);
    for part in [
        "热点问题",
        "未诉先办预警",
        "进行中的主动治理任务",
        "每月一题",
    ] {
        assert!(gov.body.contains(part), "{part}");
    }
    assert!(gov.body.contains("望京西园三区"), "{}", gov.body);
    let open = links(&gov.body, "/ui/tasks/new?hotspot=");
    let key = here.iter().min().unwrap();
    assert!(
        open.iter().any(|h| h.ends_with(key.as_str())),
        "the hotspot keyed by its first request offers 立案: {open:?}"
    );
    let form = browser.get(&format!("/ui/tasks/new?hotspot={key}")).await;
    assert_eq!(form.status, 200, "{}", form.body);
    for id in &here {
        assert!(
            form.body
                .contains(&format!("name=\"request_id\" value=\"{id}\" checked")),
            "the hotspot's requests are linked: {id}"
        );
    }
    for id in &there {
        assert!(!form.body.contains(id.as_str()), "not the other place's");
    }
    assert_eq!(input(&form.body, "source_kind"), "hotspot");
    assert_eq!(input(&form.body, "source_ref"), *key);
    assert!(input(&form.body, "title").starts_with("望京西园三区"));
    let token = csrf(&form.body);

    // A bad unit is a 422 naming the form's field, and nothing is opened.
    let mut fields = vec![
        ("_csrf", token.as_str()),
        ("title", "望京西园三区工地夜间施工扰民专项治理"),
        (
            "description",
            "核查夜间施工许可，督促停工或降噪，并向周边居民公示。",
        ),
        ("source_kind", "hotspot"),
        ("source_ref", key.as_str()),
        ("lead", "nowhere"),
        ("co", CGZF),
        ("time_limit_class", "general"),
    ];
    for id in &here {
        fields.push(("request_id", id.as_str()));
    }
    let bad = browser.post("/ui/tasks", &fields).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("<code>lead</code>"), "{}", bad.body);
    assert!(bad.body.contains("没有这个承办单位：nowhere"));
    let tasks = expect(app.get("/api/v1/tasks", Some(&sup)).await, 200);
    assert!(tasks.as_array().unwrap().is_empty(), "nothing opened");

    // Lead 望京街道, co 城管执法局: opened, dispatched, shown with its orders and requests.
    fields.retain(|f| f.0 != "lead");
    fields.push(("lead", WANGJING));
    let done = browser.post("/ui/tasks", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(
        done.location.starts_with("/ui/tasks/") && done.location.ends_with("?done=task_opened")
    );
    let task_id = done.location["/ui/tasks/".len()..]
        .split('?')
        .next()
        .unwrap()
        .to_string();
    let page = browser.get(&done.location).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("主动治理任务已立案并派单。"));
    assert!(page.body.contains("望京街道") && page.body.contains("北京市城市管理综合行政执法局"));
    assert!(page.body.contains("主办") && page.body.contains("协办"));
    assert!(
        page.body.contains("待签收"),
        "both orders wait for acknowledgement"
    );
    assert!(
        page.body
            .contains(&format!("href=\"/ui/requests/{task_id}\"")),
        "the task links to its request detail and timeline"
    );
    for id in &here {
        assert!(page.body.contains(&format!("/ui/requests/{id}")));
    }
    let v = expect(
        app.get(&format!("/api/v1/requests/{task_id}"), Some(&sup))
            .await,
        200,
    );
    assert_eq!(v["channel"], "proactive");
    assert_eq!(v["status"], "dispatched");
    assert_eq!(v["assignments"].as_array().unwrap().len(), 2);
    let detail = browser.get(&format!("/ui/requests/{task_id}")).await;
    assert!(
        detail.body.contains("<dt>渠道</dt><dd>主动治理</dd>"),
        "the channel is named"
    );

    // 举一反三: 右安门 has the same problem; one click opens the form for it.
    let elsewhere = links(&page.body, "/ui/tasks/new?hotspot=");
    assert_eq!(elsewhere.len(), 1, "{}", page.body);
    assert!(page.body.contains("右安门街道"));
    assert!(
        elsewhere[0].ends_with(&format!("&elsewhere={task_id}")),
        "{elsewhere:?}"
    );
    let form = browser.get(&elsewhere[0]).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(input(&form.body, "source_kind"), "elsewhere");
    assert_eq!(input(&form.body, "source_ref"), task_id);
    let mut fields = vec![
        ("_csrf", token.as_str()),
        ("title", "<script>alert(1)</script>翠林小区工地夜间施工扰民"),
        ("description", "参照望京西园三区的做法核查处置。"),
        ("source_kind", "elsewhere"),
        ("source_ref", task_id.as_str()),
        ("lead", "110106001"),
        ("time_limit_class", "general"),
    ];
    for id in &there {
        fields.push(("request_id", id.as_str()));
    }
    let done = browser.post("/ui/tasks", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let there_page = browser.get(&done.location).await;
    assert!(
        !there_page.body.contains("<script>alert(1)"),
        "user text is escaped"
    );
    assert!(there_page.body.contains("&#60;script&#62;alert(1)"));
    let again = browser.get(&format!("/ui/tasks/{task_id}")).await;
    assert!(
        links(&again.body, "/ui/tasks/new?hotspot=").is_empty(),
        "a place with a task offers the task, not a second one"
    );

    // The governance page lists both open tasks with units and deadlines; the unit sees its own.
    let gov = browser.get("/ui/governance").await;
    let tasks = expect(app.get("/api/v1/tasks", Some(&sup)).await, 200);
    assert_eq!(tasks.as_array().unwrap().len(), 2);
    for t in tasks.as_array().unwrap() {
        assert!(gov.body.contains(&format!(
            "data-testid=\"task-{}\"",
            t["number"].as_str().unwrap()
        )));
    }
    assert!(gov.body.contains("办结时限") && gov.body.contains("右安门街道"));
    assert!(gov.body.contains("已立案"), "the hotspot shows its task");
    let work = Browser::with_session(&app, &wj).get("/ui/unit").await;
    assert!(
        work.body.contains(tasks[1]["number"].as_str().unwrap()),
        "the lead unit's workbench has it"
    );

    // 每月一题: the proposal comes from the data; choosing it fills the form.
    let props = browser.get("/ui/topics/proposals?month=2026-11").await;
    assert_eq!(props.status, 200, "{}", props.body);
    let choose = links(&props.body, "/ui/topics/new?");
    assert_eq!(
        choose.first().map(String::as_str),
        Some(format!("/ui/topics/new?month=2026-11&category={NOISE}").as_str()),
        "the repeated problem ranks first"
    );
    let form = browser.get(&choose[0]).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(
        input(&form.body, "lead"),
        CGZF,
        "the category's department leads"
    );
    for t in tasks.as_array().unwrap() {
        assert!(
            form.body
                .contains(&format!("value=\"{}\" checked", t["id"].as_str().unwrap())),
            "its tasks are ticked"
        );
    }
    let one = [
        ("_csrf", token.as_str()),
        ("month", "2026-11"),
        ("title", "居民区周边工地夜间施工扰民"),
        ("lead", CGZF),
        ("p1_category", NOISE),
        ("p1_description", "居民区旁工地夜间违规施工"),
    ];
    let bad = browser.post("/ui/topics", &one).await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(bad.body.contains("<code>problems</code>") && bad.body.contains("2–3"));
    let mut two = one.to_vec();
    two.extend([
        ("p2_category", "hjbh.zs.sh"),
        ("p2_description", "夜间社会生活噪声"),
        ("task", tasks[0]["id"].as_str().unwrap()),
        ("task", tasks[1]["id"].as_str().unwrap()),
    ]);
    let done = browser.post("/ui/topics", &two).await;
    assert_eq!(done.status, 303, "{}", done.body);
    assert!(done.location.ends_with("?done=topic_created"));
    let topic = browser.get(&done.location).await;
    assert_eq!(topic.status, 200, "{}", topic.body);
    assert!(topic.body.contains("每月一题已设立。"));
    assert!(
        topic.body.contains("居民区周边工地夜间施工扰民")
            && topic.body.contains("北京市城市管理综合行政执法局")
    );
    assert!(
        topic.body.contains("<strong>0/2</strong>"),
        "no task done yet"
    );
    assert!(
        topic
            .body
            .contains("<tr><td>2026-11</td><td>6</td><td>0</td></tr>"),
        "six requests on the first problem this month: {}",
        topic.body
    );

    // The lead unit replies to the first task: the topic shows one of two done.
    let first = expect(
        app.get(&format!("/api/v1/requests/{task_id}"), Some(&sup))
            .await,
        200,
    );
    let order = crate::helpers::order_id(&first, WANGJING, 1);
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&wj),
            json!({}),
        )
        .await,
        200,
    );
    let body = json!({ "to_requester": "已责令夜间停工", "to_center": "已核查并责令夜间停工", "outcome": "resolved" });
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/reply"),
            Some(&wj),
            body,
        )
        .await,
        200,
    );
    let co = crate::helpers::order_id(&first, CGZF, 1);
    let cgzf = app.user("cgzf1", Role::UnitHandler, Some(CGZF)).await;
    expect(
        app.post(
            &format!("/api/v1/assignments/{co}/acknowledge"),
            Some(&cgzf),
            json!({}),
        )
        .await,
        200,
    );
    let body =
        json!({ "to_requester": "已处罚", "to_center": "已立案处罚", "outcome": "resolved" });
    expect(
        app.post(
            &format!("/api/v1/assignments/{co}/reply"),
            Some(&cgzf),
            body,
        )
        .await,
        200,
    );
    let topic = browser.get(done.location.split('?').next().unwrap()).await;
    assert!(
        topic.body.contains("<strong>1/2</strong>"),
        "{}",
        topic.body
    );
    let gov = browser.get("/ui/governance").await;
    assert!(gov.body.contains("居民区周边工地夜间施工扰民") && gov.body.contains("1/2"));
    let task_page = browser.get(&format!("/ui/tasks/{task_id}")).await;
    assert!(
        task_page.body.contains("href=\"/ui/topics/"),
        "the task links to its topic"
    );
}

pub async fn unit_staff_and_dispatchers_cannot_open_tasks_or_topics_from_the_pages(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let (here, _) = two_places(&app, &op).await;
    let key = here.iter().min().unwrap().clone();
    let before = app.event_count().await;

    // A unit manager: no link in the header, the 403 page everywhere, nothing opened.
    let mut unit = Browser::with_session(&app, &wj);
    let home = unit.get("/ui/").await;
    assert!(!home.body.contains("/ui/governance"));
    for path in [
        "/ui/governance".to_string(),
        format!("/ui/tasks/new?hotspot={key}"),
        "/ui/topics/proposals".to_string(),
        "/ui/topics/new?month=2026-11".to_string(),
    ] {
        let page = unit.get(&path).await;
        assert_eq!(page.status, 403, "{path}");
        assert!(
            page.body.contains("无权访问") && page.body.contains("<!doctype html>"),
            "{path}: a page"
        );
        assert!(!page.body.contains("望京西园三区"), "{path}: shows nothing");
    }
    let token = csrf(&unit.get("/ui/unit").await.body);
    let mut task = vec![
        ("_csrf", token.as_str()),
        ("title", "自行立案"),
        ("description", "d"),
        ("source_kind", "hotspot"),
        ("source_ref", key.as_str()),
        ("lead", WANGJING),
    ];
    task.push(("request_id", here[0].as_str()));
    let refused = unit.post("/ui/tasks", &task).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let topic = [
        ("_csrf", token.as_str()),
        ("month", "2026-11"),
        ("title", "t"),
        ("lead", CGZF),
        ("p1_category", NOISE),
        ("p1_description", "a"),
        ("p2_category", NOISE),
        ("p2_description", "b"),
    ];
    assert_eq!(unit.post("/ui/topics", &topic).await.status, 403);

    // A dispatcher supervises (sees the page) but may not open: no button, and a 403.
    let mut d = Browser::with_session(&app, &disp);
    let gov = d.get("/ui/governance").await;
    assert_eq!(gov.status, 200);
    assert!(gov.body.contains("望京西园三区"), "sees the hotspot");
    assert!(
        links(&gov.body, "/ui/tasks/new").is_empty(),
        "but no 立案 button"
    );
    assert_eq!(
        d.get(&format!("/ui/tasks/new?hotspot={key}")).await.status,
        403
    );
    let token = csrf(&gov.body);
    let mut task = task.clone();
    task[0] = ("_csrf", token.as_str());
    assert_eq!(d.post("/ui/tasks", &task).await.status, 403);

    // Nothing was opened, no event was written; a form post without the token is refused too.
    let tasks = expect(app.get("/api/v1/tasks", Some(&sup)).await, 200);
    assert!(tasks.as_array().unwrap().is_empty());
    assert_eq!(app.event_count().await, before, "no event");
    let mut s = Browser::with_session(&app, &sup);
    let no_token: Vec<_> = task.iter().filter(|f| f.0 != "_csrf").cloned().collect();
    assert_eq!(s.post("/ui/tasks", &no_token).await.status, 403);
    // An unknown hotspot, a malformed alert and a bad date are clear 4xx pages, not 500s.
    let gone = s.get("/ui/tasks/new?hotspot=nope").await;
    assert_eq!(gone.status, 404, "{}", gone.body);
    let bad = s.get("/ui/tasks/new?alert=nowhere").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>alert</code>"));
    let bad = s.get("/ui/governance?date=yesterday").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>date</code>"));
    let bad = s.get("/ui/topics/proposals?month=2026-1").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>month</code>"));
    assert!(tasks.as_array().unwrap().is_empty());
}

pub async fn a_burst_alert_on_the_governance_page_opens_a_task_with_its_requests(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    app.user("sup1", Role::Supervisor, None).await;
    // One stall a month ago starts the series; then five in a day at the same street.
    let mut first = complaint("中关村那边有人占道摆摊");
    first["address"] = json!("海淀区中关村");
    first["category_code"] = json!("cxjs.csgl.zd");
    expect(app.post("/api/v1/requests", Some(&op), first).await, 201);
    app.clock.advance(chrono::Duration::days(35));
    let op = app.login("op1", "password1").await;
    let sup = app.login("sup1", "password1").await;
    let mut burst = Vec::new();
    for i in 0..5 {
        let mut body = complaint(&format!("中关村那边流动摊贩占道经营{i}"));
        body["address"] = json!("海淀区中关村");
        body["category_code"] = json!("cxjs.csgl.zd");
        body["requester"]["phone"] = json!(format!("1370000001{i}"));
        let v = expect(app.post("/api/v1/requests", Some(&op), body).await, 201);
        burst.push(v["id"].as_str().unwrap().to_string());
        app.clock.advance(chrono::Duration::minutes(20));
    }
    let mut browser = Browser::with_session(&app, &sup);

    // The day before was quiet; the day of the burst shows the alert with its numbers and why.
    let quiet = browser.get("/ui/governance?date=2026-12-06").await;
    assert_eq!(quiet.status, 200);
    assert!(links(&quiet.body, "/ui/tasks/new?alert=").is_empty());
    let gov = browser.get("/ui/governance?date=2026-12-07").await;
    assert_eq!(gov.status, 200, "{}", gov.body);
    assert!(gov.body.contains("中关村街道") && gov.body.contains("cxjs.csgl.zd"));
    assert!(gov.body.contains("今日5件"), "the reason: {}", gov.body);
    let open = links(&gov.body, "/ui/tasks/new?alert=");
    assert_eq!(open.len(), 1, "{open:?}");
    let en = browser.get("/ui/governance?date=2026-12-07&lang=en").await;
    assert!(en.body.contains("Burst alerts") && en.body.contains("5 requests today"));
    browser.get("/ui/governance?lang=zh").await;

    // 立案 from the alert: its five requests are linked; the task goes to 城管执法局.
    let form = browser.get(&open[0]).await;
    assert_eq!(form.status, 200, "{}", form.body);
    assert_eq!(input(&form.body, "source_kind"), "alert");
    assert_eq!(
        input(&form.body, "source_ref"),
        "中关村街道|cxjs.csgl.zd|2026-12-07"
    );
    for id in &burst {
        assert!(form.body.contains(&format!("value=\"{id}\" checked")));
    }
    let token = csrf(&form.body);
    let mut fields = vec![
        ("_csrf", token.as_str()),
        ("title", ""),
        ("description", "排查流动摊贩，落实门前三包。"),
        ("source_kind", "alert"),
        ("source_ref", "中关村街道|cxjs.csgl.zd|2026-12-07"),
        ("lead", CGZF),
        ("time_limit_class", "general"),
    ];
    for id in &burst {
        fields.push(("request_id", id.as_str()));
    }
    let bad = browser.post("/ui/tasks", &fields).await;
    assert_eq!(bad.status, 422, "a blank title");
    assert!(bad.body.contains("<code>title</code>"), "{}", bad.body);
    fields[1] = ("title", "中关村大街占道经营突增");
    let done = browser.post("/ui/tasks", &fields).await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(&done.location).await;
    assert!(page
        .body
        .contains("未诉先办预警 · 中关村街道 · cxjs.csgl.zd · 2026-12-07"));
    assert!(page
        .body
        .contains("href=\"/ui/governance?date=2026-12-07\""));
    let tasks = expect(app.get("/api/v1/tasks", Some(&sup)).await, 200);
    assert_eq!(tasks[0]["source_kind"], "alert");
    assert_eq!(tasks[0]["request_ids"].as_array().unwrap().len(), 5);
    let gov = browser.get("/ui/governance?date=2026-12-07").await;
    assert!(
        links(&gov.body, "/ui/tasks/new?alert=").is_empty() && gov.body.contains("已立案"),
        "the alert now shows its task"
    );
}

/// Viewing the dispatch form shows suggestions and stores none: a page view writes nothing
/// (issue #16; the new-task form uses the same `suggest::advise`).
pub async fn viewing_the_dispatch_form_writes_nothing(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。"),
        )
        .await,
        201,
    );
    let id = r["id"].as_str().unwrap();
    let rows = |app: &TestApp| {
        let pool = app.state.store.reader().clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM suggestions")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    let (suggestions, events) = (rows(&app).await, app.event_count().await);
    let mut dispatcher = Browser::with_session(&app, &disp);
    for _ in 0..3 {
        let page = dispatcher.get(&format!("/ui/dispatch/{id}")).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains(WANGJING),
            "the suggested street is on the form"
        );
    }
    assert_eq!(rows(&app).await, suggestions, "no suggestion row per view");
    assert_eq!(app.event_count().await, events);
    // Asking for a suggestion at intake still stores one (so the test above can fail).
    expect(
        app.post(
            "/api/v1/requests/suggest",
            Some(&op),
            json!({ "text": "望京西园三区夜间施工噪音扰民" }),
        )
        .await,
        200,
    );
    assert_eq!(rows(&app).await, suggestions + 1);
}

/// Issue 16: the admin page adds, disables, enables, resets and ends sessions, each an event
/// naming the administrator (users added on the page used to be recorded as `system`).
pub async fn the_admin_page_manages_users_and_each_change_names_the_administrator(b: Backend) {
    let app = app!(b);
    let admin_id = expect(app.get("/api/v1/me", Some(&app.admin)).await, 200)["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut admin = Browser::with_session(&app, &app.admin);
    let token = csrf(&admin.get("/ui/admin").await.body);
    let add = admin
        .post(
            "/ui/admin/users",
            &[
                ("_csrf", &token),
                ("username", "desk"),
                ("role", "operator"),
                ("password", "password1"),
            ],
        )
        .await;
    assert_eq!(add.status, 303, "{}", add.body);
    let desk = app.login("desk", "password1").await;
    let page = admin.get("/ui/admin?view=users").await;
    assert!(
        page.body.contains("/ui/admin/users/desk/disable"),
        "a button per user"
    );
    let got = admin
        .post("/ui/admin/users/desk/disable", &[("_csrf", &token)])
        .await;
    assert_eq!(
        (got.status, got.location.as_str()),
        (303, "/ui/admin?view=users&done=user_disabled")
    );
    expect(app.get("/api/v1/me", Some(&desk)).await, 401);
    // Without the token: refused, nothing changes.
    let got = admin.post("/ui/admin/users/desk/enable", &[]).await;
    assert_eq!(got.status, 403);
    admin
        .post("/ui/admin/users/desk/enable", &[("_csrf", &token)])
        .await;
    let desk = app.login("desk", "password1").await;
    admin
        .post("/ui/admin/users/desk/revoke", &[("_csrf", &token)])
        .await;
    expect(app.get("/api/v1/me", Some(&desk)).await, 401);
    let got = admin
        .post(
            "/ui/admin/users/desk/password",
            &[("_csrf", &token), ("password", "fresh-password")],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    app.login("desk", "fresh-password").await;
    // Other roles cannot.
    let other = app.user("someone", Role::Operator, None).await;
    let mut op = Browser::with_session(&app, &other);
    let op_token = csrf(&op.get("/ui/").await.body);
    let got = op
        .post("/ui/admin/users/desk/disable", &[("_csrf", &op_token)])
        .await;
    assert_eq!(got.status, 403);
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, actor_id FROM events WHERE action LIKE 'user.%' AND payload LIKE '%desk%' ORDER BY seq",
    )
    .fetch_all(app.state.store.reader())
    .await
    .unwrap();
    let actions: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        actions,
        [
            "user.created",
            "user.disabled",
            "user.enabled",
            "user.sessions_revoked",
            "user.password_reset"
        ]
    );
    assert!(rows.iter().all(|r| r.1 == admin_id), "{rows:?}");
}

/// Issue 16: a `next` carrying CR/LF (or anything that is not a plain local path) used to
/// reach `Redirect::to` and answer 500 after the session cookie was set; a NUL in a form
/// field was stored and rendered.
pub async fn a_login_next_with_line_breaks_falls_back_and_a_nul_in_a_form_is_refused(b: Backend) {
    let app = app!(b);
    for next in [
        "/ui/\r\nSet-Cookie: x=1",
        "/ui/ad\nmin",
        "/ui/管理",
        "//evil.example/ui/",
        "https://evil.example/",
    ] {
        let mut browser = Browser::new(&app);
        let page = browser.get("/ui/login").await;
        let token = csrf(&page.body);
        let ok = browser
            .post(
                "/ui/login",
                &[
                    ("_csrf", &token),
                    ("username", "admin"),
                    ("password", "adminpass1"),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!((ok.status, ok.location.as_str()), (303, "/ui/"), "{next:?}");
    }
    let mut browser = Browser::new(&app);
    let page = browser.get("/ui/login").await;
    let token = csrf(&page.body);
    let got = browser
        .post(
            "/ui/login",
            &[
                ("_csrf", &token),
                ("username", "admin\u{0}"),
                ("password", "adminpass1"),
            ],
        )
        .await;
    assert_eq!(got.status, 422, "{}", got.body);
    assert!(got.body.contains("username"), "{}", got.body);
}

/// An administrator makes an Open311 key on the admin page, sees it once, the key works,
/// and revoking it on the page stops it.
pub async fn the_admin_page_makes_and_revokes_open311_keys(b: Backend) {
    let app = app!(b);
    let mut admin = Browser::with_session(&app, &app.admin);
    let token = csrf(&admin.get("/ui/admin?view=open311").await.body);
    let made = admin
        .post(
            "/ui/admin/open311/keys",
            &[("_csrf", &token), ("name", "社区服务站终端")],
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.body);
    let key = made
        .body
        .split("<code>")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the new key is shown")
        .to_string();
    assert_eq!(key.len(), 64);
    let form = format!("api_key={key}&service_code=cxjs.csgl.hw&address_string=x");
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(format!("{}/open311/v2/requests.json", app.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    assert_eq!(post(form.clone()).await.unwrap().status().as_u16(), 200);
    let page = admin.get("/ui/admin?view=open311").await;
    assert!(page.body.contains("社区服务站终端") && !page.body.contains(&key));
    let id = page
        .body
        .split("/ui/admin/open311/keys/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let got = admin
        .post(
            &format!("/ui/admin/open311/keys/{id}/revoke"),
            &[("_csrf", &token)],
        )
        .await;
    assert_eq!(got.status, 303, "{}", got.body);
    assert_eq!(post(form).await.unwrap().status().as_u16(), 403);
}

/// Issue 18 (退单审核): a manager returns an order on the unit page; the dispatcher sees it on
/// the dispatch page and rejects it with a reason, which the unit page then shows; a second
/// return, accepted, puts the request back in the dispatch queue.
pub async fn a_return_is_reviewed_on_the_dispatch_page_and_a_rejection_shows_on_the_unit_page(
    b: Backend,
) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let yam = app.user("yam", Role::UnitManager, Some(YOUANMEN)).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区夜间施工噪音扰民，凌晨两点还在施工。"),
        )
        .await,
        201,
    );
    let (id, number) = (r["id"].as_str().unwrap(), r["number"].as_str().unwrap());
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": YOUANMEN, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = v["assignments"][0]["id"].as_str().unwrap().to_string();
    let mut unit = Browser::with_session(&app, &yam);
    let mut center = Browser::with_session(&app, &disp);
    let ret = |reason: &'static str| [("reason", reason)];

    let page = unit.get("/ui/unit").await;
    let token = csrf(&page.body);
    let got = unit
        .post(
            &format!("/ui/orders/{order}/return"),
            &[("_csrf", token.as_str()), ret("非本街道辖区")[0]],
        )
        .await;
    assert_eq!(got.location, "/ui/unit?done=return_requested");
    let page = unit.get("/ui/unit").await;
    assert!(
        page.body.contains("data-testid=\"return-pending\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("退单待审核"));

    let page = center.get("/ui/dispatch").await;
    assert!(page
        .body
        .contains(&format!("data-testid=\"return-{number}\"")));
    assert!(page.body.contains("非本街道辖区"));
    assert!(page
        .body
        .contains(&format!("/ui/assignments/{order}/return-review")));
    let token = csrf(&page.body);
    let path = format!("/ui/assignments/{order}/return-review");
    let got = center
        .post(&path, &[("_csrf", token.as_str()), ("decision", "reject")])
        .await;
    assert_eq!(got.status, 422, "a rejection needs a reason");
    let got = center
        .post(
            &path,
            &[
                ("_csrf", token.as_str()),
                ("decision", "reject"),
                ("reason", "经核实属本街道辖区，请继续办理"),
            ],
        )
        .await;
    assert_eq!(got.location, "/ui/dispatch?done=return_rejected");
    let page = unit.get("/ui/unit").await;
    assert!(
        page.body
            .contains("退单被驳回：经核实属本街道辖区，请继续办理"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("data-testid=\"return-pending\""));
    let page = unit.get("/ui/unit?lang=en").await;
    assert!(page.body.contains("Return rejected"));

    // Returned again and accepted: back in the dispatch queue.
    let token = csrf(&page.body);
    unit.post(
        &format!("/ui/orders/{order}/return"),
        &[("_csrf", token.as_str()), ("reason", "地址在朝阳区")],
    )
    .await;
    let page = center.get("/ui/dispatch").await;
    let token = csrf(&page.body);
    let got = center
        .post(&path, &[("_csrf", token.as_str()), ("decision", "accept")])
        .await;
    assert_eq!(got.location, "/ui/dispatch?done=return_accepted");
    let v = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&disp))
            .await,
        200,
    );
    assert_eq!(v["status"], "received");
    let page = center.get("/ui/dispatch").await;
    assert!(
        page.body.contains(&format!("dispatch-{number}")),
        "waiting for dispatch again"
    );
    assert!(!page
        .body
        .contains(&format!("data-testid=\"return-{number}\"")));
}

/// Issue 18: the admin page lists this year's and next year's holidays and sets a day; a
/// dispatcher may not.
pub async fn the_admin_page_lists_the_holidays_and_sets_a_day(b: Backend) {
    let app = app!(b);
    let mut admin = Browser::with_session(&app, &app.admin);
    let page = admin.get("/ui/admin?view=calendar").await;
    assert_eq!(page.status, 200, "{}", page.body);
    // The clock stands in November 2026: the shipped 国庆 days of 2026 are listed.
    assert!(
        page.body.contains("2026-10-01") && page.body.contains("国庆节"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("2027-02-08"));
    let token = csrf(&page.body);
    let bad = admin
        .post(
            "/ui/admin/calendar",
            &[
                ("_csrf", &token),
                ("date", "2027-02-08"),
                ("kind", "vacation"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    let set = admin
        .post(
            "/ui/admin/calendar",
            &[
                ("_csrf", &token),
                ("date", "2027-02-08"),
                ("kind", "holiday"),
                ("name", "春节"),
            ],
        )
        .await;
    assert_eq!(
        (set.status, set.location.as_str()),
        (303, "/ui/admin?view=calendar&done=calendar_day_set")
    );
    let page = admin.get("/ui/admin?view=calendar").await;
    assert!(
        page.body.contains("2027-02-08") && page.body.contains("管理员设置"),
        "{}",
        page.body
    );
    let disp = app
        .user("disp_cal", jiesu_core::Role::Dispatcher, None)
        .await;
    let mut other = Browser::with_session(&app, &disp);
    let got = other.get("/ui/admin?view=calendar").await;
    assert_eq!(got.status, 403);
}

pub async fn a_unit_manager_appeals_from_the_workbench_and_the_center_grants_on_its_page(
    b: Backend,
) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区工地夜间施工噪音扰民"),
        )
        .await,
        201,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{}/dispatch", r["id"].as_str().unwrap()),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = v["assignments"][0]["id"].as_str().unwrap().to_string();

    let mut unit = Browser::with_session(&app, &wj);
    let bench = unit.get("/ui/unit").await;
    assert_eq!(bench.status, 200);
    assert!(
        bench.body.contains(&format!("/ui/orders/{order}/appeal")),
        "an appeal form per order"
    );
    let token = csrf(&bench.body);
    let bad = unit
        .post(
            &format!("/ui/orders/{order}/appeal"),
            &[
                ("_csrf", token.as_str()),
                ("part", "speed"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>part</code>"), "{}", bad.body);
    let filed = unit
        .post(
            &format!("/ui/orders/{order}/appeal"),
            &[
                ("_csrf", token.as_str()),
                ("part", "response"),
                ("reason", "派单时系统故障"),
                ("evidence", "运维通报 2026-11-02"),
            ],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let bench = unit.get("/ui/unit").await;
    assert!(bench.body.contains("派单时系统故障") && bench.body.contains("待审核"));
    assert!(
        !bench.body.contains("/ui/appeals/"),
        "a unit has no decision buttons"
    );
    assert_eq!(unit.get("/ui/appeals").await.status, 403);

    let mut center = Browser::with_session(&app, &sup);
    let page = center.get("/ui/appeals").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("派单时系统故障"));
    // The unit by its name, not its code.
    let table = page.body.split("data-testid=\"appeals\"").nth(1).unwrap();
    let table = table.split("</table>").next().unwrap();
    assert!(
        table.contains(">望京街道</a>") && !table.contains(">110105026</a>"),
        "{table}"
    );
    let id = page
        .body
        .split("/ui/appeals/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let token = csrf(&page.body);
    let granted = center
        .post(
            &format!("/ui/appeals/{id}/decision"),
            &[
                ("_csrf", token.as_str()),
                ("grant", "1"),
                ("reason", "属实"),
            ],
        )
        .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    let bench = unit.get("/ui/unit").await;
    assert!(bench.body.contains("申诉成立") && bench.body.contains("属实"));
    let got = expect(
        app.get("/api/v1/appeals?status=granted", Some(&wj)).await,
        200,
    );
    assert_eq!(got["appeals"][0]["assignment_id"], order.as_str());
}

/// Issue 18: after a rework the round-1 order left the open list, yet its manager appeals its
/// satisfaction from the workbench's replied orders; a dispatcher reads the appeals page but
/// cannot decide (403), a supervisor grants.
pub async fn a_round_one_order_after_a_rework_is_appealed_from_the_replied_list(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let agent = app.user("cb1", Role::CallbackAgent, None).await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区路灯不亮"),
        )
        .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let number = r["number"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = v["assignments"][0]["id"].as_str().unwrap().to_string();
    for (verb, body) in [
        ("acknowledge", json!({})),
        (
            "reply",
            json!({ "to_requester": "已修复", "to_center": "已修复路灯", "outcome": "resolved" }),
        ),
    ] {
        expect(
            app.post(
                &format!("/api/v1/assignments/{order}/{verb}"),
                Some(&wj),
                body,
            )
            .await,
            200,
        );
    }
    expect(
        app.post(
            &format!("/api/v1/requests/{id}/callback"),
            Some(&agent),
            json!({ "reached": true, "resolved": true, "satisfaction": "unsatisfied" }),
        )
        .await,
        200,
    );

    // The rework is open; round 1 is on the replied list with its appeal form.
    let mut unit = Browser::with_session(&app, &wj);
    let bench = unit.get("/ui/unit").await;
    assert_eq!(bench.status, 200);
    let replied = bench
        .body
        .split("data-testid=\"unit-replied\"")
        .nth(1)
        .and_then(|t| t.split("</table>").next())
        .expect("a replied-orders table");
    assert!(
        replied.contains(&format!("data-testid=\"replied-{number}-1\""))
            && replied.contains(&format!("/ui/orders/{order}/appeal")),
        "{replied}"
    );
    let token = csrf(&bench.body);
    let filed = unit
        .post(
            &format!("/ui/orders/{order}/appeal"),
            &[
                ("_csrf", token.as_str()),
                ("part", "satisfaction"),
                ("reason", "诉求人对政策不满，非办理问题"),
            ],
        )
        .await;
    assert_eq!(filed.status, 303, "{}", filed.body);
    let listed = expect(app.get("/api/v1/appeals?status=open", Some(&wj)).await, 200);
    assert_eq!(listed["appeals"][0]["assignment_id"], order.as_str());
    assert_eq!(listed["appeals"][0]["part"], "satisfaction");
    let appeal = listed["appeals"][0]["id"].as_str().unwrap().to_string();

    // A dispatcher reads the list, has no decision buttons and is refused a decision.
    let mut dispatcher = Browser::with_session(&app, &disp);
    let page = dispatcher.get("/ui/appeals").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("诉求人对政策不满"));
    assert!(!page
        .body
        .contains(&format!("/ui/appeals/{appeal}/decision")));
    let token = csrf(&page.body);
    let refused = dispatcher
        .post(
            &format!("/ui/appeals/{appeal}/decision"),
            &[("_csrf", token.as_str()), ("grant", "1"), ("reason", "x")],
        )
        .await;
    assert_eq!(refused.status, 403);
    let mut center = Browser::with_session(&app, &sup);
    let page = center.get("/ui/appeals").await;
    assert!(page
        .body
        .contains(&format!("/ui/appeals/{appeal}/decision")));
    let token = csrf(&page.body);
    let granted = center
        .post(
            &format!("/ui/appeals/{appeal}/decision"),
            &[
                ("_csrf", token.as_str()),
                ("grant", "1"),
                ("reason", "属实"),
            ],
        )
        .await;
    assert_eq!(granted.status, 303, "{}", granted.body);
    let got = expect(
        app.get("/api/v1/appeals?status=granted", Some(&wj)).await,
        200,
    );
    assert_eq!(got["appeals"][0]["id"], appeal.as_str());
}

/// A form's fields with the CSRF token first.
fn with_csrf<'a>(token: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v = vec![("_csrf", token)];
    v.extend_from_slice(fields);
    v
}

/// Issue 18: the admin page searches, adds, edits, merges and closes units.
pub async fn the_admin_page_adds_edits_merges_and_closes_units(b: Backend) {
    let app = app!(b);
    let mut admin = Browser::with_session(&app, &app.admin);
    let page = admin.get("/ui/admin?view=units&q=望京").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("110105026") && page.body.contains("值班电话"),
        "{}",
        page.body
    );
    let token = csrf(&page.body);
    let bad = with_csrf(
        &token,
        &[("code", "110105911"), ("name", "甲"), ("level", "province")],
    );
    let got = admin.post("/ui/admin/units", &bad).await;
    assert_eq!(got.status, 422, "{}", got.body);
    for (code, name) in [("110105911", "云杉街道"), ("110105912", "云松街道")] {
        let f = with_csrf(
            &token,
            &[
                ("code", code),
                ("name", name),
                ("level", "subdistrict"),
                ("parent_code", "110105"),
                ("duty_phone", "010-84000000"),
            ],
        );
        let got = admin.post("/ui/admin/units", &f).await;
        let want = format!("/ui/admin?view=units&state=all&q={code}&done=unit_saved");
        assert_eq!((got.status, got.location.as_str()), (303, want.as_str()));
    }
    let f = with_csrf(
        &token,
        &[
            ("code", "110105911"),
            ("name", "云杉新城街道"),
            ("liaison_name", "赵强"),
        ],
    );
    assert_eq!(admin.post("/ui/admin/units/edit", &f).await.status, 303);
    // A rename dated ahead waits (shown beside the state); a day before this month is named.
    let f = with_csrf(
        &token,
        &[
            ("code", "110105911"),
            ("name", "云杉北街道"),
            ("effective_from", "2027-01-01"),
        ],
    );
    assert_eq!(admin.post("/ui/admin/units/edit", &f).await.status, 303);
    let f = with_csrf(
        &token,
        &[
            ("code", "110105911"),
            ("name", "云杉南街道"),
            ("effective_from", "2026-10-01"),
        ],
    );
    let bad = admin.post("/ui/admin/units/edit", &f).await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("<code>effective_from</code>"),
        "{}",
        bad.body
    );
    let page = admin.get("/ui/admin?view=units&state=all&q=云杉").await;
    assert!(
        page.body.contains("云杉新城街道") && page.body.contains("2027-01-01 起有定日变更"),
        "{}",
        page.body
    );
    // The pending change is listed with a cancel button; cancelled, it is gone from the page.
    assert!(
        page.body.contains("待生效的定日变更") && page.body.contains("name=云杉北街道"),
        "{}",
        page.body
    );
    let cancel = page
        .body
        .split("action=\"/ui/admin/units/changes/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a cancel form")
        .to_string();
    let f = with_csrf(&token, &[("code", "110105911")]);
    let got = admin
        .post(&format!("/ui/admin/units/changes/{cancel}"), &f)
        .await;
    let want = "/ui/admin?view=units&state=all&q=110105911&done=unit_change_cancelled";
    assert_eq!((got.status, got.location.as_str()), (303, want));
    let page = admin.get(want).await;
    assert!(
        !page.body.contains("起有定日变更") && !page.body.contains("待生效的定日变更"),
        "{}",
        page.body
    );
    assert!(page.body.contains("已取消定日变更"), "{}", page.body);
    let got = admin
        .post(&format!("/ui/admin/units/changes/{cancel}"), &f)
        .await;
    assert_eq!(got.status, 409, "{}", got.body);
    let f = with_csrf(&token, &[("code", "110105912"), ("into", "110105911")]);
    assert_eq!(admin.post("/ui/admin/units/merge", &f).await.status, 303);
    let page = admin.get("/ui/admin?view=units&state=all&q=云").await;
    assert!(
        page.body.contains("云杉新城街道") && page.body.contains("赵强"),
        "{}",
        page.body
    );
    assert!(page.body.contains("已并入 110105911"), "{}", page.body);
    let f = with_csrf(&token, &[("code", "110105911")]);
    assert_eq!(admin.post("/ui/admin/units/close", &f).await.status, 303);
    let page = admin.get("/ui/admin?view=units&state=closed&q=云杉").await;
    assert!(page.body.contains("已撤销"), "{}", page.body);
    let disp = app.user("disp_units", Role::Dispatcher, None).await;
    let mut other = Browser::with_session(&app, &disp);
    assert_eq!(other.get("/ui/admin?view=units").await.status, 403);
}

/// 下派 and 签批 on the pages (issue 18): the street passes its order down from the order's
/// page, the community acknowledges and replies on its workbench, the street sends the reply
/// back once and then approves it, and the center's order is replied.
pub async fn a_street_passes_down_from_its_order_page_and_signs_off_on_its_workbench(b: Backend) {
    const HUAJIADI: &str = "110105026034"; // 花家地西里社区 (under 望京)
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let hjd = app.user("hjd", Role::UnitHandler, Some(HUAJIADI)).await;
    let yam = app.user("yam", Role::UnitManager, Some(YOUANMEN)).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区垃圾堆放无人清理"),
        )
        .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = v["assignments"][0]["id"].as_str().unwrap().to_string();
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&wj),
            json!({}),
        )
        .await,
        200,
    );

    let mut street = Browser::with_session(&app, &wj);
    let bench = street.get("/ui/unit").await;
    assert!(
        bench.body.contains(&format!("/ui/orders/{order}\"")),
        "a pass-down link"
    );
    let page = street.get(&format!("/ui/orders/{order}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("下派") && page.body.contains(&format!("value=\"{HUAJIADI}\"")));
    let token = csrf(&page.body);
    let reply_by = input(&page.body, "reply_by");
    // Another street's manager gets the missing page.
    let mut other = Browser::with_session(&app, &yam);
    assert_eq!(other.get(&format!("/ui/orders/{order}")).await.status, 404);
    let bad = street
        .post(
            &format!("/ui/orders/{order}/pass-down"),
            &[
                ("_csrf", token.as_str()),
                ("units", HUAJIADI),
                ("reply_by", "tomorrow"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>reply_by</code>"), "{}", bad.body);
    let passed = street
        .post(
            &format!("/ui/orders/{order}/pass-down"),
            &[
                ("_csrf", token.as_str()),
                ("units", HUAJIADI),
                ("reply_by", reply_by.as_str()),
                ("note", "请社区核实"),
            ],
        )
        .await;
    assert_eq!(passed.status, 303, "{}", passed.body);

    let mut community = Browser::with_session(&app, &hjd);
    let bench = community.get("/ui/unit").await;
    assert!(
        bench.body.contains("上级下派给本单位的工单") && bench.body.contains("请社区核实"),
        "{}",
        bench.body
    );
    let sub = bench
        .body
        .split("/ui/sub-orders/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let token = csrf(&bench.body);
    let acked = community
        .post(
            &format!("/ui/sub-orders/{sub}/acknowledge"),
            &[("_csrf", token.as_str())],
        )
        .await;
    assert_eq!(acked.status, 303, "{}", acked.body);
    let reply = |t: &'static str| {
        vec![
            ("_csrf", token.clone()),
            ("to_requester", format!("已清理：{t}")),
            ("to_center", format!("清理完毕：{t}")),
            ("outcome", "resolved".to_string()),
        ]
    };
    let fields = reply("第一次");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        community
            .post(&format!("/ui/sub-orders/{sub}/reply"), &pairs)
            .await
            .status,
        303
    );

    // The street sends it back once, then approves the second reply.
    let bench = street.get("/ui/unit").await;
    assert!(
        bench.body.contains("待本单位签批") && bench.body.contains("清理完毕：第一次"),
        "{}",
        bench.body
    );
    let signoff = bench
        .body
        .split("/ui/signoffs/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let token = csrf(&bench.body);
    let back = street
        .post(
            &format!("/ui/signoffs/{signoff}/decision"),
            &[
                ("_csrf", token.as_str()),
                ("decision", "send_back"),
                ("reason", "请附照片"),
            ],
        )
        .await;
    assert_eq!(back.status, 303, "{}", back.body);
    let bench = community.get("/ui/unit").await;
    assert!(bench.body.contains("请附照片"), "the community reads why");
    let fields = reply("第二次");
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        community
            .post(&format!("/ui/sub-orders/{sub}/reply"), &pairs)
            .await
            .status,
        303
    );
    let bench = street.get("/ui/unit").await;
    let signoff = bench
        .body
        .split("/ui/signoffs/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let ok = street
        .post(
            &format!("/ui/signoffs/{signoff}/decision"),
            &[
                ("_csrf", csrf(&bench.body).as_str()),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let center = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&disp))
            .await,
        200,
    );
    assert_eq!(center["assignments"][0]["status"], "replied", "{center}");
    assert_eq!(
        center["assignments"][0]["reply_to_requester"],
        "已清理：第二次"
    );
    let bench = street.get("/ui/unit").await;
    assert!(
        bench.body.contains("下属单位办理情况"),
        "the sub-unit tallies"
    );
    let detail = community.get(&format!("/ui/requests/{id}")).await;
    assert_eq!(detail.status, 200);
    assert!(
        detail.body.contains("签批退回") && detail.body.contains("下派"),
        "the timeline names each step"
    );
}

/// Issue 18: child orders keep time on the pages. A community asks for more time from its
/// child order's page and the street approves it on its order's page; another community
/// returns its child order with a reason, which the street's page shows; the supervisor's
/// dashboard shows the month's whistle tally.
pub async fn a_community_asks_for_time_and_returns_from_its_child_order_page_and_the_street_decides(
    b: Backend,
) {
    const HUAJIADI: &str = "110105026034"; // 花家地西里社区 (under 望京)
    const FANGZHOUYUAN: &str = "110105026035"; // 方舟苑社区 (under 望京)
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let hjd = app.user("hjd", Role::UnitHandler, Some(HUAJIADI)).await;
    let fzy = app.user("fzy", Role::UnitHandler, Some(FANGZHOUYUAN)).await;
    let r = expect(
        app.post(
            "/api/v1/requests",
            Some(&op),
            complaint("望京西园三区垃圾堆放无人清理"),
        )
        .await,
        201,
    );
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = v["assignments"][0]["id"].as_str().unwrap().to_string();
    let limit: chrono::DateTime<chrono::Utc> = v["assignments"][0]["reply_by"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&wj),
            json!({}),
        )
        .await,
        200,
    );
    let v = expect(
        app.post(
            &format!("/api/v1/assignments/{order}/pass-down"),
            Some(&wj),
            json!({ "units": [HUAJIADI, FANGZHOUYUAN], "reply_by": limit - chrono::Duration::days(2) }),
        )
        .await,
        200,
    );
    let child = |unit: &str| {
        v["sub_orders"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["unit_code"] == unit)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (c_hjd, c_fzy) = (child(HUAJIADI), child(FANGZHOUYUAN));
    for (token, c) in [(&hjd, &c_hjd), (&fzy, &c_fzy)] {
        expect(
            app.post(
                &format!("/api/v1/sub-orders/{c}/acknowledge"),
                Some(token),
                json!({}),
            )
            .await,
            200,
        );
    }

    // The community asks for time up to the street's own limit (the form's default).
    let mut community = Browser::with_session(&app, &hjd);
    let page = community.get(&format!("/ui/sub-orders/{c_hjd}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("ask-time-box") && page.body.contains("give-back-box"),
        "{}",
        page.body
    );
    let asked = community
        .post(
            &format!("/ui/sub-orders/{c_hjd}/extension"),
            &[
                ("_csrf", csrf(&page.body).as_str()),
                ("reply_by", input(&page.body, "reply_by").as_str()),
                ("reason", "需协调物业公司"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    // The street sees the request beside the child and approves it there.
    let mut street = Browser::with_session(&app, &wj);
    let page = street.get(&format!("/ui/orders/{order}")).await;
    assert!(page.body.contains("申请延期至"), "{}", page.body);
    let x = page
        .body
        .split("/ui/sub-extensions/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let ok = street
        .post(
            &format!("/ui/sub-extensions/{x}/decision"),
            &[
                ("_csrf", csrf(&page.body).as_str()),
                ("decision", "approve"),
                ("back", &format!("/ui/orders/{order}")),
            ],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    assert!(
        ok.location.starts_with(&format!("/ui/orders/{order}")),
        "{}",
        ok.location
    );
    let view = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&wj)).await,
        200,
    );
    let hjd_view = view["sub_orders"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == c_hjd.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        hjd_view["extensions"][0]["status"], "approved",
        "{hjd_view}"
    );
    let moved: chrono::DateTime<chrono::Utc> =
        hjd_view["reply_by"].as_str().unwrap().parse().unwrap();
    assert!(
        moved > limit - chrono::Duration::days(2) && moved <= limit,
        "{moved}"
    );

    // The other community returns its child order; the street's page shows why.
    let mut other = Browser::with_session(&app, &fzy);
    let page = other.get(&format!("/ui/sub-orders/{c_fzy}")).await;
    let back = other
        .post(
            &format!("/ui/sub-orders/{c_fzy}/return"),
            &[
                ("_csrf", csrf(&page.body).as_str()),
                ("reason", "地址不在本社区"),
            ],
        )
        .await;
    assert_eq!(back.status, 303, "{}", back.body);
    let page = street.get(&format!("/ui/orders/{order}")).await;
    assert!(
        page.body.contains("退回上级") && page.body.contains("地址不在本社区"),
        "{}",
        page.body
    );
    // Returned, the child's page no longer offers the actions.
    let page = other.get(&format!("/ui/sub-orders/{c_fzy}")).await;
    assert!(!page.body.contains("give-back-box"), "{}", page.body);

    // The street blows a whistle; the supervisor's dashboard shows the month's tally.
    expect(
        app.post(
            "/api/v1/whistles",
            Some(&wj),
            json!({ "title": "占道经营联合整治", "description": "请城管到场",
                    "units": [{ "unit_code": "dept.cgzf", "role": "lead" }] }),
        )
        .await,
        201,
    );
    let mut supervisor = Browser::with_session(&app, &sup);
    let dash = supervisor.get("/ui/dashboard?month=2026-11").await; // the month of the whistle (the default is the last complete one)
    assert_eq!(dash.status, 200);
    assert!(
        dash.body.contains("dashboard-whistle-tally")
            && dash.body.contains("dash-whistle-dept.cgzf"),
        "{}",
        dash.body
    );
}

/// Issue 18: the admin page adds a time-limit version through the service (an event; a
/// refusal shows the page again with the error beside its field and the values typed) and
/// switches 签批 per unit and 办结审核 per category (searched), each an event.
pub async fn the_admin_page_adds_a_time_limit_version_and_switches_signoff_and_reply_review(
    b: Backend,
) {
    let app = app!(b);
    let mut admin = Browser::with_session(&app, &app.admin);
    let page = admin.get("/ui/admin?view=limits").await;
    assert!(
        page.body.contains("data-testid=\"limit-form\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("新增时限版本"), "Chinese first");
    let token = csrf(&page.body);
    // Reply shorter than acknowledge and a bad date: refused, both named beside their fields.
    let bad = admin
        .post(
            "/ui/admin/limits",
            &[
                ("_csrf", &token),
                ("class", "urgent_x"),
                ("name_zh", "特急"),
                ("name_en", "Very urgent"),
                ("acknowledge_minutes", "60"),
                ("reply_minutes", "30"),
                ("day_kind", "calendar"),
                ("effective_from", "tomorrow"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422, "{}", bad.body);
    assert!(
        bad.body.contains("data-field=\"reply_minutes\""),
        "{}",
        bad.body
    );
    assert!(bad.body.contains("data-field=\"effective_from\""));
    assert!(!bad.body.contains("data-field=\"class\""));
    assert!(bad.body.contains("value=\"特急\""), "the values typed stay");
    let before: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM time_limits WHERE class = 'urgent_x'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(before, 0);
    let ok = admin
        .post(
            "/ui/admin/limits",
            &[
                ("_csrf", &token),
                ("class", "urgent_x"),
                ("name_zh", "特急"),
                ("name_en", "Very urgent"),
                ("acknowledge_minutes", "15"),
                ("reply_minutes", "240"),
                ("day_kind", "working"),
                ("effective_from", ""),
            ],
        )
        .await;
    assert_eq!(
        (ok.status, ok.location.as_str()),
        (303, "/ui/admin?view=limits&done=limit_added"),
        "{}",
        ok.body
    );
    let all = expect(app.get("/api/v1/time-limits", Some(&app.admin)).await, 200);
    let v = all
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["class"] == "urgent_x")
        .expect("the new class is listed");
    assert_eq!(
        (v["reply_minutes"].as_i64(), v["day_kind"].as_str()),
        (Some(240), Some("working"))
    );
    let page = admin.get("/ui/admin?view=limits").await;
    assert!(page.body.contains("urgent_x") && page.body.contains("特急"));

    // 签批: off at first, switched on from the units view, then off again.
    let view = format!("/ui/admin?view=units&state=all&q={WANGJING}");
    let page = admin.get(&view).await;
    assert!(
        page.body
            .contains(&format!("data-testid=\"signoff-{WANGJING}\"")),
        "{}",
        page.body
    );
    assert!(page.body.contains("开启签批"));
    let on = admin
        .post(
            &format!("/ui/admin/units/signoff/{WANGJING}"),
            &[("_csrf", &token), ("required", "1")],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    let required: i64 = sqlx::query_scalar("SELECT signoff_required FROM units WHERE code = $1")
        .bind(WANGJING)
        .fetch_one(app.state.store.reader())
        .await
        .unwrap();
    assert_eq!(required, 1);
    let page = admin.get(&view).await;
    assert!(
        page.body.contains("关闭签批"),
        "the switch now turns it off"
    );
    let bad = admin
        .post(
            &format!("/ui/admin/units/signoff/{WANGJING}"),
            &[("_csrf", &token), ("required", "maybe")],
        )
        .await;
    assert_eq!(bad.status, 422);
    let missing = admin
        .post(
            "/ui/admin/units/signoff/no-such-unit",
            &[("_csrf", &token), ("required", "1")],
        )
        .await;
    assert_eq!(missing.status, 404);
    admin
        .post(
            &format!("/ui/admin/units/signoff/{WANGJING}"),
            &[("_csrf", &token), ("required", "0")],
        )
        .await;
    // 办结审核 per category: searched, switched on from the categories view.
    let page = admin.get("/ui/admin?view=categories&q=环境卫生").await;
    assert!(
        page.body
            .contains("data-testid=\"reply-review-cxjs.csgl.hw\""),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("data-testid=\"reply-review-cxjs.csgl\""),
        "the search filters"
    );
    let on = admin
        .post(
            "/ui/admin/categories/reply-review/cxjs.csgl.hw",
            &[("_csrf", &token), ("on", "1")],
        )
        .await;
    assert_eq!(on.status, 303, "{}", on.body);
    let flag: i64 =
        sqlx::query_scalar("SELECT reply_review FROM categories WHERE code = 'cxjs.csgl.hw'")
            .fetch_one(app.state.store.reader())
            .await
            .unwrap();
    assert_eq!(flag, 1);
    let page = admin.get("/ui/admin?view=categories&q=cxjs.csgl.hw").await;
    assert!(page.body.contains("关闭办结审核"));
    let bad = admin
        .post(
            "/ui/admin/categories/reply-review/no.such",
            &[("_csrf", &token), ("on", "1")],
        )
        .await;
    assert_eq!(bad.status, 404);
    // Other roles cannot.
    let other = app.user("someone", Role::Operator, None).await;
    let mut op = Browser::with_session(&app, &other);
    let op_token = csrf(&op.get("/ui/").await.body);
    let got = op
        .post(
            &format!("/ui/admin/units/signoff/{WANGJING}"),
            &[("_csrf", &op_token), ("required", "1")],
        )
        .await;
    assert_eq!(got.status, 403);
    let got = op
        .post("/ui/admin/limits", &[("_csrf", &op_token), ("class", "x")])
        .await;
    assert_eq!(got.status, 403);
    let actions: Vec<String> = sqlx::query_scalar(
        "SELECT action FROM events WHERE action IN ('time_limit.version_added', 'unit.signoff_required', 'category.reply_review') ORDER BY seq",
    )
    .fetch_all(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "time_limit.version_added",
            "unit.signoff_required",
            "unit.signoff_required",
            "category.reply_review"
        ]
    );
}

/// 办结审核 on its page (issue 18): a reply on a checked category waits on the center's page
/// with the unit's reply; a unit cannot open or decide it; a bad decision names the field; a
/// send-back without a reason names `reason`; send back, then approve the second reply.
pub async fn the_center_checks_a_reply_on_its_page_and_sends_it_back_then_approves(b: Backend) {
    let app = app!(b);
    let op = app.user("op1", Role::Operator, None).await;
    let disp = app.user("disp1", Role::Dispatcher, None).await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;
    let admin = app.user("admin2", Role::Admin, None).await;
    let cats = expect(app.get("/api/v1/categories", Some(&sup)).await, 200);
    let list = cats
        .as_array()
        .or_else(|| cats["categories"].as_array())
        .unwrap_or_else(|| panic!("{cats}"));
    let checked = list
        .iter()
        .find(|c| c["level"] == 3)
        .and_then(|c| c["code"].as_str())
        .unwrap()
        .to_string();
    expect(
        app.put(
            &format!("/api/v1/categories/{checked}/reply-review"),
            &admin,
            json!({ "reply_review": true }),
        )
        .await,
        200,
    );
    let mut body = complaint("望京西园三区工地夜间施工噪音扰民");
    body["category_code"] = json!(checked);
    let r = expect(app.post("/api/v1/requests", Some(&op), body).await, 201);
    let id = r["id"].as_str().unwrap().to_string();
    let v = expect(
        app.post(
            &format!("/api/v1/requests/{id}/dispatch"),
            Some(&disp),
            json!({ "assignments": [{ "unit_code": WANGJING, "role": "lead" }] }),
        )
        .await,
        200,
    );
    let order = v["assignments"][0]["id"].as_str().unwrap().to_string();
    let reply = |text: &'static str| {
        let (app, wj, order) = (&app, &wj, &order);
        async move {
            expect(
                app.post(
                    &format!("/api/v1/assignments/{order}/reply"),
                    Some(wj),
                    json!({ "to_requester": text, "to_center": format!("中心：{text}"), "outcome": "resolved" }),
                )
                .await,
                200,
            );
        }
    };
    expect(
        app.post(
            &format!("/api/v1/assignments/{order}/acknowledge"),
            Some(&wj),
            json!({}),
        )
        .await,
        200,
    );
    reply("已协调工地停工").await;

    // A unit has neither the link nor the page.
    let mut unit = Browser::with_session(&app, &wj);
    let bench = unit.get("/ui/unit").await;
    assert!(
        !bench.body.contains("/ui/reply-reviews"),
        "no nav link for a unit"
    );
    assert_eq!(unit.get("/ui/reply-reviews").await.status, 403);

    let mut center = Browser::with_session(&app, &disp);
    let page = center.get("/ui/reply-reviews").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("href=\"/ui/reply-reviews\""), "nav link");
    assert!(page.body.contains("已协调工地停工") && page.body.contains("中心：已协调工地停工"));
    assert!(page.body.contains(&format!("<code>{checked}</code>")));
    let rv = page
        .body
        .split("/ui/reply-reviews/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let token = csrf(&page.body);
    // Another unit's user (even with a token of its own) cannot decide.
    let utoken = csrf(&bench.body);
    let refused = unit
        .post(
            &format!("/ui/reply-reviews/{rv}/decision"),
            &[("_csrf", utoken.as_str()), ("decision", "approve")],
        )
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let bad = center
        .post(
            &format!("/ui/reply-reviews/{rv}/decision"),
            &[("_csrf", token.as_str()), ("decision", "maybe")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>decision</code>"), "{}", bad.body);
    let bad = center
        .post(
            &format!("/ui/reply-reviews/{rv}/decision"),
            &[
                ("_csrf", token.as_str()),
                ("decision", "send_back"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>reason</code>"), "{}", bad.body);
    let sent = center
        .post(
            &format!("/ui/reply-reviews/{rv}/decision"),
            &[
                ("_csrf", token.as_str()),
                ("decision", "send_back"),
                ("reason", "未说明施工许可核查结果"),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let r = expect(
        app.get(&format!("/api/v1/requests/{id}"), Some(&sup)).await,
        200,
    );
    assert_eq!(r["assignments"][0]["status"], "acknowledged", "{r}");
    let page = center.get("/ui/reply-reviews").await;
    assert!(!page.body.contains(&format!("/ui/reply-reviews/{rv}/")));

    reply("已核查施工许可并停工").await;
    let mut center = Browser::with_session(&app, &sup);
    let page = center.get("/ui/reply-reviews").await;
    assert!(page.body.contains("已核查施工许可并停工"), "{}", page.body);
    let rv2 = page
        .body
        .split("/ui/reply-reviews/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    assert_ne!(rv2, rv);
    let token = csrf(&page.body);
    let ok = center
        .post(
            &format!("/ui/reply-reviews/{rv2}/decision"),
            &[("_csrf", token.as_str()), ("decision", "approve")],
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let got = expect(
        app.get("/api/v1/reply-reviews?status=approved", Some(&sup))
            .await,
        200,
    );
    assert_eq!(got["reviews"][0]["id"], rv2.as_str(), "{got}");
}

/// 小事不出社区 on its page (issue 18): community staff record a request solved on the spot;
/// a bad phone names `requester.phone`; the month's tally counts it; a street user sees the
/// tally but no form, and its post is refused.
pub async fn a_community_records_a_request_solved_on_the_spot_from_its_page(b: Backend) {
    const HUAJIADI: &str = "110105026034"; // 花家地西里社区 (under 望京)
    let app = app!(b);
    let hjd = app
        .user("hjd_handler", Role::UnitHandler, Some(HUAJIADI))
        .await;
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let mut community = Browser::with_session(&app, &hjd);
    let bench = community.get("/ui/unit").await;
    assert!(bench.body.contains("href=\"/ui/community\""));
    let page = community.get("/ui/community").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"community-form\""));
    let token = csrf(&page.body);
    let form = |phone: &'static str| {
        vec![
            ("kind", "help"),
            ("requester_name", "赵大爷"),
            ("requester_phone", phone),
            ("text", "花家地西里3号楼楼道灯不亮，老人夜里上下楼不便。"),
            ("address", "朝阳区花家地西里3号楼"),
            ("to_requester", "已当场联系物业更换楼道灯。"),
            ("to_center", "已更换楼道灯（物业维修单 0012）"),
            ("outcome", "resolved"),
        ]
    };
    let bad = community
        .post("/ui/community", &with_csrf(&token, &form("12")))
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("<code>requester.phone</code>"),
        "{}",
        bad.body
    );
    let mut wrong = form("13812345678");
    wrong[0] = ("kind", "rumour");
    let bad = community
        .post("/ui/community", &with_csrf(&token, &wrong))
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>kind</code>"), "{}", bad.body);
    let ok = community
        .post("/ui/community", &with_csrf(&token, &form("13812345678")))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = community.get("/ui/community").await;
    let row = page
        .body
        .split(&format!("data-testid=\"community-tally-{HUAJIADI}\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .unwrap_or_else(|| panic!("{}", page.body))
        .to_string();
    assert!(row.contains("<td>1</td>"), "{row}");

    // The street sees the tally of its communities, no form, and cannot record.
    let mut street = Browser::with_session(&app, &wj);
    let page = street.get("/ui/community").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("data-testid=\"community-form\""));
    assert!(page.body.contains(&format!("community-tally-{HUAJIADI}")));
    let token = csrf(&page.body);
    let refused = street
        .post("/ui/community", &with_csrf(&token, &form("13812345678")))
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let tally = expect(app.get("/api/v1/community/tally", Some(&hjd)).await, 200);
    assert_eq!(tally["units"][0]["recorded"], 1, "{tally}");
}

/// 吹哨报到 on its page (issue 18): the street summons 城管 (lead) and 住建委 from its form; a
/// bad report limit and an empty summon list name their fields; 城管 reports on the page (an
/// empty person names `person`); 住建委 cannot report for 城管; the supervisor sees the tally.
pub async fn a_street_summons_departments_from_its_page_and_one_reports(b: Backend) {
    const CGZF: &str = "dept.cgzf";
    const ZJW: &str = "dept.zjw";
    let app = app!(b);
    let wj = app.user("wj", Role::UnitManager, Some(WANGJING)).await;
    let cg = app.user("cg", Role::UnitHandler, Some(CGZF)).await;
    let zj = app.user("zj", Role::UnitHandler, Some(ZJW)).await;
    let sup = app.user("sup1", Role::Supervisor, None).await;

    let mut street = Browser::with_session(&app, &wj);
    let bench = street.get("/ui/unit").await;
    assert!(bench.body.contains("href=\"/ui/whistles\""));
    let page = street.get("/ui/whistles").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-testid=\"whistle-form\""));
    assert!(page.body.contains(&format!("value=\"{CGZF}\"")));
    let token = csrf(&page.body);
    let form = |lead: &'static str, hours: &'static str| {
        vec![
            ("title", "望京西园三区渣土车夜间抛洒"),
            ("description", "城管查处抛洒，住建委约谈施工单位。"),
            ("lead", lead),
            ("co", ZJW),
            ("report_within_hours", hours),
        ]
    };
    let bad = street
        .post("/ui/whistles", &with_csrf(&token, &form(CGZF, "0")))
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("<code>report_within_hours</code>"),
        "{}",
        bad.body
    );
    let bad = street
        .post(
            "/ui/whistles",
            &with_csrf(
                &token,
                &[
                    ("title", "t"),
                    ("description", "d"),
                    ("lead", ""),
                    ("report_within_hours", "4"),
                ],
            ),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>units</code>"), "{}", bad.body);
    let ok = street
        .post("/ui/whistles", &with_csrf(&token, &form(CGZF, "4")))
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);

    // A summoned department sees no summon form, but a report form on its own line only.
    let mut dept = Browser::with_session(&app, &cg);
    let page = dept.get("/ui/whistles").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("data-testid=\"whistle-form\""));
    assert!(
        page.body.contains("望京西园三区渣土车夜间抛洒"),
        "{}",
        page.body
    );
    let forms: Vec<&str> = page.body.matches("data-testid=\"report-form\"").collect();
    assert_eq!(forms.len(), 1, "{}", page.body);
    let order = page
        .body
        .split("/ui/whistles/orders/")
        .nth(1)
        .and_then(|s| s.split('/').next())
        .unwrap()
        .to_string();
    let token = csrf(&page.body);
    let bad = dept
        .post(
            &format!("/ui/whistles/orders/{order}/report"),
            &with_csrf(&token, &[("person", " ")]),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("<code>person</code>"), "{}", bad.body);
    let mut other = Browser::with_session(&app, &zj);
    let page = other.get("/ui/whistles").await;
    let otoken = csrf(&page.body);
    let refused = other
        .post(
            &format!("/ui/whistles/orders/{order}/report"),
            &with_csrf(&otoken, &[("person", "李科长")]),
        )
        .await;
    assert!(matches!(refused.status, 403 | 404), "{}", refused.status);
    let ok = dept
        .post(
            &format!("/ui/whistles/orders/{order}/report"),
            &with_csrf(&token, &[("person", "张队长"), ("contact", "010-12345678")]),
        )
        .await;
    assert_eq!(ok.status, 303, "{}", ok.body);
    let page = street.get("/ui/whistles").await;
    assert!(page.body.contains("张队长") && page.body.contains("data-testid=\"summoned-on_time\""));

    let mut center = Browser::with_session(&app, &sup);
    let page = center.get("/ui/whistles").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("href=\"/ui/whistles\""), "nav link");
    let row = page
        .body
        .split(&format!("data-testid=\"whistle-tally-{CGZF}\""))
        .nth(1)
        .and_then(|s| s.split("</tr>").next())
        .unwrap_or_else(|| panic!("{}", page.body))
        .to_string();
    assert!(row.contains("<td>1</td><td>1</td><td>0</td>"), "{row}");
}

/// Categories on the admin page (issue 18): the add form adds one (in force at once: it takes
/// a request), a row's edit link opens its form, which renames and deactivates it from now or
/// announces a change for later; a back date is refused naming `valid_from`; without the CSRF
/// token or as another role, nothing changes.
pub async fn the_admin_page_adds_and_edits_categories_with_effective_dates(b: Backend) {
    let app = app!(b);
    let mut admin = Browser::with_session(&app, &app.admin);
    let page = admin.get("/ui/admin?view=categories").await;
    assert!(
        page.body.contains("data-testid=\"category-add\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("新增分类"), "Chinese first");
    let token = csrf(&page.body);
    let added = admin
        .post(
            "/ui/admin/categories",
            &[
                ("_csrf", &token),
                ("code", "cxjs.csgl.hdg"),
                ("name", "换电柜安全"),
                ("parent_code", "cxjs.csgl"),
                ("time_limit_class", "utilities"),
                ("keywords", "换电柜"),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let page = admin
        .get("/ui/admin?view=categories&q=cxjs.csgl.hdg&edit=cxjs.csgl.hdg")
        .await;
    assert!(
        page.body.contains("data-testid=\"edit-cxjs.csgl.hdg\""),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("data-testid=\"category-edit\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("value=\"换电柜安全\""), "{}", page.body);
    let edit = |name: &'static str, active: &'static str, from: &'static str| {
        vec![
            ("code", "cxjs.csgl.hdg"),
            ("name", name),
            ("name_en", "Battery swap cabinets"),
            ("parent_code", "cxjs.csgl"),
            ("time_limit_class", "utilities"),
            ("default_unit_code", ""),
            ("keywords", "换电柜"),
            ("active", active),
            ("reply_review", "0"),
            ("valid_from", from),
        ]
    };
    // Without the token: refused, nothing changes.
    let no_token = admin
        .post("/ui/admin/categories/edit", &edit("无令牌", "1", ""))
        .await;
    assert_eq!(no_token.status, 403, "{}", no_token.body);
    fn with<'a>(mut f: Vec<(&'a str, &'a str)>, t: &'a str) -> Vec<(&'a str, &'a str)> {
        f.push(("_csrf", t));
        f
    }
    let renamed = admin
        .post(
            "/ui/admin/categories/edit",
            &with(edit("换电柜消防安全", "1", ""), &token),
        )
        .await;
    assert_eq!(renamed.status, 303, "{}", renamed.body);
    let back = admin
        .post(
            "/ui/admin/categories/edit",
            &with(edit("旧名", "1", "2026-10-01T00:00"), &token),
        )
        .await;
    assert_eq!(back.status, 422, "{}", back.body);
    assert!(
        back.body.contains("生效时间不能早于本月一日"),
        "{}",
        back.body
    );
    let later = admin
        .post(
            "/ui/admin/categories/edit",
            &with(edit("换电柜", "1", "2026-12-01T00:00"), &token),
        )
        .await;
    assert_eq!(later.status, 303, "{}", later.body);
    let page = admin.get("/ui/admin?view=categories&q=cxjs.csgl.hdg").await;
    assert!(
        page.body.contains("换电柜消防安全"),
        "the announced name waits"
    );
    let off = admin
        .post(
            "/ui/admin/categories/edit",
            &with(edit("换电柜消防安全", "0", ""), &token),
        )
        .await;
    assert_eq!(off.status, 303, "{}", off.body);
    let page = admin.get("/ui/admin?view=categories&q=cxjs.csgl.hdg").await;
    assert!(page.body.contains("已停用"), "{}", page.body);
    // The announced rename kept its name and took the deactivation dated before it.
    let announced: (String, i64) = sqlx::query_as(
        "SELECT name, active FROM category_versions WHERE code = 'cxjs.csgl.hdg' AND applied = 0",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(announced, ("换电柜".to_string(), 0));
    // Another role cannot.
    let other = app.user("someone", Role::Operator, None).await;
    let mut op = Browser::with_session(&app, &other);
    let op_token = csrf(&op.get("/ui/").await.body);
    let got = op
        .post(
            "/ui/admin/categories",
            &[("_csrf", &op_token), ("code", "x.y"), ("name", "x")],
        )
        .await;
    assert_eq!(got.status, 403);
    let changed: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM events WHERE action IN ('category.added', 'category.changed')",
    )
    .fetch_one(app.state.store.reader())
    .await
    .unwrap();
    assert_eq!(changed, 4, "added, renamed, announced, deactivated");
}
