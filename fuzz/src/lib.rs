//! One function per fuzz target: the bytes go to the very parse function the product calls,
//! and each parser's contract is asserted (a panic is a finding). libFuzzer runs these from
//! `fuzz_targets/`, and the CI smoke (tests/tests/integration/fuzz.rs) includes this file to
//! replay the corpus and generated inputs through the same code on stable Rust.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use base64::Engine;
use roster_domain::scim::bulk::{self, Method, Target};
use roster_domain::scim::filter::MAX_LEN;
use roster_domain::scim::patch;
use roster_domain::scim::resource::{normalize_group, normalize_patched_user, normalize_user};
use roster_domain::scim::schema::ResourceKind;
use roster_domain::scim::{Filter, FilterError, PatchPath, PathError};
use roster_http::api::session::{LoginBody, SignupBody};
use roster_http::extract::{parse_form, parse_json};
use serde_json::{json, Value};

/// The SCIM filter of `?filter=` (and of `/.search`): what parses renders to a canonical text
/// that parses back to the same tree.
pub fn scim_filter(data: &[u8]) {
    if let Some((text, filter)) = parsed::<Filter>(data) {
        renders_back(text, &filter, FilterError::TooLong);
    }
}

/// A PATCH operation's `path`: what parses renders to a text that parses back the same.
pub fn scim_path(data: &[u8]) {
    if let Some((text, path)) = parsed::<PatchPath>(data) {
        renders_back(text, &path, PathError::TooLong);
    }
}

fn parsed<T: FromStr>(data: &[u8]) -> Option<(&str, T)> {
    let text = std::str::from_utf8(data).ok()?;
    Some((text, text.parse().ok()?))
}

/// The canonical text of `parsed` reads back equal. A text near the length cap may render
/// past it (`not(` gains a space; Entra's `emails[type eq "work"].value eq "x"` is written
/// inside the brackets) and is then refused for its length alone.
fn renders_back<T>(text: &str, parsed: &T, too_long: fn(usize) -> T::Err)
where
    T: FromStr + fmt::Display + PartialEq + fmt::Debug,
    T::Err: PartialEq + fmt::Debug,
{
    let canonical = parsed.to_string();
    match canonical.parse::<T>() {
        Ok(again) => assert_eq!(
            &again, parsed,
            "{text:?} renders as {canonical:?}, which reads back otherwise"
        ),
        Err(e) => assert!(
            canonical.len() > MAX_LEN && e == too_long(canonical.len()),
            "{text:?} renders as {canonical:?}, which is refused: {e:?}"
        ),
    }
}

/// A User as roster serves it: what a PATCH is applied to.
fn user_document() -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": "ann@example.com",
        "externalId": "00u1",
        "name": {"givenName": "Ann", "familyName": "Lee"},
        "displayName": "Ann Lee",
        "emails": [
            {"value": "ann@example.com", "type": "work", "primary": true},
            {"value": "ann@home.example", "type": "home"}
        ],
        "phoneNumbers": [{"value": "+1 555 0100", "type": "work"}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "7", "department": "Labels", "manager": {"value": "2"}
        }
    })
}

fn group_document() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Labelers",
        "externalId": "g1",
        "members": [{"value": "1"}, {"value": "2"}]
    })
}

/// A PATCH body: its operations, applied to a User and a Group and read back as the SCIM
/// adapter does after a PATCH.
pub fn scim_patch(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(ops) = patch::parse_operations(&body) else {
        return;
    };
    assert!(!ops.is_empty() && ops.len() <= patch::MAX_OPERATIONS);
    let mut user = user_document();
    if patch::apply(&mut user, ResourceKind::User, &ops).is_ok() {
        let _ = normalize_patched_user(&user);
    }
    let mut group = group_document();
    if patch::apply(&mut group, ResourceKind::Group, &ops).is_ok() {
        let _ = normalize_group(&group);
    }
}

/// A Bulk body: read, ordered, each operation's path read and its references resolved.
pub fn scim_bulk(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    let Ok(request) = bulk::parse_request(&body, 1000) else {
        return;
    };
    let plan = bulk::plan(&request.operations);
    let mut order = plan.order.clone();
    order.sort_unstable();
    assert_eq!(
        order,
        (0..request.operations.len()).collect::<Vec<_>>(),
        "the plan runs every operation exactly once"
    );
    let created: bulk::Created = request
        .operations
        .iter()
        .filter_map(|op| op.defines())
        .map(|id| (id.to_owned(), Some(format!("id-{id}"))))
        .collect();
    for op in &request.operations {
        let Ok(parsed) = &op.parsed else { continue };
        assert!(parsed.data.is_some() || parsed.method == Method::Delete);
        if let Ok(resolved) = bulk::resolve(parsed, &created) {
            let _ = Target::parse(&resolved.path);
        }
    }
}

/// A User or Group body of POST or PUT: a User read has the email roster signs in with,
/// lower-cased, and its kept attributes are an object.
pub fn scim_resource(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    if let Ok(user) = normalize_user(&body) {
        assert!(user.email.contains('@'), "{:?}", user.email);
        assert_eq!(user.email, user.email.to_lowercase());
        assert!(user.attributes.is_object());
    }
    if let Ok(group) = normalize_group(&body) {
        assert!(group.attributes.is_object());
    }
}

/// What the SAML fixtures (crates/saml/testdata, made by tests/saml/idp.py) were signed for.
struct SamlFixture {
    idp_entity_id: String,
    certs: Vec<String>,
    now_unix: i64,
    sp_entity_id: String,
    acs_url: String,
}

fn saml_fixture() -> &'static SamlFixture {
    static FIXTURE: OnceLock<SamlFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let idp = roster_saml::parse_idp_metadata(include_str!(
            "../../crates/saml/testdata/idp_metadata.xml"
        ))
        .expect("the fixture IdP metadata reads");
        let manifest: Value =
            serde_json::from_str(include_str!("../../crates/saml/testdata/manifest.json"))
                .expect("the fixture manifest is JSON");
        let text = |key: &str| manifest[key].as_str().expect(key).to_owned();
        SamlFixture {
            idp_entity_id: idp.entity_id,
            certs: idp.signing_certs,
            now_unix: manifest["now_unix"].as_i64().expect("now_unix"),
            sp_entity_id: text("sp_entity_id"),
            acs_url: text("acs_url"),
        }
    })
}

/// The XML of a `SAMLResponse`, base64-encoded as the IdP posts it and verified against the
/// fixtures' IdP: what verifies came from that IdP, unexpired, for this SP.
pub fn saml_response(data: &[u8]) {
    let fixture = saml_fixture();
    let exp = roster_saml::Expectations {
        sp_entity_id: &fixture.sp_entity_id,
        acs_url: &fixture.acs_url,
        idp_entity_id: &fixture.idp_entity_id,
        idp_certs: &fixture.certs,
        now_unix: fixture.now_unix,
        clock_skew_secs: 180,
        sp_key_pem: Some(include_str!("../../crates/saml/testdata/sp.key")),
    };
    let posted = base64::engine::general_purpose::STANDARD.encode(data);
    if let Ok(assertion) = roster_saml::verify_response(&posted, &exp) {
        assert_eq!(assertion.issuer, fixture.idp_entity_id);
        assert!(assertion.not_on_or_after_unix + 180 > fixture.now_unix);
        assert!(!assertion.assertion_id.is_empty());
    }
}

/// IdP metadata an Administrator pastes or roster fetches: what reads has a signing
/// certificate and an entity id.
pub fn saml_metadata(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(idp) = roster_saml::parse_idp_metadata(text) {
        assert!(!idp.entity_id.is_empty());
        assert!(!idp.signing_certs.is_empty());
    }
}

/// The sign-in and sign-up bodies, as an HTML form and as JSON: a refusal is a 400.
pub fn sign_in_forms(data: &[u8]) {
    fn refused_with_400<T>(parsed: Result<T, roster_http::ApiError>) {
        if let Err(e) = parsed {
            assert_eq!(e.status.as_u16(), 400, "{}", e.detail);
        }
    }
    refused_with_400(parse_form::<LoginBody>(data));
    refused_with_400(parse_form::<SignupBody>(data));
    refused_with_400(parse_json::<LoginBody>(data));
    refused_with_400(parse_json::<SignupBody>(data));
}

/// The file of `roster member import`: every row read comes from a line after the header.
pub fn import_csv(data: &[u8]) {
    if let Ok(rows) = roster_service::import::read_import_csv(data) {
        let lines = data.split(|b| *b == b'\n' || *b == b'\r').count();
        assert!(rows.iter().all(|r| r.line >= 2 && r.line <= lines + 1));
        assert!(rows.iter().all(|r| !r.role.is_empty()));
    }
}

/// The CSV of a tags import: every row has an email, and labels in their checked form.
pub fn tags_csv(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(rows) = roster_service::tags::parse_csv(text) {
        for (email, labels) in rows {
            assert!(!email.is_empty());
            for (label, folded) in labels {
                assert_eq!(roster_domain::tags::fold_label(&label), folded);
            }
        }
    }
}
