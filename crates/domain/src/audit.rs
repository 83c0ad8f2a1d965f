//! What the audit log records: the kinds of change and where they came from.

/// The entry point a change came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Ui,
    Api,
    Cli,
    /// SCIM provisioning by the organization's identity provider.
    Scim,
    /// A SAML sign-in through the organization's identity provider.
    Saml,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Ui => "ui",
            Source::Api => "api",
            Source::Cli => "cli",
            Source::Scim => "scim",
            Source::Saml => "saml",
        }
    }
}

/// Every kind of change the audit log records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    OrganizationCreated,
    OrganizationUpdated,
    SeatLimitChanged,
    DefaultRoleChanged,
    MemberJoined,
    RoleChanged,
    OwnershipTransferred,
    MemberDeleted,
    InviteLinkReset,
    InviteSent,
    InviteRevoked,
    InviteAccepted,
    LegacyTokenReset,
    AccessTokenCreated,
    AccessTokenRotated,
    AccessTokenBlacklisted,
    TokenSettingsChanged,
    PasswordChanged,
    PasswordResetIssued,
    ProjectCreated,
    ProjectMemberAdded,
    ProjectMemberRemoved,
    /// A project member's project role set, changed or cleared (back to the organization role).
    ProjectRoleChanged,
    MemberRenamed,
    ScimTokenCreated,
    ScimSettingsChanged,
    /// The identity provider asked for something the rules refuse (changing the Owner,
    /// deprovisioning past the limit); recorded so an Owner sees the attempt.
    ScimRequestRefused,
    DomainVerified,
    DomainRemoved,
    SamlSettingsChanged,
    SamlSettingsRemoved,
    /// The identity provider's metadata, fetched again from its URL, had changed (a
    /// certificate rollover, a new sign-in URL).
    SamlMetadataRefreshed,
    /// A person confirmed an authenticator app as the second factor of their password.
    SecondFactorEnabled,
    SecondFactorDisabled,
    WorkspaceCreated,
    WorkspaceUpdated,
    WorkspaceDeleted,
    WorkspaceMemberAdded,
    WorkspaceMemberRemoved,
    /// A project put into a workspace (moved out of any other).
    WorkspaceProjectAdded,
    WorkspaceProjectRemoved,
    /// A configurable permission given to other roles, or returned to its default.
    PermissionChanged,
    MemberTagCreated,
    /// A member tag's label changed.
    MemberTagUpdated,
    /// A member tag deleted, and with it its assignments.
    MemberTagDeleted,
    /// Tags put on members (or, with overwrite, members' tags replaced).
    MemberTagsAssigned,
    /// A CSV import of member tags ran.
    MemberTagsImported,
    /// The organization's limits on browser sessions changed.
    SessionPolicyChanged,
    /// A person's work in a project paused (the SDK's projects.pauses).
    ProjectMemberPaused,
    /// A pause's reason changed.
    ProjectPauseUpdated,
    /// A pause ended: the person may work in the project again.
    ProjectMemberResumed,
}

impl AuditAction {
    pub const ALL: [AuditAction; 51] = [
        AuditAction::OrganizationCreated,
        AuditAction::OrganizationUpdated,
        AuditAction::SeatLimitChanged,
        AuditAction::DefaultRoleChanged,
        AuditAction::MemberJoined,
        AuditAction::RoleChanged,
        AuditAction::OwnershipTransferred,
        AuditAction::MemberDeleted,
        AuditAction::InviteLinkReset,
        AuditAction::InviteSent,
        AuditAction::InviteRevoked,
        AuditAction::InviteAccepted,
        AuditAction::LegacyTokenReset,
        AuditAction::AccessTokenCreated,
        AuditAction::AccessTokenRotated,
        AuditAction::AccessTokenBlacklisted,
        AuditAction::TokenSettingsChanged,
        AuditAction::PasswordChanged,
        AuditAction::PasswordResetIssued,
        AuditAction::ProjectCreated,
        AuditAction::ProjectMemberAdded,
        AuditAction::ProjectMemberRemoved,
        AuditAction::ProjectRoleChanged,
        AuditAction::MemberRenamed,
        AuditAction::ScimTokenCreated,
        AuditAction::ScimSettingsChanged,
        AuditAction::ScimRequestRefused,
        AuditAction::DomainVerified,
        AuditAction::DomainRemoved,
        AuditAction::SamlSettingsChanged,
        AuditAction::SamlSettingsRemoved,
        AuditAction::SamlMetadataRefreshed,
        AuditAction::SecondFactorEnabled,
        AuditAction::SecondFactorDisabled,
        AuditAction::WorkspaceCreated,
        AuditAction::WorkspaceUpdated,
        AuditAction::WorkspaceDeleted,
        AuditAction::WorkspaceMemberAdded,
        AuditAction::WorkspaceMemberRemoved,
        AuditAction::WorkspaceProjectAdded,
        AuditAction::WorkspaceProjectRemoved,
        AuditAction::PermissionChanged,
        AuditAction::MemberTagCreated,
        AuditAction::MemberTagUpdated,
        AuditAction::MemberTagDeleted,
        AuditAction::MemberTagsAssigned,
        AuditAction::MemberTagsImported,
        AuditAction::SessionPolicyChanged,
        AuditAction::ProjectMemberPaused,
        AuditAction::ProjectPauseUpdated,
        AuditAction::ProjectMemberResumed,
    ];

    pub fn code(self) -> &'static str {
        match self {
            AuditAction::OrganizationCreated => "organization.created",
            AuditAction::OrganizationUpdated => "organization.updated",
            AuditAction::SeatLimitChanged => "organization.seat_limit_changed",
            AuditAction::DefaultRoleChanged => "organization.default_role_changed",
            AuditAction::MemberJoined => "member.joined",
            AuditAction::RoleChanged => "member.role_changed",
            AuditAction::OwnershipTransferred => "member.ownership_transferred",
            AuditAction::MemberDeleted => "member.deleted",
            AuditAction::InviteLinkReset => "invite.link_reset",
            AuditAction::InviteSent => "invite.sent",
            AuditAction::InviteRevoked => "invite.revoked",
            AuditAction::InviteAccepted => "invite.accepted",
            AuditAction::LegacyTokenReset => "credential.legacy_token_reset",
            AuditAction::AccessTokenCreated => "credential.access_token_created",
            AuditAction::AccessTokenRotated => "credential.access_token_rotated",
            AuditAction::AccessTokenBlacklisted => "credential.access_token_blacklisted",
            AuditAction::TokenSettingsChanged => "credential.token_settings_changed",
            AuditAction::PasswordChanged => "credential.password_changed",
            AuditAction::PasswordResetIssued => "credential.password_reset_issued",
            AuditAction::ProjectCreated => "project.created",
            AuditAction::ProjectMemberAdded => "project.member_added",
            AuditAction::ProjectMemberRemoved => "project.member_removed",
            AuditAction::ProjectRoleChanged => "project.role_changed",
            AuditAction::MemberRenamed => "member.renamed",
            AuditAction::ScimTokenCreated => "scim.token_created",
            AuditAction::ScimSettingsChanged => "scim.settings_changed",
            AuditAction::ScimRequestRefused => "scim.request_refused",
            AuditAction::DomainVerified => "domain.verified",
            AuditAction::DomainRemoved => "domain.removed",
            AuditAction::SamlSettingsChanged => "saml.settings_changed",
            AuditAction::SamlSettingsRemoved => "saml.settings_removed",
            AuditAction::SamlMetadataRefreshed => "saml.idp_metadata_refreshed",
            AuditAction::SecondFactorEnabled => "credential.second_factor_enabled",
            AuditAction::SecondFactorDisabled => "credential.second_factor_disabled",
            AuditAction::WorkspaceCreated => "workspace.created",
            AuditAction::WorkspaceUpdated => "workspace.updated",
            AuditAction::WorkspaceDeleted => "workspace.deleted",
            AuditAction::WorkspaceMemberAdded => "workspace.member_added",
            AuditAction::WorkspaceMemberRemoved => "workspace.member_removed",
            AuditAction::WorkspaceProjectAdded => "workspace.project_added",
            AuditAction::WorkspaceProjectRemoved => "workspace.project_removed",
            AuditAction::PermissionChanged => "organization.permission_changed",
            AuditAction::MemberTagCreated => "member_tag.created",
            AuditAction::MemberTagUpdated => "member_tag.updated",
            AuditAction::MemberTagDeleted => "member_tag.deleted",
            AuditAction::MemberTagsAssigned => "member_tag.assigned",
            AuditAction::MemberTagsImported => "member_tag.imported",
            AuditAction::SessionPolicyChanged => "organization.session_policy_changed",
            AuditAction::ProjectMemberPaused => "project.member_paused",
            AuditAction::ProjectPauseUpdated => "project.pause_updated",
            AuditAction::ProjectMemberResumed => "project.member_resumed",
        }
    }

    pub fn from_code(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}
