//! The group-mapping editor the SCIM and SAML settings pages share (templates/
//! mapping_editor.html): role rows, project rows and the fallback role, rows added and removed
//! by buttons that work without script, and the hidden fields that make Save send exactly what
//! was previewed. Each page posts it to its own URL and adds its own fields around it.

use roster_domain::scim::{GroupMapping, MappedProjectRole, ProjectGroup, FALLBACKS, MAPPABLE};
use roster_domain::{ProjectId, Role};
use roster_service::scim::{
    project_role_from_wire, project_role_wire, role_from_wire, PlannedMove,
};
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
    pub fallback: Role,
}

/// The button a mapping form was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EditorAction {
    Preview,
    Save,
    AddRole,
    AddProject,
    RemoveRole(usize),
    RemoveProject(usize),
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
            v => {
                if let Some(i) = v.strip_prefix("remove-role-").and_then(index) {
                    EditorAction::RemoveRole(i)
                } else if let Some(i) = v.strip_prefix("remove-project-").and_then(index) {
                    EditorAction::RemoveProject(i)
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
    pub fn of(m: &GroupMapping) -> MappingDraft {
        MappingDraft {
            roles_groups: m.roles_groups.clone(),
            projects_groups: m
                .projects_groups
                .iter()
                .map(|p| (p.project.0, p.group.clone(), p.role))
                .collect(),
            fallback: m.fallback,
        }
    }

    /// Reads the editor's fields: rows are the `rg_*` and `pg_*` fields in document order.
    pub fn from_form(pairs: &[(String, String)]) -> Result<MappingDraft, ApiError> {
        let all = |name: &str| form_values(pairs, name);
        let (rg_roles, rg_groups) = (all("rg_role"), all("rg_group"));
        let (pg_projects, pg_groups, pg_roles) =
            (all("pg_project"), all("pg_group"), all("pg_role"));
        if rg_roles.len() != rg_groups.len()
            || pg_projects.len() != pg_groups.len()
            || pg_projects.len() != pg_roles.len()
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
        Ok(MappingDraft {
            roles_groups,
            projects_groups,
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

    /// The mapping the service is asked about: the filled rows and the fallback.
    pub fn mapping(&self) -> GroupMapping {
        GroupMapping {
            roles_groups: self.filled_roles_groups(),
            projects_groups: self.filled_projects_groups(),
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
        f.push(("fallback_role", self.fallback.code().to_string()));
        f
    }

    /// Adds or removes a row (the buttons that work without script). A project row needs a
    /// project to start with.
    pub fn edit(&mut self, action: EditorAction, first_project: Option<i64>) {
        match action {
            EditorAction::AddRole => self.roles_groups.push((NEW_ROW_ROLE, String::new())),
            EditorAction::AddProject => {
                if let Some(p) = first_project {
                    self.projects_groups
                        .push((p, String::new(), NEW_ROW_PROJECT_ROLE));
                }
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

/// The editor as the template draws it.
pub(crate) struct EditorView {
    /// The URL its buttons post to.
    pub(super) action: &'static str,
    pub(super) role_rows: Vec<RoleRowView>,
    pub(super) role_template: RoleRowView,
    pub(super) project_rows: Vec<ProjectRowView>,
    /// None when the organization has no project to map.
    pub(super) project_template: Option<ProjectRowView>,
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

/// The editor for `draft`, posting to `action`; `projects` are those a row may name.
pub(crate) fn editor_view(
    action: &'static str,
    draft: &MappingDraft,
    projects: &[(i64, String)],
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
        d.edit(action, None);
        assert_eq!(d.roles_groups, vec![(Role::Reviewer, "B".to_string())]);
        d.edit(EditorAction::AddProject, None);
        assert!(d.projects_groups.is_empty(), "no project to map, no row");
        d.edit(EditorAction::AddProject, Some(3));
        assert_eq!(d.projects_groups.len(), 1);
        d.edit(EditorAction::RemoveRole(9), None);
        assert_eq!(
            d.roles_groups.len(),
            1,
            "an index past the end removes nothing"
        );
    }
}
