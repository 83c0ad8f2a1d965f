//! Configurable permissions: the Owner's overrides of who holds each permission of
//! `roster_domain::permissions`. The one authorization path reads them on every request
//! (`access::grants_of`), so a change takes effect on the caller's very next request.

use roster_domain::permissions::{self as table, PermissionError};
use roster_domain::{AuditAction, Grants, Permission, Role};
use roster_store::{orgs, permissions};

use crate::audit::{record, Event};
use crate::{Authorized, Owner, Result, Service, ServiceError};

/// One permission as the API shows it: who holds it now, who by default, who may be given it,
/// and the override's id when the organization has one.
#[derive(Debug, Clone)]
pub struct PermissionView {
    pub permission: Permission,
    pub override_id: Option<i64>,
    pub roles: Vec<Role>,
}

fn invalid(field: &str, e: PermissionError) -> ServiceError {
    ServiceError::invalid(field, e.to_string())
}

/// Reads a key from a path or body; an unknown key is a 400 that lists the known ones.
pub fn parse_key(field: &str, key: &str) -> Result<Permission> {
    table::parse_key(key).map_err(|e| invalid(field, e))
}

impl Service {
    /// The configurable permissions of the caller's active organization: as read with the
    /// credential for this request, or read now (the defaults when they have none).
    pub async fn active_grants(&self, me: &crate::users::CurrentUser) -> Result<Grants> {
        if let Some(grants) = &me.active_grants {
            return Ok(grants.clone());
        }
        match me.user.active_org {
            Some(org) => {
                let mut c = self.store().read().await?;
                crate::access::grants_of(&mut c, org).await
            }
            None => Ok(Grants::default()),
        }
    }

    /// Every permission roster enforces, with the organization's current holders.
    pub async fn list_permissions(&self, by: &Authorized<Owner>) -> Result<Vec<PermissionView>> {
        let mut c = self.store().read().await?;
        let overrides = permissions::of_org(&mut c, by.org.id).await?;
        let grants = crate::access::grants_from(&overrides);
        Ok(Permission::ALL
            .into_iter()
            .map(|p| PermissionView {
                permission: p,
                override_id: overrides.iter().find(|o| o.permission == p).map(|o| o.id),
                roles: grants.holders(p),
            })
            .collect())
    }

    /// One permission.
    pub async fn get_permission(
        &self,
        by: &Authorized<Owner>,
        permission: Permission,
    ) -> Result<PermissionView> {
        let all = self.list_permissions(by).await?;
        Ok(all
            .into_iter()
            .find(|v| v.permission == permission)
            .expect("every permission is listed"))
    }

    /// Gives `permission` to exactly `roles` (the Owner always keeps it). `must_be_new` makes
    /// an existing override a 400 (the create call); otherwise it is replaced.
    pub async fn set_permission(
        &self,
        by: &Authorized<Owner>,
        permission: Permission,
        roles: &[String],
        must_be_new: bool,
    ) -> Result<PermissionView> {
        let roles = table::override_roles(permission, roles).map_err(|e| invalid("roles", e))?;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, by.org.id).await?;
        by.reread(&mut tx).await?;
        let overrides = permissions::of_org(&mut tx, by.org.id).await?;
        let before = crate::access::grants_from(&overrides);
        let existing = overrides.iter().any(|o| o.permission == permission);
        if must_be_new && existing {
            return Err(ServiceError::invalid(
                "permission",
                format!(
                    "{} is already overridden in this organization; change it with PUT or PATCH",
                    permission.key()
                ),
            ));
        }
        let now = self.now();
        let id = permissions::put(&mut tx, by.org.id, permission, &roles, now).await?;
        let old = codes(&before.holders(permission));
        let new = codes(&roles);
        if old != new {
            let event = Event::new(AuditAction::PermissionChanged, Some(&by.user)).change(
                format!("{}={old}", permission.key()),
                format!("{}={new}", permission.key()),
            );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        roster_store::commit(tx).await?;
        Ok(PermissionView {
            permission,
            override_id: Some(id),
            roles,
        })
    }

    /// Returns `permission` to its default holders; a 404 when it was not overridden.
    pub async fn reset_permission(
        &self,
        by: &Authorized<Owner>,
        permission: Permission,
    ) -> Result<()> {
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, by.org.id).await?;
        by.reread(&mut tx).await?;
        let before = crate::access::grants_of(&mut tx, by.org.id).await?;
        if !permissions::remove(&mut tx, by.org.id, permission).await? {
            return Err(ServiceError::not_found(format!(
                "{} is not overridden in this organization; it already has its default holders",
                permission.key()
            )));
        }
        let old = codes(&before.holders(permission));
        let new = codes(permission.facts().default);
        if old != new {
            let now = self.now();
            let event = Event::new(AuditAction::PermissionChanged, Some(&by.user)).change(
                format!("{}={old}", permission.key()),
                format!("{}={new}", permission.key()),
            );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        Ok(roster_store::commit(tx).await?)
    }
}

fn codes(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}
