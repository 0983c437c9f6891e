//! Login, logout and the role-based home page.

use super::{Browser, Ctx, FormData, Page, Public, UiError, UiResult};
use crate::error::AppError;
use crate::services::{auth, AppState};
use crate::web::client::ClientIp;
use crate::web::cookies;
use crate::web::extract::SESSION_COOKIE;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
use axum::Extension;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    ctx: Ctx,
    error: Option<String>,
    next: String,
    username: String,
}

/// A tile of the home page.
struct Tile {
    href: &'static str,
    label: &'static str,
    hint: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
struct HomePage {
    ctx: Ctx,
    tiles: Vec<Tile>,
}

/// `GET /ui/`: links to the pages of the user's role.
pub async fn home(page: Page) -> UiResult {
    let tr = page.ctx.tr;
    let tiles = page
        .ctx
        .nav
        .iter()
        .skip(1)
        .map(|n| Tile {
            href: n.href,
            label: n.label,
            hint: tr.s(match n.href {
                "/ui/intake" => "home.intake",
                "/ui/dispatch" => "home.dispatch",
                "/ui/unit" => "home.unit",
                "/ui/callback" => "home.callback",
                "/ui/dashboard" => "home.dashboard",
                "/ui/governance" => "home.governance",
                "/ui/callers" => "home.callers",
                _ => "home.admin",
            }),
        })
        .collect();
    Ok(HomePage {
        ctx: page.ctx,
        tiles,
    }
    .into_response())
}

#[derive(Deserialize)]
pub struct NextParam {
    next: Option<String>,
}

/// Only our own pages are valid targets after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        // a local page only, and a valid Location header: no CR/LF or other controls, no
        // spaces or non-ASCII (Redirect::to would panic on them after the cookie is set)
        Some(n)
            if n.starts_with("/ui/")
                && !n.starts_with("//")
                && !n.contains('\\')
                && n.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            n.to_string()
        }
        _ => "/ui/".to_string(),
    }
}

/// `GET /ui/login`.
pub async fn login_page(p: Public, Query(q): Query<NextParam>) -> UiResult {
    Ok(LoginPage {
        ctx: p.ctx,
        error: None,
        next: safe_next(q.next.as_deref()),
        username: String::new(),
    }
    .into_response())
}

/// The session cookie for `token` (cleared when `None`).
pub(crate) fn session_cookie(
    s: &AppState,
    token: Option<&str>,
    https: bool,
) -> Result<HeaderValue, AppError> {
    let attrs = match token {
        Some(_) => format!(
            "HttpOnly; SameSite=Lax; Max-Age={}",
            s.config.session_hours * 3600
        ),
        None => "HttpOnly; SameSite=Lax; Max-Age=0".to_string(),
    };
    cookies::set(SESSION_COOKIE, token.unwrap_or(""), https, &attrs)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("unsendable cookie")))
}

/// `POST /ui/login`: starts a session and sets the session cookie.
pub async fn login(
    State(s): State<AppState>,
    ClientIp(client): ClientIp,
    Extension(b): Extension<Browser>,
    p: Public,
    f: FormData,
) -> UiResult {
    let en = p.ctx.tr.is_en();
    let next = f.opt("next");
    let username = f.text("username");
    let password =
        f.0.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    match auth::login(&s, &username, &password, client).await {
        Ok(session) => {
            let mut h = HeaderMap::new();
            h.insert(
                header::SET_COOKIE,
                session_cookie(&s, Some(&session.token), b.https)?,
            );
            Ok((h, Redirect::to(&safe_next(next.as_deref()))).into_response())
        }
        Err(e @ (AppError::BadCredentials | AppError::TooManyAttempts(_) | AppError::Busy(_))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let page = LoginPage {
                ctx: p.ctx,
                error: Some(e.message(en)),
                next: safe_next(next.as_deref()),
                username,
            };
            let mut resp = (status, page).into_response();
            if let AppError::TooManyAttempts(wait) | AppError::Busy(wait) = e {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            Ok(resp)
        }
        Err(e) => Err(UiError(e)),
    }
}

/// `POST /ui/logout`: ends the session and clears the cookie.
pub async fn logout(State(s): State<AppState>, Extension(b): Extension<Browser>) -> UiResult {
    if let Some(token) = &b.session {
        auth::logout(&s, token).await?;
    }
    let mut h = HeaderMap::new();
    h.insert(header::SET_COOKIE, session_cookie(&s, None, b.https)?);
    Ok((h, Redirect::to("/ui/login")).into_response())
}
