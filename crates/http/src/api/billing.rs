//! `/api/billing/info` (the SDK's `billing.info`): the organization's seats and usage as
//! roster counts them, in Label Studio Enterprise's shape. The model's fields about products
//! roster does not have (prompts, AI, storages, embedding, Flex seats, a licence with dates)
//! carry fixed values that say so; README lists them.

use axum::extract::State;
use axum::Json;
use roster_service::orgs::BillingFigures;
use roster_service::Owner;
use serde::Serialize;

use crate::error::ApiResult;
use crate::extract::InActiveOrg;
use crate::views::time;
use crate::AppState;

/// Stands for "no limit" in a `limit` (the model's limits are integers).
pub const NO_LIMIT: i64 = -1;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CountLimit {
    count: i64,
    /// -1: no limit.
    limit: i64,
    reached: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    total: Option<i64>,
}

impl CountLimit {
    fn unlimited(count: i64) -> CountLimit {
        CountLimit {
            count,
            limit: NO_LIMIT,
            reached: false,
            total: None,
        }
    }

    /// Something roster does not have: none, and none can be added.
    fn absent() -> CountLimit {
        CountLimit {
            count: 0,
            limit: 0,
            reached: true,
            total: None,
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BillingChecks {
    /// Seats in use (working-role members and pending working-role invites) against the
    /// seat limit; `total` counts the members in a working role.
    users: CountLimit,
    projects: CountLimit,
    /// Annotations in the organization's projects.
    results: CountLimit,
    export_storages: CountLimit,
    import_storages: CountLimit,
    is_license_expired: bool,
    is_license_warning: bool,
    license_expires: Option<String>,
    license_issued: Option<String>,
    license_warning: Option<String>,
    organization_is_active: bool,
    prompts_enabled: bool,
    prompts_api_keys_enabled: bool,
    is_prompts_expire: bool,
    is_prompts_warning: bool,
    prompts_expire: Option<String>,
    prompts_warning: Option<String>,
    prompts_status: &'static str,
    trial_days: i64,
    #[schema(value_type = Option<Object>)]
    flex: Option<serde_json::Value>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BillingFlags {
    activated_at: Option<String>,
    allow_activity_log: bool,
    allow_ai: bool,
    allow_ask_ai: bool,
    allow_ask_ai_screenshots: Option<bool>,
    allow_data_credentials: bool,
    allow_invite_people: bool,
    allow_invite_project_experts: bool,
    allow_nda: bool,
    allow_organization_webhooks: bool,
    allow_reviewing: bool,
    allow_sso: bool,
    allow_storage_proxy: bool,
    ask_ai_screenshots: bool,
    automax_enabled: bool,
    automax_token_exists: bool,
    cloud_instance: bool,
    disable_members_page: bool,
    disable_project_imports: bool,
    early_adopter: bool,
    email_configured: bool,
    #[schema(value_type = Option<Vec<Object>>)]
    embed_domains: Option<Vec<serde_json::Value>>,
    embed_enabled: bool,
    #[schema(value_type = Option<Object>)]
    embed_settings: Option<serde_json::Value>,
    manual_role_management: bool,
    manual_workspace_management: bool,
    secure_mode: bool,
    storage_persistence: bool,
    white_label_id: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BillingInfoView {
    billing_checks: BillingChecks,
    billing_flags: BillingFlags,
}

impl BillingInfoView {
    fn of(f: &BillingFigures) -> BillingInfoView {
        let users = CountLimit {
            count: f.seats.used(),
            limit: f.seats.limit.unwrap_or(NO_LIMIT),
            reached: !f.seats.fits(1),
            total: Some(f.seats.active),
        };
        BillingInfoView {
            billing_checks: BillingChecks {
                users,
                projects: CountLimit::unlimited(f.projects),
                results: CountLimit::unlimited(f.annotations),
                export_storages: CountLimit::absent(),
                import_storages: CountLimit::absent(),
                is_license_expired: false,
                is_license_warning: false,
                license_expires: None,
                license_issued: None,
                license_warning: None,
                organization_is_active: true,
                prompts_enabled: false,
                prompts_api_keys_enabled: false,
                is_prompts_expire: false,
                is_prompts_warning: false,
                prompts_expire: None,
                prompts_warning: None,
                prompts_status: "Disabled for this organization [FF]",
                trial_days: 0,
                flex: None,
            },
            billing_flags: BillingFlags {
                activated_at: Some(time(f.org.created_at)),
                allow_activity_log: true,
                allow_ai: false,
                allow_ask_ai: false,
                allow_ask_ai_screenshots: None,
                allow_data_credentials: false,
                allow_invite_people: true,
                allow_invite_project_experts: false,
                allow_nda: false,
                allow_organization_webhooks: false,
                allow_reviewing: true,
                allow_sso: true,
                allow_storage_proxy: false,
                ask_ai_screenshots: false,
                automax_enabled: false,
                automax_token_exists: false,
                cloud_instance: false,
                disable_members_page: false,
                disable_project_imports: true,
                early_adopter: false,
                email_configured: f.email_configured,
                embed_domains: None,
                embed_enabled: false,
                embed_settings: None,
                manual_role_management: f.org.manual_role_management,
                manual_workspace_management: f.org.manual_workspace_management,
                secure_mode: false,
                storage_persistence: false,
                white_label_id: None,
            },
        }
    }
}

/// Seats, projects and annotations of the active organization, for its Owner.
#[utoipa::path(get, path = "/api/billing/info", tag = "organizations",
    responses((status = 200, body = BillingInfoView), (status = 401), (status = 403)))]
pub async fn billing_info(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Owner>,
) -> ApiResult<Json<BillingInfoView>> {
    Ok(Json(BillingInfoView::of(
        &state.service.billing_figures(&by).await?,
    )))
}
