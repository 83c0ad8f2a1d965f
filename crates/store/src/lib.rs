//! roster's storage: SQLite (embedded, the default) or PostgreSQL behind one interface.
//! Every query is written once in SQL both databases accept; the few dialect differences are
//! named by `Backend`: how a write transaction starts (`db.rs`), auto-increment keys and the
//! search index (`migrate.rs` and migration 4), the search lookup (`members::resolve`) and
//! positional parameters for bulk statements on SQLite (`bulk.rs`).

mod db;
mod migrate;
pub mod records;
mod rows;

pub mod audit;
pub mod bulk;
pub mod credentials;
pub mod invites;
pub mod members;
pub mod orgs;
pub mod projects;
pub mod settings;
pub mod throttle;
pub mod users;

pub use db::{commit, Backend, Conn, Store, StoreOptions, WriteTx};
pub use records::*;

/// A storage failure. Constraint violations are told apart so the service can answer 409.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("a record with the same unique value already exists")]
    Duplicate,
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Database(#[source] sqlx::Error),
    #[error("migration {version} failed: {source}")]
    Migration {
        version: i64,
        #[source]
        source: sqlx::Error,
    },
    #[error("{0}")]
    Config(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Duplicate,
            _ => StoreError::Database(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
