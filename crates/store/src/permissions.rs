//! An organization's overrides of configurable permissions (see `roster_domain::permissions`).

use roster_domain::{OrgId, Permission, Role};

use crate::db::{handle, Backend};
use crate::sql::query;
use crate::{Conn, Micros, Result, StoreError, WriteTx};

/// One stored override.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRecord {
    pub id: i64,
    pub org: OrgId,
    pub permission: Permission,
    pub roles: Vec<Role>,
}

fn decode(id: i64, org: i64, key: String, roles: String) -> Result<OverrideRecord> {
    let permission = Permission::from_key(&key)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown permission key {key:?}")))?;
    let roles = roles
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|c| Role::from_code(c).ok_or_else(|| StoreError::Corrupt(format!("role {c:?}"))))
        .collect::<Result<Vec<Role>>>()?;
    Ok(OverrideRecord {
        id,
        org: OrgId(org),
        permission,
        roles,
    })
}

fn encode(roles: &[Role]) -> String {
    roles.iter().map(|r| r.code()).collect::<Vec<_>>().join(",")
}

/// A scalar subquery packing the overrides of the organization whose id is the SQL expression
/// `org` into one text (`id:permission:roles`, `;` between overrides; NULL when there are
/// none), for statements that read an organization's access with something else.
pub(crate) fn packed_sql(backend: Backend, org: &str) -> String {
    let concat = match backend {
        Backend::Sqlite => "group_concat",
        Backend::Postgres => "string_agg",
    };
    format!(
        "(SELECT {concat}(CAST(p.id AS TEXT) || ':' || p.permission || ':' || p.roles, ';') \
         FROM permission_overrides p WHERE p.org_id = {org})"
    )
}

/// The overrides of `org` from the text `packed_sql` made.
pub(crate) fn unpack(org: OrgId, packed: Option<&str>) -> Result<Vec<OverrideRecord>> {
    let Some(packed) = packed else {
        return Ok(Vec::new());
    };
    packed
        .split(';')
        .map(|one| {
            let mut parts = one.splitn(3, ':');
            let (Some(id), Some(key), Some(roles)) = (parts.next(), parts.next(), parts.next())
            else {
                return Err(StoreError::Corrupt(format!("packed override {one:?}")));
            };
            let id = id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("override id {id:?}")))?;
            decode(id, org.0, key.to_string(), roles.to_string())
        })
        .collect()
}

/// Every override of the organization, oldest first.
pub async fn of_org(c: &mut Conn, org: OrgId) -> Result<Vec<OverrideRecord>> {
    let rows = handle(c)
        .fetch_all(
            query(
                "SELECT id, org_id, permission, roles FROM permission_overrides
                 WHERE org_id = $1 ORDER BY id",
            )
            .bind(org.0),
            |r| Ok((r.int(0)?, r.int(1)?, r.text(2)?, r.text(3)?)),
        )
        .await?;
    rows.into_iter()
        .map(|(id, org, key, roles)| decode(id, org, key, roles))
        .collect()
}

/// Sets the roles holding `permission` in the organization, creating the override or
/// replacing its roles; returns the override's id.
pub async fn put(
    c: &mut WriteTx,
    org: OrgId,
    permission: Permission,
    roles: &[Role],
    now: Micros,
) -> Result<i64> {
    handle(c)
        .fetch_one(
            query(
                "INSERT INTO permission_overrides (org_id, permission, roles, updated_at)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (org_id, permission)
                 DO UPDATE SET roles = excluded.roles, updated_at = excluded.updated_at
                 RETURNING id",
            )
            .bind(org.0)
            .bind(permission.key())
            .bind(encode(roles))
            .bind(now),
            |r| r.int(0),
        )
        .await
}

/// Removes the override (the permission's default applies again); whether there was one.
pub async fn remove(c: &mut WriteTx, org: OrgId, permission: Permission) -> Result<bool> {
    let n = handle(c)
        .execute(
            query("DELETE FROM permission_overrides WHERE org_id = $1 AND permission = $2")
                .bind(org.0)
                .bind(permission.key()),
        )
        .await?;
    Ok(n > 0)
}
