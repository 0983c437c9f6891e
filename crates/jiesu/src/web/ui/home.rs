//! Login, logout and the role-based home page.

use super::{Ctx, FormData, Page, Public, UiError, UiResult};
use crate::error::AppError;
use crate::services::{auth, AppState};
use crate::web::extract::SESSION_COOKIE;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect};
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

/// `POST /ui/login`: starts a session and sets the session cookie.
pub async fn login(State(s): State<AppState>, p: Public, f: FormData) -> UiResult {
    let en = p.ctx.tr.is_en();
    let next = f.opt("next");
    let username = f.text("username");
    let password =
        f.0.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    match auth::login(&s, &username, &password).await {
        Ok(session) => {
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
                session.token,
                s.config.session_hours * 3600
            );
            let mut h = HeaderMap::new();
            h.insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(|e| AppError::Internal(e.into()))?,
            );
            Ok((h, Redirect::to(&safe_next(next.as_deref()))).into_response())
        }
        Err(e @ (AppError::BadCredentials | AppError::TooManyAttempts(_))) => {
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::UNAUTHORIZED);
            let page = LoginPage {
                ctx: p.ctx,
                error: Some(e.message(en)),
                next: safe_next(next.as_deref()),
                username,
            };
            Ok((status, page).into_response())
        }
        Err(e) => Err(UiError(e)),
    }
}

/// `POST /ui/logout`: ends the session and clears the cookie.
pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> UiResult {
    if let Some(token) = super::cookie(&headers, SESSION_COOKIE) {
        auth::logout(&s, token).await?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    let mut h = HeaderMap::new();
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&clear).map_err(|e| AppError::Internal(e.into()))?,
    );
    Ok((h, Redirect::to("/ui/login")).into_response())
}
