//! CSRF protection for the pages' form posts and for JSON API writes authenticated by the
//! session cookie. The token is an HMAC of a fixed label keyed by the browser's secret: the
//! session token when logged in, else an anonymous `jiesu_csrf` cookie (SameSite=Strict) that
//! the server issues and signs with a key every node shares (`server_keys`), so a client
//! cannot bring a secret of its own. A cross-site page can read neither cookie, so it cannot
//! forge the token; nothing per browser is stored on the server.

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

fn sign(key: &[u8], nonce: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"jiesu-anon-csrf-v1:");
    mac.update(nonce.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A fresh anonymous secret, `nonce.signature`, signed with the server's `key`.
pub fn new_secret(key: &[u8]) -> String {
    use rand::RngCore;
    let mut b = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut b);
    let nonce = hex::encode(b);
    let sig = sign(key, &nonce);
    format!("{nonce}.{sig}")
}

/// Whether an anonymous secret was issued by a server holding `key`.
pub fn issued(key: &[u8], secret: &str) -> bool {
    secret.split_once('.').is_some_and(|(nonce, sig)| {
        let want = sign(key, nonce);
        nonce.len() == 48
            && want.len() == sig.len()
            && bool::from(want.as_bytes().ct_eq(sig.as_bytes()))
    })
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

    #[test]
    fn only_secrets_the_server_signed_are_accepted() {
        let s = new_secret(b"key-1");
        assert!(issued(b"key-1", &s));
        assert!(!issued(b"key-2", &s), "another key");
        assert!(!issued(b"key-1", "deadbeef"), "invented by the client");
        let (nonce, _) = s.split_once('.').unwrap();
        assert!(!issued(b"key-1", &format!("{nonce}.{}", "0".repeat(64))));
    }
}
