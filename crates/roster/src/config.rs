//! Configuration: flags and `ROSTER_*` environment variables (clap reads both), checked once
//! at start-up with errors that name the setting at fault.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _, Result};
use clap::Args;
use roster_service::Secrets;
use roster_store::StoreOptions;

/// Settings every command shares: where the data is and the server secret.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Folder for the SQLite database and the generated server secret.
    #[arg(
        long,
        env = "ROSTER_DATA_DIR",
        default_value = "roster-data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// PostgreSQL URL (postgres://...); without it roster uses SQLite in the data folder.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,

    /// Server secret (at least 32 characters) for signing tokens and sealing stored keys.
    /// Without it roster creates DATA_DIR/secret.key. Nodes sharing a database need the same.
    #[arg(long, env = "ROSTER_SECRET_KEY", global = true, hide_env_values = true)]
    pub secret_key: Option<String>,

    /// Database connections per process [default: on SQLite twice the cores (at least 4), on
    /// PostgreSQL 16].
    #[arg(long, env = "ROSTER_DB_POOL_SIZE", value_parser = clap::value_parser!(u32).range(1..=512), global = true)]
    pub db_pool_size: Option<u32>,

    /// SQLite: fsync every commit, so a change survives power loss (not only a crash).
    #[arg(long, env = "ROSTER_SQLITE_FULL_SYNC", global = true)]
    pub sqlite_full_sync: bool,

    /// Password hashes that may run at once; each holds 19 MiB while it runs, so hashing uses at
    /// most this many times 19 MiB. Further sign-ins wait up to 5 s in a bounded queue, else
    /// get 503 with Retry-After [default: the number of cores].
    #[arg(long, env = "ROSTER_MAX_CONCURRENT_HASHES", value_parser = clap::value_parser!(u32).range(1..=256), global = true)]
    pub max_concurrent_hashes: Option<u32>,

    /// Log format: text or json.
    #[arg(long, env = "ROSTER_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    pub log_format: String,
}

/// SQLite reads run on the server's own cores, each connection on a thread of its own with a
/// page cache of its own: more connections than twice the cores add memory, not speed (on 2
/// cores, 4 connections served searches 30% faster than 16, in half the memory). PostgreSQL
/// connections wait on the database server, so more of them keep it busy.
fn default_pool_size(sqlite: bool) -> u32 {
    if sqlite {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u32);
        (2 * cores).max(4)
    } else {
        16
    }
}

impl Common {
    pub fn store_options(&self) -> Result<StoreOptions> {
        let url = match &self.database_url {
            Some(url) => {
                if !(url.starts_with("postgres://")
                    || url.starts_with("postgresql://")
                    || url.starts_with("sqlite:"))
                {
                    bail!("DATABASE_URL must start with postgres://, postgresql:// or sqlite:");
                }
                url.clone()
            }
            None => {
                self.ensure_data_dir()?;
                let db = self.data_dir.join("roster.db");
                create_private_file(&db)?;
                format!("sqlite://{}?mode=rwc", db.display())
            }
        };
        let sqlite = url.starts_with("sqlite:");
        Ok(StoreOptions {
            max_connections: self
                .db_pool_size
                .unwrap_or_else(|| default_pool_size(sqlite)),
            url,
            sqlite_full_sync: self.sqlite_full_sync,
        })
    }

    /// Creates the data folder, readable by roster's user only (it holds the database and
    /// the server secret); a folder that exists is left as its owner set it.
    fn ensure_data_dir(&self) -> Result<()> {
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        builder
            .create(&self.data_dir)
            .with_context(|| format!("ROSTER_DATA_DIR: cannot create {}", self.data_dir.display()))
    }

    /// The server secret: ROSTER_SECRET_KEY, else DATA_DIR/secret.key (made on first use).
    pub fn secrets(&self) -> Result<Secrets> {
        if let Some(key) = &self.secret_key {
            if key.trim().len() < 32 {
                bail!("ROSTER_SECRET_KEY must be at least 32 characters");
            }
            return Ok(Secrets::from_master(key.trim().as_bytes()));
        }
        self.ensure_data_dir()?;
        let path = self.data_dir.join("secret.key");
        if !path.exists() {
            write_new_secret(&path)?;
        }
        let raw = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the secret file {}", path.display()))?;
        if raw.trim().len() < 32 {
            bail!(
                "the secret file {} is shorter than 32 characters",
                path.display()
            );
        }
        Ok(Secrets::from_master(raw.trim().as_bytes()))
    }
}

/// Creates the SQLite database file, readable by roster's user only, before SQLite opens it:
/// SQLite gives its -wal and -shm files the database file's permissions.
fn create_private_file(path: &Path) -> Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("cannot create the database {}", path.display())),
    }
}

fn write_new_secret(path: &Path) -> Result<()> {
    use std::io::Write;
    let secret = roster_service::secrets::random_token(48);
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create the secret file {}", path.display()))?;
    writeln!(f, "{secret}")?;
    Ok(())
}

/// A password from standard input (one line) when asked, else from the named variable.
pub fn password(from_stdin: bool, env_var: &str) -> Result<Option<String>> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("cannot read the password from standard input")?;
        let p = s.lines().next().unwrap_or("").to_string();
        if p.is_empty() {
            bail!("--password-stdin was given but standard input held no password");
        }
        return Ok(Some(p));
    }
    Ok(std::env::var(env_var).ok().filter(|p| !p.is_empty()))
}

/// `--public-url`: must be an http(s) URL.
pub fn check_public_url(url: &str) -> Result<String> {
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("ROSTER_PUBLIC_URL must start with http:// or https://, got {url:?}");
    }
    Ok(url.trim_end_matches('/').to_string())
}

/// `--metrics-token`: long enough not to be guessed, and sendable in a header as it is.
pub fn check_metrics_token(token: &str) -> Result<String> {
    if !(32..=256).contains(&token.len()) || !token.bytes().all(|b| b.is_ascii_graphic()) {
        bail!("ROSTER_METRICS_TOKEN must be 32 to 256 visible ASCII characters without spaces");
    }
    Ok(token.to_string())
}

/// `--dns-server`: an IP address and port, or an IP address alone for port 53.
pub fn parse_dns_server(text: &str) -> std::result::Result<std::net::SocketAddr, String> {
    let text = text.trim();
    text.parse::<std::net::SocketAddr>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(|ip| (ip, 53).into()))
        .map_err(|_| {
            format!(
                "ROSTER_DNS_SERVER must be an IP address with an optional port, like 127.0.0.1:53 \
                 or [::1]:5353; got {text:?}"
            )
        })
}

/// The SAML settings of the server: the SP key and certificate come as a pair of PEM files.
pub fn saml_config(
    metadata_allow: Vec<ipnet::IpNet>,
    key: Option<&std::path::Path>,
    cert: Option<&std::path::Path>,
) -> Result<roster_service::SamlConfig> {
    let read = |path: &std::path::Path, what: &str, marker: &str| -> Result<String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{what} {}: {e}", path.display()))?;
        if !text.contains(marker) {
            bail!(
                "{what} {} is not a PEM file ({marker} missing)",
                path.display()
            );
        }
        Ok(text)
    };
    let (sp_key_pem, sp_cert_pem) = match (key, cert) {
        (None, None) => (None, None),
        (Some(k), Some(c)) => (
            Some(read(k, "ROSTER_SAML_SP_KEY", "PRIVATE KEY-----")?),
            Some(read(
                c,
                "ROSTER_SAML_SP_CERT",
                "-----BEGIN CERTIFICATE-----",
            )?),
        ),
        _ => bail!("ROSTER_SAML_SP_KEY and ROSTER_SAML_SP_CERT are given together or not at all"),
    };
    Ok(roster_service::SamlConfig {
        metadata_allow,
        sp_key_pem,
        sp_cert_pem,
        ..roster_service::SamlConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dns_server_is_an_address_with_port_53_unless_given() {
        assert_eq!(
            parse_dns_server("127.0.0.1:5353").unwrap().to_string(),
            "127.0.0.1:5353"
        );
        assert_eq!(
            parse_dns_server("10.0.0.2").unwrap().to_string(),
            "10.0.0.2:53"
        );
        assert_eq!(
            parse_dns_server("[::1]:54").unwrap().to_string(),
            "[::1]:54"
        );
        assert_eq!(parse_dns_server("::1").unwrap().to_string(), "[::1]:53");
        for bad in ["", "dns.example.com", "127.0.0.1:99999", "1.2.3"] {
            let e = parse_dns_server(bad).unwrap_err();
            assert!(e.contains("ROSTER_DNS_SERVER"), "{e}");
        }
    }
}
