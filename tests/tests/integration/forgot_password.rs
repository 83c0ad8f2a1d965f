//! "Forgot your password?" through HTTP: a one-time link mailed to the SMTP sink that works
//! once and for an hour, the same answer whether or not an address has an account, no mail for
//! accounts that sign in through single sign-on only, nothing stored anywhere when the server
//! sends no mail, and throttling like sign-in's.

use std::time::Duration;

use roster_domain::Role;
use roster_service::{ServiceConfig, ThrottleConfig};
use roster_tests::smtp::{link_in, SmtpSink};
use roster_tests::{json, Api, OrgFixture, Person, Resp, TestServer, PASSWORD};

use crate::sso_only::{member_with_password, sso_only_acme};

const ON_ITS_WAY: &str =
    "If an account uses that address, a link to set a new password is on its way.";
const ASK_AN_ADMINISTRATOR: &str = "Password reset by email is not set up on this server: ask an \
     administrator of your organization or the server&#x27;s operator to set a new password.";
const NEW_PASSWORD: &str = "a brand new long password";

async fn mailing_server(sink: &SmtpSink) -> TestServer {
    TestServer::start_with(ServiceConfig {
        mail: Some(sink.config()),
        ..ServiceConfig::default()
    })
    .await
}

/// Asks for a link through the page's form.
async fn ask(client: &Api, email: &str) -> Resp {
    client
        .post_form("/user/forgot-password", &[("email", email)])
        .await
}

/// The set-password link of the one message to `email` among `messages`.
fn link_to(server: &TestServer, messages: &[String], email: &str) -> String {
    let to: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains(&format!("To: {email}")))
        .collect();
    assert_eq!(to.len(), 1, "one message to {email}: {messages:?}");
    let link = link_in(to[0]);
    let path = link
        .strip_prefix(&server.url)
        .unwrap_or_else(|| panic!("{link} points at this server"));
    assert!(path.starts_with("/user/set-password?token="), "{path}");
    path.to_string()
}

async fn member(org: &OrgFixture, role: Role) -> Person {
    member_with_password(org, role).await
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_signs_the_account_out_elsewhere() {
    let sink = SmtpSink::start().await;
    let server = mailing_server(&sink).await;
    let org = server.org("Forgetful Org").await;
    let ann = member(&org, Role::Annotator).await;
    let mut elsewhere = server.browser();
    elsewhere.sign_in(&ann.email, PASSWORD).await.expect(200);

    let login = server.anonymous().get("/user/login").await.expect(200);
    assert!(
        login
            .text
            .contains(r#"<a href="/user/forgot-password">Forgot your password?</a>"#),
        "{}",
        login.text
    );
    let page = server
        .anonymous()
        .get("/user/forgot-password")
        .await
        .expect(200);
    assert!(page.text.contains(r#"<label for="email">Email</label>"#));
    assert!(page.text.contains(r#"action="/user/forgot-password""#));

    let browser = server.browser();
    let asked = ask(&browser, &ann.email.to_uppercase()).await.expect(200);
    assert!(asked.text.contains(ON_ITS_WAY), "{}", asked.text);
    let messages = sink.wait_for(1).await;
    assert!(
        messages[0].contains("Subject: Set a new password"),
        "{}",
        messages[0]
    );
    let path = link_to(&server, &messages, &ann.email);
    let token = path.split("token=").nth(1).expect("token");
    let stored = format!("SELECT COUNT(*) FROM password_tokens WHERE token_hash = '{token}'");
    assert_eq!(server.sql_int(&stored).await, 0, "only a hash is stored");

    let form = browser.get(&path).await.expect(200);
    assert!(form.text.contains("Set your password"), "{}", form.text);
    let set = browser
        .post_form(
            "/user/set-password",
            &[("token", token), ("password", NEW_PASSWORD)],
        )
        .await
        .expect(200);
    assert!(set.text.contains("Your password is set"), "{}", set.text);

    // The session that knew the old password is over; the new password signs in, the old not.
    elsewhere.get("/api/current-user").await.expect(401);
    server
        .browser()
        .sign_in(&ann.email, PASSWORD)
        .await
        .expect(401);
    server.advance(Duration::from_secs(2)); // the wrong password's delay
    server
        .browser()
        .sign_in(&ann.email, NEW_PASSWORD)
        .await
        .expect(200);

    // Once used, the link is refused, on its page and when posted again.
    let again = browser.get(&path).await.expect(404);
    assert!(
        again.text.contains("expired or was already used"),
        "{}",
        again.text
    );
    let twice = browser
        .post_form(
            "/user/set-password",
            &[("token", token), ("password", "yet another password")],
        )
        .await
        .expect(404);
    assert!(
        twice.text.contains("expired or was already used"),
        "{}",
        twice.text
    );
    server
        .browser()
        .sign_in(&ann.email, NEW_PASSWORD)
        .await
        .expect(200);
}

#[tokio::test]
async fn a_link_lasts_an_hour_and_setting_a_password_spends_the_other_links() {
    let sink = SmtpSink::start().await;
    let server = mailing_server(&sink).await;
    let org = server.org("Hourly Org").await;
    let bea = member(&org, Role::Reviewer).await;
    let client = server.anonymous();

    ask(&client, &bea.email).await.expect(200);
    let first = link_to(&server, &sink.wait_for(1).await, &bea.email);
    server.advance(Duration::from_secs(61 * 60));
    client.get(&first).await.expect(404);

    ask(&client, &bea.email).await.expect(200);
    server.advance(Duration::from_secs(60));
    ask(&client, &bea.email).await.expect(200);
    let messages = sink.wait_for(3).await;
    let links: Vec<String> = messages[1..]
        .iter()
        .map(|m| {
            link_in(m)
                .strip_prefix(&server.url)
                .expect("this server")
                .to_string()
        })
        .collect();
    assert_ne!(links[0], links[1]);
    let token = links[1].split("token=").nth(1).expect("token");
    client
        .post(
            "/user/set-password",
            json!({"token": token, "password": NEW_PASSWORD}),
        )
        .await
        .expect(200);
    client.get(&links[0]).await.expect(404);
}

#[tokio::test]
async fn unknown_deactivated_and_single_sign_on_only_accounts_get_the_same_answer_and_no_mail() {
    let sink = SmtpSink::start().await;
    let server = mailing_server(&sink).await;
    let acme = server.org("Acme").await;
    let sso_member = member(&acme, Role::Annotator).await;
    let both = member(&acme, Role::Reviewer).await;
    sso_only_acme(&server, &acme).await;
    let open = server.org("Open Org").await;
    open.add_existing(&both, Role::Annotator).await;
    let dora = member(&open, Role::Annotator).await;
    open.set_role(&dora, Role::Deactivated).await;
    let tokens = "SELECT COUNT(*) FROM password_tokens WHERE used_at IS NULL";
    let before = server.sql_int(tokens).await;

    let client = server.anonymous();
    let mut answers = Vec::new();
    for email in [
        "nobody-here@example.com",
        &acme.owner.email,
        &sso_member.email,
        &dora.email,
    ] {
        answers.push(ask(&client, email).await.expect(200).text);
    }
    // The control: an account that signs in with a password somewhere gets its link.
    let control = ask(&client, &both.email).await.expect(200).text;
    for answer in &answers {
        assert_eq!(answer, &control, "the same page whoever asks");
    }
    let json = client
        .post(
            "/user/forgot-password",
            json!({"email": "nobody-here-either@example.com"}),
        )
        .await
        .expect(200);
    assert_eq!(json.body["by_mail"], true);

    let messages = sink.wait_for(1).await;
    link_to(&server, &messages, &both.email);
    // The requests before the control's were handled before it; give any stray mail a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(sink.messages().len(), 1, "{:?}", sink.messages());
    assert_eq!(server.sql_int(tokens).await, before + 1, "one link made");
}

#[tokio::test]
async fn without_smtp_the_page_says_to_ask_an_administrator_and_nothing_is_stored() {
    let server = TestServer::start().await;
    let org = server.org("Unmailed Org").await;
    let cy = member(&org, Role::Annotator).await;
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    let tables = ["invites", "password_tokens", "audit_events", "throttle"];
    let mut before = Vec::new();
    for t in tables {
        before.push(server.sql_int(&count(t)).await);
    }

    let page = server
        .anonymous()
        .get("/user/forgot-password")
        .await
        .expect(200);
    assert!(page.text.contains(ASK_AN_ADMINISTRATOR), "{}", page.text);
    assert!(
        !page.text.contains(r#"name="email""#),
        "no form that cannot work"
    );
    let asked = ask(&server.anonymous(), &cy.email).await.expect(200);
    assert!(asked.text.contains(ASK_AN_ADMINISTRATOR), "{}", asked.text);
    let json = server
        .anonymous()
        .post("/user/forgot-password", json!({"email": cy.email}))
        .await
        .expect(200);
    assert_eq!(json.body["by_mail"], false);
    assert!(json.body["detail"]
        .as_str()
        .expect("detail")
        .starts_with("Password reset by email is not set up on this server"));

    for (t, was) in tables.iter().zip(before) {
        assert_eq!(server.sql_int(&count(t)).await, was, "{t} unchanged");
    }
    let outbox = org.owner_api().get("/api/invites/").await.expect(200);
    assert_eq!(outbox.body["count"], 0, "{}", outbox.text);
}

#[tokio::test]
async fn asking_again_and_again_is_throttled_per_address_without_slowing_sign_in() {
    let sink = SmtpSink::start().await;
    let server = TestServer::start_with(ServiceConfig {
        mail: Some(sink.config()),
        throttle: ThrottleConfig {
            address_free_failures: 3,
            ..ServiceConfig::default().throttle
        },
        ..ServiceConfig::default()
    })
    .await;
    let org = server.org("Throttled Org").await;
    let dee = member(&org, Role::Annotator).await;
    let client = server.anonymous();

    // The same address asking again for the same email waits.
    ask(&client, &dee.email).await.expect(200);
    let again = ask(&client, &dee.email).await.expect(429);
    assert_eq!(again.headers["retry-after"], "1");
    assert!(again.text.contains("try again in 1 s"), "{}", again.text);
    assert!(again.text.contains(r#"name="email""#), "the form again");

    // Past its allowance (3 requests) the address waits whatever email it names.
    ask(&client, "one@example.com").await.expect(200);
    ask(&client, "two@example.com").await.expect(200);
    let over = ask(&client, "three@example.com").await.expect(429);
    assert!(over.headers.contains_key("retry-after"));
    let json = client
        .post(
            "/user/forgot-password",
            json!({"email": "four@example.com"}),
        )
        .await
        .expect(429);
    assert!(json.body["detail"].is_string(), "{}", json.text);

    // Another address is not held back, and sign-in from the busy address is not slowed.
    ask(&client.from_address([127, 0, 0, 2]), &dee.email)
        .await
        .expect(200);
    server
        .browser()
        .sign_in(&dee.email, PASSWORD)
        .await
        .expect(200);
    assert_eq!(sink.wait_for(2).await.len(), 2);
}

#[tokio::test]
async fn the_form_is_refused_from_another_site_and_checks_the_address() {
    let sink = SmtpSink::start().await;
    let server = mailing_server(&sink).await;
    let foreign = server
        .anonymous()
        .send(
            reqwest::Method::POST,
            "/user/forgot-password",
            Some((
                "application/x-www-form-urlencoded",
                b"email=someone%40example.com".to_vec(),
            )),
            &[("Origin", "https://evil.example")],
        )
        .await
        .expect(403);
    assert!(
        foreign.text.contains("sent from another site"),
        "{}",
        foreign.text
    );
    let bad = ask(&server.anonymous(), "not an address").await.expect(400);
    assert!(
        bad.text.contains("Enter a valid email address."),
        "{}",
        bad.text
    );
    assert!(
        bad.text.contains(r#"value="not an address""#),
        "{}",
        bad.text
    );
}
