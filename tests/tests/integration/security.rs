//! The holes an attack on main found (issue 9), each proven closed through HTTP: the sign-in
//! throttle under parallel attempts (one node and two), account enumeration through sign-up,
//! renames across the Owner and across organizations, username squatting, what a password
//! change does to the person's credentials, and a deleted member rejoining through the link.

use std::collections::BTreeMap;
use std::sync::Arc;

use roster_domain::Role;
use roster_service::ServiceConfig;
use roster_tests::{json, session_cookie, Api, TestServer, PASSWORD};
use serde_json::Value;

/// Sends every body to `/user/login` at once (each on its own connection) and counts the
/// answers by status.
async fn parallel_logins(clients: &[Api], bodies: Vec<Value>) -> BTreeMap<u16, usize> {
    let mut set = tokio::task::JoinSet::new();
    for (i, body) in bodies.into_iter().enumerate() {
        let api = clients[i % clients.len()].clone();
        set.spawn(async move { api.post("/user/login", body).await.status });
    }
    let mut counts = BTreeMap::new();
    while let Some(status) = set.join_next().await {
        *counts.entry(status.expect("task")).or_default() += 1;
    }
    counts
}

fn wrong(email: &str) -> Value {
    json!({"email": email, "password": "wrong password"})
}

#[tokio::test]
async fn parallel_wrong_passwords_for_one_account_are_evaluated_once() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    // 40, 100 and 200 attempts at once, each burst from an address of its own.
    for (n, last_octet) in [(40, 11), (100, 12), (200, 13)] {
        let api = server.anonymous().from_address([127, 0, 1, last_octet]);
        let counts = parallel_logins(&[api], vec![wrong(&org.owner.email); n]).await;
        let expected = BTreeMap::from([(401, 1), (429, n - 1)]);
        assert_eq!(counts, expected, "{n} parallel attempts on one account");
    }
}

#[tokio::test]
async fn parallel_wrong_passwords_across_accounts_from_one_address_stop_at_the_allowance() {
    let server = TestServer::start().await;
    // The default allowance is 20 failures per address: sent one after another, the 21st
    // attempt would already wait, so sent together exactly 20 are evaluated.
    for (n, last_octet) in [(60, 21), (100, 22), (200, 23)] {
        let api = server.anonymous().from_address([127, 0, 2, last_octet]);
        let bodies = (0..n)
            .map(|i| wrong(&format!("person{i}@example.com")))
            .collect();
        let counts = parallel_logins(&[api], bodies).await;
        let expected = BTreeMap::from([(401, 20), (429, n - 20)]);
        assert_eq!(counts, expected, "{n} parallel attempts on {n} accounts");
    }
}

#[tokio::test]
async fn the_twenty_first_failure_from_one_address_is_answered_429() {
    let server = TestServer::start().await;
    let api = server.anonymous().from_address([127, 0, 3, 1]);
    for i in 0..20 {
        api.post("/user/login", wrong(&format!("p{i}@example.com")))
            .await
            .expect(401);
    }
    let r = api
        .post("/user/login", wrong("p20@example.com"))
        .await
        .expect(429);
    assert!(r.headers.get("retry-after").is_some());
    // Another address is not slowed by it.
    server
        .anonymous()
        .from_address([127, 0, 3, 2])
        .post("/user/login", wrong("p20@example.com"))
        .await
        .expect(401);
}

#[tokio::test]
async fn parallel_attempts_spread_over_two_nodes_are_evaluated_once() {
    let a = TestServer::start().await;
    let b =
        TestServer::start_on(Arc::clone(&a.db), ServiceConfig::default(), a.clock.clone()).await;
    let org = a.org("Two Nodes").await;
    let clients = [
        a.anonymous().from_address([127, 0, 4, 1]),
        b.anonymous().from_address([127, 0, 4, 1]),
    ];
    let counts = parallel_logins(&clients, vec![wrong(&org.owner.email); 40]).await;
    assert_eq!(counts, BTreeMap::from([(401, 1), (429, 39)]));
    let bodies = (0..60)
        .map(|i| wrong(&format!("node{i}@example.com")))
        .collect();
    let clients = [
        a.anonymous().from_address([127, 0, 4, 2]),
        b.anonymous().from_address([127, 0, 4, 2]),
    ];
    let counts = parallel_logins(&clients, bodies).await;
    assert_eq!(counts, BTreeMap::from([(401, 20), (429, 40)]));
}

#[tokio::test]
async fn a_successful_sign_in_gives_its_count_back() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = server.anonymous().from_address([127, 0, 5, 1]);
    for i in 0..19 {
        api.post("/user/login", wrong(&format!("q{i}@example.com")))
            .await
            .expect(401);
    }
    // Twenty successes in a row are not twenty failures.
    for _ in 0..20 {
        api.post(
            "/user/login",
            json!({"email": org.owner.email, "password": PASSWORD}),
        )
        .await
        .expect(200);
    }
    // The 20th failure is still free, and it is the last.
    api.post("/user/login", wrong("q19@example.com"))
        .await
        .expect(401);
    api.post("/user/login", wrong("q20@example.com"))
        .await
        .expect(429);
}

/// A sign-up through the link as JSON.
async fn link_signup(api: &Api, token: &str, body: Value) -> roster_tests::Resp {
    api.post(&format!("/user/signup/?token={token}"), body)
        .await
}

#[tokio::test]
async fn a_malformed_sign_up_answers_the_same_whether_or_not_the_email_has_an_account() {
    let server = TestServer::start().await;
    let a = server.org("A").await;
    let b = server.org("B").await;
    let token = b.invite_token().await;
    let api = server.anonymous();
    let before = server.snapshot().await;
    for (field, body_for) in [
        (
            "password",
            (|e: &str| json!({"email": e, "password": "short"})) as fn(&str) -> Value,
        ),
        (
            "first_name",
            |e: &str| json!({"email": e, "password": "long enough password", "first_name": "x".repeat(151)}),
        ),
    ] {
        let existing = link_signup(&api, &token, body_for(&a.owner.email))
            .await
            .expect(400);
        let unknown = link_signup(&api, &token, body_for("nobody@example.com"))
            .await
            .expect(400);
        assert_eq!(existing.body, unknown.body, "{field}");
        assert!(existing.body["validation_errors"][field].is_array());
    }
    // Many malformed attempts are not throttled differently either.
    for _ in 0..30 {
        link_signup(
            &api,
            &token,
            json!({"email": a.owner.email, "password": "short"}),
        )
        .await
        .expect(400);
    }
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn well_formed_sign_ups_are_throttled_per_address_for_every_email_alike() {
    let server = TestServer::start().await;
    let a = server.org("A").await;
    let b = server.org("B").await;
    let token = b.invite_token().await;
    let api = server.anonymous().from_address([127, 0, 6, 1]);
    // An existing account with a wrong password is a failed sign-in...
    link_signup(
        &api,
        &token,
        json!({"email": a.owner.email, "password": "a wrong but long password"}),
    )
    .await
    .expect(401);
    // ... and 19 more failures from this address use up its allowance.
    for i in 0..19 {
        api.post("/user/login", wrong(&format!("r{i}@example.com")))
            .await
            .expect(401);
    }
    let before = server.snapshot().await;
    // Now every well-formed sign-up from here waits, whether the email has an account or not.
    for email in [a.owner.email.as_str(), "newcomer@example.com"] {
        let r = link_signup(
            &api,
            &token,
            json!({"email": email, "password": "a long enough password"}),
        )
        .await
        .expect(429);
        assert!(r.headers.get("retry-after").is_some());
    }
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn an_administrator_cannot_rename_the_owner() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let before = server.snapshot().await;
    let r = org
        .api(&admin)
        .patch(
            &format!("/api/users/{}/", org.owner.id.0),
            json!({"first_name": "Mallory"}),
        )
        .await
        .expect(403);
    assert!(r.body["detail"].as_str().unwrap().contains("Owner"));
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn another_organization_cannot_rename_a_person_who_belongs_elsewhere_too() {
    let server = TestServer::start().await;
    let a = server.org("A").await;
    let b = server.org("B").await;
    // A's Owner joins B; so does an Annotator of A.
    b.add_existing(&a.owner, Role::Annotator).await;
    let ann = a.member(Role::Annotator).await;
    b.add_existing(&ann, Role::Annotator).await;
    let b_admin = b.member(Role::Administrator).await;
    let before = server.snapshot().await;
    for person in [&a.owner, &ann] {
        for api in [b.owner_api(), b.api(&b_admin)] {
            api.patch(
                &format!("/api/users/{}/", person.id.0),
                json!({"first_name": "Renamed", "last_name": "ByB"}),
            )
            .await
            .expect(403);
        }
    }
    assert_eq!(server.snapshot().await, before);
    // A's list still shows the names A knows.
    let list = a.owner_api().get(&a.path("/memberships")).await.expect(200);
    assert!(!list.text.contains("Renamed"));
}

#[tokio::test]
async fn an_owner_or_administrator_renames_a_member_of_theirs_alone_and_it_is_audited() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let ann = org.member(Role::Annotator).await;
    let r = org
        .api(&admin)
        .patch(
            &format!("/api/users/{}/", ann.id.0),
            json!({"first_name": "Ann", "last_name": "Lee"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["first_name"], "Ann");
    let log = org
        .owner_api()
        .get("/api/audit-events/?action=member.renamed")
        .await
        .expect(200);
    let events = log.body["results"].as_array().expect("results");
    assert_eq!(events.len(), 1, "{}", log.text);
    assert!(log.text.contains("Ann Lee"), "{}", log.text);
    // The Owner may rename an Administrator.
    org.owner_api()
        .patch(
            &format!("/api/users/{}/", admin.id.0),
            json!({"last_name": "Admin"}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_username_cannot_take_another_persons_email_or_name() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ann = org.member(Role::Annotator).await;
    let rev = org.member(Role::Reviewer).await;
    let before = server.snapshot().await;
    for squat in [
        org.owner.email.clone(),
        org.owner.email.to_uppercase(),
        "future.colleague@example.com".to_string(),
    ] {
        let r = org
            .api(&ann)
            .patch("/api/current-user", json!({"username": squat}))
            .await
            .expect(400);
        assert!(
            r.body["validation_errors"]["username"].is_array(),
            "{}",
            r.text
        );
    }
    assert_eq!(server.snapshot().await, before);
    // One's own email, in any case, is fine; so is a name nobody holds.
    org.api(&ann)
        .patch(
            "/api/current-user",
            json!({"username": ann.email.to_uppercase()}),
        )
        .await
        .expect(200);
    org.api(&ann)
        .patch("/api/current-user", json!({"username": "Annie"}))
        .await
        .expect(200);
    // Usernames are unique whatever their case.
    let r = org
        .api(&rev)
        .patch("/api/current-user", json!({"username": "aNNIE"}))
        .await
        .expect(400);
    assert!(
        r.body["validation_errors"]["username"].is_array(),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_password_change_ends_other_sessions_continues_this_one_and_keeps_keys_and_tokens() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = &org.owner;
    let (_, access) = server.pat_and_access(owner).await;
    let mut here = server.browser();
    let first = here.sign_in(&owner.email, PASSWORD).await.expect(200);
    let old_cookie = session_cookie(&first).expect("cookie");
    let mut elsewhere = server.browser();
    elsewhere.sign_in(&owner.email, PASSWORD).await.expect(200);

    let r = here
        .patch(
            "/api/current-user",
            json!({"password": "a brand new password", "current_password": PASSWORD}),
        )
        .await
        .expect(200);
    let detail = r.body["detail"].as_str().expect("detail");
    assert!(
        detail.contains("signed out") && detail.contains("still work"),
        "{detail}"
    );
    let new_cookie = session_cookie(&r).expect("a new session cookie");
    assert_ne!(new_cookie, old_cookie);

    // This browser continues (with its new session), the other one is signed out, and so is
    // anyone holding the old session id.
    here.get("/api/current-user/whoami").await.expect(200);
    elsewhere.get("/api/current-user/whoami").await.expect(401);
    server
        .anonymous()
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("Cookie", &format!("roster_session={old_cookie}"))],
        )
        .await
        .expect(401);
    // Keys and personal access tokens are separate credentials and keep working.
    org.owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    server
        .anonymous()
        .with_auth(&format!("Bearer {access}"))
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    // The new password signs in, the old one does not.
    let fresh = server.anonymous().from_address([127, 0, 7, 1]);
    fresh
        .post(
            "/user/login",
            json!({"email": owner.email, "password": "a brand new password"}),
        )
        .await
        .expect(200);
    server
        .anonymous()
        .from_address([127, 0, 7, 2])
        .post(
            "/user/login",
            json!({"email": owner.email, "password": PASSWORD}),
        )
        .await
        .expect(401);
}

#[tokio::test]
async fn a_password_change_that_fails_on_another_field_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let before = server.snapshot().await;
    let r = org
        .owner_api()
        .patch(
            "/api/current-user",
            json!({
                "password": "a brand new password",
                "current_password": PASSWORD,
                "first_name": "Changed",
                "active_organization": 999999
            }),
        )
        .await
        .expect(400);
    assert!(r.body["validation_errors"]["active_organization"].is_array());
    assert_eq!(server.snapshot().await, before);
    server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": PASSWORD}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn a_deleted_member_comes_back_only_through_a_personal_invite() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ann = org.member(Role::Annotator).await;
    org.set_password(&ann).await;
    org.owner_api()
        .delete(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(204);
    let token = org.invite_token().await;
    let before = server.snapshot().await;
    let r = link_signup(
        &server.anonymous(),
        &token,
        json!({"email": ann.email, "password": PASSWORD}),
    )
    .await
    .expect(403);
    assert!(r.body["detail"]
        .as_str()
        .unwrap()
        .contains("personal invite"));
    assert_eq!(server.snapshot().await, before);

    // A personal invite brings them back as a new membership.
    let path = org.invite_path(&ann.email, "AN").await;
    server
        .anonymous()
        .post(&path, json!({"email": ann.email, "password": PASSWORD}))
        .await
        .expect(201);
    let list = org
        .owner_api()
        .get(&org.path("/memberships?role=AN"))
        .await
        .expect(200);
    assert_eq!(list.body["count"], 1);
}

#[tokio::test]
async fn the_account_page_changes_the_password_and_says_what_happens_to_other_credentials() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut here = server.browser();
    here.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    let csrf = here.csrf.clone().expect("csrf");
    let mut elsewhere = server.browser();
    elsewhere
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let page = here.get("/account").await.expect(200);
    assert!(page
        .text
        .contains("personal access tokens are separate credentials"));

    // A wrong current password is told on the page and changes nothing.
    let before = server.snapshot().await;
    let r = here
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", "not my password"),
                ("new_password", "a brand new password"),
            ],
        )
        .await
        .expect(400);
    assert!(r.text.contains("current_password"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);

    server.advance(std::time::Duration::from_secs(2));
    let r = here
        .post_form(
            "/account/password",
            &[
                ("csrf_token", &csrf),
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await
        .expect(200);
    assert!(r.text.contains("Password changed."), "{}", r.text);
    assert!(r.text.contains("still work"), "{}", r.text);
    assert!(session_cookie(&r).is_some(), "a new session");
    assert!(
        !r.text.contains(&csrf),
        "the page carries the new session's CSRF token"
    );
    here.get("/account").await.expect(200);
    elsewhere.get("/api/current-user/whoami").await.expect(401);
    org.owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(200);
}

#[tokio::test]
async fn an_email_invite_does_not_take_a_member_away_from_the_identity_provider() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ann = org.member(Role::Annotator).await;
    org.set_password(&ann).await;
    org.owner_api()
        .patch(&org.path(""), json!({"manual_role_management": false}))
        .await
        .expect(200);
    // The identity provider deactivates Ann (SCIM's active=false).
    server
        .service
        .apply_idp_role(
            org.id,
            ann.id,
            Role::Deactivated,
            roster_service::membership::Idp::Scim,
        )
        .await
        .expect("IdP deactivates");
    // By hand, the role cannot change ...
    org.owner_api()
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "AN"}),
        )
        .await
        .expect(409);
    // ... and an email invite cannot do it either.
    let path = org.invite_path(&ann.email, "AN").await;
    let before = server.snapshot().await;
    let r = server
        .anonymous()
        .post(&path, json!({"email": ann.email, "password": PASSWORD}))
        .await
        .expect(409);
    assert!(
        r.body["detail"].as_str().unwrap().contains("SCIM"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before);
    let list = org
        .owner_api()
        .get(&org.path("/memberships?role=DI"))
        .await
        .expect(200);
    assert_eq!(list.body["results"][0]["role_source"], "scim");
}
