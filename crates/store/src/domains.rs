//! Email domains of organizations: the domains verified for one (a domain belongs to at most
//! one organization: the primary key says so) and the Owners' pending claims, each waiting for
//! its DNS TXT record.

use roster_domain::{OrgId, UserId};

use crate::db::handle;
use crate::sql::{query, Row};
use crate::{Conn, Micros, Result, WriteTx};

/// A domain verified for an organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedDomainRecord {
    pub domain: String,
    pub verified_at: Micros,
}

/// An Owner's claim of a domain, waiting for its TXT record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainClaimRecord {
    pub org: OrgId,
    pub domain: String,
    pub token: String,
    pub created_at: Micros,
}

// ---- verified domains -----------------------------------------------------------------

/// Verifies a domain for an organization; `Duplicate` when any organization already has it.
pub async fn add_domain(
    c: &mut WriteTx,
    domain: &str,
    org: OrgId,
    by: Option<UserId>,
    now: Micros,
) -> Result<()> {
    let q = query(
        "INSERT INTO verified_domains (domain, org_id, verified_by, verified_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(domain)
    .bind(org.0)
    .bind(by.map(|u| u.0))
    .bind(now);
    handle(c).execute(q).await?;
    Ok(())
}

/// Removes a domain from an organization; false when it was not verified for it.
pub async fn remove_domain(c: &mut WriteTx, domain: &str, org: OrgId) -> Result<bool> {
    let q = query("DELETE FROM verified_domains WHERE domain = $1 AND org_id = $2")
        .bind(domain)
        .bind(org.0);
    Ok(handle(c).execute(q).await? > 0)
}

pub async fn domains_of(c: &mut Conn, org: OrgId) -> Result<Vec<VerifiedDomainRecord>> {
    let q =
        query("SELECT domain, verified_at FROM verified_domains WHERE org_id = $1 ORDER BY domain")
            .bind(org.0);
    handle(c)
        .fetch_all(q, |r| {
            Ok(VerifiedDomainRecord {
                domain: r.text(0)?,
                verified_at: r.int(1)?,
            })
        })
        .await
}

/// The organization a domain is verified for.
pub async fn domain_org(c: &mut Conn, domain: &str) -> Result<Option<OrgId>> {
    let q = query("SELECT org_id FROM verified_domains WHERE domain = $1").bind(domain);
    Ok(handle(c).fetch_optional(q, |r| r.int(0)).await?.map(OrgId))
}

// ---- claims ---------------------------------------------------------------------------

const CLAIM_COLS: &str = "org_id, domain, token, created_at";

fn claim(r: &dyn Row) -> Result<DomainClaimRecord> {
    Ok(DomainClaimRecord {
        org: OrgId(r.int(0)?),
        domain: r.text(1)?,
        token: r.text(2)?,
        created_at: r.int(3)?,
    })
}

/// Records a claim; `Duplicate` when the organization already claims the domain.
pub async fn add_claim(
    c: &mut WriteTx,
    claim: &DomainClaimRecord,
    by: Option<UserId>,
) -> Result<()> {
    let q = query(
        "INSERT INTO domain_claims (org_id, domain, token, requested_by, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(claim.org.0)
    .bind(claim.domain.as_str())
    .bind(claim.token.as_str())
    .bind(by.map(|u| u.0))
    .bind(claim.created_at);
    handle(c).execute(q).await?;
    Ok(())
}

pub async fn claim_of(c: &mut Conn, org: OrgId, domain: &str) -> Result<Option<DomainClaimRecord>> {
    let q = query(format!(
        "SELECT {CLAIM_COLS} FROM domain_claims WHERE org_id = $1 AND domain = $2"
    ))
    .bind(org.0)
    .bind(domain);
    handle(c).fetch_optional(q, claim).await
}

/// An organization's pending claims, by domain.
pub async fn claims_of(c: &mut Conn, org: OrgId) -> Result<Vec<DomainClaimRecord>> {
    let q = query(format!(
        "SELECT {CLAIM_COLS} FROM domain_claims WHERE org_id = $1 ORDER BY domain"
    ))
    .bind(org.0);
    handle(c).fetch_all(q, claim).await
}

pub async fn count_claims(c: &mut Conn, org: OrgId) -> Result<i64> {
    let q = query("SELECT COUNT(*) FROM domain_claims WHERE org_id = $1").bind(org.0);
    Ok(handle(c)
        .fetch_optional(q, |r| r.int(0))
        .await?
        .unwrap_or(0))
}

/// Removes a claim; false when there was none.
pub async fn remove_claim(c: &mut WriteTx, org: OrgId, domain: &str) -> Result<bool> {
    let q = query("DELETE FROM domain_claims WHERE org_id = $1 AND domain = $2")
        .bind(org.0)
        .bind(domain);
    Ok(handle(c).execute(q).await? > 0)
}
