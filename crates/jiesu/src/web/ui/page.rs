//! What every page handler shares: the page context (language, CSRF token, user, navigation,
//! done-message), the logged-in and public page extractors, submitted forms, and formatting.

use super::i18n::{Lang, Tr};
use super::{assets, browser_of, query_param, UiError};
use crate::error::AppError;
use crate::services::{auth, AppState};
use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::Actor;

/// The logged-in user as the header shows them.
#[derive(Debug, Clone)]
pub struct UserBox {
    /// Login name.
    pub username: String,
    /// Role, translated.
    pub role: String,
    /// Unit name, empty for center roles.
    pub unit: String,
}

/// One link of the navigation bar.
#[derive(Debug, Clone)]
pub struct NavItem {
    /// Where.
    pub href: &'static str,
    /// Translated label.
    pub label: &'static str,
    /// Keyboard shortcut (accesskey).
    pub key: &'static str,
}

/// What every page template gets: language, CSRF token, user, navigation, a done-message.
#[derive(Debug, Clone)]
pub struct Ctx {
    /// Translations.
    pub tr: Tr,
    /// The CSRF token for forms and `hx-headers`.
    pub csrf: String,
    /// The user, when logged in.
    pub user: Option<UserBox>,
    /// The navigation bar.
    pub nav: Vec<NavItem>,
    /// A message after a successful action (`?done=`), translated.
    pub flash: Option<&'static str>,
    /// The asset version for cache busting.
    pub v: &'static str,
    /// The Chinese name of the city the platform serves (北京市 unless `jiesu init --city`
    /// chose another), shown in the header of every page (logged-in, login and portal).
    pub city: String,
}

impl Ctx {
    pub(super) fn bare(lang: Lang, csrf: String) -> Ctx {
        Ctx {
            tr: Tr(lang),
            csrf,
            user: None,
            nav: Vec::new(),
            flash: None,
            v: assets::VERSION.as_str(),
            city: String::new(),
        }
    }
}

fn nav_for(tr: Tr, actor: &Actor) -> Vec<NavItem> {
    let mut nav = vec![NavItem {
        href: "/ui/",
        label: tr.s("nav.home"),
        key: "h",
    }];
    let mut add = |ok: bool, href: &'static str, key: &'static str, label: &'static str| {
        if ok {
            nav.push(NavItem {
                href,
                label: tr.s(label),
                key,
            });
        }
    };
    add(
        actor.may(Action::CreateRequest),
        "/ui/intake",
        "i",
        "nav.intake",
    );
    add(
        actor.may(Action::Dispatch),
        "/ui/dispatch",
        "d",
        "nav.dispatch",
    );
    add(actor.role.is_unit_role(), "/ui/unit", "w", "nav.unit");
    add(
        actor.may(Action::Callback),
        "/ui/callback",
        "c",
        "nav.callback",
    );
    add(
        actor.may(Action::Supervise),
        "/ui/dashboard",
        "s",
        "nav.dashboard",
    );
    add(
        actor.may(Action::Supervise),
        "/ui/governance",
        "g",
        "nav.governance",
    );
    add(
        actor.may(Action::Supervise),
        "/ui/appeals",
        "p",
        "nav.appeals",
    );
    // 吹哨报到 and 办结审核 (issue 18)
    add(
        actor.may(Action::Supervise),
        "/ui/whistles",
        "b",
        "nav.whistles",
    );
    // 恶意来电 marks and repeat callers (issue 23)
    add(
        actor.may(Action::MarkCaller),
        "/ui/callers",
        "m",
        "nav.callers",
    );
    // the knowledge base (issue 23)
    add(super::kb::may_open(actor), "/ui/kb", "k", "nav.kb");
    add(
        actor.may(Action::ReviewReturn),
        "/ui/reply-reviews",
        "v",
        "nav.reply_reviews",
    );
    add(actor.may(Action::Administer), "/ui/admin", "a", "nav.admin");
    nav
}

fn flash(parts: &Parts, tr: Tr) -> Option<&'static str> {
    let done = query_param(&parts.uri, "done")?;
    tr.known(&format!("done.{done}"))
}

/// A logged-in page: the user and the page context.
pub struct Page {
    /// The page context.
    pub ctx: Ctx,
    /// Who is logged in.
    pub actor: Actor,
}

impl FromRequestParts<AppState> for Page {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        let b = browser_of(parts);
        let token = b.session.as_deref().ok_or(AppError::Unauthenticated)?;
        let actor = auth::actor_for_token(state, token)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        let tr = Tr(b.lang);
        let unit = match &actor.unit {
            Some(u) => crate::services::directory::unit(state, &u.code)
                .await?
                .map(|u| u.name)
                .unwrap_or_else(|| u.code.clone()),
            None => String::new(),
        };
        let mut ctx = Ctx::bare(b.lang, b.csrf);
        ctx.user = Some(UserBox {
            username: actor.username.clone(),
            role: tr.of("role", actor.role.as_str()),
            unit,
        });
        ctx.nav = nav_for(tr, &actor);
        ctx.flash = flash(parts, tr);
        ctx.city = state.models.city_name.clone();
        Ok(Page { ctx, actor })
    }
}

/// A public page (login, citizen portal): no user needed.
pub struct Public {
    /// The page context.
    pub ctx: Ctx,
}

impl FromRequestParts<AppState> for Public {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, UiError> {
        let b = browser_of(parts);
        let mut ctx = Ctx::bare(b.lang, b.csrf);
        ctx.flash = flash(parts, Tr(b.lang));
        // The login page and the citizen portal name the city too.
        ctx.city = state.models.city_name.clone();
        Ok(Public { ctx })
    }
}

/// A 303 to `path` with a done-message key.
pub fn done(path: &str, what: &str) -> Response {
    let sep = if path.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{path}{sep}done={what}")).into_response()
}

/// A time in the city's local time, `2026-11-02 10:00`.
pub fn local_time(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.config.offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// A value for a query string (`a b&c` → `a+b%26c`).
pub fn enc(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes()).collect()
}

/// A rate 0..1 as a percentage, or a dash.
pub fn pct(r: Option<f64>) -> String {
    r.map(|r| format!("{:.1}%", r * 100.0))
        .unwrap_or_else(|| "—".into())
}

/// A submitted urlencoded form, with repeated fields kept (checkbox lists).
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    /// The first value of a field, trimmed, or "" when absent.
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    }

    /// The first value of a field, trimmed, or None when absent or blank.
    pub fn opt(&self, name: &str) -> Option<String> {
        Some(self.text(name)).filter(|v| !v.is_empty())
    }

    /// Every non-blank value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_string())
            .collect()
    }

    /// Whether a checkbox or yes/no field is on.
    pub fn flag(&self, name: &str) -> bool {
        matches!(self.text(name).as_str(), "1" | "on" | "true" | "yes")
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = UiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, UiError> {
        let bytes = axum::body::to_bytes(req.into_body(), crate::web::BODY_LIMIT)
            .await
            .map_err(|e| {
                UiError(if crate::web::is_body_timeout(&e) {
                    AppError::BodyTimeout
                } else {
                    AppError::TooLarge
                })
            })?;
        let fields: Vec<(String, String)> = form_urlencoded::parse(&bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        // NUL and the other control characters are refused, naming the field; text areas
        // keep their tabs and line breaks.
        if let Some((k, _)) = fields.iter().find(|(k, v)| {
            k.chars().any(|c| crate::web::forbidden_control(c, false))
                || v.chars().any(|c| crate::web::forbidden_control(c, true))
        }) {
            return Err(UiError(AppError::invalid(
                k.clone(),
                "err.no_control_characters",
            )));
        }
        Ok(FormData(fields))
    }
}
