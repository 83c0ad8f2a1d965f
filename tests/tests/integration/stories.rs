//! The seed page ("Manage user accounts"), statement by statement, as the stories it tells:
//! invite-link sign-up and activation, the Not Activated filter, the Organization page's
//! audience, programmatic role assignment with organization id 0, deactivation and
//! reactivation, deletion and "Deleted User", re-inviting, and the audit trail of it all.

use roster_domain::{Role, UserId};
use roster_tests::{json, results, Person, TestServer, PASSWORD};
use serde_json::Value;

fn user_ids(v: &Value) -> Vec<i64> {
    results(v)
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect()
}

/// The path of an absolute link roster handed out, to call it on the test server.
fn path_of(server: &TestServer, url: &str) -> String {
    url.strip_prefix(&server.url).unwrap_or(url).to_string()
}

#[tokio::test]
async fn a_person_who_signs_up_through_the_invite_link_waits_not_activated_until_the_owner_assigns_a_role(
) {
    let server = TestServer::start().await;
    let org = server.org("Acme Labeling").await;
    let owner = org.owner_api();

    let link = owner.get("/api/invite").await.expect(200).body;
    let url = link["invite_url"].as_str().unwrap();
    let r = server
        .anonymous()
        .post(url, json!({"email": "Nia.Newcomer@Example.com", "password": PASSWORD, "first_name": "Nia", "last_name": "Newcomer"}))
        .await
        .expect(201);
    assert_eq!(r.body["role"], "NO");
    assert_eq!(r.body["organization"], org.id.0);
    assert_eq!(r.body["user"]["email"], "nia.newcomer@example.com");
    let id = r.body["user"]["id"].as_i64().unwrap();

    // The account exists and shows as Not Activated in the member list.
    let pending = owner
        .get(&org.path("/memberships?role=NO"))
        .await
        .expect(200)
        .body;
    assert_eq!(user_ids(&pending), vec![id]);
    assert_eq!(results(&pending)[0]["role"], "NO");

    // It cannot work yet, but can see why.
    let nia = server.person(UserId(id)).await;
    let api = server.with_key(&nia.key);
    let refused = api.get("/api/projects/").await.expect(403);
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("awaiting activation"),
        "{}",
        refused.text
    );
    let me = api.get("/api/current-user/whoami").await.expect(200).body;
    assert_eq!(
        me["org_membership"],
        json!([{"organization_id": org.id.0, "role": "NO", "active": false, "user_type": "standard", "flex": null}])
    );

    // The Owner assigns a role: the account is active at once.
    let r = owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": id, "role": "AN"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "AN");
    api.get("/api/projects/").await.expect(200);
    let pending = owner
        .get(&org.path("/memberships?role=NO"))
        .await
        .expect(200)
        .body;
    assert_eq!(pending["count"], 0);
}

#[tokio::test]
async fn the_not_activated_role_filter_shows_every_pending_user_and_no_one_else() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let url = owner.get("/api/invite").await.expect(200).body["invite_url"]
        .as_str()
        .unwrap()
        .to_string();
    let mut pending = Vec::new();
    for email in ["pending-one@example.com", "pending-two@example.com"] {
        let r = server
            .anonymous()
            .post(&url, json!({"email": email, "password": PASSWORD}))
            .await
            .expect(201);
        pending.push(r.body["user"]["id"].as_i64().unwrap());
    }
    pending.push(org.member(Role::NotActivated).await.id.0);
    org.member(Role::Annotator).await;
    org.member(Role::Manager).await;
    org.member(Role::Deactivated).await;
    let gone = org.member(Role::NotActivated).await;
    owner
        .delete(&org.path(&format!("/memberships/{}/", gone.id.0)))
        .await
        .expect(204);

    let r = owner
        .get(&org.path("/memberships?role=NO"))
        .await
        .expect(200)
        .body;
    let mut ids = user_ids(&r);
    ids.sort();
    pending.sort();
    assert_eq!(ids, pending);
    assert_eq!(r["count"], 3);
    assert!(results(&r).iter().all(|m| m["role"] == "NO"));
}

#[tokio::test]
async fn only_owners_and_administrators_can_use_the_organization_page() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    for p in [
        org.member(Role::Manager).await,
        org.member(Role::Reviewer).await,
        org.member(Role::Annotator).await,
    ] {
        let api = org.api(&p);
        let waiting = org.member(Role::NotActivated).await;
        let before = server.snapshot().await;
        for r in [
            api.get(&org.path("/seats")).await,
            api.get("/api/invite").await,
            api.get("/api/audit-events/").await,
            api.patch(
                &org.path("/memberships"),
                json!({"user_id": waiting.id.0, "role": "AN"}),
            )
            .await,
            api.delete(&org.path(&format!("/memberships/{}/", waiting.id.0)))
                .await,
        ] {
            assert_eq!(r.status, 403, "{}", r.text);
            assert!(
                r.body["detail"]
                    .as_str()
                    .unwrap()
                    .contains("an Owner or Administrator"),
                "{}",
                r.text
            );
        }
        assert_eq!(server.snapshot().await, before);
    }
    for api in [org.owner_api(), org.api(&admin)] {
        let waiting = org.member(Role::NotActivated).await;
        api.get(&org.path("/seats")).await.expect(200);
        api.get("/api/invite").await.expect(200);
        api.get("/api/audit-events/").await.expect(200);
        api.patch(
            &org.path("/memberships"),
            json!({"user_id": waiting.id.0, "role": "AN"}),
        )
        .await
        .expect(200);
        api.delete(&org.path(&format!("/memberships/{}/", waiting.id.0)))
            .await
            .expect(204);
    }
}

#[tokio::test]
async fn a_post_to_memberships_assigns_a_role_programmatically_with_ids_from_the_api() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let waiting = org
        .member_with_email("ivy@example.com", Role::NotActivated)
        .await;

    // The organization id, from the organization list; the user id, from the member list.
    let orgs = owner.get("/api/organizations/").await.expect(200).body;
    let org_id = orgs[0]["id"].as_i64().unwrap();
    assert_eq!(org_id, org.id.0);
    let members = owner
        .get(&format!(
            "/api/organizations/{org_id}/memberships?search=ivy@"
        ))
        .await
        .expect(200)
        .body;
    let user_id = results(&members)[0]["user"]["id"].as_i64().unwrap();
    assert_eq!(user_id, waiting.id.0);

    let r = owner
        .post(
            &format!("/api/organizations/{org_id}/memberships"),
            json!({"user_id": user_id, "role": "RE"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "RE");
    assert_eq!(r.body["role_source"], "api");
    assert_eq!(r.body["organization"], org_id);
    assert_eq!(r.body["user"]["id"], user_id);
    assert_eq!(r.body["user"]["email"], "ivy@example.com");
    org.api(&waiting).get("/api/projects/").await.expect(200);
}

#[tokio::test]
async fn organization_id_zero_means_the_only_organization_and_is_refused_with_the_choices_for_several(
) {
    let server = TestServer::start().await;
    let org = server.org("Only One").await;
    let owner = org.owner_api();
    let r = owner.get("/api/organizations/0").await.expect(200);
    assert_eq!(r.body["id"], org.id.0);
    let waiting = org.member(Role::NotActivated).await;
    let r = owner
        .post(
            "/api/organizations/0/memberships",
            json!({"user_id": waiting.id.0, "role": "AN"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["organization"], org.id.0);
    assert_eq!(
        owner
            .get("/api/organizations/0/memberships")
            .await
            .expect(200)
            .body["count"],
        2
    );

    // A membership of any role counts: as Not Activated elsewhere, the Owner has two.
    let second = server.org("Second").await;
    second.add_existing(&org.owner, Role::NotActivated).await;
    let before = server.snapshot().await;
    for r in [
        owner.get("/api/organizations/0").await,
        owner.get("/api/organizations/0/memberships").await,
        owner
            .post(
                "/api/organizations/0/memberships",
                json!({"user_id": waiting.id.0, "role": "RE"}),
            )
            .await,
    ] {
        assert_eq!(r.status, 400, "{}", r.text);
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.contains(&org.id.0.to_string()) && detail.contains(&second.id.0.to_string()),
            "{detail}"
        );
    }
    assert_eq!(server.snapshot().await, before);

    // A deleted membership does not count.
    second
        .owner_api()
        .delete(&second.path(&format!("/memberships/{}/", org.owner.id.0)))
        .await
        .expect(204);
    owner.get("/api/organizations/0").await.expect(200);
}

#[tokio::test]
async fn a_person_in_several_organizations_finds_their_ids_in_the_organization_list() {
    let server = TestServer::start().await;
    let first = server.org("First").await;
    let second = server.org("Second").await;
    let third = server.org("Third").await;
    let person = first.member(Role::Annotator).await;
    second.add_existing(&person, Role::Reviewer).await;
    third.add_existing(&person, Role::Annotator).await;
    third
        .owner_api()
        .delete(&third.path(&format!("/memberships/{}/", person.id.0)))
        .await
        .expect(204);

    let list = first
        .api(&person)
        .get("/api/organizations/")
        .await
        .expect(200)
        .body;
    let list = list.as_array().expect("a plain array");
    let ids: Vec<i64> = list.iter().map(|o| o["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![first.id.0, second.id.0]);
    assert_eq!(list[1]["title"], "Second");
    for o in list {
        let mut keys: Vec<&str> = o.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, vec!["contact_info", "created_at", "id", "title"]);
    }
    first
        .api(&person)
        .get(&second.path("/memberships"))
        .await
        .expect(403);
    first.api(&person).get(&third.path("")).await.expect(404);
}

#[tokio::test]
async fn the_member_list_gives_every_members_user_id() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut expected = vec![org.owner.id.0];
    for role in [
        Role::Administrator,
        Role::Annotator,
        Role::NotActivated,
        Role::Deactivated,
    ] {
        expected.push(org.member(role).await.id.0);
    }
    let r = org
        .owner_api()
        .get(&org.path("/memberships"))
        .await
        .expect(200)
        .body;
    let mut ids = user_ids(&r);
    ids.sort();
    expected.sort();
    assert_eq!(ids, expected);
    for m in results(&r) {
        assert_eq!(m["organization"], org.id.0);
        assert!(m["id"].as_i64().unwrap() > 0);
        assert!(m["user"]["email"].as_str().unwrap().contains('@'));
    }
}

#[tokio::test]
async fn deactivating_a_member_refuses_their_next_request_and_frees_their_seat_at_once() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    org.set_password(&ann).await;
    let mut browser = server.browser();
    browser.sign_in(&ann.email, PASSWORD).await.expect(200);
    owner
        .patch(&org.path(""), json!({"seat_limit": 2}))
        .await
        .expect(200);
    assert_eq!(org.seats().await["used"], 2);
    org.api(&ann).get("/api/projects/").await.expect(200);
    browser.get("/api/projects/").await.expect(200);

    let r = owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "DI");

    for r in [
        org.api(&ann).get("/api/projects/").await,
        browser.get("/api/projects/").await,
        org.api(&ann).get(&org.path("")).await,
    ] {
        assert_eq!(r.status, 403, "{}", r.text);
        assert!(
            r.body["detail"].as_str().unwrap().contains("deactivated"),
            "{}",
            r.text
        );
    }
    // They can still see why, from the user-level endpoints.
    let me = org
        .api(&ann)
        .get("/api/current-user/whoami")
        .await
        .expect(200)
        .body;
    assert_eq!(me["org_membership"][0]["role"], "DI");
    let s = org.seats().await;
    assert_eq!(
        (
            s["used"].as_i64(),
            s["active"].as_i64(),
            s["limit"].as_i64()
        ),
        (Some(1), Some(1), Some(2))
    );
    // The freed seat is usable at once.
    let waiting = org.member(Role::NotActivated).await;
    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": waiting.id.0, "role": "AN"}),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn reactivating_a_member_brings_back_the_same_account_with_its_data_and_work() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    let project = owner.create_project("Cats").await;
    owner
        .post(
            &format!("/api/projects/{project}/members/"),
            json!({"user": ann.id.0, "role": "AN"}),
        )
        .await
        .expect(201);
    org.api(&ann)
        .post(
            &format!("/api/projects/{project}/annotations/"),
            json!({"result": {"label": "cat"}}),
        )
        .await
        .expect(201);
    let membership_id = |list: &Value, user: i64| {
        results(list)
            .iter()
            .find(|m| m["user"]["id"] == user)
            .map(|m| m["id"].as_i64().unwrap())
    };
    let before = owner.get(&org.path("/memberships")).await.expect(200).body;
    let original = membership_id(&before, ann.id.0).unwrap();

    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    org.api(&ann).get("/api/projects/").await.expect(403);
    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "AN"}),
        )
        .await
        .expect(200);

    // Same key, same account, same membership, same project, same work.
    let api = org.api(&ann);
    let projects = api.get("/api/projects/").await.expect(200).body;
    assert_eq!(projects["results"][0]["id"], project);
    let after = owner.get(&org.path("/memberships")).await.expect(200).body;
    assert_eq!(membership_id(&after, ann.id.0), Some(original));
    let work = api
        .get(&format!("/api/projects/{project}/annotations/"))
        .await
        .expect(200)
        .body;
    assert_eq!(work["count"], 1);
    assert_eq!(work["results"][0]["completed_by"]["id"], ann.id.0);
    assert_eq!(
        work["results"][0]["completed_by"]["email"],
        ann.email.as_str()
    );
    api.post(
        &format!("/api/projects/{project}/annotations/"),
        json!({"result": {"label": "dog"}}),
    )
    .await
    .expect(201);
    let detail = owner
        .get(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(200)
        .body;
    assert_eq!(detail["annotations_count"], 2);
    assert_eq!(detail["role"], "AN");
}

#[tokio::test]
async fn deleting_a_member_answers_204_and_removes_them_from_the_organization() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    let stays = org.member(Role::Annotator).await;

    let r = owner
        .delete(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(204);
    assert!(r.text.is_empty());

    let live = owner.get(&org.path("/memberships")).await.expect(200).body;
    assert!(!user_ids(&live).contains(&ann.id.0));
    assert!(user_ids(&live).contains(&stays.id.0));
    let users = owner.get("/api/users/").await.expect(200).body;
    assert!(
        users
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["id"] != ann.id.0),
        "{users}"
    );
    owner
        .get(&format!("/api/users/{}/", ann.id.0))
        .await
        .expect(404);
    owner
        .get(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(404);

    // Only is_deleted=true shows them, masked.
    let deleted = owner
        .get(&org.path("/memberships?is_deleted=true"))
        .await
        .expect(200)
        .body;
    assert_eq!(deleted["count"], 1);
    let u = &results(&deleted)[0]["user"];
    assert_eq!(
        (
            u["first_name"].as_str(),
            u["last_name"].as_str(),
            u["initials"].as_str()
        ),
        (Some("Deleted"), Some("User"), Some("DU"))
    );
    assert_eq!(u["email"], "Deleted");
    assert!(
        !deleted.to_string().contains(&ann.email),
        "the deleted member's email leaks: {deleted}"
    );

    // Their credentials get 404 for this organization's resources.
    let api = org.api(&ann);
    api.get(&org.path("")).await.expect(404);
    api.get("/api/projects/").await.expect(404);
    // Deleting them again finds nobody.
    owner
        .delete(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(404);
}

#[tokio::test]
async fn a_deleted_members_completed_work_shows_as_deleted_user() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    let other = org.member(Role::Annotator).await;
    let project = owner.create_project("Cats").await;
    for p in [&ann, &other] {
        owner
            .post(
                &format!("/api/projects/{project}/members/"),
                json!({"user": p.id.0}),
            )
            .await
            .expect(201);
        org.api(p)
            .post(
                &format!("/api/projects/{project}/annotations/"),
                json!({"result": {"by": p.email}}),
            )
            .await
            .expect(201);
    }
    owner
        .delete(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(204);

    let work = owner
        .get(&format!("/api/projects/{project}/annotations/"))
        .await
        .expect(200)
        .body;
    assert_eq!(work["count"], 2);
    let by = &work["results"][0]["completed_by"];
    assert_eq!(by["first_name"], "Deleted");
    assert_eq!(by["last_name"], "User");
    assert_eq!(by["initials"], "DU");
    assert_eq!(by["email"], "Deleted");
    assert_eq!(by["username"], "Deleted");
    assert!(!work["results"][0]["completed_by"]
        .to_string()
        .contains(&ann.email));
    // The work itself stays, and the other member's work keeps its author.
    assert_eq!(work["results"][0]["result"]["by"], ann.email.as_str());
    assert_eq!(
        work["results"][1]["completed_by"]["email"],
        other.email.as_str()
    );
    assert_eq!(work["results"][1]["completed_by"]["last_name"], "Annotator");
}

#[tokio::test]
async fn a_deleted_member_comes_back_only_through_a_new_invite_as_a_new_membership() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    org.set_password(&ann).await;
    let project = owner.create_project("Cats").await;
    owner
        .post(
            &format!("/api/projects/{project}/members/"),
            json!({"user": ann.id.0}),
        )
        .await
        .expect(201);
    org.api(&ann)
        .post(
            &format!("/api/projects/{project}/annotations/"),
            json!({"result": {"n": 1}}),
        )
        .await
        .expect(201);
    let list = owner.get(&org.path("/memberships")).await.expect(200).body;
    let old_membership = results(&list)
        .iter()
        .find(|m| m["user"]["id"] == ann.id.0)
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    owner
        .delete(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(204);
    org.api(&ann).get("/api/projects/").await.expect(404);

    // The Owner re-invites them; the link comes back in the response.
    let sent = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": [ann.email], "role": "AN"}),
        )
        .await
        .expect(201)
        .body;
    let url = sent[0]["invite_url"].as_str().unwrap();
    assert!(url.contains("/user/signup/?invite="), "{url}");
    let r = server
        .anonymous()
        .post(
            &path_of(&server, url),
            json!({"email": ann.email, "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "AN");
    assert_eq!(r.body["user"]["id"], ann.id.0, "the same account returns");

    // A new membership; the old work stays "Deleted User".
    let list = owner.get(&org.path("/memberships")).await.expect(200).body;
    let row = results(&list)
        .iter()
        .find(|m| m["user"]["id"] == ann.id.0)
        .expect("back in the member list")
        .clone();
    assert_ne!(row["id"].as_i64().unwrap(), old_membership);
    assert_eq!(row["role"], "AN");
    assert_eq!(row["role_source"], "invite");
    let detail = owner
        .get(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(200)
        .body;
    assert_eq!(detail["annotations_count"], 0);
    let api = org.api(&ann);
    api.get("/api/projects/").await.expect(200);
    let work = owner
        .get(&format!("/api/projects/{project}/annotations/"))
        .await
        .expect(200)
        .body;
    assert_eq!(work["results"][0]["completed_by"]["first_name"], "Deleted");
    assert_eq!(work["results"][0]["completed_by"]["last_name"], "User");

    // The audit log, and only it, keeps the real name of who was deleted.
    let log = owner
        .get("/api/audit-events/?action=member.deleted")
        .await
        .expect(200)
        .body;
    assert_eq!(log["count"], 1);
    let target = &log["results"][0]["target"];
    assert_eq!(target["id"], ann.id.0);
    assert_eq!(target["email"], ann.email.as_str());
    assert_eq!(target["name"], "Test Annotator");
}

#[tokio::test]
async fn the_audit_log_records_a_role_change_with_actor_target_old_and_new_value_and_source() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    owner
        .patch(
            "/api/current-user",
            json!({"first_name": "Olga", "last_name": "Owner"}),
        )
        .await
        .expect(200);
    let waiting = org.member(Role::NotActivated).await;
    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": waiting.id.0, "role": "RE"}),
        )
        .await
        .expect(200);

    let log = owner
        .get("/api/audit-events/?action=member.role_changed")
        .await
        .expect(200)
        .body;
    assert_eq!(log["count"], 1);
    let e = &log["results"][0];
    assert_eq!(e["action"], "member.role_changed");
    assert_eq!(e["source"], "api");
    assert_eq!(e["organization"], org.id.0);
    assert_eq!(
        e["actor"],
        json!({"id": org.owner.id.0, "name": "Olga Owner", "email": org.owner.email})
    );
    assert_eq!(
        e["target"],
        json!({"id": waiting.id.0, "name": "Test Not Activated", "email": waiting.email})
    );
    assert_eq!(e["old_value"], "NO");
    assert_eq!(e["new_value"], "RE");
    assert!(e["created_at"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn a_deactivation_by_the_identity_provider_revokes_access_like_a_manual_one() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ann: Person = org.member(Role::Annotator).await;
    org.api(&ann).get("/api/projects/").await.expect(200);
    let row = server
        .service
        .apply_idp_role(
            org.id,
            ann.id,
            Role::Deactivated,
            roster_service::membership::Idp::Scim,
        )
        .await
        .expect("applied");
    assert_eq!(row.membership.role, Role::Deactivated);
    org.api(&ann).get("/api/projects/").await.expect(403);
    let s = org.seats().await;
    assert_eq!(s["active"], 1);
    let m = org
        .owner_api()
        .get(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(200)
        .body;
    assert_eq!(m["role"], "DI");
    assert_eq!(m["role_source"], "scim");
}

#[tokio::test]
async fn a_member_deactivated_in_one_organization_keeps_full_use_of_the_others() {
    let server = TestServer::start().await;
    let here = server.org("Here").await;
    let there = server.org("There").await;
    let person = here.member(Role::Annotator).await;
    there.add_existing(&person, Role::Manager).await;
    here.owner_api()
        .patch(
            &here.path("/memberships"),
            json!({"user_id": person.id.0, "role": "DI"}),
        )
        .await
        .expect(200);

    let api = here.api(&person);
    api.get("/api/projects/").await.expect(403);
    api.get(&here.path("")).await.expect(403);
    // Elsewhere nothing changed: they switch and work as a Manager.
    api.get(&there.path("/memberships")).await.expect(200);
    let me = api
        .patch(
            "/api/current-user",
            json!({"active_organization": there.id.0}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(me["active_organization"], there.id.0);
    assert_eq!(
        api.post("/api/projects/", json!({"title": "Still working"}))
            .await
            .expect(201)
            .body["organization"],
        there.id.0
    );
}

#[tokio::test]
async fn deleting_a_membership_moves_the_persons_active_organization_to_another_of_theirs() {
    let server = TestServer::start().await;
    let here = server.org("Here").await;
    let there = server.org("There").await;
    let person = here.member(Role::Annotator).await;
    there.add_existing(&person, Role::Reviewer).await;
    let api = here.api(&person);
    assert_eq!(
        api.get("/api/current-user").await.expect(200).body["active_organization"],
        here.id.0
    );

    here.owner_api()
        .delete(&here.path(&format!("/memberships/{}/", person.id.0)))
        .await
        .expect(204);
    let me = api.get("/api/current-user").await.expect(200).body;
    assert_eq!(me["active_organization"], there.id.0);
    assert_eq!(
        me["org_membership"],
        json!([{"organization_id": there.id.0, "role": "RE", "active": true, "user_type": "standard", "flex": null}])
    );
    api.get("/api/projects/").await.expect(200);
    api.get(&here.path("")).await.expect(404);
}
