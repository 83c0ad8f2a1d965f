//! The member list's tag and last-activity filters page after page: the same members in the
//! same order whether a page follows the one before it (seeking past its last row) or is a
//! cold jump (by offset), at any page size, so the store's two ways of finding a page (walking
//! the list in order, or starting from the filter's index) always agree; a member carrying
//! two of the tags counts once. And the activity the filters read follows the person: into
//! an organization they join (one at a time or by import), into every organization they
//! belong to when they act again, and, for a deleted member, their own latest activity.

use std::time::Duration;

use roster_domain::Role;
use roster_service::import::ImportRow;
use roster_tests::{json, results, OrgFixture, Person, TestServer};
use serde_json::Value;

/// `+` in an ISO instant must be escaped in a query string.
fn enc(s: &str) -> String {
    s.replace('+', "%2B")
}

async fn get(org: &OrgFixture, path: &str) -> Value {
    org.owner_api().get(&org.path(path)).await.expect(200).body
}

fn ids(v: &Value) -> Vec<i64> {
    results(v)
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect()
}

/// A person's last activity as the member list shows it.
async fn activity_of(org: &OrgFixture, p: &Person) -> String {
    let list = get(org, "/memberships?page_size=100").await;
    results(&list)
        .iter()
        .find(|m| m["user"]["id"] == p.id.0)
        .unwrap_or_else(|| panic!("{} not in {list}", p.email))["user"]["last_activity"]
        .as_str()
        .unwrap_or_else(|| panic!("{} never active: {list}", p.email))
        .to_string()
}

async fn act(org: &OrgFixture, p: &Person) {
    org.api(p).get("/api/current-user/whoami").await.expect(200);
}

/// Reads `list` (a member-list path with its query, without paging) at `size` members a page:
/// backward first, each page a cold jump (its predecessor not yet served), then forward, each
/// page seeking past the end of the one before; then all of it as one cold page. Each must
/// give `expected`, in order, and every page the count.
async fn pages_agree(org: &OrgFixture, list: &str, size: usize, expected: &[i64]) {
    let pages = expected.len().div_ceil(size).max(1);
    let page = |n: usize| format!("{list}&page_size={size}&page={n}");
    let mut backward: Vec<Vec<i64>> = Vec::new();
    for n in (1..=pages).rev() {
        let body = get(org, &page(n)).await;
        assert_eq!(body["count"], expected.len(), "{}", page(n));
        backward.push(ids(&body));
    }
    backward.reverse();
    assert_eq!(
        backward.concat(),
        expected,
        "{list} by cold jumps at {size}"
    );
    let mut forward = Vec::new();
    for n in 1..=pages {
        forward.extend(ids(&get(org, &page(n)).await));
    }
    assert_eq!(forward, expected, "{list} forward at {size}");
    let whole = get(org, &format!("{list}&page_size=100")).await;
    assert_eq!(ids(&whole), expected, "{list} in one page");
}

async fn tag(org: &OrgFixture, label: &str) -> i64 {
    org.owner_api()
        .post(&org.path("/member-tags"), json!({ "label": label }))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn tag_and_activity_filters_give_the_same_pages_forward_and_by_cold_jumps() {
    let server = TestServer::start().await;
    let org = server.org("Pages").await;
    let api = org.owner_api();
    // 24 members, m00 to m23 (so email order is number order): even numbers Annotators, odd
    // Reviewers; member i acts at minute 2i.
    let mut people = Vec::new();
    for i in 0..24 {
        let role = if i % 2 == 0 {
            Role::Annotator
        } else {
            Role::Reviewer
        };
        people.push(
            org.member_with_email(&format!("m{i:02}@pages.example.com"), role)
                .await,
        );
    }
    for p in &people {
        act(&org, p).await;
        server.advance(Duration::from_secs(120));
    }
    // The Owner reads the list from here on, an hour after the last member acted.
    server.advance(Duration::from_secs(3600));
    let (red, blue) = (tag(&org, "red").await, tag(&org, "blue").await);
    let id = |i: usize| people[i].id.0;
    let pick = |f: &dyn Fn(usize) -> bool| (0..24).filter(|i| f(*i)).map(id).collect::<Vec<_>>();
    for (t, every) in [(red, 3), (blue, 4)] {
        let included: Vec<i64> = (0..24).step_by(every).map(id).collect();
        api.post(
            &org.path("/member-tags/assignments"),
            json!({"all": false, "included": included, "tags": [t]}),
        )
        .await
        .expect(200);
    }
    let from = activity_of(&org, &people[5]).await;
    let to = activity_of(&org, &people[17]).await;
    let window = format!(
        "user__last_activity__gte={}&user__last_activity__lte={}",
        enc(&from),
        enc(&to)
    );
    let by_tag_and_time = json!({"version": 1, "filters": [
        {"key": "tags", "value": [blue]},
        {"key": "last_activity", "value": {"gte": from, "lte": to}}]});
    let cases: Vec<(String, Vec<i64>)> = vec![
        (format!("/memberships?tags={red}"), pick(&|i| i % 3 == 0)),
        // Members 0 and 12 carry both: each once.
        (
            format!("/memberships?tags={red},{blue}"),
            pick(&|i| i % 3 == 0 || i % 4 == 0),
        ),
        (
            format!("/memberships?tags={red}&role=RE"),
            pick(&|i| i % 3 == 0 && i % 2 == 1),
        ),
        (
            format!("/memberships?{window}"),
            pick(&|i| (5..=17).contains(&i)),
        ),
        (
            format!("/memberships?tags={red}&{window}"),
            pick(&|i| i % 3 == 0 && (5..=17).contains(&i)),
        ),
        (
            format!("/memberships?{window}&ordering=-user__last_activity"),
            (5..=17).rev().map(id).collect(),
        ),
        (
            format!("/memberships?{window}&role=AN&ordering=user__last_activity"),
            pick(&|i| i % 2 == 0 && (5..=17).contains(&i)),
        ),
        (
            format!(
                "/memberships/search?filters={}",
                roster_tests::encode(&by_tag_and_time.to_string())
            ),
            pick(&|i| i % 4 == 0 && (5..=17).contains(&i)),
        ),
        (
            format!(
                "/memberships?user__last_activity__lte={}",
                enc(&activity_of(&org, &people[2]).await)
            ),
            pick(&|i| i <= 2),
        ),
    ];
    for (list, expected) in &cases {
        for size in [1, 2, 5] {
            pages_agree(&org, list, size, expected).await;
        }
    }
    // The same through POST memberships/search, by cold jumps.
    let expected = pick(&|i| i % 4 == 0 && (5..=17).contains(&i));
    let mut seen = Vec::new();
    for n in (1..=expected.len()).rev() {
        let body = api
            .post(
                &org.path(&format!("/memberships/search?page_size=1&page={n}")),
                json!({ "filters": by_tag_and_time }),
            )
            .await
            .expect(200)
            .body;
        assert_eq!(body["count"], expected.len());
        seen.insert(0, ids(&body)[0]);
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn the_activity_filters_read_follows_the_person_into_every_organization() {
    let server = TestServer::start().await;
    let a = server.org("A").await;
    let b = server.org("B").await;
    let p = a.member(Role::Annotator).await;
    let idle = b.member(Role::Annotator).await;
    act(&a, &p).await;
    let first = activity_of(&a, &p).await;
    server.advance(Duration::from_secs(3600));
    // Joining B, the person brings the activity they had.
    b.add_existing(&p, Role::Annotator).await;
    let since_first = format!(
        "/memberships?role=AN&user__last_activity__gte={}",
        enc(&first)
    );
    assert_eq!(ids(&get(&b, &since_first).await), vec![p.id.0]);
    assert_eq!(
        ids(&get(&b, "/memberships?role=AN&ordering=-user__last_activity").await),
        vec![p.id.0, idle.id.0]
    );
    // Acting again moves them in both organizations.
    server.advance(Duration::from_secs(120));
    act(&b, &p).await;
    let second = activity_of(&b, &p).await;
    assert_ne!(first, second);
    for org in [&a, &b] {
        let since = format!(
            "/memberships?role=AN&user__last_activity__gte={}",
            enc(&second)
        );
        assert_eq!(ids(&get(org, &since).await), vec![p.id.0], "{}", org.id);
        let before = format!(
            "/memberships?role=AN&user__last_activity__lte={}",
            enc(&first)
        );
        assert!(get(org, &before).await["count"] == 0, "{}", org.id);
    }
    // Removed from B, they keep acting in A: B's deleted members are filtered by the
    // person's latest activity.
    b.owner_api()
        .delete(&b.path(&format!("/memberships/{}/", p.id.0)))
        .await
        .expect(204);
    server.advance(Duration::from_secs(120));
    act(&a, &p).await;
    let third = activity_of(&a, &p).await;
    let deleted_since = format!(
        "/memberships?is_deleted=true&user__last_activity__gte={}",
        enc(&third)
    );
    assert_eq!(get(&b, &deleted_since).await["count"], 1);
    assert_eq!(
        get(
            &b,
            &format!(
                "/memberships?is_deleted=true&user__last_activity__gte={}&ordering=-user__last_activity",
                enc(&third)
            )
        )
        .await["count"],
        1
    );
    assert_eq!(get(&b, &since_first).await["count"], 0);
}

#[tokio::test]
async fn an_imported_member_brings_their_activity() {
    let server = TestServer::start().await;
    let a = server.org("A").await;
    let c = server.org("C").await;
    let p = a.member(Role::Annotator).await;
    act(&a, &p).await;
    let at = activity_of(&a, &p).await;
    server.advance(Duration::from_secs(3600));
    let rows = vec![
        ImportRow {
            line: 2,
            email: p.email.clone(),
            first_name: "Pat".into(),
            last_name: "Imported".into(),
            role: "AN".into(),
            projects: vec![],
            workspaces: vec![],
        },
        ImportRow {
            line: 3,
            email: "new-person@import.example.com".into(),
            first_name: "New".into(),
            last_name: "Person".into(),
            role: "AN".into(),
            projects: vec![],
            workspaces: vec![],
        },
    ];
    let outcome = server
        .service
        .import_members(c.id, &rows, true)
        .await
        .expect("import");
    assert_eq!(outcome.added, 2);
    let since = format!("/memberships?role=AN&user__last_activity__gte={}", enc(&at));
    assert_eq!(ids(&get(&c, &since).await), vec![p.id.0]);
    assert_eq!(activity_of(&c, &p).await, at);
}
