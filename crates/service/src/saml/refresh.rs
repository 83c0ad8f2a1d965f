//! Keeping an identity provider's metadata current: metadata given by URL is fetched again
//! on a schedule (every node may run the schedule; a conditional update lets one node take
//! each organization) and whenever an Owner or Administrator asks. A new signing certificate
//! at the identity provider is thus picked up without anyone acting. A fetch that cannot be
//! used is recorded and shown, and the metadata in use stays, so sign-in keeps working.

use roster_domain::{AuditAction, OrgId, Source};
use roster_saml::IdpMetadata;
use roster_store::orgs;
use roster_store::saml as store;

use super::fetch::fetch_metadata;
use super::settings::{check_metadata, SamlSettings};
use crate::audit::{record, Event};
use crate::{clock, Admin, Authorized, Context, Result, Service, ServiceError};

/// How many organizations one scheduled pass fetches; the rest wait for the next pass.
const REFRESH_BATCH: i64 = 100;

/// What fetching an organization's metadata came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataFetch {
    /// The document differs from the one in use and replaced it.
    Changed,
    Unchanged,
    /// The document could not be used (the words say why); the one in use stays.
    Failed(String),
    /// The settings' URL changed (or SAML was removed) while fetching; nothing was recorded.
    Superseded,
}

/// The words of a refusal, without the field name the API adds in front.
fn reason(e: &ServiceError) -> String {
    match e {
        ServiceError::Invalid { fields, message } => fields
            .first()
            .map_or_else(|| message.clone(), |(_, m)| m.clone()),
        other => other.to_string(),
    }
}

/// What the audit log shows of an identity provider's metadata.
fn describe(idp: Option<&IdpMetadata>) -> String {
    match idp {
        Some(i) => format!(
            "entity_id={} sso_url={} signing_certificates={}",
            i.entity_id,
            i.sso_redirect_url
                .as_deref()
                .or(i.sso_post_url.as_deref())
                .unwrap_or("-"),
            i.signing_certs.len()
        ),
        None => "none".into(),
    }
}

impl Service {
    /// Fetches the organization's metadata from its URL now ("Refresh metadata", `POST
    /// /api/saml/settings/refresh-metadata`). A document that cannot be used is refused in
    /// words (and recorded, so the page shows it); the metadata in use stays.
    pub async fn refresh_saml_metadata(
        &self,
        by: &Authorized<Admin>,
    ) -> Result<(SamlSettings, MetadataFetch)> {
        let url = {
            let mut c = self.store().read().await?;
            store::settings(&mut c, by.org.id)
                .await?
                .and_then(|r| r.metadata_url)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "metadata_url",
                        "the SAML settings have no metadata URL to fetch from",
                    )
                })?
        };
        let outcome = self
            .fetch_saml_metadata(by.org.id, &url, Some(by), &by.context)
            .await?;
        if let MetadataFetch::Failed(why) = &outcome {
            return Err(ServiceError::invalid("metadata_url", why.clone()));
        }
        let (settings, _) = self.saml_settings(by).await?;
        Ok((settings, outcome))
    }

    /// One scheduled pass: fetches the metadata of every organization (up to a batch) whose
    /// last fetch is older than the configured interval. Returns how many this node fetched.
    pub async fn refresh_due_saml_metadata(&self) -> Result<usize> {
        let every = self.config().saml.metadata_refresh_secs;
        if every <= 0 {
            return Ok(0);
        }
        let now = self.now();
        let due = {
            let mut c = self.store().read().await?;
            store::metadata_due(&mut c, now - every * clock::SECOND, REFRESH_BATCH).await?
        };
        let context = Context {
            source: Source::Saml,
            address: None,
        };
        let mut fetched = 0;
        for (org, url, seen) in due {
            // Another node may have taken this organization since it was read.
            let mut tx = self.store().write().await?;
            let ours = store::claim_metadata_check(&mut tx, org, seen, now).await?;
            tx.commit().await?;
            if !ours {
                continue;
            }
            match self.fetch_saml_metadata(org, &url, None, &context).await? {
                MetadataFetch::Failed(why) => {
                    tracing::warn!(org = org.0, %url, %why, "SAML metadata refresh failed");
                }
                outcome => tracing::info!(org = org.0, ?outcome, "SAML metadata refreshed"),
            }
            fetched += 1;
        }
        Ok(fetched)
    }

    /// Fetches `url` and records what came of it, unless the settings moved on meanwhile.
    async fn fetch_saml_metadata(
        &self,
        org: OrgId,
        url: &str,
        by: Option<&Authorized<Admin>>,
        context: &Context,
    ) -> Result<MetadataFetch> {
        // Over the network before the transaction, so no lock is held while waiting.
        let fetched = match fetch_metadata(url, &self.config().saml.metadata_allow).await {
            Ok(xml) => check_metadata(&xml, "metadata_url").map(|idp| (xml, idp)),
            Err(e) => Err(e),
        };
        let fetched = match fetched {
            Ok(ok) => Ok(ok),
            Err(e @ (ServiceError::Invalid { .. } | ServiceError::Internal(_))) => Err(reason(&e)),
            Err(other) => return Err(other),
        };
        let now = self.now();
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let Some(before) = store::settings(&mut tx, org).await? else {
            return Ok(MetadataFetch::Superseded);
        };
        if before.metadata_url.as_deref() != Some(url) {
            return Ok(MetadataFetch::Superseded);
        }
        let outcome = match &fetched {
            Ok((xml, idp)) => {
                store::record_metadata_fetch(&mut tx, org, url, Ok(xml), now).await?;
                if before.metadata_xml.as_deref() == Some(xml.as_str()) {
                    MetadataFetch::Unchanged
                } else {
                    let old = before
                        .metadata_xml
                        .as_deref()
                        .and_then(|x| roster_saml::parse_idp_metadata(x).ok());
                    let event =
                        Event::new(AuditAction::SamlMetadataRefreshed, by.map(|b| b.user()))
                            .change(describe(old.as_ref()), describe(Some(idp)));
                    record(&mut tx, org, now, context, event).await?;
                    MetadataFetch::Changed
                }
            }
            Err(why) => {
                store::record_metadata_fetch(&mut tx, org, url, Err(why), now).await?;
                MetadataFetch::Failed(why.clone())
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }
}
