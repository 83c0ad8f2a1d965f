//! The integration testkit: a real roster server on an ephemeral port over a real database
//! (SQLite in a temporary folder, or a fresh PostgreSQL schema when `ROSTER_TEST_DB=postgres`),
//! a moveable clock, an HTTP client, and fixtures that set up organizations through the
//! service. Tests read like the user stories they prove.

pub mod dns;
pub mod smtp;
pub mod totp;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE};
use roster_domain::{OrgId, Role, UserId};
use roster_service::{
    Authenticated, Authorized, Clock, Context, CredentialKind, ManualClock, Secrets, Service,
    ServiceConfig,
};
use roster_store::{Store, StoreOptions};
use serde_json::Value;
use tokio::sync::oneshot;

pub use serde_json::json;

/// The roles below Administrator, every one refused what only Owners and Administrators may do.
pub const BELOW_ADMIN: [Role; 5] = [
    Role::Manager,
    Role::Reviewer,
    Role::Annotator,
    Role::NotActivated,
    Role::Deactivated,
];

/// The password every fixture account with a password uses.
pub const PASSWORD: &str = "correct horse battery staple";

/// Which database the suite runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

pub fn db() -> Db {
    match std::env::var("ROSTER_TEST_DB").as_deref() {
        Ok("postgres") => Db::Postgres,
        _ => Db::Sqlite,
    }
}

fn pg_base_url() -> String {
    std::env::var("ROSTER_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/roster_test".into())
}

/// A database prepared for one test: its URL, and the folder that holds it (SQLite).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl TestDb {
    pub async fn new() -> TestDb {
        match db() {
            Db::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("roster.db").display()
                );
                TestDb {
                    url,
                    _dir: Some(dir),
                }
            }
            Db::Postgres => {
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&pg_base_url())
                    .await
                    .expect("PostgreSQL reachable");
                sqlx::query(&format!("CREATE SCHEMA {schema}"))
                    .execute(&mut conn)
                    .await
                    .expect("create schema");
                let base = pg_base_url();
                let sep = if base.contains('?') { '&' } else { '?' };
                TestDb {
                    url: format!("{base}{sep}options=-c%20search_path%3D{schema}"),
                    _dir: None,
                }
            }
        }
    }
}

/// A running roster server.
pub struct TestServer {
    pub url: String,
    pub addr: SocketAddr,
    pub service: Service,
    pub clock: Arc<ManualClock>,
    pub db: Arc<TestDb>,
    shutdown: Option<oneshot::Sender<()>>,
}

/// The server secret of every test server; a spawned `roster` binary gets it as
/// ROSTER_SECRET_KEY, so the keys and tokens made in a test work there too.
pub const TEST_SECRET: &str = "integration-test-secret-0123456789abcdef";

pub fn test_secret() -> Secrets {
    Secrets::from_master(TEST_SECRET.as_bytes())
}

impl TestServer {
    /// The rows of a raw SQL query (no bound values), each as its first `columns` values,
    /// read straight from the database, past every rule.
    pub async fn sql_rows(&self, sql: &str, columns: usize) -> Vec<Vec<roster_store::raw::Value>> {
        let mut c = self
            .service
            .raw_store_bypassing_rules()
            .read()
            .await
            .expect("read");
        roster_store::raw::rows(&mut c, sql, columns)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The integer in the first column of the first row of a raw SQL query.
    pub async fn sql_int(&self, sql: &str) -> i64 {
        self.sql_rows(sql, 1).await[0][0]
            .int()
            .unwrap_or_else(|| panic!("{sql}: not an integer"))
    }

    /// Runs raw SQL statements in one committed write transaction, past every rule.
    pub async fn sql_execute(&self, sql: &str) {
        let mut tx = self
            .service
            .raw_store_bypassing_rules()
            .write()
            .await
            .expect("write");
        roster_store::raw::execute(&mut tx, sql)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        tx.commit().await.expect("commit");
    }

    pub async fn start() -> TestServer {
        TestServer::start_with(ServiceConfig::default()).await
    }

    pub async fn start_with(config: ServiceConfig) -> TestServer {
        let db = Arc::new(TestDb::new().await);
        TestServer::start_on(db, config, ManualClock::new()).await
    }

    /// Starts a server with web settings of its own (metrics token, timeouts).
    pub async fn start_with_web(web: roster_http::WebConfig) -> TestServer {
        TestServer::start_with_both(ServiceConfig::default(), web).await
    }

    /// Starts a server with service and web settings of its own.
    pub async fn start_with_both(config: ServiceConfig, web: roster_http::WebConfig) -> TestServer {
        let db = Arc::new(TestDb::new().await);
        TestServer::start_on_with(db, config, ManualClock::new(), web).await
    }

    /// Starts a server on an existing database (a second node, or a restart).
    pub async fn start_on(
        db: Arc<TestDb>,
        config: ServiceConfig,
        clock: Arc<ManualClock>,
    ) -> TestServer {
        TestServer::start_on_with(db, config, clock, roster_http::WebConfig::default()).await
    }

    async fn start_on_with(
        db: Arc<TestDb>,
        config: ServiceConfig,
        clock: Arc<ManualClock>,
        web: roster_http::WebConfig,
    ) -> TestServer {
        let store = Store::open(&StoreOptions {
            url: db.url.clone(),
            max_connections: 8,
            sqlite_full_sync: false,
        })
        .await
        .expect("database opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let config = ServiceConfig {
            public_url: format!("http://{addr}"),
            ..config
        };
        let service = Service::new(store, clock.clone(), test_secret(), config)
            .await
            .expect("service starts");
        let (tx, rx) = oneshot::channel::<()>();
        let state = roster_http::AppState::new(service.clone(), web);
        tokio::spawn(async move {
            roster_http::serve(listener, state, async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        TestServer {
            url: format!("http://{addr}"),
            addr,
            service,
            clock,
            db,
            shutdown: Some(tx),
        }
    }

    /// Moves the server's clock forward.
    /// Proves the live-member counters of every project and workspace equal a count of their
    /// live memberships, whatever the test did before.
    pub async fn assert_live_counts(&self) {
        for (holder, members, counts, column) in [
            (
                "projects",
                "project_members",
                "project_counts",
                "project_id",
            ),
            (
                "workspaces",
                "workspace_members",
                "workspace_counts",
                "workspace_id",
            ),
        ] {
            let wrong = self
                .sql_int(&format!(
                    "SELECT COUNT(*) FROM {holder} h
                     WHERE COALESCE((SELECT n.live_members FROM {counts} n WHERE n.{column} = h.id), 0)
                        <> (SELECT COUNT(*) FROM {members} x JOIN memberships m ON m.id = x.membership_id
                            WHERE x.{column} = h.id AND m.deleted_at IS NULL)"
                ))
                .await;
            assert_eq!(
                wrong, 0,
                "{wrong} of the {holder} count their live members wrong"
            );
        }
    }

    pub fn advance(&self, by: Duration) {
        self.clock.advance(by);
    }

    /// The code an authenticator app holding `secret` (base32) shows at the server's time.
    pub fn totp_now(&self, secret: &str) -> String {
        totp::code(secret, (self.clock.now() / 1_000_000) as u64)
    }

    /// An anonymous client.
    pub fn anonymous(&self) -> Api {
        Api::new(&self.url, None)
    }

    /// A client that sends `Authorization: Token <key>`.
    pub fn with_key(&self, key: &str) -> Api {
        Api::new(&self.url, Some(format!("Token {key}")))
    }

    /// A client with a cookie store, for browser-like sessions.
    pub fn browser(&self) -> Api {
        Api::browser(&self.url)
    }

    /// Creates an organization with an Owner who has a password.
    pub async fn org(&self, title: &str) -> OrgFixture {
        let email = format!("owner-{}@example.com", uuid::Uuid::new_v4().simple());
        let created = self
            .service
            .create_org(title, &email, Some(PASSWORD), &Context::cli())
            .await
            .expect("org created");
        let owner = self.person(created.owner.id).await;
        OrgFixture {
            id: created.org.id,
            owner,
            server_url: self.url.clone(),
            service: self.service.clone(),
        }
    }

    /// A person fixture for an existing user, with a fresh legacy key.
    pub async fn person(&self, id: UserId) -> Person {
        let who = self.authenticated(id).await;
        let key = self
            .service
            .reset_legacy_key(&who, &Context::cli())
            .await
            .expect("key");
        Person {
            id,
            email: who.user.email,
            key,
        }
    }

    /// A person fixture with their current legacy key (no reset: credentials in use live on).
    pub async fn current_person(&self, id: UserId) -> Person {
        let who = self.authenticated(id).await;
        let key = self.service.legacy_key(&who).await.expect("key");
        Person {
            id,
            email: who.user.email,
            key,
        }
    }

    /// The account as its own legacy key would authenticate it.
    async fn authenticated(&self, id: UserId) -> Authenticated {
        let user = {
            let mut c = self
                .service
                .raw_store_bypassing_rules()
                .read()
                .await
                .expect("read");
            roster_store::users::by_id(&mut c, id)
                .await
                .expect("query")
                .expect("user exists")
        };
        Authenticated {
            user,
            memberships: Vec::new(),
            orgs: Vec::new(),
            kind: CredentialKind::LegacyKey,
            csrf_token: None,
            sso_org: None,
            second_factor: false,
        }
    }

    /// Creates a personal access token for the key holder and exchanges it for an access
    /// token: (refresh, access).
    pub async fn pat_and_access(&self, p: &Person) -> (String, String) {
        let refresh = self
            .with_key(&p.key)
            .post_empty("/api/token/")
            .await
            .expect(201)
            .body["token"]
            .as_str()
            .expect("token")
            .to_string();
        let access = self
            .anonymous()
            .post("/api/token/refresh/", json!({"refresh": refresh}))
            .await
            .expect(200)
            .body["access"]
            .as_str()
            .expect("access")
            .to_string();
        (refresh, access)
    }

    /// The OpenAPI document the server serves at `/openapi.json`.
    pub async fn openapi_document(&self) -> Value {
        self.anonymous().get("/openapi.json").await.expect(200).body
    }

    /// A text fingerprint of every stored row that a request could change (not activity
    /// timestamps or throttle counters), to prove that refused requests wrote nothing.
    pub async fn snapshot(&self) -> String {
        let all: Vec<(&str, String)> = SNAPSHOT_COLUMNS
            .iter()
            .map(|(t, _)| (*t, "1 = 1".to_string()))
            .collect();
        self.fingerprint(&all).await
    }

    /// The rows of `tables` (name, WHERE clause), rendered as text in a stable order.
    async fn fingerprint(&self, tables: &[(&str, String)]) -> String {
        let mut out = String::new();
        let mut c = self
            .service
            .raw_store_bypassing_rules()
            .read()
            .await
            .expect("read");
        for (table, filter) in tables {
            let cols = SNAPSHOT_COLUMNS
                .iter()
                .find(|(t, _)| t == table)
                .expect("a snapshot table")
                .1;
            let expr: Vec<String> = cols
                .split(", ")
                .map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')"))
                .collect();
            let sql = format!(
                "SELECT {} FROM {table} WHERE {filter} ORDER BY 1",
                expr.join(" || '|' || ")
            );
            let rows: Vec<String> = roster_store::raw::rows(&mut c, &sql, 1)
                .await
                .expect("snapshot query")
                .into_iter()
                .map(|row| row[0].text().expect("snapshot text").to_owned())
                .collect();
            out.push_str(&format!("{table}: {}\n", rows.join("; ")));
        }
        out
    }

    /// Stops accepting connections and lets requests in flight finish.
    pub fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A person with a legacy key.
#[derive(Debug, Clone)]
pub struct Person {
    pub id: UserId,
    pub email: String,
    pub key: String,
}

/// An organization and its Owner.
pub struct OrgFixture {
    pub id: OrgId,
    pub owner: Person,
    server_url: String,
    service: Service,
}

impl OrgFixture {
    async fn as_owner<A: roster_service::AccessLevel>(&self) -> Authorized<A> {
        self.service
            .operator_acting_as_owner(self.id)
            .await
            .expect("owner")
    }

    /// Adds a member in `role` (through the service, as the Owner) and gives them a key.
    pub async fn member(&self, role: Role) -> Person {
        let email = format!(
            "{}-{}@example.com",
            role.code().to_lowercase(),
            uuid::Uuid::new_v4().simple()
        );
        self.member_with_email(&email, role).await
    }

    /// Adds `n` Annotators at once through the service's import path (that of `roster dev
    /// seed`), the i-th being `person(i)` = (email, first name, last name); all must be added.
    pub async fn import_annotators(
        &self,
        n: usize,
        person: impl Fn(usize) -> (String, String, String),
    ) {
        let rows: Vec<roster_service::import::ImportRow> = (0..n)
            .map(|i| {
                let (email, first_name, last_name) = person(i);
                roster_service::import::ImportRow {
                    line: i + 2,
                    email,
                    first_name,
                    last_name,
                    role: "AN".into(),
                    projects: vec![],
                    workspaces: vec![],
                }
            })
            .collect();
        let outcome = self
            .service
            .import_members(self.id, &rows, true)
            .await
            .expect("members imported");
        assert_eq!(outcome.added, n);
    }

    pub async fn member_with_email(&self, email: &str, role: Role) -> Person {
        let owner = self.as_owner().await;
        let (first, last) = ("Test", role.name());
        let row = self
            .service
            .add_member(&owner, email, first, last, role)
            .await
            .expect("member added");
        let user = row.user;
        let who = Authenticated {
            user: user.clone(),
            memberships: Vec::new(),
            orgs: Vec::new(),
            kind: CredentialKind::LegacyKey,
            csrf_token: None,
            sso_org: None,
            second_factor: false,
        };
        let key = self
            .service
            .reset_legacy_key(&who, &Context::cli())
            .await
            .expect("key");
        Person {
            id: user.id,
            email: user.email,
            key,
        }
    }

    /// Adds an existing person (member of another organization) in `role`.
    pub async fn add_existing(&self, person: &Person, role: Role) {
        let owner = self.as_owner().await;
        self.service
            .add_member(&owner, &person.email, "", "", role)
            .await
            .expect("member added");
    }

    /// Gives a member a password (through a one-time link, as a person would).
    pub async fn set_password(&self, person: &Person) {
        let link = self
            .service
            .issue_password_link(&person.email, &Context::cli())
            .await
            .expect("link");
        let token = link.split("token=").nth(1).expect("token in link");
        self.service
            .set_password_with_link(token, PASSWORD, &Context::cli())
            .await
            .expect("password set");
    }

    /// Assigns a role through the service, as the Owner.
    pub async fn set_role(&self, person: &Person, role: Role) {
        let owner = self.as_owner().await;
        self.service
            .assign_role(&owner, person.id, role)
            .await
            .expect("role assigned");
    }

    /// The invite-link token.
    pub async fn invite_token(&self) -> String {
        let owner = self.as_owner().await;
        self.service.invite_link(&owner).expect("invite link").token
    }

    /// Sends a personal invite as the Owner; returns its sign-up path on the test server.
    pub async fn invite_path(&self, email: &str, role: &str) -> String {
        let sent = self
            .owner_api()
            .post(
                "/api/invite/send-email",
                json!({"emails": [email], "role": role}),
            )
            .await
            .expect(201);
        let url = sent.body[0]["invite_url"].as_str().expect("invite url");
        url.trim_start_matches(&self.server_url).to_string()
    }

    /// The seat figures as the Owner reads them: `{limit, used, active, pending_invites}`.
    pub async fn seats(&self) -> Value {
        self.owner_api()
            .get(&self.path("/seats"))
            .await
            .expect(200)
            .body
    }

    pub fn path(&self, rest: &str) -> String {
        format!("/api/organizations/{}{rest}", self.id)
    }

    pub fn owner_api(&self) -> Api {
        Api::new(&self.server_url, Some(format!("Token {}", self.owner.key)))
    }

    pub fn api(&self, p: &Person) -> Api {
        Api::new(&self.server_url, Some(format!("Token {}", p.key)))
    }

    /// A new SCIM token of this organization, made by its Owner.
    pub async fn scim_token(&self) -> String {
        new_scim_token(&self.owner_api()).await
    }

    /// The organization's identity provider: a client holding a new SCIM token. No domain is
    /// verified for it here, so whoever it provisions is invited and joins on accepting.
    pub async fn idp(&self) -> Api {
        let token = self.scim_token().await;
        Api::new(&self.server_url, Some(format!("Bearer {token}")))
    }
}

/// A new SCIM token, made through `owner` (a client of an Owner or Administrator).
pub async fn new_scim_token(owner: &Api) -> String {
    owner.post_empty("/api/scim/token").await.expect(201).body["token"]
        .as_str()
        .expect("a SCIM token")
        .to_string()
}

/// The `results` of a paginated answer.
#[track_caller]
pub fn results(v: &Value) -> &Vec<Value> {
    v["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results in {v}"))
}

/// A response: status, JSON body (Null when empty or not JSON), headers.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: HeaderMap,
}

impl Resp {
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Resp {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.text
        );
        self
    }
}

/// A small HTTP client for the API.
#[derive(Clone)]
pub struct Api {
    base: String,
    http: reqwest::Client,
    auth: Option<String>,
    pub csrf: Option<String>,
    /// A session cookie sent with every request (`with_session`).
    cookie: Option<String>,
}

impl Api {
    /// An anonymous client of a server at `base` (say, a spawned `roster serve`).
    pub fn at(base: &str) -> Api {
        Api::new(base, None)
    }

    fn new(base: &str, auth: Option<String>) -> Api {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Api {
            base: base.to_string(),
            http,
            auth,
            csrf: None,
            cookie: None,
        }
    }

    fn browser(base: &str) -> Api {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Api {
            base: base.to_string(),
            http,
            auth: None,
            csrf: None,
            cookie: None,
        }
    }

    /// The same client from another loopback address (a different "person" to throttling).
    pub fn from_address(&self, ip: [u8; 4]) -> Api {
        let http = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Api {
            http,
            ..self.clone()
        }
    }

    /// The client of a browser session made on the server (say, by single sign-on).
    pub fn with_session(&self, id: &str, csrf: &str) -> Api {
        Api {
            cookie: Some(format!("roster_session={id}")),
            csrf: Some(csrf.to_string()),
            ..self.clone()
        }
    }

    pub fn with_auth(&self, header: &str) -> Api {
        Api {
            auth: Some(header.to_string()),
            ..self.clone()
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base));
        if let Some(a) = &self.auth {
            req = req.header("Authorization", a);
        }
        if let Some(c) = &self.csrf {
            req = req.header("X-CSRFToken", c);
        }
        if let Some(c) = &self.cookie {
            req = req.header("Cookie", c);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some((ct, bytes)) = body {
            req = req.header(CONTENT_TYPE, ct).body(bytes);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            headers,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(reqwest::Method::GET, path, None, &[]).await
    }

    /// Sends `body` as JSON.
    pub async fn send_json(&self, method: reqwest::Method, path: &str, body: Value) -> Resp {
        let bytes = body.to_string().into_bytes();
        self.send(method, path, Some(("application/json", bytes)), &[])
            .await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send_json(reqwest::Method::POST, path, body).await
    }

    /// Creates a project through the API; returns its id.
    pub async fn create_project(&self, title: &str) -> i64 {
        self.post(
            "/api/projects/",
            json!({"title": title, "description": "about"}),
        )
        .await
        .expect(201)
        .body["id"]
            .as_i64()
            .expect("project id")
    }

    pub async fn post_empty(&self, path: &str) -> Resp {
        self.send(reqwest::Method::POST, path, None, &[]).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send_json(reqwest::Method::PATCH, path, body).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send_json(reqwest::Method::PUT, path, body).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(reqwest::Method::DELETE, path, None, &[]).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Resp {
        let body = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            reqwest::Method::POST,
            path,
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
            &[],
        )
        .await
    }

    /// Signs in with JSON and remembers the CSRF token (browser clients keep the cookie).
    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        self.sign_in_as(json!({"email": email, "password": password}))
            .await
    }

    /// Signs in with the code of the account's authenticator app too.
    pub async fn sign_in_with_code(&mut self, email: &str, password: &str, code: &str) -> Resp {
        self.sign_in_as(json!({"email": email, "password": password, "code": code}))
            .await
    }

    async fn sign_in_as(&mut self, body: Value) -> Resp {
        let r = self.post("/user/login", body).await;
        if r.status == 200 {
            self.csrf = r.body["csrf_token"].as_str().map(str::to_string);
        }
        r
    }
}

/// Percent-encodes a query string value (everything but RFC 3986's unreserved characters).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The columns a snapshot renders per table: everything a request could change, except
/// activity timestamps and throttle counters.
const SNAPSHOT_COLUMNS: &[(&str, &str)] = &[
    ("users", "id, email, username, first_name, last_name, phone, password_hash, active_org_id"),
    ("organizations", "id, title, contact_info, invite_token_hash, seat_limit, default_role, manual_role_management, api_tokens_enabled, legacy_api_tokens_enabled, api_token_ttl_days, sso_only, manual_workspace_management, manual_project_member_management"),
    ("memberships", "id, org_id, user_id, role, role_source, updated_at, deleted_at"),
    ("projects", "id, org_id, title, description"),
    ("project_members", "project_id, membership_id, source"),
    ("project_roles", "id, project_id, membership_id, role, role_source"),
    ("workspaces", "id, org_id, title, description, color, is_personal, is_archived"),
    ("workspace_members", "workspace_id, membership_id, source"),
    ("annotations", "id, project_id, membership_id, result"),
    ("project_pauses", "id, project_id, user_id, reason, verbose_reason, deleted_at"),
    ("invites", "id, org_id, email, role, expires_at, accepted_at, revoked_at"),
    ("legacy_keys", "user_id, key_hash"),
    ("refresh_tokens", "jti, blacklisted_at"),
    ("sessions", "id_hash, user_id, sso_org_id, second_factor"),
    ("password_tokens", "token_hash, used_at"),
    ("audit_events", "id, action"),
    ("scim_settings", "org_id, mapping, delete_action, max_deprovision"),
    ("scim_tokens", "id, org_id, token_hash, revoked_at"),
    ("scim_users", "id, org_id, user_name, email, external_id, active, given_name, family_name, user_id, attributes, version"),
    ("scim_groups", "id, org_id, display_name, external_id, attributes, version"),
    ("scim_group_members", "group_id, user_id"),
    ("scim_deprovisions", "id, org_id, n"),
    ("verified_domains", "domain, org_id"),
    ("domain_claims", "org_id, domain, token, created_at"),
    ("saml_settings", "org_id, token, domain, idp_provider, metadata_url, metadata_xml, nameid_format, mapping_email, mapping_first_name, mapping_last_name, mapping_groups, mapping, sp_cert"),
    ("saml_requests", "id, org_id, relay_path"),
    ("saml_assertions_seen", "org_id, assertion_id"),
    ("saml_identities", "org_id, user_id, name_id, groups"),
    // Not the secret: whether the factor is confirmed, and the last step a code used.
    ("totp_factors", "user_id, confirmed_at, last_step"),
    ("permission_overrides", "org_id, permission, roles"),
    ("session_policies", "org_id, max_session_age, max_time_between_activity"),
    ("member_tags", "id, org_id, label, updated_at"),
    ("member_tag_assignments", "membership_id, tag_id"),
    ("member_tag_imports", "id, org_id, status, tags_created, assignments_created, users_skipped"),
];

/// The session cookie value a response set, if any.
pub fn session_cookie(r: &Resp) -> Option<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("roster_session=") && !c.starts_with("roster_session=;"))
        .map(|c| {
            c.trim_start_matches("roster_session=")
                .split(';')
                .next()
                .unwrap_or("")
                .to_string()
        })
}

impl TestServer {
    /// Like `snapshot`, but only the rows of one organization: its settings, its memberships
    /// and their accounts, keys, tokens and factors, its projects, workspaces, tags and
    /// their members and work, its invites, domains, identity-provider state and audit events.
    /// Proves that a request answered for another organization left this one alone. Left out:
    /// its members' sessions (their own sign-ins, which the whole-database `snapshot` covers)
    /// and the assertions its identity provider's sign-ins used up (replay bookkeeping,
    /// written even by a sign-in that makes nobody a member).
    pub async fn snapshot_org(&self, org: OrgId) -> String {
        let o = org.0;
        let members = format!("SELECT user_id FROM memberships WHERE org_id = {o}");
        let memberships = format!("SELECT id FROM memberships WHERE org_id = {o}");
        let projects = format!("SELECT id FROM projects WHERE org_id = {o}");
        let workspaces = format!("SELECT id FROM workspaces WHERE org_id = {o}");
        let groups = format!("SELECT id FROM scim_groups WHERE org_id = {o}");
        let of_org = format!("org_id = {o}");
        let of_members = format!("user_id IN ({members})");
        let tables: Vec<(&str, String)> = vec![
            ("users", format!("id IN ({members})")),
            ("organizations", format!("id = {o}")),
            ("memberships", of_org.clone()),
            ("projects", of_org.clone()),
            ("project_members", format!("project_id IN ({projects})")),
            ("project_roles", format!("project_id IN ({projects})")),
            ("project_pauses", format!("project_id IN ({projects})")),
            ("annotations", format!("project_id IN ({projects})")),
            ("workspaces", of_org.clone()),
            (
                "workspace_members",
                format!("workspace_id IN ({workspaces})"),
            ),
            ("invites", of_org.clone()),
            ("legacy_keys", of_members.clone()),
            ("refresh_tokens", of_members.clone()),
            ("password_tokens", of_members.clone()),
            ("totp_factors", of_members.clone()),
            ("audit_events", of_org.clone()),
            ("scim_settings", of_org.clone()),
            ("scim_tokens", of_org.clone()),
            ("scim_users", of_org.clone()),
            ("scim_groups", of_org.clone()),
            ("scim_group_members", format!("group_id IN ({groups})")),
            ("scim_deprovisions", of_org.clone()),
            ("verified_domains", of_org.clone()),
            ("domain_claims", of_org.clone()),
            ("saml_settings", of_org.clone()),
            ("saml_requests", of_org.clone()),
            ("saml_identities", of_org.clone()),
            ("permission_overrides", of_org.clone()),
            ("session_policies", of_org.clone()),
            ("member_tags", of_org.clone()),
            (
                "member_tag_assignments",
                format!("membership_id IN ({memberships})"),
            ),
            ("member_tag_imports", of_org),
        ];
        self.fingerprint(&tables).await
    }
}
