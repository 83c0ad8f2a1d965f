//! `/api/organizations/{id}/domains`: the email domains verified for an organization and its
//! Owner's pending claims. The Owner claims a domain, publishes the TXT record the answer
//! names, and asks roster to check it; Administrators may look.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_service::domains::{DomainClaim, OrgDomains};
use roster_service::{Admin, Owner};
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{InOrg, JsonBody, PathParams};
use crate::views::time;
use crate::AppState;

#[derive(Serialize, utoipa::ToSchema)]
pub struct VerifiedDomainView {
    domain: String,
    verified_at: String,
}

/// A claim waiting for its DNS record: publish a TXT record named `record_name` with the
/// value `record_value`, then ask for a check.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DomainClaimView {
    domain: String,
    /// Always `TXT`.
    record_type: String,
    record_name: String,
    record_value: String,
    created_at: String,
}

impl From<&DomainClaim> for DomainClaimView {
    fn from(c: &DomainClaim) -> Self {
        DomainClaimView {
            domain: c.domain.clone(),
            record_type: "TXT".into(),
            record_name: c.challenge.name.clone(),
            record_value: c.challenge.value.clone(),
            created_at: time(c.created_at),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct DomainsView {
    /// Domains verified for the organization: its identity provider may attach existing
    /// accounts with these email domains.
    verified: Vec<VerifiedDomainView>,
    /// The Owner's claims, each waiting for its TXT record.
    pending: Vec<DomainClaimView>,
}

impl From<&OrgDomains> for DomainsView {
    fn from(d: &OrgDomains) -> Self {
        DomainsView {
            verified: d
                .verified
                .iter()
                .map(|v| VerifiedDomainView {
                    domain: v.domain.clone(),
                    verified_at: time(v.verified_at),
                })
                .collect(),
            pending: d.pending.iter().map(DomainClaimView::from).collect(),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainBody {
    /// A domain name, like `example.com`.
    domain: String,
}

/// The organization's verified domains and pending claims (OW, AD).
#[utoipa::path(get, path = "/api/organizations/{id}/domains", tag = "organizations",
    params(("id" = i64, Path, description = "0 = your only organization")),
    responses((status = 200, body = DomainsView), (status = 403), (status = 404)))]
pub async fn list_domains(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
) -> ApiResult<Json<DomainsView>> {
    Ok(Json(DomainsView::from(
        &state.service.org_domains(&by).await?,
    )))
}

/// Claims a domain (the Owner): the answer names the TXT record to publish. A domain already
/// claimed answers its claim (200); a new claim is 201.
#[utoipa::path(post, path = "/api/organizations/{id}/domains", tag = "organizations",
    params(("id" = i64, Path)), request_body = DomainBody,
    responses((status = 201, body = DomainClaimView), (status = 200, body = DomainClaimView),
              (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn claim_domain(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    JsonBody(body): JsonBody<DomainBody>,
) -> ApiResult<(StatusCode, Json<DomainClaimView>)> {
    let (claim, created) = state.service.claim_domain(&by, &body.domain).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(DomainClaimView::from(&claim))))
}

/// Checks a claim's TXT record now (the Owner). When it holds the claim's value the domain is
/// verified for the organization; 422 says which record was expected and what DNS answered,
/// 409 that another organization holds the domain, 503 that DNS did not answer. Only a
/// success changes anything.
#[utoipa::path(post, path = "/api/organizations/{id}/domains/{domain}/verify", tag = "organizations",
    params(("id" = i64, Path), ("domain" = String, Path)),
    responses((status = 200, body = VerifiedDomainView), (status = 400), (status = 403), (status = 404),
              (status = 409), (status = 422), (status = 503)))]
pub async fn verify_domain(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    PathParams(path): PathParams<(String, String)>,
) -> ApiResult<Json<VerifiedDomainView>> {
    let verified = state.service.check_domain(&by, &path.1).await?;
    Ok(Json(VerifiedDomainView {
        domain: verified.domain,
        verified_at: time(verified.verified_at),
    }))
}

/// Cancels a pending claim or removes a verified domain (the Owner).
#[utoipa::path(delete, path = "/api/organizations/{id}/domains/{domain}", tag = "organizations",
    params(("id" = i64, Path), ("domain" = String, Path)),
    responses((status = 204), (status = 400), (status = 403), (status = 404)))]
pub async fn remove_domain(
    State(state): State<AppState>,
    InOrg(by): InOrg<Owner>,
    PathParams(path): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    state.service.remove_org_domain(&by, &path.1).await?;
    Ok(StatusCode::NO_CONTENT)
}
