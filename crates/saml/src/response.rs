//! The ACS side: a base64 `SAMLResponse` in, a verified assertion (or the reason for refusal)
//! out. Structure is checked before cryptography, cryptography before any value is read, and
//! values are read only from elements a verified signature covers.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use bergshamra::keys::loader::load_rsa_private_pem;
use bergshamra::xml::{Document, NodeId, NodeKind};
use bergshamra::{EncContext, KeysManager};

use crate::xml::{self, attr, NS_ASSERTION, NS_DSIG, NS_PROTOCOL, NS_XENC};
use crate::SamlError;

/// Far above a real response (a few KiB, tens with hundreds of groups), far below harm.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const XSI: &str = "http://www.w3.org/2001/XMLSchema-instance";

/// Data encryption accepted in an EncryptedAssertion, strongest first (also advertised in the
/// SP metadata). 3DES is refused: it needs bergshamra's legacy-algorithms feature, which this
/// crate leaves out, and every current IdP offers AES (pysaml2 needs to be told to use it).
pub(crate) const DATA_ENCRYPTION: &[&str] = &[
    "http://www.w3.org/2009/xmlenc11#aes256-gcm",
    "http://www.w3.org/2009/xmlenc11#aes128-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
    "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
    "http://www.w3.org/2009/xmlenc11#aes192-gcm",
    "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
];
/// RSA-OAEP only: PKCS#1 v1.5 key transport (rsa-1_5) is open to Bleichenbacher's attack.
const KEY_TRANSPORT: &[&str] = &[
    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
];

/// What the response must match; all of it comes from roster's settings, none from the message.
#[derive(Debug, Clone, Copy)]
pub struct Expectations<'a> {
    pub sp_entity_id: &'a str,
    pub acs_url: &'a str,
    pub idp_entity_id: &'a str,
    /// Base64 DER, as [`crate::IdpMetadata::signing_certs`]; any one of them may have signed.
    pub idp_certs: &'a [String],
    pub now_unix: i64,
    pub clock_skew_secs: i64,
    /// Decrypts an EncryptedAssertion; without it an encrypted assertion is refused.
    pub sp_key_pem: Option<&'a str>,
}

/// An assertion that passed every check. All assertion values come from the signed assertion
/// (or the signed Response around it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The Response's ID. Covered by a signature only when the Response itself is signed:
    /// key the replay cache on `assertion_id`, never on this.
    pub response_id: String,
    /// The signed assertion's ID: remember it until `not_on_or_after_unix` and refuse it again.
    pub assertion_id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub session_index: Option<String>,
    /// The request this answers; `None` for an IdP-initiated (unsolicited) login.
    pub in_response_to: Option<String>,
    /// The earliest of the assertion's expiry times: how long its ID must be remembered.
    pub not_on_or_after_unix: i64,
    /// Attribute name (as sent, `Name`) to values, in document order.
    pub attributes: BTreeMap<String, Vec<String>>,
}

/// Verifies a `SAMLResponse` form value against `exp`. See the crate documentation for what
/// is checked and what stays with the caller (InResponseTo and replay).
pub fn verify_response(
    saml_response_base64: &str,
    exp: &Expectations<'_>,
) -> Result<VerifiedAssertion, SamlError> {
    let compact: String = saml_response_base64
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    if compact.len() > MAX_RESPONSE_BYTES / 3 * 4 + 4 {
        return Err(SamlError::TooLarge {
            limit: MAX_RESPONSE_BYTES,
        });
    }
    let bytes = STANDARD.decode(compact).map_err(|_| SamlError::Base64)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| SamlError::MalformedXml("the message is not UTF-8".into()))?;
    let doc = xml::parse(&text, MAX_RESPONSE_BYTES)?;
    let shape = Shape::of(&doc)?;
    let keys = crate::signature::trusted_keys(exp.idp_certs)?;

    match shape.assertion {
        AssertionNode::Plain(assertion) => {
            let covered =
                crate::signature::verify(&doc, &text, keys, &[shape.response, assertion])?;
            let response_signed = covered.contains(&shape.response);
            check_assertion(&doc, shape.response, assertion, response_signed, exp)
        }
        AssertionNode::Encrypted(encrypted) => {
            // The Response signature covers the ciphertext: check it before decrypting.
            let response_signed =
                match crate::signature::verify(&doc, &text, keys, &[shape.response]) {
                    Ok(_) => true,
                    Err(SamlError::Unsigned) => false,
                    Err(e) => return Err(e),
                };
            check_encryption(&doc, encrypted)?;
            let key = exp.sp_key_pem.ok_or(SamlError::EncryptedWithoutKey)?;
            let decrypted = decrypt(&text, key, exp.idp_certs, response_signed)?;
            let doc = decrypted.doc()?;
            let (response, assertion) = decrypted_shape(&doc)?;
            check_assertion(&doc, response, assertion, response_signed, exp)
        }
    }
}

enum AssertionNode {
    Plain(NodeId),
    Encrypted(NodeId),
}

/// Where things are allowed to be: the root is a Response with exactly one Assertion or
/// EncryptedAssertion child, and no Assertion, Response or Signature exists anywhere else.
/// This is what makes "the signed element" and "the element read" the same node.
struct Shape {
    response: NodeId,
    assertion: AssertionNode,
}

impl Shape {
    fn of(doc: &Document<'_>) -> Result<Shape, SamlError> {
        let response = doc
            .document_element()
            .filter(|r| xml::is(doc, *r, NS_PROTOCOL, "Response"))
            .ok_or(SamlError::UnexpectedRoot {
                expected: "protocol Response",
            })?;
        refuse_duplicate_ids(doc)?;
        let plain = xml::only_child(doc, response, NS_ASSERTION, "Assertion")?;
        let encrypted = xml::only_child(doc, response, NS_ASSERTION, "EncryptedAssertion")?;
        let assertion = match (plain, encrypted) {
            (Some(a), None) => AssertionNode::Plain(a),
            (None, Some(e)) => AssertionNode::Encrypted(e),
            (Some(_), Some(_)) => return Err(SamlError::Wrapping("more than one assertion")),
            (None, None) => return Err(SamlError::MissingElement("Assertion")),
        };
        let allowed_signature_parents = match assertion {
            AssertionNode::Plain(a) => vec![response, a],
            AssertionNode::Encrypted(_) => vec![response],
        };
        let only = match assertion {
            AssertionNode::Plain(a) | AssertionNode::Encrypted(a) => a,
        };
        for node in xml::descendants(doc, response) {
            let parent = doc.parent(node);
            if xml::is(doc, node, NS_PROTOCOL, "Response") {
                return Err(SamlError::Wrapping("a Response inside the Response"));
            }
            if (xml::is(doc, node, NS_ASSERTION, "Assertion")
                || xml::is(doc, node, NS_ASSERTION, "EncryptedAssertion"))
                && node != only
            {
                return Err(SamlError::Wrapping("an Assertion outside its place"));
            }
            if xml::is(doc, node, NS_DSIG, "Signature")
                && !parent.is_some_and(|p| allowed_signature_parents.contains(&p))
            {
                return Err(SamlError::Wrapping("a Signature outside its place"));
            }
        }
        Ok(Shape {
            response,
            assertion,
        })
    }
}

/// Two elements with one ID make "the element the reference points at" ambiguous; every ID
/// attribute spelling bergshamra resolves is checked.
fn refuse_duplicate_ids(doc: &Document<'_>) -> Result<(), SamlError> {
    let mut seen = std::collections::HashSet::new();
    for node in xml::descendants(doc, doc.root()) {
        let Some(element) = doc.element(node) else {
            continue;
        };
        for attribute in &element.attributes {
            if matches!(
                &*attribute.name.local_name,
                "ID" | "Id" | "id" | "AssertionID"
            ) && !seen.insert(attribute.value.to_string())
            {
                return Err(SamlError::DuplicateId);
            }
        }
    }
    Ok(())
}

/// Algorithms are checked before the key is touched; CipherReference (a URI to fetch) is
/// refused outright.
fn check_encryption(doc: &Document<'_>, encrypted: NodeId) -> Result<(), SamlError> {
    let data = xml::required_child(doc, encrypted, NS_XENC, "EncryptedData")?;
    let mut found_data = 0;
    for node in xml::descendants(doc, doc.root()) {
        let Some(element) = doc.element(node) else {
            continue;
        };
        if element.matches_name_ns(NS_XENC, "EncryptedData") {
            found_data += 1;
        }
        if element.matches_name_ns(NS_XENC, "CipherReference") {
            return Err(SamlError::UnsupportedEncryption("CipherReference".into()));
        }
        if element.matches_name_ns(NS_XENC, "EncryptionMethod") {
            let algorithm = attr(doc, node, "Algorithm").unwrap_or_default();
            let allowed = if doc.parent(node) == Some(data) {
                DATA_ENCRYPTION
            } else {
                KEY_TRANSPORT
            };
            if !allowed.contains(&algorithm) {
                return Err(SamlError::UnsupportedEncryption(algorithm.to_owned()));
            }
        }
    }
    if found_data != 1 {
        return Err(SamlError::Wrapping("encrypted data outside the assertion"));
    }
    Ok(())
}

/// The decrypted document, authenticated by the Response signature or by the assertion's own.
pub(crate) struct Decrypted {
    pub(crate) text: String,
    certs: Vec<String>,
    response_signed: bool,
}

impl Decrypted {
    /// Parses and, when the Response was not signed, verifies the assertion's own signature.
    /// Without a Response signature the ciphertext is unauthenticated (anyone can encrypt to
    /// the SP's public key), so every failure here reads the same: no decryption oracle.
    pub(crate) fn doc(&self) -> Result<Document<'_>, SamlError> {
        let checked = || -> Result<Document<'_>, SamlError> {
            let doc = xml::parse(&self.text, MAX_RESPONSE_BYTES)?;
            let (_, assertion) = decrypted_shape(&doc)?;
            // Signed inside as well as outside: hold that signature to the same standard.
            let signed_inside = xml::only_child(&doc, assertion, NS_DSIG, "Signature")?.is_some();
            if !self.response_signed || signed_inside {
                let keys = crate::signature::trusted_keys(&self.certs)?;
                crate::signature::verify(&doc, &self.text, keys, &[assertion])?;
            }
            Ok(doc)
        };
        checked().map_err(|e| {
            if self.response_signed {
                e
            } else {
                SamlError::DecryptionFailed
            }
        })
    }
}

pub(crate) fn decrypt(
    text: &str,
    key_pem: &str,
    certs: &[String],
    response_signed: bool,
) -> Result<Decrypted, SamlError> {
    // Load the key first: a broken SP key is a configuration error, not a message error.
    let key =
        load_rsa_private_pem(key_pem.trim().as_bytes()).map_err(|_| SamlError::InvalidSpKey)?;
    let mut keys = KeysManager::new();
    keys.add_key(key);
    let ctx = EncContext::new(keys).with_disable_cipher_reference(true);
    let text = bergshamra::decrypt(&ctx, text).map_err(|_| SamlError::DecryptionFailed)?;
    Ok(Decrypted {
        text,
        certs: certs.to_vec(),
        response_signed,
    })
}

/// After decryption the assertion sits inside the EncryptedAssertion; the rest of the shape
/// rules are as before.
fn decrypted_shape(doc: &Document<'_>) -> Result<(NodeId, NodeId), SamlError> {
    let response = doc
        .document_element()
        .filter(|r| xml::is(doc, *r, NS_PROTOCOL, "Response"))
        .ok_or(SamlError::DecryptionFailed)?;
    refuse_duplicate_ids(doc)?;
    let wrapper = xml::required_child(doc, response, NS_ASSERTION, "EncryptedAssertion")?;
    let assertion = xml::required_child(doc, wrapper, NS_ASSERTION, "Assertion")?;
    if xml::only_child(doc, response, NS_ASSERTION, "Assertion")?.is_some() {
        return Err(SamlError::Wrapping("more than one assertion"));
    }
    for node in xml::descendants(doc, response) {
        if xml::is(doc, node, NS_ASSERTION, "Assertion") && node != assertion
            || xml::is(doc, node, NS_PROTOCOL, "Response")
            || xml::is(doc, node, NS_ASSERTION, "EncryptedAssertion") && node != wrapper
        {
            return Err(SamlError::Wrapping("an Assertion outside its place"));
        }
        if xml::is(doc, node, NS_DSIG, "Signature")
            && !doc
                .parent(node)
                .is_some_and(|p| p == response || p == assertion)
        {
            return Err(SamlError::Wrapping("a Signature outside its place"));
        }
    }
    Ok((response, assertion))
}

/// The protocol checks, on a document whose signatures have been verified. Values from the
/// Response element are used only as far as they cannot widen what the signed assertion says.
pub(crate) fn check_assertion(
    doc: &Document<'_>,
    response: NodeId,
    assertion: NodeId,
    response_signed: bool,
    exp: &Expectations<'_>,
) -> Result<VerifiedAssertion, SamlError> {
    check_status(doc, response)?;
    if let Some(issuer) = xml::only_child(doc, response, NS_ASSERTION, "Issuer")? {
        check_issuer(doc, issuer, exp)?;
    }
    match attr(doc, response, "Destination") {
        Some(destination) if destination != exp.acs_url => {
            return Err(SamlError::DestinationMismatch {
                found: destination.to_owned(),
            })
        }
        None if response_signed => return Err(SamlError::DestinationMissing),
        _ => {}
    }

    let issuer = xml::required_child(doc, assertion, NS_ASSERTION, "Issuer")?;
    let issuer = check_issuer(doc, issuer, exp)?;
    let subject = xml::required_child(doc, assertion, NS_ASSERTION, "Subject")?;
    let name_id_node =
        xml::only_child(doc, subject, NS_ASSERTION, "NameID")?.ok_or(SamlError::NoNameId)?;
    let name_id = xml::trimmed_text(doc, name_id_node)?;
    if name_id.is_empty() {
        return Err(SamlError::NoNameId);
    }
    let bearer = check_bearer(doc, subject, exp)?;
    let conditions_end = check_conditions(doc, assertion, exp)?;

    let assertion_in_response_to = bearer.in_response_to;
    let response_in_response_to = attr(doc, response, "InResponseTo").map(str::to_owned);
    let in_response_to = match (assertion_in_response_to, response_in_response_to) {
        (Some(a), Some(r)) if a != r => return Err(SamlError::InResponseToMismatch),
        (Some(a), _) => Some(a),
        (None, Some(r)) if response_signed => Some(r),
        // An unsigned Response naming a request the signed assertion does not: refused
        // rather than silently dropped, so the caller's "unsolicited" view stays honest.
        (None, Some(_)) => return Err(SamlError::InResponseToMismatch),
        (None, None) => None,
    };

    let authn = xml::children_named(doc, assertion, NS_ASSERTION, "AuthnStatement")
        .next()
        .ok_or(SamlError::MissingElement("AuthnStatement"))?;
    Ok(VerifiedAssertion {
        response_id: attr(doc, response, "ID")
            .ok_or(SamlError::MissingAttribute("ID"))?
            .to_owned(),
        assertion_id: attr(doc, assertion, "ID")
            .ok_or(SamlError::MissingAttribute("ID"))?
            .to_owned(),
        issuer,
        name_id,
        name_id_format: attr(doc, name_id_node, "Format").map(str::to_owned),
        session_index: attr(doc, authn, "SessionIndex").map(str::to_owned),
        in_response_to,
        not_on_or_after_unix: conditions_end.map_or(bearer.not_on_or_after, |end| {
            end.min(bearer.not_on_or_after)
        }),
        attributes: attributes(doc, assertion)?,
    })
}

fn check_status(doc: &Document<'_>, response: NodeId) -> Result<(), SamlError> {
    let status = xml::required_child(doc, response, NS_PROTOCOL, "Status")?;
    let code = xml::required_child(doc, status, NS_PROTOCOL, "StatusCode")?;
    let value = attr(doc, code, "Value").unwrap_or_default();
    if value == STATUS_SUCCESS {
        return Ok(());
    }
    // The second-level code says why (e.g. AuthnFailed); it is what an operator needs.
    let detail = xml::only_child(doc, code, NS_PROTOCOL, "StatusCode")?
        .and_then(|sub| attr(doc, sub, "Value"));
    let message = xml::only_child(doc, status, NS_PROTOCOL, "StatusMessage")?
        .map(|m| xml::trimmed_text(doc, m))
        .transpose()?;
    Err(SamlError::StatusNotSuccess {
        code: match detail {
            Some(detail) => format!("{value} / {detail}"),
            None => value.to_owned(),
        },
        message,
    })
}

fn check_issuer(
    doc: &Document<'_>,
    issuer: NodeId,
    exp: &Expectations<'_>,
) -> Result<String, SamlError> {
    let value = xml::trimmed_text(doc, issuer)?;
    if value != exp.idp_entity_id {
        return Err(SamlError::IssuerMismatch {
            expected: exp.idp_entity_id.to_owned(),
            found: value,
        });
    }
    Ok(value)
}

struct Bearer {
    in_response_to: Option<String>,
    not_on_or_after: i64,
}

/// Web SSO profile 4.1.4.2: a bearer SubjectConfirmation whose data names this ACS as
/// Recipient and has not expired. Several may be present; one that passes is enough, and the
/// first failure is reported when none does.
fn check_bearer(
    doc: &Document<'_>,
    subject: NodeId,
    exp: &Expectations<'_>,
) -> Result<Bearer, SamlError> {
    let mut first_error = None;
    for confirmation in xml::children_named(doc, subject, NS_ASSERTION, "SubjectConfirmation") {
        if attr(doc, confirmation, "Method") != Some(BEARER) {
            continue;
        }
        let result = (|| {
            let data =
                xml::required_child(doc, confirmation, NS_ASSERTION, "SubjectConfirmationData")?;
            let recipient = attr(doc, data, "Recipient").unwrap_or_default();
            if recipient != exp.acs_url {
                return Err(SamlError::RecipientMismatch {
                    found: recipient.to_owned(),
                });
            }
            let not_on_or_after = required_time(doc, data, "NotOnOrAfter")?;
            check_not_after(not_on_or_after, exp)?;
            if let Some(not_before) = optional_time(doc, data, "NotBefore")? {
                check_not_before(not_before, exp)?;
            }
            Ok(Bearer {
                in_response_to: attr(doc, data, "InResponseTo").map(str::to_owned),
                not_on_or_after,
            })
        })();
        match result {
            Ok(bearer) => return Ok(bearer),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(SamlError::NoBearerConfirmation))
}

/// Conditions are required (the profile requires an AudienceRestriction); every
/// AudienceRestriction must name this SP, and an unknown condition type is refused, as
/// SAML core 2.5.1.5 asks. Returns Conditions' NotOnOrAfter when set.
fn check_conditions(
    doc: &Document<'_>,
    assertion: NodeId,
    exp: &Expectations<'_>,
) -> Result<Option<i64>, SamlError> {
    let conditions = xml::required_child(doc, assertion, NS_ASSERTION, "Conditions")?;
    if let Some(not_before) = optional_time(doc, conditions, "NotBefore")? {
        check_not_before(not_before, exp)?;
    }
    let not_on_or_after = optional_time(doc, conditions, "NotOnOrAfter")?;
    if let Some(end) = not_on_or_after {
        check_not_after(end, exp)?;
    }
    let mut restrictions = 0;
    for condition in xml::child_elements(doc, conditions) {
        if xml::is(doc, condition, NS_ASSERTION, "AudienceRestriction") {
            restrictions += 1;
            let mut audiences = xml::children_named(doc, condition, NS_ASSERTION, "Audience")
                .map(|a| xml::trimmed_text(doc, a));
            if !audiences.any(|a| a.as_deref() == Ok(exp.sp_entity_id)) {
                return Err(SamlError::AudienceMismatch);
            }
        } else if !(xml::is(doc, condition, NS_ASSERTION, "OneTimeUse")
            || xml::is(doc, condition, NS_ASSERTION, "ProxyRestriction"))
        {
            return Err(SamlError::Wrapping("an unknown Condition"));
        }
    }
    if restrictions == 0 {
        return Err(SamlError::AudienceMismatch);
    }
    Ok(not_on_or_after)
}

fn check_not_before(not_before: i64, exp: &Expectations<'_>) -> Result<(), SamlError> {
    if exp.now_unix + exp.clock_skew_secs < not_before {
        return Err(SamlError::NotYetValid {
            not_before,
            now: exp.now_unix,
            skew: exp.clock_skew_secs,
        });
    }
    Ok(())
}

fn check_not_after(not_on_or_after: i64, exp: &Expectations<'_>) -> Result<(), SamlError> {
    if exp.now_unix - exp.clock_skew_secs >= not_on_or_after {
        return Err(SamlError::Expired {
            not_on_or_after,
            now: exp.now_unix,
            skew: exp.clock_skew_secs,
        });
    }
    Ok(())
}

fn optional_time(
    doc: &Document<'_>,
    node: NodeId,
    name: &'static str,
) -> Result<Option<i64>, SamlError> {
    attr(doc, node, name)
        .map(|value| {
            chrono::DateTime::parse_from_rfc3339(value.trim())
                .map(|t| t.timestamp())
                .map_err(|_| SamlError::BadTimestamp(name))
        })
        .transpose()
}

fn required_time(doc: &Document<'_>, node: NodeId, name: &'static str) -> Result<i64, SamlError> {
    optional_time(doc, node, name)?.ok_or(SamlError::MissingAttribute(name))
}

/// Every Attribute of every AttributeStatement, keyed by `Name`; `xsi:nil` values are skipped.
fn attributes(
    doc: &Document<'_>,
    assertion: NodeId,
) -> Result<BTreeMap<String, Vec<String>>, SamlError> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for statement in xml::children_named(doc, assertion, NS_ASSERTION, "AttributeStatement") {
        for attribute in xml::children_named(doc, statement, NS_ASSERTION, "Attribute") {
            let name = attr(doc, attribute, "Name").ok_or(SamlError::MissingAttribute("Name"))?;
            let values = out.entry(name.to_owned()).or_default();
            for value in xml::children_named(doc, attribute, NS_ASSERTION, "AttributeValue") {
                let nil = doc
                    .element(value)
                    .and_then(|e| e.get_attribute_ns(XSI, "nil"))
                    .is_some_and(|v| v == "true" || v == "1");
                if nil {
                    continue;
                }
                // A structured value (an element inside) is not a string and is skipped.
                let structured = doc
                    .children_iter(value)
                    .any(|c| matches!(doc.node_kind(c), Some(NodeKind::Element(_))));
                if !structured {
                    values.push(xml::trimmed_text(doc, value)?);
                }
            }
        }
    }
    Ok(out)
}
