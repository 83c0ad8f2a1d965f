//! What the store hands back: plain records with typed ids and roles. Times are microseconds
//! since the Unix epoch.

use roster_domain::{
    MembershipId, OrgId, ProjectId, ProjectRole, Role, RoleSource, UserId, WorkspaceId,
};

pub type Micros = i64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: UserId,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub password_hash: Option<String>,
    pub active_org: Option<OrgId>,
    pub date_joined: Micros,
    pub last_activity: Option<Micros>,
    pub preferences: Preferences,
}

/// A person's own preferences. The JSON texts are objects the service checked before they
/// were written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Preferences {
    pub allow_newsletters: Option<bool>,
    pub custom_hotkeys: String,
    pub email_notification_settings: String,
    pub onboarding_state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub id: OrgId,
    pub title: String,
    pub contact_info: Option<String>,
    /// The invite-link token, encrypted with the server secret (None only between the
    /// migration that introduced it and the start that seals the old plaintext tokens).
    pub invite_token_sealed: Option<String>,
    pub seat_limit: Option<i64>,
    pub default_role: Role,
    pub manual_role_management: bool,
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
    pub api_token_ttl_days: i64,
    pub created_by: Option<UserId>,
    pub created_at: Micros,
    /// Members sign in through the organization's identity provider only.
    pub sso_only: bool,
    /// People may change by hand the workspace memberships an identity provider gave.
    pub manual_workspace_management: bool,
    /// People may change by hand the project memberships an identity provider gave.
    pub manual_project_member_management: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipRecord {
    pub id: MembershipId,
    pub org: OrgId,
    pub user: UserId,
    pub role: Role,
    pub role_source: RoleSource,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub deleted_at: Option<Micros>,
}

/// A membership with its user, as the member list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRow {
    pub membership: MembershipRecord,
    pub user: UserRecord,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRecord {
    pub id: ProjectId,
    pub org: OrgId,
    pub title: String,
    pub description: String,
    pub created_by: Option<MembershipId>,
    pub created_at: Micros,
    /// The workspace the project is in, if any.
    pub workspace: Option<WorkspaceId>,
    /// Its live members, from the project's counter.
    pub live_members: i64,
}

/// A workspace, with the number of projects in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceRecord {
    pub id: WorkspaceId,
    pub org: OrgId,
    pub title: String,
    pub description: String,
    pub color: String,
    pub is_personal: bool,
    pub is_archived: bool,
    pub created_by: Option<MembershipId>,
    pub created_at: Micros,
    pub projects_count: i64,
    /// The creator's user id (through `created_by`).
    pub created_by_user: Option<UserId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectMemberRow {
    pub project: ProjectId,
    pub membership: MembershipRecord,
    pub user: UserRecord,
    /// The member's project role; `None`: they work with their organization role.
    pub project_role: Option<ProjectRoleRecord>,
}

/// A project member's project role, with its own id (the SDK removes roles by id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRoleRecord {
    pub id: i64,
    pub project: ProjectId,
    pub membership: MembershipId,
    pub user: UserId,
    pub role: ProjectRole,
    pub source: RoleSource,
}

/// An annotation with the membership (and user) it was done under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnnotationRow {
    pub id: roster_domain::AnnotationId,
    pub project: ProjectId,
    pub result: String,
    pub created_at: Micros,
    pub author: MemberRow,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InviteRecord {
    pub id: roster_domain::InviteId,
    pub org: OrgId,
    pub email: String,
    pub role: Role,
    pub projects: Vec<ProjectId>,
    pub token_sealed: String,
    pub invited_by: Option<UserId>,
    pub created_at: Micros,
    pub expires_at: Micros,
    pub accepted_at: Option<Micros>,
    pub revoked_at: Option<Micros>,
    /// The workspaces the invite gives on acceptance.
    pub workspaces: Vec<WorkspaceId>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    pub jti: String,
    pub user: UserId,
    pub created_at: Micros,
    pub expires_at: Micros,
    pub blacklisted_at: Option<Micros>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: UserId,
    pub csrf_token: String,
    pub expires_at: Micros,
    /// The organization whose identity provider started the session, if one did.
    pub sso_org: Option<OrgId>,
    /// Whether the sign-in that started the session passed the person's second factor.
    pub second_factor: bool,
    pub created_at: Micros,
    /// When the session last made a request (written at most once per activity interval).
    pub last_active_at: Micros,
    /// The session policies of the organizations the account is a live member of.
    pub policies: Vec<SessionPolicyRecord>,
}

/// An organization's limits on browser sessions, in minutes; None: the server's lifetime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicyRecord {
    pub org: OrgId,
    pub max_session_age: Option<i64>,
    pub max_time_between_activity: Option<i64>,
    pub created_at: Option<Micros>,
    pub updated_at: Option<Micros>,
}

/// One audit event as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub org: OrgId,
    pub occurred_at: Micros,
    pub action: String,
    pub source: String,
    pub actor_user_id: Option<UserId>,
    pub actor_name: String,
    pub actor_email: String,
    pub target_user_id: Option<UserId>,
    pub target_name: String,
    pub target_email: String,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub address: Option<String>,
}

/// A new audit event, written in the same transaction as the change it records.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEvent {
    pub org: Option<OrgId>,
    pub occurred_at: Micros,
    pub action: &'static str,
    pub source: &'static str,
    pub actor: Option<(UserId, String, String)>,
    pub target: Option<(UserId, String, String)>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub address: Option<String>,
}
