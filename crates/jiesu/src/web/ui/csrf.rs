//! CSRF protection for the pages' form posts. The token is an HMAC of a fixed label keyed by
//! the browser's secret: the session cookie when logged in, else an anonymous `jiesu_csrf`
//! cookie (SameSite=Strict). A cross-site page can read neither cookie, so it cannot forge the
//! token; nothing is stored on the server, so every node checks the same way.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The anonymous cookie that keys the token before login (login form, citizen portal).
pub const ANON_COOKIE: &str = "jiesu_csrf";
/// The form field that carries the token.
pub const FIELD: &str = "_csrf";
/// The header that carries the token on htmx requests (`hx-headers`).
pub const HEADER: &str = "x-csrf-token";

/// The token for a browser secret.
pub fn token(secret: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(b"jiesu-ui-csrf-v1");
    hex::encode(mac.finalize().into_bytes())
}

/// Whether `given` is the token for `secret`, compared in constant time.
pub fn verify(secret: &str, given: &str) -> bool {
    let want = token(secret);
    want.len() == given.len() && bool::from(want.as_bytes().ct_eq(given.as_bytes()))
}

/// A fresh anonymous secret.
pub fn new_secret() -> String {
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_verifies_only_for_its_own_secret() {
        let t = token("secret-a");
        assert!(verify("secret-a", &t));
        assert!(!verify("secret-b", &t));
        assert!(!verify("secret-a", ""));
        assert!(!verify("secret-a", &t[..10]));
    }
}
