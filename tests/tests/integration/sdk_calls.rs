//! The account calls label-studio-sdk makes the way it makes them: partial token settings, a
//! password change over a token, the person's preferences and hotkeys, `users.create` and
//! `users.delete`, memberships on user objects, billing figures and project pauses.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, Api, TestServer, PASSWORD};
use serde_json::Value;

async fn audit_count(server: &TestServer, action: &str) -> i64 {
    server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
        ))
        .await
}

#[track_caller]
fn names_field(body: &Value, field: &str) {
    assert!(
        body["validation_errors"].get(field).is_some(),
        "the refusal names {field}: {body}"
    );
}

#[tokio::test]
async fn jwt_settings_change_only_the_fields_sent() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    owner
        .post(
            "/api/jwt/settings",
            json!({"legacy_api_tokens_enabled": true, "api_tokens_enabled": false}),
        )
        .await
        .expect(200);
    let r = owner
        .post("/api/jwt/settings", json!({"api_token_ttl_days": 30}))
        .await
        .expect(200);
    assert_eq!(
        r.body,
        json!({"api_tokens_enabled": false, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 30})
    );
    assert_eq!(
        owner.get("/api/jwt/settings").await.expect(200).body,
        r.body
    );
    let bad = owner
        .post("/api/jwt/settings", json!({"api_token_ttl_days": 0}))
        .await
        .expect(400);
    names_field(&bad.body, "api_token_ttl_days");
}

#[tokio::test]
async fn a_token_changes_the_password_without_the_current_one_and_ends_other_sessions() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    // A browser session must prove the current password.
    let r = browser
        .patch(
            "/api/current-user",
            json!({"password": "a new long passphrase 1"}),
        )
        .await
        .expect(400);
    names_field(&r.body, "current_password");
    let before = audit_count(&server, "credential.password_changed").await;
    // The legacy key (the SDK's way) changes it alone.
    org.owner_api()
        .patch(
            "/api/current-user",
            json!({"password": "a new long passphrase 1"}),
        )
        .await
        .expect(200);
    assert_eq!(
        audit_count(&server, "credential.password_changed").await,
        before + 1
    );
    browser.get("/api/current-user").await.expect(401);
    server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": "a new long passphrase 1"}),
        )
        .await
        .expect(200);
    // So does an access token; a wrong current password is still refused.
    let (_, access) = server.pat_and_access(&org.owner).await;
    let with_access = server.anonymous().with_auth(&format!("Bearer {access}"));
    with_access
        .patch(
            "/api/current-user",
            json!({"password": "a third long passphrase"}),
        )
        .await
        .expect(200);
    let r = with_access
        .patch(
            "/api/current-user",
            json!({"password": "a fourth long passphrase", "current_password": "wrong"}),
        )
        .await
        .expect(400);
    names_field(&r.body, "current_password");
}

#[tokio::test]
async fn preferences_are_stored_checked_and_returned() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ann = org.member(Role::Annotator).await;
    let api = org.api(&ann);
    let r = api
        .patch(
            "/api/current-user",
            json!({
                "allow_newsletters": true,
                "custom_hotkeys": {"annotation:submit": "ctrl+enter", "annotation:skip": {"key": "ctrl+space", "active": false}},
                "email_notification_settings": {"project_paused": false},
                "onboarding_state": "complete",
                "is_email_verified": false,
            }),
        )
        .await
        .expect(200);
    assert_eq!(r.body["allow_newsletters"], true);
    let me = api.get("/api/current-user/whoami").await.expect(200).body;
    assert_eq!(me["custom_hotkeys"]["annotation:submit"], "ctrl+enter");
    assert_eq!(
        me["lse_fields"]["email_notification_settings"],
        json!({"project_paused": false})
    );
    assert_eq!(me["lse_fields"]["onboarding_state"], "complete");
    let seen = org
        .owner_api()
        .get(&format!("/api/users/{}", ann.id.0))
        .await
        .expect(200)
        .body;
    assert_eq!(seen["allow_newsletters"], true);

    let before = server.snapshot().await;
    for (body, field) in [
        (json!({"custom_hotkeys": ["ctrl+enter"]}), "custom_hotkeys"),
        (json!({"custom_hotkeys": {"a:b": 3}}), "custom_hotkeys"),
        (
            json!({"email_notification_settings": {"x": "yes"}}),
            "email_notification_settings",
        ),
        (json!({"onboarding_state": "halfway"}), "onboarding_state"),
        (json!({"is_email_verified": true}), "is_email_verified"),
        (
            json!({"date_joined": "2001-01-01T00:00:00Z"}),
            "date_joined",
        ),
        (
            json!({"first_name": "Changed", "onboarding_state": "halfway"}),
            "onboarding_state",
        ),
    ] {
        let r = api.patch("/api/current-user", body).await.expect(400);
        names_field(&r.body, field);
    }
    let r = api
        .patch("/api/current-user", json!({"favourite_colour": "red"}))
        .await
        .expect(400);
    assert!(r.text.contains("favourite_colour"), "{}", r.text);
    // Another member's preferences are theirs: an Owner may not set them.
    org.owner_api()
        .patch(
            &format!("/api/users/{}", ann.id.0),
            json!({"allow_newsletters": false}),
        )
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before, "refusals change nothing");
    // The account's own date_joined, sent back as read, is accepted.
    api.patch(
        &format!("/api/users/{}", ann.id.0),
        json!({"date_joined": me["date_joined"], "is_email_verified": false}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn hotkeys_are_read_and_replaced() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    assert_eq!(
        owner
            .get("/api/current-user/hotkeys/")
            .await
            .expect(200)
            .body,
        json!({"custom_hotkeys": {}})
    );
    let r = owner
        .patch(
            "/api/current-user/hotkeys/",
            json!({"custom_hotkeys": {"editor:undo": "ctrl+z"}}),
        )
        .await
        .expect(200);
    assert_eq!(r.body, json!({"custom_hotkeys": {"editor:undo": "ctrl+z"}}));
    assert_eq!(
        owner
            .get("/api/current-user/hotkeys/")
            .await
            .expect(200)
            .body,
        r.body
    );
    let r = owner
        .patch(
            "/api/current-user/hotkeys/",
            json!({"custom_hotkeys": {"editor:undo": 1}}),
        )
        .await
        .expect(400);
    names_field(&r.body, "custom_hotkeys");
    let r = owner
        .get("/api/current-user/hotkeys/?project=1")
        .await
        .expect(400);
    names_field(&r.body, "project");
}

#[tokio::test]
async fn users_create_adds_a_new_person_and_invites_an_existing_one_alike() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Other").await;
    let elsewhere = other.member(Role::Manager).await;
    let owner = org.owner_api();
    owner
        .patch(
            &org.path("/set-default-role"),
            json!({"default_role": "AN"}),
        )
        .await
        .expect(200);
    let joined_before = audit_count(&server, "member.joined").await;
    let their_date_joined = other
        .owner_api()
        .get(&format!("/api/users/{}", elsewhere.id.0))
        .await
        .expect(200)
        .body["date_joined"]
        .clone();
    // A month later, the account's age would show, were it answered.
    server.advance(Duration::from_secs(30 * 24 * 3600));

    let new = owner
        .post(
            "/api/users/",
            json!({"email": "New.Person@example.com", "username": "new.person@example.com", "first_name": "New", "last_name": "Person"}),
        )
        .await
        .expect(201);
    let known = owner
        .post(
            "/api/users/",
            json!({"email": elsewhere.email, "first_name": "Known", "last_name": "Person"}),
        )
        .await
        .expect(201);
    let keys = |v: &Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&new.body), keys(&known.body), "the same shape");
    assert_eq!(new.body["email"], "new.person@example.com");
    assert_eq!(known.body["first_name"], "Known");
    assert_eq!(known.body["last_name"], "Person");
    assert_eq!(known.body["active_organization"], Value::Null);
    assert_eq!(new.body["active_organization"], Value::Null);
    assert_eq!(
        known.body["date_joined"], new.body["date_joined"],
        "the moment of the call for both, not the existing account's age"
    );
    assert_ne!(known.body["date_joined"], their_date_joined);
    assert_eq!(
        audit_count(&server, "member.joined").await,
        joined_before + 1
    );

    // The new person is a member with the default role; the existing one waits on an invite.
    let id = new.body["id"].as_i64().unwrap();
    let row = owner
        .get(&format!("/api/users/{id}"))
        .await
        .expect(200)
        .body;
    assert_eq!(row["org_membership"][0]["role"], "AN");
    owner
        .get(&format!("/api/users/{}", elsewhere.id.0))
        .await
        .expect(404);
    let invites = owner.get("/api/invites").await.expect(200).body;
    let pending: Vec<&Value> = invites["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["email"] == elsewhere.email.as_str())
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["role"], "AN");
    assert_eq!(pending[0]["state"], "pending");
    // Their own organization is untouched, and their name too.
    let mine = other
        .owner_api()
        .get(&format!("/api/users/{}", elsewhere.id.0))
        .await
        .expect(200)
        .body;
    assert_ne!(mine["first_name"], "Known");

    // A member already here is a conflict; an account field is refused by name.
    owner
        .post("/api/users/", json!({"email": "new.person@example.com"}))
        .await
        .expect(409);
    let r = owner
        .post(
            "/api/users/",
            json!({"email": "third@example.com", "password": "a long passphrase here"}),
        )
        .await
        .expect(400);
    names_field(&r.body, "password");
    let r = owner
        .post(
            "/api/users/",
            json!({"email": "third@example.com", "username": "chosen"}),
        )
        .await
        .expect(400);
    names_field(&r.body, "username");
    // Managers may not add people.
    let manager = org.member(Role::Manager).await;
    org.api(&manager)
        .post("/api/users/", json!({"email": "fourth@example.com"}))
        .await
        .expect(403);
}

#[tokio::test]
async fn users_create_respects_the_seat_limit() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    owner
        .patch(
            &org.path("/set-default-role"),
            json!({"default_role": "AN"}),
        )
        .await
        .expect(200);
    owner
        .patch(&org.path(""), json!({"seat_limit": 1}))
        .await
        .expect(200);
    let before = server.snapshot().await;
    let r = owner
        .post("/api/users/", json!({"email": "one-too-many@example.com"}))
        .await
        .expect(409);
    assert!(r.text.contains("1 of 1 seats"), "{}", r.text);
    assert_eq!(server.snapshot().await, before, "no account is left behind");
}

#[tokio::test]
async fn default_role_takes_the_organization_key_the_sdk_sends() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    owner
        .patch(
            &org.path("/set-default-role"),
            json!({"default_role": "RE", "organization": org.id.0}),
        )
        .await
        .expect(200);
    let r = owner
        .patch(
            &org.path("/set-default-role"),
            json!({"default_role": "AN", "organization": org.id.0 + 1}),
        )
        .await
        .expect(400);
    names_field(&r.body, "organization");
    assert_eq!(
        owner.get(&org.path("")).await.expect(200).body["default_role"],
        "RE"
    );
}

#[tokio::test]
async fn an_invite_without_a_role_gives_the_default_role() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    owner
        .patch(
            &org.path("/set-default-role"),
            json!({"default_role": "RE"}),
        )
        .await
        .expect(200);
    let sent = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["someone@example.com"]}),
        )
        .await
        .expect(201);
    assert_eq!(sent.body[0]["role"], "RE");
}

#[tokio::test]
async fn users_delete_deletes_the_membership_here_only() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Other").await;
    let ann = org.member(Role::Annotator).await;
    other.add_existing(&ann, Role::Reviewer).await;
    let admin = org.member(Role::Administrator).await;
    let owner = org.owner_api();
    let deleted_before = audit_count(&server, "member.deleted").await;
    org.api(&admin)
        .delete(&format!("/api/users/{}", admin.id.0))
        .await
        .expect(405);
    let manager = org.member(Role::Manager).await;
    org.api(&manager)
        .delete(&format!("/api/users/{}", ann.id.0))
        .await
        .expect(403);
    owner
        .delete(&format!("/api/users/{}/", ann.id.0))
        .await
        .expect(204);
    assert_eq!(
        audit_count(&server, "member.deleted").await,
        deleted_before + 1
    );
    owner
        .get(&format!("/api/users/{}", ann.id.0))
        .await
        .expect(404);
    // Their other organization keeps them.
    let there = other
        .owner_api()
        .get(&format!("/api/users/{}", ann.id.0))
        .await
        .expect(200)
        .body;
    assert_eq!(there["org_membership"][0]["role"], "RE");
    owner
        .delete(&format!("/api/users/{}", ann.id.0))
        .await
        .expect(404);
}

#[tokio::test]
async fn user_objects_carry_only_the_memberships_the_caller_may_see() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Other").await;
    let ann = org.member(Role::Annotator).await;
    other.add_existing(&ann, Role::Manager).await;
    let owner = org.owner_api();
    let seen = owner
        .get(&format!("/api/users/{}", ann.id.0))
        .await
        .expect(200)
        .body;
    assert_eq!(
        seen["org_membership"],
        json!([{"organization_id": org.id.0, "role": "AN", "active": true, "user_type": "standard", "flex": null}])
    );
    let listed = owner.get("/api/users/").await.expect(200).body;
    for u in listed.as_array().unwrap() {
        let ms = u["org_membership"].as_array().unwrap();
        assert_eq!(ms.len(), 1, "{u}");
        assert_eq!(ms[0]["organization_id"], org.id.0);
    }
    let me = org
        .api(&ann)
        .get("/api/current-user/whoami")
        .await
        .expect(200)
        .body;
    let mut orgs: Vec<i64> = me["org_membership"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["organization_id"].as_i64().unwrap())
        .collect();
    orgs.sort();
    assert_eq!(
        orgs,
        vec![org.id.0, other.id.0],
        "the person sees all of theirs"
    );
}

#[tokio::test]
async fn billing_info_is_the_owners_with_true_seat_figures() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    owner
        .patch(&org.path(""), json!({"seat_limit": 5}))
        .await
        .expect(200);
    let ann = org.member(Role::Annotator).await;
    org.member(Role::NotActivated).await;
    owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["pending@example.com"], "role": "RE"}),
        )
        .await
        .expect(201);
    let project = owner.create_project("P").await;
    owner
        .post(
            &format!("/api/projects/{project}/members"),
            json!({"user": ann.id.0}),
        )
        .await
        .expect(201);
    org.api(&ann)
        .post(
            &format!("/api/projects/{project}/annotations"),
            json!({"result": {}}),
        )
        .await
        .expect(201);
    let b = owner.get("/api/billing/info").await.expect(200).body;
    let checks = &b["billing_checks"];
    assert_eq!(
        checks["users"],
        json!({"count": 3, "limit": 5, "reached": false, "total": 2})
    );
    assert_eq!(checks["projects"]["count"], 1);
    assert_eq!(checks["results"]["count"], 1);
    assert_eq!(checks["is_license_expired"], false);
    assert_eq!(b["billing_flags"]["manual_role_management"], true);
    let admin = org.member(Role::Administrator).await;
    org.api(&admin).get("/api/billing/info").await.expect(403);
    org.api(&ann).get("/api/billing/info").await.expect(403);
}

/// An Owner, a Manager who sees a project and an Annotator who works in it.
async fn project_with_annotator(
    server: &TestServer,
) -> (roster_tests::OrgFixture, i64, Api, Api, i64) {
    let org = server.org("Acme").await;
    let manager = org.member(Role::Manager).await;
    let ann = org.member(Role::Annotator).await;
    let mgr = org.api(&manager);
    let project = mgr.create_project("Cats").await;
    mgr.post(
        &format!("/api/projects/{project}/members"),
        json!({"user": ann.id.0}),
    )
    .await
    .expect(201);
    let ann_api = org.api(&ann);
    (org, project, mgr, ann_api, ann.id.0)
}

#[tokio::test]
async fn a_paused_annotator_is_refused_new_work_until_resumed() {
    let server = TestServer::start().await;
    let (_org, project, mgr, ann, ann_id) = project_with_annotator(&server).await;
    let pauses = format!("/api/projects/{project}/members/{ann_id}/pauses/");
    let work = format!("/api/projects/{project}/annotations");
    ann.post(&work, json!({"result": {}})).await.expect(201);

    let p = mgr
        .post(
            &pauses,
            json!({"reason": "MANUAL", "verbose_reason": "Too many skipped tasks"}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(p["reason"], "MANUAL");
    assert_eq!(p["user"], ann_id);
    assert_eq!(p["project"], project);
    assert_eq!(p["deleted_at"], Value::Null);
    assert_eq!(audit_count(&server, "project.member_paused").await, 1);
    let r = ann.post(&work, json!({"result": {}})).await.expect(403);
    assert!(r.text.contains("Too many skipped tasks"), "{}", r.text);
    mgr.post(&pauses, json!({"reason": "MANUAL"}))
        .await
        .expect(409);
    // The annotator may not resume themselves.
    let id = p["id"].as_i64().unwrap();
    ann.delete(&format!("{pauses}{id}/")).await.expect(403);

    let changed = mgr
        .patch(
            &format!("{pauses}{id}/"),
            json!({"verbose_reason": "Review pending"}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(changed["verbose_reason"], "Review pending");
    assert_eq!(changed["reason"], "MANUAL");
    assert_eq!(audit_count(&server, "project.pause_updated").await, 1);
    assert_eq!(
        mgr.get(&format!("{pauses}{id}/")).await.expect(200).body["verbose_reason"],
        "Review pending"
    );
    mgr.delete(&format!("{pauses}{id}/")).await.expect(204);
    assert_eq!(audit_count(&server, "project.member_resumed").await, 1);
    ann.post(&work, json!({"result": {}})).await.expect(201);

    assert_eq!(mgr.get(&pauses).await.expect(200).body, json!([]));
    let all = mgr
        .get(&format!(
            "{pauses}?include_deleted=true&ordering=-created_at"
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert!(all[0]["deleted_at"].is_string());
    mgr.delete(&format!("{pauses}{id}/")).await.expect(404);
}

#[tokio::test]
async fn pauses_refuse_bad_input_and_strangers() {
    let server = TestServer::start().await;
    let (org, project, mgr, _ann, ann_id) = project_with_annotator(&server).await;
    let pauses = format!("/api/projects/{project}/members/{ann_id}/pauses/");
    let r = mgr
        .post(&pauses, json!({"reason": "BORED"}))
        .await
        .expect(400);
    names_field(&r.body, "reason");
    let r = mgr.post(&pauses, json!({})).await.expect(400);
    names_field(&r.body, "reason");
    let r = mgr
        .get(&format!("{pauses}?ordering=reason"))
        .await
        .expect(400);
    names_field(&r.body, "ordering");
    // A Manager who does not see the project finds nothing there.
    let stranger = org.member(Role::Manager).await;
    org.api(&stranger)
        .post(&pauses, json!({"reason": "MANUAL"}))
        .await
        .expect(404);
    // Another organization's member is unknown here.
    let other = server.org("Other").await;
    let outsider = other.member(Role::Annotator).await;
    mgr.post(
        &format!("/api/projects/{project}/members/{}/pauses/", outsider.id.0),
        json!({"reason": "MANUAL"}),
    )
    .await
    .expect(404);
    assert_eq!(audit_count(&server, "project.member_paused").await, 0);
}

#[tokio::test]
async fn organization_settings_roster_cannot_keep_are_refused_by_name() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let before = server.snapshot().await;
    for (field, value) in [
        ("embed_enabled", json!(true)),
        ("embed_domains", json!([{"domain": "example.com"}])),
        ("email_notification_settings", json!({})),
        ("custom_scripts_enabled", json!(false)),
        ("token", json!("chosen")),
    ] {
        let r = owner
            .patch(&org.path(""), json!({"title": "Renamed", field: value}))
            .await
            .expect(400);
        names_field(&r.body, field);
    }
    assert_eq!(server.snapshot().await, before, "nothing changed");
    let r = owner
        .patch(&org.path(""), json!({"title": "Renamed"}))
        .await
        .expect(200);
    assert_eq!(r.body["title"], "Renamed");
}
