//! Organizations that sign in through their identity provider only, and the second factor
//! (an authenticator app, RFC 6238) that keeps their Owner a way in with a password: setting
//! the app up and turning it off, sign-in asking for its code, switching the option on, and
//! what it lets in, request by request, in that organization and nowhere else.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, session_cookie, Api, OrgFixture, Person, Resp, TestServer, PASSWORD};

use crate::saml::IDP_METADATA;

/// What a refused member is told.
const REQUIRES_SSO: &str = "Acme requires single sign-on; sign in through your identity provider";

/// A browser signed in with the password alone.
pub(crate) async fn browser(server: &TestServer, email: &str) -> Api {
    let mut b = server.browser();
    b.sign_in(email, PASSWORD).await.expect(200);
    b
}

/// Sets up and confirms an authenticator app through the API, from a signed-in browser;
/// returns the secret the app holds. The code that confirmed it is spent, so the clock moves
/// on to the next one.
pub(crate) async fn enroll(server: &TestServer, b: &Api) -> String {
    let started = b.post_empty("/api/current-user/totp").await.expect(201);
    let secret = started.body["secret"].as_str().expect("secret").to_string();
    let code = server.totp_now(&secret);
    b.post("/api/current-user/totp/confirm", json!({"code": code}))
        .await
        .expect(200);
    server.advance(Duration::from_secs(30));
    secret
}

/// A browser signed in with the password and the app's current code (then spent).
async fn browser_with_code(server: &TestServer, email: &str, secret: &str) -> Api {
    let mut b = server.browser();
    b.sign_in_with_code(email, PASSWORD, &server.totp_now(secret))
        .await
        .expect(200);
    server.advance(Duration::from_secs(30));
    b
}

/// Gives the organization its identity provider, as its Owner does.
async fn set_up_saml(org: &OrgFixture) {
    org.owner_api()
        .post(
            "/api/saml/settings",
            json!({"metadata_xml": IDP_METADATA, "domain": "acme.example"}),
        )
        .await
        .expect(200);
}

/// Acme with an identity provider and single sign-on only on, switched by its Owner (whose
/// authenticator app it needs); the Owner's app secret.
pub(crate) async fn sso_only_acme(server: &TestServer, acme: &OrgFixture) -> String {
    set_up_saml(acme).await;
    let owner = browser(server, &acme.owner.email).await;
    let secret = enroll(server, &owner).await;
    let on = acme
        .owner_api()
        .patch(&acme.path(""), json!({"sso_only": true}))
        .await
        .expect(200);
    assert_eq!(on.body["sso_only"], true);
    secret
}

/// A member of Acme with a password.
pub(crate) async fn member_with_password(acme: &OrgFixture, role: Role) -> Person {
    let person = acme.member(role).await;
    acme.set_password(&person).await;
    person
}

/// Turns the caller's authenticator app off with `code`.
async fn delete_totp(b: &Api, code: &str) -> Resp {
    let body = json!({ "code": code });
    b.send_json(reqwest::Method::DELETE, "/api/current-user/totp", body)
        .await
}

/// A code that is not the current one.
fn other_code(code: &str) -> String {
    let n: u32 = code.parse().expect("digits");
    format!("{:06}", (n + 1) % 1_000_000)
}

#[tokio::test]
async fn an_authenticator_app_is_set_up_with_a_code_and_turned_off_with_a_current_one() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let person = member_with_password(&acme, Role::Annotator).await;
    let b = browser(&server, &person.email).await;
    let sso = server
        .service
        .start_sso_session(person.id, acme.id)
        .await
        .expect("session");
    let sso = server.anonymous().with_session(&sso.id, &sso.csrf_token);
    let state = b.get("/api/current-user/totp").await.expect(200);
    assert_eq!(state.body, json!({"enabled": false, "pending": false}));

    // Neither an API key nor a single-sign-on session changes how the account signs in.
    let before = server.snapshot().await;
    let r = acme
        .api(&person)
        .post_empty("/api/current-user/totp")
        .await
        .expect(403);
    assert!(r.text.contains("Sign in with your password"), "{}", r.text);
    let r = sso.post_empty("/api/current-user/totp").await.expect(403);
    assert!(r.text.contains("single sign-on"), "{}", r.text);
    assert_eq!(server.snapshot().await, before, "refusals change nothing");

    let started = b.post_empty("/api/current-user/totp").await.expect(201);
    let secret = started.body["secret"].as_str().unwrap().to_string();
    let uri = started.body["otpauth_uri"].as_str().unwrap();
    assert_eq!(secret.len(), 32, "160 bits in base32");
    assert!(uri.starts_with("otpauth://totp/roster:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(!server
        .sql_rows("SELECT secret_sealed FROM totp_factors", 1)
        .await[0][0]
        .text()
        .unwrap()
        .contains(&secret));
    let state = b.get("/api/current-user/totp").await.expect(200);
    assert_eq!(state.body, json!({"enabled": false, "pending": true}));
    // Until a code confirms it, signing in asks for none.
    server
        .browser()
        .sign_in(&person.email, PASSWORD)
        .await
        .expect(200);

    // A wrong code confirms nothing, and counts as a failed attempt.
    let before = server.snapshot().await;
    let code = server.totp_now(&secret);
    let r = b
        .post(
            "/api/current-user/totp/confirm",
            json!({"code": other_code(&code)}),
        )
        .await
        .expect(400);
    assert!(r.text.contains("not correct"), "{}", r.text);
    b.post("/api/current-user/totp/confirm", json!({"code": code}))
        .await
        .expect(429);
    assert_eq!(server.snapshot().await, before);

    server.advance(Duration::from_secs(2));
    let code = server.totp_now(&secret);
    let r = b
        .post("/api/current-user/totp/confirm", json!({"code": code}))
        .await
        .expect(200);
    assert_eq!(r.body, json!({"enabled": true, "pending": false}));
    let enabled =
        "SELECT COUNT(*) FROM audit_events WHERE action = 'credential.second_factor_enabled'";
    assert_eq!(server.sql_int(enabled).await, 1);
    let r = b.post_empty("/api/current-user/totp").await.expect(409);
    assert!(r.text.contains("already set up"), "{}", r.text);

    // Turning it off takes a current code, once: the one that confirmed it is spent.
    let before = server.snapshot().await;
    let r = delete_totp(&b, &code).await.expect(400);
    assert!(r.text.contains("already used"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);
    server.advance(Duration::from_secs(30));
    let r = delete_totp(&b, &server.totp_now(&secret)).await.expect(200);
    assert_eq!(r.body, json!({"enabled": false, "pending": false}));
    let disabled =
        "SELECT COUNT(*) FROM audit_events WHERE action = 'credential.second_factor_disabled'";
    assert_eq!(server.sql_int(disabled).await, 1);
    server
        .browser()
        .sign_in(&person.email, PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn password_sign_in_asks_for_the_apps_code_and_takes_each_code_once() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let person = member_with_password(&acme, Role::Reviewer).await;
    let secret = enroll(&server, &browser(&server, &person.email).await).await;

    // Without the code, or with a wrong one: refused, saying what to do, and counted by the
    // sign-in throttle (the next try at once waits).
    let before = server.snapshot().await;
    let r = server
        .browser()
        .sign_in(&person.email, PASSWORD)
        .await
        .expect(401);
    assert!(r.text.contains("6-digit code"), "{}", r.text);
    let code = server.totp_now(&secret);
    server
        .browser()
        .sign_in_with_code(&person.email, PASSWORD, &code)
        .await
        .expect(429);
    server.advance(Duration::from_secs(2));
    let r = server
        .browser()
        .sign_in_with_code(&person.email, PASSWORD, &other_code(&code))
        .await
        .expect(401);
    assert!(r.text.contains("not correct"), "{}", r.text);
    server.advance(Duration::from_secs(3));
    // A right code with a wrong password is no better.
    server
        .browser()
        .sign_in_with_code(&person.email, "not the password", &code)
        .await
        .expect(401);
    assert_eq!(server.snapshot().await, before, "no session was started");

    server.advance(Duration::from_secs(5));
    let code = server.totp_now(&secret);
    let mut first = server.browser();
    first
        .sign_in_with_code(&person.email, PASSWORD, &code)
        .await
        .expect(200);
    first.get("/api/current-user/whoami").await.expect(200);
    let verified = format!(
        "SELECT COUNT(*) FROM sessions WHERE user_id = {} AND second_factor = 1",
        person.id.0
    );
    assert_eq!(server.sql_int(&verified).await, 1, "the session records it");

    // The same code again is a replay: refused, even with the right password.
    let before = server.snapshot().await;
    let r = server
        .browser()
        .sign_in_with_code(&person.email, PASSWORD, &code)
        .await
        .expect(401);
    assert!(r.text.contains("already used"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);

    // A password alone does not join an organization for this account either.
    server.advance(Duration::from_secs(2));
    let elsewhere = server.org("Elsewhere").await;
    let link = format!("/user/signup?token={}", elsewhere.invite_token().await);
    let before_join = server.snapshot().await;
    let r = server
        .anonymous()
        .post(&link, json!({"email": person.email, "password": PASSWORD}))
        .await
        .expect(403);
    assert!(r.text.contains("sign in first"), "{}", r.text);
    assert_eq!(server.snapshot().await, before_join);

    // The next step's code works; the sign-in form asks for it too.
    server.advance(Duration::from_secs(30));
    let form = server
        .browser()
        .post_form(
            "/user/login",
            &[("email", &person.email), ("password", PASSWORD)],
        )
        .await
        .expect(401);
    assert!(form.text.contains("authenticator app"), "{}", form.text);
    assert!(form.text.contains("name=\"code\""), "{}", form.text);
    server.advance(Duration::from_secs(2));
    let code = server.totp_now(&secret);
    let form = server
        .browser()
        .post_form(
            "/user/login",
            &[
                ("email", &person.email),
                ("password", PASSWORD),
                ("code", &code),
            ],
        )
        .await
        .expect(303);
    assert!(session_cookie(&form).is_some());
}

#[tokio::test]
async fn single_sign_on_only_is_switched_on_by_the_owner_once_saml_and_their_app_are_set_up() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let admin = acme.member(Role::Administrator).await;
    let on = json!({"sso_only": true});

    let before = server.snapshot().await;
    let r = acme
        .owner_api()
        .patch(&acme.path(""), on.clone())
        .await
        .expect(409);
    assert!(r.text.contains("set up SAML"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);

    set_up_saml(&acme).await;
    let before = server.snapshot().await;
    let r = acme
        .owner_api()
        .patch(&acme.path(""), on.clone())
        .await
        .expect(409);
    assert!(r.text.contains("authenticator app"), "{}", r.text);
    let r = acme
        .api(&admin)
        .patch(&acme.path(""), on.clone())
        .await
        .expect(403);
    assert!(r.text.contains("Only the Owner"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);
    let org = acme.owner_api().get(&acme.path("")).await.expect(200);
    assert_eq!(org.body["sso_only"], false);

    enroll(&server, &browser(&server, &acme.owner.email).await).await;
    acme.api(&admin)
        .patch(&acme.path(""), on.clone())
        .await
        .expect(403);
    let r = acme.owner_api().patch(&acme.path(""), on).await.expect(200);
    assert_eq!(r.body["sso_only"], true);
    let audited = "SELECT COUNT(*) FROM audit_events WHERE action = 'organization.updated' \
                   AND old_value = 'sso_only=false' AND new_value = 'sso_only=true'";
    assert_eq!(server.sql_int(audited).await, 1);
}

#[tokio::test]
async fn once_on_members_password_sessions_and_legacy_keys_are_refused_there_and_nowhere_else() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let globex = server.org("Globex").await;
    let member = member_with_password(&acme, Role::Manager).await;
    globex.add_existing(&member, Role::Administrator).await;
    let session = browser(&server, &member.email).await;
    let (_, access) = server.pat_and_access(&member).await;
    let owner_secret = sso_only_acme(&server, &acme).await;

    let before = server.snapshot().await;
    let fresh = browser(&server, &member.email).await; // signing in itself is allowed
    let after_sign_in = server.snapshot().await;
    for (what, api) in [
        ("an earlier password session", &session),
        ("a new password session", &fresh),
        ("the legacy key", &acme.api(&member)),
    ] {
        let r = api.get(&acme.path("/memberships")).await.expect(403);
        assert!(r.text.contains(REQUIRES_SSO), "{what}: {}", r.text);
        api.patch(&acme.path(""), json!({"title": "Taken"}))
            .await
            .expect(403);
        // The same person's other organization is unchanged.
        api.get(&globex.path("/memberships")).await.expect(200);
        // Listing organizations is fine; acting is what is refused.
        let listed = api.get("/api/organizations").await.expect(200);
        assert_eq!(listed.body.as_array().unwrap().len(), 2, "{what}");
    }
    let r = acme
        .api(&member)
        .get(&acme.path("/memberships"))
        .await
        .expect(403);
    assert!(r.text.contains("Legacy API keys are refused"), "{}", r.text);
    // The page of the organization says so too (Acme is the member's active organization).
    let page = session.get("/projects").await.expect(403);
    assert!(page.text.contains(REQUIRES_SSO), "{}", page.text);
    assert_eq!(
        server.snapshot().await,
        after_sign_in,
        "refusals change nothing"
    );
    assert_ne!(before, after_sign_in);

    // Personal access tokens follow the organization's token settings, as before.
    let bearer = server.anonymous().with_auth(&format!("Bearer {access}"));
    bearer.get(&acme.path("/memberships")).await.expect(200);
    let owner = browser_with_code(&server, &acme.owner.email, &owner_secret).await;
    owner
        .post(
            "/api/jwt/settings",
            json!({"api_tokens_enabled": false, "legacy_api_tokens_enabled": true, "api_token_ttl_days": 365}),
        )
        .await
        .expect(200);
    bearer.get(&acme.path("/memberships")).await.expect(401);
    bearer.get(&globex.path("/memberships")).await.expect(200);
}

#[tokio::test]
async fn the_owner_breaks_glass_with_password_and_code_but_not_with_a_key_or_a_password_alone() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let owner_password_only = browser(&server, &acme.owner.email).await;
    let secret = sso_only_acme(&server, &acme).await;

    let before = server.snapshot().await;
    let r = acme
        .owner_api()
        .get(&acme.path("/memberships"))
        .await
        .expect(403);
    assert!(r.text.contains(REQUIRES_SSO), "{}", r.text);
    assert!(r.text.contains("Legacy API keys are refused"), "{}", r.text);
    let r = owner_password_only
        .patch(&acme.path(""), json!({"title": "Acme Labs"}))
        .await
        .expect(403);
    assert!(r.text.contains("As its Owner"), "{}", r.text);
    assert_eq!(server.snapshot().await, before);

    let owner = browser_with_code(&server, &acme.owner.email, &secret).await;
    owner.get(&acme.path("/memberships")).await.expect(200);
    let r = owner
        .patch(&acme.path(""), json!({"contact_info": "it@acme.example"}))
        .await
        .expect(200);
    assert_eq!(r.body["contact_info"], "it@acme.example");
    let page = owner.get("/organization").await.expect(200);
    assert!(page.text.contains("Allow passwords again"), "{}", page.text);

    // A password change keeps this browser in, in a new session that keeps its proof.
    let r = owner
        .patch(
            "/api/current-user",
            json!({"password": "another long passphrase", "current_password": PASSWORD}),
        )
        .await
        .expect(200);
    assert!(session_cookie(&r).is_some(), "a new session");
    owner.get(&acme.path("/memberships")).await.expect(200);
}

#[tokio::test]
async fn a_single_sign_on_session_of_the_organization_passes() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let member = acme.member(Role::Annotator).await;
    sso_only_acme(&server, &acme).await;
    for person in [&member, &acme.owner] {
        let s = server
            .service
            .start_sso_session(person.id, acme.id)
            .await
            .expect("session");
        let sso = server.anonymous().with_session(&s.id, &s.csrf_token);
        sso.get(&acme.path("")).await.expect(200);
        sso.get("/projects").await.expect(200);
    }
    let s = server
        .service
        .start_sso_session(acme.owner.id, acme.id)
        .await
        .expect("session");
    let owner = server.anonymous().with_session(&s.id, &s.csrf_token);
    owner
        .patch(&acme.path(""), json!({"title": "Acme Labs"}))
        .await
        .expect(200);
}

#[tokio::test]
async fn the_identity_provider_and_the_owners_app_stay_while_it_is_on_and_off_restores_access() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    let member = member_with_password(&acme, Role::Annotator).await;
    let secret = sso_only_acme(&server, &acme).await;
    let owner = browser_with_code(&server, &acme.owner.email, &secret).await;

    let before = server.snapshot().await;
    let r = owner.delete("/api/saml/settings").await.expect(409);
    assert!(
        r.text.contains("switch single sign-on only off first"),
        "{}",
        r.text
    );
    owner
        .post("/api/saml/settings", json!({"metadata_xml": ""}))
        .await
        .expect(409);
    let r = delete_totp(&owner, &server.totp_now(&secret))
        .await
        .expect(409);
    assert!(
        r.text.contains("switch single sign-on only off"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before);

    let member_session = browser(&server, &member.email).await;
    for api in [&acme.api(&member), &member_session, &acme.owner_api()] {
        api.get(&acme.path("")).await.expect(403);
    }
    let r = owner
        .patch(&acme.path(""), json!({"sso_only": false}))
        .await
        .expect(200);
    assert_eq!(r.body["sso_only"], false);
    for api in [&acme.api(&member), &member_session, &acme.owner_api()] {
        api.get(&acme.path("")).await.expect(200);
    }
    let audited = "SELECT COUNT(*) FROM audit_events WHERE action = 'organization.updated' \
                   AND old_value = 'sso_only=true' AND new_value = 'sso_only=false'";
    assert_eq!(server.sql_int(audited).await, 1);
}

/// Pulls the value of the input with `id` out of a page.
fn input_value(page: &str, id: &str) -> String {
    let at = page
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let rest = &page[at..];
    let start = rest.find("value=\"").expect("a value") + "value=\"".len();
    rest[start..start + rest[start..].find('"').unwrap()].to_string()
}

#[tokio::test]
async fn the_pages_set_up_the_app_ask_for_its_code_and_switch_single_sign_on_only() {
    let server = TestServer::start().await;
    let acme = server.org("Acme").await;
    set_up_saml(&acme).await;
    let email = acme.owner.email.clone();
    let mut b = server.browser();
    b.sign_in(&email, PASSWORD).await.expect(200);
    let csrf = b.csrf.take().expect("csrf");

    let account = b.get("/account").await.expect(200);
    assert!(
        account.text.contains("Set up an authenticator app"),
        "{}",
        account.text
    );
    let started = b
        .post_form("/account/totp", &[("csrf_token", &csrf)])
        .await
        .expect(200);
    assert!(
        started.text.contains("otpauth://totp/roster:"),
        "{}",
        started.text
    );
    let secret = input_value(&started.text, "totp-secret");
    let code = server.totp_now(&secret);
    let confirmed = b
        .post_form(
            "/account/totp/confirm",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await
        .expect(200);
    assert!(confirmed.text.contains("is set up"), "{}", confirmed.text);
    server.advance(Duration::from_secs(30));

    let org_page = b.get("/organization").await.expect(200);
    assert!(
        org_page.text.contains("Require single sign-on"),
        "{}",
        org_page.text
    );
    let r = b
        .post_form(
            "/organization/sso-only",
            &[("csrf_token", &csrf), ("sso_only", "on")],
        )
        .await
        .expect(303);
    let location = r.headers["location"].to_str().unwrap().to_string();
    assert!(
        location.contains("now+requires+single+sign-on"),
        "{location}"
    );
    // This browser signed in before the app was set up: no break-glass for it.
    let refused = b.get(&location).await.expect(403);
    assert!(refused.text.contains(REQUIRES_SSO), "{}", refused.text);

    // Signing in on the form with the code gets the Owner back in.
    let code = server.totp_now(&secret);
    let owner = server.browser();
    owner
        .post_form(
            "/user/login",
            &[("email", &email), ("password", PASSWORD), ("code", &code)],
        )
        .await
        .expect(303);
    let page = owner.get("/organization").await.expect(200);
    assert!(page.text.contains("Allow passwords again"), "{}", page.text);
    let csrf = input_value(&page.text, "sso-only-csrf");
    owner
        .post_form(
            "/organization/sso-only",
            &[("csrf_token", &csrf), ("sso_only", "off")],
        )
        .await
        .expect(303);
    b.get("/organization").await.expect(200);
}
