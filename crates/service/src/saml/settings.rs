//! The SAML settings of an organization (`/api/saml/settings`, the SDK's `sso.saml`): the
//! identity provider's metadata (pasted or fetched from its URL), the candidate email
//! domains, the attribute names, and the group mapping the SCIM settings also use.

use roster_domain::saml::{is_webmail, AttributeNames, DEFAULT_NAMEID_FORMAT};
use roster_domain::scim::mapping::{GroupMapping, ProjectGroup};
use roster_domain::{AuditAction, OrgId, Role};
use roster_saml::{parse_idp_metadata, IdpMetadata};
use roster_store::saml::{self as store, SamlSettingsRecord};
use roster_store::{orgs, Micros};

use super::fetch::fetch_metadata;
use crate::audit::{record, Event};
use crate::domains::normalize_domain;
use crate::orgs::ManualManagement;
use crate::scim::{
    check_mapping, mapping_from_json, mapping_to_json, prune_workspaces, resolve_workspaces,
};
use crate::{Admin, Authorized, Result, Service, ServiceError};

/// An organization's SAML settings as the service reads them.
#[derive(Debug, Clone)]
pub struct SamlSettings {
    /// Names the organization in the service provider's URLs.
    pub token: String,
    pub domains: Vec<String>,
    pub idp_provider: String,
    pub metadata_url: Option<String>,
    pub metadata_xml: Option<String>,
    pub metadata_fetched_at: Option<Micros>,
    /// The last scheduled or requested fetch from `metadata_url`, and why it could not be
    /// used when it could not (the metadata in use then stays).
    pub metadata_checked_at: Option<Micros>,
    pub metadata_error: Option<String>,
    /// The identity provider as its metadata describes it.
    pub idp: Option<IdpMetadata>,
    pub nameid_format: String,
    pub attributes: AttributeNames,
    pub mapping: GroupMapping,
}

/// A change of the settings; what is None stays.
#[derive(Debug, Clone, Default)]
pub struct SamlSettingsUpdate {
    pub domain: Option<String>,
    pub idp_provider: Option<String>,
    /// `Some(None)` or an empty text: no metadata URL.
    pub metadata_url: Option<Option<String>>,
    pub metadata_xml: Option<Option<String>>,
    pub nameid_format: Option<String>,
    pub mapping_email: Option<String>,
    pub mapping_first_name: Option<String>,
    pub mapping_last_name: Option<String>,
    pub mapping_groups: Option<String>,
    pub roles_groups: Option<Vec<(Role, String)>>,
    pub projects_groups: Option<Vec<ProjectGroup>>,
    /// `(workspace title, group)` pairs; each title must name a workspace of the organization.
    pub workspaces_groups: Option<Vec<(String, String)>>,
    /// The role of people in no mapped role group (checked with the rest of the mapping).
    pub fallback_role: Option<Role>,
    /// The organization's settings, shared with SCIM.
    pub manual: ManualManagement,
}

/// The identity-provider presets Label Studio Enterprise names.
pub const PROVIDERS: [&str; 7] = [
    "custom", "okta", "azure", "google", "ping", "onelogin", "adfs",
];

impl SamlSettings {
    pub(crate) fn from_record(r: &SamlSettingsRecord) -> Result<SamlSettings> {
        let stored: serde_json::Value = serde_json::from_str(&r.mapping)
            .map_err(|e| ServiceError::Internal(format!("stored SAML mapping: {e}")))?;
        let mapping = mapping_from_json(&stored)
            .map_err(|e| ServiceError::Internal(format!("stored SAML mapping: {e}")))?;
        Ok(SamlSettings {
            token: r.token.clone(),
            domains: split_domains(&r.domain),
            idp_provider: r.idp_provider.clone(),
            metadata_url: r.metadata_url.clone(),
            idp: r
                .metadata_xml
                .as_deref()
                .and_then(|x| parse_idp_metadata(x).ok()),
            metadata_xml: r.metadata_xml.clone(),
            metadata_fetched_at: r.metadata_fetched_at,
            metadata_checked_at: r.metadata_checked_at,
            metadata_error: r.metadata_error.clone(),
            nameid_format: r.nameid_format.clone(),
            attributes: AttributeNames {
                email: r.mapping_email.clone(),
                first_name: r.mapping_first_name.clone(),
                last_name: r.mapping_last_name.clone(),
                groups: r.mapping_groups.clone(),
            },
            mapping,
        })
    }

    /// The settings of an organization that has not set SAML up yet.
    fn new_for(token: String) -> SamlSettings {
        SamlSettings {
            token,
            domains: Vec::new(),
            idp_provider: "custom".into(),
            metadata_url: None,
            metadata_xml: None,
            metadata_fetched_at: None,
            metadata_checked_at: None,
            metadata_error: None,
            idp: None,
            nameid_format: DEFAULT_NAMEID_FORMAT.into(),
            attributes: AttributeNames::default(),
            mapping: GroupMapping::default(),
        }
    }
}

fn split_domains(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

/// The `domain` setting: comma-separated email domains, each a domain name and none of them
/// a public webmail provider's (its people are not the organization's).
fn parse_domains(text: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for d in split_domains(text) {
        let d = normalize_domain(&d).map_err(|_| {
            ServiceError::invalid(
                "domain",
                format!("{d:?} is not a domain name (like example.com)"),
            )
        })?;
        if is_webmail(&d) {
            return Err(ServiceError::invalid(
                "domain",
                format!("{d} is a public email provider's domain; list your organization's own"),
            ));
        }
        if !out.contains(&d) {
            out.push(d);
        }
    }
    Ok(out)
}

fn attribute_name(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.is_empty() || v.len() > 256 || v.chars().any(char::is_control) {
        return Err(ServiceError::invalid(
            field,
            "give the attribute's name as the identity provider sends it",
        ));
    }
    Ok(v.to_string())
}

/// Metadata as pasted: it must describe one identity provider with a signing certificate,
/// or no login could ever be verified.
pub(super) fn check_metadata(xml: &str, field: &str) -> Result<IdpMetadata> {
    let idp = parse_idp_metadata(xml)
        .map_err(|e| ServiceError::invalid(field, format!("the metadata cannot be used: {e}")))?;
    if idp.signing_certs.is_empty() {
        return Err(ServiceError::invalid(
            field,
            "the metadata has no signing certificate",
        ));
    }
    Ok(idp)
}

impl Service {
    /// The organization's SAML settings, or the defaults (with the token the first save will
    /// keep) when SAML is not set up.
    /// The second value says whether they have been saved.
    pub async fn saml_settings(&self, by: &Authorized<Admin>) -> Result<(SamlSettings, bool)> {
        let mut c = self.store().read().await?;
        match store::settings(&mut c, by.org.id).await? {
            Some(r) => {
                let mut s = SamlSettings::from_record(&r)?;
                prune_workspaces(&mut c, by.org.id, &mut s.mapping).await?;
                Ok((s, true))
            }
            None => Ok((
                SamlSettings::new_for(self.first_saml_token(by.org.id)),
                false,
            )),
        }
    }

    /// Changes the SAML settings. Metadata from a URL is fetched (before the transaction, so
    /// no lock is held over the network) and must parse, as pasted metadata must.
    pub async fn update_saml_settings(
        &self,
        by: &Authorized<Admin>,
        update: SamlSettingsUpdate,
    ) -> Result<SamlSettings> {
        let url = match &update.metadata_url {
            Some(Some(u)) if !u.trim().is_empty() => Some(u.trim().to_string()),
            _ => None,
        };
        let pasted = match &update.metadata_xml {
            Some(Some(x)) if !x.trim().is_empty() => Some(x.clone()),
            _ => None,
        };
        // Pasted metadata wins over a URL sent with it; a URL alone is fetched now. Either is
        // parsed once here: (document, the IdP it describes, whether it was fetched).
        let new_metadata = match (&url, pasted) {
            (_, Some(xml)) => {
                let idp = check_metadata(&xml, "metadata_xml")?;
                Some((xml, idp, false))
            }
            (Some(u), None) => {
                let xml = fetch_metadata(u, &self.config().saml.metadata_allow).await?;
                let idp = check_metadata(&xml, "metadata_url")?;
                Some((xml, idp, true))
            }
            (None, None) => None,
        };
        let domains = update.domain.as_deref().map(parse_domains).transpose()?;
        if let Some(p) = &update.idp_provider {
            if !PROVIDERS.contains(&p.trim().to_ascii_lowercase().as_str()) {
                return Err(ServiceError::invalid(
                    "idp_provider",
                    format!("one of {}", PROVIDERS.join(", ")),
                ));
            }
        }
        let now = self.now();
        let org = by.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let before = store::settings(&mut tx, org).await?;
        let mut s = match &before {
            Some(r) => SamlSettings::from_record(r)?,
            None => SamlSettings::new_for(self.first_saml_token(org)),
        };
        prune_workspaces(&mut tx, org, &mut s.mapping).await?;
        if let Some(d) = domains {
            s.domains = d;
        }
        if let Some(p) = update.idp_provider {
            s.idp_provider = p.trim().to_ascii_lowercase();
        }
        if update.metadata_url.is_some() {
            s.metadata_url = url;
        }
        match new_metadata {
            Some((xml, idp, fetched)) => {
                s.metadata_xml = Some(xml);
                s.idp = Some(idp);
                s.metadata_fetched_at = fetched.then_some(now);
                s.metadata_checked_at = s.metadata_fetched_at;
                s.metadata_error = None;
            }
            // Metadata emptied with no URL to fetch it from: none is left.
            None if update.metadata_xml.is_some() && s.metadata_url.is_none() => {
                crate::sso_only::keep_identity_provider(&mut tx, org, "remove its metadata")
                    .await?;
                s.metadata_xml = None;
                s.idp = None;
                s.metadata_fetched_at = None;
                s.metadata_checked_at = None;
                s.metadata_error = None;
            }
            None => {}
        }
        if let Some(f) = update.nameid_format {
            s.nameid_format = attribute_name("nameid_format", &f)?;
        }
        for (value, field, slot) in [
            (
                update.mapping_email,
                "mapping_email",
                &mut s.attributes.email,
            ),
            (
                update.mapping_first_name,
                "mapping_first_name",
                &mut s.attributes.first_name,
            ),
            (
                update.mapping_last_name,
                "mapping_last_name",
                &mut s.attributes.last_name,
            ),
            (
                update.mapping_groups,
                "mapping_groups",
                &mut s.attributes.groups,
            ),
        ] {
            if let Some(v) = value {
                *slot = attribute_name(field, &v)?;
            }
        }
        if let Some(r) = update.roles_groups {
            s.mapping.roles_groups = r;
        }
        if let Some(p) = update.projects_groups {
            s.mapping.projects_groups = p;
        }
        if let Some(w) = &update.workspaces_groups {
            s.mapping.workspaces_groups = resolve_workspaces(&mut tx, org, w).await?;
        }
        if let Some(f) = update.fallback_role {
            s.mapping.fallback = f;
        }
        check_mapping(&mut tx, org, &s.mapping).await?;
        let (sp_key_sealed, sp_cert) = match &before {
            Some(r) if r.sp_cert.is_some() => (r.sp_key_sealed.clone(), r.sp_cert.clone()),
            _ => self.new_sp_key(org).await?,
        };
        let record_new = SamlSettingsRecord {
            org,
            token: s.token.clone(),
            domain: s.domains.join(","),
            idp_provider: s.idp_provider.clone(),
            metadata_url: s.metadata_url.clone(),
            metadata_xml: s.metadata_xml.clone(),
            metadata_fetched_at: s.metadata_fetched_at,
            nameid_format: s.nameid_format.clone(),
            mapping_email: s.attributes.email.clone(),
            mapping_first_name: s.attributes.first_name.clone(),
            mapping_last_name: s.attributes.last_name.clone(),
            mapping_groups: s.attributes.groups.clone(),
            mapping: mapping_to_json(&s.mapping).to_string(),
            sp_key_sealed,
            sp_cert,
            updated_at: now,
            metadata_checked_at: s.metadata_checked_at,
            metadata_error: s.metadata_error.clone(),
        };
        store::put_settings(&mut tx, &record_new).await?;
        self.set_manual_management(&mut tx, by, update.manual, now)
            .await?;
        let event = Event::new(AuditAction::SamlSettingsChanged, Some(&by.user))
            .change(before.as_ref().map(summary), summary(&record_new));
        record(&mut tx, org, now, &by.context, event).await?;
        tx.commit().await?;
        Ok(s)
    }

    /// Removes the SAML settings (the SDK's `sso.saml.reset`): sign-in through the identity
    /// provider stops; accounts and memberships stay.
    pub async fn reset_saml_settings(&self, by: &Authorized<Admin>) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().write().await?;
        if let Some(before) = store::settings(&mut tx, by.org.id).await? {
            crate::sso_only::keep_identity_provider(&mut tx, by.org.id, "remove its SAML settings")
                .await?;
            store::delete_settings(&mut tx, by.org.id).await?;
            let event = Event::new(AuditAction::SamlSettingsRemoved, Some(&by.user))
                .change(summary(&before), None);
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Whether a metadata URL can be fetched and describes an identity provider, without
    /// saving anything (the SDK's `validate_metadata_url`).
    pub async fn validate_saml_metadata_url(
        &self,
        _by: &Authorized<Admin>,
        url: &str,
    ) -> Result<IdpMetadata> {
        let xml = fetch_metadata(url, &self.config().saml.metadata_allow).await?;
        check_metadata(&xml, "metadata_url")
    }

    /// The service provider's metadata for the organization whose URLs carry `token`, with
    /// the URLs built on `base` (the server's public URL).
    pub async fn saml_sp_metadata(&self, token: &str) -> Result<String> {
        let mut c = self.store().read().await?;
        let r = store::settings_by_token(&mut c, token)
            .await?
            .ok_or_else(|| ServiceError::not_found("No SAML service provider here."))?;
        let sp = self.sp_config(&r)?;
        roster_saml::sp_metadata_xml(&sp)
            .map_err(|e| ServiceError::Internal(format!("the SP metadata: {e}")))
    }

    /// The service provider as the identity provider sees it, for the organization's record.
    pub(crate) fn sp_config(&self, r: &SamlSettingsRecord) -> Result<roster_saml::SpConfig> {
        let urls = sp_urls(&self.config().public_url, &r.token);
        let key_pem = match &r.sp_key_sealed {
            Some(sealed) => Some(self.secrets().open(sealed).ok_or_else(|| {
                ServiceError::Internal("the SAML key cannot be opened with this secret".into())
            })?),
            None => self.config().saml.sp_key_pem.clone(),
        };
        let cert_pem = r
            .sp_cert
            .clone()
            .or_else(|| self.config().saml.sp_cert_pem.clone());
        Ok(roster_saml::SpConfig {
            entity_id: urls.entity_id,
            acs_url: urls.acs,
            slo_url: None,
            key_pem,
            cert_pem,
            name_id_format: Some(r.nameid_format.clone()),
        })
    }

    /// The token of an organization's SP URLs before its settings are first saved: the same
    /// on every read and on the save, so URLs copied into the IdP before saving stay right,
    /// and unguessable without the server's secret.
    fn first_saml_token(&self, org: OrgId) -> String {
        self.secrets()
            .lookup_hash(&format!("saml-sp-token:{}", org.0))[..32]
            .to_string()
    }

    /// A key and certificate for the organization's service provider: the operator's when
    /// configured (not stored per organization), otherwise a new one, sealed.
    async fn new_sp_key(&self, org: OrgId) -> Result<(Option<String>, Option<String>)> {
        if self.config().saml.sp_key_pem.is_some() {
            return Ok((None, None));
        }
        let name = format!("roster SAML SP, organization {}", org.0);
        let (key, cert) =
            tokio::task::spawn_blocking(move || roster_saml::generate_sp_keypair(&name))
                .await
                .map_err(|e| ServiceError::Internal(format!("key generation: {e}")))?
                .map_err(|e| ServiceError::Internal(format!("key generation: {e}")))?;
        Ok((Some(self.secrets().seal(&key)), Some(cert)))
    }
}

/// What the audit log shows of the settings: what decides who signs in and how.
fn summary(r: &SamlSettingsRecord) -> String {
    format!(
        "domain={} idp_provider={} metadata_url={} metadata={} mapping={}",
        r.domain,
        r.idp_provider,
        r.metadata_url.as_deref().unwrap_or("-"),
        if r.metadata_xml.is_some() {
            "set"
        } else {
            "none"
        },
        r.mapping
    )
}

/// The service provider's URLs for an organization's token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpUrls {
    pub entity_id: String,
    pub acs: String,
    pub login: String,
    pub logout: String,
    pub metadata: String,
}

pub fn sp_urls(public_url: &str, token: &str) -> SpUrls {
    let base = format!("{}/saml/{token}", public_url.trim_end_matches('/'));
    SpUrls {
        entity_id: format!("{base}/metadata"),
        acs: format!("{base}/acs"),
        login: format!("{base}/login"),
        logout: format!("{base}/logout"),
        metadata: format!("{base}/metadata"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalized_deduplicated_and_never_webmail() {
        assert_eq!(
            parse_domains("Acme.com, labs.acme.com,acme.com,").unwrap(),
            vec!["acme.com", "labs.acme.com"]
        );
        assert!(parse_domains("acme.com,gmail.com").is_err());
        assert!(parse_domains("not a domain").is_err());
        assert_eq!(parse_domains("").unwrap(), Vec::<String>::new());
    }
}
