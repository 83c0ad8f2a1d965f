//! Backup and restore (`roster_store::backup`, the `roster backup` and `roster restore`
//! commands): a backup taken while the server serves restores every table exactly as it was,
//! over whatever changed since; a restore is refused while a roster process has the database
//! open, for a backup taken with another server secret, for a file that is no roster backup,
//! and for the other kind of database, each time changing nothing.

use std::sync::Arc;

use roster_domain::Role;
use roster_service::{ServiceConfig, SECRET_FINGERPRINT_SETTING};
use roster_store::backup::{backup, restore};
use roster_tests::{db, json, test_secret, Db, TestServer};

/// Every row of every table of roster's, as text in a stable order, table by table. SQLite's
/// search index (an FTS5 table and its shadow tables, binary and without content) is left
/// out; the test searches through it instead.
async fn every_table(server: &TestServer) -> Vec<(String, Vec<String>)> {
    let (tables, columns): (&str, fn(&str) -> String) = match db() {
        Db::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE 'user_search%' ORDER BY name",
            |t| format!("SELECT name FROM pragma_table_info('{t}') ORDER BY cid"),
        ),
        Db::Postgres => (
            "SELECT tablename::text FROM pg_tables WHERE schemaname = current_schema() \
             ORDER BY tablename",
            |t| {
                format!(
                    "SELECT column_name::text FROM information_schema.columns \
                     WHERE table_schema = current_schema() AND table_name = '{t}' \
                     ORDER BY ordinal_position"
                )
            },
        ),
    };
    let mut out = Vec::new();
    for t in server.sql_rows(tables, 1).await {
        let table = t[0].text().unwrap().to_string();
        let cols: Vec<String> = server
            .sql_rows(&columns(&table), 1)
            .await
            .into_iter()
            .map(|c| c[0].text().unwrap().to_string())
            .collect();
        let expr: Vec<String> = cols
            .iter()
            .map(|c| format!("COALESCE(CAST(\"{c}\" AS TEXT), '-')"))
            .collect();
        let rows = server
            .sql_rows(
                &format!(
                    "SELECT {} FROM {table} ORDER BY 1",
                    expr.join(" || '|' || ")
                ),
                1,
            )
            .await
            .into_iter()
            .map(|r| r[0].text().unwrap().to_string())
            .collect();
        out.push((table, rows));
    }
    out
}

fn table<'a>(all: &'a [(String, Vec<String>)], name: &str) -> &'a Vec<String> {
    &all.iter()
        .find(|(t, _)| t == name)
        .unwrap_or_else(|| panic!("no table {name}"))
        .1
}

fn secret() -> (&'static str, String) {
    (
        SECRET_FINGERPRINT_SETTING,
        test_secret().fingerprint().to_string(),
    )
}

#[tokio::test]
async fn a_backup_taken_while_serving_restores_every_table_over_later_changes() {
    let server = TestServer::start().await;
    let org = server.org("Backed Up").await;
    let api = org.owner_api();
    let admin = org.member(Role::Administrator).await;
    let ann = org.member(Role::Annotator).await;
    let gone = org.member(Role::Reviewer).await;
    let project = api.create_project("Kept").await;
    api.post(
        &format!("/api/projects/{project}/members/"),
        json!({"user": ann.id.0}),
    )
    .await;
    let tag = api
        .post(&org.path("/member-tags"), json!({"label": "night shift"}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();
    api.post(
        &org.path("/member-tags/assignments"),
        json!({"tags": [tag], "all": false, "included": [ann.id.0]}),
    )
    .await
    .expect(200);
    api.delete(&format!("/api/users/{}", gone.id.0))
        .await
        .expect(204);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.backup");

    // While the server serves: a whole backup, private, never over an earlier one.
    let done = backup(&server.db.url, &file).await.expect("backup");
    assert!(done.bytes > 0);
    let before = every_table(&server).await;
    assert!(table(&before, "memberships").len() >= 4, "{before:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let again = backup(&server.db.url, &file).await.unwrap_err().to_string();
    assert!(again.contains("already exists"), "{again}");

    // Changes after the backup.
    let late = org.member(Role::Manager).await;
    org.set_role(&admin, Role::Reviewer).await;
    api.delete(&org.path(&format!("/member-tags/{tag}")))
        .await
        .expect(204);
    let changed = every_table(&server).await;
    assert_ne!(changed, before);

    // Refused while the server has the database open, and nothing changes.
    let (name, fingerprint) = secret();
    let busy = restore(&server.db.url, &file, (name, &fingerprint))
        .await
        .unwrap_err()
        .to_string();
    assert!(busy.contains("in use"), "{busy}");
    assert_eq!(every_table(&server).await, changed);

    // Stopped, the database is the backup's again, table by table and row by row.
    let mut server = server;
    server.stop();
    server.service.raw_store_bypassing_rules().close().await;
    let restored = restore(&server.db.url, &file, (name, &fingerprint))
        .await
        .expect("restore");
    assert!(restored.migration >= 22, "{restored:?}");
    let again = TestServer::start_on(
        Arc::clone(&server.db),
        ServiceConfig::default(),
        server.clock.clone(),
    )
    .await;
    assert_eq!(every_table(&again).await, before);
    again.assert_live_counts().await;

    // And it works: keys made before the backup sign in, the member added after is unknown,
    // the search index finds people, and new rows take new ids.
    let owner = again.with_key(&org.owner.key);
    owner.get("/api/current-user/whoami").await.expect(200);
    again
        .with_key(&late.key)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    let found = owner
        .get(&org.path(&format!(
            "/memberships?search={}",
            ann.email.split('@').next().unwrap()
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(found["count"], 1, "{found}");
    let members = owner
        .get(&org.path(&format!("/memberships?tags={tag}")))
        .await
        .expect(200)
        .body;
    assert_eq!(members["count"], 1, "{members}");
    let p2 = owner.create_project("After the restore").await;
    assert!(p2 > project);
}

#[tokio::test]
async fn a_restore_is_refused_for_another_secret_or_file_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Careful").await;
    org.member(Role::Annotator).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("roster.backup");
    backup(&server.db.url, &file).await.expect("backup");
    org.member(Role::Reviewer).await;
    let mut server = server;
    server.stop();
    server.service.raw_store_bypassing_rules().close().await;
    let (name, fingerprint) = secret();

    // Another server secret: its keys and tokens would stop working.
    let other = restore(&server.db.url, &file, (name, "another-fingerprint"))
        .await
        .unwrap_err()
        .to_string();
    assert!(other.contains("different server secret"), "{other}");

    // A file that is no backup, and a backup of the other kind of database.
    let junk = dir.path().join("notes.txt");
    std::fs::write(&junk, "not a database").unwrap();
    let err = restore(&server.db.url, &junk, (name, &fingerprint))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("not a roster backup"), "{err}");
    let foreign = dir.path().join("foreign.backup");
    let other_kind: Vec<u8> = match db() {
        Db::Sqlite => b"PGDMP\x01\x0e\x00".to_vec(),
        Db::Postgres => [b"SQLite format 3\0".as_slice(), &[0u8; 84]].concat(),
    };
    std::fs::write(&foreign, other_kind).unwrap();
    let err = restore(&server.db.url, &foreign, (name, &fingerprint))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("kind of database"), "{err}");

    // The database still holds what it held when the server stopped: two members and the Owner.
    let again = TestServer::start_on(
        Arc::clone(&server.db),
        ServiceConfig::default(),
        server.clock.clone(),
    )
    .await;
    let live = again
        .sql_int(&format!(
            "SELECT COUNT(*) FROM memberships WHERE org_id = {} AND deleted_at IS NULL",
            org.id.0
        ))
        .await;
    assert_eq!(live, 3);
}
