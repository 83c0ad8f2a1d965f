//! Crash safety: the real `roster` binary is killed with SIGKILL in the middle of a batched
//! import (the command line's and the HTTP tag import), a burst of role changes and bulk
//! project and workspace assignments, a SCIM Bulk request, and a change of the SCIM group
//! mapping, then started again on the same database. Every transaction is there whole or not
//! at all, every acknowledged one is there, the counters equal a recount of the memberships,
//! the organization keeps one Owner, and an interrupted import resumes where it reported it
//! stopped without doubling anything.
//!
//! The binary is `target/debug/roster` beside the test executable (`cargo build -p roster`),
//! or ROSTER_BIN.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use roster_domain::Role;
use roster_tests::{Api, OrgFixture, TestServer, TEST_SECRET};
use serde_json::{json, Value};

use crate::scim::{user_body, GROUP, PATCH};

/// When a workload is killed: a moment after it started, or once some of its work is seen.
#[derive(Debug, Clone, Copy)]
enum CrashPoint {
    After(Duration),
    /// After this many units of work were observed (committed batches, answered requests,
    /// stored SCIM users).
    AfterDone(i64),
}

fn ms(n: u64) -> CrashPoint {
    CrashPoint::After(Duration::from_millis(n))
}

/// Waits for the crash point; `done` reads how much work is observed so far. Returns
/// whether the workload finished first (`finished`), which the summary reports.
async fn wait_for<F, Fut>(point: CrashPoint, done: F, mut finished: impl FnMut() -> bool) -> bool
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    let started = Instant::now();
    loop {
        if finished() {
            return true;
        }
        let reached = match point {
            CrashPoint::After(d) => started.elapsed() >= d,
            CrashPoint::AfterDone(n) => done().await >= n,
        };
        if reached || started.elapsed() > Duration::from_secs(60) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Nothing observed: for crash points given by time.
async fn nothing_observed() -> i64 {
    0
}

/// `target/debug/roster` beside the test executable, or ROSTER_BIN. `cargo test` does not
/// build another package's binary, so it must be built (`cargo build -p roster`, as
/// scripts/test.sh does) and no older than roster's sources, or the test would try an old one.
fn roster_bin() -> &'static Path {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(find_roster_bin)
}

fn find_roster_bin() -> PathBuf {
    let bin = match std::env::var_os("ROSTER_BIN") {
        Some(b) => PathBuf::from(b),
        // target/debug/deps/integration-HASH -> target/debug/roster
        None => std::env::current_exe()
            .expect("test executable")
            .parent()
            .and_then(Path::parent)
            .expect("target folder")
            .join("roster"),
    };
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: build it with `cargo build -p roster`",
                bin.display()
            )
        });
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
    if let Some(newer) = newest_file(&sources).filter(|(t, _)| *t > built) {
        panic!(
            "{} is older than {}: build it again with `cargo build -p roster`",
            bin.display(),
            newer.1.display()
        );
    }
    bin
}

/// The most recently modified file under `dir`, with its time.
fn newest_file(dir: &Path) -> Option<(std::time::SystemTime, PathBuf)> {
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let candidate = if path.is_dir() {
            newest_file(&path)
        } else {
            entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .map(|t| (t, path))
        };
        if let Some(c) = candidate {
            if newest.as_ref().is_none_or(|n| c.0 > n.0) {
                newest = Some(c);
            }
        }
    }
    newest
}

/// The `roster` binary on the test server's database, with its secret.
fn roster(server: &TestServer, dir: &Path) -> Command {
    let mut cmd = Command::new(roster_bin());
    cmd.env("DATABASE_URL", &server.db.url)
        .env("ROSTER_SECRET_KEY", TEST_SECRET)
        .env("ROSTER_DATA_DIR", dir)
        .env("ROSTER_SAML_METADATA_REFRESH_SECS", "0")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

/// A `roster serve` process.
struct Node {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Node {
    async fn start(server: &TestServer, dir: &Path) -> Node {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let log = dir.join(format!("serve-{port}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let child = roster(server, dir)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("roster serve starts");
        let mut node = Node {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        let started = Instant::now();
        loop {
            if health(&node.url).await == Some(200) {
                return node;
            }
            if let Some(status) = node.child.try_wait().expect("serve status") {
                panic!("roster serve exited with {status}: {}", node.log_text());
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "roster serve did not answer /api/health: {}",
                node.log_text()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn api(&self, key: &str) -> Api {
        Api::at(&self.url).with_auth(&format!("Token {key}"))
    }

    /// SIGKILL: no shutdown, no rollback but the database's own.
    fn crash(mut self) {
        crash(&mut self.child);
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn crash(child: &mut Child) {
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
}

/// A request that may meet a server killed under it: its status, or None.
async fn fire(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    auth: &str,
    body: Value,
) -> Option<u16> {
    let res = client
        .request(method, url)
        .header("Authorization", auth)
        .json(&body)
        .send()
        .await
        .ok()?;
    let status = res.status().as_u16();
    res.bytes().await.ok()?;
    Some(status)
}

async fn health(base: &str) -> Option<u16> {
    let r = reqwest::get(format!("{base}/api/health")).await.ok()?;
    Some(r.status().as_u16())
}

/// What holds after every crash, read after the restart: the node answers, every counter
/// equals a recount of the memberships it counts, the organization has one Owner, and the
/// seat figure the API gives is the recount of members in a working role.
async fn assert_consistent(server: &TestServer, node: &Node, org: &OrgFixture, owner_key: &str) {
    node.api(owner_key).get("/api/health").await.expect(200);
    let drifted = server
        .sql_int(
            "SELECT COUNT(*) FROM member_counts c WHERE c.n <> (SELECT COUNT(*) FROM memberships m \
             WHERE m.org_id = c.org_id AND m.role = c.role AND m.deleted_at IS NULL)",
        )
        .await
        + server
            .sql_int(
                "SELECT COUNT(*) FROM (SELECT org_id, role FROM memberships WHERE deleted_at IS NULL \
                 GROUP BY org_id, role) r WHERE NOT EXISTS (SELECT 1 FROM member_counts c \
                 WHERE c.org_id = r.org_id AND c.role = r.role)",
            )
            .await;
    assert_eq!(drifted, 0, "member counters differ from the memberships");
    server.assert_live_counts().await;
    let o = org.id.0;
    let owners = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM memberships WHERE org_id = {o} AND role = 'OW' AND deleted_at IS NULL"
        ))
        .await;
    assert_eq!(owners, 1, "organization {o} has {owners} Owners");
    let working: Vec<String> = Role::ACTIVE
        .iter()
        .map(|r| format!("'{}'", r.code()))
        .collect();
    let active = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM memberships WHERE org_id = {o} AND deleted_at IS NULL AND role IN ({})",
            working.join(",")
        ))
        .await;
    let seats = node
        .api(owner_key)
        .get(&org.path("/seats"))
        .await
        .expect(200)
        .body;
    assert_eq!(seats["active"], json!(active), "the API's seat figure");
}

/// The rows of `table` (project_members, project_roles, workspace_members) for one project
/// or workspace that belong to people whose email starts with `tag-` (not its creator).
async fn places(server: &TestServer, table: &str, column: &str, id: i64, tag: &str) -> i64 {
    server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM {table} x JOIN memberships m ON m.id = x.membership_id \
             WHERE x.{column} = {id} AND m.user_email LIKE '{tag}-%'"
        ))
        .await
}

/// What a crash test works with: the test server (fixtures, raw reads of the database), the
/// data folder of the spawned binary, a node serving the same database, and the tally.
struct Rig {
    started: Instant,
    server: TestServer,
    dir: tempfile::TempDir,
    node: Node,
    tally: Tally,
}

impl Rig {
    async fn start() -> Rig {
        let started = Instant::now();
        let server = TestServer::start().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let node = Node::start(&server, dir.path()).await;
        Rig {
            started,
            server,
            dir,
            node,
            tally: Tally::default(),
        }
    }
}

/// How one scenario went, for the summary line.
#[derive(Default)]
struct Tally {
    points: usize,
    finished_first: usize,
    /// Crash points after which some, not all, of a workload's transactions were there.
    part_landed: usize,
}

impl Tally {
    fn report(&self, scenario: &str, started: Instant) {
        eprintln!(
            "crash test {scenario}: {} crash points tried ({} after the work had finished, \
             {} with part of the work there), {:.1} s",
            self.points,
            self.finished_first,
            self.part_landed,
            started.elapsed().as_secs_f64()
        );
    }
}

// ---------------------------------------------------------------------------------------
// (a) Imports: `roster member import` in batches, and the HTTP tag import.

const IMPORT_ROWS: usize = 4000;
const IMPORT_BATCH: usize = 250;

/// The last "committed lines A-B" an import printed: B.
fn last_committed(stdout: &str) -> Option<usize> {
    stdout
        .lines()
        .rev()
        .filter_map(|l| l.strip_prefix("committed lines "))
        .find_map(|r| r.split('-').nth(1)?.trim().parse().ok())
}

fn import_email(tag: &str, line: usize) -> String {
    format!("{tag}-line{line}@example.com")
}

/// The file lines (2 is the first row) whose person is now a live member of the organization.
async fn imported_lines(server: &TestServer, org: &OrgFixture, tag: &str) -> Vec<usize> {
    let rows = server
        .sql_rows(
            &format!(
                "SELECT user_email FROM memberships WHERE org_id = {} AND deleted_at IS NULL \
                 AND user_email LIKE '{tag}-line%'",
                org.id.0
            ),
            1,
        )
        .await;
    let mut lines: Vec<usize> = rows
        .iter()
        .map(|r| {
            let email = r[0].text().expect("email");
            email[tag.len() + 5..email.find('@').unwrap()]
                .parse()
                .expect("line number")
        })
        .collect();
    lines.sort();
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_mid_batch_keeps_whole_batches_and_resumes_from_the_reported_line() {
    let Rig {
        started,
        server,
        dir,
        mut node,
        mut tally,
    } = Rig::start().await;
    let points = [
        ms(40),
        ms(150),
        CrashPoint::AfterDone(1),
        CrashPoint::AfterDone(5),
        CrashPoint::AfterDone(10),
        CrashPoint::AfterDone(15),
    ];
    let tag_points = [ms(2), ms(8), ms(15), ms(30), ms(50), ms(150)];
    for (k, point) in points.into_iter().enumerate() {
        let org = server.org(&format!("Import {k}")).await;
        let api = org.owner_api();
        let project = api.create_project("Imported").await;
        let workspace = api
            .post("/api/workspaces", json!({"title": "Imported"}))
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("workspace id");
        let tag = format!("imp{k}");
        let mut csv = String::from("email,first_name,last_name,role,projects,workspaces\n");
        for line in 2..IMPORT_ROWS + 2 {
            let role = if line % 5 == 0 { "RE" } else { "AN" };
            csv.push_str(&format!(
                "{},Row,{line},{role},{project},{workspace}\n",
                import_email(&tag, line)
            ));
        }
        let file = dir.path().join(format!("{tag}.csv"));
        std::fs::write(&file, csv).expect("csv written");
        let out_path = dir.path().join(format!("{tag}.out"));
        let import = |from_line: usize, out: std::fs::File| {
            let mut cmd = roster(&server, dir.path());
            cmd.args(["member", "import", "--org", &org.id.0.to_string()])
                .args(["--batch-size", &IMPORT_BATCH.to_string()])
                .args(["--from-line", &from_line.to_string()])
                .arg(&file)
                .stdout(out);
            cmd
        };

        // The import runs beside a serving node; both die at the crash point.
        let mut child = import(2, std::fs::File::create(&out_path).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .expect("import starts");
        let finished = wait_for(
            point,
            || async {
                let out = std::fs::read_to_string(&out_path).unwrap_or_default();
                out.matches("committed lines").count() as i64
            },
            || child.try_wait().ok().flatten().is_some(),
        )
        .await;
        tally.points += 1;
        tally.finished_first += usize::from(finished);
        crash(&mut child);
        node.crash();
        node = Node::start(&server, dir.path()).await;

        // What landed is a run of whole batches from the start of the file, up to the
        // reported line or one batch past it (killed between a commit and its report).
        let reported = last_committed(&std::fs::read_to_string(&out_path).unwrap()).unwrap_or(1);
        let landed = imported_lines(&server, &org, &tag).await;
        tally.part_landed += usize::from(!landed.is_empty() && landed.len() < IMPORT_ROWS);
        let end = landed.last().copied().unwrap_or(1);
        assert_eq!(
            landed,
            (2..=end).collect::<Vec<_>>(),
            "{point:?}: not a prefix of the file"
        );
        assert!(
            (end - 1) % IMPORT_BATCH == 0 || end == IMPORT_ROWS + 1,
            "{point:?}: batch cut at line {end}"
        );
        assert!(
            end == reported || end == reported + IMPORT_BATCH,
            "{point:?}: reported {reported}, landed up to {end}"
        );
        assert_rows_whole(&server, &org, &tag, landed.len(), project, workspace).await;
        assert_consistent(&server, &node, &org, &org.owner.key).await;

        // Resume from the reported line: the rest lands once, nothing doubles.
        let mut resume = import(
            reported + 1,
            std::fs::File::create(dir.path().join("resume.out")).unwrap(),
        );
        resume.stderr(Stdio::piped());
        let resumed = tokio::task::spawn_blocking(move || resume.output())
            .await
            .unwrap()
            .expect("resumed import runs");
        let stderr = String::from_utf8_lossy(&resumed.stderr);
        if end == reported {
            assert!(
                resumed.status.success(),
                "{point:?}: resume failed: {stderr}"
            );
        } else {
            // The batch committed but unreported is refused row by row, not doubled.
            assert!(!resumed.status.success());
            assert_eq!(
                stderr.matches("is already a member").count(),
                IMPORT_BATCH,
                "{stderr}"
            );
        }
        let all = imported_lines(&server, &org, &tag).await;
        assert_eq!(
            all,
            (2..IMPORT_ROWS + 2).collect::<Vec<_>>(),
            "{point:?}: after the resume"
        );
        assert_rows_whole(&server, &org, &tag, IMPORT_ROWS, project, workspace).await;
        assert_consistent(&server, &node, &org, &org.owner.key).await;

        // The HTTP tag import over the same members: one transaction, killed at a moment.
        let finished;
        (node, finished) =
            tag_import_crash(&server, node, &org, &tag, tag_points[k], dir.path()).await;
        tally.points += 1;
        tally.finished_first += usize::from(finished);
    }
    tally.report("(a) imports", started);
}

/// Every imported row is whole: its account, one membership, its project and workspace
/// places and one audit event each, and nothing more.
async fn assert_rows_whole(
    server: &TestServer,
    org: &OrgFixture,
    tag: &str,
    n: usize,
    project: i64,
    workspace: i64,
) {
    let o = org.id.0;
    let n = n as i64;
    let count = |sql: String| async move { server.sql_int(&sql).await };
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM users WHERE email LIKE '{tag}-line%'"
        ))
        .await,
        n,
        "accounts"
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM memberships WHERE org_id = {o} AND user_email LIKE '{tag}-line%'"
        ))
        .await,
        n,
        "memberships"
    );
    assert_eq!(
        places(server, "project_members", "project_id", project, tag).await,
        n,
        "project places"
    );
    assert_eq!(
        places(server, "workspace_members", "workspace_id", workspace, tag).await,
        n,
        "workspace places"
    );
    assert_eq!(
        count(format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND action = 'member.joined' \
             AND target_email LIKE '{tag}-line%'"
        ))
        .await,
        n,
        "audit events"
    );
}

/// POSTs a tag import naming every imported member, kills the node at `point`, restarts it,
/// and proves the import is there whole (its job, tags, every assignment, its audit event)
/// or not at all. Returns whether it had answered before the kill.
async fn tag_import_crash(
    server: &TestServer,
    node: Node,
    org: &OrgFixture,
    tag: &str,
    point: CrashPoint,
    dir: &Path,
) -> (Node, bool) {
    let o = org.id.0;
    let mut csv = String::from("email,tags\n");
    for line in 2..IMPORT_ROWS + 2 {
        csv.push_str(&format!(
            "{},\"Night shift, Audio\"\n",
            import_email(tag, line)
        ));
    }
    let boundary = "crash-boundary";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"bulk_tags\"\r\n\r\nBatch 7\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tags.csv\"\r\n\
         Content-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    );
    let url = format!("{}{}", node.url, org.path("/member-tags/imports"));
    let auth = format!("Token {}", org.owner.key);
    let answered = Arc::new(AtomicUsize::new(0));
    let request = {
        let answered = answered.clone();
        tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("Authorization", auth)
                .header(
                    "Content-Type",
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .body(body)
                .send()
                .await;
            if r.is_ok_and(|r| r.status().as_u16() == 201) {
                answered.store(1, Ordering::SeqCst);
            }
        })
    };
    wait_for(point, nothing_observed, || {
        answered.load(Ordering::SeqCst) == 1
    })
    .await;
    node.crash();
    let _ = request.await;
    let node = Node::start(server, dir).await;
    let acknowledged = answered.load(Ordering::SeqCst) == 1;
    let count = |sql: String| async move { server.sql_int(&sql).await };
    let jobs = count(format!(
        "SELECT COUNT(*) FROM member_tag_imports WHERE org_id = {o}"
    ))
    .await;
    let tags = count(format!(
        "SELECT COUNT(*) FROM member_tags WHERE org_id = {o}"
    ))
    .await;
    let assigned = count(format!(
        "SELECT COUNT(*) FROM member_tag_assignments a JOIN member_tags t ON t.id = a.tag_id WHERE t.org_id = {o}"
    ))
    .await;
    let events = count(format!(
        "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND action LIKE 'member_tag.%'"
    ))
    .await;
    let whole = (jobs, tags, assigned) == (1, 3, 3 * IMPORT_ROWS as i64) && events > 0;
    let nothing = (jobs, tags, assigned, events) == (0, 0, 0, 0);
    assert!(
        whole || nothing,
        "{point:?}: tag import half there: {jobs} jobs, {tags} tags, {assigned} assignments, {events} events"
    );
    assert!(
        !acknowledged || whole,
        "{point:?}: an acknowledged tag import was lost"
    );
    assert_consistent(server, &node, org, &org.owner.key).await;
    (node, acknowledged)
}

// ---------------------------------------------------------------------------------------
// (b) A burst of role changes, with bulk project and workspace assignments beside it.

const BURST_MEMBERS: usize = 400;
const BURST_PROJECTS: usize = 4;

/// Adds `n` Annotators through the service's import path; their user ids, in order.
async fn annotators(server: &TestServer, org: &OrgFixture, tag: &str, n: usize) -> Vec<i64> {
    org.import_annotators(n, |i| {
        (
            format!("{tag}-{i}@example.com"),
            "Burst".into(),
            i.to_string(),
        )
    })
    .await;
    let ids = server
        .sql_rows(
            &format!(
                "SELECT user_id FROM memberships WHERE org_id = {} AND user_email LIKE '{tag}-%' ORDER BY user_id",
                org.id.0
            ),
            1,
        )
        .await;
    ids.iter().map(|r| r[0].int().expect("user id")).collect()
}

/// The role each burst member is moved to: Reviewer, Manager, or Deactivated (a seat freed).
fn burst_role(i: usize) -> Role {
    match i % 3 {
        0 => Role::Reviewer,
        1 => Role::Manager,
        _ => Role::Deactivated,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_role_changes_killed_midway_leaves_each_change_whole_with_its_audit_event() {
    let Rig {
        started,
        server,
        dir,
        mut node,
        mut tally,
    } = Rig::start().await;
    let points = [
        ms(30),
        CrashPoint::AfterDone(1),
        CrashPoint::AfterDone(50),
        CrashPoint::AfterDone(200),
        CrashPoint::AfterDone(350),
        ms(400),
    ];
    for (k, point) in points.into_iter().enumerate() {
        let org = server.org(&format!("Burst {k}")).await;
        let o = org.id.0;
        let tag = format!("burst{k}");
        let members = annotators(&server, &org, &tag, BURST_MEMBERS).await;
        let api = org.owner_api();
        let mut projects = Vec::new();
        for p in 0..BURST_PROJECTS {
            projects.push(api.create_project(&format!("Burst {p}")).await);
        }
        let workspace = api
            .post("/api/workspaces", json!({"title": "Burst"}))
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .unwrap();

        // Eight clients change every member's role once, while each project gets a bulk
        // assignment of 40 members with project roles and the workspace one of everyone.
        let client = reqwest::Client::new();
        let auth = format!("Token {}", org.owner.key);
        let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
        let answered = Arc::new(AtomicUsize::new(0));
        let next = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (client, auth, url) = (
                client.clone(),
                auth.clone(),
                format!("{}{}", node.url, org.path("/memberships")),
            );
            let (members, acknowledged, answered, next) = (
                members.clone(),
                acknowledged.clone(),
                answered.clone(),
                next.clone(),
            );
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    if i >= members.len() {
                        return;
                    }
                    let body = json!({"user_id": members[i], "role": burst_role(i).code()});
                    match fire(&client, reqwest::Method::PATCH, url.clone(), &auth, body).await {
                        Some(200) => {
                            acknowledged.lock().unwrap().push(i);
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(status) => panic!("role change answered {status}"),
                        None => return,
                    }
                }
            }));
        }
        let bulk_acks = Arc::new(std::sync::Mutex::new(Vec::<i64>::new()));
        for (p, project) in projects.iter().enumerate() {
            let chosen: Vec<i64> = members[p * 40..(p + 1) * 40].to_vec();
            let roles: Vec<Value> = chosen
                .iter()
                .map(|u| json!({"user_id": u, "role": "RE"}))
                .collect();
            let body = json!({"all": false, "included": chosen, "roles": roles});
            let url = format!("{}/api/projects/{project}/members/bulk", node.url);
            let (client, auth, acks, project) =
                (client.clone(), auth.clone(), bulk_acks.clone(), *project);
            tasks.push(tokio::spawn(async move {
                if fire(&client, reqwest::Method::POST, url, &auth, body).await == Some(200) {
                    acks.lock().unwrap().push(project);
                }
            }));
        }
        {
            let body = json!({"all": false, "included": members});
            let url = format!("{}/api/workspaces/{workspace}/memberships/bulk", node.url);
            let (client, auth, acks) = (client.clone(), auth.clone(), bulk_acks.clone());
            tasks.push(tokio::spawn(async move {
                if fire(&client, reqwest::Method::POST, url, &auth, body).await == Some(200) {
                    acks.lock().unwrap().push(-workspace);
                }
            }));
        }
        let finished = wait_for(
            point,
            || {
                let answered = answered.clone();
                async move { answered.load(Ordering::SeqCst) as i64 }
            },
            || tasks.iter().all(|t| t.is_finished()),
        )
        .await;
        tally.points += 1;
        tally.finished_first += usize::from(finished);
        node.crash();
        for t in tasks {
            t.await.expect("client task");
        }
        node = Node::start(&server, dir.path()).await;

        // Each member has their old role and no event, or the new one and one event; an
        // acknowledged change is there.
        let acknowledged = acknowledged.lock().unwrap().clone();
        let mut changed = 0;
        for (i, user) in members.iter().enumerate() {
            let role = server
                .sql_rows(
                    &format!("SELECT role FROM memberships WHERE org_id = {o} AND user_id = {user} AND deleted_at IS NULL"),
                    1,
                )
                .await[0][0]
                .text()
                .unwrap()
                .to_string();
            let events = server
                .sql_int(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND action = 'member.role_changed' \
                     AND target_user_id = {user}"
                ))
                .await;
            let target = burst_role(i).code();
            match (role.as_str(), events) {
                ("AN", 0) => assert!(
                    !acknowledged.contains(&i),
                    "{point:?}: acknowledged change of member {i} lost"
                ),
                (r, 1) if r == target => changed += 1,
                other => {
                    panic!("{point:?}: member {i} is half changed: (role, events) = {other:?}")
                }
            }
        }
        assert!(changed >= acknowledged.len());
        tally.part_landed += usize::from(changed > 0 && changed < BURST_MEMBERS);
        // Each bulk assignment is there whole with its events, or not at all.
        let bulk_acks = bulk_acks.lock().unwrap().clone();
        for project in &projects {
            let placed = places(&server, "project_members", "project_id", *project, &tag).await;
            let roles = places(&server, "project_roles", "project_id", *project, &tag).await;
            let events = server
                .sql_int(&format!(
                    "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND action = 'project.member_added' \
                     AND new_value LIKE 'project {project} as %'"
                ))
                .await;
            assert!(
                (placed, roles, events) == (40, 40, 40) || (placed, roles, events) == (0, 0, 0),
                "{point:?}: project {project} half assigned: {placed} places, {roles} roles, {events} events"
            );
            assert!(
                !bulk_acks.contains(project) || placed == 40,
                "{point:?}: acknowledged bulk lost"
            );
        }
        let placed = places(
            &server,
            "workspace_members",
            "workspace_id",
            workspace,
            &tag,
        )
        .await;
        assert!(
            placed == 0 || placed == BURST_MEMBERS as i64,
            "{point:?}: workspace half assigned: {placed}"
        );
        assert!(
            !bulk_acks.contains(&-workspace) || placed > 0,
            "{point:?}: acknowledged workspace bulk lost"
        );
        assert_consistent(&server, &node, &org, &org.owner.key).await;
    }
    tally.report("(b) role changes", started);
}

// ---------------------------------------------------------------------------------------
// (c) A SCIM Bulk request: each operation its own transaction, run in order.

const SCIM_USERS: usize = 160;
/// Every this many users, a PATCH of the Reviewers group adds the even ones among them.
const SCIM_GROUP_EVERY: usize = 40;

/// An organization whose identity provider provisions people of `domain` at once, with
/// the group "Reviewers" mapped to Reviewer (everyone else falls back to Deactivated).
/// Returns the SCIM token and the group's id.
async fn provisioned_org(
    server: &TestServer,
    org: &OrgFixture,
    domain: &str,
    group: &str,
    role: &str,
) -> (String, String) {
    crate::scim::verify(server, org, domain).await;
    let token = org.scim_token().await;
    org.owner_api()
        .post(
            "/api/scim/settings",
            json!({"roles_groups": [[role, group]]}),
        )
        .await
        .expect(200);
    let idp = server.anonymous().with_auth(&format!("Bearer {token}"));
    let gid = idp
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP], "displayName": group, "members": []}),
        )
        .await
        .expect(201)
        .body["id"]
        .as_str()
        .expect("group id")
        .to_string();
    (token, gid)
}

fn scim_bulk_request(domain: &str, group: &str, n: usize, every: usize) -> Value {
    let mut ops = Vec::new();
    for i in 0..n {
        ops.push(
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                        "data": user_body(&format!("u{i}@{domain}"))}),
        );
        if (i + 1) % every == 0 {
            let members: Vec<Value> = (i + 1 - every..=i)
                .filter(|j| j % 2 == 0)
                .map(|j| json!({"value": format!("bulkId:u{j}")}))
                .collect();
            ops.push(
                json!({"method": "PATCH", "path": format!("/Groups/{group}"), "data": {
                    "schemas": [PATCH],
                    "Operations": [{"op": "add", "path": "members", "value": members}]
                }}),
            );
        }
    }
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scim_bulk_request_killed_midway_keeps_every_operation_whole_and_in_order() {
    let Rig {
        started,
        server,
        dir,
        mut node,
        mut tally,
    } = Rig::start().await;
    let points = [
        ms(20),
        CrashPoint::AfterDone(1),
        CrashPoint::AfterDone(50),
        CrashPoint::AfterDone(100),
        CrashPoint::AfterDone(130),
        CrashPoint::AfterDone(159),
    ];
    for (k, point) in points.into_iter().enumerate() {
        let org = server.org(&format!("Scim {k}")).await;
        let o = org.id.0;
        let domain = format!("bulk{k}.example.com");
        let (token, gid) = provisioned_org(&server, &org, &domain, "Reviewers", "Reviewer").await;
        let body = scim_bulk_request(&domain, &gid, SCIM_USERS, SCIM_GROUP_EVERY);
        let url = format!("{}/scim/v2/Bulk", node.url);
        let auth = format!("Bearer {token}");
        let request = {
            let (url, auth, body) = (url.clone(), auth.clone(), body.clone());
            tokio::spawn(async move {
                fire(
                    &reqwest::Client::new(),
                    reqwest::Method::POST,
                    url,
                    &auth,
                    body,
                )
                .await
            })
        };
        let stored = format!("SELECT COUNT(*) FROM scim_users WHERE org_id = {o}");
        let finished = wait_for(point, || server.sql_int(&stored), || request.is_finished()).await;
        tally.points += 1;
        tally.finished_first += usize::from(finished);
        node.crash();
        let _ = request.await;
        node = Node::start(&server, dir.path()).await;

        // The users stored are the first ones of the request, each with its account, its
        // membership and one audit event; the group holds whole PATCHes only, and a member
        // is a Reviewer exactly when the group holds them.
        let names = server
            .sql_rows(
                &format!("SELECT user_name FROM scim_users WHERE org_id = {o}"),
                1,
            )
            .await;
        let mut stored: Vec<usize> = names
            .iter()
            .map(|r| {
                r[0].text().unwrap()[1..]
                    .split('@')
                    .next()
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        stored.sort();
        let n = stored.len();
        tally.part_landed += usize::from(n > 0 && n < SCIM_USERS);
        assert_eq!(
            stored,
            (0..n).collect::<Vec<_>>(),
            "{point:?}: not the first {n} operations"
        );
        let db = &server;
        let count = |sql: String| async move { db.sql_int(&sql).await };
        let joined = count(format!(
            "SELECT COUNT(*) FROM memberships m JOIN scim_users s ON s.user_id = m.user_id AND s.org_id = m.org_id \
             WHERE m.org_id = {o} AND m.deleted_at IS NULL"
        ))
        .await;
        assert_eq!(
            joined as usize, n,
            "{point:?}: SCIM users without their membership"
        );
        let events = count(format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND action = 'member.joined' AND target_email LIKE '%@{domain}'"
        ))
        .await;
        assert_eq!(events as usize, n, "{point:?}: join events");
        let in_group = count(format!(
            "SELECT COUNT(*) FROM scim_group_members WHERE group_id = '{gid}'"
        ))
        .await;
        assert_eq!(
            in_group as usize % (SCIM_GROUP_EVERY / 2),
            0,
            "{point:?}: a group PATCH half applied"
        );
        let mismatched = count(format!(
            "SELECT COUNT(*) FROM memberships m JOIN scim_users s ON s.user_id = m.user_id AND s.org_id = m.org_id \
             WHERE m.org_id = {o} AND m.deleted_at IS NULL AND \
             CASE WHEN m.role = 'RE' THEN 1 ELSE 0 END <> \
             CASE WHEN EXISTS (SELECT 1 FROM scim_group_members g WHERE g.group_id = '{gid}' AND g.user_id = s.id) THEN 1 ELSE 0 END"
        ))
        .await;
        assert_eq!(
            mismatched, 0,
            "{point:?}: group membership and role disagree"
        );
        assert_consistent(&server, &node, &org, &org.owner.key).await;

        // The identity provider sends the request again: what is there answers 409, the
        // rest is created, nobody twice.
        let again = Api::at(&node.url)
            .with_auth(&auth)
            .post("/scim/v2/Bulk", body)
            .await
            .expect(200);
        let conflicts = again.body["Operations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["method"] == json!("POST") && a["status"] == json!("409"))
            .count();
        assert_eq!(conflicts, n, "{point:?}: conflicts on the retry");
        let users = count(format!(
            "SELECT COUNT(*) FROM users WHERE email LIKE '%@{domain}'"
        ))
        .await;
        let members = count(format!(
            "SELECT COUNT(*) FROM scim_users WHERE org_id = {o}"
        ))
        .await;
        assert_eq!(
            (users, members),
            (SCIM_USERS as i64, SCIM_USERS as i64),
            "{point:?}: after the retry"
        );
        assert_consistent(&server, &node, &org, &org.owner.key).await;
    }
    tally.report("(c) SCIM bulk", started);
}

// ---------------------------------------------------------------------------------------
// (d) A change of the group mapping, which re-evaluates every mapped member in one
// transaction.

const MAPPED_MEMBERS: usize = 998;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_change_killed_midway_moves_every_mapped_member_or_none() {
    let Rig {
        started,
        server,
        dir,
        mut node,
        mut tally,
    } = Rig::start().await;
    let org = server.org("Mapped").await;
    let o = org.id.0;
    let domain = "mapped.example.com";
    let (token, gid) = provisioned_org(&server, &org, domain, "Team", "Reviewer").await;
    let idp = server.anonymous().with_auth(&format!("Bearer {token}"));
    let every = MAPPED_MEMBERS;
    let setup = idp
        .post(
            "/scim/v2/Bulk",
            scim_bulk_request(domain, &gid, MAPPED_MEMBERS, every),
        )
        .await
        .expect(200);
    assert!(
        setup.text.matches("\"201\"").count() == MAPPED_MEMBERS,
        "{}",
        setup.text
    );
    let team = (MAPPED_MEMBERS / 2) as i64;
    let mut current = "Reviewer";
    let mut applied = 0;
    for point in [
        ms(1),
        ms(3),
        ms(6),
        ms(10),
        ms(20),
        ms(30),
        ms(50),
        ms(80),
        ms(150),
        ms(300),
        ms(600),
        ms(1200),
        // Once it has answered: an acknowledged change outlives the kill.
        CrashPoint::AfterDone(1),
    ] {
        let next = if current == "Reviewer" {
            "Manager"
        } else {
            "Reviewer"
        };
        let before = server
            .sql_int("SELECT COALESCE(MAX(id), 0) FROM audit_events")
            .await;
        let url = format!("{}/api/scim/settings", node.url);
        let auth = format!("Token {}", org.owner.key);
        let request = tokio::spawn(async move {
            fire(
                &reqwest::Client::new(),
                reqwest::Method::POST,
                url,
                &auth,
                json!({"roles_groups": [[next, "Team"]]}),
            )
            .await
        });
        let answered = || async { i64::from(request.is_finished()) };
        let finished = wait_for(point, answered, || request.is_finished()).await;
        tally.points += 1;
        tally.finished_first += usize::from(finished);
        node.crash();
        let answer = request.await.expect("request task");
        node = Node::start(&server, dir.path()).await;

        // Either the new mapping with every team member moved and one event each, or the
        // old one with nobody moved and no event.
        let settings = node
            .api(&org.owner.key)
            .get("/api/scim/settings")
            .await
            .expect(200)
            .body;
        let mapped = settings["roles_groups"][0][0]
            .as_str()
            .expect("mapped role")
            .to_string();
        let code = |name: &str| if name == "Reviewer" { "RE" } else { "MA" };
        let in_role = server
            .sql_int(&format!(
                "SELECT COUNT(*) FROM memberships WHERE org_id = {o} AND deleted_at IS NULL AND role = '{}'",
                code(&mapped)
            ))
            .await;
        assert_eq!(
            in_role, team,
            "{point:?}: the mapping says {mapped}, the members say otherwise"
        );
        let events = server
            .sql_int(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND id > {before}"
            ))
            .await;
        let moved = server
            .sql_int(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND id > {before} \
                 AND action = 'member.role_changed' AND new_value = '{}'",
                code(next)
            ))
            .await;
        let changed = server
            .sql_int(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE org_id = {o} AND id > {before} \
                 AND action = 'scim.settings_changed'"
            ))
            .await;
        if mapped == next {
            assert_eq!(
                (moved, changed),
                (team, 1),
                "{point:?}: the events of the change"
            );
            current = next;
            applied += 1;
        } else {
            assert_eq!(mapped, current);
            assert_eq!(
                events, 0,
                "{point:?}: events of a change that did not happen"
            );
            assert_eq!(
                answer, None,
                "{point:?}: an acknowledged mapping change was lost"
            );
        }
        assert_consistent(&server, &node, &org, &org.owner.key).await;
    }
    tally.report(&format!("(d) mapping change ({applied} applied)"), started);
}
