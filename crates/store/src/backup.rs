//! Backups and restores of a roster database (`roster backup FILE`, `roster restore FILE`).
//!
//! SQLite: SQLite's online backup API (rusqlite's `backup`) copies every page in one step,
//! under one read transaction, so the copy is one consistent moment while the server goes on
//! writing beside it (WAL). PostgreSQL: `pg_dump` in its custom format, of roster's schema
//! only, without owners or privileges, so it restores into another cluster under another role.
//!
//! A restore replaces the database whole or not at all, and only while no roster process has
//! it open: every open [`Store`](crate::Store) holds an "in use" lock, shared (a lock file
//! beside the SQLite database, a session advisory lock on PostgreSQL, both released by the
//! operating system or the server when the process dies), and a restore takes it exclusively.
//! It checks first that the backup was taken with the server secret roster runs with (the
//! credentials in it are keyed by that secret), and that this roster knows its migrations; an
//! older backup is migrated as roster starts.
//!
//! The server secret is not in the backup, on purpose: keep `secret.key` (or
//! `ROSTER_SECRET_KEY`) apart from the backups, as GitLab keeps its secrets file.

use std::fs::{File, OpenOptions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection as _, PgConnection};
use tokio::io::AsyncWriteExt;

use crate::db::sqlite_path;
use crate::{migrate, Backend, Result, StoreError};

/// The first key of the "in use" advisory lock (the second is the search path's hash): the
/// two-key space, apart from the migration lock's one-key space.
const IN_USE_KEY: i32 = 0x726f_7374; // "rost"

/// How long a backup step waits when the database is busy before it tries again.
const PAUSE: std::time::Duration = std::time::Duration::from_millis(50);

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupDone {
    pub backend: Backend,
    pub path: PathBuf,
    pub bytes: u64,
}

/// What a restore put back.
#[derive(Debug, Clone)]
pub struct RestoreDone {
    pub backend: Backend,
    /// The newest migration the backup had (the database is migrated past it when opened).
    pub migration: i64,
}

fn refused(message: impl Into<String>) -> StoreError {
    StoreError::Backup(message.into())
}

fn io(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    refused(format!("{what} {}: {e}", path.display()))
}

/// Writes a backup of the database at `url` to `dest`, a file that must not exist yet. Safe
/// while roster serves: the copy is one consistent moment. The backup is written beside
/// `dest` and renamed into place when whole, so `dest` is never a partial backup.
pub async fn backup(url: &str, dest: &Path) -> Result<BackupDone> {
    if dest.exists() {
        return Err(refused(format!(
            "{} already exists; roster does not overwrite a backup, choose another name",
            dest.display()
        )));
    }
    let partial = partial_path(dest);
    let _ = std::fs::remove_file(&partial);
    let backend = match sqlite_url(url)? {
        Some(db) => {
            let to = partial.clone();
            tokio::task::spawn_blocking(move || sqlite_backup(&db, &to))
                .await
                .map_err(|e| refused(format!("the backup stopped: {e}")))??;
            Backend::Sqlite
        }
        None => {
            pg_dump(url, &partial).await?;
            Backend::Postgres
        }
    };
    std::fs::rename(&partial, dest).map_err(|e| io("cannot move the backup to", dest, e))?;
    let bytes = std::fs::metadata(dest)
        .map_err(|e| io("cannot read", dest, e))?
        .len();
    Ok(BackupDone {
        backend,
        path: dest.to_path_buf(),
        bytes,
    })
}

/// Replaces the database at `url` with the backup in `src`, whole or not at all. Refused
/// while a roster process has the database open, when the backup is of the other kind of
/// database, was taken by a newer roster, or holds a different server secret's fingerprint
/// (`secret` names the setting and the value it must have, where the backup has one).
pub async fn restore(url: &str, src: &Path, secret: (&str, &str)) -> Result<RestoreDone> {
    let kind = backup_kind(src)?;
    match (sqlite_url(url)?, kind) {
        (Some(db), Backend::Sqlite) => {
            let (src, name, value) = (
                src.to_path_buf(),
                secret.0.to_string(),
                secret.1.to_string(),
            );
            tokio::task::spawn_blocking(move || sqlite_restore(&db, &src, (&name, &value)))
                .await
                .map_err(|e| refused(format!("the restore stopped: {e}")))?
        }
        (None, Backend::Postgres) => pg_restore(url, src, secret).await,
        (_, kind) => Err(refused(format!(
            "{} is a {} backup and DATABASE_URL names a {} database; roster restores a backup \
             into the kind of database it was taken from",
            src.display(),
            kind.name(),
            if kind == Backend::Sqlite {
                Backend::Postgres
            } else {
                Backend::Sqlite
            }
            .name(),
        ))),
    }
}

/// The SQLite file a URL names, or None for PostgreSQL.
fn sqlite_url(url: &str) -> Result<Option<PathBuf>> {
    match url.strip_prefix("sqlite:") {
        Some(rest) => Ok(Some(sqlite_path(rest)?.0)),
        None => Ok(None),
    }
}

fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    dest.with_file_name(name)
}

/// Which kind of backup a file is, from its first bytes.
fn backup_kind(src: &Path) -> Result<Backend> {
    let mut head = [0u8; 16];
    let n = File::open(src)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| io("cannot read", src, e))?;
    if n == 16 && &head == b"SQLite format 3\0" {
        Ok(Backend::Sqlite)
    } else if n >= 5 && &head[..5] == b"PGDMP" {
        Ok(Backend::Postgres)
    } else {
        Err(refused(format!(
            "{} is not a roster backup (neither a SQLite database nor a pg_dump archive)",
            src.display()
        )))
    }
}

fn newer_than_known(src: &Path, version: i64) -> Result<()> {
    let known = migrate::latest_version();
    if version > known {
        return Err(refused(format!(
            "{} was taken by a newer roster (migration {version}; this roster knows up to {known}); \
             restore it with that version",
            src.display()
        )));
    }
    Ok(())
}

fn secret_refused(src: &Path) -> StoreError {
    refused(format!(
        "{} was taken with a different server secret; run restore with the secret of the server \
         it came from (ROSTER_SECRET_KEY or DATA_DIR/secret.key), or its keys and tokens would \
         stop working",
        src.display()
    ))
}

// ---- the "in use" lock ----------------------------------------------------------------

fn lock_path(db: &Path) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    db.with_file_name(name)
}

fn open_lock(db: &Path) -> Result<File> {
    let path = lock_path(db);
    let mut opts = OpenOptions::new();
    opts.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(&path)
        .map_err(|e| io("cannot open the lock file", &path, e))
}

/// Marks the SQLite database as in use for as long as the returned file is open.
pub(crate) fn hold_sqlite(db: &Path) -> Result<File> {
    let f = open_lock(db)?;
    match f.try_lock_shared() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(refused(format!(
            "a restore of {} is in progress; start roster again when it has finished",
            db.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io("cannot lock", &lock_path(db), e)),
    }
}

/// Marks the PostgreSQL schema (the search path the URL sets) as in use for as long as the
/// returned connection is open.
pub(crate) async fn hold_postgres(opts: &PgConnectOptions) -> Result<PgConnection> {
    let mut c = opts.connect().await?;
    let held: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock_shared($1, hashtext(current_setting('search_path')))",
    )
    .bind(IN_USE_KEY)
    .fetch_one(&mut c)
    .await?;
    if !held {
        return Err(refused(
            "a restore of this database is in progress; start roster again when it has finished",
        ));
    }
    Ok(c)
}

fn in_use() -> StoreError {
    refused(
        "the database is in use: stop every roster process using it (roster serve on every \
         node, and any other roster command) before restoring",
    )
}

// ---- SQLite -------------------------------------------------------------------------------

fn sqlite_backup(db: &Path, to: &Path) -> Result<()> {
    if !db.exists() {
        return Err(refused(format!("there is no database at {}", db.display())));
    }
    let src = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    src.execute_batch("PRAGMA busy_timeout = 10000")?;
    let mut dst = Connection::open(to)?;
    // All pages in one step: one read transaction, so one consistent moment (in steps, a
    // write between two of them would start the copy over, and a busy server never ends it).
    copy_all(&Backup::new(&src, &mut dst)?)?;
    // A file of its own, without a -wal beside it.
    dst.execute_batch("PRAGMA journal_mode = DELETE")?;
    drop(dst);
    restrict(to)?;
    Ok(())
}

/// Copies every page in one step (rusqlite's `run_to_completion` takes a positive step
/// only), waiting while the source is locked for writing, at most about ten seconds.
fn copy_all(b: &Backup<'_, '_>) -> Result<()> {
    for _ in 0..200 {
        match b.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::Busy | StepResult::Locked => std::thread::sleep(PAUSE),
            _ => {}
        }
    }
    Err(refused(
        "the database stayed locked for ten seconds; try again",
    ))
}

/// The backup holds every credential's hash: readable by roster's user only.
fn restrict(path: &Path) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| io("cannot make private", path, e))?;
    }
    Ok(())
}

fn sqlite_restore(db: &Path, src: &Path, secret: (&str, &str)) -> Result<RestoreDone> {
    let backup = Connection::open_with_flags(
        src,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let migration: i64 = backup
        .query_row("SELECT MAX(version) FROM roster_migrations", [], |r| {
            r.get::<_, Option<i64>>(0)
        })
        .map_err(|_| {
            refused(format!(
                "{} is a SQLite database but not a roster backup (it has no migrations)",
                src.display()
            ))
        })?
        .unwrap_or(0);
    newer_than_known(src, migration)?;
    let fingerprint: Option<String> = backup
        .query_row(
            "SELECT value FROM server_settings WHERE name = ?1",
            [secret.0],
            |r| r.get(0),
        )
        .ok();
    if fingerprint.is_some_and(|f| f != secret.1) {
        return Err(secret_refused(src));
    }
    let lock = open_lock(db)?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => return Err(in_use()),
        Err(std::fs::TryLockError::Error(e)) => return Err(io("cannot lock", &lock_path(db), e)),
    }
    let mut target = Connection::open(db)?;
    target.execute_batch("PRAGMA busy_timeout = 10000")?;
    // The backup API writes every page of the backup over the database in one step and one
    // transaction: the database is the backup's, whole, or unchanged.
    copy_all(&Backup::new(&backup, &mut target)?)?;
    drop(backup);
    target.execute_batch("PRAGMA journal_mode = WAL")?;
    drop(target);
    restrict(db)?;
    drop(lock);
    Ok(RestoreDone {
        backend: Backend::Sqlite,
        migration,
    })
}

// ---- PostgreSQL ---------------------------------------------------------------------------

fn pg_options(url: &str) -> Result<PgConnectOptions> {
    url.parse()
        .map_err(|e| StoreError::Config(format!("DATABASE_URL is not valid: {e}")))
}

/// Runs one of PostgreSQL's client programs, telling the operator how to get it if missing.
async fn client(program: &str, args: &[&str]) -> Result<Vec<u8>> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| missing(program, e))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(refused(format!("{program} failed: {}", err.trim())));
    }
    Ok(out.stdout)
}

fn missing(program: &str, e: std::io::Error) -> StoreError {
    refused(format!(
        "cannot run {program} ({e}); it comes with PostgreSQL's client programs \
         (Debian: postgresql-client)"
    ))
}

/// roster's schema: the first schema of the search path that exists.
async fn current_schema(c: &mut PgConnection) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT current_schema()::text")
        .fetch_one(c)
        .await?)
}

async fn pg_dump(url: &str, to: &Path) -> Result<()> {
    let mut c = pg_options(url)?.connect().await?;
    let schema = current_schema(&mut c)
        .await?
        .ok_or_else(|| refused("DATABASE_URL's search path names no schema that exists"))?;
    c.close().await?;
    let file = to.to_string_lossy();
    // pg_dump reads --schema as a pattern: quoted, the name is taken as it is.
    let pattern = identifier(&schema);
    // Custom format (compressed, restorable selectively), roster's schema only (the pg_trgm
    // extension is the server's; the restore installs it), no owners or grants (the restoring
    // role owns what it restores).
    client(
        "pg_dump",
        &[
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            "--schema",
            &pattern,
            "--file",
            &file,
            "--dbname",
            url,
        ],
    )
    .await?;
    restrict(to)
}

/// Whether an entry of an archive's table of contents is restored as it is: not the schema
/// or its comment (the schema is made if missing, never dropped: the pg_trgm extension may
/// live in it), and not the search index (its operator class is named through the schema the
/// extension lives in on the source server; it is made again as migration 4 makes it).
fn restored_as_is(entry: &str) -> bool {
    let schema = entry.contains(" SCHEMA - ") || entry.contains(" COMMENT - SCHEMA ");
    let search_index = entry.contains(" INDEX ") && entry.contains(" users_search_trgm ");
    !(schema || search_index)
}

/// Pipes `pg_restore ARGS` into `psql` between `before` and `after`, streaming (an archive
/// of a million members is hundreds of megabytes of SQL). `after` ends the transaction
/// `before` began, and is sent only when pg_restore finished well: otherwise psql reaches the
/// end of its input inside the transaction, and PostgreSQL rolls it back.
async fn restore_through_psql(
    url: &str,
    args: &[&str],
    before: String,
    after: String,
) -> Result<()> {
    let spawn = |program: &str, cmd: &mut tokio::process::Command| {
        cmd.spawn().map_err(|e| missing(program, e))
    };
    let mut dump = spawn(
        "pg_restore",
        tokio::process::Command::new("pg_restore")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    )?;
    let mut psql = spawn(
        "psql",
        tokio::process::Command::new("psql")
            .args([
                "--no-psqlrc",
                "--quiet",
                "--set",
                "ON_ERROR_STOP=on",
                "--dbname",
                url,
                "--file",
                "-",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    )?;
    let (Some(mut input), Some(mut sql)) = (psql.stdin.take(), dump.stdout.take()) else {
        return Err(refused("cannot connect pg_restore to psql"));
    };
    let fed = async {
        input.write_all(before.as_bytes()).await?;
        tokio::io::copy(&mut sql, &mut input).await?;
        Ok::<_, std::io::Error>(())
    }
    .await;
    let dumped = dump
        .wait_with_output()
        .await
        .map_err(|e| refused(format!("pg_restore stopped: {e}")))?;
    if fed.is_ok() && dumped.status.success() {
        // A write error here means psql stopped: its own message says why.
        let _ = input.write_all(after.as_bytes()).await;
    }
    drop(input);
    let applied = psql
        .wait_with_output()
        .await
        .map_err(|e| refused(format!("psql stopped: {e}")))?;
    if !dumped.status.success() {
        let err = String::from_utf8_lossy(&dumped.stderr);
        return Err(refused(format!("pg_restore failed: {}", err.trim())));
    }
    if !applied.status.success() || fed.is_err() {
        let err = String::from_utf8_lossy(&applied.stderr);
        return Err(refused(format!("psql failed: {}", err.trim())));
    }
    Ok(())
}

/// Quotes a value for a SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn identifier(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

async fn pg_restore(url: &str, src: &Path, secret: (&str, &str)) -> Result<RestoreDone> {
    let file = src.to_string_lossy().to_string();
    // The archive's table of contents: which schema it holds, and whether it is roster's.
    let toc = String::from_utf8_lossy(&client("pg_restore", &["--list", &file]).await?).to_string();
    let schema = toc
        .lines()
        .filter(|l| !l.starts_with(';'))
        .find_map(|l| {
            let mut words = l.split_whitespace().skip(3);
            match (words.next(), words.next(), words.next()) {
                (Some("TABLE"), Some(schema), Some("roster_migrations")) => {
                    Some(schema.to_string())
                }
                _ => None,
            }
        })
        .ok_or_else(|| {
            refused(format!(
                "{} is a pg_dump archive but not a roster backup (it has no roster_migrations)",
                src.display()
            ))
        })?;
    let mut c = pg_options(url)?.connect().await?;
    let target = match current_schema(&mut c).await? {
        Some(s) => s,
        // A new database: the search path's first schema is made by the restore.
        None => {
            let path: String = sqlx::query_scalar("SELECT current_setting('search_path')")
                .fetch_one(&mut c)
                .await?;
            path.split(',')
                .map(|s| s.trim().trim_matches('"').to_string())
                .find(|s| s != "$user")
                .unwrap_or_default()
        }
    };
    if target != schema {
        return Err(refused(format!(
            "{} holds schema {schema:?} and DATABASE_URL's search path puts roster in {target:?}; \
             roster restores into the schema the backup was taken from",
            src.display()
        )));
    }
    // The newest migration in the archive, from its data.
    let data = client(
        "pg_restore",
        &[
            "--data-only",
            "--table",
            "roster_migrations",
            "--file",
            "-",
            &file,
        ],
    )
    .await?;
    let migration = String::from_utf8_lossy(&data)
        .lines()
        .filter_map(|l| l.split('\t').next()?.parse::<i64>().ok())
        .max()
        .unwrap_or(0);
    newer_than_known(src, migration)?;
    let exclusive: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock($1, hashtext(current_setting('search_path')))",
    )
    .bind(IN_USE_KEY)
    .fetch_one(&mut c)
    .await?;
    if !exclusive {
        return Err(in_use());
    }
    let list: String = toc
        .lines()
        .filter(|l| restored_as_is(l))
        .map(|l| format!("{l}\n"))
        .collect();
    let list_path = partial_path(src).with_extension("list");
    std::fs::write(&list_path, list).map_err(|e| io("cannot write", &list_path, e))?;
    let list_arg = list_path.to_string_lossy().to_string();
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = $1")
            .bind(&schema)
            .fetch_all(&mut c)
            .await?;
    // roster's own functions (the search journal's triggers, migration 23), not those of an
    // extension such as pg_trgm that may share the schema: the archive brings them again.
    let functions: Vec<String> = sqlx::query_scalar(
        "SELECT format('%I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid))
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname = $1
           AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')",
    )
    .bind(&schema)
    .fetch_all(&mut c)
    .await?;
    // One transaction: the tables and functions there are now go, the archive's come, the
    // search index is made, and the server secret is checked; any failure leaves the database
    // as it was.
    let mut before = format!(
        "BEGIN;\nCREATE SCHEMA IF NOT EXISTS {};\n",
        identifier(&schema)
    );
    for t in &tables {
        before.push_str(&format!(
            "DROP TABLE IF EXISTS {}.{} CASCADE;\n",
            identifier(&schema),
            identifier(t)
        ));
    }
    for f in &functions {
        before.push_str(&format!("DROP FUNCTION IF EXISTS {f} CASCADE;\n"));
    }
    let after = format!(
        "RESET search_path;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM server_settings WHERE name = {} AND value <> {}) THEN
        RAISE EXCEPTION 'roster: secret';
    END IF;
END
$$;
{}COMMIT;
",
        literal(secret.0),
        literal(secret.1),
        migrate::postgres_search_index()
    );
    let ran = restore_through_psql(
        url,
        &[
            "--no-owner",
            "--no-privileges",
            "--use-list",
            &list_arg,
            "--file",
            "-",
            &file,
        ],
        before,
        after,
    )
    .await;
    let _ = std::fs::remove_file(&list_path);
    match ran {
        Err(StoreError::Backup(m)) if m.contains("roster: secret") => Err(secret_refused(src)),
        Err(e) => Err(e),
        Ok(_) => {
            c.close().await?;
            Ok(RestoreDone {
                backend: Backend::Postgres,
                migration,
            })
        }
    }
}
