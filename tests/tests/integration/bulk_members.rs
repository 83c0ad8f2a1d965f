//! Acting on many members at once (`POST /api/organizations/{id}/memberships/bulk` and the
//! Organization page's bulk form): each person decided by the rules of a single change, seats
//! first come first served in the selection's order, refusals named with their reasons,
//! selections worked through in batches of at most 1,000 with a cursor, and a second bulk
//! request at the same time never taking more seats than are free.

use roster_domain::Role;
use roster_tests::{json, OrgFixture, Person, TestServer};
use serde_json::Value;

use crate::scim_page::{browser, post_page};
use crate::workspace_pages::location;

/// Sets the seat limit so that exactly `free` seats are free now.
async fn leave_free_seats(org: &OrgFixture, free: i64) {
    let used = org.seats().await["used"].as_i64().expect("used");
    org.owner_api()
        .patch(&org.path(""), json!({"seat_limit": used + free}))
        .await
        .expect(200);
}

async fn pending(org: &OrgFixture, n: usize) -> Vec<Person> {
    let mut people = Vec::with_capacity(n);
    for _ in 0..n {
        people.push(org.member(Role::NotActivated).await);
    }
    people
}

fn ids(people: &[Person]) -> Vec<i64> {
    people.iter().map(|p| p.id.0).collect()
}

fn user_ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|v| {
            v["user_id"]
                .as_i64()
                .or_else(|| v.as_i64())
                .expect("user id")
        })
        .collect()
}

async fn role_of(org: &OrgFixture, p: &Person) -> String {
    let r = org
        .owner_api()
        .get(&org.path(&format!("/memberships/{}", p.id.0)))
        .await
        .expect(200);
    r.body["role"].as_str().expect("role").to_string()
}

#[tokio::test]
async fn forty_pending_with_thirty_seats_free_activates_the_first_thirty_and_names_the_ten_refused()
{
    let server = TestServer::start().await;
    let org = server.org("Morning sign-ups").await;
    let people = pending(&org, 40).await;
    leave_free_seats(&org, 30).await;
    let r = org
        .owner_api()
        .post(
            &org.path("/memberships/bulk"),
            json!({"action": "assign_role", "role": "AN", "included": ids(&people)}),
        )
        .await
        .expect(200);
    assert_eq!(user_ids(&r.body["changed"]), ids(&people[..30]));
    assert_eq!(user_ids(&r.body["refused"]), ids(&people[30..]));
    for refused in r.body["refused"].as_array().unwrap() {
        let reason = refused["reason"].as_str().unwrap();
        assert!(reason.contains("seats in use"), "{reason}");
        assert!(refused["email"].as_str().unwrap().contains('@'));
    }
    assert_eq!(r.body["changed"][0]["from"], "NO");
    assert_eq!(r.body["changed"][0]["to"], "AN");
    assert_eq!(r.body["batches"], 1);
    assert!(r.body["next"].is_null());
    assert_eq!(role_of(&org, &people[29]).await, "AN");
    assert_eq!(role_of(&org, &people[30]).await, "NO");
    let seats = org.seats().await;
    assert_eq!(seats["used"], seats["limit"]);
    let changed = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = {} AND action = 'member.role_changed'",
            org.id.0
        ))
        .await;
    assert_eq!(changed, 30, "one audit event per activation");
    server.assert_live_counts().await;
}

#[tokio::test]
async fn each_person_is_decided_by_the_single_change_rules() {
    let server = TestServer::start().await;
    let org = server.org("Rules").await;
    let admin = org.member(Role::Administrator).await;
    let anna = org.member(Role::Annotator).await;
    let other = server.org("Elsewhere").await;
    let stranger = other.member(Role::Annotator).await;
    let r = org
        .api(&admin)
        .post(
            &org.path("/memberships/bulk"),
            json!({"action": "assign_role", "role": "DI",
                   "included": [org.owner.id.0, admin.id.0, anna.id.0, stranger.id.0, anna.id.0]}),
        )
        .await
        .expect(200);
    assert_eq!(user_ids(&r.body["changed"]), vec![anna.id.0]);
    let refused = r.body["refused"].as_array().unwrap();
    let reason = |id: i64| {
        refused
            .iter()
            .find(|x| x["user_id"] == id)
            .map(|x| x["reason"].as_str().unwrap().to_string())
            .unwrap_or_default()
    };
    assert!(reason(org.owner.id.0).contains("Owner"), "{refused:?}");
    assert!(!reason(admin.id.0).is_empty(), "the caller's own role");
    assert_eq!(reason(stranger.id.0), "not a member of this organization");
    assert!(
        refused.iter().all(|x| x["user_id"] != anna.id.0),
        "a repeat is decided once"
    );
    assert_eq!(role_of(&org, &anna).await, "DI");
    assert_eq!(role_of(&org, &admin).await, "AD");
    // Again: Anna already is Deactivated.
    let r = org
        .api(&admin)
        .post(
            &org.path("/memberships/bulk"),
            json!({"action": "assign_role", "role": "DI", "included": [anna.id.0]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["unchanged"], json!([anna.id.0]));
}

#[tokio::test]
async fn bad_requests_are_refused_whole_and_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Strict").await;
    let anna = org.member(Role::Annotator).await;
    let manager = org.member(Role::Manager).await;
    let path = org.path("/memberships/bulk");
    let before = server.snapshot().await;
    for body in [
        json!({"action": "assign_role", "role": "OW", "included": [anna.id.0]}),
        json!({"action": "assign_role", "role": "XX", "included": [anna.id.0]}),
        json!({"action": "assign_role", "included": [anna.id.0]}),
        json!({"action": "delete", "role": "AN", "included": [anna.id.0]}),
        json!({"action": "promote", "included": [anna.id.0]}),
        json!({"action": "delete", "excluded": [anna.id.0]}),
        json!({"action": "delete", "all": true, "after": "p:x"}),
        json!({"action": "delete", "included": [anna.id.0], "max_batches": 0}),
        json!({"action": "delete", "included": [anna.id.0], "surprise": 1}),
    ] {
        let r = org.owner_api().post(&path, body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let r = org
        .owner_api()
        .post(
            &format!("{path}?is_deleted=true"),
            json!({"action": "delete", "all": true}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // A tag that names nothing is refused, as the member list refuses it.
    let r = org
        .owner_api()
        .post(
            &format!("{path}?tags=999999"),
            json!({"action": "delete", "all": true}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("999999"), "{}", r.text);
    let r = org
        .api(&manager)
        .post(&path, json!({"action": "delete", "included": [anna.id.0]}))
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn all_matching_a_filter_runs_in_batches_of_a_thousand_that_a_cursor_continues() {
    let server = TestServer::start().await;
    let org = server.org("Big").await;
    org.import_annotators(2_345, |i| {
        (
            format!("bulk{i:05}@example.com"),
            format!("B{i}"),
            "Bulk".into(),
        )
    })
    .await;
    let keep = org
        .member_with_email("bulk00007@keep.example.com", Role::Annotator)
        .await;
    let path = org.path("/memberships/bulk?role=AN&search=bulk");
    let body = |after: Value| {
        json!({"action": "assign_role", "role": "DI", "all": true, "excluded": [keep.id.0],
               "max_batches": 1, "after": after})
    };
    let mut after = Value::Null;
    let mut decided = Vec::new();
    let mut calls = 0;
    loop {
        let r = org.owner_api().post(&path, body(after)).await.expect(200);
        calls += 1;
        assert_eq!(r.body["batches"], 1);
        let changed = user_ids(&r.body["changed"]);
        assert!(changed.len() <= 1_000);
        decided.extend(changed);
        after = r.body["next"].clone();
        if after.is_null() {
            break;
        }
    }
    assert_eq!(calls, 3);
    assert_eq!(decided.len(), 2_345);
    assert!(!decided.contains(&keep.id.0));
    let left = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM memberships WHERE org_id = {} AND role = 'AN' AND deleted_at IS NULL",
            org.id.0
        ))
        .await;
    assert_eq!(left, 1, "only the excluded member kept their role");
    // Without max_batches one call works through the whole selection.
    let r = org
        .owner_api()
        .post(
            &org.path("/memberships/bulk?role=DI"),
            json!({"action": "assign_role", "role": "AN", "all": true}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["batches"], 3);
    assert_eq!(r.body["changed"].as_array().unwrap().len(), 2_345);
    server.assert_live_counts().await;
}

#[tokio::test]
async fn a_concurrent_second_bulk_request_never_takes_more_seats_than_are_free() {
    let server = TestServer::start().await;
    let org = server.org("Race").await;
    let first = pending(&org, 25).await;
    let second = pending(&org, 25).await;
    leave_free_seats(&org, 30).await;
    let send = |people: Vec<i64>| {
        let api = org.owner_api();
        let path = org.path("/memberships/bulk");
        async move {
            api.post(
                &path,
                json!({"action": "assign_role", "role": "RE", "included": people}),
            )
            .await
            .expect(200)
        }
    };
    let (a, b) = tokio::join!(send(ids(&first)), send(ids(&second)));
    let changed =
        a.body["changed"].as_array().unwrap().len() + b.body["changed"].as_array().unwrap().len();
    let refused =
        a.body["refused"].as_array().unwrap().len() + b.body["refused"].as_array().unwrap().len();
    assert_eq!(changed, 30);
    assert_eq!(refused, 20);
    let seats = org.seats().await;
    assert_eq!(seats["used"], seats["limit"]);
    // Within each request, seats went in its order: nobody after a refusal was activated.
    for (r, people) in [(&a, &first), (&b, &second)] {
        let n = r.body["changed"].as_array().unwrap().len();
        assert_eq!(user_ids(&r.body["changed"]), ids(&people[..n]));
    }
    server.assert_live_counts().await;
}

#[tokio::test]
async fn bulk_delete_keeps_the_owner_and_removes_the_rest() {
    let server = TestServer::start().await;
    let org = server.org("Leaving").await;
    let people = [
        org.member(Role::Annotator).await,
        org.member(Role::Reviewer).await,
    ];
    let mut included = ids(&people);
    included.push(org.owner.id.0);
    let r = org
        .owner_api()
        .post(
            &org.path("/memberships/bulk"),
            json!({"action": "delete", "included": included}),
        )
        .await
        .expect(200);
    assert_eq!(user_ids(&r.body["changed"]), ids(&people));
    assert!(r.body["changed"][0]["to"].is_null());
    assert_eq!(user_ids(&r.body["refused"]), vec![org.owner.id.0]);
    for p in &people {
        org.owner_api()
            .get(&org.path(&format!("/memberships/{}", p.id.0)))
            .await
            .expect(404);
    }
}

#[tokio::test]
async fn the_page_form_without_script_runs_the_selection_and_says_what_happened() {
    let server = TestServer::start().await;
    let org = server.org("Page").await;
    org.set_password(&org.owner).await;
    let people = pending(&org, 4).await;
    leave_free_seats(&org, 3).await;
    let owner = browser(&server, &org.owner.email).await;
    let users: Vec<String> = people.iter().map(|p| p.id.0.to_string()).collect();
    let mut fields = vec![("action", "role:AN"), ("back", "role=NO&page=1")];
    for u in &users {
        fields.push(("users", u.as_str()));
    }
    let r = post_page(&owner, "/organization/members/bulk", &fields).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let to = location(&r);
    assert!(to.starts_with("/organization?role=NO"), "{to}");
    let page = owner.get(&to).await.expect(200).text;
    assert!(page.contains("3 members are now Annotator"), "{page}");
    assert!(
        page.contains(&format!("1 refused ({})", people[3].email)),
        "{page}"
    );
    assert_eq!(role_of(&org, &people[2]).await, "AN");
    assert_eq!(role_of(&org, &people[3]).await, "NO");
    // Script asks for JSON, one batch at a time, and gets the seats with it.
    let form = format!(
        "csrf_token={}&action=role%3ADI&users={}%2C{}&max_batches=1",
        roster_tests::encode(owner.csrf.as_deref().unwrap()),
        people[0].id.0,
        people[1].id.0
    );
    let r = owner
        .send(
            reqwest::Method::POST,
            "/organization/members/bulk",
            Some(("application/x-www-form-urlencoded", form.into_bytes())),
            &[("accept", "application/json")],
        )
        .await
        .expect(200);
    assert_eq!(user_ids(&r.body["changed"]), ids(&people[..2]));
    assert!(r.body["seats"].as_str().unwrap().contains("seats in use"));
    // With what the seat meter shows: two seats given back, of a limit of 3 free more.
    let limit = r.body["seat_limit"].as_i64().expect("seat_limit");
    assert_eq!(r.body["seats_used"].as_i64(), Some(limit - 2));
    assert_eq!(r.body["seats_full"], false);
    assert!(r.body["message"]
        .as_str()
        .unwrap()
        .contains("2 members are now Deactivated"));
    // Without the CSRF token nothing happens.
    let mut forged = owner.clone();
    forged.csrf = None;
    let before = server.snapshot().await;
    let r = forged
        .post_form(
            "/organization/members/bulk",
            &[("action", "delete"), ("users", users[2].as_str())],
        )
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(server.snapshot().await, before);
    // Deleting from the page needs its confirmation.
    let r = post_page(
        &owner,
        "/organization/members/bulk",
        &[("action", "delete"), ("users", users[2].as_str())],
    )
    .await;
    assert_eq!(r.status, 303);
    let page = owner.get(&location(&r)).await.expect(200).text;
    assert!(page.contains("tick &quot;Yes, delete them&quot;"), "{page}");
    assert_eq!(server.snapshot().await, before);
    let r = post_page(
        &owner,
        "/organization/members/bulk",
        &[
            ("action", "delete"),
            ("users", users[2].as_str()),
            ("confirm", "delete"),
        ],
    )
    .await;
    let page = owner.get(&location(&r)).await.expect(200).text;
    assert!(page.contains("1 member was deleted."), "{page}");
}

#[tokio::test]
async fn the_pages_last_active_filter_selects_people_idle_for_ninety_days_for_a_bulk_deactivation()
{
    let server = TestServer::start().await;
    let org = server.org("Idle").await;
    org.set_password(&org.owner).await;
    let idle = [
        org.member(Role::Annotator).await,
        org.member(Role::Reviewer).await,
    ];
    let busy = org.member(Role::Annotator).await;
    let day = 86_400_000_000i64;
    let now = server.sql_int("SELECT MAX(date_joined) FROM users").await;
    for (p, at) in [
        (&idle[0], now - 100 * day),
        (&idle[1], now - 91 * day),
        (&busy, now - day),
    ] {
        server
            .sql_execute(&format!(
                "UPDATE users SET last_activity = {at} WHERE id = {id}; \
                 UPDATE memberships SET user_last_activity = {at} WHERE user_id = {id}",
                id = p.id.0
            ))
            .await;
    }
    let owner = browser(&server, &org.owner.email).await;
    let page = owner
        .get("/organization?active=idle90")
        .await
        .expect(200)
        .text;
    for p in &idle {
        assert!(
            page.contains(&format!("data-email=\"{}\"", p.email)),
            "{page}"
        );
    }
    assert!(!page.contains(&format!("data-email=\"{}\"", busy.email)));
    assert!(page.contains("<option value=\"idle90\" selected>"));
    let recent = owner.get("/organization?active=7d").await.expect(200).text;
    assert!(recent.contains(&format!("data-email=\"{}\"", busy.email)));
    assert!(!recent.contains(&format!("data-email=\"{}\"", idle[0].email)));
    let r = owner.get("/organization?active=forever").await;
    assert_eq!(r.status, 400, "{}", r.text);
    let r = post_page(
        &owner,
        "/organization/members/bulk",
        &[
            ("action", "role:DI"),
            ("all", "1"),
            ("back", "active=idle90&page=1"),
        ],
    )
    .await;
    assert_eq!(r.status, 303);
    assert!(location(&r).starts_with("/organization?active=idle90"));
    for p in &idle {
        assert_eq!(role_of(&org, p).await, "DI");
    }
    assert_eq!(role_of(&org, &busy).await, "AN");
}
