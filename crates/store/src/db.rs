//! Connecting, the two backends' few differences, and transactions.

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};

use crate::{migrate, Result, StoreError};

/// A connection to run queries on: a pooled connection or an open transaction.
pub type Conn = AnyConnection;

/// An open write transaction. Dropping it without `commit` rolls it back.
pub type WriteTx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The database a connection (or an open transaction) talks to, for the few queries
    /// spelled differently per database.
    pub(crate) fn of(c: &Conn) -> Backend {
        if c.backend_name() == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://PATH` or `postgres://...`.
    pub url: String,
    /// Pool size for reads (and for writes on PostgreSQL).
    pub max_connections: u32,
    /// SQLite only: `FULL` makes every commit survive power loss, `NORMAL` (default in WAL
    /// mode) survives a killed process.
    pub sqlite_full_sync: bool,
}

/// The database handle every service call goes through.
#[derive(Debug, Clone)]
pub struct Store {
    backend: Backend,
    /// Reads, and on PostgreSQL writes too.
    pool: AnyPool,
    /// SQLite allows one writer at a time; a single-connection pool queues writers in
    /// process instead of letting them collide on the file lock.
    writer: AnyPool,
}

impl Store {
    /// Connects and applies pending migrations.
    pub async fn open(opts: &StoreOptions) -> Result<Store> {
        let store = Store::connect(opts).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(opts: &StoreOptions) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if opts.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if opts.url.starts_with("postgres:") || opts.url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Config(format!(
                "DATABASE_URL must start with sqlite: or postgres:, got {:?}",
                opts.url.split(':').next().unwrap_or("")
            )));
        };
        let conn_opts: AnyConnectOptions = opts
            .url
            .parse()
            .map_err(|e| StoreError::Config(format!("DATABASE_URL is not valid: {e}")))?;
        match backend {
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect_with(conn_opts)
                    .await?;
                Ok(Store {
                    backend,
                    writer: pool.clone(),
                    pool,
                })
            }
            Backend::Sqlite => {
                let full = opts.sqlite_full_sync;
                let writer = AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(move |c, _| sqlite_pragmas(c, full, WRITER_CACHE_KIB))
                    .connect_with(conn_opts.clone())
                    .await?;
                let pool = AnyPoolOptions::new()
                    .max_connections(opts.max_connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .after_connect(move |c, _| sqlite_pragmas(c, full, READER_CACHE_KIB))
                    .connect_with(conn_opts)
                    .await?;
                Ok(Store {
                    backend,
                    pool,
                    writer,
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending migrations; returns how many ran.
    pub async fn migrate(&self) -> Result<usize> {
        let mut conn = self.writer.acquire().await?;
        migrate::run(&mut conn, self.backend).await
    }

    /// A connection for reads.
    pub async fn read(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>> {
        Ok(self.pool.acquire().await?)
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a transaction that reads before it writes never fails half-way.
    pub async fn write(&self) -> Result<WriteTx> {
        let tx = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(tx)
    }

    /// One round trip to the database, for the health endpoint.
    pub async fn ping(&self) -> Result<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *conn).await?;
        Ok(())
    }

    /// Refreshes the query planner's statistics after a bulk load. PostgreSQL's autovacuum
    /// would get there within minutes, but until then its plans for the grown tables are made
    /// for the old sizes (a search of a million members then takes seconds, not milliseconds).
    pub async fn refresh_statistics(&self) -> Result<()> {
        let mut conn = self.writer.acquire().await?;
        let sql = match self.backend {
            Backend::Postgres => "ANALYZE users; ANALYZE memberships; ANALYZE audit_events;",
            Backend::Sqlite => "PRAGMA analysis_limit = 1000; PRAGMA optimize;",
        };
        conn.execute(sql).await?;
        Ok(())
    }

    /// Connections the writer pool holds open now (SQLite: never more than one).
    pub fn writer_connections(&self) -> u32 {
        self.writer.size()
    }

    /// Pool statistics: (connections open, idle).
    pub fn pool_stats(&self) -> (u32, usize) {
        (self.pool.size(), self.pool.num_idle())
    }

    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// Page cache of SQLite's one writer connection. Bulk imports touch every index at scattered
/// places; with a small cache they re-read pages from the OS and spill dirty pages
/// mid-transaction. Measured on 1,000,000 members: 55 s with 64 MiB, 50 s with 128 MiB.
/// SQLite fills a cache only as pages are used, so a server pays for it only after large
/// writes.
const WRITER_CACHE_KIB: u32 = 128 * 1024;

/// Page cache of each read connection: SQLite's default. Sixteen of these stay small, and
/// the operating system's file cache holds the rest of a hot database anyway.
const READER_CACHE_KIB: u32 = 2 * 1024;

/// Per-connection SQLite settings: WAL so readers never wait for the writer, a busy timeout
/// for other processes (the CLI) holding the lock, enforced foreign keys, the chosen sync and
/// the page cache size.
fn sqlite_pragmas(
    conn: &mut AnyConnection,
    full_sync: bool,
    cache_kib: u32,
) -> futures_core::future::BoxFuture<'_, Result<(), sqlx::Error>> {
    let sync = if full_sync { "FULL" } else { "NORMAL" };
    let sql = format!(
        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON; \
         PRAGMA synchronous = {sync}; PRAGMA cache_size = -{cache_kib};"
    );
    Box::pin(async move {
        conn.execute(sql.as_str()).await?;
        Ok(())
    })
}

/// Commits a write transaction.
pub async fn commit(tx: WriteTx) -> Result<()> {
    tx.commit().await?;
    Ok(())
}
