//! SCIM 2.0 provisioning through HTTP, as identity providers drive it: discovery, Users,
//! Groups, the group mapping and its stories, the guards that protect other organizations'
//! accounts and against mass deprovisioning, and the dialects of Entra ID and Okta.

use reqwest::Method;
use roster_domain::Role;
use roster_tests::{results, Api, OrgFixture, TestServer};
use serde_json::{json, Value};

pub(crate) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(crate) const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The organization's identity provider, set up as an organization usually is: a client
/// holding its SCIM token, with `example.com` (the tests' people) verified for it, so that
/// the people it provisions get accounts at once.
pub(crate) async fn idp(server: &TestServer, org: &OrgFixture) -> Api {
    verify(server, org, "example.com").await;
    org.idp().await
}

/// Verifies a domain for the organization, as the operator does with `roster org domain add`.
pub(crate) async fn verify(server: &TestServer, org: &OrgFixture, domain: &str) {
    server
        .service
        .operator_verify_domain(org.id, domain)
        .await
        .unwrap_or_else(|e| panic!("{domain} verified: {e}"));
}

pub(crate) fn user_body(email: &str) -> Value {
    json!({
        "schemas": [USER],
        "userName": email,
        "name": {"givenName": "Given", "familyName": "Family"},
        "emails": [{"value": email, "type": "work", "primary": true}],
        "active": true
    })
}

pub(crate) async fn create_user(idp: &Api, email: &str) -> Value {
    idp.post("/scim/v2/Users", user_body(email))
        .await
        .expect(201)
        .body
}

pub(crate) async fn create_group(idp: &Api, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    idp.post(
        "/scim/v2/Groups",
        json!({"schemas": [GROUP], "displayName": name, "members": members}),
    )
    .await
    .expect(201)
    .body
}

pub(crate) async fn patch(idp: &Api, path: &str, ops: Value) -> roster_tests::Resp {
    idp.send_json(
        Method::PATCH,
        path,
        json!({"schemas": [PATCH], "Operations": ops}),
    )
    .await
}

/// The member's role code in the organization, as the member list shows it.
pub(crate) async fn role_of(org: &OrgFixture, email: &str) -> Option<String> {
    let r = org
        .owner_api()
        .get(&org.path(&format!("/memberships?search={email}")))
        .await
        .expect(200);
    results(&r.body)
        .iter()
        .find(|m| m["user"]["email"] == json!(email))
        .map(|m| m["role"].as_str().unwrap_or_default().to_string())
}

pub(crate) async fn set_mapping(org: &OrgFixture, body: Value) -> Value {
    org.owner_api()
        .post("/api/scim/settings", body)
        .await
        .expect(200)
        .body
}

#[tokio::test]
async fn discovery_needs_the_token_and_tells_the_truth() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let anonymous = server.anonymous();
    let r = anonymous
        .get("/scim/v2/ServiceProviderConfig")
        .await
        .expect(401);
    assert_eq!(
        r.body["schemas"][0],
        json!("urn:ietf:params:scim:api:messages:2.0:Error")
    );
    let idp = idp(&server, &org).await;
    let r = idp.get("/scim/v2/ServiceProviderConfig").await.expect(200);
    assert_eq!(
        r.headers["content-type"].to_str().unwrap(),
        "application/scim+json"
    );
    assert_eq!(r.body["patch"]["supported"], json!(true));
    assert_eq!(r.body["changePassword"]["supported"], json!(false));
    let r = idp.get("/scim/v2/Schemas").await.expect(200);
    assert_eq!(r.body["totalResults"], json!(3));
    idp.get("/scim/v2/ResourceTypes/User").await.expect(200);
    idp.get("/scim/v2/Schemas/urn:nothing").await.expect(404);
    idp.get("/scim/v2/Nothing").await.expect(404);
    idp.post("/scim/v2/ServiceProviderConfig", json!({}))
        .await
        .expect(405);
    // Label Studio's base path answers too.
    idp.get("/scim/ServiceProviderConfig").await.expect(200);
}

#[tokio::test]
async fn a_provisioned_user_is_an_account_and_a_membership_found_by_filter_and_alias() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    let created = create_user(&idp, "Ann@Example.com").await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["userName"], json!("Ann@Example.com"));
    assert!(created["meta"]["version"]
        .as_str()
        .unwrap()
        .starts_with("W/"));
    assert_eq!(
        role_of(&org, "ann@example.com").await.as_deref(),
        Some("AN")
    );
    // Found by id, by email (Label Studio's alias) and by filter, case-insensitively.
    idp.get(&format!("/scim/v2/Users/{id}")).await.expect(200);
    idp.get("/scim/v2/Users/ann@example.com").await.expect(200);
    let r = idp
        .get("/scim/v2/Users?filter=userName%20eq%20%22ANN@example.com%22")
        .await
        .expect(200);
    assert_eq!(r.body["totalResults"], json!(1));
    assert_eq!(r.body["Resources"][0]["id"], json!(id));
    let r = idp
        .get("/scim/v2/Users?filter=userName%20eq%20%22nobody@example.com%22")
        .await
        .expect(200);
    assert_eq!(r.body["totalResults"], json!(0));
    // The same userName twice is a uniqueness conflict.
    let r = idp
        .post("/scim/v2/Users", user_body("ann@example.com"))
        .await
        .expect(409);
    assert_eq!(r.body["scimType"], json!("uniqueness"));
    // A malformed filter is invalidFilter.
    let r = idp
        .get("/scim/v2/Users?filter=userName%20eq")
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("invalidFilter"));
}

#[tokio::test]
async fn group_membership_moves_the_role_highest_wins_and_none_falls_back() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(
        &org,
        json!({"roles_groups": [["Reviewer", "Reviewers"], ["Administrator", "Admins"]]}),
    )
    .await;
    let u = create_user(&idp, "rita@example.com").await;
    let uid = u["id"].as_str().unwrap();
    // In no mapped group: the fallback, Deactivated.
    assert_eq!(
        role_of(&org, "rita@example.com").await.as_deref(),
        Some("DI")
    );
    let reviewers = create_group(&idp, "Reviewers", &[uid]).await;
    assert_eq!(
        role_of(&org, "rita@example.com").await.as_deref(),
        Some("RE")
    );
    let admins = create_group(&idp, "Admins", &[]).await;
    patch(
        &idp,
        &format!("/scim/v2/Groups/{}", admins["id"].as_str().unwrap()),
        json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]),
    )
    .await
    .expect(204);
    assert_eq!(
        role_of(&org, "rita@example.com").await.as_deref(),
        Some("AD")
    );
    for g in [&reviewers, &admins] {
        patch(
            &idp,
            &format!("/scim/v2/Groups/{}", g["id"].as_str().unwrap()),
            json!([{"op": "remove", "path": format!("members[value eq \"{uid}\"]")}]),
        )
        .await
        .expect(204);
    }
    assert_eq!(
        role_of(&org, "rita@example.com").await.as_deref(),
        Some("DI")
    );
    // The user's groups are readable on the user.
    let r = idp.get(&format!("/scim/v2/Users/{uid}")).await.expect(200);
    assert!(r.body.get("groups").is_none());
}

#[tokio::test]
async fn deactivation_by_the_idp_is_refused_on_the_next_request_and_frees_the_seat() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    // An existing member whom the IdP takes over (already a member here: attached).
    let person = org.member(Role::Annotator).await;
    let u = create_user(&idp, &person.email).await;
    let before = org.seats().await;
    org.api(&person).get("/api/projects").await.expect(200);
    patch(
        &idp,
        &format!("/scim/v2/Users/{}", u["id"].as_str().unwrap()),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .expect(200);
    org.api(&person).get("/api/projects").await.expect(403);
    let after = org.seats().await;
    assert_eq!(
        after["used"].as_i64().unwrap(),
        before["used"].as_i64().unwrap() - 1,
        "{before} -> {after}"
    );
    // active=true restores the role the mapping gives.
    patch(
        &idp,
        &format!("/scim/v2/Users/{}", u["id"].as_str().unwrap()),
        json!([{"op": "Replace", "path": "active", "value": "True"}]),
    )
    .await
    .expect(200);
    org.api(&person).get("/api/projects").await.expect(200);
}

#[tokio::test]
async fn the_idp_never_changes_the_owner_and_the_attempt_is_recorded() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let u = create_user(&idp, &org.owner.email).await;
    let r = patch(
        &idp,
        &format!("/scim/v2/Users/{}", u["id"].as_str().unwrap()),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .expect(400);
    assert_eq!(r.body["scimType"], json!("mutability"));
    assert_eq!(role_of(&org, &org.owner.email).await.as_deref(), Some("OW"));
    let log = org
        .owner_api()
        .get("/api/audit-events?action=scim.request_refused")
        .await
        .expect(200);
    assert_eq!(results(&log.body).len(), 1, "{}", log.body);
}

#[tokio::test]
async fn without_a_free_seat_provisioning_is_refused_whole() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    org.owner_api()
        .patch(&org.path(""), json!({"seat_limit": 1}))
        .await
        .expect(200);
    let before = server.snapshot().await;
    let r = idp
        .post("/scim/v2/Users", user_body("late@example.com"))
        .await
        .expect(409);
    assert_eq!(
        r.body["schemas"][0],
        json!("urn:ietf:params:scim:api:messages:2.0:Error")
    );
    assert!(
        r.body["detail"].as_str().unwrap().contains("seat"),
        "{}",
        r.body
    );
    assert_eq!(server.snapshot().await, before, "nothing half-written");
}

#[tokio::test]
async fn someone_elses_account_waits_for_its_owner_to_accept_and_is_then_the_idps_to_manage() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    let idp = org.idp().await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    let person = &elsewhere.owner;
    let u = create_user(&idp, &person.email).await;
    let uid = u["id"].as_str().unwrap().to_string();
    // Not attached: no membership here, an invite waits instead.
    assert_eq!(role_of(&org, &person.email).await, None);
    let invites = org.owner_api().get("/api/invites").await.expect(200);
    let invite = results(&invites.body)
        .iter()
        .find(|i| i["email"] == json!(person.email))
        .expect("an invite for the person")
        .clone();
    assert_eq!(invite["state"], json!("pending"));
    let url = invite["invite_url"].as_str().expect("its link");
    let path = &url[url.find("/user/").expect("a sign-up path")..];
    server
        .anonymous()
        .post(
            path,
            json!({"email": person.email, "password": roster_tests::PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(role_of(&org, &person.email).await.as_deref(), Some("AN"));
    // From now on the identity provider's groups decide their role.
    set_mapping(&org, json!({"roles_groups": [["Reviewer", "Rev"]]})).await;
    create_group(&idp, "Rev", &[&uid]).await;
    assert_eq!(role_of(&org, &person.email).await.as_deref(), Some("RE"));
    // And their other organization is untouched.
    let mine = elsewhere
        .owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert_eq!(mine.body["email"], json!(person.email));
}

/// NUL (which PostgreSQL cannot store or compare) and control characters in a path get a
/// SCIM 400 on both databases, never a database error, and change nothing.
#[tokio::test]
async fn nul_and_control_characters_are_refused_before_any_lookup() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let before = server.snapshot().await;
    let r = idp
        .post("/scim/v2/Users", user_body("nul\u{0}@example.com"))
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("invalidValue"), "{}", r.body);
    let mut odd = user_body("fine@example.com");
    odd["title"] = json!("a\u{0}b");
    idp.post("/scim/v2/Users", odd).await.expect(400);
    for path in [
        "/scim/v2/Users/%00",
        "/scim/v2/Groups/a%0Ab",
        "/scim/v2/Users?filter=userName%20eq%20%22a%00b%22",
    ] {
        let r = idp.get(path).await.expect(400);
        assert_eq!(
            r.body["scimType"],
            json!("invalidValue"),
            "{path}: {}",
            r.body
        );
    }
    assert_eq!(server.snapshot().await, before);
    // Multi-line text stays allowed where attributes are free text.
    let mut lines = user_body("lines@example.com");
    lines["addresses"] = json!([{"formatted": "1 Main St\nSpringfield", "type": "work"}]);
    idp.post("/scim/v2/Users", lines).await.expect(201);
}
