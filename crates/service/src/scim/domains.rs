//! Email domains verified for an organization. A verified domain is what lets the
//! organization's identity provider attach an account that already exists, rename it or
//! change its address: without one, an IdP could take over anyone's account by naming their
//! email.

use roster_domain::{AuditAction, OrgId};
use roster_store::{orgs, scim, StoreError};

use crate::audit::{record, Event};
use crate::{Context, Result, Service, ServiceError};

/// A domain as roster compares it: lower case, no trailing dot.
pub fn normalize_domain(domain: &str) -> Result<String> {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    let labels_ok = d.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    });
    if d.len() > 253 || !d.contains('.') || !labels_ok {
        return Err(ServiceError::invalid(
            "domain",
            format!("{domain:?} is not a domain name (like example.com)"),
        ));
    }
    Ok(d)
}

/// The domain of an email address (lower-cased).
pub fn email_domain(email: &str) -> Option<&str> {
    email.rsplit_once('@').map(|(_, d)| d)
}

impl Service {
    /// Verifies a domain for an organization, as the operator at the server's command line
    /// (who controls the server and so vouches for the domain).
    pub async fn operator_verify_domain(&self, org: OrgId, domain: &str) -> Result<String> {
        let domain = normalize_domain(domain)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        orgs::by_id(&mut tx, org).await?.ok_or_else(|| {
            ServiceError::not_found(format!("organization {} does not exist", org.0))
        })?;
        if let Some(holder) = scim::domain_org(&mut tx, &domain).await? {
            return Err(ServiceError::Conflict(if holder == org {
                format!("{domain} is already verified for this organization")
            } else {
                format!("{domain} is verified for another organization; a domain belongs to one")
            }));
        }
        match scim::add_domain(&mut tx, &domain, org, None, now).await {
            Err(StoreError::Duplicate) => {
                return Err(ServiceError::Conflict(format!(
                    "{domain} is verified for another organization; a domain belongs to one"
                )))
            }
            other => other?,
        }
        let event = Event::new(AuditAction::DomainVerified, None).change(None, domain.clone());
        record(&mut tx, org, now, &Context::cli(), event).await?;
        tx.commit().await?;
        Ok(domain)
    }

    /// Removes a domain from an organization, as the operator.
    pub async fn operator_remove_domain(&self, org: OrgId, domain: &str) -> Result<()> {
        let domain = normalize_domain(domain)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        if !scim::remove_domain(&mut tx, &domain, org).await? {
            return Err(ServiceError::not_found(format!(
                "{domain} is not verified for organization {}",
                org.0
            )));
        }
        let event = Event::new(AuditAction::DomainRemoved, None).change(domain, None);
        record(&mut tx, org, now, &Context::cli(), event).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The domains verified for an organization.
    pub async fn verified_domains(&self, org: OrgId) -> Result<Vec<String>> {
        let mut c = self.store().read().await?;
        Ok(scim::domains_of(&mut c, org).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_compared_lower_case_without_the_root_dot() {
        for (given, want) in [
            ("Example.COM", Some("example.com")),
            ("sub.example.co.uk.", Some("sub.example.co.uk")),
            (" example.com ", Some("example.com")),
            ("localhost", None),
            ("-bad.example.com", None),
            ("exa mple.com", None),
            ("example..com", None),
            ("a@example.com", None),
            ("", None),
        ] {
            assert_eq!(normalize_domain(given).ok().as_deref(), want, "{given:?}");
        }
    }
}
