//! Who is calling, and what they may do in the organization a request touches. The HTTP
//! extractor calls `authenticate` and then `authorize` on every request. `authenticate` reads
//! the store fresh, in one statement: the credential, the account, its live memberships, their
//! organizations and their permission overrides; `authorize` checks what that statement read.
//! So a deactivated, pending or deleted member is refused on their very next request.

use std::marker::PhantomData;

use roster_domain::policy::{self, Access};
use roster_domain::{Grants, OrgId, Permission, Role, Source};
use roster_store::credentials::{self, MemberAccess};
use roster_store::{
    members, orgs, permissions, users, Conn, MembershipRecord, OrgRecord, UserRecord,
};

use crate::tokens::{self, TokenType};
use crate::{Context, Result, Service, ServiceError};

/// The kind of credential a request carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    LegacyKey,
    AccessToken,
    Session,
}

/// A signed-in user, before any organization is considered.
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub user: UserRecord,
    /// The user's live memberships, read with the credential for this request.
    pub memberships: Vec<MembershipRecord>,
    /// The organizations of those memberships with their permissions, read in the same
    /// statement: authorizing the request reads nothing more.
    pub orgs: Vec<OrgAccess>,
    pub kind: CredentialKind,
    /// For sessions: the CSRF token every change must carry.
    pub csrf_token: Option<String>,
    /// For a session started through an organization's identity provider: that
    /// organization, the only one the session acts in.
    pub sso_org: Option<OrgId>,
    /// For sessions: the sign-in passed the person's second factor (an authenticator code).
    pub second_factor: bool,
}

/// One of the caller's organizations as read with their credential.
#[derive(Debug, Clone)]
pub struct OrgAccess {
    pub org: OrgRecord,
    pub grants: Grants,
}

impl Authenticated {
    /// A user signed in with a credential of `kind`, with their memberships' access as the
    /// credential's statement read it.
    pub(crate) fn signed_in(
        user: UserRecord,
        access: Vec<MemberAccess>,
        kind: CredentialKind,
    ) -> Self {
        let mut memberships = Vec::with_capacity(access.len());
        let mut orgs = Vec::with_capacity(access.len());
        for a in access {
            memberships.push(a.membership);
            orgs.push(OrgAccess {
                grants: grants_from(&a.overrides),
                org: a.org,
            });
        }
        Authenticated {
            user,
            memberships,
            orgs,
            kind,
            csrf_token: None,
            sso_org: None,
            second_factor: false,
        }
    }

    /// The organization `org` as read with the credential, if the caller is a live member.
    pub fn org_access(&self, org: OrgId) -> Option<&OrgAccess> {
        self.orgs.iter().find(|a| a.org.id == org)
    }

    /// Refuses what only the person, signed in with their own credentials, may do with their
    /// account (read or reset their key, make or rotate tokens, change their password, email or
    /// profile, choose another organization): an organization's identity provider vouches for
    /// them in that organization only, so a session it started must not mint credentials that
    /// reach the person's other organizations.
    pub fn check_personal(&self, what: &str) -> Result<()> {
        match self.sso_org {
            None => Ok(()),
            Some(_) => Err(ServiceError::Forbidden(format!(
                "You signed in through your organization's single sign-on, which acts in that \
                 organization only. Sign in with your own password to {what}."
            ))),
        }
    }
}

/// Which organization a request touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgRef {
    /// The id in the path; 0 means "my only organization".
    Path(i64),
    /// The caller's active organization (paths that name none).
    Active,
}

/// An access level a handler can require; the marker types below are its values. A level
/// may also name a configurable permission, which the organization's overrides decide.
pub trait AccessLevel {
    const ACCESS: Access;
    const PERMISSION: Option<Permission> = None;
}

macro_rules! level {
    ($($(#[$doc:meta])* $name:ident => $access:expr $(, granted $perm:expr)?);* $(;)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name;
        impl AccessLevel for $name {
            const ACCESS: Access = $access;
            $(const PERMISSION: Option<Permission> = Some($perm);)?
        }
    )*};
}

level!(
    /// Any member in a working role.
    Member => Access::Member;
    /// Owner, Administrator or Manager.
    Staff => Access::Staff;
    /// Owner or Administrator.
    Admin => Access::Admin;
    /// The Owner.
    Owner => Access::Owner;
    /// A member whose role the organization lets invite people (by default OW and AD).
    Invite => Access::Member, granted Permission::InviteMembers;
    /// A member whose role the organization lets read its activity log (by default OW and AD).
    ReadActivityLog => Access::Member, granted Permission::ViewActivityLog;
);

/// Checks a role against a level: its access, then the permission it names, if any.
fn check_level<A: AccessLevel>(role: Role, grants: &Grants) -> Result<()> {
    policy::check(role, A::ACCESS)?;
    if let Some(p) = A::PERMISSION {
        grants.check(role, p)?;
    }
    Ok(())
}

/// The organization's permission overrides, read fresh.
pub(crate) async fn grants_of(c: &mut Conn, org: OrgId) -> Result<Grants> {
    Ok(grants_from(&permissions::of_org(c, org).await?))
}

/// The grants that overrides already read make.
pub(crate) fn grants_from(overrides: &[permissions::OverrideRecord]) -> Grants {
    Grants::new(
        overrides
            .iter()
            .map(|o| (o.permission, o.roles.clone()))
            .collect(),
    )
}

/// Proof that `user` holds access level `A` in `org`, read from the store for this request.
/// Only the service creates one and nothing outside it can change one, so a function that
/// takes `&Authorized<Admin>` cannot be called without the check.
#[derive(Debug, Clone)]
pub struct Authorized<A> {
    pub(crate) user: UserRecord,
    pub(crate) org: OrgRecord,
    pub(crate) membership: MembershipRecord,
    pub(crate) context: Context,
    /// The organization's permission overrides, read with the membership for this request.
    pub(crate) grants: Grants,
    _level: PhantomData<A>,
}

impl<A> Authorized<A> {
    /// The person holding the proof.
    pub fn user(&self) -> &UserRecord {
        &self.user
    }

    /// The organization, as read when the proof was made.
    pub fn org(&self) -> &OrgRecord {
        &self.org
    }

    /// The holder's membership, as read when the proof was made.
    pub fn membership(&self) -> &MembershipRecord {
        &self.membership
    }

    /// Where the request came from.
    pub fn context(&self) -> &Context {
        &self.context
    }

    pub fn role(&self) -> Role {
        self.membership.role
    }

    pub fn org_id(&self) -> OrgId {
        self.org.id
    }

    /// Whether the holder's role (as read for this request) also holds `access`: what a page
    /// or an answer may offer them beyond what the proof already covers.
    pub fn may(&self, access: Access) -> bool {
        policy::allows(self.membership.role, access)
    }

    /// Whether the holder's role holds a configurable permission in this organization.
    pub fn granted(&self, permission: Permission) -> bool {
        self.grants.holds(self.membership.role, permission)
    }

    /// The organization's permission overrides as read for this request.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// The holder's membership read again inside the caller's transaction, still holding
    /// level `A`: a change decides on the role as it is now, not as it was when the request
    /// began (a member demoted in between is refused).
    pub(crate) async fn reread(&self, tx: &mut roster_store::Conn) -> Result<MembershipRecord>
    where
        A: AccessLevel,
    {
        let m = members::live(tx, self.org.id, self.user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("No such organization."))?;
        let grants = match A::PERMISSION {
            Some(_) => grants_of(tx, self.org.id).await?,
            None => Grants::default(),
        };
        check_level::<A>(m.role, &grants)?;
        Ok(m)
    }

    /// The same proof at another level, if the role holds it (an Admin is also Staff).
    pub fn require<B: AccessLevel>(&self) -> Result<Authorized<B>> {
        check_level::<B>(self.membership.role, &self.grants)?;
        Ok(Authorized {
            user: self.user.clone(),
            org: self.org.clone(),
            membership: self.membership.clone(),
            context: self.context.clone(),
            grants: self.grants.clone(),
            _level: PhantomData,
        })
    }
}

impl Service {
    /// Resolves a legacy API key (40 hex characters).
    pub async fn authenticate_legacy_key(&self, key: &str) -> Result<Authenticated> {
        let bad = || ServiceError::Unauthenticated("Invalid token.".into());
        if key.len() != 40 || !key.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut c = self.store().read().await?;
        let (user, access) =
            credentials::user_by_legacy_hash(&mut c, &self.secrets().lookup_hash(key))
                .await?
                .ok_or_else(bad)?;
        Ok(Authenticated::signed_in(
            user,
            access,
            CredentialKind::LegacyKey,
        ))
    }

    /// Resolves a JWT access token; refused once the refresh token it came from is
    /// blacklisted, rotated or expired.
    pub async fn authenticate_access_token(&self, jwt: &str) -> Result<Authenticated> {
        let claims = tokens::decode(self, jwt, TokenType::Access)?;
        let parent = claims.parent.as_deref().ok_or_else(tokens::invalid)?;
        let mut c = self.store().read().await?;
        let refresh = credentials::refresh_by_jti(&mut c, parent)
            .await?
            .ok_or_else(tokens::invalid)?;
        if refresh.blacklisted_at.is_some()
            || refresh.expires_at <= self.now()
            || refresh.user.0 != claims.user_id
        {
            return Err(ServiceError::Unauthenticated(
                "Token is blacklisted or expired.".into(),
            ));
        }
        let (user, access) = credentials::user_with_access(&mut c, refresh.user)
            .await?
            .ok_or_else(|| ServiceError::Unauthenticated("User not found".into()))?;
        Ok(Authenticated::signed_in(
            user,
            access,
            CredentialKind::AccessToken,
        ))
    }

    /// Resolves a session cookie.
    pub async fn authenticate_session(&self, session_id: &str) -> Result<Authenticated> {
        let mut c = self.store().read().await?;
        let hash = self.secrets().lookup_hash(session_id);
        let (session, user, access) = credentials::session(&mut c, &hash, self.now())
            .await?
            .ok_or_else(|| {
                ServiceError::Unauthenticated("Your session has ended; sign in again.".into())
            })?;
        self.enforce_session_policy(&hash, &session).await?;
        // A session from an organization's single sign-on sees that membership alone.
        let access = match session.sso_org {
            Some(org) => access
                .into_iter()
                .filter(|a| a.membership.org == org)
                .collect(),
            None => access,
        };
        Ok(Authenticated {
            csrf_token: Some(session.csrf_token),
            sso_org: session.sso_org,
            second_factor: session.second_factor,
            ..Authenticated::signed_in(user, access, CredentialKind::Session)
        })
    }

    /// Refuses an action on the person's own credentials that a configurable permission
    /// governs (creating API tokens) when any organization they work in withholds it from
    /// their role there: a credential reaches every one of their organizations.
    pub(crate) async fn check_granted_everywhere(
        &self,
        c: &mut Conn,
        who: &Authenticated,
        permission: Permission,
    ) -> Result<()> {
        for m in who.memberships.iter().filter(|m| m.role.is_active()) {
            if let Err(denied) = grants_of(c, m.org).await?.check(m.role, permission) {
                return Err(ServiceError::Forbidden(format!(
                    "{denied} (organization {}).",
                    m.org.0
                )));
            }
        }
        Ok(())
    }

    /// Records activity at most once per configured interval, so most reads stay reads.
    pub async fn note_activity(&self, user: &UserRecord) -> Result<()> {
        let now = self.now();
        let interval = self.config().activity_interval;
        if user.last_activity.is_some_and(|t| now - t < interval) {
            return Ok(());
        }
        let mut tx = self.store().write().await?;
        users::touch_activity(&mut tx, user.id, now, interval).await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// Resolves the organization a request touches and checks the caller's live membership
    /// there against the permission table.
    pub async fn authorize<A: AccessLevel>(
        &self,
        who: &Authenticated,
        org: OrgRef,
        context: Context,
    ) -> Result<Authorized<A>> {
        let org_id = resolve_org(who, org)?;
        let not_found =
            || ServiceError::not_found("No such organization, or you are not a member of it.");
        let membership = who
            .memberships
            .iter()
            .find(|m| m.org == org_id)
            .cloned()
            .ok_or_else(not_found)?;
        let OrgAccess { org, grants } = who.org_access(org_id).ok_or_else(not_found)?.clone();
        match who.kind {
            CredentialKind::LegacyKey if !org.legacy_api_tokens_enabled => {
                return Err(ServiceError::Unauthenticated(
                    "Legacy token authentication has been disabled for this organization.".into(),
                ))
            }
            CredentialKind::AccessToken if !org.api_tokens_enabled => {
                return Err(ServiceError::Unauthenticated(
                    "Personal access token authentication has been disabled for this organization."
                        .into(),
                ))
            }
            _ => {}
        }
        if org.sso_only {
            crate::sso_only::admits(who, &org, &membership)?;
        }
        check_level::<A>(membership.role, &grants)?;
        Ok(Authorized {
            user: who.user.clone(),
            org,
            membership,
            context,
            grants,
            _level: PhantomData,
        })
    }

    /// The escape hatch of the operator at the server's command line (and of test fixtures):
    /// a proof of the Owner's access made without any credential, for the settings commands
    /// that act as the Owner. Membership changes take `Actor::Operator` instead.
    pub async fn operator_acting_as_owner<A: AccessLevel>(
        &self,
        org: OrgId,
    ) -> Result<Authorized<A>> {
        let mut c = self.store().read().await?;
        let org = orgs::by_id(&mut c, org).await?.ok_or_else(|| {
            ServiceError::not_found(format!("organization {} does not exist", org.0))
        })?;
        let owner = members::owner(&mut c, org.id).await?.ok_or_else(|| {
            ServiceError::Internal(format!("organization {} has no Owner", org.id))
        })?;
        let grants = grants_of(&mut c, org.id).await?;
        Ok(Authorized {
            user: owner.user,
            org,
            grants,
            membership: owner.membership,
            context: Context {
                source: Source::Cli,
                address: None,
            },
            _level: PhantomData,
        })
    }
}

/// The organization a request touches: the path's id (0 = the caller's only organization) or
/// the caller's active one.
fn resolve_org(who: &Authenticated, org: OrgRef) -> Result<OrgId> {
    match org {
        OrgRef::Path(0) => match who.memberships.as_slice() {
            [] => Err(ServiceError::not_found(
                "You are not a member of any organization.",
            )),
            [only] => Ok(only.org),
            many => {
                let ids: Vec<String> = many.iter().map(|m| m.org.0.to_string()).collect();
                Err(ServiceError::invalid(
                    "id",
                    format!(
                        "you belong to several organizations ({}); use one of their ids instead of 0",
                        ids.join(", ")
                    ),
                ))
            }
        },
        OrgRef::Path(id) if id > 0 => Ok(OrgId(id)),
        OrgRef::Path(_) => Err(ServiceError::not_found("No such organization.")),
        // A single-sign-on session's active organization is the one that started it.
        OrgRef::Active => who.sso_org.or(who.user.active_org).ok_or_else(|| {
            ServiceError::not_found("You have no active organization; choose one first.")
        }),
    }
}
