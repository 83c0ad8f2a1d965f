//! Project access as Label Studio Enterprise's SDK manages it: project shapes, members that
//! keep their project roles, project roles with ids that can be removed, and every change
//! audited in one transaction.

use roster_domain::Role;
use roster_tests::{json, Api, OrgFixture, Person, TestServer};
use serde_json::Value;

/// An organization with a Manager who created the project "Cats", and an Annotator.
struct Cats {
    server: TestServer,
    org: OrgFixture,
    manager: Person,
    ann: Person,
    project: i64,
}

impl Cats {
    async fn new() -> Cats {
        let server = TestServer::start().await;
        let org = server.org("Acme").await;
        let manager = org.member(Role::Manager).await;
        let ann = org.member(Role::Annotator).await;
        let project = org.api(&manager).create_project("Cats").await;
        Cats {
            server,
            org,
            manager,
            ann,
            project,
        }
    }

    fn api(&self) -> Api {
        self.org.api(&self.manager)
    }

    /// Gives `who` a project role through the API; returns the role's id.
    async fn give_role(&self, who: &Person, role: &str) -> i64 {
        self.api()
            .post(
                "/api/projects/roles/",
                json!({"project": self.project, "user": who.id.0, "role": role}),
            )
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .expect("a role id")
    }
}

async fn newest_event(api: &Api) -> Value {
    api.get("/api/audit-events/?page_size=1")
        .await
        .expect(200)
        .body["results"][0]
        .clone()
}

#[tokio::test]
async fn a_project_has_the_fields_the_sdk_requires() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let manager = org.member(Role::Manager).await;
    let ann = org.member(Role::Annotator).await;
    let api = org.api(&manager);

    // The SDK's create request: unknown labeling keys are ignored, a null description is ok.
    let r = api
        .post(
            "/api/projects/",
            json!({"title": "Cats", "description": null, "label_config": "<View/>",
                   "sampling": "Uniform sampling", "show_skip_button": true}),
        )
        .await
        .expect(201);
    let project = r.body["id"].as_i64().unwrap();
    assert_eq!(r.body["description"], "");
    api.post("/api/projects/", json!({"description": "no title"}))
        .await
        .expect(400);
    api.post(
        &format!("/api/projects/{project}/members/"),
        json!({"user": ann.id.0}),
    )
    .await
    .expect(201);

    let p = api
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200)
        .body;
    assert_eq!(p["assignment_settings"], json!({"project": project}));
    assert_eq!(p["review_settings"], json!({"project": project}));
    assert_eq!(p["created_by"]["id"], manager.id.0);
    assert_eq!(p["created_by"]["username"], manager.email.as_str());
    assert_eq!(p["workspace"], Value::Null);
    assert_eq!(p["workspace_title"], Value::Null);
    assert_eq!(p["members_count"], 2);
    assert_eq!(p["members"].as_array().unwrap().len(), 2);
    let limited = api
        .get(&format!("/api/projects/{project}/?members_limit=1"))
        .await
        .expect(200)
        .body;
    assert_eq!(limited["members"].as_array().unwrap().len(), 1);
    assert_eq!(limited["members_count"], 2);

    let list = api.get("/api/projects/").await.expect(200).body;
    let item = &list["results"][0];
    assert_eq!(item["assignment_settings"], json!({"project": project}));
    assert_eq!(item["members_count"], 2);
    assert!(item.get("members").is_none());
    let list = api
        .get("/api/projects/?members_limit=5")
        .await
        .expect(200)
        .body;
    assert_eq!(list["results"][0]["members"].as_array().unwrap().len(), 2);
    api.get("/api/projects/?members_limit=x").await.expect(400);
}

#[tokio::test]
async fn adding_a_member_again_keeps_their_project_role() {
    let w = Cats::new().await;
    let (server, org, ann, project, api) = (&w.server, &w.org, &w.ann, w.project, w.api());
    let role_id = w.give_role(ann, "RE").await;
    assert_eq!(
        newest_event(&org.owner_api()).await["action"],
        "project.member_added"
    );

    let before = server.snapshot().await;
    let r = api
        .post(
            &format!("/api/projects/{project}/members/"),
            json!({"user": ann.id.0}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["user"], ann.id.0);
    assert_eq!(r.body["role"], "RE");
    // Nothing changed, so nothing was written (not even an audit event).
    assert_eq!(server.snapshot().await, before);
    let roles = api
        .get(&format!("/api/projects/{project}/roles"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        roles,
        json!([{"id": role_id, "project": project, "user": ann.id.0, "role": "RE", "role_source": "api"}])
    );
}

#[tokio::test]
async fn removing_a_project_role_by_id_leaves_the_member_with_their_org_role() {
    let w = Cats::new().await;
    let (server, org, ann, project, api) = (&w.server, &w.org, &w.ann, w.project, w.api());
    let rev = org.member(Role::Reviewer).await;
    let role_id = w.give_role(ann, "RE").await;
    w.give_role(&rev, "AN").await;

    // A role id of another organization is not found there, and changes nothing.
    let other = server.org("Other").await;
    let before = server.snapshot().await;
    other
        .owner_api()
        .delete(&format!("/api/projects/roles/{role_id}/"))
        .await
        .expect(404);
    // Annotators do not manage project roles.
    org.api(ann)
        .delete(&format!("/api/projects/roles/{role_id}/"))
        .await
        .expect(403);
    api.delete("/api/projects/roles/999999/").await.expect(404);
    api.delete("/api/projects/roles/x/").await.expect(404);
    assert_eq!(server.snapshot().await, before);

    api.delete(&format!("/api/projects/roles/{role_id}/"))
        .await
        .expect(204);
    let e = newest_event(&org.owner_api()).await;
    assert_eq!(e["action"], "project.role_changed");
    assert_eq!(e["target"]["id"], ann.id.0);
    let p = api
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200)
        .body;
    let member = p["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["user"]["id"] == ann.id.0)
        .expect("still a member")
        .clone();
    assert_eq!(member["role"], Value::Null);
    api.delete(&format!("/api/projects/roles/{role_id}/"))
        .await
        .expect(404);

    // The SDK's list: every role the caller may see, narrowed by project ids.
    let all = api.get("/api/projects/roles/").await.expect(200).body;
    assert_eq!(all.as_array().unwrap().len(), 1);
    assert_eq!(all[0]["user"], rev.id.0);
    let none = api
        .get(&format!("/api/projects/roles/?ids={}", project + 1000))
        .await
        .expect(200)
        .body;
    assert_eq!(none, json!([]));
    let some = api
        .get(&format!(
            "/api/projects/roles/?ids={project},{}",
            project + 1000
        ))
        .await
        .expect(200)
        .body;
    assert_eq!(some, all);
    api.get("/api/projects/roles/?ids=a,b").await.expect(400);
    // Another organization sees none of these roles.
    let theirs = other
        .owner_api()
        .get("/api/projects/roles/")
        .await
        .expect(200)
        .body;
    assert_eq!(theirs, json!([]));
    other
        .owner_api()
        .get(&format!("/api/projects/{project}/roles"))
        .await
        .expect(404);
}

#[tokio::test]
async fn an_annotator_sees_only_the_roles_of_their_projects() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let manager = org.member(Role::Manager).await;
    let ann = org.member(Role::Annotator).await;
    let rev = org.member(Role::Reviewer).await;
    let api = org.api(&manager);
    let mine = api.create_project("Mine").await;
    let theirs = api.create_project("Theirs").await;
    for (p, who, role) in [(mine, &ann, "AN"), (theirs, &rev, "RE")] {
        api.post(
            "/api/projects/roles/",
            json!({"project": p, "user": who.id.0, "role": role}),
        )
        .await
        .expect(201);
    }
    let seen = org
        .api(&ann)
        .get("/api/projects/roles/")
        .await
        .expect(200)
        .body;
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen[0]["project"], mine);
    org.api(&ann)
        .get(&format!("/api/projects/{theirs}/roles"))
        .await
        .expect(404);
    assert_eq!(
        api.get("/api/projects/roles/")
            .await
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn create_refuses_keys_outside_the_sdk_request_and_another_organization() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let before = server.snapshot().await;
    for (body, field) in [
        (json!({"title": "P", "colour": "red"}), "colour"),
        (
            json!({"title": "P", "organization": org.id.0 + 100}),
            "organization",
        ),
        (json!({"title": 5}), "title"),
    ] {
        let r = api.post("/api/projects/", body.clone()).await.expect(400);
        assert!(
            r.body["detail"].as_str().unwrap().contains(field),
            "{body}: {}",
            r.text
        );
    }
    // A workspace the caller does not see (here: none exists) is not found.
    api.post("/api/projects/", json!({"title": "P", "workspace": 1}))
        .await
        .expect(404);
    assert_eq!(server.snapshot().await, before);
    let r = api
        .post(
            "/api/projects/",
            json!({"title": "P", "organization": org.id.0, "workspace": null}),
        )
        .await
        .expect(201);
    assert_eq!(r.body["organization"], org.id.0);
}

#[tokio::test]
async fn the_member_list_leaves_out_a_projects_members() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ann = org.member(Role::Annotator).await;
    let rev = org.member(Role::Reviewer).await;
    let api = org.owner_api();
    let project = api.create_project("Cats").await;
    api.post(
        &format!("/api/projects/{project}/members/"),
        json!({"user": ann.id.0}),
    )
    .await
    .expect(201);
    let users = |v: &Value| -> Vec<i64> {
        roster_tests::results(v)
            .iter()
            .map(|m| m["user"]["id"].as_i64().unwrap())
            .collect()
    };
    // The SDK sends float-typed ids ("3.0").
    for value in [format!("{project}"), format!("{project}.0")] {
        let list = api
            .get(&org.path(&format!("/memberships?exclude_project_id={value}")))
            .await
            .expect(200)
            .body;
        let ids = users(&list);
        // The Owner created the project, so is in it too.
        assert_eq!(ids, vec![rev.id.0], "{list}");
        assert_eq!(list["count"], 1);
    }
    let list = api
        .get(&org.path(&format!(
            "/memberships?exclude_project_id={project}&role=AN,RE&search=test"
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(users(&list), vec![rev.id.0], "{list}");
    assert_eq!(list["count"], 1);
    for bad in ["x", "1.5", "-1"] {
        api.get(&org.path(&format!("/memberships?exclude_project_id={bad}")))
            .await
            .expect(400);
    }
}

#[tokio::test]
async fn the_paginated_member_list_shows_explicit_and_implicit_members_with_filters() {
    let w = Cats::new().await;
    let (org, ann, project, api) = (&w.org, &w.ann, w.project, w.api());
    let rev = org.member(Role::Reviewer).await;
    let admin = org.member(Role::Administrator).await;
    w.give_role(ann, "RE").await;
    api.post(
        &format!("/api/projects/{project}/members/"),
        json!({"user": rev.id.0}),
    )
    .await
    .expect(201);
    let path = format!("/api/projects/{project}/members/paginated/");
    let list = api.get(&path).await.expect(200).body;
    let rows = roster_tests::results(&list);
    let by_id = |id: i64| rows.iter().find(|r| r["id"] == id).cloned().unwrap();
    // Manager (creator), Annotator, Reviewer explicit; Owner and Administrator implicit.
    assert_eq!(list["count"], 5, "{list}");
    assert_eq!(by_id(ann.id.0)["implicit_member"], false);
    assert_eq!(by_id(ann.id.0)["project_role"], "RE");
    assert_eq!(by_id(ann.id.0)["project_role_source"], "api");
    assert_eq!(by_id(rev.id.0)["project_role"], Value::Null);
    assert_eq!(by_id(admin.id.0)["implicit_member"], true);
    assert_eq!(by_id(org.owner.id.0)["implicit_member"], true);
    assert!(by_id(ann.id.0)["username"].is_string());

    let ids = |v: &Value| -> Vec<i64> {
        let mut ids: Vec<i64> = roster_tests::results(v)
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    let mut explicit = vec![w.manager.id.0, ann.id.0, rev.id.0];
    explicit.sort();
    assert_eq!(
        ids(&api
            .get(&format!("{path}?implicit=false"))
            .await
            .expect(200)
            .body),
        explicit
    );
    // The role filter matches the effective role: the Annotator is a Reviewer here.
    let mut reviewers = vec![ann.id.0, rev.id.0];
    reviewers.sort();
    assert_eq!(
        ids(&api.get(&format!("{path}?role=RE")).await.expect(200).body),
        reviewers
    );
    assert_eq!(
        ids(&api
            .get(&format!("{path}?ids={},{}", ann.id.0, admin.id.0))
            .await
            .expect(200)
            .body),
        {
            let mut v = vec![ann.id.0, admin.id.0];
            v.sort();
            v
        }
    );
    let found = api
        .get(&format!("{path}?search={}", ann.email.to_uppercase()))
        .await
        .expect(200)
        .body;
    assert_eq!(ids(&found), vec![ann.id.0]);
    let ordered = api
        .get(&format!("{path}?ordering=-id&page_size=2"))
        .await
        .expect(200)
        .body;
    let first: Vec<i64> = roster_tests::results(&ordered)
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert!(first[0] > first[1]);
    let past = api.get(&format!("{path}?page=9")).await.expect(200).body;
    assert_eq!(past["results"], json!([]));
    for bad in ["ordering=x", "role=ZZ", "implicit=maybe", "ids=a"] {
        api.get(&format!("{path}?{bad}")).await.expect(400);
    }

    // The CSV export: the same rows, for those who manage the project.
    let csv = api
        .get(&format!(
            "/api/projects/{project}/members/export/?implicit=false"
        ))
        .await
        .expect(200);
    assert!(csv.text.starts_with("id,email,"), "{}", csv.text);
    assert_eq!(csv.text.lines().count(), 4, "{}", csv.text);
    assert!(csv.text.contains(&format!("{},{}", ann.id.0, ann.email)));
    org.api(ann)
        .get(&format!("/api/projects/{project}/members/export/"))
        .await
        .expect(403);
    let other = w.server.org("Other").await;
    other.owner_api().get(&path).await.expect(404);
}

#[tokio::test]
async fn bulk_assign_and_unassign_change_many_members_in_one_go() {
    let w = Cats::new().await;
    let (server, org, ann, project, api) = (&w.server, &w.org, &w.ann, w.project, w.api());
    let rev = org.member(Role::Reviewer).await;
    let ann2 = org.member(Role::Annotator).await;
    let stranger = server.org("Other").await.owner;
    let bulk = format!("/api/projects/{project}/members/bulk/");

    // A role that is not a project role refuses the whole request.
    let before = server.snapshot().await;
    api.post(
        &bulk,
        json!({"all": false, "included": [ann.id.0], "roles": [{"user_id": rev.id.0, "role": "MA"}]}),
    )
    .await
    .expect(400);
    assert_eq!(server.snapshot().await, before);

    let r = api
        .post(
            &bulk,
            json!({"all": false, "included": [ann.id.0, stranger.id.0, 999999],
                   "roles": [{"user_id": rev.id.0, "role": "AN"}]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["assignments"], 2);
    assert_eq!(r.body["skipped_user_ids"], json!([stranger.id.0, 999999]));

    // all=true with a filter: every Annotator not yet in the project.
    let r = api
        .post(
            &format!("{bulk}?role=AN"),
            json!({"all": true, "excluded": []}),
        )
        .await
        .expect(200);
    assert_eq!(r.body, json!({"assignments": 1, "skipped_user_ids": []}));
    let members = |v: Value| -> Vec<i64> {
        let mut ids: Vec<i64> = v["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user"]["id"].as_i64().unwrap())
            .collect();
        ids.sort();
        ids
    };
    let detail = api
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200)
        .body;
    let mut all = vec![w.manager.id.0, ann.id.0, rev.id.0, ann2.id.0];
    all.sort();
    assert_eq!(members(detail), all);

    // Unassign: included ids, then everything matching the effective role AN except one.
    let r = api
        .delete(&format!("{bulk}?all=false&included={}", ann2.id.0))
        .await
        .expect(200);
    assert_eq!(r.body, json!({"unassignments": 1}));
    let r = api
        .delete(&format!("{bulk}?all=true&role=AN&excluded={}", ann.id.0))
        .await
        .expect(200);
    // The Reviewer has the project role AN; the Annotator is kept.
    assert_eq!(r.body, json!({"unassignments": 1}));
    let detail = api
        .get(&format!("/api/projects/{project}/"))
        .await
        .expect(200)
        .body;
    let mut left = vec![w.manager.id.0, ann.id.0];
    left.sort();
    assert_eq!(members(detail), left);
    api.delete(&format!("{bulk}?all=maybe")).await.expect(400);
    org.api(ann)
        .delete(&format!("{bulk}?all=true"))
        .await
        .expect(403);
    w.server.assert_live_counts().await;
}

/// The ids of a paged list, sorted.
fn sorted_ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = roster_tests::results(v)
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

/// A new workspace holding `project`; returns its id.
async fn workspace_holding(api: &Api, title: &str, project: i64) -> i64 {
    let ws = api
        .post("/api/workspaces/", json!({"title": title}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();
    api.post(
        &format!("/api/workspaces/{ws}/projects/"),
        json!({"project": project}),
    )
    .await
    .expect(201);
    ws
}

#[tokio::test]
async fn workspace_members_reach_its_projects_implicitly_and_lose_them_with_it() {
    let w = Cats::new().await;
    let (org, project, api) = (&w.org, w.project, w.api());
    let outsider = org.member(Role::Annotator).await;
    let worker = org.member(Role::Reviewer).await;
    let ws = workspace_holding(&api, "Pets", project).await;
    api.post(
        &format!("/api/workspaces/{ws}/memberships/"),
        json!({"user": worker.id.0}),
    )
    .await
    .expect(201);

    let path = format!("/api/projects/{project}/members/paginated/?page_size=100");
    let list = api.get(&path).await.expect(200).body;
    let row = roster_tests::results(&list)
        .iter()
        .find(|r| r["id"] == worker.id.0)
        .cloned()
        .expect("the workspace member is listed");
    assert_eq!(row["implicit_member"], true, "{row}");
    assert!(!sorted_ids(&list).contains(&outsider.id.0));
    // The list and the access check say the same: the worker opens the project.
    org.api(&worker)
        .get(&format!("/api/projects/{project}"))
        .await
        .expect(200);
    org.api(&outsider)
        .get(&format!("/api/projects/{project}"))
        .await
        .expect(404);

    // Deactivated, the worker reaches nothing and is no longer listed as reaching it.
    org.owner_api()
        .patch(
            &org.path("/memberships"),
            json!({"user_id": worker.id.0, "role": "DI"}),
        )
        .await
        .expect(200);
    assert!(!sorted_ids(&api.get(&path).await.expect(200).body).contains(&worker.id.0));
    // Out of the workspace, they are not listed either once active again.
    org.owner_api()
        .patch(
            &org.path("/memberships"),
            json!({"user_id": worker.id.0, "role": "RE"}),
        )
        .await
        .expect(200);
    assert!(sorted_ids(&api.get(&path).await.expect(200).body).contains(&worker.id.0));
    api.delete(&format!(
        "/api/workspaces/{ws}/memberships/?user_id={}",
        worker.id.0
    ))
    .await
    .expect(204);
    assert!(!sorted_ids(&api.get(&path).await.expect(200).body).contains(&worker.id.0));
    w.server.assert_live_counts().await;
}

#[tokio::test]
async fn the_project_member_list_filters_by_activity_kind_and_deletion() {
    let w = Cats::new().await;
    let (server, org, ann, project, api) = (&w.server, &w.org, &w.ann, w.project, w.api());
    let late = org.member(Role::Annotator).await;
    for p in [&late] {
        api.post(
            &format!("/api/projects/{project}/members/"),
            json!({"user": p.id.0}),
        )
        .await
        .expect(201);
    }
    api.post(
        &format!("/api/projects/{project}/members/"),
        json!({"user": ann.id.0}),
    )
    .await
    .expect(201);
    org.api(ann)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    server.advance(std::time::Duration::from_secs(3600));
    org.api(&late)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    // The Owner lists: an implicit member, so their own activity stays out of the list.
    let api = org.owner_api();
    let base = format!("/api/projects/{project}/members/paginated/?implicit=false&page_size=100");
    let list = api.get(&base).await.expect(200).body;
    let activity = |id: i64| -> String {
        roster_tests::results(&list)
            .iter()
            .find(|r| r["id"] == id)
            .unwrap()["last_activity"]
            .as_str()
            .expect("an activity time")
            .to_string()
    };
    let (ann_at, late_at) = (activity(ann.id.0), activity(late.id.0));
    let enc = |t: &str| t.replace('+', "%2B");
    let since = api
        .get(&format!("{base}&last_activity__gte={}", enc(&late_at)))
        .await
        .expect(200)
        .body;
    assert_eq!(sorted_ids(&since), vec![late.id.0]);
    let until = api
        .get(&format!("{base}&last_activity__lte={}", enc(&ann_at)))
        .await
        .expect(200)
        .body;
    assert!(sorted_ids(&until).contains(&ann.id.0));
    assert!(!sorted_ids(&until).contains(&late.id.0));

    // Annotators left out: the Manager remains.
    let no_an = api
        .get(&format!("{base}&no_annotators=true"))
        .await
        .expect(200)
        .body;
    assert_eq!(sorted_ids(&no_an), vec![w.manager.id.0]);
    // Every roster member is a standard user.
    let all = sorted_ids(&list);
    assert_eq!(
        sorted_ids(
            &api.get(&format!("{base}&user_type=standard,flex"))
                .await
                .expect(200)
                .body
        ),
        all
    );
    assert_eq!(
        api.get(&format!("{base}&user_type=viewonly"))
            .await
            .expect(200)
            .body["count"],
        0
    );
    assert_eq!(
        sorted_ids(
            &api.get(&format!("{base}&no_view_only=true"))
                .await
                .expect(200)
                .body
        ),
        all
    );

    // A deleted member is gone from the list, and back with `with_deleted`.
    org.owner_api()
        .delete(&org.path(&format!("/memberships/{}", late.id.0)))
        .await
        .expect(204);
    assert!(!sorted_ids(&api.get(&base).await.expect(200).body).contains(&late.id.0));
    let with = api
        .get(&format!("{base}&with_deleted=true"))
        .await
        .expect(200)
        .body;
    assert!(sorted_ids(&with).contains(&late.id.0), "{with}");

    for bad in [
        "last_activity__gte=yesterday",
        "user_type=robot",
        "no_annotators=maybe",
        "with_deleted=2",
        "tags=1",
    ] {
        api.get(&format!("{base}&{bad}")).await.expect(400);
    }
    w.server.assert_live_counts().await;
}

#[tokio::test]
async fn the_project_list_filters_orders_and_keeps_to_what_the_caller_sees() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let manager = org.member(Role::Manager).await;
    let api = org.owner_api();
    let mut ids = Vec::new();
    for (title, description) in [
        ("Cats", "Whiskers"),
        ("Dogs", "Barking cats"),
        ("Birds", "Feathers"),
    ] {
        ids.push(
            api.post(
                "/api/projects/",
                json!({"title": title, "description": description}),
            )
            .await
            .expect(201)
            .body["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let (cats, dogs, birds) = (ids[0], ids[1], ids[2]);
    let list = |q: String| {
        let api = api.clone();
        async move {
            sorted_ids(
                &api.get(&format!("/api/projects/?{q}"))
                    .await
                    .expect(200)
                    .body,
            )
        }
    };
    assert_eq!(list("title=CAT".into()).await, vec![cats]);
    assert_eq!(list("search=cats".into()).await, vec![cats, dogs]);
    assert_eq!(list(format!("ids={cats},{birds}")).await, vec![cats, birds]);
    assert_eq!(list("filter=pinned_only".into()).await, Vec::<i64>::new());
    assert_eq!(list("filter=exclude_pinned".into()).await.len(), 3);
    let titles: Vec<String> = roster_tests::results(
        &api.get("/api/projects/?ordering=-title")
            .await
            .expect(200)
            .body,
    )
    .iter()
    .map(|r| r["title"].as_str().unwrap().to_string())
    .collect();
    assert_eq!(titles, ["Dogs", "Cats", "Birds"]);

    // Workspaces: by id (the SDK sends a float), and archived or not.
    let ws = workspace_holding(&api, "Old", birds).await;
    assert_eq!(list(format!("workspaces={ws}.0")).await, vec![birds]);
    api.patch(
        &format!("/api/workspaces/{ws}/"),
        json!({"is_archived": true}),
    )
    .await
    .expect(200);
    assert_eq!(list("archived=true".into()).await, vec![birds]);
    assert_eq!(list("archived=false".into()).await, vec![cats, dogs]);

    // A Manager's list is still only what they reach, whatever the filter.
    let mine = org
        .api(&manager)
        .get(&format!("/api/projects/?ids={cats},{dogs},{birds}"))
        .await
        .expect(200)
        .body;
    assert_eq!(mine["count"], 0, "{mine}");

    for bad in [
        "state=COMPLETED",
        "source_interface_id=1",
        "filter=starred",
        "ordering=secret",
        "workspaces=x",
        "archived=perhaps",
        "ids=a",
    ] {
        api.get(&format!("/api/projects/?{bad}")).await.expect(400);
    }
}
