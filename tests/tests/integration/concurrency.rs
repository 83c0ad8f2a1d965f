//! Concurrency invariants with many clients at once, through HTTP against the real server:
//! seats never overshoot whichever path activates people, there is always exactly one Owner,
//! a SCIM group ends as its last accepted update says, and bulk and single role changes on
//! the same people end as some serial order of them would. Every change of a membership
//! takes the organization's lock first (`orgs::lock_for_membership_change`: on PostgreSQL
//! the organization row's lock, held to commit; on SQLite the one writer connection and its
//! `BEGIN IMMEDIATE`); each test's note says what it showed when that lock was gone. On
//! SQLite they all still pass without the organization row's lock: the one writer connection
//! alone serializes every write transaction, so there is no lock there to take away short of
//! a second writer.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use roster_domain::Role;
use roster_tests::{json, Api, OrgFixture, Person, Resp, TestServer};
use serde_json::Value;
use tokio::sync::Barrier;

use crate::scim::{create_group, create_user, idp, set_mapping, GROUP, PATCH};

/// A request that does not answer within this long is taken for a deadlock.
const ANSWER_WITHIN: Duration = Duration::from_secs(30);

type Call = Pin<Box<dyn Future<Output = Resp> + Send>>;

fn call(api: &Api, method: Method, path: String, body: Value) -> Call {
    let api = api.clone();
    Box::pin(async move { api.send_json(method, &path, body).await })
}

/// Starts every call at the same moment (each waits at a barrier) and returns the answers in
/// the calls' order. Fails on a call that gets no answer in time or an answer of 500 or more.
async fn race(calls: Vec<Call>) -> Vec<Resp> {
    let barrier = Arc::new(Barrier::new(calls.len()));
    let tasks: Vec<_> = calls
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                tokio::time::timeout(ANSWER_WITHIN, c)
                    .await
                    .unwrap_or_else(|_| panic!("call {i} unanswered after {ANSWER_WITHIN:?}"))
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("a racing call"));
    }
    for (i, r) in answers.iter().enumerate() {
        assert!(r.status < 500, "call {i} answered {}: {}", r.status, r.text);
    }
    answers
}

fn role_list(roles: &[Role]) -> String {
    let codes: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
    codes.join(", ")
}

/// Proves the stored per-role counters equal a recount of the live memberships, and the seat
/// figure the API shows equals the recount of members in working roles. Returns that recount.
async fn assert_counts_match_memberships(server: &TestServer, org: &OrgFixture, api: &Api) -> i64 {
    let o = org.id.0;
    for role in Role::ALL {
        let stored = server
            .sql_int(&format!(
                "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM member_counts WHERE org_id = {o} AND role = '{}'",
                role.code()
            ))
            .await;
        let counted = server
            .sql_int(&format!(
                "SELECT COUNT(*) FROM memberships
                 WHERE org_id = {o} AND role = '{}' AND deleted_at IS NULL",
                role.code()
            ))
            .await;
        assert_eq!(stored, counted, "the {} counter drifted", role.name());
    }
    let working = server
        .sql_int(&format!(
            "SELECT COUNT(*) FROM memberships
             WHERE org_id = {o} AND deleted_at IS NULL AND role IN ({})",
            role_list(&Role::ACTIVE)
        ))
        .await;
    let shown = api.get(&org.path("/seats")).await.expect(200).body;
    assert_eq!(shown["active"].as_i64(), Some(working), "{shown}");
    working
}

/// (SCIM id, roster user id) of the organization's provisioned users, by userName.
async fn scim_people(server: &TestServer, org: &OrgFixture) -> Vec<(String, i64)> {
    server
        .sql_rows(
            &format!(
                "SELECT id, user_id FROM scim_users WHERE org_id = {} ORDER BY user_name",
                org.id.0
            ),
            2,
        )
        .await
        .iter()
        .map(|r| (r[0].text().unwrap().to_string(), r[1].int().unwrap()))
        .collect()
}

/// The live role of each user of the organization.
async fn roles(server: &TestServer, org: &OrgFixture) -> BTreeMap<i64, String> {
    server
        .sql_rows(
            &format!(
                "SELECT user_id, role FROM memberships WHERE org_id = {} AND deleted_at IS NULL",
                org.id.0
            ),
            2,
        )
        .await
        .iter()
        .map(|r| (r[0].int().unwrap(), r[1].text().unwrap().to_string()))
        .collect()
}

/// Provisions `n` people through SCIM; returns (SCIM id, roster user id) of each.
async fn provision(
    server: &TestServer,
    org: &OrgFixture,
    idp: &Api,
    n: usize,
) -> Vec<(String, i64)> {
    for i in 0..n {
        create_user(idp, &format!("person-{i:02}@example.com")).await;
    }
    scim_people(server, org).await
}

/// An organization whose identity provider provisioned `n` people, with `group` mapped to
/// Annotator and everyone else Deactivated, whose roles may also be changed by hand: its
/// Owner, the SCIM client and (SCIM id, roster user id) of each person.
async fn hand_and_idp_managed(
    server: &TestServer,
    group: &str,
    n: usize,
) -> (OrgFixture, Api, Vec<(String, i64)>) {
    let org = server.org("Acme").await;
    let idp = idp(server, &org).await;
    set_mapping(
        &org,
        json!({"roles_groups": [["Annotator", group]], "fallback_role": "Deactivated",
               "manual_role_management": true}),
    )
    .await;
    let people = provision(server, &org, &idp, n).await;
    (org, idp, people)
}

fn member_values(ids: &[&str]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
}

/// Activations racing for the last seats never take more seats than the limit, whichever
/// path activates: two rounds of 24 clients at once on the same 16 people (Deactivated until
/// activated), with 4 more free seats each round. 16 clients activate one person each by hand
/// (PATCH of a membership to Annotator), 8 activate three each in bulk through SCIM (a PATCH
/// adding them to the group mapped to Annotator, which takes its seats whole or not at all).
/// After each round every seat is taken and no more, the people in Annotator are exactly
/// those the accepted requests named, and the counters equal a recount. (seats.rs races
/// single activations alone.)
///
/// Without the organization lock (PostgreSQL; `orgs::lock_for_membership_change` reduced to
/// a plain read) it failed 7 of 8 runs with one round: "9 people took 5 seats" (the requests
/// read the same free seats and all took them) or "the Annotator counter drifted".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn single_and_bulk_activations_racing_for_the_last_seats_never_exceed_the_limit() {
    let server = TestServer::start().await;
    let (org, idp, people) = hand_and_idp_managed(&server, "Workers", 16).await;
    let workers = create_group(&idp, "Workers", &[]).await;
    let group = format!("/scim/v2/Groups/{}", workers["id"].as_str().unwrap());
    let owner = org.owner_api();
    let mut activated = BTreeSet::new();
    for round in 1..=2 {
        // Four more seats each round, for the Owner and the people activated before.
        let limit = 1 + 4 * round;
        owner
            .patch(&org.path(""), json!({"seat_limit": limit}))
            .await
            .expect(200);

        let mut calls = Vec::new();
        let mut named: Vec<Vec<i64>> = Vec::new();
        for (_, user) in &people {
            calls.push(call(
                &owner,
                Method::PATCH,
                org.path("/memberships"),
                json!({"user_id": user, "role": "AN"}),
            ));
            named.push(vec![*user]);
        }
        for j in 0..8 {
            let three = [j, j + 8, (j * 5 + 3) % 16].map(|k| &people[k]);
            let ids: Vec<&str> = three.iter().map(|(scim, _)| scim.as_str()).collect();
            calls.push(call(
                &idp,
                Method::PATCH,
                group.clone(),
                json!({"schemas": [PATCH], "Operations": [
                    {"op": "add", "path": "members", "value": member_values(&ids)}]}),
            ));
            named.push(three.iter().map(|(_, user)| *user).collect());
        }
        let answers = race(calls).await;

        for (i, (r, who)) in answers.iter().zip(&named).enumerate() {
            match r.status {
                200 | 204 => activated.extend(who.iter().copied()),
                409 => assert!(r.text.contains("seat"), "call {i}: {}", r.text),
                other => panic!("call {i} answered {other}: {}", r.text),
            }
        }
        let annotators: BTreeSet<i64> = roles(&server, &org)
            .await
            .into_iter()
            .filter(|(_, role)| role == "AN")
            .map(|(user, _)| user)
            .collect();
        assert_eq!(
            annotators, activated,
            "Annotators are who accepted calls named"
        );
        let working = assert_counts_match_memberships(&server, &org, &owner).await;
        // Seats never free up here, so a refused single activation means they were all taken.
        assert_eq!(working, limit, "{} people took {limit} seats", working);
        let seats = org.seats().await;
        assert_eq!(seats["used"], json!(limit), "{seats}");
    }
}

/// Racing ownership transfers and changes of Administrators always leave exactly one Owner.
/// Four rounds of 19 clients at once: the Owner hands ownership to four people, the Owner
/// changes their own role, two Administrators change the Owner's role, and each of the 12
/// other members promotes or demotes the next one (Administrators succeed, the rest are
/// refused; the targets include the people ownership goes to). After each round the
/// memberships hold one Owner, the counters and the API's member list say the same, and the
/// transfers chain: each was made by the Owner the one before made.
///
/// Without the organization lock (PostgreSQL; `orgs::lock_for_membership_change` reduced to
/// a plain read) it failed 8 of 8 runs: 5 with several Owners after the first round ("round 0:
/// Owners [[Int(4)], [Int(2)]]", up to four), 3 with a 500 from a racing request.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_ownership_transfers_and_role_changes_always_leave_exactly_one_owner() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let mut everyone: Vec<Person> = vec![org.owner.clone()];
    for _ in 0..6 {
        everyone.push(org.member(Role::Administrator).await);
        everyone.push(org.member(Role::Annotator).await);
    }
    let by_id: BTreeMap<i64, &Person> = everyone.iter().map(|p| (p.id.0, p)).collect();
    let o = org.id.0;
    let owners_sql = format!(
        "SELECT user_id FROM memberships WHERE org_id = {o} AND role = 'OW' AND deleted_at IS NULL"
    );
    let mut owner = org.owner.clone();
    let mut transfers_accepted = 0;
    for round in 0..4 {
        let others: Vec<&Person> = everyone.iter().filter(|p| p.id != owner.id).collect();
        let owner_api = org.api(&owner);
        let mut calls = Vec::new();
        for k in 0..4 {
            let target = others[(round * 4 + k) % others.len()];
            calls.push(call(
                &owner_api,
                Method::PATCH,
                org.path("/memberships"),
                json!({"user_id": target.id.0, "role": "OW"}),
            ));
        }
        calls.push(call(
            &owner_api,
            Method::PATCH,
            org.path("/memberships"),
            json!({"user_id": owner.id.0, "role": "AD"}),
        ));
        for (i, p) in others.iter().enumerate() {
            let target = others[(i + round + 1) % others.len()];
            let role = if (i + round) % 2 == 0 { "AD" } else { "MA" };
            calls.push(call(
                &org.api(p),
                Method::PATCH,
                org.path("/memberships"),
                json!({"user_id": target.id.0, "role": role}),
            ));
        }
        for p in others.iter().take(2) {
            calls.push(call(
                &org.api(p),
                Method::PATCH,
                org.path("/memberships"),
                json!({"user_id": owner.id.0, "role": "MA"}),
            ));
        }
        let answers = race(calls).await;
        transfers_accepted += answers[..4].iter().filter(|r| r.status == 200).count();
        assert_ne!(answers[4].status, 200, "the Owner changed their own role");

        let owners = server.sql_rows(&owners_sql, 1).await;
        assert_eq!(owners.len(), 1, "round {round}: Owners {owners:?}");
        let owner_id = owners[0][0].int().unwrap();
        let listed = org
            .api(by_id[&owner_id])
            .get(&org.path("/memberships?role=OW"))
            .await
            .expect(200)
            .body;
        assert_eq!(listed["count"], 1, "{listed}");
        assert_eq!(
            listed["results"][0]["user"]["email"],
            json!(by_id[&owner_id].email)
        );
        assert_counts_match_memberships(&server, &org, &org.api(by_id[&owner_id])).await;
        owner = by_id[&owner_id].clone();
    }

    let chain = server
        .sql_rows(
            &format!(
                "SELECT actor_user_id, target_user_id FROM audit_events
                 WHERE org_id = {o} AND action = 'member.ownership_transferred' ORDER BY id"
            ),
            2,
        )
        .await;
    assert_eq!(chain.len(), transfers_accepted);
    assert!(transfers_accepted >= 4, "each round hands ownership on");
    let mut holder = org.owner.id.0;
    for link in &chain {
        assert_eq!(link[0].int(), Some(holder), "a transfer by a non-Owner");
        holder = link[1].int().unwrap();
    }
    assert_eq!(holder, owner.id.0);
}

/// The version an ETag names (`W/"7"`).
fn etag_version(r: &Resp) -> i64 {
    let tag = r.headers["etag"].to_str().unwrap();
    tag.trim_start_matches("W/")
        .trim_matches('"')
        .parse()
        .unwrap_or_else(|_| panic!("ETag {tag}"))
}

/// What a racing group update does to the members, and to the externalId.
enum GroupUpdate {
    Put(BTreeSet<usize>, String),
    Replace(BTreeSet<usize>),
    /// Adds one, removes one, and sets the externalId when it names one.
    AddRemove(usize, usize, Option<String>),
}

/// Racing SCIM updates of one group end in the state the last accepted one implies: 24
/// clients with the organization's SCIM token at once, a third PUT the group (a member list
/// and an externalId of their own), a third PATCH-replace its members, a third PATCH-add one
/// person and remove another (every other one of those also replaces the externalId). Each
/// answer carries the group's new version; all are accepted, with the versions one after
/// another. Replayed in version order they give the final group exactly (members and
/// externalId), and each person's role is what the mapping says for it (group mapped to
/// Reviewer, everyone else Annotator).
///
/// Without the organization lock (PostgreSQL) it failed 8 of 8 runs: racing updates of the
/// group's members collide and get 500s. Before the fix in `scim::groups::patch_group` it
/// failed with the lock too (4 of 5 runs on SQLite, 1 of 1 on PostgreSQL): a members-only
/// PATCH wrote back the externalId it had read before a racing PUT changed it. With that
/// fix's retry taken away (one attempt), the attribute PATCHes failed 10 of 10 runs on both
/// databases with 412 "the resource is at version 14, not 2".
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_scim_group_updates_end_in_the_state_the_last_accepted_one_implies() {
    let server = TestServer::start().await;
    let org = server.org("Acme").await;
    let idp = idp(&server, &org).await;
    set_mapping(
        &org,
        json!({"roles_groups": [["Reviewer", "Reviewers"]], "fallback_role": "Annotator"}),
    )
    .await;
    let people = provision(&server, &org, &idp, 12).await;
    let created = create_group(&idp, "Reviewers", &[]).await;
    let path = format!("/scim/v2/Groups/{}", created["id"].as_str().unwrap());
    let first = idp.get(&path).await.expect(200);
    let start = etag_version(&first);

    let scim = |k: usize| people[k].0.as_str();
    let mut updates = Vec::new();
    let mut calls = Vec::new();
    for i in 0..24 {
        let subset: BTreeSet<usize> = (0..people.len())
            .filter(|k| (k * 5 + i * 3) % 7 < 3)
            .collect();
        let ids: Vec<&str> = subset.iter().map(|&k| scim(k)).collect();
        let (update, method, body) = match i % 3 {
            0 => {
                let external = format!("put-{i}");
                let body = json!({"schemas": [GROUP], "displayName": "Reviewers",
                                  "externalId": external, "members": member_values(&ids)});
                (GroupUpdate::Put(subset, external), Method::PUT, body)
            }
            1 => {
                let body = json!({"schemas": [PATCH], "Operations": [
                    {"op": "replace", "path": "members", "value": member_values(&ids)}]});
                (GroupUpdate::Replace(subset), Method::PATCH, body)
            }
            _ => {
                let (add, remove) = (i % people.len(), (i * 7 + 1) % people.len());
                let mut ops = vec![
                    json!({"op": "add", "path": "members", "value": member_values(&[scim(add)])}),
                    json!({"op": "remove", "path": format!("members[value eq \"{}\"]", scim(remove))}),
                ];
                // Every other one patches an attribute too, on the version it read.
                let external = (i % 6 == 5).then(|| format!("patch-{i}"));
                if let Some(id) = &external {
                    ops.push(json!({"op": "replace", "path": "externalId", "value": id}));
                }
                let body = json!({"schemas": [PATCH], "Operations": ops});
                (
                    GroupUpdate::AddRemove(add, remove, external),
                    Method::PATCH,
                    body,
                )
            }
        };
        updates.push(update);
        calls.push(call(&idp, method, path.clone(), body));
    }
    let answers = race(calls).await;

    let mut in_order = BTreeMap::new();
    for (i, (r, update)) in answers.iter().zip(updates).enumerate() {
        assert!(
            matches!(r.status, 200 | 204),
            "call {i}: {} {}",
            r.status,
            r.text
        );
        assert!(
            in_order.insert(etag_version(r), update).is_none(),
            "two answers, one version"
        );
    }
    let versions: Vec<i64> = in_order.keys().copied().collect();
    assert_eq!(versions, (start + 1..=start + 24).collect::<Vec<_>>());
    let mut members = BTreeSet::new();
    let mut external = Value::Null;
    for update in in_order.into_values() {
        match update {
            GroupUpdate::Put(set, id) => {
                members = set;
                external = json!(id);
            }
            GroupUpdate::Replace(set) => members = set,
            GroupUpdate::AddRemove(add, remove, id) => {
                members.insert(add);
                members.remove(&remove);
                if let Some(id) = id {
                    external = json!(id);
                }
            }
        }
    }

    let last = idp.get(&path).await.expect(200);
    assert_eq!(etag_version(&last), start + 24);
    let stored: BTreeSet<String> = last.body["members"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| m["value"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default();
    let expected: BTreeSet<String> = members.iter().map(|&k| scim(k).to_string()).collect();
    assert_eq!(
        stored, expected,
        "the members the last accepted updates imply"
    );
    assert_eq!(
        last.body["externalId"], external,
        "the last PUT's externalId"
    );
    let roles = roles(&server, &org).await;
    for (k, (_, user)) in people.iter().enumerate() {
        let mapped = if members.contains(&k) { "RE" } else { "AN" };
        assert_eq!(roles[user], mapped, "person {k}");
    }
    assert_counts_match_memberships(&server, &org, &org.owner_api()).await;
}

/// Bulk and single role changes racing on the same people end as some serial order of them:
/// three rounds of 24 clients at once on 12 people provisioned through SCIM, 8 changing the
/// mapping of their group (Annotator, Reviewer or Manager: each a bulk change of all 12) and
/// 16 setting one of them by hand (Deactivated, Manager, Reviewer or Annotator). Every
/// request is answered and accepted. Each person's role-change audit events then form one
/// chain (every change starts from the role the one before left, none is lost) ending in
/// their role, and the counters and the API's seat figure equal a recount.
///
/// Without the organization lock (PostgreSQL) it failed 8 of 8 runs with a 500 from a racing
/// request; with 500s let through it still failed 6 of 6 on the chain: "a change from a role
/// overwritten meanwhile: [Int(7), Text("AN"), Text("MA")]" (two changes read the same role).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bulk_and_single_role_changes_racing_on_the_same_people_end_as_a_serial_order() {
    let server = TestServer::start().await;
    let (org, idp, people) = hand_and_idp_managed(&server, "Team", 12).await;
    let ids: Vec<&str> = people.iter().map(|(scim, _)| scim.as_str()).collect();
    let team = create_group(&idp, "Team", &ids).await;
    assert_eq!(team["members"].as_array().map(Vec::len), Some(12));
    let owner = org.owner_api();
    let o = org.id.0;
    let events_before = server
        .sql_int(&format!(
            "SELECT COALESCE(MAX(id), 0) FROM audit_events WHERE org_id = {o}"
        ))
        .await;
    let mut role_now = roles(&server, &org).await;

    for round in 0..3 {
        let mut calls = Vec::new();
        for j in 0..8 {
            let mapped = ["Annotator", "Reviewer", "Manager"][(j + round) % 3];
            calls.push(call(
                &owner,
                Method::POST,
                "/api/scim/settings".into(),
                json!({"roles_groups": [[mapped, "Team"]]}),
            ));
        }
        for i in 0..16 {
            let (_, user) = people[(i * 5 + round) % people.len()];
            let role = ["DI", "MA", "RE", "AN"][(i + round) % 4];
            calls.push(call(
                &owner,
                Method::PATCH,
                org.path("/memberships"),
                json!({"user_id": user, "role": role}),
            ));
        }
        for (i, r) in race(calls).await.iter().enumerate() {
            assert_eq!(r.status, 200, "round {round} call {i}: {}", r.text);
        }
    }

    let events = server
        .sql_rows(
            &format!(
                "SELECT target_user_id, old_value, new_value FROM audit_events
                 WHERE org_id = {o} AND id > {events_before} AND action = 'member.role_changed'
                 ORDER BY id"
            ),
            3,
        )
        .await;
    let mut changes = 0;
    for e in &events {
        let Some(now) = e[0].int().and_then(|u| role_now.get_mut(&u)) else {
            continue;
        };
        assert_eq!(
            e[1].text(),
            Some(now.as_str()),
            "a change from a role overwritten meanwhile: {e:?}"
        );
        *now = e[2].text().unwrap().to_string();
        changes += 1;
    }
    assert!(
        changes > 24,
        "the racing calls changed roles {changes} times"
    );
    let stored = roles(&server, &org).await;
    for (user, role) in &role_now {
        assert_eq!(
            &stored[user], role,
            "user {user} ended elsewhere than their last change"
        );
    }
    assert_counts_match_memberships(&server, &org, &owner).await;
}

/// A SQLite read runs on the async worker while it is short and is moved to a blocking
/// thread once it is long (`INLINE_READ_STEPS` in the store), so one broad query never stalls
/// the requests sharing its worker. On a one-thread runtime, a long read left on the worker
/// would hold back the health check below until it finished. PostgreSQL's driver never
/// blocks; there is nothing to route there.
#[tokio::test]
async fn a_long_read_leaves_the_worker_to_other_requests() {
    let server = TestServer::start().await;
    server.sql_int("SELECT count(*) FROM organizations").await;
    let Some((inline_before, moved_before)) = server.service.read_routing() else {
        return;
    };
    assert!(inline_before >= 1, "a short read ran on the worker");
    let long =
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000000) \
                SELECT count(*) FROM n";
    let reader = {
        let service = server.service.clone();
        tokio::spawn(async move {
            let mut c = service
                .raw_store_bypassing_rules()
                .read()
                .await
                .expect("read");
            roster_store::raw::rows(&mut c, long, 1)
                .await
                .expect("the long read")
        })
    };
    // Wait until the long read has been stopped and moved, then ask for health meanwhile.
    tokio::time::timeout(ANSWER_WITHIN, async {
        while server.service.read_routing().unwrap().1 == moved_before {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the long read was moved to a blocking thread");
    server.anonymous().get("/api/health").await.expect(200);
    assert!(
        !reader.is_finished(),
        "health answered only after the long read finished"
    );
    assert_eq!(reader.await.unwrap()[0][0].int(), Some(20_000_000));
    let (inline_after, _) = server.service.read_routing().unwrap();
    assert!(
        inline_after > inline_before,
        "health's read ran on the worker"
    );
}
