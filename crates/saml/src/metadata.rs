//! SAML metadata both ways: what roster needs from an IdP's metadata, and the SP metadata
//! roster publishes for the IdP to import.

use bergshamra::xml::{Document, NodeId};

use crate::xml::{self, attr, escape, NS_DSIG, NS_METADATA};
use crate::SamlError;

pub(crate) const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
pub(crate) const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The NameID format roster asks for when the settings name none.
pub const NAMEID_EMAIL: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress";

/// Federation aggregates can be large, but one with a single IdP is not.
const MAX_METADATA_BYTES: usize = 4 * 1024 * 1024;

/// What roster keeps from an IdP's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpMetadata {
    pub entity_id: String,
    pub sso_redirect_url: Option<String>,
    pub sso_post_url: Option<String>,
    pub slo_url: Option<String>,
    /// Base64 DER, in document order, without duplicates; several during a key rollover.
    pub signing_certs: Vec<String>,
}

/// Reads an `EntityDescriptor`, or an `EntitiesDescriptor` holding exactly one IdP.
///
/// Metadata signatures are not checked: the administrator pastes the document or names an
/// HTTPS URL they trust, as Label Studio and most SPs do. Endpoints must be absolute
/// http(s) URLs, and at least one signing certificate is required, since without one no
/// response could ever be verified.
pub fn parse_idp_metadata(xml_text: &str) -> Result<IdpMetadata, SamlError> {
    let doc = xml::parse(xml_text, MAX_METADATA_BYTES)?;
    let root = doc.document_element().ok_or(SamlError::NoIdpDescriptor)?;
    let entity = if xml::is(&doc, root, NS_METADATA, "EntityDescriptor") {
        root
    } else if xml::is(&doc, root, NS_METADATA, "EntitiesDescriptor") {
        let mut idps = xml::descendants(&doc, root).filter(|n| {
            xml::is(&doc, *n, NS_METADATA, "EntityDescriptor")
                && xml::children_named(&doc, *n, NS_METADATA, "IDPSSODescriptor")
                    .next()
                    .is_some()
        });
        let first = idps.next().ok_or(SamlError::NoIdpDescriptor)?;
        if idps.next().is_some() {
            return Err(SamlError::SeveralIdps);
        }
        first
    } else {
        return Err(SamlError::UnexpectedRoot {
            expected: "EntityDescriptor or EntitiesDescriptor",
        });
    };
    let entity_id = attr(&doc, entity, "entityID")
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or(SamlError::MissingAttribute("entityID"))?
        .to_owned();
    let mut descriptors = xml::children_named(&doc, entity, NS_METADATA, "IDPSSODescriptor");
    let idp = descriptors.next().ok_or(SamlError::NoIdpDescriptor)?;
    if descriptors.next().is_some() {
        return Err(SamlError::SeveralIdps);
    }
    let signing_certs = signing_certs(&doc, idp)?;
    if signing_certs.is_empty() {
        return Err(SamlError::NoIdpCertificate);
    }
    Ok(IdpMetadata {
        entity_id,
        sso_redirect_url: endpoint(&doc, idp, "SingleSignOnService", BINDING_REDIRECT)?,
        sso_post_url: endpoint(&doc, idp, "SingleSignOnService", BINDING_POST)?,
        slo_url: match endpoint(&doc, idp, "SingleLogoutService", BINDING_REDIRECT)? {
            Some(url) => Some(url),
            None => endpoint(&doc, idp, "SingleLogoutService", BINDING_POST)?,
        },
        signing_certs,
    })
}

/// The first endpoint of this kind with this binding.
fn endpoint(
    doc: &Document<'_>,
    idp: NodeId,
    kind: &'static str,
    binding: &str,
) -> Result<Option<String>, SamlError> {
    let Some(node) = xml::children_named(doc, idp, NS_METADATA, kind)
        .find(|n| attr(doc, *n, "Binding") == Some(binding))
    else {
        return Ok(None);
    };
    let location = attr(doc, node, "Location")
        .ok_or(SamlError::MissingAttribute("Location"))?
        .trim();
    check_http_url(location)?;
    Ok(Some(location.to_owned()))
}

/// Certificates of key descriptors for signing (`use="signing"` or no `use`, which means both).
fn signing_certs(doc: &Document<'_>, idp: NodeId) -> Result<Vec<String>, SamlError> {
    let mut certs: Vec<String> = Vec::new();
    for descriptor in xml::children_named(doc, idp, NS_METADATA, "KeyDescriptor") {
        if !matches!(attr(doc, descriptor, "use"), None | Some("signing")) {
            continue;
        }
        for key_info in xml::children_named(doc, descriptor, NS_DSIG, "KeyInfo") {
            for data in xml::children_named(doc, key_info, NS_DSIG, "X509Data") {
                for cert in xml::children_named(doc, data, NS_DSIG, "X509Certificate") {
                    let b64: String = xml::text(doc, cert)?
                        .chars()
                        .filter(|c| !c.is_ascii_whitespace())
                        .collect();
                    crate::keys::cert_der_from_b64(&b64)?;
                    if !certs.contains(&b64) {
                        certs.push(b64);
                    }
                }
            }
        }
    }
    Ok(certs)
}

/// An absolute http or https URL: a `javascript:` or relative "endpoint" would send the
/// browser somewhere the IdP never said.
pub(crate) fn check_http_url(value: &str) -> Result<url::Url, SamlError> {
    match url::Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "https" | "http") && url.has_host() => Ok(url),
        _ => Err(SamlError::InvalidUrl(value.to_owned())),
    }
}

/// roster's side of the federation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpConfig {
    pub entity_id: String,
    pub acs_url: String,
    pub slo_url: Option<String>,
    /// PEM (PKCS#8 or PKCS#1) RSA key: signs AuthnRequests and decrypts assertions.
    pub key_pem: Option<String>,
    /// PEM certificate of `key_pem`, published in the SP metadata.
    pub cert_pem: Option<String>,
    /// NameID format asked for in AuthnRequests and listed in metadata; `None` = email address.
    pub name_id_format: Option<String>,
}

impl SpConfig {
    pub(crate) fn name_id_format(&self) -> &str {
        self.name_id_format.as_deref().unwrap_or(NAMEID_EMAIL)
    }
}

/// The SP metadata for the IdP to import. With a certificate it is published for signing
/// (the IdP checks AuthnRequests) and for encryption (the IdP may encrypt assertions);
/// `AuthnRequestsSigned` is true only when a key is there to sign them.
pub fn sp_metadata_xml(sp: &SpConfig) -> Result<String, SamlError> {
    let cert = sp
        .cert_pem
        .as_deref()
        .map(crate::keys::cert_pem_to_b64)
        .transpose()?;
    let signs_requests = sp.key_pem.is_some() && cert.is_some();
    let mut out = String::new();
    out.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    out.push_str(&format!(
        r#"<md:EntityDescriptor xmlns:md="{NS_METADATA}" xmlns:ds="{NS_DSIG}" entityID="{}">"#,
        escape(&sp.entity_id)
    ));
    out.push_str(&format!(
        r#"<md:SPSSODescriptor AuthnRequestsSigned="{signs_requests}" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">"#
    ));
    if let Some(cert) = &cert {
        let key_info = format!(
            "<ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>"
        );
        out.push_str(&format!(
            r#"<md:KeyDescriptor use="signing">{key_info}</md:KeyDescriptor>"#
        ));
        out.push_str(&format!(r#"<md:KeyDescriptor use="encryption">{key_info}"#));
        for algorithm in &crate::response::DATA_ENCRYPTION[..4] {
            out.push_str(&format!(
                r#"<md:EncryptionMethod Algorithm="{algorithm}"/>"#
            ));
        }
        out.push_str("</md:KeyDescriptor>");
    }
    if let Some(slo) = &sp.slo_url {
        out.push_str(&format!(
            r#"<md:SingleLogoutService Binding="{BINDING_REDIRECT}" Location="{}"/>"#,
            escape(slo)
        ));
    }
    out.push_str(&format!(
        "<md:NameIDFormat>{}</md:NameIDFormat>",
        escape(sp.name_id_format())
    ));
    out.push_str(&format!(
        r#"<md:AssertionConsumerService Binding="{BINDING_POST}" Location="{}" index="0" isDefault="true"/>"#,
        escape(&sp.acs_url)
    ));
    out.push_str("</md:SPSSODescriptor></md:EntityDescriptor>");
    Ok(out)
}
