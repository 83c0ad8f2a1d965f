//! roster's application service: one function per use case, each one transaction, the only
//! caller of the store and the only writer of audit events. Every entry point (REST, web
//! pages, CLI, later SCIM and SAML) calls these functions; none of them decides a rule itself.

pub mod access;
pub mod accounts;
pub mod activity;
pub mod audit;
pub mod bulk_members;
pub mod clock;
pub mod demo;
pub mod dns;
pub mod domains;
mod error;
pub mod import;
pub mod invites;
pub mod mail;
pub mod members;
pub mod membership;
pub mod orgs;
pub mod password_reset;
pub mod passwords;
pub mod pauses;
pub mod permissions;
pub mod projects;
pub mod saml;
pub mod scim;
pub mod secrets;
mod sso_only;
pub mod tags;
mod throttle;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod workspaces;

use std::net::SocketAddr;
use std::sync::Arc;

pub use access::{
    AccessLevel, Admin, Authenticated, Authorized, CredentialKind, Invite, Member, OrgAccess,
    OrgRef, Owner, ReadActivityLog, Staff,
};
pub use audit::{display_name, Page, PageRequest};
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{Result, ServiceError};
pub use roster_store as store;

pub use secrets::Secrets;

use roster_domain::Source;
use roster_store::{Micros, Store};

/// Tunables, validated by the binary before the service starts.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Base URL used in links roster hands out (set-password and invite links).
    pub public_url: String,
    pub session_ttl: Micros,
    pub access_token_ttl: Micros,
    pub invite_ttl: Micros,
    pub password_link_ttl: Micros,
    /// `last_activity` is written at most once per this interval per user.
    pub activity_interval: Micros,
    pub throttle: ThrottleConfig,
    /// SMTP for invite mail and "forgot your password" links; without it invites wait in the
    /// outbox and links are not mailed.
    pub mail: Option<mail::MailConfig>,
    /// Password hashes (19 MiB of memory each) that may run at once.
    pub max_concurrent_hashes: usize,
    /// The name server asked for domain verification records; None: the system's.
    pub dns_server: Option<SocketAddr>,
    pub saml: SamlConfig,
    /// How long the activity log keeps a request.
    pub activity_log_retention: Micros,
}

/// The server-wide SAML settings.
#[derive(Debug, Clone)]
pub struct SamlConfig {
    /// Networks an identity provider's metadata URL may point into although they are not
    /// public (loopback, private ranges): none unless the operator says so.
    pub metadata_allow: Vec<ipnet::IpNet>,
    /// The service provider's key and certificate for every organization, when the operator
    /// gives one (PEM); otherwise each organization gets its own, generated and sealed.
    pub sp_key_pem: Option<String>,
    pub sp_cert_pem: Option<String>,
    /// How far the identity provider's clock may be from ours when an assertion's validity
    /// window is checked.
    pub clock_skew_secs: i64,
    /// How often metadata given by URL is fetched again; 0: only when someone asks.
    pub metadata_refresh_secs: i64,
}

impl Default for SamlConfig {
    fn default() -> Self {
        SamlConfig {
            metadata_allow: Vec::new(),
            sp_key_pem: None,
            sp_cert_pem: None,
            clock_skew_secs: 120,
            metadata_refresh_secs: 86_400,
        }
    }
}

/// Growing delays after failed sign-ins and token exchanges.
#[derive(Debug, Clone)]
pub struct ThrottleConfig {
    /// Delay after the first failure; doubles with each further one.
    pub base_delay: Micros,
    pub max_delay: Micros,
    /// Failures from one address (across accounts) before the address itself is slowed.
    pub address_free_failures: i64,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            public_url: "http://127.0.0.1:8080".into(),
            session_ttl: 14 * clock::DAY,
            access_token_ttl: 5 * clock::MINUTE,
            invite_ttl: 7 * clock::DAY,
            password_link_ttl: 3 * clock::DAY,
            activity_interval: clock::MINUTE,
            throttle: ThrottleConfig {
                base_delay: clock::SECOND,
                max_delay: 60 * clock::SECOND,
                address_free_failures: 20,
            },
            mail: None,
            max_concurrent_hashes: passwords::default_concurrency(),
            dns_server: None,
            saml: SamlConfig::default(),
            activity_log_retention: 90 * clock::DAY,
        }
    }
}

/// Where a call comes from, for the audit log and throttling.
#[derive(Debug, Clone)]
pub struct Context {
    pub source: Source,
    pub address: Option<String>,
}

impl Context {
    pub fn cli() -> Context {
        Context {
            source: Source::Cli,
            address: None,
        }
    }
}

/// The application service. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    clock: Arc<dyn Clock>,
    secrets: Secrets,
    config: ServiceConfig,
    mailer: Option<mail::Mailer>,
    anchors: members::PageAnchors,
    search_counts: members::SearchCounts,
    hashing: passwords::PasswordHashing,
    dns: dns::TxtResolver,
    /// When this node last purged the activity log of rows past retention.
    last_purge: std::sync::atomic::AtomicI64,
}

impl Service {
    /// Builds the service, checking that the database was set up with this server secret.
    pub async fn new(
        store: Store,
        clock: Arc<dyn Clock>,
        secrets: Secrets,
        config: ServiceConfig,
    ) -> Result<Service> {
        check_secret(&store, &secrets).await?;
        let mailer = config.mail.as_ref().map(mail::Mailer::new).transpose()?;
        let hashing = passwords::PasswordHashing::new(config.max_concurrent_hashes);
        let dns = dns::TxtResolver::new(config.dns_server);
        let service = Service {
            inner: Arc::new(Inner {
                store,
                clock,
                secrets,
                config,
                mailer,
                anchors: Default::default(),
                search_counts: Default::default(),
                hashing,
                dns,
                last_purge: Default::default(),
            }),
        };
        service.seal_plaintext_invite_tokens().await?;
        Ok(service)
    }

    /// The store, for the service's own use cases: they decide the rules before they write.
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The escape hatch: the store itself, bypassing every rule. For tests that inspect or
    /// stage rows and for benchmarks; an entry point that serves people never uses it.
    pub fn raw_store_bypassing_rules(&self) -> &Store {
        &self.inner.store
    }

    /// The database pool's connections: (open, idle), for the metrics.
    pub fn pool_stats(&self) -> (u32, usize) {
        self.inner.store.pool_stats()
    }

    /// SQLite reads run on the async worker and moved to a blocking thread (None on
    /// PostgreSQL), for the metrics.
    pub fn read_routing(&self) -> Option<(u64, u64)> {
        self.inner.store.read_routing()
    }

    /// SQLite's heap now and at its peak in bytes (None on PostgreSQL), for the metrics.
    pub fn sqlite_heap(&self) -> Option<(i64, i64)> {
        self.inner.store.sqlite_heap()
    }

    /// Closes the database connections (at shutdown).
    pub async fn close(&self) {
        self.inner.store.close().await
    }

    pub fn config(&self) -> &ServiceConfig {
        &self.inner.config
    }

    pub(crate) fn anchors(&self) -> &members::PageAnchors {
        &self.inner.anchors
    }

    pub(crate) fn search_counts(&self) -> &members::SearchCounts {
        &self.inner.search_counts
    }

    /// How this node found the counts of broad searches since start, for the metrics.
    pub fn search_count_stats(&self) -> members::SearchCountStats {
        self.inner.search_counts.stats()
    }

    /// The bounded password hashing, and what it did (for the metrics).
    pub fn password_hashing(&self) -> &passwords::PasswordHashing {
        &self.inner.hashing
    }

    pub(crate) fn mailer(&self) -> Option<&mail::Mailer> {
        self.inner.mailer.as_ref()
    }

    pub(crate) fn dns(&self) -> &dns::TxtResolver {
        &self.inner.dns
    }

    pub(crate) fn secrets(&self) -> &Secrets {
        &self.inner.secrets
    }

    /// A keyed tag for a message the server shows on a page after a redirect, so a page shows
    /// only messages this server wrote (a link cannot make it show an attacker's text).
    pub fn page_message_tag(&self, message: &str) -> String {
        self.secrets()
            .lookup_hash(&format!("roster page message v1\n{message}"))
    }

    pub fn now(&self) -> Micros {
        self.inner.clock.now()
    }

    /// One database round trip.
    pub async fn health(&self) -> Result<()> {
        Ok(self.inner.store.ping().await?)
    }

    /// Brings the database's planner statistics up to date after a bulk import.
    pub async fn refresh_statistics(&self) -> Result<()> {
        Ok(self.inner.store.refresh_statistics().await?)
    }

    pub(crate) fn link(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.inner.config.public_url.trim_end_matches('/'),
            path_and_query
        )
    }
}

/// The server setting that holds the fingerprint of the secret the database was set up with
/// (a restore checks a backup against it before replacing anything).
pub const SECRET_FINGERPRINT_SETTING: &str = "secret_fingerprint";

/// Records the secret's fingerprint on first start and refuses a different secret later:
/// with the wrong secret every stored key and token would silently stop working.
async fn check_secret(store: &Store, secrets: &Secrets) -> Result<()> {
    const KEY: &str = SECRET_FINGERPRINT_SETTING;
    let mut tx = store.write().await?;
    match roster_store::settings::get(&mut tx, KEY).await? {
        Some(stored) if stored == secrets.fingerprint() => {}
        Some(_) => {
            return Err(ServiceError::Internal(
                "this database was set up with a different server secret; start roster with the original \
                 ROSTER_SECRET_KEY (or secret file)"
                    .into(),
            ))
        }
        None => roster_store::settings::put(&mut tx, KEY, secrets.fingerprint()).await?,
    }
    Ok(roster_store::commit(tx).await?)
}
