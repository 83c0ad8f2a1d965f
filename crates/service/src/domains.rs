//! Email domains verified for an organization. A verified domain is what lets the
//! organization's identity provider attach an account that already exists, rename it or
//! change its address: without one, an IdP could take over anyone's account by naming their
//! email. The operator verifies a domain at the server's command line; an Owner proves control
//! of one with a DNS TXT record (a claim, then "Check now"). Either way `grant_domain` decides,
//! so a domain belongs to at most one organization whoever asks.

use roster_domain::domains::TxtChallenge;
use roster_domain::{AuditAction, OrgId};
use roster_store::domains::{self as store, DomainClaimRecord, VerifiedDomainRecord};
use roster_store::{orgs, Micros, StoreError, UserRecord, WriteTx};

use crate::audit::{record, Event};
use crate::{Admin, Authorized, Context, Owner, Result, Service, ServiceError};

/// Claims one organization may have waiting at once: each is a row an Owner can make at will.
pub const MAX_PENDING_CLAIMS: i64 = 20;
/// Random bytes in a claim's token (32 characters once encoded).
const TOKEN_BYTES: usize = 24;

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

/// An Owner's claim of a domain, with the TXT record that proves it.
#[derive(Debug, Clone)]
pub struct DomainClaim {
    pub domain: String,
    pub challenge: TxtChallenge,
    pub created_at: Micros,
}

impl From<DomainClaimRecord> for DomainClaim {
    fn from(c: DomainClaimRecord) -> Self {
        DomainClaim {
            challenge: TxtChallenge::new(&c.domain, &c.token),
            domain: c.domain,
            created_at: c.created_at,
        }
    }
}

/// An organization's domains: verified, and claimed by its Owner.
#[derive(Debug, Clone)]
pub struct OrgDomains {
    pub verified: Vec<VerifiedDomainRecord>,
    pub pending: Vec<DomainClaim>,
}

/// What removing a domain did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainRemoval {
    ClaimCancelled,
    VerifiedRemoved,
}

impl Service {
    /// Verifies a domain for an organization, as the operator at the server's command line
    /// (who controls the server and so vouches for the domain).
    pub async fn operator_verify_domain(&self, org: OrgId, domain: &str) -> Result<String> {
        let domain = normalize_domain(domain)?;
        let mut tx = self.store().write().await?;
        orgs::by_id(&mut tx, org).await?.ok_or_else(|| {
            ServiceError::not_found(format!("organization {} does not exist", org.0))
        })?;
        self.grant_domain(&mut tx, org, &domain, None, &Context::cli())
            .await?;
        tx.commit().await?;
        Ok(domain)
    }

    /// Removes a domain from an organization, as the operator.
    pub async fn operator_remove_domain(&self, org: OrgId, domain: &str) -> Result<()> {
        let domain = normalize_domain(domain)?;
        let mut tx = self.store().write().await?;
        if !self
            .revoke_domain(&mut tx, org, &domain, None, &Context::cli())
            .await?
        {
            return Err(ServiceError::not_found(format!(
                "{domain} is not verified for organization {}",
                org.0
            )));
        }
        tx.commit().await?;
        Ok(())
    }

    /// The domains verified for an organization.
    pub async fn verified_domains(&self, org: OrgId) -> Result<Vec<String>> {
        let mut c = self.store().read().await?;
        Ok(store::domains_of(&mut c, org)
            .await?
            .into_iter()
            .map(|d| d.domain)
            .collect())
    }

    /// The organization's verified domains and pending claims (Owners and Administrators).
    pub async fn org_domains(&self, by: &Authorized<Admin>) -> Result<OrgDomains> {
        let mut c = self.store().read().await?;
        Ok(OrgDomains {
            verified: store::domains_of(&mut c, by.org.id).await?,
            pending: store::claims_of(&mut c, by.org.id)
                .await?
                .into_iter()
                .map(DomainClaim::from)
                .collect(),
        })
    }

    /// The Owner claims a domain: the answer names the TXT record to publish. A domain the
    /// organization already claims answers that claim (and false: nothing was made). Whether
    /// another organization holds the domain is told only to whoever proves control of it.
    pub async fn claim_domain(
        &self,
        by: &Authorized<Owner>,
        domain: &str,
    ) -> Result<(DomainClaim, bool)> {
        let (domain, mut tx) = self.owner_change(by, domain).await?;
        let org = by.org.id;
        if store::domain_org(&mut tx, &domain).await? == Some(org) {
            return Err(already_verified(&domain));
        }
        if let Some(existing) = store::claim_of(&mut tx, org, &domain).await? {
            return Ok((existing.into(), false));
        }
        if store::count_claims(&mut tx, org).await? >= MAX_PENDING_CLAIMS {
            return Err(ServiceError::Conflict(format!(
                "This organization already has {MAX_PENDING_CLAIMS} domains waiting for their \
                 DNS record; check or cancel one of them first."
            )));
        }
        let claim = DomainClaimRecord {
            org,
            domain,
            token: crate::secrets::random_token(TOKEN_BYTES),
            created_at: self.now(),
        };
        store::add_claim(&mut tx, &claim, Some(by.user.id)).await?;
        tx.commit().await?;
        Ok((claim.into(), true))
    }

    /// "Check now": looks up the claim's TXT record and, when it holds the claim's value,
    /// verifies the domain for the organization. DNS is asked outside any transaction (it may
    /// take seconds); the claim is read again before anything is written.
    pub async fn check_domain(
        &self,
        by: &Authorized<Owner>,
        domain: &str,
    ) -> Result<VerifiedDomainRecord> {
        let domain = normalize_domain(domain)?;
        let org = by.org.id;
        let claim = {
            let mut c = self.store().read().await?;
            match store::claim_of(&mut c, org, &domain).await? {
                Some(claim) => claim,
                None if store::domain_org(&mut c, &domain).await? == Some(org) => {
                    return Err(already_verified(&domain))
                }
                None => return Err(no_claim(&domain)),
            }
        };
        let challenge = TxtChallenge::new(&domain, &claim.token);
        let found = self
            .dns()
            .txt(&challenge.name)
            .await
            .map_err(|e| ServiceError::Unavailable(e.to_string()))?;
        if !challenge.proven_by(&found) {
            return Err(ServiceError::CheckFailed(challenge.mismatch(&found)));
        }
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        // Cancelled (or cancelled and claimed anew, with another token) while DNS answered.
        if store::claim_of(&mut tx, org, &domain).await? != Some(claim) {
            return Err(no_claim(&domain));
        }
        let verified = self
            .grant_domain(&mut tx, org, &domain, Some(&by.user), &by.context)
            .await?;
        tx.commit().await?;
        Ok(verified)
    }

    /// The Owner cancels a pending claim, or removes a verified domain; the answer names the
    /// domain as roster spells it.
    pub async fn remove_org_domain(
        &self,
        by: &Authorized<Owner>,
        domain: &str,
    ) -> Result<(String, DomainRemoval)> {
        let (domain, mut tx) = self.owner_change(by, domain).await?;
        let org = by.org.id;
        let removal = if store::remove_claim(&mut tx, org, &domain).await? {
            DomainRemoval::ClaimCancelled
        } else if self
            .revoke_domain(&mut tx, org, &domain, Some(&by.user), &by.context)
            .await?
        {
            DomainRemoval::VerifiedRemoved
        } else {
            return Err(ServiceError::not_found(format!(
                "{domain} is neither verified nor claimed for this organization."
            )));
        };
        tx.commit().await?;
        Ok((domain, removal))
    }

    /// The domain as roster spells it, and the transaction of an Owner's change, in which
    /// they are still the Owner.
    async fn owner_change(
        &self,
        by: &Authorized<Owner>,
        domain: &str,
    ) -> Result<(String, WriteTx)> {
        let domain = normalize_domain(domain)?;
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        Ok((domain, tx))
    }

    /// Verifies `domain` for `org`, unless an organization already holds it: the one place
    /// that decides a domain belongs to one organization. The organization's claim of it, if
    /// any, is done with.
    async fn grant_domain(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        domain: &str,
        actor: Option<&UserRecord>,
        ctx: &Context,
    ) -> Result<VerifiedDomainRecord> {
        let taken = || {
            ServiceError::Conflict(format!(
                "{domain} is verified for another organization; a domain belongs to one. Its \
                 Owner (or the server's operator) must remove it there first."
            ))
        };
        let now = self.now();
        match store::domain_org(tx, domain).await? {
            Some(holder) if holder == org => return Err(already_verified(domain)),
            Some(_) => return Err(taken()),
            None => {}
        }
        match store::add_domain(tx, domain, org, actor.map(|u| u.id), now).await {
            Err(StoreError::Duplicate) => return Err(taken()),
            other => other?,
        }
        store::remove_claim(tx, org, domain).await?;
        let event = Event::new(AuditAction::DomainVerified, actor).change(None, domain.to_string());
        record(tx, org, now, ctx, event).await?;
        Ok(VerifiedDomainRecord {
            domain: domain.to_string(),
            verified_at: now,
        })
    }

    /// Removes a verified domain from `org`, with its audit event; false when it was not
    /// verified for it.
    async fn revoke_domain(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        domain: &str,
        actor: Option<&UserRecord>,
        ctx: &Context,
    ) -> Result<bool> {
        if !store::remove_domain(tx, domain, org).await? {
            return Ok(false);
        }
        let event = Event::new(AuditAction::DomainRemoved, actor).change(domain.to_string(), None);
        record(tx, org, self.now(), ctx, event).await?;
        Ok(true)
    }
}

fn already_verified(domain: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "{domain} is already verified for this organization."
    ))
}

fn no_claim(domain: &str) -> ServiceError {
    ServiceError::not_found(format!(
        "{domain} has no pending claim in this organization; add the domain first."
    ))
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
