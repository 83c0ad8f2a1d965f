//! Member tags over HTTP: create, read, rename and delete (labels unique per organization
//! whatever their case), bulk create and delete, assignment to all (less excluded) or
//! included members with the member list's filters and with overwrite, CSV import and its
//! status, the tags and seat type on member rows, every member-list filter with its results,
//! who may do what, another organization's tags, and bad input changing nothing.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, results, Api, OrgFixture, Person, TestServer};
use serde_json::Value;

fn tags_path(org: &OrgFixture, rest: &str) -> String {
    org.path(&format!("/member-tags{rest}"))
}

async fn create(api: &Api, org: &OrgFixture, label: &str) -> i64 {
    api.post(&tags_path(org, ""), json!({ "label": label }))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap()
}

async fn labels(org: &OrgFixture) -> Vec<String> {
    let page = org
        .owner_api()
        .get(&tags_path(org, "?page_size=100"))
        .await
        .expect(200)
        .body;
    results(&page)
        .iter()
        .map(|t| t["label"].as_str().unwrap().to_string())
        .collect()
}

async fn members(org: &OrgFixture, query: &str) -> Value {
    org.owner_api()
        .get(&org.path(&format!("/memberships?page_size=100&{query}")))
        .await
        .expect(200)
        .body
}

fn user_ids(v: &Value) -> Vec<i64> {
    let mut ids: Vec<i64> = results(v)
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut v: Vec<i64>) -> Vec<i64> {
    v.sort();
    v
}

/// The tag labels on one member's row of the list.
fn row_tags(list: &Value, p: &Person) -> Vec<String> {
    results(list)
        .iter()
        .find(|m| m["user"]["id"] == p.id.0)
        .unwrap_or_else(|| panic!("{} not in {list}", p.email))["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["label"].as_str().unwrap().to_string())
        .collect()
}

async fn assign(org: &OrgFixture, query: &str, body: Value) -> Value {
    org.owner_api()
        .post(&tags_path(org, &format!("/assignments?{query}")), body)
        .await
        .expect(200)
        .body
}

async fn actions(server: &TestServer, org: &OrgFixture) -> Vec<String> {
    server
        .sql_rows(
            &format!(
                "SELECT action FROM audit_events WHERE org_id = {} AND action LIKE 'member_tag.%' ORDER BY id",
                org.id.0
            ),
            1,
        )
        .await
        .into_iter()
        .map(|r| r[0].text().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn tags_are_created_read_renamed_and_deleted_with_labels_unique_in_any_case() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    let qa = create(&api, &org, "  QA team ").await;
    let got = api
        .get(&tags_path(&org, &format!("/{qa}")))
        .await
        .expect(200)
        .body;
    assert_eq!(got["label"], "QA team");
    assert_eq!(got["organization"], org.id.0);
    assert_eq!(got["member_count"], 0);
    assert_eq!(got["created_by"]["id"], org.owner.id.0);
    // The same label in another case is the same tag.
    let dup = api
        .post(&tags_path(&org, ""), json!({"label": "qa TEAM"}))
        .await
        .expect(400);
    assert!(dup.text.contains("label"), "{}", dup.text);
    for bad in [
        json!({"label": ""}),
        json!({"label": "x".repeat(101)}),
        json!({"label": "a\nb"}),
        json!({}),
        json!({"label": "ok", "color": "red"}),
    ] {
        api.post(&tags_path(&org, ""), bad).await.expect(400);
    }
    let night = create(&api, &org, "Night shift").await;
    let _audio = create(&api, &org, "audio").await;
    assert_eq!(labels(&org).await, ["audio", "Night shift", "QA team"]);
    // Search (case-insensitive), ordering, paging.
    let found = api
        .get(&tags_path(&org, "?search=SHIFT"))
        .await
        .expect(200)
        .body;
    assert_eq!(found["count"], 1);
    assert_eq!(results(&found)[0]["id"], night);
    let by_id = api
        .get(&tags_path(&org, "?ordering=-id&page_size=2"))
        .await
        .expect(200)
        .body;
    assert_eq!(by_id["count"], 3);
    assert_eq!(results(&by_id).len(), 2);
    assert_eq!(results(&by_id)[1]["id"], night);
    assert!(by_id["next"].as_str().unwrap().contains("page=2"));
    api.get(&tags_path(&org, "?ordering=color"))
        .await
        .expect(400);
    // Rename; to another tag's label is refused.
    let renamed = api
        .patch(&tags_path(&org, &format!("/{qa}")), json!({"label": "QA"}))
        .await
        .expect(200)
        .body;
    assert_eq!(renamed["label"], "QA");
    api.patch(
        &tags_path(&org, &format!("/{qa}")),
        json!({"label": "night SHIFT"}),
    )
    .await
    .expect(400);
    // Delete, then it is gone.
    api.delete(&tags_path(&org, &format!("/{night}")))
        .await
        .expect(204);
    api.get(&tags_path(&org, &format!("/{night}")))
        .await
        .expect(404);
    api.delete(&tags_path(&org, &format!("/{night}")))
        .await
        .expect(404);
    api.get(&tags_path(&org, "/999999")).await.expect(404);
    api.get(&tags_path(&org, "/abc")).await.expect(404);
    assert_eq!(labels(&org).await, ["audio", "QA"]);
    assert_eq!(
        actions(&server, &org).await,
        [
            "member_tag.created",
            "member_tag.created",
            "member_tag.created",
            "member_tag.updated",
            "member_tag.deleted"
        ]
    );
}

#[tokio::test]
async fn bulk_create_skips_known_labels_and_bulk_delete_is_all_or_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let api = org.owner_api();
    create(&api, &org, "Alpha").await;
    // A bad label anywhere creates nothing.
    api.post(&tags_path(&org, "/bulk"), json!({"labels": ["Beta", " "]}))
        .await
        .expect(400);
    api.post(&tags_path(&org, "/bulk"), json!({"labels": []}))
        .await
        .expect(400);
    assert_eq!(labels(&org).await, ["Alpha"]);
    let made = api
        .post(
            &tags_path(&org, "/bulk"),
            json!({"labels": ["Beta", "alpha", "Gamma", "beta"]}),
        )
        .await
        .expect(201)
        .body;
    assert_eq!(made["created"], 2);
    assert_eq!(labels(&org).await, ["Alpha", "Beta", "Gamma"]);
    let page = api.get(&tags_path(&org, "")).await.expect(200).body;
    let ids: Vec<i64> = results(&page)
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    // An id that names no tag here deletes nothing.
    let r = api
        .send_json(
            reqwest::Method::DELETE,
            &tags_path(&org, "/bulk"),
            json!({"ids": [ids[0], 999999]}),
        )
        .await
        .expect(400);
    assert!(r.text.contains("999999"), "{}", r.text);
    assert_eq!(labels(&org).await.len(), 3);
    let gone = api
        .send_json(
            reqwest::Method::DELETE,
            &tags_path(&org, "/bulk"),
            json!({"ids": [ids[0], ids[2]]}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(gone["deleted"], 2);
    assert_eq!(labels(&org).await, ["Beta"]);
}

/// An organization with an Administrator, a Manager, a Reviewer and two Annotators.
struct Team {
    server: TestServer,
    org: OrgFixture,
    ad: Person,
    ma: Person,
    re: Person,
    an: Person,
    an2: Person,
}

async fn team() -> Team {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let ad = org.member(Role::Administrator).await;
    let ma = org.member(Role::Manager).await;
    let re = org.member(Role::Reviewer).await;
    let an = org.member(Role::Annotator).await;
    let an2 = org.member(Role::Annotator).await;
    Team {
        server,
        org,
        ad,
        ma,
        re,
        an,
        an2,
    }
}

#[tokio::test]
async fn assignment_to_included_all_excluded_and_filtered_members_and_overwrite() {
    let t = team().await;
    let org = &t.org;
    let api = org.owner_api();
    let red = create(&api, org, "red").await;
    let blue = create(&api, org, "blue").await;
    // Included users.
    let r = assign(
        org,
        "",
        json!({"all": false, "included": [t.an.id.0, t.re.id.0], "tags": [red]}),
    )
    .await;
    assert_eq!(r["assigned"], 2);
    // Again: nothing new.
    let r = assign(
        org,
        "",
        json!({"all": false, "included": [t.an.id.0], "tags": [red]}),
    )
    .await;
    assert_eq!(r["assigned"], 0);
    let list = members(org, "").await;
    assert_eq!(row_tags(&list, &t.an), ["red"]);
    assert_eq!(row_tags(&list, &t.ma), Vec::<String>::new());
    for m in results(&list) {
        assert_eq!(m["user_type"], "standard");
    }
    // All Annotators (the role filter of the member list) but one.
    let r = assign(
        org,
        "role=AN",
        json!({"all": true, "excluded": [t.an2.id.0], "tags": [blue]}),
    )
    .await;
    assert_eq!(r["assigned"], 1);
    let list = members(org, "").await;
    assert_eq!(row_tags(&list, &t.an), ["blue", "red"]);
    assert_eq!(row_tags(&list, &t.an2), Vec::<String>::new());
    // All members carrying red get blue.
    let r = assign(
        org,
        &format!("tags={red}"),
        json!({"all": true, "tags": [blue]}),
    )
    .await;
    assert_eq!(r["assigned"], 1);
    assert_eq!(row_tags(&members(org, "").await, &t.re), ["blue", "red"]);
    // Overwrite: the Reviewer keeps only red.
    let r = assign(
        org,
        "",
        json!({"all": false, "included": [t.re.id.0], "tags": [red], "overwrite": true}),
    )
    .await;
    assert_eq!(r["assigned"], 0);
    let list = members(org, "").await;
    assert_eq!(row_tags(&list, &t.re), ["red"]);
    assert_eq!(row_tags(&list, &t.an), ["blue", "red"]);
    let count = |id: i64| {
        let api = api.clone();
        let path = tags_path(org, &format!("/{id}"));
        async move { api.get(&path).await.expect(200).body["member_count"].clone() }
    };
    assert_eq!(count(red).await, 2);
    assert_eq!(count(blue).await, 1);
    // Deleting a tag takes it off its members.
    api.delete(&tags_path(org, &format!("/{blue}")))
        .await
        .expect(204);
    assert_eq!(row_tags(&members(org, "").await, &t.an), ["red"]);
    // A deleted member's tags go with the membership.
    api.delete(&org.path(&format!("/memberships/{}", t.an.id.0)))
        .await
        .expect(204);
    assert_eq!(count(red).await, 1);
    assert_eq!(
        user_ids(&members(org, &format!("tags={red}")).await),
        vec![t.re.id.0]
    );
    let gone = members(org, "is_deleted=true").await;
    assert_eq!(row_tags(&gone, &t.an), Vec::<String>::new());
    assert!(
        actions(&t.server, org)
            .await
            .iter()
            .filter(|a| *a == "member_tag.assigned")
            .count()
            >= 4
    );
}

#[tokio::test]
async fn bad_assignments_are_refused_and_change_nothing() {
    let t = team().await;
    let org = &t.org;
    let api = org.owner_api();
    let red = create(&api, org, "red").await;
    let path = tags_path(org, "/assignments");
    let bad = [
        ("", json!({"all": false, "included": [], "tags": [red]})),
        ("", json!({"all": true, "tags": []})),
        ("", json!({"all": true, "tags": [999999]})),
        ("", json!({"all": true, "tags": ["red"]})),
        ("", json!({"tags": [red]})),
        ("", json!({"all": true, "tags": [red], "color": 1})),
        ("role=XX", json!({"all": true, "tags": [red]})),
        ("is_deleted=true", json!({"all": true, "tags": [red]})),
        (
            "user__last_activity__gte=yesterday",
            json!({"all": true, "tags": [red]}),
        ),
        ("user_type=robot", json!({"all": true, "tags": [red]})),
        ("tags=999999", json!({"all": true, "tags": [red]})),
    ];
    for (query, body) in bad {
        let r = api.post(&format!("{path}?{query}"), body.clone()).await;
        assert_eq!(r.status, 400, "{query} {body}: {}", r.text);
    }
    assert_eq!(members(org, &format!("tags={red}")).await["count"], 0);
    assert_eq!(
        actions(&t.server, org).await,
        ["member_tag.created"],
        "only the creation was recorded"
    );
}

#[tokio::test]
async fn every_member_list_filter_is_honoured() {
    let t = team().await;
    let org = &t.org;
    let api = org.owner_api();
    let red = create(&api, org, "red").await;
    let blue = create(&api, org, "blue").await;
    assign(
        org,
        "",
        json!({"all": false, "included": [t.an.id.0], "tags": [red]}),
    )
    .await;
    assign(
        org,
        "",
        json!({"all": false, "included": [t.re.id.0], "tags": [blue]}),
    )
    .await;
    // tags: any of the ids.
    assert_eq!(
        user_ids(&members(org, &format!("tags={red}")).await),
        vec![t.an.id.0]
    );
    assert_eq!(
        user_ids(&members(org, &format!("tags={red},{blue}")).await),
        sorted(vec![t.an.id.0, t.re.id.0])
    );
    assert_eq!(
        members(org, &format!("tags={red}&role=RE")).await["count"],
        0
    );
    // user_type: everyone is standard.
    let all = members(org, "").await["count"].as_i64().unwrap();
    assert_eq!(all, 6);
    assert_eq!(members(org, "user_type=standard").await["count"], all);
    assert_eq!(members(org, "user_type=standard,flex").await["count"], all);
    assert_eq!(members(org, "user_type=flex").await["count"], 0);
    assert_eq!(members(org, "user_type=viewonly").await["count"], 0);
    // Last activity: the Reviewer acts, time passes, the Annotator acts.
    t.server.advance(Duration::from_secs(3600));
    org.api(&t.re)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    t.server.advance(Duration::from_secs(3600));
    org.api(&t.an)
        .get("/api/current-user/whoami")
        .await
        .expect(200);
    let list = members(org, "").await;
    let seen = |p: &Person| {
        results(&list)
            .iter()
            .find(|m| m["user"]["id"] == p.id.0)
            .unwrap()["user"]["last_activity"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (re_at, an_at) = (seen(&t.re), seen(&t.an));
    let enc = |s: &str| s.replace('+', "%2B");
    // (The Owner, who reads the list, is active too.)
    let since = user_ids(&members(org, &format!("user__last_activity__gte={}", enc(&an_at))).await);
    assert!(
        since.contains(&t.an.id.0) && !since.contains(&t.re.id.0),
        "{since:?}"
    );
    let until = user_ids(&members(org, &format!("user__last_activity__lte={}", enc(&re_at))).await);
    assert!(
        until.contains(&t.re.id.0) && !until.contains(&t.an.id.0),
        "{until:?}"
    );
    assert_eq!(
        user_ids(
            &members(
                org,
                &format!(
                    "user__last_activity__gte={}&user__last_activity__lte={}",
                    enc(&re_at),
                    enc(&re_at)
                )
            )
            .await
        ),
        vec![t.re.id.0]
    );
    // contributed_to_projects: the project lists appear, with what each created.
    let project = org.api(&t.ma).create_project("Birds").await;
    let with = members(org, "contributed_to_projects=true").await;
    let ma_row = results(&with)
        .iter()
        .find(|m| m["user"]["id"] == t.ma.id.0)
        .unwrap();
    assert_eq!(
        ma_row["created_projects"],
        json!([{"id": project, "title": "Birds"}])
    );
    assert_eq!(ma_row["contributed_to_projects"], json!([]));
    let without = members(org, "contributed_to_projects=false").await;
    assert!(results(&without)
        .iter()
        .all(|m| m["created_projects"].is_null()));
    // One member's details answer the same, on request only.
    let one = |q: &str| org.path(&format!("/memberships/{}{q}", t.ma.id.0));
    let detail = api
        .get(&one("?contributed_to_projects=true"))
        .await
        .expect(200)
        .body;
    assert_eq!(
        detail["created_projects"],
        json!([{"id": project, "title": "Birds"}])
    );
    assert_eq!(detail["contributed_to_projects"], json!([]));
    let plain = api.get(&one("")).await.expect(200).body;
    assert!(plain["created_projects"].is_null() && plain["contributed_to_projects"].is_null());
    let r = api
        .get(&one("?contributed_to_projects=maybe"))
        .await
        .expect(400);
    assert!(r.text.contains("contributed_to_projects"), "{}", r.text);
    // Bad values are 400s naming the parameter.
    for (query, field) in [
        ("tags=abc", "tags"),
        ("tags=999999", "tags"),
        ("user_type=robot", "user_type"),
        ("user__last_activity__gte=soon", "user__last_activity__gte"),
        (
            "user__last_activity__lte=2026-13-01",
            "user__last_activity__lte",
        ),
        ("contributed_to_projects=maybe", "contributed_to_projects"),
    ] {
        let r = api
            .get(&org.path(&format!("/memberships?{query}")))
            .await
            .expect(400);
        assert!(r.text.contains(field), "{query}: {}", r.text);
    }
    // A date alone is its midnight (UTC).
    let since_2000 = members(org, "user__last_activity__gte=2000-01-01").await;
    assert!(user_ids(&since_2000).contains(&t.an.id.0), "{since_2000}");
    let before_2000 = members(org, "user__last_activity__lte=2000-01-01").await;
    assert_eq!(before_2000["count"], 0);
}

#[tokio::test]
async fn roles_below_administrator_cannot_change_tags_and_only_staff_read_them() {
    let t = team().await;
    let org = &t.org;
    let red = create(&org.api(&t.ad), org, "red").await;
    for p in [&t.ma, &t.re, &t.an] {
        let api = org.api(p);
        api.post(&tags_path(org, ""), json!({"label": "mine"}))
            .await
            .expect(403);
        api.patch(&tags_path(org, &format!("/{red}")), json!({"label": "x"}))
            .await
            .expect(403);
        api.delete(&tags_path(org, &format!("/{red}")))
            .await
            .expect(403);
        api.post(&tags_path(org, "/bulk"), json!({"labels": ["x"]}))
            .await
            .expect(403);
        api.post(
            &tags_path(org, "/assignments"),
            json!({"all": true, "tags": [red]}),
        )
        .await
        .expect(403);
    }
    // Managers list members, so they read tags; Reviewers and Annotators do not.
    org.api(&t.ma).get(&tags_path(org, "")).await.expect(200);
    org.api(&t.ma)
        .get(&tags_path(org, &format!("/{red}")))
        .await
        .expect(200);
    for p in [&t.re, &t.an] {
        org.api(p).get(&tags_path(org, "")).await.expect(403);
        org.api(p)
            .get(&tags_path(org, &format!("/{red}")))
            .await
            .expect(403);
    }
    assert_eq!(labels(org).await, ["red"]);
    assert_eq!(members(org, &format!("tags={red}")).await["count"], 0);
}

#[tokio::test]
async fn another_organizations_tags_are_invisible_and_unusable() {
    let server = TestServer::start().await;
    let a = server.org("A").await;
    let b = server.org("B").await;
    let b_tag = create(&b.owner_api(), &b, "theirs").await;
    let a_tag = create(&a.owner_api(), &a, "ours").await;
    let member = a.member(Role::Annotator).await;
    let api = a.owner_api();
    api.get(&tags_path(&a, &format!("/{b_tag}")))
        .await
        .expect(404);
    api.patch(&tags_path(&a, &format!("/{b_tag}")), json!({"label": "x"}))
        .await
        .expect(404);
    api.delete(&tags_path(&a, &format!("/{b_tag}")))
        .await
        .expect(404);
    assert_eq!(labels(&a).await, ["ours"]);
    api.post(
        &tags_path(&a, "/assignments"),
        json!({"all": false, "included": [member.id.0], "tags": [b_tag]}),
    )
    .await
    .expect(400);
    api.get(&a.path(&format!("/memberships?tags={b_tag}")))
        .await
        .expect(400);
    // B's Owner cannot reach A's tags through A's path.
    b.owner_api().get(&tags_path(&a, "")).await.expect(404);
    // The same label may exist in both organizations.
    create(&b.owner_api(), &b, "OURS").await;
    // Assigning in B with a B filter never tags A's members.
    let r = b
        .owner_api()
        .post(
            &tags_path(&b, "/assignments"),
            json!({"all": false, "included": [member.id.0], "tags": [b_tag]}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["assigned"], 0);
    assert_eq!(
        api.get(&tags_path(&a, &format!("/{a_tag}")))
            .await
            .expect(200)
            .body["member_count"],
        0
    );
}

fn multipart(csv: &str, bulk_tags: Option<&str>) -> (String, Vec<u8>) {
    let boundary = "roster-test-boundary";
    let mut body = String::new();
    if let Some(b) = bulk_tags {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"bulk_tags\"\r\n\r\n{b}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"tags.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{boundary}--\r\n"
    ));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

async fn upload(api: &Api, org: &OrgFixture, csv: &str, bulk: Option<&str>) -> roster_tests::Resp {
    let (ct, body) = multipart(csv, bulk);
    api.send(
        reqwest::Method::POST,
        &tags_path(org, "/imports"),
        Some((ct.as_str(), body)),
        &[],
    )
    .await
}

#[tokio::test]
async fn a_csv_import_creates_and_assigns_tags_and_reports_its_status() {
    let t = team().await;
    let org = &t.org;
    let api = org.owner_api();
    create(&api, org, "Red").await;
    let csv = format!(
        "email,tags\n{},\"red, Night shift\"\n{},audio\nnobody@example.com,red\n",
        t.an.email.to_uppercase(),
        t.re.email
    );
    let job = upload(&api, org, &csv, Some("batch-7")).await.expect(201);
    let id = job.body["import"].as_i64().unwrap();
    let status = api
        .get(&tags_path(org, &format!("/imports/{id}")))
        .await
        .expect(200)
        .body;
    assert_eq!(status["id"], id);
    assert_eq!(status["status"], "completed");
    assert_eq!(status["tags_created"], 3);
    assert_eq!(status["assignments_created"], 5);
    assert_eq!(status["users_skipped"], json!(["nobody@example.com"]));
    assert!(status["finished_at"].is_string());
    let list = members(org, "").await;
    assert_eq!(row_tags(&list, &t.an), ["batch-7", "Night shift", "Red"]);
    assert_eq!(row_tags(&list, &t.re), ["audio", "batch-7"]);
    assert_eq!(
        labels(org).await,
        ["audio", "batch-7", "Night shift", "Red"]
    );
    // Bad files change nothing.
    for (csv, bulk) in [
        ("mail,tags\nx@example.com,a\n", None),
        ("email,labels\nx@example.com,a\n", None),
        ("email,tags\n,a\n", None),
        (&format!("email,tags\n{},\"a\nb\"\n", t.an.email)[..], None),
        (
            &format!("email,tags\n{},ok\n", t.an.email)[..],
            Some(&"x".repeat(101)[..]),
        ),
    ] {
        let r = upload(&api, org, csv, bulk).await;
        assert_eq!(r.status, 400, "{csv}: {}", r.text);
    }
    let r = api
        .post(&tags_path(org, "/imports"), json!({"file": "email,tags"}))
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    // A multipart body cut short, or with no boundary, is a 400 in the one error shape.
    let (ct, body) = multipart(&format!("email,tags\n{},cut\n", t.an.email), None);
    let cut = body[..body.len() - 30].to_vec();
    for (ct, body) in [(ct.as_str(), cut), ("multipart/form-data", body.clone())] {
        let r = api
            .send(
                reqwest::Method::POST,
                &tags_path(org, "/imports"),
                Some((ct, body)),
                &[],
            )
            .await;
        assert_eq!(r.status, 400, "{ct}: {}", r.text);
        assert!(
            r.body["validation_errors"]["non_field_errors"].is_array(),
            "{}",
            r.text
        );
    }
    assert_eq!(labels(org).await.len(), 4);
    api.get(&tags_path(org, "/imports/999999"))
        .await
        .expect(404);
    // Only Owners and Administrators import or read imports.
    upload(&org.api(&t.ad), org, "email,tags\n", None)
        .await
        .expect(201);
    for p in [&t.ma, &t.an] {
        upload(&org.api(p), org, &csv, None).await.expect(403);
        org.api(p)
            .get(&tags_path(org, &format!("/imports/{id}")))
            .await
            .expect(403);
    }
    // Another organization's import is not found.
    let other = t.server.org("Other").await;
    other
        .owner_api()
        .get(&tags_path(&other, &format!("/imports/{id}")))
        .await
        .expect(404);
    assert!(actions(&t.server, org)
        .await
        .contains(&"member_tag.imported".to_string()));
}

#[tokio::test]
async fn the_versioned_filter_answers_like_the_member_list() {
    let t = team().await;
    let org = &t.org;
    let api = org.owner_api();
    let red = create(&api, org, "red").await;
    assign(
        org,
        "",
        json!({"all": false, "included": [t.an.id.0, t.re.id.0], "tags": [red]}),
    )
    .await;
    let schema = api
        .get(&org.path("/memberships/filter-schema"))
        .await
        .expect(200)
        .body;
    assert_eq!(schema["version"], 1);
    let keys: Vec<&str> = schema["filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "role",
            "tags",
            "user_type",
            "last_activity",
            "membership",
            "search",
            "is_deleted"
        ]
    );
    let payload = json!({"version": 1, "filters": [
        {"key": "tags", "value": [red]}, {"key": "role", "value": ["AN"]}]});
    let get = api
        .get(&org.path(&format!(
            "/memberships/search?filters={}",
            roster_tests::encode(&payload.to_string())
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(user_ids(&get), vec![t.an.id.0]);
    let post = api
        .post(
            &org.path("/memberships/search"),
            json!({"filters": payload}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(user_ids(&post), vec![t.an.id.0]);
    // The query's own parameters combine with the payload; one given in both is a 400.
    let both = api
        .get(&org.path(&format!(
            "/memberships/search?role=RE&filters={}",
            roster_tests::encode(
                &json!({"version": 1, "filters": [{"key": "tags", "value": [red]}]}).to_string()
            )
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(user_ids(&both), vec![t.re.id.0]);
    api.get(&org.path(&format!(
        "/memberships/search?role=RE&filters={}",
        roster_tests::encode(&payload.to_string())
    )))
    .await
    .expect(400);
    for bad in [
        json!({"version": 2, "filters": []}),
        json!({"version": 1, "filters": [{"key": "skills", "value": ["x"]}]}),
        json!({"version": 1, "filters": [{"key": "tags", "value": ["red"]}]}),
        json!({"version": 1, "filters": [{"key": "tags", "value": [999999]}]}),
        json!({"version": 1, "filters": [{"key": "role", "value": ["AN"]}, {"key": "role", "value": ["RE"]}]}),
        json!({"version": 1, "filters": [{"key": "membership", "value": [{"kind": "workspace", "id": 999999}]}]}),
        json!("not an object"),
    ] {
        let r = api
            .post(&org.path("/memberships/search"), json!({"filters": bad}))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
    // Membership: the workspace's members, from the options the caller sees.
    let ws = crate::workspaces::create_workspace(&api, "Birds team").await;
    api.post(
        &format!("/api/workspaces/{ws}/memberships/"),
        json!({"user": t.an2.id.0}),
    )
    .await
    .expect(201);
    let options = api
        .get(&org.path("/memberships/filter-options/membership?search=birds"))
        .await
        .expect(200)
        .body;
    assert_eq!(options[0]["id"], ws);
    assert_eq!(options[0]["kind"], "workspace");
    let members_of = api
        .post(
            &org.path("/memberships/search"),
            json!({"filters": {"version": 1, "filters": [{"key": "membership", "value": [{"kind": "workspace", "id": ws}]}]}}),
        )
        .await
        .expect(200)
        .body;
    assert_eq!(
        user_ids(&members_of),
        sorted(vec![org.owner.id.0, t.an2.id.0])
    );
    assert_eq!(
        api.get(&org.path("/memberships/filter-options/skills"))
            .await
            .expect(200)
            .body,
        json!([])
    );
    // Reviewers and Annotators do not list members.
    for p in [&t.re, &t.an] {
        org.api(p)
            .get(&org.path("/memberships/filter-schema"))
            .await
            .expect(403);
        org.api(p)
            .post(
                &org.path("/memberships/search"),
                json!({"filters": payload}),
            )
            .await
            .expect(403);
    }
}

/// How many times the planner's statistics for tag assignments were refreshed on purpose
/// (PostgreSQL: manual ANALYZEs, autovacuum's own counted apart; SQLite: whether it has any).
async fn tag_statistics_refreshes(server: &TestServer) -> i64 {
    match roster_tests::db() {
        roster_tests::Db::Postgres => {
            server
                .sql_int(
                    "SELECT COALESCE(SUM(analyze_count), 0)::bigint FROM pg_stat_user_tables \
                     WHERE relname = 'member_tag_assignments'",
                )
                .await
        }
        roster_tests::Db::Sqlite => {
            let stats = "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'";
            if server.sql_int(stats).await == 0 {
                return 0;
            }
            server
                .sql_int("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'member_tag_assignments'")
                .await
        }
    }
}

#[tokio::test]
async fn a_large_assignment_refreshes_the_planners_statistics_and_a_small_one_does_not() {
    let server = TestServer::start().await;
    let org = server.org("Big").await;
    org.import_annotators(10_000, |i| {
        (
            format!("member{i}@big.example.com"),
            "Member".into(),
            format!("{i}"),
        )
    })
    .await;
    let api = org.owner_api();
    let small = create(&api, &org, "small").await;
    let big = create(&api, &org, "big").await;
    let before = tag_statistics_refreshes(&server).await;

    // A page's everyday edit: no statistics work on the request.
    let listed = members(&org, "role=AN").await;
    let included: Vec<i64> = results(&listed)[..3]
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect();
    let r = assign(
        &org,
        "",
        json!({ "tags": [small], "all": false, "included": included }),
    )
    .await;
    assert_eq!(r["assigned"], 3);
    assert_eq!(tag_statistics_refreshes(&server).await, before);

    // Every member at once: the planner learns the tag is common before the next request.
    let r = assign(&org, "", json!({ "tags": [big], "all": true })).await;
    assert_eq!(r["assigned"], 10_001);
    assert!(
        tag_statistics_refreshes(&server).await > before,
        "no statistics refresh after 10,001 assignments"
    );
    let tagged = members(&org, &format!("tags={big}")).await;
    assert_eq!(tagged["count"], 10_001);
}
