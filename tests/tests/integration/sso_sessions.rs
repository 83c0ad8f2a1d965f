//! Sessions started through an organization's single sign-on act in that organization only:
//! never in the person's other organizations, and never on their own credentials.

use roster_domain::Role;
use roster_tests::TestServer;
use serde_json::json;

/// A session an organization's identity provider vouched for acts in that organization only:
/// not in the person's other organizations, and never on their own credentials (key, tokens,
/// password, profile, active organization), which would reach everywhere.
#[tokio::test]
async fn a_single_sign_on_session_acts_in_its_organization_only() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    let person = acme.member(Role::Manager).await;
    globex.add_existing(&person, Role::Administrator).await;
    acme.set_password(&person).await;
    let session = server
        .service
        .start_sso_session(person.id, acme.id)
        .await
        .expect("session");
    let sso = server
        .anonymous()
        .with_session(&session.id, &session.csrf_token);

    let me = sso.get("/api/current-user/whoami").await.expect(200);
    assert_eq!(me.body["email"], json!(person.email));
    sso.get(&acme.path("/memberships")).await.expect(200);
    let orgs = sso.get("/api/organizations").await.expect(200);
    let ids: Vec<i64> = orgs
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![acme.id.0],
        "only the organization that signed them in"
    );

    let before = server.snapshot().await;
    // Globex, where the same person is an Administrator, is out of reach.
    sso.get(&globex.path("/memberships")).await.expect(404);
    sso.get(&format!("/api/organizations/{}", globex.id.0))
        .await
        .expect(404);
    sso.patch(
        &format!("/api/organizations/{}", globex.id.0),
        json!({"title": "Taken"}),
    )
    .await
    .expect(404);
    // So are the person's own credentials and account.
    for (what, r) in [
        ("read the key", sso.get("/api/current-user/token").await),
        (
            "reset the key",
            sso.post_empty("/api/current-user/reset-token").await,
        ),
        ("mint a token", sso.post_empty("/api/token").await),
        ("list tokens", sso.get("/api/token").await),
        (
            "switch organization",
            sso.patch(
                "/api/current-user",
                json!({"active_organization": globex.id.0}),
            )
            .await,
        ),
        (
            "change the password",
            sso.patch(
                "/api/current-user",
                json!({"password": "another long passphrase", "current_password": roster_tests::PASSWORD}),
            )
            .await,
        ),
        (
            "rename themselves",
            sso.patch("/api/current-user", json!({"first_name": "Mallory"}))
                .await,
        ),
    ] {
        assert_eq!(r.status, 403, "{what}: {}", r.text);
        assert!(r.text.contains("single sign-on"), "{what}: {}", r.text);
    }
    assert_eq!(server.snapshot().await, before, "nothing changed");

    // Signed in with their own password, the same person reaches both.
    let mut own = server.browser();
    own.sign_in(&person.email, roster_tests::PASSWORD)
        .await
        .expect(200);
    own.get(&globex.path("/memberships")).await.expect(200);
    own.get("/api/current-user/token").await.expect(200);
}
