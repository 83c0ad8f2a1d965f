//! The Workspaces pages and the project members panel through HTTP, as a browser without
//! script uses them: what each role sees (read-only for Annotators and Reviewers, a 404 page
//! for a workspace they do not see), form posts that change memberships and write audit
//! events recorded as from the pages, and refused posts that change nothing and say why.

use roster_domain::Role;
use roster_tests::{json, results, Api, OrgFixture, Person, Resp, TestServer};

use crate::scim_page::{browser, post_page};
use crate::workspaces::create_workspace;

pub(crate) fn location(r: &Resp) -> String {
    r.headers
        .get("location")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).to_string())
        .unwrap_or_default()
}

/// Follows a page form's redirect (303) and returns the page it leads to.
pub(crate) async fn followed(b: &Api, r: Resp) -> Resp {
    assert_eq!(r.status, 303, "a redirect; body: {}", r.text);
    b.get(&location(&r)).await.expect(200)
}

async fn member_with_browser(server: &TestServer, org: &OrgFixture, role: Role) -> (Person, Api) {
    let p = org.member(role).await;
    org.set_password(&p).await;
    let b = browser(server, &p.email).await;
    (p, b)
}

/// The newest audit events' actions and sources, newest first.
pub(crate) async fn recent_events(owner: &Api, n: usize) -> Vec<(String, String)> {
    let log = owner
        .get(&format!("/api/audit-events/?page_size={n}"))
        .await
        .expect(200);
    results(&log.body)
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap_or_default().to_string(),
                e["source"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn workspace_member_ids(owner: &Api, ws: i64) -> Vec<i64> {
    let r = owner
        .get(&format!("/api/workspaces/{ws}/memberships/"))
        .await
        .expect(200);
    let mut ids: Vec<i64> = r
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn each_role_sees_the_workspaces_it_may_and_annotators_only_read() {
    let server = TestServer::start().await;
    let org = server.org("Pages").await;
    let owner_api = org.owner_api();
    let ws_a = create_workspace(&owner_api, "Alpha team").await;
    let ws_b = create_workspace(&owner_api, "Beta team").await;
    let p1 = owner_api.create_project("Street signs").await;
    owner_api
        .post(
            &format!("/api/workspaces/{ws_a}/projects/"),
            json!({"project": p1}),
        )
        .await
        .expect(201);
    let (manager, manager_b) = member_with_browser(&server, &org, Role::Manager).await;
    owner_api
        .post(
            &format!("/api/workspaces/{ws_a}/memberships/"),
            json!({"user": manager.id.0}),
        )
        .await
        .expect(201);
    let (annotator, annotator_b) = member_with_browser(&server, &org, Role::Annotator).await;
    owner_api
        .post(
            &format!("/api/projects/{p1}/members"),
            json!({"user": annotator.id.0}),
        )
        .await
        .expect(201);
    let (_, idle_b) = member_with_browser(&server, &org, Role::Annotator).await;
    let owner_b = browser(&server, &org.owner.email).await;

    // The Owner: every workspace, the menu link, the create form, and the forms of each.
    let list = owner_b.get("/workspaces").await.expect(200);
    assert!(list.text.contains("<a href=\"/workspaces\">Workspaces</a>"));
    assert!(list
        .text
        .contains(&format!("href=\"/workspaces/{ws_a}\">Alpha team</a>")));
    assert!(list
        .text
        .contains(&format!("href=\"/workspaces/{ws_b}\">Beta team</a>")));
    assert!(list.text.contains("id=\"create-workspace\""));
    let page = owner_b
        .get(&format!("/workspaces/{ws_b}"))
        .await
        .expect(200);
    for form in [
        "workspace-settings",
        "workspace-members",
        "add-project",
        "add-member",
    ] {
        assert!(page.text.contains(&format!("id=\"{form}\"")), "{form}");
    }
    assert!(
        page.text.contains("/remove\""),
        "the Owner's own row can be removed"
    );

    // A Manager: their workspace, managed; not the other one, which is a 404 page.
    let list = manager_b.get("/workspaces").await.expect(200);
    assert!(list.text.contains("Alpha team"));
    assert!(!list.text.contains("Beta team"));
    assert!(list.text.contains("id=\"create-workspace\""));
    let page = manager_b
        .get(&format!("/workspaces/{ws_a}"))
        .await
        .expect(200);
    assert!(page.text.contains("id=\"workspace-settings\""));
    assert!(page.text.contains(&manager.email));
    let r = manager_b
        .get(&format!("/workspaces/{ws_b}"))
        .await
        .expect(404);
    assert!(r
        .text
        .contains(&format!("No workspace {ws_b} in this organization.")));
    assert!(!r.text.contains("Beta team"));

    // An Annotator: the workspace holding their project, read only; no create form.
    let list = annotator_b.get("/workspaces").await.expect(200);
    assert!(list.text.contains("<a href=\"/workspaces\">Workspaces</a>"));
    assert!(list.text.contains("Alpha team"));
    assert!(!list.text.contains("Beta team"));
    assert!(!list.text.contains("create-workspace"));
    let page = annotator_b
        .get(&format!("/workspaces/{ws_a}"))
        .await
        .expect(200);
    assert!(page
        .text
        .contains(&format!("href=\"/projects/{p1}\">Street signs</a>")));
    assert!(page.text.contains("id=\"read-only\""));
    for form in [
        "workspace-settings",
        "workspace-members",
        "add-project",
        "add-member",
        "/remove\"",
        "delete-workspace",
    ] {
        assert!(!page.text.contains(form), "an Annotator gets no {form}");
    }
    assert!(!page.text.contains(&manager.email), "nor the member list");
    annotator_b
        .get(&format!("/workspaces/{ws_b}"))
        .await
        .expect(404);

    // An Annotator in no project sees none; ids that are not workspaces are 404 pages too.
    let list = idle_b.get("/workspaces").await.expect(200);
    assert!(list.text.contains("id=\"no-workspaces\""));
    idle_b.get(&format!("/workspaces/{ws_a}")).await.expect(404);
    for bad in ["/workspaces/0", "/workspaces/abc", "/workspaces/999999"] {
        owner_b.get(bad).await.expect(404);
    }

    // Another organization's workspace is a 404 page, even for its Owner's peers here.
    let other = server.org("Elsewhere").await;
    let foreign = create_workspace(&other.owner_api(), "Foreign").await;
    let r = owner_b
        .get(&format!("/workspaces/{foreign}"))
        .await
        .expect(404);
    assert!(!r.text.contains("Foreign"));
}

#[tokio::test]
async fn workspace_forms_change_memberships_and_are_audited_as_from_the_pages() {
    let server = TestServer::start().await;
    let org = server.org("Forms").await;
    let owner_api = org.owner_api();
    let owner_b = browser(&server, &org.owner.email).await;
    let annotator = org.member(Role::Annotator).await;
    let project = owner_api.create_project("Road signs").await;

    let r = post_page(
        &owner_b,
        "/workspaces",
        &[
            ("title", "Labelers"),
            ("description", "Our team\nof two"),
            ("color", "#2f5bd3"),
        ],
    )
    .await;
    let to = location(&r);
    let ws: i64 = to
        .trim_start_matches("/workspaces/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .expect("the new workspace's page");
    let page = followed(&owner_b, r).await;
    assert!(page.text.contains("Workspace “Labelers” was created"));
    assert!(page.text.contains("#2f5bd3"));
    assert_eq!(
        workspace_member_ids(&owner_api, ws).await,
        vec![org.owner.id.0]
    );

    // The member drop-down offers the Annotator; adding them makes them a member.
    assert!(page
        .text
        .contains(&format!("<option value=\"{}\">", annotator.id.0)));
    let id = annotator.id.0.to_string();
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/members"),
        &[("user", &id)],
    )
    .await;
    let page = followed(&owner_b, r).await;
    assert!(page.text.contains(&format!(
        "{} is a member of this workspace.",
        annotator.email
    )));
    assert!(page.text.contains(&format!("<td>{}</td>", annotator.email)));
    let mut expected = vec![org.owner.id.0, annotator.id.0];
    expected.sort();
    assert_eq!(workspace_member_ids(&owner_api, ws).await, expected);
    assert_eq!(
        recent_events(&owner_api, 1).await,
        [("workspace.member_added".to_string(), "ui".to_string())]
    );

    // A project, then the settings, archiving, and each removal.
    let pid = project.to_string();
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/projects"),
        &[("project", &pid)],
    )
    .await;
    let page = followed(&owner_b, r).await;
    assert!(page
        .text
        .contains("Project “Road signs” is in this workspace."));
    let p = owner_api
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200);
    assert_eq!(p.body["workspace"], json!(ws));
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/settings"),
        &[("title", "Labelers 2"), ("description", ""), ("color", "")],
    )
    .await;
    followed(&owner_b, r).await;
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/archive"),
        &[("archived", "on")],
    )
    .await;
    let page = followed(&owner_b, r).await;
    assert!(page.text.contains("“Labelers 2” is archived."));
    assert!(page.text.contains("Unarchive"));
    let w = owner_api
        .get(&format!("/api/workspaces/{ws}/"))
        .await
        .expect(200);
    assert_eq!(w.body["is_archived"], json!(true));
    assert_eq!(w.body["title"], json!("Labelers 2"));
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/members/{id}/remove"),
        &[],
    )
    .await;
    let page = followed(&owner_b, r).await;
    assert!(page
        .text
        .contains(&format!("{} is no longer a member", annotator.email)));
    assert_eq!(
        workspace_member_ids(&owner_api, ws).await,
        vec![org.owner.id.0]
    );
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/projects/{pid}/remove"),
        &[],
    )
    .await;
    followed(&owner_b, r).await;
    let p = owner_api
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200);
    assert_eq!(p.body["workspace"], json!(null));

    // The deletion's confirmation opens without script; deleting leads back to the list.
    let page = owner_b
        .get(&format!("/workspaces/{ws}?confirm=delete"))
        .await
        .expect(200);
    assert!(page.text.contains("id=\"confirm-delete-workspace\" aria-labelledby=\"confirm-ws-title\" aria-describedby=\"confirm-ws-text\" open"));
    let r = post_page(&owner_b, &format!("/workspaces/{ws}/delete"), &[]).await;
    assert!(location(&r).starts_with("/workspaces?"));
    let list = followed(&owner_b, r).await;
    assert!(list.text.contains("Workspace “Labelers 2” was deleted"));
    owner_api
        .get(&format!("/api/workspaces/{ws}/"))
        .await
        .expect(404);

    let actions: Vec<(String, String)> = recent_events(&owner_api, 8).await;
    let ours: Vec<&str> = actions
        .iter()
        .filter(|(_, source)| source == "ui")
        .map(|(a, _)| a.as_str())
        .collect();
    assert_eq!(
        ours,
        [
            "workspace.deleted",
            "workspace.project_removed",
            "workspace.member_removed",
            "workspace.updated",
            "workspace.updated",
            "workspace.project_added",
            "workspace.member_added",
            "workspace.created",
        ]
    );
}

#[tokio::test]
async fn refused_workspace_posts_change_nothing_and_say_why() {
    let server = TestServer::start().await;
    let org = server.org("Refusals").await;
    let owner_api = org.owner_api();
    let ws = create_workspace(&owner_api, "Kept").await;
    let hidden = create_workspace(&owner_api, "Hidden").await;
    let project = owner_api.create_project("P").await;
    owner_api
        .post(
            &format!("/api/workspaces/{ws}/projects/"),
            json!({"project": project}),
        )
        .await
        .expect(201);
    let (annotator, annotator_b) = member_with_browser(&server, &org, Role::Annotator).await;
    owner_api
        .post(
            &format!("/api/projects/{project}/members"),
            json!({"user": annotator.id.0}),
        )
        .await
        .expect(201);
    let (manager, manager_b) = member_with_browser(&server, &org, Role::Manager).await;
    let owner_b = browser(&server, &org.owner.email).await;
    let before = server.snapshot().await;
    let them = manager.id.0.to_string();

    // An Annotator who sees the workspace may not change it: the page says so, with 403.
    let r = post_page(
        &annotator_b,
        &format!("/workspaces/{ws}/members"),
        &[("user", &them)],
    )
    .await;
    let r = r.expect(403);
    assert!(
        r.text
            .contains(&format!("You may not change workspace {ws}.")),
        "{}",
        r.text
    );
    assert!(r.text.contains("role=\"alert\""));
    post_page(&annotator_b, "/workspaces", &[("title", "Mine")])
        .await
        .expect(403);
    // A Manager who does not see a workspace gets the 404 page.
    post_page(
        &manager_b,
        &format!("/workspaces/{hidden}/members"),
        &[("user", &them)],
    )
    .await
    .expect(404);
    post_page(&manager_b, &format!("/workspaces/{hidden}/delete"), &[])
        .await
        .expect(404);
    // Bad input: the field in words, the form as typed.
    let r = post_page(
        &owner_b,
        "/workspaces",
        &[("title", "  "), ("description", "typed")],
    )
    .await
    .expect(400);
    assert!(r.text.contains("Title: must not be empty"), "{}", r.text);
    assert!(r.text.contains(">typed</textarea>"));
    let r = post_page(&owner_b, "/workspaces", &[("title", "Kept")])
        .await
        .expect(400);
    assert!(r
        .text
        .contains("another workspace of this organization has this title"));
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/settings"),
        &[("title", "Hidden")],
    )
    .await
    .expect(400);
    assert!(r.text.contains("value=\"Hidden\""), "the settings as typed");
    post_page(
        &owner_b,
        &format!("/workspaces/{ws}/members"),
        &[("user", "x")],
    )
    .await
    .expect(400);
    post_page(
        &owner_b,
        &format!("/workspaces/{ws}/archive"),
        &[("archived", "maybe")],
    )
    .await
    .expect(400);
    let r = post_page(
        &owner_b,
        &format!("/workspaces/{ws}/projects"),
        &[("project", "999999")],
    )
    .await
    .expect(404);
    assert!(r.text.contains("No project 999999"));
    // Without the CSRF token, refused before anything runs.
    owner_b
        .post_form(&format!("/workspaces/{ws}/delete"), &[])
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before, "nothing changed");
}

#[tokio::test]
async fn the_project_members_panel_adds_changes_and_removes_with_project_roles() {
    let server = TestServer::start().await;
    let org = server.org("Panel").await;
    let owner_api = org.owner_api();
    let (manager, manager_b) = member_with_browser(&server, &org, Role::Manager).await;
    let (annotator, annotator_b) = member_with_browser(&server, &org, Role::Annotator).await;
    let reviewer = org.member(Role::Reviewer).await;
    let project = org.api(&manager).create_project("Signs").await;
    let path = format!("/projects/{project}");

    // The Manager who created it manages its members: the add form offers the Annotator.
    let page = manager_b.get(&path).await.expect(200);
    assert!(page.text.contains("id=\"add-project-member\""));
    assert!(page
        .text
        .contains(&format!("<option value=\"{}\">", annotator.id.0)));
    let id = annotator.id.0.to_string();
    let r = post_page(
        &manager_b,
        &format!("{path}/members"),
        &[("user", &id), ("role", "RE")],
    )
    .await;
    let page = followed(&manager_b, r).await;
    assert!(page.text.contains(&format!(
        "{} works in this project as Reviewer.",
        annotator.email
    )));
    assert!(page.text.contains("Reviewer (set by manual)"));
    let roles = owner_api
        .get(&format!("/api/projects/{project}/roles"))
        .await
        .expect(200);
    assert_eq!(roles.body[0]["user"], json!(annotator.id.0));
    assert_eq!(roles.body[0]["role"], json!("RE"));
    assert_eq!(
        recent_events(&owner_api, 1).await[0],
        ("project.member_added".to_string(), "ui".to_string())
    );

    // Changing the role, then clearing it: the member stays, with their organization role.
    let r = post_page(
        &manager_b,
        &format!("{path}/members/{id}/role"),
        &[("role", "AN")],
    )
    .await;
    followed(&manager_b, r).await;
    let roles = owner_api
        .get(&format!("/api/projects/{project}/roles"))
        .await
        .expect(200);
    assert_eq!(roles.body[0]["role"], json!("AN"));
    assert_eq!(
        recent_events(&owner_api, 1).await[0],
        ("project.role_changed".to_string(), "ui".to_string())
    );
    let r = post_page(
        &manager_b,
        &format!("{path}/members/{id}/role"),
        &[("role", "")],
    )
    .await;
    let page = followed(&manager_b, r).await;
    assert!(page
        .text
        .contains("works in this project with their organization role"));
    let roles = owner_api
        .get(&format!("/api/projects/{project}/roles"))
        .await
        .expect(200);
    assert_eq!(roles.body, json!([]));

    // The Annotator, now a member, sees the panel read only: no forms.
    let page = annotator_b.get(&path).await.expect(200);
    assert!(page.text.contains(&format!("<td>{}</td>", annotator.email)));
    for form in ["add-project-member", "project-role-form", "/remove\""] {
        assert!(!page.text.contains(form), "an Annotator gets no {form}");
    }
    // Their posts are refused and change nothing.
    let (_, other_manager_b) = member_with_browser(&server, &org, Role::Manager).await;
    let before = server.snapshot().await;
    let rid = reviewer.id.0.to_string();
    let r = post_page(
        &annotator_b,
        &format!("{path}/members"),
        &[("user", &rid), ("role", "AN")],
    )
    .await
    .expect(403);
    assert!(r.text.contains("role=\"alert\""));
    post_page(&annotator_b, &format!("{path}/members/{id}/remove"), &[])
        .await
        .expect(403);
    post_page(
        &manager_b,
        &format!("{path}/members"),
        &[("user", &rid), ("role", "MA")],
    )
    .await
    .expect(400);
    let r = post_page(
        &manager_b,
        &format!("{path}/members"),
        &[("user", "999999")],
    )
    .await
    .expect(400);
    assert!(r
        .text
        .contains("Member: user 999999 is not a member of this organization"));
    // A Manager who does not see the project gets the 404 page.
    other_manager_b.get(&path).await.expect(404);
    post_page(
        &other_manager_b,
        &format!("{path}/members"),
        &[("user", &rid)],
    )
    .await
    .expect(404);
    assert_eq!(server.snapshot().await, before, "nothing changed");

    // Removing the Annotator.
    let r = post_page(&manager_b, &format!("{path}/members/{id}/remove"), &[]).await;
    let page = followed(&manager_b, r).await;
    assert!(page.text.contains(&format!(
        "{} is no longer a member of this project.",
        annotator.email
    )));
    assert_eq!(
        recent_events(&owner_api, 1).await[0],
        ("project.member_removed".to_string(), "ui".to_string())
    );
    annotator_b.get(&path).await.expect(404);
}
