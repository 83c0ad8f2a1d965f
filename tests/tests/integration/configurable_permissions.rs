//! Configurable permissions (`/api/organizations/{id}/permissions*`): only the Owner reads and
//! changes them, bad keys and roles are 400s that change nothing, and a changed permission
//! takes effect on the very next request, in the API and on the pages.

use roster_domain::Role;
use roster_tests::{json, OrgFixture, Person, TestServer, PASSWORD};
use serde_json::Value;

async fn invite(org: &OrgFixture, by: &Person, role: &str) -> u16 {
    let email = format!("inv-{}@example.com", uuid::Uuid::new_v4().simple());
    org.api(by)
        .post(
            "/api/invite/send-email",
            json!({"emails": [email], "role": role}),
        )
        .await
        .status
}

fn keys(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|p| p["permission"].as_str().expect("permission").to_string())
        .collect()
}

fn roles(v: &Value) -> Vec<String> {
    v["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .map(|r| r.as_str().expect("code").to_string())
        .collect()
}

async fn audit_events(server: &TestServer, org: &OrgFixture) -> i64 {
    server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = {} AND action = 'organization.permission_changed'",
            org.id.0
        ))
        .await
}

#[tokio::test]
async fn only_the_owner_reads_and_changes_permissions() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ad = org.member(Role::Administrator).await;
    let ma = org.member(Role::Manager).await;
    let other = server.org("Other").await;

    let list = org
        .owner_api()
        .get(&org.path("/permissions"))
        .await
        .expect(200);
    assert_eq!(
        keys(&list.body),
        [
            "organizations.invite",
            "tokens.create",
            "activity_logs.view",
            "workspaces.manage",
            "projects.members.manage"
        ]
    );
    for p in list.body.as_array().unwrap() {
        assert!(p["id"].is_null(), "no override yet: {p}");
        assert_eq!(p["roles"], p["default"], "{p}");
        assert_eq!(p["organization"], org.id.0);
    }
    let options = org
        .owner_api()
        .get(&org.path("/permissions/options"))
        .await
        .expect(200);
    assert_eq!(keys(&options.body).len(), 5);
    let desc = org
        .owner_api()
        .get(&org.path("/permissions/options?ordering=-permission"))
        .await
        .expect(200);
    let mut sorted = keys(&options.body);
    sorted.sort();
    sorted.reverse();
    assert_eq!(keys(&desc.body), sorted);
    org.owner_api()
        .get(&org.path("/permissions?ordering=colour"))
        .await
        .expect(400);

    for who in [&ad, &ma] {
        org.api(who)
            .get(&org.path("/permissions"))
            .await
            .expect(403);
        org.api(who)
            .post(
                &org.path("/permissions"),
                json!({"permission": "organizations.invite", "roles": ["AD", "MA"]}),
            )
            .await
            .expect(403);
    }
    // Another organization's Owner cannot read or change this one's.
    other
        .owner_api()
        .get(&org.path("/permissions"))
        .await
        .expect(404);
    other
        .owner_api()
        .put(
            &org.path("/permissions/organizations.invite"),
            json!({"permission": "organizations.invite", "roles": ["AD", "MA"]}),
        )
        .await
        .expect(404);
    assert_eq!(audit_events(&server, &org).await, 0);
}

#[tokio::test]
async fn bad_keys_and_roles_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let before = server.snapshot().await;
    let r = api
        .get(&org.path("/permissions/projects.delete"))
        .await
        .expect(400);
    assert!(r.text.contains("organizations.invite"), "{}", r.text);
    for body in [
        json!({"permission": "billing.view", "roles": ["AD"]}),
        json!({"permission": "organizations.invite", "roles": ["AN"]}),
        json!({"permission": "organizations.invite", "roles": ["XX"]}),
        json!({"permission": "tokens.create", "roles": ["DI"]}),
        json!({"roles": ["AD"]}),
        json!({"permission": "tokens.create", "roles": "AD"}),
        json!({"permission": "tokens.create", "roles": ["AD"], "colour": 1}),
    ] {
        let r = api.post(&org.path("/permissions"), body.clone()).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    api.put(
        &org.path("/permissions/tokens.create"),
        json!({"permission": "organizations.invite", "roles": ["AD"]}),
    )
    .await
    .expect(400);
    api.delete(&org.path("/permissions/tokens.create"))
        .await
        .expect(404);
    assert_eq!(server.snapshot().await, before);

    // Creating twice is a 400; PUT replaces; the Owner stays a holder whatever is sent.
    let made = api
        .post(
            &org.path("/permissions"),
            json!({"permission": "tokens.create", "roles": ["AD", "OW", "AD"]}),
        )
        .await
        .expect(201);
    assert_eq!(roles(&made.body), ["OW", "AD"]);
    assert!(made.body["id"].as_i64().is_some());
    api.post(
        &org.path("/permissions"),
        json!({"permission": "tokens.create", "roles": ["AD"]}),
    )
    .await
    .expect(400);
    let put = api
        .put(
            &org.path("/permissions/tokens.create"),
            json!({"permission": "tokens.create", "roles": []}),
        )
        .await
        .expect(200);
    assert_eq!(roles(&put.body), ["OW"]);
    assert_eq!(put.body["id"], made.body["id"]);
    assert_eq!(audit_events(&server, &org).await, 2);
}

#[tokio::test]
async fn an_invite_permission_given_to_managers_works_on_their_next_request_and_only_downwards() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ad = org.member(Role::Administrator).await;
    let ma = org.member(Role::Manager).await;
    let re = org.member(Role::Reviewer).await;

    assert_eq!(invite(&org, &ma, "AN").await, 403);
    org.api(&ma).get("/api/invite").await.expect(403);
    org.owner_api()
        .post(
            &org.path("/permissions"),
            json!({"permission": "organizations.invite", "roles": ["AD", "MA"]}),
        )
        .await
        .expect(201);
    assert_eq!(invite(&org, &ma, "AN").await, 201);
    assert_eq!(invite(&org, &ma, "RE").await, 201);
    assert_eq!(invite(&org, &ma, "MA").await, 403, "never their own level");
    assert_eq!(invite(&org, &ma, "AD").await, 403, "never above");
    org.api(&ma).get("/api/invite").await.expect(200);
    assert_eq!(
        invite(&org, &re, "AN").await,
        403,
        "Reviewers were not given it"
    );
    let me = org
        .api(&ma)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert!(me.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("organizations.invite")));

    // Withdrawn from everyone but the Owner: refused on the very next request.
    org.owner_api()
        .patch(
            &org.path("/permissions/organizations.invite"),
            json!({"roles": []}),
        )
        .await
        .expect(200);
    assert_eq!(invite(&org, &ma, "AN").await, 403);
    assert_eq!(invite(&org, &ad, "AN").await, 403);
    assert_eq!(invite(&org, &org.owner, "AD").await, 201);
    let me = org
        .api(&ad)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert!(!me.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("organizations.invite")));

    // Back to the default.
    org.owner_api()
        .delete(&org.path("/permissions/organizations.invite"))
        .await
        .expect(204);
    assert_eq!(invite(&org, &ad, "MA").await, 201);
    assert_eq!(invite(&org, &ma, "AN").await, 403);
    let got = org
        .owner_api()
        .get(&org.path("/permissions/organizations.invite"))
        .await
        .expect(200);
    assert!(got.body["id"].is_null());
    assert_eq!(roles(&got.body), ["OW", "AD"]);
}

#[tokio::test]
async fn withdrawn_permissions_refuse_tokens_workspaces_and_project_members_at_once() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ma = org.member(Role::Manager).await;
    let an = org.member(Role::Annotator).await;
    let re = org.member(Role::Reviewer).await;
    let other = server.org("Elsewhere").await;
    let project = org.api(&ma).create_project("Ours").await;
    let owner = org.owner_api();

    // API tokens: withdrawn from Annotators, so an Annotator can neither make a personal
    // token nor reset their key; Reviewers still can. Another organization is untouched.
    owner
        .put(
            &org.path("/permissions/tokens.create"),
            json!({"permission": "tokens.create", "roles": ["AD", "MA", "RE"]}),
        )
        .await
        .expect(200);
    org.api(&an).post_empty("/api/token/").await.expect(403);
    org.api(&an)
        .post_empty("/api/current-user/reset-token/")
        .await
        .expect(403);
    org.api(&re).post_empty("/api/token/").await.expect(201);
    let elsewhere = other.member(Role::Annotator).await;
    other
        .api(&elsewhere)
        .post_empty("/api/token/")
        .await
        .expect(201);

    // Workspaces: withdrawn from Managers.
    org.api(&ma)
        .post("/api/workspaces/", json!({"title": "Before"}))
        .await
        .expect(201);
    owner
        .put(
            &org.path("/permissions/workspaces.manage"),
            json!({"permission": "workspaces.manage", "roles": ["AD"]}),
        )
        .await
        .expect(200);
    org.api(&ma)
        .post("/api/workspaces/", json!({"title": "After"}))
        .await
        .expect(403);
    owner
        .post("/api/workspaces/", json!({"title": "Owner's"}))
        .await
        .expect(201);

    // Project members: withdrawn from Managers, even in a project they created.
    let members = format!("/api/projects/{project}/members/");
    let (ma_api, body) = (org.api(&ma), json!({"user": an.id.0}));
    ma_api.post(&members, body.clone()).await.expect(201);
    owner
        .put(
            &org.path("/permissions/projects.members.manage"),
            json!({"permission": "projects.members.manage", "roles": ["AD"]}),
        )
        .await
        .expect(200);
    let before = server.snapshot().await;
    ma_api.post(&members, body.clone()).await.expect(403);
    org.api(&ma)
        .delete(&format!(
            "/api/projects/{project}/members/?user={}",
            an.id.0
        ))
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    owner
        .delete(&org.path("/permissions/projects.members.manage"))
        .await
        .expect(204);
    org.api(&ma)
        .delete(&format!(
            "/api/projects/{project}/members/?user={}",
            an.id.0
        ))
        .await
        .expect(204);
}

#[tokio::test]
async fn the_organization_page_follows_the_invite_permission() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ad = org.member(Role::Administrator).await;
    org.set_password(&ad).await;
    let mut browser = server.browser();
    browser.sign_in(&ad.email, PASSWORD).await.expect(200);
    let page = browser.get("/organization").await.expect(200);
    assert!(page.text.contains("id=\"invite-form\""));

    org.owner_api()
        .put(
            &org.path("/permissions/organizations.invite"),
            json!({"permission": "organizations.invite", "roles": []}),
        )
        .await
        .expect(200);
    let page = browser.get("/organization").await.expect(200);
    assert!(!page.text.contains("id=\"invite-form\""));
    assert!(page.text.contains("id=\"no-invite\""));
    let before = server.snapshot().await;
    let csrf = browser.csrf.clone().expect("csrf");
    let r = browser
        .post_form(
            "/organization/invites",
            &[
                ("csrf_token", &csrf),
                ("emails", "someone@example.com"),
                ("role", "AN"),
            ],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.text.contains("Invite members"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);
}

/// Authenticating and authorizing a request is one read: the credential's statement brings
/// the account, its live memberships, their organizations and their permission overrides, so
/// `whoami` (which answers with the permissions the overrides make) reads nothing more.
/// Counted on SQLite, whose store counts its reads; PostgreSQL runs the same statement.
#[tokio::test]
async fn one_read_authenticates_authorizes_and_answers_whoami() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ma = org.member(Role::Manager).await;
    org.owner_api()
        .patch(
            &org.path("/permissions/organizations.invite"),
            json!({"roles": ["OW", "AD", "MA"]}),
        )
        .await
        .expect(200);
    // The first request of the day also records the member's activity (a write).
    org.api(&ma)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    let Some((inline, moved)) = server.service.read_routing() else {
        return;
    };
    let me = org
        .api(&ma)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    let (inline_after, moved_after) = server.service.read_routing().expect("SQLite");
    assert_eq!(
        (inline_after + moved_after) - (inline + moved),
        1,
        "whoami took one read"
    );
    assert!(me.body["permissions"]
        .as_array()
        .unwrap()
        .contains(&json!("organizations.invite")));
}
