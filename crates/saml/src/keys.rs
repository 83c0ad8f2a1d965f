//! The SP's RSA key and self-signed certificate, and the conversions between PEM, DER and the
//! base64 DER that metadata carries.

use std::str::FromStr;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rsa::RsaPrivateKey;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::{Decode, DecodePem, Encode, EncodePem};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfoOwned;
use x509_cert::time::Validity;
use x509_cert::Certificate;

use crate::SamlError;

/// 3072 bits: NIST's size for keys that must stay sound past 2030, as a ten-year certificate does.
const RSA_BITS: usize = 3072;
const CERT_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

/// Generates the SP's RSA key (PKCS#8 PEM) and a self-signed certificate for it (PEM) valid for
/// ten years. IdPs pin the certificate from the SP metadata, so no CA is involved.
pub fn generate_sp_keypair(common_name: &str) -> Result<(String, String), SamlError> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| SamlError::KeyGeneration(format!("{what}: {e}"));
    let key = RsaPrivateKey::new(&mut rand::rngs::OsRng, RSA_BITS).map_err(|e| fail("RSA", &e))?;
    let key_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| fail("PKCS#8", &e))?
        .to_string();

    let subject = Name::from_str(&format!("CN={}", rfc4514_escape(common_name)))
        .map_err(|e| fail("subject", &e))?;
    let spki = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())
        .map_err(|e| fail("public key", &e))?;
    let validity = Validity::from_now(CERT_LIFETIME).map_err(|e| fail("validity", &e))?;
    let mut serial = rand::random::<[u8; 16]>();
    serial[0] &= 0x7f; // a positive INTEGER
    let serial = SerialNumber::new(&serial).map_err(|e| fail("serial", &e))?;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(key);
    let cert = CertificateBuilder::new(Profile::Root, serial, validity, subject, spki, &signer)
        .map_err(|e| fail("certificate", &e))?
        .build::<rsa::pkcs1v15::Signature>()
        .map_err(|e| fail("certificate signature", &e))?;
    let cert_pem = cert
        .to_pem(LineEnding::LF)
        .map_err(|e| fail("certificate PEM", &e))?;
    Ok((key_pem, cert_pem))
}

/// Escapes a value for an RFC 4514 distinguished-name string.
fn rfc4514_escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for (i, c) in value.chars().enumerate() {
        let leading = i == 0 && (c == ' ' || c == '#');
        if leading || matches!(c, ',' | '+' | '"' | '\\' | '<' | '>' | ';' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    if out.ends_with(' ') {
        out.insert(out.len() - 1, '\\');
    }
    out
}

/// The SP's private key from PEM, PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`).
pub(crate) fn sp_private_key(pem: &str) -> Result<RsaPrivateKey, SamlError> {
    RsaPrivateKey::from_pkcs8_pem(pem.trim())
        .or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem.trim()))
        .map_err(|_| SamlError::InvalidSpKey)
}

/// The certificate's DER as the single-line base64 that `ds:X509Certificate` carries.
pub fn cert_pem_to_b64(pem: &str) -> Result<String, SamlError> {
    let cert = Certificate::from_pem(pem.trim()).map_err(|_| SamlError::InvalidCertificate)?;
    let der = cert.to_der().map_err(|_| SamlError::InvalidCertificate)?;
    Ok(STANDARD.encode(der))
}

/// Decodes base64 DER (whitespace allowed, as metadata wraps it) and checks it is a certificate.
pub(crate) fn cert_der_from_b64(b64: &str) -> Result<Vec<u8>, SamlError> {
    let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = STANDARD
        .decode(compact)
        .map_err(|_| SamlError::InvalidCertificate)?;
    Certificate::from_der(&der).map_err(|_| SamlError::InvalidCertificate)?;
    Ok(der)
}

/// What a settings page shows of a certificate, to tell several apart during a rollover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateSummary {
    /// The subject as an RFC 4514 string (`CN=...`).
    pub subject: String,
    /// The end of its validity, in seconds since the Unix epoch.
    pub not_after_unix: i64,
}

/// The subject and expiry of a certificate given as base64 DER (as metadata carries it).
pub fn certificate_summary(b64: &str) -> Result<CertificateSummary, SamlError> {
    let der = cert_der_from_b64(b64)?;
    let cert = Certificate::from_der(&der).map_err(|_| SamlError::InvalidCertificate)?;
    let tbs = &cert.tbs_certificate;
    Ok(CertificateSummary {
        subject: tbs.subject.to_string(),
        not_after_unix: i64::try_from(tbs.validity.not_after.to_unix_duration().as_secs())
            .unwrap_or(i64::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinguished_name_specials_are_escaped() {
        assert_eq!(rfc4514_escape("a,b=c"), "a\\,b\\=c");
        assert_eq!(rfc4514_escape("#x "), "\\#x\\ ");
        assert!(Name::from_str(&format!("CN={}", rfc4514_escape("Acme, Inc. <sp>"))).is_ok());
    }

    #[test]
    fn a_generated_key_pair_is_usable_and_matches() {
        let (key_pem, cert_pem) = crate::test_support::sp_keypair();
        let key = sp_private_key(key_pem).unwrap();
        let cert = Certificate::from_pem(cert_pem).unwrap();
        let spki_der = cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .unwrap();
        let expected = SubjectPublicKeyInfoOwned::from_key(key.to_public_key())
            .unwrap()
            .to_der()
            .unwrap();
        assert_eq!(spki_der, expected);
        let b64 = cert_pem_to_b64(cert_pem).unwrap();
        assert!(cert_der_from_b64(&b64).is_ok());
        let lifetime = cert.tbs_certificate.validity.not_after.to_unix_duration()
            - cert.tbs_certificate.validity.not_before.to_unix_duration();
        assert!(lifetime >= Duration::from_secs(3650 * 24 * 3600));
        let summary = certificate_summary(&b64).unwrap();
        assert_eq!(summary.subject, "CN=roster test SP");
        assert_eq!(
            summary.not_after_unix as u64,
            cert.tbs_certificate
                .validity
                .not_after
                .to_unix_duration()
                .as_secs()
        );
        assert_eq!(
            certificate_summary("bm9wZQ=="),
            Err(SamlError::InvalidCertificate)
        );
    }

    #[test]
    fn garbage_keys_and_certificates_are_refused() {
        assert!(matches!(
            sp_private_key("nope"),
            Err(SamlError::InvalidSpKey)
        ));
        assert_eq!(cert_pem_to_b64("nope"), Err(SamlError::InvalidCertificate));
        assert_eq!(
            cert_der_from_b64("bm9wZQ=="),
            Err(SamlError::InvalidCertificate)
        );
    }
}
