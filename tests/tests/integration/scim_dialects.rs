//! The requests Entra ID and Okta are documented to send (Microsoft's "Develop and plan
//! provisioning for a SCIM endpoint" and its SCIM compliance notes, Okta's "SCIM 2.0 protocol
//! reference"), replayed as literal bodies: the statuses and bodies an identity provider
//! relies on, and the roles that result. The URLs are written as the providers document
//! them; the client percent-encodes their spaces and quotes as the providers do.

use roster_tests::{Api, TestServer};
use serde_json::{json, Value};

use crate::scim::{idp, role_of, set_mapping, verify};
use crate::scim_stories::{id_of, member_row};

const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const ADSCIM_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

async fn patch_ok(idp: &Api, path: &str, body: Value) -> Value {
    let r = idp.patch(path, body).await;
    assert!(
        r.status == 200 || r.status == 204,
        "PATCH {path}: {} {}",
        r.status,
        r.text
    );
    r.body
}

/// An empty list answer as both providers read it: integers, not strings.
fn assert_empty_list(body: &Value) {
    assert_eq!(body["schemas"], json!([LIST]), "{body}");
    assert_eq!(body["totalResults"], json!(0), "{body}");
    assert_eq!(body["Resources"], json!([]), "{body}");
    assert_eq!(body["startIndex"], json!(1), "{body}");
    assert_eq!(body["itemsPerPage"], json!(0), "{body}");
}

/// Entra ID's create: a login name that is not an email, the address in `emails`, the
/// enterprise extension listed, `meta` and an empty `roles` sent along.
fn entra_user(login: &str, mail: &str, external_id: &str) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "externalId": external_id,
        "userName": login,
        "active": true,
        "emails": [{
            "primary": true,
            "type": "work",
            "value": mail
        }],
        "meta": {
            "resourceType": "User"
        },
        "name": {
            "formatted": "givenName familyName",
            "familyName": "familyName",
            "givenName": "givenName"
        },
        "roles": [],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "100009",
            "department": "Human Resources US"
        }
    })
}

#[tokio::test]
async fn entra_id_tests_the_connection_then_provisions_updates_and_unassigns_a_user() {
    let server = TestServer::start().await;
    let org = server.org("Contoso").await;
    let idp = idp(&server, &org).await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;
    // Entra may change a work address: the addresses are in a domain verified for Contoso.
    verify(&server, &org, "testuser.com").await;

    // "Test Connection": a user by a random userName, and a user by a random id.
    let r = idp
        .get(&format!(
            "/scim/v2/Users?filter=userName eq \"{}\"",
            uuid::Uuid::new_v4()
        ))
        .await
        .expect(200);
    assert_empty_list(&r.body);
    let r = idp
        .get(&format!("/scim/v2/Users/{}", uuid::Uuid::new_v4()))
        .await
        .expect(404);
    assert_eq!(r.body["schemas"], json!([ERROR]));
    assert_eq!(r.body["status"], json!("404"));

    // Before creating, Entra looks the user up by its matching attribute.
    let login = format!("Test_User_{}", uuid::Uuid::new_v4());
    let mail = format!("Test_User_{}@testuser.com", uuid::Uuid::new_v4());
    let r = idp
        .get(&format!("/scim/v2/Users?filter=userName eq \"{login}\""))
        .await
        .expect(200);
    assert_empty_list(&r.body);
    let created = idp
        .post(
            "/scim/v2/Users",
            entra_user(&login, &mail, "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"),
        )
        .await
        .expect(201);
    let user = created.body.clone();
    let id = id_of(&user);
    assert_eq!(
        created.headers["location"].to_str().unwrap(),
        format!("{}/scim/v2/Users/{id}", server.url)
    );
    assert_eq!(user["userName"], json!(login));
    assert_eq!(
        user["externalId"],
        json!("0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef")
    );
    assert_eq!(user["active"], json!(true));
    assert_eq!(user["emails"][0]["value"], json!(mail));
    assert_eq!(user["name"]["familyName"], json!("familyName"));
    assert_eq!(user[ENTERPRISE]["department"], json!("Human Resources US"));
    assert!(user["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(ENTERPRISE)));
    let email = mail.to_lowercase();
    assert_eq!(role_of(&org, &email).await.as_deref(), Some("AN"));

    // Found by userName and by the work email, as Entra queries them.
    for filter in [
        format!("userName eq \"{login}\""),
        format!("emails[type eq \"work\"].value eq \"{mail}\""),
        "externalId eq \"0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef\"".to_string(),
    ] {
        let r = idp
            .get(&format!("/scim/v2/Users?filter={filter}"))
            .await
            .expect(200);
        assert_eq!(r.body["totalResults"], json!(1), "{filter}");
        assert_eq!(r.body["Resources"][0]["id"], json!(id), "{filter}");
    }
    let path = format!("/scim/v2/Users/{id}");

    // "Update User [Multi-valued properties]", capitalised op names.
    let new_mail = format!("updated_{}@testuser.com", uuid::Uuid::new_v4().simple());
    let body = patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "Replace",
                    "path": "emails[type eq \"work\"].value",
                    "value": new_mail
                },
                {
                    "op": "Replace",
                    "path": "name.familyName",
                    "value": "updatedFamilyName"
                }
            ]
        }),
    )
    .await;
    assert_eq!(body["emails"][0]["value"], json!(new_mail));
    assert_eq!(body["name"]["familyName"], json!("updatedFamilyName"));
    assert_eq!(role_of(&org, &email).await, None);
    assert_eq!(role_of(&org, &new_mail).await.as_deref(), Some("AN"));

    // "Update User [Single-valued properties]": a new login name.
    let new_login = format!("{}@testuser.com", uuid::Uuid::new_v4());
    let body = patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "Replace",
                "path": "userName",
                "value": new_login
            }]
        }),
    )
    .await;
    assert_eq!(body["userName"], json!(new_login));
    // A userName that is an email is the address the person signs in with (both addresses
    // are in Contoso's verified domain, and the account is Contoso's alone).
    let new_mail = new_login.to_lowercase();
    assert_eq!(role_of(&org, &new_mail).await.as_deref(), Some("AN"));

    // Without the compliance flag: one Replace per attribute, and Add of a single value.
    patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {"op": "Replace", "path": "displayName", "value": "Pvlo"},
                {"op": "Replace", "path": "name.givenName", "value": "Gtfd"},
                {"op": "Replace", "path": "externalId", "value": "Eqpj"},
                {"op": "Replace",
                 "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
                 "value": "Eqpj"},
                {"op": "Add", "path": "nickName", "value": "Babs"},
                {"op": "Add",
                 "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
                 "value": "2819c223-7f76-453a-919d-413861904646"}
            ]
        }),
    )
    .await;
    let r = idp.get(&path).await.expect(200);
    assert_eq!(r.body["displayName"], json!("Pvlo"));
    assert_eq!(r.body["nickName"], json!("Babs"));
    assert_eq!(r.body["externalId"], json!("Eqpj"));
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], json!("Eqpj"));
    assert_eq!(
        r.body[ENTERPRISE]["manager"]["value"],
        json!("2819c223-7f76-453a-919d-413861904646")
    );

    // With the compliance flag: a path-less replace whose keys are dotted or URN-prefixed.
    patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [
                {
                    "op": "replace",
                    "path": "emails[type eq \"work\"].value",
                    "value": "TestMhvaes@testuser.com"
                },
                {
                    "op": "replace",
                    "value": {
                        "displayName": "Bjfe",
                        "name.givenName": "Kkom",
                        "name.familyName": "Unua",
                        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"
                    }
                }
            ]
        }),
    )
    .await;
    let r = idp.get(&path).await.expect(200);
    assert_eq!(r.body["displayName"], json!("Bjfe"));
    assert_eq!(r.body["name"]["givenName"], json!("Kkom"));
    assert_eq!(r.body["name"]["familyName"], json!("Unua"));
    assert_eq!(r.body[ENTERPRISE]["employeeNumber"], json!("Aklq"));
    assert_eq!(
        r.body[ENTERPRISE]["department"],
        json!("Human Resources US")
    );
    // The account belongs to Contoso alone: the names are its names.
    let row = member_row(&org, &new_mail).await.unwrap();
    assert_eq!(
        (&row["user"]["first_name"], &row["user"]["last_name"]),
        (&json!("Kkom"), &json!("Unua"))
    );

    // "Disable User" without the flag: "False" as a string; "True" brings the role back.
    let seats = org.seats().await["used"].as_i64().unwrap();
    for (value, active, role) in [("False", false, "DI"), ("True", true, "AN")] {
        let body = patch_ok(
            &idp,
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "Replace", "path": "active", "value": value}]
            }),
        )
        .await;
        assert_eq!(body["active"], json!(active));
        assert_eq!(role_of(&org, &new_mail).await.as_deref(), Some(role));
    }
    // Unassignment from the application, with the flag: active=false, a boolean.
    let body = patch_ok(
        &idp,
        &path,
        json!({
            "Operations": [{"op": "replace", "path": "active", "value": false}],
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"]
        }),
    )
    .await;
    assert_eq!(body["active"], json!(false));
    assert_eq!(role_of(&org, &new_mail).await.as_deref(), Some("DI"));
    assert_eq!(org.seats().await["used"].as_i64().unwrap(), seats - 1);

    // "Delete User", 30 days after a soft delete.
    idp.delete(&path).await.expect(204);
    idp.get(&path).await.expect(404);
    assert_eq!(role_of(&org, &new_mail).await, None);
}

#[tokio::test]
async fn entra_id_pushes_a_group_and_moves_its_members_by_value_lists() {
    let server = TestServer::start().await;
    let org = server.org("Contoso").await;
    let idp = idp(&server, &org).await;
    verify(&server, &org, "contoso.example").await;
    set_mapping(
        &org,
        json!({"roles_groups": [["Reviewer", "Contoso Reviewers"]], "fallback_role": "Annotator"}),
    )
    .await;
    let mut users = Vec::new();
    for n in 0..2 {
        let login = format!("Test_User_{}", uuid::Uuid::new_v4());
        let mail = format!("reviewer{n}@contoso.example");
        let r = idp
            .post(
                "/scim/v2/Users",
                entra_user(&login, &mail, &uuid::Uuid::new_v4().to_string()),
            )
            .await
            .expect(201);
        users.push((id_of(&r.body), mail));
    }
    let (u0, mail0) = users[0].clone();
    let (u1, mail1) = users[1].clone();

    // "Create Group", with the ADSCIM extension schema listed and an empty member list.
    let created = idp
        .post(
            "/scim/v2/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "Contoso Reviewers",
                "meta": {
                    "resourceType": "Group"
                }
            }),
        )
        .await
        .expect(201);
    let group = created.body;
    let gid = id_of(&group);
    assert_eq!(group["displayName"], json!("Contoso Reviewers"));
    assert_eq!(
        group["externalId"],
        json!("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
    );
    assert!(group.get("members").is_none_or(|m| m == &json!([])));
    assert!(!group["schemas"]
        .as_array()
        .unwrap()
        .contains(&json!(ADSCIM_GROUP)));

    // "Get Group by displayName" and "Get Group", members excluded.
    let r = idp
        .get("/scim/v2/Groups?excludedAttributes=members&filter=displayName eq \"Contoso Reviewers\"")
        .await
        .expect(200);
    assert_eq!(r.body["schemas"], json!([LIST]));
    assert_eq!(r.body["totalResults"], json!(1));
    assert_eq!(r.body["Resources"][0]["id"], json!(gid));
    assert_eq!(
        r.body["Resources"][0]["displayName"],
        json!("Contoso Reviewers")
    );
    assert!(r.body["Resources"][0].get("members").is_none());
    let r = idp
        .get("/scim/v2/Groups?excludedAttributes=members&filter=displayName eq \"Nobody\"")
        .await
        .expect(200);
    assert_empty_list(&r.body);
    let path = format!("/scim/v2/Groups/{gid}");
    let r = idp
        .get(&format!("{path}?excludedAttributes=members"))
        .await
        .expect(200);
    assert!(r.body.get("members").is_none());
    assert_eq!(r.body["displayName"], json!("Contoso Reviewers"));

    // "Update Group [Add Members]": a value list under path members, with a null $ref.
    for uid in [&u0, &u1] {
        patch_ok(
            &idp,
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "Add",
                    "path": "members",
                    "value": [{
                        "$ref": null,
                        "value": uid
                    }]
                }]
            }),
        )
        .await;
    }
    assert_eq!(role_of(&org, &mail0).await.as_deref(), Some("RE"));
    assert_eq!(role_of(&org, &mail1).await.as_deref(), Some("RE"));
    let r = idp.get(&path).await.expect(200);
    let mut members: Vec<&str> = r.body["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort();
    let mut want = vec![u0.as_str(), u1.as_str()];
    want.sort();
    assert_eq!(members, want);
    // Whether a user is a member, asked about the group with its members excluded.
    for filter in [
        format!("id eq \"{gid}\" and members[value eq \"{u0}\"]"),
        format!("id eq \"{gid}\" and members eq \"{u0}\""),
    ] {
        let r = idp
            .get(&format!(
                "/scim/v2/Groups?excludedAttributes=members&filter={filter}"
            ))
            .await
            .expect(200);
        assert_eq!(r.body["totalResults"], json!(1), "{filter}");
        assert!(r.body["Resources"][0].get("members").is_none());
    }
    // The user shows the group it is in.
    let r = idp.get(&format!("/scim/v2/Users/{u0}")).await.expect(200);
    assert_eq!(r.body["groups"][0]["value"], json!(gid));

    // "Update Group [Remove Members]" without the flag: a value list under path members.
    patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "Remove",
                "path": "members",
                "value": [{
                    "$ref": null,
                    "value": u0
                }]
            }]
        }),
    )
    .await;
    assert_eq!(role_of(&org, &mail0).await.as_deref(), Some("AN"));
    assert_eq!(role_of(&org, &mail1).await.as_deref(), Some("RE"));
    // With the flag: a value filter.
    patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "remove",
                "path": format!("members[value eq \"{u1}\"]")
            }]
        }),
    )
    .await;
    assert_eq!(role_of(&org, &mail1).await.as_deref(), Some("AN"));
    let r = idp
        .get(&format!(
            "/scim/v2/Groups?excludedAttributes=members&filter=id eq \"{gid}\" and members[value eq \"{u1}\"]"
        ))
        .await
        .expect(200);
    assert_empty_list(&r.body);

    // "Update Group [Non-member attributes]".
    patch_ok(
        &idp,
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "Replace",
                "path": "displayName",
                "value": "1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"
            }]
        }),
    )
    .await;
    let r = idp
        .get(&format!("{path}?excludedAttributes=members"))
        .await
        .expect(200);
    assert_eq!(
        r.body["displayName"],
        json!("1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName")
    );
    // "Delete Group".
    idp.delete(&path).await.expect(204);
    idp.get(&path).await.expect(404);
}

/// Okta's create, as its protocol reference shows it.
fn okta_user(email: &str, given: &str, external_id: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {
            "givenName": given,
            "familyName": "User"
        },
        "emails": [{
            "primary": true,
            "value": email,
            "type": "work"
        }],
        "displayName": format!("{given} User"),
        "locale": "en-US",
        "externalId": external_id,
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

#[tokio::test]
async fn okta_tests_the_connection_then_provisions_replaces_and_deactivates_a_user() {
    let server = TestServer::start().await;
    let org = server.org("Initech").await;
    let idp = idp(&server, &org).await;
    verify(&server, &org, "okta.local").await;
    set_mapping(&org, json!({"fallback_role": "Annotator"})).await;

    // The connection test.
    let r = idp
        .get("/scim/v2/Users?startIndex=1&count=2")
        .await
        .expect(200);
    assert_empty_list(&r.body);
    // Is the user there already?
    let lookup =
        "/scim/v2/Users?filter=userName%20eq%20%22test.user%40okta.local%22&startIndex=1&count=100";
    let r = idp.get(lookup).await.expect(200);
    assert_empty_list(&r.body);

    let created = idp
        .post(
            "/scim/v2/Users",
            okta_user("test.user@okta.local", "Test", "00ujl29u0le5T6Aj10h7"),
        )
        .await
        .expect(201);
    let user = created.body;
    let id = id_of(&user);
    assert_eq!(user["userName"], json!("test.user@okta.local"));
    assert_eq!(user["locale"], json!("en-US"));
    assert_eq!(user["displayName"], json!("Test User"));
    assert_eq!(user["externalId"], json!("00ujl29u0le5T6Aj10h7"));
    assert_eq!(user["active"], json!(true));
    assert!(user.get("password").is_none(), "{user}");
    assert_eq!(
        role_of(&org, "test.user@okta.local").await.as_deref(),
        Some("AN")
    );
    // The password is ignored, never hashed: this person signs in through SSO.
    let hashes = server
        .sql_int(
            "SELECT COUNT(*) FROM users WHERE email = 'test.user@okta.local' AND password_hash IS NOT NULL",
        )
        .await;
    assert_eq!(hashes, 0);

    let r = idp.get(lookup).await.expect(200);
    assert_eq!(r.body["totalResults"], json!(1));
    assert_eq!(r.body["startIndex"], json!(1));
    assert_eq!(r.body["itemsPerPage"], json!(1));
    assert_eq!(r.body["Resources"][0]["id"], json!(id));
    // Creating it again stops the provisioning job with an error body.
    let r = idp
        .post(
            "/scim/v2/Users",
            okta_user("test.user@okta.local", "Test", "00ujl29u0le5T6Aj10h7"),
        )
        .await
        .expect(409);
    assert_eq!(r.body["schemas"], json!([ERROR]));
    assert_eq!(r.body["scimType"], json!("uniqueness"));

    // Import: pages of two, integers throughout.
    for n in 0..2 {
        idp.post(
            "/scim/v2/Users",
            okta_user(&format!("other{n}@okta.local"), "Other", &format!("00u{n}")),
        )
        .await
        .expect(201);
    }
    let r = idp
        .get("/scim/v2/Users?startIndex=1&count=2")
        .await
        .expect(200);
    assert_eq!(r.body["totalResults"], json!(3));
    assert_eq!(r.body["itemsPerPage"], json!(2));
    let r2 = idp
        .get("/scim/v2/Users?startIndex=3&count=2")
        .await
        .expect(200);
    assert_eq!(r2.body["startIndex"], json!(3));
    assert_eq!(r2.body["itemsPerPage"], json!(1));
    // The same order however the pages are cut.
    let ids = |r: &Value| -> Vec<Value> {
        r["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["id"].clone())
            .collect()
    };
    let all = idp
        .get("/scim/v2/Users?startIndex=1&count=100")
        .await
        .expect(200);
    let mut paged = ids(&r.body);
    paged.extend(ids(&r2.body));
    assert_eq!(ids(&all.body), paged);

    // Update: Okta reads the user, then PUTs the whole of it back, changed.
    let path = format!("/scim/v2/Users/{id}");
    idp.get(&path).await.expect(200);
    let r = idp
        .send_json(
            reqwest::Method::PUT,
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": id,
                "userName": "test.user@okta.local",
                "name": {
                    "givenName": "Another",
                    "middleName": "Excited",
                    "familyName": "User"
                },
                "emails": [{
                    "primary": true,
                    "value": "test.user@okta.local",
                    "type": "work",
                    "display": "test.user@okta.local"
                }],
                "active": true,
                "groups": [],
                "meta": {
                    "resourceType": "User"
                }
            }),
        )
        .await
        .expect(200);
    assert_eq!(r.body["name"]["givenName"], json!("Another"));
    assert_eq!(r.body["name"]["middleName"], json!("Excited"));
    assert_eq!(
        r.body["emails"][0]["display"],
        json!("test.user@okta.local")
    );
    // A full replace: what the PUT left out is gone.
    assert!(r.body.get("locale").is_none(), "{}", r.body);
    assert!(r.body.get("displayName").is_none(), "{}", r.body);
    let row = member_row(&org, "test.user@okta.local").await.unwrap();
    assert_eq!(row["user"]["first_name"], json!("Another"));

    // Deactivation: a path-less replace of active.
    let seats = org.seats().await["used"].as_i64().unwrap();
    let r = idp
        .patch(
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{
                    "op": "replace",
                    "value": {
                        "active": false
                    }
                }]
            }),
        )
        .await
        .expect(200);
    assert_eq!(r.body["active"], json!(false));
    assert_eq!(r.body["name"]["givenName"], json!("Another"));
    assert_eq!(
        role_of(&org, "test.user@okta.local").await.as_deref(),
        Some("DI")
    );
    assert_eq!(org.seats().await["used"].as_i64().unwrap(), seats - 1);
    // Reactivation.
    idp.patch(
        &path,
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": true}}]
        }),
    )
    .await
    .expect(200);
    assert_eq!(
        role_of(&org, "test.user@okta.local").await.as_deref(),
        Some("AN")
    );
}

#[tokio::test]
async fn okta_pushes_a_group_renames_it_and_moves_members_by_filter_then_add() {
    let server = TestServer::start().await;
    let org = server.org("Initech").await;
    let idp = idp(&server, &org).await;
    verify(&server, &org, "okta.local").await;
    set_mapping(
        &org,
        json!({"roles_groups": [["Reviewer", "Test SCIMv2"]], "fallback_role": "Annotator"}),
    )
    .await;
    let mut ids = Vec::new();
    for (n, email) in ["ann@okta.local", "bob@okta.local"].iter().enumerate() {
        let r = idp
            .post(
                "/scim/v2/Users",
                okta_user(email, "Person", &format!("00u{n}")),
            )
            .await
            .expect(201);
        ids.push(id_of(&r.body));
    }
    let (ann, bob) = (ids[0].clone(), ids[1].clone());

    // Push Groups.
    let created = idp
        .post(
            "/scim/v2/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Test SCIMv2",
                "members": []
            }),
        )
        .await
        .expect(201);
    let gid = id_of(&created.body);
    assert_eq!(created.body["displayName"], json!("Test SCIMv2"));
    // An empty list and an absent attribute mean the same (RFC 7643 §2.5).
    assert!(created.body.get("members").is_none_or(|m| m == &json!([])));
    let path = format!("/scim/v2/Groups/{gid}");

    // Membership updates: remove by filter, then add, in one request.
    let move_to = |out: &str, into: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                  "op": "remove",
                  "path": format!("members[value eq \"{out}\"]")
                },
                {
                  "op": "add",
                  "path": "members",
                  "value": [{
                      "value": into,
                      "display": "test.user@okta.local"
                }]
            }]
        })
    };
    // Removing someone who is not in the group is no error.
    patch_ok(&idp, &path, move_to(&ann, &bob)).await;
    assert_eq!(role_of(&org, "bob@okta.local").await.as_deref(), Some("RE"));
    assert_eq!(role_of(&org, "ann@okta.local").await.as_deref(), Some("AN"));
    patch_ok(&idp, &path, move_to(&bob, &ann)).await;
    assert_eq!(role_of(&org, "ann@okta.local").await.as_deref(), Some("RE"));
    assert_eq!(role_of(&org, "bob@okta.local").await.as_deref(), Some("AN"));
    let r = idp.get(&path).await.expect(200);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["members"][0]["value"], json!(ann));

    // The name update Okta sends with each membership update: id echoed, name unchanged.
    let rename = |name: &str| {
        json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{
                "op": "replace",
                "value": {
                    "id": gid,
                    "displayName": name
                }
            }]
        })
    };
    let body = patch_ok(&idp, &path, rename("Test SCIMv2")).await;
    if !body.is_null() {
        assert_eq!(body["displayName"], json!("Test SCIMv2"));
        assert_eq!(body["id"], json!(gid));
    }
    assert_eq!(role_of(&org, "ann@okta.local").await.as_deref(), Some("RE"));
    // A full push of the membership.
    patch_ok(
        &idp,
        &path,
        json!({
          "schemas": [
            "urn:ietf:params:scim:api:messages:2.0:PatchOp"
          ],
          "Operations": [
            {
              "op": "replace",
              "path": "members",
              "value": [
                {
                  "value": ann,
                  "display": "ann@okta.local"
                },
                {
                  "value": bob,
                  "display": "bob@okta.local"
                }
              ]
            }
          ]
        }),
    )
    .await;
    assert_eq!(role_of(&org, "bob@okta.local").await.as_deref(), Some("RE"));
    // A rename: the mapping matches names, so the members follow the group's new name.
    let body = patch_ok(&idp, &path, rename("Test SCIMv20")).await;
    if !body.is_null() {
        assert_eq!(body["displayName"], json!("Test SCIMv20"));
    }
    for email in ["ann@okta.local", "bob@okta.local"] {
        assert_eq!(role_of(&org, email).await.as_deref(), Some("AN"), "{email}");
    }
    patch_ok(&idp, &path, rename("Test SCIMv2")).await;
    assert_eq!(role_of(&org, "ann@okta.local").await.as_deref(), Some("RE"));

    // Import of groups, page by page.
    let r = idp
        .get("/scim/v2/Groups?startIndex=1&count=100")
        .await
        .expect(200);
    assert_eq!(r.body["totalResults"], json!(1));
    assert_eq!(r.body["Resources"][0]["id"], json!(gid));
    // Unlink pushed group, deleting it in the app.
    idp.delete(&path).await.expect(204);
    for email in ["ann@okta.local", "bob@okta.local"] {
        assert_eq!(role_of(&org, email).await.as_deref(), Some("AN"), "{email}");
    }
    assert!(member_row(&org, "ann@okta.local").await.is_some());
}
