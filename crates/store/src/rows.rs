//! Turning database rows into records. Column lists live beside the decoders that read them.

use roster_domain::{MembershipId, OrgId, Role, RoleSource, UserId};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{MemberRow, MembershipRecord, OrgRecord, Result, StoreError, UserRecord};

pub(crate) const USER_COLS: &str =
    "u.id, u.email, u.username, u.first_name, u.last_name, u.phone, \
     u.password_hash, u.active_org_id, u.date_joined, u.last_activity";

pub(crate) const MEMBERSHIP_COLS: &str =
    "m.id, m.org_id, m.user_id, m.role, m.role_source, m.created_at, m.updated_at, m.deleted_at";

pub(crate) const ORG_COLS: &str =
    "o.id, o.title, o.contact_info, o.invite_token_sealed, o.seat_limit, \
     o.default_role, o.manual_role_management, o.api_tokens_enabled, o.legacy_api_tokens_enabled, \
     o.api_token_ttl_days, o.created_by, o.created_at";

pub(crate) fn role(code: &str) -> Result<Role> {
    Role::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("unknown role {code:?}")))
}

fn role_source(code: &str) -> Result<RoleSource> {
    RoleSource::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown role source {code:?}")))
}

/// Reads a user from columns starting at `at` in the order of `USER_COLS`.
pub(crate) fn user(r: &AnyRow, at: usize) -> Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(r.try_get(at)?),
        email: r.try_get(at + 1)?,
        username: r.try_get(at + 2)?,
        first_name: r.try_get(at + 3)?,
        last_name: r.try_get(at + 4)?,
        phone: r.try_get(at + 5)?,
        password_hash: r.try_get(at + 6)?,
        active_org: r.try_get::<Option<i64>, _>(at + 7)?.map(OrgId),
        date_joined: r.try_get(at + 8)?,
        last_activity: r.try_get(at + 9)?,
    })
}

pub(crate) const USER_WIDTH: usize = 10;
pub(crate) const MEMBERSHIP_WIDTH: usize = 8;

/// Reads a membership from columns starting at `at` in the order of `MEMBERSHIP_COLS`.
pub(crate) fn membership(r: &AnyRow, at: usize) -> Result<MembershipRecord> {
    Ok(MembershipRecord {
        id: MembershipId(r.try_get(at)?),
        org: OrgId(r.try_get(at + 1)?),
        user: UserId(r.try_get(at + 2)?),
        role: role(&r.try_get::<String, _>(at + 3)?)?,
        role_source: role_source(&r.try_get::<String, _>(at + 4)?)?,
        created_at: r.try_get(at + 5)?,
        updated_at: r.try_get(at + 6)?,
        deleted_at: r.try_get(at + 7)?,
    })
}

/// Reads a membership that may be absent (the NULL side of a LEFT JOIN).
pub(crate) fn membership_opt(r: &AnyRow, at: usize) -> Result<Option<MembershipRecord>> {
    match r.try_get::<Option<i64>, _>(at)? {
        None => Ok(None),
        Some(_) => membership(r, at).map(Some),
    }
}

/// Reads `MEMBERSHIP_COLS, USER_COLS` starting at `at`.
pub(crate) fn member(r: &AnyRow, at: usize) -> Result<MemberRow> {
    Ok(MemberRow {
        membership: membership(r, at)?,
        user: user(r, at + MEMBERSHIP_WIDTH)?,
    })
}

pub(crate) fn org(r: &AnyRow) -> Result<OrgRecord> {
    Ok(OrgRecord {
        id: OrgId(r.try_get(0)?),
        title: r.try_get(1)?,
        contact_info: r.try_get(2)?,
        invite_token_sealed: r.try_get(3)?,
        seat_limit: r.try_get(4)?,
        default_role: role(&r.try_get::<String, _>(5)?)?,
        manual_role_management: r.try_get::<i64, _>(6)? != 0,
        api_tokens_enabled: r.try_get::<i64, _>(7)? != 0,
        legacy_api_tokens_enabled: r.try_get::<i64, _>(8)? != 0,
        api_token_ttl_days: r.try_get(9)?,
        created_by: r.try_get::<Option<i64>, _>(10)?.map(UserId),
        created_at: r.try_get(11)?,
    })
}

pub(crate) fn flag(b: bool) -> i64 {
    b as i64
}
