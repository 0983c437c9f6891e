//! Who is on the other end of a connection: the client address that per-client limits and
//! lockouts key on. The peer address is the client unless the peer is a trusted proxy
//! (`JIESU_TRUSTED_PROXIES`); then `X-Forwarded-For` is read from the right, skipping trusted
//! proxies, so a client cannot choose its own address by sending the header itself.

use crate::services::AppState;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The client's address (see the module doc).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

/// The client behind `peer`, given the proxies trusted to report it.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    // From the right: each trusted hop vouches for the one before it; the first untrusted
    // address is the client. An unreadable hop ends the trust at the last address read.
    let mut client = peer;
    for hop in hops.into_iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            Err(_) => return client,
        }
    }
    client
}

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        // Served without connect info (a router driven directly, as in unit tests): the
        // unspecified address stands for "unknown", one shared bucket.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        Ok(ClientIp(client_ip(
            peer,
            &parts.headers,
            &state.config.trusted_proxies,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forwarded(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", v.parse().unwrap());
        h
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_proxy() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let peer: IpAddr = "203.0.113.9".parse().unwrap();
        let h = forwarded("1.2.3.4");
        assert_eq!(client_ip(peer, &h, &[proxy]), peer);
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "1.2.3.4".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_client_cannot_prepend_its_own_address() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        // The client sent "9.9.9.9" itself; the proxy appended the real address.
        let h = forwarded("9.9.9.9, 198.51.100.7");
        assert_eq!(
            client_ip(proxy, &h, &[proxy]),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        // No usable header: the proxy itself is the client.
        assert_eq!(client_ip(proxy, &forwarded("junk"), &[proxy]), proxy);
        // A forged hop hidden behind junk is not believed.
        let h = forwarded("9.9.9.9, junk");
        assert_eq!(client_ip(proxy, &h, &[proxy]), proxy);
    }
}
