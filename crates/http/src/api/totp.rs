//! The caller's second factor: an authenticator app (TOTP, RFC 6238) that password sign-in
//! then asks a code of. Setting it up and turning it off are the person's own, in a session
//! signed in with their password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_service::totp::TotpState;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{ApiContext, Caller, JsonBody};
use crate::AppState;

/// Where the caller's second factor stands.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpView {
    /// Password sign-in asks for a code.
    enabled: bool,
    /// Set up but not yet confirmed with a code.
    pending: bool,
}

impl TotpView {
    fn of(state: TotpState) -> TotpView {
        TotpView {
            enabled: state == TotpState::On,
            pending: state == TotpState::Pending,
        }
    }
}

/// A new secret for the authenticator app, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TotpEnrollmentView {
    enabled: bool,
    pending: bool,
    /// The secret in base32, to type into the app.
    secret: String,
    /// The same as an `otpauth://totp/...` URI (a QR code or link for the app).
    otpauth_uri: String,
}

/// A current code from the authenticator app.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TotpCodeBody {
    /// Six digits (spaces ignored).
    code: String,
    #[serde(default)]
    #[allow(dead_code)] // read by `extract::body_csrf`
    csrf_token: Option<String>,
}

#[utoipa::path(get, path = "/api/current-user/totp", tag = "users",
    responses((status = 200, body = TotpView), (status = 401)))]
pub async fn totp_state(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<Json<TotpView>> {
    Ok(Json(TotpView::of(state.service.totp_state(&who).await?)))
}

/// Starts setting up an authenticator app (again, replacing an unconfirmed secret). Confirm
/// it with a code before it counts.
#[utoipa::path(post, path = "/api/current-user/totp", tag = "users",
    responses((status = 201, body = TotpEnrollmentView), (status = 401), (status = 403), (status = 409)))]
pub async fn start_totp(
    State(state): State<AppState>,
    Caller(who): Caller,
) -> ApiResult<(StatusCode, Json<TotpEnrollmentView>)> {
    let e = state.service.start_totp(&who).await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrollmentView {
            enabled: false,
            pending: true,
            secret: e.secret,
            otpauth_uri: e.otpauth_uri,
        }),
    ))
}

/// Confirms the authenticator app with a code from it; password sign-in asks for a code from
/// then on.
#[utoipa::path(post, path = "/api/current-user/totp/confirm", tag = "users", request_body = TotpCodeBody,
    responses((status = 200, body = TotpView), (status = 400), (status = 401), (status = 403), (status = 409), (status = 429)))]
pub async fn confirm_totp(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
    JsonBody(body): JsonBody<TotpCodeBody>,
) -> ApiResult<Json<TotpView>> {
    state.service.confirm_totp(&who, &body.code, &ctx).await?;
    Ok(Json(TotpView::of(TotpState::On)))
}

/// Turns the second factor off, with a current code.
#[utoipa::path(delete, path = "/api/current-user/totp", tag = "users", request_body = TotpCodeBody,
    responses((status = 200, body = TotpView), (status = 400), (status = 401), (status = 403), (status = 409), (status = 429)))]
pub async fn disable_totp(
    State(state): State<AppState>,
    Caller(who): Caller,
    ApiContext(ctx): ApiContext,
    JsonBody(body): JsonBody<TotpCodeBody>,
) -> ApiResult<Json<TotpView>> {
    state.service.disable_totp(&who, &body.code, &ctx).await?;
    Ok(Json(TotpView::of(TotpState::Off)))
}
