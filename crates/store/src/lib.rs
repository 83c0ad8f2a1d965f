//! roster's storage: SQLite (embedded, the default) or PostgreSQL behind one interface.
//! Every query is written once in SQL both databases accept and runs through one query layer
//! (`sql.rs`: rusqlite on SQLite, sqlx's typed pool on PostgreSQL); the few dialect
//! differences are named by `Backend`: auto-increment keys and the search index (`migrate.rs`
//! and migration 4), and the search lookup and id lists (`members::resolve`, `filter_sql`).
//! Reads run on a [`ReadConn`] or a [`WriteTx`]; writes compile only on a [`WriteTx`].

mod db;
mod live_counts;
mod migrate;
pub mod records;
mod rows;
mod sql;

pub mod activity;
pub mod audit;
pub mod backup;
pub mod bulk;
pub mod credentials;
pub mod domains;
pub mod invites;
pub mod members;
pub mod orgs;
pub mod pauses;
pub mod permissions;
pub mod projects;
pub mod raw;
pub mod saml;
pub mod scim;
pub mod scim_filter;
pub mod search_counts;
pub mod settings;
pub mod tags;
pub mod throttle;
pub mod totp;
pub mod users;
pub mod workspaces;

pub use db::{commit, Backend, Conn, ReadConn, Reads, Store, StoreOptions, WriteTx};
pub use records::*;

/// A storage failure. Constraint violations are told apart so the service can answer 409.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a record with the same unique value already exists")]
    Duplicate,
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("SQLite error: {0}")]
    Sqlite(#[source] rusqlite::Error),
    #[error("PostgreSQL error: {0}")]
    Postgres(#[source] sqlx::Error),
    #[error("a statement and its values do not fit: {0}")]
    Query(String),
    #[error("timed out waiting for {0}")]
    Timeout(&'static str),
    #[error("the store is closed")]
    Closed,
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: Box<StoreError>,
    },
    #[error("{0}")]
    Config(String),
    /// A backup or restore that cannot be made, in words for the operator.
    #[error("{0}")]
    Backup(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
            sqlx::Error::PoolTimedOut => StoreError::Timeout("a PostgreSQL connection"),
            sqlx::Error::PoolClosed => StoreError::Closed,
            _ => StoreError::Postgres(e),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ffi;
        match &e {
            rusqlite::Error::SqliteFailure(f, _)
                if f.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
                    || f.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
            {
                StoreError::Duplicate
            }
            _ => StoreError::Sqlite(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
