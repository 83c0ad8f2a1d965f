//! Every refusal has its own variant, so a log line or a test names the exact check that
//! failed. Messages carry identifiers and URLs from the message, never key material.

/// Why a SAML message, metadata document or key was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SamlError {
    // --- encoding and XML safety ---
    #[error("the SAML message is not valid base64")]
    Base64,
    #[error("the XML is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the XML contains a DOCTYPE or entity declaration, which SAML never needs")]
    DtdOrEntity,
    #[error("the XML contains a processing instruction")]
    ProcessingInstruction,
    #[error("the XML is malformed: {0}")]
    MalformedXml(String),
    #[error("the XML root is not a SAML 2.0 {expected}")]
    UnexpectedRoot { expected: &'static str },
    #[error("a required element is missing: {0}")]
    MissingElement(&'static str),
    #[error("a required attribute is missing: {0}")]
    MissingAttribute(&'static str),
    #[error("a timestamp is not a valid xs:dateTime: {0}")]
    BadTimestamp(&'static str),

    // --- signature ---
    #[error("no IdP signing certificate is configured, or none could be read")]
    NoIdpCertificate,
    #[error("neither the Response nor the Assertion is signed")]
    Unsigned,
    #[error("the signature is not valid for any configured IdP certificate: {0}")]
    SignatureInvalid(String),
    #[error("refused weak or unknown algorithm {0} (SHA-256 or stronger is required)")]
    WeakAlgorithm(String),
    #[error("refused signature transform {0} (only enveloped-signature and exclusive c14n)")]
    UnsupportedTransform(String),
    #[error("the signature's reference does not point at the element that carries it")]
    ReferenceMismatch,
    #[error("signature wrapping refused: {0}")]
    Wrapping(&'static str),
    #[error("two elements carry the same ID")]
    DuplicateId,

    // --- protocol checks ---
    #[error("the IdP answered status {code}{}", message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    StatusNotSuccess {
        code: String,
        message: Option<String>,
    },
    #[error("the issuer {found:?} is not the configured IdP {expected:?}")]
    IssuerMismatch { expected: String, found: String },
    #[error("the Response Destination {found:?} is not this ACS URL")]
    DestinationMismatch { found: String },
    #[error("a signed Response must name its Destination")]
    DestinationMissing,
    #[error("the assertion has no bearer SubjectConfirmation for this ACS URL")]
    NoBearerConfirmation,
    #[error("the bearer confirmation's Recipient {found:?} is not this ACS URL")]
    RecipientMismatch { found: String },
    #[error("the assertion expired at {not_on_or_after} (now {now}, skew {skew}s)")]
    Expired {
        not_on_or_after: i64,
        now: i64,
        skew: i64,
    },
    #[error("the assertion is not valid before {not_before} (now {now}, skew {skew}s)")]
    NotYetValid {
        not_before: i64,
        now: i64,
        skew: i64,
    },
    #[error("the assertion's audience does not include this SP")]
    AudienceMismatch,
    #[error("the Response and its Assertion answer different requests")]
    InResponseToMismatch,
    #[error("the assertion has no NameID")]
    NoNameId,

    // --- encryption ---
    #[error("the assertion is encrypted but this SP has no private key")]
    EncryptedWithoutKey,
    #[error("refused encryption algorithm {0}")]
    UnsupportedEncryption(String),
    /// One variant for every failure after decryption started, so an unsigned ciphertext
    /// cannot be used as a padding or format oracle.
    #[error("the encrypted assertion could not be decrypted and verified")]
    DecryptionFailed,

    // --- keys, metadata and requests ---
    #[error("the SP private key is not a usable RSA PEM key")]
    InvalidSpKey,
    #[error("a certificate is not a valid X.509 certificate")]
    InvalidCertificate,
    #[error("key generation failed: {0}")]
    KeyGeneration(String),
    #[error("the metadata has no IDPSSODescriptor")]
    NoIdpDescriptor,
    #[error("the metadata describes more than one identity provider")]
    SeveralIdps,
    #[error("the URL {0:?} is not an absolute http(s) URL")]
    InvalidUrl(String),
}
