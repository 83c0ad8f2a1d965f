//! Turning database rows into records. Column lists live beside the decoders that read them.

use crate::sql::Row;
use crate::{MemberRow, MembershipRecord, OrgRecord, Preferences, Result, StoreError, UserRecord};
use roster_domain::{MembershipId, OrgId, Role, RoleSource, UserId};

pub(crate) const USER_COLS: &str =
    "u.id, u.email, u.username, u.first_name, u.last_name, u.phone, \
     u.password_hash, u.active_org_id, u.date_joined, u.last_activity, \
     u.allow_newsletters, u.custom_hotkeys, u.email_notification_settings, u.onboarding_state";

pub(crate) const MEMBERSHIP_COLS: &str =
    "m.id, m.org_id, m.user_id, m.role, m.role_source, m.created_at, m.updated_at, m.deleted_at";

pub(crate) const ORG_COLS: &str =
    "o.id, o.title, o.contact_info, o.invite_token_sealed, o.seat_limit, \
     o.default_role, o.manual_role_management, o.api_tokens_enabled, o.legacy_api_tokens_enabled, \
     o.api_token_ttl_days, o.created_by, o.created_at, o.sso_only, \
     o.manual_workspace_management, o.manual_project_member_management";

pub(crate) fn role(code: &str) -> Result<Role> {
    Role::from_code(code).ok_or_else(|| StoreError::Corrupt(format!("unknown role {code:?}")))
}

fn role_source(code: &str) -> Result<RoleSource> {
    RoleSource::from_code(code)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown role source {code:?}")))
}

/// Reads a user from columns starting at `at` in the order of `USER_COLS`.
pub(crate) fn user(r: &dyn Row, at: usize) -> Result<UserRecord> {
    Ok(UserRecord {
        id: UserId(r.int(at)?),
        email: r.text(at + 1)?,
        username: r.text(at + 2)?,
        first_name: r.text(at + 3)?,
        last_name: r.text(at + 4)?,
        phone: r.text(at + 5)?,
        password_hash: r.opt_text(at + 6)?,
        active_org: r.opt_int(at + 7)?.map(OrgId),
        date_joined: r.int(at + 8)?,
        last_activity: r.opt_int(at + 9)?,
        preferences: Preferences {
            allow_newsletters: r.opt_int(at + 10)?.map(|v| v != 0),
            custom_hotkeys: r.text(at + 11)?,
            email_notification_settings: r.text(at + 12)?,
            onboarding_state: r.opt_text(at + 13)?,
        },
    })
}

pub(crate) const USER_WIDTH: usize = 14;
pub(crate) const MEMBERSHIP_WIDTH: usize = 8;

/// Reads a membership from columns starting at `at` in the order of `MEMBERSHIP_COLS`.
pub(crate) fn membership(r: &dyn Row, at: usize) -> Result<MembershipRecord> {
    Ok(MembershipRecord {
        id: MembershipId(r.int(at)?),
        org: OrgId(r.int(at + 1)?),
        user: UserId(r.int(at + 2)?),
        role: role(r.str(at + 3)?)?,
        role_source: role_source(r.str(at + 4)?)?,
        created_at: r.int(at + 5)?,
        updated_at: r.int(at + 6)?,
        deleted_at: r.opt_int(at + 7)?,
    })
}

/// Reads a membership that may be absent (the NULL side of a LEFT JOIN).
pub(crate) fn membership_opt(r: &dyn Row, at: usize) -> Result<Option<MembershipRecord>> {
    if r.is_null(at)? {
        Ok(None)
    } else {
        membership(r, at).map(Some)
    }
}

/// Reads `MEMBERSHIP_COLS, USER_COLS` starting at `at`.
pub(crate) fn member(r: &dyn Row, at: usize) -> Result<MemberRow> {
    Ok(MemberRow {
        membership: membership(r, at)?,
        user: user(r, at + MEMBERSHIP_WIDTH)?,
    })
}

pub(crate) fn org(r: &dyn Row) -> Result<OrgRecord> {
    org_at(r, 0)
}

/// Columns in `ORG_COLS`.
pub(crate) const ORG_WIDTH: usize = 15;

/// An organization from `ORG_COLS` starting at column `at`.
pub(crate) fn org_at(r: &dyn Row, at: usize) -> Result<OrgRecord> {
    Ok(OrgRecord {
        id: OrgId(r.int(at)?),
        title: r.text(at + 1)?,
        contact_info: r.opt_text(at + 2)?,
        invite_token_sealed: r.opt_text(at + 3)?,
        seat_limit: r.opt_int(at + 4)?,
        default_role: role(r.str(at + 5)?)?,
        manual_role_management: r.flag(at + 6)?,
        api_tokens_enabled: r.flag(at + 7)?,
        legacy_api_tokens_enabled: r.flag(at + 8)?,
        api_token_ttl_days: r.int(at + 9)?,
        created_by: r.opt_int(at + 10)?.map(UserId),
        created_at: r.int(at + 11)?,
        sso_only: r.flag(at + 12)?,
        manual_workspace_management: r.flag(at + 13)?,
        manual_project_member_management: r.flag(at + 14)?,
    })
}

/// The SQL list of the roles that take a seat, `('OW','AD',...)`, made from the domain's role
/// table so the two never disagree.
pub(crate) fn seat_roles_sql() -> &'static str {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let codes: Vec<String> = roster_domain::Role::ALL
            .into_iter()
            .filter(|r| r.takes_seat())
            .map(|r| format!("'{}'", r.code()))
            .collect();
        format!("({})", codes.join(","))
    });
    &SQL
}

/// The condition that an invite (columns prefixed by `alias`, e.g. "i.") is pending at the
/// time bound as `now`: not accepted, not revoked, not expired (the domain's `InviteState`).
pub(crate) fn pending_invite_sql(alias: &str, now: &str) -> String {
    format!(
        "{alias}accepted_at IS NULL AND {alias}revoked_at IS NULL AND {alias}expires_at > {now}"
    )
}
