//! Browser sessions: signing in and out, throttled failures, and the CSRF token that every
//! cookie-authenticated change must carry.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, session_cookie, Resp, TestServer, PASSWORD};

/// The `Set-Cookie` header that sets the session cookie.
fn session_set_cookie(r: &Resp) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("roster_session=") && !c.starts_with("roster_session=;"))
        .unwrap_or_else(|| panic!("no roster_session cookie set; headers: {:?}", r.headers))
        .to_string()
}

fn cookie_attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect()
}

fn retry_after(r: &Resp) -> u64 {
    r.headers
        .get("retry-after")
        .unwrap_or_else(|| panic!("no Retry-After header; status {} body {}", r.status, r.text))
        .to_str()
        .expect("ascii")
        .parse()
        .expect("Retry-After is whole seconds")
}

#[tokio::test]
async fn json_sign_in_sets_an_http_only_same_site_lax_session_cookie() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["user"]["id"], org.owner.id.0);
    assert_eq!(r.body["user"]["email"], org.owner.email.as_str());
    let csrf = r.body["csrf_token"]
        .as_str()
        .expect("csrf_token in the body");
    assert!(csrf.len() >= 16, "CSRF token too short: {csrf}");
    let set = session_set_cookie(&r);
    let attrs = cookie_attributes(&set);
    assert!(attrs.contains(&"httponly".to_string()), "{set}");
    assert!(attrs.contains(&"samesite=lax".to_string()), "{set}");
    assert!(attrs.contains(&"path=/".to_string()), "{set}");
    let id = session_cookie(&r).expect("session id");
    assert!(id.len() >= 32, "session id too short: {id}");
    assert_ne!(id, csrf, "the session id must not double as the CSRF token");

    // The cookie alone authenticates reads.
    let me = server
        .anonymous()
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("Cookie", &format!("roster_session={id}"))],
        )
        .await
        .expect(200);
    assert_eq!(me.body["id"], org.owner.id.0);
}

#[tokio::test]
async fn html_form_sign_in_redirects_and_sets_the_session_cookie() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let member = org.member(Role::Annotator).await;
    org.set_password(&member).await;
    let browser = server.browser();
    let r = browser
        .post_form(
            "/user/login",
            &[
                ("email", &member.email),
                ("password", PASSWORD),
                ("next", "/api/current-user/whoami"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "body: {}", r.text);
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/api/current-user/whoami")
    );
    let set = session_set_cookie(&r);
    let attrs = cookie_attributes(&set);
    assert!(attrs.contains(&"httponly".to_string()), "{set}");
    assert!(attrs.contains(&"samesite=lax".to_string()), "{set}");
    // The browser now carries the session.
    let me = browser.get("/api/current-user/whoami").await.expect(200);
    assert_eq!(me.body["id"], member.id.0);
    assert_eq!(me.body["email"], member.email.as_str());
}

#[tokio::test]
async fn html_form_sign_in_with_a_wrong_password_shows_the_page_again_with_401() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let browser = server.browser();
    let r = browser
        .post_form(
            "/user/login",
            &[
                ("email", &org.owner.email),
                ("password", "not the password"),
            ],
        )
        .await
        .expect(401);
    assert!(session_cookie(&r).is_none(), "no session on failure");
    assert!(
        r.text.contains("not correct"),
        "the page says why: {}",
        r.text
    );
    browser.get("/api/current-user/whoami").await.expect(401);
}

#[tokio::test]
async fn every_sign_in_gets_a_new_session_id() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    let first = browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let first_id = session_cookie(&first).expect("first session id");
    let first_csrf = first.body["csrf_token"].as_str().unwrap().to_string();
    // Signing in again from the same browser (which sends its current cookie) still issues a fresh id.
    let second = browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let second_id = session_cookie(&second).expect("second session id");
    assert_ne!(first_id, second_id);
    assert_ne!(first_csrf, second.body["csrf_token"].as_str().unwrap());
    let third = server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": PASSWORD}),
        )
        .await
        .expect(200);
    let third_id = session_cookie(&third).expect("third session id");
    assert_ne!(third_id, first_id);
    assert_ne!(third_id, second_id);
}

#[tokio::test]
async fn sign_in_email_is_case_insensitive() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": org.owner.email.to_uppercase(), "password": PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["user"]["id"], org.owner.id.0);
}

#[tokio::test]
async fn sign_out_with_the_csrf_token_ends_the_session() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    let r = browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let old = session_cookie(&r).expect("session id");
    browser.get("/api/current-user/whoami").await.expect(200);

    let r = browser.post_empty("/user/logout").await.expect(204);
    let cleared = r
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| {
            c.starts_with("roster_session=")
                && (c.contains("Max-Age=0") || c.starts_with("roster_session=;"))
        });
    assert!(cleared, "logout clears the cookie: {:?}", r.headers);

    // The browser no longer has a session, and replaying the old cookie does not work either.
    browser.get("/api/current-user/whoami").await.expect(401);
    let replay = server
        .anonymous()
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("Cookie", &format!("roster_session={old}"))],
        )
        .await
        .expect(401);
    assert_eq!(replay.body["status_code"], 401);
}

#[tokio::test]
async fn sign_out_without_the_csrf_token_is_refused_and_the_session_survives() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let before = server.snapshot().await;
    let mut no_csrf = browser.clone();
    no_csrf.csrf = None;
    let r = no_csrf.post_empty("/user/logout").await.expect(403);
    assert_eq!(r.body["status_code"], 403);
    let mut wrong_csrf = browser.clone();
    wrong_csrf.csrf = Some("not-the-token".into());
    wrong_csrf.post_empty("/user/logout").await.expect(403);
    assert_eq!(server.snapshot().await, before);
    browser.get("/api/current-user/whoami").await.expect(200);
}

#[tokio::test]
async fn wrong_password_is_401_and_an_immediate_retry_is_429_with_retry_after() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = server.anonymous();
    let r = api
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": "wrong"}),
        )
        .await
        .expect(401);
    assert_eq!(r.body["status_code"], 401);
    assert!(session_cookie(&r).is_none());
    // Even the right password is held back while the delay runs.
    let r = api
        .post(
            "/user/login",
            json!({"email": org.owner.email, "password": PASSWORD}),
        )
        .await
        .expect(429);
    assert_eq!(retry_after(&r), 1);
    assert_eq!(r.body["status_code"], 429);
    assert!(session_cookie(&r).is_none());
}

#[tokio::test]
async fn correct_password_after_the_delay_signs_in_and_resets_the_counter() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = server.anonymous();
    let email = org.owner.email.as_str();
    api.post("/user/login", json!({"email": email, "password": "wrong"}))
        .await
        .expect(401);
    server.advance(Duration::from_millis(1100));
    api.post("/user/login", json!({"email": email, "password": "wrong"}))
        .await
        .expect(401);
    let r = api
        .post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(429);
    assert_eq!(retry_after(&r), 2);
    server.advance(Duration::from_millis(2100));
    api.post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(200);
    // The counter starts over: the next failure earns 1 s again, not 4 s.
    api.post("/user/login", json!({"email": email, "password": "wrong"}))
        .await
        .expect(401);
    let r = api
        .post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(429);
    assert_eq!(retry_after(&r), 1);
}

#[tokio::test]
async fn sign_in_delays_double_after_each_failure() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = server.anonymous();
    let email = org.owner.email.as_str();
    let mut seen = Vec::new();
    for _ in 0..5 {
        api.post("/user/login", json!({"email": email, "password": "wrong"}))
            .await
            .expect(401);
        let r = api
            .post("/user/login", json!({"email": email, "password": "wrong"}))
            .await
            .expect(429);
        let secs = retry_after(&r);
        seen.push(secs);
        // Half-way through the delay it is still running, and says how long is left.
        if secs >= 2 {
            server.advance(Duration::from_secs(secs / 2));
            let r = api
                .post("/user/login", json!({"email": email, "password": PASSWORD}))
                .await
                .expect(429);
            assert_eq!(retry_after(&r), secs - secs / 2);
            server.advance(Duration::from_secs(secs - secs / 2) + Duration::from_millis(100));
        } else {
            server.advance(Duration::from_secs(secs) + Duration::from_millis(100));
        }
    }
    assert_eq!(seen, vec![1, 2, 4, 8, 16]);
}

#[tokio::test]
async fn sign_in_delay_stops_growing_at_sixty_seconds() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = server.anonymous();
    let email = org.owner.email.as_str();
    let mut last = 0;
    for _ in 0..9 {
        api.post("/user/login", json!({"email": email, "password": "wrong"}))
            .await
            .expect(401);
        let r = api
            .post("/user/login", json!({"email": email, "password": "wrong"}))
            .await
            .expect(429);
        last = retry_after(&r);
        server.advance(Duration::from_secs(last) + Duration::from_millis(100));
    }
    assert_eq!(last, 60);
}

#[tokio::test]
async fn a_stranger_failing_from_another_address_does_not_lock_the_owner_out() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let email = org.owner.email.as_str();
    let stranger = server.anonymous().from_address([127, 0, 0, 2]);
    // The stranger fails a few times, each time as soon as the delay allows, so a delay is running.
    let mut delay = 0;
    for _ in 0..4 {
        stranger
            .post("/user/login", json!({"email": email, "password": "guess"}))
            .await
            .expect(401);
        let r = stranger
            .post("/user/login", json!({"email": email, "password": "guess"}))
            .await
            .expect(429);
        delay = retry_after(&r);
        if delay < 8 {
            server.advance(Duration::from_secs(delay) + Duration::from_millis(100));
        }
    }
    assert_eq!(delay, 8, "the stranger's pair is throttled");
    // The stranger is still blocked, even with the right password ...
    stranger
        .post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(429);
    // ... while the owner, from their own address, signs in at once.
    let owner = server.anonymous();
    let r = owner
        .post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(200);
    assert_eq!(r.body["user"]["id"], org.owner.id.0);
    // And the owner's own typo earns only the first, 1 s, delay.
    owner
        .post("/user/login", json!({"email": email, "password": "typo"}))
        .await
        .expect(401);
    let r = owner
        .post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(429);
    assert_eq!(retry_after(&r), 1);
}

#[tokio::test]
async fn failures_against_one_account_do_not_delay_another_account_from_the_same_address() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let member = org.member(Role::Manager).await;
    org.set_password(&member).await;
    let api = server.anonymous();
    api.post(
        "/user/login",
        json!({"email": org.owner.email, "password": "wrong"}),
    )
    .await
    .expect(401);
    api.post(
        "/user/login",
        json!({"email": org.owner.email, "password": PASSWORD}),
    )
    .await
    .expect(429);
    let r = api
        .post(
            "/user/login",
            json!({"email": member.email, "password": PASSWORD}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["user"]["id"], member.id.0);
}

#[tokio::test]
async fn unknown_email_is_401_like_a_wrong_password() {
    let server = TestServer::start().await;
    let _org = server.org("Acme").await;
    let r = server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": "nobody@example.com", "password": PASSWORD}),
        )
        .await
        .expect(401);
    assert_eq!(r.body["detail"], "The email or password is not correct.");
}

#[tokio::test]
async fn cookie_authenticated_change_without_csrf_token_is_403_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let mut no_csrf = browser.clone();
    no_csrf.csrf = None;
    let mut wrong_csrf = browser.clone();
    wrong_csrf.csrf = Some("x".repeat(32));

    let before = server.snapshot().await;
    for api in [&no_csrf, &wrong_csrf] {
        let r = api
            .post_empty("/api/current-user/reset-token")
            .await
            .expect(403);
        assert_eq!(r.body["status_code"], 403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("CSRF"),
            "{}",
            r.text
        );
        api.patch("/api/current-user", json!({"first_name": "Mallory"}))
            .await
            .expect(403);
        api.post_empty("/api/token/").await.expect(403);
        api.patch(&org.path(""), json!({"title": "Hijacked"}))
            .await
            .expect(403);
    }
    assert_eq!(
        server.snapshot().await,
        before,
        "refused changes wrote nothing"
    );
    // The legacy key the fixture made still works: it was not reset.
    org.owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    let me = browser.get("/api/current-user").await.expect(200);
    assert_ne!(me.body["first_name"], "Mallory");
}

#[tokio::test]
async fn cookie_authenticated_change_with_csrf_token_succeeds() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);

    let r = browser
        .patch("/api/current-user", json!({"first_name": "Ada"}))
        .await
        .expect(200);
    assert_eq!(r.body["first_name"], "Ada");
    let r = browser
        .post_empty("/api/current-user/reset-token")
        .await
        .expect(201);
    let new_key = r.body["token"].as_str().unwrap().to_string();
    assert_ne!(new_key, org.owner.key);
    org.owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    server
        .with_key(&new_key)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    let r = browser
        .patch(&org.path(""), json!({"title": "Acme Labs"}))
        .await
        .expect(200);
    assert_eq!(r.body["title"], "Acme Labs");
}

#[tokio::test]
async fn cookie_authenticated_get_needs_no_csrf_token() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    browser.csrf = None;
    let me = browser.get("/api/current-user/whoami").await.expect(200);
    assert_eq!(me.body["id"], org.owner.id.0);
    let r = browser.get(&org.path("")).await.expect(200);
    assert_eq!(r.body["id"], org.id.0);
    let r = browser.get("/api/current-user/token").await.expect(200);
    assert_eq!(r.body["token"], org.owner.key.as_str());
}

#[tokio::test]
async fn a_key_or_token_needs_no_csrf_token_for_changes() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = org
        .owner_api()
        .patch("/api/current-user", json!({"last_name": "Lovelace"}))
        .await
        .expect(200);
    assert_eq!(r.body["last_name"], "Lovelace");
}

#[tokio::test]
async fn a_session_ends_when_it_expires() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    let r = browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let id = session_cookie(&r).unwrap();
    let cookie = format!("roster_session={id}");
    let api = server.anonymous();
    api.send(
        reqwest::Method::GET,
        "/api/current-user/whoami",
        None,
        &[("Cookie", &cookie)],
    )
    .await
    .expect(200);
    server.advance(Duration::from_secs(15 * 24 * 3600));
    api.send(
        reqwest::Method::GET,
        "/api/current-user/whoami",
        None,
        &[("Cookie", &cookie)],
    )
    .await
    .expect(401);
}

#[tokio::test]
async fn html_form_sign_in_is_throttled_too_with_retry_after() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let browser = server.browser();
    browser
        .post_form(
            "/user/login",
            &[("email", &org.owner.email), ("password", "wrong")],
        )
        .await
        .expect(401);
    let r = browser
        .post_form(
            "/user/login",
            &[("email", &org.owner.email), ("password", PASSWORD)],
        )
        .await
        .expect(429);
    assert_eq!(retry_after(&r), 1);
    assert!(session_cookie(&r).is_none());
    server.advance(Duration::from_millis(1100));
    let r = browser
        .post_form(
            "/user/login",
            &[("email", &org.owner.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(session_cookie(&r).is_some());
}

#[tokio::test]
async fn html_form_sign_out_with_the_form_csrf_token_ends_the_session() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut browser = server.browser();
    let r = browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let csrf = r.body["csrf_token"].as_str().unwrap().to_string();
    browser.csrf = None;
    browser
        .post_form("/user/logout", &[("csrf_token", "wrong")])
        .await
        .expect(403);
    browser.get("/api/current-user/whoami").await.expect(200);
    let r = browser
        .post_form("/user/logout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.headers.get("location").and_then(|v| v.to_str().ok()),
        Some("/user/login")
    );
    browser.get("/api/current-user/whoami").await.expect(401);
}

#[tokio::test]
async fn a_stranger_who_exhausts_their_address_still_cannot_lock_the_owner_out() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = org.member(Role::Reviewer).await;
    org.set_password(&other).await;
    let email = org.owner.email.as_str();
    let stranger = server.anonymous().from_address([127, 0, 0, 2]);
    // Many failures, each after the running delay, so every one counts.
    for i in 0..25 {
        let r = stranger
            .post(
                "/user/login",
                json!({"email": email, "password": format!("guess {i}")}),
            )
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text);
        server.advance(Duration::from_secs(61));
    }
    stranger
        .post("/user/login", json!({"email": email, "password": "again"}))
        .await
        .expect(401);
    // The stranger's address is now slowed down for every account it tries ...
    let r = stranger
        .post(
            "/user/login",
            json!({"email": other.email, "password": PASSWORD}),
        )
        .await
        .expect(429);
    assert!(retry_after(&r) >= 1);
    // ... but the owner, from their own address, signs in at once.
    let r = server
        .anonymous()
        .post("/user/login", json!({"email": email, "password": PASSWORD}))
        .await
        .expect(200);
    assert_eq!(r.body["user"]["id"], org.owner.id.0);
}

#[tokio::test]
async fn an_account_without_a_password_cannot_sign_in() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let member = org.member(Role::Annotator).await;
    let r = server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": member.email, "password": ""}),
        )
        .await
        .expect(401);
    assert_eq!(r.body["detail"], "The email or password is not correct.");
    server.advance(Duration::from_secs(2));
    server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": member.email, "password": PASSWORD}),
        )
        .await
        .expect(401);
}
