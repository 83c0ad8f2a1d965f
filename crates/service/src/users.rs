//! Users as the API shows them: the caller's own account, and the users of an organization.

use roster_domain::{policy, Access, OrgId, UserId};
use roster_store::{members, users, MemberRow, MembershipRecord, UserRecord};

use crate::accounts::check_name;
use crate::{Authenticated, Authorized, Member, Result, Service, ServiceError, Staff};

/// The caller with their live memberships.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRecord,
    pub memberships: Vec<MembershipRecord>,
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
        let v = check_name("username", v)?;
        if v.is_empty() {
            return Err(ServiceError::invalid("username", "must not be empty"));
        }
        u.username = v;
    }
    Ok(u)
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

    /// Updates the caller's own profile, including which organization is active.
    pub async fn update_current_user(
        &self,
        who: &Authenticated,
        patch: ProfilePatch,
    ) -> Result<CurrentUser> {
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
        let user = users::by_id(&mut tx, who.user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("account"))?;
        let memberships = members::of_user(&mut tx, who.user.id).await?;
        roster_store::commit(tx).await?;
        Ok(CurrentUser { user, memberships })
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

    /// Edits a user: members edit themselves; Owners and Administrators may edit others' names.
    pub async fn update_user(
        &self,
        by: &Authorized<Member>,
        id: UserId,
        patch: ProfilePatch,
    ) -> Result<MemberRow> {
        if id != by.user.id {
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
        let row = members::live_with_user(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user"))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }
}

async fn write_profile(c: &mut roster_store::Conn, u: &UserRecord) -> Result<()> {
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
    .await?;
    Ok(())
}
