//! Hostile text at every text input: NUL anywhere, and control characters (tab, newline, DEL)
//! in single-line fields, are refused at the edge with a 400 naming the field (a page for
//! browser forms and pages), never a 500 (PostgreSQL cannot store NUL; SQLite's full-text
//! search cannot quote it), and change nothing. Multi-line fields keep newlines and tabs.

use roster_domain::Role;
use roster_tests::{json, Resp, TestServer, PASSWORD};

/// A 400 in the JSON error shape naming `field`.
#[track_caller]
fn assert_names(r: &Resp, field: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text);
    assert!(
        r.body["validation_errors"][field].is_array(),
        "{what}: validation_errors.{field} missing: {}",
        r.text
    );
}

/// A 400 page (HTML, not JSON) whose message names `field`.
#[track_caller]
fn assert_page_names(r: &Resp, field: &str, what: &str) {
    assert_eq!(r.status, 400, "{what}: {}", r.text);
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(ct.starts_with("text/html"), "{what}: content type {ct}");
    assert!(r.text.contains(&format!("{field}: ")), "{what}: {}", r.text);
}

/// An unsigned `header.payload` refresh token whose jti holds NUL
/// (`{"token_type":"refresh","exp":9999999999,"iat":0,"jti":"ab\u0000cd","user_id":1}`).
const NUL_JTI_TOKEN: &str = "eyJhbGciOiAibm9uZSJ9.eyJ0b2tlbl90eXBlIjogInJlZnJlc2giLCAiZXhwIjogOTk5OTk5OTk5OSwgImlhdCI6IDAsICJqdGkiOiAiYWJcdTAwMDBjZCIsICJ1c2VyX2lkIjogMX0";

#[tokio::test]
async fn nul_and_control_characters_are_refused_naming_the_field_and_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Hostile").await;
    let member = org.member(Role::Annotator).await;
    let owner = org.owner_api();
    let project = owner
        .post("/api/projects", json!({"title": "Work"}))
        .await
        .expect(201);
    let project_id = project.body["id"].as_i64().unwrap();
    let link = org.invite_token().await;
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let before = server.snapshot().await;
    let anon = server.anonymous();
    let o = org.id.0;

    // Sign-in, unauthenticated: JSON and form.
    for bad in [
        "a\u{0}@x.test",
        "a\t@x.test",
        "a\n@x.test",
        "a\u{7f}@x.test",
    ] {
        let r = anon
            .post(
                "/user/login",
                json!({"email": bad, "password": "whatever1"}),
            )
            .await;
        assert_names(&r, "email", &format!("login JSON email {bad:?}"));
        let r = anon
            .post_form("/user/login", &[("email", bad), ("password", "whatever1")])
            .await;
        assert_page_names(&r, "email", &format!("login form email {bad:?}"));
    }
    let r = anon
        .post(
            "/user/login",
            json!({"email": "a@x.test", "password": "pa\u{0}ss"}),
        )
        .await;
    assert_names(&r, "password", "login password with NUL");

    // Sign-up through a link: the token in the query, the fields in the body.
    let r = anon.get("/user/signup?token=ab%00cd").await;
    assert_page_names(&r, "token", "sign-up page, token with NUL");
    let r = anon
        .post(
            "/user/signup?token=ab%00cd",
            json!({"email": "new@x.test", "password": PASSWORD}),
        )
        .await;
    assert_names(&r, "token", "sign-up JSON, token with NUL");
    let r = anon
        .post_form(
            "/user/signup?token=ab%00cd",
            &[("email", "new@x.test"), ("password", PASSWORD)],
        )
        .await;
    assert_page_names(&r, "token", "sign-up form, token with NUL");
    for (field, body) in [
        (
            "email",
            json!({"email": "n\u{0}ew@x.test", "password": PASSWORD}),
        ),
        (
            "first_name",
            json!({"email": "new@x.test", "password": PASSWORD, "first_name": "A\u{0}"}),
        ),
        (
            "last_name",
            json!({"email": "new@x.test", "password": PASSWORD, "last_name": "B\tC"}),
        ),
    ] {
        let r = anon.post(&format!("/user/signup?token={link}"), body).await;
        assert_names(&r, field, "sign-up JSON field");
    }
    let r = anon
        .post_form(
            &format!("/user/signup?token={link}"),
            &[
                ("email", "new@x.test"),
                ("password", PASSWORD),
                ("first_name", "A\u{0}"),
            ],
        )
        .await;
    assert_page_names(&r, "first_name", "sign-up form first_name");
    let r = anon
        .post(
            "/user/set-password",
            json!({"token": "t\u{0}k", "password": PASSWORD}),
        )
        .await;
    assert_names(&r, "token", "set-password token");
    let r = anon.get("/user/set-password?token=t%00k").await;
    assert_page_names(&r, "token", "set-password page token");
    let r = anon
        .post("/api/token/refresh", json!({"refresh": "a\u{0}b"}))
        .await;
    assert_names(&r, "refresh", "refresh token");

    // Credentials in headers: a control character is a malformed credential, not a look-up.
    let r = anon
        .with_auth("Token ab\tcd")
        .get("/api/current-user")
        .await;
    assert_eq!(r.status, 401, "tab in a legacy key: {}", r.text);
    let r = anon
        .with_auth("Bearer ab\tcd")
        .get("/api/current-user")
        .await;
    assert_eq!(r.status, 401, "tab in an access token: {}", r.text);

    // REST bodies, as the Owner.
    let cases: Vec<(&str, reqwest::Method, String, serde_json::Value)> = vec![
        (
            "title",
            reqwest::Method::POST,
            "/api/projects".into(),
            json!({"title": "P\u{0}"}),
        ),
        (
            "title",
            reqwest::Method::POST,
            "/api/projects".into(),
            json!({"title": "P\tQ"}),
        ),
        (
            "description",
            reqwest::Method::POST,
            "/api/projects".into(),
            json!({"title": "P", "description": "a\n\u{0}"}),
        ),
        (
            "title",
            reqwest::Method::PATCH,
            format!("/api/organizations/{o}"),
            json!({"title": "O\u{0}"}),
        ),
        (
            "title",
            reqwest::Method::PATCH,
            format!("/api/organizations/{o}"),
            json!({"title": "O\nrg"}),
        ),
        (
            "contact_info",
            reqwest::Method::PATCH,
            format!("/api/organizations/{o}"),
            json!({"contact_info": "c\u{0}"}),
        ),
        (
            "default_role",
            reqwest::Method::PATCH,
            format!("/api/organizations/{o}/set-default-role"),
            json!({"default_role": "AN\u{0}"}),
        ),
        (
            "role",
            reqwest::Method::PATCH,
            format!("/api/organizations/{o}/memberships"),
            json!({"user_id": member.id.0, "role": "RE\u{0}"}),
        ),
        (
            "role",
            reqwest::Method::POST,
            format!("/api/organizations/{o}/memberships"),
            json!({"user_id": member.id.0, "role": "RE\t"}),
        ),
        (
            "emails[1]",
            reqwest::Method::POST,
            "/api/invite/send-email".into(),
            json!({"emails": ["ok@x.test", "b\u{0}@x.test"], "role": "AN"}),
        ),
        (
            "email",
            reqwest::Method::POST,
            "/api/invite/revoke".into(),
            json!({"email": "r\u{0}@x.test"}),
        ),
        (
            "username",
            reqwest::Method::PATCH,
            "/api/current-user".into(),
            json!({"username": "me\tyou"}),
        ),
        (
            "first_name",
            reqwest::Method::PATCH,
            "/api/current-user".into(),
            json!({"first_name": "F\u{0}"}),
        ),
        (
            "phone",
            reqwest::Method::PATCH,
            "/api/current-user".into(),
            json!({"phone": "1\n2"}),
        ),
        (
            "last_name",
            reqwest::Method::PATCH,
            format!("/api/users/{}", member.id.0),
            json!({"last_name": "L\u{0}"}),
        ),
        (
            "role",
            reqwest::Method::POST,
            "/api/projects/roles".into(),
            json!({"project": project_id, "user": member.id.0, "role": "AN\u{0}"}),
        ),
        (
            "result",
            reqwest::Method::POST,
            format!("/api/projects/{project_id}/annotations"),
            json!({"result": "a\u{0}"}),
        ),
        (
            "result[0].value",
            reqwest::Method::POST,
            format!("/api/projects/{project_id}/annotations"),
            json!({"result": [{"value": "x\u{0}"}]}),
        ),
        (
            "refresh",
            reqwest::Method::POST,
            "/api/token/blacklist".into(),
            json!({"refresh": "a\u{0}b"}),
        ),
        (
            "refresh",
            reqwest::Method::POST,
            "/api/token/rotate".into(),
            json!({"refresh": "a\tb"}),
        ),
    ];
    for (field, method, path, body) in cases {
        let r = owner.send_json(method.clone(), &path, body.clone()).await;
        assert_names(&r, field, &format!("{method} {path} {body}"));
    }

    // A forged, unsigned token whose jti holds NUL: no such token, not a database error.
    let r = owner
        .post("/api/token/blacklist", json!({"refresh": NUL_JTI_TOKEN}))
        .await;
    assert_eq!(r.status, 404, "NUL in a token's jti: {}", r.text);

    // Query parameters and path parameters.
    for (field, path) in [
        (
            "search",
            format!("/api/organizations/{o}/memberships?search=%00"),
        ),
        (
            "search",
            format!("/api/organizations/{o}/memberships?search=abc%00def"),
        ),
        (
            "search",
            format!("/api/organizations/{o}/memberships?search=a%09b"),
        ),
        (
            "role",
            format!("/api/organizations/{o}/memberships?role=AN%00"),
        ),
        ("action", "/api/audit-events?action=x%00".to_string()),
        ("project", "/api/projects/roles?project=1%00".to_string()),
        ("id", "/api/projects/1%00".to_string()),
    ] {
        let r = owner.get(&path).await;
        assert_names(&r, field, &path);
    }

    // Pages and their forms answer with a page.
    for path in [
        "/organization?search=abc%00def",
        "/organization?search=%00",
        "/organization?search=a%0Ab",
    ] {
        let r = browser.get(path).await;
        assert_page_names(&r, "search", path);
    }
    let r = browser.get("/user/login?next=%2F%00").await;
    assert_page_names(&r, "next", "login page, next with NUL");
    let csrf = browser.csrf.clone().unwrap();
    let r = browser
        .post_form(
            "/organization/invites",
            &[
                ("csrf_token", &csrf),
                ("emails", "a\u{0}@x.test"),
                ("role", "AN"),
            ],
        )
        .await;
    assert_page_names(&r, "emails", "invite form with NUL");
    let r = browser
        .post_form(
            &format!("/organization/members/{}/role", member.id.0),
            &[("csrf_token", &csrf), ("role", "RE\t")],
        )
        .await;
    assert_page_names(&r, "role", "role form with a tab");

    assert_eq!(
        server.snapshot().await,
        before,
        "refused input changed nothing"
    );
}

#[tokio::test]
async fn multi_line_fields_keep_newlines_and_tabs() {
    let server = TestServer::start().await;
    let org = server.org("Lines").await;
    let owner = org.owner_api();
    let p = owner
        .post(
            "/api/projects",
            json!({"title": "Lines", "description": "first line\n\tsecond"}),
        )
        .await
        .expect(201);
    assert_eq!(p.body["description"], "first line\n\tsecond");
    let id = p.body["id"].as_i64().unwrap();
    owner
        .patch(
            &format!("/api/organizations/{}", org.id.0),
            json!({"contact_info": "Desk\n\tRoom 2"}),
        )
        .await
        .expect(200);
    let a = owner
        .post(
            &format!("/api/projects/{id}/annotations"),
            json!({"result": [{"value": {"text": ["one\ntwo\tthree"]}}]}),
        )
        .await
        .expect(201);
    assert_eq!(a.body["result"][0]["value"]["text"][0], "one\ntwo\tthree");
    // An invite form's text area holds one email per line.
    let mut browser = server.browser();
    browser
        .sign_in(&org.owner.email, PASSWORD)
        .await
        .expect(200);
    let csrf = browser.csrf.clone().unwrap();
    let r = browser
        .post_form(
            "/organization/invites",
            &[
                ("csrf_token", &csrf),
                ("emails", "a@x.test\r\nb@x.test"),
                ("role", "AN"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let invites = owner.get("/api/invites").await.expect(200);
    assert!(invites.text.contains("a@x.test") && invites.text.contains("b@x.test"));
}
