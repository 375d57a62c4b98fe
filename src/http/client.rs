//! Who the client is, for per-client limits: the TCP peer, or behind a trusted proxy the
//! address that proxy saw (`X-Forwarded-For`, `KITH_TRUSTED_PROXIES`).

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The key every per-client limit counts for this request (HTTP and WebSocket alike).
pub fn key(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> String {
    limit_key(address(peer.ip(), headers, trusted))
}

/// The client's address. `X-Forwarded-For` is read only when the peer is a trusted proxy,
/// right to left (each proxy appends what it saw), to the first address that is not a
/// trusted proxy: everything left of that was written by the client and proves nothing.
/// An entry that is not an address stops the walk at the proxy that wrote it.
pub fn address(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    if trusted.is_empty() {
        return peer;
    }
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    // Several headers count as one list, in order.
    let hops: Vec<&str> = headers
        .get_all(X_FORWARDED_FOR)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        if !is_trusted(client) {
            break;
        }
        match parse_hop(hop) {
            Some(ip) => client = canonical(ip),
            None => break,
        }
    }
    client
}

/// An `X-Forwarded-For` entry: an address, perhaps with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// An IPv4 address written as IPv6 (`::ffff:192.0.2.1`) is the IPv4 one.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An IPv4 address counts alone; an IPv6 one by its /64, the block one host or phone
/// gets (and picks new addresses from at will).
pub fn limit_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in xff {
            headers.append(X_FORWARDED_FOR, value.parse().unwrap());
        }
        headers
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let xff = headers(&["203.0.113.9, 198.51.100.1"]);
        assert_eq!(address(peer, &xff, &[]), peer);
        assert_eq!(
            address(peer, &xff, &nets(&["192.168.0.0/16"])),
            peer,
            "a peer that is not trusted is the client"
        );
        assert_eq!(
            address(peer, &xff, &nets(&["10.0.0.0/8"])).to_string(),
            "198.51.100.1"
        );
        assert_eq!(
            address(peer, &xff, &nets(&["10.0.0.0/8", "198.51.100.0/24"])).to_string(),
            "203.0.113.9"
        );
    }

    #[test]
    fn a_forged_or_broken_entry_stops_the_walk() {
        let peer: IpAddr = "10.0.0.5".parse().unwrap();
        let trusted = nets(&["10.0.0.0/8"]);
        // The client wrote "1.2.3.4" itself; the proxy appended what it saw.
        let xff = headers(&["1.2.3.4", "203.0.113.9:5555"]);
        assert_eq!(address(peer, &xff, &trusted).to_string(), "203.0.113.9");
        let broken = headers(&["203.0.113.9, nonsense"]);
        assert_eq!(address(peer, &broken, &trusted), peer);
        assert_eq!(address(peer, &headers(&[]), &trusted), peer);
    }

    #[test]
    fn ipv6_clients_count_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::7".parse().unwrap();
        assert_eq!(limit_key(a), limit_key(b));
        assert_eq!(limit_key(a), "2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(
            limit_key(address(mapped, &HeaderMap::new(), &[])),
            "192.0.2.1"
        );
    }
}
