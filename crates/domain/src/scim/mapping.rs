//! Identity-provider groups to roster roles: the mapping an organization configures, the
//! organization and project roles and the workspaces it gives a set of groups, what changing
//! it would move, and the guard against an identity provider deprovisioning many members at
//! once. SCIM provisioning and SAML sign-in both decide roles and workspaces here.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::{ProjectId, ProjectRole, Role, UserId, WorkspaceId};

/// The longest group name accepted, in characters.
pub const MAX_GROUP_NAME: usize = 256;

/// The roles a group may give. Ownership is handed over, never given; Not Activated and
/// Deactivated are what the fallback is for.
pub const MAPPABLE: [Role; 4] = [
    Role::Administrator,
    Role::Manager,
    Role::Reviewer,
    Role::Annotator,
];

/// The roles members in no mapped group may fall back to: none of them manages anyone, so a
/// group missing from the identity provider never hands out management.
pub const FALLBACKS: [Role; 4] = [
    Role::Deactivated,
    Role::NotActivated,
    Role::Annotator,
    Role::Reviewer,
];

/// The hourly deprovisioning limit when none is configured, for small organizations.
pub const MIN_DEPROVISION_LIMIT: i64 = 5;

/// How an organization's identity-provider groups become roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMapping {
    /// Members of the group get the role; of several, the highest.
    pub roles_groups: Vec<(Role, String)>,
    pub projects_groups: Vec<ProjectGroup>,
    /// Members of the group are members of the workspace.
    pub workspaces_groups: Vec<WorkspaceGroup>,
    /// The role of members in none of `roles_groups`.
    pub fallback: Role,
}

/// Members of `group` are members of `workspace`. The workspace is kept by id, so renaming
/// it keeps the mapping; people name it by its title, unique in its organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceGroup {
    pub workspace: WorkspaceId,
    pub group: String,
}

/// A workspace membership a member holds, and whether the identity provider applying the
/// mapping gave it (only those does the mapping take away again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldWorkspace {
    pub workspace: WorkspaceId,
    pub given_by_this_idp: bool,
}

/// A workspace membership a mapping gives or takes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WorkspaceMove {
    Join(WorkspaceId),
    Leave(WorkspaceId),
}

/// Members of `group` are members of `project`, with `role` there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectGroup {
    pub project: ProjectId,
    pub group: String,
    pub role: MappedProjectRole,
}

/// The project role a group gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MappedProjectRole {
    Annotator,
    Reviewer,
    /// A project member without a project role, who works with their organization role.
    Inherit,
}

impl MappedProjectRole {
    pub fn project_role(self) -> Option<ProjectRole> {
        match self {
            MappedProjectRole::Annotator => Some(ProjectRole::Annotator),
            MappedProjectRole::Reviewer => Some(ProjectRole::Reviewer),
            MappedProjectRole::Inherit => None,
        }
    }

    /// Which wins when several of a member's groups name one project.
    fn precedence(self) -> u8 {
        match self {
            MappedProjectRole::Reviewer => 2,
            MappedProjectRole::Annotator => 1,
            MappedProjectRole::Inherit => 0,
        }
    }
}

/// Why a mapping cannot be saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("{0} cannot be given through a group; map groups to Administrator, Manager, Reviewer or Annotator")]
    RoleNotMappable(&'static str),
    #[error("{0} cannot be the fallback role, as members in no mapped group would manage others; choose Deactivated, Not Activated, Annotator or Reviewer")]
    FallbackGrantsManagement(&'static str),
    #[error("A group name is empty")]
    EmptyGroupName,
    #[error("The group name \"{start}...\" is {chars} characters long; at most {MAX_GROUP_NAME} are allowed")]
    GroupNameTooLong { start: String, chars: usize },
    #[error("The group \"{group}\" is mapped to {role} twice")]
    DuplicateRoleGroup { role: &'static str, group: String },
    #[error("The group \"{group}\" is mapped to project {project} with the same role twice")]
    DuplicateProjectGroup { project: ProjectId, group: String },
    #[error("The group \"{group}\" is mapped to workspace {workspace} twice")]
    DuplicateWorkspaceGroup {
        workspace: WorkspaceId,
        group: String,
    },
}

impl Default for GroupMapping {
    /// No groups mapped; were role groups added, members in none of them would be deactivated.
    fn default() -> Self {
        GroupMapping {
            roles_groups: Vec::new(),
            projects_groups: Vec::new(),
            workspaces_groups: Vec::new(),
            fallback: Role::Deactivated,
        }
    }
}

impl GroupMapping {
    /// The organization role a provisioned person should hold now, or None to leave their
    /// role as it is. Deactivated by their identity provider: Deactivated. With role groups:
    /// the highest mapped role of their groups, or the fallback. Without role groups the
    /// identity provider does not manage roles: a newcomer (no `current` role) joins in the
    /// fallback, a deactivated member returns to it, and other roles stay as people set them.
    pub fn decide<S: AsRef<str>>(
        &self,
        active: bool,
        groups: &[S],
        current: Option<Role>,
    ) -> Option<Role> {
        if !active {
            return Some(Role::Deactivated);
        }
        if !self.roles_groups.is_empty() {
            return Some(self.org_role(groups));
        }
        match current {
            None | Some(Role::Deactivated) => Some(self.fallback),
            Some(_) => None,
        }
    }

    /// Checks a mapping before it is saved.
    pub fn validate(&self) -> Result<(), MappingError> {
        if let Some((role, _)) = self
            .roles_groups
            .iter()
            .find(|(r, _)| !MAPPABLE.contains(r))
        {
            return Err(MappingError::RoleNotMappable(role.name()));
        }
        if !FALLBACKS.contains(&self.fallback) {
            return Err(MappingError::FallbackGrantsManagement(self.fallback.name()));
        }
        let names = self.roles_groups.iter().map(|(_, g)| g);
        names
            .chain(self.projects_groups.iter().map(|p| &p.group))
            .chain(self.workspaces_groups.iter().map(|w| &w.group))
            .try_for_each(|group| check_group_name(group))?;
        let mut seen = HashSet::new();
        if let Some((role, group)) = self.roles_groups.iter().find(|pair| !seen.insert(*pair)) {
            return Err(MappingError::DuplicateRoleGroup {
                role: role.name(),
                group: group.clone(),
            });
        }
        let mut seen = HashSet::new();
        if let Some(dup) = self
            .projects_groups
            .iter()
            .find(|p| !seen.insert((p.project, &p.group, p.role)))
        {
            return Err(MappingError::DuplicateProjectGroup {
                project: dup.project,
                group: dup.group.clone(),
            });
        }
        let mut seen = HashSet::new();
        if let Some(dup) = self
            .workspaces_groups
            .iter()
            .find(|w| !seen.insert((w.workspace, &w.group)))
        {
            return Err(MappingError::DuplicateWorkspaceGroup {
                workspace: dup.workspace,
                group: dup.group.clone(),
            });
        }
        Ok(())
    }

    /// Whether the mapping decides organization roles at all. Without role groups, SCIM and
    /// SAML leave organization roles to people.
    pub fn is_managed(&self) -> bool {
        !self.roles_groups.is_empty()
    }

    /// The organization role for a member of `groups`: the highest role any of them maps to,
    /// else the fallback. Names match case-sensitively, as Label Studio matches them.
    pub fn org_role<S: AsRef<str>>(&self, groups: &[S]) -> Role {
        self.roles_groups
            .iter()
            .filter(|(_, group)| is_in(groups, group))
            .map(|(role, _)| *role)
            .max_by_key(|role| role.rank())
            .unwrap_or(self.fallback)
    }

    /// The projects a member of `groups` belongs to, with their project role there (`None`:
    /// they work with their organization role). Of several entries for one project, Reviewer
    /// beats Annotator beats no project role.
    pub fn project_roles<S: AsRef<str>>(
        &self,
        groups: &[S],
    ) -> BTreeMap<ProjectId, Option<ProjectRole>> {
        let mut best: BTreeMap<ProjectId, MappedProjectRole> = BTreeMap::new();
        for entry in self
            .projects_groups
            .iter()
            .filter(|e| is_in(groups, &e.group))
        {
            let role = best.entry(entry.project).or_insert(entry.role);
            if entry.role.precedence() > role.precedence() {
                *role = entry.role;
            }
        }
        best.into_iter()
            .map(|(project, role)| (project, role.project_role()))
            .collect()
    }

    /// The workspaces a member of `groups` belongs to through the mapping.
    pub fn workspaces<S: AsRef<str>>(&self, groups: &[S]) -> BTreeSet<WorkspaceId> {
        self.workspaces_groups
            .iter()
            .filter(|w| is_in(groups, &w.group))
            .map(|w| w.workspace)
            .collect()
    }

    /// What the mapping does to the workspace memberships of a member of `groups` who holds
    /// `held`: they join each mapped workspace they are not in, and leave each workspace this
    /// identity provider gave them that their groups no longer map them to (also when the
    /// mapping no longer names it). Memberships people gave, or another identity provider
    /// gave, are never taken away here. Joins first, each list in workspace order.
    pub fn workspace_moves<S: AsRef<str>>(
        &self,
        groups: &[S],
        held: &[HeldWorkspace],
    ) -> Vec<WorkspaceMove> {
        let wanted = self.workspaces(groups);
        let joins = wanted
            .iter()
            .filter(|w| !held.iter().any(|h| h.workspace == **w))
            .map(|w| WorkspaceMove::Join(*w));
        let leaves: BTreeSet<WorkspaceId> = held
            .iter()
            .filter(|h| h.given_by_this_idp && !wanted.contains(&h.workspace))
            .map(|h| h.workspace)
            .collect();
        joins
            .chain(leaves.into_iter().map(WorkspaceMove::Leave))
            .collect()
    }

    /// The role this mapping decides for `groups`, or `None` when it decides none.
    fn decision<S: AsRef<str>>(&self, groups: &[S]) -> Option<Role> {
        self.is_managed().then(|| self.org_role(groups))
    }
}

fn is_in<S: AsRef<str>>(groups: &[S], group: &str) -> bool {
    groups.iter().any(|g| g.as_ref() == group)
}

fn check_group_name(group: &str) -> Result<(), MappingError> {
    if group.trim().is_empty() {
        return Err(MappingError::EmptyGroupName);
    }
    let chars = group.chars().count();
    if chars > MAX_GROUP_NAME {
        return Err(MappingError::GroupNameTooLong {
            start: group.chars().take(40).collect(),
            chars,
        });
    }
    Ok(())
}

/// A member and the identity-provider groups roster knows them to be in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberGroups {
    pub user: UserId,
    pub current: Role,
    pub groups: Vec<String>,
}

/// A role change a mapping change would make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub user: UserId,
    pub from: Role,
    pub to: Role,
}

impl Move {
    pub fn is_deprovision(&self) -> bool {
        is_deprovision(self.from, self.to)
    }
}

/// The moves that replacing `old` with `new` causes, for the page that asks to confirm it: a
/// member moves when the two mappings decide differently for their groups and the new
/// decision is not already their role. Members both mappings treat alike are left out even
/// when their role differs (changed by hand, or held back for want of a seat): the change
/// does not concern them. Identity providers never manage the Owner, who never moves.
pub fn preview(
    old: &GroupMapping,
    new: &GroupMapping,
    members: impl IntoIterator<Item = MemberGroups>,
) -> Vec<Move> {
    members
        .into_iter()
        .filter(|m| m.current != Role::Owner)
        .filter_map(|m| {
            let to = new.decision(&m.groups)?;
            let moves = to != m.current && old.decision(&m.groups) != Some(to);
            moves.then_some(Move {
                user: m.user,
                from: m.current,
                to,
            })
        })
        .collect()
}

/// Whether moving from `from` to `to` deprovisions a member: it takes away a working role.
/// Deleting a member in a working role deprovisions them too; the caller counts those.
pub fn is_deprovision(from: Role, to: Role) -> bool {
    from.takes_seat() && matches!(to, Role::Deactivated | Role::NotActivated)
}

/// How many members an identity provider may deprovision in an hour: the configured limit,
/// or a tenth of the working members rounded up, and never fewer than
/// [`MIN_DEPROVISION_LIMIT`] (a small organization must still be able to lose a few people).
pub fn deprovision_limit(configured: Option<i64>, working_members: i64) -> i64 {
    match configured {
        Some(limit) => limit.max(0),
        None => {
            let working = working_members.max(0);
            let tenth = working / 10 + i64::from(working % 10 != 0);
            tenth.max(MIN_DEPROVISION_LIMIT)
        }
    }
}

/// Refuses a request that would bring the last hour's deprovisionings past `limit`, so that a
/// mistaken group change (or a run of single requests adding up to one) cannot empty an
/// organization. A request that deprovisions nobody is never refused.
pub fn check_deprovision(
    would_deprovision: i64,
    already_in_last_hour: i64,
    limit: i64,
) -> Result<(), DeprovisionRefused> {
    if would_deprovision > 0 && would_deprovision.saturating_add(already_in_last_hour) > limit {
        Err(DeprovisionRefused {
            would: would_deprovision,
            already: already_in_last_hour,
            limit,
        })
    } else {
        Ok(())
    }
}

/// A request refused by the deprovisioning guard; nothing of it was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", describe_refusal(*.would, *.already, *.limit))]
pub struct DeprovisionRefused {
    pub would: i64,
    pub already: i64,
    pub limit: i64,
}

fn describe_refusal(would: i64, already: i64, limit: i64) -> String {
    let members = |n: i64| format!("{n} {}", if n == 1 { "member" } else { "members" });
    let earlier = if already > 0 {
        format!(", after {} in the last hour", members(already))
    } else {
        String::new()
    };
    format!(
        "Refused: this would deactivate or remove {}{earlier}, more than the limit of {} an hour. \
         Nothing was changed. If the identity provider means it, raise the deprovisioning limit \
         in the organization's SCIM settings and send the request again",
        members(would),
        members(limit)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Role::*;

    fn roles(pairs: &[(Role, &str)]) -> GroupMapping {
        GroupMapping {
            roles_groups: pairs.iter().map(|(r, g)| (*r, g.to_string())).collect(),
            ..GroupMapping::default()
        }
    }

    fn project(id: i64, group: &str, role: MappedProjectRole) -> ProjectGroup {
        ProjectGroup {
            project: ProjectId(id),
            group: group.to_owned(),
            role,
        }
    }

    fn company() -> GroupMapping {
        roles(&[
            (Annotator, "annotators"),
            (Reviewer, "reviewers"),
            (Manager, "managers"),
            (Administrator, "admins"),
            (Annotator, "everyone"),
        ])
    }

    #[test]
    fn groups_give_only_working_roles_below_owner() {
        for role in Role::ALL {
            let allowed = matches!(role, Administrator | Manager | Reviewer | Annotator);
            let result = roles(&[(role, "g")]).validate();
            assert_eq!(result.is_ok(), allowed, "{role:?}");
            if !allowed {
                assert_eq!(result, Err(MappingError::RoleNotMappable(role.name())));
            }
        }
    }

    #[test]
    fn the_fallback_never_grants_management() {
        for role in Role::ALL {
            let allowed = matches!(role, Deactivated | NotActivated | Annotator | Reviewer);
            let mapping = GroupMapping {
                fallback: role,
                ..company()
            };
            assert_eq!(mapping.validate().is_ok(), allowed, "{role:?}");
        }
        let refused = GroupMapping {
            fallback: Manager,
            ..company()
        }
        .validate()
        .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "Manager cannot be the fallback role, as members in no mapped group would manage others; choose Deactivated, Not Activated, Annotator or Reviewer"
        );
        assert_eq!(GroupMapping::default().fallback, Deactivated);
    }

    #[test]
    fn group_names_are_checked() {
        let long = "g".repeat(MAX_GROUP_NAME);
        let too_long = "g".repeat(MAX_GROUP_NAME + 1);
        let table: [(&str, Result<(), MappingError>); 4] = [
            ("admins", Ok(())),
            ("", Err(MappingError::EmptyGroupName)),
            ("   ", Err(MappingError::EmptyGroupName)),
            (&long, Ok(())),
        ];
        for (name, expected) in table {
            assert_eq!(roles(&[(Annotator, name)]).validate(), expected, "{name:?}");
            let in_project = GroupMapping {
                projects_groups: vec![project(1, name, MappedProjectRole::Inherit)],
                ..GroupMapping::default()
            };
            assert_eq!(in_project.validate(), expected, "{name:?}");
        }
        assert_eq!(
            roles(&[(Annotator, &too_long)]).validate(),
            Err(MappingError::GroupNameTooLong {
                start: "g".repeat(40),
                chars: MAX_GROUP_NAME + 1
            })
        );
        // Characters, not bytes: 256 two-byte letters fit.
        assert!(roles(&[(Annotator, &"é".repeat(MAX_GROUP_NAME))])
            .validate()
            .is_ok());
    }

    #[test]
    fn only_exact_duplicates_are_refused() {
        assert_eq!(
            roles(&[(Reviewer, "staff"), (Reviewer, "staff")]).validate(),
            Err(MappingError::DuplicateRoleGroup {
                role: "Reviewer",
                group: "staff".into()
            })
        );
        // One group for two roles (the higher wins), two groups for one role, and names
        // differing only in case are all fine.
        assert!(roles(&[(Reviewer, "staff"), (Manager, "staff")])
            .validate()
            .is_ok());
        assert!(roles(&[(Reviewer, "a"), (Reviewer, "b")])
            .validate()
            .is_ok());
        assert!(roles(&[(Reviewer, "staff"), (Reviewer, "Staff")])
            .validate()
            .is_ok());
        let twice = GroupMapping {
            projects_groups: vec![
                project(1, "p", MappedProjectRole::Reviewer),
                project(1, "p", MappedProjectRole::Reviewer),
            ],
            ..GroupMapping::default()
        };
        assert_eq!(
            twice.validate(),
            Err(MappingError::DuplicateProjectGroup {
                project: ProjectId(1),
                group: "p".into()
            })
        );
    }

    #[test]
    fn the_highest_mapped_role_wins_and_names_match_exactly() {
        let mapping = company();
        let table: [(&[&str], Role); 9] = [
            (&["admins", "annotators"], Administrator),
            (&["annotators", "admins"], Administrator),
            (&["reviewers", "managers"], Manager),
            (&["annotators", "reviewers"], Reviewer),
            (&["everyone"], Annotator),
            (&["Admins", "ADMINS", "admins "], Deactivated),
            (&["other"], Deactivated),
            (&[], Deactivated),
            (
                &["everyone", "admins", "reviewers", "managers"],
                Administrator,
            ),
        ];
        for (groups, role) in table {
            assert_eq!(mapping.org_role(groups), role, "{groups:?}");
        }
        let pending = GroupMapping {
            fallback: NotActivated,
            ..company()
        };
        assert_eq!(pending.org_role(&["other"]), NotActivated);
        let owned: Vec<String> = vec!["managers".into()];
        assert_eq!(mapping.org_role(&owned), Manager);
    }

    #[test]
    fn a_mapping_without_role_groups_leaves_roles_alone() {
        assert!(company().is_managed());
        let projects_only = GroupMapping {
            projects_groups: vec![project(1, "p", MappedProjectRole::Annotator)],
            ..GroupMapping::default()
        };
        assert!(!projects_only.is_managed());
        assert!(!GroupMapping::default().is_managed());
    }

    #[test]
    fn project_roles_prefer_reviewer_then_annotator_then_none() {
        use MappedProjectRole as M;
        let mapping = GroupMapping {
            projects_groups: vec![
                project(1, "p1-inherit", M::Inherit),
                project(1, "p1-annotators", M::Annotator),
                project(1, "p1-reviewers", M::Reviewer),
                project(2, "p2", M::Inherit),
                project(3, "P3", M::Reviewer),
            ],
            ..GroupMapping::default()
        };
        let table: [(&[&str], Option<ProjectRole>); 7] = [
            (&["p1-inherit"], None),
            (&["p1-annotators"], Some(ProjectRole::Annotator)),
            (
                &["p1-inherit", "p1-annotators"],
                Some(ProjectRole::Annotator),
            ),
            (
                &["p1-annotators", "p1-inherit"],
                Some(ProjectRole::Annotator),
            ),
            (
                &["p1-reviewers", "p1-annotators"],
                Some(ProjectRole::Reviewer),
            ),
            (&["p1-inherit", "p1-reviewers"], Some(ProjectRole::Reviewer)),
            (
                &["p1-annotators", "p1-reviewers", "p1-inherit"],
                Some(ProjectRole::Reviewer),
            ),
        ];
        for (groups, role) in table {
            let projects = mapping.project_roles(groups);
            assert_eq!(projects.get(&ProjectId(1)), Some(&role), "{groups:?}");
        }
        let all = mapping.project_roles(&["p1-inherit", "p2", "p3"]);
        assert_eq!(
            all,
            BTreeMap::from([(ProjectId(1), None), (ProjectId(2), None)]),
            "P3 is not p3"
        );
        assert!(mapping.project_roles(&["other"]).is_empty());
    }

    fn member(id: i64, current: Role, groups: &[&str]) -> MemberGroups {
        MemberGroups {
            user: UserId(id),
            current,
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }
    }

    #[test]
    fn a_preview_lists_the_moves_the_change_causes() {
        let old = roles(&[(Reviewer, "staff"), (Administrator, "admins")]);
        let new = roles(&[(Manager, "staff"), (Administrator, "admins")]);
        let members = vec![
            member(1, Owner, &["staff"]),
            member(2, Reviewer, &["staff"]),
            member(3, Administrator, &["admins"]),
            member(4, Annotator, &["admins"]),
            member(5, Manager, &["staff"]),
            member(6, Reviewer, &[]),
        ];
        // 1 is the Owner; 3 and 4 are decided alike by both mappings (4's role was changed
        // by hand); 5 already is a Manager; 6 falls back to Deactivated under both.
        assert_eq!(
            preview(&old, &new, members),
            vec![Move {
                user: UserId(2),
                from: Reviewer,
                to: Manager
            }]
        );
    }

    #[test]
    fn the_owner_never_moves() {
        let new = roles(&[(Annotator, "x")]);
        for groups in [&["x"][..], &[][..]] {
            let moves = preview(&GroupMapping::default(), &new, [member(1, Owner, groups)]);
            assert!(moves.is_empty(), "{groups:?}");
        }
    }

    #[test]
    fn managing_roles_for_the_first_time_moves_everyone_who_differs() {
        let new = roles(&[(Annotator, "workers")]);
        let moves = preview(
            &GroupMapping::default(),
            &new,
            [
                member(1, Reviewer, &["workers"]),
                member(2, Annotator, &["workers"]),
                member(3, Manager, &[]),
            ],
        );
        assert_eq!(
            moves,
            vec![
                Move {
                    user: UserId(1),
                    from: Reviewer,
                    to: Annotator
                },
                Move {
                    user: UserId(3),
                    from: Manager,
                    to: Deactivated
                }
            ]
        );
        assert!(moves[1].is_deprovision());
        assert!(!moves[0].is_deprovision());
    }

    #[test]
    fn dropping_the_role_groups_moves_nobody() {
        let moves = preview(
            &company(),
            &GroupMapping::default(),
            [
                member(1, Administrator, &["admins"]),
                member(2, Annotator, &[]),
            ],
        );
        assert!(moves.is_empty());
    }

    #[test]
    fn deprovisioning_takes_away_a_working_role() {
        for from in Role::ALL {
            for to in Role::ALL {
                let expected = from.takes_seat() && matches!(to, Deactivated | NotActivated);
                assert_eq!(is_deprovision(from, to), expected, "{from:?} -> {to:?}");
            }
        }
        assert!(is_deprovision(Annotator, NotActivated));
        assert!(!is_deprovision(NotActivated, Deactivated));
    }

    #[test]
    fn the_default_limit_is_a_tenth_rounded_up_and_at_least_five() {
        let table = [
            (None, 0, 5),
            (None, 1, 5),
            (None, 50, 5),
            (None, 51, 6),
            (None, 60, 6),
            (None, 61, 7),
            (None, 100, 10),
            (None, 101, 11),
            (None, 1234, 124),
            (None, -3, 5),
            (None, i64::MAX, i64::MAX / 10 + 1),
            (Some(3), 1000, 3),
            (Some(200), 10, 200),
            (Some(0), 100, 0),
            (Some(-1), 100, 0),
        ];
        for (configured, working, limit) in table {
            assert_eq!(
                deprovision_limit(configured, working),
                limit,
                "{configured:?} of {working}"
            );
        }
    }

    #[test]
    fn the_guard_allows_up_to_the_limit_and_refuses_past_it() {
        let table = [
            (5, 0, 5, true),
            (6, 0, 5, false),
            (1, 4, 5, true),
            (1, 5, 5, false),
            (3, 3, 5, false),
            (0, 0, 5, true),
            (0, 9, 5, true),
            (1, 0, 0, false),
            (i64::MAX, i64::MAX, 5, false),
        ];
        for (would, already, limit, allowed) in table {
            assert_eq!(
                check_deprovision(would, already, limit).is_ok(),
                allowed,
                "{would} after {already}, limit {limit}"
            );
        }
    }

    #[test]
    fn a_run_of_single_requests_is_stopped_at_the_limit() {
        let limit = deprovision_limit(None, 30);
        let mut done = 0;
        while check_deprovision(1, done, limit).is_ok() {
            done += 1;
        }
        assert_eq!(done, limit);
        assert_eq!(
            check_deprovision(1, done, limit),
            Err(DeprovisionRefused {
                would: 1,
                already: 5,
                limit: 5
            })
        );
    }

    #[test]
    fn a_refusal_says_how_many_and_how_to_raise_the_limit() {
        assert_eq!(
            DeprovisionRefused {
                would: 12,
                already: 0,
                limit: 10
            }
            .to_string(),
            "Refused: this would deactivate or remove 12 members, more than the limit of 10 \
             members an hour. Nothing was changed. If the identity provider means it, raise the \
             deprovisioning limit in the organization's SCIM settings and send the request again"
        );
        let after = DeprovisionRefused {
            would: 1,
            already: 5,
            limit: 5,
        }
        .to_string();
        assert!(
            after.starts_with("Refused: this would deactivate or remove 1 member, after 5 members in the last hour, more than the limit of 5 members an hour."),
            "{after}"
        );
    }

    proptest! {
        #[test]
        fn the_guard_never_lets_an_hour_pass_its_limit(
            would in -5i64..50, already in -5i64..50, limit in 0i64..40,
        ) {
            if check_deprovision(would, already, limit).is_ok() && would > 0 {
                prop_assert!(would + already <= limit);
            }
        }

        #[test]
        fn the_role_is_one_of_the_mapped_or_the_fallback(
            picks in prop::collection::vec(0usize..6, 0..6),
        ) {
            let names = ["annotators", "reviewers", "managers", "admins", "everyone", "other"];
            let groups: Vec<&str> = picks.iter().map(|i| names[*i]).collect();
            let mapping = company();
            let role = mapping.org_role(&groups);
            let mapped: Vec<Role> = mapping
                .roles_groups
                .iter()
                .filter(|(_, g)| groups.contains(&g.as_str()))
                .map(|(r, _)| *r)
                .collect();
            match mapped.iter().map(|r| r.rank()).max() {
                Some(best) => prop_assert_eq!(role.rank(), best),
                None => prop_assert_eq!(role, mapping.fallback),
            }
        }
    }

    fn workspace(id: i64, group: &str) -> WorkspaceGroup {
        WorkspaceGroup {
            workspace: WorkspaceId(id),
            group: group.to_owned(),
        }
    }

    fn held(id: i64, given_by_this_idp: bool) -> HeldWorkspace {
        HeldWorkspace {
            workspace: WorkspaceId(id),
            given_by_this_idp,
        }
    }

    #[test]
    fn workspace_groups_are_checked_like_the_others() {
        let twice = GroupMapping {
            workspaces_groups: vec![workspace(4, "w"), workspace(4, "w")],
            ..GroupMapping::default()
        };
        assert_eq!(
            twice.validate(),
            Err(MappingError::DuplicateWorkspaceGroup {
                workspace: WorkspaceId(4),
                group: "w".into()
            })
        );
        let unnamed = GroupMapping {
            workspaces_groups: vec![workspace(4, " ")],
            ..GroupMapping::default()
        };
        assert_eq!(unnamed.validate(), Err(MappingError::EmptyGroupName));
        // One group for two workspaces, and two groups for one, are fine.
        let fine = GroupMapping {
            workspaces_groups: vec![workspace(4, "w"), workspace(5, "w"), workspace(4, "v")],
            ..GroupMapping::default()
        };
        assert!(fine.validate().is_ok());
        assert!(!fine.is_managed(), "workspaces alone leave roles to people");
    }

    #[test]
    fn members_of_a_mapped_group_join_its_workspaces_by_exact_name() {
        let mapping = GroupMapping {
            workspaces_groups: vec![
                workspace(1, "Labelers"),
                workspace(2, "Labelers"),
                workspace(3, "QA"),
            ],
            ..GroupMapping::default()
        };
        let table: [(&[&str], &[i64]); 5] = [
            (&["Labelers"], &[1, 2]),
            (&["QA", "Labelers"], &[1, 2, 3]),
            (&["labelers"], &[]),
            (&["other"], &[]),
            (&[], &[]),
        ];
        for (groups, ids) in table {
            let want: BTreeSet<WorkspaceId> = ids.iter().map(|i| WorkspaceId(*i)).collect();
            assert_eq!(mapping.workspaces(groups), want, "{groups:?}");
        }
    }

    #[test]
    fn the_mapping_takes_away_only_the_workspaces_this_idp_gave() {
        use WorkspaceMove::{Join, Leave};
        let mapping = GroupMapping {
            workspaces_groups: vec![workspace(1, "A"), workspace(2, "B")],
            ..GroupMapping::default()
        };
        let w = WorkspaceId;
        let table: [(&[&str], Vec<HeldWorkspace>, Vec<WorkspaceMove>); 7] = [
            // A newcomer to both groups joins both.
            (&["A", "B"], vec![], vec![Join(w(1)), Join(w(2))]),
            // Already in (whoever added them): nothing to do.
            (&["A"], vec![held(1, false)], vec![]),
            (&["A"], vec![held(1, true)], vec![]),
            // Left group A: the membership it gave goes, one a person gave stays.
            (&[], vec![held(1, true)], vec![Leave(w(1))]),
            (&[], vec![held(1, false)], vec![]),
            // A workspace the mapping no longer names: what this IdP gave goes too.
            (
                &["B"],
                vec![held(9, true), held(8, false)],
                vec![Join(w(2)), Leave(w(9))],
            ),
            // Moved from A to B.
            (&["B"], vec![held(1, true)], vec![Join(w(2)), Leave(w(1))]),
        ];
        for (groups, held, moves) in table {
            assert_eq!(
                mapping.workspace_moves(groups, &held),
                moves,
                "{groups:?} {held:?}"
            );
        }
        // An empty mapping takes away everything this IdP gave, and nothing else.
        assert_eq!(
            GroupMapping::default().workspace_moves(&["A"], &[held(1, true), held(2, false)]),
            vec![Leave(w(1))]
        );
    }

    proptest! {
        #[test]
        fn workspace_moves_never_touch_what_people_gave_and_end_in_the_mapped_set(
            picks in prop::collection::vec(0usize..4, 0..4),
            holdings in prop::collection::vec((1i64..6, any::<bool>()), 0..6),
        ) {
            let names = ["A", "B", "C", "D"];
            let groups: Vec<&str> = picks.iter().map(|i| names[*i]).collect();
            let mapping = GroupMapping {
                workspaces_groups: vec![workspace(1, "A"), workspace(2, "B"), workspace(3, "B"), workspace(4, "C")],
                ..GroupMapping::default()
            };
            let mut seen = HashSet::new();
            let held: Vec<HeldWorkspace> = holdings
                .iter()
                .filter(|(id, _)| seen.insert(*id))
                .map(|(id, mine)| held(*id, *mine))
                .collect();
            let moves = mapping.workspace_moves(&groups, &held);
            let mut after: BTreeSet<WorkspaceId> = held.iter().map(|h| h.workspace).collect();
            for m in &moves {
                match m {
                    WorkspaceMove::Join(w) => prop_assert!(after.insert(*w)),
                    WorkspaceMove::Leave(w) => {
                        prop_assert!(held.iter().any(|h| h.workspace == *w && h.given_by_this_idp));
                        prop_assert!(after.remove(w));
                    }
                }
            }
            let wanted = mapping.workspaces(&groups);
            prop_assert!(wanted.is_subset(&after));
            for h in held.iter().filter(|h| !h.given_by_this_idp) {
                prop_assert!(after.contains(&h.workspace));
            }
        }
    }

    #[test]
    fn decide_follows_active_then_groups_then_leaves_unmanaged_roles_alone() {
        let managed = GroupMapping {
            roles_groups: vec![(Role::Reviewer, "Rev".into())],
            projects_groups: vec![],
            workspaces_groups: vec![],
            fallback: Role::Deactivated,
        };
        let unmanaged = GroupMapping {
            roles_groups: vec![],
            projects_groups: vec![],
            workspaces_groups: vec![],
            fallback: Role::Annotator,
        };
        let none: [&str; 0] = [];
        let cases = [
            (
                &managed,
                false,
                vec!["Rev"],
                Some(Role::Reviewer),
                Some(Role::Deactivated),
            ),
            (&managed, true, vec!["Rev"], None, Some(Role::Reviewer)),
            (
                &managed,
                true,
                vec!["rev"],
                Some(Role::Reviewer),
                Some(Role::Deactivated),
            ),
            (&unmanaged, true, vec![], None, Some(Role::Annotator)),
            (
                &unmanaged,
                true,
                vec![],
                Some(Role::Deactivated),
                Some(Role::Annotator),
            ),
            (&unmanaged, true, vec![], Some(Role::Manager), None),
            (
                &unmanaged,
                false,
                vec![],
                Some(Role::Manager),
                Some(Role::Deactivated),
            ),
        ];
        for (m, active, groups, current, want) in cases {
            let groups: Vec<&str> = if groups.is_empty() {
                none.to_vec()
            } else {
                groups
            };
            assert_eq!(
                m.decide(active, &groups, current),
                want,
                "{groups:?} {current:?}"
            );
        }
    }
}
