//! Invite mail through a real SMTP conversation: a small SMTP sink on loopback receives the
//! message roster sends, and the link in it signs the person up with the invite's role.

use roster_service::ServiceConfig;
use roster_tests::smtp::{link_in, SmtpSink};
use roster_tests::{json, TestServer};

#[tokio::test]
async fn invite_mail_arrives_and_its_link_signs_the_person_up_with_the_invited_role() {
    let sink = SmtpSink::start().await;
    let config = ServiceConfig {
        mail: Some(sink.config()),
        ..ServiceConfig::default()
    };
    let server = TestServer::start_with(config).await;
    let org = server.org("Mailed Org").await;
    let owner = org.owner_api();
    owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["Rae@Example.com"], "role": "RE"}),
        )
        .await
        .expect(201);

    let mail = {
        let inbox = sink.messages();
        assert_eq!(inbox.len(), 1, "exactly one message delivered");
        inbox[0].clone()
    };
    assert!(mail.contains("To: rae@example.com"), "{mail}");
    assert!(mail.contains("invited you to Mailed Org"), "{mail}");
    assert!(mail.contains("as Reviewer"), "{mail}");
    let link = link_in(&mail);
    let path = link
        .strip_prefix(&server.url)
        .expect("the link points at this server");

    let r = server
        .anonymous()
        .post(
            path,
            json!({"email": "rae@example.com", "password": "a good long password"}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "RE");
    let list = owner
        .get(&org.path("/memberships?search=rae@example.com"))
        .await
        .expect(200);
    assert_eq!(list.body["count"], 1);
    assert_eq!(list.body["results"][0]["role"], "RE");
    assert_eq!(list.body["results"][0]["role_source"], "invite");
    let invites = owner.get("/api/invites/").await.expect(200);
    assert_eq!(invites.body["results"][0]["state"], "accepted");
}

#[tokio::test]
async fn without_smtp_invites_wait_in_the_outbox_with_their_links() {
    let server = TestServer::start().await;
    let org = server.org("Outbox Org").await;
    let owner = org.owner_api();
    owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["sam@example.com"], "role": "AN"}),
        )
        .await
        .expect(201);
    let invites = owner.get("/api/invites/").await.expect(200);
    assert_eq!(invites.body["count"], 1);
    let item = &invites.body["results"][0];
    assert_eq!(item["state"], "pending");
    assert_eq!(item["email"], "sam@example.com");
    let url = item["invite_url"].as_str().expect("a link while pending");
    assert!(
        url.starts_with(&format!("{}/user/signup/?invite=", server.url)),
        "{url}"
    );
}

/// An identity provider that provisions someone whose account belongs to another organization
/// makes an invite (the account is theirs to bring); it is mailed like any invite, once the
/// request has committed, and a refused request mails nothing.
#[tokio::test]
async fn an_invite_made_by_scim_provisioning_is_mailed_after_the_request_commits() {
    let sink = SmtpSink::start().await;
    let config = ServiceConfig {
        mail: Some(sink.config()),
        ..ServiceConfig::default()
    };
    let server = TestServer::start_with(config).await;
    let org = server.org("Provisioned Org").await;
    let elsewhere = server.org("Elsewhere").await;
    let idp = org.idp().await;
    org.owner_api()
        .post("/api/scim/settings", json!({"fallback_role": "Annotator"}))
        .await
        .expect(200);
    let user = |email: &str| json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": email, "active": true});
    idp.post("/scim/v2/Users", user(&elsewhere.owner.email))
        .await
        .expect(201);
    let mail = {
        let inbox = sink.messages();
        assert_eq!(inbox.len(), 1, "exactly one message delivered");
        inbox[0].clone()
    };
    assert!(
        mail.contains(&format!("To: {}", elsewhere.owner.email)),
        "{mail}"
    );
    assert!(
        mail.contains("Provisioned Org's identity provider invited you to Provisioned Org"),
        "{mail}"
    );
    assert!(mail.contains("/user/signup/?invite="), "{mail}");
    // A refused request (the same userName again) mails nothing.
    idp.post("/scim/v2/Users", user(&elsewhere.owner.email))
        .await
        .expect(409);
    assert_eq!(sink.messages().len(), 1);
}
