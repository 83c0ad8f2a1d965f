//! Member tags (`organizations.member_tags.*` of label-studio-sdk 2.1.2): an organization's
//! labels for its members. Owners and Administrators change them; whoever may list members
//! reads them. Assignment selects members with the member list's own filter parameters.

use axum::body::Bytes;
use axum::extract::multipart::{Multipart, MultipartRejection};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use roster_domain::{MemberTagId, TagImportId};
use roster_service::store::tags::{ImportRecord, TagOrder, TagRecord};
use roster_service::tags::TagSelection;
use roster_service::{Admin, Staff};
use serde::{Deserialize, Serialize};

use crate::api::orgs::{
    comma_list, float_typed_id, member_query, ordering, search_term, MemberFilterParams,
};
use crate::error::{ApiError, ApiResult};
use crate::extract::{InOrg, JsonBody, PathParams, QueryParams};
use crate::paging::{page_view, PageParams, RequestUrl};
use crate::views::{time, PageView};
use crate::AppState;

/// A tag's creator (the SDK's `UserSimple`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct UserSimpleView {
    id: i64,
    username: String,
    email: String,
    first_name: String,
    last_name: String,
    avatar: Option<String>,
}

/// A member tag (the SDK's `OrganizationMemberTag`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct TagView {
    id: i64,
    label: String,
    organization: i64,
    /// Who created it; null once their membership is deleted.
    created_by: Option<UserSimpleView>,
    created_at: String,
    updated_at: String,
    /// How many live members carry it.
    member_count: i64,
}

impl TagView {
    fn of(t: &TagRecord) -> TagView {
        TagView {
            id: t.id.0,
            label: t.label.clone(),
            organization: t.org.0,
            created_by: t.created_by.as_ref().map(|u| UserSimpleView {
                id: u.id.0,
                username: u.username.clone(),
                email: u.email.clone(),
                first_name: u.first_name.clone(),
                last_name: u.last_name.clone(),
                avatar: None,
            }),
            created_at: time(t.created_at),
            updated_at: time(t.updated_at),
            member_count: t.member_count,
        }
    }
}

fn tag_id(raw: &str) -> ApiResult<MemberTagId> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(MemberTagId)
        .ok_or_else(|| ApiError::not_found(format!("No member tag {raw}.")))
}

#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TagListParams {
    page: Option<String>,
    page_size: Option<String>,
    /// Tags whose label holds this (case-insensitive).
    search: Option<String>,
    /// id, label, created_at or updated_at, optionally with - for descending.
    ordering: Option<String>,
}

/// The organization's member tags (paged; 30 a page by default, at most 100).
#[utoipa::path(get, path = "/api/organizations/{id}/member-tags", tag = "member-tags",
    params(("id" = i64, Path), TagListParams),
    responses((status = 200, body = PageView<TagView>), (status = 400), (status = 403), (status = 404)))]
pub async fn list_tags(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    at: RequestUrl,
    QueryParams(p): QueryParams<TagListParams>,
) -> ApiResult<Json<PageView<TagView>>> {
    let mut page = PageParams {
        page: p.page,
        page_size: p.page_size,
    }
    .resolve(30)?;
    page.size = page.size.min(100);
    let order = ordering(
        p.ordering.as_deref(),
        &[
            ("id", TagOrder::Id),
            ("label", TagOrder::Label),
            ("created_at", TagOrder::CreatedAt),
            ("updated_at", TagOrder::UpdatedAt),
        ],
        "id, label, created_at or updated_at",
    )?
    .unwrap_or((TagOrder::Label, false));
    let search = search_term(p.search.as_deref())?;
    let r = state
        .service
        .list_tags(&by, search.as_deref(), order, page)
        .await?;
    Ok(Json(page_view(
        &at,
        page,
        r.count,
        r.items.iter().map(TagView::of).collect(),
    )))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    /// The label: 1 to 100 characters, unique in the organization whatever its case.
    label: String,
}

/// Creates a member tag (OW, AD).
#[utoipa::path(post, path = "/api/organizations/{id}/member-tags", tag = "member-tags",
    params(("id" = i64, Path)), request_body = TagBody,
    responses((status = 201, body = TagView), (status = 400), (status = 403), (status = 404)))]
pub async fn create_tag(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    JsonBody(body): JsonBody<TagBody>,
) -> ApiResult<(StatusCode, Json<TagView>)> {
    let t = state.service.create_tag(&by, &body.label).await?;
    Ok((StatusCode::CREATED, Json(TagView::of(&t))))
}

#[utoipa::path(get, path = "/api/organizations/{id}/member-tags/{tag_pk}", tag = "member-tags",
    params(("id" = i64, Path), ("tag_pk" = i64, Path)),
    responses((status = 200, body = TagView), (status = 403), (status = 404)))]
pub async fn get_tag(
    State(state): State<AppState>,
    InOrg(by): InOrg<Staff>,
    PathParams(path): PathParams<(String, String)>,
) -> ApiResult<Json<TagView>> {
    let t = state.service.get_tag(&by, tag_id(&path.1)?).await?;
    Ok(Json(TagView::of(&t)))
}

/// Renames a member tag (OW, AD); its members keep it.
#[utoipa::path(patch, path = "/api/organizations/{id}/member-tags/{tag_pk}", tag = "member-tags",
    params(("id" = i64, Path), ("tag_pk" = i64, Path)), request_body = TagBody,
    responses((status = 200, body = TagView), (status = 400), (status = 403), (status = 404)))]
pub async fn update_tag(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    PathParams(path): PathParams<(String, String)>,
    JsonBody(body): JsonBody<TagBody>,
) -> ApiResult<Json<TagView>> {
    let t = state
        .service
        .rename_tag(&by, tag_id(&path.1)?, &body.label)
        .await?;
    Ok(Json(TagView::of(&t)))
}

/// Deletes a member tag (OW, AD), taking it off every member.
#[utoipa::path(delete, path = "/api/organizations/{id}/member-tags/{tag_pk}", tag = "member-tags",
    params(("id" = i64, Path), ("tag_pk" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_tag(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    PathParams(path): PathParams<(String, String)>,
) -> ApiResult<StatusCode> {
    state
        .service
        .delete_tags(&by, &[tag_id(&path.1)?], true)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkCreateBody {
    /// Labels to create; those the organization has (in any case) are skipped.
    labels: Vec<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkCreated {
    created: i64,
}

/// Creates several member tags at once (OW, AD); a bad label changes nothing.
#[utoipa::path(post, path = "/api/organizations/{id}/member-tags/bulk", tag = "member-tags",
    params(("id" = i64, Path)), request_body = BulkCreateBody,
    responses((status = 201, body = BulkCreated), (status = 400), (status = 403), (status = 404)))]
pub async fn bulk_create_tags(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    JsonBody(body): JsonBody<BulkCreateBody>,
) -> ApiResult<(StatusCode, Json<BulkCreated>)> {
    let created = state.service.create_tags(&by, &body.labels).await?;
    Ok((StatusCode::CREATED, Json(BulkCreated { created })))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDeleteBody {
    ids: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct BulkDeleted {
    deleted: i64,
}

/// Deletes several member tags (OW, AD), named by `ids` in the query (repeated or
/// comma-separated, as the SDK sends them) or in a JSON body; an id that names no tag of the
/// organization is a 400 and nothing is deleted.
#[utoipa::path(delete, path = "/api/organizations/{id}/member-tags/bulk", tag = "member-tags",
    params(("id" = i64, Path), ("ids" = Option<Vec<i64>>, Query, description = "tag ids")),
    request_body(content = Option<BulkDeleteBody>, description = "or the ids in a JSON body"),
    responses((status = 200, body = BulkDeleted), (status = 400), (status = 403), (status = 404)))]
pub async fn bulk_delete_tags(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    uri: axum::http::Uri,
    body: Bytes,
) -> ApiResult<Json<BulkDeleted>> {
    let mut ids = Vec::new();
    for (k, v) in url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes()) {
        if k != "ids" {
            return Err(ApiError::invalid(&k, "is not a parameter of this call"));
        }
        ids.extend(comma_list(Some(&v), |s| float_typed_id("ids", s))?);
    }
    if !body.iter().all(u8::is_ascii_whitespace) {
        let parsed: BulkDeleteBody = crate::extract::parse_json(&body)?;
        ids.extend(parsed.ids);
    }
    let ids: Vec<MemberTagId> = ids.into_iter().map(MemberTagId).collect();
    let deleted = state.service.delete_tags(&by, &ids, false).await?;
    Ok(Json(BulkDeleted {
        deleted: deleted as i64,
    }))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// true: every member the query's filters match (less `excluded`); false: `included`.
    all: bool,
    /// User ids to tag (with all=false).
    #[serde(default)]
    included: Vec<i64>,
    /// User ids to leave out (with all=true).
    #[serde(default)]
    excluded: Vec<i64>,
    /// Replace the selected members' tags with these (default: add to them).
    #[serde(default)]
    overwrite: bool,
    /// Tag ids to put on the members.
    #[serde(default)]
    tags: Vec<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct Assigned {
    /// How many (member, tag) assignments were made.
    assigned: i64,
}

/// Puts tags on members (OW, AD): the query takes the member list's filters (`role`, `tags`,
/// `user_type`, `is_deleted`, `exclude_project_id`, `exclude_workspace_id`,
/// `user__last_activity__gte/lte`, `search`).
#[utoipa::path(post, path = "/api/organizations/{id}/member-tags/assignments", tag = "member-tags",
    params(("id" = i64, Path),
           ("role" = Option<String>, Query), ("tags" = Option<String>, Query), ("user_type" = Option<String>, Query),
           ("is_deleted" = Option<bool>, Query), ("exclude_project_id" = Option<f64>, Query),
           ("exclude_workspace_id" = Option<f64>, Query), ("search" = Option<String>, Query),
           ("user__last_activity__gte" = Option<String>, Query), ("user__last_activity__lte" = Option<String>, Query)),
    request_body = AssignBody,
    responses((status = 200, body = Assigned), (status = 400), (status = 403), (status = 404)))]
pub async fn assign_tags(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    QueryParams(q): QueryParams<MemberFilterParams>,
    JsonBody(body): JsonBody<AssignBody>,
) -> ApiResult<Json<Assigned>> {
    let filter = member_query(&q)?;
    let tags: Vec<MemberTagId> = body.tags.iter().map(|i| MemberTagId(*i)).collect();
    let selection = TagSelection {
        all: body.all,
        included: body.included,
        excluded: body.excluded,
    };
    let assigned = state
        .service
        .assign_tags(&by, filter, selection, &tags, body.overwrite)
        .await?;
    Ok(Json(Assigned {
        assigned: assigned as i64,
    }))
}

/// An import job's status (the SDK's `OrganizationMemberTagImportStatus`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportStatusView {
    id: i64,
    /// created, in_progress, completed or failed; roster runs an import within the upload,
    /// so a job it returns is completed.
    status: String,
    created_at: String,
    finished_at: Option<String>,
    tags_created: i64,
    assignments_created: i64,
    /// The CSV's emails that named no live member.
    #[schema(value_type = Vec<String>)]
    users_skipped: serde_json::Value,
}

impl ImportStatusView {
    fn of(r: &ImportRecord) -> ImportStatusView {
        ImportStatusView {
            id: r.id.0,
            status: r.status.clone(),
            created_at: time(r.created_at),
            finished_at: r.finished_at.map(time),
            tags_created: r.tags_created,
            assignments_created: r.assignments_created,
            users_skipped: serde_json::from_str(&r.users_skipped)
                .unwrap_or(serde_json::Value::Array(vec![])),
        }
    }
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportCreated {
    /// The import job's id.
    import: i64,
}

/// The multipart form of an import: `file` (CSV) and `bulk_tags`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// A CSV with `email` and `tags` columns (`tags`: comma-separated labels, quoted).
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    /// Comma-separated labels to put on every member the file names.
    bulk_tags: Option<String>,
}

/// Imports tags from a CSV (OW, AD): missing tags are created, each row's member gets its
/// tags and `bulk_tags`; emails that name no live member are skipped and listed in the job.
/// The job runs within this request, in one transaction; a malformed file is a 400 that
/// names the line, and changes nothing.
#[utoipa::path(post, path = "/api/organizations/{id}/member-tags/imports", tag = "member-tags",
    params(("id" = i64, Path)), request_body(content = ImportForm, content_type = "multipart/form-data"),
    responses((status = 201, body = ImportCreated), (status = 400), (status = 403), (status = 404)))]
pub async fn import_tags(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    body: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<ImportCreated>)> {
    let form = crate::multipart::parts(body).await?;
    let file = form
        .get("file")
        .ok_or_else(|| ApiError::invalid("file", "is required (a CSV file)"))?;
    let text =
        std::str::from_utf8(file).map_err(|_| ApiError::invalid("file", "is not UTF-8 text"))?;
    let bulk = match form.get("bulk_tags") {
        Some(b) => std::str::from_utf8(b)
            .map_err(|_| ApiError::invalid("bulk_tags", "is not UTF-8 text"))?,
        None => "",
    };
    let job = state.service.import_tags(&by, text, bulk).await?;
    Ok((
        StatusCode::CREATED,
        Json(ImportCreated { import: job.id.0 }),
    ))
}

#[utoipa::path(get, path = "/api/organizations/{id}/member-tags/imports/{import_pk}", tag = "member-tags",
    params(("id" = i64, Path), ("import_pk" = i64, Path)),
    responses((status = 200, body = ImportStatusView), (status = 403), (status = 404)))]
pub async fn get_import(
    State(state): State<AppState>,
    InOrg(by): InOrg<Admin>,
    PathParams(path): PathParams<(String, String)>,
) -> ApiResult<Json<ImportStatusView>> {
    let id = path
        .1
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(TagImportId)
        .ok_or_else(|| ApiError::not_found(format!("No member tag import {}.", path.1)))?;
    let job = state.service.tag_import(&by, id).await?;
    Ok(Json(ImportStatusView::of(&job)))
}
