//! SCIM `/Bulk` (RFC 7644 §3.7) through HTTP: bulkId references resolved across operations,
//! `failOnErrors`, the advertised limits enforced, each operation answered on its own, and
//! the single endpoints' rules (the mapping, the Owner, the deprovisioning guard) holding
//! for every operation.

use roster_tests::{results, Api, OrgFixture, TestServer};
use serde_json::{json, Value};

use crate::scim::{idp, user_body, GROUP, PATCH};

const BULK: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn post_user(bulk_id: &str, email: &str) -> Value {
    json!({"method": "POST", "path": "/Users", "bulkId": bulk_id, "data": user_body(email)})
}

fn post_group(bulk_id: &str, name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({"method": "POST", "path": "/Groups", "bulkId": bulk_id,
           "data": {"schemas": [GROUP], "displayName": name, "members": members}})
}

async fn bulk(idp: &Api, body: Value) -> roster_tests::Resp {
    idp.post("/scim/v2/Bulk", body).await
}

fn request(ops: Vec<Value>) -> Value {
    json!({"schemas": [BULK], "Operations": ops})
}

/// The answered operations, by bulkId or method and path order.
fn answers(r: &roster_tests::Resp) -> &Vec<Value> {
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"]),
        "{}",
        r.text
    );
    r.body["Operations"].as_array().expect("Operations")
}

fn status(a: &Value) -> &str {
    a["status"].as_str().expect("status is a string")
}

async fn role_of(org: &OrgFixture, email: &str) -> Option<String> {
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

async fn set_settings(org: &OrgFixture, body: Value) {
    org.owner_api()
        .post("/api/scim/settings", body)
        .await
        .expect(200);
}

async fn users_named(idp: &Api, email: &str) -> i64 {
    idp.get(&format!(
        "/scim/v2/Users?filter=userName%20eq%20%22{email}%22"
    ))
    .await
    .expect(200)
    .body["totalResults"]
        .as_i64()
        .unwrap()
}

#[tokio::test]
async fn users_and_a_group_naming_them_by_bulk_id_are_created_in_one_request_with_mapped_roles() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_settings(
        &org,
        json!({"roles_groups": [["Reviewer", "Reviewers"], ["Administrator", "Admins"]]}),
    )
    .await;
    // The group comes first and names users created after it: they are created first.
    let r = bulk(
        &idp,
        request(vec![
            post_group("rev", "Reviewers", &["bulkId:ann", "bulkId:bob"]),
            post_user("ann", "ann@example.com"),
            post_user("bob", "bob@example.com"),
            post_user("cid", "cid@example.com"),
            post_group("adm", "Admins", &[]),
            json!({"method": "PATCH", "path": "/Groups/bulkId:adm", "data": {
                "schemas": [PATCH],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:bob"}]}]
            }}),
        ]),
    )
    .await
    .expect(200);
    let a = answers(&r);
    assert_eq!(a.len(), 6, "{}", r.text);
    let bulk_ids: Vec<&str> = a[..5]
        .iter()
        .map(|o| o["bulkId"].as_str().unwrap())
        .collect();
    assert_eq!(
        bulk_ids,
        ["rev", "ann", "bob", "cid", "adm"],
        "request order"
    );
    for o in &a[..5] {
        assert_eq!(o["method"], json!("POST"));
        assert_eq!(status(o), "201", "{o}");
        assert_eq!(o["version"], json!("W/\"1\""));
        assert!(o.get("response").is_none());
    }
    assert_eq!(a[5]["method"], json!("PATCH"));
    assert_eq!(status(&a[5]), "200", "{}", a[5]);
    let location = |o: &Value| o["location"].as_str().unwrap().to_string();
    let ann_id = location(&a[1]).rsplit('/').next().unwrap().to_string();
    let bob_id = location(&a[2]).rsplit('/').next().unwrap().to_string();
    assert!(location(&a[1]).ends_with(&format!("/scim/v2/Users/{ann_id}")));
    assert_eq!(location(&a[5]), location(&a[4]));
    // The group holds the ids the POSTs created.
    let group_path = location(&a[0]);
    let group_path = &group_path[group_path.find("/scim/v2/").unwrap()..];
    let g = idp.get(group_path).await.expect(200);
    let mut members: Vec<&str> = g.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort();
    let mut expected = vec![ann_id.as_str(), bob_id.as_str()];
    expected.sort();
    assert_eq!(members, expected);
    // The mapping gave the roles: the highest group wins; in no group, the fallback.
    assert_eq!(
        role_of(&org, "ann@example.com").await.as_deref(),
        Some("RE")
    );
    assert_eq!(
        role_of(&org, "bob@example.com").await.as_deref(),
        Some("AD")
    );
    assert_eq!(
        role_of(&org, "cid@example.com").await.as_deref(),
        Some("DI")
    );
    // Label Studio's base path answers too; a stale version is that operation's 412.
    let r = idp
        .post(
            "/scim/Bulk",
            request(vec![
                json!({"method": "DELETE", "path": format!("/Users/{ann_id}"), "version": "W/\"7\""}),
                json!({"method": "DELETE", "path": format!("/Users/{bob_id}"), "version": "W/\"1\""}),
            ]),
        )
        .await
        .expect(200);
    let a = answers(&r);
    assert_eq!(status(&a[0]), "412", "{}", r.text);
    assert!(a[0]["location"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/Users/{ann_id}")));
    assert_eq!(status(&a[1]), "204", "{}", r.text);
    assert_eq!(
        role_of(&org, "ann@example.com").await.as_deref(),
        Some("RE")
    );
    assert_eq!(role_of(&org, "bob@example.com").await, None, "deleted");
}

#[tokio::test]
async fn fail_on_errors_stops_processing_and_leaves_the_rest_unlisted_and_undone() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let ops = vec![
        post_user("a", "a@example.com"),
        post_user("a2", "a@example.com"),
        post_user("b", "b@example.com"),
        post_user("b2", "b@example.com"),
        post_user("c", "c@example.com"),
    ];
    let mut body = request(ops.clone());
    body["failOnErrors"] = json!(2);
    let r = bulk(&idp, body).await.expect(200);
    let a = answers(&r);
    let seen: Vec<(&str, &str)> = a
        .iter()
        .map(|o| (o["bulkId"].as_str().unwrap(), status(o)))
        .collect();
    assert_eq!(
        seen,
        [("a", "201"), ("a2", "409"), ("b", "201"), ("b2", "409")]
    );
    assert_eq!(a[1]["response"]["scimType"], json!("uniqueness"));
    assert_eq!(
        a[1]["response"]["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(a[1]["response"]["status"], json!("409"));
    assert_eq!(users_named(&idp, "c@example.com").await, 0, "never run");
    // Without failOnErrors every operation runs: bulk is not atomic.
    let r = bulk(
        &idp,
        request(vec![
            post_user("d", "a@example.com"),
            post_user("e", "e@example.com"),
        ]),
    )
    .await
    .expect(200);
    let statuses: Vec<&str> = answers(&r).iter().map(status).collect();
    assert_eq!(statuses, ["409", "201"]);
    assert_eq!(users_named(&idp, "e@example.com").await, 1);
}

#[tokio::test]
async fn more_operations_or_bytes_than_advertised_is_413_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let config = idp.get("/scim/v2/ServiceProviderConfig").await.expect(200);
    assert_eq!(config.body["bulk"]["supported"], json!(true));
    let max_ops = config.body["bulk"]["maxOperations"].as_u64().unwrap() as usize;
    let max_bytes = config.body["bulk"]["maxPayloadSize"].as_u64().unwrap() as usize;
    let before = server.snapshot().await;
    let ops: Vec<Value> = (0..=max_ops)
        .map(|i| post_user(&format!("u{i}"), &format!("u{i}@example.com")))
        .collect();
    let r = bulk(&idp, request(ops)).await.expect(413);
    assert_eq!(r.body["scimType"], json!("tooMany"));
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains(&max_ops.to_string()),
        "{}",
        r.text
    );
    // Exactly the limit is accepted (all fail alike here: they name no path).
    let ops: Vec<Value> = (0..max_ops)
        .map(|_| json!({"method": "DELETE", "path": "/Nothing/x"}))
        .collect();
    let r = bulk(&idp, request(ops)).await.expect(200);
    assert_eq!(answers(&r).len(), max_ops);
    // A body past maxPayloadSize is refused before it is read whole.
    let padding = "x".repeat(max_bytes);
    let mut big = request(vec![post_user("big", "big@example.com")]);
    big["Operations"][0]["data"]["title"] = json!(padding);
    let r = bulk(&idp, big).await.expect(413);
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains(&max_bytes.to_string()),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before, "nothing written");
}

#[tokio::test]
async fn an_unknown_method_or_path_is_a_400_for_that_operation_alone() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let r = bulk(
        &idp,
        request(vec![
            json!({"method": "GET", "path": "/Users", "bulkId": "g"}),
            json!({"method": "POST", "path": "/Projects", "bulkId": "p", "data": {}}),
            json!({"method": "DELETE", "path": "/Users"}),
            json!({"method": "POST", "path": "/Users/abc", "bulkId": "x", "data": user_body("x@example.com")}),
            json!({"method": "PATCH", "path": "/Users/abc"}),
            json!({"method": "POST", "path": "/Users", "data": user_body("nobulkid@example.com")}),
            post_user("ok", "ok@example.com"),
            json!({"method": "DELETE", "path": "/Users/no-such-id"}),
        ]),
    )
    .await
    .expect(200);
    let a = answers(&r);
    let seen: Vec<(&str, Option<&str>)> = a
        .iter()
        .map(|o| (status(o), o["response"]["scimType"].as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("400", Some("invalidSyntax")),
            ("400", Some("invalidPath")),
            ("400", Some("invalidPath")),
            ("400", Some("invalidPath")),
            ("400", Some("invalidSyntax")),
            ("400", Some("invalidSyntax")),
            ("201", None),
            ("404", None),
        ],
        "{}",
        r.text
    );
    assert_eq!(a[0]["method"], json!("GET"), "echoed as sent");
    assert_eq!(users_named(&idp, "ok@example.com").await, 1);
    assert_eq!(users_named(&idp, "x@example.com").await, 0);
    assert_eq!(users_named(&idp, "nobulkid@example.com").await, 0);
    // A request that is not a BulkRequest is refused whole.
    let r = bulk(&idp, json!({"schemas": [PATCH], "Operations": []}))
        .await
        .expect(400);
    assert_eq!(r.body["scimType"], json!("invalidSyntax"));
    bulk(&idp, json!({"schemas": [BULK]})).await.expect(400);
    let r = bulk(
        &idp,
        json!({"schemas": [BULK], "failOnErrors": -1, "Operations": []}),
    )
    .await
    .expect(400);
    assert_eq!(r.body["scimType"], json!("invalidValue"));
    idp.get("/scim/v2/Bulk").await.expect(405);
    server
        .anonymous()
        .post("/scim/v2/Bulk", request(vec![]))
        .await
        .expect(401);
}

#[tokio::test]
async fn a_reference_to_a_failed_unknown_or_circular_post_fails_with_409() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let mut no_email = user_body("not-an-email");
    no_email["emails"] = json!([]);
    let r = bulk(
        &idp,
        request(vec![
            json!({"method": "POST", "path": "/Users", "bulkId": "bad", "data": no_email}),
            post_group("g1", "Depends on a failure", &["bulkId:bad"]),
            post_group("g2", "Depends on nothing", &["bulkId:ghost"]),
            post_group("ring-a", "Ring A", &["bulkId:ring-b"]),
            post_group("ring-b", "Ring B", &["bulkId:ring-a"]),
            json!({"method": "DELETE", "path": "/Groups/bulkId:g1"}),
            post_user("fine", "fine@example.com"),
        ]),
    )
    .await
    .expect(200);
    let a = answers(&r);
    let seen: Vec<(&str, &str, Option<&str>)> = a
        .iter()
        .map(|o| {
            (
                o["bulkId"].as_str().unwrap_or("-"),
                status(o),
                o["response"]["scimType"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("bad", "400", Some("invalidValue")),
            ("g1", "409", Some("invalidValue")),
            ("g2", "409", Some("invalidValue")),
            ("ring-a", "409", Some("invalidValue")),
            ("ring-b", "409", Some("invalidValue")),
            ("-", "409", Some("invalidValue")),
            ("fine", "201", None),
        ],
        "{}",
        r.text
    );
    let detail = |i: usize| a[i]["response"]["detail"].as_str().unwrap().to_string();
    assert!(detail(1).contains("bulkId:bad"), "{}", detail(1));
    assert!(detail(2).contains("bulkId:ghost"), "{}", detail(2));
    assert!(detail(3).contains("cycle"), "{}", detail(3));
    let groups = idp.get("/scim/v2/Groups").await.expect(200);
    assert_eq!(groups.body["totalResults"], json!(0), "{}", groups.text);
}

#[tokio::test]
async fn every_operation_keeps_the_owner_and_the_deprovisioning_guard() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_settings(
        &org,
        json!({"fallback_role": "Annotator", "max_deprovision": 2}),
    )
    .await;
    let emails: Vec<String> = (0..4).map(|i| format!("p{i}@example.com")).collect();
    let mut ops: Vec<Value> = emails
        .iter()
        .enumerate()
        .map(|(i, e)| post_user(&format!("p{i}"), e))
        .collect();
    ops.push(post_user("owner", &org.owner.email));
    let r = bulk(&idp, request(ops)).await.expect(200);
    assert!(answers(&r).iter().all(|o| status(o) == "201"), "{}", r.text);
    for e in &emails {
        assert_eq!(role_of(&org, e).await.as_deref(), Some("AN"));
    }
    // Deleting all four: each is its own transaction, so the first two go through and the
    // guard refuses the rest; the Owner is never deactivated.
    let mut ops: Vec<Value> = (0..4)
        .map(|i| json!({"method": "DELETE", "path": format!("/Users/bulkId:p{i}")}))
        .collect();
    ops.insert(
        0,
        json!({"method": "PATCH", "path": format!("/Users/{}", org.owner.email), "data": {
            "schemas": [PATCH], "Operations": [{"op": "replace", "value": {"active": false}}]
        }}),
    );
    let r = bulk(&idp, request(ops)).await.expect(200);
    let a = answers(&r);
    let seen: Vec<(&str, Option<&str>)> = a
        .iter()
        .map(|o| (status(o), o["response"]["scimType"].as_str()))
        .collect();
    // bulkIds of another request name nothing here.
    assert_eq!(seen[1..], [("409", Some("invalidValue")); 4], "{}", r.text);
    assert_eq!(seen[0], ("400", Some("mutability")), "{}", r.text);
    assert_eq!(role_of(&org, &org.owner.email).await.as_deref(), Some("OW"));
    let ids: Vec<String> = {
        let mut out = Vec::new();
        for e in &emails {
            let r = idp.get(&format!("/scim/v2/Users/{e}")).await.expect(200);
            out.push(r.body["id"].as_str().unwrap().to_string());
        }
        out
    };
    let ops: Vec<Value> = ids
        .iter()
        .map(|id| json!({"method": "DELETE", "path": format!("/Users/{id}")}))
        .collect();
    let r = bulk(&idp, request(ops)).await.expect(200);
    let statuses: Vec<&str> = answers(&r).iter().map(status).collect();
    assert_eq!(statuses, ["204", "204", "409", "409"], "{}", r.text);
    assert_eq!(role_of(&org, &emails[0]).await, None);
    assert_eq!(role_of(&org, &emails[1]).await, None);
    assert_eq!(role_of(&org, &emails[2]).await.as_deref(), Some("AN"));
    assert_eq!(role_of(&org, &emails[3]).await.as_deref(), Some("AN"));
}
