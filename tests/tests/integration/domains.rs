//! Verified domains by DNS, as an Owner proves one: a claim names the TXT record to publish,
//! "Check now" asks a real DNS server (the testkit's, through roster's real resolver) and a
//! matching record verifies the domain, after which the organization's identity provider
//! attaches existing accounts with it. A wrong or missing record, a domain another
//! organization holds and a DNS server that does not answer are refused with words and change
//! nothing; only the Owner changes domains. Through the REST API and the page without script.

use std::time::{Duration, Instant};

use roster_domain::Role;
use roster_service::ServiceConfig;
use roster_tests::dns::DnsServer;
use roster_tests::{json, Api, OrgFixture, Resp, TestServer, PASSWORD};
use serde_json::Value;

use crate::scim::{create_user, set_mapping, user_body};
use crate::scim_stories::{events, member_row};

/// A server whose DNS look-ups go to a test DNS server.
async fn server_with_dns() -> (TestServer, DnsServer) {
    let dns = DnsServer::start().await;
    let server = TestServer::start_with(ServiceConfig {
        dns_server: Some(dns.addr),
        ..ServiceConfig::default()
    })
    .await;
    (server, dns)
}

/// The Owner claims `domain`; the claim's record name and value.
async fn claim(org: &OrgFixture, domain: &str) -> (String, String) {
    let r = org
        .owner_api()
        .post(&org.path("/domains"), json!({"domain": domain}))
        .await
        .expect(201);
    assert_eq!(r.body["record_type"], json!("TXT"));
    (
        r.body["record_name"].as_str().expect("a name").to_string(),
        r.body["record_value"]
            .as_str()
            .expect("a value")
            .to_string(),
    )
}

async fn verify(api: &Api, org: &OrgFixture, domain: &str) -> Resp {
    api.post_empty(&org.path(&format!("/domains/{domain}/verify")))
        .await
}

async fn domains(org: &OrgFixture) -> Value {
    org.owner_api()
        .get(&org.path("/domains"))
        .await
        .expect(200)
        .body
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|d| d["domain"].as_str().expect("a domain"))
        .collect()
}

#[tokio::test]
async fn an_owner_verifies_a_domain_by_its_txt_record_and_the_idp_then_attaches_accounts() {
    let (server, dns) = server_with_dns().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    acme.member_with_email("alice@corp.example", Role::Annotator)
        .await;
    acme.member_with_email("bob@corp.example", Role::Annotator)
        .await;
    let idp = globex.idp().await;
    set_mapping(&globex, json!({"fallback_role": "Annotator"})).await;

    let (name, value) = claim(&globex, "Corp.Example.").await;
    assert_eq!(name, "_roster-verification.corp.example");
    assert!(value.starts_with("roster-domain-verification="), "{value}");
    assert!(value.len() > "roster-domain-verification=".len() + 20);
    // Claiming again answers the same claim.
    let again = globex
        .owner_api()
        .post(&globex.path("/domains"), json!({"domain": "corp.example"}))
        .await
        .expect(200);
    assert_eq!(again.body["record_value"], json!(value));
    let listed = domains(&globex).await;
    assert_eq!(names(&listed["pending"]), ["corp.example"]);
    assert_eq!(listed["pending"][0]["record_name"], json!(name));
    assert_eq!(listed["pending"][0]["record_value"], json!(value));
    assert!(names(&listed["verified"]).is_empty());

    // Unverified, the IdP's create of Alice waits as an invite.
    idp.post("/scim/v2/Users", user_body("alice@corp.example"))
        .await
        .expect(201);
    assert_eq!(member_row(&globex, "alice@corp.example").await, None);

    // Published beside another TXT record, the record verifies the domain.
    dns.set_txt(&name, &["v=spf1 include:_spf.corp.example -all", &value]);
    let r = verify(&globex.owner_api(), &globex, "corp.example")
        .await
        .expect(200);
    assert_eq!(r.body["domain"], json!("corp.example"));
    let listed = domains(&globex).await;
    assert_eq!(names(&listed["verified"]), ["corp.example"]);
    assert!(
        names(&listed["pending"]).is_empty(),
        "the claim is done with"
    );
    let verified = events(&globex, "domain.verified").await;
    assert_eq!(verified.len(), 1, "{verified:?}");
    assert_eq!(verified[0]["new_value"], json!("corp.example"));
    assert_eq!(verified[0]["source"], json!("api"));
    assert_eq!(
        verified[0]["actor"]["email"],
        json!(globex.owner.email),
        "{verified:?}"
    );
    // The operator's list shows it too: one table, whoever verified.
    assert_eq!(
        server.service.verified_domains(globex.id).await.unwrap(),
        ["corp.example"]
    );

    // Now the IdP attaches Bob's existing account at once.
    create_user(&idp, "bob@corp.example").await;
    assert!(member_row(&globex, "bob@corp.example").await.is_some());
    // Checking a verified domain again says so, and changes nothing.
    let before = server.snapshot().await;
    let r = verify(&globex.owner_api(), &globex, "corp.example")
        .await
        .expect(409);
    assert!(r.text.contains("already verified"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn a_missing_or_wrong_record_is_refused_in_words_and_changes_nothing() {
    let (server, dns) = server_with_dns().await;
    let org = server.org("Acme").await;
    let (name, value) = claim(&org, "corp.example").await;
    let before = server.snapshot().await;

    // Nothing published: NXDOMAIN.
    let r = verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(422);
    let detail = r.body["detail"].as_str().expect("a detail");
    assert!(detail.contains(&name), "{detail}");
    assert!(detail.contains(&value), "{detail}");
    assert!(detail.contains("no TXT record"), "{detail}");
    assert!(dns.queries() >= 1, "the DNS server was asked");

    // The name holds TXT records, none of them the claim's: what was found is quoted.
    let stale = "roster-domain-verification=an-old-token";
    let long = "x".repeat(400);
    dns.set_txt(&name, &[stale, &long]);
    let r = verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(422);
    let detail = r.body["detail"].as_str().expect("a detail");
    assert!(detail.contains(&value), "{detail}");
    assert!(detail.contains(&format!("\"{stale}\"")), "{detail}");
    assert!(
        !detail.contains(&long),
        "a long value is shortened: {detail}"
    );
    // The claim's value in another case is not the claim's value.
    dns.set_txt(&name, &[&value.to_uppercase()]);
    verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(422);
    // A name with no TXT record at all (only other types).
    dns.set_txt(&name, &[]);
    verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(422);
    assert_eq!(server.snapshot().await, before);
    assert!(events(&org, "domain.verified").await.is_empty());

    // A value split into several strings, as some DNS consoles store it, is read whole.
    let (prefix, token) = value.split_at("roster-domain-verification=".len());
    dns.set_txt_strings(&name, &[prefix, token]);
    verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(200);
}

#[tokio::test]
async fn a_domain_another_organization_holds_is_a_409_until_its_owner_removes_it() {
    let (server, dns) = server_with_dns().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    server
        .service
        .operator_verify_domain(acme.id, "corp.example")
        .await
        .expect("verified by the operator");
    // The claim itself is accepted: only who proves control of the domain learns it is held.
    let (name, value) = claim(&globex, "corp.example").await;
    dns.set_txt(&name, &[&value]);
    let before = server.snapshot().await;
    let r = verify(&globex.owner_api(), &globex, "corp.example")
        .await
        .expect(409);
    assert!(
        r.text.contains("verified for another organization"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before, "nothing changed");

    // Acme's Owner removes it (audited with them as the actor); then Globex's check succeeds.
    acme.owner_api()
        .delete(&acme.path("/domains/corp.example"))
        .await
        .expect(204);
    let removed = events(&acme, "domain.removed").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["old_value"], json!("corp.example"));
    assert_eq!(removed[0]["actor"]["email"], json!(acme.owner.email));
    verify(&globex.owner_api(), &globex, "corp.example")
        .await
        .expect(200);
    assert!(names(&domains(&acme).await["verified"]).is_empty());
    // The operator cannot give it back to Acme now: the same rule.
    let e = server
        .service
        .operator_verify_domain(acme.id, "corp.example")
        .await
        .expect_err("held by Globex");
    assert!(e.to_string().contains("another organization"), "{e}");
}

#[tokio::test]
async fn claims_are_made_once_cancelled_by_the_owner_and_bounded() {
    let (server, _dns) = server_with_dns().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let r = owner
        .post(&org.path("/domains"), json!({"domain": "localhost"}))
        .await
        .expect(400);
    assert!(
        r.body["validation_errors"]["domain"].is_array(),
        "{}",
        r.text
    );
    owner
        .post(
            &org.path("/domains"),
            json!({"domain": "a.example", "extra": 1}),
        )
        .await
        .expect(400);
    let (_, first) = claim(&org, "a.example").await;
    owner
        .delete(&org.path("/domains/A.Example"))
        .await
        .expect(204);
    assert!(names(&domains(&org).await["pending"]).is_empty());
    owner
        .delete(&org.path("/domains/a.example"))
        .await
        .expect(404);
    verify(&owner, &org, "a.example").await.expect(404);
    // Claimed anew, the record value is new: the old one proves nothing.
    let (_, second) = claim(&org, "a.example").await;
    assert_ne!(first, second);

    for i in 1..roster_service::domains::MAX_PENDING_CLAIMS {
        claim(&org, &format!("d{i}.example")).await;
    }
    let before = server.snapshot().await;
    let r = owner
        .post(&org.path("/domains"), json!({"domain": "one-more.example"}))
        .await
        .expect(409);
    assert!(r.text.contains("check or cancel"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn administrators_see_domains_and_only_the_owner_changes_them() {
    let (server, dns) = server_with_dns().await;
    let org = server.org("Acme").await;
    let other = server.org("Globex").await;
    let (name, value) = claim(&org, "corp.example").await;
    dns.set_txt(&name, &[&value]);
    let admin = org.member(Role::Administrator).await;
    let annotator = org.member(Role::Annotator).await;
    let before = server.snapshot().await;

    let a = org.api(&admin);
    let seen = a.get(&org.path("/domains")).await.expect(200);
    assert_eq!(seen.body["pending"][0]["record_value"], json!(value));
    a.post(&org.path("/domains"), json!({"domain": "other.example"}))
        .await
        .expect(403);
    verify(&a, &org, "corp.example").await.expect(403);
    a.delete(&org.path("/domains/corp.example"))
        .await
        .expect(403);

    let n = org.api(&annotator);
    n.get(&org.path("/domains")).await.expect(403);
    n.post(&org.path("/domains"), json!({"domain": "other.example"}))
        .await
        .expect(403);
    verify(&n, &org, "corp.example").await.expect(403);

    // Another organization's Owner is answered as for any organization not theirs.
    let outsider = other.owner_api();
    let seats = outsider.get(&org.path("/seats")).await.status;
    assert_eq!(outsider.get(&org.path("/domains")).await.status, seats);
    assert_eq!(verify(&outsider, &org, "corp.example").await.status, seats);
    assert_eq!(
        outsider
            .delete(&org.path("/domains/corp.example"))
            .await
            .status,
        seats
    );
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn a_dns_server_that_does_not_answer_is_a_503_and_changes_nothing() {
    let (server, dns) = server_with_dns().await;
    let org = server.org("Acme").await;
    let (name, value) = claim(&org, "corp.example").await;
    dns.set_txt(&name, &[&value]);
    dns.set_silent(true);
    let before = server.snapshot().await;
    let asked = dns.queries();
    let started = Instant::now();
    let r = verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(503);
    assert!(started.elapsed() < Duration::from_secs(10), "a few seconds");
    assert!(dns.queries() > asked, "the DNS server was asked");
    let detail = r.body["detail"].as_str().expect("a detail");
    assert!(detail.contains(&dns.addr.to_string()), "{detail}");
    assert!(detail.contains("nothing was changed"), "{detail}");
    assert_eq!(server.snapshot().await, before);

    // A DNS server that is not there at all (nothing listens on its port).
    let gone = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let gone_addr = gone.local_addr().unwrap();
    drop(gone);
    let elsewhere = TestServer::start_with(ServiceConfig {
        dns_server: Some(gone_addr),
        ..ServiceConfig::default()
    })
    .await;
    let lone = elsewhere.org("Lone").await;
    claim(&lone, "lone.example").await;
    verify(&lone.owner_api(), &lone, "lone.example")
        .await
        .expect(503);

    // Back up, the same check succeeds.
    dns.set_silent(false);
    verify(&org.owner_api(), &org, "corp.example")
        .await
        .expect(200);
}

/// A signed-in browser session.
async fn browser(server: &TestServer, email: &str) -> Api {
    let mut b = server.browser();
    b.sign_in(email, PASSWORD).await.expect(200);
    b
}

/// Posts the domains form as the page does, with the session's CSRF token.
async fn domain_form(b: &Api, action: &str, domain: &str) -> Resp {
    let csrf = b.csrf.clone().expect("signed in");
    b.post_form(
        "/organization/scim/domains",
        &[
            ("csrf_token", &csrf),
            ("action", action),
            ("domain", domain),
        ],
    )
    .await
}

/// The value of the input with `id` in a page.
fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + "value=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_string())
}

#[tokio::test]
async fn the_owner_verifies_a_domain_on_the_page_without_script() {
    let (server, dns) = server_with_dns().await;
    let org = server.org("Acme").await;
    let owner = browser(&server, &org.owner.email).await;
    let page = owner.get("/organization/scim").await.expect(200);
    assert!(page.text.contains("id=\"domain-form\""), "{}", page.text);
    assert!(page.text.contains("id=\"no-domains\""));

    // A form without the CSRF token is refused, and changes nothing.
    let before = server.snapshot().await;
    owner
        .post_form(
            "/organization/scim/domains",
            &[("action", "add"), ("domain", "corp.example")],
        )
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);

    // Not a domain: the page again, the reason and the text as typed.
    let r = domain_form(&owner, "add", "not a domain").await.expect(400);
    assert!(r.text.contains("Domain: "), "{}", r.text);
    assert_eq!(
        input_value(&r.text, "new-domain").as_deref(),
        Some("not a domain")
    );

    let r = domain_form(&owner, "add", "Corp.Example").await.expect(200);
    assert!(r.text.contains("Publish the TXT record"), "{}", r.text);
    let name = input_value(&r.text, "claim-1-name").expect("the record name");
    let value = input_value(&r.text, "claim-1-value").expect("the record value");
    assert_eq!(name, "_roster-verification.corp.example");
    let api = domains(&org).await;
    assert_eq!(api["pending"][0]["record_value"], json!(value));
    assert!(r.text.contains("data-copy=\"claim-1-value\""));

    // Check now, before the record is published: refused in words.
    let r = domain_form(&owner, "check", "corp.example")
        .await
        .expect(422);
    assert!(r.text.contains("No TXT record at"), "{}", r.text);
    assert!(r.text.contains(&value));

    dns.set_txt(&name, &[&value]);
    let r = domain_form(&owner, "check", "corp.example")
        .await
        .expect(200);
    assert!(
        r.text
            .contains("corp.example is verified for this organization"),
        "{}",
        r.text
    );
    assert!(r.text.contains("id=\"domain-list\""));
    assert!(!r.text.contains("claim-1-name"), "the claim is done with");
    let verified = events(&org, "domain.verified").await;
    assert_eq!(verified[0]["source"], json!("ui"));

    // An Administrator sees the domains, without the forms, and cannot post them.
    let admin = org.member(Role::Administrator).await;
    org.set_password(&admin).await;
    let admin = browser(&server, &admin.email).await;
    domain_form(&owner, "add", "pending.example")
        .await
        .expect(200);
    let r = admin.get("/organization/scim").await.expect(200);
    assert!(r.text.contains("<td>corp.example</td>"), "{}", r.text);
    assert!(input_value(&r.text, "claim-1-value").is_some());
    assert!(r.text.contains("id=\"domains-owner-only\""));
    assert!(!r.text.contains("id=\"domain-form\""));
    assert!(!r.text.contains("value=\"check\""));
    let before = server.snapshot().await;
    for action in ["add", "check", "remove"] {
        let r = domain_form(&admin, action, "corp.example")
            .await
            .expect(403);
        assert!(r.text.contains("Only the Owner"), "{}", r.text);
    }
    assert_eq!(server.snapshot().await, before);

    // The Owner cancels the claim and removes the domain.
    let r = domain_form(&owner, "remove", "pending.example")
        .await
        .expect(200);
    assert!(r
        .text
        .contains("The claim of pending.example was cancelled"));
    let r = domain_form(&owner, "remove", "corp.example")
        .await
        .expect(200);
    assert!(r
        .text
        .contains("corp.example is no longer verified for this organization"));
    assert!(r.text.contains("id=\"no-domains\""));
    assert_eq!(events(&org, "domain.removed").await.len(), 1);
}
