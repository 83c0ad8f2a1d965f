//! The activity log (`/api/activity-logs/`): every request of a member that changes state,
//! and every sign-in, in the organization it acted in, with Label Studio's filters.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, Api, OrgFixture, TestServer, PASSWORD};
use serde_json::Value;

const DAY: Duration = Duration::from_secs(86_400);

/// The one page of the log the answer holds: (data, recordsTotal, recordsFiltered).
async fn log(api: &Api, query: &str) -> (Vec<Value>, i64, i64) {
    let r = api
        .get(&format!("/api/activity-logs/?page_size=1000&{query}"))
        .await
        .expect(200);
    let pages = r.body.as_array().expect("a list");
    assert_eq!(pages.len(), 1, "{}", r.text);
    let page = &pages[0];
    (
        page["data"].as_array().expect("data").clone(),
        page["recordsTotal"].as_i64().expect("recordsTotal"),
        page["recordsFiltered"].as_i64().expect("recordsFiltered"),
    )
}

fn urls(rows: &[Value]) -> Vec<String> {
    rows.iter()
        .map(|r| {
            format!(
                "{} {}",
                r["request_method"].as_str().expect("method"),
                r["request_url"].as_str().expect("url")
            )
        })
        .collect()
}

async fn workspace(api: &Api, title: &str) -> i64 {
    api.post("/api/workspaces/", json!({"title": title}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .expect("workspace id")
}

/// An organization with some history: the Owner makes a project and a workspace and puts
/// one in the other, an Administrator adds a member to the project; reads happen between.
struct Story {
    org: OrgFixture,
    admin: roster_tests::Person,
    annotator: roster_tests::Person,
    project: i64,
    workspace: i64,
}

async fn story(server: &TestServer) -> Story {
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let annotator = org.member(Role::Annotator).await;
    let owner = org.owner_api();
    let project = owner.create_project("Birds").await;
    owner.get("/api/projects/").await.expect(200);
    server.advance(DAY);
    let workspace = workspace(&owner, "Field work").await;
    owner
        .post(
            &format!("/api/workspaces/{workspace}/projects/"),
            json!({"project": project}),
        )
        .await
        .expect(201);
    server.advance(DAY);
    org.api(&admin)
        .post(
            &format!("/api/projects/{project}/members/"),
            json!({"user": annotator.id.0, "role": "AN"}),
        )
        .await
        .expect(201);
    org.api(&admin)
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200);
    Story {
        org,
        admin,
        annotator,
        project,
        workspace,
    }
}

#[tokio::test]
async fn changes_are_recorded_with_who_what_and_where_and_reads_are_not() {
    let server = TestServer::start().await;
    let s = story(&server).await;
    let (rows, total, filtered) = log(&s.org.owner_api(), "").await;
    assert_eq!(
        urls(&rows),
        [
            format!("POST /api/projects/{}/members", s.project),
            format!("POST /api/workspaces/{}/projects", s.workspace),
            "POST /api/workspaces".to_string(),
            "POST /api/projects".to_string(),
        ],
        "newest first, changes only"
    );
    assert_eq!((total, filtered), (4, 4));
    let newest = &rows[0];
    assert_eq!(newest["user_id"], s.admin.id.0);
    assert_eq!(newest["email"], s.admin.email.as_str());
    assert_eq!(newest["response_code"], "201");
    assert_eq!(newest["organization_id"], s.org.id.0);
    assert_eq!(newest["project_id"], s.project);
    // The project's workspace, though the path names only the project.
    assert_eq!(newest["workspace_owner_id"], s.workspace);
    assert_eq!(newest["ip_address"], "127.0.0.1");
    assert!(newest["duration"].as_i64().expect("duration") >= 0);
    assert!(newest["datetime"]
        .as_str()
        .expect("datetime")
        .ends_with('Z'));
    assert_eq!(rows[1]["workspace_owner_id"], s.workspace);
    assert_eq!(rows[1]["project_id"], Value::Null);
    assert_eq!(rows[3]["user_id"], s.org.owner.id.0);
}

#[tokio::test]
async fn refused_changes_and_sign_ins_are_recorded_and_no_query_string_is_kept() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let annotator = org.member(Role::Annotator).await;
    org.set_password(&annotator).await;
    // A refused change is activity too.
    org.api(&annotator)
        .post(
            "/api/workspaces/?token=secret-value",
            json!({"title": "Mine"}),
        )
        .await
        .expect(403);
    let mut b = server.browser();
    b.sign_in(&annotator.email, PASSWORD).await.expect(200);
    // A failed sign-in proves nobody's identity, so it is not written under anyone's name.
    server
        .anonymous()
        .post(
            "/user/login",
            json!({"email": annotator.email, "password": "wrong password"}),
        )
        .await
        .expect(401);
    b.post("/user/logout", json!({})).await.expect(204);
    let (rows, ..) = log(&org.owner_api(), "").await;
    assert_eq!(
        urls(&rows),
        [
            "POST /user/logout",
            "POST /user/login",
            "POST /api/workspaces"
        ]
    );
    assert!(rows.iter().all(|r| r["user_id"] == annotator.id.0));
    let codes: Vec<&str> = rows
        .iter()
        .map(|r| r["response_code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, ["204", "200", "403"]);
    let stored = server
        .sql_int("SELECT COUNT(*) FROM activity_logs WHERE path LIKE '%?%' OR path LIKE '%secret%'")
        .await;
    assert_eq!(stored, 0, "query strings are never stored");
}

#[tokio::test]
async fn every_filter_narrows_the_log() {
    let server = TestServer::start().await;
    let s = story(&server).await;
    let api = s.org.owner_api();
    let check = |query: &'static str, want: Vec<String>| {
        let api = api.clone();
        async move {
            let (rows, total, filtered) = log(&api, query).await;
            assert_eq!(urls(&rows), want, "{query}");
            assert_eq!(total, 4, "{query}");
            assert_eq!(filtered, want.len() as i64, "{query}");
        }
    };
    let members = format!("POST /api/projects/{}/members", s.project);
    let ws_projects = format!("POST /api/workspaces/{}/projects", s.workspace);
    let ws = "POST /api/workspaces".to_string();
    let projects = "POST /api/projects".to_string();

    let q = format!("user={}", s.admin.id.0);
    let (rows, ..) = log(&api, &q).await;
    assert_eq!(urls(&rows), [members.as_str()]);
    let q = format!("user={}", s.org.owner.id.0);
    let (rows, ..) = log(&api, &q).await;
    assert_eq!(rows.len(), 3);
    let (rows, ..) = log(&api, &format!("user={}", s.annotator.id.0)).await;
    assert!(rows.is_empty());
    let (rows, ..) = log(&api, &format!("project={}", s.project)).await;
    assert_eq!(urls(&rows), [members.as_str()]);
    let (rows, ..) = log(&api, &format!("workspace={}", s.workspace)).await;
    assert_eq!(urls(&rows), [members.clone(), ws_projects.clone()]);

    check(
        "method=POST",
        vec![
            members.clone(),
            ws_projects.clone(),
            ws.clone(),
            projects.clone(),
        ],
    )
    .await;
    check(
        "method=all",
        vec![
            members.clone(),
            ws_projects.clone(),
            ws.clone(),
            projects.clone(),
        ],
    )
    .await;
    check("method=DELETE", vec![]).await;
    check("method=GET", vec![]).await;
    check("search=members", vec![members.clone()]).await;
    check(
        "search=workspaces%20AND%20projects",
        vec![ws_projects.clone()],
    )
    .await;
    check(
        "search=members%20OR%20WORKSPACES",
        vec![members.clone(), ws_projects.clone(), ws.clone()],
    )
    .await;
    check("search=nothing-like-this", vec![]).await;
    check(
        "ordering=datetime",
        vec![
            projects.clone(),
            ws.clone(),
            ws_projects.clone(),
            members.clone(),
        ],
    )
    .await;
    check(
        "ordering=-id",
        vec![
            members.clone(),
            ws_projects.clone(),
            ws.clone(),
            projects.clone(),
        ],
    )
    .await;
    check(
        "ordering=request_url",
        vec![
            projects.clone(),
            members.clone(),
            ws.clone(),
            ws_projects.clone(),
        ],
    )
    .await;

    // Dates: the story spans three days, one step a day.
    let rows = log(&api, "ordering=datetime").await.0;
    let day = |i: usize| rows[i]["datetime"].as_str().expect("datetime").to_string();
    let (first, second, third) = (day(0), day(1), day(3));
    let (r, ..) = log(
        &api,
        &format!("start_date={}", roster_tests::encode(&second)),
    )
    .await;
    assert_eq!(urls(&r), [members.clone(), ws_projects.clone(), ws.clone()]);
    let (r, ..) = log(&api, &format!("end_date={}", roster_tests::encode(&first))).await;
    assert_eq!(urls(&r), [projects.as_str()]);
    let (r, ..) = log(
        &api,
        &format!(
            "start_date={}&end_date={}",
            roster_tests::encode(&second),
            roster_tests::encode(&second)
        ),
    )
    .await;
    // The workspace and its project were made in the same instant.
    assert_eq!(urls(&r), [ws_projects.clone(), ws.clone()]);
    // A date alone: from the start of that day, to its end.
    let date = &third[..10];
    let (r, ..) = log(&api, &format!("start_date={date}&end_date={date}")).await;
    assert_eq!(urls(&r), [members.as_str()]);

    // Paging: one a page.
    for (page, want) in [(1, &members), (2, &ws_projects), (4, &projects)] {
        let r = api
            .get(&format!("/api/activity-logs/?page={page}&page_size=1"))
            .await
            .expect(200);
        let data = r.body[0]["data"].as_array().expect("data");
        assert_eq!(urls(data), [want.as_str()], "page {page}");
        assert_eq!(r.body[0]["recordsFiltered"], 4);
    }
    let r = api
        .get("/api/activity-logs?page=5&page_size=1")
        .await
        .expect(200);
    assert_eq!(r.body[0]["data"], json!([]));
}

#[tokio::test]
async fn bad_filter_values_are_refused_naming_the_parameter() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    for (query, field) in [
        ("user=me", "user"),
        ("project=x", "project"),
        ("workspace=1.5", "workspace"),
        ("method=FETCH", "method"),
        ("start_date=yesterday", "start_date"),
        ("end_date=2026-13-01", "end_date"),
        ("ordering=email", "ordering"),
        ("ordering=-colour", "ordering"),
        ("search=OR", "search"),
        ("page=0", "page"),
        ("page_size=0", "page_size"),
    ] {
        let r = api
            .get(&format!("/api/activity-logs/?{query}"))
            .await
            .expect(400);
        assert!(
            r.body["validation_errors"].get(field).is_some(),
            "{query} -> {}",
            r.text
        );
    }
}

#[tokio::test]
async fn a_deleted_member_reads_as_deleted_user() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let gone = org.member(Role::Manager).await;
    org.api(&gone).create_project("Theirs").await;
    org.owner_api()
        .delete(&org.path(&format!("/memberships/{}/", gone.id.0)))
        .await
        .expect(204);
    let (rows, ..) = log(&org.owner_api(), &format!("user={}", gone.id.0)).await;
    assert_eq!(urls(&rows), ["POST /api/projects"]);
    assert_eq!(rows[0]["email"], "Deleted");
    // They come back as a new membership: their old requests stay masked, new ones are theirs.
    org.add_existing(&gone, Role::Manager).await;
    org.api(&gone).create_project("Again").await;
    let (rows, ..) = log(&org.owner_api(), &format!("user={}", gone.id.0)).await;
    let emails: Vec<&str> = rows
        .iter()
        .map(|r| r["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails, [gone.email.as_str(), "Deleted"]);
}

#[tokio::test]
async fn rows_past_the_retention_period_are_hidden_and_purged() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    api.create_project("Old").await;
    server.advance(89 * DAY);
    api.create_project("Recent").await;
    server.advance(2 * DAY);
    let (rows, total, _) = log(&api, "").await;
    assert_eq!(urls(&rows), ["POST /api/projects"]);
    assert_eq!(total, 1, "the 91-day-old request is past the 90 days");
    assert_eq!(
        server.sql_int("SELECT COUNT(*) FROM activity_logs").await,
        2
    );
    // The next recorded request purges what is past retention.
    api.create_project("New").await;
    assert_eq!(
        server.sql_int("SELECT COUNT(*) FROM activity_logs").await,
        2
    );
    let (_, total, _) = log(&api, "").await;
    assert_eq!(total, 2);
}

#[tokio::test]
async fn only_owners_and_administrators_read_their_own_organizations_log() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Other").await;
    let both = org.member(Role::Administrator).await;
    other.add_existing(&both, Role::Annotator).await;
    org.owner_api().create_project("Ours").await;
    other.owner_api().create_project("Theirs").await;
    // A request that names the other organization is recorded there.
    other
        .api(&both)
        .patch(&other.path(""), json!({"title": "Renamed"}))
        .await
        .expect(403);

    let (rows, ..) = log(&org.api(&both), "").await;
    assert_eq!(urls(&rows), ["POST /api/projects"]);
    assert!(rows.iter().all(|r| r["organization_id"] == org.id.0));
    let (rows, ..) = log(&other.owner_api(), "").await;
    assert_eq!(
        urls(&rows),
        [
            format!("PATCH /api/organizations/{}", other.id.0),
            "POST /api/projects".to_string()
        ]
    );
    assert!(rows.iter().all(|r| r["organization_id"] == other.id.0));
    // Naming the other organization's user or project finds nothing here.
    let (rows, ..) = log(&org.owner_api(), &format!("user={}", other.owner.id.0)).await;
    assert!(rows.is_empty());

    for role in roster_tests::BELOW_ADMIN {
        let p = org.member(role).await;
        org.api(&p).get("/api/activity-logs/").await.expect(403);
    }
    server
        .anonymous()
        .get("/api/activity-logs/")
        .await
        .expect(401);
}
