//! What keeps concurrent changes of one organization from overshooting its seats or leaving it
//! without exactly one Owner, tested as the mechanism each database uses, so that removing it
//! fails a test where it runs. On SQLite every write goes through one writer connection that
//! takes the database's write lock when its transaction begins (`BEGIN IMMEDIATE`); on
//! PostgreSQL, where writers run in parallel, every membership change first locks its
//! organization's row. (The seat races in seats.rs prove the outcome on both.)

use std::time::Duration;

use roster_tests::{db, Db, TestServer};

#[tokio::test]
async fn writes_to_one_organization_are_serialized_by_the_mechanism_of_each_database() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let store = server.service.raw_store_bypassing_rules();
    #[allow(unused_mut)]
    let mut first = store.write().await.expect("first writer");
    match db() {
        Db::Sqlite => {
            // The write lock is taken at BEGIN: another process cannot start writing, even
            // though the transaction has written nothing of its own yet.
            let path = server
                .db
                .url
                .trim_start_matches("sqlite://")
                .split('?')
                .next()
                .expect("a path")
                .to_owned();
            let begin = tokio::task::spawn_blocking(move || {
                let other = rusqlite::Connection::open(path).expect("second connection");
                other
                    .execute_batch("PRAGMA busy_timeout = 0")
                    .expect("pragma");
                other.execute_batch("BEGIN IMMEDIATE")
            })
            .await
            .expect("task");
            assert!(
                begin.is_err(),
                "a write transaction must hold the write lock from its start"
            );
            // A second writer in this process waits for the one writer connection instead
            // of opening another.
            let waiting = {
                let store = store.clone();
                tokio::spawn(async move { store.write().await.map(|_| ()) })
            };
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert!(!waiting.is_finished(), "the second writer waits");
            assert_eq!(store.writer_connections(), 1, "one writer connection");
            drop(first);
            tokio::time::timeout(Duration::from_secs(5), waiting)
                .await
                .expect("the second writer proceeds once the first ends")
                .expect("task")
                .expect("second writer");
        }
        Db::Postgres => {
            roster_store::orgs::lock_for_membership_change(&mut first, org.id)
                .await
                .expect("lock");
            // A second membership change of the same organization waits for the first.
            let mut second = store.write().await.expect("second writer");
            roster_store::raw::execute(&mut second, "SET LOCAL lock_timeout = '300ms'")
                .await
                .expect("lock timeout");
            let locked = roster_store::orgs::lock_for_membership_change(&mut second, org.id).await;
            assert!(
                locked.is_err(),
                "the organization's row lock must make the second change wait"
            );
            drop(second);
            // Another organization's changes do not wait.
            let other = server.org("Other").await;
            let mut third = store.write().await.expect("third writer");
            roster_store::raw::execute(&mut third, "SET LOCAL lock_timeout = '300ms'")
                .await
                .expect("lock timeout");
            roster_store::orgs::lock_for_membership_change(&mut third, other.id)
                .await
                .expect("another organization is not locked");
            drop(first);
        }
    }
}

/// Writes compile only on a write transaction (the store's compile_fail doctest); read
/// connections also refuse them at run time, even as raw SQL: SQLite opens them read-only,
/// PostgreSQL makes their transactions read-only.
#[tokio::test]
async fn read_connections_refuse_writes_even_as_raw_sql() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let store = server.service.raw_store_bypassing_rules();
    let mut read = store.read().await.expect("read");
    let sql = format!(
        "UPDATE organizations SET title = 'changed' WHERE id = {}",
        org.id.0
    );
    let refused = roster_store::raw::rows(&mut read, &sql, 0).await;
    assert!(refused.is_err(), "a read connection wrote: {refused:?}");
    drop(read);
    let title = server
        .sql_rows(
            &format!("SELECT title FROM organizations WHERE id = {}", org.id.0),
            1,
        )
        .await;
    assert_eq!(title[0][0].text(), Some("Acme"));
}

/// A write transaction dropped without commit (a request cancelled half-way) leaves nothing
/// behind, and the next writer starts clean on both databases.
#[tokio::test]
async fn a_dropped_write_transaction_rolls_back_and_frees_the_writer() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let store = server.service.raw_store_bypassing_rules();
    let rename = format!(
        "UPDATE organizations SET title = 'half-done' WHERE id = {}",
        org.id.0
    );
    let mut tx = store.write().await.expect("writer");
    roster_store::raw::execute(&mut tx, &rename)
        .await
        .expect("update");
    drop(tx);
    let mut next = tokio::time::timeout(Duration::from_secs(5), store.write())
        .await
        .expect("the next writer is not kept waiting")
        .expect("next writer");
    let seen = roster_store::raw::rows(
        &mut next,
        &format!("SELECT title FROM organizations WHERE id = {}", org.id.0),
        1,
    )
    .await
    .expect("read in the next transaction");
    assert_eq!(seen[0][0].text(), Some("Acme"));
    next.commit().await.expect("commit");
}
