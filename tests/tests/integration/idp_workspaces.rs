//! Identity-provider groups to workspaces, through HTTP: SCIM's `workspaces_groups` gives
//! workspace membership and takes away what it gave (never what people added), follows a
//! renamed workspace and previews its moves; a mapping naming an unknown workspace is refused
//! whole; and the organization's `manual_workspace_management` and
//! `manual_project_member_management` decide whether people may still remove what the
//! identity provider gave.

use std::collections::BTreeSet;

use roster_domain::Role;
use roster_tests::{json, results, Api, OrgFixture, TestServer};
use serde_json::Value;

use crate::scim::{create_group, create_user, idp, patch, set_mapping, GROUP};
use crate::scim_page::{browser, post_page};
use crate::scim_stories::{account, events, id_of};

async fn create_workspace(api: &Api, title: &str) -> i64 {
    api.post("/api/workspaces/", json!({"title": title}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .expect("a workspace id")
}

/// The user ids of a workspace's members.
async fn workspace_members(org: &OrgFixture, ws: i64) -> BTreeSet<i64> {
    let r = org
        .owner_api()
        .get(&format!("/api/workspaces/{ws}/memberships/"))
        .await
        .expect(200);
    let list = r
        .body
        .as_array()
        .cloned()
        .unwrap_or_else(|| results(&r.body).clone());
    list.iter()
        .map(|m| {
            m["user"]["id"]
                .as_i64()
                .or_else(|| m["user"].as_i64())
                .unwrap_or_else(|| panic!("a member's user id in {m}"))
        })
        .collect()
}

/// Who made each of a workspace's memberships, as stored (`scim`, `saml`, `manual`, ...).
async fn sources(server: &TestServer, ws: i64) -> Vec<String> {
    let sql = format!(
        "SELECT COUNT(*) FROM workspace_members WHERE workspace_id = {ws} AND source = '{{}}'"
    );
    let mut found = Vec::new();
    for source in ["scim", "saml", "manual", "api", "invite"] {
        for _ in 0..server.sql_int(&sql.replace("{}", source)).await {
            found.push(source.to_string());
        }
    }
    found
}

async fn remove_from_workspace(api: &Api, ws: i64, user: i64) -> roster_tests::Resp {
    api.delete(&format!("/api/workspaces/{ws}/memberships/?user_id={user}"))
        .await
}

/// Takes a SCIM user out of a group, or puts them in, by PATCH.
async fn leave_group(idp: &Api, group_path: &str, user: &str) {
    let ops = json!([{"op": "remove", "path": format!("members[value eq \"{user}\"]")}]);
    patch(idp, group_path, ops).await.expect(204);
}

async fn join_group(idp: &Api, group_path: &str, user: &str) {
    let ops = json!([{"op": "add", "path": "members", "value": [{"value": user}]}]);
    patch(idp, group_path, ops).await.expect(204);
}

fn pairs(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap_or_else(|| panic!("a list of pairs: {v}"))
        .iter()
        .map(|p| {
            (
                p[0].as_str().expect("a title").to_string(),
                p[1].as_str().expect("a group").to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_scim_group_gives_its_workspace_and_leaving_it_takes_away_only_what_scim_gave() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let owner = org.owner_api();
    let labeling = create_workspace(&owner, "Labeling").await;
    let qa = create_workspace(&owner, "QA").await;
    let saved = set_mapping(
        &org,
        json!({"roles_groups": [["Annotator", "Labelers"]],
               "workspaces_groups": [["Labeling", "Labelers"]]}),
    )
    .await;
    assert_eq!(
        pairs(&saved["workspaces_groups"]),
        [("Labeling".to_string(), "Labelers".to_string())]
    );
    let finn = id_of(&create_user(&idp, "finn@example.com").await);
    let gus = id_of(&create_user(&idp, "gus@example.com").await);
    let group = create_group(&idp, "Labelers", &[&finn]).await;
    let group_path = format!("/scim/v2/Groups/{}", id_of(&group));
    let finn_id = account(&server, &org, "finn@example.com").await.id.0;
    let gus_id = account(&server, &org, "gus@example.com").await.id.0;
    let creator = org.owner.id.0;
    assert_eq!(
        workspace_members(&org, labeling).await,
        BTreeSet::from([creator, finn_id])
    );

    // PUT replaces the members: both are in.
    idp.send_json(
        reqwest::Method::PUT,
        &group_path,
        json!({"schemas": [GROUP], "displayName": "Labelers",
               "members": [{"value": finn}, {"value": gus}]}),
    )
    .await
    .expect(200);
    assert_eq!(
        workspace_members(&org, labeling).await,
        BTreeSet::from([creator, finn_id, gus_id])
    );
    assert_eq!(
        sources(&server, labeling)
            .await
            .iter()
            .filter(|s| *s == "scim")
            .count(),
        2
    );
    assert!(workspace_members(&org, qa).await == BTreeSet::from([creator]));

    // PATCH out of the group: out of the workspace, audited as SCIM's.
    leave_group(&idp, &group_path, &finn).await;
    assert_eq!(
        workspace_members(&org, labeling).await,
        BTreeSet::from([creator, gus_id])
    );
    let removed = events(&org, "workspace.member_removed").await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["source"], json!("scim"));
    assert_eq!(removed[0]["target"]["email"], json!("finn@example.com"));
    assert!(events(&org, "workspace.member_added")
        .await
        .iter()
        .all(|e| e["source"] == json!("scim")));

    // A membership a person added stays when the group no longer maps it.
    owner
        .post(
            &format!("/api/workspaces/{labeling}/memberships/"),
            json!({"user": finn_id}),
        )
        .await
        .expect(201);
    join_group(&idp, &group_path, &finn).await;
    leave_group(&idp, &group_path, &finn).await;
    assert!(workspace_members(&org, labeling).await.contains(&finn_id));

    // The mapping is kept by id: a renamed workspace stays mapped and shows its new title.
    owner
        .patch(
            &format!("/api/workspaces/{labeling}/"),
            json!({"title": "Labeling Team"}),
        )
        .await
        .expect(200);
    let s = owner.get("/api/scim/settings").await.expect(200).body;
    assert_eq!(
        pairs(&s["workspaces_groups"]),
        [("Labeling Team".to_string(), "Labelers".to_string())]
    );
    let hana = id_of(&create_user(&idp, "hana@example.com").await);
    join_group(&idp, &group_path, &hana).await;
    let hana_id = account(&server, &org, "hana@example.com").await.id.0;
    assert!(workspace_members(&org, labeling).await.contains(&hana_id));

    // A dry run names the workspace moves a new mapping would make, and changes nothing.
    let before = server.snapshot().await;
    let dry = owner
        .post(
            "/api/scim/settings?dry_run=true",
            json!({"workspaces_groups": [["QA", "Labelers"]]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(dry["applied"], json!(false));
    let mut moves: Vec<(String, String, String)> = dry["workspace_moves"]
        .as_array()
        .expect("workspace_moves")
        .iter()
        .map(|m| {
            (
                m["email"].as_str().unwrap().to_string(),
                m["workspace"].as_str().unwrap().to_string(),
                m["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    moves.sort();
    let expected = [
        ("gus@example.com", "Labeling Team", "remove"),
        ("gus@example.com", "QA", "add"),
        ("hana@example.com", "Labeling Team", "remove"),
        ("hana@example.com", "QA", "add"),
    ]
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()));
    assert_eq!(moves, expected);
    assert_eq!(server.snapshot().await, before);
    // Applied, the same moves happen (finn, added by hand, stays in Labeling Team).
    let applied = owner
        .post(
            "/api/scim/settings",
            json!({"workspaces_groups": [["QA", "Labelers"]]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(applied["workspace_moves"], dry["workspace_moves"]);
    assert_eq!(
        workspace_members(&org, labeling).await,
        BTreeSet::from([creator, finn_id])
    );
    assert_eq!(
        workspace_members(&org, qa).await,
        BTreeSet::from([creator, gus_id, hana_id])
    );
    server.assert_live_counts().await;
}

#[tokio::test]
async fn a_mapping_naming_an_unknown_workspace_is_refused_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    create_workspace(&owner, "Labeling").await;
    set_mapping(
        &org,
        json!({"workspaces_groups": [["Labeling", "Labelers"]]}),
    )
    .await;
    let before = server.snapshot().await;
    for path in ["/api/scim/settings", "/api/saml/settings"] {
        for (body, says) in [
            (
                json!({"workspaces_groups": [["Labeling", "Labelers"], ["Nope", "Others"]]}),
                "\"Nope\"",
            ),
            // Titles match exactly.
            (
                json!({"workspaces_groups": [["labeling", "Labelers"]]}),
                "\"labeling\"",
            ),
            (
                json!({"workspaces_groups": [["Labeling"]]}),
                "[workspace title, group]",
            ),
            (json!({"workspaces_groups": [["Labeling", " "]]}), "empty"),
            (
                json!({"workspaces_groups": [["Labeling", "G"], ["Labeling", "G"]]}),
                "twice",
            ),
            (
                json!({"user_type_groups": [["Standard", "G"]]}),
                "seat types",
            ),
            (
                json!({"workspaces_groups": [["Nope", "G"]], "manual_workspace_management": false}),
                "\"Nope\"",
            ),
        ] {
            let r = owner.post(path, body.clone()).await.expect(400);
            let detail = r.body["detail"].as_str().unwrap_or_default();
            assert!(detail.contains(says), "{path} {body}: {detail}");
        }
    }
    assert_eq!(server.snapshot().await, before);
    let s = owner.get("/api/scim/settings").await.expect(200).body;
    assert_eq!(
        pairs(&s["workspaces_groups"]),
        [("Labeling".to_string(), "Labelers".to_string())]
    );
    assert_eq!(s["manual_workspace_management"], json!(true));
}

/// An organization whose SCIM group "Labelers" gives the workspace and the project, with
/// finn provisioned into it and ann added to both by hand.
struct Managed {
    server: TestServer,
    org: OrgFixture,
    ws: i64,
    project: i64,
    finn: i64,
    ann: i64,
}

async fn managed() -> Managed {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let owner = org.owner_api();
    let ws = create_workspace(&owner, "Labeling").await;
    let project = owner.create_project("Cats").await;
    set_mapping(
        &org,
        json!({"roles_groups": [["Annotator", "Labelers"]],
               "workspaces_groups": [["Labeling", "Labelers"]],
               "projects_groups": [{"project_id": project, "group": "Labelers", "role": "Annotator"}]}),
    )
    .await;
    let finn = id_of(&create_user(&idp, "finn@example.com").await);
    create_group(&idp, "Labelers", &[&finn]).await;
    let finn = account(&server, &org, "finn@example.com").await.id.0;
    let ann = org.member(Role::Annotator).await.id.0;
    owner
        .post(
            &format!("/api/workspaces/{ws}/memberships/"),
            json!({"user": ann}),
        )
        .await
        .expect(201);
    owner
        .post(
            &format!("/api/projects/{project}/members"),
            json!({"user": ann}),
        )
        .await
        .expect(201);
    Managed {
        server,
        org,
        ws,
        project,
        finn,
        ann,
    }
}

#[tokio::test]
async fn without_manual_workspace_management_a_hand_removal_of_what_scim_gave_is_refused() {
    let m = managed().await;
    let owner = m.org.owner_api();
    let s = owner
        .post(
            "/api/scim/settings",
            json!({"manual_workspace_management": false}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(s["manual_workspace_management"], json!(false));
    assert_eq!(s["manual_project_member_management"], json!(true));
    let org_view = owner.get(&m.org.path("")).await.expect(200).body;
    assert_eq!(org_view["manual_workspace_management"], json!(false));
    assert_eq!(
        org_view["billing"]["manual_workspace_management"],
        json!(false)
    );
    let changed = events(&m.org, "organization.updated").await;
    assert!(
        changed
            .iter()
            .any(|e| e["new_value"] == json!("manual_workspace_management=false")),
        "{changed:?}"
    );

    let before = m.server.snapshot().await;
    let r = remove_from_workspace(&owner, m.ws, m.finn)
        .await
        .expect(409);
    assert!(
        r.text.contains("given by SCIM") && r.text.contains("manual workspace management"),
        "{}",
        r.text
    );
    let bulk = owner
        .send_json(
            reqwest::Method::DELETE,
            &format!("/api/workspaces/{}/memberships/bulk/", m.ws),
            json!({"all": false, "included": [m.finn, m.ann]}),
        )
        .await;
    bulk.expect(409);
    assert_eq!(
        m.server.snapshot().await,
        before,
        "a refusal changes nothing"
    );
    // What a person added stays theirs to remove; the project flag is still on.
    remove_from_workspace(&owner, m.ws, m.ann).await.expect(204);
    owner
        .delete(&format!(
            "/api/projects/{}/members?user={}",
            m.project, m.finn
        ))
        .await
        .expect(204);

    // On again (through the organization's settings), the hand removal goes through.
    owner
        .patch(
            &m.org.path(""),
            json!({"manual_workspace_management": true}),
        )
        .await
        .expect(200);
    remove_from_workspace(&owner, m.ws, m.finn)
        .await
        .expect(204);
    assert!(!workspace_members(&m.org, m.ws).await.contains(&m.finn));
}

#[tokio::test]
async fn without_manual_project_member_management_a_hand_change_of_what_scim_gave_is_refused() {
    let m = managed().await;
    let owner = m.org.owner_api();
    let r = owner
        .patch(
            &m.org.path(""),
            json!({"manual_project_member_management": false}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["manual_project_member_management"], json!(false));
    let saml = owner.get("/api/saml/settings").await.expect(200).body;
    assert_eq!(saml["manual_project_member_management"], json!(false));
    assert_eq!(saml["manual_workspace_management"], json!(true));

    let before = m.server.snapshot().await;
    let project = m.project;
    let r = owner
        .delete(&format!("/api/projects/{project}/members?user={}", m.finn))
        .await
        .expect(409);
    assert!(
        r.text.contains("project membership was given by SCIM"),
        "{}",
        r.text
    );
    // Changing the project role SCIM gave is a change too.
    owner
        .post(
            &format!("/api/projects/{project}/members"),
            json!({"user": m.finn, "role": "RE"}),
        )
        .await
        .expect(409);
    let roles = owner
        .get(&format!("/api/projects/{project}/roles"))
        .await
        .expect(200)
        .body;
    let role_id = roles
        .as_array()
        .expect("roles")
        .iter()
        .find(|r| r["user"] == json!(m.finn))
        .unwrap_or_else(|| panic!("finn's project role in {roles}"))["id"]
        .as_i64()
        .expect("a role id");
    owner
        .delete(&format!("/api/projects/roles/{role_id}/"))
        .await
        .expect(409);
    assert_eq!(
        m.server.snapshot().await,
        before,
        "a refusal changes nothing"
    );
    // The workspace flag is still on, and hand-made project memberships stay people's.
    remove_from_workspace(&owner, m.ws, m.finn)
        .await
        .expect(204);
    owner
        .delete(&format!("/api/projects/{project}/members?user={}", m.ann))
        .await
        .expect(204);

    owner
        .post(
            "/api/saml/settings",
            json!({"manual_project_member_management": true}),
        )
        .await
        .expect(200);
    owner
        .delete(&format!("/api/projects/{project}/members?user={}", m.finn))
        .await
        .expect(204);
    let removed = events(&m.org, "project.member_removed").await;
    assert!(removed
        .iter()
        .any(|e| e["target"]["id"] == json!(m.finn)
            || e["target"]["email"] == json!("finn@example.com")));
}

#[tokio::test]
async fn the_identity_provider_itself_still_removes_what_it_gave_with_manual_management_off() {
    let m = managed().await;
    let owner = m.org.owner_api();
    owner
        .patch(
            &m.org.path(""),
            json!({"manual_workspace_management": false, "manual_project_member_management": false}),
        )
        .await
        .expect(200);
    let idp = m.org.idp().await;
    let list = idp
        .get("/scim/v2/Groups?filter=displayName%20eq%20%22Labelers%22")
        .await
        .expect(200)
        .body;
    let group = list["Resources"][0]["id"]
        .as_str()
        .expect("the group")
        .to_string();
    let finn = list["Resources"][0]["members"][0]["value"]
        .as_str()
        .expect("finn")
        .to_string();
    leave_group(&idp, &format!("/scim/v2/Groups/{group}"), &finn).await;
    assert!(!workspace_members(&m.org, m.ws).await.contains(&m.finn));
    assert!(workspace_members(&m.org, m.ws).await.contains(&m.ann));
}

#[tokio::test]
async fn the_scim_page_maps_workspaces_by_title_and_previews_who_joins_them() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    let ws = create_workspace(&org.owner_api(), "Labeling").await;
    let finn = id_of(&create_user(&idp, "finn@example.com").await);
    create_group(&idp, "Labelers", &[&finn]).await;
    let finn = account(&server, &org, "finn@example.com").await.id.0;
    let owner = browser(&server, &org.owner.email).await;
    let page = owner.get("/organization/scim").await.expect(200);
    assert!(
        page.text.contains("id=\"workspace-groups\""),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains("<option value=\"Labeling\" >Labeling</option>")
            || page
                .text
                .contains("<option value=\"Labeling\" selected>Labeling</option>"),
        "{}",
        page.text
    );
    assert!(page
        .text
        .contains("name=\"manual_workspace_management\" checked"));

    let form = |title: &'static str, action: &'static str| {
        vec![
            ("wg_workspace", title),
            ("wg_group", "Labelers"),
            ("fallback_role", "DI"),
            ("delete_action", "delete"),
            ("max_deprovision", ""),
            ("manual_management", "shown"),
            ("manual_role_management", "on"),
            ("manual_project_member_management", "on"),
            ("action", action),
        ]
    };
    let before = server.snapshot().await;
    let r = post_page(
        &owner,
        "/organization/scim/mapping",
        &form("Labeling", "preview"),
    )
    .await
    .expect(200);
    assert!(
        r.text
            .contains("<tr><td>finn@example.com</td><td>Labeling</td><td>joins</td></tr>"),
        "{}",
        r.text
    );
    let r = post_page(
        &owner,
        "/organization/scim/mapping",
        &form("Nope", "preview"),
    )
    .await
    .expect(400);
    assert!(
        r.text.contains("Workspace groups: no workspace"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before, "previews change nothing");

    post_page(
        &owner,
        "/organization/scim/mapping",
        &form("Labeling", "save"),
    )
    .await
    .expect(200);
    assert!(workspace_members(&org, ws).await.contains(&finn));
    let s = org
        .owner_api()
        .get("/api/scim/settings")
        .await
        .expect(200)
        .body;
    assert_eq!(s["workspaces_groups"], json!([["Labeling", "Labelers"]]));
    assert_eq!(
        s["manual_workspace_management"],
        json!(false),
        "the unticked box"
    );
    assert_eq!(s["manual_role_management"], json!(true));
}
