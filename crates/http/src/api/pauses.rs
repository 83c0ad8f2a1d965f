//! `projects.pauses`: pausing and resuming a member's work in a project.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_service::pauses::{PauseInput, PauseView as Pause};
use roster_service::store::pauses::PauseOrder;
use roster_service::Staff;
use serde::{Deserialize, Serialize};

use crate::api::projects::{project_id, UserSimpleView};
use crate::api::users::parse_id;
use crate::error::{ApiError, ApiResult};
use crate::extract::{InActiveOrg, JsonBody, PathParams, QueryParams};
use crate::views::{time, UserView};
use crate::AppState;

/// A pause, as the SDK's `Pause`.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PauseView {
    id: i64,
    project: i64,
    user: i64,
    /// MANUAL, BEHAVIOR_BASED, ANNOTATOR_EVALUATION, ANNOTATION_LIMIT or CUSTOM_SCRIPT.
    reason: String,
    /// Shown to the paused person when their work is refused.
    verbose_reason: String,
    paused_by: Option<UserSimpleView>,
    created_at: String,
    updated_at: String,
    /// When the pause ended (the person was resumed); null while it is active.
    deleted_at: Option<String>,
    deleted_by: Option<i64>,
}

impl PauseView {
    fn of(v: Pause) -> PauseView {
        let p = v.pause;
        PauseView {
            id: p.id,
            project: p.project.0,
            user: p.user.0,
            reason: p.reason,
            verbose_reason: p.verbose_reason,
            paused_by: v.paused_by.map(|(u, live)| {
                UserSimpleView::from_view(if live {
                    UserView::of(&u)
                } else {
                    UserView::deleted(&u)
                })
            }),
            created_at: time(p.created_at),
            updated_at: time(p.updated_at),
            deleted_at: p.deleted_at.map(time),
            deleted_by: p.deleted_by.map(|u| u.0),
        }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    reason: Option<String>,
    verbose_reason: Option<String>,
}

impl From<PauseBody> for PauseInput {
    fn from(b: PauseBody) -> PauseInput {
        PauseInput {
            reason: b.reason,
            verbose_reason: b.verbose_reason,
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PauseListQuery {
    /// Include ended pauses.
    include_deleted: Option<bool>,
    /// id, created_at or updated_at, `-` first for descending (default id).
    ordering: Option<String>,
}

fn ordering(raw: Option<&str>) -> ApiResult<(PauseOrder, bool)> {
    let raw = raw.unwrap_or("id");
    let (descending, name) = match raw.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, raw),
    };
    let order = match name {
        "id" => PauseOrder::Id,
        "created_at" => PauseOrder::CreatedAt,
        "updated_at" => PauseOrder::UpdatedAt,
        _ => {
            return Err(ApiError::invalid(
                "ordering",
                "must be id, created_at or updated_at, with - first for descending",
            ))
        }
    };
    Ok((order, descending))
}

fn member_path(
    path: &(String, String),
) -> ApiResult<(roster_domain::ProjectId, roster_domain::UserId)> {
    Ok((project_id(&path.0)?, parse_id(&path.1)?))
}

fn pause_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::not_found(format!("No pause {raw}.")))
}

/// The pauses of a member in a project (active ones unless `include_deleted`).
#[utoipa::path(get, path = "/api/projects/{id}/members/{user_id}/pauses", tag = "projects",
    params(("id" = i64, Path), ("user_id" = i64, Path), PauseListQuery),
    responses((status = 200, body = [PauseView]), (status = 400), (status = 403), (status = 404)))]
pub async fn list_pauses(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(path): PathParams<(String, String)>,
    QueryParams(q): QueryParams<PauseListQuery>,
) -> ApiResult<Json<Vec<PauseView>>> {
    let (project, user) = member_path(&path)?;
    let order = ordering(q.ordering.as_deref())?;
    let list = state
        .service
        .list_pauses(
            &by,
            project,
            user,
            q.include_deleted.unwrap_or(false),
            order,
        )
        .await?;
    Ok(Json(list.into_iter().map(PauseView::of).collect()))
}

/// Pauses a member's work in a project: their new work there is refused (403) until resumed.
#[utoipa::path(post, path = "/api/projects/{id}/members/{user_id}/pauses", tag = "projects",
    params(("id" = i64, Path), ("user_id" = i64, Path)), request_body = PauseBody,
    responses((status = 201, body = PauseView), (status = 400), (status = 403), (status = 404), (status = 409)))]
pub async fn create_pause(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(path): PathParams<(String, String)>,
    JsonBody(body): JsonBody<PauseBody>,
) -> ApiResult<(StatusCode, Json<PauseView>)> {
    let (project, user) = member_path(&path)?;
    let p = state
        .service
        .pause_member(&by, project, user, body.into())
        .await?;
    Ok((StatusCode::CREATED, Json(PauseView::of(p))))
}

#[utoipa::path(get, path = "/api/projects/{id}/members/{user_id}/pauses/{pause_id}", tag = "projects",
    params(("id" = i64, Path), ("user_id" = i64, Path), ("pause_id" = i64, Path)),
    responses((status = 200, body = PauseView), (status = 403), (status = 404)))]
pub async fn get_pause(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(path): PathParams<(String, String, String)>,
) -> ApiResult<Json<PauseView>> {
    let (project, user) = member_path(&(path.0, path.1))?;
    let p = state
        .service
        .get_pause(&by, project, user, pause_id(&path.2)?)
        .await?;
    Ok(Json(PauseView::of(p)))
}

/// Changes an active pause's reason.
#[utoipa::path(patch, path = "/api/projects/{id}/members/{user_id}/pauses/{pause_id}", tag = "projects",
    params(("id" = i64, Path), ("user_id" = i64, Path), ("pause_id" = i64, Path)), request_body = PauseBody,
    responses((status = 200, body = PauseView), (status = 400), (status = 403), (status = 404)))]
pub async fn update_pause(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(path): PathParams<(String, String, String)>,
    JsonBody(body): JsonBody<PauseBody>,
) -> ApiResult<Json<PauseView>> {
    let id = pause_id(&path.2)?;
    let (project, user) = member_path(&(path.0, path.1))?;
    let p = state
        .service
        .update_pause(&by, project, user, id, body.into())
        .await?;
    Ok(Json(PauseView::of(p)))
}

/// Ends a pause (resumes the member); the pause is kept as ended.
#[utoipa::path(delete, path = "/api/projects/{id}/members/{user_id}/pauses/{pause_id}", tag = "projects",
    params(("id" = i64, Path), ("user_id" = i64, Path), ("pause_id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_pause(
    State(state): State<AppState>,
    InActiveOrg(by): InActiveOrg<Staff>,
    PathParams(path): PathParams<(String, String, String)>,
) -> ApiResult<StatusCode> {
    let id = pause_id(&path.2)?;
    let (project, user) = member_path(&(path.0, path.1))?;
    state.service.resume_member(&by, project, user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
