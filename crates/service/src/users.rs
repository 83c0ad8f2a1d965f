//! Users as the API shows them: the caller's own account, and the users of an organization.

use roster_domain::{policy, rules, Access, AuditAction, OrgId, UserId};
use roster_store::{credentials, members, users, MemberRow, MembershipRecord, UserRecord};

use crate::accounts::{check_name, NewSession};
use crate::audit::{record, Event};
use crate::{
    passwords, Authenticated, Authorized, Context, CredentialKind, Member, Result, Service,
    ServiceError, Staff,
};

/// The caller with their live memberships.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRecord,
    pub memberships: Vec<MembershipRecord>,
}

impl CurrentUser {
    /// The caller's role in their active organization.
    pub fn active_role(&self) -> Option<roster_domain::Role> {
        self.memberships
            .iter()
            .find(|m| Some(m.org) == self.user.active_org)
            .map(|m| m.role)
    }

    /// Whether the caller holds `access` in their active organization (what pages offer).
    pub fn may_in_active_org(&self, access: Access) -> bool {
        self.active_role()
            .is_some_and(|r| policy::allows(r, access))
    }

    /// The permission names the caller holds in their active organization, whose
    /// configurable permissions are `grants` (see `Service::active_grants`).
    pub fn permissions(&self, grants: &roster_domain::Grants) -> Vec<&'static str> {
        self.active_role()
            .map(|role| roster_domain::permissions::permission_names(role, grants))
            .unwrap_or_default()
    }
}

/// A password change: the current password proves it is the person, the new one replaces it.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    pub current: &'a str,
    pub new: &'a str,
}

/// A partial profile update; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub active_organization: Option<OrgId>,
}

impl ProfilePatch {
    fn names_only(&self) -> bool {
        self.username.is_none() && self.phone.is_none() && self.active_organization.is_none()
    }
}

fn apply(user: &UserRecord, p: &ProfilePatch) -> Result<UserRecord> {
    let mut u = user.clone();
    if let Some(v) = &p.first_name {
        u.first_name = check_name("first_name", v)?;
    }
    if let Some(v) = &p.last_name {
        u.last_name = check_name("last_name", v)?;
    }
    if let Some(v) = &p.phone {
        u.phone = check_name("phone", v)?;
    }
    if let Some(v) = &p.username {
        u.username = check_username(v, &user.email)?;
    }
    Ok(u)
}

/// A username is shown as its person wherever their work appears, so a username that looks
/// like an email must be the account's own (nobody can squat a future colleague's address);
/// uniqueness, case-insensitive like emails, is kept by the store's unique index.
fn check_username(raw: &str, own_email: &str) -> Result<String> {
    let v = check_name("username", raw)?;
    if v.is_empty() {
        return Err(ServiceError::invalid("username", "must not be empty"));
    }
    if v.contains('@') && roster_store::users::fold(&v) != own_email {
        return Err(ServiceError::invalid(
            "username",
            "A username that looks like an email address must be your own email address.",
        ));
    }
    Ok(v)
}

async fn write_profile(c: &mut roster_store::WriteTx, u: &UserRecord) -> Result<()> {
    users::update_profile(
        c,
        u.id,
        users::ProfileUpdate {
            username: &u.username,
            first_name: &u.first_name,
            last_name: &u.last_name,
            phone: &u.phone,
        },
    )
    .await
    .map_err(|e| match e {
        roster_store::StoreError::Duplicate => {
            ServiceError::invalid("username", "This username is taken; choose another.")
        }
        other => other.into(),
    })
}

impl Service {
    /// The caller with their live memberships, both as read with the credential for this
    /// request: `whoami` costs no query beyond authentication.
    pub fn current_user(&self, who: &Authenticated) -> CurrentUser {
        CurrentUser {
            user: who.user.clone(),
            memberships: who.memberships.clone(),
        }
    }

    /// Updates the caller's own profile, including which organization is active, and
    /// changes their password when asked to, all in one transaction: a request that fails on
    /// any field changes nothing. A password change ends every browser session of the person;
    /// a caller signed in with a session continues in a new one (returned here). Legacy keys
    /// and personal access tokens are credentials of their own and stay valid.
    pub async fn update_current_user(
        &self,
        who: &Authenticated,
        patch: ProfilePatch,
        password: Option<PasswordChange<'_>>,
        ctx: &Context,
    ) -> Result<(CurrentUser, Option<NewSession>)> {
        who.check_personal("change your account")?;
        // The slow, throttled password work happens before the transaction opens.
        let new_hash = match &password {
            Some(change) => {
                passwords::check_policy(change.new)?;
                self.check_password(&who.user.email, change.current, ctx)
                    .await
                    .map_err(|e| match e {
                        ServiceError::Unauthenticated(_) => {
                            ServiceError::invalid("current_password", "is not correct")
                        }
                        other => other,
                    })?;
                Some(self.password_hashing().hash(change.new.to_string()).await?)
            }
            None => None,
        };
        let mut tx = self.store().write().await?;
        let before = users::by_id(&mut tx, who.user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("account"))?;
        let after = apply(&before, &patch)?;
        if let Some(org) = patch.active_organization {
            if members::live(&mut tx, org, who.user.id).await?.is_none() {
                return Err(ServiceError::invalid(
                    "active_organization",
                    format!("you are not a member of organization {org}"),
                ));
            }
            users::set_active_org(&mut tx, who.user.id, Some(org)).await?;
        }
        write_profile(&mut tx, &after).await?;
        let mut session = None;
        if let Some(hash) = new_hash {
            users::set_password(&mut tx, who.user.id, &hash).await?;
            credentials::delete_sessions_of(&mut tx, who.user.id).await?;
            if who.kind == CredentialKind::Session {
                // The new session keeps what this one's sign-in proved.
                session = Some(
                    self.insert_session_tx(&mut tx, who.user.id, None, who.second_factor)
                        .await?,
                );
            }
            if let Some(org) = before.active_org {
                record(
                    &mut tx,
                    org,
                    self.now(),
                    ctx,
                    Event::new(AuditAction::PasswordChanged, Some(&before)).target(&before),
                )
                .await?;
            }
        }
        let user = users::by_id(&mut tx, who.user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("account"))?;
        let memberships = members::of_user(&mut tx, who.user.id).await?;
        roster_store::commit(tx).await?;
        Ok((CurrentUser { user, memberships }, session))
    }

    /// Users who are live members of the organization, by email.
    pub async fn list_users(
        &self,
        by: &Authorized<Staff>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<MemberRow>> {
        let mut c = self.store().read().await?;
        Ok(members::live_users(&mut c, by.org.id, limit, offset).await?)
    }

    /// One user of the organization: anyone may read themselves, staff may read any member.
    pub async fn get_user(&self, by: &Authorized<Member>, id: UserId) -> Result<MemberRow> {
        if id != by.user.id {
            by.require::<Staff>()?;
        }
        let mut c = self.store().read().await?;
        members::live_with_user(&mut c, by.org.id, id)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!("No user with id {id} in this organization."))
            })
    }

    /// Edits a user: members edit themselves; Owners and Administrators may edit the names of
    /// a member who belongs to this organization alone (never the Owner's, by an
    /// Administrator), audited here (PRODUCT.md rule 11).
    pub async fn update_user(
        &self,
        by: &Authorized<Member>,
        id: UserId,
        patch: ProfilePatch,
    ) -> Result<MemberRow> {
        let someone_else = id != by.user.id;
        if someone_else {
            policy::check(by.role(), Access::Admin)?;
            if !patch.names_only() {
                return Err(ServiceError::Forbidden(
                    "You may change only the first and last name of another member.".into(),
                ));
            }
        }
        let mut tx = self.store().write().await?;
        let row = members::live_with_user(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!("No user with id {id} in this organization."))
            })?;
        if someone_else {
            // The actor's role is read again here, in the transaction that writes.
            let actor = members::live(&mut tx, by.org.id, by.user.id)
                .await?
                .ok_or_else(|| ServiceError::not_found("organization"))?;
            policy::check(actor.role, Access::Admin)?;
            let memberships = members::of_user(&mut tx, id).await?.len();
            rules::check_name_edit(actor.role, row.membership.role, memberships)?;
        }
        let after = apply(&row.user, &patch)?;
        if let Some(org) = patch.active_organization {
            if members::live(&mut tx, org, id).await?.is_none() {
                return Err(ServiceError::invalid(
                    "active_organization",
                    format!("not a member of organization {org}"),
                ));
            }
            users::set_active_org(&mut tx, id, Some(org)).await?;
        }
        write_profile(&mut tx, &after).await?;
        let renamed =
            (row.user.first_name != after.first_name) || (row.user.last_name != after.last_name);
        if someone_else && renamed {
            let name = |u: &UserRecord| format!("{} {}", u.first_name, u.last_name);
            let event = Event::new(AuditAction::MemberRenamed, Some(&by.user))
                .target(&row.user)
                .change(Some(name(&row.user)), name(&after));
            record(&mut tx, by.org.id, self.now(), &by.context, event).await?;
        }
        let row = members::live_with_user(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user"))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }
}
