//! SP-initiated login: the AuthnRequest sent by the HTTP-Redirect binding (SAML bindings 3.4).

use std::io::Write;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use rsa::signature::{SignatureEncoding, Signer};

use crate::metadata::{check_http_url, SpConfig, BINDING_POST};
use crate::xml::{escape, NS_ASSERTION, NS_PROTOCOL};
use crate::SamlError;

pub(crate) const SIG_ALG_RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";

/// A fresh request ID: `_` (an xs:ID must not start with a digit) and 128 random bits, so an
/// attacker can neither guess an outstanding request nor collide with one.
pub fn new_request_id() -> String {
    let bytes: [u8; 16] = rand::random();
    let mut id = String::with_capacity(33);
    id.push('_');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// The URL to send the browser to: the IdP's SSO URL with `SAMLRequest` (deflated, base64),
/// `RelayState` when given, and, when the SP has a key, `SigAlg` and `Signature` (RSA-SHA256
/// over the query string exactly as sent, bindings 3.4.4.1).
///
/// The caller remembers `request_id` as outstanding to match the response's InResponseTo.
/// RelayState should be a short opaque token (the binding limits it to 80 bytes), not a URL.
pub fn authn_request_redirect_url(
    sp: &SpConfig,
    idp_sso_url: &str,
    request_id: &str,
    issue_instant_unix: i64,
    relay_state: Option<&str>,
) -> Result<String, SamlError> {
    let destination = check_http_url(idp_sso_url)?;
    let instant = chrono::DateTime::from_timestamp(issue_instant_unix, 0)
        .ok_or(SamlError::BadTimestamp("IssueInstant"))?
        .format("%Y-%m-%dT%H:%M:%SZ");
    let request = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="{NS_PROTOCOL}" xmlns:saml="{NS_ASSERTION}" ID="{}" Version="2.0" IssueInstant="{instant}" Destination="{}" ProtocolBinding="{BINDING_POST}" AssertionConsumerServiceURL="{}"><saml:Issuer>{}</saml:Issuer><samlp:NameIDPolicy Format="{}" AllowCreate="true"/></samlp:AuthnRequest>"#,
        escape(request_id),
        escape(idp_sso_url),
        escape(&sp.acs_url),
        escape(&sp.entity_id),
        escape(sp.name_id_format()),
    );
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    deflater
        .write_all(request.as_bytes())
        .and_then(|_| deflater.finish())
        .map(|deflated| STANDARD.encode(deflated))
        .map(|encoded| {
            let mut query = format!("SAMLRequest={}", query_escape(&encoded));
            if let Some(relay_state) = relay_state {
                query.push_str(&format!("&RelayState={}", query_escape(relay_state)));
            }
            query
        })
        .map_err(|e| SamlError::MalformedXml(format!("deflate: {e}")))
        .and_then(|query| sign_query(sp, query))
        .map(|query| {
            let separator = if destination.query().is_some() {
                '&'
            } else {
                '?'
            };
            format!("{idp_sso_url}{separator}{query}")
        })
}

fn sign_query(sp: &SpConfig, mut query: String) -> Result<String, SamlError> {
    let Some(key_pem) = &sp.key_pem else {
        return Ok(query);
    };
    let key = crate::keys::sp_private_key(key_pem)?;
    query.push_str(&format!("&SigAlg={}", query_escape(SIG_ALG_RSA_SHA256)));
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let signature = signer.sign(query.as_bytes()).to_bytes();
    query.push_str(&format!(
        "&Signature={}",
        query_escape(&STANDARD.encode(signature))
    ));
    Ok(query)
}

/// Percent-encodes as `application/x-www-form-urlencoded` does in most IdPs (Python's
/// `quote_plus`, Java's `URLEncoder`): unreserved characters kept, space as `+`. IdPs that
/// re-encode before verifying (pysaml2 does) then see the same octets that were signed.
fn query_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3 / 2);
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use rsa::pkcs1v15::VerifyingKey;
    use rsa::signature::Verifier;

    use super::*;
    use crate::test_support::{sp_config, sp_keypair};
    use crate::xml::{self, attr, is};

    fn query_param<'u>(url: &'u str, name: &str) -> Option<&'u str> {
        url.split_once('?')?
            .1
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    fn unescape(value: &str) -> String {
        url::form_urlencoded::parse(format!("v={value}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    }

    /// Decodes the request as an IdP does (bindings 3.4.4.1): base64, then raw inflate.
    fn decode_request(url: &str) -> String {
        let encoded = unescape(query_param(url, "SAMLRequest").unwrap());
        let deflated = STANDARD.decode(encoded).unwrap();
        let mut xml = String::new();
        flate2::read::DeflateDecoder::new(deflated.as_slice())
            .read_to_string(&mut xml)
            .unwrap();
        xml
    }

    #[test]
    fn request_ids_are_xml_ids_and_unique() {
        let a = new_request_id();
        assert!(a.starts_with('_') && a.len() == 33);
        assert_ne!(a, new_request_id());
    }

    #[test]
    fn unsigned_request_decodes_to_an_authn_request_for_this_sp() {
        let sp = sp_config(false);
        let url = authn_request_redirect_url(
            &sp,
            "https://idp.test/sso?tenant=a",
            "_abc",
            1_800_000_000,
            Some("/orgs/1 x"),
        )
        .unwrap();
        assert!(url.starts_with("https://idp.test/sso?tenant=a&SAMLRequest="));
        assert_eq!(query_param(&url, "RelayState"), Some("%2Forgs%2F1+x"));
        assert!(query_param(&url, "Signature").is_none());
        let xml_text = decode_request(&url);
        let doc = xml::parse(&xml_text, 1 << 16).unwrap();
        let root = doc.document_element().unwrap();
        assert!(is(&doc, root, NS_PROTOCOL, "AuthnRequest"));
        assert_eq!(attr(&doc, root, "ID"), Some("_abc"));
        assert_eq!(
            attr(&doc, root, "IssueInstant"),
            Some("2027-01-15T08:00:00Z")
        );
        assert_eq!(
            attr(&doc, root, "AssertionConsumerServiceURL"),
            Some(sp.acs_url.as_str())
        );
        assert_eq!(
            attr(&doc, root, "Destination"),
            Some("https://idp.test/sso?tenant=a")
        );
        let issuer = xml::required_child(&doc, root, NS_ASSERTION, "Issuer").unwrap();
        assert_eq!(xml::text(&doc, issuer).unwrap(), sp.entity_id);
    }

    #[test]
    fn signed_request_signature_covers_the_query_as_sent() {
        let sp = sp_config(true);
        let url = authn_request_redirect_url(
            &sp,
            "https://idp.test/sso",
            "_r1",
            1_800_000_000,
            Some("t"),
        )
        .unwrap();
        let query = url.split_once('?').unwrap().1;
        let (signed, signature) = query.split_once("&Signature=").unwrap();
        assert!(signed
            .ends_with("&SigAlg=http%3A%2F%2Fwww.w3.org%2F2001%2F04%2Fxmldsig-more%23rsa-sha256"));
        let key = crate::keys::sp_private_key(sp_keypair().0).unwrap();
        let verifier = VerifyingKey::<sha2::Sha256>::new(key.to_public_key());
        let signature = STANDARD.decode(unescape(signature)).unwrap();
        let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
        assert!(verifier.verify(signed.as_bytes(), &signature).is_ok());
        let tampered = signed.replace("RelayState=t", "RelayState=u");
        assert!(verifier.verify(tampered.as_bytes(), &signature).is_err());
    }

    #[test]
    fn markup_in_values_is_escaped_and_bad_urls_refused() {
        let mut sp = sp_config(false);
        sp.entity_id = "https://sp.test/?a=1&b=<x>".into();
        let url = authn_request_redirect_url(&sp, "https://idp.test/sso", "_r", 0, None).unwrap();
        assert!(decode_request(&url)
            .contains("<saml:Issuer>https://sp.test/?a=1&amp;b=&lt;x&gt;</saml:Issuer>"));
        for bad in ["javascript:alert(1)", "/relative", "ftp://idp.test/x"] {
            assert_eq!(
                authn_request_redirect_url(&sp, bad, "_r", 0, None),
                Err(SamlError::InvalidUrl(bad.into()))
            );
        }
    }

    #[test]
    fn a_bad_sp_key_is_refused() {
        let mut sp = sp_config(true);
        sp.key_pem = Some("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----".into());
        assert_eq!(
            authn_request_redirect_url(&sp, "https://idp.test/sso", "_r", 0, None),
            Err(SamlError::InvalidSpKey)
        );
    }
}
