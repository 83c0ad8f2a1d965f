//! Member counts and seat usage come from counters kept in the transactions that change
//! memberships; after any mix of changes they equal a full count of the member rows.

use roster_domain::Role;
use roster_tests::{json, TestServer};

async fn counters_and_rows(
    server: &TestServer,
    org: i64,
) -> (Vec<(String, i64)>, Vec<(String, i64)>) {
    let pairs = |rows: Vec<Vec<roster_store::raw::Value>>| -> Vec<(String, i64)> {
        rows.into_iter()
            .map(|r| (r[0].text().unwrap().to_owned(), r[1].int().unwrap()))
            .collect()
    };
    let counters = pairs(
        server
            .sql_rows(
                &format!("SELECT role, n FROM member_counts WHERE org_id = {org} AND n <> 0 ORDER BY role"),
                2,
            )
            .await,
    );
    let rows = pairs(server.sql_rows(&format!(
        "SELECT role, COUNT(*) FROM memberships WHERE org_id = {org} AND deleted_at IS NULL GROUP BY role ORDER BY role"
    ), 2).await);
    (counters, rows)
}

#[tokio::test]
async fn counters_equal_the_member_rows_after_every_kind_of_change() {
    let server = TestServer::start().await;
    let org = server.org("Counted").await;
    let owner = org.owner_api();
    let admin = org.member(Role::Administrator).await;
    let ann = org.member(Role::Annotator).await;
    let rev = org.member(Role::Reviewer).await;
    let pending = org.member(Role::NotActivated).await;

    // Activation, deactivation, reactivation, deletion, ownership transfer, link sign-up, invite.
    let path = org.path("/memberships");
    owner
        .patch(&path, json!({"user_id": pending.id.0, "role": "AN"}))
        .await
        .expect(200);
    owner
        .patch(&path, json!({"user_id": ann.id.0, "role": "DI"}))
        .await
        .expect(200);
    owner
        .patch(&path, json!({"user_id": ann.id.0, "role": "RE"}))
        .await
        .expect(200);
    owner
        .delete(&org.path(&format!("/memberships/{}/", rev.id.0)))
        .await
        .expect(204);
    owner
        .patch(&path, json!({"user_id": admin.id.0, "role": "OW"}))
        .await
        .expect(200);
    let token = org.invite_token().await;
    server
        .anonymous()
        .post(
            &format!("/user/signup/?token={token}"),
            json!({"email": "new@example.com", "password": "a long password"}),
        )
        .await
        .expect(201);
    let new_owner = org.api(&admin);
    let sent = new_owner
        .post(
            "/api/invite/send-email",
            json!({"emails": [rev.email], "role": "MA"}),
        )
        .await
        .expect(201);
    let link = sent.body[0]["invite_url"]
        .as_str()
        .expect("link")
        .to_string();
    let path_and_query = link.strip_prefix(&server.url).expect("local link");
    org.set_password(&rev).await;
    server
        .anonymous()
        .post(
            path_and_query,
            json!({"email": rev.email, "password": roster_tests::PASSWORD}),
        )
        .await
        .expect(201);

    let (counters, rows) = counters_and_rows(&server, org.id.0).await;
    assert_eq!(counters, rows);
    assert_eq!(
        rows,
        vec![
            ("AD".into(), 1),
            ("AN".into(), 1),
            ("MA".into(), 1),
            ("NO".into(), 1),
            ("OW".into(), 1),
            ("RE".into(), 1)
        ]
    );
    let list = owner
        .get(&org.path("/memberships?page_size=1"))
        .await
        .expect(200);
    assert_eq!(list.body["count"], 6);
    let active = new_owner
        .get(&org.path("/memberships?role=OW,AD,MA,RE,AN&page_size=1"))
        .await
        .expect(200);
    assert_eq!(active.body["count"], 5);
    let seats = new_owner.get(&org.path("/seats")).await.expect(200);
    assert_eq!(seats.body["active"], 5);
}
