//! Connecting, the two backends' few differences, and the two kinds of handle: a [`ReadConn`]
//! that can only read and a [`WriteTx`] that is the only way to write.
//!
//! SQLite runs through rusqlite: a bounded set of read-only connections and one writer
//! connection. A read's statement is handed to a blocking thread with its decoding (the driver
//! spike in `bench/driver-spike/RESULTS.md` measured why); inside a write transaction, which
//! already holds the write lock, statements run where they are called (see
//! [`SqliteLease::statement`]). PostgreSQL runs through sqlx's
//! typed pools: one whose connections are read-only, one for write transactions.
//!
//! A write cannot compile on a read connection: write queries take `&mut WriteTx`, which only
//! [`Store::write`] makes.
//!
//! ```compile_fail
//! # async fn f(store: roster_store::Store) -> roster_store::Result<()> {
//! let mut read = store.read().await?;
//! roster_store::users::set_password(&mut read, roster_domain::UserId(1), "x").await?;
//! # Ok(()) }
//! ```
//!
//! The same call on a write transaction compiles:
//!
//! ```
//! # async fn f(store: roster_store::Store) -> roster_store::Result<()> {
//! let mut tx = store.write().await?;
//! roster_store::users::set_password(&mut tx, roster_domain::UserId(1), "x").await?;
//! tx.commit().await?;
//! # Ok(()) }
//! ```

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor, PgPool, Postgres};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::sql::{self, Decode, Query};
use crate::{migrate, Result, StoreError};

/// Any handle reads can run on: a [`ReadConn`] or a [`WriteTx`] (a write transaction reads
/// what it is about to change).
pub type Conn = dyn Reads + Send;

/// A handle that can read. Sealed: only [`ReadConn`] and [`WriteTx`] are.
pub trait Reads: sealed::Sealed {}

mod sealed {
    pub trait Sealed {
        fn handle(&mut self) -> &mut super::Handle;
    }
}

impl Reads for ReadConn {}
impl Reads for WriteTx {}

impl sealed::Sealed for ReadConn {
    fn handle(&mut self) -> &mut Handle {
        &mut self.handle
    }
}

impl sealed::Sealed for WriteTx {
    fn handle(&mut self) -> &mut Handle {
        &mut self.handle
    }
}

/// The raw handle behind a `ReadConn` or `WriteTx`; the store's query functions reach it
/// through [`handle`].
pub enum Handle {
    Sqlite(SqliteLease),
    PgConn(PoolConnection<Postgres>),
    PgTx(sqlx::Transaction<'static, Postgres>),
    /// What a committed transaction leaves behind.
    Spent,
}

/// The handle of anything that reads.
pub(crate) fn handle(c: &mut Conn) -> &mut Handle {
    sealed::Sealed::handle(c)
}

impl Handle {
    /// Every row of `q`.
    pub(crate) async fn fetch_all<T: Send + 'static>(
        &mut self,
        q: Query,
        decode: impl Decode<T>,
    ) -> Result<Vec<T>> {
        self.rows(q, usize::MAX, decode).await
    }

    /// The first row of `q`, if any.
    pub(crate) async fn fetch_optional<T: Send + 'static>(
        &mut self,
        q: Query,
        decode: impl Decode<T>,
    ) -> Result<Option<T>> {
        Ok(self.rows(q, 1, decode).await?.pop())
    }

    /// The first row of `q`, which must exist (an aggregate, an insert's `RETURNING`).
    pub(crate) async fn fetch_one<T: Send + 'static>(
        &mut self,
        q: Query,
        decode: impl Decode<T>,
    ) -> Result<T> {
        self.fetch_optional(q, decode)
            .await?
            .ok_or_else(|| StoreError::Query("the statement returned no row".into()))
    }

    async fn rows<T: Send + 'static>(
        &mut self,
        q: Query,
        max: usize,
        decode: impl Decode<T>,
    ) -> Result<Vec<T>> {
        match self {
            Handle::Sqlite(lease) => {
                lease
                    .statement(move |c| sql::sqlite_rows(c, &q, max, &decode))
                    .await
            }
            Handle::PgConn(c) => sql::pg_rows(c, &q, max, decode).await,
            Handle::PgTx(tx) => sql::pg_rows(tx, &q, max, decode).await,
            Handle::Spent => Err(StoreError::Closed),
        }
    }

    /// Runs a statement that returns no rows; returns how many rows it changed.
    pub(crate) async fn execute(&mut self, q: Query) -> Result<u64> {
        match self {
            Handle::Sqlite(lease) => lease.statement(move |c| sql::sqlite_execute(c, &q)).await,
            Handle::PgConn(c) => sql::pg_execute(c, &q).await,
            Handle::PgTx(tx) => sql::pg_execute(tx, &q).await,
            Handle::Spent => Err(StoreError::Closed),
        }
    }

    /// Runs several statements with no values (migrations, settings).
    pub(crate) async fn batch(&mut self, statements: String) -> Result<()> {
        match self {
            Handle::Sqlite(lease) => lease.run(move |c| Ok(c.execute_batch(&statements)?)).await,
            Handle::PgConn(c) => {
                sqlx::raw_sql(&statements).execute(&mut **c).await?;
                Ok(())
            }
            Handle::PgTx(tx) => {
                sqlx::raw_sql(&statements).execute(&mut **tx).await?;
                Ok(())
            }
            Handle::Spent => Err(StoreError::Closed),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The database's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }

    /// The database a handle talks to, for the few queries spelled differently per database.
    pub(crate) fn of(c: &mut Conn) -> Backend {
        match handle(c) {
            Handle::Sqlite(_) => Backend::Sqlite,
            Handle::PgConn(_) | Handle::PgTx(_) | Handle::Spent => Backend::Postgres,
        }
    }
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://PATH` (`?mode=rwc` creates the file) or `postgres://...`.
    pub url: String,
    /// Read connections (and on PostgreSQL, write connections too).
    pub max_connections: u32,
    /// SQLite only: `FULL` makes every commit survive power loss, `NORMAL` (default in WAL
    /// mode) survives a killed process.
    pub sqlite_full_sync: bool,
}

/// The database handle every service call goes through.
#[derive(Clone)]
pub struct Store {
    pools: Arc<Pools>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish()
    }
}

enum Pools {
    Sqlite {
        readers: Arc<SqliteReaders>,
        writer: SqliteWriter,
        /// The "in use" lock file, locked shared while the store is open (`backup.rs`).
        in_use: Mutex<Option<std::fs::File>>,
    },
    Postgres {
        /// Its connections refuse writes (`default_transaction_read_only`).
        read: PgPool,
        write: PgPool,
        /// The connection that holds the "in use" advisory lock, shared (`backup.rs`).
        in_use: tokio::sync::Mutex<Option<sqlx::PgConnection>>,
    },
}

/// How long a caller waits for a connection before the request fails.
const READ_WAIT: Duration = Duration::from_secs(10);
/// SQLite writers queue for the one writer connection; a bulk import can hold it a while.
const WRITE_WAIT: Duration = Duration::from_secs(30);

impl Store {
    /// Connects and applies pending migrations.
    pub async fn open(opts: &StoreOptions) -> Result<Store> {
        let store = Store::connect(opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(opts: &StoreOptions) -> Result<Store> {
        let pools = if let Some(rest) = opts.url.strip_prefix("sqlite:") {
            let (path, create) = sqlite_path(rest)?;
            let in_use = crate::backup::hold_sqlite(&path)?;
            let full = opts.sqlite_full_sync;
            let writer = tokio::task::spawn_blocking(move || open_writer(path, create, full))
                .await
                .map_err(|e| StoreError::Config(format!("opening SQLite: {e}")))??;
            Pools::Sqlite {
                readers: Arc::new(SqliteReaders {
                    path: writer.path.clone(),
                    full_sync: full,
                    idle: Mutex::new(Vec::new()),
                    permits: Arc::new(Semaphore::new(opts.max_connections.max(1) as usize)),
                    open: std::sync::atomic::AtomicU32::new(0),
                    inline_reads: AtomicU64::new(0),
                    moved_reads: AtomicU64::new(0),
                }),
                writer,
                in_use: Mutex::new(Some(in_use)),
            }
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            let mut conn_opts: PgConnectOptions = opts
                .url
                .parse()
                .map_err(|e| StoreError::Config(format!("DATABASE_URL is not valid: {e}")))?;
            // roster's reads are index lookups in a working set the server keeps cached. With
            // PostgreSQL's default random_page_cost (4, for spinning disks) the planner joins a
            // members page to `memberships` by scanning the whole table of an organization of
            // 10,000 (3.6 ms a page) instead of looking its 100 rows up (0.6 ms). 1.1 is the
            // usual setting for SSDs and cached data; a URL that sets it itself
            // (`?options=-c random_page_cost=...`) keeps its own.
            if !opts.url.contains("random_page_cost") {
                conn_opts = conn_opts.options([("random_page_cost", "1.1")]);
            }
            let read = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(READ_WAIT)
                .after_connect(|c, _| {
                    Box::pin(async move {
                        c.execute("SET default_transaction_read_only = on").await?;
                        Ok(())
                    })
                })
                .connect_with(conn_opts.clone())
                .await?;
            let in_use = crate::backup::hold_postgres(&conn_opts).await?;
            let write = PgPoolOptions::new()
                .max_connections(opts.max_connections)
                .acquire_timeout(READ_WAIT)
                .connect_with(conn_opts)
                .await?;
            Pools::Postgres {
                read,
                write,
                in_use: tokio::sync::Mutex::new(Some(in_use)),
            }
        } else {
            return Err(StoreError::Config(format!(
                "DATABASE_URL must start with sqlite: or postgres:, got {:?}",
                opts.url.split(':').next().unwrap_or("")
            )));
        };
        Ok(Store {
            pools: Arc::new(pools),
        })
    }

    pub fn backend(&self) -> Backend {
        match *self.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Applies pending migrations; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        migrate::run(self).await
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<ReadConn> {
        let handle = match &*self.pools {
            Pools::Sqlite { readers, .. } => Handle::Sqlite(readers.acquire().await?),
            Pools::Postgres { read, .. } => Handle::PgConn(read.acquire().await?),
        };
        Ok(ReadConn { handle })
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes never fails half-way.
    pub async fn write(&self) -> Result<WriteTx> {
        let handle = match &*self.pools {
            Pools::Sqlite { writer, .. } => {
                let lease = writer.acquire().await?;
                lease
                    .run(|c| {
                        // A transaction whose owner was cancelled mid-statement may still be
                        // open; it never committed, so it is rolled back here.
                        if !c.is_autocommit() {
                            c.execute_batch("ROLLBACK")?;
                        }
                        Ok(c.execute_batch("BEGIN IMMEDIATE")?)
                    })
                    .await?;
                Handle::Sqlite(lease)
            }
            Pools::Postgres { write, .. } => Handle::PgTx(write.begin().await?),
        };
        Ok(WriteTx { handle, open: true })
    }

    /// One round trip to the database, for the health endpoint.
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.read().await?;
        handle(&mut c)
            .fetch_one(sql::query("SELECT 1"), |r| r.int(0))
            .await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics after a bulk load. PostgreSQL's autovacuum
    /// would get there within minutes, but until then its plans for the grown tables are made
    /// for the old sizes (a search of a million members then takes seconds, not milliseconds).
    pub async fn refresh_statistics(&self) -> Result<()> {
        let sql = match self.backend() {
            Backend::Postgres => {
                "ANALYZE users; ANALYZE memberships; ANALYZE audit_events; ANALYZE projects; \
                 ANALYZE project_members; ANALYZE workspaces; ANALYZE workspace_members; \
                 ANALYZE member_tag_assignments;"
            }
            Backend::Sqlite => "PRAGMA analysis_limit = 1000; PRAGMA optimize;",
        };
        // PostgreSQL runs ANALYZE outside a transaction block as well as inside one.
        let mut tx = self.write().await?;
        tx.handle.batch(sql.to_string()).await?;
        tx.commit().await
    }

    /// Refreshes the planner's statistics for member tag assignments after a change that
    /// touched many of them at once. Until then the planner takes a tag held by most of an
    /// organization for the rare tag it was, and reads the whole organization through it
    /// (seconds at a million members, not milliseconds). Sampled on both databases.
    /// Served from request handlers, so its future must be `Send`: `batch` is not (sqlx's
    /// `raw_sql`), hence one prepared statement on PostgreSQL and rusqlite's batch on SQLite.
    pub async fn refresh_tag_statistics(&self) -> Result<()> {
        let mut tx = self.write().await?;
        match &mut tx.handle {
            Handle::Sqlite(lease) => {
                lease
                    .run(|c| {
                        Ok(c.execute_batch(
                            "PRAGMA analysis_limit = 1000; ANALYZE member_tag_assignments;",
                        )?)
                    })
                    .await?
            }
            handle => {
                handle
                    .execute(sql::query("ANALYZE member_tag_assignments"))
                    .await?;
            }
        }
        tx.commit().await
    }

    /// Connections that can write (SQLite: one, always).
    pub fn writer_connections(&self) -> u32 {
        match &*self.pools {
            Pools::Sqlite { .. } => 1,
            Pools::Postgres { write, .. } => write.size(),
        }
    }

    /// Read-pool statistics: (connections open, idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        match &*self.pools {
            Pools::Sqlite { readers, .. } => (
                readers.open.load(Ordering::Relaxed),
                readers
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .len(),
            ),
            Pools::Postgres { read, .. } => (read.size(), read.num_idle()),
        }
    }

    /// SQLite reads that finished on the async worker and reads moved to a blocking thread
    /// after [`INLINE_READ_STEPS`] (None on PostgreSQL, whose driver never blocks).
    pub fn read_routing(&self) -> Option<(u64, u64)> {
        match &*self.pools {
            Pools::Sqlite { readers, .. } => Some((
                readers.inline_reads.load(Ordering::Relaxed),
                readers.moved_reads.load(Ordering::Relaxed),
            )),
            Pools::Postgres { .. } => None,
        }
    }

    /// The heap SQLite holds now and the most it held since start, in bytes, over all of the
    /// process's connections (page caches, prepared statements, sorters); None on PostgreSQL.
    /// Beside the resident set it tells how much of the process's memory is SQLite's.
    pub fn sqlite_heap(&self) -> Option<(i64, i64)> {
        match &*self.pools {
            // SAFETY: both functions read SQLite's global memory counters under its own mutex
            // (the bundled build is threadsafe) and take no pointers.
            Pools::Sqlite { .. } => Some(unsafe {
                (
                    rusqlite::ffi::sqlite3_memory_used(),
                    rusqlite::ffi::sqlite3_memory_highwater(0),
                )
            }),
            Pools::Postgres { .. } => None,
        }
    }

    /// Closes the connections and lets go of the "in use" lock, so that a restore may run.
    pub async fn close(&self) {
        match &*self.pools {
            Pools::Sqlite {
                readers,
                writer,
                in_use,
            } => {
                in_use.lock().unwrap_or_else(PoisonError::into_inner).take();
                readers.permits.close();
                writer.permit.close();
                readers
                    .idle
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .clear();
            }
            Pools::Postgres {
                read,
                write,
                in_use,
            } => {
                if let Some(c) = in_use.lock().await.take() {
                    let _ = sqlx::Connection::close(c).await;
                }
                read.close().await;
                write.close().await;
            }
        }
    }
}

/// A connection that can only read. Dropping it returns it to its pool.
pub struct ReadConn {
    handle: Handle,
}

/// An open write transaction: the only handle writes compile on. Dropping it without
/// [`WriteTx::commit`] rolls it back.
pub struct WriteTx {
    handle: Handle,
    open: bool,
}

impl WriteTx {
    pub async fn commit(mut self) -> Result<()> {
        match &mut self.handle {
            Handle::Sqlite(lease) => lease.run(|c| Ok(c.execute_batch("COMMIT")?)).await?,
            Handle::PgTx(_) => {
                if let Handle::PgTx(tx) = std::mem::replace(&mut self.handle, Handle::Spent) {
                    tx.commit().await?;
                }
            }
            Handle::PgConn(_) | Handle::Spent => return Err(StoreError::Closed),
        }
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        // PostgreSQL: sqlx rolls its transaction back when dropped. SQLite: roll back on a
        // blocking thread, holding the writer until done so the next writer starts clean.
        if let (true, Handle::Sqlite(lease)) = (self.open, &mut self.handle) {
            let lease = std::mem::replace(lease, SqliteLease::spent());
            let rollback = move || {
                if let Some(conn) = &lease.conn {
                    let c = conn.lock().unwrap_or_else(PoisonError::into_inner);
                    if !c.is_autocommit() {
                        if let Err(e) = c.execute_batch("ROLLBACK") {
                            tracing::warn!(error = %e, "rolling back an abandoned write failed");
                        }
                    }
                }
                drop(lease);
            };
            match tokio::runtime::Handle::try_current() {
                Ok(rt) => {
                    rt.spawn_blocking(rollback);
                }
                Err(_) => rollback(),
            }
        }
    }
}

/// Commits a write transaction.
pub async fn commit(tx: WriteTx) -> Result<()> {
    tx.commit().await
}

// ---- SQLite connections ---------------------------------------------------------------

/// Page cache of SQLite's one writer connection. Bulk imports touch every index at scattered
/// places; with a small cache they re-read pages from the OS and spill dirty pages
/// mid-transaction. Measured on 1,000,000 members: 55 s with 64 MiB, 50 s with 128 MiB.
/// SQLite fills a cache only as pages are used, so a server pays for it only after large
/// writes.
const WRITER_CACHE_KIB: u32 = 128 * 1024;

/// Page cache of each read connection: SQLite's default. The operating system's file cache
/// holds the rest of a hot database anyway.
const READER_CACHE_KIB: u32 = 2 * 1024;

/// Prepared statements kept per connection (the store has about a hundred queries).
const STATEMENT_CACHE: usize = 256;

/// How many SQLite virtual-machine steps a read may take on the async worker before it is
/// stopped and run again on a blocking thread. Handing every read to a blocking thread cost
/// the health check, whoami and the members page more than their queries did (two thread
/// wake-ups a statement, bench/profiles/README.md); most reads are index lookups that finish
/// in a few thousand steps. A deep offset scan or a broad count runs into millions, and on
/// the worker it would stall every other request sharing it, so it is stopped after this
/// many steps (well under a millisecond) and moved. A first page of 100 members takes about
/// 25,000 steps.
const INLINE_READ_STEPS: i32 = 100_000;

/// The states of a read connection's progress handler (see [`INLINE_READ_STEPS`]).
const RUN_TO_END: u8 = 0;
const INLINE: u8 = 1;
const STOPPED: u8 = 2;

/// `sqlite://PATH?mode=rwc` or `sqlite:PATH`: the file and whether to create it.
pub(crate) fn sqlite_path(rest: &str) -> Result<(PathBuf, bool)> {
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    let mut create = false;
    for param in params.split('&').filter(|p| !p.is_empty()) {
        match param {
            "mode=rwc" => create = true,
            "mode=rw" => create = false,
            other => {
                return Err(StoreError::Config(format!(
                    "unsupported SQLite URL option {other:?} (roster knows mode=rwc and mode=rw)"
                )))
            }
        }
    }
    if path.is_empty() || path == ":memory:" || path.starts_with("file::memory:") {
        return Err(StoreError::Config(
            "SQLite needs a file: roster's readers and writer are separate connections".into(),
        ));
    }
    Ok((PathBuf::from(path), create))
}

/// Per-connection settings: a busy timeout for other processes (the CLI) holding the lock,
/// enforced foreign keys, the chosen sync and the page cache size. WAL (set by the writer,
/// stored in the file) lets readers read while the writer writes.
fn configure(c: &Connection, full_sync: bool, cache_kib: u32) -> Result<()> {
    let sync = if full_sync { "FULL" } else { "NORMAL" };
    c.execute_batch(&format!(
        "PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
         PRAGMA synchronous = {sync}; PRAGMA cache_size = -{cache_kib};"
    ))?;
    c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    rusqlite::vtab::array::load_module(c)?;
    Ok(())
}

fn open_writer(path: PathBuf, create: bool, full_sync: bool) -> Result<SqliteWriter> {
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let c = Connection::open_with_flags(&path, flags)?;
    c.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))?;
    configure(&c, full_sync, WRITER_CACHE_KIB)?;
    Ok(SqliteWriter {
        path,
        conn: Arc::new(Mutex::new(c)),
        permit: Arc::new(Semaphore::new(1)),
    })
}

/// SQLite allows one writer at a time: one connection, taken in turn, so writers queue in
/// process instead of colliding on the file lock.
struct SqliteWriter {
    path: PathBuf,
    conn: Arc<Mutex<Connection>>,
    permit: Arc<Semaphore>,
}

impl SqliteWriter {
    async fn acquire(&self) -> Result<SqliteLease> {
        let permit = tokio::time::timeout(WRITE_WAIT, self.permit.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Timeout("the SQLite writer"))?
            .map_err(|_| StoreError::Closed)?;
        Ok(SqliteLease {
            conn: Some(self.conn.clone()),
            mode: None,
            home: None,
            _permit: Some(permit),
        })
    }
}

/// The read-only connections: at most as many as the pool size, opened as needed.
struct SqliteReaders {
    path: PathBuf,
    full_sync: bool,
    idle: Mutex<Vec<ReaderSlot>>,
    permits: Arc<Semaphore>,
    open: std::sync::atomic::AtomicU32,
    /// Reads that finished on the async worker, and reads moved to a blocking thread.
    inline_reads: AtomicU64,
    moved_reads: AtomicU64,
}

/// A read connection and the switch its progress handler reads: while a statement runs on
/// the async worker the handler stops it after [`INLINE_READ_STEPS`]; on a blocking thread
/// it lets it run to the end.
#[derive(Clone)]
struct ReaderSlot {
    conn: Arc<Mutex<Connection>>,
    mode: Arc<AtomicU8>,
}

impl SqliteReaders {
    async fn acquire(self: &Arc<Self>) -> Result<SqliteLease> {
        let permit = tokio::time::timeout(READ_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| StoreError::Timeout("a SQLite read connection"))?
            .map_err(|_| StoreError::Closed)?;
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let slot = match idle {
            Some(slot) => slot,
            None => {
                let (path, full) = (self.path.clone(), self.full_sync);
                let mode = Arc::new(AtomicU8::new(RUN_TO_END));
                let switch = mode.clone();
                let c = tokio::task::spawn_blocking(move || -> Result<Connection> {
                    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                    let c = Connection::open_with_flags(path, flags)?;
                    configure(&c, full, READER_CACHE_KIB)?;
                    c.progress_handler(
                        INLINE_READ_STEPS,
                        Some(move || match switch.load(Ordering::Relaxed) {
                            RUN_TO_END => false,
                            _ => {
                                switch.store(STOPPED, Ordering::Relaxed);
                                true
                            }
                        }),
                    );
                    Ok(c)
                })
                .await
                .map_err(|e| StoreError::Config(format!("opening SQLite: {e}")))??;
                self.open.fetch_add(1, Ordering::Relaxed);
                ReaderSlot {
                    conn: Arc::new(Mutex::new(c)),
                    mode,
                }
            }
        };
        Ok(SqliteLease {
            conn: Some(slot.conn),
            mode: Some(slot.mode),
            home: Some(self.clone()),
            _permit: Some(permit),
        })
    }
}

/// A SQLite connection taken from its pool, with the permit that bounds the pool. A read's
/// statement runs on the calling thread until it has taken [`INLINE_READ_STEPS`], then on a
/// blocking thread, the mutex held only there, so a statement whose caller was cancelled
/// still finishes before the connection is used again; a write transaction's statements run
/// synchronously, so none is ever left half-way.
pub struct SqliteLease {
    conn: Option<Arc<Mutex<Connection>>>,
    /// A read connection's progress-handler switch (None for the writer).
    mode: Option<Arc<AtomicU8>>,
    /// The read pool to give the connection back to (None for the writer, which stays).
    home: Option<Arc<SqliteReaders>>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl SqliteLease {
    /// A lease that holds nothing (what is left after a commit or a hand-over).
    fn spent() -> SqliteLease {
        SqliteLease {
            conn: None,
            mode: None,
            home: None,
            _permit: None,
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.clone().ok_or(StoreError::Closed)?;
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(PoisonError::into_inner);
            f(&mut c)
        })
        .await
        .map_err(|e| StoreError::Query(format!("a database task failed: {e}")))?
    }
}

impl SqliteLease {
    /// Runs one statement with its decoding on the calling thread. Inside a write transaction
    /// it runs to the end there: `BEGIN IMMEDIATE` already holds SQLite's write lock, so in WAL
    /// mode a statement never waits for another connection, and it costs tens of
    /// microseconds, less than the two thread wake-ups a hand-off costs. (A SCIM create runs
    /// 21 statements; handed off one by one, the wake-ups were half of its CPU.) `BEGIN`,
    /// `COMMIT` and `ROLLBACK`, which can wait for the file lock or for a checkpoint's fsync,
    /// stay on blocking threads, and the task yields when its budget runs out so that a long
    /// transaction does not hold the worker. A read (autocommit, so running it again is
    /// harmless) is stopped after [`INLINE_READ_STEPS`] and run again on a blocking thread.
    async fn statement<T: Send + 'static>(
        &self,
        f: impl Fn(&mut Connection) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let conn = self.conn.as_ref().ok_or(StoreError::Closed)?;
        let out = match self.mode.as_ref().zip(self.home.as_ref()) {
            None => {
                let mut c = conn.lock().unwrap_or_else(PoisonError::into_inner);
                f(&mut c)
            }
            Some((mode, home)) => {
                // None: the statement must run on a blocking thread. The connection is busy
                // only while a cancelled caller's statement still finishes on one; then wait
                // for it there, not here.
                let inline = match conn.try_lock() {
                    Ok(mut c) => {
                        mode.store(INLINE, Ordering::Relaxed);
                        let out = f(&mut c);
                        let stopped = mode.swap(RUN_TO_END, Ordering::Relaxed) == STOPPED;
                        (!stopped).then_some(out)
                    }
                    Err(_) => None,
                };
                match inline {
                    Some(out) => {
                        home.inline_reads.fetch_add(1, Ordering::Relaxed);
                        out
                    }
                    None => {
                        home.moved_reads.fetch_add(1, Ordering::Relaxed);
                        return self.run(f).await;
                    }
                }
            }
        };
        tokio::task::consume_budget().await;
        out
    }
}

impl Drop for SqliteLease {
    fn drop(&mut self) {
        if let (Some(home), Some(conn), Some(mode)) =
            (self.home.take(), self.conn.take(), self.mode.take())
        {
            home.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(ReaderSlot { conn, mode });
        }
    }
}
