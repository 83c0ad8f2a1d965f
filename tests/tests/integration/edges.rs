//! The smaller holes at the edge (issue 9, item 7): sign-in redirect targets, the metrics
//! credential, no caching of secrets, login CSRF by Origin, server-written status messages,
//! slow-header connections and the OpenAPI document.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, session_cookie, TestServer, PASSWORD};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn location(r: &roster_tests::Resp) -> String {
    r.headers
        .get("location")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
        .unwrap_or_default()
}

#[tokio::test]
async fn sign_in_redirects_only_to_a_path_on_this_site() {
    let server = TestServer::start().await;
    let org = server.org("Next").await;
    let cases = [
        ("/\t/evil.example", "/"),
        ("/\n", "/"),
        ("/\r\n/evil.example", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example/", "/"),
        ("/\t\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/organization?role=AN", "/organization?role=AN"),
        ("/projects/3", "/projects/3"),
    ];
    for (next, expected) in cases {
        let r = server
            .anonymous()
            .post_form(
                "/user/login",
                &[
                    ("email", &org.owner.email),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(r.status, 303, "next {next:?}: {}", r.text);
        assert_eq!(location(&r), expected, "next {next:?}");
    }
    // NUL is refused like in every other input: a page, not a 500.
    let r = server
        .anonymous()
        .post_form(
            "/user/login",
            &[
                ("email", &org.owner.email),
                ("password", PASSWORD),
                ("next", "/\u{0}"),
            ],
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.text.contains("next: "), "{}", r.text);
    // The sign-in page puts the same safe target in its form.
    let page = server
        .anonymous()
        .get("/user/login?next=%2F%09%2Fevil.example")
        .await
        .expect(200);
    assert!(!page.text.contains("evil.example"), "{}", page.text);
}

#[tokio::test]
async fn metrics_are_not_served_without_a_configured_token() {
    let server = TestServer::start().await;
    server.org("Secret seats").await;
    let r = server.anonymous().get("/metrics").await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(!r.text.contains("roster_seats_used"));
}

#[tokio::test]
async fn metrics_need_the_bearer_token() {
    let token = "metrics-token-0123456789abcdef0123456789";
    let server = TestServer::start_with_web(roster_http::WebConfig {
        metrics_token: Some(token.into()),
        ..Default::default()
    })
    .await;
    let org = server.org("Scraped").await;
    for auth in [
        None,
        Some("Bearer wrong"),
        Some(format!("Token {}", org.owner.key).as_str()),
    ]
    .into_iter()
    .map(|a| a.map(str::to_string))
    {
        let api = match &auth {
            Some(a) => server.anonymous().with_auth(a),
            None => server.anonymous(),
        };
        let r = api.get("/metrics").await;
        assert_eq!(r.status, 401, "{auth:?}: {}", r.text);
        assert!(!r.text.contains("roster_seats_used"), "{auth:?}");
    }
    let r = server
        .anonymous()
        .with_auth(&format!("Bearer {token}"))
        .get("/metrics")
        .await
        .expect(200);
    assert!(r.text.contains("roster_seats_used"), "{}", r.text);
}

#[tokio::test]
async fn answers_that_carry_secrets_are_not_stored_by_caches() {
    let server = TestServer::start().await;
    let org = server.org("Uncached").await;
    let owner = org.owner_api();
    let made = owner.post("/api/token", json!({})).await;
    assert!(made.status < 300, "{}", made.text);
    let refresh = made.body["token"].as_str().unwrap_or_default().to_string();
    let responses = vec![
        (
            "GET /api/current-user/token",
            owner.get("/api/current-user/token").await,
        ),
        ("POST /api/token", made),
        (
            "POST /api/token/refresh",
            owner
                .post("/api/token/refresh", json!({"refresh": refresh}))
                .await,
        ),
        ("GET /api/invite", owner.get("/api/invite").await),
        (
            "POST /api/invite/reset-token",
            owner.post_empty("/api/invite/reset-token").await,
        ),
        ("GET /api/invites", owner.get("/api/invites").await),
        (
            "POST /user/login",
            server
                .anonymous()
                .post(
                    "/user/login",
                    json!({"email": org.owner.email, "password": PASSWORD}),
                )
                .await,
        ),
        (
            "POST /api/current-user/reset-token",
            owner.post_empty("/api/current-user/reset-token").await,
        ),
    ];
    for (what, r) in responses {
        assert!(r.status < 300, "{what}: {}", r.text);
        assert_eq!(
            r.headers.get("cache-control").and_then(|v| v.to_str().ok()),
            Some("no-store"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn sign_in_from_a_foreign_origin_is_refused() {
    let server = TestServer::start().await;
    let org = server.org("Origins").await;
    let pairs = [("email", org.owner.email.as_str()), ("password", PASSWORD)];
    let form: String = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace('@', "%40").replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&");
    for origin in [
        "http://evil.example",
        "null",
        "https://127.0.0.1.evil.example",
    ] {
        let r = server
            .anonymous()
            .send(
                reqwest::Method::POST,
                "/user/login",
                Some((
                    "application/x-www-form-urlencoded",
                    form.clone().into_bytes(),
                )),
                &[("Origin", origin)],
            )
            .await;
        assert_eq!(r.status, 403, "form from {origin}: {}", r.text);
        assert!(session_cookie(&r).is_none(), "no session from {origin}");
        let body = json!({"email": org.owner.email, "password": PASSWORD}).to_string();
        let r = server
            .anonymous()
            .send(
                reqwest::Method::POST,
                "/user/login",
                Some(("application/json", body.into_bytes())),
                &[("Origin", origin)],
            )
            .await;
        assert_eq!(r.status, 403, "JSON from {origin}: {}", r.text);
        assert!(session_cookie(&r).is_none(), "no session from {origin}");
    }
    // The site's own pages (public URL or the host the request went to) sign in as before.
    let r = server
        .anonymous()
        .send(
            reqwest::Method::POST,
            "/user/login",
            Some((
                "application/x-www-form-urlencoded",
                form.clone().into_bytes(),
            )),
            &[("Origin", &server.url)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(session_cookie(&r).is_some());

    // A signed-in page's form posted from another site is refused too.
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let before = server.snapshot().await;
    let csrf = browser.csrf.clone().unwrap();
    let body = format!("csrf_token={csrf}&emails=x%40y.test&role=AN");
    let r = browser
        .send(
            reqwest::Method::POST,
            "/organization/invites",
            Some(("application/x-www-form-urlencoded", body.into_bytes())),
            &[("Origin", "http://evil.example")],
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn the_organization_page_shows_only_messages_the_server_wrote() {
    let server = TestServer::start().await;
    let org = server.org("Status").await;
    let member = org.member(Role::Annotator).await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let forged = "Your account is locked, call +1 555 0100";
    let r = browser
        .get("/organization?status=Your+account+is+locked%2C+call+%2B1+555+0100")
        .await
        .expect(200);
    assert!(!r.text.contains(forged), "arbitrary text is shown");
    let r = browser
        .get("/organization?status=Your+account+is+locked%2C+call+%2B1+555+0100&sig=00")
        .await
        .expect(200);
    assert!(!r.text.contains(forged), "a wrong tag is not enough");
    // A message the server wrote after an action is shown.
    let csrf = browser.csrf.clone().unwrap();
    let r = browser
        .post_form(
            &format!("/organization/members/{}/role", member.id.0),
            &[("csrf_token", &csrf), ("role", "RE")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let page = browser.get(&location(&r)).await.expect(200);
    assert!(
        page.text
            .contains(&format!("{} is now Reviewer", member.email)),
        "{}",
        page.text
    );
}

#[tokio::test]
async fn a_connection_that_stalls_in_its_headers_is_closed() {
    let server = TestServer::start_with_web(roster_http::WebConfig {
        header_read_timeout: Duration::from_secs(1),
        ..Default::default()
    })
    .await;
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(
        closed.is_ok(),
        "the server still holds the connection after 5 s"
    );
    // An idle keep-alive connection is closed the same way.
    let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let started = std::time::Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "an idle connection is held");
    assert!(started.elapsed() >= Duration::from_millis(900));
}

#[test]
fn the_default_header_read_timeout_is_ten_seconds() {
    assert_eq!(
        roster_http::WebConfig::default().header_read_timeout,
        Duration::from_secs(10)
    );
}

#[tokio::test]
async fn the_openapi_document_has_the_membership_post_and_any_annotation_result() {
    let server = TestServer::start().await;
    let doc = server.openapi_document().await;
    let memberships = &doc["paths"]["/api/organizations/{id}/memberships"];
    assert!(memberships["post"].is_object(), "{memberships}");
    assert!(memberships["patch"].is_object(), "{memberships}");
    for schema in ["NewAnnotation", "AnnotationView"] {
        let result = &doc["components"]["schemas"][schema]["properties"]["result"];
        assert!(result.is_object(), "{schema}: {result}");
        assert!(
            result.get("type").is_none(),
            "{schema}.result is any JSON value: {result}"
        );
    }
}
