//! The SCIM settings page (`/organization/scim`): what an identity provider needs to connect
//! (base URL, token shown once), the group mapping editor with its dry-run preview, and the
//! verified domains (the Owner adds one, publishes its DNS TXT record and has it checked;
//! Administrators see them). Every action is a service call; the page decides no rule of its
//! own.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_domain::scim::{MappedProjectRole, ProjectGroup, FALLBACKS, MAPPABLE};
use roster_domain::{ProjectId, Role};
use roster_service::domains::{DomainRemoval, OrgDomains};
use roster_service::scim::{
    deprovisioning, project_role_from_wire, project_role_wire, role_from_wire, DeleteAction,
    PlannedMove, ScimSettings, ScimSettingsUpdate,
};
use roster_service::{Admin, Member, Owner, PageRequest, ServiceError};
use serde::Deserialize;

use super::org::selected;
use super::{day_time, page, Chrome, WebUser};
use crate::error::ApiError;
use crate::extract::PageForm;
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

/// The editor's content as stored, or as the form sent it: kept as typed, so that a refused
/// change comes back for correction. Rows without a group name are left out when it is sent
/// to the service (an unfilled row, not a rule).
#[derive(Clone)]
struct Draft {
    roles_groups: Vec<(Role, String)>,
    projects_groups: Vec<(i64, String, MappedProjectRole)>,
    fallback: Role,
    delete_action: DeleteAction,
    /// As typed; empty is the default share.
    max_deprovision: String,
    confirm_deprovision: bool,
}

/// The button a mapping form was sent with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    Preview,
    Save,
    AddRole,
    AddProject,
    RemoveRole(usize),
    RemoveProject(usize),
}

impl Action {
    fn parse(value: &str) -> Option<Action> {
        let index = |rest: &str| rest.parse::<usize>().ok();
        Some(match value {
            "preview" => Action::Preview,
            "save" => Action::Save,
            "add-role" => Action::AddRole,
            "add-project" => Action::AddProject,
            v => {
                if let Some(i) = v.strip_prefix("remove-role-").and_then(index) {
                    Action::RemoveRole(i)
                } else if let Some(i) = v.strip_prefix("remove-project-").and_then(index) {
                    Action::RemoveProject(i)
                } else {
                    return None;
                }
            }
        })
    }
}

impl Draft {
    fn of(s: &ScimSettings) -> Draft {
        Draft {
            roles_groups: s.mapping.roles_groups.clone(),
            projects_groups: s
                .mapping
                .projects_groups
                .iter()
                .map(|p| (p.project.0, p.group.clone(), p.role))
                .collect(),
            fallback: s.mapping.fallback,
            delete_action: s.delete_action,
            max_deprovision: s.max_deprovision.map(|n| n.to_string()).unwrap_or_default(),
            confirm_deprovision: false,
        }
    }

    /// Reads the editor form: rows are the `rg_*` and `pg_*` fields in document order.
    fn from_form(pairs: &[(String, String)]) -> Result<(Draft, Action), ApiError> {
        let all = |name: &str| -> Vec<&str> {
            pairs
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect()
        };
        let one = |name: &str| all(name).last().copied().unwrap_or("");
        let (rg_roles, rg_groups) = (all("rg_role"), all("rg_group"));
        let (pg_projects, pg_groups, pg_roles) =
            (all("pg_project"), all("pg_group"), all("pg_role"));
        if rg_roles.len() != rg_groups.len()
            || pg_projects.len() != pg_groups.len()
            || pg_projects.len() != pg_roles.len()
        {
            return Err(ApiError::bad_request(
                "The form arrived incomplete; reload the page and try again.",
            ));
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
        let delete_action = DeleteAction::from_code(one("delete_action").trim())
            .ok_or_else(|| ApiError::invalid("delete_action", "choose delete or deactivate"))?;
        let action = Action::parse(one("action")).unwrap_or(Action::Preview);
        let draft = Draft {
            roles_groups,
            projects_groups,
            fallback: org_role(one("fallback_role"))?,
            delete_action,
            max_deprovision: one("max_deprovision").trim().to_string(),
            confirm_deprovision: !one("confirm_deprovision").is_empty(),
        };
        Ok((draft, action))
    }

    /// The change the service is asked for: the whole editor.
    fn update(&self) -> Result<ScimSettingsUpdate, ApiError> {
        let max_deprovision = match self.max_deprovision.as_str() {
            "" => None,
            n => Some(n.parse::<i64>().map_err(|_| {
                ApiError::invalid(
                    "max_deprovision",
                    "give a whole number, or leave it empty for the default",
                )
            })?),
        };
        Ok(ScimSettingsUpdate {
            roles_groups: Some(
                self.roles_groups
                    .iter()
                    .filter(|(_, g)| !g.trim().is_empty())
                    .cloned()
                    .collect(),
            ),
            projects_groups: Some(
                self.projects_groups
                    .iter()
                    .filter(|(_, g, _)| !g.trim().is_empty())
                    .map(|(project, group, role)| ProjectGroup {
                        project: ProjectId(*project),
                        group: group.clone(),
                        role: *role,
                    })
                    .collect(),
            ),
            fallback: Some(self.fallback),
            delete_action: Some(self.delete_action),
            max_deprovision: Some(max_deprovision),
            confirm_deprovision: self.confirm_deprovision,
        })
    }

    /// The draft as hidden fields, so that Save sends exactly what was previewed.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = Vec::new();
        for (role, group) in self
            .roles_groups
            .iter()
            .filter(|(_, g)| !g.trim().is_empty())
        {
            f.push(("rg_role", role.code().to_string()));
            f.push(("rg_group", group.clone()));
        }
        for (project, group, role) in self
            .projects_groups
            .iter()
            .filter(|(_, g, _)| !g.trim().is_empty())
        {
            f.push(("pg_project", project.to_string()));
            f.push(("pg_group", group.clone()));
            f.push(("pg_role", project_role_wire(*role).to_string()));
        }
        f.push(("fallback_role", self.fallback.code().to_string()));
        f.push(("delete_action", self.delete_action.code().to_string()));
        f.push(("max_deprovision", self.max_deprovision.clone()));
        f
    }

    /// Adds or removes an editor row (the buttons that work without script).
    fn edit(&mut self, action: Action, first_project: Option<i64>) {
        match action {
            Action::AddRole => self.roles_groups.push((NEW_ROW_ROLE, String::new())),
            Action::AddProject => {
                if let Some(p) = first_project {
                    self.projects_groups
                        .push((p, String::new(), NEW_ROW_PROJECT_ROLE));
                }
            }
            Action::RemoveRole(i) if i < self.roles_groups.len() => {
                self.roles_groups.remove(i);
            }
            Action::RemoveProject(i) if i < self.projects_groups.len() => {
                self.projects_groups.remove(i);
            }
            _ => {}
        }
    }
}

fn org_role(text: &str) -> Result<Role, ApiError> {
    role_from_wire(text).ok_or_else(|| ApiError::bad_request(format!("{text:?} is not a role.")))
}

pub(crate) struct RoleRowView {
    index: usize,
    group: String,
    roles: Vec<(&'static str, &'static str, &'static str)>,
}

pub(crate) struct ProjectRowView {
    index: usize,
    group: String,
    projects: Vec<(i64, String, &'static str)>,
    roles: Vec<(&'static str, &'static str)>,
}

pub(crate) struct MoveView {
    email: String,
    from: &'static str,
    to: &'static str,
}

/// The dry run's answer, with the form that saves exactly what was previewed.
pub(crate) struct PreviewView {
    moves: Vec<MoveView>,
    /// How many of the moves take someone out of a working role.
    deprovisioned: usize,
    fields: Vec<(&'static str, String)>,
    /// The save was refused by the deprovisioning guard: offer the Owner's confirmation.
    offer_confirm: bool,
}

/// A verified domain as the page lists it.
pub(crate) struct VerifiedRow {
    domain: String,
    verified_at: String,
}

/// A claim with the record to publish.
pub(crate) struct ClaimRow {
    domain: String,
    record_name: String,
    record_value: String,
}

#[derive(Template)]
#[template(path = "scim.html")]
struct ScimPage {
    chrome: Chrome,
    org_id: i64,
    base_url: String,
    token_created: Option<String>,
    new_token: Option<String>,
    message: Option<String>,
    problem: Option<String>,
    role_rows: Vec<RoleRowView>,
    role_template: RoleRowView,
    project_rows: Vec<ProjectRowView>,
    project_template: Option<ProjectRowView>,
    fallbacks: Vec<(&'static str, &'static str, &'static str)>,
    delete_actions: Vec<(&'static str, &'static str, &'static str)>,
    max_deprovision: String,
    preview: Option<PreviewView>,
    saved: Option<Vec<MoveView>>,
    verified_domains: Vec<VerifiedRow>,
    claims: Vec<ClaimRow>,
    /// Only the Owner adds, checks and removes domains.
    manages_domains: bool,
    /// The domain field as typed, after a refused addition.
    new_domain: String,
}

/// What every rendering of the page reads besides the editor.
struct Loaded {
    settings: ScimSettings,
    token_created: Option<i64>,
    domains: OrgDomains,
    projects: Vec<(i64, String)>,
}

async fn load(state: &AppState, web: &WebUser<Admin>) -> Result<Loaded, ServiceError> {
    let service = &state.service;
    let by = &web.proof;
    let member = by.require::<Member>()?;
    let projects = service
        .list_projects(
            &member,
            PageRequest {
                page: 1,
                size: 1000,
            },
        )
        .await?
        .items
        .iter()
        .map(|p| (p.id.0, p.title.clone()))
        .collect();
    Ok(Loaded {
        settings: service.scim_settings(by).await?,
        token_created: service.scim_token_state(by).await?.created_at,
        domains: service.org_domains(by).await?,
        projects,
    })
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

/// The moves by email, so that a long list can be scanned.
fn moves_view(moves: &[PlannedMove]) -> Vec<MoveView> {
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

/// How the page reads a field a refusal names.
fn field_label(field: &str) -> &str {
    match field {
        // The service names the whole mapping after its first part.
        "roles_groups" => "Mapping",
        "projects_groups" => "Project groups",
        "fallback_role" => "Fallback role",
        "delete_action" => "When the identity provider deletes a user",
        "max_deprovision" => "Deprovisioning limit",
        "domain" => "Domain",
        other => other,
    }
}

/// A refusal in words, as the page shows it.
fn in_words(e: &ApiError) -> String {
    match &e.validation_errors {
        Some(fields) if !fields.is_empty() => fields
            .iter()
            .flat_map(|(f, ms)| ms.iter().map(move |m| format!("{}: {m}", field_label(f))))
            .collect::<Vec<_>>()
            .join(" "),
        _ => e.detail.clone(),
    }
}

/// The page around an editor draft; the caller fills in what an action adds.
fn render(state: &AppState, web: WebUser<Admin>, loaded: &Loaded, draft: &Draft) -> ScimPage {
    let role_rows = draft
        .roles_groups
        .iter()
        .enumerate()
        .map(|(i, (r, g))| role_row(i, *r, g))
        .collect();
    let first_project = loaded.projects.first().map(|(id, _)| *id);
    let project_rows = draft
        .projects_groups
        .iter()
        .enumerate()
        .map(|(i, (p, g, r))| project_row(i, &loaded.projects, (*p, g, *r)))
        .collect();
    ScimPage {
        org_id: web.proof.org().id.0,
        base_url: crate::scim::base_url(state),
        token_created: loaded.token_created.map(|t| day_time(Some(t))),
        new_token: None,
        message: None,
        problem: None,
        role_rows,
        role_template: role_row(0, NEW_ROW_ROLE, ""),
        project_rows,
        project_template: first_project
            .map(|p| project_row(0, &loaded.projects, (p, "", NEW_ROW_PROJECT_ROLE))),
        fallbacks: FALLBACKS
            .into_iter()
            .map(|r| (r.code(), r.name(), selected(r == draft.fallback)))
            .collect(),
        delete_actions: [
            (
                DeleteAction::Delete,
                "Delete the member (their work shows as Deleted User)",
            ),
            (
                DeleteAction::Deactivate,
                "Deactivate the member (they keep their membership, without a seat)",
            ),
        ]
        .into_iter()
        .map(|(d, label)| (d.code(), label, selected(d == draft.delete_action)))
        .collect(),
        max_deprovision: draft.max_deprovision.clone(),
        preview: None,
        saved: None,
        verified_domains: loaded
            .domains
            .verified
            .iter()
            .map(|d| VerifiedRow {
                domain: d.domain.clone(),
                verified_at: day_time(Some(d.verified_at)),
            })
            .collect(),
        claims: loaded
            .domains
            .pending
            .iter()
            .map(|c| ClaimRow {
                domain: c.domain.clone(),
                record_name: c.challenge.name.clone(),
                record_value: c.challenge.value.clone(),
            })
            .collect(),
        manages_domains: web.proof.may(roster_domain::Access::Owner),
        new_domain: String::new(),
        chrome: web.chrome,
    }
}

/// The page with the editor as stored, for an action (or none) to add its outcome to.
async fn stored_page(state: &AppState, web: WebUser<Admin>) -> Result<ScimPage, Response> {
    let loaded = load(state, &web)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let draft = Draft::of(&loaded.settings);
    Ok(render(state, web, &loaded, &draft))
}

pub(crate) async fn scim_page(State(state): State<AppState>, web: WebUser<Admin>) -> Response {
    match stored_page(&state, web).await {
        Ok(body) => page(StatusCode::OK, body),
        Err(refused) => refused,
    }
}

/// "Create token" / "Rotate token": the answer is the one time the token is shown.
pub(crate) async fn create_token(State(state): State<AppState>, web: WebUser<Admin>) -> Response {
    let made = state.service.create_scim_token(&web.proof).await;
    let mut body = match stored_page(&state, web).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    match made {
        Ok(token) => {
            body.new_token = Some(token);
            page(StatusCode::OK, body)
        }
        Err(e) => {
            let e = ApiError::from(e);
            body.problem = Some(in_words(&e));
            page(e.status, body)
        }
    }
}

/// The verified domains' forms: `action` is `add` (with the domain typed), `check` or
/// `remove` (with the domain of the row).
#[derive(Deserialize)]
pub(crate) struct DomainForm {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    action: String,
}

/// Add a domain, "Check now", Cancel or Remove: the page again, with what happened.
pub(crate) async fn domain_form(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(form): PageForm<DomainForm>,
) -> Response {
    let done = domain_action(&state, &web, &form).await;
    let mut body = match stored_page(&state, web).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    match done {
        Ok(message) => {
            body.message = Some(message);
            page(StatusCode::OK, body)
        }
        Err(e) => {
            body.problem = Some(in_words(&e));
            if form.action == "add" {
                body.new_domain = form.domain;
            }
            page(e.status, body)
        }
    }
}

async fn domain_action(
    state: &AppState,
    web: &WebUser<Admin>,
    form: &DomainForm,
) -> Result<String, ApiError> {
    let owner = web.proof.require::<Owner>().map_err(|_| {
        ApiError::forbidden(
            "Only the Owner adds, checks and removes domains; Administrators see them.",
        )
    })?;
    let service = &state.service;
    Ok(match form.action.as_str() {
        "add" => {
            let (claim, created) = service.claim_domain(&owner, &form.domain).await?;
            if created {
                format!(
                    "Publish the TXT record shown below in the DNS of {}, then press Check now.",
                    claim.domain
                )
            } else {
                format!(
                    "{} is already waiting for its TXT record, shown below.",
                    claim.domain
                )
            }
        }
        "check" => {
            let verified = service.check_domain(&owner, &form.domain).await?;
            format!(
                "{} is verified for this organization: its identity provider may now attach \
                 existing accounts with this domain.",
                verified.domain
            )
        }
        "remove" => match service.remove_org_domain(&owner, &form.domain).await? {
            (domain, DomainRemoval::ClaimCancelled) => {
                format!("The claim of {domain} was cancelled.")
            }
            (domain, DomainRemoval::VerifiedRemoved) => {
                format!("{domain} is no longer verified for this organization.")
            }
        },
        _ => {
            return Err(ApiError::bad_request(
                "The form arrived incomplete; reload the page and try again.",
            ))
        }
    })
}

/// The mapping editor's buttons: add or remove a row, Preview (the service's dry run) and
/// Save. A refusal comes back with the editor as it was sent.
pub(crate) async fn mapping_form(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let loaded = match load(&state, &web).await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let (mut draft, action) = match Draft::from_form(&pairs) {
        Ok(x) => x,
        Err(e) => {
            let stored = Draft::of(&loaded.settings);
            let mut body = render(&state, web, &loaded, &stored);
            body.problem = Some(in_words(&e));
            return page(e.status, body);
        }
    };
    match action {
        Action::Preview => preview(state, web, loaded, draft).await,
        Action::Save => save(state, web, loaded, draft).await,
        edit => {
            draft.edit(edit, loaded.projects.first().map(|(id, _)| *id));
            page(StatusCode::OK, render(&state, web, &loaded, &draft))
        }
    }
}

async fn dry_run(
    state: &AppState,
    web: &WebUser<Admin>,
    draft: &Draft,
) -> Result<Vec<PlannedMove>, ApiError> {
    let update = draft.update()?;
    let outcome = state
        .service
        .update_scim_settings(&web.proof, update, true)
        .await?;
    Ok(outcome.moves)
}

async fn preview(state: AppState, web: WebUser<Admin>, loaded: Loaded, draft: Draft) -> Response {
    let moves = dry_run(&state, &web, &draft).await;
    let mut body = render(&state, web, &loaded, &draft);
    match moves {
        Ok(moves) => {
            body.message = Some("Preview only: nothing has been saved yet.".into());
            body.preview = Some(PreviewView {
                deprovisioned: deprovisioning(&moves),
                moves: moves_view(&moves),
                fields: draft.fields(),
                offer_confirm: false,
            });
            page(StatusCode::OK, body)
        }
        Err(e) => {
            body.problem = Some(in_words(&e));
            page(e.status, body)
        }
    }
}

async fn save(state: AppState, web: WebUser<Admin>, loaded: Loaded, draft: Draft) -> Response {
    let result = match draft.update() {
        Ok(update) => state
            .service
            .update_scim_settings(&web.proof, update, false)
            .await
            .map_err(|e| (matches!(e, ServiceError::ScimRefused(_)), ApiError::from(e))),
        Err(e) => Err((false, e)),
    };
    match result {
        Ok(outcome) => {
            let saved = Draft::of(&outcome.settings);
            let mut body = render(&state, web, &loaded, &saved);
            let n = outcome.moves.len();
            body.message = Some(format!(
                "Saved. {n} member{} moved.",
                if n == 1 { "" } else { "s" }
            ));
            body.saved = Some(moves_view(&outcome.moves));
            page(StatusCode::OK, body)
        }
        Err((guard, e)) => {
            // Refused by the deprovisioning guard: show who would move and let the Owner
            // confirm (the service decides whether the confirmation counts).
            let moves = if guard {
                dry_run(&state, &web, &draft).await.ok()
            } else {
                None
            };
            let mut body = render(&state, web, &loaded, &draft);
            let mut problem = in_words(&e);
            if let Some(moves) = moves {
                problem.push_str(". The Owner may confirm the change below, or raise the limit.");
                body.preview = Some(PreviewView {
                    deprovisioned: deprovisioning(&moves),
                    moves: moves_view(&moves),
                    fields: draft.fields(),
                    offer_confirm: true,
                });
            }
            body.problem = Some(problem);
            page(e.status, body)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_editor_form_reads_rows_in_order_and_leaves_out_unfilled_ones() {
        let (draft, action) = Draft::from_form(&pairs(&[
            ("rg_role", "AD"),
            ("rg_group", "Admins"),
            ("rg_role", "Annotator"),
            ("rg_group", " "),
            ("pg_project", "7"),
            ("pg_group", "Labelers"),
            ("pg_role", "Reviewer"),
            ("fallback_role", "DI"),
            ("delete_action", "deactivate"),
            ("max_deprovision", "12"),
            ("action", "save"),
        ]))
        .expect("a valid form");
        assert_eq!(action, Action::Save);
        let update = draft.update().expect("an update");
        assert_eq!(
            update.roles_groups,
            Some(vec![(Role::Administrator, "Admins".to_string())])
        );
        let projects = update.projects_groups.expect("project groups");
        assert_eq!(projects.len(), 1);
        assert_eq!(projects[0].project, ProjectId(7));
        assert_eq!(projects[0].role, MappedProjectRole::Reviewer);
        assert_eq!(update.fallback, Some(Role::Deactivated));
        assert_eq!(update.delete_action, Some(DeleteAction::Deactivate));
        assert_eq!(update.max_deprovision, Some(Some(12)));
        assert!(!update.confirm_deprovision);
        // The hidden fields of the Save form read back as the same draft.
        let (again, _) = Draft::from_form(
            &draft
                .fields()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Vec<_>>(),
        )
        .expect("the hidden fields read back");
        assert_eq!(again.update().unwrap().roles_groups, update.roles_groups);
    }

    #[test]
    fn an_empty_limit_is_the_default_and_a_word_is_refused() {
        let base = [("fallback_role", "DI"), ("delete_action", "delete")];
        let (d, _) = Draft::from_form(&pairs(&base)).unwrap();
        assert_eq!(d.update().unwrap().max_deprovision, Some(None));
        let mut bad = base.to_vec();
        bad.push(("max_deprovision", "many"));
        let (d, _) = Draft::from_form(&pairs(&bad)).unwrap();
        assert_eq!(d.update().unwrap_err().status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn a_form_with_a_row_cut_short_is_refused() {
        let r = Draft::from_form(&pairs(&[
            ("rg_role", "AD"),
            ("fallback_role", "DI"),
            ("delete_action", "delete"),
        ]));
        assert!(r.is_err());
    }

    #[test]
    fn row_buttons_add_and_remove_rows() {
        let (mut d, action) = Draft::from_form(&pairs(&[
            ("rg_role", "AD"),
            ("rg_group", "A"),
            ("rg_role", "RE"),
            ("rg_group", "B"),
            ("fallback_role", "DI"),
            ("delete_action", "delete"),
            ("action", "remove-role-0"),
        ]))
        .unwrap();
        assert_eq!(action, Action::RemoveRole(0));
        d.edit(action, None);
        assert_eq!(d.roles_groups, vec![(Role::Reviewer, "B".to_string())]);
        d.edit(Action::AddProject, None);
        assert!(d.projects_groups.is_empty(), "no project to map, no row");
        d.edit(Action::AddProject, Some(3));
        assert_eq!(d.projects_groups.len(), 1);
        d.edit(Action::RemoveRole(9), None);
        assert_eq!(
            d.roles_groups.len(),
            1,
            "an index past the end removes nothing"
        );
    }
}
