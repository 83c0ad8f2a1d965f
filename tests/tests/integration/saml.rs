//! SAML settings through HTTP, as an Owner or Administrator (or the SDK's `sso.saml`) sets
//! them up: Label Studio Enterprise's fields, the identity provider's metadata pasted or
//! fetched from a URL that cannot reach into the server's own network, and the service
//! provider's metadata the identity provider reads.

use roster_domain::Role;
use roster_service::ServiceConfig;
use roster_tests::{results, OrgFixture, TestServer};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// The test identity provider's metadata (tests/saml: pysaml2 with its own test key).
pub(crate) const IDP_METADATA: &str = include_str!("../../saml/idp-metadata.xml");

async fn settings(org: &OrgFixture) -> Value {
    org.owner_api()
        .get("/api/saml/settings")
        .await
        .expect(200)
        .body
}

/// Serves one fixed HTTP answer to every request on a loopback port; its URL.
async fn serve_once_per_request(status: &'static str, extra: &'static str, body: String) -> String {
    serve_current(status, extra, Arc::new(Mutex::new(body))).await
}

/// Serves whatever `body` holds at the time of each request on a loopback port; its URL.
async fn serve_current(
    status: &'static str,
    extra: &'static str,
    body: Arc<Mutex<String>>,
) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let body = body.lock().expect("body").clone();
                let answer = format!(
                    "HTTP/1.1 {status}\r\n{extra}Content-Type: application/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}/metadata")
}

#[tokio::test]
async fn saml_settings_take_label_studios_fields_and_give_the_identity_provider_its_values() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let project = org.owner_api().create_project("Labels").await;

    let fresh = settings(&org).await;
    assert_eq!(fresh["configured"], json!(false));
    assert_eq!(fresh["mapping_email"], json!("Email"));
    assert_eq!(fresh["mapping_groups"], json!("Groups"));
    assert_eq!(fresh["roles_groups"], json!([]));

    let r = org
        .owner_api()
        .post(
            "/api/saml/settings",
            json!({
                "metadata_xml": IDP_METADATA,
                "domain": "Acme.example, labs.acme.example",
                "idp_provider": "okta",
                "mapping_groups": "memberOf",
                "roles_groups": [["Reviewer", "Reviewers"], ["Manager", "Leads"]],
                "projects_groups": [{"project_id": project, "group": "Labelers", "role": "Annotator"}],
                "manual_role_management": false,
            }),
        )
        .await
        .expect(200);
    let saved = settings(&org).await;
    assert_eq!(r.body, saved, "the answer is what a read then shows");
    assert_eq!(saved["configured"], json!(true));
    assert_eq!(saved["domain"], json!("acme.example,labs.acme.example"));
    assert_eq!(saved["idp_provider"], json!("okta"));
    assert_eq!(saved["mapping_groups"], json!("memberOf"));
    assert_eq!(saved["mapping_email"], json!("Email"));
    assert_eq!(
        saved["roles_groups"],
        json!([["Reviewer", "Reviewers"], ["Manager", "Leads"]])
    );
    assert_eq!(
        saved["projects_groups"],
        json!([{"project_id": project, "group": "Labelers", "role": "Annotator"}])
    );
    assert_eq!(saved["manual_role_management"], json!(false));
    assert!(
        saved["idp_entity_id"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{saved}"
    );
    assert!(saved["idp_signing_certificates"].as_u64() >= Some(1));
    let token = saved["token"].as_str().unwrap().to_string();
    assert_eq!(
        fresh["token"],
        json!(token),
        "URLs read before the first save stay right after it"
    );
    for (field, tail) in [
        ("acs_url", "acs"),
        ("login_url", "login"),
        ("logout_url", "logout"),
        ("metadata_xml_url", "metadata"),
    ] {
        assert_eq!(
            saved[field],
            json!(format!("{}/saml/{token}/{tail}", server.url)),
            "{field}"
        );
    }

    // The service provider's metadata, as the identity provider fetches it (no credential).
    let r = server
        .anonymous()
        .get(&format!("/saml/{token}/metadata"))
        .await
        .expect(200);
    assert_eq!(
        r.headers["content-type"].to_str().unwrap(),
        "application/samlmetadata+xml"
    );
    assert!(
        r.text.contains(&format!(
            "entityID=\"{}\"",
            saved["sp_entity_id"].as_str().unwrap()
        )),
        "{}",
        r.text
    );
    assert!(r.text.contains(saved["acs_url"].as_str().unwrap()));
    assert!(
        r.text.contains("X509Certificate"),
        "the SP's own key is published"
    );
    // The same key across saves: the IdP's copy of the SP metadata stays right.
    org.owner_api()
        .post("/api/saml/settings", json!({"idp_provider": "custom"}))
        .await
        .expect(200);
    let again = server
        .anonymous()
        .get(&format!("/saml/{token}/metadata"))
        .await
        .expect(200);
    assert_eq!(again.text, r.text);

    let changed = crate::scim_stories::events(&org, "saml.settings_changed").await;
    assert_eq!(changed.len(), 2, "{changed:?}");

    // Reset: sign-in through the IdP stops, the SP metadata is gone.
    org.owner_api()
        .delete("/api/saml/settings")
        .await
        .expect(204);
    assert_eq!(settings(&org).await["configured"], json!(false));
    server
        .anonymous()
        .get(&format!("/saml/{token}/metadata"))
        .await
        .expect(404);
    assert_eq!(
        crate::scim_stories::events(&org, "saml.settings_removed")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn bad_saml_settings_are_refused_whole_and_only_admins_see_them() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    org.owner_api()
        .post(
            "/api/saml/settings",
            json!({"metadata_xml": IDP_METADATA, "domain": "acme.example"}),
        )
        .await
        .expect(200);
    let before = settings(&org).await;
    // The same metadata with its KeyDescriptors (the signing certificates) cut out.
    let first = IDP_METADATA[..IDP_METADATA.find("KeyDescriptor").unwrap()]
        .rfind('<')
        .unwrap();
    let last = IDP_METADATA.rfind("KeyDescriptor>").unwrap() + "KeyDescriptor>".len();
    let no_cert = format!("{}{}", &IDP_METADATA[..first], &IDP_METADATA[last..]);
    for (body, field) in [
        (json!({"domain": "acme.example,gmail.com"}), "domain"),
        (json!({"domain": "not a domain"}), "domain"),
        (json!({"metadata_xml": "<not-metadata/>"}), "metadata_xml"),
        (json!({"metadata_xml": no_cert}), "metadata_xml"),
        (
            json!({"metadata_xml": format!("<!DOCTYPE x [<!ENTITY e \"e\">]>{IDP_METADATA}")}),
            "metadata_xml",
        ),
        (
            json!({"roles_groups": [["Owner", "Bosses"]]}),
            "roles_groups",
        ),
        (json!({"roles_groups": [["Reviewer"]]}), "roles_groups"),
        (
            json!({"projects_groups": [{"project_id": 999999, "group": "G", "role": "Annotator"}]}),
            "projects_groups",
        ),
        (
            json!({"workspaces_groups": [["WS", "G"]]}),
            "workspaces_groups",
        ),
        (json!({"idp_provider": "myspace"}), "idp_provider"),
        (json!({"mapping_email": ""}), "mapping_email"),
        (json!({"domain": "acme.example", "surprise": 1}), ""),
    ] {
        let r = org
            .owner_api()
            .post("/api/saml/settings", body.clone())
            .await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.text.contains(field), "{body}: {}", r.text);
        assert_eq!(settings(&org).await, before, "{body}: nothing changed");
    }
    let admin = org.member(Role::Administrator).await;
    org.api(&admin).get("/api/saml/settings").await.expect(200);
    for role in [Role::Manager, Role::Reviewer, Role::Annotator] {
        let p = org.member(role).await;
        org.api(&p).get("/api/saml/settings").await.expect(403);
        org.api(&p)
            .post("/api/saml/settings", json!({"domain": "evil.example"}))
            .await
            .expect(403);
        org.api(&p).delete("/api/saml/settings").await.expect(403);
    }
    assert_eq!(settings(&org).await, before);
}

#[tokio::test]
async fn the_fallback_role_is_set_through_the_api_and_a_bad_one_is_refused_changing_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Fallback").await;
    assert_eq!(settings(&org).await["fallback_role"], json!("Deactivated"));
    let r = org
        .owner_api()
        .post(
            "/api/saml/settings",
            json!({"metadata_xml": IDP_METADATA, "fallback_role": "Annotator"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["fallback_role"], json!("Annotator"));
    // As in the SCIM settings, a role is named by its name or its code.
    org.owner_api()
        .post("/api/saml/settings", json!({"fallback_role": "NO"}))
        .await
        .expect(200);
    assert_eq!(
        settings(&org).await["fallback_role"],
        json!("Not Activated")
    );

    let before = server.snapshot().await;
    for (bad, says) in [
        ("Manager", "Manager cannot be the fallback role"),
        ("Administrator", "Administrator cannot be the fallback role"),
        ("Owner", "Owner cannot be the fallback role"),
        ("Boss", "fallback_role"),
    ] {
        let r = org
            .owner_api()
            .post(
                "/api/saml/settings",
                json!({"fallback_role": bad, "domain": "acme.example"}),
            )
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
        assert!(r.text.contains(says), "{bad}: {}", r.text);
        assert!(r.body["validation_errors"].is_object(), "{bad}: {}", r.text);
    }
    assert_eq!(server.snapshot().await, before, "nothing changed");
    assert_eq!(settings(&org).await["domain"], json!(""));
}

#[tokio::test]
async fn a_metadata_url_inside_the_servers_network_is_refused_unless_the_operator_allows_it() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let url = serve_once_per_request("200 OK", "", IDP_METADATA.to_string()).await;

    // Loopback, link-local (cloud metadata) and private addresses: refused before connecting.
    for target in [
        url.clone(),
        "http://169.254.169.254/latest/meta-data".to_string(),
        "http://10.0.0.1/metadata".to_string(),
        "http://[::1]/metadata".to_string(),
        "file:///etc/passwd".to_string(),
    ] {
        let r = org
            .owner_api()
            .post(
                "/api/saml/settings/validate-metadata-url",
                json!({"metadata_url": target}),
            )
            .await
            .expect(200);
        assert_eq!(r.body["valid"], json!(false), "{target}: {}", r.body);
        let r = org
            .owner_api()
            .post("/api/saml/settings", json!({"metadata_url": target}))
            .await
            .expect(400);
        assert!(r.text.contains("metadata_url"), "{}", r.text);
    }
    assert!(settings(&org).await["configured"] == json!(false));

    // The operator allows loopback (an IdP beside roster): fetched, checked, saved.
    let mut config = ServiceConfig::default();
    config.saml.metadata_allow = vec!["127.0.0.0/8".parse().unwrap()];
    let server = TestServer::start_with(config).await;
    let org = server.org("Acme").await;
    let r = org
        .owner_api()
        .post(
            "/api/saml/settings/validate-metadata-url",
            json!({"metadata_url": url}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["valid"], json!(true), "{}", r.body);
    assert!(
        settings(&org).await["configured"] == json!(false),
        "validating saves nothing"
    );
    let r = org
        .owner_api()
        .post("/api/saml/settings", json!({"metadata_url": url}))
        .await
        .expect(200);
    assert_eq!(r.body["metadata_url"], json!(url));
    assert!(r.body["metadata_fetched_at"].is_string(), "{}", r.body);
    assert!(r.body["idp_entity_id"].is_string(), "{}", r.body);

    // Redirects are not followed (they could lead anywhere); a non-metadata answer is refused.
    let redirect = serve_once_per_request(
        "302 Found",
        "Location: http://169.254.169.254/\r\n",
        String::new(),
    )
    .await;
    let junk = serve_once_per_request("200 OK", "", "<html>login</html>".into()).await;
    for target in [redirect, junk] {
        let r = org
            .owner_api()
            .post("/api/saml/settings", json!({"metadata_url": target}))
            .await
            .expect(400);
        assert!(r.text.contains("metadata_url"), "{}", r.text);
        assert_eq!(settings(&org).await["metadata_url"], json!(url));
    }
    let listed = org
        .owner_api()
        .get("/api/audit-events?action=saml.settings_changed")
        .await
        .expect(200);
    assert_eq!(results(&listed.body).len(), 1);
}

/// The test identity provider's metadata with a second signing certificate beside its own,
/// as an identity provider publishes it during a certificate rollover.
fn with_second_certificate(metadata: &str, cert_base64: &str) -> String {
    let marker = "<ns0:SingleSignOnService";
    let at = metadata
        .find(marker)
        .expect("an SSO service in the metadata");
    let key = format!(
        "<ns0:KeyDescriptor use=\"signing\"><ns2:KeyInfo><ns2:X509Data><ns2:X509Certificate>\
         {cert_base64}</ns2:X509Certificate></ns2:X509Data></ns2:KeyInfo></ns0:KeyDescriptor>"
    );
    format!("{}{key}{}", &metadata[..at], &metadata[at..])
}

#[tokio::test]
async fn metadata_from_a_url_is_fetched_again_on_schedule_and_on_demand() {
    let mut config = ServiceConfig::default();
    config.saml.metadata_allow = vec!["127.0.0.0/8".parse().unwrap()];
    let server = TestServer::start_with(config.clone()).await;
    let org = server.org("Acme").await;
    let served = Arc::new(Mutex::new(IDP_METADATA.to_string()));
    let url = serve_current("200 OK", "", served.clone()).await;
    let saved = org
        .owner_api()
        .post("/api/saml/settings", json!({"metadata_url": url}))
        .await
        .expect(200)
        .body;
    assert_eq!(saved["idp_signing_certificates"], json!(1));
    assert_eq!(
        server.service.refresh_due_saml_metadata().await.unwrap(),
        0,
        "just fetched: nothing is due"
    );

    // The identity provider starts a certificate rollover (a second certificate; here the
    // organization's own SP certificate stands in for the IdP's next one).
    let sp_metadata = reqwest::get(saved["metadata_xml_url"].as_str().unwrap())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let cert: String = sp_metadata
        .split("X509Certificate>")
        .nth(1)
        .expect("a certificate in the SP metadata")
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    let rollover = with_second_certificate(IDP_METADATA, &cert);
    *served.lock().unwrap() = rollover.clone();

    // On demand: an Owner or Administrator asks; nobody else may.
    let manager = org.member(Role::Manager).await;
    org.api(&manager)
        .post("/api/saml/settings/refresh-metadata", json!({}))
        .await
        .expect(403);
    let admin = org.member(Role::Administrator).await;
    let r = org
        .api(&admin)
        .post("/api/saml/settings/refresh-metadata", json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["changed"], json!(true), "{}", r.body);
    assert_eq!(r.body["settings"]["idp_signing_certificates"], json!(2));
    assert_eq!(r.body["settings"]["metadata_error"], json!(null));
    let r = org
        .api(&admin)
        .post("/api/saml/settings/refresh-metadata", json!({}))
        .await
        .expect(200);
    assert_eq!(r.body["changed"], json!(false), "the same document again");

    // On schedule: the old certificate is retired and the sign-in URL moves. Two nodes on one
    // database run the schedule; one of them fetches.
    *served.lock().unwrap() = with_second_certificate(IDP_METADATA, &cert)
        .replace("https://idp.test/sso", "https://idp.test/sso-next");
    server
        .clock
        .advance(std::time::Duration::from_secs(25 * 3600));
    let other = TestServer::start_on(server.db.clone(), config, server.clock.clone()).await;
    let (a, b) = tokio::join!(
        server.service.refresh_due_saml_metadata(),
        other.service.refresh_due_saml_metadata()
    );
    assert_eq!(
        a.unwrap() + b.unwrap(),
        1,
        "one node fetches each organization"
    );
    let now = settings(&org).await;
    assert_eq!(now["idp_sso_url"], json!("https://idp.test/sso-next"));
    assert_eq!(
        server.service.refresh_due_saml_metadata().await.unwrap(),
        0,
        "fetched again only after the interval"
    );

    // A fetch that cannot be used is shown, and the metadata in use stays.
    *served.lock().unwrap() = "<html>maintenance</html>".into();
    server
        .clock
        .advance(std::time::Duration::from_secs(25 * 3600));
    assert_eq!(server.service.refresh_due_saml_metadata().await.unwrap(), 1);
    let after = settings(&org).await;
    assert!(after["metadata_error"].is_string(), "{after}");
    assert_eq!(after["metadata_xml"], now["metadata_xml"]);
    assert_eq!(after["idp_sso_url"], json!("https://idp.test/sso-next"));
    let r = org
        .owner_api()
        .post("/api/saml/settings/refresh-metadata", json!({}))
        .await
        .expect(400);
    assert!(r.text.contains("metadata_url"), "{}", r.text);
    assert_eq!(settings(&org).await["metadata_xml"], now["metadata_xml"]);

    // The identity provider is back: the error clears.
    *served.lock().unwrap() = rollover;
    org.owner_api()
        .post("/api/saml/settings/refresh-metadata", json!({}))
        .await
        .expect(200);
    assert_eq!(settings(&org).await["metadata_error"], json!(null));

    // Each change of the document is in the audit log: the rollover, the move, the return.
    let listed = org
        .owner_api()
        .get("/api/audit-events?action=saml.idp_metadata_refreshed")
        .await
        .expect(200);
    assert_eq!(results(&listed.body).len(), 3, "{}", listed.body);

    // Pasted metadata has no URL to fetch from.
    let pasted = server.org("Pasted").await;
    pasted
        .owner_api()
        .post("/api/saml/settings", json!({"metadata_xml": IDP_METADATA}))
        .await
        .expect(200);
    pasted
        .owner_api()
        .post("/api/saml/settings/refresh-metadata", json!({}))
        .await
        .expect(400);
}
