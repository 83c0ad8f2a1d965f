//! Two roster nodes on one database behave as one service: nothing a node keeps in memory
//! lets a revoked member through on the other, sessions work on either node, and throttle
//! counters are shared.

use std::sync::Arc;

use roster_domain::Role;
use roster_service::ServiceConfig;
use roster_tests::{json, TestServer, PASSWORD};

#[tokio::test]
async fn a_deactivation_through_one_node_is_refused_by_the_other_on_the_next_request() {
    let a = TestServer::start().await;
    let b =
        TestServer::start_on(Arc::clone(&a.db), ServiceConfig::default(), a.clock.clone()).await;
    let org = a.org("Two Nodes").await;
    let ann = org.member(Role::Annotator).await;
    b.with_key(&ann.key).get("/api/projects/").await.expect(200);

    a.with_key(&org.owner.key)
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    b.with_key(&ann.key).get("/api/projects/").await.expect(403);

    b.with_key(&org.owner.key)
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "AN"}),
        )
        .await
        .expect(200);
    a.with_key(&ann.key).get("/api/projects/").await.expect(200);
}

#[tokio::test]
async fn a_session_started_on_one_node_works_on_the_other_and_ends_on_both() {
    let a = TestServer::start().await;
    let b =
        TestServer::start_on(Arc::clone(&a.db), ServiceConfig::default(), a.clock.clone()).await;
    let org = a.org("Sessions").await;
    let mut on_a = a.browser();
    let r = on_a.sign_in(&org.owner.email, PASSWORD).await.expect(200);
    let cookie = roster_tests::session_cookie(&r).expect("session cookie");
    let header = format!("roster_session={cookie}");
    let on_b = b.anonymous();
    let me = on_b
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("Cookie", &header)],
        )
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.body["email"], org.owner.email.as_str());

    on_a.post_empty("/user/logout").await.expect(204);
    let after = on_b
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("Cookie", &header)],
        )
        .await;
    assert_eq!(after.status, 401);
}

#[tokio::test]
async fn failed_sign_ins_on_one_node_are_throttled_on_the_other() {
    let a = TestServer::start().await;
    let b =
        TestServer::start_on(Arc::clone(&a.db), ServiceConfig::default(), a.clock.clone()).await;
    let org = a.org("Throttle").await;
    a.anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": "wrong password"}),
        )
        .await
        .expect(401);
    let r = b
        .anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": PASSWORD}),
        )
        .await
        .expect(429);
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
}
