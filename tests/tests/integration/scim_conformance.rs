//! What the third-party checker scim2-tester (scripts/scim-conformance.sh) found, kept fixed:
//! /Schemas says what roster requires and what it works out itself, a PATCH path may name a
//! whole extension, a removed `active` is unassigned, a Group PATCH answers 204 with the new
//! ETag, every answer that carries a resource honours `attributes`, and a search over every
//! resource type at once is 501, not an unknown endpoint.

use reqwest::Method;
use roster_domain::Role;
use roster_tests::{Api, OrgFixture, Resp, TestServer};
use serde_json::{json, Value};

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The organization's identity provider, with Annotator as the role of people in no mapped group.
async fn idp(org: &OrgFixture) -> Api {
    org.owner_api()
        .post("/api/scim/settings", json!({"fallback_role": "Annotator"}))
        .await
        .expect(200);
    org.idp().await
}

async fn create_user(idp: &Api, email: &str) -> Value {
    idp.post(
        "/scim/v2/Users",
        json!({"schemas": [USER], "userName": email, "emails": [{"value": email, "primary": true}]}),
    )
    .await
    .expect(201)
    .body
}

async fn patch(idp: &Api, path: &str, ops: Value) -> Resp {
    idp.send_json(
        Method::PATCH,
        path,
        json!({"schemas": [PATCH], "Operations": ops}),
    )
    .await
}

/// An attribute (or `attr.sub`) of a schema document.
fn attribute<'a>(schema: &'a Value, dotted: &str) -> &'a Value {
    let mut found = schema;
    for (i, name) in dotted.split('.').enumerate() {
        let list = if i == 0 {
            &found["attributes"]
        } else {
            &found["subAttributes"]
        };
        found = list
            .as_array()
            .and_then(|l| l.iter().find(|a| a["name"] == json!(name)))
            .unwrap_or_else(|| panic!("{dotted} in {schema}"));
    }
    found
}

#[tokio::test]
async fn schemas_say_an_email_is_required_and_member_display_is_ours() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&org).await;
    let user = idp
        .get(&format!("/scim/v2/Schemas/{USER}"))
        .await
        .expect(200)
        .body;
    // A client that sends only what /Schemas requires must be able to create a User, and a
    // User needs an email (userName need not be one).
    for dotted in ["userName", "emails", "emails.value"] {
        assert_eq!(
            attribute(&user, dotted)["required"],
            json!(true),
            "{dotted}"
        );
    }
    idp.post(
        "/scim/v2/Users",
        json!({"schemas": [USER], "userName": "jdoe", "emails": [{"value": "jdoe@example.com"}]}),
    )
    .await
    .expect(201);
    let r = idp
        .post(
            "/scim/v2/Users",
            json!({"schemas": [USER], "userName": "rdoe"}),
        )
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("invalidValue"));

    // A member's display is worked out from the member, so a client cannot set it, and it
    // is shown when asked for: members read back as they were sent.
    let group = idp
        .get(&format!("/scim/v2/Schemas/{GROUP}"))
        .await
        .expect(200)
        .body;
    let display = attribute(&group, "members.display");
    assert_eq!(display["mutability"], json!("readOnly"));
    assert_eq!(display["returned"], json!("request"));
    let u = create_user(&idp, "ann@example.com").await;
    let uid = u["id"].as_str().unwrap();
    let location = u["meta"]["location"].as_str().unwrap();
    let sent = json!([{"value": uid, "$ref": location, "type": "User"}]);
    let r = idp
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP], "displayName": "Team",
                   "members": [{"value": uid, "$ref": location, "type": "User", "display": "whatever"}]}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["members"], sent, "{}", r.body);
    let gid = r.body["id"].as_str().unwrap();
    let r = idp.get(&format!("/scim/v2/Groups/{gid}")).await.expect(200);
    assert_eq!(r.body["members"], sent);
    let r = idp
        .get(&format!("/scim/v2/Groups/{gid}?attributes=members.display"))
        .await
        .expect(200);
    assert_eq!(
        r.body["members"],
        json!([{"display": "ann@example.com"}]),
        "{}",
        r.body
    );
    // Excluding the members, by name or with the Group's URN, leaves them out; excluding a
    // sub-attribute leaves the rest.
    for (excluded, members) in [
        ("members", Value::Null),
        (&format!("{GROUP}:members") as &str, Value::Null),
        ("members.type", json!([{"value": uid, "$ref": location}])),
    ] {
        let r = idp
            .get(&format!(
                "/scim/v2/Groups/{gid}?excludedAttributes={excluded}"
            ))
            .await
            .expect(200);
        assert_eq!(r.body["members"], members, "{excluded}: {}", r.body);
        assert_eq!(r.body["displayName"], json!("Team"));
    }
}

#[tokio::test]
async fn a_patch_path_may_name_the_whole_enterprise_extension() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&org).await;
    let u = create_user(&idp, "bea@example.com").await;
    let path = format!("/scim/v2/Users/{}", u["id"].as_str().unwrap());
    // Clients send the extension as they read it, with its `schemas`.
    let r = patch(
        &idp,
        &path,
        json!([{"op": "add", "path": ENTERPRISE,
                "value": {"schemas": [ENTERPRISE], "department": "Research", "employeeNumber": "7"}}]),
    )
    .await
    .expect(200);
    assert_eq!(
        r.body[ENTERPRISE],
        json!({"department": "Research", "employeeNumber": "7"})
    );
    assert_eq!(r.body["schemas"], json!([USER, ENTERPRISE]));
    // replace sets what it names and leaves the rest.
    patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": ENTERPRISE, "value": {"department": "Sales"}}]),
    )
    .await
    .expect(200);
    let r = idp.get(&path).await.expect(200);
    assert_eq!(
        r.body[ENTERPRISE],
        json!({"department": "Sales", "employeeNumber": "7"})
    );
    patch(&idp, &path, json!([{"op": "remove", "path": ENTERPRISE}]))
        .await
        .expect(200);
    let r = idp.get(&path).await.expect(200);
    assert!(r.body.get(ENTERPRISE).is_none(), "{}", r.body);
    assert_eq!(r.body["schemas"], json!([USER]));
    // A URN we do not serve names nothing; nothing changes.
    let before = server.snapshot().await;
    let r = patch(
        &idp,
        &path,
        json!([{"op": "add", "path": "urn:example:params:scim:schemas:extension:acme:2.0:User",
                "value": {"badge": "1"}}]),
    )
    .await
    .expect(400);
    assert_eq!(r.body["scimType"], json!("invalidPath"));
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn a_removed_active_is_unassigned_and_the_person_works() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&org).await;
    let person = org.member(Role::Annotator).await;
    // Left out on create, `active` is given its default.
    let u = create_user(&idp, &person.email).await;
    assert_eq!(u["active"], json!(true));
    let path = format!("/scim/v2/Users/{}", u["id"].as_str().unwrap());
    patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .expect(200);
    org.api(&person).get("/api/projects").await.expect(403);
    // Removed, it is unassigned: not shown, and the person works (its default).
    let r = patch(&idp, &path, json!([{"op": "remove", "path": "active"}]))
        .await
        .expect(200);
    assert!(r.body.get("active").is_none(), "{}", r.body);
    let r = idp.get(&path).await.expect(200);
    assert!(r.body.get("active").is_none(), "{}", r.body);
    org.api(&person).get("/api/projects").await.expect(200);
    // A filter sees what a read shows: unassigned is not present, yet the person works.
    let count = |filter: &'static str| {
        let idp = idp.clone();
        async move {
            let r = idp
                .get(&format!(
                    "/scim/v2/Users?filter={}",
                    roster_tests::encode(filter)
                ))
                .await
                .expect(200);
            r.body["totalResults"].as_i64().unwrap()
        }
    };
    assert_eq!(count("active pr").await, 0);
    assert_eq!(count("not (active pr)").await, 1);
    assert_eq!(count("active eq true").await, 1);
    // A later change of something else keeps it unassigned; setting it shows it again.
    let r = patch(
        &idp,
        &path,
        json!([{"op": "replace", "path": "title", "value": "Labeler"}]),
    )
    .await
    .expect(200);
    assert!(r.body.get("active").is_none(), "{}", r.body);
    let r = patch(
        &idp,
        &path,
        json!([{"op": "add", "path": "active", "value": false}]),
    )
    .await
    .expect(200);
    assert_eq!(r.body["active"], json!(false));
    org.api(&person).get("/api/projects").await.expect(403);
    assert_eq!(count("active pr").await, 1);
    assert_eq!(count("active eq false").await, 1);
}

#[tokio::test]
async fn a_group_patch_answers_204_with_the_new_etag() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&org).await;
    let u = create_user(&idp, "cid@example.com").await;
    let uid = u["id"].as_str().unwrap();
    let g = idp
        .post(
            "/scim/v2/Groups",
            json!({"schemas": [GROUP], "displayName": "Crew"}),
        )
        .await
        .expect(201);
    let path = format!("/scim/v2/Groups/{}", g.body["id"].as_str().unwrap());
    let first = g.headers["etag"].to_str().unwrap().to_string();
    assert_eq!(g.body["meta"]["version"], json!(first));
    let r = patch(
        &idp,
        &path,
        json!([{"op": "add", "path": "members", "value": [{"value": uid}]}]),
    )
    .await
    .expect(204);
    assert!(r.text.is_empty(), "{}", r.text);
    let etag = r.headers["etag"].to_str().unwrap().to_string();
    assert_ne!(etag, first);
    let r = idp.get(&path).await.expect(200);
    assert_eq!(r.body["meta"]["version"], json!(etag));
    assert_eq!(r.body["members"][0]["value"], json!(uid));
    // The ETag it answered is the one a conditional request names.
    let stale = idp
        .send(
            Method::PATCH,
            &path,
            Some((
                "application/scim+json",
                json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "X"}]})
                    .to_string()
                    .into_bytes(),
            )),
            &[("If-Match", first.as_str())],
        )
        .await;
    assert_eq!(stale.status, 412, "{}", stale.text);
    let fresh = idp
        .send(
            Method::PATCH,
            &path,
            Some((
                "application/scim+json",
                json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": "Crew 2"}]})
                    .to_string()
                    .into_bytes(),
            )),
            &[("If-Match", etag.as_str())],
        )
        .await;
    assert_eq!(fresh.status, 204, "{}", fresh.text);
    let r = idp.get(&path).await.expect(200);
    assert_eq!(r.body["displayName"], json!("Crew 2"));
}

#[tokio::test]
async fn answers_that_carry_a_resource_honour_attributes_and_keep_the_etag() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&org).await;
    let r = idp
        .post(
            "/scim/v2/Users?attributes=userName",
            json!({"schemas": [USER], "userName": "dee@example.com", "title": "Boss"}),
        )
        .await
        .expect(201);
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(
        r.body,
        json!({"schemas": [USER], "id": id, "userName": "dee@example.com"})
    );
    assert!(r.headers["etag"].to_str().unwrap().starts_with("W/"));
    let path = format!("/scim/v2/Users/{id}");
    let r = idp
        .send_json(
            Method::PUT,
            &format!("{path}?excludedAttributes=title,meta"),
            json!({"schemas": [USER], "userName": "dee@example.com", "title": "Chief"}),
        )
        .await
        .expect(200);
    assert!(r.body.get("title").is_none() && r.body.get("meta").is_none());
    assert_eq!(r.body["userName"], json!("dee@example.com"));
    let r = idp
        .send_json(
            Method::PATCH,
            &format!("{path}?attributes=title"),
            json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "title", "value": "Head"}]}),
        )
        .await
        .expect(200);
    assert_eq!(
        r.body,
        json!({"schemas": [USER], "id": id, "title": "Head"})
    );
    let r = idp
        .get(&format!("{path}?attributes=title"))
        .await
        .expect(200);
    assert!(r.headers.contains_key("etag"));
}

#[tokio::test]
async fn a_search_over_every_resource_type_is_not_implemented() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    server
        .anonymous()
        .post("/scim/v2/.search", json!({"schemas": []}))
        .await
        .expect(401);
    let idp = idp(&org).await;
    for base in ["/scim/v2", "/scim"] {
        let r = idp
            .post(
                &format!("{base}/.search"),
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
            )
            .await
            .expect(501);
        assert_eq!(r.body["schemas"], json!([ERROR]));
        assert_eq!(
            r.headers["content-type"].to_str().unwrap(),
            "application/scim+json"
        );
    }
    // Per resource type it works.
    idp.post(
        "/scim/v2/Users/.search",
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]}),
    )
    .await
    .expect(200);
}
