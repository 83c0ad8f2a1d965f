//! Member tags on the Organization page through HTTP, as a browser without script uses it:
//! each member's tags in their row, the tag filter (kept in the query string with the role
//! filter and the search, and by the page links), and the Owner's and Administrators' forms
//! that create and delete tags and put them on and take them off a member, through the same
//! service calls as the API (its rules, its audit events recorded as from the pages). Managers
//! and below cannot open the page or post its forms; bad input is refused in words.

use roster_domain::Role;
use roster_service::import::ImportRow;
use roster_tests::{json, results, Api, OrgFixture, Person, Resp, TestServer};

use crate::scim_page::{browser, member_browser, post_page};
use crate::workspace_pages::{followed, location, recent_events};

/// Posts a form of the page and follows its redirect (303) back to the page.
async fn submit(b: &Api, path: &str, fields: &[(&str, &str)]) -> Resp {
    followed(b, post_page(b, path, fields).await).await
}

/// Text as the page shows it: tags dropped and the entities askama writes decoded.
fn shown(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The page's status line.
fn status(html: &str) -> String {
    let at = html.find("id=\"status\"").expect("a status line");
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find("</p>").unwrap();
    shown(&rest[start..end]).trim().to_string()
}

/// The member rows shown: each member's email and tag labels, in table order.
fn rows(html: &str) -> Vec<(String, Vec<String>)> {
    html.split("<tr data-user-id=\"")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").expect("row end")];
            let email = row
                .split("data-email=\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .expect("the role select names the email")
                .to_string();
            let tags = row
                .split("<span class=\"tag-label\">")
                .skip(1)
                .map(|t| shown(&t[..t.find("</span>").unwrap()]))
                .collect();
            (email, tags)
        })
        .collect()
}

fn emails(html: &str) -> Vec<String> {
    let mut e: Vec<String> = rows(html).into_iter().map(|(e, _)| e).collect();
    e.sort();
    e
}

fn tags_of(html: &str, p: &Person) -> Vec<String> {
    rows(html)
        .into_iter()
        .find(|(e, _)| *e == p.email)
        .unwrap_or_else(|| panic!("{} has no row", p.email))
        .1
}

/// The options of the tag filter: (value, label, selected).
fn filter_options(html: &str) -> Vec<(String, String, bool)> {
    let Some(at) = html.find("id=\"tag-filter\"") else {
        return Vec::new();
    };
    let select = &html[at..at + html[at..].find("</select>").unwrap()];
    select
        .split("<option value=\"")
        .skip(1)
        .map(|o| {
            let value = o.split('"').next().unwrap().to_string();
            let label = shown(&o[o.find('>').unwrap() + 1..o.find("</option>").unwrap()]);
            (value, label, o[..o.find('>').unwrap()].contains("selected"))
        })
        .collect()
}

/// The organization's tags as the API lists them: (id, label, member_count).
async fn api_tags(org: &OrgFixture) -> Vec<(i64, String, i64)> {
    let r = org
        .owner_api()
        .get(&org.path("/member-tags?page_size=100"))
        .await
        .expect(200);
    results(&r.body)
        .iter()
        .map(|t| {
            (
                t["id"].as_i64().unwrap(),
                t["label"].as_str().unwrap().to_string(),
                t["member_count"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn tag_id(org: &OrgFixture, label: &str) -> i64 {
    api_tags(org)
        .await
        .into_iter()
        .find(|(_, l, _)| l == label)
        .unwrap_or_else(|| panic!("no tag {label}"))
        .0
}

/// The emails the API's member list gives for a query.
async fn api_emails(org: &OrgFixture, query: &str) -> Vec<String> {
    let r = org
        .owner_api()
        .get(&org.path(&format!("/memberships?page_size=100&{query}")))
        .await
        .expect(200);
    let mut e: Vec<String> = results(&r.body)
        .iter()
        .map(|m| m["user"]["email"].as_str().unwrap().to_string())
        .collect();
    e.sort();
    e
}

/// The address of the page link with `rel` (next or prev).
fn page_link(html: &str, rel: &str) -> String {
    let (before, _) = html
        .split_once(&format!("rel=\"{rel}\""))
        .unwrap_or_else(|| panic!("a {rel} link"));
    let href = before.rsplit("href=\"").next().unwrap();
    href[..href.find('"').unwrap()].replace("&amp;", "&")
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[tokio::test]
async fn the_owner_creates_assigns_filters_by_takes_off_and_deletes_tags_on_the_page() {
    let server = TestServer::start().await;
    let org = server.org("Tagged").await;
    let ann = org.member(Role::Annotator).await;
    let alan = org.member(Role::Annotator).await;
    let rita = org.member(Role::Reviewer).await;
    let owner = browser(&server, &org.owner.email).await;

    // No tags yet: no tag filter, nothing to add, and the create form.
    let page = owner.get("/organization").await.expect(200);
    assert!(page.text.contains("id=\"no-tags\""), "{}", page.text);
    assert!(filter_options(&page.text).is_empty());
    assert!(!page.text.contains("class=\"tag-add\""));
    assert!(page.text.contains("id=\"create-tag\""));

    // Create two tags; a label the organization has, in another case, is refused in words.
    let page = submit(&owner, "/organization/tags", &[("label", "Night shift")]).await;
    assert_eq!(status(&page.text), "The tag \"Night shift\" was created.");
    submit(&owner, "/organization/tags", &[("label", "QA")]).await;
    let page = submit(&owner, "/organization/tags", &[("label", "night SHIFT")]).await;
    assert!(
        status(&page.text).contains("already has the tag"),
        "{}",
        status(&page.text)
    );
    let night = tag_id(&org, "Night shift").await;
    let qa = tag_id(&org, "QA").await;
    assert_eq!(api_tags(&org).await.len(), 2);
    // The filter offers them by label, "All tags" chosen; the tag list has a Delete for each.
    assert_eq!(
        filter_options(&page.text),
        [
            ("".into(), "All tags".into(), false),
            (night.to_string(), "Night shift".into(), false),
            (qa.to_string(), "QA".into(), false),
        ]
    );
    for label in ["Night shift", "QA"] {
        assert!(page
            .text
            .contains(&format!("aria-label=\"Delete tag {label}\"")));
    }

    // Put them on members by label (in any case), from the member's row.
    let add = |p: &Person| format!("/organization/members/{}/tags", p.id.0);
    let page = submit(&owner, &add(&ann), &[("label", "night shift")]).await;
    assert_eq!(
        status(&page.text),
        format!("{} now has the tag \"Night shift\".", ann.email)
    );
    submit(&owner, &add(&ann), &[("label", "QA")]).await;
    submit(&owner, &add(&rita), &[("label", "Night shift")]).await;
    let page = submit(&owner, &add(&rita), &[("label", "Night Shift")]).await;
    assert_eq!(
        status(&page.text),
        format!("{} already has the tag \"Night shift\".", rita.email)
    );
    // Each row shows its member's tags, by label.
    assert_eq!(tags_of(&page.text, &ann), ["Night shift", "QA"]);
    assert_eq!(tags_of(&page.text, &rita), ["Night shift"]);
    assert!(tags_of(&page.text, &alan).is_empty());
    assert!(tags_of(&page.text, &org.owner).is_empty());
    // As the API shows them.
    assert_eq!(
        api_emails(&org, &format!("tags={night}")).await,
        sorted(vec![ann.email.clone(), rita.email.clone()])
    );

    // The tag filter: only the tagged members, the option chosen; combined with the role
    // filter and the search; the same members the API's `tags` filter gives.
    let page = owner
        .get(&format!("/organization?tags={night}"))
        .await
        .expect(200);
    assert_eq!(
        emails(&page.text),
        api_emails(&org, &format!("tags={night}")).await
    );
    assert!(page.text.contains("2 members"));
    assert!(filter_options(&page.text)
        .iter()
        .any(|(v, _, sel)| *v == night.to_string() && *sel));
    let page = owner
        .get(&format!("/organization?role=AN&tags={night}"))
        .await
        .expect(200);
    assert_eq!(emails(&page.text), [ann.email.as_str()]);
    let page = owner
        .get(&format!("/organization?role=AN&search=&tags={qa}&page=1"))
        .await
        .expect(200);
    assert_eq!(emails(&page.text), [ann.email.as_str()]);
    let page = owner
        .get(&format!(
            "/organization?search={}&tags={night}",
            &rita.email[..10]
        ))
        .await
        .expect(200);
    assert_eq!(emails(&page.text), [rita.email.as_str()]);
    // As the API's list, several ids mean members carrying any of them.
    let page = owner
        .get(&format!("/organization?tags={night},{qa}"))
        .await
        .expect(200);
    assert_eq!(
        emails(&page.text),
        api_emails(&org, &format!("tags={night},{qa}")).await
    );

    // Take one tag off a member: their other tag stays, and the page comes back to the list
    // the form was on.
    let back = format!("role=AN&search=&tags={qa}&page=1");
    let r = post_page(
        &owner,
        &format!("/organization/members/{}/tags/remove", ann.id.0),
        &[("tag", &night.to_string()), ("back", &back)],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(
        location(&r).starts_with(&format!("/organization?role=AN&tags={qa}&page=1&status=")),
        "{}",
        location(&r)
    );
    let page = owner.get(&location(&r)).await.expect(200);
    assert_eq!(
        status(&page.text),
        format!("The tag \"Night shift\" was taken off {}.", ann.email)
    );
    assert_eq!(tags_of(&page.text, &ann), ["QA"]);
    let page = owner.get("/organization").await.expect(200);
    assert_eq!(
        tags_of(&page.text, &rita),
        ["Night shift"],
        "others keep it"
    );
    // Taking off a tag the member does not have says so and changes nothing.
    let before = server.snapshot().await;
    let page = submit(
        &owner,
        &format!("/organization/members/{}/tags/remove", alan.id.0),
        &[("tag", &qa.to_string())],
    )
    .await;
    assert_eq!(
        status(&page.text),
        format!("{} does not have the tag \"QA\".", alan.email)
    );
    assert_eq!(server.snapshot().await, before);
    // The last tag comes off too.
    submit(
        &owner,
        &format!("/organization/members/{}/tags/remove", ann.id.0),
        &[("tag", &qa.to_string())],
    )
    .await;
    assert!(api_emails(&org, &format!("tags={qa}")).await.is_empty());

    // Deleting a tag takes it off every member; the list comes back without a tag filter.
    let r = post_page(
        &owner,
        &format!("/organization/tags/{night}/delete"),
        &[("back", &format!("role=&search=&tags={night}&page=1"))],
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.text);
    assert!(
        location(&r).starts_with("/organization?page=1&status="),
        "{}",
        location(&r)
    );
    let page = owner.get(&location(&r)).await.expect(200);
    assert_eq!(
        status(&page.text),
        "The tag \"Night shift\" was deleted and taken off its members."
    );
    assert!(tags_of(&page.text, &rita).is_empty());
    assert_eq!(
        api_tags(&org)
            .await
            .into_iter()
            .map(|t| t.1)
            .collect::<Vec<_>>(),
        ["QA"]
    );

    // Every change is the service's, with its audit event, recorded as from the pages.
    let events = recent_events(&org.owner_api(), 12).await;
    let tag_events: Vec<_> = events
        .iter()
        .filter(|(a, _)| a.starts_with("member_tag."))
        .collect();
    assert!(tag_events.len() >= 8, "{events:?}");
    assert!(tag_events.iter().all(|(_, s)| s == "ui"), "{events:?}");
    assert!(tag_events.iter().any(|(a, _)| a == "member_tag.deleted"));
    assert!(tag_events.iter().any(|(a, _)| a == "member_tag.assigned"));
}

#[tokio::test]
async fn the_tag_filter_is_kept_by_the_page_links_with_the_role_filter() {
    let server = TestServer::start().await;
    let org = server.org("Many").await;
    let owner_proof = server
        .service
        .operator_acting_as_owner::<roster_service::Admin>(org.id)
        .await
        .expect("owner");
    let people: Vec<ImportRow> = (0..64)
        .map(|i| ImportRow {
            line: i + 2,
            email: format!("{}{i:03}@example.com", if i < 57 { "crew" } else { "solo" }),
            first_name: format!("F{i}"),
            last_name: "L".into(),
            role: if i % 8 == 0 { "RE" } else { "AN" }.into(),
            projects: vec![],
            workspaces: vec![],
        })
        .collect();
    server
        .service
        .import_members(owner_proof.org().id, &people, false)
        .await
        .expect("imported");
    let owner = browser(&server, &org.owner.email).await;
    submit(&owner, "/organization/tags", &[("label", "crew")]).await;
    let crew = tag_id(&org, "crew").await;
    // The API's assignment by filter: every member whose email holds "crew".
    org.owner_api()
        .post(
            &org.path("/member-tags/assignments?search=crew"),
            json!({"all": true, "tags": [crew]}),
        )
        .await
        .expect(200);

    // 57 crew members: 50 on page 1, 7 on page 2, through the Next link.
    let page = owner
        .get(&format!("/organization?tags={crew}"))
        .await
        .expect(200);
    assert!(page.text.contains("57 members"), "{}", shown(&page.text));
    assert!(page.text.contains("Page 1 of 2"));
    let first = rows(&page.text);
    assert_eq!(first.len(), 50);
    assert!(first
        .iter()
        .all(|(e, t)| e.starts_with("crew") && t == &["crew"]));
    let next = page_link(&page.text, "next");
    assert_eq!(next, format!("/organization?tags={crew}&page=2"));
    let page = owner.get(&next).await.expect(200);
    let second = rows(&page.text);
    assert_eq!(second.len(), 7);
    assert!(second
        .iter()
        .all(|(e, t)| e.starts_with("crew") && t == &["crew"]));
    let prev = page_link(&page.text, "prev");
    assert_eq!(prev, format!("/organization?tags={crew}&page=1"));

    // With the role filter: the crew's Reviewers (every eighth of the 57), on one page.
    let page = owner
        .get(&format!("/organization?role=RE&tags={crew}"))
        .await
        .expect(200);
    let reviewers = emails(&page.text);
    assert_eq!(reviewers.len(), 8);
    assert_eq!(
        reviewers,
        api_emails(&org, &format!("role=RE&tags={crew}")).await
    );
    assert!(page.text.contains("Page 1 of 1"));
}

#[tokio::test]
async fn managers_and_below_cannot_open_the_page_or_post_its_tag_forms() {
    let server = TestServer::start().await;
    let org = server.org("Guarded").await;
    let target = org.member(Role::Annotator).await;
    let admin = member_browser(&server, &org, Role::Administrator).await;
    // An Administrator manages tags as the Owner does.
    submit(&admin, "/organization/tags", &[("label", "red")]).await;
    let red = tag_id(&org, "red").await;
    let page = submit(
        &admin,
        &format!("/organization/members/{}/tags", target.id.0),
        &[("label", "red")],
    )
    .await;
    assert_eq!(tags_of(&page.text, &target), ["red"]);

    let mut others = Vec::new();
    for role in [Role::Manager, Role::Reviewer, Role::Annotator] {
        others.push((role, member_browser(&server, &org, role).await));
    }
    let before = server.snapshot().await;
    for (role, b) in others {
        let r = b.get("/organization").await.expect(403);
        assert!(
            r.text.contains("Only Owners and Administrators"),
            "{}",
            r.text
        );
        assert!(!r.text.contains("id=\"create-tag\""));
        let tag = red.to_string();
        let posts: [(String, Vec<(&str, &str)>); 4] = [
            ("/organization/tags".into(), vec![("label", "blue")]),
            (format!("/organization/tags/{red}/delete"), vec![]),
            (
                format!("/organization/members/{}/tags", target.id.0),
                vec![("label", "red")],
            ),
            (
                format!("/organization/members/{}/tags/remove", target.id.0),
                vec![("tag", tag.as_str())],
            ),
        ];
        for (path, fields) in posts {
            let r = post_page(&b, &path, &fields).await;
            assert_eq!(r.status, 403, "{role:?} {path}: {}", r.text);
        }
    }
    assert_eq!(
        server.snapshot().await,
        before,
        "refused posts change nothing"
    );
}

#[tokio::test]
async fn tag_forms_without_the_csrf_token_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Forged").await;
    let target = org.member(Role::Annotator).await;
    let mut owner = browser(&server, &org.owner.email).await;
    submit(&owner, "/organization/tags", &[("label", "red")]).await;
    let red = tag_id(&org, "red").await.to_string();
    owner.csrf = None; // neither the form field nor the header
    let before = server.snapshot().await;
    for (path, fields) in [
        ("/organization/tags".to_string(), vec![("label", "blue")]),
        (format!("/organization/tags/{red}/delete"), vec![]),
        (
            format!("/organization/members/{}/tags", target.id.0),
            vec![("label", "red")],
        ),
    ] {
        let r = owner.post_form(&path, &fields).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    assert_eq!(server.snapshot().await, before);
}

#[tokio::test]
async fn bad_tag_input_on_the_page_is_refused_in_words_and_changes_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Careful").await;
    let other = server.org("Other").await;
    let theirs = other
        .owner_api()
        .post(&other.path("/member-tags"), json!({"label": "theirs"}))
        .await
        .expect(201)
        .body["id"]
        .as_i64()
        .unwrap();
    let target = org.member(Role::Annotator).await;
    let owner = browser(&server, &org.owner.email).await;
    submit(&owner, "/organization/tags", &[("label", "<b>VIP</b>")]).await;
    let vip = tag_id(&org, "<b>VIP</b>").await;
    submit(
        &owner,
        &format!("/organization/members/{}/tags", target.id.0),
        &[("label", "<b>vip</b>")],
    )
    .await;
    // A label is text on the page, never markup.
    let page = owner.get("/organization").await.expect(200);
    assert!(!page.text.contains("<b>VIP</b>"));
    assert!(page.text.contains("&lt;b&gt;VIP&lt;/b&gt;"));
    assert_eq!(tags_of(&page.text, &target), ["<b>VIP</b>"]);

    // The filter's values are read as the API reads them: a 400 page, in words.
    for (query, words) in [
        ("tags=abc", "\"abc\" is not an id"),
        ("tags=999999", "no member tag 999999 in this organization"),
        (&format!("tags={theirs}") as &str, "in this organization"),
        ("role=XX", "\"XX\" is not a role"),
    ] {
        let r = owner
            .get(&format!("/organization?{query}"))
            .await
            .expect(400);
        assert!(
            r.text.contains("<html") || r.text.contains("<!DOCTYPE"),
            "a page"
        );
        assert!(
            shown(&r.text).contains(words),
            "{query}: {}",
            shown(&r.text)
        );
    }

    let before = server.snapshot().await;
    let member = |rest: &str| format!("/organization/members/{}{rest}", target.id.0);
    let too_long = "x".repeat(101);
    let their_id = theirs.to_string();
    for (path, fields, words) in [
        (
            "/organization/tags".to_string(),
            vec![("label", "  ")],
            "must not be empty",
        ),
        (
            "/organization/tags".to_string(),
            vec![("label", too_long.as_str())],
            "at most 100 characters",
        ),
        (
            "/organization/tags".to_string(),
            vec![("label", "<B>vip</B>")],
            "already has the tag",
        ),
        (
            member("/tags"),
            vec![("label", "Day shift")],
            "has no tag \"Day shift\"",
        ),
        (
            member("/tags"),
            vec![("label", "theirs")],
            "has no tag \"theirs\"",
        ),
        (
            "/organization/members/999999/tags".to_string(),
            vec![("label", "<b>VIP</b>")],
            "No member with user id 999999",
        ),
        (
            member("/tags/remove"),
            vec![("tag", "x")],
            "No member tag \"x\"",
        ),
        (
            member("/tags/remove"),
            vec![("tag", their_id.as_str())],
            "No member tag",
        ),
        (
            format!("/organization/tags/{theirs}/delete"),
            vec![],
            "No member tag",
        ),
        (
            "/organization/tags/nope/delete".to_string(),
            vec![],
            "No member tag",
        ),
    ] {
        let page = submit(&owner, &path, &fields).await;
        assert!(
            status(&page.text).contains(words),
            "{path} {fields:?}: {}",
            status(&page.text)
        );
    }
    assert_eq!(server.snapshot().await, before, "refusals change nothing");
    // The other organization's tag is untouched, and ours is still on the member.
    assert_eq!(api_tags(&other).await.len(), 1);
    assert_eq!(api_tags(&org).await, [(vip, "<b>VIP</b>".to_string(), 1)]);
}
