//! The SCIM settings page through HTTP, as a browser without script uses it: who may open it,
//! the token shown once, the mapping editor's preview (a dry run that changes nothing) and
//! save, the service's refusals in words, and the CSRF check on every form.

use roster_domain::Role;
use roster_tests::{json, Api, OrgFixture, TestServer, PASSWORD};

use crate::scim::verify;
use serde_json::Value;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

/// A signed-in browser session of `email`.
pub(crate) async fn browser(server: &TestServer, email: &str) -> Api {
    let mut b = server.browser();
    b.sign_in(email, PASSWORD).await.expect(200);
    b
}

/// A signed-in browser session of a new member in `role`.
pub(crate) async fn member_browser(server: &TestServer, org: &OrgFixture, role: Role) -> Api {
    let person = org.member(role).await;
    org.set_password(&person).await;
    browser(server, &person.email).await
}

/// Posts a page form with the session's CSRF token in its `csrf_token` field, as the page does.
pub(crate) async fn post_page(b: &Api, path: &str, fields: &[(&str, &str)]) -> roster_tests::Resp {
    let csrf = b.csrf.clone().expect("signed in");
    let mut all = vec![("csrf_token", csrf.as_str())];
    all.extend_from_slice(fields);
    b.post_form(path, &all).await
}

/// The value of the input with `id` in a page.
pub(crate) fn input_value(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let rest = &html[at..];
    let start = rest.find("value=\"")? + "value=\"".len();
    let end = rest[start..].find('"')?;
    Some(rest[start..start + end].to_string())
}

/// A row of the moves table as the page draws it.
pub(crate) fn move_row(email: &str, from: &str, to: &str) -> String {
    format!("<tr><td>{email}</td><td>{from}</td><td>{to}</td></tr>")
}

/// The organization's identity provider with a token made on the page.
async fn idp_from_page(server: &TestServer, owner: &Api) -> Api {
    let r = post_page(owner, "/organization/scim/token", &[])
        .await
        .expect(200);
    let token = input_value(&r.text, "new-token-value").expect("the new token is shown");
    server.anonymous().with_auth(&format!("Bearer {token}"))
}

async fn provision(idp: &Api, email: &str) -> String {
    let r = idp
        .post(
            "/scim/v2/Users",
            json!({"schemas": [USER], "userName": email, "active": true,
                   "emails": [{"value": email, "primary": true}]}),
        )
        .await
        .expect(201);
    r.body["id"].as_str().expect("an id").to_string()
}

async fn group(idp: &Api, name: &str, members: &[String]) {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    idp.post(
        "/scim/v2/Groups",
        json!({"schemas": [GROUP], "displayName": name, "members": members}),
    )
    .await
    .expect(201);
}

pub(crate) async fn role_of(org: &OrgFixture, email: &str) -> Option<String> {
    let r = org
        .owner_api()
        .get(&org.path(&format!("/memberships?search={email}")))
        .await
        .expect(200);
    roster_tests::results(&r.body)
        .iter()
        .find(|m| m["user"]["email"] == json!(email))
        .and_then(|m| m["role"].as_str().map(str::to_string))
}

/// A settings page at `path`: the menu (named `link`) and the Organization page lead an
/// Administrator there; a Manager gets the 403 page, without the page or a link to it.
pub(crate) async fn admins_only_and_linked(admin: &Api, manager: &Api, path: &str, link: &str) {
    let r = admin.get(path).await.expect(200);
    assert!(
        r.text.contains(&format!("<a href=\"{path}\">{link}</a>")),
        "the menu leads to {path}"
    );
    let o = admin.get("/organization").await.expect(200);
    assert!(o.text.contains(&format!("href=\"{path}\"")));

    let r = manager.get(path).await.expect(403);
    assert!(
        r.text
            .contains("Only Owners and Administrators can open the Organization page"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("mapping-form"));
    assert!(
        !r.text.contains(&format!("{path}\"")),
        "no menu link for a Manager"
    );
}

#[tokio::test]
async fn an_administrator_sees_the_scim_page_and_a_manager_gets_the_403_page() {
    let server = TestServer::start().await;
    let org = server.org("Page").await;
    let admin = member_browser(&server, &org, Role::Administrator).await;
    let r = admin.get("/organization/scim").await.expect(200);
    assert!(r.text.contains("<h1>SCIM provisioning</h1>"), "{}", r.text);
    assert_eq!(
        input_value(&r.text, "scim-base-url").as_deref(),
        Some(format!("{}/scim/v2", server.url).as_str())
    );
    assert!(r.text.contains("has no SCIM token yet"));
    assert!(r.text.contains("Create token"));
    assert!(r.text.contains(&format!(
        "roster org domain add --org {} example.com",
        org.id.0
    )));
    let manager = member_browser(&server, &org, Role::Manager).await;
    admins_only_and_linked(&admin, &manager, "/organization/scim", "SCIM provisioning").await;
    let before = server.snapshot().await;
    post_page(&manager, "/organization/scim/token", &[])
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn a_token_made_on_the_page_is_shown_once_and_opens_the_scim_api() {
    let server = TestServer::start().await;
    let org = server.org("Token").await;
    let owner = browser(&server, &org.owner.email).await;
    let r = post_page(&owner, "/organization/scim/token", &[])
        .await
        .expect(200);
    assert!(r.text.contains("it will not be shown again"), "{}", r.text);
    assert!(r.text.contains("Rotate token"));
    let token = input_value(&r.text, "new-token-value").expect("token shown");
    assert!(token.starts_with("scim_"), "{token}");
    assert!(
        r.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store"),
        "the page with the token is not cached"
    );

    let idp = server.anonymous().with_auth(&format!("Bearer {token}"));
    idp.get("/scim/v2/Users").await.expect(200);
    // Shown once: the page no longer holds it.
    let again = owner.get("/organization/scim").await.expect(200);
    assert!(!again.text.contains(&token));
    assert!(again.text.contains("has a SCIM token, made"));

    // Rotating makes a new token and the first one stops working.
    let r = post_page(&owner, "/organization/scim/token", &[])
        .await
        .expect(200);
    let second = input_value(&r.text, "new-token-value").expect("token shown");
    assert_ne!(second, token);
    idp.get("/scim/v2/Users").await.expect(401);
    server
        .anonymous()
        .with_auth(&format!("Bearer {second}"))
        .get("/scim/v2/Users")
        .await
        .expect(200);
}

#[tokio::test]
async fn a_mapping_saved_through_the_form_is_what_the_api_returns() {
    let server = TestServer::start().await;
    let org = server.org("Saved").await;
    let project = org.owner_api().create_project("Signs").await;
    let owner = browser(&server, &org.owner.email).await;
    let project_text = project.to_string();
    let r = post_page(
        &owner,
        "/organization/scim/mapping",
        &[
            ("rg_role", "AD"),
            ("rg_group", "IdP Admins"),
            ("rg_role", "RE"),
            ("rg_group", "Reviewers"),
            // An unfilled row is left out.
            ("rg_role", "AN"),
            ("rg_group", ""),
            ("pg_project", &project_text),
            ("pg_group", "Sign labelers"),
            ("pg_role", "Reviewer"),
            ("fallback_role", "NO"),
            ("delete_action", "deactivate"),
            ("max_deprovision", "7"),
            ("action", "save"),
        ],
    )
    .await
    .expect(200);
    assert!(r.text.contains("Saved. 0 members moved."), "{}", r.text);
    let api = owner.get("/api/scim/settings").await.expect(200).body;
    assert_eq!(
        api["roles_groups"],
        json!([["Administrator", "IdP Admins"], ["Reviewer", "Reviewers"]])
    );
    assert_eq!(
        api["projects_groups"],
        json!([{"project_id": project, "group": "Sign labelers", "role": "Reviewer"}])
    );
    assert_eq!(api["fallback_role"], json!("Not Activated"));
    assert_eq!(api["delete_action"], json!("deactivate"));
    assert_eq!(api["max_deprovision"], json!(7));
    // The page shows what was saved.
    let page = owner.get("/organization/scim").await.expect(200);
    assert!(page.text.contains("value=\"IdP Admins\""));
    assert!(page.text.contains("value=\"Sign labelers\""));
    assert_eq!(
        input_value(&page.text, "max-deprovision").as_deref(),
        Some("7")
    );
}

#[tokio::test]
async fn the_preview_lists_the_moves_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Preview").await;
    let owner = browser(&server, &org.owner.email).await;
    let idp = idp_from_page(&server, &owner).await;
    verify(&server, &org, "example.com").await;
    let sam = provision(&idp, "sam@example.com").await;
    provision(&idp, "kim@example.com").await;
    group(&idp, "Labelers", &[sam]).await;
    assert_eq!(
        role_of(&org, "sam@example.com").await.as_deref(),
        Some("DI")
    );

    let fields = [
        ("rg_role", "RE"),
        ("rg_group", "Labelers"),
        ("fallback_role", "DI"),
        ("delete_action", "delete"),
        ("max_deprovision", ""),
    ];
    let before = server.snapshot().await;
    let mut preview = fields.to_vec();
    preview.push(("action", "preview"));
    let r = post_page(&owner, "/organization/scim/mapping", &preview)
        .await
        .expect(200);
    assert!(
        r.text
            .contains(&move_row("sam@example.com", "Deactivated", "Reviewer")),
        "{}",
        r.text
    );
    assert!(!r.text.contains("kim@example.com"), "Kim does not move");
    assert!(r.text.contains("Save this mapping"));
    assert_eq!(server.snapshot().await, before, "a preview changes nothing");

    // Save sends exactly what was previewed (the hidden fields) and moves the previewed people.
    let mut save = fields.to_vec();
    save.push(("action", "save"));
    let r = post_page(&owner, "/organization/scim/mapping", &save)
        .await
        .expect(200);
    assert!(r.text.contains("Saved. 1 member moved."), "{}", r.text);
    assert!(r
        .text
        .contains(&move_row("sam@example.com", "Deactivated", "Reviewer")));
    assert_eq!(
        role_of(&org, "sam@example.com").await.as_deref(),
        Some("RE")
    );
    assert_eq!(
        role_of(&org, "kim@example.com").await.as_deref(),
        Some("DI")
    );
}

#[tokio::test]
async fn forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Csrf").await;
    let mut owner = browser(&server, &org.owner.email).await;
    let csrf = owner.csrf.take().expect("signed in");
    let before = server.snapshot().await;
    let save = [
        ("rg_role", "AD"),
        ("rg_group", "Admins"),
        ("fallback_role", "DI"),
        ("delete_action", "delete"),
        ("action", "save"),
    ];
    let r = owner
        .post_form("/organization/scim/mapping", &save)
        .await
        .expect(403);
    assert!(r.text.contains("CSRF"), "{}", r.text);
    owner
        .post_form("/organization/scim/token", &[])
        .await
        .expect(403);
    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&save);
    owner
        .post_form("/organization/scim/mapping", &wrong)
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    // With the session's token the same form saves.
    let mut right = vec![("csrf_token", csrf.as_str())];
    right.extend_from_slice(&save);
    owner
        .post_form("/organization/scim/mapping", &right)
        .await
        .expect(200);
}

#[tokio::test]
async fn refusals_are_shown_in_words_with_the_form_as_it_was_sent() {
    let server = TestServer::start().await;
    let org = server.org("Words").await;
    let admin = member_browser(&server, &org, Role::Administrator).await;
    let before = server.snapshot().await;
    // An Administrator may not raise the deprovisioning limit.
    let r = post_page(
        &admin,
        "/organization/scim/mapping",
        &[
            ("rg_role", "AD"),
            ("rg_group", "Admins"),
            ("fallback_role", "DI"),
            ("delete_action", "delete"),
            ("max_deprovision", "40"),
            ("action", "save"),
        ],
    )
    .await
    .expect(403);
    assert!(
        r.text
            .contains("Only the Owner may raise the deprovisioning limit."),
        "{}",
        r.text
    );
    assert_eq!(
        input_value(&r.text, "max-deprovision").as_deref(),
        Some("40")
    );
    assert!(r.text.contains("value=\"Admins\""), "the row comes back");
    // A mapping the domain refuses: the reason, named after the editor's part.
    let r = post_page(
        &admin,
        "/organization/scim/mapping",
        &[
            ("rg_role", "AD"),
            ("rg_group", "Admins"),
            ("rg_role", "AD"),
            ("rg_group", "Admins"),
            ("fallback_role", "AD"),
            ("delete_action", "delete"),
            ("action", "preview"),
        ],
    )
    .await
    .expect(400);
    assert!(r.text.contains("role=\"alert\""), "{}", r.text);
    assert!(
        r.text.contains("Mapping: ") && r.text.contains("cannot be the fallback role"),
        "{}",
        r.text
    );
    assert!(!r.text.contains("\"detail\""), "a page, not a JSON error");
    // Not a number.
    let r = post_page(
        &admin,
        "/organization/scim/mapping",
        &[
            ("fallback_role", "DI"),
            ("delete_action", "delete"),
            ("max_deprovision", "ten"),
            ("action", "preview"),
        ],
    )
    .await
    .expect(400);
    assert!(
        r.text.contains("Deprovisioning limit: give a whole number"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn the_deprovisioning_guard_is_shown_in_words_and_only_the_owner_confirms_past_it() {
    let server = TestServer::start().await;
    let org = server.org("Guard").await;
    let owner = browser(&server, &org.owner.email).await;
    let idp = idp_from_page(&server, &owner).await;
    verify(&server, &org, "example.com").await;
    org.owner_api()
        .post(
            "/api/scim/settings",
            json!({"roles_groups": [["Annotator", "Staff"]]}),
        )
        .await
        .expect(200);
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(provision(&idp, &format!("staff{i}@example.com")).await);
    }
    group(&idp, "Staff", &ids).await;
    assert_eq!(
        role_of(&org, "staff0@example.com").await.as_deref(),
        Some("AN")
    );

    // Renaming the mapped group would send all six to the fallback: more than the limit of 5.
    let renamed = [
        ("rg_role", "AN"),
        ("rg_group", "Staff members"),
        ("fallback_role", "DI"),
        ("delete_action", "delete"),
        ("max_deprovision", ""),
        ("action", "save"),
    ];
    // The refusal itself is recorded (an audit event); nothing else changes.
    let without_audit = |snapshot: String| {
        snapshot
            .lines()
            .filter(|l| !l.starts_with("audit_events:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let before = without_audit(server.snapshot().await);
    let r = post_page(&owner, "/organization/scim/mapping", &renamed)
        .await
        .expect(409);
    assert!(
        r.text.contains("this would deactivate or remove 6 members"),
        "{}",
        r.text
    );
    assert!(r.text.contains("name=\"confirm_deprovision\""));
    assert!(r
        .text
        .contains(&move_row("staff3@example.com", "Annotator", "Deactivated")));
    assert_eq!(
        without_audit(server.snapshot().await),
        before,
        "nothing was changed"
    );
    assert!(server.snapshot().await.contains("scim.request_refused"));

    let mut confirmed = renamed.to_vec();
    confirmed.push(("confirm_deprovision", "yes"));
    let admin = member_browser(&server, &org, Role::Administrator).await;
    let r = post_page(&admin, "/organization/scim/mapping", &confirmed)
        .await
        .expect(403);
    assert!(r.text.contains("Only the Owner may confirm"), "{}", r.text);
    let r = post_page(&owner, "/organization/scim/mapping", &confirmed)
        .await
        .expect(200);
    assert!(r.text.contains("Saved. 6 members moved."), "{}", r.text);
    assert_eq!(
        role_of(&org, "staff5@example.com").await.as_deref(),
        Some("DI")
    );
}
