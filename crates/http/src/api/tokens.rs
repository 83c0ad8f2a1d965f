//! API credentials: the legacy key, personal access tokens, and per-organization token settings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_service::orgs::{TokenSettings, TokenSettingsPatch};
use roster_service::Admin;
use serde::{Deserialize, Serialize};

use crate::api::orgs::{sort_by_ordering, OrderingParam};
use crate::error::ApiResult;
use crate::extract::{ApiContext, Caller, InActiveOrg, JsonBody, QueryParams};
use crate::views::time;
use crate::AppState;

/// The legacy key. Label Studio's server sends `token`; the SDK's model reads `detail`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct LegacyKeyView {
    token: String,
    detail: String,
}

#[utoipa::path(get, path = "/api/current-user/token", tag = "tokens", responses((status = 200, body = LegacyKeyView), (status = 401)))]
pub async fn legacy_key(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<LegacyKeyView>> {
    let key = state.service.legacy_key(&who).await?;
    Ok(Json(LegacyKeyView {
        detail: key.clone(),
        token: key,
    }))
}

#[utoipa::path(post, path = "/api/current-user/reset-token", tag = "tokens", responses((status = 201, body = LegacyKeyView), (status = 401)))]
pub async fn reset_legacy_key(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
) -> ApiResult<(StatusCode, Json<LegacyKeyView>)> {
    let key = state.service.reset_legacy_key(&who, &ctx).await?;
    Ok((
        StatusCode::CREATED,
        Json(LegacyKeyView {
            detail: key.clone(),
            token: key,
        }),
    ))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct TokenView {
    token: String,
    created_at: String,
    expires_at: String,
}

impl TokenView {
    fn of(t: roster_service::tokens::PersonalToken) -> TokenView {
        TokenView {
            token: t.token,
            created_at: time(t.created_at),
            expires_at: time(t.expires_at),
        }
    }
}

/// The caller's usable personal access tokens, without signatures.
#[utoipa::path(get, path = "/api/token", tag = "tokens",
    params(("ordering" = Option<String>, Query, description = "created_at or expires_at, with - for descending")),
    responses((status = 200, body = [TokenView]), (status = 400), (status = 401)))]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(who): Caller,
    QueryParams(q): QueryParams<OrderingParam>,
) -> ApiResult<Json<Vec<TokenView>>> {
    let mut tokens = state.service.list_personal_tokens(&who).await?;
    sort_by_ordering(
        &mut tokens,
        q.ordering.as_deref(),
        &[
            ("created_at", |a, b| a.created_at.cmp(&b.created_at)),
            ("expires_at", |a, b| a.expires_at.cmp(&b.expires_at)),
        ],
        "created_at or expires_at",
    )?;
    Ok(Json(tokens.into_iter().map(TokenView::of).collect()))
}

/// Creates a personal access token (shown once); 409 while another is valid.
#[utoipa::path(post, path = "/api/token", tag = "tokens", responses((status = 201, body = TokenView), (status = 401), (status = 409)))]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
) -> ApiResult<(StatusCode, Json<TokenView>)> {
    Ok((
        StatusCode::CREATED,
        Json(TokenView::of(
            state.service.create_personal_token(&who, &ctx).await?,
        )),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshBody {
    refresh: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AccessView {
    access: String,
}

/// Exchanges a personal access token for a 5-minute access token.
#[utoipa::path(post, path = "/api/token/refresh", tag = "tokens", request_body = RefreshBody,
    responses((status = 200, body = AccessView), (status = 401), (status = 429)))]
pub async fn refresh(
    State(state): State<AppState>,
    ApiContext(ctx): ApiContext,
    JsonBody(body): JsonBody<RefreshBody>,
) -> ApiResult<Json<AccessView>> {
    Ok(Json(AccessView {
        access: state
            .service
            .refresh_access_token(&body.refresh, &ctx)
            .await?,
    }))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct RotatedView {
    refresh: String,
}

/// Replaces a personal access token; the old one stops working at once.
#[utoipa::path(post, path = "/api/token/rotate", tag = "tokens", request_body = RefreshBody,
    responses((status = 200, body = RotatedView), (status = 400), (status = 401)))]
pub async fn rotate(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
    JsonBody(body): JsonBody<RefreshBody>,
) -> ApiResult<Json<RotatedView>> {
    Ok(Json(RotatedView {
        refresh: state
            .service
            .rotate_personal_token(&who, &body.refresh, &ctx)
            .await?
            .token,
    }))
}

/// Revokes a personal access token (and every access token issued from it).
#[utoipa::path(post, path = "/api/token/blacklist", tag = "tokens", request_body = RefreshBody,
    responses((status = 204), (status = 401), (status = 404)))]
pub async fn blacklist(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
    JsonBody(body): JsonBody<RefreshBody>,
) -> ApiResult<StatusCode> {
    state
        .service
        .blacklist_personal_token(&who, &body.refresh, &ctx)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct JwtSettingsView {
    api_tokens_enabled: bool,
    legacy_api_tokens_enabled: bool,
    api_token_ttl_days: i64,
}

impl From<TokenSettings> for JwtSettingsView {
    fn from(t: TokenSettings) -> Self {
        JwtSettingsView {
            api_tokens_enabled: t.api_tokens_enabled,
            legacy_api_tokens_enabled: t.legacy_api_tokens_enabled,
            api_token_ttl_days: t.api_token_ttl_days,
        }
    }
}

/// A change of the token settings: only the fields sent change.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtSettingsPatch {
    api_tokens_enabled: Option<bool>,
    legacy_api_tokens_enabled: Option<bool>,
    api_token_ttl_days: Option<i64>,
}

#[utoipa::path(get, path = "/api/jwt/settings", tag = "tokens", responses((status = 200, body = JwtSettingsView), (status = 403)))]
pub async fn jwt_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
) -> ApiResult<Json<JwtSettingsView>> {
    Ok(Json(state.service.token_settings(&by).await?.into()))
}

/// Which kinds of token the active organization accepts, and how long new PATs live; the
/// fields not sent keep their values.
#[utoipa::path(post, path = "/api/jwt/settings", tag = "tokens", request_body = JwtSettingsPatch,
    responses((status = 200, body = JwtSettingsView), (status = 400), (status = 403)))]
pub async fn update_jwt_settings(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Admin>,
    JsonBody(body): JsonBody<JwtSettingsPatch>,
) -> ApiResult<Json<JwtSettingsView>> {
    let new = TokenSettingsPatch {
        api_tokens_enabled: body.api_tokens_enabled,
        legacy_api_tokens_enabled: body.legacy_api_tokens_enabled,
        api_token_ttl_days: body.api_token_ttl_days,
    };
    Ok(Json(
        state.service.update_token_settings(&by, new).await?.into(),
    ))
}
