//! The cookies the server sets and reads. Served over HTTPS (`JIESU_SECURE_COOKIES=1`, or a
//! trusted proxy saying `X-Forwarded-Proto: https`), every cookie is `Secure` and the
//! session and anti-forgery cookies carry the `__Host-` prefix (no other host or path can set
//! them); over plain HTTP (local use, tests) they keep their bare names.

use crate::config::Config;
use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap, HeaderValue};
use axum_extra::extract::cookie::CookieJar;
use std::net::SocketAddr;

/// Whether this request reached us over HTTPS, as far as we may believe it.
pub fn is_https(headers: &HeaderMap, extensions: &Extensions, config: &Config) -> bool {
    if let Some(on) = config.secure_cookies {
        return on;
    }
    let Some(peer) = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return false;
    };
    // The nearest proxy's word (the last value) counts, and only if it is trusted.
    config.trusted_proxies.contains(&peer)
        && headers
            .get_all("x-forwarded-proto")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// The name a cookie has on this connection.
pub fn name(base: &str, https: bool) -> String {
    if https {
        format!("__Host-{base}")
    } else {
        base.to_string()
    }
}

/// The value of the cookie named `name` exactly, when the request carries it not empty.
pub fn value(headers: &HeaderMap, name: &str) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(name)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The value of cookie `base` under the name it has on this connection.
pub fn read(headers: &HeaderMap, base: &str, https: bool) -> Option<String> {
    value(headers, &name(base, https))
}

/// A `Set-Cookie` value: `attrs` such as `HttpOnly; SameSite=Lax; Max-Age=60`; `Path=/` always,
/// `Secure` over HTTPS.
pub fn set(base: &str, value: &str, https: bool, attrs: &str) -> Option<HeaderValue> {
    let secure = if https { "; Secure" } else { "" };
    let c = format!("{}={value}; Path=/; {attrs}{secure}", name(base, https));
    HeaderValue::from_str(&c).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    fn config(trusted: &str, secure: Option<bool>) -> Config {
        let mut c = Config::from_env().unwrap();
        c.trusted_proxies = vec![trusted.parse().unwrap()];
        c.secure_cookies = secure;
        c
    }

    fn from(peer: &str, proto: &str) -> (HeaderMap, Extensions) {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-proto", proto.parse().unwrap());
        let mut e = Extensions::new();
        e.insert(ConnectInfo::<SocketAddr>(
            format!("{peer}:5000").parse().unwrap(),
        ));
        (h, e)
    }

    #[test]
    fn https_is_believed_only_from_a_trusted_proxy_or_the_setting() {
        let c = config("10.0.0.1", None);
        let (h, e) = from("10.0.0.1", "https");
        assert!(is_https(&h, &e, &c));
        let (h, e) = from("203.0.113.5", "https");
        assert!(!is_https(&h, &e, &c), "a client cannot claim HTTPS itself");
        assert!(is_https(&h, &e, &config("10.0.0.1", Some(true))));
        let (h, e) = from("10.0.0.1", "https");
        assert!(!is_https(&h, &e, &config("10.0.0.1", Some(false))));
    }

    #[test]
    fn secure_cookies_get_the_host_prefix() {
        let v = set("jiesu_session", "t", true, "HttpOnly").unwrap();
        assert_eq!(v, "__Host-jiesu_session=t; Path=/; HttpOnly; Secure");
        let v = set("jiesu_session", "t", false, "HttpOnly").unwrap();
        assert_eq!(v, "jiesu_session=t; Path=/; HttpOnly");
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "jiesu_session=a; __Host-jiesu_session=b".parse().unwrap(),
        );
        assert_eq!(read(&h, "jiesu_session", true).as_deref(), Some("b"));
        assert_eq!(read(&h, "jiesu_session", false).as_deref(), Some("a"));
        // one header or several, spaces or none
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, "a=1;jiesu_lang=en".parse().unwrap());
        h.append(header::COOKIE, "jiesu_session=".parse().unwrap());
        assert_eq!(value(&h, "jiesu_lang").as_deref(), Some("en"));
        assert_eq!(read(&h, "jiesu_session", false), None, "empty is absent");
        assert_eq!(value(&h, "jiesu"), None, "a prefix is not a name");
    }
}
