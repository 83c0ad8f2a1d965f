//! The session policy (`/api/session-policy/`): an organization's limits on how long a
//! browser session lasts and may sit idle, enforced on every session at its very next request.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, TestServer, PASSWORD};

const MINUTE: Duration = Duration::from_secs(60);
/// The server's session lifetime in the tests (the default, 14 days).
const LIFETIME_MINUTES: i64 = 14 * 24 * 60;

#[tokio::test]
async fn a_shrunk_idle_limit_ends_an_older_session_on_its_very_next_request() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut idle = server.browser();
    idle.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    idle.get("/api/current-user/whoami").await.expect(200);

    server.advance(10 * MINUTE);
    let mut fresh = server.browser();
    fresh.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    // Ten idle minutes are fine under the default policy.
    idle.get("/api/current-user/whoami").await.expect(200);

    server.advance(10 * MINUTE);
    fresh.get("/api/current-user/whoami").await.expect(200);
    org.owner_api()
        .patch(
            "/api/session-policy/",
            json!({"max_time_between_activity": 5}),
        )
        .await
        .expect(200);
    server.advance(7 * MINUTE);
    // Idle for 17 minutes: ended at once, and stays ended.
    let r = idle.get("/api/current-user/whoami").await.expect(401);
    assert!(r.text.contains("idle"), "{}", r.text);
    idle.get("/api/current-user/whoami").await.expect(401);
    // Active 7 minutes ago: past the limit even allowing for the minute in which activity
    // is recorded.
    fresh.get("/api/current-user/whoami").await.expect(401);

    // A session that keeps making requests lives on.
    let mut busy = server.browser();
    busy.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    for _ in 0..6 {
        server.advance(4 * MINUTE);
        busy.get("/api/current-user/whoami").await.expect(200);
    }
    // Keys and personal access tokens are not sessions: the policy does not touch them.
    org.owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    let sessions = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM sessions WHERE user_id = {}",
            org.owner.id.0
        ))
        .await;
    assert_eq!(
        sessions, 1,
        "the ended sessions are deleted, the busy one stays"
    );
}

#[tokio::test]
async fn a_session_older_than_max_session_age_ends_however_busy() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    org.owner_api()
        .patch("/api/session-policy", json!({"max_session_age": 30}))
        .await
        .expect(200);
    let mut b = server.browser();
    b.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    for _ in 0..3 {
        server.advance(10 * MINUTE);
        b.get("/api/current-user/whoami").await.expect(200);
    }
    server.advance(MINUTE);
    let r = b.get("/api/current-user/whoami").await.expect(401);
    assert!(r.text.contains("longest time"), "{}", r.text);
    // Signing in again starts a new session under the same policy.
    b.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    b.get("/api/current-user/whoami").await.expect(200);
}

#[tokio::test]
async fn a_session_answers_to_the_strictest_policy_of_its_organizations() {
    let server = TestServer::start().await;
    let lax = server.org("Lax").await;
    let strict = server.org("Strict").await;
    let person = lax.member(Role::Annotator).await;
    lax.set_password(&person).await;
    strict.add_existing(&person, Role::Annotator).await;
    strict
        .owner_api()
        .patch(
            "/api/session-policy",
            json!({"max_time_between_activity": 3}),
        )
        .await
        .expect(200);
    let mut b = server.browser();
    b.sign_in(&person.email, PASSWORD).await.expect(200);
    let me = b.get("/api/current-user/whoami").await.expect(200);
    assert_eq!(me.body["active_organization"], lax.id.0);
    server.advance(5 * MINUTE);
    // The cookie reaches the strict organization too, so its limit ends the session.
    b.get("/api/current-user/whoami").await.expect(401);
}

#[tokio::test]
async fn the_policy_reads_in_minutes_and_changes_are_validated_and_audited() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let p = api.get("/api/session-policy/").await.expect(200).body;
    assert_eq!(p["max_session_age"], LIFETIME_MINUTES);
    assert_eq!(p["max_time_between_activity"], LIFETIME_MINUTES);
    assert!(
        p["created_at"].is_null() && p["updated_at"].is_null(),
        "{p}"
    );

    let p = api
        .patch(
            "/api/session-policy/",
            json!({"max_session_age": 480, "max_time_between_activity": 60}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(p["max_session_age"], 480);
    assert_eq!(p["max_time_between_activity"], 60);
    assert!(
        p["created_at"].is_string() && p["updated_at"].is_string(),
        "{p}"
    );
    // A partial update keeps the other limit; null goes back to the server's lifetime.
    let p = api
        .patch("/api/session-policy/", json!({"max_session_age": null}))
        .await
        .expect(200)
        .body;
    assert_eq!(p["max_session_age"], LIFETIME_MINUTES);
    assert_eq!(p["max_time_between_activity"], 60);
    assert_eq!(api.get("/api/session-policy").await.expect(200).body, p);

    let before = server.snapshot().await;
    for (body, field) in [
        (json!({"max_session_age": 0}), "max_session_age"),
        (json!({"max_session_age": -10}), "max_session_age"),
        (
            json!({"max_time_between_activity": LIFETIME_MINUTES + 1}),
            "max_time_between_activity",
        ),
        (
            json!({"max_time_between_activity": "soon"}),
            "max_time_between_activity",
        ),
        (json!({"max_session_age": 1.5}), "max_session_age"),
        (json!({"idle": 5}), "idle"),
    ] {
        let r = api
            .patch("/api/session-policy/", body.clone())
            .await
            .expect(400);
        assert!(
            r.body["validation_errors"].get(field).is_some(),
            "{body} -> {}",
            r.text
        );
    }
    assert_eq!(
        server.snapshot().await,
        before,
        "a refused change writes nothing"
    );

    let events = api
        .get("/api/audit-events/?action=organization.session_policy_changed")
        .await
        .expect(200)
        .body;
    let items = events["results"].as_array().expect("results");
    assert_eq!(items.len(), 2, "{events}");
    assert_eq!(
        items[0]["new_value"],
        "max_session_age=default max_time_between_activity=60"
    );
    assert_eq!(
        items[1]["old_value"],
        "max_session_age=default max_time_between_activity=default"
    );
}

#[tokio::test]
async fn only_owners_and_administrators_read_or_change_the_policy() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    org.api(&admin)
        .patch("/api/session-policy/", json!({"max_session_age": 600}))
        .await
        .expect(200);
    org.api(&admin)
        .get("/api/session-policy/")
        .await
        .expect(200);
    for role in roster_tests::BELOW_ADMIN {
        let p = org.member(role).await;
        org.api(&p).get("/api/session-policy/").await.expect(403);
        org.api(&p)
            .patch("/api/session-policy/", json!({"max_session_age": 5}))
            .await
            .expect(403);
    }
    server
        .anonymous()
        .get("/api/session-policy/")
        .await
        .expect(401);
    // Another organization's policy is its own.
    let other = server.org("Other").await;
    let p = other
        .owner_api()
        .get("/api/session-policy/")
        .await
        .expect(200)
        .body;
    assert_eq!(p["max_session_age"], LIFETIME_MINUTES);
}
