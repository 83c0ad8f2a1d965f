//! The server starts, answers health with a database round trip, and serves its documents.

use roster_tests::TestServer;

#[tokio::test]
async fn health_answers_after_a_database_round_trip() {
    let server = TestServer::start().await;
    let r = server.anonymous().get("/api/health").await.expect(200);
    assert_eq!(r.body["status"], "ok");
    let r = server.anonymous().get("/api/health/").await.expect(200);
    assert_eq!(r.body["status"], "ok");
}

#[tokio::test]
async fn the_version_is_rosters_in_label_studios_shape_for_signed_in_callers() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = org.owner_api().get("/api/version/").await.expect(200);
    assert_eq!(r.body["release"], env!("CARGO_PKG_VERSION"));
    assert_eq!(r.body["edition"], "Enterprise");
    assert_eq!(
        r.body["label-studio-enterprise-backend"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    assert!(r.body["label-studio-frontend"].is_null());
    server.anonymous().get("/api/version").await.expect(401);
}

#[tokio::test]
async fn served_openapi_document_matches_the_committed_copy() {
    let server = TestServer::start().await;
    let served = server.openapi_document().await;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json exists"))
            .expect("docs/openapi.json is JSON");
    assert!(
        served == committed,
        "the served OpenAPI document differs from docs/openapi.json; regenerate it with \
         `cargo run -p roster -- openapi --write docs/openapi.json` and commit it"
    );
    let page = server.anonymous().get("/docs").await.expect(200);
    assert!(page.text.contains("/api/organizations/{id}/memberships"));
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_report_seats_per_organization() {
    let token = "metrics-token-0123456789abcdef0123456789";
    let server = TestServer::start_with_web(roster_http::WebConfig {
        metrics_token: Some(token.into()),
        ..Default::default()
    })
    .await;
    let org = server.org("Metered").await;
    org.member(roster_domain::Role::Annotator).await;
    server.anonymous().get("/api/health").await.expect(200);
    server.anonymous().get("/api/users/123").await.expect(401);
    let text = server
        .anonymous()
        .with_auth(&format!("Bearer {token}"))
        .get("/metrics")
        .await
        .expect(200)
        .text;
    assert!(
        text.contains(
            r#"roster_http_requests_total{method="GET",route="/api/health",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"roster_http_requests_total{method="GET",route="/api/users/{id}",status="401"} 1"#
        ),
        "route patterns, not raw paths, label requests: {text}"
    );
    assert!(
        text.contains(&format!(
            r#"roster_seats_used{{organization="{}"}} 2"#,
            org.id.0
        )),
        "{text}"
    );
    assert!(
        text.contains("roster_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains(r#"roster_db_pool_connections{state="open"}"#),
        "{text}"
    );
}
