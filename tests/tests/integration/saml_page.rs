//! The SAML settings page through HTTP, as a browser without script uses it: who may open it,
//! the service provider's values to copy, the identity provider's metadata pasted or refused
//! in words, the sign-in settings, the mapping editor's preview (a dry run that changes
//! nothing) and save, removing the settings, and the CSRF check on every form.

use roster_domain::Role;
use roster_tests::{json, OrgFixture, Person, TestServer};
use serde_json::Value;

use crate::saml::IDP_METADATA;
use crate::scim_page::{
    admins_only_and_linked, browser, input_value, member_browser, move_row, post_page, role_of,
};

async fn api_settings(org: &OrgFixture) -> Value {
    org.owner_api()
        .get("/api/saml/settings")
        .await
        .expect(200)
        .body
}

/// The organization's SAML set up with the test identity provider's metadata.
async fn with_idp(org: &OrgFixture) {
    org.owner_api()
        .post("/api/saml/settings", json!({"metadata_xml": IDP_METADATA}))
        .await
        .expect(200);
}

/// Records that `person` last signed in through the identity provider with `groups`, as a
/// sign-in does (the live IdP's sign-ins are in saml_login.rs); `idp_set_role`: the sign-in
/// gave them their role, rather than a person.
async fn signed_in_with(
    server: &TestServer,
    org: &OrgFixture,
    person: &Person,
    groups: &[&str],
    idp_set_role: bool,
) {
    let groups = serde_json::to_string(groups).expect("json");
    server
        .sql_execute(&format!(
            "INSERT INTO saml_identities (org_id, user_id, name_id, groups, last_login_at)
             VALUES ({}, {}, '{}', '{groups}', 0)",
            org.id.0, person.id.0, person.email
        ))
        .await;
    if idp_set_role {
        server
            .sql_execute(&format!(
                "UPDATE memberships SET role_source = 'saml'
                 WHERE org_id = {} AND user_id = {} AND deleted_at IS NULL",
                org.id.0, person.id.0
            ))
            .await;
    }
}

#[tokio::test]
async fn an_administrator_sees_the_values_to_copy_and_a_manager_gets_the_403_page() {
    let server = TestServer::start().await;
    let org = server.org("Page").await;
    let admin = member_browser(&server, &org, Role::Administrator).await;
    let r = admin.get("/organization/saml").await.expect(200);
    assert!(
        r.text.contains("<h1>Single sign-on (SAML)</h1>"),
        "{}",
        r.text
    );
    let api = api_settings(&org).await;
    for (id, field) in [
        ("sp-entity-id", "sp_entity_id"),
        ("sp-acs-url", "acs_url"),
        ("sp-login-url", "login_url"),
        ("sp-logout-url", "logout_url"),
        ("sp-metadata-url", "metadata_xml_url"),
    ] {
        assert_eq!(
            input_value(&r.text, id).as_deref(),
            api[field].as_str(),
            "{id}"
        );
        assert!(r.text.contains(&format!("data-copy=\"{id}\"")), "{id}");
    }
    assert!(r.text.contains("No identity provider yet"));
    assert!(
        !r.text.contains("Remove SAML settings"),
        "nothing to remove yet"
    );
    let manager = member_browser(&server, &org, Role::Manager).await;
    admins_only_and_linked(
        &admin,
        &manager,
        "/organization/saml",
        "Single sign-on (SAML)",
    )
    .await;
    let before = server.snapshot().await;
    post_page(
        &manager,
        "/organization/saml/idp",
        &[("action", "paste"), ("metadata_xml", IDP_METADATA)],
    )
    .await
    .expect(403);
    post_page(&manager, "/organization/saml/reset", &[])
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn metadata_pasted_through_the_form_is_read_back_and_bad_metadata_is_refused_in_words() {
    let server = TestServer::start().await;
    let org = server.org("Metadata").await;
    let owner = browser(&server, &org.owner.email).await;

    let before = server.snapshot().await;
    let r = post_page(
        &owner,
        "/organization/saml/idp",
        &[("action", "paste"), ("metadata_xml", "<not-metadata/>")],
    )
    .await
    .expect(400);
    assert!(
        r.text.contains("Metadata: the metadata cannot be used"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("&lt;not-metadata/&gt;</textarea>"),
        "the refused form comes back as typed"
    );
    // A loopback address is refused before anything is fetched.
    let r = post_page(
        &owner,
        "/organization/saml/idp",
        &[
            ("action", "fetch"),
            ("metadata_url", "http://127.0.0.1:9/metadata"),
        ],
    )
    .await
    .expect(400);
    assert!(r.text.contains("Metadata URL: "), "{}", r.text);
    assert_eq!(
        input_value(&r.text, "metadata-url").as_deref(),
        Some("http://127.0.0.1:9/metadata")
    );
    // "Fetch now" needs a metadata URL to fetch from.
    let r = post_page(&owner, "/organization/saml/idp", &[("action", "refresh")])
        .await
        .expect(400);
    assert!(
        r.text
            .contains("Metadata URL: the SAML settings have no metadata URL to fetch from"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before, "refusals change nothing");

    let r = post_page(
        &owner,
        "/organization/saml/idp",
        &[("action", "paste"), ("metadata_xml", IDP_METADATA)],
    )
    .await
    .expect(200);
    assert!(
        r.text
            .contains("Saved the metadata of the identity provider https://idp.test/metadata."),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains("<dd id=\"idp-entity-id\">https://idp.test/metadata</dd>"));
    assert!(r
        .text
        .contains("<dd id=\"idp-sso-url\">https://idp.test/sso</dd>"));
    assert!(
        r.text.contains("<li class=\"certificate\">CN="),
        "{}",
        r.text
    );
    assert!(r.text.contains("Remove SAML settings"));
    let api = api_settings(&org).await;
    assert_eq!(api["configured"], json!(true));
    assert_eq!(api["idp_entity_id"], json!("https://idp.test/metadata"));
    assert_eq!(api["idp_signing_certificates"], json!(1));
}

#[tokio::test]
async fn the_sign_in_settings_are_saved_through_the_form_and_refusals_keep_what_was_typed() {
    let server = TestServer::start().await;
    let org = server.org("Settings").await;
    with_idp(&org).await;
    let owner = browser(&server, &org.owner.email).await;
    let form = |domain: &'static str| {
        vec![
            ("domain", domain),
            ("idp_provider", "okta"),
            (
                "nameid_format",
                "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            ),
            ("mapping_email", "mail"),
            ("mapping_first_name", "givenName"),
            ("mapping_last_name", "sn"),
            ("mapping_groups", "memberOf"),
            // The form shows the manual-management boxes (a hidden field says so).
            ("manual_management", "shown"),
            ("manual_role_management", "on"),
            ("manual_workspace_management", "on"),
            ("manual_project_member_management", "on"),
        ]
    };
    let r = post_page(
        &owner,
        "/organization/saml/settings",
        &form("Example.com, labs.example.com"),
    )
    .await
    .expect(200);
    assert!(r.text.contains("Saved the sign-in settings."), "{}", r.text);
    assert_eq!(
        input_value(&r.text, "saml-domain").as_deref(),
        Some("example.com, labs.example.com")
    );
    assert!(r.text.contains("name=\"manual_role_management\" checked"));
    let api = api_settings(&org).await;
    assert_eq!(api["domain"], json!("example.com,labs.example.com"));
    assert_eq!(api["idp_provider"], json!("okta"));
    assert_eq!(api["mapping_groups"], json!("memberOf"));
    assert_eq!(api["manual_role_management"], json!(true));

    let before = server.snapshot().await;
    let r = post_page(&owner, "/organization/saml/settings", &form("gmail.com"))
        .await
        .expect(400);
    assert!(
        r.text
            .contains("Email domains: gmail.com is a public email provider&#x27;s domain"),
        "{}",
        r.text
    );
    assert_eq!(
        input_value(&r.text, "saml-domain").as_deref(),
        Some("gmail.com")
    );
    assert_eq!(server.snapshot().await, before);

    // Unticking a box turns its setting off; the others stay as ticked.
    let mut off = form("example.com");
    off.retain(|(k, _)| !matches!(*k, "manual_role_management" | "manual_workspace_management"));
    let r = post_page(&owner, "/organization/saml/settings", &off)
        .await
        .expect(200);
    assert!(!r.text.contains("name=\"manual_role_management\" checked"));
    assert!(!r
        .text
        .contains("name=\"manual_workspace_management\" checked"));
    assert!(r
        .text
        .contains("name=\"manual_project_member_management\" checked"));
    let api = api_settings(&org).await;
    assert_eq!(api["manual_role_management"], json!(false));
    assert_eq!(api["manual_workspace_management"], json!(false));
    assert_eq!(api["manual_project_member_management"], json!(true));
    // A form without the boxes (drawn before they were there) changes none of them.
    let mut older = form("example.com");
    older.retain(|(k, _)| !k.starts_with("manual_"));
    post_page(&owner, "/organization/saml/settings", &older)
        .await
        .expect(200);
    assert_eq!(
        api_settings(&org).await["manual_workspace_management"],
        json!(false)
    );
}

#[tokio::test]
async fn the_preview_says_who_moves_at_their_next_sign_in_and_changes_nothing_and_save_keeps_the_mapping(
) {
    let server = TestServer::start().await;
    let org = server.org("Preview").await;
    with_idp(&org).await;
    let project = org.owner_api().create_project("Signs").await;
    let owner = browser(&server, &org.owner.email).await;
    let rae = org
        .member_with_email("rae@example.com", Role::Reviewer)
        .await;
    let lou = org
        .member_with_email("lou@example.com", Role::Annotator)
        .await;
    signed_in_with(&server, &org, &rae, &["Reviewers"], true).await;
    signed_in_with(&server, &org, &lou, &["Labelers"], true).await;
    // A role a person set stays while manual role management is on (the default).
    let han = org
        .member_with_email("han@example.com", Role::Reviewer)
        .await;
    signed_in_with(&server, &org, &han, &["Reviewers"], false).await;
    // A member who never signed in through the identity provider is not foreseen.
    org.member_with_email("pat@example.com", Role::Manager)
        .await;

    let project_text = project.to_string();
    let fields = [
        ("rg_role", "MA"),
        ("rg_group", "Reviewers"),
        ("rg_role", "AN"),
        ("rg_group", "Labelers"),
        ("pg_project", project_text.as_str()),
        ("pg_group", "Labelers"),
        ("pg_role", "Reviewer"),
        ("fallback_role", "NO"),
    ];
    let before = server.snapshot().await;
    let mut preview = fields.to_vec();
    preview.push(("try_groups", "Labelers\r\nSales\r\n"));
    preview.push(("action", "preview"));
    let r = post_page(&owner, "/organization/saml/mapping", &preview)
        .await
        .expect(200);
    assert!(
        r.text
            .contains(&move_row("rae@example.com", "Reviewer", "Manager")),
        "{}",
        r.text
    );
    assert!(
        !r.text.contains("lou@example.com"),
        "Lou stays an Annotator"
    );
    assert!(
        !r.text.contains("han@example.com"),
        "Han's role was set by hand"
    );
    assert!(!r.text.contains("pat@example.com"));
    assert!(
        r.text.contains("would join as Annotator"),
        "try a person: {}",
        r.text
    );
    assert!(r.text.contains("<li>Signs, as Reviewer</li>"), "{}", r.text);
    assert!(r.text.contains("Save this mapping"));
    assert_eq!(server.snapshot().await, before, "a preview changes nothing");

    // A person in no role group, with a Deactivated fallback, would be turned away.
    let r = post_page(
        &owner,
        "/organization/saml/mapping",
        &[
            ("rg_role", "MA"),
            ("rg_group", "Reviewers"),
            ("fallback_role", "DI"),
            ("try_groups", "Sales"),
            ("action", "preview"),
        ],
    )
    .await
    .expect(200);
    assert!(r.text.contains("would be turned away: None of your groups"));
    assert!(
        r.text
            .contains(&move_row("lou@example.com", "Annotator", "Deactivated")),
        "{}",
        r.text
    );
    // A fallback that manages others is refused in words, with the editor as sent.
    let r = post_page(
        &owner,
        "/organization/saml/mapping",
        &[
            ("rg_role", "RE"),
            ("rg_group", "Typed"),
            ("fallback_role", "MA"),
            ("action", "preview"),
        ],
    )
    .await
    .expect(400);
    assert!(
        r.text.contains("Mapping: ") && r.text.contains("cannot be the fallback role"),
        "{}",
        r.text
    );
    assert!(r.text.contains("value=\"Typed\""));
    assert_eq!(server.snapshot().await, before);

    // Save sends what was previewed; roles change only at the next sign-in.
    let mut save = fields.to_vec();
    save.push(("action", "save"));
    let r = post_page(&owner, "/organization/saml/mapping", &save)
        .await
        .expect(200);
    assert!(
        r.text
            .contains("Saved. 1 member moves at their next sign-in."),
        "{}",
        r.text
    );
    assert!(r
        .text
        .contains(&move_row("rae@example.com", "Reviewer", "Manager")));
    assert_eq!(
        role_of(&org, "rae@example.com").await.as_deref(),
        Some("RE")
    );
    let api = api_settings(&org).await;
    assert_eq!(
        api["roles_groups"],
        json!([["Manager", "Reviewers"], ["Annotator", "Labelers"]])
    );
    assert_eq!(
        api["projects_groups"],
        json!([{"project_id": project, "group": "Labelers", "role": "Reviewer"}])
    );
    assert_eq!(api["fallback_role"], json!("Not Activated"));
    let page = owner.get("/organization/saml").await.expect(200);
    assert!(page.text.contains("value=\"Reviewers\""));
}

#[tokio::test]
async fn the_editors_row_buttons_work_without_script() {
    let server = TestServer::start().await;
    let org = server.org("Rows").await;
    let admin = member_browser(&server, &org, Role::Administrator).await;
    // (button, role rows drawn besides the new-row template)
    for (action, rows) in [("add-role", 2), ("remove-role-0", 0)] {
        let r = post_page(
            &admin,
            "/organization/saml/mapping",
            &[
                ("rg_role", "AD"),
                ("rg_group", "Admins"),
                ("fallback_role", "DI"),
                ("try_groups", "Admins"),
                ("action", action),
            ],
        )
        .await
        .expect(200);
        assert_eq!(
            r.text.matches("<tr class=\"role-row\">").count(),
            rows + 1,
            "{action}"
        );
        assert!(r
            .text
            .contains("formaction=\"/organization/saml/mapping#mapping\""));
        assert!(
            r.text.contains(">Admins</textarea>"),
            "what was typed stays"
        );
    }
}

#[tokio::test]
async fn removing_the_settings_needs_the_csrf_token_and_keeps_the_members() {
    let server = TestServer::start().await;
    let org = server.org("Reset").await;
    with_idp(&org).await;
    let mut owner = browser(&server, &org.owner.email).await;
    let csrf = owner.csrf.take().expect("signed in");
    let before = server.snapshot().await;
    owner
        .post_form("/organization/saml/reset", &[])
        .await
        .expect(403);
    owner
        .post_form(
            "/organization/saml/idp",
            &[("action", "paste"), ("metadata_xml", IDP_METADATA)],
        )
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);

    owner.csrf = Some(csrf);
    let r = post_page(&owner, "/organization/saml/reset", &[])
        .await
        .expect(200);
    assert!(r.text.contains("SAML settings removed"), "{}", r.text);
    assert!(r.text.contains("No identity provider yet"));
    assert_eq!(api_settings(&org).await["configured"], json!(false));
    assert_eq!(role_of(&org, &org.owner.email).await.as_deref(), Some("OW"));
}
