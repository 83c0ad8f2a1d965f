//! Workspaces over HTTP: who sees and changes which workspace and project (every role),
//! what deactivation, deletion and reactivation do to that access, that nothing of another
//! organization shows, that every change is audited, and that bad input changes nothing.

use roster_domain::Role;
use roster_tests::{json, results, Api, OrgFixture, Person, TestServer};
use serde_json::Value;

fn ids(list: &Value) -> Vec<i64> {
    let items = list.as_array().or_else(|| list["results"].as_array());
    let mut v: Vec<i64> = items
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    v.sort();
    v
}

pub(crate) async fn create_workspace(api: &Api, title: &str) -> i64 {
    api.post("/api/workspaces/", json!({"title": title}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap()
}

async fn add_member(api: &Api, ws: i64, p: &Person) {
    api.post(
        &format!("/api/workspaces/{ws}/memberships/"),
        json!({"user": p.id.0}),
    )
    .await
    .expect(201);
}

async fn put_project(api: &Api, ws: i64, project: i64) {
    api.post(
        &format!("/api/workspaces/{ws}/projects/"),
        json!({"project": project}),
    )
    .await
    .expect(201);
}

async fn add_project_member(api: &Api, project: i64, p: &Person) {
    api.post(
        &format!("/api/projects/{project}/members"),
        json!({"user": p.id.0}),
    )
    .await
    .expect(201);
}

async fn workspace_ids(api: &Api) -> Vec<i64> {
    ids(&api.get("/api/workspaces/").await.expect(200).body)
}

async fn project_ids(api: &Api) -> Vec<i64> {
    ids(&api
        .get("/api/projects/?page_size=100")
        .await
        .expect(200)
        .body)
}

/// One organization laid out for the matrix: workspace A (Manager `ma_in` and Annotator
/// `an_ws` are members) holds project P1; workspace B (nobody but the Owner) holds P2, in
/// which Reviewer `re_direct` is a direct member; P3 is in no workspace and was created by
/// `ma_out`, who is in no workspace.
struct Layout {
    org: OrgFixture,
    admin: Person,
    ma_in: Person,
    ma_out: Person,
    an_ws: Person,
    re_direct: Person,
    an_none: Person,
    ws_a: i64,
    ws_b: i64,
    p1: i64,
    p2: i64,
    p3: i64,
}

async fn layout(server: &TestServer) -> Layout {
    let org = server.org("Matrix").await;
    let owner = org.owner_api();
    let admin = org.member(Role::Administrator).await;
    let ma_in = org.member(Role::Manager).await;
    let ma_out = org.member(Role::Manager).await;
    let an_ws = org.member(Role::Annotator).await;
    let re_direct = org.member(Role::Reviewer).await;
    let an_none = org.member(Role::Annotator).await;
    let ws_a = create_workspace(&owner, "A").await;
    let ws_b = create_workspace(&owner, "B").await;
    add_member(&owner, ws_a, &ma_in).await;
    add_member(&owner, ws_a, &an_ws).await;
    let p1 = owner.create_project("P1").await;
    let p2 = owner.create_project("P2").await;
    put_project(&owner, ws_a, p1).await;
    put_project(&owner, ws_b, p2).await;
    add_project_member(&owner, p2, &re_direct).await;
    let p3 = org.api(&ma_out).create_project("P3").await;
    Layout {
        org,
        admin,
        ma_in,
        ma_out,
        an_ws,
        re_direct,
        an_none,
        ws_a,
        ws_b,
        p1,
        p2,
        p3,
    }
}

#[tokio::test]
async fn every_role_sees_and_changes_what_the_matrix_says() {
    let server = TestServer::start().await;
    let l = layout(&server).await;
    let org = &l.org;
    let (a, b) = (l.ws_a, l.ws_b);
    let all_ws = vec![a, b];
    let all_projects = vec![l.p1, l.p2, l.p3];
    // (who, workspaces seen, projects seen, workspaces they may change)
    type Case<'a> = (&'a str, Api, Vec<i64>, Vec<i64>, Vec<i64>);
    let cases: Vec<Case> = vec![
        (
            "owner",
            org.owner_api(),
            all_ws.clone(),
            all_projects.clone(),
            all_ws.clone(),
        ),
        (
            "admin",
            org.api(&l.admin),
            all_ws.clone(),
            all_projects.clone(),
            all_ws.clone(),
        ),
        (
            "manager in A",
            org.api(&l.ma_in),
            vec![a],
            vec![l.p1],
            vec![a],
        ),
        (
            "manager in none",
            org.api(&l.ma_out),
            vec![],
            vec![l.p3],
            vec![],
        ),
        (
            "annotator in A",
            org.api(&l.an_ws),
            vec![a],
            vec![l.p1],
            vec![],
        ),
        (
            "reviewer in P2",
            org.api(&l.re_direct),
            vec![b],
            vec![l.p2],
            vec![],
        ),
        (
            "annotator in nothing",
            org.api(&l.an_none),
            vec![],
            vec![],
            vec![],
        ),
    ];
    for (who, api, seen_ws, seen_projects, managed) in cases {
        assert_eq!(workspace_ids(&api).await, seen_ws, "{who}: workspace list");
        assert_eq!(
            project_ids(&api).await,
            seen_projects,
            "{who}: project list"
        );
        for ws in [a, b] {
            let get = api.get(&format!("/api/workspaces/{ws}/")).await;
            let sees = seen_ws.contains(&ws);
            assert_eq!(get.status, if sees { 200 } else { 404 }, "{who}: GET {ws}");
            // A change they may not make: 403 when they see it, 404 when they do not.
            let patch = api
                .patch(
                    &format!("/api/workspaces/{ws}/"),
                    json!({"description": who}),
                )
                .await;
            let expected = match (sees, managed.contains(&ws)) {
                (_, true) => 200,
                (true, false) => 403,
                (false, false) => 404,
            };
            assert_eq!(patch.status, expected, "{who}: PATCH {ws}: {}", patch.text);
            let members = api.get(&format!("/api/workspaces/{ws}/memberships/")).await;
            assert_eq!(members.status, expected, "{who}: members of {ws}");
        }
        for p in [l.p1, l.p2, l.p3] {
            let get = api.get(&format!("/api/projects/{p}")).await;
            let status = if seen_projects.contains(&p) { 200 } else { 404 };
            assert_eq!(get.status, status, "{who}: GET project {p}");
        }
        // Creating: Owner, Administrator and Managers; the creator is a member.
        let created = api
            .post("/api/workspaces/", json!({"title": format!("by {who}")}))
            .await;
        if who.starts_with("annotator") || who.starts_with("reviewer") {
            assert_eq!(created.status, 403, "{who}: create");
        } else {
            let created = created.expect(201);
            assert!(
                created.body["membership"].is_object(),
                "{who}: creator is a member"
            );
            let id = created.body["id"].as_i64().unwrap();
            api.delete(&format!("/api/workspaces/{id}/"))
                .await
                .expect(204);
        }
    }
}

#[tokio::test]
async fn a_manager_manages_only_their_workspaces_and_projects_they_see() {
    let server = TestServer::start().await;
    let l = layout(&server).await;
    let ma = l.org.api(&l.ma_in);
    // Their own project goes into their workspace; a project they do not see is a 404, and
    // moving P3 (theirs? no: ma_out's) is a 404 too.
    let mine = ma.create_project("Mine").await;
    put_project(&ma, l.ws_a, mine).await;
    let other = ma
        .post(
            &format!("/api/workspaces/{}/projects/", l.ws_a),
            json!({"project": l.p3}),
        )
        .await;
    assert_eq!(other.status, 404, "{}", other.text);
    // A project created into a workspace they do not manage is refused, and none is made.
    let before = project_ids(&l.org.owner_api()).await;
    let r = ma
        .post(
            "/api/projects",
            json!({"title": "Into B", "workspace": l.ws_b}),
        )
        .await;
    assert_eq!(r.status, 404, "{}", r.text);
    assert_eq!(project_ids(&l.org.owner_api()).await, before);
    let into_a = ma
        .post(
            "/api/projects",
            json!({"title": "Into A", "workspace": l.ws_a}),
        )
        .await
        .expect(201);
    assert_eq!(into_a.body["workspace"], l.ws_a);
    // A member added to their workspace sees its projects.
    let an = l.org.member(Role::Annotator).await;
    add_member(&ma, l.ws_a, &an).await;
    let seen = project_ids(&l.org.api(&an)).await;
    assert!(seen.contains(&l.p1) && seen.contains(&mine), "{seen:?}");
}

#[tokio::test]
async fn deactivation_deletion_and_reactivation_act_on_workspace_access() {
    let server = TestServer::start().await;
    let l = layout(&server).await;
    let org = &l.org;
    let an = org.api(&l.an_ws);
    assert_eq!(workspace_ids(&an).await, vec![l.ws_a]);
    // Deactivated: nothing reachable.
    org.set_role(&l.an_ws, Role::Deactivated).await;
    assert_eq!(an.get("/api/workspaces/").await.status, 403);
    assert_eq!(an.get(&format!("/api/projects/{}", l.p1)).await.status, 403);
    // Reactivated: everything back.
    org.set_role(&l.an_ws, Role::Annotator).await;
    assert_eq!(workspace_ids(&an).await, vec![l.ws_a]);
    assert_eq!(project_ids(&an).await, vec![l.p1]);
    // A deactivated member may be added; the access comes with reactivation.
    let ma = org.api(&l.ma_in);
    let later = org.member(Role::Annotator).await;
    org.set_role(&later, Role::Deactivated).await;
    add_member(&ma, l.ws_a, &later).await;
    assert_eq!(org.api(&later).get("/api/workspaces/").await.status, 403);
    org.set_role(&later, Role::Annotator).await;
    assert_eq!(workspace_ids(&org.api(&later)).await, vec![l.ws_a]);
    // Deleted: gone from the workspace's members, and back as a new member they have nothing.
    let owner = org.owner_api();
    owner
        .delete(&org.path(&format!("/memberships/{}/", l.an_ws.id.0)))
        .await
        .expect(204);
    let members = owner
        .get(&format!("/api/workspaces/{}/memberships/", l.ws_a))
        .await
        .expect(200);
    let users: Vec<i64> = members
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect();
    assert!(!users.contains(&l.an_ws.id.0), "{users:?}");
    org.add_existing(&l.an_ws, Role::Annotator).await;
    assert_eq!(workspace_ids(&an).await, Vec::<i64>::new());
    assert_eq!(project_ids(&an).await, Vec::<i64>::new());
    assert_eq!(an.get(&format!("/api/projects/{}", l.p1)).await.status, 404);
    server.assert_live_counts().await;
}

#[tokio::test]
async fn nothing_of_another_organization_shows() {
    let server = TestServer::start().await;
    let l = layout(&server).await;
    let other = server.org("Other").await;
    let stranger = other.owner_api();
    assert_eq!(workspace_ids(&stranger).await, Vec::<i64>::new());
    let their_ws = create_workspace(&stranger, "A").await; // same title, other organization
    for ws in [l.ws_a, l.ws_b] {
        for path in ["", "projects/", "memberships/", "memberships/paginated/"] {
            let r = stranger.get(&format!("/api/workspaces/{ws}/{path}")).await;
            assert_eq!(r.status, 404, "{path}: {}", r.text);
        }
        let r = stranger
            .patch(&format!("/api/workspaces/{ws}/"), json!({"title": "mine"}))
            .await;
        assert_eq!(r.status, 404);
        assert_eq!(
            stranger
                .delete(&format!("/api/workspaces/{ws}/"))
                .await
                .status,
            404
        );
    }
    // Their own workspace cannot take our project or our member.
    let r = stranger
        .post(
            &format!("/api/workspaces/{their_ws}/projects/"),
            json!({"project": l.p1}),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = stranger
        .post(
            &format!("/api/workspaces/{their_ws}/memberships/"),
            json!({"user": l.an_ws.id.0}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        stranger
            .get(&format!("/api/projects/{}", l.p1))
            .await
            .status,
        404
    );
    assert_eq!(
        ids(&l.org.owner_api().get("/api/workspaces/").await.body),
        vec![l.ws_a, l.ws_b]
    );
}

#[tokio::test]
async fn workspace_changes_are_audited_and_bad_input_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Audited").await;
    let owner = org.owner_api();
    let an = org.member(Role::Annotator).await;
    let ws = create_workspace(&owner, "Team").await;
    let p = owner.create_project("P").await;
    put_project(&owner, ws, p).await;
    add_member(&owner, ws, &an).await;
    owner
        .patch(
            &format!("/api/workspaces/{ws}/"),
            json!({"color": "#ff0000"}),
        )
        .await
        .expect(200);
    owner
        .delete(&format!(
            "/api/workspaces/{ws}/memberships/?user_id={}",
            an.id.0
        ))
        .await
        .expect(204);
    owner
        .delete(&format!("/api/workspaces/{ws}/projects/?project={p}"))
        .await
        .expect(204);
    owner
        .delete(&format!("/api/workspaces/{ws}/"))
        .await
        .expect(204);
    let log = owner
        .get("/api/audit-events/?page_size=50")
        .await
        .expect(200);
    let actions: Vec<&str> = results(&log.body)
        .iter()
        .filter_map(|e| e["action"].as_str())
        .filter(|a| a.starts_with("workspace."))
        .collect();
    assert_eq!(
        actions,
        [
            "workspace.deleted",
            "workspace.project_removed",
            "workspace.member_removed",
            "workspace.updated",
            "workspace.member_added",
            "workspace.project_added",
            "workspace.created",
        ]
    );

    // Bad input: a clear 4xx, and the same answers afterwards.
    let ws = create_workspace(&owner, "Kept").await;
    let snapshot = server.snapshot().await;
    let bad: Vec<(reqwest::Method, String, Value)> = vec![
        (reqwest::Method::POST, "/api/workspaces/".into(), json!({})),
        (
            reqwest::Method::POST,
            "/api/workspaces/".into(),
            json!({"title": "  "}),
        ),
        (
            reqwest::Method::POST,
            "/api/workspaces/".into(),
            json!({"title": "Kept"}),
        ),
        (
            reqwest::Method::POST,
            "/api/workspaces/".into(),
            json!({"title": "x", "owner": 1}),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/workspaces/{ws}/"),
            json!({"title": ""}),
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/workspaces/{ws}/"),
            json!({"is_archived": "yes"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/workspaces/{ws}/memberships/"),
            json!({"user": 999999}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/workspaces/{ws}/memberships/"),
            json!({"user": "x"}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/workspaces/{ws}/memberships/bulk/"),
            json!({"all": false, "included": [an.id.0, 999999]}),
        ),
        (
            reqwest::Method::POST,
            format!("/api/workspaces/{ws}/projects/"),
            json!({"project": 999999}),
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/workspaces/{ws}/memberships/?user_id=abc"),
            Value::Null,
        ),
        (
            reqwest::Method::DELETE,
            format!("/api/workspaces/{ws}/memberships/bulk/?included=1,x"),
            Value::Null,
        ),
        (
            reqwest::Method::GET,
            "/api/workspaces/?ordering=color".into(),
            Value::Null,
        ),
        (
            reqwest::Method::GET,
            "/api/workspaces/?is_archived=maybe".into(),
            Value::Null,
        ),
    ];
    for (method, path, body) in bad {
        let r = if body.is_null() {
            owner.send(method.clone(), &path, None, &[]).await
        } else {
            owner.send_json(method.clone(), &path, body.clone()).await
        };
        assert!(
            (400..500).contains(&r.status),
            "{method} {path} {body}: {} {}",
            r.status,
            r.text
        );
    }
    assert_eq!(server.snapshot().await, snapshot);
}

#[tokio::test]
async fn bulk_and_paginated_members() {
    let server = TestServer::start().await;
    let org = server.org("Bulk").await;
    let owner = org.owner_api();
    let mut people = Vec::new();
    for _ in 0..5 {
        people.push(org.member(Role::Annotator).await);
    }
    let ws = create_workspace(&owner, "Crowd").await;
    let r = owner
        .post(
            &format!("/api/workspaces/{ws}/memberships/bulk/"),
            json!({"all": true, "excluded": [people[0].id.0]}),
        )
        .await
        .expect(200);
    // Everyone but the excluded one; the Owner was already in (as creator).
    assert_eq!(r.body["assignments"], 4);
    let page = owner
        .get(&format!(
            "/api/workspaces/{ws}/memberships/paginated/?page=1&page_size=2"
        ))
        .await
        .expect(200);
    assert_eq!(page.body["count"], 5);
    assert_eq!(results(&page.body).len(), 2);
    assert!(results(&page.body)[0]["username"].is_string());
    let past = owner
        .get(&format!(
            "/api/workspaces/{ws}/memberships/paginated/?page=9&page_size=2"
        ))
        .await
        .expect(200);
    assert_eq!(results(&past.body).len(), 0);
    let one = owner
        .get(&format!(
            "/api/workspaces/{ws}/memberships/paginated/?ids={}",
            people[1].id.0
        ))
        .await
        .expect(200);
    assert_eq!(one.body["count"], 1);
    let r = owner
        .delete(&format!(
            "/api/workspaces/{ws}/memberships/bulk/?all=true&excluded={}",
            org.owner.id.0
        ))
        .await
        .expect(200);
    assert_eq!(r.body["unassignments"], 4);
    let left = owner
        .get(&format!("/api/workspaces/{ws}/memberships/"))
        .await
        .expect(200);
    assert_eq!(left.body.as_array().unwrap().len(), 1);
    server.assert_live_counts().await;
}

#[tokio::test]
async fn an_invite_gives_its_workspaces_on_acceptance() {
    let server = TestServer::start().await;
    let org = server.org("Invites").await;
    let owner = org.owner_api();
    let ws = create_workspace(&owner, "Welcome").await;
    let p = owner.create_project("Inside").await;
    put_project(&owner, ws, p).await;
    let other = server.org("Elsewhere").await;
    let theirs = create_workspace(&other.owner_api(), "Theirs").await;
    // Another organization's workspace is refused, and nothing is sent.
    let snapshot = server.snapshot().await;
    let r = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["ann@example.com"], "role": "AN", "workspaces": [theirs]}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(server.snapshot().await, snapshot);
    let sent = owner
        .post(
            "/api/invite/send-email",
            json!({"emails": ["ann@example.com"], "role": "AN", "workspaces": [ws]}),
        )
        .await
        .expect(201)
        .body;
    let url = sent[0]["invite_url"].as_str().unwrap();
    let path = url.strip_prefix(&server.url).unwrap_or(url).to_string();
    let joined = server
        .anonymous()
        .post(
            &path,
            json!({"email": "ann@example.com", "password": roster_tests::PASSWORD}),
        )
        .await
        .expect(201);
    let ann = joined.body["user"]["id"].as_i64().unwrap();
    let members = owner
        .get(&format!("/api/workspaces/{ws}/memberships/"))
        .await
        .expect(200);
    assert!(
        members
            .body
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["user"]["id"] == ann),
        "{}",
        members.text
    );
    server.assert_live_counts().await;
}

#[tokio::test]
async fn the_member_list_leaves_out_a_workspaces_members() {
    let server = TestServer::start().await;
    let org = server.org("Pickers").await;
    let owner = org.owner_api();
    let inside = org.member(Role::Annotator).await;
    let outside = org.member(Role::Annotator).await;
    let ws = create_workspace(&owner, "Picked").await;
    add_member(&owner, ws, &inside).await;
    // The SDK types the id as a float and sends "3.0".
    for value in [ws.to_string(), format!("{ws}.0")] {
        let page = owner
            .get(&org.path(&format!(
                "/memberships?exclude_workspace_id={value}&page_size=100"
            )))
            .await
            .expect(200);
        let users: Vec<i64> = results(&page.body)
            .iter()
            .map(|m| m["user"]["id"].as_i64().unwrap())
            .collect();
        assert!(users.contains(&outside.id.0), "{users:?}");
        assert!(!users.contains(&inside.id.0), "{users:?}");
        // The Owner created the workspace, so is in it too.
        assert!(!users.contains(&org.owner.id.0), "{users:?}");
        assert_eq!(page.body["count"], users.len());
    }
    let r = owner
        .get(&org.path("/memberships?exclude_workspace_id=abc"))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);

    // Another organization's workspace or project leaves nobody out, and its count of members
    // shows nowhere in ours.
    let other = server.org("Others").await;
    let theirs = create_workspace(&other.owner_api(), "Theirs").await;
    let their_project = other.owner_api().create_project("Theirs").await;
    add_member(
        &other.owner_api(),
        theirs,
        &other.member(Role::Annotator).await,
    )
    .await;
    let everyone = owner
        .get(&org.path("/memberships?page_size=100"))
        .await
        .expect(200)
        .body["count"]
        .clone();
    for q in [
        format!("exclude_workspace_id={theirs}"),
        format!("exclude_project_id={their_project}"),
    ] {
        let page = owner
            .get(&org.path(&format!("/memberships?{q}&page_size=100")))
            .await
            .expect(200);
        assert_eq!(page.body["count"], everyone, "{q}");
        assert_eq!(
            results(&page.body).len() as i64,
            everyone.as_i64().unwrap(),
            "{q}"
        );
    }
    server.assert_live_counts().await;
}

/// The SDK's legacy client removes a workspace member with a DELETE whose JSON body repeats the
/// workspace: accepted when it is the path's, a 400 that changes nothing otherwise.
#[tokio::test]
async fn a_removal_body_may_repeat_the_workspace_of_the_path() {
    let server = roster_tests::TestServer::start().await;
    let org = server.org("Acme").await;
    let an = org.member(roster_domain::Role::Annotator).await;
    let api = org.owner_api();
    let ws = api
        .post("/api/workspaces/", roster_tests::json!({"title": "Team"}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();
    let members = format!("/api/workspaces/{ws}/memberships");
    api.post(
        &members,
        roster_tests::json!({"workspace": ws, "user": an.id.0}),
    )
    .await
    .expect(201);
    let before = server.snapshot().await;
    api.send_json(
        reqwest::Method::DELETE,
        &members,
        roster_tests::json!({"workspace": ws + 1, "user": an.id.0}),
    )
    .await
    .expect(400);
    assert_eq!(server.snapshot().await, before);
    api.send_json(
        reqwest::Method::DELETE,
        &members,
        roster_tests::json!({"workspace": ws, "user": an.id.0}),
    )
    .await
    .expect(204);
}
