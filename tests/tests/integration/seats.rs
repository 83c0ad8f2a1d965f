//! Seats: who sets the limit, what counts (working members and pending email invites with a
//! working role, one per email), what a full organization refuses, what deactivation frees,
//! and that concurrent activations never overshoot the limit.

use std::sync::Arc;

use roster_domain::Role;
use roster_tests::{json, OrgFixture, Person, TestServer, PASSWORD};
use serde_json::Value;
use tokio::sync::Barrier;

/// `(limit, used, active, pending_invites)` as the Owner reads them.
async fn seats(org: &OrgFixture) -> (Option<i64>, i64, i64, i64) {
    let s = org.seats().await;
    (
        s["limit"].as_i64(),
        s["used"].as_i64().unwrap(),
        s["active"].as_i64().unwrap(),
        s["pending_invites"].as_i64().unwrap(),
    )
}

async fn set_limit(org: &OrgFixture, limit: Value) {
    let r = org
        .owner_api()
        .patch(&org.path(""), json!({"seat_limit": limit}))
        .await
        .expect(200);
    assert_eq!(r.body["seat_limit"], limit);
}

async fn assign(org: &OrgFixture, who: &Person, role: &str) -> roster_tests::Resp {
    org.owner_api()
        .patch(
            &org.path("/memberships"),
            json!({"user_id": who.id.0, "role": role}),
        )
        .await
}

async fn invite(org: &OrgFixture, emails: &[&str], role: &str) -> roster_tests::Resp {
    org.owner_api()
        .post(
            "/api/invite/send-email",
            json!({"emails": emails, "role": role}),
        )
        .await
}

fn detail(r: &roster_tests::Resp) -> &str {
    r.body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("no detail in {}", r.text))
}

#[tokio::test]
async fn only_the_owner_sets_the_seat_limit_and_an_administrator_gets_403_for_that_field() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let api = org.api(&admin);

    let before = server.snapshot().await;
    let r = api
        .patch(&org.path(""), json!({"seat_limit": 10}))
        .await
        .expect(403);
    assert!(detail(&r).contains("Owner"), "{}", r.text);
    // Together with a field an Administrator may change, nothing changes either.
    api.patch(&org.path(""), json!({"seat_limit": 10, "title": "Renamed"}))
        .await
        .expect(403);
    api.patch(&org.path(""), json!({"seat_limit": null}))
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    assert_eq!(seats(&org).await.0, None);

    // The Administrator changes other settings; the Owner sets and clears the limit.
    api.patch(&org.path(""), json!({"title": "Renamed"}))
        .await
        .expect(200);
    set_limit(&org, json!(10)).await;
    assert_eq!(seats(&org).await, (Some(10), 2, 2, 0));
    assert_eq!(
        api.get(&org.path("")).await.expect(200).body["seat_limit"],
        10
    );
    set_limit(&org, Value::Null).await;
    assert_eq!(seats(&org).await.0, None);
    org.owner_api()
        .patch(&org.path(""), json!({"seat_limit": -1}))
        .await
        .expect(400);
}

#[tokio::test]
async fn activation_when_every_seat_is_taken_is_refused_with_the_count_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    org.member(Role::Annotator).await;
    let waiting = org.member(Role::NotActivated).await;
    let resting = org.member(Role::Deactivated).await;
    set_limit(&org, json!(2)).await;
    assert_eq!(seats(&org).await, (Some(2), 2, 2, 0));

    let before = server.snapshot().await;
    for (who, role) in [(&waiting, "AN"), (&waiting, "AD"), (&resting, "RE")] {
        let r = assign(&org, who, role).await.expect(409);
        assert!(detail(&r).contains("2 of 2 seats in use"), "{}", r.text);
        let r = org
            .owner_api()
            .post(
                &org.path("/memberships"),
                json!({"user_id": who.id.0, "role": role}),
            )
            .await
            .expect(409);
        assert!(detail(&r).contains("2 of 2 seats in use"), "{}", r.text);
    }
    assert_eq!(server.snapshot().await, before);
    // Moves that need no new seat still work: pending to deactivated.
    assert_eq!(
        assign(&org, &waiting, "DI").await.expect(200).body["role"],
        "DI"
    );
    assert_eq!(seats(&org).await, (Some(2), 2, 2, 0));
}

#[tokio::test]
async fn a_pending_email_invite_with_a_working_role_holds_a_seat() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let waiting = org.member(Role::NotActivated).await;
    set_limit(&org, json!(3)).await;

    invite(&org, &["first@example.com"], "AN").await.expect(201);
    assert_eq!(seats(&org).await, (Some(3), 2, 1, 1));
    // An invite into Not Activated carries no seat.
    invite(&org, &["later@example.com"], "NO").await.expect(201);
    assert_eq!(seats(&org).await, (Some(3), 2, 1, 1));
    invite(&org, &["second@example.com"], "RE")
        .await
        .expect(201);
    assert_eq!(seats(&org).await, (Some(3), 3, 1, 2));

    // Full: neither an activation nor another working invite fits.
    let before = server.snapshot().await;
    let r = assign(&org, &waiting, "AN").await.expect(409);
    assert!(detail(&r).contains("3 of 3 seats in use"), "{}", r.text);
    let r = invite(&org, &["third@example.com"], "AN").await.expect(409);
    assert!(detail(&r).contains("3 of 3 seats in use"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);

    // Revoking an invite frees its seat.
    org.owner_api()
        .post("/api/invite/revoke", json!({"email": "first@example.com"}))
        .await
        .expect(204);
    assert_eq!(seats(&org).await, (Some(3), 2, 1, 1));
    assign(&org, &waiting, "AN").await.expect(200);
}

#[tokio::test]
async fn two_invites_to_the_same_email_hold_one_seat() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    set_limit(&org, json!(2)).await;

    invite(&org, &["twice@example.com"], "AN").await.expect(201);
    assert_eq!(seats(&org).await, (Some(2), 2, 1, 1));
    // Full now, yet the same person can be invited again (in any case, in another role).
    invite(&org, &["Twice@Example.com"], "RE").await.expect(201);
    assert_eq!(seats(&org).await, (Some(2), 2, 1, 1));
    let listed = org.owner_api().get("/api/invites/").await.expect(200).body;
    assert_eq!(listed["count"], 2);
    // Someone else cannot.
    let r = invite(&org, &["other@example.com"], "AN").await.expect(409);
    assert!(detail(&r).contains("2 of 2 seats in use"), "{}", r.text);
    // One request naming the same email twice is one invite, one seat.
    set_limit(&org, json!(3)).await;
    let sent = invite(&org, &["dup@example.com", "DUP@example.com"], "AN")
        .await
        .expect(201);
    assert_eq!(sent.body.as_array().unwrap().len(), 1);
    assert_eq!(seats(&org).await, (Some(3), 3, 1, 2));
}

#[tokio::test]
async fn an_invite_to_a_not_activated_member_holds_their_seat_so_activating_them_needs_no_other() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let waiting = org.member(Role::NotActivated).await;
    let another = org.member(Role::NotActivated).await;
    set_limit(&org, json!(2)).await;

    invite(&org, &[waiting.email.as_str()], "AN")
        .await
        .expect(201);
    assert_eq!(seats(&org).await, (Some(2), 2, 1, 1));
    // Full, but the invite's seat is theirs.
    let r = assign(&org, &another, "AN").await.expect(409);
    assert!(detail(&r).contains("2 of 2 seats in use"), "{}", r.text);
    assign(&org, &waiting, "RE").await.expect(200);
    assert_eq!(seats(&org).await, (Some(2), 2, 2, 0));
    assign(&org, &another, "AN").await.expect(409);
}

#[tokio::test]
async fn deactivation_frees_the_seat_at_once() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let working = org.member(Role::Annotator).await;
    let waiting = org.member(Role::NotActivated).await;
    set_limit(&org, json!(2)).await;
    assign(&org, &waiting, "AN").await.expect(409);

    assign(&org, &working, "DI").await.expect(200);
    assert_eq!(seats(&org).await, (Some(2), 1, 1, 0));
    assign(&org, &waiting, "AN").await.expect(200);
    assert_eq!(seats(&org).await, (Some(2), 2, 2, 0));
    // And the deactivated one cannot come back while the seats are taken.
    let r = assign(&org, &working, "AN").await.expect(409);
    assert!(detail(&r).contains("2 of 2 seats in use"), "{}", r.text);
}

#[tokio::test]
async fn a_link_sign_up_when_full_joins_as_not_activated_even_when_the_default_role_is_annotator() {
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
    set_limit(&org, json!(1)).await;
    let url = owner.get("/api/invite").await.expect(200).body["invite_url"]
        .as_str()
        .unwrap()
        .to_string();

    let r = server
        .anonymous()
        .post(
            &url,
            json!({"email": "late@example.com", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "NO");
    assert_eq!(seats(&org).await, (Some(1), 1, 1, 0));

    set_limit(&org, json!(2)).await;
    let r = server
        .anonymous()
        .post(
            &url,
            json!({"email": "early@example.com", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "AN");
    assert_eq!(seats(&org).await, (Some(2), 2, 2, 0));
    let r = server
        .anonymous()
        .post(
            &url,
            json!({"email": "later@example.com", "password": PASSWORD}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["role"], "NO");
}

#[tokio::test]
async fn a_limit_below_usage_is_accepted_and_blocks_activations_until_usage_falls_under_it() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let a = org.member(Role::Annotator).await;
    let b = org.member(Role::Reviewer).await;
    let c = org.member(Role::Manager).await;
    let waiting = org.member(Role::NotActivated).await;
    set_limit(&org, json!(2)).await;
    assert_eq!(seats(&org).await, (Some(2), 4, 4, 0));

    let before = server.snapshot().await;
    let r = assign(&org, &waiting, "AN").await.expect(409);
    assert!(detail(&r).contains("4 of 2 seats in use"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);
    // Moving between working roles needs no new seat, even over the limit.
    assign(&org, &a, "RE").await.expect(200);

    assign(&org, &a, "DI").await.expect(200);
    assert!(detail(&assign(&org, &waiting, "AN").await.expect(409)).contains("3 of 2 seats in use"));
    assign(&org, &b, "DI").await.expect(200);
    assert!(detail(&assign(&org, &waiting, "AN").await.expect(409)).contains("2 of 2 seats in use"));
    assign(&org, &c, "DI").await.expect(200);
    assign(&org, &waiting, "AN").await.expect(200);
    assert_eq!(seats(&org).await, (Some(2), 2, 2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_activations_never_overshoot_the_seat_limit() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    org.member(Role::Annotator).await;
    org.member(Role::Reviewer).await;
    let mut pending = Vec::new();
    for _ in 0..12 {
        pending.push(org.member(Role::NotActivated).await);
    }
    let (_, active, _, _) = seats(&org).await;
    assert_eq!(active, 3);
    set_limit(&org, json!(active + 3)).await;

    let barrier = Arc::new(Barrier::new(pending.len()));
    let mut tasks = Vec::new();
    for p in &pending {
        let api = org.owner_api();
        let path = org.path("/memberships");
        let body = json!({"user_id": p.id.0, "role": "AN"});
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            api.patch(&path, body).await
        }));
    }
    let mut ok = 0;
    let mut full = 0;
    for t in tasks {
        let r = t.await.expect("task");
        match r.status {
            200 => ok += 1,
            409 => {
                assert!(detail(&r).contains("6 of 6 seats in use"), "{}", r.text);
                full += 1
            }
            other => panic!("unexpected status {other}: {}", r.text),
        }
    }
    assert_eq!((ok, full), (3, 9));
    assert_eq!(seats(&org).await, (Some(6), 6, 6, 0));
    let an = org
        .owner_api()
        .get(&org.path("/memberships?role=AN"))
        .await
        .expect(200)
        .body;
    assert_eq!(an["count"], 4);
    let log = org
        .owner_api()
        .get("/api/audit-events/?action=member.role_changed")
        .await
        .expect(200)
        .body;
    assert_eq!(log["count"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_invites_and_link_sign_ups_never_take_more_seats_than_are_free() {
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
    set_limit(&org, json!(3)).await;
    let url = owner.get("/api/invite").await.expect(200).body["invite_url"]
        .as_str()
        .unwrap()
        .to_string();

    // Two seats free; eight invites and eight sign-ups race for them.
    let barrier = Arc::new(Barrier::new(16));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (owner, anonymous, url) = (org.owner_api(), server.anonymous(), url.clone());
        let (b1, b2) = (barrier.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            b1.wait().await;
            let r = owner
                .post(
                    "/api/invite/send-email",
                    json!({"emails": [format!("invitee-{i}@example.com")], "role": "AN"}),
                )
                .await;
            (
                if r.status == 201 {
                    "invited"
                } else {
                    "refused"
                },
                r.status,
            )
        }));
        tasks.push(tokio::spawn(async move {
            b2.wait().await;
            let r = anonymous
                .post(
                    &url,
                    json!({"email": format!("joiner-{i}@example.com"), "password": PASSWORD}),
                )
                .await;
            assert_eq!(r.status, 201, "{}", r.text);
            (
                if r.body["role"] == "AN" {
                    "joined working"
                } else {
                    "joined pending"
                },
                r.status,
            )
        }));
    }
    let mut outcomes = std::collections::BTreeMap::new();
    for t in tasks {
        let (what, status) = t.await.expect("task");
        if what == "refused" {
            assert_eq!(status, 409);
        }
        *outcomes.entry(what).or_insert(0) += 1;
    }
    let seated = outcomes.get("invited").copied().unwrap_or(0)
        + outcomes.get("joined working").copied().unwrap_or(0);
    assert_eq!(seated, 2, "{outcomes:?}");
    assert_eq!(
        outcomes.get("joined pending").copied().unwrap_or(0)
            + outcomes.get("joined working").copied().unwrap_or(0),
        8
    );
    let (limit, used, _, _) = seats(&org).await;
    assert_eq!((limit, used), (Some(3), 3));
}

#[tokio::test]
async fn the_default_role_for_link_sign_ups_is_never_a_role_that_manages_others() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let before = server.snapshot().await;
    for role in ["OW", "AD", "MA", "DI", "XX"] {
        let r = owner
            .patch(
                &org.path("/set-default-role"),
                json!({"default_role": role}),
            )
            .await;
        assert_eq!(r.status, 400, "{role}: {}", r.text);
        assert!(
            r.body["validation_errors"]["default_role"].is_array(),
            "{}",
            r.text
        );
        let r = owner
            .patch(&org.path(""), json!({"default_role": role}))
            .await;
        assert_eq!(r.status, 400, "{role}: {}", r.text);
    }
    assert_eq!(server.snapshot().await, before);
    for role in ["NO", "AN", "RE"] {
        let r = owner
            .patch(
                &org.path("/set-default-role"),
                json!({"default_role": role}),
            )
            .await
            .expect(200);
        assert_eq!(r.body["default_role"], role);
        assert_eq!(
            owner.get(&org.path("")).await.expect(200).body["default_role"],
            role
        );
    }
}
