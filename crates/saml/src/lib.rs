//! roster's SAML 2.0 service-provider core: IdP metadata in, SP metadata out, AuthnRequests by
//! HTTP-Redirect, and verification of the Response the IdP POSTs to the ACS. Pure functions:
//! no database, no network, no clock (the caller passes `now`).
//!
//! # Library choice
//! XML Signature, XML Encryption and canonicalization come from
//! [bergshamra](https://crates.io/crates/bergshamra) (pure Rust, passes the xmlsec
//! interoperability suite), used with trusted keys only (the `KeyInfo` in a message is never
//! trusted) and strict reference positions. The SAML profile on top is this crate's, on the
//! same parsed document bergshamra verifies, so no second parser can read something else.
//!
//! # What [`verify_response`] guarantees
//! - The XML has no DOCTYPE, entity declaration or processing instruction, and is at most 1 MiB.
//! - The root is a `samlp:Response` with exactly one `Assertion` (or `EncryptedAssertion`)
//!   child; no other Assertion or Response exists anywhere, a `ds:Signature` is only a direct
//!   child of the Response or the Assertion, and no ID appears twice. Wrapping attacks need
//!   one of those, so they are refused before any cryptography.
//! - The Response or the Assertion (or both) carries a valid enveloped signature by one of
//!   the configured IdP certificates, with exclusive c14n, RSA or ECDSA with SHA-256/384/512,
//!   and exactly one Reference, to `#ID` of the very element carrying the signature. Every
//!   signature present must be valid. **SHA-1 is refused** (`WeakAlgorithm`), for signatures
//!   and digests alike: current IdPs (Entra, Okta, ADFS, Google, Keycloak) all sign with
//!   SHA-256, and a SHA-1 collision would let a signed document be exchanged.
//! - Every returned value is read from the signed assertion, or from the signed Response that
//!   contains it. Text values are the whole text content as the canonical (signed) form has
//!   it: a comment inside a `NameID` does not cut the value short.
//! - Status is Success; Issuer (of the Response when present, and of the Assertion) is the
//!   IdP's entity id; a signed Response names this ACS as Destination (an unsigned one may
//!   omit it, but may not name another); a bearer `SubjectConfirmationData` has Recipient =
//!   ACS URL and a NotOnOrAfter still ahead; `Conditions` NotBefore/NotOnOrAfter hold within
//!   the skew; every `AudienceRestriction` names this SP.
//! - An `EncryptedAssertion` is decrypted with the SP key (AES-GCM or AES-CBC data, never 3DES;
//!   RSA-OAEP key transport, never RSA 1.5). Anyone can encrypt to the SP's public key, so the
//!   decrypted assertion must be signed itself unless the Response signature (checked before
//!   decrypting) covers the ciphertext. Without a Response signature all failures after
//!   decryption read `DecryptionFailed`, leaving no padding or format oracle.
//!
//! # What the caller must do (it needs the database)
//! - **InResponseTo**: when `in_response_to` is `Some(id)`, accept only if `id` is an
//!   outstanding request this browser started (then forget it); when it is `None`, accept only
//!   if IdP-initiated login is allowed. A response answering a request that is unknown,
//!   expired or already answered is refused.
//! - **Replay**: remember `assertion_id` (signed in every accepted response, unlike
//!   `response_id`) until `not_on_or_after_unix` plus the skew, shared across nodes, and refuse
//!   an assertion id seen before.
//! - Map `name_id` / `attributes` to an account only after both checks pass.

mod error;
mod keys;
mod metadata;
mod request;
mod response;
mod signature;
mod xml;

pub use error::SamlError;
pub use keys::{cert_pem_to_b64, certificate_summary, generate_sp_keypair, CertificateSummary};
pub use metadata::{parse_idp_metadata, sp_metadata_xml, IdpMetadata, SpConfig, NAMEID_EMAIL};
pub use request::{authn_request_redirect_url, new_request_id};
pub use response::{verify_response, Expectations, VerifiedAssertion};

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::OnceLock;

    use crate::SpConfig;

    /// One generated key pair for all tests: RSA-3072 generation is slow in debug builds.
    pub(crate) fn sp_keypair() -> (&'static str, &'static str) {
        static PAIR: OnceLock<(String, String)> = OnceLock::new();
        let (key, cert) =
            PAIR.get_or_init(|| crate::generate_sp_keypair("roster test SP").unwrap());
        (key, cert)
    }

    pub(crate) fn sp_config(with_key: bool) -> SpConfig {
        let (key, cert) = sp_keypair();
        SpConfig {
            entity_id: "https://roster.test/saml/sp".into(),
            acs_url: "https://roster.test/saml/acs".into(),
            slo_url: None,
            key_pem: with_key.then(|| key.to_owned()),
            cert_pem: with_key.then(|| cert.to_owned()),
            name_id_format: None,
        }
    }
}
