//! The permission matrix: every organization-level endpoint of PRODUCT.md section 3, called by
//! every kind of caller, with the expected status written out literally. A refused call
//! changes nothing; a call answered for the caller's own (other) organization leaves this one
//! alone; an allowed call does what it says.

use reqwest::Method;
use roster_domain::Role;
use roster_tests::{json, results, OrgFixture, Person, Resp, TestServer};
use serde_json::Value;

/// The callers, in the order of the table's columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Ow,
    Ad,
    Ma,
    Re,
    An,
    No,
    Di,
    /// A member whose membership was deleted (and who belongs to no other organization).
    Deleted,
    /// The Owner of another organization, never a member of this one.
    Outsider,
    Anonymous,
    BadToken,
}

const CALLERS: [Who; 11] = [
    Who::Ow,
    Who::Ad,
    Who::Ma,
    Who::Re,
    Who::An,
    Who::No,
    Who::Di,
    Who::Deleted,
    Who::Outsider,
    Who::Anonymous,
    Who::BadToken,
];

/// Everything the requests point at.
struct World {
    server: TestServer,
    org: OrgFixture,
    other: OrgFixture,
    ad: Person,
    ma: Person,
    re: Person,
    an: Person,
    no: Person,
    di: Person,
    deleted: Person,
    /// The member whose role, profile and project role allowed callers change.
    target: Person,
    /// Deletion victims, one per caller allowed to delete.
    victim_ow: Person,
    victim_ad: Person,
    /// Project members removed by the callers allowed to remove them.
    leaver_ow: Person,
    leaver_ad: Person,
    leaver_ma: Person,
    /// A project of this organization, with RE, AN, the target and the leavers in it.
    project: i64,
    title: String,
}

impl World {
    async fn build() -> World {
        let server = TestServer::start().await;
        let title = format!("Matrix Org {}", uuid_like());
        let org = server.org(&title).await;
        let other = server.org("Somebody Else's Org").await;
        let ad = org.member(Role::Administrator).await;
        let ma = org.member(Role::Manager).await;
        let re = org.member(Role::Reviewer).await;
        let an = org.member(Role::Annotator).await;
        let no = org.member(Role::NotActivated).await;
        let di = org.member(Role::Deactivated).await;
        let deleted = org.member(Role::Annotator).await;
        let target = org.member(Role::Annotator).await;
        let victim_ow = org.member(Role::Annotator).await;
        let victim_ad = org.member(Role::Annotator).await;
        let leaver_ow = org.member(Role::Annotator).await;
        let leaver_ad = org.member(Role::Annotator).await;
        let leaver_ma = org.member(Role::Annotator).await;
        let owner = org.owner_api();
        let project = owner
            .post("/api/projects/", json!({"title": "Matrix project"}))
            .await
            .expect(201)
            .body["id"]
            .as_i64()
            .unwrap();
        for (p, role) in [
            (&re, "RE"),
            (&an, "AN"),
            (&target, "AN"),
            (&leaver_ow, "AN"),
            (&leaver_ad, "AN"),
            (&leaver_ma, "AN"),
        ] {
            owner
                .post(
                    &format!("/api/projects/{project}/members/"),
                    json!({"user": p.id.0, "role": role}),
                )
                .await
                .expect(201);
        }
        // The Manager works on the project as an invited member (Managers see the projects of
        // their workspaces and those they created or were added to; workspaces.rs covers the rest).
        owner
            .post(
                &format!("/api/projects/{project}/members/"),
                json!({"user": ma.id.0}),
            )
            .await
            .expect(201);
        for email in [
            "revoke-ow@example.com",
            "revoke-ad@example.com",
            "revoke-keep@example.com",
        ] {
            owner
                .post(
                    "/api/invite/send-email",
                    json!({"emails": [email], "role": "AN"}),
                )
                .await
                .expect(201);
        }
        owner
            .delete(&org.path(&format!("/memberships/{}/", deleted.id.0)))
            .await
            .expect(204);
        World {
            server,
            org,
            other,
            ad,
            ma,
            re,
            an,
            no,
            di,
            deleted,
            target,
            victim_ow,
            victim_ad,
            leaver_ow,
            leaver_ad,
            leaver_ma,
            project,
            title,
        }
    }

    fn api(&self, who: Who) -> roster_tests::Api {
        let key = |p: &Person| self.server.with_key(&p.key);
        match who {
            Who::Ow => self.org.owner_api(),
            Who::Ad => key(&self.ad),
            Who::Ma => key(&self.ma),
            Who::Re => key(&self.re),
            Who::An => key(&self.an),
            Who::No => key(&self.no),
            Who::Di => key(&self.di),
            Who::Deleted => key(&self.deleted),
            Who::Outsider => self.other.owner_api(),
            Who::Anonymous => self.server.anonymous(),
            Who::BadToken => self
                .server
                .with_key("0123456789abcdef0123456789abcdef01234567"),
        }
    }
}

fn uuid_like() -> String {
    format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

/// One request: method, path, JSON body.
struct Req(Method, String, Option<Value>);

fn get(path: String) -> Req {
    Req(Method::GET, path, None)
}

fn with(method: Method, path: String, body: Value) -> Req {
    Req(method, path, Some(body))
}

/// A row of the matrix: the endpoint, how each caller calls it, and the expected statuses in
/// the order OW, AD, MA, RE, AN, NO, DI, deleted, outsider, anonymous, bad token.
struct Row {
    name: &'static str,
    request: fn(&World, Who) -> Req,
    expect: [u16; 11],
}

fn code(who: Who) -> &'static str {
    match who {
        Who::Ow => "ow",
        Who::Ad => "ad",
        Who::Ma => "ma",
        Who::Re => "re",
        Who::An => "an",
        Who::No => "no",
        Who::Di => "di",
        Who::Deleted => "deleted",
        Who::Outsider => "outsider",
        Who::Anonymous => "anonymous",
        Who::BadToken => "badtoken",
    }
}

/// The table. Rows that change state are ordered (and pick their targets per caller) so that
/// every later row still makes sense.
fn table() -> Vec<Row> {
    vec![
        Row {
            name: "GET /api/organizations/{id}",
            request: |w, _| get(w.org.path("")),
            //      OW   AD   MA   RE   AN   NO   DI   DEL  OUT  ANON BAD
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "PATCH /api/organizations/{id}",
            request: |w, who| {
                with(
                    Method::PATCH,
                    w.org.path(""),
                    json!({"contact_info": format!("set by {}", code(who))}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "PATCH /api/organizations/{id}/set-default-role",
            request: |w, who| {
                let role = if who == Who::Ow { "AN" } else { "RE" };
                with(
                    Method::PATCH,
                    w.org.path("/set-default-role"),
                    json!({"default_role": role}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/organizations/{id}/seats",
            request: |w, _| get(w.org.path("/seats")),
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/organizations/{id}/memberships",
            request: |w, _| get(w.org.path("/memberships")),
            expect: [200, 200, 200, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "PATCH /api/organizations/{id}/memberships",
            request: |w, who| {
                let role = if who == Who::Ow { "RE" } else { "AN" };
                with(
                    Method::PATCH,
                    w.org.path("/memberships"),
                    json!({"user_id": w.target.id.0, "role": role}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "POST /api/organizations/{id}/memberships",
            request: |w, who| {
                let role = if who == Who::Ow { "MA" } else { "RE" };
                with(
                    Method::POST,
                    w.org.path("/memberships"),
                    json!({"user_id": w.target.id.0, "role": role}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/organizations/{id}/memberships/{user_id}",
            request: |w, _| get(w.org.path(&format!("/memberships/{}/", w.target.id.0))),
            expect: [200, 200, 200, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "DELETE /api/organizations/{id}/memberships/{user_id}",
            request: |w, who| {
                let victim = match who {
                    Who::Ow => &w.victim_ow,
                    Who::Ad => &w.victim_ad,
                    _ => &w.target,
                };
                Req(
                    Method::DELETE,
                    w.org.path(&format!("/memberships/{}/", victim.id.0)),
                    None,
                )
            },
            expect: [204, 204, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/invite",
            request: |_, _| get("/api/invite".into()),
            // The outsider's active organization is their own: they get its link, not ours.
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "POST /api/invite/reset-token",
            request: |_, _| with(Method::POST, "/api/invite/reset-token".into(), json!({})),
            expect: [201, 201, 403, 403, 403, 403, 403, 404, 201, 401, 401],
        },
        Row {
            name: "POST /api/invite/send-email",
            request: |_, who| {
                with(
                    Method::POST,
                    "/api/invite/send-email".into(),
                    json!({"emails": [format!("invitee-{}@example.com", code(who))], "role": "AN"}),
                )
            },
            expect: [201, 201, 403, 403, 403, 403, 403, 404, 201, 401, 401],
        },
        Row {
            name: "POST /api/invite/revoke",
            request: |_, who| {
                let email = match who {
                    Who::Ow => "revoke-ow@example.com",
                    Who::Ad => "revoke-ad@example.com",
                    _ => "revoke-keep@example.com",
                };
                with(
                    Method::POST,
                    "/api/invite/revoke".into(),
                    json!({"email": email}),
                )
            },
            // The outsider's organization has no invite for that email.
            expect: [204, 204, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/invites",
            request: |_, _| get("/api/invites/".into()),
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "GET /api/users",
            request: |_, _| get("/api/users/".into()),
            expect: [200, 200, 200, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "GET /api/users/{id}",
            request: |w, _| get(format!("/api/users/{}/", w.target.id.0)),
            expect: [200, 200, 200, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "PATCH /api/users/{id}",
            request: |w, who| {
                with(
                    Method::PATCH,
                    format!("/api/users/{}/", w.target.id.0),
                    json!({"first_name": format!("Named by {}", code(who))}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/projects",
            request: |_, _| get("/api/projects/".into()),
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "POST /api/projects",
            request: |_, who| {
                with(
                    Method::POST,
                    "/api/projects/".into(),
                    json!({"title": format!("Project by {}", code(who))}),
                )
            },
            expect: [201, 201, 201, 403, 403, 403, 403, 404, 201, 401, 401],
        },
        Row {
            name: "GET /api/projects/{id}",
            request: |w, _| get(format!("/api/projects/{}/", w.project)),
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "POST /api/projects/{id}/members",
            request: |w, who| {
                let role = if who == Who::Ma { "RE" } else { "AN" };
                with(
                    Method::POST,
                    format!("/api/projects/{}/members/", w.project),
                    json!({"user": w.target.id.0, "role": role}),
                )
            },
            expect: [201, 201, 201, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "DELETE /api/projects/{id}/members",
            request: |w, who| {
                let leaver = match who {
                    Who::Ow => &w.leaver_ow,
                    Who::Ad => &w.leaver_ad,
                    Who::Ma => &w.leaver_ma,
                    _ => &w.target,
                };
                with(
                    Method::DELETE,
                    format!("/api/projects/{}/members/", w.project),
                    json!({"user": leaver.id.0}),
                )
            },
            expect: [204, 204, 204, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/projects/roles",
            request: |w, _| get(format!("/api/projects/roles/?project={}", w.project)),
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "POST /api/projects/roles",
            request: |w, who| {
                let role = if who == Who::Ad { "AN" } else { "RE" };
                with(
                    Method::POST,
                    "/api/projects/roles/".into(),
                    json!({"project": w.project, "user": w.target.id.0, "role": role}),
                )
            },
            expect: [201, 201, 201, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/projects/{id}/roles",
            request: |w, _| get(format!("/api/projects/{}/roles", w.project)),
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/projects/{id}/members/paginated",
            request: |w, _| get(format!("/api/projects/{}/members/paginated/", w.project)),
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/projects/{id}/members/export",
            request: |w, _| get(format!("/api/projects/{}/members/export/", w.project)),
            expect: [200, 200, 200, 403, 403, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/projects/{id}/annotations",
            request: |w, _| get(format!("/api/projects/{}/annotations/", w.project)),
            expect: [200, 200, 200, 200, 200, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "POST /api/projects/{id}/annotations",
            request: |w, who| {
                with(
                    Method::POST,
                    format!("/api/projects/{}/annotations/", w.project),
                    json!({"result": {"by": code(who)}}),
                )
            },
            expect: [201, 201, 201, 201, 201, 403, 403, 404, 404, 401, 401],
        },
        Row {
            name: "GET /api/audit-events",
            request: |_, _| get("/api/audit-events/".into()),
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "GET /api/jwt/settings",
            request: |_, _| get("/api/jwt/settings".into()),
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "POST /api/jwt/settings",
            request: |_, who| {
                let ttl = if who == Who::Ow { 30 } else { 60 };
                with(
                    Method::POST,
                    "/api/jwt/settings".into(),
                    json!({"api_tokens_enabled": true, "legacy_api_tokens_enabled": true, "api_token_ttl_days": ttl}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "GET /api/activity-logs",
            request: |_, _| get("/api/activity-logs/".into()),
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "GET /api/session-policy",
            request: |_, _| get("/api/session-policy/".into()),
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
        Row {
            name: "PATCH /api/session-policy",
            request: |_, who| {
                let age = if who == Who::Ow { 600 } else { 900 };
                with(
                    Method::PATCH,
                    "/api/session-policy/".into(),
                    json!({"max_session_age": age}),
                )
            },
            expect: [200, 200, 403, 403, 403, 403, 403, 404, 200, 401, 401],
        },
    ]
}

async fn call(w: &World, who: Who, req: Req) -> Resp {
    let api = w.api(who);
    let Req(method, path, body) = req;
    let body = body.map(|b| ("application/json", b.to_string().into_bytes()));
    api.send(method, &path, body, &[]).await
}

/// What an allowed call must have done, beyond its status.
async fn check_allowed(w: &World, row: &str, who: Who, r: &Resp) {
    let org = w.org.id.0;
    match row {
        "GET /api/organizations/{id}" => {
            assert_eq!(r.body["id"], org);
            assert_eq!(r.body["title"], w.title.as_str());
        }
        "PATCH /api/organizations/{id}" => {
            assert_eq!(r.body["contact_info"], format!("set by {}", code(who)))
        }
        "PATCH /api/organizations/{id}/set-default-role" => {
            assert_eq!(r.body["organization"], org);
            assert_eq!(
                r.body["default_role"],
                if who == Who::Ow { "AN" } else { "RE" }
            );
        }
        "GET /api/organizations/{id}/seats" => {
            assert!(r.body["active"].as_i64().unwrap() >= 5, "{}", r.text)
        }
        "GET /api/organizations/{id}/memberships" => {
            let emails: Vec<&str> = r.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["user"]["email"].as_str().unwrap())
                .collect();
            assert!(emails.contains(&w.target.email.as_str()), "{emails:?}");
            assert!(!emails.contains(&w.deleted.email.as_str()), "{emails:?}");
        }
        "PATCH /api/organizations/{id}/memberships" => {
            assert_eq!(r.body["user"]["id"], w.target.id.0);
            assert_eq!(r.body["role"], if who == Who::Ow { "RE" } else { "AN" });
        }
        "POST /api/organizations/{id}/memberships" => {
            assert_eq!(r.body["role"], if who == Who::Ow { "MA" } else { "RE" })
        }
        "GET /api/organizations/{id}/memberships/{user_id}" => {
            assert_eq!(r.body["user"], w.target.id.0)
        }
        "DELETE /api/organizations/{id}/memberships/{user_id}" => {
            let victim = if who == Who::Ow {
                &w.victim_ow
            } else {
                &w.victim_ad
            };
            w.org
                .owner_api()
                .get(&format!("/api/users/{}/", victim.id.0))
                .await
                .expect(404);
        }
        "GET /api/invite" | "POST /api/invite/reset-token" => {
            let token = r.body["token"].as_str().unwrap();
            assert_eq!(r.body["invite_url"], format!("/user/signup/?token={token}"));
            let mine = if who == Who::Outsider {
                w.other.invite_token().await
            } else {
                w.org.invite_token().await
            };
            assert_eq!(token, mine);
        }
        "POST /api/invite/send-email" => {
            assert_eq!(
                r.body[0]["email"],
                format!("invitee-{}@example.com", code(who))
            );
            assert_eq!(r.body[0]["state"], "pending");
        }
        "POST /api/invite/revoke" => {}
        "GET /api/invites" => assert!(r.body["count"].as_i64().unwrap() >= 1, "{}", r.text),
        "GET /api/users" => {
            let ids: Vec<i64> = r
                .body
                .as_array()
                .expect("a plain array")
                .iter()
                .map(|u| u["id"].as_i64().unwrap())
                .collect();
            if who == Who::Outsider {
                assert_eq!(ids, vec![w.other.owner.id.0]);
            } else {
                assert!(ids.contains(&w.target.id.0));
            }
        }
        "GET /api/users/{id}" => assert_eq!(r.body["email"], w.target.email.as_str()),
        "PATCH /api/users/{id}" => {
            assert_eq!(r.body["first_name"], format!("Named by {}", code(who)))
        }
        "GET /api/projects" => {
            let ids: Vec<i64> = r.body["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids.contains(&w.project), who != Who::Outsider, "{ids:?}");
        }
        "POST /api/projects" => {
            let expected = if who == Who::Outsider {
                w.other.id.0
            } else {
                org
            };
            assert_eq!(r.body["organization"], expected);
        }
        "GET /api/projects/{id}" => assert_eq!(r.body["id"], w.project),
        "GET /api/projects/{id}/roles" => {
            assert!(r
                .body
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["user"] == w.an.id.0))
        }
        "GET /api/projects/{id}/members/paginated" => {
            assert!(results(&r.body).iter().any(|x| x["id"] == w.an.id.0))
        }
        "GET /api/projects/{id}/members/export" => {
            assert!(r.text.starts_with("id,email,"), "{}", r.text)
        }
        "POST /api/projects/{id}/members" => assert_eq!(r.body["user"], w.target.id.0),
        "DELETE /api/projects/{id}/members" => {}
        "GET /api/projects/roles" => {
            let users: Vec<i64> = r
                .body
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["user"].as_i64().unwrap())
                .collect();
            assert!(
                users.contains(&w.re.id.0) && users.contains(&w.an.id.0),
                "{users:?}"
            );
        }
        "POST /api/projects/roles" => {
            assert_eq!(r.body["role"], if who == Who::Ad { "AN" } else { "RE" })
        }
        "GET /api/projects/{id}/annotations" => assert!(r.body["results"].is_array()),
        "POST /api/projects/{id}/annotations" => assert_eq!(r.body["result"]["by"], code(who)),
        "GET /api/audit-events" => {
            let expected = if who == Who::Outsider {
                w.other.id.0
            } else {
                org
            };
            for e in r.body["results"].as_array().unwrap() {
                assert_eq!(e["organization"], expected, "{e}");
            }
        }
        "GET /api/jwt/settings" => assert_eq!(r.body["legacy_api_tokens_enabled"], true),
        "GET /api/activity-logs" => {
            let expected = if who == Who::Outsider {
                w.other.id.0
            } else {
                org
            };
            for e in r.body[0]["data"].as_array().unwrap() {
                assert_eq!(e["organization_id"], expected, "{e}");
            }
        }
        "POST /api/jwt/settings" => assert_eq!(
            r.body["api_token_ttl_days"],
            if who == Who::Ow { 30 } else { 60 }
        ),
        "GET /api/session-policy" => assert!(r.body["max_session_age"].as_i64().unwrap() >= 1),
        "PATCH /api/session-policy" => assert_eq!(
            r.body["max_session_age"],
            if who == Who::Ow { 600 } else { 900 }
        ),
        other => panic!("no check for {other}"),
    }
}

#[tokio::test]
async fn every_organization_endpoint_answers_every_caller_as_the_table_says_and_refusals_change_nothing(
) {
    let w = World::build().await;
    let mut failures = Vec::new();
    for row in table() {
        for (who, expected) in CALLERS.into_iter().zip(row.expect) {
            let before = w.server.snapshot().await;
            let ours_before = w.server.snapshot_org(w.org.id).await;
            let r = call(&w, who, (row.request)(&w, who)).await;
            if r.status != expected {
                failures.push(format!(
                    "{} by {who:?}: expected {expected}, got {} ({})",
                    row.name, r.status, r.text
                ));
                continue;
            }
            if expected >= 400 {
                assert_eq!(
                    w.server.snapshot().await,
                    before,
                    "{} by {who:?} was refused but changed something",
                    row.name
                );
                assert!(
                    r.body["detail"].is_string(),
                    "{} by {who:?}: error without detail: {}",
                    row.name,
                    r.text
                );
                assert_eq!(r.body["status_code"], expected, "{} by {who:?}", row.name);
            } else {
                check_allowed(&w, row.name, who, &r).await;
            }
            if who == Who::Outsider {
                assert_eq!(
                    w.server.snapshot_org(w.org.id).await,
                    ours_before,
                    "{} by a member of another organization changed this one",
                    row.name
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cells differ from the table:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn refusals_say_why_pending_deactivated_and_too_low_roles_are_refused() {
    let w = World::build().await;
    let r = w.api(Who::No).get("/api/projects/").await.expect(403);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("awaiting activation"),
        "{}",
        r.text
    );
    let r = w.api(Who::Di).get("/api/projects/").await.expect(403);
    assert!(
        r.body["detail"].as_str().unwrap().contains("deactivated"),
        "{}",
        r.text
    );
    let r = w.api(Who::Ma).get(&w.org.path("/seats")).await.expect(403);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("Owner or Administrator"),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn a_deleted_member_and_an_outsider_get_404_not_403_for_this_organization() {
    let w = World::build().await;
    for who in [Who::Deleted, Who::Outsider] {
        for path in [
            w.org.path(""),
            w.org.path("/memberships"),
            format!("/api/projects/{}/", w.project),
        ] {
            let r = w.api(who).get(&path).await;
            assert_eq!(r.status, 404, "{who:?} GET {path}: {}", r.text);
        }
    }
    // A made-up organization id is 404 too, even for an Owner elsewhere.
    w.org
        .owner_api()
        .get(&format!("/api/organizations/{}", w.org.id.0 + 1000))
        .await
        .expect(404);
}
