//! Joining: the organization's invite link (reset makes old links fail; opening it changes
//! nothing; an existing account joins only with its password or by confirming while signed
//! in) and personal email invites (role, projects, states, revocation, expiry).

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, OrgFixture, TestServer, PASSWORD};
use serde_json::Value;

fn path_of(server: &TestServer, url: &str) -> String {
    url.strip_prefix(&server.url).unwrap_or(url).to_string()
}

async fn link(org: &OrgFixture) -> (String, String) {
    let b = org.owner_api().get("/api/invite").await.expect(200).body;
    (
        b["token"].as_str().unwrap().to_string(),
        b["invite_url"].as_str().unwrap().to_string(),
    )
}

async fn invites(org: &OrgFixture) -> Vec<Value> {
    org.owner_api().get("/api/invites/").await.expect(200).body["results"]
        .as_array()
        .unwrap()
        .clone()
}

async fn member_role(org: &OrgFixture, user: i64) -> Option<String> {
    let r = org
        .owner_api()
        .get(&org.path(&format!("/memberships/{user}/")))
        .await;
    (r.status == 200).then(|| r.body["role"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn the_invite_link_is_a_token_and_a_relative_sign_up_url() {
    let server = TestServer::start().await;
    let org = server.org("Acme Labeling").await;
    let (token, url) = link(&org).await;
    assert!(token.len() >= 20, "{token}");
    assert_eq!(url, format!("/user/signup/?token={token}"));
    assert_eq!(token, org.invite_token().await);
    // The Organization's own JSON shows the same token to its Owner.
    assert_eq!(
        org.owner_api().get(&org.path("")).await.expect(200).body["token"],
        token.as_str()
    );
    // The page behind the link names the organization.
    let page = server.anonymous().get(&url).await.expect(200);
    assert!(page.text.contains("Acme Labeling"), "{}", page.text);
}

#[tokio::test]
async fn resetting_the_link_makes_the_old_one_fail_and_the_new_one_work() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (old_token, old_url) = link(&org).await;
    let r = org
        .owner_api()
        .post_empty("/api/invite/reset-token")
        .await
        .expect(201);
    let new_token = r.body["token"].as_str().unwrap().to_string();
    assert_ne!(new_token, old_token);
    assert_eq!(
        r.body["invite_url"],
        format!("/user/signup/?token={new_token}")
    );
    assert_eq!(link(&org).await.0, new_token);

    let before = server.snapshot().await;
    let r = server
        .anonymous()
        .post(
            &old_url,
            json!({"email": "new@example.com", "password": PASSWORD}),
        )
        .await
        .expect(403);
    assert!(
        r.body["detail"].as_str().unwrap().contains("not valid"),
        "{}",
        r.text
    );
    server.anonymous().get(&old_url).await.expect(403);
    assert_eq!(server.snapshot().await, before);

    let r = server
        .anonymous()
        .post(
            &format!("/user/signup/?token={new_token}"),
            json!({"email": "new@example.com", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["organization"], org.id.0);
}

#[tokio::test]
async fn opening_the_link_while_signed_in_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    let (_, url) = link(&org).await;
    let mut browser = server.browser();
    browser
        .sign_in(&elsewhere.owner.email, PASSWORD)
        .await
        .expect(200);

    let before = server.snapshot().await;
    let page = browser.get(&url).await.expect(200);
    assert!(
        page.text.contains(&elsewhere.owner.email),
        "the page says who is signed in: {}",
        page.text
    );
    assert!(page.text.contains("name=\"confirm\""), "{}", page.text);
    browser.get(&url).await.expect(200);
    assert_eq!(server.snapshot().await, before);
    let orgs = browser.get("/api/organizations/").await.expect(200).body;
    assert_eq!(orgs.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn an_existing_account_joins_through_the_link_only_with_its_correct_password() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    let person = &elsewhere.owner;
    let (_, url) = link(&org).await;

    let before = server.snapshot().await;
    let r = server
        .anonymous()
        .post(
            &url,
            json!({"email": person.email, "password": "not the password at all"}),
        )
        .await
        .expect(401);
    assert!(
        r.body["detail"].as_str().unwrap().contains("not correct"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before);
    assert_eq!(member_role(&org, person.id.0).await, None);

    server.advance(Duration::from_secs(2));
    let r = server
        .anonymous()
        .post(
            &url,
            json!({"email": person.email.to_uppercase(), "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(
        r.body["user"]["id"], person.id.0,
        "the existing account joins, no new one"
    );
    assert_eq!(r.body["role"], "NO");
    assert_eq!(member_role(&org, person.id.0).await.as_deref(), Some("NO"));
    // Joining never switches an existing user's active organization.
    let me = elsewhere
        .owner_api()
        .get("/api/current-user")
        .await
        .expect(200)
        .body;
    assert_eq!(me["active_organization"], elsewhere.id.0);
    // Joining twice is a conflict.
    server
        .anonymous()
        .post(&url, json!({"email": person.email, "password": PASSWORD}))
        .await
        .expect(409);
}

#[tokio::test]
async fn a_signed_in_user_joins_by_confirming_the_link_page_with_the_csrf_token() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    let person = &elsewhere.owner;
    let (_, url) = link(&org).await;
    let mut browser = server.browser();
    browser.sign_in(&person.email, PASSWORD).await.expect(200);
    let csrf = browser.csrf.clone().unwrap();

    let before = server.snapshot().await;
    browser
        .post_form(&url, &[("confirm", "yes"), ("csrf_token", "wrong-token")])
        .await
        .expect(403);
    browser
        .post_form(&url, &[("confirm", "yes")])
        .await
        .expect(403);
    server
        .anonymous()
        .post_form(&url, &[("confirm", "yes"), ("csrf_token", &csrf)])
        .await
        .expect(401);
    assert_eq!(server.snapshot().await, before);

    let r = browser
        .post_form(&url, &[("confirm", "yes"), ("csrf_token", &csrf)])
        .await;
    assert!(
        matches!(r.status, 302 | 303),
        "expected a redirect, got {}: {}",
        r.status,
        r.text
    );
    assert_eq!(member_role(&org, person.id.0).await.as_deref(), Some("NO"));
    let orgs = browser.get("/api/organizations/").await.expect(200).body;
    assert_eq!(orgs.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_personal_invite_is_listed_pending_with_its_url_and_gives_its_role_and_projects() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let project = owner
        .post("/api/projects/", json!({"title": "Cats"}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();

    let sent = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["Rita.Reviewer@Example.com"], "role": "RE", "projects": [project]}),
        )
        .await
        .expect(201)
        .body;
    let item = &sent[0];
    assert_eq!(item["email"], "rita.reviewer@example.com");
    assert_eq!(item["role"], "RE");
    assert_eq!(item["projects"], json!([project]));
    assert_eq!(item["state"], "pending");
    let url = item["invite_url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("{}/user/signup/?invite=", server.url)),
        "{url}"
    );

    let listed = invites(&org).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["state"], "pending");
    assert_eq!(listed[0]["invite_url"], url.as_str());
    assert_eq!(listed[0]["id"], item["id"]);

    // Someone else cannot use it.
    let path = path_of(&server, &url);
    let before = server.snapshot().await;
    server
        .anonymous()
        .post(
            &path,
            json!({"email": "mallory@example.com", "password": PASSWORD}),
        )
        .await
        .expect(400);
    assert_eq!(server.snapshot().await, before);

    let r = server
        .anonymous()
        .post(&path, json!({"email": "rita.reviewer@example.com", "password": PASSWORD, "first_name": "Rita"}))
        .await
        .expect(201);
    assert_eq!(r.body["role"], "RE");
    assert_eq!(r.body["organization"], org.id.0);
    let rita = r.body["user"]["id"].as_i64().unwrap();
    assert_eq!(member_role(&org, rita).await.as_deref(), Some("RE"));
    let detail = owner
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200)
        .body;
    assert!(
        detail["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"]["id"] == rita),
        "{detail}"
    );

    let listed = invites(&org).await;
    assert_eq!(listed[0]["state"], "accepted");
    assert_eq!(listed[0]["invite_url"], Value::Null);
    // Used once, it works no more.
    server
        .anonymous()
        .post(
            &path,
            json!({"email": "rita.reviewer@example.com", "password": PASSWORD}),
        )
        .await
        .expect(403);
}

#[tokio::test]
async fn a_revoked_invite_is_listed_revoked_and_its_link_fails() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let sent = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["gone@example.com"], "role": "AN"}),
        )
        .await
        .expect(201)
        .body;
    let path = path_of(&server, sent[0]["invite_url"].as_str().unwrap());

    owner
        .post("/api/invite/revoke", json!({"email": "Gone@example.com"}))
        .await
        .expect(204);
    let listed = invites(&org).await;
    assert_eq!(listed[0]["state"], "revoked");
    assert_eq!(listed[0]["invite_url"], Value::Null);

    let before = server.snapshot().await;
    let r = server
        .anonymous()
        .post(
            &path,
            json!({"email": "gone@example.com", "password": PASSWORD}),
        )
        .await
        .expect(403);
    assert!(
        r.body["detail"].as_str().unwrap().contains("revoked"),
        "{}",
        r.text
    );
    server.anonymous().get(&path).await.expect(403);
    // Nothing left to revoke.
    owner
        .post("/api/invite/revoke", json!({"email": "gone@example.com"}))
        .await
        .expect(404);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn an_invite_expires_after_seven_days() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let sent = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["slow@example.com"], "role": "AN"}),
        )
        .await
        .expect(201)
        .body;
    let path = path_of(&server, sent[0]["invite_url"].as_str().unwrap());

    server.advance(Duration::from_secs(6 * 24 * 3600));
    assert_eq!(invites(&org).await[0]["state"], "pending");
    server.advance(Duration::from_secs(2 * 24 * 3600));
    let listed = invites(&org).await;
    assert_eq!(listed[0]["state"], "expired");
    assert_eq!(listed[0]["invite_url"], Value::Null);

    let before = server.snapshot().await;
    let r = server
        .anonymous()
        .post(
            &path,
            json!({"email": "slow@example.com", "password": PASSWORD}),
        )
        .await
        .expect(403);
    assert!(
        r.body["detail"].as_str().unwrap().contains("expired"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before);
    let s = owner.get(&org.path("/seats")).await.expect(200).body;
    assert_eq!(s["pending_invites"], 0);
}

#[tokio::test]
async fn inviting_someone_who_is_already_an_active_member_is_a_conflict() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    let before = server.snapshot().await;
    let r = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": [ann.email.to_uppercase()], "role": "RE"}),
        )
        .await
        .expect(409);
    assert!(
        r.body["detail"].as_str().unwrap().contains(&ann.email),
        "{}",
        r.text
    );
    // A batch with one active member sends none.
    owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["fresh@example.com", ann.email], "role": "RE"}),
        )
        .await
        .expect(409);
    assert_eq!(server.snapshot().await, before);
    // A pending member may be invited (accepting would activate them).
    let waiting = org.member(Role::NotActivated).await;
    owner
        .post(
            "/api/invite/send-email",
            json!({"emails": [waiting.email], "role": "AN"}),
        )
        .await
        .expect(201);
}

#[tokio::test]
async fn an_existing_account_accepts_a_personal_invite_only_with_its_correct_password() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    let person = &elsewhere.owner;
    let sent = org
        .owner_api()
        .post(
            "/api/invite/send-email",
            json!({"emails": [person.email], "role": "MA"}),
        )
        .await
        .expect(201)
        .body;
    let path = path_of(&server, sent[0]["invite_url"].as_str().unwrap());

    let before = server.snapshot().await;
    server
        .anonymous()
        .post(
            &path,
            json!({"email": person.email, "password": "wrong wrong wrong"}),
        )
        .await
        .expect(401);
    assert_eq!(server.snapshot().await, before);
    assert_eq!(invites(&org).await[0]["state"], "pending");

    server.advance(Duration::from_secs(2));
    let r = server
        .anonymous()
        .post(&path, json!({"email": person.email, "password": PASSWORD}))
        .await
        .expect(201);
    assert_eq!(r.body["user"]["id"], person.id.0);
    assert_eq!(r.body["role"], "MA");
    assert_eq!(member_role(&org, person.id.0).await.as_deref(), Some("MA"));
    let me = elsewhere
        .owner_api()
        .get("/api/current-user")
        .await
        .expect(200)
        .body;
    assert_eq!(
        me["active_organization"], elsewhere.id.0,
        "joining never switches the active organization"
    );
}

#[tokio::test]
async fn an_account_without_a_password_cannot_be_claimed_through_the_link() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    // Made by an import: an account with no password yet.
    let passwordless = elsewhere.member(Role::Annotator).await;
    let (_, url) = link(&org).await;
    let before = server.snapshot().await;
    server
        .anonymous()
        .post(
            &url,
            json!({"email": passwordless.email, "password": "a brand new password"}),
        )
        .await
        .expect(401);
    assert_eq!(server.snapshot().await, before);
    assert_eq!(member_role(&org, passwordless.id.0).await, None);
}

#[tokio::test]
async fn invites_name_only_projects_of_the_same_organization() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Other").await;
    let theirs = other
        .owner_api()
        .post("/api/projects/", json!({"title": "Not yours"}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();
    let before = server.snapshot().await;
    let r = org
        .owner_api()
        .post(
            "/api/invite/send-email",
            json!({"emails": ["p@example.com"], "role": "AN", "projects": [theirs]}),
        )
        .await
        .expect(400);
    assert!(
        r.body["validation_errors"]["projects"].is_array(),
        "{}",
        r.text
    );
    for role in ["OW", "DI"] {
        org.owner_api()
            .post(
                "/api/invite/send-email",
                json!({"emails": ["p@example.com"], "role": role}),
            )
            .await
            .expect(400);
    }
    org.owner_api()
        .post(
            "/api/invite/send-email",
            json!({"emails": [], "role": "AN"}),
        )
        .await
        .expect(400);
    org.owner_api()
        .post(
            "/api/invite/send-email",
            json!({"emails": ["not-an-email"], "role": "AN"}),
        )
        .await
        .expect(400);
    assert_eq!(server.snapshot().await, before);
}

/// The organization's stored invite-link columns, as text.
async fn stored_invite_columns(server: &TestServer, org: &OrgFixture) -> String {
    let row = server
        .sql_rows(
            &format!(
                "SELECT invite_token_hash, invite_token_sealed FROM organizations WHERE id = {}",
                org.id.0
            ),
            2,
        )
        .await
        .remove(0);
    format!(
        "{} {}",
        row[0].text().unwrap(),
        row[1].text().unwrap_or_default()
    )
}

#[tokio::test]
async fn the_database_holds_the_invite_token_only_hashed_and_sealed() {
    let server = TestServer::start().await;
    let org = server.org("Sealed").await;
    let (token, url) = link(&org).await;
    let stored = stored_invite_columns(&server, &org).await;
    assert!(!stored.contains(&token), "plaintext token stored: {stored}");
    // The link still signs people up, and a reset stores the new token sealed as well.
    server
        .anonymous()
        .post(
            &url,
            json!({"email": "sealed@example.com", "password": PASSWORD}),
        )
        .await
        .expect(201);
    let new = org
        .owner_api()
        .post_empty("/api/invite/reset-token")
        .await
        .expect(201);
    let new_token = new.body["token"].as_str().unwrap().to_string();
    assert_eq!(link(&org).await.0, new_token);
    let stored = stored_invite_columns(&server, &org).await;
    assert!(
        !stored.contains(&new_token) && !stored.contains(&token),
        "{stored}"
    );
    server
        .anonymous()
        .post(
            &url,
            json!({"email": "late@example.com", "password": PASSWORD}),
        )
        .await
        .expect(403);
}

#[tokio::test]
async fn a_plaintext_token_from_before_the_upgrade_is_sealed_at_start_and_keeps_working() {
    let server = TestServer::start().await;
    let org = server.org("Upgraded").await;
    // As migration 5 leaves an organization made by an older roster: the token as it is.
    let old = "an-old-plaintext-invite-token-0123";
    {
        server
            .sql_execute(&format!(
                "UPDATE organizations SET invite_token_hash = '{}', invite_token_sealed = NULL WHERE id = {}",
                old.replace('\'', "''"),
                org.id.0
            ))
            .await;
    }
    let restarted =
        TestServer::start_on(server.db.clone(), Default::default(), server.clock.clone()).await;
    let stored = stored_invite_columns(&restarted, &org).await;
    assert!(!stored.contains(old), "still plaintext: {stored}");
    let owner = restarted.with_key(&org.owner.key);
    assert_eq!(
        owner.get("/api/invite").await.expect(200).body["token"],
        old
    );
    restarted
        .anonymous()
        .post(
            &format!("/user/signup/?token={old}"),
            json!({"email": "upgraded@example.com", "password": PASSWORD}),
        )
        .await
        .expect(201);
}
