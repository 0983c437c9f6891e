//! The web pages, driven like a browser (cookies, forms, CSRF tokens), on both databases.

use crate::helpers::{complaint, expect, Backend, TestApp};
use jiesu_core::Role;
use serde_json::json;

const WANGJING: &str = "110105026"; // 望京街道
const YOUANMEN: &str = "110106001"; // 右安门街道 (丰台)

macro_rules! app {
    ($backend:expr) => {
        match TestApp::spawn($backend).await {
            Some(app) => app,
            None => return,
        }
    };
}

/// A browser: keeps cookies, does not follow redirects.
struct Browser {
    base: String,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

/// A page as received.
struct Got {
    status: u16,
    location: String,
    body: String,
}

impl Browser {
    fn new(app: &TestApp) -> Browser {
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
    fn with_session(app: &TestApp, token: &str) -> Browser {
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

    async fn get(&mut self, path: &str) -> Got {
        let req = self.client.get(format!("{}{path}", self.base));
        self.send(req).await
    }

    async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Got {
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

/// The CSRF token in a page's forms.
fn csrf(html: &str) -> String {
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

pub async fn a_unit_handler_opening_another_units_request_gets_a_refusal_page(b: Backend) {
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

    let mut other = Browser::with_session(&app, &yam);
    let page = other.get(&format!("/ui/requests/{id}")).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("此诉求未派给您的单位，您无权查看。"));
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

pub async fn citizens_track_a_request_only_with_its_phone(b: Backend) {
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
    let number = done
        .body
        .split("data-testid=\"portal-number\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let r = expect(
        app.get(&format!("/api/v1/requests/{number}"), Some(&app.admin))
            .await,
        200,
    );
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
                ("phone", "13900000000"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 404);
    assert!(!wrong.body.contains("路灯不亮"), "nothing of the request");
    assert!(wrong.body.contains("没有找到与该编号和电话匹配的诉求"));
    let unknown = stranger
        .post(
            "/ui/portal/track",
            &[
                ("_csrf", &token),
                ("number", "20991231-999999"),
                ("phone", "13698765432"),
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
                ("phone", "136 9876 5432"),
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
