//! Bad input gets a clear 4xx in the one error shape (`{detail, status_code}`, plus
//! `validation_errors` for 400s), never a 500 or a 422, and writes nothing.

use roster_domain::Role;
use roster_tests::{json, Api, OrgFixture, Person, Resp, TestServer};

/// Asserts the status and the error shape: a JSON object with a non-empty `detail` and the
/// same `status_code`.
#[track_caller]
fn assert_error(r: &Resp, status: u16, what: &str) {
    assert_eq!(
        r.status, status,
        "{what}: unexpected status; body: {}",
        r.text
    );
    assert!(
        r.body.is_object(),
        "{what}: the error body is a JSON object: {:?}",
        r.text
    );
    let detail = r.body["detail"]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: no detail: {}", r.text));
    assert!(!detail.trim().is_empty(), "{what}: empty detail");
    assert_eq!(r.body["status_code"], status, "{what}: {}", r.text);
    let ct = r
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(
        ct.starts_with("application/json"),
        "{what}: content type {ct}"
    );
}

/// Asserts a 400 whose `validation_errors` names `field` with at least one message.
#[track_caller]
fn assert_invalid(r: &Resp, field: &str, what: &str) {
    assert_error(r, 400, what);
    let msgs = r.body["validation_errors"][field]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: validation_errors.{field} missing: {}", r.text));
    assert!(!msgs.is_empty(), "{what}: no message for {field}");
    assert!(
        msgs.iter()
            .all(|m| m.as_str().is_some_and(|s| !s.trim().is_empty())),
        "{what}: {}",
        r.text
    );
}

struct Setup {
    server: TestServer,
    org: OrgFixture,
    member: Person,
    owner: Api,
}

async fn setup() -> Setup {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let member = org.member(Role::Annotator).await;
    let owner = org.owner_api();
    Setup {
        server,
        org,
        member,
        owner,
    }
}

impl Setup {
    async fn raw(
        &self,
        method: &str,
        path: &str,
        content_type: &str,
        body: impl Into<Vec<u8>>,
    ) -> Resp {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        self.owner
            .send(method, path, Some((content_type, body.into())), &[])
            .await
    }
}

#[tokio::test]
async fn malformed_json_is_400_and_writes_nothing() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let members = s.org.path("/memberships");
    for (method, path, body) in [
        ("PATCH", members.as_str(), r#"{"user_id": 5, "role": "#),
        ("POST", members.as_str(), r#"{"user_id": 5 "role": "AN"}"#),
        ("PATCH", members.as_str(), "{'user_id': 5}"),
        ("POST", "/api/projects/", r#"{"title": "x",}"#),
        ("PATCH", "/api/current-user", "not json at all"),
        ("POST", "/api/token/refresh/", r#"{"refresh": "#),
        ("POST", "/user/login", "{"),
        (
            "PATCH",
            s.org.path("").as_str(),
            "\u{feff}{\"title\": \"x\"}",
        ),
    ] {
        let r = s.raw(method, path, "application/json", body).await;
        let what = format!("{method} {path} {body:?}");
        assert_error(&r, 400, &what);
        assert!(
            r.body["detail"].as_str().unwrap().contains("JSON"),
            "{what}: {}",
            r.text
        );
    }
    // Valid JSON of the wrong shape.
    for body in ["[1, 2]", "\"AN\"", "42", "null"] {
        let r = s.raw("PATCH", &members, "application/json", body).await;
        assert_error(&r, 400, body);
        assert!(
            r.body["validation_errors"].is_object(),
            "{body}: {}",
            r.text
        );
    }
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn unknown_fields_are_400_naming_the_field_and_write_nothing() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let id = s.member.id.0;
    let cases = [
        (
            "PATCH",
            s.org.path("/memberships"),
            json!({"user_id": id, "role": "MA", "colour": "red"}),
            "colour",
        ),
        (
            "PATCH",
            "/api/current-user".to_string(),
            json!({"first_name": "Eve", "is_superuser": true}),
            "is_superuser",
        ),
        (
            "PATCH",
            s.org.path(""),
            json!({"title": "New", "owner": id}),
            "owner",
        ),
        (
            "POST",
            "/api/projects/".to_string(),
            json!({"title": "P", "organization": 99}),
            "organization",
        ),
        (
            "POST",
            "/api/jwt/settings".to_string(),
            json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": false, "api_token_ttl_days": 1, "x_extra": 1}),
            "x_extra",
        ),
        (
            "POST",
            "/user/login".to_string(),
            json!({"email": s.org.owner.email, "password": "x", "remember_me": true}),
            "remember_me",
        ),
    ];
    for (method, path, body, unknown) in cases {
        let r = s
            .raw(method, &path, "application/json", body.to_string())
            .await;
        let what = format!("{method} {path} {body}");
        assert_invalid(&r, unknown, &what);
        assert!(
            r.body["detail"].as_str().unwrap().contains(unknown),
            "{what}: the error names `{unknown}`: {}",
            r.text
        );
    }
    assert_eq!(s.server.snapshot().await, before);
    // Nothing was applied: the member is still an Annotator.
    let m = s
        .owner
        .get(&s.org.path(&format!("/memberships/{id}")))
        .await
        .expect(200);
    assert_eq!(m.body["role"], "AN");
}

#[tokio::test]
async fn wrong_types_are_400_naming_the_field_and_write_nothing() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let id = s.member.id.0;
    let members = s.org.path("/memberships");
    let cases = [
        (
            members.clone(),
            json!({"user_id": id.to_string(), "role": "MA"}),
            "user_id",
        ),
        (
            members.clone(),
            json!({"user_id": 1.5, "role": "MA"}),
            "user_id",
        ),
        (
            members.clone(),
            json!({"user_id": 1e30, "role": "MA"}),
            "user_id",
        ),
        (members.clone(), json!({"user_id": id, "role": 3}), "role"),
        (
            members.clone(),
            json!({"user_id": id, "role": ["MA"]}),
            "role",
        ),
        (s.org.path(""), json!({"seat_limit": "ten"}), "seat_limit"),
        (
            s.org.path(""),
            json!({"manual_role_management": "yes"}),
            "manual_role_management",
        ),
        (s.org.path(""), json!({"title": 7}), "title"),
        (
            "/api/current-user".to_string(),
            json!({"active_organization": "first"}),
            "active_organization",
        ),
    ];
    for (path, body, field) in cases {
        let r = s.owner.patch(&path, body.clone()).await;
        assert_invalid(&r, field, &format!("PATCH {path} {body}"));
    }
    let r = s
        .owner
        .post("/api/projects/", json!({"title": {"en": "P"}}))
        .await;
    assert_invalid(&r, "title", "project title as an object");
    let r = s
        .server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": 12}))
        .await;
    assert_invalid(&r, "refresh", "refresh as a number");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn missing_required_fields_are_400_naming_the_field() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let members = s.org.path("/memberships");
    let r = s
        .owner
        .patch(&members, json!({"user_id": s.member.id.0}))
        .await;
    assert_invalid(&r, "role", "assign without role");
    let r = s.owner.patch(&members, json!({"role": "MA"})).await;
    assert_invalid(&r, "user_id", "assign without user_id");
    let r = s
        .owner
        .post("/api/projects/", json!({"description": "d"}))
        .await;
    assert_invalid(&r, "title", "project without title");
    let r = s
        .server
        .anonymous()
        .post("/api/token/refresh/", json!({}))
        .await;
    assert_invalid(&r, "refresh", "refresh without refresh");
    let r = s
        .server
        .anonymous()
        .post("/user/login", json!({"email": s.org.owner.email}))
        .await;
    assert_invalid(&r, "password", "login without password");
    let r = s
        .server
        .anonymous()
        .post_form("/user/login", &[("password", "x")])
        .await;
    // A browser's form gets a page that names the field, not JSON.
    assert_eq!(r.status, 400, "form login without email: {}", r.text);
    assert!(
        r.text.starts_with("<!doctype html>") && r.text.contains("email: This field is required."),
        "form login without email: {}",
        r.text
    );
    let r = s
        .owner
        .send(
            reqwest::Method::PATCH,
            &members,
            None,
            &[("Content-Type", "application/json")],
        )
        .await;
    assert_error(&r, 400, "assign with an empty body");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn wrong_content_type_is_400_and_writes_nothing() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let body = json!({"user_id": s.member.id.0, "role": "MA"}).to_string();
    for ct in [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ] {
        let r = s
            .raw("PATCH", &s.org.path("/memberships"), ct, body.clone())
            .await;
        assert_error(&r, 400, ct);
        assert!(
            r.body["detail"].as_str().unwrap().contains("JSON"),
            "{ct}: {}",
            r.text
        );
    }
    let r = s
        .raw(
            "POST",
            "/api/projects/",
            "text/plain",
            json!({"title": "P"}).to_string(),
        )
        .await;
    assert_error(&r, 400, "project as text/plain");
    let r = s
        .raw(
            "POST",
            "/user/login",
            "text/plain",
            json!({"email": s.org.owner.email, "password": "x"}).to_string(),
        )
        .await;
    assert_error(&r, 400, "login as text/plain");
    // No content type at all.
    let r = s
        .owner
        .send(reqwest::Method::POST, "/api/projects/", None, &[])
        .await;
    assert_error(&r, 400, "project without a content type");
    // The JSON content type with parameters is fine.
    let r = s
        .raw(
            "POST",
            "/api/projects/",
            "application/json; charset=utf-8",
            json!({"title": "P"}).to_string(),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let after = s.server.snapshot().await;
    let changed: Vec<&str> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.split(':').next().unwrap())
        .collect();
    assert!(changed.contains(&"projects"), "{changed:?}");
    assert!(
        changed
            .iter()
            .all(|t| ["projects", "project_members", "audit_events"].contains(t)),
        "only the valid request wrote: {changed:?}"
    );
}

#[tokio::test]
async fn a_body_over_one_mebibyte_is_413_and_writes_nothing() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let big = format!("{{\"title\": \"{}\"}}", "a".repeat(1024 * 1024 + 16));
    for (method, path) in [
        ("POST", "/api/projects/".to_string()),
        ("PATCH", s.org.path("")),
        ("PATCH", "/api/current-user".to_string()),
    ] {
        let r = s.raw(method, &path, "application/json", big.clone()).await;
        assert_error(&r, 413, &format!("{method} {path}"));
    }
    let login = format!(
        "{{\"email\": \"a@example.com\", \"password\": \"{}\"}}",
        "p".repeat(1024 * 1024 + 16)
    );
    let r = s
        .server
        .anonymous()
        .send(
            reqwest::Method::POST,
            "/user/login",
            Some(("application/json", login.into_bytes())),
            &[],
        )
        .await;
    assert_error(&r, 413, "login");
    // Just under the limit is read, and refused for what it says, not for its size.
    let under = format!("{{\"first_name\": \"{}\"}}", "a".repeat(1024 * 1024 - 64));
    let r = s
        .raw("PATCH", "/api/current-user", "application/json", under)
        .await;
    assert_invalid(&r, "first_name", "a long name just under the body limit");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405_in_the_error_shape() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    for path in [
        "/api/nope",
        "/api/organizations/1/nope",
        "/nope",
        "/api/current-user/whoami/extra",
        "/api/token/refresh/more",
    ] {
        let r = s.owner.get(path).await;
        assert_error(&r, 404, path);
    }
    let r = s.owner.post("/api/nothing", json!({})).await;
    assert_error(&r, 404, "POST /api/nothing");
    let members = s.org.path("/memberships");
    let r = s
        .owner
        .send(
            reqwest::Method::PUT,
            &members,
            Some((
                "application/json",
                json!({"user_id": s.member.id.0, "role": "MA"})
                    .to_string()
                    .into_bytes(),
            )),
            &[],
        )
        .await;
    assert_error(&r, 405, "PUT memberships");
    let r = s.owner.delete(&members).await;
    assert_error(&r, 405, "DELETE memberships");
    let r = s.owner.delete(&s.org.path("")).await;
    assert_error(&r, 405, "DELETE organization");
    let r = s.owner.get("/api/token/refresh/").await;
    assert_error(&r, 405, "GET refresh");
    let r = s
        .owner
        .send(
            reqwest::Method::PUT,
            "/api/current-user",
            Some(("application/json", b"{}".to_vec())),
            &[],
        )
        .await;
    assert_error(&r, 405, "PUT current-user");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn invalid_role_codes_are_400_with_validation_errors_role() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let members = s.org.path("/memberships");
    for code in ["XX", "", "Owner", "AN,MA", "A N"] {
        let r = s
            .owner
            .patch(&members, json!({"user_id": s.member.id.0, "role": code}))
            .await;
        assert_invalid(&r, "role", &format!("role {code:?}"));
    }
    let r = s.owner.get(&format!("{members}?role=AN,ZZ")).await;
    assert_invalid(&r, "role", "role filter");
    let r = s
        .owner
        .patch(
            &s.org.path("/set-default-role"),
            json!({"default_role": "QQ"}),
        )
        .await;
    assert_invalid(&r, "default_role", "default role code");
    let r = s
        .owner
        .patch(
            &s.org.path("/set-default-role"),
            json!({"default_role": "AD"}),
        )
        .await;
    assert_invalid(&r, "default_role", "default role that manages others");
    let r = s
        .owner
        .patch(&s.org.path(""), json!({"default_role": "nope"}))
        .await;
    assert_invalid(&r, "default_role", "default role through the organization");
    let r = s
        .owner
        .patch(
            &members,
            json!({"user_id": s.member.id.0, "role": "AN", "user_type": "admin"}),
        )
        .await;
    assert_invalid(&r, "user_type", "user_type");
    assert_eq!(s.server.snapshot().await, before);
    let m = s
        .owner
        .get(&s.org.path(&format!("/memberships/{}", s.member.id.0)))
        .await
        .expect(200);
    assert_eq!(m.body["role"], "AN");
}

#[tokio::test]
async fn bad_query_parameters_are_400_naming_the_parameter() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let members = s.org.path("/memberships");
    for (query, field) in [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=1.5", "page"),
        ("page=", "page"),
        ("page_size=", "page_size"),
        ("page_size=abc", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=-2", "page_size"),
        ("ordering=bogus", "ordering"),
        ("ordering=-password", "ordering"),
        ("ordering=user__email;DROP", "ordering"),
        ("is_deleted=maybe", "is_deleted"),
        ("is_deleted=", "is_deleted"),
    ] {
        let r = s.owner.get(&format!("{members}?{query}")).await;
        assert_invalid(&r, field, &format!("memberships?{query}"));
    }
    assert_invalid(
        &s.owner.get("/api/users/?page=0").await,
        "page",
        "users?page=0",
    );
    assert_invalid(
        &s.owner.get("/api/users/?page_size=abc").await,
        "page_size",
        "users?page_size=abc",
    );
    assert_invalid(
        &s.owner.get("/api/projects/?page=abc").await,
        "page",
        "projects?page=abc",
    );
    assert_invalid(
        &s.owner.get("/api/audit-events/?page=0").await,
        "page",
        "audit-events?page=0",
    );
    for field in ["actor", "target"] {
        for value in ["", "x"] {
            let query = format!("audit-events?{field}={value}");
            assert_invalid(&s.owner.get(&format!("/api/{query}")).await, field, &query);
        }
    }
    // Valid edge values are fine: clamped sizes, a page past the end.
    let r = s
        .owner
        .get(&format!("{members}?page_size=-1"))
        .await
        .expect(200);
    assert_eq!(r.body["count"], 2);
    let r = s
        .owner
        .get(&format!("{members}?page_size=100000&page=7"))
        .await
        .expect(200);
    assert_eq!(r.body["results"], json!([]));
    // Numbers too large for 64 bits are still just "past the end" and "larger than 1000".
    for huge in ["9223372036854775807", "99999999999999999999999"] {
        let r = s
            .owner
            .get(&format!("{members}?page={huge}"))
            .await
            .expect(200);
        assert_eq!(r.body["results"], json!([]), "page={huge}");
        assert_eq!(r.body["count"], 2);
        assert_eq!(r.body["next"], serde_json::Value::Null);
        let r = s
            .owner
            .get(&format!("{members}?page_size={huge}"))
            .await
            .expect(200);
        assert_eq!(
            r.body["results"].as_array().unwrap().len(),
            2,
            "page_size={huge}"
        );
        for path in ["/api/projects/", "/api/audit-events/", "/api/invites/"] {
            let r = s
                .owner
                .get(&format!("{path}?page={huge}&page_size={huge}"))
                .await
                .expect(200);
            assert_eq!(r.body["results"], json!([]), "{path}?page={huge}");
        }
        let r = s
            .owner
            .get(&format!("/api/users/?page={huge}"))
            .await
            .expect(200);
        assert_eq!(r.body, json!([]), "users?page={huge}");
    }
    assert_invalid(
        &s.owner
            .get(&format!("{members}?page_size=-99999999999999999999999"))
            .await,
        "page_size",
        "hugely negative size",
    );
    let r = s
        .owner
        .get(&format!("{members}?ordering=-user__email&unknown=1"))
        .await
        .expect(200);
    assert_eq!(r.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn huge_negative_and_non_numeric_ids_in_paths_are_404() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let org = s.org.id.0;
    let paths = [
        "/api/organizations/99999999999999999999999".to_string(),
        "/api/organizations/9223372036854775807".to_string(),
        "/api/organizations/-1".to_string(),
        "/api/organizations/abc".to_string(),
        "/api/organizations/123456/memberships".to_string(),
        format!("/api/organizations/{org}/memberships/99999999999999999999/"),
        format!("/api/organizations/{org}/memberships/-3/"),
        format!("/api/organizations/{org}/memberships/0/"),
        format!("/api/organizations/{org}/memberships/abc/"),
        format!("/api/organizations/{org}/memberships/987654321/"),
        "/api/users/-1/".to_string(),
        "/api/users/99999999999999999999999/".to_string(),
        "/api/projects/99999999999999999999999/".to_string(),
        "/api/projects/-7/".to_string(),
        "/api/projects/424242/".to_string(),
    ];
    for path in &paths {
        let r = s.owner.get(path).await;
        assert_error(&r, 404, path);
    }
    for path in [
        format!("/api/organizations/{org}/memberships/-3/"),
        format!("/api/organizations/{org}/memberships/99999999999999999999/"),
        "/api/organizations/-1/memberships/5/".to_string(),
    ] {
        let r = s.owner.delete(&path).await;
        assert_error(&r, 404, &format!("DELETE {path}"));
    }
    for user_id in [-1i64, 0, 987654321, i64::MAX] {
        let r = s
            .owner
            .patch(
                &s.org.path("/memberships"),
                json!({"user_id": user_id, "role": "AN"}),
            )
            .await;
        assert_error(&r, 404, &format!("assign user_id {user_id}"));
    }
    let r = s
        .owner
        .patch("/api/organizations/-5", json!({"title": "x"}))
        .await;
    assert_error(&r, 404, "PATCH org -5");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn garbage_authorization_headers_are_401() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let http = reqwest::Client::new();
    let raw: Vec<(&str, Vec<u8>)> = vec![
        ("authorization", b"Token \xff\xfe\xfd".to_vec()),
        ("authorization", b"Bearer \xc3\x28".to_vec()),
        ("authorization", b"\xff".to_vec()),
        ("x-api-key", b"\xfe\xff".to_vec()),
    ];
    for (name, value) in raw {
        let value = reqwest::header::HeaderValue::from_bytes(&value)
            .expect("obs-text is a valid header value");
        let res = http
            .get(format!("{}/api/current-user/whoami", s.server.url))
            .header(name, value)
            .send()
            .await
            .expect("sent");
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        assert_eq!(status, 401, "{name}: {body}");
        assert_eq!(body["status_code"], 401, "{name}: {body}");
        assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    }
    let garbage = [
        "Token".to_string(),
        "Token ".to_string(),
        "Bearer".to_string(),
        "Basic dXNlcjpwYXNzd29yZA==".to_string(),
        "Token not-a-key".to_string(),
        format!("Token {}", "g".repeat(40)),
        format!("Token {}x", s.org.owner.key),
        "Bearer a.b".to_string(),
        "Bearer ..".to_string(),
        format!("Bearer {}", "x".repeat(10_000)),
    ];
    for header in &garbage {
        let api = s.server.anonymous().with_auth(header);
        let r = api.get("/api/current-user/whoami").await;
        assert_error(&r, 401, &format!("Authorization: {header:.40}"));
        let r = api.get(&s.org.path("")).await;
        assert_error(&r, 401, &format!("org with Authorization: {header:.40}"));
        let r = api
            .patch("/api/current-user", json!({"first_name": "Eve"}))
            .await;
        assert_error(&r, 401, &format!("change with Authorization: {header:.40}"));
    }
    let r = s
        .server
        .anonymous()
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("Cookie", "roster_session=garbage")],
        )
        .await;
    assert_error(&r, 401, "garbage session cookie");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn validation_text_fields_refuse_control_characters_and_overlong_values() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let r = s
        .owner
        .patch("/api/current-user", json!({"first_name": "Ann\u{0}ie"}))
        .await;
    assert_invalid(&r, "first_name", "NUL in first name");
    let r = s
        .owner
        .patch("/api/current-user", json!({"last_name": "x".repeat(151)}))
        .await;
    assert_invalid(&r, "last_name", "151-character last name");
    let r = s
        .owner
        .get(&format!(
            "{}?search={}",
            s.org.path("/memberships"),
            "s".repeat(201)
        ))
        .await;
    assert_invalid(&r, "search", "overlong search");
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn paths_work_with_and_without_a_trailing_slash() {
    let s = setup().await;
    let org_path = s.org.path("");
    for path in [
        "/api/organizations",
        "/api/current-user/whoami",
        "/api/current-user/token",
        org_path.as_str(),
        &s.org.path("/memberships"),
        "/api/users",
        "/api/jwt/settings",
        "/api/health",
    ] {
        let without = s.owner.get(path).await;
        assert_eq!(without.status, 200, "{path}: {}", without.text);
        let with = s.owner.get(&format!("{path}/")).await;
        assert_eq!(with.status, 200, "{path}/: {}", with.text);
        if path != "/api/current-user/whoami" {
            assert_eq!(with.body, without.body, "{path}: same answer either way");
        }
    }
    // Changes too.
    let m = s.org.path("/memberships");
    let r = s
        .owner
        .patch(&m, json!({"user_id": s.member.id.0, "role": "RE"}))
        .await
        .expect(200);
    assert_eq!(r.body["role"], "RE");
    let r = s
        .owner
        .patch(
            &format!("{m}/"),
            json!({"user_id": s.member.id.0, "role": "MA"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "MA");
    let a = s
        .owner
        .post_empty("/api/current-user/reset-token")
        .await
        .expect(201);
    let key = a.body["token"].as_str().unwrap().to_string();
    let b = s
        .server
        .with_key(&key)
        .post_empty("/api/current-user/reset-token/")
        .await
        .expect(201);
    assert_ne!(a.body["token"], b.body["token"]);
    let api = s.server.with_key(b.body["token"].as_str().unwrap());
    let t = api.post_empty("/api/token").await.expect(201).body["token"]
        .as_str()
        .unwrap()
        .to_string();
    api.post("/api/token/refresh", json!({"refresh": t}))
        .await
        .expect(200);
    api.post("/api/token/refresh/", json!({"refresh": t}))
        .await
        .expect(200);
    let del = api.delete(&format!("{m}/{}", s.member.id.0)).await;
    assert_eq!(del.status, 204, "{}", del.text);
}

#[tokio::test]
async fn organization_id_zero_means_my_only_organization_and_is_400_naming_the_choices_otherwise() {
    let s = setup().await;
    let r = s
        .org
        .api(&s.member)
        .get("/api/organizations/0")
        .await
        .expect(200);
    assert_eq!(r.body["id"], s.org.id.0);
    let other = s.server.org("Other").await;
    other.add_existing(&s.member, Role::Annotator).await;
    let before = s.server.snapshot().await;
    let r = s.org.api(&s.member).get("/api/organizations/0").await;
    assert_invalid(&r, "id", "id 0 with two organizations");
    let msg = r.body["validation_errors"]["id"][0].as_str().unwrap();
    assert!(
        msg.contains(&s.org.id.0.to_string()) && msg.contains(&other.id.0.to_string()),
        "{msg}"
    );
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn percent_encoded_garbage_in_paths_and_queries_gets_the_error_shape() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    let org = s.org.id.0;
    for path in [
        "/api/organizations/%FF".to_string(),
        format!("/api/organizations/{org}/memberships/%FF/"),
        format!("/api/organizations/{org}/memberships/%C3%28"),
        "/api/users/%FF/".to_string(),
        "/api/projects/%FF/".to_string(),
        "/api/projects/%FF/annotations/".to_string(),
    ] {
        let r = s.owner.get(&path).await;
        assert_error(&r, 404, &path);
    }
    for (query, field) in [
        ("page=%FF", "page"),
        ("role=%00", "role"),
        ("ordering=%FF", "ordering"),
    ] {
        let r = s
            .owner
            .get(&format!("{}?{query}", s.org.path("/memberships")))
            .await;
        assert_invalid(&r, field, query);
    }
    assert_eq!(s.server.snapshot().await, before);
}

/// Found by schemathesis: serde reads a struct from a JSON array too, so `[]` passed for an
/// empty object (an empty patch, a logout) although every body is documented as an object.
#[tokio::test]
async fn a_json_body_that_is_not_an_object_is_400() {
    let s = setup().await;
    let before = s.server.snapshot().await;
    for (method, path) in [
        (reqwest::Method::PATCH, s.org.path("")),
        (reqwest::Method::PATCH, "/api/current-user".to_string()),
        (reqwest::Method::POST, "/api/projects/".to_string()),
        (reqwest::Method::POST, "/user/logout".to_string()),
    ] {
        for body in ["[]", "[\"x\"]", "true", "1"] {
            let r = s
                .owner
                .send(
                    method.clone(),
                    &path,
                    Some(("application/json", body.as_bytes().to_vec())),
                    &[],
                )
                .await;
            assert_eq!(r.status, 400, "{method} {path} {body}: {}", r.text);
        }
    }
    assert_eq!(s.server.snapshot().await, before);
}
