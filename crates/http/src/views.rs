//! The JSON shapes of the REST API, as label-studio-sdk reads them. Records from the service
//! are turned into these here and nowhere else, including the "Deleted User" mask.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, SecondsFormat, Timelike};
use roster_domain::people::{self, deleted_user};
use roster_domain::Role;
use roster_service::store::{MemberRow, MembershipRecord, OrgRecord, UserRecord};
use serde::Serialize;
use utoipa::ToSchema;

/// RFC 3339 UTC with microseconds (`2026-12-01T18:35:38.123456Z`). Written digit by digit:
/// a members page shows three or four times a row, and chrono's general formatter was 6% of
/// the page's CPU. Years outside 0 to 9999 go through chrono.
pub fn time(micros: i64) -> String {
    let Some(t) = DateTime::from_timestamp_micros(micros) else {
        return String::new();
    };
    let (date, clock) = (t.date_naive(), t.time());
    let year = match u32::try_from(date.year()) {
        Ok(year) if year <= 9999 => year,
        _ => return t.to_rfc3339_opts(SecondsFormat::Micros, true),
    };
    let mut out = *b"0000-00-00T00:00:00.000000Z";
    let fields = [
        (0..4, year),
        (5..7, date.month()),
        (8..10, date.day()),
        (11..13, clock.hour()),
        (14..16, clock.minute()),
        (17..19, clock.second()),
        (20..26, micros.rem_euclid(1_000_000) as u32),
    ];
    for (at, mut value) in fields {
        for digit in out[at].iter_mut().rev() {
            *digit = b'0' + (value % 10) as u8;
            value /= 10;
        }
    }
    out.iter().map(|&b| b as char).collect()
}

/// A user as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub username: String,
    pub email: String,
    pub last_activity: Option<String>,
    pub avatar: Option<String>,
    pub initials: String,
    pub phone: String,
    pub active_organization: Option<i64>,
    pub allow_newsletters: Option<bool>,
    pub date_joined: String,
    #[schema(value_type = Object)]
    pub custom_hotkeys: serde_json::Value,
    pub lse_fields: LseFieldsView,
    /// The person's memberships the caller may see (on `users.*` and whoami answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org_membership: Option<Vec<OrgMembershipView>>,
}

/// The per-person fields Label Studio Enterprise nests under `lse_fields`.
#[derive(Debug, Serialize, ToSchema)]
pub struct LseFieldsView {
    #[schema(value_type = Object)]
    pub email_notification_settings: serde_json::Value,
    pub onboarding_state: Option<String>,
}

/// A stored JSON object (checked when it was written); `{}` if it is somehow not one.
fn json_object(text: &str) -> serde_json::Value {
    // Most people never set one: no parse for the empty object.
    if text == "{}" {
        return serde_json::Value::Object(serde_json::Map::new());
    }
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .filter(serde_json::Value::is_object)
        .unwrap_or_else(|| serde_json::json!({}))
}

impl UserView {
    pub fn of(u: &UserRecord) -> UserView {
        UserView::from_record(u.clone())
    }

    /// [`UserView::of`] for a record the caller no longer needs: its strings move into the
    /// view instead of being copied (a members page builds a hundred of these).
    pub fn from_record(u: UserRecord) -> UserView {
        UserView {
            id: u.id.0,
            initials: people::initials(&u.first_name, &u.last_name, &u.email),
            first_name: u.first_name,
            last_name: u.last_name,
            username: u.username,
            email: u.email,
            last_activity: u.last_activity.map(time),
            avatar: None,
            phone: u.phone,
            active_organization: u.active_org.map(|o| o.0),
            allow_newsletters: u.preferences.allow_newsletters,
            date_joined: time(u.date_joined),
            custom_hotkeys: json_object(&u.preferences.custom_hotkeys),
            lse_fields: LseFieldsView {
                email_notification_settings: json_object(
                    &u.preferences.email_notification_settings,
                ),
                onboarding_state: u.preferences.onboarding_state,
            },
            org_membership: None,
        }
    }

    /// The user with the memberships the caller may see.
    pub fn with_memberships<'a>(
        mut self,
        memberships: impl IntoIterator<Item = &'a MembershipRecord>,
    ) -> UserView {
        self.org_membership = Some(memberships.into_iter().map(OrgMembershipView::of).collect());
        self
    }

    /// How a deleted member appears wherever their work or changes are shown.
    pub fn deleted(u: &UserRecord) -> UserView {
        UserView {
            id: u.id.0,
            first_name: deleted_user::FIRST_NAME.into(),
            last_name: deleted_user::LAST_NAME.into(),
            username: deleted_user::USERNAME.into(),
            email: deleted_user::EMAIL.into(),
            last_activity: None,
            avatar: None,
            initials: deleted_user::INITIALS.into(),
            phone: String::new(),
            active_organization: None,
            allow_newsletters: None,
            date_joined: time(u.date_joined),
            custom_hotkeys: serde_json::json!({}),
            lse_fields: LseFieldsView {
                email_notification_settings: serde_json::json!({}),
                onboarding_state: None,
            },
            org_membership: None,
        }
    }

    /// The name pages show: full name, else email ("Deleted User" once masked).
    pub fn display_name(&self) -> String {
        people::display_name(&self.first_name, &self.last_name, &self.email)
    }

    /// The user as seen through a membership: masked once that membership is deleted.
    pub fn through(m: &MemberRow) -> UserView {
        if m.membership.deleted_at.is_some() {
            UserView::deleted(&m.user)
        } else {
            UserView::of(&m.user)
        }
    }

    /// [`UserView::through`] for a row the caller no longer needs.
    pub fn through_owned(m: MemberRow) -> UserView {
        if m.membership.deleted_at.is_some() {
            UserView::deleted(&m.user)
        } else {
            UserView::from_record(m.user)
        }
    }
}

/// A tag on a member (the SDK's `SimpleOrganizationMemberTag`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagRef {
    pub id: i64,
    pub label: String,
}

/// A project a member created or worked in (`{id, title}`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProjectRef {
    pub id: i64,
    pub title: String,
}

/// One row of the member list.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberView {
    pub id: i64,
    pub organization: i64,
    #[schema(value_type = String, example = "AN")]
    pub role: Role,
    pub role_source: String,
    pub user: UserView,
    pub created_at: String,
    pub updated_at: String,
    /// The member's tags, by label.
    pub tags: Vec<TagRef>,
    /// The seat type: always "standard" (roster has no flex or view-only seats).
    pub user_type: String,
    /// With `contributed_to_projects=true`, the projects the member created; otherwise null.
    pub created_projects: Option<Vec<ProjectRef>>,
    /// With `contributed_to_projects=true`, the projects the member annotated in; otherwise null.
    pub contributed_to_projects: Option<Vec<ProjectRef>>,
}

impl MemberView {
    /// The member with their tags (the row's strings move into the view).
    pub fn of(m: MemberRow, tags: Vec<TagRef>) -> MemberView {
        let membership = &m.membership;
        MemberView {
            id: membership.id.0,
            organization: membership.org.0,
            role: membership.role,
            role_source: membership.role_source.code().into(),
            created_at: time(membership.created_at),
            updated_at: time(membership.updated_at),
            user: UserView::through_owned(m),
            tags,
            user_type: roster_domain::tags::USER_TYPE.into(),
            created_projects: None,
            contributed_to_projects: None,
        }
    }
}

/// One member's details (`user` is the id, as the SDK's `OrganizationMember` has it).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDetailView {
    pub user: i64,
    pub organization: i64,
    #[schema(value_type = String, example = "AN")]
    pub role: Role,
    pub role_source: String,
    pub annotations_count: i64,
    pub contributed_projects_count: i64,
    pub created_at: String,
    /// With `contributed_to_projects=true`, the projects the member created; otherwise null.
    pub created_projects: Option<Vec<ProjectRef>>,
    /// With `contributed_to_projects=true`, the projects the member annotated in; otherwise null.
    pub contributed_to_projects: Option<Vec<ProjectRef>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgListItem {
    pub id: i64,
    pub title: String,
    pub contact_info: Option<String>,
    pub created_at: String,
}

impl OrgListItem {
    pub fn of(o: &OrgRecord) -> OrgListItem {
        OrgListItem {
            id: o.id.0,
            title: o.title.clone(),
            contact_info: o.contact_info.clone(),
            created_at: time(o.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Billing {
    pub manual_role_management: bool,
    pub manual_workspace_management: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgView {
    pub id: i64,
    pub title: String,
    pub contact_info: Option<String>,
    pub created_at: String,
    pub created_by: Option<i64>,
    pub seat_limit: Option<i64>,
    #[schema(value_type = String, example = "NO")]
    pub default_role: Role,
    pub manual_role_management: bool,
    /// Whether people may change workspace memberships an identity provider gave.
    pub manual_workspace_management: bool,
    /// Whether people may change project memberships an identity provider gave.
    pub manual_project_member_management: bool,
    pub billing: Billing,
    /// The invite-link token; shown to Owners and Administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// roster's own: members sign in through the organization's identity provider only
    /// (password sessions and legacy keys are refused; the Owner keeps a password with a
    /// second factor).
    pub sso_only: bool,
}

impl OrgView {
    /// `token`: the invite-link token, for those who may see it.
    pub fn of(o: &OrgRecord, token: Option<String>) -> OrgView {
        OrgView {
            id: o.id.0,
            title: o.title.clone(),
            contact_info: o.contact_info.clone(),
            created_at: time(o.created_at),
            created_by: o.created_by.map(|u| u.0),
            seat_limit: o.seat_limit,
            default_role: o.default_role,
            manual_role_management: o.manual_role_management,
            manual_workspace_management: o.manual_workspace_management,
            manual_project_member_management: o.manual_project_member_management,
            billing: Billing {
                manual_role_management: o.manual_role_management,
                manual_workspace_management: o.manual_workspace_management,
            },
            token,
            sso_only: o.sso_only,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrgMembershipView {
    pub organization_id: i64,
    #[schema(value_type = String, example = "AN")]
    pub role: Role,
    pub active: bool,
    /// Every roster member is a standard user (no Flex or other seat kinds).
    pub user_type: &'static str,
    /// Label Studio's Flex seat state: roster has no Flex seats.
    #[schema(value_type = Option<Object>)]
    pub flex: Option<serde_json::Value>,
}

impl OrgMembershipView {
    pub fn of(m: &MembershipRecord) -> OrgMembershipView {
        OrgMembershipView {
            organization_id: m.org.0,
            role: m.role,
            active: m.role.is_active(),
            user_type: "standard",
            flex: None,
        }
    }
}

/// The caller, with their memberships and what they may do in the active organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmIView {
    #[serde(flatten)]
    pub user: UserView,
    pub permissions: Vec<String>,
}

/// A DRF-style page.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView<T> {
    pub count: i64,
    pub next: Option<String>,
    pub previous: Option<String>,
    pub results: Vec<T>,
}

/// Bytes a page's buffer starts with for each of its rows: a member is about 630.
const PAGE_BYTES_PER_ROW: usize = 768;

/// A page answered as JSON, like axum's `Json`, into a buffer sized for its rows up front:
/// `Json` starts at 128 bytes and grows (copying) nine times on the way to a 60 KB members
/// page.
impl<T: Serialize> IntoResponse for PageView<T> {
    fn into_response(self) -> Response {
        let mut body = Vec::with_capacity(256 + self.results.len() * PAGE_BYTES_PER_ROW);
        match serde_json::to_writer(&mut body, &self) {
            Ok(()) => (
                [(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )],
                body,
            )
                .into_response(),
            Err(e) => {
                tracing::error!(error = %e, "serializing a page failed");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn chrono_time(micros: i64) -> String {
        DateTime::from_timestamp_micros(micros)
            .map(|t| t.to_rfc3339_opts(SecondsFormat::Micros, true))
            .unwrap_or_default()
    }

    #[test]
    fn times_are_rfc3339_with_microseconds() {
        assert_eq!(time(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(time(1_764_614_138_123_456), "2025-12-01T18:35:38.123456Z");
        assert_eq!(time(-1), "1969-12-31T23:59:59.999999Z");
    }

    proptest! {
        /// The digit-by-digit writer says what chrono says, from year 0 to past 9999 (where
        /// chrono takes over) and at the ends of what a timestamp can hold.
        #[test]
        fn time_matches_chrono(micros in prop_oneof![
            -62_167_219_200_000_000i64..253_402_300_800_000_000i64,
            253_402_300_800_000_000i64..262_000_000_000_000_000i64,
            any::<i64>(),
        ]) {
            prop_assert_eq!(time(micros), chrono_time(micros));
        }
    }
}
