//! The audit log page, its CSV export and the member panel through HTTP, as a browser without
//! script uses them: changes read as sentences, filters by who acted, whom it was done to,
//! the action and the dates (kept in the URL), the export of the same filtered log, and a
//! member's panel with their role, places and history.

use roster_domain::Role;
use roster_tests::{encode, json, results, Api, OrgFixture, Person, TestServer};

use crate::scim_page::{browser, post_page};
use crate::workspaces::create_workspace;

/// An organization whose Owner (named by email only) moved Test Annotator from Annotator to
/// Reviewer on the Organization page; another member was left alone.
struct Story {
    server: TestServer,
    org: OrgFixture,
    owner: Api,
    bo: Person,
    other: Person,
}

async fn story() -> Story {
    let server = TestServer::start().await;
    let org = server.org("Audit pages").await;
    let bo = org.member(Role::Annotator).await;
    let other = org.member(Role::Reviewer).await;
    let owner = browser(&server, &org.owner.email).await;
    let r = post_page(
        &owner,
        &format!("/organization/members/{}/role", bo.id.0),
        &[("role", "RE")],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    Story {
        server,
        org,
        owner,
        bo,
        other,
    }
}

/// The sentences of the audit page's rows (or the member panel's history), newest first.
fn sentences(html: &str) -> Vec<String> {
    html.split("sentence\">")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(|s| s.replace("&#x27;", "'").replace("&#39;", "'"))
        .collect()
}

async fn audit_page(b: &Api, query: &str) -> String {
    b.get(&format!("/audit?{query}")).await.expect(200).text
}

#[tokio::test]
async fn the_audit_page_reads_each_change_as_a_sentence_with_relative_times() {
    let s = story().await;
    let html = audit_page(&s.owner, "").await;
    let owner = &s.org.owner.email;
    let said = sentences(&html);
    assert!(
        said.contains(&format!(
            "{owner} changed Test Annotator from Annotator to Reviewer"
        )),
        "{said:?}"
    );
    // The time is relative, with the exact UTC time on hover.
    assert!(html.contains("data-exact>just now</time>"), "{html}");
    assert!(html.contains(" UTC\" data-exact>"), "{html}");
    // Actions are offered by name, not by code.
    assert!(html.contains(">Role changed</option>"), "{html}");
    assert!(!html.contains(">member.role_changed<"), "{html}");
}

#[tokio::test]
async fn the_audit_page_filters_by_actor_target_action_and_dates_and_pages_keep_them() {
    let s = story().await;
    let owner = s.org.owner.email.clone();
    let change = format!("{owner} changed Test Annotator from Annotator to Reviewer");

    // By whom it was done to: Bo's change, not the other member's joining.
    let html = audit_page(&s.owner, &format!("target={}", encode(&s.bo.email))).await;
    assert!(sentences(&html).contains(&change), "{html}");
    assert!(
        sentences(&html)
            .iter()
            .all(|x| !x.contains("Test Reviewer")),
        "{html}"
    );
    let html = audit_page(&s.owner, &format!("target={}", encode(&s.other.email))).await;
    assert!(!sentences(&html).contains(&change), "{html}");
    // The filters stay in the form and in the export link.
    assert!(
        html.contains(&format!("value=\"{}\"", s.other.email)),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "href=\"/audit.csv?target={}\"",
            encode(&s.other.email)
        )),
        "{html}"
    );

    // By who acted, exactly as typed in any case.
    let html = audit_page(
        &s.owner,
        &format!("actor={}", encode(&owner.to_uppercase())),
    )
    .await;
    assert!(sentences(&html).contains(&change), "{html}");
    let html = audit_page(&s.owner, &format!("actor={}", encode(&s.other.email))).await;
    let said = sentences(&html);
    assert!(
        !said.is_empty() && said.iter().all(|x| x.starts_with("Test Reviewer ")),
        "{said:?}"
    );
    // An email nobody has matches nothing, like one who did nothing.
    let html = audit_page(&s.owner, "actor=nobody%40example.com").await;
    assert!(html.contains("0 events"), "{html}");

    // By action: only role changes.
    let html = audit_page(&s.owner, "action=member.role_changed").await;
    assert_eq!(sentences(&html), vec![change.clone()], "{html}");
    assert!(
        html.contains("value=\"member.role_changed\" selected"),
        "{html}"
    );

    // By dates: the day of the change includes it, the day before does not.
    let day = change_day(&s.org.owner_api()).await;
    let html = audit_page(&s.owner, &format!("from={day}&to={day}")).await;
    assert!(sentences(&html).contains(&change), "{html}");
    for outside in ["to=2000-01-01", "from=2999-01-01"] {
        let html = audit_page(&s.owner, outside).await;
        assert!(html.contains("0 events"), "{outside}: {html}");
    }

    // Pages keep the filters.
    for _ in 0..55 {
        s.org.set_role(&s.other, Role::Annotator).await;
        s.org.set_role(&s.other, Role::Reviewer).await;
    }
    let html = audit_page(&s.owner, "action=member.role_changed").await;
    assert!(
        html.contains("href=\"/audit?action=member.role_changed&amp;page=2\""),
        "{html}"
    );
    let html = audit_page(&s.owner, "action=member.role_changed&page=3").await;
    assert!(
        sentences(&html).contains(&change),
        "the oldest change is on the last page"
    );
}

/// The day (UTC) of the newest role change, as the API reports its time.
async fn change_day(owner_api: &Api) -> String {
    let r = owner_api
        .get("/api/audit-events/?action=member.role_changed")
        .await
        .expect(200);
    results(&r.body)[0]["created_at"].as_str().unwrap()[..10].to_string()
}

#[tokio::test]
async fn bad_filters_are_refused_with_a_reason_and_the_page_is_for_admins_only() {
    let s = story().await;
    for (query, says) in [
        ("from=yesterday", "From: must be a date such as 2026-12-01"),
        ("to=2026-13-01", "To: must be a date such as 2026-12-01"),
        ("action=member.teleported", "is not an audit action"),
        ("actor=not-an-email", "Enter a valid email address."),
        ("page=0", "Page: must be a page number from 1"),
    ] {
        let r = s.owner.get(&format!("/audit?{query}")).await.expect(400);
        assert!(r.text.contains(says), "{query}: {}", r.text);
        if query.starts_with("page=") {
            continue; // The export has no pages.
        }
        let r = s
            .owner
            .get(&format!("/audit.csv?{query}"))
            .await
            .expect(400);
        assert!(
            r.text.contains(says.split(": ").last().unwrap()),
            "{query}: {}",
            r.text
        );
    }
    s.org.set_password(&s.other).await;
    let reviewer = browser(&s.server, &s.other.email).await;
    reviewer.get("/audit").await.expect(403);
    reviewer.get("/audit.csv").await.expect(403);
    reviewer
        .get(&format!("/organization/members/{}", s.bo.id.0))
        .await
        .expect(403);
}

#[tokio::test]
async fn the_csv_export_holds_the_filtered_log_in_words_with_times_in_utc() {
    let s = story().await;
    let owner = s.org.owner.email.clone();
    let r = s
        .owner
        .get(&format!("/audit.csv?target={}", encode(&s.bo.email)))
        .await
        .expect(200);
    let content_type = r.headers.get("content-type").unwrap().to_str().unwrap();
    assert_eq!(content_type, "text/csv; charset=utf-8");
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(
        lines[0],
        "time,actor,actor_email,action,description,target,target_email,source,address"
    );
    let change = lines
        .iter()
        .find(|l| l.contains("member.role_changed"))
        .expect("the role change is exported");
    let fields: Vec<&str> = change.split(',').collect();
    assert!(
        fields[0].len() == 27 && fields[0][10..11] == *"T" && fields[0].ends_with('Z'),
        "{change}"
    );
    assert_eq!(
        &fields[1..],
        [
            owner.as_str(),
            owner.as_str(),
            "member.role_changed",
            &format!("{owner} changed Test Annotator from Annotator to Reviewer"),
            "Test Annotator",
            s.bo.email.as_str(),
            "ui",
            "127.0.0.1",
        ]
    );
    // Only Bo's events: every row names them.
    assert!(
        lines[1..].iter().all(|l| l.contains(&s.bo.email)),
        "{}",
        r.text
    );
    let none = s
        .owner
        .get("/audit.csv?actor=nobody%40example.com")
        .await
        .expect(200);
    assert_eq!(
        none.text.lines().count(),
        1,
        "the header alone: {}",
        none.text
    );
}

#[tokio::test]
async fn the_csv_export_walks_a_long_log_batch_by_batch_without_losing_a_row() {
    let s = story().await;
    // 1,234 events more than a batch of 500 holds, written straight into the log.
    s.server
        .sql_execute(&format!(
            "INSERT INTO audit_events (org_id, occurred_at, action, source, actor_name, actor_email,
                target_name, target_email)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1234)
             SELECT {}, 1700000000000000 + i, 'invite.link_reset', 'api', 'Ann Lee', 'ann@x.io', '', ''
             FROM n",
            s.org.id.0
        ))
        .await;
    let total = s
        .org
        .owner_api()
        .get("/api/audit-events/?page_size=1")
        .await
        .expect(200)
        .body["count"]
        .as_i64()
        .unwrap();
    assert!(total > 1234);
    let r = s.owner.get("/audit.csv").await.expect(200);
    let rows: Vec<&str> = r.text.lines().skip(1).collect();
    assert_eq!(rows.len() as i64, total);
    let resets = rows
        .iter()
        .filter(|l| l.contains(",Ann Lee reset the invite link,"))
        .count();
    assert_eq!(resets, 1234);
    // Newest first (by when it was written): the resets, then the role change before them.
    let change = rows.iter().position(|l| l.contains("member.role_changed"));
    assert_eq!(change, Some(1234));
}

async fn panel(b: &Api, who: &Person) -> String {
    b.get(&format!("/organization/members/{}", who.id.0))
        .await
        .expect(200)
        .text
}

#[tokio::test]
async fn the_member_panel_shows_role_seat_places_and_history_in_words() {
    let s = story().await;
    let api = s.org.owner_api();
    let project = api.create_project("Street signs").await;
    api.post(
        &format!("/api/projects/{project}/members/"),
        json!({"user": s.bo.id.0, "role": "AN"}),
    )
    .await
    .expect(201);
    let ws = create_workspace(&api, "Night shift").await;
    api.post(
        &format!("/api/workspaces/{ws}/memberships/"),
        json!({"user": s.bo.id.0}),
    )
    .await
    .expect(201);

    let html = panel(&s.owner, &s.bo).await;
    assert!(
        html.contains("<h1 id=\"member-name\">Test Annotator</h1>"),
        "{html}"
    );
    assert!(
        html.contains(&format!("id=\"member-email\">{}<", s.bo.email)),
        "{html}"
    );
    assert!(html.contains("aria-hidden=\"true\">TA</span>"), "{html}");
    assert!(
        html.contains(&format!(
            "class=\"role-select\" aria-labelledby=\"role-label\" data-current=\"RE\" data-email=\"{}\"",
            s.bo.email
        )),
        "{html}"
    );
    assert!(html.contains(&format!(
        "name=\"back\" value=\"/organization/members/{}\"",
        s.bo.id.0
    )));
    assert!(html.contains("<dd id=\"seat\">Takes a seat</dd>"), "{html}");
    assert!(
        html.contains(&format!("<a href=\"/projects/{project}\">Street signs</a>")),
        "{html}"
    );
    assert!(
        html.contains(&format!("<a href=\"/workspaces/{ws}\">Night shift</a>")),
        "{html}"
    );
    let owner = &s.org.owner.email;
    let said = sentences(&html);
    assert_eq!(
        said[..3],
        [
            format!("{owner} added Test Annotator to workspace Night shift"),
            format!("{owner} added Test Annotator to project {project} as Annotator"),
            format!("{owner} changed Test Annotator from Annotator to Reviewer"),
        ],
        "{said:?}"
    );
    assert!(html.contains(&format!("href=\"/audit?person={}\"", encode(&s.bo.email))));
    // The linked log holds the same history, and nothing of the other member.
    let log = audit_page(&s.owner, &format!("person={}", encode(&s.bo.email))).await;
    assert_eq!(sentences(&log)[..3], said[..3]);
    assert!(!log.contains("Test Reviewer"), "{log}");
    // The delete dialog is the one the page's script drives.
    for id in ["delete-member", "confirm-delete", "cancel-delete"] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[tokio::test]
async fn a_role_change_from_the_panel_shows_in_its_history_and_seat() {
    let s = story().await;
    let r = post_page(
        &s.owner,
        &format!("/organization/members/{}/role", s.bo.id.0),
        &[
            ("role", "DI"),
            ("back", &format!("/organization/members/{}", s.bo.id.0)),
        ],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let html = panel(&s.owner, &s.bo).await;
    let owner = &s.org.owner.email;
    assert_eq!(
        sentences(&html)[0],
        format!("{owner} deactivated Test Annotator")
    );
    assert!(
        html.contains("<dd id=\"seat\">Takes no seat</dd>"),
        "{html}"
    );
    assert!(html.contains("data-current=\"DI\""), "{html}");
}

#[tokio::test]
async fn a_member_without_a_name_is_shown_once_by_email_and_unknown_members_are_404() {
    let s = story().await;
    let owner = s.server.person(s.org.owner.id).await;
    let html = panel(&s.owner, &owner).await;
    assert!(
        html.contains(&format!("<h1 id=\"member-name\">{}</h1>", owner.email)),
        "{html}"
    );
    assert!(!html.contains("id=\"member-email\""), "{html}");
    assert!(html.contains("aria-hidden=\"true\">OW</span>"), "{html}");
    for id in ["0", "abc", "999999999"] {
        s.owner
            .get(&format!("/organization/members/{id}"))
            .await
            .expect(404);
    }
}
