//! The `roster` binary: the server and the administration commands, all calling the same
//! application service.

mod config;
mod import;
mod seed;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{anyhow, Context as _, Result};
use clap::{Parser, Subcommand};
use roster_domain::{OrgId, Role, WorkspaceId};
use roster_service::import::ImportRow;
use roster_service::members::MemberFilter;
use roster_service::{Admin, Context, PageRequest, Service, ServiceConfig, Staff, SystemClock};
use roster_store::Store;

use config::Common;

#[derive(Debug, Parser)]
#[command(
    name = "roster",
    version,
    about = "Organization accounts, roles and seats for a data-labeling platform"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Create the first organization and its Owner.
    Init {
        #[arg(long)]
        org: String,
        #[arg(long)]
        owner_email: String,
        /// Read the Owner's password from standard input (else ROSTER_OWNER_PASSWORD, else a
        /// one-time set-password link is printed).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Write a backup of the database to FILE, safe while roster serves (SQLite: its online
    /// backup; PostgreSQL: pg_dump of roster's schema). The server secret is not in it: keep
    /// secret.key (or ROSTER_SECRET_KEY) apart from the backups.
    Backup {
        /// Where to write the backup; must not exist.
        file: std::path::PathBuf,
    },
    /// Replace the database with a backup, whole or not at all. Refused while any roster
    /// process uses the database, and for a backup taken with another server secret.
    Restore {
        /// A file written by `roster backup`.
        file: std::path::PathBuf,
    },
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Members of an organization.
    #[command(subcommand)]
    Member(MemberCommand),
    /// An organization's invite link.
    #[command(subcommand)]
    Invite(InviteCommand),
    /// Accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Tools for development and benchmarks.
    #[command(subcommand, hide = true)]
    Dev(DevCommand),
    /// Print the OpenAPI document (or write it to a file).
    Openapi {
        #[arg(long)]
        write: Option<std::path::PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTER_BIND", default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Base URL for links roster hands out (defaults to http://BIND).
    #[arg(long, env = "ROSTER_PUBLIC_URL")]
    public_url: Option<String>,
    /// Mark cookies Secure (when served over HTTPS).
    #[arg(long, env = "ROSTER_COOKIE_SECURE")]
    cookie_secure: bool,
    /// Seed a demo organization (once) and print how to sign in.
    #[arg(long)]
    demo: bool,
    /// Minutes a browser session lasts.
    #[arg(long, env = "ROSTER_SESSION_TTL_MINUTES", default_value_t = 14 * 24 * 60, value_parser = clap::value_parser!(i64).range(5..=525_600))]
    session_ttl_minutes: i64,
    /// Days the activity log keeps a request; older rows are purged.
    #[arg(long, env = "ROSTER_ACTIVITY_LOG_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(i64).range(1..=3650))]
    activity_log_retention_days: i64,
    /// Days an email invite stays valid.
    #[arg(long, env = "ROSTER_INVITE_TTL_DAYS", default_value_t = 7, value_parser = clap::value_parser!(i64).range(1..=365))]
    invite_ttl_days: i64,
    /// Failures from one address before it is slowed down (per-account-and-address delays
    /// start at the first failure).
    #[arg(long, env = "ROSTER_THROTTLE_ADDRESS_FREE_FAILURES", default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..=10_000))]
    throttle_address_free_failures: i64,
    /// SMTP server for invite mail and "forgot your password" links: smtp://host:port,
    /// smtp://host:587?tls=required, or smtps://user:password@host. Without it invites wait in
    /// the outbox (GET /api/invites/) and the sign-in page's "Forgot your password?" says to
    /// ask an administrator.
    #[arg(long, env = "ROSTER_SMTP_URL", hide_env_values = true)]
    smtp_url: Option<String>,
    /// Sender of invite mail.
    #[arg(
        long,
        env = "ROSTER_MAIL_FROM",
        default_value = "roster <roster@localhost>"
    )]
    mail_from: String,
    /// Networks (CIDR, comma-separated) an identity provider's SAML metadata URL may point
    /// into although they are not public, such as 10.0.0.0/8 for an IdP inside the company
    /// network. Loopback, private and link-local addresses are refused otherwise.
    #[arg(long, env = "ROSTER_SAML_METADATA_ALLOW", value_delimiter = ',')]
    saml_metadata_allow: Vec<ipnet::IpNet>,
    /// The SAML service provider's private key (a PEM file) for every organization, with
    /// ROSTER_SAML_SP_CERT. Without them each organization gets a key of its own.
    #[arg(long, env = "ROSTER_SAML_SP_KEY")]
    saml_sp_key: Option<std::path::PathBuf>,
    /// The certificate (a PEM file) of ROSTER_SAML_SP_KEY.
    #[arg(long, env = "ROSTER_SAML_SP_CERT")]
    saml_sp_cert: Option<std::path::PathBuf>,
    /// How far (seconds) an identity provider's clock may be from this server's when the
    /// validity window of its SAML assertions is checked.
    #[arg(long, env = "ROSTER_SAML_CLOCK_SKEW_SECS", default_value_t = 120, value_parser = clap::value_parser!(i64).range(0..=600))]
    saml_clock_skew_secs: i64,
    /// How often (seconds) an identity provider's metadata given by URL is fetched again, so
    /// a certificate rollover needs no action; 0 fetches only when asked.
    #[arg(long, env = "ROSTER_SAML_METADATA_REFRESH_SECS", default_value_t = 86_400, value_parser = clap::value_parser!(i64).range(0..))]
    saml_metadata_refresh_secs: i64,
    /// Longest throttle delay, in seconds.
    #[arg(long, env = "ROSTER_THROTTLE_MAX_DELAY_SECS", default_value_t = 60, value_parser = clap::value_parser!(i64).range(1..=3600))]
    throttle_max_delay_secs: i64,
    /// Bearer token Prometheus sends to read /metrics (32 to 256 visible characters). Without
    /// it /metrics is not served.
    #[arg(long, env = "ROSTER_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// Seconds a connection may take to send a request's headers, and may sit idle between
    /// requests, before it is closed.
    #[arg(long, env = "ROSTER_HEADER_READ_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=300))]
    header_read_timeout_secs: u64,
    /// Name server roster asks for the DNS TXT record an Owner publishes to verify an email
    /// domain: an IP address with an optional port (53). UDP, then TCP. Without it, the
    /// system's name servers (resolv.conf).
    #[arg(long, env = "ROSTER_DNS_SERVER", value_parser = config::parse_dns_server)]
    dns_server: Option<SocketAddr>,
}

#[derive(Debug, Subcommand)]
enum OrgCommand {
    /// Create another organization (its Owner gets an account if they have none).
    Create {
        #[arg(long)]
        title: String,
        #[arg(long)]
        owner_email: String,
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set the seat limit ("none" for unlimited).
    Seats {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        limit: String,
    },
    /// Email domains verified for an organization (they let its identity provider attach
    /// existing accounts).
    #[command(subcommand)]
    Domain(DomainCommand),
    /// Whether members sign in through the identity provider only ("on" or "off"), as the
    /// Owner would set it: the way back when the identity provider and the Owner's
    /// authenticator app are both lost.
    SsoOnly {
        #[arg(long)]
        org: i64,
        state: String,
    },
}

#[derive(Debug, Subcommand)]
enum DomainCommand {
    /// Verify a domain for an organization (a domain belongs to one organization).
    Add {
        #[arg(long)]
        org: i64,
        domain: String,
    },
    /// Remove a verified domain.
    Remove {
        #[arg(long)]
        org: i64,
        domain: String,
    },
    /// List an organization's verified domains.
    List {
        #[arg(long)]
        org: i64,
    },
}

#[derive(Debug, Subcommand)]
enum MemberCommand {
    /// List members.
    List {
        #[arg(long)]
        org: i64,
        /// Comma list of role codes (OW, AD, MA, RE, AN, NO, DI).
        #[arg(long)]
        role: Option<String>,
        #[arg(long)]
        search: Option<String>,
    },
    /// Assign a role (as the organization's Owner).
    SetRole {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
    },
    /// Import members from a CSV file with the header email,first_name,last_name,role,projects
    /// (projects: ids separated by ';'). Rows that break a rule are reported by line; each
    /// committed batch is reported as "committed lines A-B".
    Import {
        #[arg(long)]
        org: i64,
        file: std::path::PathBuf,
        /// Rows per transaction.
        #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        batch_size: u32,
        /// Import the whole file in one transaction, and nothing if any row is refused.
        #[arg(long)]
        all_or_nothing: bool,
        /// Start at this line of the file (the header is line 1): after an interrupted
        /// import, the line after the last "committed lines A-B" it reported.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(2..))]
        from_line: u64,
    },
    /// Delete a member (their work stays, as "Deleted User").
    Delete {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
enum DevCommand {
    /// Add N generated members (80% AN, 10% RE, 5% MA, 3% NO, 2% DI) through the import path.
    /// With --workspaces and --projects, first creates that many, then puts every member in one
    /// of them and fills the first ones: the first project holds every second member, the first
    /// workspace the first tenth. With --tags, creates that many member tags ("Seed tag 1"...)
    /// and puts one of them on --tagged-percent of the live members; with --activity-days,
    /// spreads the members' last activity over that many past days (every tenth member stays
    /// never active).
    Seed {
        #[arg(long)]
        org: i64,
        #[arg(long)]
        members: u64,
        #[arg(long, default_value_t = 5000)]
        batch_size: u32,
        #[arg(long, default_value_t = 0)]
        workspaces: u64,
        #[arg(long, default_value_t = 0)]
        projects: u64,
        #[arg(long, default_value_t = 0)]
        tags: u64,
        #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=100))]
        tagged_percent: u64,
        #[arg(long, default_value_t = 0)]
        activity_days: u64,
    },
    /// Serve fixed answers with no database behind roster's own layers and connection
    /// handling: the ceiling `scripts/bench.sh` measures roster against. Each --answer
    /// PATH=FILE answers `GET PATH` with the file's bytes as JSON.
    Ceiling {
        #[arg(long, default_value = "127.0.0.1:8081")]
        bind: String,
        #[arg(long = "answer", value_name = "PATH=FILE", required = true)]
        answers: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum InviteCommand {
    /// Print the invite link.
    Link {
        #[arg(long)]
        org: i64,
    },
    /// Make a new invite link; the old one stops working.
    Reset {
        #[arg(long)]
        org: i64,
    },
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Print a one-time set-password link for an account.
    ResetPassword { email: String },
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("ROSTER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

async fn open_service(common: &Common, mut config: ServiceConfig) -> Result<Service> {
    if let Some(n) = common.max_concurrent_hashes {
        config.max_concurrent_hashes = n as usize;
    }
    let secrets = common.secrets()?;
    let store = Store::open(&common.store_options()?)
        .await
        .context("cannot open the database")?;
    Service::new(store, Arc::new(SystemClock), secrets, config)
        .await
        .map_err(|e| anyhow!("{e}"))
}

fn parse_role(code: &str) -> Result<Role> {
    Role::from_code(code.trim().to_uppercase().as_str()).ok_or_else(|| {
        anyhow!("--role: \"{code}\" is not a role; use OW, AD, MA, RE, AN, NO or DI")
    })
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    init_logging(&cli.common.log_format);
    if let Err(e) = run(cli).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<()> {
    let common = cli.common;
    let cfg = ServiceConfig::default();
    match cli.command {
        Command::Serve(args) => serve(&common, *args).await,
        Command::Migrate => {
            let store = Store::connect(&common.store_options()?).await?;
            let ran = store.migrate().await?;
            println!("{ran} migration(s) applied; the database is up to date");
            Ok(())
        }
        Command::Backup { file } => {
            let url = common.store_options()?.url;
            let done = roster_store::backup::backup(&url, &file).await?;
            println!(
                "wrote a backup of the {} database to {} ({} bytes); the server secret is not in it",
                done.backend.name(),
                done.path.display(),
                done.bytes
            );
            Ok(())
        }
        Command::Restore { file } => {
            let opts = common.store_options()?;
            let secrets = common.secrets()?;
            let secret = (
                roster_service::SECRET_FINGERPRINT_SETTING,
                secrets.fingerprint(),
            );
            let done = roster_store::backup::restore(&opts.url, &file, secret).await?;
            // A backup of an older roster is brought up to date now, not at the next start,
            // and the planner learns the restored tables' sizes before the first request.
            let store = Store::open(&opts)
                .await
                .context("the backup was restored, but migrating it failed")?;
            store.refresh_statistics().await?;
            store.close().await;
            println!(
                "restored {} into the {} database (taken at migration {}); start roster serve again",
                file.display(),
                done.backend.name(),
                done.migration
            );
            Ok(())
        }
        Command::Openapi { write } => {
            let json = serde_json::to_string_pretty(&roster_http::openapi_document())? + "\n";
            match write {
                Some(path) => std::fs::write(&path, json)
                    .with_context(|| format!("cannot write {}", path.display()))?,
                None => print!("{json}"),
            }
            Ok(())
        }
        Command::Init {
            org,
            owner_email,
            password_stdin,
        } => {
            let service = open_service(&common, cfg).await?;
            let password = config::password(password_stdin, "ROSTER_OWNER_PASSWORD")?;
            let created = service
                .init_first_org(&org, &owner_email, password.as_deref(), &Context::cli())
                .await?;
            print_created(&created);
            Ok(())
        }
        Command::Org(OrgCommand::Create {
            title,
            owner_email,
            password_stdin,
        }) => {
            let service = open_service(&common, cfg).await?;
            let password = config::password(password_stdin, "ROSTER_OWNER_PASSWORD")?;
            let created = service
                .create_org(&title, &owner_email, password.as_deref(), &Context::cli())
                .await?;
            print_created(&created);
            Ok(())
        }
        Command::Org(OrgCommand::Seats { org, limit }) => {
            let limit = match limit.trim() {
                "none" | "unlimited" => None,
                n => Some(
                    n.parse::<i64>()
                        .map_err(|_| anyhow!("--limit: give a number of seats, or \"none\""))?,
                ),
            };
            let service = open_service(&common, cfg).await?;
            let org = service.set_seat_limit(OrgId(org), limit).await?;
            let owner: roster_service::Authorized<Admin> =
                service.operator_acting_as_owner(org.id).await?;
            println!("{}: {}", org.title, service.seats(&owner).await?.describe());
            Ok(())
        }
        Command::Org(OrgCommand::SsoOnly { org, state }) => {
            let on = match state.trim() {
                "on" => true,
                "off" => false,
                _ => return Err(anyhow!("sso-only: say \"on\" or \"off\"")),
            };
            let service = open_service(&common, cfg).await?;
            let org = service.operator_set_sso_only(OrgId(org), on).await?;
            let now = if org.sso_only {
                "requires single sign-on"
            } else {
                "accepts passwords"
            };
            println!("{}: {now}", org.title);
            Ok(())
        }
        Command::Org(OrgCommand::Domain(cmd)) => {
            let service = open_service(&common, cfg).await?;
            match cmd {
                DomainCommand::Add { org, domain } => {
                    let domain = service.operator_verify_domain(OrgId(org), &domain).await?;
                    println!("{domain} is verified for organization {org}");
                }
                DomainCommand::Remove { org, domain } => {
                    service.operator_remove_domain(OrgId(org), &domain).await?;
                    println!("{domain} is no longer verified for organization {org}");
                }
                DomainCommand::List { org } => {
                    for domain in service.verified_domains(OrgId(org)).await? {
                        println!("{domain}");
                    }
                }
            }
            Ok(())
        }
        Command::Member(cmd) => member_command(&common, cfg, cmd).await,
        Command::Dev(DevCommand::Seed {
            org,
            members,
            batch_size,
            workspaces,
            projects,
            tags,
            tagged_percent,
            activity_days,
        }) => {
            let service = open_service(&common, cfg).await?;
            let (ws, ps) = seed_containers(&service, OrgId(org), workspaces, projects).await?;
            // The first of a list for some members, and one of the rest for everyone.
            let spread = |ids: &[i64], i: u64, first: bool| -> Vec<i64> {
                let mut out = Vec::new();
                if first && !ids.is_empty() {
                    out.push(ids[0]);
                }
                if ids.len() > 1 {
                    out.push(ids[1 + (i as usize) % (ids.len() - 1)]);
                }
                out
            };
            let rows = (0..members).map(move |i| {
                let role = match i % 100 {
                    0..=79 => "AN",
                    80..=89 => "RE",
                    90..=94 => "MA",
                    95..=97 => "NO",
                    _ => "DI",
                };
                ImportRow {
                    line: i as usize + 1,
                    email: format!("member{i:08}@seed.example.com"),
                    first_name: format!("First{i}"),
                    last_name: format!("Last{i}"),
                    role: role.into(),
                    projects: spread(&ps, i, i % 2 == 0),
                    workspaces: spread(&ws, i, i < members / 10),
                }
            });
            import::run(
                &service,
                OrgId(org),
                rows,
                members,
                batch_size as usize,
                false,
            )
            .await?;
            seed::tags(&service, OrgId(org), tags, tagged_percent).await?;
            seed::activity(&service, OrgId(org), activity_days).await
        }
        Command::Dev(DevCommand::Ceiling { bind, answers }) => {
            let mut routes = Vec::new();
            for answer in answers {
                let (path, file) = answer
                    .split_once('=')
                    .filter(|(path, _)| path.starts_with('/'))
                    .ok_or_else(|| anyhow!("--answer {answer:?}: write it as /path=FILE"))?;
                let body = std::fs::read(file).with_context(|| format!("reading {file}"))?;
                routes.push((path.to_owned(), body.into()));
            }
            let listener = tokio::net::TcpListener::bind(&bind)
                .await
                .with_context(|| format!("cannot listen on {bind}"))?;
            println!(
                "ceiling server listening on http://{}",
                listener.local_addr()?
            );
            let app = roster_http::ceiling::app(routes);
            let timeout = std::time::Duration::from_secs(10);
            roster_http::serve_router(listener, app, timeout, shutdown_signal()).await?;
            Ok(())
        }
        Command::Invite(InviteCommand::Link { org }) => {
            let service = open_service(&common, cfg).await?;
            // The operator acts as the Owner, who holds every configurable permission.
            let owner: roster_service::Authorized<roster_service::Invite> =
                service.operator_acting_as_owner(OrgId(org)).await?;
            let link = service.invite_link(&owner)?;
            println!("{}{}", service.config().public_url, link.invite_url);
            Ok(())
        }
        Command::Invite(InviteCommand::Reset { org }) => {
            let service = open_service(&common, cfg).await?;
            let owner: roster_service::Authorized<roster_service::Invite> =
                service.operator_acting_as_owner(OrgId(org)).await?;
            let link = service.reset_invite_link(&owner).await?;
            println!("{}{}", service.config().public_url, link.invite_url);
            Ok(())
        }
        Command::User(UserCommand::ResetPassword { email }) => {
            let service = open_service(&common, cfg).await?;
            let link = service.issue_password_link(&email, &Context::cli()).await?;
            println!("One-time link to set the password of {email} (valid 3 days):\n{link}");
            Ok(())
        }
    }
}

fn print_created(c: &roster_service::orgs::CreatedOrg) {
    println!(
        "Created organization {} (id {}) with Owner {}",
        c.org.title, c.org.id, c.owner.email
    );
    if let Some(link) = &c.set_password_link {
        println!("The Owner sets a password with this one-time link (valid 3 days):\n{link}");
    }
}

async fn member_command(common: &Common, cfg: ServiceConfig, cmd: MemberCommand) -> Result<()> {
    let service = open_service(common, cfg).await?;
    match cmd {
        MemberCommand::List { org, role, search } => {
            let owner: roster_service::Authorized<Staff> =
                service.operator_acting_as_owner(OrgId(org)).await?;
            let roles = match role {
                Some(list) => list
                    .split(',')
                    .map(parse_role)
                    .collect::<Result<Vec<_>>>()?,
                None => Vec::new(),
            };
            let mut page = 1;
            loop {
                let q = MemberFilter {
                    roles: roles.clone(),
                    search: search.clone(),
                    deleted: false,
                    ..MemberFilter::default()
                };
                let result = service
                    .list_members(&owner, q, PageRequest { page, size: 1000 })
                    .await?;
                for m in &result.items {
                    println!(
                        "{}\t{}\t{}\t{} {}",
                        m.user.id,
                        m.membership.role.code(),
                        m.user.email,
                        m.user.first_name,
                        m.user.last_name
                    );
                }
                if result.items.len() < 1000 {
                    eprintln!("{} member(s)", result.count);
                    break;
                }
                page += 1;
            }
        }
        MemberCommand::SetRole { org, email, role } => {
            let role = parse_role(&role)?;
            let target = service.member_by_email(OrgId(org), &email).await?;
            let row = service
                .operator_assign_role(OrgId(org), target.user.id, role)
                .await?;
            println!("{} is now {}", row.user.email, row.membership.role.name());
        }
        MemberCommand::Import {
            org,
            file,
            batch_size,
            all_or_nothing,
            from_line,
        } => {
            let mut rows = import::read_csv(&file)?;
            rows.retain(|r| r.line as u64 >= from_line);
            let total = rows.len() as u64;
            let batch = if all_or_nothing {
                usize::MAX
            } else {
                batch_size as usize
            };
            import::run(
                &service,
                OrgId(org),
                rows.into_iter(),
                total,
                batch,
                all_or_nothing,
            )
            .await?;
        }
        MemberCommand::Delete { org, email } => {
            let target = service.member_by_email(OrgId(org), &email).await?;
            service
                .operator_delete_member(OrgId(org), target.user.id)
                .await?;
            println!("{email} was removed; their work now shows as \"Deleted User\"");
        }
    }
    Ok(())
}

async fn serve(common: &Common, args: ServeArgs) -> Result<()> {
    let metrics_token = args
        .metrics_token
        .as_deref()
        .map(config::check_metrics_token)
        .transpose()?;
    let public_url = config::check_public_url(
        &args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.bind)),
    )?;
    let mut cfg = ServiceConfig {
        public_url: public_url.clone(),
        session_ttl: args.session_ttl_minutes * roster_service::clock::MINUTE,
        invite_ttl: args.invite_ttl_days * roster_service::clock::DAY,
        activity_log_retention: args.activity_log_retention_days * roster_service::clock::DAY,
        dns_server: args.dns_server,
        ..ServiceConfig::default()
    };
    cfg.throttle.address_free_failures = args.throttle_address_free_failures;
    cfg.throttle.max_delay = args.throttle_max_delay_secs * roster_service::clock::SECOND;
    cfg.mail = args
        .smtp_url
        .map(|smtp_url| roster_service::mail::MailConfig {
            smtp_url,
            from: args.mail_from.clone(),
        });
    cfg.saml = config::saml_config(
        args.saml_metadata_allow,
        args.saml_sp_key.as_deref(),
        args.saml_sp_cert.as_deref(),
    )?;
    cfg.saml.clock_skew_secs = args.saml_clock_skew_secs;
    cfg.saml.metadata_refresh_secs = args.saml_metadata_refresh_secs;
    let service = open_service(common, cfg).await?;
    if args.demo {
        match service.seed_demo().await? {
            Some(demo) => {
                println!("Seeded the demo organization \"{}\".", demo.org_title);
                for (email, role) in &demo.accounts {
                    println!("  {:<32} {}", email, role.name());
                }
            }
            None => println!(
                "The database already holds an organization; the demo was not seeded again."
            ),
        }
        println!(
            "Sign in at {public_url}/user/login as {} with password {}",
            roster_service::demo::DEMO_OWNER_EMAIL,
            roster_service::demo::DEMO_PASSWORD
        );
    }
    let listener = tokio::net::TcpListener::bind(args.bind)
        .await
        .with_context(|| format!("ROSTER_BIND: cannot listen on {}", args.bind))?;
    println!(
        "roster {} listening on http://{}",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr()?
    );
    let web = roster_http::WebConfig {
        cookie_secure: args.cookie_secure,
        metrics_token,
        header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout_secs),
    };
    let state = roster_http::AppState::new(service.clone(), web);
    let refresher = tokio::spawn(refresh_saml_metadata(
        service.clone(),
        args.saml_metadata_refresh_secs,
    ));
    roster_http::serve(listener, state, shutdown_signal()).await?;
    refresher.abort();
    service.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Fetches identity providers' metadata again when it is due. Every node runs this; the
/// service lets one node take each organization. Checking every few minutes (not once per
/// interval) spreads organizations whose settings were saved at different times.
async fn refresh_saml_metadata(service: Service, every_secs: i64) {
    if every_secs <= 0 {
        return;
    }
    let tick = std::time::Duration::from_secs(every_secs.clamp(1, 300) as u64);
    let mut interval = tokio::time::interval(tick);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        if let Err(e) = service.refresh_due_saml_metadata().await {
            tracing::warn!(error = %e, "SAML metadata refresh pass failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Creates `workspaces` workspaces and `projects` projects for `dev seed` (project k in
/// workspace k modulo their number), as the organization's Owner through the service.
async fn seed_containers(
    service: &Service,
    org: OrgId,
    workspaces: u64,
    projects: u64,
) -> Result<(Vec<i64>, Vec<i64>)> {
    let owner: roster_service::Authorized<roster_service::Member> =
        service.operator_acting_as_owner(org).await?;
    let staff: roster_service::Authorized<Staff> = service.operator_acting_as_owner(org).await?;
    let mut ws = Vec::new();
    for n in 1..=workspaces {
        let patch = roster_service::workspaces::WorkspacePatch {
            title: Some(format!("Workspace {n}")),
            ..Default::default()
        };
        ws.push(service.create_workspace(&owner, patch).await?.id.0);
    }
    let mut ps = Vec::new();
    for n in 1..=projects {
        let home = (!ws.is_empty()).then(|| WorkspaceId(ws[(n as usize - 1) % ws.len()]));
        let p = service
            .create_project(&staff, &format!("Project {n}"), "", home)
            .await?;
        ps.push(p.id.0);
    }
    Ok((ws, ps))
}
