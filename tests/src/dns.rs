//! A DNS server for tests, on a free UDP port of 127.0.0.1: it answers TXT queries from records
//! the test publishes, NXDOMAIN for names it holds nothing under, and can fall silent as a
//! DNS server that is down. roster's real resolver asks it (`ROSTER_DNS_SERVER`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Zone {
    /// TXT records by lower-case name without the root dot, each as its character-strings.
    txt: HashMap<String, Vec<Vec<Vec<u8>>>>,
    silent: bool,
    queries: usize,
}

/// A running test DNS server; it stops when dropped.
pub struct DnsServer {
    pub addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    task: JoinHandle<()>,
}

impl DnsServer {
    pub async fn start() -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind UDP");
        let addr = socket.local_addr().expect("addr");
        let zone = Arc::new(Mutex::new(Zone::default()));
        let served = zone.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            while let Ok((n, from)) = socket.recv_from(&mut buf).await {
                let reply = {
                    let mut zone = served.lock().expect("zone");
                    zone.queries += 1;
                    if zone.silent {
                        continue;
                    }
                    answer(&zone, &buf[..n])
                };
                if let Some(reply) = reply {
                    let _ = socket.send_to(&reply, from).await;
                }
            }
        });
        DnsServer { addr, zone, task }
    }

    /// Publishes the TXT records at `name`, one per value, replacing those it had (none: the
    /// name stays, without TXT records). A value longer than one character-string (255 bytes)
    /// is split, as DNS hosts store long values.
    pub fn set_txt(&self, name: &str, values: &[&str]) {
        let records = values
            .iter()
            .map(|v| v.as_bytes().chunks(255).map(<[u8]>::to_vec).collect())
            .collect();
        self.zone().txt.insert(key(name), records);
    }

    /// Publishes one TXT record at `name` made of these character-strings (a value a DNS
    /// console split), replacing the records it had.
    pub fn set_txt_strings(&self, name: &str, strings: &[&str]) {
        let record = strings.iter().map(|s| s.as_bytes().to_vec()).collect();
        self.zone().txt.insert(key(name), vec![record]);
    }

    /// Makes the server stop answering (a DNS server that is down), or answer again.
    pub fn set_silent(&self, silent: bool) {
        self.zone().silent = silent;
    }

    /// How many queries arrived, answered or not.
    pub fn queries(&self) -> usize {
        self.zone().queries
    }

    fn zone(&self) -> std::sync::MutexGuard<'_, Zone> {
        self.zone.lock().expect("zone")
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The response to one query message; None for what is not a DNS query.
fn answer(zone: &Zone, query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let mut response = Message::response(request.metadata.id, request.metadata.op_code);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.metadata.authoritative = true;
    response.add_queries(request.queries.clone());
    for q in &request.queries {
        match zone.txt.get(&key(&q.name().to_ascii())) {
            None => response.metadata.response_code = ResponseCode::NXDomain,
            Some(records) if q.query_type() == RecordType::TXT => {
                for strings in records {
                    let parts = strings.iter().map(Vec::as_slice).collect();
                    let rdata = RData::TXT(TXT::from_bytes(parts));
                    response.add_answer(Record::from_rdata(q.name().clone(), 60, rdata));
                }
            }
            Some(_) => {} // the name exists without records of this type: NOERROR, no data
        }
    }
    response.to_vec().ok()
}
