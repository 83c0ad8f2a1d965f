//! Bulk import through the service's batch path: every accepted row lands exactly once with
//! its audit event and counters; refused rows are reported by line; strict batches write
//! nothing when any row is refused.

use roster_service::import::{ImportRow, Rejected};
use roster_service::{Admin, Authorized};
use roster_tests::{json, TestServer};

fn row(line: usize, email: &str, role: &str) -> ImportRow {
    ImportRow {
        line,
        email: email.into(),
        first_name: format!("First{line}"),
        last_name: format!("Last{line}"),
        role: role.into(),
        projects: vec![],
        workspaces: Vec::new(),
    }
}

async fn scalar(server: &TestServer, sql: &str) -> i64 {
    server.sql_int(sql).await
}

#[tokio::test]
async fn every_imported_row_lands_exactly_once_with_its_audit_event() {
    let server = TestServer::start().await;
    let org = server.org("Imported").await;
    let owner: Authorized<Admin> = server
        .service
        .operator_acting_as_owner(org.id)
        .await
        .expect("owner");
    let rows: Vec<ImportRow> = (0..2500)
        .map(|i| {
            row(
                i + 2,
                &format!("Person{i:05}@Import.Example.com"),
                if i % 10 == 0 { "re" } else { "AN" },
            )
        })
        .collect();
    let events_before = scalar(&server, "SELECT COUNT(*) FROM audit_events").await;
    let mut added = 0;
    for batch in rows.chunks(700) {
        let outcome = server
            .service
            .import_members(owner.org().id, batch, false)
            .await
            .expect("batch");
        assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected);
        added += outcome.added;
    }
    assert_eq!(added, 2500);
    let o = org.id.0;
    assert_eq!(
        scalar(&server, &format!("SELECT COUNT(DISTINCT user_email) FROM memberships WHERE org_id = {o} AND user_email LIKE 'person%@import.example.com'")).await,
        2500
    );
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM memberships WHERE org_id = {o}")
        )
        .await,
        2501
    );
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM audit_events").await - events_before,
        2500
    );
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM audit_events a JOIN users u ON u.id = a.target_user_id WHERE a.action = 'member.joined' AND a.target_email = u.email AND u.email LIKE 'person%'").await,
        2500,
        "each event names its member"
    );
    assert_eq!(
        scalar(&server, "SELECT COUNT(*) FROM legacy_keys k JOIN users u ON u.id = k.user_id WHERE u.email LIKE 'person%'").await,
        0,
        "an imported account gets its legacy key when it first asks for one"
    );
    let api = org.owner_api();
    let list = api
        .get(&org.path("/memberships?role=RE&page_size=1"))
        .await
        .expect(200);
    assert_eq!(list.body["count"], 250);
    let found = api
        .get(&org.path("/memberships?search=first1234"))
        .await
        .expect(200);
    assert_eq!(found.body["count"], 1);
    assert_eq!(
        found.body["results"][0]["user"]["email"],
        "person01232@import.example.com"
    );
    assert_eq!(found.body["results"][0]["user"]["active_organization"], o);
    let seats = api.get(&org.path("/seats")).await.expect(200);
    assert_eq!(seats.body["active"], 2501);
}

#[tokio::test]
async fn refused_rows_are_reported_by_line_and_the_rest_land() {
    let server = TestServer::start().await;
    let org = server.org("Picky").await;
    let existing = org.member(roster_domain::Role::Annotator).await;
    org.owner_api()
        .patch(&org.path(""), json!({"seat_limit": 4}))
        .await
        .expect(200);
    let owner: Authorized<Admin> = server
        .service
        .operator_acting_as_owner(org.id)
        .await
        .expect("owner");
    let rows = vec![
        row(2, "good@example.com", "AN"),
        row(3, "not an email", "AN"),
        row(4, "boss@example.com", "OW"),
        row(5, "odd@example.com", "XX"),
        row(6, "GOOD@example.com", "RE"),
        row(7, &existing.email, "RE"),
        row(8, "second@example.com", "MA"),
        row(9, "third@example.com", "AN"),
        row(10, "waiting@example.com", "NO"),
    ];
    let outcome = server
        .service
        .import_members(owner.org().id, &rows, false)
        .await
        .expect("batch");
    let lines: Vec<usize> = outcome.rejected.iter().map(|r: &Rejected| r.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 9], "{:?}", outcome.rejected);
    assert!(
        outcome.rejected[5].reason.contains("4 of 4 seats in use"),
        "{:?}",
        outcome.rejected[5]
    );
    assert!(outcome.rejected[3].reason.contains("appears twice"));
    assert!(outcome.rejected[4].reason.contains("already a member"));
    assert_eq!(outcome.added, 3);
    let list = org
        .owner_api()
        .get(&org.path("/memberships?page_size=50"))
        .await
        .expect(200);
    assert_eq!(list.body["count"], 5);
}

#[tokio::test]
async fn a_strict_batch_with_a_refused_row_writes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Strict").await;
    let owner: Authorized<Admin> = server
        .service
        .operator_acting_as_owner(org.id)
        .await
        .expect("owner");
    let before = server.snapshot().await;
    let rows = vec![
        row(2, "a@example.com", "AN"),
        row(3, "b@example.com", "NOPE"),
        row(4, "c@example.com", "RE"),
    ];
    let err = server
        .service
        .import_members(owner.org().id, &rows, true)
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("nothing was written"), "{err}");
    assert_eq!(server.snapshot().await, before);
}

/// The member search reads a trigram index when a term has few matches and checks members
/// in page order when it has many; both must give exactly the substring matches.
#[tokio::test]
async fn search_finds_exactly_the_substring_matches_for_rare_and_common_terms() {
    let server = TestServer::start().await;
    let org = server.org("Searched").await;
    let owner: Authorized<Admin> = server
        .service
        .operator_acting_as_owner(org.id)
        .await
        .expect("owner");
    // 5,200 members: more than the 5,000 hits up to which the index leads the search.
    let rows: Vec<ImportRow> = (0..5200)
        .map(|i| ImportRow {
            line: i + 2,
            email: format!("crowd{i:04}@search.example.com"),
            first_name: if i == 4321 {
                "Zoë \"Q\" 100%_sure".into()
            } else {
                format!("Name{i}")
            },
            last_name: format!("Family{}", i % 7),
            role: "AN".into(),
            projects: vec![],
            workspaces: Vec::new(),
        })
        .collect();
    for batch in rows.chunks(2600) {
        let outcome = server
            .service
            .import_members(owner.org().id, batch, true)
            .await
            .expect("batch");
        assert_eq!(outcome.added, batch.len());
    }
    let api = org.owner_api();
    let search = |term: &'static str| {
        let api = &api;
        let path = org.path(&format!(
            "/memberships?page_size=100&search={}",
            term.replace('%', "%25")
                .replace(' ', "%20")
                .replace('"', "%22")
        ));
        async move { api.get(&path).await.expect(200).body }
    };
    let emails = |body: &serde_json::Value| -> Vec<String> {
        body["results"]
            .as_array()
            .expect("results")
            .iter()
            .map(|m| m["user"]["email"].as_str().expect("email").to_string())
            .collect()
    };

    // Common: every member's email holds it; the first page is in email order.
    let all = search("search.example").await;
    assert_eq!(all["count"], 5200);
    let first = emails(&all);
    assert_eq!(first.len(), 100);
    assert_eq!(first[0], "crowd0000@search.example.com");
    assert_eq!(first[99], "crowd0099@search.example.com");

    // Rare: "name432" is Name432 and Name4320..Name4329, less Name4321 who was renamed.
    let rare = search("NAME432").await;
    assert_eq!(rare["count"], 10);
    let mut expected: Vec<String> = [432]
        .into_iter()
        .chain((4320..4330).filter(|i| *i != 4321))
        .map(|i| format!("crowd{i:04}@search.example.com"))
        .collect();
    expected.sort();
    assert_eq!(emails(&rare), expected);

    // Quotes and LIKE wildcards are literal; a match never spans two columns.
    for term in ["zoë \"q\"", "100%_sure", "\"Q\""] {
        let hit = search(term).await;
        assert_eq!(hit["count"], 1, "search={term}");
        assert_eq!(emails(&hit), vec!["crowd4321@search.example.com"]);
    }
    assert_eq!(search("100%x").await["count"], 0);
    assert_eq!(search("sure family").await["count"], 0);
    assert_eq!(search("com name").await["count"], 0);

    // A last name shared by a seventh of the members, and a term too short for trigrams. (The
    // short term has a letter outside hex digits: the Owner's email holds a random uuid.)
    assert_eq!(search("family3").await["count"], 743);
    assert_eq!(search("y5").await["count"], 743);
}

#[tokio::test]
async fn imported_rows_join_their_projects_and_workspaces_of_this_organization_only() {
    let server = TestServer::start().await;
    let org = server.org("Teams").await;
    let other = server.org("Elsewhere").await;
    let api = org.owner_api();
    let id = |v: &serde_json::Value| v["id"].as_i64().unwrap();
    let ws = id(&api
        .post("/api/workspaces/", json!({"title": "Team"}))
        .await
        .expect(201)
        .body);
    let project = id(&api
        .post("/api/projects/", json!({"title": "Cats"}))
        .await
        .expect(201)
        .body);
    let foreign = id(&other
        .owner_api()
        .post("/api/workspaces/", json!({"title": "Theirs"}))
        .await
        .expect(201)
        .body);
    let owner: Authorized<Admin> = server
        .service
        .operator_acting_as_owner(org.id)
        .await
        .expect("owner");
    let mut rows = vec![
        row(2, "ann@teams.example.com", "AN"),
        row(3, "bo@teams.example.com", "RE"),
        row(4, "cy@teams.example.com", "AN"),
    ];
    rows[0].workspaces = vec![ws];
    rows[0].projects = vec![project];
    rows[1].workspaces = vec![ws];
    rows[2].workspaces = vec![foreign];
    let outcome = server
        .service
        .import_members(owner.org().id, &rows, false)
        .await
        .expect("batch");
    assert_eq!(outcome.added, 2);
    assert_eq!(
        outcome.rejected,
        vec![Rejected {
            line: 4,
            reason: format!("workspace {foreign} is not in this organization"),
        }]
    );
    let members = api
        .get(&format!(
            "/api/workspaces/{ws}/memberships/paginated/?page_size=50"
        ))
        .await
        .expect(200)
        .body;
    let emails: Vec<&str> = roster_tests::results(&members)
        .iter()
        .filter_map(|m| m["email"].as_str())
        .collect();
    assert!(emails.contains(&"ann@teams.example.com"), "{members}");
    assert!(emails.contains(&"bo@teams.example.com"), "{members}");
    let explicit = api
        .get(&format!(
            "/api/projects/{project}/members/paginated/?implicit=false&search=ann@teams"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(explicit["count"], 1, "{explicit}");
    // The refused row wrote nothing in the other organization's workspace.
    assert_eq!(
        scalar(
            &server,
            &format!("SELECT COUNT(*) FROM workspace_members WHERE workspace_id = {foreign}")
        )
        .await,
        1,
        "only its creator"
    );
    server.assert_live_counts().await;
}
