//! Signing in through an organization's identity provider, end to end: a real SAML IdP
//! (pysaml2 with xmlsec1, tests/saml/idp.py, installed by tests/saml/setup.sh) signs the
//! responses, the live server verifies them at its ACS and signs people in, creating and
//! re-syncing their membership from their groups. Every refused response changes nothing.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine;
use roster_domain::Role;
use roster_tests::{session_cookie, Api, OrgFixture, Resp, TestServer};
use serde_json::{json, Value};

use crate::saml::IDP_METADATA;
use crate::scim::verify;
use crate::scim_page::{browser, move_row, post_page};

/// An organization with SAML set up against the test IdP, `example.com` verified, and a
/// mapping: Reviewers -> Reviewer, Leads -> Manager, Labelers -> Annotator and the project.
struct Sso {
    server: TestServer,
    org: OrgFixture,
    token: String,
    acs: String,
    entity_id: String,
    project: i64,
}

async fn sso() -> Sso {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    verify(&server, &org, "example.com").await;
    let project = org.owner_api().create_project("Labels").await;
    org.owner_api()
        .post(
            "/api/saml/settings",
            json!({
                "metadata_xml": IDP_METADATA,
                "domain": "example.com",
                "roles_groups": [["Reviewer", "Reviewers"], ["Manager", "Leads"], ["Annotator", "Labelers"]],
                "projects_groups": [{"project_id": project, "group": "Labelers", "role": "Annotator"}],
            }),
        )
        .await
        .expect(200);
    let s = org
        .owner_api()
        .get("/api/saml/settings")
        .await
        .expect(200)
        .body;
    let acs = s["acs_url"].as_str().expect("acs_url").to_string();
    let token = acs
        .trim_end_matches("/acs")
        .rsplit('/')
        .next()
        .expect("token")
        .to_string();
    Sso {
        entity_id: s["sp_entity_id"].as_str().expect("entity id").to_string(),
        server,
        org,
        token,
        acs,
        project,
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_path_buf()
}

/// Runs the test IdP (tests/saml/idp.py) and returns what it printed.
async fn run_idp(args: Vec<String>) -> String {
    tokio::task::spawn_blocking(move || {
        let root = repo_root();
        let python = std::env::var_os("ROSTER_SAML_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv-saml/bin/python"));
        let out = std::process::Command::new(&python)
            .arg(root.join("tests/saml/idp.py"))
            .args(&args)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "the test IdP at {} cannot run ({e}); install it with tests/saml/setup.sh",
                    python.display()
                )
            });
        assert!(
            out.status.success(),
            "idp.py {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("utf-8")
            .trim()
            .to_string()
    })
    .await
    .expect("the IdP ran")
}

/// What the IdP is asked to sign.
struct Login<'a> {
    email: &'a str,
    groups: &'a [&'a str],
    extra: Vec<String>,
}

impl<'a> Login<'a> {
    fn of(email: &'a str, groups: &'a [&'a str]) -> Login<'a> {
        Login {
            email,
            groups,
            extra: Vec::new(),
        }
    }

    fn with(mut self, args: &[&str]) -> Login<'a> {
        self.extra.extend(args.iter().map(|a| a.to_string()));
        self
    }
}

impl Sso {
    /// The IdP's response for `login` (base64, or the XML with `--xml` among the extras).
    async fn response(&self, login: Login<'_>) -> String {
        let mut args: Vec<String> = [
            "response",
            "--sp-entity-id",
            &self.entity_id,
            "--acs",
            &self.acs,
            "--email",
            login.email,
            "--first-name",
            "Ann",
            "--last-name",
            "Lee",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        for g in login.groups {
            args.push("--group".into());
            args.push(g.to_string());
        }
        args.extend(login.extra);
        run_idp(args).await
    }

    /// Posts a response to the ACS as the IdP's auto-submitting form does, from its site.
    async fn post(&self, client: &Api, response: &str, relay_state: Option<&str>) -> Resp {
        let mut form = vec![("SAMLResponse", response)];
        if let Some(r) = relay_state {
            form.push(("RelayState", r));
        }
        let body = form
            .iter()
            .map(|(k, v)| format!("{k}={}", roster_tests::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        // From the IdP's page, as a browser posts it: another site's Origin.
        client
            .send(
                reqwest::Method::POST,
                &format!("/saml/{}/acs", self.token),
                Some(("application/x-www-form-urlencoded", body.into_bytes())),
                &[("Origin", "https://idp.test")],
            )
            .await
    }

    /// Signs `email` in with `groups` (IdP-initiated); the answer of the ACS.
    async fn sign_in(&self, email: &str, groups: &[&str]) -> Resp {
        let response = self.response(Login::of(email, groups)).await;
        self.post(&self.server.anonymous(), &response, None).await
    }

    async fn member(&self, email: &str) -> Option<Value> {
        let list = self
            .org
            .owner_api()
            .get(&self.org.path(&format!(
                "/memberships?search={}&page_size=100",
                roster_tests::encode(email)
            )))
            .await
            .expect(200)
            .body;
        roster_tests::results(&list)
            .iter()
            .find(|m| m["user"]["email"] == json!(email))
            .cloned()
    }

    async fn role_of(&self, email: &str) -> Option<String> {
        self.member(email)
            .await
            .map(|m| m["role"].as_str().expect("role").to_string())
    }

    async fn in_project(&self, email: &str) -> bool {
        self.server
            .sql_int(&format!(
                "SELECT COUNT(*) FROM project_members pm
                 JOIN memberships m ON m.id = pm.membership_id
                 JOIN users u ON u.id = m.user_id
                 WHERE pm.project_id = {} AND u.email = '{email}' AND m.deleted_at IS NULL",
                self.project
            ))
            .await
            == 1
    }
}

/// The session a sign-in set, as a client that sends it.
fn session_of(server: &TestServer, r: &Resp) -> Api {
    let id = session_cookie(r).expect("a session cookie");
    let csrf = set_cookie(r, "roster_csrf").expect("a CSRF cookie");
    server.anonymous().with_session(&id, &csrf)
}

/// The value of the cookie `name` a response set.
fn set_cookie(r: &Resp, name: &str) -> Option<String> {
    let prefix = format!("{name}=");
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(prefix.as_str()))
        .and_then(|c| c.split(';').next())
        .map(str::to_string)
}

fn location(r: &Resp) -> &str {
    r.headers
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location")
}

fn b64(xml: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[tokio::test]
async fn the_first_sign_in_creates_the_member_and_every_sign_in_resyncs_their_role_and_projects() {
    let s = sso().await;
    let email = "ann@example.com";

    let r = s.sign_in(email, &["Reviewers"]).await.expect(303);
    assert_eq!(location(&r), "/");
    let ann = session_of(&s.server, &r);
    let me = ann.get("/api/current-user/whoami").await.expect(200);
    assert_eq!(me.body["email"], json!(email));
    assert_eq!(me.body["first_name"], json!("Ann"));
    let m = s.member(email).await.expect("a member now");
    assert_eq!(m["role"], json!("RE"));
    assert_eq!(m["role_source"], json!("saml"));
    assert!(!s.in_project(email).await);
    // The membership change is audited with SAML as its source.
    let log = s
        .org
        .owner_api()
        .get("/api/audit-events?page_size=100")
        .await
        .expect(200)
        .body;
    assert!(
        roster_tests::results(&log)
            .iter()
            .any(|e| e["action"] == json!("member.joined") && e["source"] == json!("saml")),
        "{log}"
    );

    // A group change at the IdP changes the role and projects at the next sign-in.
    s.sign_in(email, &["Leads", "Labelers"]).await.expect(303);
    assert_eq!(s.role_of(email).await.as_deref(), Some("MA"));
    assert!(s.in_project(email).await, "Labelers map to the project");

    // Out of every mapped group: the fallback (Deactivated), and told why.
    let r = s.sign_in(email, &["Sales"]).await.expect(403);
    assert!(r.text.contains("None of your groups"), "{}", r.text);
    assert_eq!(s.role_of(email).await.as_deref(), Some("DI"));
    let r = ann.get(&s.org.path("/memberships")).await.expect(403);
    assert!(r.text.contains("deactivated"), "{}", r.text);
    // Back in a mapped group: decided again, with the seat and the project.
    s.sign_in(email, &["Reviewers"]).await.expect(303);
    assert_eq!(s.role_of(email).await.as_deref(), Some("RE"));
    assert!(!s.in_project(email).await, "no longer a Labeler");
}

#[tokio::test]
async fn a_session_from_single_sign_on_cannot_reach_the_persons_credentials_or_other_organizations()
{
    let s = sso().await;
    let globex = s.server.org("Globex").await;
    let r = s.sign_in("bo@example.com", &["Leads"]).await.expect(303);
    let bo = session_of(&s.server, &r);
    let bo_id = s.member("bo@example.com").await.unwrap()["user"]["id"]
        .as_i64()
        .unwrap();
    let person = s.server.person(roster_domain::UserId(bo_id)).await;
    globex.add_existing(&person, Role::Administrator).await;

    bo.get(&s.org.path("/memberships")).await.expect(200);
    let before = s.server.snapshot().await;
    bo.get(&globex.path("/memberships")).await.expect(404);
    bo.get("/api/current-user/token").await.expect(403);
    bo.post_empty("/api/current-user/reset-token")
        .await
        .expect(403);
    bo.post_empty("/api/token").await.expect(403);
    bo.patch(
        "/api/current-user",
        json!({"active_organization": globex.id.0}),
    )
    .await
    .expect(403);
    assert_eq!(s.server.snapshot().await, before, "nothing changed");
}

#[tokio::test]
async fn tampered_unsigned_wrapped_misaddressed_replayed_and_expired_responses_are_refused_and_change_nothing(
) {
    let s = sso().await;
    let email = "ann@example.com";
    // A valid sign-in first: its response is then replayed.
    let valid = s.response(Login::of(email, &["Reviewers"])).await;
    s.post(&s.server.anonymous(), &valid, None)
        .await
        .expect(303);
    let signed_xml = s
        .response(Login::of(email, &["Leads"]).with(&["--xml"]))
        .await;
    assert!(signed_xml.contains(email));

    let wrapped = {
        // A second, unsigned assertion naming someone else beside the signed one.
        let open = signed_xml.find(":Assertion ").expect("an assertion");
        let start = signed_xml[..open].rfind('<').expect("its tag");
        let end = signed_xml.find(":Assertion>").expect("its end") + ":Assertion>".len();
        let evil = signed_xml[start..end]
            .replace(email, "eve@example.com")
            .replace("ID=\"", "ID=\"evil");
        let mut xml = signed_xml.clone();
        xml.insert_str(start, &evil);
        b64(&xml)
    };
    let with_doctype = {
        let root = signed_xml.find(":Response ").expect("the Response");
        let root = signed_xml[..root].rfind('<').expect("its tag");
        let mut xml = signed_xml.clone();
        xml.insert_str(root, "<!DOCTYPE r [<!ENTITY who \"eve@example.com\">]>");
        b64(&xml)
    };
    let cases: Vec<(&str, String)> = vec![
        ("replayed", valid.clone()),
        (
            "tampered",
            b64(&signed_xml.replace(email, "eve@example.com")),
        ),
        (
            "unsigned",
            s.response(Login::of(email, &["Leads"]).with(&["--sign", "none"]))
                .await,
        ),
        (
            "signed with SHA-1",
            s.response(Login::of(email, &["Leads"]).with(&["--sha1"]))
                .await,
        ),
        ("wrapped", wrapped),
        ("with a DOCTYPE", with_doctype),
        (
            "for another service provider",
            run_idp(vec![
                "response".into(),
                "--sp-entity-id".into(),
                "https://other.example/saml/metadata".into(),
                "--acs".into(),
                s.acs.clone(),
                "--email".into(),
                email.into(),
            ])
            .await,
        ),
        (
            "to another ACS",
            run_idp(vec![
                "response".into(),
                "--sp-entity-id".into(),
                s.entity_id.clone(),
                "--acs".into(),
                "https://other.example/saml/acs".into(),
                "--email".into(),
                email.into(),
            ])
            .await,
        ),
        (
            "answering a request never sent",
            s.response(Login::of(email, &["Leads"]).with(&["--in-response-to", "_never_sent"]))
                .await,
        ),
        ("not base64", "%%%".to_string()),
    ];
    let before = s.server.snapshot().await;
    for (what, response) in cases {
        let r = s.post(&s.server.anonymous(), &response, None).await;
        assert!(
            r.status == 401 || r.status == 400 || r.status == 403,
            "{what}: {} {}",
            r.status,
            r.text
        );
        assert!(session_cookie(&r).is_none(), "{what}: no session");
        assert_eq!(s.server.snapshot().await, before, "{what} changed nothing");
    }
    assert_eq!(s.role_of(email).await.as_deref(), Some("RE"));

    // Comments inside the email do not cut it short: the whole signed text is the address.
    let sneaky = s
        .response(Login::of("ann@example.com.evil.test", &["Leads"]).with(&["--xml"]))
        .await
        .replace(
            "ann@example.com.evil.test",
            "ann@example.com<!---->.evil.test",
        );
    let r = s.post(&s.server.anonymous(), &b64(&sneaky), None).await;
    assert!(session_cookie(&r).is_none(), "{}", r.text);
    assert_eq!(s.server.snapshot().await, before);

    // Expired: a response signed now, posted after its validity and the skew.
    let late = s.response(Login::of(email, &["Leads"])).await;
    s.server.advance(Duration::from_secs(15 * 60));
    let r = s.post(&s.server.anonymous(), &late, None).await.expect(401);
    assert!(r.text.contains("refused"), "{}", r.text);
    assert_eq!(s.server.snapshot().await, before, "expired changed nothing");
}

#[tokio::test]
async fn a_sign_in_started_here_returns_to_the_page_asked_for_and_is_answered_once() {
    let s = sso().await;
    let browser = s.server.anonymous();
    let start = browser
        .get(&format!("/saml/{}/login?next=/projects", s.token))
        .await
        .expect(303);
    let to_idp = location(&start).to_string();
    assert!(
        to_idp.starts_with("https://idp.test/sso?SAMLRequest="),
        "{to_idp}"
    );
    let request: Value =
        serde_json::from_str(&run_idp(vec!["parse-request".into(), to_idp.clone()]).await)
            .expect("the AuthnRequest as JSON");
    assert_eq!(request["issuer"], json!(s.entity_id));
    assert_eq!(request["acs_url"], json!(s.acs));
    let id = request["id"].as_str().expect("an id").to_string();

    let answer = s
        .response(Login::of("cy@example.com", &["Labelers"]).with(&["--in-response-to", &id]))
        .await;
    let r = s.post(&browser, &answer, None).await.expect(303);
    assert_eq!(location(&r), "/projects");
    assert!(session_cookie(&r).is_some());
    // The request is answered: another response to it is refused, changing nothing.
    let again = s
        .response(Login::of("cy@example.com", &["Leads"]).with(&["--in-response-to", &id]))
        .await;
    let before = s.server.snapshot().await;
    s.post(&browser, &again, None).await.expect(401);
    assert_eq!(s.server.snapshot().await, before);
    assert_eq!(s.role_of("cy@example.com").await.as_deref(), Some("AN"));

    // Only paths on this site are returned to, whoever names them.
    let start = browser
        .get(&format!("/saml/{}/login?next=//evil.example/x", s.token))
        .await
        .expect(303);
    let request: Value = serde_json::from_str(
        &run_idp(vec!["parse-request".into(), location(&start).to_string()]).await,
    )
    .unwrap();
    let answer = s
        .response(
            Login::of("cy@example.com", &["Labelers"])
                .with(&["--in-response-to", request["id"].as_str().unwrap()]),
        )
        .await;
    let r = s.post(&browser, &answer, None).await.expect(303);
    assert_eq!(location(&r), "/");
    for (relay, expected) in [("/audit", "/audit"), ("https://evil.example/", "/")] {
        let answer = s.response(Login::of("cy@example.com", &["Labelers"])).await;
        let r = s.post(&browser, &answer, Some(relay)).await.expect(303);
        assert_eq!(location(&r), expected, "RelayState {relay}");
    }
}

#[tokio::test]
async fn people_the_organization_has_shut_out_stay_out_and_are_told_why() {
    let s = sso().await;
    let owner = s.org.owner_api();
    let by_hand = s
        .org
        .member_with_email("dee@example.com", Role::Annotator)
        .await;
    s.org.set_role(&by_hand, Role::Deactivated).await;
    let deleted = s
        .org
        .member_with_email("del@example.com", Role::Annotator)
        .await;
    owner
        .delete(&s.org.path(&format!("/memberships/{}", deleted.id.0)))
        .await;
    assert!(s.member("del@example.com").await.is_none());

    let before = s.server.snapshot().await;
    let r = s.sign_in("dee@example.com", &["Leads"]).await.expect(403);
    assert!(r.text.contains("deactivated you"), "{}", r.text);
    let r = s.sign_in("del@example.com", &["Leads"]).await.expect(403);
    assert!(r.text.contains("removed"), "{}", r.text);
    // A new person outside the organization's verified domains gets no account.
    let r = s
        .sign_in("eve@elsewhere.test", &["Leads"])
        .await
        .expect(403);
    assert!(r.text.contains("verified domains"), "{}", r.text);
    assert_eq!(s.server.snapshot().await, before, "nothing changed");

    // With every seat taken, a newcomer is told so and nothing is made.
    let used = s.org.seats().await["used"].as_i64().expect("used seats");
    owner
        .patch(&s.org.path(""), json!({"seat_limit": used}))
        .await
        .expect(200);
    let before = s.server.snapshot().await;
    let r = s
        .sign_in("fay@example.com", &["Reviewers"])
        .await
        .expect(403);
    assert!(r.text.contains("no free seat"), "{}", r.text);
    assert_eq!(s.server.snapshot().await, before);
}

#[tokio::test]
async fn an_existing_account_outside_the_verified_domains_is_linked_by_its_owner_signing_in_once() {
    let s = sso().await;
    let globex = s.server.org("Globex").await;
    let gus = globex
        .member_with_email("gus@partner.test", Role::Reviewer)
        .await;
    globex.set_password(&gus).await;

    let mut browser = s.server.browser();
    let response = s.response(Login::of("gus@partner.test", &["Leads"])).await;
    let before = s.server.snapshot_org(s.org.id).await;
    let r = s
        .post(&browser, &response, Some("/projects"))
        .await
        .expect(303);
    assert_eq!(location(&r), format!("/saml/{}/link", s.token));
    assert!(session_cookie(&r).is_none(), "not signed in yet");
    assert_eq!(
        s.server.snapshot_org(s.org.id).await,
        before,
        "not a member yet"
    );

    // The link is for gus alone: someone else signed in who carries it gets nothing.
    let link = set_cookie(&r, "roster_saml_link").expect("the pending link");
    let signed_in = s
        .server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": s.org.owner.email, "password": roster_tests::PASSWORD}),
        )
        .await
        .expect(200);
    let owner = s.server.anonymous().with_session(
        &session_cookie(&signed_in).expect("a session"),
        signed_in.body["csrf_token"].as_str().expect("csrf"),
    );
    let cookie = format!("roster_saml_link={link}");
    let csrf = signed_in.body["csrf_token"].as_str().unwrap().to_string();
    let r = owner
        .send(
            reqwest::Method::POST,
            &format!("/saml/{}/link", s.token),
            Some((
                "application/x-www-form-urlencoded",
                format!("csrf_token={csrf}").into_bytes(),
            )),
            &[("Cookie", &cookie)],
        )
        .await
        .expect(400);
    assert!(r.text.contains("not yours"), "{}", r.text);
    assert_eq!(s.server.snapshot_org(s.org.id).await, before);

    // Not signed in: off to sign in first, then back.
    let r = browser
        .get(&format!("/saml/{}/link", s.token))
        .await
        .expect(303);
    assert!(
        location(&r).starts_with("/user/login?next="),
        "{}",
        location(&r)
    );
    browser
        .sign_in("gus@partner.test", roster_tests::PASSWORD)
        .await
        .expect(200);
    let page = browser
        .get(&format!("/saml/{}/link", s.token))
        .await
        .expect(200);
    assert!(page.text.contains("Acme"), "{}", page.text);
    let csrf = browser.csrf.clone().expect("csrf");
    let r = browser
        .post_form(
            &format!("/saml/{}/link", s.token),
            &[("csrf_token", csrf.as_str())],
        )
        .await
        .expect(303);
    assert_eq!(location(&r), "/projects");
    assert_eq!(s.role_of("gus@partner.test").await.as_deref(), Some("MA"));
    // From now on the identity provider signs them in directly.
    s.sign_in("gus@partner.test", &["Reviewers"])
        .await
        .expect(303);
    assert_eq!(s.role_of("gus@partner.test").await.as_deref(), Some("RE"));
}

/// With SCIM and SAML both set up (Label Studio's interplay): a sign-in re-decides a role that
/// SCIM's group mapping set, but never undoes SCIM's `active=false`; SCIM's project mapping
/// keeps that person's projects.
#[tokio::test]
async fn a_sign_in_overrides_scims_group_role_but_never_its_deactivation_or_projects() {
    use crate::scim::{create_group, create_user, patch, set_mapping};
    let s = sso().await;
    let scim = s.org.idp().await;
    let other = s.org.owner_api().create_project("SCIM's project").await;
    set_mapping(
        &s.org,
        json!({
            "roles_groups": [["Reviewer", "scim-reviewers"]],
            "projects_groups": [{"project_id": other, "group": "scim-reviewers", "role": "Reviewer"}],
        }),
    )
    .await;
    let user = create_user(&scim, "hal@example.com").await;
    let id = user["id"].as_str().expect("a SCIM id").to_string();
    create_group(&scim, "scim-reviewers", &[&id]).await;
    let m = s.member("hal@example.com").await.expect("provisioned");
    assert_eq!(
        (m["role"].clone(), m["role_source"].clone()),
        (json!("RE"), json!("scim"))
    );

    // SAML's mapping decides the role at sign-in; SCIM's project assignment stays SCIM's.
    s.sign_in("hal@example.com", &["Leads", "Labelers"])
        .await
        .expect(303);
    let m = s.member("hal@example.com").await.unwrap();
    assert_eq!(
        (m["role"].clone(), m["role_source"].clone()),
        (json!("MA"), json!("saml"))
    );
    assert!(
        !s.in_project("hal@example.com").await,
        "SAML skips project sync for people SCIM assigns projects"
    );

    // Deactivated by SCIM: signing in through SAML does not bring them back.
    patch(
        &scim,
        &format!("/scim/v2/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await
    .expect(200);
    assert_eq!(s.role_of("hal@example.com").await.as_deref(), Some("DI"));
    let before = s.server.snapshot().await;
    let r = s.sign_in("hal@example.com", &["Leads"]).await.expect(403);
    assert!(r.text.contains("provisioning"), "{}", r.text);
    assert_eq!(s.server.snapshot().await, before);
}

/// An identity provider that encrypts its assertions to the service provider's certificate
/// (from roster's SP metadata) signs people in all the same.
#[tokio::test]
async fn an_encrypted_assertion_is_decrypted_with_the_organizations_own_key() {
    let s = sso().await;
    let metadata = s
        .server
        .anonymous()
        .get(&format!("/saml/{}/metadata", s.token))
        .await
        .expect(200)
        .text;
    let b64_cert = metadata
        .split("X509Certificate>")
        .nth(1)
        .and_then(|c| c.split('<').next())
        .expect("the SP certificate in its metadata");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let pem = dir.path().join("sp.crt");
    std::fs::write(
        &pem,
        format!("-----BEGIN CERTIFICATE-----\n{b64_cert}\n-----END CERTIFICATE-----\n"),
    )
    .expect("written");
    let encrypted = s
        .response(Login::of("ivy@example.com", &["Reviewers"]).with(&[
            "--sign",
            "assertion",
            "--encrypt-for",
            pem.to_str().expect("a path"),
        ]))
        .await;
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&encrypted)
            .expect("base64"),
    )
    .expect("utf-8");
    assert!(xml.contains("EncryptedAssertion") && !xml.contains("ivy@example.com"));
    s.post(&s.server.anonymous(), &encrypted, None)
        .await
        .expect(303);
    assert_eq!(s.role_of("ivy@example.com").await.as_deref(), Some("RE"));
}

/// Where single sign-on is required, the identity provider's sign-in is the way in: the same
/// member's password session is refused there, the session the IdP vouched for acts.
#[tokio::test]
async fn where_single_sign_on_is_required_the_identity_providers_sign_in_is_the_way_in() {
    let s = sso().await;
    let bo = s
        .org
        .member_with_email("bo@example.com", Role::Reviewer)
        .await;
    s.org.set_password(&bo).await;
    let owner = crate::sso_only::browser(&s.server, &s.org.owner.email).await;
    crate::sso_only::enroll(&s.server, &owner).await;
    s.org
        .owner_api()
        .patch(&s.org.path(""), json!({"sso_only": true}))
        .await
        .expect(200);

    let password = crate::sso_only::browser(&s.server, &bo.email).await;
    let r = password.get(&s.org.path("")).await.expect(403);
    assert!(
        r.text.contains("Acme requires single sign-on"),
        "{}",
        r.text
    );

    let r = s.sign_in(&bo.email, &["Leads"]).await.expect(303);
    let through_idp = session_of(&s.server, &r);
    let org = through_idp.get(&s.org.path("")).await.expect(200);
    assert_eq!(org.body["sso_only"], json!(true));
    through_idp.get("/projects").await.expect(200);
}

#[tokio::test]
async fn a_person_in_no_mapped_group_gets_the_fallback_role_and_the_page_foresees_who_moves() {
    let s = sso().await;
    s.org
        .owner_api()
        .post("/api/saml/settings", json!({"fallback_role": "Annotator"}))
        .await
        .expect(200);
    // A newcomer in no mapped group joins in the fallback role, without the mapped project.
    s.sign_in("cy@example.com", &["Sales"]).await.expect(303);
    assert_eq!(s.role_of("cy@example.com").await.as_deref(), Some("AN"));
    assert!(!s.in_project("cy@example.com").await);
    s.sign_in("dee@example.com", &["Leads"]).await.expect(303);
    assert_eq!(s.role_of("dee@example.com").await.as_deref(), Some("MA"));

    // The settings page foresees, from the groups of each person's last sign-in, who another
    // mapping would move; it changes nothing.
    let owner = browser(&s.server, &s.org.owner.email).await;
    let before = s.server.snapshot().await;
    let r = post_page(
        &owner,
        "/organization/saml/mapping",
        &[
            ("rg_role", "RE"),
            ("rg_group", "Leads"),
            ("fallback_role", "AN"),
            ("action", "preview"),
        ],
    )
    .await
    .expect(200);
    assert!(
        r.text
            .contains(&move_row("dee@example.com", "Manager", "Reviewer")),
        "{}",
        r.text
    );
    assert!(!r.text.contains("cy@example.com"), "Cy stays an Annotator");
    assert_eq!(s.server.snapshot().await, before);

    // Leaving every mapped group: the fallback at the next sign-in, still signed in.
    s.sign_in("dee@example.com", &["Sales"]).await.expect(303);
    assert_eq!(s.role_of("dee@example.com").await.as_deref(), Some("AN"));
}

/// The link a page's `Continue` anchor points to, unescaped.
fn continue_link(html: &str) -> String {
    let start = html
        .find("id=\"continue\" href=\"")
        .expect("a Continue link")
        + 20;
    let end = start + html[start..].find('"').expect("the end of the link");
    html[start..end]
        .replace("&#x2f;", "/")
        .replace("&amp;", "&")
}

/// "Sign in with SSO" on the sign-in page sends a person on to the identity provider of the
/// organization whose SAML settings list their email's domain and for which the domain is
/// verified; any other email gets the sign-in form again, saying so, and nothing is started.
#[tokio::test]
async fn sign_in_with_sso_routes_a_verified_domain_to_its_identity_provider() {
    let s = sso().await;
    let web = s.server.anonymous();
    let r = web
        .post_form(
            "/user/login/sso",
            &[
                ("next", "/projects"),
                ("email", "Ann@Example.COM"),
                ("password", ""),
                ("code", ""),
            ],
        )
        .await
        .expect(200);
    let go_to = continue_link(&r.text);
    assert_eq!(go_to, format!("/saml/{}/login?next=%2Fprojects", s.token));
    assert!(r.text.contains("http-equiv=\"refresh\""), "{}", r.text);
    let before = s.server.sql_int("SELECT COUNT(*) FROM saml_requests").await;
    let r = web.get(&go_to).await.expect(303);
    let location = r.headers["location"].to_str().unwrap();
    assert!(
        location.starts_with("https://idp.test/sso?SAMLRequest="),
        "{location}"
    );
    assert_eq!(
        s.server.sql_int("SELECT COUNT(*) FROM saml_requests").await,
        before + 1
    );

    // Another site's path is not kept as where to go next.
    let r = web
        .post_form(
            "/user/login/sso",
            &[("email", "ann@example.com"), ("next", "//evil.example/x")],
        )
        .await
        .expect(200);
    assert_eq!(continue_link(&r.text), format!("/saml/{}/login", s.token));

    // A domain the settings list but that is not verified here, one verified here but not
    // listed, one verified for an organization without SAML, and one nobody has: not routed.
    s.org
        .owner_api()
        .post(
            "/api/saml/settings",
            json!({"domain": "example.com,example.org"}),
        )
        .await
        .expect(200);
    verify(&s.server, &s.org, "labs.example.com").await;
    let other = s.server.org("Other").await;
    verify(&s.server, &other, "other.example").await;
    for email in [
        "ann@example.org",
        "ann@labs.example.com",
        "ann@other.example",
        "ann@nobody.example",
    ] {
        let r = web
            .post_form("/user/login/sso", &[("email", email), ("next", "")])
            .await
            .expect(404);
        assert!(
            r.text.contains("sign in with your password"),
            "{email}: {}",
            r.text
        );
        assert!(
            r.text.contains(email),
            "the form keeps the email: {}",
            r.text
        );
    }
    web.post_form("/user/login/sso", &[("email", "not an email")])
        .await
        .expect(400);
    assert_eq!(
        s.server.sql_int("SELECT COUNT(*) FROM saml_requests").await,
        before + 1,
        "routing an email starts nothing; only following the link did"
    );
}

#[tokio::test]
async fn a_sign_in_gives_the_workspaces_its_groups_map_and_the_next_takes_back_what_it_gave() {
    let s = sso().await;
    let api = s.org.owner_api();
    let ws = api
        .post("/api/workspaces/", json!({"title": "Labeling"}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .expect("a workspace id");
    let saved = api
        .post(
            "/api/saml/settings",
            json!({"workspaces_groups": [["Labeling", "Labelers"]],
                   "manual_workspace_management": false}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        saved["workspaces_groups"],
        json!([["Labeling", "Labelers"]])
    );
    assert_eq!(saved["manual_workspace_management"], json!(false));
    let given_by_saml = format!(
        "SELECT COUNT(*) FROM workspace_members wm JOIN memberships m ON m.id = wm.membership_id
         JOIN users u ON u.id = m.user_id
         WHERE wm.workspace_id = {ws} AND wm.source = 'saml' AND u.email = 'ann@example.com'"
    );

    let email = "ann@example.com";
    s.sign_in(email, &["Labelers"]).await.expect(303);
    assert_eq!(s.server.sql_int(&given_by_saml).await, 1);
    let ann = s.member(email).await.expect("a member")["user"]["id"]
        .as_i64()
        .expect("a user id");
    let log = api
        .get("/api/audit-events?action=workspace.member_added&page_size=100")
        .await
        .expect(200)
        .body;
    assert!(
        roster_tests::results(&log)
            .iter()
            .any(|e| e["source"] == json!("saml") && e["target"]["email"] == json!(email)),
        "{log}"
    );
    // With manual workspace management off, a person cannot take it away.
    let owner = browser(&s.server, &s.org.owner.email).await;
    let before = s.server.snapshot().await;
    api.delete(&format!("/api/workspaces/{ws}/memberships/?user_id={ann}"))
        .await
        .expect(409);
    assert_eq!(s.server.snapshot().await, before);

    // The page foresees that a mapping without the row takes it back at the next sign-in.
    let r = post_page(
        &owner,
        "/organization/saml/mapping",
        &[
            ("rg_role", "AN"),
            ("rg_group", "Labelers"),
            ("fallback_role", "DI"),
            ("action", "preview"),
        ],
    )
    .await
    .expect(200);
    assert!(
        r.text
            .contains("<tr><td>ann@example.com</td><td>Labeling</td><td>leaves</td></tr>"),
        "{}",
        r.text
    );
    assert_eq!(
        s.server.snapshot().await,
        before,
        "a preview changes nothing"
    );

    // Out of the group at the next sign-in: out of the workspace.
    s.sign_in(email, &["Reviewers"]).await.expect(303);
    assert_eq!(s.server.sql_int(&given_by_saml).await, 0);
    assert_eq!(s.role_of(email).await.as_deref(), Some("RE"));
}
