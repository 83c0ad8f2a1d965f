//! The DNS look-ups roster makes itself: the TXT records that prove an Owner controls an email
//! domain. roster asks the name server `ROSTER_DNS_SERVER` names (UDP, then TCP when UDP fails
//! or the answer is truncated), else the system's (resolv.conf). A look-up that gets no answer
//! within a few seconds is `DnsUnavailable`, never "no record": a domain must not look
//! unproven because DNS was down.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::RData;
use hickory_resolver::{Resolver, TokioResolver};

/// How long one query may wait for its answer, and the whole look-up (UDP, then TCP).
const QUERY_TIMEOUT: Duration = Duration::from_secs(2);
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(5);

/// DNS could not be asked, or did not answer; the words say which.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DnsUnavailable(pub String);

/// Looks up TXT records, from the name server the configuration names.
#[derive(Debug, Clone)]
pub struct TxtResolver {
    server: Option<SocketAddr>,
}

impl TxtResolver {
    /// `server`: the name server to ask; None for the system's.
    pub fn new(server: Option<SocketAddr>) -> TxtResolver {
        TxtResolver { server }
    }

    /// The values of the TXT records at `name` (each record's strings joined, as SPF and
    /// domain proofs read them); empty when the name or its TXT records do not exist.
    pub async fn txt(&self, name: &str) -> Result<Vec<String>, DnsUnavailable> {
        // A resolver per look-up: nothing cached, so "Check now" right after publishing asks
        // DNS again, and a changed resolv.conf is read.
        let resolver = self.resolver()?;
        // The trailing dot: the name as given, never one of resolv.conf's search domains.
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let answer = tokio::time::timeout(LOOKUP_TIMEOUT, resolver.txt_lookup(fqdn.as_str()))
            .await
            .map_err(|_| self.unavailable("did not answer in time"))?;
        match answer {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(txt) => Some(
                        txt.txt_data
                            .iter()
                            .map(|part| String::from_utf8_lossy(part))
                            .collect::<String>(),
                    ),
                    _ => None,
                })
                .collect()),
            Err(e) if e.is_no_records_found() => Ok(Vec::new()),
            Err(NetError::Timeout) => Err(self.unavailable("did not answer in time")),
            Err(e) => Err(self.unavailable(&format!("failed ({e})"))),
        }
    }

    fn resolver(&self) -> Result<TokioResolver, DnsUnavailable> {
        let mut builder = match self.server {
            Some(addr) => {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(|e| {
                DnsUnavailable(format!(
                    "This server has no DNS configuration to use ({e}); its operator can set \
                     ROSTER_DNS_SERVER."
                ))
            })?,
        };
        let options = builder.options_mut();
        options.timeout = QUERY_TIMEOUT;
        options.attempts = 1;
        options.try_tcp_on_error = true;
        builder
            .build()
            .map_err(|e| DnsUnavailable(format!("The DNS resolver could not start ({e}).")))
    }

    fn unavailable(&self, what: &str) -> DnsUnavailable {
        let server = match self.server {
            Some(addr) => format!("The DNS server {addr}"),
            None => "The system's DNS server".to_string(),
        };
        DnsUnavailable(format!(
            "{server} {what}; nothing was changed. Try again in a minute."
        ))
    }
}
