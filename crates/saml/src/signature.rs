//! XML-DSig over a SAML document: bergshamra does the cryptography (trusted keys only, strict
//! reference positions); this module adds SAML's profile on top: one enveloped signature per
//! element, referencing exactly that element, with SHA-2 algorithms and no other transforms.

use bergshamra::keys::loader::load_x509_cert_der;
use bergshamra::xml::{Document, NodeId};
use bergshamra::{DsigContext, KeysManager, VerifyResult};

use crate::xml::{self, attr, NS_DSIG};
use crate::SamlError;

const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C14N_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// SHA-1 (and MD5) are refused: a collision-prone digest lets a signed document be swapped
/// for another with the same digest, and every current IdP can sign with SHA-256.
const SIGNATURE_METHODS: &[&str] = &[
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384",
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512",
];
const DIGEST_METHODS: &[&str] = &[
    "http://www.w3.org/2001/04/xmlenc#sha256",
    "http://www.w3.org/2001/04/xmldsig-more#sha384",
    "http://www.w3.org/2001/04/xmlenc#sha512",
];

/// The IdP certificates as a bergshamra key store; certificates are trust anchors by
/// configuration (SAML metadata), so their validity dates are not checked, as IdPs expect.
pub(crate) fn trusted_keys(certs_b64: &[String]) -> Result<KeysManager, SamlError> {
    let mut keys = KeysManager::new();
    for cert in certs_b64 {
        let der = crate::keys::cert_der_from_b64(cert)?;
        let key = load_x509_cert_der(&der).map_err(|_| SamlError::InvalidCertificate)?;
        keys.add_key(key);
    }
    if keys.is_empty() {
        return Err(SamlError::NoIdpCertificate);
    }
    Ok(keys)
}

/// Verifies the enveloped signature carried by each element in `signed_parents` (the
/// Response and/or the Assertion) and returns which of them carry a valid one. Every
/// signature present must be valid; one bad signature refuses the whole message.
pub(crate) fn verify(
    doc: &Document<'_>,
    source: &str,
    keys: KeysManager,
    signed_parents: &[NodeId],
) -> Result<Vec<NodeId>, SamlError> {
    let mut expected = Vec::new();
    for &parent in signed_parents {
        if let Some(sig) = xml::only_child(doc, parent, NS_DSIG, "Signature")? {
            check_profile(doc, sig, parent)?;
            expected.push((sig, parent));
        }
    }
    if expected.is_empty() {
        return Err(SamlError::Unsigned);
    }
    let ctx = DsigContext::new(keys)
        .with_trusted_keys_only(true)
        .with_strict_verification(true)
        .with_require_reference_digests(true);
    let results =
        bergshamra::dsig::verify::verify_all_document_with_source(&ctx, doc, Some(source))
            .map_err(|e| SamlError::SignatureInvalid(e.to_string()))?;
    // bergshamra reports one result per ds:Signature in document order; pair them up so a
    // result is only ever read for the signature it belongs to.
    let all_signatures: Vec<NodeId> = xml::descendants(doc, doc.root())
        .filter(|n| xml::is(doc, *n, NS_DSIG, "Signature"))
        .collect();
    if all_signatures.len() != results.len() {
        return Err(SamlError::SignatureInvalid(
            "the signatures could not be matched to their elements".into(),
        ));
    }
    let mut covered = Vec::new();
    for (sig, result) in all_signatures.into_iter().zip(results) {
        // Only expected positions hold a Signature (the caller checked), so one not expected
        // is one deliberately not relied on: the Response's, after decryption changed it.
        let Some(&(_, parent)) = expected.iter().find(|(s, _)| *s == sig) else {
            continue;
        };
        match result {
            VerifyResult::Valid {
                signature_node,
                references,
                ..
            } => {
                let [reference] = references.as_slice() else {
                    return Err(SamlError::ReferenceMismatch);
                };
                if signature_node != sig
                    || reference.resolved_node != Some(parent)
                    || !reference.digest_verified
                {
                    return Err(SamlError::ReferenceMismatch);
                }
                covered.push(parent);
            }
            VerifyResult::Invalid { reason } => return Err(SamlError::SignatureInvalid(reason)),
        }
    }
    if covered.len() != expected.len() {
        return Err(SamlError::SignatureInvalid(
            "a signature was not verified".into(),
        ));
    }
    Ok(covered)
}

/// SAML's signature profile (SAML core 5.4), checked before any cryptography so a weak or
/// exotic signature is refused by name: exclusive c14n, SHA-2, one Reference to `#ID` of the
/// element that carries the signature, and no transform that could sign less than the whole
/// element (XPath, XSLT, Base64 are all refused).
fn check_profile(doc: &Document<'_>, sig: NodeId, parent: NodeId) -> Result<(), SamlError> {
    let signed_info = xml::required_child(doc, sig, NS_DSIG, "SignedInfo")?;
    let c14n = algorithm(doc, signed_info, "CanonicalizationMethod")?;
    if c14n != EXC_C14N && c14n != EXC_C14N_COMMENTS {
        return Err(SamlError::UnsupportedTransform(c14n.to_owned()));
    }
    let method = algorithm(doc, signed_info, "SignatureMethod")?;
    if !SIGNATURE_METHODS.contains(&method) {
        return Err(SamlError::WeakAlgorithm(method.to_owned()));
    }
    let mut references = xml::children_named(doc, signed_info, NS_DSIG, "Reference");
    let reference = references.next().ok_or(SamlError::ReferenceMismatch)?;
    if references.next().is_some() {
        return Err(SamlError::ReferenceMismatch);
    }
    let id = attr(doc, parent, "ID").filter(|id| !id.is_empty());
    let uri = attr(doc, reference, "URI");
    match (id, uri.and_then(|u| u.strip_prefix('#'))) {
        (Some(id), Some(target)) if id == target => {}
        _ => return Err(SamlError::ReferenceMismatch),
    }
    if let Some(transforms) = xml::only_child(doc, reference, NS_DSIG, "Transforms")? {
        for transform in xml::child_elements(doc, transforms) {
            let algorithm = attr(doc, transform, "Algorithm").unwrap_or_default();
            if ![ENVELOPED, EXC_C14N, EXC_C14N_COMMENTS].contains(&algorithm) {
                return Err(SamlError::UnsupportedTransform(algorithm.to_owned()));
            }
        }
    }
    let digest = algorithm(doc, reference, "DigestMethod")?;
    if !DIGEST_METHODS.contains(&digest) {
        return Err(SamlError::WeakAlgorithm(digest.to_owned()));
    }
    Ok(())
}

fn algorithm<'d>(
    doc: &'d Document<'_>,
    parent: NodeId,
    name: &'static str,
) -> Result<&'d str, SamlError> {
    let node = xml::required_child(doc, parent, NS_DSIG, name)?;
    attr(doc, node, "Algorithm").ok_or(SamlError::MissingAttribute("Algorithm"))
}
