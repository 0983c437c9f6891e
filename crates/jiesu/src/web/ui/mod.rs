//! The web pages (`/ui/…`), server-rendered with askama, htmx for the live parts: one module
//! per area. This module owns what every page shares: the language switch, CSRF checks on
//! form posts, the logged-in user, friendly error pages and redirects. The pages call the same
//! services as the JSON API; they never run SQL of their own.

pub mod admin;
pub mod admin_categories;
pub mod admin_sms;
pub mod admin_text;
pub mod admin_units;
pub mod appeals;
pub mod assets;
pub mod callback;
pub mod callers;
pub mod community;
pub mod csrf;
pub mod dashboard;
pub mod detail;
pub mod dispatch;
mod forms;
pub mod governance;
pub mod home;
pub mod i18n;
pub mod intake;
pub mod kb;
mod page;
pub mod portal;
pub mod reply_reviews;
pub mod subwork;
pub mod tasks;
pub mod topics;
pub mod unit;
pub mod whistles;

use crate::error::AppError;
use crate::services::{auth, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::extract::State;
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use i18n::Lang;

use super::cookies;
use super::extract::SESSION_COOKIE;
use super::limits::{Kind, Limits};

pub use page::{done, enc, local_time, pct, Ctx, FormData, NavItem, Page, Public, UserBox};

/// The line a report page shows when it was read from the standby (issue 21): how far
/// behind the primary it was at the last look; "" when read from the primary.
pub fn standby_note(tr: i18n::Tr, staleness: Option<crate::services::Staleness>) -> String {
    match staleness {
        Some(st) => format!(
            "{} {:.1} s",
            tr.s("report.standby_lag"),
            st.lag_ms as f64 / 1000.0
        ),
        None => String::new(),
    }
}

/// The cookie that remembers the language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "jiesu_lang";

/// The pages, the static assets and the `/` redirect; merged into the application router.
/// `limits` rate-limits the public and login forms (`web::limits`).
pub fn routes(state: &AppState, limits: &Limits) -> Router<AppState> {
    let portal_body =
        axum::middleware::from_fn_with_state(limits.portal_body(), portal::body_limit);
    let pages = Router::new()
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/", get(home::home))
        .route(
            "/ui/login",
            limits.page(
                Kind::Login,
                get(home::login_page).post(home::login),
                page_error,
            ),
        )
        .route("/ui/logout", post(home::logout))
        .route("/ui/intake", get(intake::page).post(intake::submit))
        .route(
            "/ui/intake/suggest",
            limits.page(Kind::Suggest, post(intake::suggest), page_error),
        )
        // issue 23: the caller's history at the desk, abusive-caller marks
        .route("/ui/intake/history", post(callers::history))
        .route("/ui/callers", get(callers::page))
        // the knowledge base kept by the city (issue 23)
        .route("/ui/kb", get(kb::list).post(kb::create))
        .route("/ui/kb/new", get(kb::new_form))
        .route("/ui/kb/stale", get(kb::stale))
        .route("/ui/kb/steps", post(kb::step_all))
        .route("/ui/kb/import", post(kb::import))
        .route("/ui/kb/export", get(kb::export))
        .route("/ui/kb/{id}", get(kb::entry).post(kb::update))
        .route("/ui/kb/{id}/step", post(kb::step))
        .route("/ui/kb/{id}/rate", post(kb::rate))
        .route("/ui/callers/marks", post(callers::mark))
        .route("/ui/callers/marks/{id}/lift", post(callers::unmark))
        .route("/ui/dispatch", get(dispatch::queue))
        .route("/ui/dispatch/{id}", get(dispatch::form))
        .route("/ui/requests/{id}/dispatch", post(dispatch::dispatch))
        .route("/ui/extensions/{id}/decision", post(dispatch::decide))
        .route(
            "/ui/assignments/{id}/return-review",
            post(dispatch::review_return),
        )
        .route("/ui/unit", get(unit::workbench))
        .route("/ui/orders/{id}/appeal", post(appeals::file))
        .route("/ui/orders/{id}/{verb}", post(unit::act))
        // 下派 and 签批 (issue 18)
        .route("/ui/orders/{id}", get(subwork::order_page))
        .route("/ui/orders/{id}/pass-down", post(subwork::pass_order))
        .route("/ui/sub-orders/{id}", get(subwork::sub_page))
        .route("/ui/sub-orders/{id}/pass-down", post(subwork::pass_sub))
        .route(
            "/ui/sub-orders/{id}/acknowledge",
            post(subwork::acknowledge),
        )
        .route("/ui/sub-orders/{id}/reply", post(subwork::reply))
        .route("/ui/signoffs/{id}/decision", post(subwork::decide))
        .route("/ui/sub-orders/{id}/extension", post(subwork::ask_time))
        .route("/ui/sub-orders/{id}/return", post(subwork::give_back))
        .route(
            "/ui/sub-extensions/{id}/decision",
            post(subwork::decide_time),
        )
        .route("/ui/appeals", get(appeals::page))
        .route("/ui/appeals/{id}/decision", post(appeals::decide))
        // 吹哨报到 (issue 18)
        .route("/ui/whistles", get(whistles::page).post(whistles::blow))
        .route("/ui/whistles/orders/{id}/report", post(whistles::report))
        // 小事不出社区 (issue 18)
        .route(
            "/ui/community",
            get(community::page).post(community::record),
        )
        // 办结审核 (issue 18)
        .route("/ui/reply-reviews", get(reply_reviews::page))
        .route(
            "/ui/reply-reviews/{id}/decision",
            post(reply_reviews::decide),
        )
        .route("/ui/callback", get(callback::queue))
        .route("/ui/requests/{id}/callback", post(callback::record))
        .route("/ui/sms/follow-ups/{id}", post(callback::follow_up))
        .route("/ui/requests/{id}", get(detail::page))
        .route("/ui/dashboard", get(dashboard::page))
        .route("/ui/governance", get(governance::page))
        .route("/ui/tasks", post(tasks::create))
        .route("/ui/tasks/new", get(tasks::form))
        .route("/ui/tasks/{id}", get(tasks::page))
        .route("/ui/topics", post(topics::create))
        .route("/ui/topics/proposals", get(topics::proposals))
        .route("/ui/topics/new", get(topics::form))
        .route("/ui/topics/{id}", get(topics::page))
        .route(
            "/ui/portal",
            limits.page(
                Kind::Portal,
                get(portal::citizen_page)
                    .post(portal::citizen_submit)
                    .layer(portal_body.clone()),
                page_error,
            ),
        )
        .route(
            "/ui/portal/enterprise",
            limits.page(
                Kind::Portal,
                get(portal::enterprise_page)
                    .post(portal::enterprise_submit)
                    .layer(portal_body),
                page_error,
            ),
        )
        .route("/ui/portal/districts", get(portal::districts))
        .route(
            "/ui/portal/track",
            limits.page(
                Kind::Track,
                get(portal::track_page).post(portal::track),
                page_error,
            ),
        )
        .route("/ui/admin", get(admin::page))
        .route("/ui/admin/users", post(admin::add_user))
        .route("/ui/admin/calendar", post(admin::set_calendar_day))
        .route("/ui/admin/units", post(admin::add_unit))
        .route("/ui/admin/sms", get(admin_sms::page).post(admin_sms::save))
        .route("/ui/admin/text", get(admin_text::page))
        .route("/ui/admin/text/rollback", post(admin_text::rollback))
        .route("/ui/admin/units/{verb}", post(admin::change_unit))
        .route(
            "/ui/admin/units/changes/{id}/cancel",
            post(admin_units::cancel),
        )
        .route("/ui/admin/limits", post(admin::add_limit))
        .route("/ui/admin/categories", post(admin_categories::add))
        .route("/ui/admin/categories/edit", post(admin_categories::change))
        .route(
            "/ui/admin/categories/reply-review/{code}",
            post(admin::set_category_review),
        )
        .route(
            "/ui/admin/categories/evidence/{code}",
            post(admin::set_category_evidence),
        )
        .route(
            "/ui/admin/units/signoff/{code}",
            post(admin::set_unit_signoff),
        )
        .route("/ui/admin/open311/keys", post(admin::add_key))
        .route(
            "/ui/admin/open311/keys/{id}/revoke",
            post(admin::revoke_key),
        )
        .route(
            "/ui/admin/users/{username}/{verb}",
            post(admin::change_user),
        )
        .route("/ui/{*rest}", get(not_found).post(not_found))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ui_layer,
        ));
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/assets/{*path}", get(assets::serve))
        .merge(pages)
}

/// A refusal as the friendly error page.
fn page_error(e: AppError) -> Response {
    UiError(e).into_response()
}

async fn not_found() -> UiError {
    UiError(AppError::NotFound("page"))
}

/// What the middleware learned about the browser, for the page handlers.
#[derive(Clone, Debug)]
pub struct Browser {
    /// The page language.
    pub lang: Lang,
    /// The CSRF token to put in forms.
    pub csrf: String,
    /// Whether cookies are set `Secure` with the `__Host-` prefix (see `web::cookies`).
    pub https: bool,
    /// The session cookie's value, when it names a live session.
    pub session: Option<String>,
}

fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// Language, CSRF and error pages for every `/ui` route.
async fn ui_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let chosen = query_param(req.uri(), "lang").and_then(|l| Lang::parse(&l));
    let lang = chosen
        .or_else(|| cookies::value(req.headers(), LANG_COOKIE).and_then(|l| Lang::parse(&l)))
        .unwrap_or(Lang::Zh);
    let https = cookies::is_https(req.headers(), req.extensions(), &state.config);
    // The session keys the token only when it is live; else the anonymous secret, and only
    // one this server issued (a client-invented one is replaced).
    let mut session = cookies::read(req.headers(), SESSION_COOKIE, https);
    if let Some(token) = &session {
        if !matches!(auth::actor_for_token(&state, token).await, Ok(Some(_))) {
            session = None;
        }
    }
    let key = &state.logins.anon_key;
    let anon =
        cookies::read(req.headers(), csrf::ANON_COOKIE, https).filter(|a| csrf::issued(key, a));
    let new_anon = (session.is_none() && anon.is_none()).then(|| csrf::new_secret(key));
    let secret = session
        .clone()
        .or(anon)
        .or(new_anon.clone())
        .unwrap_or_default();
    let htmx = req.headers().contains_key("hx-request");
    let path = req.uri().path().to_string();
    let mut req = req;
    if req.method() == Method::POST {
        match check_csrf(req, &secret).await {
            Ok(r) => req = r,
            Err(()) => {
                return error_page(
                    lang,
                    StatusCode::FORBIDDEN,
                    lang.pick(
                        "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试",
                        "the form expired or came from elsewhere (CSRF check failed): reload the page and try again",
                    )
                    .to_string(),
                    Vec::new(),
                )
            }
        }
    }
    req.extensions_mut().insert(Browser {
        lang,
        csrf: csrf::token(&secret),
        https,
        session,
    });
    let mut resp = next.run(req).await;
    if let Some(parts) = resp.extensions().get::<ErrorParts>().cloned() {
        let retry_after = resp.headers().get(header::RETRY_AFTER).cloned();
        resp = render_error(lang, parts, &path, htmx);
        if let Some(r) = retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, r);
        }
    }
    let h = resp.headers_mut();
    // A public answer (the district shapes, the assets) may sit in a shared cache: it carries
    // no cookie, so no visitor is handed another's CSRF secret.
    let public = h
        .get(header::CACHE_CONTROL)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("public"));
    let (chosen, new_anon) = if public {
        (None, None)
    } else {
        (chosen, new_anon)
    };
    if let Some(l) = chosen {
        // Not a secret: no prefix, but Secure over HTTPS.
        let secure = if https { "; Secure" } else { "" };
        let c = format!(
            "{LANG_COOKIE}={}; Path=/; SameSite=Lax; Max-Age=31536000{secure}",
            l.code()
        );
        if let Ok(v) = HeaderValue::from_str(&c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    if let Some(a) = new_anon {
        let attrs = "HttpOnly; SameSite=Strict";
        if let Some(v) = cookies::set(csrf::ANON_COOKIE, &a, https, attrs) {
            h.append(header::SET_COOKIE, v);
        }
    }
    // Pages are the person's own: never kept. A public answer that says how long it may be
    // kept (the portal's district shapes) keeps its own rule.
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Only our own scripts run: an injected <script> or on… attribute would not.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
             img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        ),
    );
    resp
}

/// Passes the request on when its token (header or `_csrf` form field) is right.
async fn check_csrf(req: Request, secret: &str) -> Result<Request, ()> {
    if let Some(t) = req
        .headers()
        .get(csrf::HEADER)
        .and_then(|v| v.to_str().ok())
    {
        return if csrf::verify(secret, t) {
            Ok(req)
        } else {
            Err(())
        };
    }
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, super::BODY_LIMIT)
        .await
        .map_err(|_| ())?;
    let ok = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == csrf::FIELD)
        .is_some_and(|(_, v)| csrf::verify(secret, &v));
    if ok {
        Ok(Request::from_parts(parts, axum::body::Body::from(bytes)))
    } else {
        Err(())
    }
}

/// An error on a page: rendered by the middleware as a friendly page in the page's language.
#[derive(Debug)]
pub struct UiError(pub AppError);

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        UiError(e)
    }
}

impl From<jiesu_core::kpi::ParseError> for UiError {
    fn from(e: jiesu_core::kpi::ParseError) -> Self {
        UiError(e.into())
    }
}

#[derive(Clone, Debug)]
struct ErrorParts {
    status: StatusCode,
    zh: String,
    en: String,
    fields: Vec<(String, String, String)>,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        // A database failover answers 503 with Retry-After, never 500.
        let err = self.0.settled();
        if let AppError::Internal(e) = &err {
            tracing::error!(error = ?e, "internal error on a page");
        }
        let parts = ErrorParts {
            status: StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            zh: err.message(false),
            en: err.message(true),
            fields: err
                .fields()
                .iter()
                .map(|f| (f.field.clone(), f.message.clone(), f.message_en.clone()))
                .collect(),
        };
        let mut resp = (parts.status, parts.en.clone()).into_response();
        if let AppError::TooManyAttempts(s)
        | AppError::TooManyRequests(s)
        | AppError::Unavailable(s) = err
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        resp.extensions_mut().insert(parts);
        resp
    }
}

/// What page handlers return.
pub type UiResult = Result<Response, UiError>;

fn render_error(lang: Lang, p: ErrorParts, path: &str, htmx: bool) -> Response {
    if p.status == StatusCode::UNAUTHORIZED && path != "/ui/login" {
        let to = format!("/ui/login?next={}", enc(path));
        if htmx {
            return ([("hx-redirect", to)], StatusCode::OK).into_response();
        }
        return Redirect::to(&to).into_response();
    }
    let en = lang == Lang::En;
    let fields = p
        .fields
        .into_iter()
        .map(|(f, zh, e)| (f, if en { e } else { zh }))
        .collect();
    error_page(lang, p.status, if en { p.en } else { p.zh }, fields)
}

/// The friendly error page.
#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    ctx: Ctx,
    status: u16,
    message: String,
    fields: Vec<(String, String)>,
}

fn error_page(
    lang: Lang,
    status: StatusCode,
    message: String,
    fields: Vec<(String, String)>,
) -> Response {
    let page = ErrorPage {
        ctx: Ctx::bare(lang, String::new()),
        status: status.as_u16(),
        message,
        fields,
    };
    (status, page).into_response()
}

fn browser_of(parts: &Parts) -> Browser {
    parts
        .extensions
        .get::<Browser>()
        .cloned()
        .unwrap_or(Browser {
            lang: Lang::Zh,
            csrf: String::new(),
            https: false,
            session: None,
        })
}
