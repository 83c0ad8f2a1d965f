//! The SCIM settings page (`/organization/scim`): what an identity provider needs to connect
//! (base URL, token shown once), the group mapping editor with its dry-run preview, and the
//! verified domains (the Owner adds one, publishes its DNS TXT record and has it checked;
//! Administrators see them). Every action is a service call; the page decides no rule of its
//! own.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_service::domains::{DomainRemoval, OrgDomains};
use roster_service::scim::{
    deprovisioning, DeleteAction, ScimSettings, ScimSettingsUpdate, SettingsOutcome,
};
use roster_service::{Admin, Owner, ServiceError};
use serde::Deserialize;

use super::mapping::{
    editor_view, form_value, moves_view, org_projects, workspace_moves_view, EditorAction,
    EditorView, ManualBoxes, MappingDraft, MoveView, WorkspaceMoveView,
};
use super::org::selected;
use super::{day_time, page, Chrome, WebUser};
use crate::error::ApiError;
use crate::extract::PageForm;
use crate::AppState;

/// Where the mapping editor's buttons post.
const MAPPING_FORM: &str = "/organization/scim/mapping";

/// The SCIM editor: the shared mapping, what the identity provider's DELETE does and how
/// many it may deprovision, and the manual-management settings, as stored or as the form sent
/// them.
#[derive(Clone)]
struct Draft {
    mapping: MappingDraft,
    delete_action: DeleteAction,
    /// As typed; empty is the default share.
    max_deprovision: String,
    confirm_deprovision: bool,
    /// As the form sent them; None when it did not show them (or as stored).
    manual: Option<ManualBoxes>,
    /// As stored, for the page to show when the form did not send them.
    stored_manual: ManualBoxes,
}

impl Draft {
    fn of(s: &ScimSettings, named_workspaces: &[(String, String)], manual: ManualBoxes) -> Draft {
        Draft {
            mapping: MappingDraft::of(&s.mapping, named_workspaces),
            delete_action: s.delete_action,
            max_deprovision: s.max_deprovision.map(|n| n.to_string()).unwrap_or_default(),
            confirm_deprovision: false,
            manual: None,
            stored_manual: manual,
        }
    }

    /// The draft as stored.
    fn stored(loaded: &Loaded) -> Draft {
        Draft::of(&loaded.settings, &loaded.named_workspaces, loaded.manual)
    }

    /// Reads the editor form: the shared mapping fields and SCIM's own.
    fn from_form(
        pairs: &[(String, String)],
        stored_manual: ManualBoxes,
    ) -> Result<(Draft, EditorAction), ApiError> {
        let mapping = MappingDraft::from_form(pairs)?;
        let delete_action = DeleteAction::from_code(form_value(pairs, "delete_action").trim())
            .ok_or_else(|| ApiError::invalid("delete_action", "choose delete or deactivate"))?;
        let draft = Draft {
            mapping,
            delete_action,
            max_deprovision: form_value(pairs, "max_deprovision").trim().to_string(),
            confirm_deprovision: !form_value(pairs, "confirm_deprovision").is_empty(),
            manual: ManualBoxes::from_form(pairs),
            stored_manual,
        };
        Ok((draft, EditorAction::of_form(pairs)))
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
            roles_groups: Some(self.mapping.filled_roles_groups()),
            projects_groups: Some(self.mapping.filled_projects_groups()),
            workspaces_groups: Some(self.mapping.filled_workspaces_groups()),
            fallback: Some(self.mapping.fallback),
            manual: ManualBoxes::change(self.manual),
            delete_action: Some(self.delete_action),
            max_deprovision: Some(max_deprovision),
            confirm_deprovision: self.confirm_deprovision,
        })
    }

    /// The draft as hidden fields, so that Save sends exactly what was previewed.
    fn fields(&self) -> Vec<(&'static str, String)> {
        let mut f = self.mapping.fields();
        f.push(("delete_action", self.delete_action.code().to_string()));
        f.push(("max_deprovision", self.max_deprovision.clone()));
        f.extend(ManualBoxes::fields(self.manual));
        f
    }
}

/// The dry run's answer, with the form that saves exactly what was previewed.
pub(crate) struct PreviewView {
    moves: Vec<MoveView>,
    workspace_moves: Vec<WorkspaceMoveView>,
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
    editor: EditorView,
    delete_actions: Vec<(&'static str, &'static str, &'static str)>,
    max_deprovision: String,
    /// The manual-management checkboxes.
    manual: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    preview: Option<PreviewView>,
    saved: Option<Vec<MoveView>>,
    saved_workspace_moves: Vec<WorkspaceMoveView>,
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
    /// The stored workspace rows by title.
    named_workspaces: Vec<(String, String)>,
    manual: ManualBoxes,
    token_created: Option<i64>,
    domains: OrgDomains,
    projects: Vec<(i64, String)>,
    workspaces: Vec<String>,
}

async fn load(state: &AppState, web: &WebUser<Admin>) -> Result<Loaded, ServiceError> {
    let service = &state.service;
    let by = &web.proof;
    let projects = org_projects(state, by).await?;
    let settings = service.scim_settings(by).await?;
    Ok(Loaded {
        named_workspaces: service
            .named_workspaces_groups(by, &settings.mapping)
            .await?,
        settings,
        manual: ManualBoxes::of(by.org()),
        token_created: service.scim_token_state(by).await?.created_at,
        domains: service.org_domains(by).await?,
        projects,
        workspaces: service.mappable_workspaces(by).await?,
    })
}

/// How the page reads a field a refusal names.
fn field_label(field: &str) -> &str {
    match field {
        // The service names the whole mapping after its first part.
        "roles_groups" => "Mapping",
        "projects_groups" => "Project groups",
        "workspaces_groups" => "Workspace groups",
        "fallback_role" => "Fallback role",
        "delete_action" => "When the identity provider deletes a user",
        "max_deprovision" => "Deprovisioning limit",
        "domain" => "Domain",
        other => other,
    }
}

/// A refusal in words, as the page shows it.
fn in_words(e: &ApiError) -> String {
    super::in_words(e, field_label)
}

/// The page around an editor draft; the caller fills in what an action adds.
fn render(state: &AppState, web: WebUser<Admin>, loaded: &Loaded, draft: &Draft) -> ScimPage {
    ScimPage {
        org_id: web.proof.org().id.0,
        base_url: crate::scim::base_url(state),
        token_created: loaded.token_created.map(|t| day_time(Some(t))),
        new_token: None,
        message: None,
        problem: None,
        editor: editor_view(
            MAPPING_FORM,
            &draft.mapping,
            &loaded.projects,
            &loaded.workspaces,
        ),
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
        manual: draft.manual.unwrap_or(draft.stored_manual).boxes(),
        preview: None,
        saved: None,
        saved_workspace_moves: Vec::new(),
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
    let draft = Draft::stored(&loaded);
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
    let (mut draft, action) = match Draft::from_form(&pairs, loaded.manual) {
        Ok(x) => x,
        Err(e) => {
            let stored = Draft::stored(&loaded);
            let mut body = render(&state, web, &loaded, &stored);
            body.problem = Some(in_words(&e));
            return page(e.status, body);
        }
    };
    match action {
        EditorAction::Preview => preview(state, web, loaded, draft).await,
        EditorAction::Save => save(state, web, loaded, draft).await,
        edit => {
            draft.mapping.edit(
                edit,
                loaded.projects.first().map(|(id, _)| *id),
                loaded.workspaces.first().map(String::as_str),
            );
            page(StatusCode::OK, render(&state, web, &loaded, &draft))
        }
    }
}

async fn dry_run(
    state: &AppState,
    web: &WebUser<Admin>,
    draft: &Draft,
) -> Result<SettingsOutcome, ApiError> {
    let update = draft.update()?;
    Ok(state
        .service
        .update_scim_settings(&web.proof, update, true)
        .await?)
}

impl PreviewView {
    fn of(outcome: &SettingsOutcome, draft: &Draft, offer_confirm: bool) -> PreviewView {
        PreviewView {
            deprovisioned: deprovisioning(&outcome.moves),
            moves: moves_view(&outcome.moves),
            workspace_moves: workspace_moves_view(&outcome.workspace_moves),
            fields: draft.fields(),
            offer_confirm,
        }
    }
}

async fn preview(state: AppState, web: WebUser<Admin>, loaded: Loaded, draft: Draft) -> Response {
    let outcome = dry_run(&state, &web, &draft).await;
    let mut body = render(&state, web, &loaded, &draft);
    match outcome {
        Ok(outcome) => {
            body.message = Some("Preview only: nothing has been saved yet.".into());
            body.preview = Some(PreviewView::of(&outcome, &draft, false));
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
            let named = state
                .service
                .named_workspaces_groups(&web.proof, &outcome.settings.mapping)
                .await
                .unwrap_or_else(|_| draft.mapping.filled_workspaces_groups());
            let manual = draft.manual.unwrap_or(draft.stored_manual);
            let saved = Draft::of(&outcome.settings, &named, manual);
            let mut body = render(&state, web, &loaded, &saved);
            let n = outcome.moves.len();
            body.message = Some(format!(
                "Saved. {n} member{} moved.",
                if n == 1 { "" } else { "s" }
            ));
            body.saved = Some(moves_view(&outcome.moves));
            body.saved_workspace_moves = workspace_moves_view(&outcome.workspace_moves);
            page(StatusCode::OK, body)
        }
        Err((guard, e)) => {
            // Refused by the deprovisioning guard: show who would move and let the Owner
            // confirm (the service decides whether the confirmation counts).
            let outcome = if guard {
                dry_run(&state, &web, &draft).await.ok()
            } else {
                None
            };
            let mut body = render(&state, web, &loaded, &draft);
            let mut problem = in_words(&e);
            if let Some(outcome) = outcome {
                problem.push_str(". The Owner may confirm the change below, or raise the limit.");
                body.preview = Some(PreviewView::of(&outcome, &draft, true));
            }
            body.problem = Some(problem);
            page(e.status, body)
        }
    }
}

#[cfg(test)]
mod tests {
    use roster_domain::Role;

    use super::super::mapping::tests::pairs;
    use super::*;

    #[test]
    fn the_editor_form_carries_scims_own_fields_with_the_mapping() {
        let stored = ManualBoxes {
            roles: true,
            workspaces: true,
            project_members: true,
        };
        let (draft, action) = Draft::from_form(
            &pairs(&[
                ("rg_role", "AD"),
                ("rg_group", "Admins"),
                ("rg_role", "Annotator"),
                ("rg_group", " "),
                ("fallback_role", "DI"),
                ("delete_action", "deactivate"),
                ("max_deprovision", "12"),
                ("action", "save"),
                ("manual_management", "shown"),
                ("manual_role_management", "on"),
            ]),
            stored,
        )
        .expect("a valid form");
        assert_eq!(action, EditorAction::Save);
        let update = draft.update().expect("an update");
        assert_eq!(
            update.roles_groups,
            Some(vec![(Role::Administrator, "Admins".to_string())])
        );
        assert_eq!(update.fallback, Some(Role::Deactivated));
        assert_eq!(update.delete_action, Some(DeleteAction::Deactivate));
        assert_eq!(update.max_deprovision, Some(Some(12)));
        assert!(!update.confirm_deprovision);
        assert_eq!(update.manual.workspaces, Some(false), "an unticked box");
        assert_eq!(update.manual.roles, Some(true));
        // The hidden fields of the Save form read back as the same draft.
        let (again, _) = Draft::from_form(
            &draft
                .fields()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Vec<_>>(),
            stored,
        )
        .expect("the hidden fields read back");
        assert_eq!(again.update().unwrap().manual, update.manual);
        assert_eq!(again.update().unwrap().roles_groups, update.roles_groups);
        assert_eq!(again.delete_action, DeleteAction::Deactivate);
        assert_eq!(again.max_deprovision, "12");
    }

    #[test]
    fn an_empty_limit_is_the_default_and_a_word_is_refused() {
        let stored = ManualBoxes {
            roles: true,
            workspaces: true,
            project_members: true,
        };
        let base = [("fallback_role", "DI"), ("delete_action", "delete")];
        let (d, _) = Draft::from_form(&pairs(&base), stored).unwrap();
        assert_eq!(d.update().unwrap().max_deprovision, Some(None));
        let mut bad = base.to_vec();
        bad.push(("max_deprovision", "many"));
        let (d, _) = Draft::from_form(&pairs(&bad), stored).unwrap();
        assert_eq!(d.update().unwrap_err().status, StatusCode::BAD_REQUEST);
        let no_action = Draft::from_form(&pairs(&[("fallback_role", "DI")]), stored);
        assert!(no_action.is_err(), "what DELETE does must be chosen");
    }
}
