//! The SAML settings page (`/organization/saml`): the service provider's values to copy into
//! the identity provider, the identity provider's metadata (pasted or fetched from its URL)
//! and what roster read from it, the sign-in settings, and the group mapping editor with its
//! dry run (who would move at their next sign-in, and what a person with given groups would
//! get). Every action is a service call; the page decides no rule of its own.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_domain::ProjectRole;
use roster_service::saml::{
    certificate_summary, sp_urls, MappingPreview, MappingTrial, MetadataFetch, SamlSettings,
    SamlSettingsUpdate, PROVIDERS,
};
use roster_service::{Admin, ServiceError};
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
const MAPPING_FORM: &str = "/organization/saml/mapping";

/// One value the identity provider needs, with its copy button.
pub(crate) struct SpValue {
    id: &'static str,
    label: &'static str,
    copy: &'static str,
    value: String,
}

/// A signing certificate of the identity provider, as the page lists it.
pub(crate) struct CertView {
    subject: String,
    /// The day it expires (UTC), or why it could not be read.
    expires: String,
}

/// What roster read from the identity provider's metadata.
pub(crate) struct IdpView {
    entity_id: String,
    sso_url: String,
    certificates: Vec<CertView>,
    /// Where the metadata came from, in words.
    source: String,
    /// The last fetch from the URL could not be used, in words (the metadata above stays).
    fetch_problem: Option<String>,
    /// Whether there is a URL to fetch from now.
    refetchable: bool,
}

/// The sign-in settings as stored, or as typed into a refused form.
#[derive(Clone, Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    domain: String,
    #[serde(default)]
    idp_provider: String,
    #[serde(default)]
    nameid_format: String,
    #[serde(default)]
    mapping_email: String,
    #[serde(default)]
    mapping_first_name: String,
    #[serde(default)]
    mapping_last_name: String,
    #[serde(default)]
    mapping_groups: String,
    /// The manual-management checkboxes: present ("on") when ticked, read only when the
    /// form showed them (`manual_management`).
    #[serde(default)]
    manual_management: Option<String>,
    #[serde(default)]
    manual_role_management: Option<String>,
    #[serde(default)]
    manual_workspace_management: Option<String>,
    #[serde(default)]
    manual_project_member_management: Option<String>,
}

impl SignInForm {
    fn of(s: &SamlSettings) -> SignInForm {
        SignInForm {
            domain: s.domains.join(", "),
            idp_provider: s.idp_provider.clone(),
            nameid_format: s.nameid_format.clone(),
            mapping_email: s.attributes.email.clone(),
            mapping_first_name: s.attributes.first_name.clone(),
            mapping_last_name: s.attributes.last_name.clone(),
            mapping_groups: s.attributes.groups.clone(),
            manual_management: None,
            manual_role_management: None,
            manual_workspace_management: None,
            manual_project_member_management: None,
        }
    }

    fn manual(&self) -> Option<ManualBoxes> {
        self.manual_management.is_some().then(|| ManualBoxes {
            roles: self.manual_role_management.is_some(),
            workspaces: self.manual_workspace_management.is_some(),
            project_members: self.manual_project_member_management.is_some(),
        })
    }

    fn update(&self) -> SamlSettingsUpdate {
        SamlSettingsUpdate {
            domain: Some(self.domain.clone()),
            idp_provider: Some(self.idp_provider.clone()),
            nameid_format: Some(self.nameid_format.clone()),
            mapping_email: Some(self.mapping_email.clone()),
            mapping_first_name: Some(self.mapping_first_name.clone()),
            mapping_last_name: Some(self.mapping_last_name.clone()),
            mapping_groups: Some(self.mapping_groups.clone()),
            manual: ManualBoxes::change(self.manual()),
            ..SamlSettingsUpdate::default()
        }
    }
}

/// "Try a person": what the mapping gives someone with the groups typed.
pub(crate) struct TrialView {
    groups: Vec<String>,
    /// The role in words, or why they would be turned away.
    outcome: String,
    admitted: bool,
    /// (project title, project role in words).
    projects: Vec<(String, &'static str)>,
    /// Workspace titles.
    workspaces: Vec<String>,
}

/// The dry run's answer, with the form that saves exactly what was previewed.
pub(crate) struct PreviewView {
    moves: Vec<MoveView>,
    workspace_moves: Vec<WorkspaceMoveView>,
    trial: Option<TrialView>,
    fields: Vec<(&'static str, String)>,
}

#[derive(Template)]
#[template(path = "saml.html")]
struct SamlPage {
    chrome: Chrome,
    configured: bool,
    message: Option<String>,
    problem: Option<String>,
    sp_values: Vec<SpValue>,
    idp: Option<IdpView>,
    /// The metadata URL as stored, or as typed into a refused form.
    metadata_url: String,
    /// Pasted metadata, only after a refusal (the stored document is not shown again).
    metadata_xml: String,
    sign_in: SignInForm,
    /// The manual-management checkboxes of the sign-in settings.
    manual: Vec<(&'static str, &'static str, &'static str, &'static str)>,
    providers: Vec<(&'static str, &'static str)>,
    editor: EditorView,
    /// The groups typed into "try a person", one per line.
    try_groups: String,
    preview: Option<PreviewView>,
    saved: Option<Vec<MoveView>>,
    saved_workspace_moves: Vec<WorkspaceMoveView>,
}

/// What every rendering of the page reads besides what a form sends.
struct Loaded {
    settings: SamlSettings,
    /// The stored workspace rows by title.
    named_workspaces: Vec<(String, String)>,
    configured: bool,
    projects: Vec<(i64, String)>,
    workspaces: Vec<String>,
    manual: ManualBoxes,
}

impl Loaded {
    /// The editor as stored.
    fn draft(&self) -> MappingDraft {
        MappingDraft::of(&self.settings.mapping, &self.named_workspaces)
    }
}

async fn load(state: &AppState, web: &WebUser<Admin>) -> Result<Loaded, ServiceError> {
    let by = &web.proof;
    let service = &state.service;
    let (settings, configured) = service.saml_settings(by).await?;
    Ok(Loaded {
        named_workspaces: service
            .named_workspaces_groups(by, &settings.mapping)
            .await?,
        settings,
        configured,
        projects: org_projects(state, by).await?,
        workspaces: service.mappable_workspaces(by).await?,
        manual: ManualBoxes::of(by.org()),
    })
}

fn sp_values(state: &AppState, s: &SamlSettings) -> Vec<SpValue> {
    let urls = sp_urls(&state.service.config().public_url, &s.token);
    let value = |id, label, copy, value| SpValue {
        id,
        label,
        copy,
        value,
    };
    vec![
        value(
            "sp-entity-id",
            "Entity ID (the identity provider's \"Audience\" or \"SP Entity ID\")",
            "Copy entity ID",
            urls.entity_id,
        ),
        value(
            "sp-acs-url",
            "Assertion consumer service URL (\"ACS URL\", \"Reply URL\" or \"Single sign-on URL\")",
            "Copy ACS URL",
            urls.acs,
        ),
        value(
            "sp-login-url",
            "Sign-in URL (\"Sign-on URL\"; it starts a sign-in here)",
            "Copy sign-in URL",
            urls.login,
        ),
        value(
            "sp-logout-url",
            "Sign-out URL (\"Logout URL\")",
            "Copy sign-out URL",
            urls.logout,
        ),
        value(
            "sp-metadata-url",
            "Service provider metadata URL (for identity providers that read it)",
            "Copy metadata URL",
            urls.metadata,
        ),
    ]
}

fn idp_view(s: &SamlSettings) -> Option<IdpView> {
    let idp = s.idp.as_ref()?;
    let certificates = idp
        .signing_certs
        .iter()
        .map(|b64| match certificate_summary(b64) {
            Ok(c) => CertView {
                subject: c.subject,
                expires: day_time(c.not_after_unix.checked_mul(1_000_000)),
            },
            Err(e) => CertView {
                subject: "(unreadable)".into(),
                expires: e.to_string(),
            },
        })
        .collect();
    let source = match (&s.metadata_url, s.metadata_fetched_at) {
        (Some(url), Some(at)) => format!("Fetched from {url} on {} (UTC).", day_time(Some(at))),
        (Some(url), None) => format!("Pasted; {url} is fetched again later."),
        (None, _) => "Pasted.".to_string(),
    };
    Some(IdpView {
        entity_id: idp.entity_id.clone(),
        sso_url: idp
            .sso_redirect_url
            .clone()
            .or_else(|| idp.sso_post_url.clone())
            .unwrap_or_else(|| "(none)".into()),
        certificates,
        source,
        fetch_problem: s.metadata_error.as_ref().map(|why| {
            format!(
                "The last fetch, on {} (UTC), could not be used: {why}. The metadata shown stays in use.",
                day_time(s.metadata_checked_at)
            )
        }),
        refetchable: s.metadata_url.is_some(),
    })
}

/// How the page reads a field a refusal names.
fn field_label(field: &str) -> &str {
    match field {
        "metadata_xml" => "Metadata",
        "metadata_url" => "Metadata URL",
        "domain" => "Email domains",
        "idp_provider" => "Identity provider",
        "nameid_format" => "NameID format",
        "mapping_email" => "Email attribute",
        "mapping_first_name" => "First name attribute",
        "mapping_last_name" => "Last name attribute",
        "mapping_groups" => "Groups attribute",
        // The service names the whole mapping after its first part.
        "roles_groups" => "Mapping",
        "projects_groups" => "Project groups",
        "workspaces_groups" => "Workspace groups",
        "fallback_role" => "Fallback role",
        other => other,
    }
}

fn in_words(e: &ApiError) -> String {
    super::in_words(e, field_label)
}

/// The page around a mapping draft; the caller fills in what an action adds.
fn render(
    state: &AppState,
    web: WebUser<Admin>,
    loaded: &Loaded,
    draft: &MappingDraft,
) -> SamlPage {
    let s = &loaded.settings;
    let sign_in = SignInForm::of(s);
    SamlPage {
        configured: loaded.configured,
        message: None,
        problem: None,
        sp_values: sp_values(state, s),
        idp: idp_view(s),
        metadata_url: s.metadata_url.clone().unwrap_or_default(),
        metadata_xml: String::new(),
        providers: PROVIDERS
            .into_iter()
            .map(|p| (p, selected(p == sign_in.idp_provider)))
            .collect(),
        sign_in,
        manual: loaded.manual.boxes(),
        editor: editor_view(MAPPING_FORM, draft, &loaded.projects, &loaded.workspaces),
        try_groups: String::new(),
        preview: None,
        saved: None,
        saved_workspace_moves: Vec::new(),
        chrome: web.chrome,
    }
}

/// The page as stored, for an action (or none) to add its outcome to.
async fn stored_page(state: &AppState, web: WebUser<Admin>) -> Result<SamlPage, Response> {
    let loaded = load(state, &web)
        .await
        .map_err(|e| ApiError::from(e).into_response())?;
    let draft = loaded.draft();
    Ok(render(state, web, &loaded, &draft))
}

/// The page after a form's service call: its message, or the refusal in words.
fn answer(mut body: SamlPage, done: Result<String, ApiError>) -> Response {
    match done {
        Ok(message) => {
            body.message = Some(message);
            page(StatusCode::OK, body)
        }
        Err(e) => {
            body.problem = Some(in_words(&e));
            page(e.status, body)
        }
    }
}

pub(crate) async fn saml_page(State(state): State<AppState>, web: WebUser<Admin>) -> Response {
    match stored_page(&state, web).await {
        Ok(body) => page(StatusCode::OK, body),
        Err(refused) => refused,
    }
}

/// The identity provider's metadata: `action` is `paste` (with `metadata_xml`) or `fetch`
/// (with `metadata_url`).
#[derive(Deserialize)]
pub(crate) struct IdpForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    metadata_xml: String,
    #[serde(default)]
    metadata_url: String,
}

/// "Save metadata" (pasted) or "Fetch and save" (from its URL).
pub(crate) async fn idp_form(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(form): PageForm<IdpForm>,
) -> Response {
    let done = save_metadata(&state, &web, &form).await;
    let mut body = match stored_page(&state, web).await {
        Ok(body) => body,
        Err(refused) => return refused,
    };
    if done.is_err() {
        // The refused form comes back as it was sent, for correction.
        body.metadata_xml = form.metadata_xml;
        body.metadata_url = form.metadata_url;
    }
    answer(body, done)
}

async fn save_metadata(
    state: &AppState,
    web: &WebUser<Admin>,
    form: &IdpForm,
) -> Result<String, ApiError> {
    let update = match form.action.as_str() {
        // Pasted metadata stands on its own: a URL fetched later would replace it.
        "paste" if !form.metadata_xml.trim().is_empty() => SamlSettingsUpdate {
            metadata_xml: Some(Some(form.metadata_xml.clone())),
            metadata_url: Some(None),
            ..SamlSettingsUpdate::default()
        },
        "fetch" if !form.metadata_url.trim().is_empty() => SamlSettingsUpdate {
            metadata_url: Some(Some(form.metadata_url.clone())),
            ..SamlSettingsUpdate::default()
        },
        "paste" => {
            return Err(ApiError::invalid(
                "metadata_xml",
                "paste the identity provider's metadata XML first",
            ))
        }
        "fetch" => {
            return Err(ApiError::invalid(
                "metadata_url",
                "give the address of the identity provider's metadata first",
            ))
        }
        "refresh" => return refresh_metadata(state, web).await,
        _ => return Err(super::mapping::incomplete_form()),
    };
    let s = state
        .service
        .update_saml_settings(&web.proof, update)
        .await?;
    let entity = s.idp.as_ref().map_or("", |i| i.entity_id.as_str());
    Ok(format!(
        "Saved the metadata of the identity provider {entity}."
    ))
}

/// "Fetch now": the metadata from its URL again, as the schedule fetches it.
async fn refresh_metadata(state: &AppState, web: &WebUser<Admin>) -> Result<String, ApiError> {
    let (_, outcome) = state.service.refresh_saml_metadata(&web.proof).await?;
    Ok(match outcome {
        MetadataFetch::Changed => {
            "Fetched: the identity provider's metadata changed, and the new one is in use.".into()
        }
        MetadataFetch::Unchanged => {
            "Fetched: the identity provider's metadata has not changed.".into()
        }
        MetadataFetch::Failed(why) => format!("The metadata fetched could not be used: {why}."),
        MetadataFetch::Superseded => {
            "The SAML settings changed while fetching; nothing was recorded. Try again.".into()
        }
    })
}

/// The sign-in settings: email domains, identity provider, NameID format, attribute names and
/// manual role management.
pub(crate) async fn settings_form(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(form): PageForm<SignInForm>,
) -> Response {
    let done = state
        .service
        .update_saml_settings(&web.proof, form.update())
        .await
        .map_err(ApiError::from);
    let loaded = match load(&state, &web).await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let draft = loaded.draft();
    let ok = done.is_ok();
    let mut body = render(&state, web, &loaded, &draft);
    // The proof's organization was read before the change: show the settings as sent (when
    // the form showed them), and the whole form as typed when it was refused.
    body.manual = form.manual().unwrap_or(loaded.manual).boxes();
    if !ok {
        body.sign_in = form;
    }
    for (p, sel) in &mut body.providers {
        *sel = selected(*p == body.sign_in.idp_provider);
    }
    answer(
        body,
        done.map(|_| "Saved the sign-in settings.".to_string()),
    )
}

/// "Remove SAML settings": sign-in through the identity provider stops.
pub(crate) async fn reset(State(state): State<AppState>, web: WebUser<Admin>) -> Response {
    let done = state
        .service
        .reset_saml_settings(&web.proof)
        .await
        .map_err(ApiError::from)
        .map(|()| {
            "SAML settings removed: nobody signs in through the identity provider any more. \
             Accounts and memberships stay."
                .to_string()
        });
    match stored_page(&state, web).await {
        Ok(body) => answer(body, done),
        Err(refused) => refused,
    }
}

/// The groups typed into "try a person": one per line, blank lines left out.
fn typed_groups(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

fn project_role_words(role: Option<ProjectRole>) -> &'static str {
    match role {
        Some(ProjectRole::Annotator) => "as Annotator",
        Some(ProjectRole::Reviewer) => "as Reviewer",
        None => "with their organization role",
    }
}

fn trial_view(groups: Vec<String>, trial: MappingTrial) -> TrialView {
    let (outcome, admitted) = match trial.outcome {
        Ok(role) => (format!("would join as {}", role.name()), true),
        Err(why) => (format!("would be turned away: {why}."), false),
    };
    TrialView {
        groups,
        outcome,
        admitted,
        projects: trial
            .projects
            .into_iter()
            .map(|(_, title, role)| (title, project_role_words(role)))
            .collect(),
        workspaces: trial.workspaces.into_iter().map(|(_, t)| t).collect(),
    }
}

/// The mapping editor's buttons: add or remove a row, Preview (the service's dry run and
/// "try a person") and Save. A refusal comes back with the editor as it was sent.
pub(crate) async fn mapping_form(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(pairs): PageForm<Vec<(String, String)>>,
) -> Response {
    let loaded = match load(&state, &web).await {
        Ok(l) => l,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let try_groups = form_value(&pairs, "try_groups").to_string();
    let mut draft = match MappingDraft::from_form(&pairs) {
        Ok(d) => d,
        Err(e) => {
            let stored = loaded.draft();
            let mut body = render(&state, web, &loaded, &stored);
            body.problem = Some(in_words(&e));
            return page(e.status, body);
        }
    };
    match EditorAction::of_form(&pairs) {
        EditorAction::Preview => preview(state, web, loaded, draft, try_groups).await,
        EditorAction::Save => save(state, web, loaded, draft).await,
        edit => {
            draft.edit(
                edit,
                loaded.projects.first().map(|(id, _)| *id),
                loaded.workspaces.first().map(String::as_str),
            );
            let mut body = render(&state, web, &loaded, &draft);
            body.try_groups = try_groups;
            page(StatusCode::OK, body)
        }
    }
}

/// Who would move, and what the typed groups would give, under `draft`.
async fn dry_run(
    state: &AppState,
    web: &WebUser<Admin>,
    draft: &MappingDraft,
    try_groups: &str,
) -> Result<(MappingPreview, Option<TrialView>), ApiError> {
    let service = &state.service;
    let mut mapping = draft.mapping();
    mapping.workspaces_groups = service
        .resolve_workspaces_groups(&web.proof, &draft.filled_workspaces_groups())
        .await?;
    let groups = typed_groups(try_groups);
    let trial = if groups.is_empty() {
        None
    } else {
        let trial = service
            .try_saml_mapping(&web.proof, &mapping, &groups)
            .await?;
        Some(trial_view(groups, trial))
    };
    let moves = service.preview_saml_mapping(&web.proof, mapping).await?;
    Ok((moves, trial))
}

async fn preview(
    state: AppState,
    web: WebUser<Admin>,
    loaded: Loaded,
    draft: MappingDraft,
    try_groups: String,
) -> Response {
    let outcome = dry_run(&state, &web, &draft, &try_groups).await;
    let mut body = render(&state, web, &loaded, &draft);
    body.try_groups = try_groups;
    match outcome {
        Ok((moves, trial)) => {
            body.message = Some("Preview only: nothing has been saved yet.".into());
            body.preview = Some(PreviewView {
                moves: moves_view(&moves.moves),
                workspace_moves: workspace_moves_view(&moves.workspace_moves),
                trial,
                fields: draft.fields(),
            });
            page(StatusCode::OK, body)
        }
        Err(e) => {
            body.problem = Some(in_words(&e));
            page(e.status, body)
        }
    }
}

async fn save(
    state: AppState,
    web: WebUser<Admin>,
    loaded: Loaded,
    draft: MappingDraft,
) -> Response {
    let update = SamlSettingsUpdate {
        roles_groups: Some(draft.filled_roles_groups()),
        projects_groups: Some(draft.filled_projects_groups()),
        workspaces_groups: Some(draft.filled_workspaces_groups()),
        fallback_role: Some(draft.fallback),
        ..SamlSettingsUpdate::default()
    };
    let saved = match state.service.update_saml_settings(&web.proof, update).await {
        Ok(s) => s,
        Err(e) => {
            let e = ApiError::from(e);
            let mut body = render(&state, web, &loaded, &draft);
            body.problem = Some(in_words(&e));
            return page(e.status, body);
        }
    };
    // Saving moves nobody: each person's role follows the mapping at their next sign-in.
    let moves = state
        .service
        .preview_saml_mapping(&web.proof, saved.mapping.clone())
        .await;
    let named_workspaces = state
        .service
        .named_workspaces_groups(&web.proof, &saved.mapping)
        .await
        .unwrap_or_else(|_| draft.filled_workspaces_groups());
    let loaded = Loaded {
        settings: saved,
        named_workspaces,
        configured: true,
        ..loaded
    };
    let stored = loaded.draft();
    let mut body = render(&state, web, &loaded, &stored);
    match moves {
        Ok(MappingPreview {
            moves,
            workspace_moves,
        }) => {
            body.saved_workspace_moves = workspace_moves_view(&workspace_moves);
            let n = moves.len();
            body.message = Some(format!(
                "Saved. {n} member{} move{} at their next sign-in.",
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
            ));
            body.saved = Some(moves_view(&moves));
        }
        Err(e) => {
            body.message = Some("Saved.".into());
            body.problem = Some(in_words(&ApiError::from(e)));
        }
    }
    page(StatusCode::OK, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_groups_are_one_per_line_without_blanks() {
        assert_eq!(
            typed_groups("IT Admins\r\n\n  Labelers \nCN=Leads,OU=Groups\n"),
            vec!["IT Admins", "Labelers", "CN=Leads,OU=Groups"]
        );
        assert!(typed_groups(" \n").is_empty());
    }
}
