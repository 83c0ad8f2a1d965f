//! `/api/saml/settings` (the SDK's `sso.saml.get/update/reset/validate_metadata_url`) and the
//! service provider's metadata at `/saml/{token}/metadata`: what an Owner or Administrator
//! configures, and what their identity provider needs to know about roster.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_service::orgs::ManualManagement;
use roster_service::saml::{sp_urls, MetadataFetch, SamlSettings, SamlSettingsUpdate};
use roster_service::{Admin, Authorized};
use serde::{Deserialize, Serialize};

use super::scim::{
    fallback_role_from_wire, manual_from_wire, projects_groups_from_wire, projects_groups_view,
    refuse_user_type_groups, roles_groups_from_wire, roles_groups_view,
    workspaces_groups_from_wire, workspaces_groups_view, ManualManagementView, ProjectGroupView,
};
use crate::error::ApiResult;
use crate::extract::{InActiveOrg, JsonBody};
use crate::AppState;

/// The SAML settings, in Label Studio Enterprise's field names, with the values the identity
/// provider needs (`sp_entity_id`, `acs_url`, `metadata_xml_url`, ...).
#[derive(Serialize, utoipa::ToSchema)]
pub struct SamlSettingsView {
    /// Whether SAML has been set up (settings saved) for the organization.
    configured: bool,
    /// Comma-separated email domains whose people sign in here; only domains also verified
    /// for the organization route people.
    domain: String,
    idp_provider: String,
    metadata_url: Option<String>,
    metadata_xml: Option<String>,
    /// When the metadata was last fetched from `metadata_url` (RFC 3339).
    metadata_fetched_at: Option<String>,
    /// The last fetch from `metadata_url`, scheduled or requested (RFC 3339).
    metadata_checked_at: Option<String>,
    /// Why that fetch could not be used; the metadata in use stays until one can.
    metadata_error: Option<String>,
    nameid_format: String,
    mapping_email: String,
    mapping_first_name: String,
    mapping_last_name: String,
    mapping_groups: String,
    roles_groups: Vec<Vec<String>>,
    projects_groups: Vec<ProjectGroupView>,
    /// `[[workspace title, group], ...]`: people in the group join the workspace at sign-in
    /// (the workspace's current title; the mapping follows a renamed workspace).
    workspaces_groups: Vec<Vec<String>>,
    /// Seat types are not sold separately here; always empty.
    user_type_groups: Vec<Vec<String>>,
    /// The role of people in no mapped role group: Deactivated (they cannot sign in), Not
    /// Activated, Annotator or Reviewer.
    fallback_role: String,
    /// The organization's settings, shared with SCIM.
    #[serde(flatten)]
    manual: ManualManagementView,
    /// Names the organization in the service provider's URLs.
    token: String,
    sp_entity_id: String,
    acs_url: String,
    login_url: String,
    logout_url: String,
    /// The service provider's metadata, for the identity provider.
    metadata_xml_url: String,
    /// The identity provider as its metadata describes it.
    idp_entity_id: Option<String>,
    idp_sso_url: Option<String>,
    /// How many signing certificates the metadata lists (several during a rollover).
    idp_signing_certificates: usize,
}

fn rfc3339(micros: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(micros).map(|d| d.to_rfc3339())
}

async fn view(
    state: &AppState,
    by: &Authorized<Admin>,
    s: &SamlSettings,
    configured: bool,
    manual: &ManualManagement,
) -> ApiResult<SamlSettingsView> {
    let urls = sp_urls(&state.service.config().public_url, &s.token);
    let named = state
        .service
        .named_workspaces_groups(by, &s.mapping)
        .await?;
    Ok(SamlSettingsView {
        configured,
        domain: s.domains.join(","),
        idp_provider: s.idp_provider.clone(),
        metadata_url: s.metadata_url.clone(),
        metadata_xml: s.metadata_xml.clone(),
        metadata_fetched_at: s.metadata_fetched_at.and_then(rfc3339),
        metadata_checked_at: s.metadata_checked_at.and_then(rfc3339),
        metadata_error: s.metadata_error.clone(),
        nameid_format: s.nameid_format.clone(),
        mapping_email: s.attributes.email.clone(),
        mapping_first_name: s.attributes.first_name.clone(),
        mapping_last_name: s.attributes.last_name.clone(),
        mapping_groups: s.attributes.groups.clone(),
        roles_groups: roles_groups_view(&s.mapping),
        projects_groups: projects_groups_view(&s.mapping),
        workspaces_groups: workspaces_groups_view(named),
        user_type_groups: Vec::new(),
        fallback_role: s.mapping.fallback.name().to_string(),
        manual: ManualManagementView::of(by.org(), manual),
        token: s.token.clone(),
        sp_entity_id: urls.entity_id,
        acs_url: urls.acs,
        login_url: urls.login,
        logout_url: urls.logout,
        metadata_xml_url: urls.metadata,
        idp_entity_id: s.idp.as_ref().map(|i| i.entity_id.clone()),
        idp_sso_url: s.idp.as_ref().and_then(|i| {
            i.sso_redirect_url
                .clone()
                .or_else(|| i.sso_post_url.clone())
        }),
        idp_signing_certificates: s.idp.as_ref().map_or(0, |i| i.signing_certs.len()),
    })
}

/// The active organization's SAML settings (defaults when SAML is not set up).
#[utoipa::path(get, path = "/api/saml/settings", tag = "saml", operation_id = "get_saml_settings",
    responses((status = 200, body = SamlSettingsView), (status = 403)))]
pub async fn get_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<SamlSettingsView>> {
    let (s, configured) = state.service.saml_settings(&by).await?;
    Ok(Json(
        view(&state, &by, &s, configured, &ManualManagement::default()).await?,
    ))
}

/// What `sso.saml.update` sends; what is left out stays as it is.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SamlSettingsBody {
    #[serde(default)]
    domain: Option<String>,
    #[serde(default)]
    idp_provider: Option<String>,
    /// Fetched now (only from public addresses unless the operator allows others), then
    /// every 24 hours.
    #[serde(default)]
    metadata_url: Option<String>,
    #[serde(default)]
    metadata_xml: Option<String>,
    #[serde(default)]
    nameid_format: Option<String>,
    #[serde(default)]
    mapping_email: Option<String>,
    #[serde(default)]
    mapping_first_name: Option<String>,
    #[serde(default)]
    mapping_last_name: Option<String>,
    #[serde(default)]
    mapping_groups: Option<String>,
    #[serde(default)]
    roles_groups: Option<Vec<Vec<String>>>,
    #[serde(default)]
    projects_groups: Option<Vec<ProjectGroupView>>,
    /// `[[workspace title, group], ...]`; each title must name a workspace of the
    /// organization, exactly.
    #[serde(default)]
    workspaces_groups: Option<Vec<Vec<String>>>,
    /// Seat types cannot be mapped: only an empty list is accepted.
    #[serde(default)]
    user_type_groups: Option<Vec<Vec<String>>>,
    /// A role by name or code; it may not manage others.
    #[serde(default)]
    fallback_role: Option<String>,
    /// The organization's setting, shared with SCIM.
    #[serde(default)]
    manual_role_management: Option<bool>,
    /// The organization's setting, shared with SCIM.
    #[serde(default)]
    manual_workspace_management: Option<bool>,
    /// The organization's setting, shared with SCIM.
    #[serde(default)]
    manual_project_member_management: Option<bool>,
}

/// Changes the SAML settings. Metadata (pasted, or fetched from its URL) must describe an
/// identity provider with a signing certificate; nothing is saved otherwise.
#[utoipa::path(post, path = "/api/saml/settings", tag = "saml", operation_id = "update_saml_settings",
    request_body = SamlSettingsBody,
    responses((status = 200, body = SamlSettingsView), (status = 400), (status = 403)))]
pub async fn update_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    JsonBody(body): JsonBody<SamlSettingsBody>,
) -> ApiResult<Json<SamlSettingsView>> {
    refuse_user_type_groups(&body.user_type_groups)?;
    let manual = manual_from_wire(
        body.manual_role_management,
        body.manual_workspace_management,
        body.manual_project_member_management,
    );
    let update = SamlSettingsUpdate {
        domain: body.domain,
        idp_provider: body.idp_provider,
        metadata_url: body.metadata_url.map(Some),
        metadata_xml: body.metadata_xml.map(Some),
        nameid_format: body.nameid_format,
        mapping_email: body.mapping_email,
        mapping_first_name: body.mapping_first_name,
        mapping_last_name: body.mapping_last_name,
        mapping_groups: body.mapping_groups,
        roles_groups: body.roles_groups.map(roles_groups_from_wire).transpose()?,
        projects_groups: body
            .projects_groups
            .map(projects_groups_from_wire)
            .transpose()?,
        workspaces_groups: body
            .workspaces_groups
            .map(workspaces_groups_from_wire)
            .transpose()?,
        fallback_role: fallback_role_from_wire(body.fallback_role)?,
        manual,
    };
    let s = state.service.update_saml_settings(&by, update).await?;
    Ok(Json(view(&state, &by, &s, true, &manual).await?))
}

/// Removes the SAML settings: sign-in through the identity provider stops; accounts and
/// memberships stay.
#[utoipa::path(delete, path = "/api/saml/settings", tag = "saml", operation_id = "reset_saml_settings",
    responses((status = 204), (status = 403)))]
pub async fn reset_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<StatusCode> {
    state.service.reset_saml_settings(&by).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What fetching the metadata again came to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MetadataRefreshed {
    /// Whether the document differed from the one in use (and replaced it).
    changed: bool,
    settings: SamlSettingsView,
}

/// Fetches the identity provider's metadata from `metadata_url` now, as the schedule does
/// every `ROSTER_SAML_METADATA_REFRESH_SECS`: a certificate rollover at the identity provider
/// is picked up. A document that cannot be used is refused (and shown in the settings as
/// `metadata_error`); the metadata in use stays.
#[utoipa::path(post, path = "/api/saml/settings/refresh-metadata", tag = "saml",
    responses((status = 200, body = MetadataRefreshed), (status = 400), (status = 403)))]
pub async fn refresh_metadata(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<MetadataRefreshed>> {
    let (s, outcome) = state.service.refresh_saml_metadata(&by).await?;
    Ok(Json(MetadataRefreshed {
        changed: outcome == MetadataFetch::Changed,
        settings: view(&state, &by, &s, true, &ManualManagement::default()).await?,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MetadataUrlBody {
    metadata_url: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MetadataUrlCheck {
    valid: bool,
    /// Why it cannot be used, when it cannot.
    detail: Option<String>,
    idp_entity_id: Option<String>,
    idp_signing_certificates: usize,
}

/// Fetches a metadata URL and says whether it describes a usable identity provider, without
/// saving anything.
#[utoipa::path(post, path = "/api/saml/settings/validate-metadata-url", tag = "saml",
    request_body = MetadataUrlBody,
    responses((status = 200, body = MetadataUrlCheck), (status = 400), (status = 403)))]
pub async fn validate_metadata_url(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    JsonBody(body): JsonBody<MetadataUrlBody>,
) -> ApiResult<Json<MetadataUrlCheck>> {
    Ok(Json(
        match state
            .service
            .validate_saml_metadata_url(&by, &body.metadata_url)
            .await
        {
            Ok(idp) => MetadataUrlCheck {
                valid: true,
                detail: None,
                idp_entity_id: Some(idp.entity_id),
                idp_signing_certificates: idp.signing_certs.len(),
            },
            Err(roster_service::ServiceError::Invalid { message, .. }) => MetadataUrlCheck {
                valid: false,
                detail: Some(message),
                idp_entity_id: None,
                idp_signing_certificates: 0,
            },
            Err(e) => return Err(e.into()),
        },
    ))
}

/// The service provider's metadata for an organization's identity provider.
#[utoipa::path(get, path = "/saml/{token}/metadata", tag = "saml",
    params(("token" = String, Path, description = "The organization's SAML token")),
    responses((status = 200, content_type = "application/samlmetadata+xml", body = String), (status = 404)))]
pub async fn sp_metadata(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let xml = state.service.saml_sp_metadata(&token).await?;
    Ok((
        [(header::CONTENT_TYPE, "application/samlmetadata+xml")],
        xml,
    )
        .into_response())
}
