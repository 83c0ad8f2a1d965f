//! Forward-only, versioned migrations from one source for both databases. sqlx's own
//! migrator runs each file verbatim, which would force a second, hand-kept tree for the few
//! things the dialects spell differently; this runner renders one file for either database
//! and otherwise behaves the same: ordered versions, a checksum, one transaction each.
//!
//! The rendering knows two things:
//! - `{{ID}}` becomes each database's auto-increment primary key;
//! - a line `-- dialect: sqlite`, `-- dialect: postgres` or `-- dialect: all` starts a section
//!   that only that database runs (the search index and the triggers of the search journal).

use crate::db::handle;
use crate::sql::query;
use crate::{Backend, Result, Store, StoreError, WriteTx};

struct Migration {
    version: i64,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../migrations/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "folded_names",
        sql: include_str!("../migrations/0002_folded_names.sql"),
    },
    Migration {
        version: 3,
        name: "member_counts",
        sql: include_str!("../migrations/0003_member_counts.sql"),
    },
    Migration {
        version: 4,
        name: "search_index",
        sql: include_str!("../migrations/0004_search_index.sql"),
    },
    Migration {
        version: 5,
        name: "sealed_invite_tokens",
        sql: include_str!("../migrations/0005_sealed_invite_tokens.sql"),
    },
    Migration {
        version: 6,
        name: "unique_usernames",
        sql: include_str!("../migrations/0006_unique_usernames.sql"),
    },
    Migration {
        version: 7,
        name: "scim",
        sql: include_str!("../migrations/0007_scim.sql"),
    },
    Migration {
        version: 8,
        name: "domain_claims",
        sql: include_str!("../migrations/0008_domain_claims.sql"),
    },
    Migration {
        version: 9,
        name: "sso_sessions",
        sql: include_str!("../migrations/0009_sso_sessions.sql"),
    },
    Migration {
        version: 10,
        name: "saml",
        sql: include_str!("../migrations/0010_saml.sql"),
    },
    Migration {
        version: 11,
        name: "saml_login",
        sql: include_str!("../migrations/0011_saml_login.sql"),
    },
    Migration {
        version: 12,
        name: "totp_sso_only",
        sql: include_str!("../migrations/0012_totp_sso_only.sql"),
    },
    Migration {
        version: 13,
        name: "saml_metadata_refresh",
        sql: include_str!("../migrations/0013_saml_metadata_refresh.sql"),
    },
    Migration {
        version: 14,
        name: "workspaces",
        sql: include_str!("../migrations/0014_workspaces.sql"),
    },
    Migration {
        version: 15,
        name: "project_roles",
        sql: include_str!("../migrations/0015_project_roles.sql"),
    },
    Migration {
        version: 16,
        name: "idp_membership_flags",
        sql: include_str!("../migrations/0016_idp_membership_flags.sql"),
    },
    Migration {
        version: 17,
        name: "live_member_counters",
        sql: include_str!("../migrations/0017_live_member_counters.sql"),
    },
    Migration {
        version: 18,
        name: "member_tags",
        sql: include_str!("../migrations/0018_member_tags.sql"),
    },
    Migration {
        version: 19,
        name: "activity_log_session_policy",
        sql: include_str!("../migrations/0019_activity_log_session_policy.sql"),
    },
    Migration {
        version: 20,
        name: "preferences_pauses",
        sql: include_str!("../migrations/0020_preferences_pauses.sql"),
    },
    Migration {
        version: 21,
        name: "permission_overrides",
        sql: include_str!("../migrations/0021_permission_overrides.sql"),
    },
    Migration {
        version: 22,
        name: "member_activity_index",
        sql: include_str!("../migrations/0022_member_activity_index.sql"),
    },
    Migration {
        version: 23,
        name: "member_search_changes",
        sql: include_str!("../migrations/0023_member_search_changes.sql"),
    },
    Migration {
        version: 24,
        name: "password_tokens_by_user",
        sql: include_str!("../migrations/0024_password_tokens_by_user.sql"),
    },
    Migration {
        version: 25,
        name: "audit_by_person",
        sql: include_str!("../migrations/0025_audit_by_person.sql"),
    },
];

/// Fills the folded name columns of existing users (migration 2), in Rust because SQLite's
/// LOWER folds ASCII letters only.
async fn fold_existing_names(c: &mut WriteTx) -> Result<()> {
    let users = handle(c)
        .fetch_all(query("SELECT id, first_name, last_name FROM users"), |r| {
            Ok((r.int(0)?, r.text(1)?, r.text(2)?))
        })
        .await?;
    for (id, first, last) in users {
        let q =
            query("UPDATE users SET first_name_folded = $1, last_name_folded = $2 WHERE id = $3")
                .bind(crate::users::fold(&first))
                .bind(crate::users::fold(&last))
                .bind(id);
        handle(c).execute(q).await?;
    }
    Ok(())
}

/// Fills the folded usernames of existing users (migration 6) and makes them unique. A
/// username that looks like an email must be the account's own email, and a username that
/// an earlier account already holds is taken: either way the account gets its own email back
/// (emails are unique, so that never collides).
async fn unique_existing_usernames(c: &mut WriteTx) -> Result<()> {
    let users = handle(c)
        .fetch_all(
            query("SELECT id, email, username FROM users ORDER BY id"),
            |r| Ok((r.int(0)?, r.text(1)?, r.text(2)?)),
        )
        .await?;
    let mut taken = std::collections::HashSet::new();
    for (id, email, username) in users {
        let mut folded = crate::users::fold(&username);
        let squats_an_email = folded.contains('@') && folded != email;
        let username = if squats_an_email || taken.contains(&folded) {
            folded = email.clone();
            email
        } else {
            username
        };
        taken.insert(folded.clone());
        let q = query("UPDATE users SET username = $1, username_folded = $2 WHERE id = $3")
            .bind(username)
            .bind(folded)
            .bind(id);
        handle(c).execute(q).await?;
    }
    handle(c)
        .batch("CREATE UNIQUE INDEX users_username_folded ON users (username_folded)".into())
        .await?;
    Ok(())
}

/// Refreshes SQLite's statistics for memberships after migration 22 added an index, where
/// memberships has statistics already (every bulk import refreshes them). SQLite plans from
/// sqlite_stat1: with figures for the older indexes and none for the new one, it would take
/// the new one for the smallest (its guess is ten rows an organization) and read whole
/// organizations through it. They are refreshed as the import refreshes them. A database
/// without statistics for memberships is left so: its indexes look alike to the planner, and
/// statistics of a table still empty would tell it the table stays empty.
async fn refresh_membership_statistics(c: &mut WriteTx, backend: Backend) -> Result<()> {
    if backend != Backend::Sqlite {
        return Ok(());
    }
    let stats = query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_stat1'");
    if handle(c).fetch_optional(stats, |_| Ok(())).await?.is_none() {
        return Ok(());
    }
    let analyzed = query("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'memberships' LIMIT 1");
    if handle(c)
        .fetch_optional(analyzed, |_| Ok(()))
        .await?
        .is_some()
    {
        handle(c)
            .batch("PRAGMA analysis_limit = 1000; ANALYZE memberships;".into())
            .await?;
    }
    Ok(())
}

fn render(sql: &str, backend: Backend) -> String {
    let (id, dialect) = match backend {
        Backend::Sqlite => ("INTEGER PRIMARY KEY AUTOINCREMENT", "sqlite"),
        Backend::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "postgres",
        ),
    };
    let mut kept = String::with_capacity(sql.len());
    let mut keep = true;
    for line in sql.lines() {
        if let Some(section) = line.trim().strip_prefix("-- dialect:") {
            let section = section.trim();
            keep = section == "all" || section == dialect;
            continue;
        }
        if keep {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    kept.replace("{{ID}}", id)
}

/// A stable checksum of a migration's source (FNV-1a), to refuse edited history.
fn checksum(sql: &str) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for b in sql.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    format!("{h:016x}")
}

/// Any fixed number: the PostgreSQL advisory lock that lets one node at a time migrate.
const MIGRATION_LOCK: i64 = 0x726f_7374_6572; // "roster"

/// Starts a transaction that holds the migration lock until it ends. Two nodes starting
/// together on one PostgreSQL take turns; the second finds the work done. (SQLite serves one
/// node, and a write transaction there already holds the database's write lock.)
async fn locked(store: &Store) -> Result<WriteTx> {
    let mut tx = store.write().await?;
    if store.backend() == Backend::Postgres {
        let q = query("SELECT pg_advisory_xact_lock($1)").bind(MIGRATION_LOCK);
        handle(&mut tx).fetch_one(q, |_| Ok(())).await?;
    }
    Ok(tx)
}

/// The applied migrations: (version, checksum).
async fn applied(tx: &mut WriteTx) -> Result<Vec<(i64, String)>> {
    handle(tx)
        .fetch_all(
            query("SELECT version, checksum FROM roster_migrations"),
            |r| Ok((r.int(0)?, r.text(1)?)),
        )
        .await
}

/// Migration 4's PostgreSQL section: the pg_trgm extension and the member search index, made
/// through the schema the extension lives in. A restore runs it again (`backup.rs`).
pub(crate) fn postgres_search_index() -> String {
    let m = MIGRATIONS
        .iter()
        .find(|m| m.version == 4)
        .expect("migration 4 is the search index");
    render(m.sql, Backend::Postgres)
}

/// The newest migration this roster knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

pub(crate) async fn run(store: &Store) -> Result<usize> {
    let backend = store.backend();
    let mut tx = locked(store).await?;
    handle(&mut tx)
        .batch(
            "CREATE TABLE IF NOT EXISTS roster_migrations (
                version BIGINT PRIMARY KEY, name TEXT NOT NULL, checksum TEXT NOT NULL)"
                .into(),
        )
        .await?;
    let done = applied(&mut tx).await?;
    tx.commit().await?;
    for m in MIGRATIONS {
        if let Some((_, stored)) = done.iter().find(|(v, _)| *v == m.version) {
            if *stored != checksum(m.sql) {
                return Err(StoreError::Config(format!(
                    "migration {} ({}) was changed after it was applied; migrations are forward-only",
                    m.version, m.name
                )));
            }
        }
    }
    if let Some(newest) = done.iter().map(|(v, _)| *v).max() {
        let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
        if newest > known {
            return Err(StoreError::Config(format!(
                "the database is at migration {newest}, newer than this roster ({known}); upgrade roster"
            )));
        }
    }
    let mut ran = 0;
    for m in MIGRATIONS {
        // Each migration is one transaction under the lock; another node may have applied
        // it since the list above was read.
        let mut tx = locked(store).await?;
        if applied(&mut tx).await?.iter().any(|(v, _)| *v == m.version) {
            continue;
        }
        apply(&mut tx, m, backend)
            .await
            .map_err(|source| StoreError::Migration {
                version: m.version,
                source: Box::new(source),
            })?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
        ran += 1;
    }
    Ok(ran)
}

async fn apply(tx: &mut WriteTx, m: &Migration, backend: Backend) -> Result<()> {
    handle(tx).batch(render(m.sql, backend)).await?;
    match m.version {
        2 => fold_existing_names(tx).await?,
        6 => unique_existing_usernames(tx).await?,
        22 => refresh_membership_statistics(tx, backend).await?,
        _ => {}
    }
    let q = query("INSERT INTO roster_migrations (version, name, checksum) VALUES ($1, $2, $3)")
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(m.sql));
    handle(tx).execute(q).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCE: &str = "CREATE TABLE a (id {{ID}});\n\
        -- dialect: sqlite\n\
        CREATE VIRTUAL TABLE s USING fts5(x);\n\
        -- dialect: postgres\n\
        CREATE EXTENSION pg_trgm;\n\
        -- dialect: all\n\
        CREATE TABLE b (x TEXT);\n";

    #[test]
    fn each_database_gets_its_own_sections_and_the_shared_ones() {
        let sqlite = render(SOURCE, Backend::Sqlite);
        assert!(sqlite.contains("AUTOINCREMENT") && sqlite.contains("fts5"));
        assert!(!sqlite.contains("pg_trgm") && !sqlite.contains("dialect"));
        assert!(sqlite.contains("CREATE TABLE b"));
        let postgres = render(SOURCE, Backend::Postgres);
        assert!(postgres.contains("IDENTITY") && postgres.contains("pg_trgm"));
        assert!(!postgres.contains("fts5") && postgres.contains("CREATE TABLE b"));
    }

    #[test]
    fn every_shipped_migration_renders_for_both_databases() {
        for m in MIGRATIONS {
            for backend in [Backend::Sqlite, Backend::Postgres] {
                let sql = render(m.sql, backend);
                assert!(!sql.contains("{{ID}}"), "{} on {backend:?}", m.name);
                assert!(!sql.trim().is_empty(), "{} on {backend:?}", m.name);
            }
        }
    }
}
