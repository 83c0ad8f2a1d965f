//! The guards around an identity provider: it cannot attach, rename or re-address an account
//! that belongs to another organization's member without a verified domain (and then answers
//! exactly as for a new person, so it learns nothing), a userName change moves the account's
//! address only within verified domains, and the mass-deprovisioning guard holds against a
//! renamed group, a run of one-person requests and a mapping change, until the Owner (and
//! only the Owner) lets it through.

use std::time::Duration;

use reqwest::Method;
use roster_domain::Role;
use roster_tests::{results, Api, OrgFixture, TestServer};
use serde_json::{json, Map, Value};

use crate::scim::{create_group, create_user, idp, patch, role_of, set_mapping, user_body, verify};
use crate::scim_stories::{events, id_of, member_row};

/// A value with every string, number and id blanked: what is left is its shape.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<String, Value>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(shape).collect()),
        Value::String(_) => json!(""),
        Value::Number(_) => json!(0),
        other => other.clone(),
    }
}

/// The snapshot without the audit log (a refusal the Owner should hear about is recorded).
async fn state_without_audit(server: &TestServer) -> String {
    server
        .snapshot()
        .await
        .lines()
        .filter(|l| !l.starts_with("audit_events:"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The organization's pending invites, by email.
async fn pending_invites(org: &OrgFixture) -> Vec<String> {
    let r = org
        .owner_api()
        .get("/api/invites?page_size=100")
        .await
        .expect(200);
    results(&r.body)
        .iter()
        .filter(|i| i["state"] == json!("pending"))
        .map(|i| i["email"].as_str().unwrap().to_string())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The account's names and email, read straight from the database.
async fn account_row(server: &TestServer, id: i64) -> (String, String, String) {
    let row = server
        .sql_rows(
            &format!("SELECT first_name, last_name, email FROM users WHERE id = {id}"),
            3,
        )
        .await;
    let text = |i: usize| row[0][i].text().unwrap().to_string();
    (text(0), text(1), text(2))
}

/// Whether the SCIM user is attached to an account.
async fn attached(server: &TestServer, scim_id: &str) -> bool {
    server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM scim_users WHERE id = '{scim_id}' AND user_id IS NOT NULL"
        ))
        .await
        == 1
}

fn set_user_name(user_name: &str) -> Value {
    json!([{"op": "replace", "path": "userName", "value": user_name}])
}

#[tokio::test]
async fn another_organizations_member_is_not_attached_without_a_verified_domain() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    let alice = acme
        .member_with_email("alice@corp.example", Role::Annotator)
        .await;
    let bob = acme
        .member_with_email("bob@corp.example", Role::Annotator)
        .await;
    let idp = idp(&server, &globex).await;
    set_mapping(&globex, json!({"fallback_role": "Annotator"})).await;
    let acme_before = server.snapshot_org(acme.id).await;
    let alice_before = account_row(&server, alice.id.0).await;

    // Globex's IdP names Alice's email (with names of its own), and a brand-new person.
    let mut claim = user_body("alice@corp.example");
    claim["name"] = json!({"givenName": "Mallory", "familyName": "Taken"});
    let existing = idp.post("/scim/v2/Users", claim).await;
    let fresh = idp
        .post("/scim/v2/Users", user_body("newcomer@corp.example"))
        .await;
    // The IdP cannot tell them apart: same status, same headers, same shape, same values
    // where they do not name the person.
    assert_eq!(existing.status, 201, "{}", existing.text);
    assert_eq!(existing.status, fresh.status);
    for header in ["location", "etag", "content-type"] {
        assert_eq!(
            existing.headers.contains_key(header),
            fresh.headers.contains_key(header),
            "{header}"
        );
    }
    assert_eq!(shape(&existing.body), shape(&fresh.body));
    for field in ["active", "schemas"] {
        assert_eq!(existing.body[field], fresh.body[field], "{field}");
    }
    assert_eq!(
        existing.body["meta"]["version"],
        fresh.body["meta"]["version"]
    );
    let claimed = id_of(&existing.body);
    let read_existing = idp
        .get(&format!("/scim/v2/Users/{claimed}"))
        .await
        .expect(200);
    let read_fresh = idp
        .get(&format!("/scim/v2/Users/{}", id_of(&fresh.body)))
        .await
        .expect(200);
    assert_eq!(shape(&read_existing.body), shape(&read_fresh.body));

    // Alice's account is not attached: no membership in Globex, her account and Acme as
    // they were, a pending invite she may accept with her own account instead. The newcomer
    // is invited the same way (corp.example is not Globex's to make accounts in), so
    // Globex's Administrators cannot tell either whether the email had an account.
    assert!(!attached(&server, &claimed).await);
    assert!(!attached(&server, &id_of(&fresh.body)).await);
    assert_eq!(member_row(&globex, "alice@corp.example").await, None);
    assert_eq!(member_row(&globex, "newcomer@corp.example").await, None);
    assert_eq!(account_row(&server, alice.id.0).await, alice_before);
    assert_eq!(server.snapshot_org(acme.id).await, acme_before);
    assert_eq!(
        pending_invites(&globex).await,
        vec!["alice@corp.example", "newcomer@corp.example"]
    );
    let listed = globex.owner_api().get("/api/invites").await.expect(200);
    let seen = |email: &str| {
        let i = results(&listed.body)
            .iter()
            .find(|i| i["email"] == json!(email))
            .expect("listed")
            .clone();
        (
            i["state"].clone(),
            i["role"].clone(),
            i["invited_by"].clone(),
        )
    };
    assert_eq!(seen("alice@corp.example"), seen("newcomer@corp.example"));
    // Later requests about her change nothing of hers either.
    patch(
        &idp,
        &format!("/scim/v2/Users/{claimed}"),
        json!([{"op": "replace", "value": {"name.givenName": "Mal", "displayName": "M"}}]),
    )
    .await
    .expect(200);
    assert_eq!(member_row(&globex, "alice@corp.example").await, None);
    assert_eq!(account_row(&server, alice.id.0).await, alice_before);
    // Deactivated in the IdP, the pending invite is withdrawn: she could otherwise still
    // accept it and join as a working member.
    patch(
        &idp,
        &format!("/scim/v2/Users/{claimed}"),
        json!([{"op": "replace", "value": {"active": false}}]),
    )
    .await
    .expect(200);
    assert_eq!(
        pending_invites(&globex).await,
        vec!["newcomer@corp.example"]
    );
    let revoked = events(&globex, "invite.revoked").await;
    assert_eq!(revoked.len(), 1, "{revoked:?}");
    assert_eq!(revoked[0]["source"], json!("scim"));
    assert_eq!(server.snapshot_org(acme.id).await, acme_before);

    // With corp.example verified for Globex, its IdP attaches corp.example accounts.
    server
        .service
        .operator_verify_domain(globex.id, "corp.example")
        .await
        .expect("verified");
    let b = create_user(&idp, "bob@corp.example").await;
    assert!(attached(&server, &id_of(&b)).await);
    assert_eq!(
        role_of(&globex, "bob@corp.example").await.as_deref(),
        Some("AN")
    );
    assert_eq!(
        role_of(&acme, &bob.email).await.as_deref(),
        Some("AN"),
        "Acme's membership is Acme's"
    );
    // Alice, reactivated, is attached on the IdP's next request, and her names follow it.
    patch(
        &idp,
        &format!("/scim/v2/Users/{claimed}"),
        json!([{"op": "replace", "value": {"active": true}}]),
    )
    .await
    .expect(200);
    assert!(attached(&server, &claimed).await);
    assert_eq!(
        role_of(&globex, "alice@corp.example").await.as_deref(),
        Some("AN")
    );
    let (first, _, email) = account_row(&server, alice.id.0).await;
    assert_eq!(
        (first.as_str(), email.as_str()),
        ("Mal", "alice@corp.example")
    );
}

#[tokio::test]
async fn a_shared_member_is_neither_renamed_nor_readdressed_by_one_organizations_idp() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    // Carol belongs to both; Globex added her by hand, so its IdP finds her a member.
    let carol = acme
        .member_with_email("carol@corp.example", Role::Annotator)
        .await;
    globex.add_existing(&carol, Role::Annotator).await;
    let carol_before = account_row(&server, carol.id.0).await;
    let idp = idp(&server, &globex).await;
    let mut body = user_body("carol@corp.example");
    body["name"] = json!({"givenName": "Renamed", "familyName": "ByGlobex"});
    let u = idp.post("/scim/v2/Users", body).await.expect(201);
    let path = format!("/scim/v2/Users/{}", id_of(&u.body));
    assert!(attached(&server, &id_of(&u.body)).await);
    // The names stay on the SCIM resource; her account keeps her own.
    assert_eq!(u.body["name"]["givenName"], json!("Renamed"));
    assert_eq!(account_row(&server, carol.id.0).await, carol_before);
    patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": "name.givenName", "value": "Again"}]),
    )
    .await
    .expect(200);
    assert_eq!(account_row(&server, carol.id.0).await, carol_before);

    // A new address is refused, whichever way it is sent.
    let before = state_without_audit(&server).await;
    for ops in [
        set_user_name("carol@evil.example"),
        json!([{"op": "replace", "value": {"userName": "carol@evil.example"}}]),
    ] {
        let r = patch(&idp, &path, ops).await.expect(400);
        assert_eq!(r.body["scimType"], json!("mutability"), "{}", r.body);
    }
    let r = idp
        .send_json(Method::PUT, &path, user_body("carol@evil.example"))
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("mutability"));
    assert_eq!(state_without_audit(&server).await, before);

    // Even with both domains verified for Globex: the account is Acme's too.
    for domain in ["corp.example", "evil.example"] {
        server
            .service
            .operator_verify_domain(globex.id, domain)
            .await
            .expect("verified");
    }
    let r = patch(&idp, &path, set_user_name("carol@evil.example"))
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("mutability"));
    assert_eq!(
        account_row(&server, carol.id.0).await.2,
        "carol@corp.example"
    );
    // Her domain verified for Globex, its IdP may rename her (PRODUCT.md rule 11).
    patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": "name.givenName", "value": "Verified"}]),
    )
    .await
    .expect(200);
    assert_eq!(account_row(&server, carol.id.0).await.0, "Verified");
}

#[tokio::test]
async fn a_user_name_change_moves_the_address_only_within_verified_domains() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    let idp = idp(&server, &globex).await;
    set_mapping(&globex, json!({"fallback_role": "Annotator"})).await;
    // Dana's account is made in a domain verified then, which the operator later removes.
    verify(&server, &globex, "old.example").await;
    let u = create_user(&idp, "dana@old.example").await;
    let path = format!("/scim/v2/Users/{}", id_of(&u));
    let dana = member_row(&globex, "dana@old.example").await.unwrap()["user"]["id"]
        .as_i64()
        .unwrap();
    server
        .service
        .operator_remove_domain(globex.id, "old.example")
        .await
        .expect("removed");

    // Neither domain verified, then only the old one: refused, nothing changed.
    for verified in [None, Some("old.example")] {
        if let Some(d) = verified {
            verify(&server, &globex, d).await;
        }
        let before = state_without_audit(&server).await;
        let r = patch(&idp, &path, set_user_name("dana@new.example"))
            .await
            .expect(400);
        assert_eq!(r.body["scimType"], json!("mutability"), "{}", r.body);
        // Entra's way: the work email of a user whose userName is not an email.
        let r = idp.get(&path).await.expect(200).body["userName"].clone();
        assert_eq!(r, json!("dana@old.example"));
        assert_eq!(state_without_audit(&server).await, before, "{verified:?}");
    }
    // A domain verified for another organization does not count.
    server
        .service
        .operator_verify_domain(acme.id, "new.example")
        .await
        .expect("verified");
    let r = patch(&idp, &path, set_user_name("dana@new.example"))
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("mutability"));
    // A domain belongs to one organization.
    assert!(server
        .service
        .operator_verify_domain(globex.id, "new.example")
        .await
        .is_err());
    server
        .service
        .operator_remove_domain(acme.id, "new.example")
        .await
        .expect("removed");
    server
        .service
        .operator_verify_domain(globex.id, "new.example")
        .await
        .expect("verified");

    // Both verified for Globex and the account Globex's alone: the address moves.
    let r = patch(&idp, &path, set_user_name("Dana@New.example"))
        .await
        .expect(200);
    assert_eq!(r.body["userName"], json!("Dana@New.example"));
    assert_eq!(account_row(&server, dana).await.2, "dana@new.example");
    assert_eq!(
        role_of(&globex, "dana@new.example").await.as_deref(),
        Some("AN")
    );
    // Not onto an address another account uses.
    let taken = acme
        .member_with_email("erin@new.example", Role::Annotator)
        .await;
    let before = state_without_audit(&server).await;
    let r = patch(&idp, &path, set_user_name(&taken.email))
        .await
        .expect(409);
    assert_eq!(r.body["scimType"], json!("uniqueness"));
    assert_eq!(state_without_audit(&server).await, before);

    // The same rule for a userName that is not an email: the primary email is the address.
    let login = idp
        .post(
            "/scim/v2/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "frank",
                   "emails": [{"value": "frank@new.example", "type": "work", "primary": true}]}),
        )
        .await
        .expect(201);
    let r = patch(
        &idp,
        &format!("/scim/v2/Users/{}", id_of(&login.body)),
        json!([{"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "frank@elsewhere.example"}]),
    )
    .await
    .expect(400);
    assert_eq!(r.body["scimType"], json!("mutability"));
}

/// An organization whose IdP has put `n` people in the group mapped to Reviewer.
async fn reviewers(server: &TestServer, n: usize) -> (OrgFixture, Api, Value) {
    let org = server.org("Acme").await;
    let idp = idp(server, &org).await;
    set_mapping(&org, json!({"roles_groups": [["Reviewer", "Reviewers"]]})).await;
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(id_of(
            &create_user(&idp, &format!("r{i}@example.com")).await,
        ));
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = create_group(&idp, "Reviewers", &refs).await;
    for i in 0..n {
        assert_eq!(
            role_of(&org, &format!("r{i}@example.com")).await.as_deref(),
            Some("RE")
        );
    }
    (org, idp, group)
}

#[tokio::test]
async fn a_renamed_mapped_group_never_silently_sends_everyone_to_the_fallback() {
    let server = TestServer::start().await;
    // Seven working members (the Owner and six Reviewers): the limit is at least 5.
    let (org, idp, group) = reviewers(&server, 6).await;
    let path = format!("/scim/v2/Groups/{}", id_of(&group));
    let admin = org.member(Role::Administrator).await;
    let before = state_without_audit(&server).await;
    let seats = org.seats().await["used"].as_i64().unwrap();

    // Renamed by PATCH (with and without a path), by PUT, or deleted: all refused.
    let renames = [
        (
            Method::PATCH,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "path": "displayName", "value": "Reviewers (old)"}]}),
        ),
        (
            Method::PATCH,
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                   "Operations": [{"op": "replace", "value": {"id": id_of(&group), "displayName": "Reviewers (old)"}}]}),
        ),
        (
            Method::PUT,
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                   "displayName": "Reviewers (old)", "members": group["members"].clone()}),
        ),
    ];
    for (method, body) in &renames {
        let r = idp.send_json(method.clone(), &path, body.clone()).await;
        assert_eq!(r.status, 409, "{method}: {}", r.text);
        assert_eq!(
            r.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains("6 members"), "{detail}");
    }
    let r = idp.delete(&path).await.expect(409);
    assert!(r.body["detail"].as_str().unwrap().contains("6 members"));
    assert_eq!(
        state_without_audit(&server).await,
        before,
        "nothing changed"
    );
    assert_eq!(org.seats().await["used"].as_i64().unwrap(), seats);
    let refused = events(&org, "scim.request_refused").await;
    assert_eq!(refused.len(), 4, "{refused:?}");
    for e in &refused {
        assert_eq!(e["source"], json!("scim"));
        assert!(
            e["new_value"].as_str().unwrap().contains("6 members"),
            "{e}"
        );
    }

    // An Administrator cannot raise the limit; the Owner can, and the rename goes through.
    org.api(&admin)
        .post("/api/scim/settings", json!({"max_deprovision": 10}))
        .await
        .expect(403);
    assert_eq!(state_without_audit(&server).await, before);
    org.owner_api()
        .post("/api/scim/settings", json!({"max_deprovision": 10}))
        .await
        .expect(200);
    let (method, body) = &renames[0];
    idp.send_json(method.clone(), &path, body.clone())
        .await
        .expect(204);
    for i in 0..6 {
        assert_eq!(
            role_of(&org, &format!("r{i}@example.com")).await.as_deref(),
            Some("DI")
        );
    }
    assert_eq!(org.seats().await["used"].as_i64().unwrap(), seats - 6);
}

#[tokio::test]
async fn people_removed_one_request_at_a_time_are_held_to_the_hourly_limit() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    // Nine working members: 10% is 1, so the floor of 5 applies.
    let mut ids = Vec::new();
    for i in 0..8 {
        ids.push(id_of(
            &create_user(&idp, &format!("p{i}@example.com")).await,
        ));
    }
    let deactivate = json!([{"op": "replace", "value": {"active": false}}]);
    for id in &ids[..3] {
        patch(&idp, &format!("/scim/v2/Users/{id}"), deactivate.clone())
            .await
            .expect(200);
    }
    // Deletions count as well.
    for id in &ids[3..5] {
        idp.delete(&format!("/scim/v2/Users/{id}"))
            .await
            .expect(204);
    }
    // The sixth in the hour is refused, however it is asked for.
    let before = state_without_audit(&server).await;
    let sixth = format!("/scim/v2/Users/{}", ids[5]);
    let r = patch(&idp, &sixth, deactivate.clone()).await.expect(409);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("1 member") && detail.contains("after 5 members in the last hour"),
        "{detail}"
    );
    idp.delete(&sixth).await.expect(409);
    idp.send_json(Method::PUT, &sixth, {
        let mut b = user_body("p5@example.com");
        b["active"] = json!(false);
        b
    })
    .await
    .expect(409);
    assert_eq!(state_without_audit(&server).await, before);
    assert_eq!(role_of(&org, "p5@example.com").await.as_deref(), Some("AN"));
    assert_eq!(events(&org, "scim.request_refused").await.len(), 3);
    // Requests that deprovision nobody still pass.
    patch(
        &idp,
        &sixth,
        json!([{"op": "replace", "path": "displayName", "value": "Still here"}]),
    )
    .await
    .expect(200);

    // An hour after the first of them, the window has room again.
    server.advance(Duration::from_secs(3600 + 1));
    patch(&idp, &sixth, deactivate.clone()).await.expect(200);
    assert_eq!(role_of(&org, "p5@example.com").await.as_deref(), Some("DI"));
    // Two more fill the window again; the Owner raising the limit lets a longer run through.
    for id in &ids[6..] {
        patch(&idp, &format!("/scim/v2/Users/{id}"), deactivate.clone())
            .await
            .expect(200);
    }
    let mut more = Vec::new();
    for i in 0..4 {
        more.push(id_of(
            &create_user(&idp, &format!("q{i}@example.com")).await,
        ));
    }
    for id in &more[..2] {
        patch(&idp, &format!("/scim/v2/Users/{id}"), deactivate.clone())
            .await
            .expect(200);
    }
    let r = patch(
        &idp,
        &format!("/scim/v2/Users/{}", more[2]),
        deactivate.clone(),
    )
    .await
    .expect(409);
    assert!(
        r.body["detail"].as_str().unwrap().contains("limit of 5"),
        "{}",
        r.body
    );
    org.owner_api()
        .post("/api/scim/settings", json!({"max_deprovision": 8}))
        .await
        .expect(200);
    for id in &more[2..] {
        patch(&idp, &format!("/scim/v2/Users/{id}"), deactivate.clone())
            .await
            .expect(200);
    }
    assert_eq!(role_of(&org, "q3@example.com").await.as_deref(), Some("DI"));
}

#[tokio::test]
async fn a_run_of_removals_is_held_to_the_same_tenth_as_one_request() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    // Sixty-one working members: the limit is a tenth, rounded up, 7.
    let mut ids = Vec::new();
    for i in 0..60 {
        ids.push(id_of(
            &create_user(&idp, &format!("w{i}@example.com")).await,
        ));
    }
    let deactivate = json!([{"op": "replace", "value": {"active": false}}]);
    // People leave one request at a time; the run gets the limit one request would get.
    for (n, id) in ids[..7].iter().enumerate() {
        let r = patch(&idp, &format!("/scim/v2/Users/{id}"), deactivate.clone()).await;
        assert_eq!(r.status, 200, "removal {}: {}", n + 1, r.text);
    }
    let r = patch(
        &idp,
        &format!("/scim/v2/Users/{}", ids[7]),
        deactivate.clone(),
    )
    .await
    .expect(409);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("after 7 members") && detail.contains("limit of 7"),
        "{detail}"
    );
}

#[tokio::test]
async fn a_mapping_change_past_the_limit_needs_the_owners_confirmation() {
    let server = TestServer::start().await;
    let (org, _idp, _group) = reviewers(&server, 6).await;
    let admin = org.member(Role::Administrator).await;
    let change = json!({"roles_groups": [["Reviewer", "Reviewers-EU"]]});

    // The preview shows who would lose their seat.
    let dry = org
        .owner_api()
        .post("/api/scim/settings?dry_run=true", change.clone())
        .await
        .expect(200);
    let moves = dry.body["moves"].as_array().unwrap();
    assert_eq!(moves.len(), 6);
    assert!(moves.iter().all(|m| m["from"] == "RE" && m["to"] == "DI"));

    let before = state_without_audit(&server).await;
    let r = org
        .owner_api()
        .post("/api/scim/settings", change.clone())
        .await
        .expect(409);
    assert!(r.body["detail"].as_str().unwrap().contains("6 members"));
    assert_eq!(state_without_audit(&server).await, before);
    let refused = events(&org, "scim.request_refused").await;
    assert_eq!(refused.len(), 1, "the Owner hears of it: {refused:?}");
    assert!(refused[0]["new_value"]
        .as_str()
        .unwrap()
        .contains("6 members"));
    // An Administrator may not confirm it.
    let mut confirmed = change.clone();
    confirmed["confirm_deprovision"] = json!(true);
    org.api(&admin)
        .post("/api/scim/settings", confirmed.clone())
        .await
        .expect(403);
    assert_eq!(state_without_audit(&server).await, before);
    // The Owner may.
    let r = org
        .owner_api()
        .post("/api/scim/settings", confirmed)
        .await
        .expect(200);
    assert_eq!(r.body["applied"], json!(true));
    assert_eq!(r.body["moves"].as_array().unwrap().len(), 6);
    for i in 0..6 {
        assert_eq!(
            role_of(&org, &format!("r{i}@example.com")).await.as_deref(),
            Some("DI")
        );
    }
}

#[tokio::test]
async fn only_the_owner_raises_the_deprovisioning_limit() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let as_admin = org.api(&admin);
    let before = server.snapshot().await;
    // From the default share to a number, up, or back to the default: the Owner's call.
    for body in [json!({"max_deprovision": 50})] {
        as_admin.post("/api/scim/settings", body).await.expect(403);
    }
    assert_eq!(server.snapshot().await, before);
    org.owner_api()
        .post("/api/scim/settings", json!({"max_deprovision": 10}))
        .await
        .expect(200);
    // Lowering it tightens the guard: an Administrator may.
    let r = as_admin
        .post("/api/scim/settings", json!({"max_deprovision": 3}))
        .await
        .expect(200);
    assert_eq!(r.body["max_deprovision"], json!(3));
    let before = server.snapshot().await;
    for body in [
        json!({"max_deprovision": 4}),
        json!({"max_deprovision": null}),
    ] {
        as_admin
            .post("/api/scim/settings", body.clone())
            .await
            .expect(403);
    }
    as_admin
        .post("/api/scim/settings", json!({"max_deprovision": -1}))
        .await
        .expect(400);
    assert_eq!(server.snapshot().await, before);
    let r = org
        .owner_api()
        .post("/api/scim/settings", json!({"max_deprovision": null}))
        .await
        .expect(200);
    assert_eq!(r.body["max_deprovision"], json!(null));
}
