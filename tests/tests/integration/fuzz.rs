//! The fuzz targets' CI smoke on stable Rust: every file of fuzz/corpus/<target>/ and a fixed
//! set of generated inputs (mutations of those files, arbitrary text and JSON) go through the
//! very functions libFuzzer runs (fuzz/src/lib.rs), which assert each parser's contract; the
//! bodies a client posts go through a live server too: never a 5xx, and a refusal changes
//! nothing. Long coverage-guided runs are `cargo fuzz` (fuzz/README.md).

use std::collections::BTreeMap;
use std::future::Future;
use std::path::Path;

use base64::Engine;
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use roster_tests::{encode, json, Api, OrgFixture, Resp, TestServer};
use serde_json::Value;

#[path = "../../../fuzz/src/lib.rs"]
mod targets;

/// Generated inputs per parser, on top of its corpus.
const GENERATED: usize = 2000;
/// Generated bodies per HTTP family: each costs requests, so fewer.
const GENERATED_HTTP: usize = 400;
/// One refusal in this many is bracketed by snapshots (a snapshot reads every table).
const SNAPSHOT_EVERY: usize = 15;

/// Text that parsers of filters, paths, JSON, XML, forms and CSV treat specially.
const TOKENS: &[&str] = &[
    "\"",
    "\\",
    "(",
    ")",
    "[",
    "]",
    " and ",
    " or ",
    "not ",
    " pr",
    " eq ",
    " co ",
    ".",
    ":",
    "\\u00",
    "\\ud800",
    "{",
    "}",
    ",",
    "null",
    "true",
    "1e309",
    "-0",
    "<",
    ">",
    "/>",
    "&amp;",
    "&#0;",
    "<![CDATA[",
    "<!--",
    "<!DOCTYPE x>",
    "<?pi?>",
    "xmlns:x=\"urn:x\"",
    "%",
    "%00",
    "%C3",
    "=",
    "&",
    "+",
    "\r\n",
    "\n",
    ";",
    "bulkId:",
    "bulkId:qwerty",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "é",
    "\u{0}",
    "\u{202e}",
    "\u{feff}",
    "=&=",
];
const JSON_KEYS: &[&str] = &[
    "schemas",
    "Operations",
    "op",
    "path",
    "value",
    "method",
    "bulkId",
    "data",
    "version",
    "failOnErrors",
    "userName",
    "emails",
    "type",
    "primary",
    "members",
    "active",
    "displayName",
    "name",
    "givenName",
    "externalId",
    "email",
    "password",
    "code",
    "next",
    "first_name",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
];
const JSON_STRINGS: &[&str] = &[
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "urn:ietf:params:scim:api:messages:2.0:BulkRequest",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "add",
    "Remove",
    "replace",
    "POST",
    "patch",
    "DELETE",
    "/Users",
    "/Groups/1",
    "/Users/bulkId:qwerty",
    "members[value eq \"1\"]",
    "emails[type eq \"work\"].value",
    "name.givenName",
    "False",
    "True",
    "ann@example.com",
    "bulkId:qwerty",
    "",
];

#[derive(Debug, Clone)]
enum Edit {
    Insert(Index, String),
    Remove(Index, usize),
    Byte(Index, u8),
    Repeat(Index, usize),
}

impl Edit {
    fn apply(&self, s: &mut Vec<u8>) {
        let at = |i: &Index| if s.is_empty() { 0 } else { i.index(s.len()) };
        match self {
            Edit::Insert(i, text) => {
                let at = at(i);
                s.splice(at..at, text.bytes());
            }
            Edit::Remove(i, n) => {
                let at = at(i);
                s.drain(at..(at + n).min(s.len()));
            }
            Edit::Byte(i, b) if !s.is_empty() => {
                let at = at(i);
                s[at] = *b;
            }
            Edit::Byte(..) => {}
            Edit::Repeat(i, n) => {
                let at = at(i);
                let chunk = s[at..(at + n).min(s.len())].to_vec();
                s.splice(at..at, chunk);
            }
        }
    }
}

fn edit() -> impl Strategy<Value = Edit> {
    let text = prop_oneof![select(TOKENS).prop_map(str::to_owned), "\\PC{1,4}"];
    prop_oneof![
        (any::<Index>(), text).prop_map(|(i, t)| Edit::Insert(i, t)),
        (any::<Index>(), 1usize..24).prop_map(|(i, n)| Edit::Remove(i, n)),
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Edit::Byte(i, b)),
        (any::<Index>(), 1usize..64).prop_map(|(i, n)| Edit::Repeat(i, n)),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        select(JSON_STRINGS).prop_map(Value::from),
        "\\PC{0,16}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 32, 4, |inner| {
        let key = prop_oneof![
            select(JSON_KEYS).prop_map(str::to_owned),
            "[A-Za-z.:]{0,10}"
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..4)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    })
}

/// Replaces the node `walk` leads to (each step picks a child) with `new`.
fn replace_at(value: &mut Value, walk: &[Index], new: Value) {
    match (value, walk.split_first()) {
        (Value::Array(items), Some((i, rest))) if !items.is_empty() => {
            let at = i.index(items.len());
            replace_at(&mut items[at], rest, new)
        }
        (Value::Object(map), Some((i, rest))) if !map.is_empty() => {
            let at = i.index(map.len());
            let (_, child) = map.iter_mut().nth(at).expect("in range");
            replace_at(child, rest, new)
        }
        (value, _) => *value = new,
    }
}

/// A seed with one of its JSON nodes replaced; a seed that is not JSON gets the new value's
/// text inserted instead.
fn json_edit(seed: &[u8], walk: &[Index], new: Value) -> Vec<u8> {
    match serde_json::from_slice::<Value>(seed) {
        Ok(mut doc) => {
            replace_at(&mut doc, walk, new);
            doc.to_string().into_bytes()
        }
        Err(_) => {
            let mut out = seed.to_vec();
            let at = walk.first().map_or(0, |i| i.index(out.len() + 1));
            out.splice(at..at, new.to_string().into_bytes());
            out
        }
    }
}

/// The corpus files of `target` (sorted by name), then `generated` inputs made from them or
/// from nothing, the same on every run.
fn inputs(target: &str, generated: usize) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    let corpus: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(f).expect("a corpus file"))
        .collect();
    assert!(!corpus.is_empty(), "{} has no corpus", dir.display());

    let byte_edits = (select(corpus.clone()), prop::collection::vec(edit(), 1..6)).prop_map(
        |(mut seed, edits)| {
            edits.iter().for_each(|e| e.apply(&mut seed));
            seed
        },
    );
    let json_edits = (
        select(corpus.clone()),
        prop::collection::vec(any::<Index>(), 0..5),
        json_value(),
    )
        .prop_map(|(seed, walk, new)| json_edit(&seed, &walk, new));
    let strategy = prop_oneof![
        4 => byte_edits,
        3 => json_edits,
        1 => "\\PC{0,80}".prop_map(String::into_bytes),
        1 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..80),
    ];
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(RngAlgorithm::ChaCha),
    );
    let made = (0..generated).map(|_| strategy.new_tree(&mut runner).expect("an input").current());
    corpus.iter().cloned().chain(made).collect()
}

/// Runs `target` over its corpus and generated inputs; a panic names the input.
fn replay(target: &str, check: fn(&[u8])) {
    for input in inputs(target, GENERATED) {
        let outcome = std::panic::catch_unwind(|| check(&input));
        assert!(
            outcome.is_ok(),
            "the {target} target panicked on {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn scim_filters_parse_or_refuse_and_what_parses_renders_back_to_itself() {
    replay("scim_filter", targets::scim_filter);
}

#[test]
fn patch_paths_parse_or_refuse_and_what_parses_renders_back_to_itself() {
    replay("scim_path", targets::scim_path);
}

#[test]
fn patch_bodies_are_read_and_applied_or_refused_without_panicking() {
    replay("scim_patch", targets::scim_patch);
}

#[test]
fn bulk_bodies_are_read_and_planned_to_run_every_operation_once() {
    replay("scim_bulk", targets::scim_bulk);
}

#[test]
fn scim_user_and_group_bodies_are_read_or_refused() {
    replay("scim_resource", targets::scim_resource);
}

#[test]
fn saml_responses_verify_only_from_the_trusted_idp_or_are_refused() {
    replay("saml_response", targets::saml_response);
}

#[test]
fn idp_metadata_reads_with_an_entity_id_and_a_certificate_or_is_refused() {
    replay("saml_metadata", targets::saml_metadata);
}

#[test]
fn sign_in_and_sign_up_bodies_read_or_are_refused_with_a_400() {
    replay("sign_in_forms", targets::sign_in_forms);
}

#[test]
fn member_import_files_read_or_are_refused() {
    replay("import_csv", targets::import_csv);
}

#[test]
fn tag_import_files_read_or_are_refused() {
    replay("tags_csv", targets::tags_csv);
}

/// Sends each input of `target` (corpus, then generated) with `send`, which may make several
/// requests of it: none answers 5xx, and every `SNAPSHOT_EVERY`-th input that was refused
/// (4xx) throughout left every table as it was. Returns how often each status was answered,
/// so a caller can tell that the bodies reached the parser (not all 401, say).
async fn replay_http<F, Fut>(server: &TestServer, target: &str, send: F) -> BTreeMap<u16, usize>
where
    F: Fn(Vec<u8>) -> Fut,
    Fut: Future<Output = Vec<(&'static str, Resp)>>,
{
    let mut statuses = BTreeMap::new();
    for (n, input) in inputs(target, GENERATED_HTTP).into_iter().enumerate() {
        let shown = String::from_utf8_lossy(&input).into_owned();
        let before = match n % SNAPSHOT_EVERY {
            0 => Some(server.snapshot().await),
            _ => None,
        };
        let answers = send(input).await;
        for (what, r) in &answers {
            *statuses.entry(r.status).or_insert(0) += 1;
            assert!(
                r.status < 500,
                "{what} answered {} to {shown:?}: {}",
                r.status,
                r.text
            );
        }
        if let Some(before) = before {
            if answers.iter().all(|(_, r)| (400..500).contains(&r.status)) {
                assert_eq!(
                    server.snapshot().await,
                    before,
                    "a refused {target} input changed something: {shown:?}"
                );
            }
        }
    }
    eprintln!("{target}: answers by status {statuses:?}");
    statuses
}

/// Some inputs were read and taken (2xx, or a form's 303) and some refused as malformed
/// (400): the bodies reached the parser rather than stopping at authentication.
#[track_caller]
fn taken_and_refused(statuses: &BTreeMap<u16, usize>) {
    assert!(
        statuses.keys().any(|s| (200..400).contains(s)),
        "{statuses:?}"
    );
    assert!(statuses.contains_key(&400), "{statuses:?}");
}

const FORM: &str = "application/x-www-form-urlencoded";

async fn post_bytes(api: &Api, path: &str, content_type: &str, body: &[u8]) -> Resp {
    api.send(
        reqwest::Method::POST,
        path,
        Some((content_type, body.to_vec())),
        &[],
    )
    .await
}

#[tokio::test]
async fn sign_in_and_sign_up_posts_never_fail_the_server_and_refusals_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Forms").await;
    let signup = format!("/user/signup?token={}", org.invite_token().await);
    let anon = server.anonymous();
    let (anon, signup) = (&anon, signup.as_str());
    let statuses = replay_http(&server, "sign_in_forms", |body| async move {
        let mut answers = Vec::new();
        for ct in [FORM, "application/json"] {
            answers.push(("login", post_bytes(anon, "/user/login", ct, &body).await));
            answers.push(("signup", post_bytes(anon, signup, ct, &body).await));
        }
        answers
    })
    .await;
    taken_and_refused(&statuses);
}

/// The organization's identity provider, with a SCIM token, one User and one Group to patch.
async fn scim_client(org: &OrgFixture) -> (Api, String, String) {
    let idp = org.idp().await;
    let user = idp
        .post(
            "/scim/v2/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "target@example.com", "active": true}),
        )
        .await
        .expect(201);
    let group = idp
        .post(
            "/scim/v2/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                   "displayName": "Fuzzed", "members": [{"value": user.body["id"]}]}),
        )
        .await
        .expect(201);
    let id = |r: &Resp| r.body["id"].as_str().expect("an id").to_owned();
    (idp, id(&user), id(&group))
}

const SCIM_JSON: &str = "application/scim+json";

#[tokio::test]
async fn scim_bodies_and_filters_never_fail_the_server_and_refusals_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Scim").await;
    let (idp, user, group) = scim_client(&org).await;
    let idp = &idp;
    let (user, group) = (
        format!("/scim/v2/Users/{user}"),
        format!("/scim/v2/Groups/{group}"),
    );
    let (user, group) = (user.as_str(), group.as_str());
    let patch = |path: &'static str| {
        move |body: Vec<u8>| async move {
            let to = if path == "user" { user } else { group };
            let r = idp
                .send(reqwest::Method::PATCH, to, Some((SCIM_JSON, body)), &[])
                .await;
            vec![(path, r)]
        }
    };
    taken_and_refused(&replay_http(&server, "scim_patch", patch("user")).await);
    taken_and_refused(&replay_http(&server, "scim_patch", patch("group")).await);
    let statuses = replay_http(&server, "scim_resource", |body| async move {
        vec![
            (
                "users",
                post_bytes(idp, "/scim/v2/Users", SCIM_JSON, &body).await,
            ),
            (
                "groups",
                post_bytes(idp, "/scim/v2/Groups", SCIM_JSON, &body).await,
            ),
        ]
    })
    .await;
    taken_and_refused(&statuses);
    let statuses = replay_http(&server, "scim_bulk", |body| async move {
        vec![(
            "bulk",
            post_bytes(idp, "/scim/v2/Bulk", SCIM_JSON, &body).await,
        )]
    })
    .await;
    taken_and_refused(&statuses);
    let statuses = replay_http(&server, "scim_filter", |filter| async move {
        let filter = encode(&String::from_utf8_lossy(&filter));
        vec![
            (
                "users",
                idp.get(&format!("/scim/v2/Users?filter={filter}")).await,
            ),
            (
                "groups",
                idp.get(&format!("/scim/v2/Groups?filter={filter}")).await,
            ),
        ]
    })
    .await;
    taken_and_refused(&statuses);
}

#[tokio::test]
async fn saml_posts_to_the_acs_never_fail_the_server_and_refusals_change_nothing() {
    let server = TestServer::start().await;
    let org = server.org("Saml").await;
    crate::scim::verify(&server, &org, "example.com").await;
    org.owner_api()
        .post(
            "/api/saml/settings",
            json!({
                "metadata_xml": include_str!("../../../crates/saml/testdata/idp_metadata.xml"),
                "domain": "example.com",
            }),
        )
        .await
        .expect(200);
    let settings = org.owner_api().get("/api/saml/settings").await.expect(200);
    let acs_url = settings.body["acs_url"].as_str().expect("acs_url");
    let acs = &acs_url[acs_url.find("/saml/").expect("an ACS path")..];
    let idp_site = server.anonymous();
    let idp_site = &idp_site;
    let statuses = replay_http(&server, "saml_response", |xml| async move {
        let response = base64::engine::general_purpose::STANDARD.encode(xml);
        let body = format!("SAMLResponse={}&RelayState=%2F", encode(&response));
        let r = idp_site
            .send(
                reqwest::Method::POST,
                acs,
                Some((FORM, body.into_bytes())),
                &[("Origin", "https://idp.test")],
            )
            .await;
        vec![("acs", r)]
    })
    .await;
    // The fixtures were signed for another service provider: nothing signs anyone in here.
    assert!(
        statuses.keys().all(|s| (400..500).contains(s)),
        "{statuses:?}"
    );
}
