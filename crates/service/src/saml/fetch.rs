//! Fetching an identity provider's metadata from its URL without opening a door into the
//! server's own network: every address the name resolves to must be public (or inside a
//! range the operator allows), the connection goes to the address that was checked (so a
//! second DNS answer cannot point elsewhere), redirects are not followed, and the body is
//! bounded.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use crate::{Result, ServiceError};

/// Metadata documents are a few kilobytes; a megabyte leaves room for many certificates.
const MAX_METADATA_BYTES: usize = 1 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

fn refused(message: impl Into<String>) -> ServiceError {
    ServiceError::invalid("metadata_url", message.into())
}

/// Whether an address is on the public internet: not loopback, private, link-local,
/// shared (CGNAT), documentation, multicast or unspecified, in IPv4 or IPv6 (an IPv4 address
/// mapped into IPv6 is judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => public_v4(v4),
            None => public_v6(v6),
        },
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xfe00) == 0xfc00
        || (first & 0xffc0) == 0xfe80
        || first == 0x2001 && ip.segments()[1] == 0x0db8
        || first == 0x0064 && ip.segments()[1] == 0xff9b)
}

/// Fetches the document at `url`, allowing non-public addresses only inside `allowed`.
pub async fn fetch_metadata(url: &str, allowed: &[IpNet]) -> Result<String> {
    let parsed =
        url::Url::parse(url.trim()).map_err(|_| refused(format!("{url:?} is not a URL")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(refused(
            "the metadata URL must start with https:// or http://",
        ));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(refused("the metadata URL must not carry credentials"));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| refused("the metadata URL has no host"))?
        .to_string();
    let port = parsed
        .port_or_known_default()
        .ok_or_else(|| refused("the metadata URL has no port"))?;
    let bare = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let lookup = tokio::net::lookup_host((bare.as_str(), port));
    let addrs: Vec<SocketAddr> = tokio::time::timeout(FETCH_TIMEOUT, lookup)
        .await
        .map_err(|_| refused(format!("{host} could not be resolved in time")))?
        .map_err(|_| refused(format!("{host} could not be resolved")))?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(refused(format!("{host} could not be resolved")));
    };
    for a in &addrs {
        let ip = a.ip();
        if !is_public(ip) && !allowed.iter().any(|net| net.contains(&ip)) {
            return Err(refused(format!(
                "{host} resolves to {ip}, an address inside the server's network; the operator \
                 can allow it with ROSTER_SAML_METADATA_ALLOW"
            )));
        }
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(FETCH_TIMEOUT)
        .resolve(&bare, first)
        .build()
        .map_err(|e| ServiceError::Internal(format!("HTTP client: {e}")))?;
    let mut response = client.get(parsed.clone()).send().await.map_err(|e| {
        refused(format!(
            "the metadata URL could not be fetched: {}",
            e.without_url()
        ))
    })?;
    if !response.status().is_success() {
        return Err(refused(format!(
            "the metadata URL answered {} (redirects are not followed)",
            response.status()
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| {
        refused(format!(
            "the metadata URL could not be read: {}",
            e.without_url()
        ))
    })? {
        if body.len() + chunk.len() > MAX_METADATA_BYTES {
            return Err(refused("the metadata document is larger than 1 MiB"));
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).map_err(|_| refused("the metadata document is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "255.255.255.255",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
