//! Driver spike for issue 10 item 6: the same three hot reads and one write, on the store's own
//! schema and data, through
//!   (a)  today's store functions on sqlx `Any` (string SQL built per call, decoded by index),
//!   (a2) sqlx `Any` with the spike's prebuilt SQL and generic decoders (isolates the driver
//!        from the store's per-call SQL building),
//!   (b)  sqlx's typed `SqlitePool` / `PgPool` behind one enum, same query text,
//!   (c)  rusqlite (bundled) on a bounded pool of blocking connections for SQLite
//!        (PostgreSQL stays on (b)).
//!
//! Plain timing: each (alternative, operation, concurrency) runs for `SPIKE_SECS` seconds, the
//! whole grid `SPIKE_REPS` times interleaved so machine load spreads over all alternatives.
//! Allocations are counted by a global allocator wrapper over a single-task run.
//!
//! Environment: `SPIKE_PG_URL` (a database the spike may fill; PostgreSQL is skipped without
//! it), `SPIKE_SECS` (default 2), `SPIKE_REPS` (default 3), `SPIKE_DBS` (default
//! `sqlite,postgres`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use roster_domain::MemberOrder;
use roster_domain::{MembershipId, OrgId, Role, RoleSource, UserId};
use roster_store::members::MemberQuery;
use roster_store::{
    bulk, credentials, members, orgs, users, MemberRow, MembershipRecord, Store, StoreOptions,
    UserRecord,
};
use sqlx::any::AnyPoolOptions;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use sqlx::{AnyPool, ColumnIndex, Decode, Row, Type};
use tokio::sync::Semaphore;

// ---------------------------------------------------------------------------------------------
// Counting allocator: every alloc, alloc_zeroed and realloc on any thread.

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------------------------------------
// The data set.

const MEMBERS: usize = 10_000;
const PAGE: i64 = 100;
/// Read pool size for every alternative (and the PostgreSQL pool); SQLite writes go through one
/// writer connection, as the store does.
const POOL: u32 = 8;
const TASKS: [usize; 2] = [1, 8];
const KEY_HASH: &str = "spike-legacy-key-hash-0000000000000000000000000000000000000000000";

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Res<T> = Result<T, BoxError>;

/// What the operations need to know about the seeded data.
#[derive(Clone)]
struct Fixture {
    org: OrgId,
    /// One Annotator membership per concurrent task, so write tasks never touch the same row
    /// (they still meet on the organization lock and the counters, as real role changes do).
    targets: Arc<Vec<MembershipId>>,
    /// Whether target i is currently a Reviewer (each role change flips it).
    flipped: Arc<Vec<AtomicU8>>,
}

fn seed_role(i: usize) -> Role {
    match i % 100 {
        0..=79 => Role::Annotator,
        80..=89 => Role::Reviewer,
        90..=94 => Role::Manager,
        95..=97 => Role::NotActivated,
        _ => Role::Deactivated,
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// Creates the schema through the store's migrations and seeds one organization with an Owner
/// (who holds a legacy key) and `MEMBERS` members through the store's bulk import functions.
async fn seed(store: &Store) -> Res<Fixture> {
    let t = now();
    let mut tx = store.write().await?;
    let owner = users::insert(
        &mut tx,
        users::NewUser {
            email: "owner@spike.example.com",
            username: "owner@spike.example.com",
            first_name: "Olga",
            last_name: "Owner",
            password_hash: None,
            now: t,
        },
    )
    .await?;
    let org = orgs::insert(
        &mut tx,
        "Spike Org",
        &orgs::StoredInviteToken {
            hash: "spike-invite-hash".into(),
            sealed: "spike-invite-sealed".into(),
        },
        owner,
        t,
    )
    .await?;
    members::insert(
        &mut tx,
        org,
        owner,
        "owner@spike.example.com",
        Role::Owner,
        RoleSource::Manual,
        t,
    )
    .await?;
    users::set_active_org(&mut tx, owner, Some(org)).await?;
    credentials::put_legacy_key(&mut tx, owner, KEY_HASH, "spike-sealed-key", t).await?;

    let emails: Vec<String> = (0..MEMBERS)
        .map(|i| format!("member{i:08}@seed.example.com"))
        .collect();
    let firsts: Vec<String> = (0..MEMBERS).map(|i| format!("First{i}")).collect();
    let lasts: Vec<String> = (0..MEMBERS).map(|i| format!("Last{i}")).collect();
    for start in (0..MEMBERS).step_by(5_000) {
        let range = start..(start + 5_000).min(MEMBERS);
        let imported: Vec<bulk::ImportedUser<'_>> = range
            .clone()
            .map(|i| bulk::ImportedUser {
                email: &emails[i],
                first_name: &firsts[i],
                last_name: &lasts[i],
                active_org: org,
            })
            .collect();
        let ids = bulk::insert_users(&mut tx, &imported, t).await?;
        let rows: Vec<(UserId, &str, Role)> = range
            .map(|i| (ids[&emails[i]], emails[i].as_str(), seed_role(i)))
            .collect();
        bulk::insert_memberships(&mut tx, org, &rows, RoleSource::Invite, t).await?;
    }
    roster_store::commit(tx).await?;
    store.refresh_statistics().await?;

    // Annotators spread through the list, one per task.
    let mut conn = store.read().await?;
    let q = query(org);
    let resolved = members::resolve(&mut conn, &q).await?;
    let mut targets = Vec::new();
    for page in 0..TASKS[1] as i64 {
        // Offset k is member k (the Owner sorts last); k % 100 == 3 is an Annotator.
        let rows = members::list(&mut conn, &resolved, 1, page * 1000 + 3).await?;
        let m = &rows[0].membership;
        assert_eq!(m.role, Role::Annotator, "seed layout changed");
        targets.push(m.id);
    }
    let flipped = targets.iter().map(|_| AtomicU8::new(0)).collect();
    Ok(Fixture {
        org,
        targets: Arc::new(targets),
        flipped: Arc::new(flipped),
    })
}

fn query(org: OrgId) -> MemberQuery {
    MemberQuery {
        org,
        roles: vec![],
        search: None,
        deleted: false,
        order: MemberOrder::Email,
        descending: false,
    }
}

// ---------------------------------------------------------------------------------------------
// One query source: the same text for every driver (copied from the store's column lists).

const USER_COLS: &str = "u.id, u.email, u.username, u.first_name, u.last_name, u.phone, \
     u.password_hash, u.active_org_id, u.date_joined, u.last_activity";
const MEMBERSHIP_COLS: &str =
    "m.id, m.org_id, m.user_id, m.role, m.role_source, m.created_at, m.updated_at, m.deleted_at";
const USER_WIDTH: usize = 10;
const MEMBERSHIP_WIDTH: usize = 8;

static AUTH_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {USER_COLS}, {MEMBERSHIP_COLS} FROM legacy_keys k JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         WHERE k.key_hash = $1 ORDER BY m.org_id"
    )
});
static PAGE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.deleted_at IS NULL ORDER BY m.user_email ASC, m.id ASC LIMIT $2 OFFSET $3"
    )
});
const HEALTH_SQL: &str = "SELECT 1";
const LOCK_ORG_SQL: &str = "UPDATE organizations SET write_seq = write_seq + 1 WHERE id = $1";
const LIVE_ORG_ROLE_SQL: &str =
    "SELECT org_id, role FROM memberships WHERE id = $1 AND deleted_at IS NULL";
const SET_ROLE_SQL: &str =
    "UPDATE memberships SET role = $1, role_source = $2, updated_at = $3 WHERE id = $4";
const BUMP_SQL: &str = "INSERT INTO member_counts (org_id, role, n) VALUES ($1, $2, $3)
     ON CONFLICT (org_id, role) DO UPDATE SET n = member_counts.n + excluded.n";

fn role(code: &str) -> Res<Role> {
    Role::from_code(code).ok_or_else(|| format!("unknown role {code:?}").into())
}

fn role_source(code: &str) -> Res<RoleSource> {
    RoleSource::from_code(code).ok_or_else(|| format!("unknown role source {code:?}").into())
}

// Generic decoders: one body for `AnyRow`, `SqliteRow` and `PgRow`.

fn user<'r, R>(r: &'r R, at: usize) -> Res<UserRecord>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(UserRecord {
        id: UserId(r.try_get(at)?),
        email: r.try_get(at + 1)?,
        username: r.try_get(at + 2)?,
        first_name: r.try_get(at + 3)?,
        last_name: r.try_get(at + 4)?,
        phone: r.try_get(at + 5)?,
        password_hash: r.try_get(at + 6)?,
        active_org: r.try_get::<Option<i64>, _>(at + 7)?.map(OrgId),
        date_joined: r.try_get(at + 8)?,
        last_activity: r.try_get(at + 9)?,
    })
}

fn membership<'r, R>(r: &'r R, at: usize) -> Res<Option<MembershipRecord>>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    let Some(id) = r.try_get::<Option<i64>, _>(at)? else {
        return Ok(None);
    };
    Ok(Some(MembershipRecord {
        id: MembershipId(id),
        org: OrgId(r.try_get(at + 1)?),
        user: UserId(r.try_get(at + 2)?),
        role: role(r.try_get::<&str, _>(at + 3)?)?,
        role_source: role_source(r.try_get::<&str, _>(at + 4)?)?,
        created_at: r.try_get(at + 5)?,
        updated_at: r.try_get(at + 6)?,
        deleted_at: r.try_get(at + 7)?,
    }))
}

type Auth = Option<(UserRecord, Vec<MembershipRecord>)>;

fn auth_rows<'r, R>(rows: &'r [R]) -> Res<Auth>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let u = user(first, 0)?;
    let mut ms = Vec::with_capacity(rows.len());
    for r in rows {
        if let Some(m) = membership(r, USER_WIDTH)? {
            ms.push(m);
        }
    }
    Ok(Some((u, ms)))
}

fn page_rows<'r, R>(rows: &'r [R]) -> Res<Vec<MemberRow>>
where
    R: Row,
    usize: ColumnIndex<R>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    &'r str: Decode<'r, R::Database> + Type<R::Database>,
{
    rows.iter()
        .map(|r| {
            Ok(MemberRow {
                membership: membership(r, 0)?.ok_or("NULL membership")?,
                user: user(r, MEMBERSHIP_WIDTH)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The operations and the alternatives.

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Op {
    Auth,
    MembersPage,
    Health,
    RoleChange,
}

const OPS: [Op; 4] = [Op::Auth, Op::MembersPage, Op::Health, Op::RoleChange];

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Auth => "auth read",
            Op::MembersPage => "members page (100)",
            Op::Health => "health (SELECT 1)",
            Op::RoleChange => "role change (write tx)",
        }
    }
}

/// The role a task's target gets next, flipping between Annotator and Reviewer.
fn next_role(f: &Fixture, slot: usize) -> (MembershipId, Role, Role) {
    let was = f.flipped[slot].fetch_xor(1, Ordering::Relaxed);
    let (old, new) = if was == 0 {
        (Role::Annotator, Role::Reviewer)
    } else {
        (Role::Reviewer, Role::Annotator)
    };
    (f.targets[slot], old, new)
}

/// sqlx pools: the typed pair per database, or `Any` (for a2).
enum Pools {
    Sqlite {
        read: SqlitePool,
        write: SqlitePool,
    },
    Pg(PgPool),
    Any {
        read: AnyPool,
        write: AnyPool,
        sqlite: bool,
    },
}

/// Runs the same block on whichever pool type this is; `$read`/`$write` are bound to the pools
/// and `$sqlite` to whether the database is SQLite (how a write transaction starts).
macro_rules! on_pools {
    ($pools:expr, |$read:ident, $write:ident, $sqlite:ident| $body:block) => {
        match $pools {
            Pools::Sqlite { read, write } => {
                let ($read, $write, $sqlite) = (read, write, true);
                $body
            }
            Pools::Pg(pool) => {
                let ($read, $write, $sqlite) = (pool, pool, false);
                $body
            }
            Pools::Any {
                read,
                write,
                sqlite,
            } => {
                let ($read, $write, $sqlite) = (read, write, *sqlite);
                $body
            }
        }
    };
}

impl Pools {
    async fn run(&self, op: Op, f: &Fixture, slot: usize) -> Res<usize> {
        on_pools!(self, |read, write, sqlite| {
            match op {
                Op::Auth => {
                    let rows = sqlx::query(AUTH_SQL.as_str())
                        .bind(KEY_HASH)
                        .fetch_all(read)
                        .await?;
                    Ok(auth_rows(&rows)?.map_or(0, |(_, ms)| ms.len()))
                }
                Op::MembersPage => {
                    let rows = sqlx::query(PAGE_SQL.as_str())
                        .bind(f.org.0)
                        .bind(PAGE)
                        .bind(0i64)
                        .fetch_all(read)
                        .await?;
                    Ok(page_rows(&rows)?.len())
                }
                Op::Health => {
                    sqlx::query(HEALTH_SQL).execute(read).await?;
                    Ok(1)
                }
                Op::RoleChange => {
                    let (id, _, new) = next_role(f, slot);
                    let mut tx = if sqlite {
                        write.begin_with("BEGIN IMMEDIATE").await?
                    } else {
                        write.begin().await?
                    };
                    sqlx::query(LOCK_ORG_SQL)
                        .bind(f.org.0)
                        .execute(&mut *tx)
                        .await?;
                    let before = sqlx::query(LIVE_ORG_ROLE_SQL)
                        .bind(id.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let before = match &before {
                        Some(r) => Some((r.try_get::<i64, _>(0)?, role(r.try_get::<&str, _>(1)?)?)),
                        None => None,
                    };
                    sqlx::query(SET_ROLE_SQL)
                        .bind(new.code())
                        .bind(RoleSource::Manual.code())
                        .bind(now())
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    if let Some((org, old)) = before.filter(|(_, old)| *old != new) {
                        for (r, d) in [(old, -1i64), (new, 1)] {
                            sqlx::query(BUMP_SQL)
                                .bind(org)
                                .bind(r.code())
                                .bind(d)
                                .execute(&mut *tx)
                                .await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(1)
                }
            }
        })
    }
}

/// SQLite through rusqlite: blocking connections handed to tokio's blocking threads, bounded
/// by a semaphore of the pool's size (one writer connection, as the store has).
struct SyncPool {
    conns: Mutex<Vec<rusqlite::Connection>>,
    permits: Semaphore,
}

impl SyncPool {
    fn open(path: &str, n: usize, cache_kib: u32) -> Res<SyncPool> {
        let mut conns = Vec::new();
        for _ in 0..n {
            let c = rusqlite::Connection::open(path)?;
            c.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
                 PRAGMA synchronous = NORMAL; PRAGMA cache_size = -{cache_kib};"
            ))?;
            c.set_prepared_statement_cache_capacity(100);
            conns.push(c);
        }
        Ok(SyncPool {
            conns: Mutex::new(conns),
            permits: Semaphore::new(n),
        })
    }

    async fn with<T, F>(&self, f: F) -> Res<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut rusqlite::Connection) -> Res<T> + Send + 'static,
    {
        let _permit = self.permits.acquire().await?;
        let mut conn = self
            .conns
            .lock()
            .expect("pool lock")
            .pop()
            .expect("a connection per permit");
        let (conn, out) = tokio::task::spawn_blocking(move || {
            let out = f(&mut conn);
            (conn, out)
        })
        .await?;
        self.conns.lock().expect("pool lock").push(conn);
        out
    }
}

fn rusqlite_user(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(r.get(at)?),
        email: r.get(at + 1)?,
        username: r.get(at + 2)?,
        first_name: r.get(at + 3)?,
        last_name: r.get(at + 4)?,
        phone: r.get(at + 5)?,
        password_hash: r.get(at + 6)?,
        active_org: r.get::<_, Option<i64>>(at + 7)?.map(OrgId),
        date_joined: r.get(at + 8)?,
        last_activity: r.get(at + 9)?,
    })
}

fn rusqlite_membership(r: &rusqlite::Row<'_>, at: usize) -> Res<Option<MembershipRecord>> {
    let Some(id) = r.get::<_, Option<i64>>(at)? else {
        return Ok(None);
    };
    let role_code = r.get_ref(at + 3)?.as_str()?;
    let source_code = r.get_ref(at + 4)?.as_str()?;
    Ok(Some(MembershipRecord {
        id: MembershipId(id),
        org: OrgId(r.get(at + 1)?),
        user: UserId(r.get(at + 2)?),
        role: role(role_code)?,
        role_source: role_source(source_code)?,
        created_at: r.get(at + 5)?,
        updated_at: r.get(at + 6)?,
        deleted_at: r.get(at + 7)?,
    }))
}

struct Rusqlite {
    read: SyncPool,
    write: SyncPool,
}

impl Rusqlite {
    async fn auth(&self) -> Res<Auth> {
        self.read
            .with(|c| {
                let mut st = c.prepare_cached(AUTH_SQL.as_str())?;
                let mut rows = st.query([KEY_HASH])?;
                let mut found: Option<(UserRecord, Vec<MembershipRecord>)> = None;
                while let Some(r) = rows.next()? {
                    if found.is_none() {
                        found = Some((rusqlite_user(r, 0)?, Vec::new()));
                    }
                    if let (Some(m), Some(entry)) =
                        (rusqlite_membership(r, USER_WIDTH)?, found.as_mut())
                    {
                        entry.1.push(m);
                    }
                }
                Ok(found)
            })
            .await
    }

    async fn page(&self, org: OrgId) -> Res<Vec<MemberRow>> {
        self.read
            .with(move |c| {
                let mut st = c.prepare_cached(PAGE_SQL.as_str())?;
                let mut rows = st.query(rusqlite::params![org.0, PAGE, 0i64])?;
                let mut out = Vec::with_capacity(PAGE as usize);
                while let Some(r) = rows.next()? {
                    out.push(MemberRow {
                        membership: rusqlite_membership(r, 0)?.ok_or("NULL membership")?,
                        user: rusqlite_user(r, MEMBERSHIP_WIDTH)?,
                    });
                }
                Ok(out)
            })
            .await
    }

    async fn run(&self, op: Op, f: &Fixture, slot: usize) -> Res<usize> {
        match op {
            Op::Auth => Ok(self.auth().await?.map_or(0, |(_, ms)| ms.len())),
            Op::MembersPage => Ok(self.page(f.org).await?.len()),
            Op::Health => {
                self.read
                    .with(|c| {
                        let mut st = c.prepare_cached(HEALTH_SQL)?;
                        let one: i64 = st.query_row([], |r| r.get(0))?;
                        Ok(one as usize)
                    })
                    .await
            }
            Op::RoleChange => {
                let (id, _, new) = next_role(f, slot);
                let org = f.org;
                self.write
                    .with(move |c| {
                        let tx =
                            c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
                        tx.prepare_cached(LOCK_ORG_SQL)?.execute([org.0])?;
                        let before: Option<(i64, Role)> = {
                            let mut st = tx.prepare_cached(LIVE_ORG_ROLE_SQL)?;
                            let mut rows = st.query([id.0])?;
                            let found = match rows.next()? {
                                Some(r) => Some((r.get(0)?, role(r.get_ref(1)?.as_str()?)?)),
                                None => None,
                            };
                            found
                        };
                        tx.prepare_cached(SET_ROLE_SQL)?.execute(rusqlite::params![
                            new.code(),
                            RoleSource::Manual.code(),
                            now(),
                            id.0
                        ])?;
                        if let Some((org, old)) = before.filter(|(_, old)| *old != new) {
                            let mut bump = tx.prepare_cached(BUMP_SQL)?;
                            bump.execute(rusqlite::params![org, old.code(), -1i64])?;
                            bump.execute(rusqlite::params![org, new.code(), 1i64])?;
                        }
                        tx.commit()?;
                        Ok(1)
                    })
                    .await
            }
        }
    }
}

/// (a): today's store functions, unchanged.
async fn run_store(store: &Store, op: Op, f: &Fixture, slot: usize) -> Res<usize> {
    match op {
        Op::Auth => {
            let mut conn = store.read().await?;
            let found = credentials::user_by_legacy_hash(&mut conn, KEY_HASH).await?;
            Ok(found.map_or(0, |(_, ms)| ms.len()))
        }
        Op::MembersPage => {
            let mut conn = store.read().await?;
            let q = query(f.org);
            let resolved = members::resolve(&mut conn, &q).await?;
            Ok(members::list(&mut conn, &resolved, PAGE, 0).await?.len())
        }
        Op::Health => {
            store.ping().await?;
            Ok(1)
        }
        Op::RoleChange => {
            let (id, _, new) = next_role(f, slot);
            let mut tx = store.write().await?;
            orgs::lock_for_membership_change(&mut tx, f.org).await?;
            members::set_role(&mut tx, id, new, RoleSource::Manual, now()).await?;
            roster_store::commit(tx).await?;
            Ok(1)
        }
    }
}

enum Alt {
    Store(Store),
    Sqlx(Pools),
    Rusqlite(Rusqlite),
}

impl Alt {
    async fn run(&self, op: Op, f: &Fixture, slot: usize) -> Res<usize> {
        match self {
            Alt::Store(s) => run_store(s, op, f, slot).await,
            Alt::Sqlx(p) => p.run(op, f, slot).await,
            Alt::Rusqlite(r) => r.run(op, f, slot).await,
        }
    }

    /// The two reads' full results, to check every alternative returns the same records.
    async fn results(&self, f: &Fixture) -> Res<(Auth, Vec<MemberRow>)> {
        match self {
            Alt::Store(s) => {
                let mut conn = s.read().await?;
                let auth = credentials::user_by_legacy_hash(&mut conn, KEY_HASH).await?;
                let q = query(f.org);
                let resolved = members::resolve(&mut conn, &q).await?;
                Ok((auth, members::list(&mut conn, &resolved, PAGE, 0).await?))
            }
            Alt::Sqlx(p) => on_pools!(p, |read, _w, _s| {
                let rows = sqlx::query(AUTH_SQL.as_str())
                    .bind(KEY_HASH)
                    .fetch_all(read)
                    .await?;
                let auth = auth_rows(&rows)?;
                let rows = sqlx::query(PAGE_SQL.as_str())
                    .bind(f.org.0)
                    .bind(PAGE)
                    .bind(0i64)
                    .fetch_all(read)
                    .await?;
                Ok((auth, page_rows(&rows)?))
            }),
            Alt::Rusqlite(r) => Ok((r.auth().await?, r.page(f.org).await?)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// Operations per second with `tasks` tasks looping for `secs`.
async fn throughput(alt: &Arc<Alt>, f: &Fixture, op: Op, tasks: usize, secs: f64) -> Res<f64> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    let started = Instant::now();
    for slot in 0..tasks {
        let (alt, f, stop) = (alt.clone(), f.clone(), stop.clone());
        handles.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let got = alt.run(op, &f, slot).await?;
                debug_assert!(got > 0);
                n += 1;
            }
            Ok::<u64, BoxError>(n)
        }));
    }
    tokio::time::sleep(Duration::from_secs_f64(secs)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for h in handles {
        total += h.await??;
    }
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// Allocations per operation, one task, after a warm-up that fills statement caches.
async fn allocs_per_op(alt: &Alt, f: &Fixture, op: Op) -> Res<f64> {
    for _ in 0..200 {
        alt.run(op, f, 0).await?;
    }
    let n = 2_000u64;
    let before = ALLOCS.load(Ordering::Relaxed);
    for _ in 0..n {
        alt.run(op, f, 0).await?;
    }
    Ok((ALLOCS.load(Ordering::Relaxed) - before) as f64 / n as f64)
}

struct Named {
    name: &'static str,
    alt: Arc<Alt>,
}

async fn alternatives(
    db: &str,
    url: &str,
    store: &Store,
    sqlite_path: Option<&str>,
) -> Res<Vec<Named>> {
    let mut out = vec![Named {
        name: "(a) Any, store fns",
        alt: Arc::new(Alt::Store(store.clone())),
    }];
    let any = |max: u32| AnyPoolOptions::new().max_connections(max);
    if db == "sqlite" {
        // Pragmas as the store sets them (WAL is already on in the file).
        let pragmas = |cache: &str| -> Res<SqliteConnectOptions> {
            Ok(SqliteConnectOptions::from_str(url)?
                .journal_mode(SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                .pragma("cache_size", cache.to_string()))
        };
        let any_pragmas =
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
             PRAGMA synchronous = NORMAL; PRAGMA cache_size = -2048;";
        let any_read = any(POOL)
            .after_connect(move |c, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(c, any_pragmas).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        let any_write = any(1)
            .after_connect(move |c, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(c, any_pragmas).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        out.push(Named {
            name: "(a2) Any, spike SQL",
            alt: Arc::new(Alt::Sqlx(Pools::Any {
                read: any_read,
                write: any_write,
                sqlite: true,
            })),
        });
        let read = SqlitePoolOptions::new()
            .max_connections(POOL)
            .connect_with(pragmas("-2048")?)
            .await?;
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(pragmas("-131072")?)
            .await?;
        out.push(Named {
            name: "(b) typed sqlx",
            alt: Arc::new(Alt::Sqlx(Pools::Sqlite { read, write })),
        });
        let path = sqlite_path.ok_or("no sqlite path")?;
        out.push(Named {
            name: "(c) rusqlite pool",
            alt: Arc::new(Alt::Rusqlite(Rusqlite {
                read: SyncPool::open(path, POOL as usize, 2048)?,
                write: SyncPool::open(path, 1, 128 * 1024)?,
            })),
        });
    } else {
        let p = any(POOL).connect(url).await?;
        out.push(Named {
            name: "(a2) Any, spike SQL",
            alt: Arc::new(Alt::Sqlx(Pools::Any {
                read: p.clone(),
                write: p,
                sqlite: false,
            })),
        });
        let pg = PgPoolOptions::new()
            .max_connections(POOL)
            .connect(url)
            .await?;
        out.push(Named {
            name: "(b) typed sqlx",
            alt: Arc::new(Alt::Sqlx(Pools::Pg(pg))),
        });
    }
    Ok(out)
}

type Key = (&'static str, &'static str, Op, usize);

async fn run_db(
    db: &'static str,
    url: &str,
    sqlite_path: Option<&str>,
    secs: f64,
    reps: usize,
) -> Res<String> {
    let store = Store::open(&StoreOptions {
        url: url.to_string(),
        max_connections: POOL,
        sqlite_full_sync: false,
    })
    .await?;
    let started = Instant::now();
    let f = seed(&store).await?;
    eprintln!(
        "{db}: seeded {MEMBERS} members in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let alts = alternatives(db, url, &store, sqlite_path).await?;

    // Every alternative reads the same records.
    let expected = alts[0].alt.results(&f).await?;
    assert_eq!(expected.1.len(), PAGE as usize);
    assert!(expected.0.is_some());
    for a in &alts[1..] {
        let got = a.alt.results(&f).await?;
        assert!(
            got == expected,
            "{} reads different records on {db}",
            a.name
        );
    }
    eprintln!("{db}: all alternatives return identical auth and page records");

    let mut allocs: BTreeMap<(&str, Op), f64> = BTreeMap::new();
    for a in &alts {
        for op in OPS {
            allocs.insert((a.name, op), allocs_per_op(&a.alt, &f, op).await?);
        }
    }

    let mut rates: BTreeMap<Key, Vec<f64>> = BTreeMap::new();
    for rep in 0..reps {
        for a in &alts {
            for op in OPS {
                for tasks in TASKS {
                    let r = throughput(&a.alt, &f, op, tasks, secs).await?;
                    eprintln!(
                        "{db} rep {rep} {:<22} {:<24} {tasks} task(s): {r:>9.0} op/s",
                        a.name,
                        op.name()
                    );
                    rates.entry((db, a.name, op, tasks)).or_default().push(r);
                }
            }
        }
    }

    let mut md = String::new();
    md.push_str(&format!(
        "\n### {db}\n\n| operation | alternative | op/s, 1 task | op/s, 8 tasks | allocs/op |\n|---|---|---:|---:|---:|\n"
    ));
    for op in OPS {
        for a in &alts {
            let cell = |tasks: usize| {
                let mut v = rates[&(db, a.name, op, tasks)].clone();
                v.sort_by(f64::total_cmp);
                format!("{:.0} ({:.0}–{:.0})", v[v.len() / 2], v[0], v[v.len() - 1])
            };
            md.push_str(&format!(
                "| {} | {} | {} | {} | {:.1} |\n",
                op.name(),
                a.name,
                cell(1),
                cell(8),
                allocs[&(a.name, op)]
            ));
        }
    }
    store.close().await;
    Ok(md)
}

fn main() -> Res<()> {
    let secs: f64 = std::env::var("SPIKE_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let reps: usize = std::env::var("SPIKE_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let dbs = std::env::var("SPIKE_DBS").unwrap_or_else(|_| "sqlite,postgres".into());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    sqlx::any::install_default_drivers();
    let mut report = format!(
        "{MEMBERS} members, page {PAGE}, pools of {POOL} (SQLite: + 1 writer), {secs} s per cell, {reps} runs: median (min–max)\n"
    );
    if dbs.contains("sqlite") {
        let dir = std::env::temp_dir().join(format!("roster-driver-spike-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let path = dir.join("spike.db");
        let path_s = path.to_str().ok_or("temp path is not UTF-8")?.to_string();
        let url = format!("sqlite://{path_s}?mode=rwc");
        let md = rt.block_on(run_db("sqlite", &url, Some(&path_s), secs, reps));
        std::fs::remove_dir_all(&dir).ok();
        report.push_str(&md?);
    }
    if dbs.contains("postgres") {
        match std::env::var("SPIKE_PG_URL") {
            Ok(url) => {
                // A clean schema each run: the spike owns this database.
                rt.block_on(async {
                    let mut c = <sqlx::PgConnection as sqlx::Connection>::connect(&url).await?;
                    sqlx::raw_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
                        .execute(&mut c)
                        .await?;
                    Ok::<(), BoxError>(())
                })?;
                report.push_str(&rt.block_on(run_db("postgres", &url, None, secs, reps))?);
            }
            Err(_) => eprintln!("SPIKE_PG_URL not set: PostgreSQL skipped"),
        }
    }
    println!("{report}");
    Ok(())
}
