//! API credentials: the legacy key, personal access tokens (JWT refresh and access tokens),
//! the per-organization token settings, and what deactivation and deletion do to every
//! kind of credential a member holds.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, Api, OrgFixture, Person, TestServer, PASSWORD};
use serde_json::Value;

/// Decodes base64url (with or without padding), as JWT segments are encoded.
fn base64url_decode(s: &str) -> Vec<u8> {
    fn val(c: u8) -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => panic!("not base64url: {c}"),
        }
    }
    let bytes: Vec<u8> = s.bytes().filter(|b| *b != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            acc |= val(*c) << (18 - 6 * i);
        }
        let n = chunk.len() * 6 / 8;
        for i in 0..n {
            out.push((acc >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// The claims of a JWT (or of its unsigned `header.payload` form).
fn claims(token: &str) -> Value {
    let payload = token
        .split('.')
        .nth(1)
        .unwrap_or_else(|| panic!("not a JWT: {token}"));
    serde_json::from_slice(&base64url_decode(payload)).expect("payload is JSON")
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn bearer(server: &TestServer, access: &str) -> Api {
    server.anonymous().with_auth(&format!("Bearer {access}"))
}

#[tokio::test]
async fn legacy_key_is_readable_by_its_owner_as_token_and_detail() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = org
        .owner_api()
        .get("/api/current-user/token")
        .await
        .expect(200);
    assert_eq!(r.body["token"], org.owner.key.as_str());
    assert_eq!(r.body["detail"], org.owner.key.as_str());
    assert_eq!(org.owner.key.len(), 40);
    assert!(org.owner.key.chars().all(|c| c.is_ascii_hexdigit()));
    let me = org
        .owner_api()
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert_eq!(me.body["id"], org.owner.id.0);
}

#[tokio::test]
async fn legacy_key_scheme_is_case_insensitive_and_an_unknown_key_is_401() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let r = server
        .anonymous()
        .with_auth(&format!("token {}", org.owner.key))
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert_eq!(r.body["id"], org.owner.id.0);
    let other = "0123456789abcdef0123456789abcdef01234567";
    assert_ne!(other, org.owner.key);
    let r = server
        .with_key(other)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    assert_eq!(r.body["status_code"], 401);
    server
        .with_key(&org.owner.key[..39])
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    server
        .anonymous()
        .get("/api/current-user/whoami")
        .await
        .expect(401);
}

#[tokio::test]
async fn resetting_the_legacy_key_retires_the_old_one_at_once() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let old = org.owner.key.clone();
    let r = org
        .owner_api()
        .post_empty("/api/current-user/reset-token/")
        .await
        .expect(201);
    let new = r.body["token"].as_str().expect("token").to_string();
    assert_eq!(r.body["detail"], new.as_str());
    assert_ne!(new, old);
    assert_eq!(new.len(), 40);
    assert!(new.chars().all(|c| c.is_ascii_hexdigit()));
    server
        .with_key(&old)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    let me = server
        .with_key(&new)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert_eq!(me.body["id"], org.owner.id.0);
    let r = server
        .with_key(&new)
        .get("/api/current-user/token")
        .await
        .expect(200);
    assert_eq!(r.body["token"], new.as_str());
}

#[tokio::test]
async fn legacy_key_is_not_stored_in_plain_text() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let snapshot = server.snapshot().await;
    assert!(
        !snapshot.contains(&org.owner.key),
        "the key itself must not be in the database"
    );
    let rows: Vec<String> = server
        .sql_rows("SELECT key_hash || '|' || key_sealed FROM legacy_keys", 1)
        .await
        .into_iter()
        .map(|r| r[0].text().unwrap().to_owned())
        .collect();
    assert_eq!(rows.len(), 1);
    assert!(
        !rows[0].to_lowercase().contains(&org.owner.key),
        "{}",
        rows[0]
    );
}

#[tokio::test]
async fn creating_a_personal_access_token_returns_a_refresh_jwt_with_its_claims() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let r = api.post_empty("/api/token/").await.expect(201);
    let token = r.body["token"].as_str().expect("token").to_string();
    assert_eq!(token.split('.').count(), 3, "a whole JWT: {token}");
    let header: Value =
        serde_json::from_slice(&base64url_decode(token.split('.').next().unwrap())).unwrap();
    assert_eq!(header["alg"], "HS256");
    let c = claims(&token);
    assert_eq!(c["token_type"], "refresh");
    assert_eq!(c["user_id"], org.owner.id.0);
    assert!(c["jti"].as_str().is_some_and(|j| !j.is_empty()), "{c}");
    let exp = c["exp"].as_i64().expect("exp");
    let year = 365 * 24 * 3600;
    assert!(
        (exp - (now_secs() + year)).abs() < 120,
        "exp {exp} is a year (the default lifetime) from now"
    );
    assert!(r.body["created_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert!(r.body["expires_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));

    // One valid token at a time.
    let dup = api.post_empty("/api/token/").await.expect(409);
    assert_eq!(dup.body["status_code"], 409);

    // The list shows it without its signature.
    let list = api.get("/api/token/").await.expect(200);
    let items = list.body.as_array().expect("a plain array");
    assert_eq!(items.len(), 1);
    let listed = items[0]["token"].as_str().unwrap();
    assert_eq!(listed.split('.').count(), 2, "no signature: {listed}");
    assert!(token.starts_with(&format!("{listed}.")));
    assert_eq!(claims(listed)["jti"], c["jti"]);
    assert_eq!(items[0]["expires_at"], r.body["expires_at"]);
}

#[tokio::test]
async fn personal_access_token_lifetime_comes_from_the_active_organization() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let r = api
        .post("/api/jwt/settings", json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 30}))
        .await
        .expect(200);
    assert_eq!(r.body["api_token_ttl_days"], 30);
    let token = api.post_empty("/api/token").await.expect(201).body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let exp = claims(&token)["exp"].as_i64().unwrap();
    assert!(
        (exp - (now_secs() + 30 * 24 * 3600)).abs() < 120,
        "exp {exp}"
    );
}

#[tokio::test]
async fn refresh_token_is_exchanged_for_an_access_token_that_works_as_bearer() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (refresh, access) = server.pat_and_access(&org.owner).await;
    assert_eq!(access.split('.').count(), 3);
    let c = claims(&access);
    assert_eq!(c["token_type"], "access");
    assert_eq!(c["user_id"], org.owner.id.0);
    let exp = c["exp"].as_i64().unwrap();
    assert!(
        (exp - (now_secs() + 300)).abs() < 60,
        "access tokens live 5 minutes: exp {exp}"
    );
    assert_ne!(c["jti"], claims(&refresh)["jti"]);

    let api = bearer(&server, &access);
    let me = api.get("/api/current-user/whoami").await.expect(200);
    assert_eq!(me.body["id"], org.owner.id.0);
    let o = api.get(&org.path("")).await.expect(200);
    assert_eq!(o.body["id"], org.id.0);
    let members = api.get(&org.path("/memberships")).await.expect(200);
    assert_eq!(members.body["count"], 1);
    api.get("/api/projects/").await.expect(200);
}

#[tokio::test]
async fn access_token_works_in_the_x_api_key_header() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (_, access) = server.pat_and_access(&org.owner).await;
    let r = server
        .anonymous()
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("X-API-Key", &access)],
        )
        .await
        .expect(200);
    assert_eq!(r.body["id"], org.owner.id.0);
    server
        .anonymous()
        .send(
            reqwest::Method::GET,
            "/api/current-user/whoami",
            None,
            &[("X-API-Key", "nonsense")],
        )
        .await
        .expect(401);
}

#[tokio::test]
async fn a_refresh_token_is_not_accepted_as_an_access_token_and_vice_versa() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (refresh, access) = server.pat_and_access(&org.owner).await;
    bearer(&server, &refresh)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    server
        .anonymous()
        .post("/api/token/refresh", json!({"refresh": access}))
        .await
        .expect(401);
}

#[tokio::test]
async fn garbage_bearer_tokens_are_401() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (_, access) = server.pat_and_access(&org.owner).await;
    let mut parts: Vec<String> = access.split('.').map(str::to_string).collect();
    // The same claims with a forged signature.
    parts[2] = "A".repeat(parts[2].len());
    let forged = parts.join(".");
    for bad in [
        "garbage",
        "a.b.c",
        "",
        "eyJhbGciOiJub25lIn0.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIn0.",
        forged.as_str(),
    ] {
        let r = bearer(&server, bad).get("/api/current-user/whoami").await;
        assert_eq!(r.status, 401, "Bearer {bad:?}: {}", r.text);
        assert_eq!(r.body["status_code"], 401);
    }
    let r = bearer(&server, "garbage")
        .get(&org.path(""))
        .await
        .expect(401);
    assert_eq!(r.body["status_code"], 401);
}

#[tokio::test]
async fn an_access_token_expires_after_five_minutes() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (refresh, access) = server.pat_and_access(&org.owner).await;
    let api = bearer(&server, &access);
    server.advance(Duration::from_secs(4 * 60));
    api.get("/api/current-user/whoami").await.expect(200);
    server.advance(Duration::from_secs(2 * 60));
    api.get("/api/current-user/whoami").await.expect(401);
    api.get(&org.path("")).await.expect(401);
    // The refresh token still gives a fresh one.
    let fresh = server
        .anonymous()
        .post("/api/token/refresh", json!({"refresh": refresh}))
        .await
        .expect(200);
    bearer(&server, fresh.body["access"].as_str().unwrap())
        .get("/api/current-user/whoami")
        .await
        .expect(200);
}

#[tokio::test]
async fn rotating_retires_the_old_refresh_token_and_its_access_tokens() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (old_refresh, old_access) = server.pat_and_access(&org.owner).await;
    bearer(&server, &old_access)
        .get("/api/current-user/whoami")
        .await
        .expect(200);

    let r = org
        .owner_api()
        .post("/api/token/rotate/", json!({"refresh": old_refresh}))
        .await
        .expect(200);
    let new_refresh = r.body["refresh"].as_str().expect("refresh").to_string();
    assert_ne!(new_refresh, old_refresh);
    assert_eq!(claims(&new_refresh)["token_type"], "refresh");
    assert_ne!(claims(&new_refresh)["jti"], claims(&old_refresh)["jti"]);

    let r = server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": old_refresh}))
        .await
        .expect(401);
    assert_eq!(r.body["status_code"], 401);
    bearer(&server, &old_access)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    bearer(&server, &old_access)
        .get(&org.path(""))
        .await
        .expect(401);

    let fresh = server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": new_refresh}))
        .await
        .expect(200);
    let me = bearer(&server, fresh.body["access"].as_str().unwrap())
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert_eq!(me.body["id"], org.owner.id.0);

    // The list shows only the new one; rotating the old one again is refused.
    let list = org.owner_api().get("/api/token/").await.expect(200);
    let items = list.body.as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(
        claims(items[0]["token"].as_str().unwrap())["jti"],
        claims(&new_refresh)["jti"]
    );
    let again = org
        .owner_api()
        .post("/api/token/rotate/", json!({"refresh": old_refresh}))
        .await
        .expect(400);
    assert!(
        again.body["validation_errors"]["refresh"].is_array(),
        "{}",
        again.text
    );
}

#[tokio::test]
async fn blacklisting_refuses_its_access_tokens_at_once_and_a_second_blacklist_is_404() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let (refresh, access) = server.pat_and_access(&org.owner).await;
    let api = bearer(&server, &access);
    api.get("/api/current-user/whoami").await.expect(200);

    let before_list = org.owner_api().get("/api/token/").await.expect(200);
    assert_eq!(before_list.body.as_array().unwrap().len(), 1);
    let r = org
        .owner_api()
        .post("/api/token/blacklist/", json!({"refresh": refresh}))
        .await
        .expect(204);
    assert!(r.text.is_empty());
    api.get("/api/current-user/whoami").await.expect(401);
    api.get(&org.path("")).await.expect(401);
    server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .expect(401);
    let again = org
        .owner_api()
        .post("/api/token/blacklist/", json!({"refresh": refresh}))
        .await
        .expect(404);
    assert_eq!(again.body["status_code"], 404);
    let after_list = org.owner_api().get("/api/token/").await.expect(200);
    assert_eq!(after_list.body.as_array().unwrap().len(), 0);
    // With the old one gone, a new one may be created.
    org.owner_api().post_empty("/api/token/").await.expect(201);
}

#[tokio::test]
async fn someone_else_cannot_blacklist_my_token() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = org.member(Role::Administrator).await;
    let (refresh, access) = server.pat_and_access(&org.owner).await;
    org.api(&other)
        .post("/api/token/blacklist/", json!({"refresh": refresh}))
        .await
        .expect(404);
    bearer(&server, &access)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
}

#[tokio::test]
async fn owner_reads_and_writes_the_token_settings() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let r = api.get("/api/jwt/settings").await.expect(200);
    assert_eq!(
        r.body,
        json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 365})
    );
    let new = json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 90});
    let r = api
        .post("/api/jwt/settings/", new.clone())
        .await
        .expect(200);
    assert_eq!(r.body, new);
    assert_eq!(api.get("/api/jwt/settings/").await.expect(200).body, new);
    let admin = org.member(Role::Administrator).await;
    assert_eq!(
        org.api(&admin)
            .get("/api/jwt/settings")
            .await
            .expect(200)
            .body,
        new
    );
}

#[tokio::test]
async fn manager_and_annotator_get_403_on_token_settings() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    for role in [Role::Manager, Role::Annotator] {
        let p = org.member(role).await;
        let api = org.api(&p);
        let r = api.get("/api/jwt/settings").await.expect(403);
        assert_eq!(r.body["status_code"], 403);
        let before = server.snapshot().await;
        api.post("/api/jwt/settings", json!({"api_tokens_enabled": false, "legacy_api_tokens_enabled": false, "api_token_ttl_days": 1}))
            .await
            .expect(403);
        assert_eq!(server.snapshot().await, before);
    }
    let r = org.owner_api().get("/api/jwt/settings").await.expect(200);
    assert_eq!(r.body["legacy_api_tokens_enabled"], true);
}

#[tokio::test]
async fn disabled_legacy_keys_get_401_saying_so_while_a_pat_still_works() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let member = org.member(Role::Annotator).await;
    let (_, access) = server.pat_and_access(&member).await;
    org.api(&member).get(&org.path("")).await.expect(200);

    org.owner_api()
        .post("/api/jwt/settings", json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": false, "api_token_ttl_days": 365}))
        .await
        .expect(200);

    let r = org.api(&member).get(&org.path("")).await.expect(401);
    let detail = r.body["detail"].as_str().unwrap().to_lowercase();
    assert!(
        detail.contains("legacy") && detail.contains("disabled"),
        "{detail}"
    );
    assert_eq!(r.body["status_code"], 401);
    org.api(&member).get("/api/projects/").await.expect(401);
    let r = bearer(&server, &access)
        .get(&org.path(""))
        .await
        .expect(200);
    assert_eq!(r.body["id"], org.id.0);
    bearer(&server, &access)
        .get("/api/projects/")
        .await
        .expect(200);

    // The setting is the organization's: the same key still works in another organization.
    let other = server.org("Other").await;
    other.add_existing(&member, Role::Annotator).await;
    let r = org.api(&member).get(&other.path("")).await.expect(200);
    assert_eq!(r.body["id"], other.id.0);
}

#[tokio::test]
async fn disabled_personal_access_tokens_get_401_saying_so_while_a_legacy_key_still_works() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let member = org.member(Role::Reviewer).await;
    let (_, access) = server.pat_and_access(&member).await;
    org.owner_api()
        .post("/api/jwt/settings", json!({"api_tokens_enabled": false, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 365}))
        .await
        .expect(200);
    let r = bearer(&server, &access)
        .get(&org.path(""))
        .await
        .expect(401);
    assert!(
        r.body["detail"].as_str().unwrap().contains("disabled"),
        "{}",
        r.text
    );
    org.api(&member).get(&org.path("")).await.expect(200);
}

/// An Annotator with a legacy key, a PAT access token and a browser session.
struct ThreeCredentials {
    person: Person,
    key: Api,
    bearer: Api,
    session: Api,
}

impl ThreeCredentials {
    async fn new(server: &TestServer, org: &OrgFixture) -> ThreeCredentials {
        let person = org.member(Role::Annotator).await;
        org.set_password(&person).await;
        let (_, access) = server.pat_and_access(&person).await;
        let mut session = server.browser();
        session.sign_in(&person.email, PASSWORD).await.expect(200);
        ThreeCredentials {
            key: org.api(&person),
            bearer: bearer(server, &access),
            session,
            person,
        }
    }

    fn all(&self) -> [(&'static str, &Api); 3] {
        [
            ("legacy key", &self.key),
            ("access token", &self.bearer),
            ("session", &self.session),
        ]
    }

    async fn expect_everywhere(&self, path: &str, status: u16) {
        for (name, api) in self.all() {
            let r = api.get(path).await;
            assert_eq!(r.status, status, "{name} on GET {path}: {}", r.text);
            assert_eq!(
                r.body["status_code"].as_u64().unwrap_or(200),
                status as u64,
                "{name}: {}",
                r.text
            );
        }
    }
}

#[tokio::test]
async fn deactivated_member_every_credential_is_refused_on_next_request() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let who = ThreeCredentials::new(&server, &org).await;
    let org_path = org.path("");
    who.expect_everywhere(&org_path, 200).await;
    who.expect_everywhere("/api/projects/", 200).await;

    let r = org
        .owner_api()
        .patch(
            &org.path("/memberships"),
            json!({"user_id": who.person.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "DI");

    who.expect_everywhere(&org_path, 403).await;
    who.expect_everywhere("/api/projects/", 403).await;
    who.expect_everywhere("/api/users/", 403).await;
    // Changes are refused too (session with its CSRF token).
    let r = who
        .session
        .post("/api/projects/", json!({"title": "Nope"}))
        .await
        .expect(403);
    assert_eq!(r.body["status_code"], 403);

    // User-level endpoints still work, so they can see why.
    for (name, api) in who.all() {
        let r = api.get("/api/current-user/whoami").await;
        assert_eq!(r.status, 200, "{name}: {}", r.text);
        assert_eq!(r.body["id"], who.person.id.0);
        let m = r.body["org_membership"].as_array().unwrap();
        assert!(
            m.iter()
                .any(|m| m["organization_id"] == org.id.0 && m["role"] == "DI"),
            "{name}: {}",
            r.text
        );
    }
}

#[tokio::test]
async fn deactivated_member_keeps_full_use_of_another_organization() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let org_b = server.org("B").await;
    let who = ThreeCredentials::new(&server, &org).await;
    org_b.add_existing(&who.person, Role::Annotator).await;
    who.expect_everywhere(&org_b.path(""), 200).await;

    org.owner_api()
        .patch(
            &org.path("/memberships"),
            json!({"user_id": who.person.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    who.expect_everywhere(&org.path(""), 403).await;
    who.expect_everywhere(&org_b.path(""), 200).await;

    // After switching the active organization to B, the active-organization endpoints work again.
    let r = who
        .key
        .patch(
            "/api/current-user",
            json!({"active_organization": org_b.id.0}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["active_organization"], org_b.id.0);
    who.expect_everywhere("/api/projects/", 200).await;
}

#[tokio::test]
async fn reactivated_member_credentials_work_again() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let who = ThreeCredentials::new(&server, &org).await;
    let owner = org.owner_api();
    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": who.person.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    who.expect_everywhere(&org.path(""), 403).await;
    let r = owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": who.person.id.0, "role": "AN"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "AN");
    who.expect_everywhere(&org.path(""), 200).await;
    who.expect_everywhere("/api/projects/", 200).await;
}

#[tokio::test]
async fn deleted_member_credentials_get_404_on_that_organization() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let org_b = server.org("B").await;
    let who = ThreeCredentials::new(&server, &org).await;
    org_b.add_existing(&who.person, Role::Reviewer).await;
    who.expect_everywhere(&org.path(""), 200).await;

    let r = org
        .owner_api()
        .delete(&format!(
            "{}/",
            org.path(&format!("/memberships/{}", who.person.id.0))
        ))
        .await
        .expect(204);
    assert!(r.text.is_empty());

    who.expect_everywhere(&org.path(""), 404).await;
    who.expect_everywhere(&org.path("/memberships"), 404).await;
    // Their account lives on: user-level endpoints and the other organization still work.
    who.expect_everywhere("/api/current-user/whoami", 200).await;
    who.expect_everywhere(&org_b.path(""), 200).await;
    let orgs = who.key.get("/api/organizations/").await.expect(200);
    let ids: Vec<i64> = orgs
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![org_b.id.0]);
}

#[tokio::test]
async fn failed_token_refreshes_are_throttled_per_address_with_retry_after() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let refresh = org
        .owner_api()
        .post_empty("/api/token/")
        .await
        .expect(201)
        .body["token"]
        .as_str()
        .unwrap()
        .to_string();
    let attacker = server.anonymous().from_address([127, 0, 0, 2]);
    let mut statuses = Vec::new();
    for i in 0..40 {
        let r = attacker
            .post(
                "/api/token/refresh/",
                json!({"refresh": format!("forged.{i}.token")}),
            )
            .await;
        statuses.push(r.status);
        if r.status == 429 {
            let secs: u64 = r
                .headers
                .get("retry-after")
                .expect("Retry-After")
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(secs, 1, "the first delay is 1 s");
            assert_eq!(r.body["status_code"], 429);
            break;
        }
        assert_eq!(r.status, 401, "attempt {i}: {}", r.text);
    }
    assert_eq!(
        statuses.last(),
        Some(&429),
        "failed refreshes are eventually throttled: {statuses:?}"
    );
    // While it lasts, even a good token from that address waits ...
    attacker
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .expect(429);
    // ... but another address is not affected.
    server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .expect(200);
    server.advance(Duration::from_millis(1100));
    attacker
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .expect(200);
}

#[tokio::test]
async fn token_lifetime_outside_one_to_73000_days_is_400_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let before = server.snapshot().await;
    for days in [0i64, -1, 73_001, i64::MAX] {
        let r = org
            .owner_api()
            .post("/api/jwt/settings", json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": false, "api_token_ttl_days": days}))
            .await
            .expect(400);
        assert!(
            r.body["validation_errors"]["api_token_ttl_days"].is_array(),
            "{days}: {}",
            r.text
        );
    }
    assert_eq!(server.snapshot().await, before);
    org.owner_api().get(&org.path("")).await.expect(200);
}

#[tokio::test]
async fn an_expired_personal_access_token_cannot_be_refreshed_and_a_new_one_may_be_created() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    api.post("/api/jwt/settings", json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 1}))
        .await
        .expect(200);
    let (refresh, access) = server.pat_and_access(&org.owner).await;
    server.advance(Duration::from_secs(24 * 3600 - 60));
    // An access token never outlives its refresh token.
    let late = server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .expect(200);
    let late_access = late.body["access"].as_str().unwrap().to_string();
    assert!(
        claims(&late_access)["exp"].as_i64().unwrap() <= claims(&refresh)["exp"].as_i64().unwrap()
    );
    server.advance(Duration::from_secs(120));
    server
        .anonymous()
        .post("/api/token/refresh/", json!({"refresh": refresh}))
        .await
        .expect(401);
    bearer(&server, &late_access)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    bearer(&server, &access)
        .get("/api/current-user/whoami")
        .await
        .expect(401);
    assert_eq!(api.get("/api/token/").await.expect(200).body, json!([]));
    api.post_empty("/api/token/").await.expect(201);
}

#[tokio::test]
async fn an_imported_account_gets_its_key_on_first_request_and_concurrent_requests_agree() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let row = roster_service::import::ImportRow {
        line: 2,
        email: "keyless@example.com".into(),
        first_name: "Kim".into(),
        last_name: "Keyless".into(),
        role: "AN".into(),
        projects: vec![],
        workspaces: Vec::new(),
    };
    server
        .service
        .import_members(org.id, &[row], true)
        .await
        .expect("imported");
    let id = {
        let row = server
            .sql_rows(
                "SELECT u.id, (SELECT COUNT(*) FROM legacy_keys k WHERE k.user_id = u.id)
                 FROM users u WHERE u.email = 'keyless@example.com'",
                2,
            )
            .await
            .remove(0);
        let (id, keys) = (row[0].int().unwrap(), row[1].int().unwrap());
        assert_eq!(keys, 0, "the import made no key");
        roster_domain::UserId(id)
    };
    let person = Person {
        id,
        email: "keyless@example.com".into(),
        key: String::new(),
    };
    org.set_password(&person).await;
    let mut browser = server.browser();
    browser.sign_in(&person.email, PASSWORD).await.expect(200);
    let path = "/api/current-user/token";
    let (a, b, c, d) = tokio::join!(
        browser.get(path),
        browser.get(path),
        browser.get(path),
        browser.get(path)
    );
    let keys: Vec<String> = [a, b, c, d]
        .into_iter()
        .map(|r| {
            r.expect(200).body["token"]
                .as_str()
                .expect("token")
                .to_string()
        })
        .collect();
    assert!(keys.iter().all(|k| k == &keys[0]), "{keys:?}");
    assert_eq!(keys[0].len(), 40);
    let me = server
        .with_key(&keys[0])
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    assert_eq!(me.body["id"], id.0);
    let again = browser.get(path).await.expect(200);
    assert_eq!(again.body["token"], keys[0].as_str());
}
