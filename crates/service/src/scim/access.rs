//! Who speaks for an organization's identity provider: its dedicated SCIM token, or (as in
//! Label Studio Enterprise) the personal credential of that organization's Owner or an
//! Administrator. Either way the actor is the identity provider of one organization, read
//! fresh on every request.

use roster_domain::policy::{self, Access};
use roster_domain::{AuditAction, OrgId};
use roster_store::{scim, Micros, OrgRecord, UserRecord};

use crate::audit::{record, Event};
use crate::membership::{Actor, Idp};
use crate::secrets::random_token;
use crate::{Admin, Authenticated, Authorized, Context, Result, Service, ServiceError};

/// Proof that a request speaks for one organization's identity provider. Only the service
/// makes one.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub(crate) org: OrgRecord,
    /// The person whose credential was used, when it was not a SCIM token.
    pub(crate) on_behalf_of: Option<UserRecord>,
    pub(crate) context: Context,
    /// Invites this request made, mailed once its transaction has committed (and dropped
    /// if it rolled back).
    pub(crate) outbox: Outbox,
}

/// Invites waiting for their transaction to commit before they are mailed.
pub(crate) type Outbox = std::sync::Arc<std::sync::Mutex<Vec<crate::invites::InviteView>>>;

impl ScimCaller {
    pub fn org(&self) -> &OrgRecord {
        &self.org
    }

    pub fn org_id(&self) -> OrgId {
        self.org.id
    }

    /// The principal the membership path sees acting.
    pub(crate) fn actor(&self) -> Actor {
        Actor::IdentityProvider {
            idp: Idp::Scim,
            on_behalf_of: self.on_behalf_of.clone(),
        }
    }
}

/// The state of an organization's dedicated SCIM token (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimTokenState {
    pub created_at: Option<Micros>,
}

/// A SCIM token starts with this, so that one pasted in the wrong place is recognisable.
const TOKEN_PREFIX: &str = "scim_";

fn refused() -> ServiceError {
    ServiceError::Unauthenticated("Invalid SCIM token.".into())
}

impl Service {
    /// Resolves `Authorization: Bearer <token>` when it is a dedicated SCIM token.
    pub async fn authenticate_scim_token(
        &self,
        token: &str,
        context: Context,
    ) -> Result<ScimCaller> {
        if !token.starts_with(TOKEN_PREFIX) {
            return Err(refused());
        }
        let mut c = self.store().read().await?;
        let org = scim::token_org(&mut c, &self.secrets().lookup_hash(token))
            .await?
            .ok_or_else(refused)?;
        Ok(ScimCaller {
            org,
            on_behalf_of: None,
            context: scim_context(context),
            outbox: Outbox::default(),
        })
    }

    /// A person's credential speaking for the identity provider of the one organization
    /// they own or administer.
    pub async fn scim_caller_for(
        &self,
        who: &Authenticated,
        context: Context,
    ) -> Result<ScimCaller> {
        let admin_of: Vec<OrgId> = who
            .memberships
            .iter()
            .filter(|m| policy::allows(m.role, Access::Admin))
            .map(|m| m.org)
            .collect();
        let org = match admin_of.as_slice() {
            [only] => *only,
            [] => {
                return Err(ServiceError::Forbidden(
                    "SCIM needs the credential of an organization's Owner or Administrator, or its SCIM token."
                        .into(),
                ))
            }
            _ => {
                return Err(ServiceError::Unauthenticated(
                    "You own or administer several organizations: use the SCIM token of the one to provision."
                        .into(),
                ))
            }
        };
        let by: Authorized<Admin> = self
            .authorize(who, crate::OrgRef::Path(org.0), context.clone())
            .await?;
        Ok(ScimCaller {
            org: by.org,
            on_behalf_of: Some(by.user),
            context: scim_context(context),
            outbox: Outbox::default(),
        })
    }

    /// Makes the organization's SCIM token, revoking the previous one; shown once.
    pub async fn create_scim_token(&self, by: &Authorized<Admin>) -> Result<String> {
        let token = format!("{TOKEN_PREFIX}{}", random_token(32));
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        scim::replace_token(
            &mut tx,
            by.org.id,
            &self.secrets().lookup_hash(&token),
            Some(by.user.id),
            now,
        )
        .await?;
        let event = Event::new(AuditAction::ScimTokenCreated, Some(&by.user));
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        tx.commit().await?;
        Ok(token)
    }

    pub async fn scim_token_state(&self, by: &Authorized<Admin>) -> Result<ScimTokenState> {
        let mut c = self.store().read().await?;
        Ok(ScimTokenState {
            created_at: scim::token_created_at(&mut c, by.org.id).await?,
        })
    }
}

/// Changes a SCIM request makes are recorded with the identity provider as their source.
fn scim_context(context: Context) -> Context {
    Context {
        source: roster_domain::Source::Scim,
        address: context.address,
    }
}
