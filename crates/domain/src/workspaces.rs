//! Who sees and manages which workspaces and projects (Label Studio Enterprise's permission
//! matrix: workspace access R for Annotators and Reviewers, CRUD for Managers in their own
//! workspaces, CRUD for Administrators and the Owner everywhere). The service gathers the
//! facts about one caller and one workspace or project; these functions decide. The list
//! queries use [`WorkspaceReach`] and [`ProjectReach`], which say the same thing as a filter.

use crate::{Grants, Permission, Role};

/// What is known about a caller and one workspace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WorkspaceFacts {
    /// The caller's membership is a member of the workspace.
    pub member: bool,
    /// The workspace holds a project the caller belongs to (directly or through this
    /// workspace's membership).
    pub holds_my_project: bool,
    /// The workspace is someone else's personal workspace.
    pub personal_of_other: bool,
}

/// What is known about a caller and one project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProjectFacts {
    /// The caller is a member of the project itself.
    pub direct_member: bool,
    /// The caller is a member of the project's workspace.
    pub workspace_member: bool,
    /// The caller created the project (under this membership).
    pub created_it: bool,
}

/// Which workspaces a role's list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceReach {
    /// Every workspace of the organization (Owner, Administrator).
    All,
    /// The workspaces the caller is a member of (Manager).
    Joined,
    /// The workspaces holding a project the caller belongs to (Reviewer, Annotator).
    HoldingMyProjects,
    /// None (Not Activated, Deactivated).
    Nothing,
}

/// Which projects a role's list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectReach {
    /// Every project of the organization (Owner, Administrator).
    All,
    /// Projects the caller belongs to directly or through their workspace, and, when
    /// `created` is set, the projects they created (Managers: "own and invited").
    Joined {
        created: bool,
    },
    Nothing,
}

pub fn workspace_reach(role: Role) -> WorkspaceReach {
    match role {
        Role::Owner | Role::Administrator => WorkspaceReach::All,
        Role::Manager => WorkspaceReach::Joined,
        Role::Reviewer | Role::Annotator => WorkspaceReach::HoldingMyProjects,
        Role::NotActivated | Role::Deactivated => WorkspaceReach::Nothing,
    }
}

pub fn project_reach(role: Role) -> ProjectReach {
    match role {
        Role::Owner | Role::Administrator => ProjectReach::All,
        Role::Manager => ProjectReach::Joined { created: true },
        Role::Reviewer | Role::Annotator => ProjectReach::Joined { created: false },
        Role::NotActivated | Role::Deactivated => ProjectReach::Nothing,
    }
}

/// Whether a caller in `role` sees the workspace. Someone else's personal workspace is shown
/// to nobody but its creator (Owners and Administrators ask for it explicitly:
/// `include_all_workspaces`, see [`sees_personal_of_others`]).
pub fn sees_workspace(role: Role, f: WorkspaceFacts) -> bool {
    let reached = match workspace_reach(role) {
        WorkspaceReach::All => true,
        WorkspaceReach::Joined => f.member,
        WorkspaceReach::HoldingMyProjects => f.holds_my_project,
        WorkspaceReach::Nothing => false,
    };
    reached && (!f.personal_of_other || sees_personal_of_others(role))
}

/// Whether `include_all_workspaces` shows this role other people's personal workspaces.
pub fn sees_personal_of_others(role: Role) -> bool {
    matches!(role, Role::Owner | Role::Administrator)
}

/// Whether a caller in `role` may create workspaces (becoming a member of what they create):
/// Owners, and Administrators and Managers while the organization gives their role the
/// "Manage workspaces" permission.
pub fn may_create_workspace(role: Role, grants: &Grants) -> bool {
    matches!(role, Role::Owner | Role::Administrator | Role::Manager)
        && grants.holds(role, Permission::ManageWorkspaces)
}

/// Whether a caller in `role` may change the workspace: its settings, members and projects,
/// or delete it. Managers manage the workspaces they belong to; all of it only while the
/// organization gives the role the "Manage workspaces" permission (the Owner always has it).
pub fn may_manage_workspace(role: Role, f: WorkspaceFacts, grants: &Grants) -> bool {
    let reach = match role {
        Role::Owner | Role::Administrator => true,
        Role::Manager => f.member,
        _ => false,
    };
    reach && grants.holds(role, Permission::ManageWorkspaces)
}

/// Whether a caller in `role` sees the project.
pub fn sees_project(role: Role, f: ProjectFacts) -> bool {
    match project_reach(role) {
        ProjectReach::All => true,
        ProjectReach::Joined { created } => {
            f.direct_member || f.workspace_member || (created && f.created_it)
        }
        ProjectReach::Nothing => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    const ROLES: [Role; 7] = [
        Owner,
        Administrator,
        Manager,
        Reviewer,
        Annotator,
        NotActivated,
        Deactivated,
    ];

    /// The workspace matrix written out: (role, member, holds my project) → (sees, manages).
    #[test]
    fn workspace_matrix() {
        let cases: [(Role, bool, bool, bool, bool); 16] = [
            (Owner, false, false, true, true),
            (Administrator, false, false, true, true),
            (Manager, false, false, false, false),
            (Manager, true, false, true, true),
            (Manager, false, true, false, false),
            (Reviewer, false, false, false, false),
            (Reviewer, true, false, false, false),
            (Reviewer, false, true, true, false),
            (Annotator, false, false, false, false),
            (Annotator, true, false, false, false),
            (Annotator, true, true, true, false),
            (Annotator, false, true, true, false),
            (NotActivated, true, true, false, false),
            (Deactivated, true, true, false, false),
            (Deactivated, false, false, false, false),
            (NotActivated, false, false, false, false),
        ];
        for (role, member, holds, sees, manages) in cases {
            let f = WorkspaceFacts {
                member,
                holds_my_project: holds,
                personal_of_other: false,
            };
            assert_eq!(sees_workspace(role, f), sees, "{role:?} {f:?} sees");
            assert_eq!(
                may_manage_workspace(role, f, &Grants::default()),
                manages,
                "{role:?} {f:?} manages"
            );
        }
    }

    #[test]
    fn personal_workspaces_of_others_stay_hidden_below_administrator() {
        let f = WorkspaceFacts {
            member: true,
            holds_my_project: true,
            personal_of_other: true,
        };
        for role in ROLES {
            assert_eq!(
                sees_workspace(role, f),
                sees_personal_of_others(role),
                "{role:?}"
            );
        }
        assert!(sees_personal_of_others(Administrator));
        assert!(!sees_personal_of_others(Manager));
    }

    #[test]
    fn who_creates_workspaces() {
        let creators: Vec<Role> = ROLES
            .into_iter()
            .filter(|r| may_create_workspace(*r, &Grants::default()))
            .collect();
        assert_eq!(creators, [Owner, Administrator, Manager]);
        // Withdrawn from Managers, given back to Administrators only: the Owner keeps it.
        let withdrawn = Grants::new(vec![(Permission::ManageWorkspaces, vec![Administrator])]);
        let creators: Vec<Role> = ROLES
            .into_iter()
            .filter(|r| may_create_workspace(*r, &withdrawn))
            .collect();
        assert_eq!(creators, [Owner, Administrator]);
        let f = WorkspaceFacts {
            member: true,
            holds_my_project: true,
            personal_of_other: false,
        };
        assert!(!may_manage_workspace(Manager, f, &withdrawn));
        assert!(may_manage_workspace(
            Owner,
            f,
            &Grants::new(vec![(Permission::ManageWorkspaces, vec![])])
        ));
    }

    /// The project matrix: (role, direct, through workspace, created) → sees.
    #[test]
    fn project_matrix() {
        let cases: [(Role, bool, bool, bool, bool); 15] = [
            (Owner, false, false, false, true),
            (Administrator, false, false, false, true),
            (Manager, false, false, false, false),
            (Manager, true, false, false, true),
            (Manager, false, true, false, true),
            (Manager, false, false, true, true),
            (Reviewer, false, false, false, false),
            (Reviewer, true, false, false, true),
            (Reviewer, false, true, false, true),
            (Reviewer, false, false, true, false),
            (Annotator, false, false, true, false),
            (Annotator, false, true, false, true),
            (Annotator, true, false, false, true),
            (Deactivated, true, true, true, false),
            (NotActivated, true, true, true, false),
        ];
        for (role, direct, ws, created, sees) in cases {
            let f = ProjectFacts {
                direct_member: direct,
                workspace_member: ws,
                created_it: created,
            };
            assert_eq!(sees_project(role, f), sees, "{role:?} {f:?}");
        }
    }

    /// The reaches the list queries use agree with the one-at-a-time rules.
    #[test]
    fn reaches_agree_with_the_rules() {
        for role in ROLES {
            let everything = WorkspaceFacts::default();
            assert_eq!(
                workspace_reach(role) == WorkspaceReach::All,
                sees_workspace(role, everything),
                "{role:?}"
            );
            assert_eq!(
                project_reach(role) == ProjectReach::All,
                sees_project(role, ProjectFacts::default()),
                "{role:?}"
            );
        }
    }
}
