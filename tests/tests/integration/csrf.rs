//! One session-and-CSRF check for the API and the pages: a change made with the session
//! cookie is refused (403, changing nothing) without the session's CSRF token, wherever it is
//! sent (an API endpoint, a page's form, sign-out, the sign-up confirmation), and goes through
//! with it. The API answers in JSON, a page's form with a page.

use roster_domain::Role;
use roster_tests::{json, Api, Resp, TestServer, PASSWORD};

fn is_page(r: &Resp) -> bool {
    r.headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/html"))
}

/// A signed-in browser that sends no X-CSRFToken header by itself, and its session's token.
async fn signed_in(server: &TestServer, email: &str) -> (Api, String) {
    let mut browser = server.browser();
    browser.sign_in(email, PASSWORD).await.expect(200);
    let csrf = browser.csrf.take().expect("a CSRF token");
    (browser, csrf)
}

#[tokio::test]
async fn an_api_change_with_the_session_cookie_needs_the_csrf_header() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (mut browser, csrf) = signed_in(&server, &org.owner.email).await;
    let before = server.snapshot().await;

    let r = browser
        .patch("/api/current-user", json!({"first_name": "Ada"}))
        .await
        .expect(403);
    assert_eq!(r.body["status_code"], 403, "the one JSON error shape");
    browser.csrf = Some("not-the-token".into());
    browser
        .patch("/api/current-user", json!({"first_name": "Ada"}))
        .await
        .expect(403);
    assert_eq!(
        server.snapshot().await,
        before,
        "a refused change changes nothing"
    );

    browser.csrf = Some(csrf);
    browser
        .patch("/api/current-user", json!({"first_name": "Ada"}))
        .await
        .expect(200);
    let me = browser.get("/api/current-user").await.expect(200).body;
    assert_eq!(me["first_name"], "Ada");
}

#[tokio::test]
async fn a_page_form_without_its_csrf_field_is_refused_with_a_page() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Elsewhere").await;
    other.add_existing(&org.owner, Role::Annotator).await;
    let (mut browser, csrf) = signed_in(&server, &org.owner.email).await;
    let before = server.snapshot().await;
    let switch = [("organization", other.id.0.to_string())];
    let switch: Vec<(&str, &str)> = switch.iter().map(|(k, v)| (*k, v.as_str())).collect();

    // No token at all, a wrong one, and the right header without the form's own field.
    let r = browser
        .post_form("/switch-organization", &switch)
        .await
        .expect(403);
    assert!(
        is_page(&r),
        "a page form is answered with a page: {}",
        r.text
    );
    let with_wrong = [switch.clone(), vec![("csrf_token", "wrong")]].concat();
    browser
        .post_form("/switch-organization", &with_wrong)
        .await
        .expect(403);
    browser.csrf = Some(csrf.clone());
    browser
        .post_form("/switch-organization", &switch)
        .await
        .expect(403);
    let r = browser
        .post_form(
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "a brand new password"),
            ],
        )
        .await
        .expect(403);
    assert!(is_page(&r), "{}", r.text);
    assert_eq!(
        server.snapshot().await,
        before,
        "a refused form changes nothing"
    );

    let with_token = [switch.clone(), vec![("csrf_token", csrf.as_str())]].concat();
    let r = browser.post_form("/switch-organization", &with_token).await;
    assert_eq!(r.status, 303, "{}", r.text);
    let me = browser.get("/api/current-user").await.expect(200).body;
    assert_eq!(me["active_organization"], other.id.0);
}

#[tokio::test]
async fn a_page_form_without_a_session_is_sent_to_sign_in() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = server
        .browser()
        .post_form(
            "/switch-organization",
            &[("organization", &org.id.0.to_string()), ("csrf_token", "x")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let to = r.headers.get("location").and_then(|v| v.to_str().ok());
    assert!(to.is_some_and(|l| l.starts_with("/user/login")), "{to:?}");
    let r = server.browser().get("/account").await;
    assert_eq!(r.status, 303, "{}", r.text);
}

#[tokio::test]
async fn sign_out_needs_the_csrf_token_in_the_header_or_the_form_and_every_token_sent_must_match() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (mut browser, csrf) = signed_in(&server, &org.owner.email).await;
    let before = server.snapshot().await;

    let r = browser.post_empty("/user/logout").await.expect(403);
    assert_eq!(r.body["status_code"], 403);
    let r = browser
        .post_form("/user/logout", &[("csrf_token", "wrong")])
        .await
        .expect(403);
    assert!(is_page(&r), "{}", r.text);
    // The right header does not excuse a wrong token in the form.
    browser.csrf = Some(csrf.clone());
    browser
        .post_form("/user/logout", &[("csrf_token", "wrong")])
        .await
        .expect(403);
    browser.csrf = None;
    browser
        .post("/user/logout", json!({"csrf_token": "wrong"}))
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    browser.get("/api/current-user/whoami").await.expect(200);

    // A JSON body may carry the token too.
    browser
        .post("/user/logout", json!({"csrf_token": csrf}))
        .await
        .expect(204);
    browser.get("/api/current-user/whoami").await.expect(401);
}

#[tokio::test]
async fn the_sign_up_confirmation_needs_the_session_and_its_csrf_token() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let elsewhere = server.org("Elsewhere").await;
    let person = &elsewhere.owner;
    let link = org.owner_api().get("/api/invite").await.expect(200).body["invite_url"]
        .as_str()
        .unwrap()
        .to_string();
    let link = link.strip_prefix(&server.url).unwrap_or(&link).to_string();
    let (mut browser, csrf) = signed_in(&server, &person.email).await;
    let (_, access) = server.pat_and_access(person).await;
    let before = server.snapshot().await;

    browser
        .post(&link, json!({"confirm": "yes"}))
        .await
        .expect(403);
    let r = browser
        .post_form(&link, &[("confirm", "yes"), ("csrf_token", "wrong")])
        .await
        .expect(403);
    assert!(is_page(&r), "{}", r.text);
    // An access token is not a session: confirming needs the browser's session.
    server
        .anonymous()
        .with_auth(&format!("Bearer {access}"))
        .post(&link, json!({"confirm": "yes"}))
        .await
        .expect(401);
    assert_eq!(server.snapshot().await, before);

    // The header is the JSON client's way to send the token, as everywhere on the API.
    browser.csrf = Some(csrf);
    let r = browser
        .post(&link, json!({"confirm": "yes"}))
        .await
        .expect(201);
    assert_eq!(r.body["organization"], org.id.0);
    assert_eq!(r.body["role"], "NO");
}
