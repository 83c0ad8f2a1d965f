//! The group-mapping editor the SCIM and SAML settings pages share (templates/
//! mapping_editor.html): role rows, project rows, workspace rows and the fallback role, rows
//! added and removed by buttons that work without script, the hidden fields that make Save
//! send exactly what was previewed, and the organization's manual-management checkboxes.
//! Each page posts it to its own URL and adds its own fields around it.

use roster_domain::scim::{GroupMapping, MappedProjectRole, ProjectGroup, FALLBACKS, MAPPABLE};
use roster_domain::{ProjectId, Role};
use roster_service::orgs::ManualManagement;
use roster_service::scim::{
    project_role_from_wire, project_role_wire, role_from_wire, PlannedMove, PlannedWorkspaceMove,
};
use roster_service::store::OrgRecord;
use roster_service::{Admin, Authorized, Member, PageRequest, ServiceError};

use super::org::selected;
use crate::error::ApiError;
use crate::AppState;

/// The project roles a group may give, in the order the drop-down offers them.
const PROJECT_ROLES: [MappedProjectRole; 3] = [
    MappedProjectRole::Annotator,
    MappedProjectRole::Reviewer,
    MappedProjectRole::Inherit,
];

/// What a new row starts with: the least a group can give.
const NEW_ROW_ROLE: Role = Role::Annotator;
const NEW_ROW_PROJECT_ROLE: MappedProjectRole = MappedProjectRole::Annotator;

/// The mapping as stored, or as the form sent it: kept as typed, so that a refused change comes
/// back for correction. Rows without a group name are left out of what is sent to the service
/// (an unfilled row, not a rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MappingDraft {
    pub roles_groups: Vec<(Role, String)>,
    pub projects_groups: Vec<(i64, String, MappedProjectRole)>,
    /// (workspace title, group): people name workspaces by title, the service resolves them.
    pub workspaces_groups: Vec<(String, String)>,
    pub fallback: Role,
}

/// The button a mapping form was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditorAction {
    Preview,
    Save,
    AddRole,
    AddProject,
    AddWorkspace,
    RemoveRole(usize),
    RemoveProject(usize),
    RemoveWorkspace(usize),
}

impl EditorAction {
    /// The `action` field; a form without one (Enter in a field, say) previews.
    pub fn of_form(pairs: &[(String, String)]) -> EditorAction {
        EditorAction::parse(form_value(pairs, "action")).unwrap_or(EditorAction::Preview)
    }

    fn parse(value: &str) -> Option<EditorAction> {
        let index = |rest: &str| rest.parse::<usize>().ok();
        Some(match value {
            "preview" => EditorAction::Preview,
            "save" => EditorAction::Save,
            "add-role" => EditorAction::AddRole,
            "add-project" => EditorAction::AddProject,
            "add-workspace" => EditorAction::AddWorkspace,
            v => {
                if let Some(i) = v.strip_prefix("remove-role-").and_then(index) {
                    EditorAction::RemoveRole(i)
                } else if let Some(i) = v.strip_prefix("remove-project-").and_then(index) {
                    EditorAction::RemoveProject(i)
                } else if let Some(i) = v.strip_prefix("remove-workspace-").and_then(index) {
                    EditorAction::RemoveWorkspace(i)
                } else {
                    return None;
                }
            }
        })
    }
}

/// Every value of the form field `name`, in document order.
fn form_values<'a>(pairs: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    pairs
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// The last value of the form field `name`, or "" when the form has none.
pub(crate) fn form_value<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    form_values(pairs, name).last().copied().unwrap_or("")
}

pub(crate) fn incomplete_form() -> ApiError {
    ApiError::bad_request("The form arrived incomplete; reload the page and try again.")
}

fn org_role(text: &str) -> Result<Role, ApiError> {
    role_from_wire(text).ok_or_else(|| ApiError::bad_request(format!("{text:?} is not a role.")))
}

impl MappingDraft {
    /// The stored mapping, with its workspace rows as the service names them (by title).
    pub fn of(m: &GroupMapping, named_workspaces: &[(String, String)]) -> MappingDraft {
        MappingDraft {
            roles_groups: m.roles_groups.clone(),
            projects_groups: m
                .projects_groups
                .iter()
                .map(|p| (p.project.0, p.group.clone(), p.role))
                .collect(),
            workspaces_groups: named_workspaces.to_vec(),
            fallback: m.fallback,
        }
    }

    /// Reads the editor's fields: rows are the `rg_*`, `pg_*` and `wg_*` fields in document
    /// order.
    pub fn from_form(pairs: &[(String, String)]) -> Result<MappingDraft, ApiError> {
        let all = |name: &str| form_values(pairs, name);
        let (rg_roles, rg_groups) = (all("rg_role"), all("rg_group"));
        let (pg_projects, pg_groups, pg_roles) =
            (all("pg_project"), all("pg_group"), all("pg_role"));
        let (wg_workspaces, wg_groups) = (all("wg_workspace"), all("wg_group"));
        if rg_roles.len() != rg_groups.len()
            || pg_projects.len() != pg_groups.len()
            || pg_projects.len() != pg_roles.len()
            || wg_workspaces.len() != wg_groups.len()
        {
            return Err(incomplete_form());
        }
        let roles_groups = rg_roles
            .iter()
            .zip(&rg_groups)
            .map(|(role, group)| Ok((org_role(role)?, group.to_string())))
            .collect::<Result<Vec<_>, ApiError>>()?;
        let projects_groups = pg_projects
            .iter()
            .zip(&pg_groups)
            .zip(&pg_roles)
            .map(|((project, group), role)| {
                let project = project.trim().parse::<i64>().map_err(|_| {
                    ApiError::invalid("projects_groups", format!("{project:?} is not a project"))
                })?;
                let role = project_role_from_wire(role).ok_or_else(|| {
                    ApiError::invalid(
                        "projects_groups",
                        format!("{role:?} is not Annotator, Reviewer or Inherit"),
                    )
                })?;
                Ok((project, group.to_string(), role))
            })
            .collect::<Result<Vec<_>, ApiError>>()?;
        let workspaces_groups = wg_workspaces
            .iter()
            .zip(&wg_groups)
            .map(|(w, g)| (w.to_string(), g.to_string()))
            .collect();
        Ok(MappingDraft {
            roles_groups,
            projects_groups,
            workspaces_groups,
            fallback: org_role(form_value(pairs, "fallback_role"))?,
        })
    }

    /// Role rows with a group name.
    pub fn filled_roles_groups(&self) -> Vec<(Role, String)> {
        self.roles_groups
            .iter()
            .filter(|(_, g)| !g.trim().is_empty())
            .cloned()
            .collect()
    }

    /// Project rows with a group name.
    pub fn filled_projects_groups(&self) -> Vec<ProjectGroup> {
        self.projects_groups
            .iter()
            .filter(|(_, g, _)| !g.trim().is_empty())
            .map(|(project, group, role)| ProjectGroup {
                project: ProjectId(*project),
                group: group.clone(),
                role: *role,
            })
            .collect()
    }

    /// Workspace rows with a group name, as (workspace title, group).
    pub fn filled_workspaces_groups(&self) -> Vec<(String, String)> {
        self.workspaces_groups
            .iter()
            .filter(|(_, g)| !g.trim().is_empty())
            .cloned()
            .collect()
    }

    /// The mapping the service is asked about: the filled rows and the fallback, without the
    /// workspace rows, which the service resolves from their titles
    /// (`filled_workspaces_groups`).
    pub fn mapping(&self) -> GroupMapping {
        GroupMapping {
            roles_groups: self.filled_roles_groups(),
            projects_groups: self.filled_projects_groups(),
            workspaces_groups: Vec::new(),
            fallback: self.fallback,
        }
    }

    /// The draft as hidden fields, so that Save sends exactly what was previewed.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        for (role, group) in self.filled_roles_groups() {
            f.push(("rg_role", role.code().to_string()));
            f.push(("rg_group", group));
        }
        for p in self.filled_projects_groups() {
            f.push(("pg_project", p.project.0.to_string()));
            f.push(("pg_group", p.group));
            f.push(("pg_role", project_role_wire(p.role).to_string()));
        }
        for (workspace, group) in self.filled_workspaces_groups() {
            f.push(("wg_workspace", workspace));
            f.push(("wg_group", group));
        }
        f.push(("fallback_role", self.fallback.code().to_string()));
        f
    }

    /// Adds or removes a row (the buttons that work without script). A project or workspace
    /// row needs a project or workspace to start with.
    pub fn edit(
        &mut self,
        action: EditorAction,
        first_project: Option<i64>,
        first_workspace: Option<&str>,
    ) {
        match action {
            EditorAction::AddRole => self.roles_groups.push((NEW_ROW_ROLE, String::new())),
            EditorAction::AddProject => {
                if let Some(p) = first_project {
                    self.projects_groups
                        .push((p, String::new(), NEW_ROW_PROJECT_ROLE));
                }
            }
            EditorAction::AddWorkspace => {
                if let Some(w) = first_workspace {
                    self.workspaces_groups.push((w.to_string(), String::new()));
                }
            }
            EditorAction::RemoveWorkspace(i) if i < self.workspaces_groups.len() => {
                self.workspaces_groups.remove(i);
            }
            EditorAction::RemoveRole(i) if i < self.roles_groups.len() => {
                self.roles_groups.remove(i);
            }
            EditorAction::RemoveProject(i) if i < self.projects_groups.len() => {
                self.projects_groups.remove(i);
            }
            _ => {}
        }
    }
}

pub(crate) struct RoleRowView {
    pub(super) index: usize,
    pub(super) group: String,
    pub(super) roles: Vec<(&'static str, &'static str, &'static str)>,
}

pub(crate) struct ProjectRowView {
    pub(super) index: usize,
    pub(super) group: String,
    pub(super) projects: Vec<(i64, String, &'static str)>,
    pub(super) roles: Vec<(&'static str, &'static str)>,
}

pub(crate) struct WorkspaceRowView {
    pub(super) index: usize,
    pub(super) group: String,
    /// (title, selected).
    pub(super) workspaces: Vec<(String, &'static str)>,
}

/// The editor as the template draws it.
pub(crate) struct EditorView {
    /// The URL its buttons post to.
    pub(super) action: &'static str,
    pub(super) role_rows: Vec<RoleRowView>,
    pub(super) role_template: RoleRowView,
    pub(super) project_rows: Vec<ProjectRowView>,
    /// None when the organization has no project to map.
    pub(super) project_template: Option<ProjectRowView>,
    pub(super) workspace_rows: Vec<WorkspaceRowView>,
    /// None when the organization has no workspace to map.
    pub(super) workspace_template: Option<WorkspaceRowView>,
    pub(super) fallbacks: Vec<(&'static str, &'static str, &'static str)>,
}

/// One role change, as the moves tables show it.
pub(crate) struct MoveView {
    pub(super) email: String,
    pub(super) from: &'static str,
    pub(super) to: &'static str,
}

fn role_row(index: usize, role: Role, group: &str) -> RoleRowView {
    RoleRowView {
        index,
        group: group.to_string(),
        roles: MAPPABLE
            .into_iter()
            .map(|r| (r.code(), r.name(), selected(r == role)))
            .collect(),
    }
}

fn project_row(
    index: usize,
    projects: &[(i64, String)],
    (project, group, role): (i64, &str, MappedProjectRole),
) -> ProjectRowView {
    let mut options: Vec<(i64, String, &'static str)> = projects
        .iter()
        .map(|(id, title)| (*id, title.clone(), selected(*id == project)))
        .collect();
    // A mapped project this list does not show still round-trips through the form.
    if !projects.iter().any(|(id, _)| *id == project) {
        options.push((project, format!("Project {project}"), selected(true)));
    }
    ProjectRowView {
        index,
        group: group.to_string(),
        projects: options,
        roles: PROJECT_ROLES
            .into_iter()
            .map(|r| (project_role_wire(r), selected(r == role)))
            .collect(),
    }
}

fn workspace_row(
    index: usize,
    workspaces: &[String],
    (title, group): (&str, &str),
) -> WorkspaceRowView {
    let mut options: Vec<(String, &'static str)> = workspaces
        .iter()
        .map(|w| (w.clone(), selected(w == title)))
        .collect();
    // A title typed into a refused form still round-trips, to be corrected.
    if !workspaces.iter().any(|w| w == title) {
        options.push((title.to_string(), selected(true)));
    }
    WorkspaceRowView {
        index,
        group: group.to_string(),
        workspaces: options,
    }
}

/// The editor for `draft`, posting to `action`; `projects` (id, title) and `workspaces`
/// (titles) are those a row may name.
pub(crate) fn editor_view(
    action: &'static str,
    draft: &MappingDraft,
    projects: &[(i64, String)],
    workspaces: &[String],
) -> EditorView {
    EditorView {
        action,
        role_rows: draft
            .roles_groups
            .iter()
            .enumerate()
            .map(|(i, (r, g))| role_row(i, *r, g))
            .collect(),
        role_template: role_row(0, NEW_ROW_ROLE, ""),
        project_rows: draft
            .projects_groups
            .iter()
            .enumerate()
            .map(|(i, (p, g, r))| project_row(i, projects, (*p, g, *r)))
            .collect(),
        project_template: projects
            .first()
            .map(|(p, _)| project_row(0, projects, (*p, "", NEW_ROW_PROJECT_ROLE))),
        workspace_rows: draft
            .workspaces_groups
            .iter()
            .enumerate()
            .map(|(i, (w, g))| workspace_row(i, workspaces, (w, g)))
            .collect(),
        workspace_template: workspaces
            .first()
            .map(|w| workspace_row(0, workspaces, (w, ""))),
        fallbacks: FALLBACKS
            .into_iter()
            .map(|r| (r.code(), r.name(), selected(r == draft.fallback)))
            .collect(),
    }
}

/// The moves by email, so that a long list can be scanned.
pub(crate) fn moves_view(moves: &[PlannedMove]) -> Vec<MoveView> {
    let mut view: Vec<MoveView> = moves
        .iter()
        .map(|m| MoveView {
            email: m.email.clone(),
            from: m.from.name(),
            to: m.to.name(),
        })
        .collect();
    view.sort_by(|a, b| a.email.cmp(&b.email));
    view
}

/// One workspace membership a mapping gives or takes away, as the preview shows it.
pub(crate) struct WorkspaceMoveView {
    pub(super) email: String,
    pub(super) workspace: String,
    /// "joins" or "leaves".
    pub(super) change: &'static str,
}

/// The workspace moves by email, then workspace.
pub(crate) fn workspace_moves_view(moves: &[PlannedWorkspaceMove]) -> Vec<WorkspaceMoveView> {
    let mut view: Vec<WorkspaceMoveView> = moves
        .iter()
        .map(|m| WorkspaceMoveView {
            email: m.email.clone(),
            workspace: m.title.clone(),
            change: if m.join { "joins" } else { "leaves" },
        })
        .collect();
    view.sort_by(|a, b| (&a.email, &a.workspace).cmp(&(&b.email, &b.workspace)));
    view
}

/// The organization's manual-management settings as the pages' checkboxes show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ManualBoxes {
    pub roles: bool,
    pub workspaces: bool,
    pub project_members: bool,
}

impl ManualBoxes {
    const ROLES: &'static str = "manual_role_management";
    const WORKSPACES: &'static str = "manual_workspace_management";
    const PROJECT_MEMBERS: &'static str = "manual_project_member_management";
    /// A hidden field beside the checkboxes: a form without it (one drawn before they were
    /// there) changes none of the settings, rather than reading absent boxes as unticked.
    const SHOWN: &'static str = "manual_management";

    pub fn of(org: &OrgRecord) -> ManualBoxes {
        ManualBoxes {
            roles: org.manual_role_management,
            workspaces: org.manual_workspace_management,
            project_members: org.manual_project_member_management,
        }
    }

    /// The boxes a form sent (a ticked checkbox is present, an unticked one absent), or None
    /// when the form did not show them.
    pub fn from_form(pairs: &[(String, String)]) -> Option<ManualBoxes> {
        let ticked = |name: &str| !form_value(pairs, name).is_empty();
        ticked(Self::SHOWN).then(|| ManualBoxes {
            roles: ticked(Self::ROLES),
            workspaces: ticked(Self::WORKSPACES),
            project_members: ticked(Self::PROJECT_MEMBERS),
        })
    }

    /// The change that sets the three as `boxes` were sent (none when they were not).
    pub fn change(boxes: Option<ManualBoxes>) -> ManualManagement {
        boxes.map_or_else(ManualManagement::default, |b| ManualManagement {
            roles: Some(b.roles),
            workspaces: Some(b.workspaces),
            project_members: Some(b.project_members),
        })
    }

    fn all(&self) -> [(&'static str, bool); 3] {
        [
            (Self::ROLES, self.roles),
            (Self::WORKSPACES, self.workspaces),
            (Self::PROJECT_MEMBERS, self.project_members),
        ]
    }

    /// The boxes as sent, as hidden fields, for a form that saves what was previewed.
    pub fn fields(boxes: Option<ManualBoxes>) -> Vec<(&'static str, String)> {
        let Some(b) = boxes else {
            return Vec::new();
        };
        let mut f = vec![(Self::SHOWN, "shown".to_string())];
        f.extend(
            b.all()
                .into_iter()
                .filter(|(_, on)| *on)
                .map(|(name, _)| (name, "on".to_string())),
        );
        f
    }

    /// (field name, element id, label, "checked" or "") for the template.
    pub fn boxes(&self) -> Vec<(&'static str, &'static str, &'static str, &'static str)> {
        let describe = |name: &str| {
            match name {
            Self::ROLES => (
                "manual-role-management",
                "Owners and Administrators may still change roles the identity provider manages",
            ),
            Self::WORKSPACES => (
                "manual-workspace-management",
                "People may still remove workspace memberships the identity provider's groups gave",
            ),
            _ => (
                "manual-project-member-management",
                "People may still remove or re-role project memberships the identity provider's groups gave",
            ),
        }
        };
        self.all()
            .into_iter()
            .map(|(name, on)| {
                let (id, label) = describe(name);
                (name, id, label, if on { "checked" } else { "" })
            })
            .collect()
    }
}

/// The organization's projects a row may name, as (id, title).
pub(crate) async fn org_projects(
    state: &AppState,
    by: &Authorized<Admin>,
) -> Result<Vec<(i64, String)>, ServiceError> {
    let member = by.require::<Member>()?;
    Ok(state
        .service
        .list_projects(
            &member,
            None,
            PageRequest {
                page: 1,
                size: 1000,
            },
        )
        .await?
        .items
        .iter()
        .map(|p| (p.id.0, p.title.clone()))
        .collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A form's fields as the pages' handlers receive them.
    pub(crate) fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_editor_reads_rows_in_order_and_leaves_out_unfilled_ones() {
        let form = pairs(&[
            ("rg_role", "AD"),
            ("rg_group", "Admins"),
            ("rg_role", "Annotator"),
            ("rg_group", " "),
            ("pg_project", "7"),
            ("pg_group", "Labelers"),
            ("pg_role", "Reviewer"),
            ("fallback_role", "NO"),
            ("action", "save"),
        ]);
        let draft = MappingDraft::from_form(&form).expect("a valid form");
        assert_eq!(EditorAction::of_form(&form), EditorAction::Save);
        let mapping = draft.mapping();
        assert_eq!(
            mapping.roles_groups,
            vec![(Role::Administrator, "Admins".to_string())]
        );
        assert_eq!(
            mapping.projects_groups,
            vec![ProjectGroup {
                project: ProjectId(7),
                group: "Labelers".into(),
                role: MappedProjectRole::Reviewer
            }]
        );
        assert_eq!(mapping.fallback, Role::NotActivated);
        // The hidden fields of the Save form read back as the same mapping.
        let hidden: Vec<(String, String)> = draft
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let again = MappingDraft::from_form(&hidden).expect("the hidden fields read back");
        assert_eq!(again.mapping(), mapping);
    }

    #[test]
    fn a_form_with_a_row_cut_short_or_a_bad_role_is_refused() {
        let cut = MappingDraft::from_form(&pairs(&[("rg_role", "AD"), ("fallback_role", "DI")]));
        assert!(cut.is_err());
        let bad = MappingDraft::from_form(&pairs(&[("fallback_role", "Boss")]));
        assert_eq!(bad.unwrap_err().status, axum::http::StatusCode::BAD_REQUEST);
        assert_eq!(
            EditorAction::of_form(&pairs(&[("action", "nonsense")])),
            EditorAction::Preview
        );
    }

    #[test]
    fn row_buttons_add_and_remove_rows() {
        let form = pairs(&[
            ("rg_role", "AD"),
            ("rg_group", "A"),
            ("rg_role", "RE"),
            ("rg_group", "B"),
            ("fallback_role", "DI"),
            ("action", "remove-role-0"),
        ]);
        let mut d = MappingDraft::from_form(&form).unwrap();
        let action = EditorAction::of_form(&form);
        assert_eq!(action, EditorAction::RemoveRole(0));
        d.edit(action, None, None);
        assert_eq!(d.roles_groups, vec![(Role::Reviewer, "B".to_string())]);
        d.edit(EditorAction::AddProject, None, None);
        assert!(d.projects_groups.is_empty(), "no project to map, no row");
        d.edit(EditorAction::AddProject, Some(3), None);
        assert_eq!(d.projects_groups.len(), 1);
        d.edit(EditorAction::RemoveRole(9), None, None);
        assert_eq!(
            d.roles_groups.len(),
            1,
            "an index past the end removes nothing"
        );
    }

    #[test]
    fn workspace_rows_round_trip_by_title_and_are_added_and_removed() {
        let form = pairs(&[
            ("wg_workspace", "Labeling Team"),
            ("wg_group", "Labelers"),
            ("wg_workspace", "QA"),
            ("wg_group", ""),
            ("fallback_role", "DI"),
            ("action", "remove-workspace-1"),
        ]);
        let mut d = MappingDraft::from_form(&form).expect("a valid form");
        assert_eq!(
            d.filled_workspaces_groups(),
            vec![("Labeling Team".to_string(), "Labelers".to_string())]
        );
        let action = EditorAction::of_form(&form);
        assert_eq!(action, EditorAction::RemoveWorkspace(1));
        d.edit(action, None, None);
        assert_eq!(d.workspaces_groups.len(), 1);
        d.edit(EditorAction::AddWorkspace, None, None);
        assert_eq!(d.workspaces_groups.len(), 1, "no workspace to map, no row");
        d.edit(EditorAction::AddWorkspace, None, Some("QA"));
        assert_eq!(d.workspaces_groups[1], ("QA".to_string(), String::new()));
        let hidden: Vec<(String, String)> = d
            .fields()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let again = MappingDraft::from_form(&hidden).expect("the hidden fields read back");
        assert_eq!(
            again.filled_workspaces_groups(),
            d.filled_workspaces_groups()
        );
        let cut =
            MappingDraft::from_form(&pairs(&[("wg_workspace", "QA"), ("fallback_role", "DI")]));
        assert!(cut.is_err());
    }

    #[test]
    fn manual_boxes_read_ticked_checkboxes_and_carry_them_as_hidden_fields() {
        let boxes = ManualBoxes::from_form(&pairs(&[
            ("manual_management", "shown"),
            ("manual_role_management", "on"),
            ("manual_project_member_management", "on"),
        ]));
        assert_eq!(
            boxes,
            Some(ManualBoxes {
                roles: true,
                workspaces: false,
                project_members: true
            })
        );
        let hidden: Vec<(String, String)> = ManualBoxes::fields(boxes)
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        assert_eq!(ManualBoxes::from_form(&hidden), boxes);
        assert_eq!(
            ManualBoxes::change(boxes),
            ManualManagement {
                roles: Some(true),
                workspaces: Some(false),
                project_members: Some(true)
            }
        );
        // A form that did not show the boxes changes none of the settings.
        let old_form = ManualBoxes::from_form(&pairs(&[("manual_role_management", "on")]));
        assert_eq!(old_form, None);
        assert_eq!(ManualBoxes::change(old_form), ManualManagement::default());
        assert!(ManualBoxes::fields(None).is_empty());
    }
}
