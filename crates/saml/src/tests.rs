//! Responses from a real IdP (pysaml2 + xmlsec1, `tests/saml/idp.py fixtures`), accepted as
//! issued and refused after each attack, built here by editing their XML text.
//! Regenerate the fixtures with:
//! `.venv-saml/bin/python tests/saml/idp.py fixtures --out crates/saml/testdata`

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::test_support::sp_keypair;
use crate::*;

fn testdata(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

struct Fixtures {
    now: i64,
    idp_cert: String,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let manifest: serde_json::Value = serde_json::from_str(&testdata("manifest.json")).unwrap();
        let idp_pem = std::fs::read_to_string(repo_root().join("tests/saml/idp.crt")).unwrap();
        Fixtures {
            // Inside the 5-minute validity of every fixture, whenever the tests run.
            now: manifest["now_unix"].as_i64().unwrap() + 30,
            idp_cert: cert_pem_to_b64(&idp_pem).unwrap(),
        }
    })
}

fn idp_certs() -> &'static [String] {
    static C: OnceLock<Vec<String>> = OnceLock::new();
    C.get_or_init(|| vec![fixtures().idp_cert.clone()])
}

fn sp_key_pem() -> &'static str {
    static K: OnceLock<String> = OnceLock::new();
    K.get_or_init(|| testdata("sp.key"))
}

fn expectations() -> Expectations<'static> {
    Expectations {
        sp_entity_id: "https://roster.test/saml/sp",
        acs_url: "https://roster.test/saml/acs",
        idp_entity_id: "https://idp.test/metadata",
        idp_certs: idp_certs(),
        now_unix: fixtures().now,
        clock_skew_secs: 0,
        sp_key_pem: Some(sp_key_pem()),
    }
}

fn verify_xml(xml: &str) -> Result<VerifiedAssertion, SamlError> {
    verify_with(xml, |_| {})
}

fn verify_with(
    xml: &str,
    adjust: impl FnOnce(&mut Expectations<'static>),
) -> Result<VerifiedAssertion, SamlError> {
    let mut exp = expectations();
    adjust(&mut exp);
    verify_response(&STANDARD.encode(xml), &exp)
}

/// `text` with `from` replaced once; panics when `from` is absent, so an edit cannot silently
/// leave the fixture valid and the test passing for the wrong reason.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "fixture has no {from:?}");
    text.replacen(from, to, 1)
}

/// The first `ds:Signature` element in `xml`, as text.
fn first_signature(xml: &str) -> &str {
    let start = xml.find("<ns2:Signature ").unwrap();
    let end = xml.find("</ns2:Signature>").unwrap() + "</ns2:Signature>".len();
    &xml[start..end]
}

/// `xml` without its first `ds:Signature`.
fn without_first_signature(xml: &str) -> String {
    xml.replacen(first_signature(xml), "", 1)
}

/// The assertion element of a fixture, as text.
fn assertion_text(xml: &str) -> &str {
    let start = xml.find("<ns1:Assertion ").unwrap();
    let end = xml.find("</ns1:Assertion>").unwrap() + "</ns1:Assertion>".len();
    &xml[start..end]
}

fn alice(in_response_to: Option<&str>) -> impl Fn(&VerifiedAssertion) {
    let in_response_to = in_response_to.map(str::to_owned);
    move |v: &VerifiedAssertion| {
        assert_eq!(v.name_id, "alice@example.com");
        assert_eq!(v.name_id_format.as_deref(), Some(NAMEID_EMAIL));
        assert_eq!(v.issuer, "https://idp.test/metadata");
        assert_eq!(v.in_response_to, in_response_to);
        assert!(v.assertion_id.starts_with("id-") && v.response_id.starts_with("id-"));
        assert!(v.session_index.is_some());
        let expected: BTreeMap<String, Vec<String>> = [
            ("Email", vec!["alice@example.com"]),
            ("FirstName", vec!["Alice"]),
            ("LastName", vec!["Liddell"]),
            ("Groups", vec!["engineering", "admins"]),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
        .collect();
        assert_eq!(v.attributes, expected);
        let now = fixtures().now;
        assert!(v.not_on_or_after_unix > now && v.not_on_or_after_unix <= now + 300);
    }
}

// --- accepted as issued -------------------------------------------------------------------

#[test]
fn responses_signed_on_the_response_the_assertion_or_both_are_accepted() {
    alice(Some("_req-fixture-1"))(&verify_xml(&testdata("response_signed_both.xml")).unwrap());
    alice(None)(&verify_xml(&testdata("response_signed_response.xml")).unwrap());
    alice(None)(&verify_xml(&testdata("response_signed_assertion.xml")).unwrap());
}

#[test]
fn encrypted_assertions_are_decrypted_with_the_sp_key() {
    for name in [
        "response_encrypted_signed_assertion.xml", // aes256-cbc, assertion signed inside
        "response_encrypted_signed_response.xml",  // aes128-gcm, Response signed outside
    ] {
        let verified = verify_xml(&testdata(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        alice(None)(&verified);
    }
}

#[test]
fn any_certificate_of_a_rollover_verifies() {
    let (_, other_cert) = sp_keypair();
    let certs = vec![
        cert_pem_to_b64(other_cert).unwrap(),
        fixtures().idp_cert.clone(),
    ];
    let certs: &'static [String] = Box::leak(certs.into_boxed_slice());
    let verified = verify_with(&testdata("response_signed_both.xml"), |e| {
        e.idp_certs = certs
    });
    assert!(verified.is_ok(), "{verified:?}");
}

#[test]
fn base64_with_line_breaks_is_accepted() {
    let b64 = STANDARD.encode(testdata("response_signed_both.xml"));
    let wrapped: String = b64
        .as_bytes()
        .chunks(76)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\r\n");
    assert!(verify_response(&wrapped, &expectations()).is_ok());
}

// --- signature --------------------------------------------------------------------------

#[test]
fn an_unsigned_response_is_refused() {
    assert_eq!(
        verify_xml(&testdata("response_unsigned.xml")),
        Err(SamlError::Unsigned)
    );
}

#[test]
fn a_response_signed_by_another_key_is_refused() {
    let (_, other_cert) = sp_keypair();
    let certs: &'static [String] =
        Box::leak(vec![cert_pem_to_b64(other_cert).unwrap()].into_boxed_slice());
    for name in [
        "response_signed_both.xml",
        "response_signed_assertion.xml",
        "response_signed_response.xml",
    ] {
        let result = verify_with(&testdata(name), |e| e.idp_certs = certs);
        assert!(
            matches!(result, Err(SamlError::SignatureInvalid(_))),
            "{name}: {result:?}"
        );
    }
}

#[test]
fn no_configured_certificate_refuses_everything() {
    let result = verify_with(&testdata("response_signed_both.xml"), |e| e.idp_certs = &[]);
    assert_eq!(result, Err(SamlError::NoIdpCertificate));
}

#[test]
fn altered_signed_content_is_refused() {
    let cases = [
        (
            "response_signed_assertion.xml",
            ">alice@example.com</ns1:NameID>",
            ">mallory@example.com</ns1:NameID>",
        ),
        ("response_signed_response.xml", ">admins<", ">owners<"),
        (
            "response_signed_both.xml",
            "Recipient=\"https://roster.test/saml/acs\"",
            "Recipient=\"https://roster.test/saml/acs\" x=\"1\"",
        ),
        (
            "response_signed_response.xml",
            "<ns0:StatusCode Value",
            "<ns0:StatusCode foo=\"bar\" Value",
        ),
    ];
    for (name, from, to) in cases {
        let result = verify_xml(&edit(&testdata(name), from, to));
        assert!(
            matches!(result, Err(SamlError::SignatureInvalid(_))),
            "{name} {to}: {result:?}"
        );
    }
}

#[test]
fn sha1_signatures_are_refused() {
    let result = verify_xml(&testdata("response_sha1.xml"));
    assert_eq!(
        result,
        Err(SamlError::WeakAlgorithm(
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1".into()
        ))
    );
}

#[test]
fn a_signature_referencing_another_element_is_refused() {
    // The assertion's signature moved up to the Response: valid bytes, wrong place.
    let xml = testdata("response_signed_assertion.xml");
    let signature = first_signature(&xml);
    let moved = without_first_signature(&xml).replacen(
        "<ns0:Status>",
        &format!("{signature}<ns0:Status>"),
        1,
    );
    assert_eq!(verify_xml(&moved), Err(SamlError::ReferenceMismatch));
}

#[test]
fn exotic_transforms_are_refused() {
    let xml = edit(
        &testdata("response_signed_assertion.xml"),
        "<ns2:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
        "<ns2:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"/>",
    );
    assert!(matches!(
        verify_xml(&xml),
        Err(SamlError::UnsupportedTransform(_))
    ));
}

// --- wrapping -----------------------------------------------------------------------------

/// A copy of the signed assertion speaking for mallory, with its own ID and no signature.
fn forged_assertion(signed: &str) -> String {
    let unsigned = without_first_signature(assertion_text(signed));
    let id_start = unsigned.find("ID=\"").unwrap() + 4;
    let id_end = id_start + unsigned[id_start..].find('"').unwrap();
    format!("{}id-forged{}", &unsigned[..id_start], &unsigned[id_end..])
        .replace("alice@example.com", "mallory@evil.test")
}

#[test]
fn a_second_unsigned_assertion_is_refused_before_or_after_the_signed_one() {
    for name in ["response_signed_assertion.xml", "response_signed_both.xml"] {
        let xml = testdata(name);
        let signed = assertion_text(&xml).to_owned();
        let forged = forged_assertion(&xml);
        let after = xml.replacen(&signed, &format!("{signed}{forged}"), 1);
        let before = xml.replacen(&signed, &format!("{forged}{signed}"), 1);
        for wrapped in [after, before] {
            assert_eq!(
                verify_xml(&wrapped),
                Err(SamlError::Wrapping("more than one Assertion")),
                "{name}"
            );
        }
    }
}

#[test]
fn the_signed_assertion_moved_elsewhere_is_refused() {
    let xml = testdata("response_signed_assertion.xml");
    let signed = assertion_text(&xml).to_owned();
    let forged = forged_assertion(&xml);
    let places = [
        // XSW in Extensions: the forged one where the signed one was.
        xml.replacen(
            &signed,
            &forged,
            1,
        )
        .replacen(
            "<ns0:Status>",
            &format!("<ns0:Extensions>{signed}</ns0:Extensions><ns0:Status>"),
            1,
        ),
        // Inside the forged assertion's Advice.
        xml.replacen(
            &signed,
            &edit(&forged, "<ns1:Subject>", &format!("<ns1:Advice>{signed}</ns1:Advice><ns1:Subject>")),
            1,
        ),
        // Inside SubjectConfirmationData, where some parsers look no further.
        xml.replacen(
            &signed,
            &edit(
                &forged,
                "Recipient=\"https://roster.test/saml/acs\"/>",
                &format!("Recipient=\"https://roster.test/saml/acs\">{signed}</ns1:SubjectConfirmationData>"),
            ),
            1,
        ),
    ];
    for wrapped in places {
        assert_eq!(
            verify_xml(&wrapped),
            Err(SamlError::Wrapping("an Assertion outside its place"))
        );
    }
}

#[test]
fn a_signed_response_wrapped_in_a_forged_one_is_refused() {
    // The signed Response kept intact inside an unsigned outer one that speaks for mallory.
    let xml = testdata("response_signed_response.xml");
    let signed = xml.trim_start_matches("<?xml version=\"1.0\"?>").trim();
    let assertion = assertion_text(signed);
    let forged = edit(assertion, "ID=\"id-", "ID=\"id-forged-").replace("alice@", "mallory@");
    let outer = edit(
        &edit(
            &without_first_signature(signed),
            "ID=\"id-",
            "ID=\"id-outer-",
        ),
        assertion,
        &forged,
    );
    let wrapped = edit(
        &outer,
        "<ns0:Status>",
        &format!("<ns0:Extensions>{signed}</ns0:Extensions><ns0:Status>"),
    );
    assert_eq!(
        verify_xml(&wrapped),
        Err(SamlError::Wrapping("a Response inside the Response"))
    );
}

#[test]
fn an_element_reusing_the_signed_id_is_refused() {
    let xml = testdata("response_signed_assertion.xml");
    let assertion = assertion_text(&xml);
    let id_start = assertion.find("ID=\"").unwrap() + 4;
    let id = &assertion[id_start..id_start + assertion[id_start..].find('"').unwrap()];
    let with_twin = edit(
        &xml,
        "<ns0:Status>",
        &format!(
            "<ns0:Extensions><x:Twin xmlns:x=\"urn:x\" ID=\"{id}\"/></ns0:Extensions><ns0:Status>"
        ),
    );
    assert_eq!(verify_xml(&with_twin), Err(SamlError::DuplicateId));
    let with_lowercase_twin =
        with_twin.replace(&format!("ID=\"{id}\"/>"), &format!("id=\"{id}\"/>"));
    assert_eq!(
        verify_xml(&with_lowercase_twin),
        Err(SamlError::DuplicateId)
    );
}

#[test]
fn a_signature_in_an_unexpected_place_is_refused() {
    let xml = edit(
        &testdata("response_signed_assertion.xml"),
        "<ns0:Status>",
        "<ns0:Extensions><ns2:Signature/></ns0:Extensions><ns0:Status>",
    );
    assert_eq!(
        verify_xml(&xml),
        Err(SamlError::Wrapping("a Signature outside its place"))
    );
}

#[test]
fn a_comment_inside_the_name_id_does_not_truncate_it() {
    // The Duo (2018) attack: exclusive c14n drops comments, so the signature stays valid,
    // and a parser that reads only the first text node would see "alice@exa".
    let xml = edit(
        &testdata("response_signed_both.xml"),
        ">alice@example.com</ns1:NameID>",
        ">alice@exa<!-- inserted -->mple.com</ns1:NameID>",
    );
    let verified = verify_xml(&xml).unwrap();
    assert_eq!(verified.name_id, "alice@example.com");
}

#[test]
fn doctype_and_entities_are_refused() {
    let xml = testdata("response_signed_both.xml");
    let doctype = edit(
        &xml,
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY e \"alice\">]>",
    );
    assert_eq!(verify_xml(&doctype), Err(SamlError::DtdOrEntity));
    let external = edit(
        &xml,
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\"?><!DOCTYPE r SYSTEM \"file:///etc/passwd\">",
    );
    assert_eq!(verify_xml(&external), Err(SamlError::DtdOrEntity));
    let pi = edit(&xml, "<ns0:Status>", "<?evil x?><ns0:Status>");
    assert_eq!(verify_xml(&pi), Err(SamlError::ProcessingInstruction));
}

// --- protocol checks ----------------------------------------------------------------------

#[test]
fn wrong_audience_issuer_and_acs_are_refused() {
    let xml = testdata("response_signed_both.xml");
    assert_eq!(
        verify_with(&xml, |e| e.sp_entity_id = "https://other.test/sp"),
        Err(SamlError::AudienceMismatch)
    );
    assert_eq!(
        verify_with(&xml, |e| e.idp_entity_id = "https://other-idp.test"),
        Err(SamlError::IssuerMismatch {
            expected: "https://other-idp.test".into(),
            found: "https://idp.test/metadata".into()
        })
    );
    assert_eq!(
        verify_with(&xml, |e| e.acs_url = "https://roster.test/other/acs"),
        Err(SamlError::DestinationMismatch {
            found: "https://roster.test/saml/acs".into()
        })
    );
}

#[test]
fn an_unsigned_response_may_not_redirect_the_destination() {
    let xml = testdata("response_signed_assertion.xml");
    let elsewhere = edit(
        &xml,
        "Destination=\"https://roster.test/saml/acs\"",
        "Destination=\"https://evil.test/acs\"",
    );
    assert_eq!(
        verify_xml(&elsewhere),
        Err(SamlError::DestinationMismatch {
            found: "https://evil.test/acs".into()
        })
    );
    // Without Destination (allowed when unsigned) the signed Recipient still has to match.
    let without = edit(&xml, " Destination=\"https://roster.test/saml/acs\"", "");
    assert!(verify_xml(&without).is_ok());
    assert_eq!(
        verify_with(&without, |e| e.acs_url = "https://roster.test/other/acs"),
        Err(SamlError::RecipientMismatch {
            found: "https://roster.test/saml/acs".into()
        })
    );
}

#[test]
fn a_signed_response_must_name_its_destination() {
    // Checked on the verified document: strip Destination from a parsed signed Response.
    let xml = edit(
        &testdata("response_signed_response.xml"),
        " Destination=\"https://roster.test/saml/acs\"",
        "",
    );
    let doc = crate::xml::parse(&xml, 1 << 20).unwrap();
    let response = doc.document_element().unwrap();
    let assertion = crate::xml::only_child(&doc, response, crate::xml::NS_ASSERTION, "Assertion")
        .unwrap()
        .unwrap();
    let result = crate::response::check_assertion(&doc, response, assertion, true, &expectations());
    assert_eq!(result, Err(SamlError::DestinationMissing));
}

#[test]
fn expiry_and_not_before_honour_the_skew() {
    let xml = testdata("response_signed_both.xml");
    let issued = verify_xml(&xml).unwrap();
    let end = issued.not_on_or_after_unix;
    assert!(matches!(
        verify_with(&xml, |e| e.now_unix = end),
        Err(SamlError::Expired { .. })
    ));
    assert!(verify_with(&xml, |e| {
        e.now_unix = end + 59;
        e.clock_skew_secs = 60;
    })
    .is_ok());
    let start = end - 300;
    assert!(matches!(
        verify_with(&xml, |e| e.now_unix = start - 61),
        Err(SamlError::NotYetValid { .. })
    ));
    assert!(verify_with(&xml, |e| {
        e.now_unix = start - 59;
        e.clock_skew_secs = 60;
    })
    .is_ok());
}

#[test]
fn a_status_other_than_success_is_refused() {
    let xml = edit(
        &testdata("response_signed_assertion.xml"),
        "<ns0:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Success\"/>",
        "<ns0:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:Responder\"><ns0:StatusCode Value=\"urn:oasis:names:tc:SAML:2.0:status:AuthnFailed\"/></ns0:StatusCode><ns0:StatusMessage>locked</ns0:StatusMessage>",
    );
    assert_eq!(
        verify_xml(&xml),
        Err(SamlError::StatusNotSuccess {
            code: "urn:oasis:names:tc:SAML:2.0:status:Responder / urn:oasis:names:tc:SAML:2.0:status:AuthnFailed".into(),
            message: Some("locked".into())
        })
    );
}

#[test]
fn an_unsigned_in_response_to_cannot_be_added() {
    let xml = edit(
        &testdata("response_signed_assertion.xml"),
        " Destination=",
        " InResponseTo=\"_someone-elses-request\" Destination=",
    );
    assert_eq!(verify_xml(&xml), Err(SamlError::InResponseToMismatch));
}

// --- encryption ---------------------------------------------------------------------------

#[test]
fn an_encrypted_assertion_needs_the_right_sp_key() {
    let xml = testdata("response_encrypted_signed_assertion.xml");
    assert_eq!(
        verify_with(&xml, |e| e.sp_key_pem = None),
        Err(SamlError::EncryptedWithoutKey)
    );
    let (other_key, _) = sp_keypair();
    assert_eq!(
        verify_with(&xml, |e| e.sp_key_pem = Some(other_key)),
        Err(SamlError::DecryptionFailed)
    );
    assert_eq!(
        verify_with(&xml, |e| e.sp_key_pem = Some("not a key")),
        Err(SamlError::InvalidSpKey)
    );
}

#[test]
fn tampered_ciphertext_reads_as_one_uniform_failure() {
    let xml = testdata("response_encrypted_signed_assertion.xml");
    // Flip characters in the data ciphertext (the last CipherValue).
    let at = xml.rfind("<ns0:CipherValue>").unwrap() + "<ns0:CipherValue>".len() + 40;
    let mut bytes = xml.into_bytes();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(bytes).unwrap();
    assert_eq!(verify_xml(&tampered), Err(SamlError::DecryptionFailed));
}

#[test]
fn an_unsigned_assertion_encrypted_to_our_public_key_is_refused() {
    // Anyone holding the SP certificate can make this; decryption itself works...
    let xml = testdata("response_encrypted_unsigned.xml");
    let decrypted = crate::response::decrypt(&xml, sp_key_pem(), idp_certs(), false).unwrap();
    assert!(decrypted.text.contains(">alice@example.com</"));
    // ...but nothing signed it, and the refusal reads like any other decryption failure.
    assert!(matches!(decrypted.doc(), Err(SamlError::DecryptionFailed)));
    assert_eq!(verify_xml(&xml), Err(SamlError::DecryptionFailed));
}

#[test]
fn triple_des_is_refused_before_decrypting() {
    assert_eq!(
        verify_xml(&testdata("response_encrypted_3des.xml")),
        Err(SamlError::UnsupportedEncryption(
            "http://www.w3.org/2001/04/xmlenc#tripledes-cbc".into()
        ))
    );
}

#[test]
fn rsa_1_5_key_transport_is_refused() {
    let xml = edit(
        &testdata("response_encrypted_signed_assertion.xml"),
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        "http://www.w3.org/2001/04/xmlenc#rsa-1_5",
    );
    assert_eq!(
        verify_xml(&xml),
        Err(SamlError::UnsupportedEncryption(
            "http://www.w3.org/2001/04/xmlenc#rsa-1_5".into()
        ))
    );
}

#[test]
fn the_response_signature_over_ciphertext_is_checked_before_decrypting() {
    let xml = edit(
        &testdata("response_encrypted_signed_response.xml"),
        "<ns0:CipherValue>",
        "<ns0:CipherValue>AAAA",
    );
    assert!(matches!(
        verify_xml(&xml),
        Err(SamlError::SignatureInvalid(_))
    ));
}

// --- malformed input ----------------------------------------------------------------------

#[test]
fn malformed_input_is_refused_with_its_reason() {
    let exp = expectations();
    assert_eq!(verify_response("not base64!", &exp), Err(SamlError::Base64));
    assert!(matches!(
        verify_response(&STANDARD.encode("<unclosed"), &exp),
        Err(SamlError::MalformedXml(_))
    ));
    assert_eq!(
        verify_response(&STANDARD.encode("<r xmlns=\"urn:x\"/>"), &exp),
        Err(SamlError::UnexpectedRoot {
            expected: "protocol Response"
        })
    );
    assert!(matches!(
        verify_response(&"A".repeat(2 * 1024 * 1024), &exp),
        Err(SamlError::TooLarge { .. })
    ));
}

// --- metadata -----------------------------------------------------------------------------

#[test]
fn the_real_idp_metadata_is_read_and_its_certificate_verifies_responses() {
    let metadata = parse_idp_metadata(&testdata("idp_metadata.xml")).unwrap();
    assert_eq!(metadata.entity_id, "https://idp.test/metadata");
    assert_eq!(
        metadata.sso_redirect_url.as_deref(),
        Some("https://idp.test/sso")
    );
    assert_eq!(
        metadata.sso_post_url.as_deref(),
        Some("https://idp.test/sso")
    );
    assert_eq!(metadata.signing_certs, vec![fixtures().idp_cert.clone()]);
    let certs: &'static [String] = Box::leak(metadata.signing_certs.into_boxed_slice());
    assert!(
        verify_with(&testdata("response_signed_both.xml"), |e| e.idp_certs =
            certs)
        .is_ok()
    );
}

fn entity(entity_id: &str, body: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}">{body}</md:EntityDescriptor>"#
    )
}

fn idp_descriptor(certs: &[(&str, &str)], sso: &str) -> String {
    let keys: String = certs
        .iter()
        .map(|(usage, cert)| {
            let usage = if usage.is_empty() { String::new() } else { format!(" use=\"{usage}\"") };
            format!("<md:KeyDescriptor{usage}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>\n{cert}\n</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>")
        })
        .collect();
    format!(
        r#"<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{keys}<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.test/slo"/><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso}"/></md:IDPSSODescriptor>"#
    )
}

#[test]
fn metadata_with_a_rollover_lists_both_signing_certificates() {
    let old = fixtures().idp_cert.as_str();
    let new = cert_pem_to_b64(sp_keypair().1).unwrap();
    let xml = entity(
        "https://idp.test",
        &idp_descriptor(
            &[("signing", old), ("", &new), ("encryption", old)],
            "https://idp.test/sso",
        ),
    );
    let metadata = parse_idp_metadata(&xml).unwrap();
    assert_eq!(metadata.signing_certs, vec![old.to_owned(), new]);
    assert_eq!(metadata.slo_url.as_deref(), Some("https://idp.test/slo"));
    assert_eq!(metadata.sso_post_url, None);
}

#[test]
fn an_entities_descriptor_must_hold_exactly_one_idp() {
    let cert = fixtures().idp_cert.as_str();
    let idp = entity(
        "https://idp.test",
        &idp_descriptor(&[("signing", cert)], "https://idp.test/sso"),
    );
    let sp = entity(
        "https://sp.test",
        r#"<md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>"#,
    );
    let wrap = |inner: &str| {
        format!(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{inner}</md:EntitiesDescriptor>"#
        )
    };
    assert_eq!(
        parse_idp_metadata(&wrap(&format!("{sp}{idp}")))
            .unwrap()
            .entity_id,
        "https://idp.test"
    );
    assert_eq!(
        parse_idp_metadata(&wrap(&format!("{idp}{idp}"))),
        Err(SamlError::SeveralIdps)
    );
    assert_eq!(
        parse_idp_metadata(&wrap(&sp)),
        Err(SamlError::NoIdpDescriptor)
    );
}

#[test]
fn unusable_metadata_is_refused() {
    let cert = fixtures().idp_cert.as_str();
    assert_eq!(
        parse_idp_metadata(&entity(
            "https://idp.test",
            &idp_descriptor(&[("encryption", cert)], "https://idp.test/sso")
        )),
        Err(SamlError::NoIdpCertificate)
    );
    assert_eq!(
        parse_idp_metadata(&entity(
            "https://idp.test",
            &idp_descriptor(&[("signing", cert)], "javascript:alert(1)")
        )),
        Err(SamlError::InvalidUrl("javascript:alert(1)".into()))
    );
    assert_eq!(
        parse_idp_metadata(&entity(
            "https://idp.test",
            &idp_descriptor(&[("signing", "bm90IGEgY2VydA==")], "https://idp.test/sso")
        )),
        Err(SamlError::InvalidCertificate)
    );
    let doctype = format!(
        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{}",
        entity("&e;", "")
    );
    assert_eq!(parse_idp_metadata(&doctype), Err(SamlError::DtdOrEntity));
    assert_eq!(
        parse_idp_metadata("<x/>"),
        Err(SamlError::UnexpectedRoot {
            expected: "EntityDescriptor or EntitiesDescriptor"
        })
    );
}

#[test]
fn sp_metadata_publishes_the_acs_and_the_certificate_for_both_uses() {
    let sp = crate::test_support::sp_config(true);
    let xml = sp_metadata_xml(&sp).unwrap();
    let doc = crate::xml::parse(&xml, 1 << 20).unwrap();
    let root = doc.document_element().unwrap();
    use crate::xml::{attr, children_named, NS_METADATA};
    assert_eq!(attr(&doc, root, "entityID"), Some(sp.entity_id.as_str()));
    let descriptor = children_named(&doc, root, NS_METADATA, "SPSSODescriptor")
        .next()
        .unwrap();
    assert_eq!(attr(&doc, descriptor, "AuthnRequestsSigned"), Some("true"));
    assert_eq!(attr(&doc, descriptor, "WantAssertionsSigned"), Some("true"));
    let uses: Vec<_> = children_named(&doc, descriptor, NS_METADATA, "KeyDescriptor")
        .map(|k| attr(&doc, k, "use").unwrap())
        .collect();
    assert_eq!(uses, ["signing", "encryption"]);
    assert!(xml.contains(&cert_pem_to_b64(sp.cert_pem.as_deref().unwrap()).unwrap()));
    let acs = children_named(&doc, descriptor, NS_METADATA, "AssertionConsumerService")
        .next()
        .unwrap();
    assert_eq!(
        attr(&doc, acs, "Binding"),
        Some("urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")
    );
    assert_eq!(attr(&doc, acs, "Location"), Some(sp.acs_url.as_str()));

    let bare = sp_metadata_xml(&crate::test_support::sp_config(false)).unwrap();
    assert!(bare.contains("AuthnRequestsSigned=\"false\"") && !bare.contains("KeyDescriptor"));
    let mut broken = crate::test_support::sp_config(true);
    broken.cert_pem = Some("garbage".into());
    assert_eq!(sp_metadata_xml(&broken), Err(SamlError::InvalidCertificate));
}

// --- against the Python IdP, when it is installed -----------------------------------------

/// The venv's python with pysaml2, or `None` (the test then says why it skipped).
fn idp_python() -> Option<PathBuf> {
    let python = std::env::var_os("ROSTER_SAML_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv-saml/bin/python"));
    let ok = std::process::Command::new(&python)
        .args(["-c", "import saml2"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!(
            "skipped: no pysaml2 at {} (set ROSTER_SAML_PYTHON or see tests/saml/README.md)",
            python.display()
        );
    }
    ok.then_some(python)
}

fn run_idp(python: &Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(python)
        .arg(repo_root().join("tests/saml/idp.py"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn pysaml2_decodes_and_verifies_our_signed_authn_request() {
    let Some(python) = idp_python() else { return };
    let sp = crate::test_support::sp_config(true);
    let url = authn_request_redirect_url(
        &sp,
        "https://idp.test/sso",
        "_roundtrip",
        1_800_000_000,
        Some("/next page"),
    )
    .unwrap();
    let dir = tempdir();
    let cert = dir.join("sp.crt");
    std::fs::write(&cert, sp.cert_pem.as_deref().unwrap()).unwrap();
    let out = run_idp(
        &python,
        &["parse-request", &url, "--sp-cert", cert.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["id"], "_roundtrip");
    assert_eq!(parsed["issuer"], sp.entity_id);
    assert_eq!(parsed["acs_url"], sp.acs_url);
    assert_eq!(parsed["relay_state"], "/next page");
    assert_eq!(parsed["signature_valid"], true);
    assert_eq!(parsed["raw_query_signature_valid"], true);

    // A tampered RelayState must fail the same check.
    let tampered = url.replace("RelayState=%2Fnext+page", "RelayState=%2Fevil");
    let out = run_idp(
        &python,
        &[
            "parse-request",
            &tampered,
            "--sp-cert",
            cert.to_str().unwrap(),
        ],
    );
    assert!(!out.status.success());
}

#[test]
fn pysaml2_encrypts_to_our_sp_metadata_and_we_decrypt() {
    let Some(python) = idp_python() else { return };
    let sp = crate::test_support::sp_config(true);
    let dir = tempdir();
    let metadata = dir.join("sp.xml");
    std::fs::write(&metadata, sp_metadata_xml(&sp).unwrap()).unwrap();
    let cert = dir.join("sp.crt");
    std::fs::write(&cert, sp.cert_pem.as_deref().unwrap()).unwrap();
    let out = run_idp(
        &python,
        &[
            "response",
            "--sp-entity-id",
            &sp.entity_id,
            "--acs",
            &sp.acs_url,
            "--sp-metadata",
            metadata.to_str().unwrap(),
            "--encrypt-for",
            cert.to_str().unwrap(),
            "--email",
            "bob@example.com",
            "--group",
            "g1",
            "--in-response-to",
            "_abc",
            "--sign",
            "assertion",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let b64 = String::from_utf8(out.stdout).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = Expectations {
        now_unix: now,
        clock_skew_secs: 60,
        sp_key_pem: sp.key_pem.as_deref(),
        ..expectations()
    };
    let verified = verify_response(b64.trim(), &exp).unwrap();
    assert_eq!(verified.name_id, "bob@example.com");
    assert_eq!(verified.in_response_to.as_deref(), Some("_abc"));
    assert_eq!(verified.attributes["Groups"], vec!["g1".to_owned()]);
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("roster-saml-{}", new_request_id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
