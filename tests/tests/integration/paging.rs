//! Walking the member list page by page, as the SDK's pager does: pages that follow one just
//! served are found by seeking past its last row, so a walk returns every member once, in
//! order, and a member deleted mid-walk makes no one else disappear or repeat.

use std::collections::HashSet;

use roster_service::import::ImportRow;
use roster_service::{Admin, Authorized};
use roster_tests::{OrgFixture, TestServer};
use serde_json::Value;

async fn org_with_members(server: &TestServer, n: usize) -> OrgFixture {
    let org = server.org("Walked").await;
    let owner: Authorized<Admin> = server
        .service
        .operator_acting_as_owner(org.id)
        .await
        .expect("owner");
    let roles = ["AN", "RE", "MA", "NO", "DI"];
    let rows: Vec<ImportRow> = (0..n)
        .map(|i| ImportRow {
            line: i + 2,
            email: format!("walker{:03}@example.com", (i * 37) % n),
            first_name: format!("F{}", i % 7),
            last_name: format!("L{}", i % 5),
            role: roles[i % roles.len()].into(),
            projects: vec![],
            workspaces: Vec::new(),
        })
        .collect();
    server
        .service
        .import_members(owner.org().id, &rows, false)
        .await
        .expect("imported");
    org
}

fn ids(page: &Value) -> Vec<i64> {
    page["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

async fn walk(org: &OrgFixture, query: &str, size: usize) -> Vec<i64> {
    let api = org.owner_api();
    let mut all = Vec::new();
    for page in 1.. {
        let r = api
            .get(&org.path(&format!(
                "/memberships?{query}&page_size={size}&page={page}"
            )))
            .await
            .expect(200);
        let got = ids(&r.body);
        if got.is_empty() {
            break;
        }
        all.extend(got);
    }
    all
}

#[tokio::test]
async fn walking_pages_in_order_returns_every_member_once_in_every_ordering() {
    let server = TestServer::start().await;
    let org = org_with_members(&server, 57).await;
    let api = org.owner_api();
    for query in [
        "",
        "ordering=-user__first_name",
        "ordering=user__last_name",
        "ordering=role",
        "ordering=-user__date_joined",
        "role=AN,RE",
    ] {
        let whole = api
            .get(&org.path(&format!("/memberships?{query}&page_size=1000")))
            .await
            .expect(200);
        let expected = ids(&whole.body);
        let walked = walk(&org, query, 10).await;
        assert_eq!(walked, expected, "walk with {query:?}");
        // A second walk (served from the anchors of the first) is the same, and so is a cold
        // jump straight to page 3.
        assert_eq!(
            walk(&org, query, 10).await,
            expected,
            "second walk with {query:?}"
        );
        let cold = api
            .get(&org.path(&format!("/memberships?{query}&page_size=10&page=3")))
            .await
            .expect(200);
        assert_eq!(
            ids(&cold.body),
            expected[20..30.min(expected.len())].to_vec(),
            "page 3 with {query:?}"
        );
    }
}

#[tokio::test]
async fn a_member_deleted_mid_walk_makes_no_one_else_repeat_or_disappear() {
    let server = TestServer::start().await;
    let org = org_with_members(&server, 30).await;
    let api = org.owner_api();
    let first = api
        .get(&org.path("/memberships?page_size=10&page=1"))
        .await
        .expect(200);
    let mut seen = ids(&first.body);
    // Delete someone already seen on page 1 (not the Owner).
    let victim = first.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["role"] != "OW")
        .expect("a member")
        .clone();
    api.delete(&org.path(&format!("/memberships/{}/", victim["user"]["id"])))
        .await
        .expect(204);
    for page in 2.. {
        let r = api
            .get(&org.path(&format!("/memberships?page_size=10&page={page}")))
            .await
            .expect(200);
        let got = ids(&r.body);
        if got.is_empty() {
            break;
        }
        seen.extend(got);
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "nobody repeats: {seen:?}");
    let now = ids(&api
        .get(&org.path("/memberships?page_size=1000"))
        .await
        .expect(200)
        .body);
    for id in now {
        assert!(unique.contains(&id), "member {id} was skipped by the walk");
    }
}

/// On PostgreSQL roster's connections plan for cached data (`random_page_cost` 1.1, not the
/// server's default 4, which had a members page of an organization of 10,000 scan the whole
/// memberships table: 3.6 ms a page instead of 0.6 ms).
#[tokio::test]
async fn postgres_connections_plan_for_cached_data() {
    if roster_tests::db() != roster_tests::Db::Postgres {
        return;
    }
    let server = TestServer::start().await;
    let rows = server
        .sql_rows("SELECT current_setting('random_page_cost')", 1)
        .await;
    assert_eq!(rows[0][0].text(), Some("1.1"));
}
