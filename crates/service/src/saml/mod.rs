//! SAML 2.0 single sign-on: each organization's identity provider, its settings and the
//! service provider roster is to it. The protocol itself (metadata, requests, verifying
//! responses) is `roster-saml`; this module stores and applies it.

mod fetch;
mod login;
mod preview;
mod refresh;
mod settings;

pub use fetch::is_public;
pub use login::SamlSignIn;
pub use preview::{MappingPreview, MappingTrial};
pub use refresh::MetadataFetch;
pub use roster_saml::{certificate_summary, CertificateSummary, IdpMetadata};
pub use settings::{sp_urls, SamlSettings, SamlSettingsUpdate, SpUrls, PROVIDERS};
