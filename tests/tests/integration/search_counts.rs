//! A broad search's count is kept by the node that took it and brought forward through the
//! search journal (migration 23) on the next request: after every kind of change, made by any
//! path, it equals a fresh count of the rows, and the node did not visit every member again.

use roster_domain::Role;
use roster_tests::{json, OrgFixture, TestServer};

use crate::scim::{create_user, idp, patch};

/// Two-letter terms have no trigram, so the index cannot narrow them: each count visits every
/// member, which is the case the kept counts are for.
const TERMS: [&str; 3] = ["qz", "ex", "an"];
const ROLE_FILTERS: [&str; 3] = ["", "AN", "AN,RE"];

async fn listed_count(org: &OrgFixture, term: &str, roles: &str) -> i64 {
    let filter = if roles.is_empty() {
        String::new()
    } else {
        format!("&role={roles}")
    };
    let path = org.path(&format!("/memberships?page_size=1&search={term}{filter}"));
    let r = org.owner_api().get(&path).await.expect(200);
    r.body["count"].as_i64().expect("count")
}

async fn row_count(server: &TestServer, org: &OrgFixture, term: &str, roles: &str) -> i64 {
    let roles = if roles.is_empty() {
        String::new()
    } else {
        let codes: Vec<String> = roles.split(',').map(|r| format!("'{r}'")).collect();
        format!(" AND m.role IN ({})", codes.join(","))
    };
    server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.org_id = {} AND m.deleted_at IS NULL{roles}
               AND (u.email LIKE '%{term}%' OR u.first_name_folded LIKE '%{term}%'
                    OR u.last_name_folded LIKE '%{term}%')",
            org.id.0
        ))
        .await
}

/// Every term under every role filter, listed against counted.
async fn all_exact(server: &TestServer, org: &OrgFixture, after: &str) {
    for term in TERMS {
        for roles in ROLE_FILTERS {
            assert_eq!(
                listed_count(org, term, roles).await,
                row_count(server, org, term, roles).await,
                "after {after}: search={term} role={roles}"
            );
        }
    }
}

fn counts_taken(server: &TestServer) -> u64 {
    server.service.search_count_stats().taken
}

async fn rename(org: &OrgFixture, user: roster_domain::UserId, first_name: &str) {
    org.owner_api()
        .patch(
            &format!("/api/users/{}", user.0),
            json!({"first_name": first_name}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_kept_count_stays_exact_through_every_kind_of_change() {
    let server = TestServer::start().await;
    let org = server.org("Journal").await;
    let idp = idp(&server, &org).await;
    let mut annotators = Vec::new();
    for _ in 0..6 {
        annotators.push(org.member(Role::Annotator).await);
    }
    for _ in 0..3 {
        org.member(Role::Reviewer).await;
    }
    let keys = (TERMS.len() * ROLE_FILTERS.len()) as u64;

    all_exact(&server, &org, "the first counts").await;
    let taken = counts_taken(&server);
    assert!(taken >= keys, "the first counts visit every member");
    all_exact(&server, &org, "nothing changed").await;
    assert!(
        server.service.search_count_stats().unchanged >= keys,
        "kept counts were reused"
    );

    rename(&org, annotators[0].id, "Qzara").await;
    all_exact(&server, &org, "a rename into the term").await;
    org.set_role(&annotators[1], Role::Reviewer).await;
    all_exact(&server, &org, "a role change").await;
    org.set_role(&annotators[2], Role::Deactivated).await;
    all_exact(&server, &org, "a deactivation").await;
    org.set_role(&annotators[2], Role::Annotator).await;
    all_exact(&server, &org, "a reactivation").await;
    org.owner_api()
        .delete(&org.path(&format!("/memberships/{}/", annotators[3].id.0)))
        .await
        .expect(204);
    all_exact(&server, &org, "a deletion").await;
    org.member_with_email("qz-added@example.com", Role::Annotator)
        .await;
    all_exact(&server, &org, "a new member").await;
    // Two changes to one member between two counts: the first row holds her as counted.
    rename(&org, annotators[0].id, "Bob").await;
    rename(&org, annotators[0].id, "Quinn").await;
    org.set_role(&annotators[0], Role::Reviewer).await;
    all_exact(&server, &org, "three changes to one member").await;
    // The identity provider adds a member, then gives her another email.
    let user = create_user(&idp, "qzscim@example.com").await;
    all_exact(&server, &org, "a member provisioned by SCIM").await;
    let id = user["id"].as_str().expect("SCIM id");
    patch(
        &idp,
        &format!("/scim/v2/Users/{id}"),
        json!([{"op": "replace", "path": "userName", "value": "plain@example.com"}]),
    )
    .await
    .expect(200);
    all_exact(&server, &org, "a new email from SCIM").await;
    assert_eq!(
        counts_taken(&server),
        taken,
        "every count since the first was brought forward, none taken again"
    );
    assert!(server.service.search_count_stats().brought_forward > 0);

    // A bulk import writes one "many changed" row: every kept count is taken again, once.
    org.import_annotators(3, |i| {
        (
            format!("qzimport{i}@example.com"),
            "Imported".into(),
            "Anne".into(),
        )
    })
    .await;
    all_exact(&server, &org, "a bulk import").await;
    assert_eq!(counts_taken(&server), taken + keys);
}

#[tokio::test]
async fn a_person_renamed_moves_the_counts_of_each_of_her_organizations() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    let shared = acme.member(Role::Annotator).await;
    globex.add_existing(&shared, Role::Reviewer).await;
    for org in [&acme, &globex] {
        org.member(Role::Annotator).await;
        all_exact(&server, org, "the first counts").await;
    }
    let taken = counts_taken(&server);
    // Only she may rename herself, being in two organizations.
    acme.api(&shared)
        .patch(
            &format!("/api/users/{}", shared.id.0),
            json!({"first_name": "Qzelda"}),
        )
        .await
        .expect(200);
    for org in [&acme, &globex] {
        all_exact(&server, org, "a rename in two organizations").await;
    }
    assert_eq!(counts_taken(&server), taken);
}

#[tokio::test]
async fn a_count_older_than_the_journal_keeps_is_taken_again() {
    let server = TestServer::start().await;
    let org = server.org("Pruned").await;
    let member = org.member(Role::Annotator).await;
    all_exact(&server, &org, "the first counts").await;
    let taken = counts_taken(&server);
    // As if 6,000 changes had happened since: the journal keeps the last 5,000 sequence
    // numbers, so rows the kept counts would need may be gone.
    server
        .sql_execute(&format!(
            "UPDATE organizations SET write_seq = write_seq + 6000 WHERE id = {}",
            org.id.0
        ))
        .await;
    rename(&org, member.id, "Qzora").await;
    all_exact(&server, &org, "a rename far ahead").await;
    let keys = (TERMS.len() * ROLE_FILTERS.len()) as u64;
    assert_eq!(counts_taken(&server), taken + keys);
    let kept = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM member_search_changes WHERE org_id = {}",
            org.id.0
        ))
        .await;
    assert_eq!(
        kept, 1,
        "rows more than 5,000 behind are pruned as rows are added"
    );
}

// Several workers, and enough members that a count takes a while: without one count per key
// at a time, the asks below would overlap and each take its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_asking_at_once_for_an_uncounted_search_visit_every_member_once() {
    let server = TestServer::start().await;
    let org = server.org("Stampede").await;
    import_named(&org, "Many", 20_000).await;
    let taken = counts_taken(&server);
    let expected = row_count(&server, &org, "ex", "").await;
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(12));
    let path = org.path("/memberships?page_size=1&search=ex");
    let asks: Vec<_> = (0..12)
        .map(|_| {
            let (api, path, barrier) = (org.owner_api(), path.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                let r = api.get(&path).await.expect(200);
                r.body["count"].as_i64().expect("count")
            })
        })
        .collect();
    let mut counts = Vec::new();
    for ask in asks {
        counts.push(ask.await.expect("an ask"));
    }
    assert!(counts.iter().all(|&c| c == expected), "{counts:?}");
    assert_eq!(
        counts_taken(&server),
        taken + 1,
        "one request counted; the others brought its count forward"
    );
}

/// Members whose last name is `term` (and whose emails do not hold it), imported at once.
async fn import_named(org: &OrgFixture, term: &str, n: usize) {
    org.import_annotators(n, |i| {
        let email = format!("holder{i}@{}.example.com", org.id.0);
        (email, "Imported".into(), term.into())
    })
    .await;
}

#[tokio::test]
async fn a_term_found_broad_is_not_looked_up_again_and_stays_exact_when_it_narrows() {
    let server = TestServer::start().await;
    let org = server.org("Broad").await;
    // More holders than the trigram index is asked for (5,000): the term is broad.
    let term = "qxbroadly";
    import_named(&org, term, 5_001).await;
    let skipped = || server.service.search_count_stats().lookups_skipped;
    let before = skipped();
    assert_eq!(listed_count(&org, term, "").await, 5_001);
    assert_eq!(skipped(), before, "the first search asks the index");
    assert_eq!(listed_count(&org, term, "AN").await, 5_001);
    assert_eq!(skipped(), before + 1, "the next is known broad");
    // All but three lose the term: still searched by visiting every member, still exact.
    server
        .sql_execute(&format!(
            "UPDATE users SET last_name = 'Plain', last_name_folded = 'plain'
             WHERE last_name_folded = '{term}' AND email NOT IN
               ('holder1@{o}.example.com', 'holder2@{o}.example.com', 'holder3@{o}.example.com')",
            o = org.id.0
        ))
        .await;
    let path = org.path(&format!("/memberships?page_size=10&search={term}"));
    let r = org.owner_api().get(&path).await.expect(200);
    assert_eq!(r.body["count"], 3);
    let listed: Vec<&str> = r.body["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|m| m["user"]["email"].as_str().expect("email"))
        .collect();
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(skipped(), before + 2);
}
