//! What the audit log records: the kinds of change and where they came from, and how each
//! recorded change reads in words.

use crate::Role;

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

    /// The action's name as a filter offers it ("Role changed").
    pub fn label(self) -> &'static str {
        use AuditAction as A;
        match self {
            A::OrganizationCreated => "Organization created",
            A::OrganizationUpdated => "Organization settings changed",
            A::SeatLimitChanged => "Seat limit changed",
            A::DefaultRoleChanged => "Role for invite-link sign-ups changed",
            A::MemberJoined => "Member joined or added",
            A::RoleChanged => "Role changed",
            A::OwnershipTransferred => "Ownership transferred",
            A::MemberDeleted => "Member deleted",
            A::InviteLinkReset => "Invite link reset",
            A::InviteSent => "Invite sent",
            A::InviteRevoked => "Invite revoked",
            A::InviteAccepted => "Invite accepted",
            A::LegacyTokenReset => "Legacy API token reset",
            A::AccessTokenCreated => "Access token created",
            A::AccessTokenRotated => "Access token rotated",
            A::AccessTokenBlacklisted => "Access token revoked",
            A::TokenSettingsChanged => "API token settings changed",
            A::PasswordChanged => "Password changed",
            A::PasswordResetIssued => "Password reset link issued",
            A::ProjectCreated => "Project created",
            A::ProjectMemberAdded => "Added to a project",
            A::ProjectMemberRemoved => "Removed from a project",
            A::ProjectRoleChanged => "Project role changed",
            A::MemberRenamed => "Member renamed",
            A::ScimTokenCreated => "SCIM token created",
            A::ScimSettingsChanged => "SCIM settings changed",
            A::ScimRequestRefused => "SCIM request refused",
            A::DomainVerified => "Domain verified",
            A::DomainRemoved => "Domain removed",
            A::SamlSettingsChanged => "SAML settings changed",
            A::SamlSettingsRemoved => "SAML settings removed",
            A::SamlMetadataRefreshed => "Identity provider metadata changed",
            A::SecondFactorEnabled => "Two-step sign-in turned on",
            A::SecondFactorDisabled => "Two-step sign-in turned off",
            A::WorkspaceCreated => "Workspace created",
            A::WorkspaceUpdated => "Workspace changed",
            A::WorkspaceDeleted => "Workspace deleted",
            A::WorkspaceMemberAdded => "Added to a workspace",
            A::WorkspaceMemberRemoved => "Removed from a workspace",
            A::WorkspaceProjectAdded => "Project put in a workspace",
            A::WorkspaceProjectRemoved => "Project taken out of a workspace",
            A::PermissionChanged => "Permission changed",
            A::MemberTagCreated => "Member tag created",
            A::MemberTagUpdated => "Member tag renamed",
            A::MemberTagDeleted => "Member tag deleted",
            A::MemberTagsAssigned => "Member tags assigned",
            A::MemberTagsImported => "Member tags imported",
            A::SessionPolicyChanged => "Session limits changed",
            A::ProjectMemberPaused => "Paused in a project",
            A::ProjectPauseUpdated => "Pause reason changed",
            A::ProjectMemberResumed => "Resumed in a project",
        }
    }

    pub fn from_code(code: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.code() == code)
    }
}

/// One recorded event as a sentence needs it: the names as they were recorded at the time
/// (a later "Deleted User" does not rewrite history), and the values the change recorded.
#[derive(Debug, Clone, Copy, Default)]
pub struct Recorded<'a> {
    /// The action's code; a code this build does not know is shown as it is.
    pub action: &'a str,
    /// Where the change came from (`Source::code`), to name who acted when nobody signed in did.
    pub source: &'a str,
    /// Who acted, by name; empty when no person did.
    pub actor: &'a str,
    /// Whom it was done to, by name; empty when nobody.
    pub target: &'a str,
    /// Whether the actor and the target are the same person ("changed their password").
    pub by_themselves: bool,
    pub old: Option<&'a str>,
    pub new: Option<&'a str>,
}

/// What happened, in one sentence people read: "Ann Lee changed Bo Chen from Annotator to
/// Reviewer". The audit page, the member panel and the CSV export all use this, so they agree.
pub fn sentence(e: &Recorded<'_>) -> String {
    let Some(action) = AuditAction::from_code(e.action) else {
        return format!("{} did {}", subject(e), e.action);
    };
    let who = subject(e);
    let whom = if e.target.is_empty() {
        "someone"
    } else {
        e.target
    };
    // "their" when a person changed something of their own, else the target's name.
    let whose = if e.by_themselves {
        "their".to_string()
    } else {
        format!("{whom}'s")
    };
    let old = e.old.unwrap_or("");
    let new = e.new.unwrap_or("");
    use AuditAction as A;
    match action {
        A::OrganizationCreated if e.actor.is_empty() && !e.target.is_empty() => {
            format!("{whom} created the organization {}", quoted(new))
        }
        A::OrganizationCreated => format!("{who} created the organization {}", quoted(new)),
        A::OrganizationUpdated => match (setting(old), setting(new)) {
            (Some((key, from)), Some((_, to))) => {
                format!(
                    "{who} changed the organization's {key} from {} to {}",
                    quoted(from),
                    quoted(to)
                )
            }
            _ => format!("{who} changed the organization's settings"),
        },
        A::SeatLimitChanged => format!("{who} changed the seat limit from {old} to {new}"),
        A::DefaultRoleChanged => format!(
            "{who} changed the role for people joining by link from {} to {}",
            role(old),
            role(new)
        ),
        A::MemberJoined if e.by_themselves || e.actor.is_empty() => {
            format!("{whom} joined as {}", role(new))
        }
        A::MemberJoined => format!("{who} added {whom} as {}", role(new)),
        A::RoleChanged => role_change(&who, whom, old, new),
        A::OwnershipTransferred => format!("{who} made {whom} the Owner"),
        A::MemberDeleted => format!("{who} deleted {whom}"),
        A::InviteLinkReset => format!("{who} reset the invite link"),
        A::InviteSent => match new.rsplit_once(" as ") {
            Some((email, code)) => format!("{who} invited {email} as {}", role(code)),
            None => format!("{who} invited {new}"),
        },
        A::InviteRevoked => format!("{who} revoked the invite to {old}"),
        A::InviteAccepted => format!("{whom} accepted an invite and joined as {}", role(new)),
        A::LegacyTokenReset => format!("{who} reset {whose} legacy API token"),
        A::AccessTokenCreated => format!("{who} created {whose} access token"),
        A::AccessTokenRotated => format!("{who} rotated {whose} access token"),
        A::AccessTokenBlacklisted => format!("{who} revoked {whose} access token"),
        A::TokenSettingsChanged => format!("{who} changed the API token settings"),
        A::PasswordChanged => format!("{who} changed {whose} password"),
        A::PasswordResetIssued if e.actor.is_empty() => {
            format!("A password reset link was issued for {whom}")
        }
        A::PasswordResetIssued => format!("{who} issued a password reset link for {whom}"),
        A::ProjectCreated => format!("{who} created project {}", titled(new)),
        A::ProjectMemberAdded => match new.rsplit_once(" as ") {
            Some((project, code)) => format!(
                "{who} added {whom} to {project}{}",
                project_role(code)
                    .map(|r| format!(" as {r}"))
                    .unwrap_or_default()
            ),
            None => format!("{who} added {whom} to {new}"),
        },
        A::ProjectMemberRemoved => format!("{who} removed {whom} from {old}"),
        A::ProjectRoleChanged => match (old.rsplit_once(" as "), new.rsplit_once(" as ")) {
            (Some((project, from)), Some((_, to))) => format!(
                "{who} changed {whose} role in {project} from {} to {}",
                project_role(from).unwrap_or("their organization role"),
                project_role(to).unwrap_or("their organization role")
            ),
            _ => format!("{who} changed {whose} project role"),
        },
        A::MemberRenamed => format!("{who} renamed {} to {}", or_whom(old, whom), new),
        A::ScimTokenCreated => format!("{who} created a SCIM token"),
        A::ScimSettingsChanged => format!("{who} changed the SCIM settings"),
        A::ScimRequestRefused => format!("{who}'s request was refused: {new}"),
        A::DomainVerified => format!("{who} verified the domain {new}"),
        A::DomainRemoved => format!("{who} removed the domain {old}"),
        A::SamlSettingsChanged => format!("{who} changed the SAML settings"),
        A::SamlSettingsRemoved => format!("{who} removed the SAML settings"),
        A::SamlMetadataRefreshed => {
            format!("{who} fetched the identity provider's metadata again and it had changed")
        }
        A::SecondFactorEnabled => format!("{who} turned on two-step sign-in for {whose} account"),
        A::SecondFactorDisabled => {
            format!("{who} turned off two-step sign-in for {whose} account")
        }
        A::WorkspaceCreated => format!("{who} created workspace {}", titled(new)),
        A::WorkspaceUpdated => format!("{who} changed workspace {}", titled(new)),
        A::WorkspaceDeleted => format!("{who} deleted workspace {}", titled(old)),
        A::WorkspaceMemberAdded => format!("{who} added {whom} to workspace {}", titled(new)),
        A::WorkspaceMemberRemoved => {
            format!("{who} removed {whom} from workspace {}", titled(old))
        }
        A::WorkspaceProjectAdded => format!("{who} put {new}"),
        A::WorkspaceProjectRemoved => format!("{who} took {old} out of its workspace"),
        A::PermissionChanged => match (setting(old), setting(new)) {
            (Some((key, from)), Some((_, to))) => {
                format!("{who} changed who may {key} from {from} to {to}")
            }
            _ => format!("{who} changed a permission"),
        },
        A::MemberTagCreated => format!("{who} created {}", titled_tag(new)),
        A::MemberTagUpdated => format!("{who} renamed {} to {}", titled_tag(old), titled(new)),
        A::MemberTagDeleted => format!("{who} deleted {}", titled_tag(old)),
        A::MemberTagsAssigned => format!("{who} assigned {new}"),
        A::MemberTagsImported => format!("{who} imported member tags: {}", titled(new)),
        A::SessionPolicyChanged => {
            format!("{who} changed the session limits from {old} to {new}")
        }
        A::ProjectMemberPaused => format!("{who} paused {whom} in {}", before_colon(new)),
        A::ProjectPauseUpdated => format!("{who} changed why {whom} is paused"),
        A::ProjectMemberResumed => format!("{who} resumed {whom} in {}", before_colon(old)),
    }
}

/// Who did it: the person, else what acted without one (the identity provider, an operator
/// at the command line, or roster itself on a schedule).
fn subject(e: &Recorded<'_>) -> String {
    if !e.actor.is_empty() {
        return e.actor.to_string();
    }
    match e.source {
        "scim" | "saml" => "The identity provider",
        "cli" => "An operator",
        _ => "Roster",
    }
    .to_string()
}

/// A role change, with the two states that read better as verbs.
fn role_change(who: &str, whom: &str, old: &str, new: &str) -> String {
    match (Role::from_code(old), Role::from_code(new)) {
        (_, Some(Role::Deactivated)) => format!("{who} deactivated {whom}"),
        (Some(Role::Deactivated), Some(to)) => format!("{who} reactivated {whom} as {}", to.name()),
        (Some(Role::NotActivated), Some(to)) => format!("{who} activated {whom} as {}", to.name()),
        _ => format!("{who} changed {whom} from {} to {}", role(old), role(new)),
    }
}

/// A role's name from its code; an unknown code as it is.
fn role(code: &str) -> &str {
    Role::from_code(code).map(Role::name).unwrap_or(code)
}

/// A project role's name from its code; "inherit" (none) is None.
fn project_role(code: &str) -> Option<&'static str> {
    crate::ProjectRole::from_code(code).map(crate::ProjectRole::name)
}

/// A recorded "key=value" setting.
fn setting(v: &str) -> Option<(&str, &str)> {
    v.split_once('=')
}

fn quoted(v: &str) -> String {
    format!("\u{201c}{v}\u{201d}")
}

/// "workspace 3: Labelers" reads as "Labelers": the id is for machines.
fn titled(v: &str) -> &str {
    v.split_once(": ").map(|(_, title)| title).unwrap_or(v)
}

/// "member tag 3: \"night shift\"" reads as "member tag \"night shift\"".
fn titled_tag(v: &str) -> String {
    format!("member tag {}", titled(v))
}

/// "project 5: reason" reads as "project 5".
fn before_colon(v: &str) -> &str {
    v.split_once(':').map(|(head, _)| head).unwrap_or(v)
}

fn or_whom<'a>(v: &'a str, whom: &'a str) -> &'a str {
    if v.is_empty() {
        whom
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(action: AuditAction, actor: &str, target: &str, old: &str, new: &str) -> String {
        sentence(&Recorded {
            action: action.code(),
            source: "ui",
            actor,
            target,
            by_themselves: actor == target,
            old: Some(old).filter(|v| !v.is_empty()),
            new: Some(new).filter(|v| !v.is_empty()),
        })
    }

    #[test]
    fn member_changes_read_as_sentences() {
        use AuditAction as A;
        let table = [
            (A::RoleChanged, "Ann Lee", "Bo Chen", "AN", "RE", "Ann Lee changed Bo Chen from Annotator to Reviewer"),
            (A::RoleChanged, "Ann Lee", "Bo Chen", "AN", "DI", "Ann Lee deactivated Bo Chen"),
            (A::RoleChanged, "Ann Lee", "Bo Chen", "DI", "MA", "Ann Lee reactivated Bo Chen as Manager"),
            (A::RoleChanged, "Ann Lee", "Bo Chen", "NO", "AN", "Ann Lee activated Bo Chen as Annotator"),
            (A::MemberJoined, "Bo Chen", "Bo Chen", "", "AN", "Bo Chen joined as Annotator"),
            (A::MemberJoined, "Ann Lee", "Bo Chen", "", "RE", "Ann Lee added Bo Chen as Reviewer"),
            (A::MemberDeleted, "Ann Lee", "Deleted User", "AN", "", "Ann Lee deleted Deleted User"),
            (A::MemberDeleted, "Ann Lee", "Bo Chen", "AN", "", "Ann Lee deleted Bo Chen"),
            (A::OwnershipTransferred, "Ann Lee", "Bo Chen", "AD", "OW", "Ann Lee made Bo Chen the Owner"),
            (A::InviteSent, "Ann Lee", "", "", "bo@x.io as RE", "Ann Lee invited bo@x.io as Reviewer"),
            (A::InviteAccepted, "Bo Chen", "Bo Chen", "", "AN", "Bo Chen accepted an invite and joined as Annotator"),
            (A::PasswordChanged, "Bo Chen", "Bo Chen", "", "", "Bo Chen changed their password"),
            (A::MemberRenamed, "Ann Lee", "Bo Chen", "Bo Chen", "Bob Chen", "Ann Lee renamed Bo Chen to Bob Chen"),
            (A::ProjectMemberAdded, "Ann Lee", "Bo Chen", "", "project 7 as RE", "Ann Lee added Bo Chen to project 7 as Reviewer"),
            (A::ProjectMemberAdded, "Ann Lee", "Bo Chen", "", "project 7 as inherit", "Ann Lee added Bo Chen to project 7"),
            (A::ProjectRoleChanged, "Ann Lee", "Bo Chen", "project 7 as inherit", "project 7 as AN", "Ann Lee changed Bo Chen's role in project 7 from their organization role to Annotator"),
            (A::WorkspaceMemberAdded, "Ann Lee", "Bo Chen", "", "workspace 3: Labelers", "Ann Lee added Bo Chen to workspace Labelers"),
            (A::DefaultRoleChanged, "Ann Lee", "", "NO", "AN", "Ann Lee changed the role for people joining by link from Not Activated to Annotator"),
            (A::OrganizationUpdated, "Ann Lee", "", "title=Old", "title=New", "Ann Lee changed the organization's title from \u{201c}Old\u{201d} to \u{201c}New\u{201d}"),
            (A::ProjectMemberPaused, "Ann Lee", "Bo Chen", "", "project 7: MANUAL too fast", "Ann Lee paused Bo Chen in project 7"),
        ];
        for (action, actor, target, old, new, want) in table {
            assert_eq!(
                said(action, actor, target, old, new),
                want,
                "{}",
                action.code()
            );
        }
    }

    #[test]
    fn changes_without_a_person_name_what_made_them() {
        let mut e = Recorded {
            action: AuditAction::RoleChanged.code(),
            source: "scim",
            target: "Bo Chen",
            old: Some("AN"),
            new: Some("DI"),
            ..Recorded::default()
        };
        assert_eq!(sentence(&e), "The identity provider deactivated Bo Chen");
        e.source = "cli";
        assert_eq!(sentence(&e), "An operator deactivated Bo Chen");
        e.action = AuditAction::PasswordResetIssued.code();
        assert_eq!(sentence(&e), "A password reset link was issued for Bo Chen");
    }

    #[test]
    fn every_action_has_a_sentence_and_a_label_without_its_code() {
        for action in AuditAction::ALL {
            let s = said(action, "Ann Lee", "Bo Chen", "a", "b");
            assert!(
                s.starts_with("Ann Lee") || s.starts_with("Bo Chen") || s.starts_with('A'),
                "{s}"
            );
            assert!(!s.contains(action.code()), "{s}");
            assert!(!action.label().contains('.'), "{}", action.label());
        }
        let labels: std::collections::HashSet<_> =
            AuditAction::ALL.iter().map(|a| a.label()).collect();
        assert_eq!(labels.len(), AuditAction::ALL.len(), "labels are distinct");
    }

    #[test]
    fn an_unknown_code_is_shown_as_recorded() {
        let e = Recorded {
            action: "member.teleported",
            actor: "Ann Lee",
            ..Recorded::default()
        };
        assert_eq!(sentence(&e), "Ann Lee did member.teleported");
    }
}
