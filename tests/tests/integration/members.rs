//! The member list (filters, orderings, pagination) and the membership rules: one Owner and
//! its transfer, no self re-role or self-delete, the Owner protected from Administrators,
//! Managers cannot assign roles, IdP-managed roles, member details, and `/api/users/`.

use std::time::Duration;

use roster_domain::Role;
use roster_tests::{json, results, OrgFixture, Person, TestServer};
use serde_json::Value;

fn user_ids(v: &Value) -> Vec<i64> {
    results(v)
        .iter()
        .map(|m| m["user"]["id"].as_i64().unwrap())
        .collect()
}

async fn list(org: &OrgFixture, query: &str) -> Value {
    org.owner_api()
        .get(&org.path(&format!("/memberships?{query}")))
        .await
        .expect(200)
        .body
}

async fn rename(org: &OrgFixture, p: &Person, first: &str, last: &str) {
    org.owner_api()
        .patch(
            &format!("/api/users/{}/", p.id.0),
            json!({"first_name": first, "last_name": last}),
        )
        .await
        .expect(200);
}

/// Four members whose emails, names, join dates, activity and roles all sort differently.
struct Four {
    /// Keeps the server running.
    _server: TestServer,
    org: OrgFixture,
    m: [Person; 4],
}

async fn four() -> Four {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let specs = [
        ("d-delta@example.com", "Alice", "Zimmer", Role::Annotator),
        ("b-bravo@example.com", "Carol", "Young", Role::Reviewer),
        ("c-charlie@example.com", "Bob", "Xavier", Role::Manager),
        ("a-alpha@example.com", "Dave", "Walker", Role::NotActivated),
    ];
    let mut people = Vec::new();
    for (email, first, last, role) in specs {
        server.advance(Duration::from_secs(10));
        let p = org.member_with_email(email, role).await;
        rename(&org, &p, first, last).await;
        people.push(p);
    }
    // Last activity, oldest first: m[2], m[0], m[3], m[1].
    for i in [2, 0, 3, 1] {
        server.advance(Duration::from_secs(120));
        org.api(&people[i])
            .get("/api/current-user/whoami")
            .await
            .expect(200);
    }
    let m: [Person; 4] = people.try_into().unwrap();
    Four {
        _server: server,
        org,
        m,
    }
}

const NOT_OWNER: &str = "role=AD,MA,RE,AN,NO,DI";

#[tokio::test]
async fn the_role_filter_takes_a_comma_list_of_codes() {
    let f = four().await;
    let ids = |v: &Value| {
        let mut i = user_ids(v);
        i.sort();
        i
    };
    let mut expect = vec![f.m[0].id.0, f.m[1].id.0];
    expect.sort();
    assert_eq!(ids(&list(&f.org, "role=AN,RE").await), expect);
    assert_eq!(ids(&list(&f.org, "role=NO").await), vec![f.m[3].id.0]);
    assert_eq!(ids(&list(&f.org, "role=OW").await), vec![f.org.owner.id.0]);
    assert_eq!(list(&f.org, "role=AN,RE").await["count"], 2);
    assert_eq!(list(&f.org, "role=DI").await["count"], 0);
    assert_eq!(list(&f.org, "role=").await["count"], 5);
    let r = f
        .org
        .owner_api()
        .get(&f.org.path("/memberships?role=AN,XX"))
        .await
        .expect(400);
    assert!(r.body["validation_errors"]["role"].is_array(), "{}", r.text);
}

#[tokio::test]
async fn search_matches_email_first_or_last_name_case_insensitively() {
    let f = four().await;
    assert_eq!(
        user_ids(&list(&f.org, "search=BRAVO").await),
        vec![f.m[1].id.0]
    );
    assert_eq!(
        user_ids(&list(&f.org, "search=alice").await),
        vec![f.m[0].id.0]
    );
    assert_eq!(
        user_ids(&list(&f.org, "search=xAvIeR").await),
        vec![f.m[2].id.0]
    );
    // "a-alpha@..." by email and "Dave Walker" by name: one member either way.
    assert_eq!(
        user_ids(&list(&f.org, "search=walk").await),
        vec![f.m[3].id.0]
    );
    // Matches on several fields and people, in email order.
    let r = list(&f.org, "search=ar&role=AN,RE,MA,NO").await;
    assert_eq!(
        user_ids(&r),
        vec![f.m[1].id.0, f.m[2].id.0],
        "Carol (b-bravo) and charlie; {r}"
    );
    assert_eq!(list(&f.org, "search=nobody-has-this").await["count"], 0);
    // Wildcards are literal.
    assert_eq!(list(&f.org, "search=%25").await["count"], 0);
    assert_eq!(list(&f.org, "search=_").await["count"], 0);
}

#[tokio::test]
async fn is_deleted_true_lists_only_the_deleted_members_masked() {
    let f = four().await;
    let owner = f.org.owner_api();
    owner
        .delete(&f.org.path(&format!("/memberships/{}/", f.m[0].id.0)))
        .await
        .expect(204);
    owner
        .delete(&f.org.path(&format!("/memberships/{}/", f.m[3].id.0)))
        .await
        .expect(204);

    let live = list(&f.org, "").await;
    assert_eq!(live["count"], 3);
    let deleted = list(&f.org, "is_deleted=true").await;
    assert_eq!(deleted["count"], 2);
    for m in results(&deleted) {
        assert_eq!(m["user"]["first_name"], "Deleted");
        assert_eq!(m["user"]["last_name"], "User");
        assert_eq!(m["user"]["email"], "Deleted");
        assert_eq!(m["user"]["initials"], "DU");
    }
    let text = deleted.to_string();
    for p in [&f.m[0], &f.m[3]] {
        assert!(!text.contains(&p.email), "{text}");
    }
    assert!(
        !text.contains("Alice") && !text.contains("Walker"),
        "{text}"
    );
    assert_eq!(list(&f.org, "is_deleted=false").await["count"], 3);
    assert_eq!(list(&f.org, "is_deleted=true&role=NO").await["count"], 1);
}

#[tokio::test]
async fn every_ordering_sorts_ascending_and_with_a_minus_descending() {
    let f = four().await;
    let [a, b, c, d] = [f.m[0].id.0, f.m[1].id.0, f.m[2].id.0, f.m[3].id.0];
    // m: a = d-delta Alice Zimmer AN, b = b-bravo Carol Young RE,
    //    c = c-charlie Bob Xavier MA, d = a-alpha Dave Walker NO; joined a, b, c, d;
    //    last active c, a, d, b.
    let cases: [(&str, [i64; 4]); 6] = [
        ("user__email", [d, b, c, a]),
        ("user__first_name", [a, c, b, d]),
        ("user__last_name", [d, c, b, a]),
        ("user__date_joined", [a, b, c, d]),
        ("user__last_activity", [c, a, d, b]),
        ("role", [a, c, d, b]),
    ];
    for (field, ascending) in cases {
        let up = list(&f.org, &format!("{NOT_OWNER}&ordering={field}")).await;
        assert_eq!(user_ids(&up), ascending.to_vec(), "ordering={field}");
        let down = list(&f.org, &format!("{NOT_OWNER}&ordering=-{field}")).await;
        let mut descending = ascending.to_vec();
        descending.reverse();
        assert_eq!(user_ids(&down), descending, "ordering=-{field}");
    }
    // The default is by email.
    assert_eq!(user_ids(&list(&f.org, NOT_OWNER).await), vec![d, b, c, a]);
    let r = f
        .org
        .owner_api()
        .get(&f.org.path("/memberships?ordering=password"))
        .await
        .expect(400);
    assert!(
        r.body["validation_errors"]["ordering"].is_array(),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn equal_sort_keys_fall_back_to_the_membership_id() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut ids = Vec::new();
    for email in ["z@example.com", "y@example.com", "x@example.com"] {
        let p = org.member_with_email(email, Role::Annotator).await;
        rename(&org, &p, "Same", "Name").await;
        ids.push(p.id.0);
    }
    for ordering in [
        "user__first_name",
        "user__last_name",
        "role",
        "user__date_joined",
    ] {
        assert_eq!(
            user_ids(&list(&org, &format!("role=AN&ordering={ordering}")).await),
            ids,
            "{ordering}"
        );
    }
}

#[tokio::test]
async fn pages_carry_count_next_and_previous_and_a_page_past_the_end_is_empty() {
    let f = four().await;
    let all: Vec<i64> = user_ids(&list(&f.org, "page_size=100").await);
    assert_eq!(all.len(), 5);

    let p1 = list(&f.org, "page_size=2").await;
    assert_eq!(p1["count"], 5);
    assert_eq!(user_ids(&p1), all[0..2].to_vec());
    assert_eq!(p1["previous"], Value::Null);
    let next = p1["next"].as_str().unwrap();
    assert!(
        next.starts_with("http://") && next.contains("page=2") && next.contains("page_size=2"),
        "{next}"
    );

    let p2 = list(&f.org, "page_size=2&page=2").await;
    assert_eq!(user_ids(&p2), all[2..4].to_vec());
    assert!(p2["next"].as_str().unwrap().contains("page=3"));
    assert!(p2["previous"].as_str().unwrap().contains("page=1"));

    let p3 = list(&f.org, "page_size=2&page=3").await;
    assert_eq!(user_ids(&p3), all[4..5].to_vec());
    assert_eq!(p3["next"], Value::Null);

    let past = list(&f.org, "page_size=2&page=9").await;
    assert_eq!(past["count"], 5);
    assert_eq!(results(&past).len(), 0);
    assert_eq!(past["next"], Value::Null);

    // The links are usable as they stand.
    let path = next.split_once("://").unwrap().1.split_once('/').unwrap().1;
    let followed = f
        .org
        .owner_api()
        .get(&format!("/{path}"))
        .await
        .expect(200)
        .body;
    assert_eq!(user_ids(&followed), all[2..4].to_vec());

    for bad in ["page=0", "page=x", "page_size=0", "page_size=-2"] {
        let r = f
            .org
            .owner_api()
            .get(&f.org.path(&format!("/memberships?{bad}")))
            .await;
        assert_eq!(r.status, 400, "{bad}: {}", r.text);
    }
}

#[tokio::test]
async fn page_sizes_above_1000_and_minus_one_are_clamped_to_1000() {
    let server = TestServer::start().await;
    let org = server.org("Big").await;
    // 1100 Not Activated members, written straight to the database for speed.
    {
        let mut tx = server
            .service
            .raw_store_bypassing_rules()
            .write()
            .await
            .expect("tx");
        let values: Vec<String> = (0..1100)
            .map(|i| format!("('bulk-{i:04}@example.com', 'bulk-{i:04}@example.com', 1)"))
            .collect();
        roster_store::raw::execute(
            &mut tx,
            &format!(
                "INSERT INTO users (email, username, date_joined) VALUES {}",
                values.join(", ")
            ),
        )
        .await
        .expect("users");
        roster_store::raw::execute(&mut tx, &format!(
            "INSERT INTO memberships (org_id, user_id, user_email, role, role_source, created_at, updated_at)
             SELECT {}, id, email, 'NO', 'manual', 1, 1 FROM users WHERE email LIKE 'bulk-%'",
            org.id.0
        ))
            .await
            .expect("memberships");
        // Rows written around the service keep the live-member counters in step by hand.
        roster_store::raw::execute(
            &mut tx,
            &format!(
                "INSERT INTO member_counts (org_id, role, n) VALUES ({}, 'NO', 1100)
             ON CONFLICT (org_id, role) DO UPDATE SET n = member_counts.n + excluded.n",
                org.id.0
            ),
        )
        .await
        .expect("counters");
        roster_store::commit(tx).await.expect("commit");
    }
    let default = list(&org, "").await;
    assert_eq!(default["count"], 1101);
    assert_eq!(results(&default).len(), 20);
    for size in ["1000", "5000", "-1"] {
        let r = list(&org, &format!("page_size={size}")).await;
        assert_eq!(results(&r).len(), 1000, "page_size={size}");
        assert!(
            r["next"].as_str().unwrap().contains("page=2"),
            "page_size={size}"
        );
    }
    let rest = list(&org, "page_size=-1&page=2").await;
    assert_eq!(results(&rest).len(), 101);
    assert_eq!(rest["next"], Value::Null);

    // /api/users/ is a plain array: 1000 by default and at most.
    let owner = org.owner_api();
    assert_eq!(
        owner
            .get("/api/users/")
            .await
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    assert_eq!(
        owner
            .get("/api/users/?page_size=5000")
            .await
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    assert_eq!(
        owner
            .get("/api/users/?page_size=-1&page=2")
            .await
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        101
    );
    assert_eq!(
        owner
            .get("/api/users/?page_size=10")
            .await
            .expect(200)
            .body
            .as_array()
            .unwrap()
            .len(),
        10
    );
}

#[tokio::test]
async fn the_owner_hands_over_ownership_and_becomes_an_administrator_leaving_exactly_one_owner() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let heir = org.member(Role::Manager).await;
    let owner = org.owner_api();

    let r = owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": heir.id.0, "role": "OW"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "OW");
    assert_eq!(r.body["role_source"], "manual");
    let owners = list(&org, "role=OW").await;
    assert_eq!(user_ids(&owners), vec![heir.id.0]);
    let old = owner
        .get(&org.path(&format!("/memberships/{}/", org.owner.id.0)))
        .await
        .expect(200)
        .body;
    assert_eq!(old["role"], "AD");
    assert_eq!(old["role_source"], "manual");

    // The former Owner is an Administrator now: the new Owner is out of their reach.
    let before = server.snapshot().await;
    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": heir.id.0, "role": "AD"}),
        )
        .await
        .expect(403);
    owner
        .delete(&org.path(&format!("/memberships/{}/", heir.id.0)))
        .await
        .expect(403);
    owner
        .patch(&org.path(""), json!({"seat_limit": 5}))
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    let log = owner
        .get("/api/audit-events/?action=member.ownership_transferred")
        .await
        .expect(200)
        .body;
    assert_eq!(log["count"], 1);
    assert_eq!(log["results"][0]["target"]["id"], heir.id.0);
    // And it can be handed back.
    org.api(&heir)
        .patch(
            &org.path("/memberships"),
            json!({"user_id": org.owner.id.0, "role": "OW"}),
        )
        .await
        .expect(200);
    assert_eq!(user_ids(&list(&org, "role=OW").await), vec![org.owner.id.0]);
}

#[tokio::test]
async fn ownership_cannot_go_to_a_pending_or_deactivated_member_or_be_given_by_an_administrator() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let waiting = org.member(Role::NotActivated).await;
    let resting = org.member(Role::Deactivated).await;
    let admin = org.member(Role::Administrator).await;
    let ann = org.member(Role::Annotator).await;
    let before = server.snapshot().await;
    for p in [&waiting, &resting] {
        let r = org
            .owner_api()
            .patch(
                &org.path("/memberships"),
                json!({"user_id": p.id.0, "role": "OW"}),
            )
            .await
            .expect(409);
        assert!(
            r.body["detail"].as_str().unwrap().contains("active role"),
            "{}",
            r.text
        );
    }
    let r = org
        .api(&admin)
        .patch(
            &org.path("/memberships"),
            json!({"user_id": ann.id.0, "role": "OW"}),
        )
        .await
        .expect(403);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Only the Owner"),
        "{}",
        r.text
    );
    assert_eq!(server.snapshot().await, before);
    assert_eq!(user_ids(&list(&org, "role=OW").await), vec![org.owner.id.0]);
}

#[tokio::test]
async fn nobody_changes_their_own_role_or_deletes_their_own_membership() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let before = server.snapshot().await;
    for (api, me) in [(org.owner_api(), &org.owner), (org.api(&admin), &admin)] {
        for role in ["AN", "DI", "AD", "OW"] {
            let r = api
                .patch(
                    &org.path("/memberships"),
                    json!({"user_id": me.id.0, "role": role}),
                )
                .await;
            assert_eq!(
                r.status, 405,
                "{} setting own role to {role}: {}",
                me.email, r.text
            );
        }
        api.delete(&org.path(&format!("/memberships/{}/", me.id.0)))
            .await
            .expect(405);
    }
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn an_administrator_cannot_change_deactivate_or_delete_the_owner() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let api = org.api(&admin);
    let before = server.snapshot().await;
    for role in ["AD", "AN", "DI", "NO"] {
        let r = api
            .patch(
                &org.path("/memberships"),
                json!({"user_id": org.owner.id.0, "role": role}),
            )
            .await
            .expect(403);
        assert!(
            r.body["detail"].as_str().unwrap().contains("Owner"),
            "{}",
            r.text
        );
    }
    api.delete(&org.path(&format!("/memberships/{}/", org.owner.id.0)))
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    // Everyone else is within the Administrator's reach.
    let ann = org.member(Role::Annotator).await;
    api.patch(
        &org.path("/memberships"),
        json!({"user_id": ann.id.0, "role": "MA"}),
    )
    .await
    .expect(200);
    api.delete(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(204);
}

#[tokio::test]
async fn a_manager_cannot_assign_roles_or_delete_members() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let manager = org.member(Role::Manager).await;
    let waiting = org.member(Role::NotActivated).await;
    let api = org.api(&manager);
    let before = server.snapshot().await;
    for role in ["AN", "DI", "MA"] {
        api.patch(
            &org.path("/memberships"),
            json!({"user_id": waiting.id.0, "role": role}),
        )
        .await
        .expect(403);
        api.post(
            &org.path("/memberships"),
            json!({"user_id": waiting.id.0, "role": role}),
        )
        .await
        .expect(403);
    }
    api.delete(&org.path(&format!("/memberships/{}/", waiting.id.0)))
        .await
        .expect(403);
    assert_eq!(server.snapshot().await, before);
    // But may read the member list, to staff projects.
    assert_eq!(
        api.get(&org.path("/memberships")).await.expect(200).body["count"],
        3
    );
}

#[tokio::test]
async fn roles_managed_by_an_identity_provider_are_refused_through_rest_while_manual_role_management_is_off(
) {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let scim = org.member(Role::NotActivated).await;
    let manual = org.member(Role::Annotator).await;
    let row = server
        .service
        .apply_idp_role(
            org.id,
            scim.id,
            Role::Annotator,
            roster_service::membership::Idp::Scim,
        )
        .await
        .expect("applied");
    assert_eq!(row.membership.role_source, roster_domain::RoleSource::Scim);

    let r = owner
        .patch(&org.path(""), json!({"manual_role_management": false}))
        .await
        .expect(200);
    assert_eq!(r.body["manual_role_management"], false);
    assert_eq!(r.body["billing"]["manual_role_management"], false);

    let before = server.snapshot().await;
    for role in ["RE", "DI", "NO"] {
        let r = owner
            .patch(
                &org.path("/memberships"),
                json!({"user_id": scim.id.0, "role": role}),
            )
            .await
            .expect(409);
        assert!(
            r.body["detail"].as_str().unwrap().contains("SCIM"),
            "{}",
            r.text
        );
    }
    assert_eq!(server.snapshot().await, before);
    // Roles set by hand stay manual.
    owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": manual.id.0, "role": "RE"}),
        )
        .await
        .expect(200);
    // The provider itself may still change it.
    server
        .service
        .apply_idp_role(
            org.id,
            scim.id,
            Role::Reviewer,
            roster_service::membership::Idp::Scim,
        )
        .await
        .expect("applied");

    owner
        .patch(&org.path(""), json!({"manual_role_management": true}))
        .await
        .expect(200);
    let r = owner
        .patch(
            &org.path("/memberships"),
            json!({"user_id": scim.id.0, "role": "MA"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["role"], "MA");
    assert_eq!(r.body["role_source"], "api");
}

#[tokio::test]
async fn a_members_details_have_the_sdk_shape_with_their_work_counts() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let owner = org.owner_api();
    let ann = org.member(Role::Annotator).await;
    let mut projects = Vec::new();
    for title in ["One", "Two"] {
        let id = owner
            .post("/api/projects/", json!({"title": title}))
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .unwrap();
        owner
            .post(
                &format!("/api/projects/{id}/members/"),
                json!({"user": ann.id.0}),
            )
            .await
            .expect(201);
        projects.push(id);
    }
    for p in [projects[0], projects[0], projects[1]] {
        org.api(&ann)
            .post(
                &format!("/api/projects/{p}/annotations/"),
                json!({"result": {}}),
            )
            .await
            .expect(201);
    }
    let d = owner
        .get(&org.path(&format!("/memberships/{}/", ann.id.0)))
        .await
        .expect(200)
        .body;
    let mut keys: Vec<&str> = d.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            "annotations_count",
            "contributed_projects_count",
            "contributed_to_projects",
            "created_at",
            "created_projects",
            "organization",
            "role",
            "role_source",
            "user"
        ]
    );
    // The project lists come only when asked for (null otherwise, as on the member list).
    assert!(d["contributed_to_projects"].is_null() && d["created_projects"].is_null());
    let with = owner
        .get(&org.path(&format!(
            "/memberships/{}/?contributed_to_projects=true",
            ann.id.0
        )))
        .await
        .expect(200)
        .body;
    assert_eq!(
        with["contributed_to_projects"],
        json!([{"id": projects[0], "title": "One"}, {"id": projects[1], "title": "Two"}])
    );
    assert_eq!(with["created_projects"], json!([]));
    assert_eq!(d["user"], ann.id.0);
    assert_eq!(d["organization"], org.id.0);
    assert_eq!(d["role"], "AN");
    assert_eq!(d["role_source"], "manual");
    assert_eq!(d["annotations_count"], 3);
    assert_eq!(d["contributed_projects_count"], 2);
    assert!(d["created_at"].as_str().unwrap().ends_with('Z'));
    owner
        .get(&org.path("/memberships/999999/"))
        .await
        .expect(404);
}

#[tokio::test]
async fn api_users_is_a_plain_array_of_the_live_members() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let other = server.org("Other").await;
    let mut live = vec![org.owner.id.0];
    for role in [Role::Annotator, Role::NotActivated, Role::Deactivated] {
        live.push(org.member(role).await.id.0);
    }
    let gone = org.member(Role::Annotator).await;
    org.owner_api()
        .delete(&org.path(&format!("/memberships/{}/", gone.id.0)))
        .await
        .expect(204);
    other.member(Role::Annotator).await;

    let users = org.owner_api().get("/api/users/").await.expect(200).body;
    let arr = users.as_array().expect("a plain array");
    let mut ids: Vec<i64> = arr.iter().map(|u| u["id"].as_i64().unwrap()).collect();
    ids.sort();
    live.sort();
    assert_eq!(ids, live);
    let emails: Vec<&str> = arr.iter().map(|u| u["email"].as_str().unwrap()).collect();
    let mut sorted = emails.clone();
    sorted.sort();
    assert_eq!(emails, sorted, "ordered by email");
    for key in [
        "first_name",
        "last_name",
        "username",
        "email",
        "initials",
        "avatar",
        "last_activity",
        "date_joined",
    ] {
        assert!(arr[0].get(key).is_some(), "{key} missing from {}", arr[0]);
    }
}

#[tokio::test]
async fn members_edit_themselves_administrators_edit_others_names_and_annotators_cannot_edit_others(
) {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let admin = org.member(Role::Administrator).await;
    let manager = org.member(Role::Manager).await;
    let ann = org.member(Role::Annotator).await;
    let colleague = org.member(Role::Annotator).await;

    let r = org
        .api(&ann)
        .patch(
            &format!("/api/users/{}/", ann.id.0),
            json!({"first_name": "Ann", "phone": "555"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["first_name"], "Ann");
    assert_eq!(r.body["phone"], "555");
    let r = org
        .api(&admin)
        .patch(
            &format!("/api/users/{}/", ann.id.0),
            json!({"last_name": "Author"}),
        )
        .await
        .expect(200);
    assert_eq!(r.body["last_name"], "Author");
    assert_eq!(r.body["initials"], "AA");

    let before = server.snapshot().await;
    org.api(&ann)
        .patch(
            &format!("/api/users/{}/", colleague.id.0),
            json!({"first_name": "Hacked"}),
        )
        .await
        .expect(403);
    org.api(&manager)
        .patch(
            &format!("/api/users/{}/", colleague.id.0),
            json!({"first_name": "Hacked"}),
        )
        .await
        .expect(403);
    // Administrators change names only.
    org.api(&admin)
        .patch(
            &format!("/api/users/{}/", colleague.id.0),
            json!({"phone": "666"}),
        )
        .await
        .expect(403);
    org.api(&admin)
        .patch(
            &format!("/api/users/{}/", colleague.id.0),
            json!({"email": "x@example.com"}),
        )
        .await
        .expect(400);
    assert_eq!(server.snapshot().await, before);
    let seen = org
        .owner_api()
        .get(&format!("/api/users/{}/", colleague.id.0))
        .await
        .expect(200)
        .body;
    assert_eq!(seen["first_name"], "Test");
}

#[tokio::test]
async fn search_folds_the_case_of_accented_names_too() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let p = org.member(Role::Annotator).await;
    rename(&org, &p, "Élodie", "Ørsted").await;
    org.member(Role::Annotator).await;
    for term in ["Élodie", "élodie", "ÉLODIE", "Ørsted", "ørsted", "RSTED"] {
        let r = list(&org, &format!("search={}", url_encode(term))).await;
        assert_eq!(user_ids(&r), vec![p.id.0], "search={term}");
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn names_stored_before_the_search_folded_them_are_found_after_an_upgrade() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let p = org.member(Role::Annotator).await;
    rename(&org, &p, "Élodie", "Ørsted").await;
    // Take the database back to where a roster without migrations 2 and 4 left it (the
    // search index of migration 4 and the search journal of migration 23 are built on the
    // folded names).
    {
        let store = server.service.raw_store_bypassing_rules();
        let undo_search_index: &[&str] = match store.backend() {
            roster_store::Backend::Sqlite => &[
                "DROP TRIGGER user_search_insert",
                "DROP TRIGGER user_search_update",
                "DROP TRIGGER user_search_delete",
                "DROP TABLE user_search",
                "DROP TRIGGER member_search_joined",
                "DROP TRIGGER member_search_changed",
                "DROP TRIGGER member_search_removed",
                "DROP TRIGGER member_search_renamed",
            ],
            roster_store::Backend::Postgres => &[
                "DROP INDEX users_search_trgm",
                "DROP FUNCTION member_search_membership_changed CASCADE",
                "DROP FUNCTION member_search_user_renamed CASCADE",
                "DROP FUNCTION member_search_pruned CASCADE",
                "DROP FUNCTION member_search_next_seq",
            ],
        };
        let mut tx = store.write().await.expect("tx");
        for sql in undo_search_index.iter().chain(&[
            "DROP TABLE member_search_changes",
            "DROP TABLE member_search_paused",
            "ALTER TABLE users DROP COLUMN first_name_folded",
            "ALTER TABLE users DROP COLUMN last_name_folded",
            "DELETE FROM roster_migrations WHERE version IN (2, 4, 23)",
        ]) {
            roster_store::raw::execute(&mut tx, sql).await.expect(sql);
        }
        roster_store::commit(tx).await.expect("commit");
    }
    let upgraded =
        TestServer::start_on(server.db.clone(), Default::default(), server.clock.clone()).await;
    let owner = upgraded.with_key(&org.owner.key);
    for term in ["%C3%A9lodie", "%C3%98RSTED"] {
        let r = owner
            .get(&org.path(&format!("/memberships?search={term}")))
            .await
            .expect(200)
            .body;
        assert_eq!(user_ids(&r), vec![p.id.0], "search={term}");
    }
}

#[tokio::test]
async fn member_list_items_carry_the_membership_and_the_user() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let p = org
        .member_with_email("Ivy.Item@Example.com", Role::Reviewer)
        .await;
    rename(&org, &p, "Ivy", "Item").await;
    let r = list(&org, "search=ivy.item").await;
    assert_eq!(r["count"], 1);
    let m = &results(&r)[0];
    for key in ["id", "organization", "role", "role_source", "user"] {
        assert!(m.get(key).is_some(), "{key} missing from {m}");
    }
    assert_eq!(m["organization"], org.id.0);
    assert_eq!(m["role"], "RE");
    assert_eq!(m["role_source"], "manual");
    let u = &m["user"];
    assert_eq!(u["id"], p.id.0);
    assert_eq!(u["email"], "ivy.item@example.com");
    assert_eq!(u["username"], "ivy.item@example.com");
    assert_eq!(u["first_name"], "Ivy");
    assert_eq!(u["last_name"], "Item");
    assert_eq!(u["initials"], "II");
    assert_eq!(u["active_organization"], org.id.0);
    for key in ["avatar", "phone", "last_activity", "date_joined"] {
        assert!(u.get(key).is_some(), "{key} missing from {u}");
    }
    assert!(u["date_joined"].as_str().unwrap().ends_with('Z'));
}
