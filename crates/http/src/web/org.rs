//! The Organization page: members with their tags, the role and tag filters, search and
//! pages; the role drop-down; member tags (create, delete, add to and take off a member);
//! seat usage; "Add people" (invite link and email invites); the member panel and deletion;
//! and the Owner's switch for signing in through single sign-on only.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use roster_domain::{rules, MemberTagId, Role, UserId};
use roster_service::members::MemberFilter;
use roster_service::orgs::OrgPatch;
use roster_service::tags::TagSelection;
use roster_service::{Admin, Authorized, Invite, PageRequest, Staff};
use serde::Deserialize;

use super::faces::{when, Face, When};
use super::page;
use super::{back_with, day_time, html_error, on_off, status_message, wants_json, Chrome, WebUser};
use crate::api::orgs::{member_query, MemberFilterParams};
use crate::error::ApiError;
use crate::extract::{PageForm, QueryParams};
use crate::AppState;

const PAGE_SIZE: i64 = 50;

/// The most tags the page offers (in the tag filter, to add and to delete), first by label:
/// the page stays small whatever an organization makes; the API reaches every tag.
const TAG_CHOICES: i64 = 200;

pub(crate) struct MemberRowView {
    user_id: i64,
    /// Initials, name, and the email when the name is not the email itself.
    face: Face,
    email: String,
    role: &'static str,
    choices: Vec<(&'static str, &'static str, &'static str)>,
    /// The member's tags as (id, label), by label.
    tags: Vec<(i64, String)>,
    last_activity: When,
    date_joined: When,
}

pub(crate) struct InviteRowView {
    email: String,
    role: &'static str,
    state: &'static str,
    expires: String,
    url: Option<String>,
}

#[derive(Template)]
#[template(path = "organization.html")]
struct OrganizationPage {
    chrome: Chrome,
    seats: String,
    /// Seats in use and the limit, for the meter (none without a limit).
    seat_meter: Option<(i64, i64)>,
    /// Every seat is taken: the page says what to do.
    seats_full: bool,
    org_id: i64,
    status: Option<String>,
    default_role: &'static str,
    invite_url: String,
    invite_roles: Vec<(&'static str, &'static str)>,
    invites: Vec<InviteRowView>,
    role_filter: Vec<(&'static str, &'static str, &'static str)>,
    /// The bulk action's roles as (code, what the choice says): every role but Owner, which
    /// moves one person at a time.
    bulk_roles: Vec<(&'static str, String)>,
    /// The organization's tags (at most `TAG_CHOICES`) as (id, label, selected in the filter).
    tag_filter: Vec<(i64, String, &'static str)>,
    /// How many tags the organization has, and whether `tag_filter` holds fewer.
    tag_count: i64,
    tags_capped: bool,
    search: String,
    /// The "Last active" choices as (code, words, selected).
    activity_filter: Vec<(&'static str, &'static str, &'static str)>,
    /// The member list's query (filters and page), which the forms carry so that a change
    /// comes back to the same list.
    back: String,
    count: i64,
    /// More members match than this page shows ("all N matching" is offered).
    more_than_page: bool,
    members: Vec<MemberRowView>,
    page: i64,
    pages: i64,
    prev_href: Option<String>,
    next_href: Option<String>,
    sso_only: bool,
    is_owner: bool,
    /// The Owner may withdraw the invite permission from Administrators.
    may_invite: bool,
}

#[derive(Deserialize, Default)]
pub(crate) struct OrgQuery {
    role: Option<String>,
    search: Option<String>,
    /// Tag ids (comma-separated, as the API's `tags`): members carrying any of them.
    tags: Option<String>,
    /// A last-activity window (`ACTIVITY_WINDOWS`).
    active: Option<String>,
    page: Option<String>,
    status: Option<String>,
    sig: Option<String>,
}

/// The roles a row's drop-down offers, as the domain says this actor may assign them.
fn choices(actor: Role, current: Role) -> Vec<(&'static str, &'static str, &'static str)> {
    rules::assignable_roles(actor, current)
        .into_iter()
        .map(|r| (r.code(), r.name(), selected(r == current)))
        .collect()
}

/// The `selected` attribute of an option, or nothing.
pub(crate) fn selected(yes: bool) -> &'static str {
    if yes {
        "selected"
    } else {
        ""
    }
}

/// The member list's query string: its filters that are set, and the page.
fn list_query(f: &ListFilters, page: i64) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in [
        ("role", &f.role),
        ("search", &f.search),
        ("tags", &f.tags),
        ("active", &f.active),
    ] {
        if !value.is_empty() {
            q.append_pair(name, value);
        }
    }
    q.append_pair("page", &page.to_string()).finish()
}

/// The "Last active" filter's choices as (code, words, days, whether active within them
/// rather than not since).
const ACTIVITY_WINDOWS: [(&str, &str, i64, bool); 5] = [
    ("7d", "In the last 7 days", 7, true),
    ("30d", "In the last 30 days", 30, true),
    ("90d", "In the last 90 days", 90, true),
    ("idle30", "Not in the last 30 days", 30, false),
    ("idle90", "Not in the last 90 days", 90, false),
];

/// The Organization page's list filters as the address carries them.
#[derive(Debug, Default, Clone)]
pub(crate) struct ListFilters {
    pub role: String,
    pub search: String,
    pub tags: String,
    pub active: String,
}

impl ListFilters {
    /// Reads the filters of a list query string (a form's `back`, or the page's address).
    pub(crate) fn parse(query: &str) -> ListFilters {
        let mut f = ListFilters::default();
        for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
            match k.as_ref() {
                "role" => f.role = v.into_owned(),
                "search" => f.search = v.into_owned(),
                "tags" => f.tags = v.into_owned(),
                "active" => f.active = v.into_owned(),
                _ => {}
            }
        }
        f
    }

    /// The member list's filter: the API's own parameters read by the same function, and the
    /// activity window counted back from `now` (to the minute, so that a window asked twice
    /// in a minute is the same query, with its kept count and page anchors).
    pub(crate) fn member_filter(&self, now: i64) -> Result<MemberFilter, ApiError> {
        let some = |s: &str| Some(s.to_string()).filter(|s| !s.is_empty());
        let params = MemberFilterParams {
            role: some(&self.role),
            search: some(&self.search),
            tags: some(&self.tags),
            ..MemberFilterParams::default()
        };
        let mut filter = member_query(&params)?;
        if !self.active.is_empty() {
            let Some((_, _, days, within)) = ACTIVITY_WINDOWS
                .iter()
                .find(|(code, ..)| *code == self.active)
            else {
                return Err(ApiError::invalid(
                    "active",
                    format!("\"{}\" is not a last-activity choice", self.active),
                ));
            };
            const MINUTE: i64 = 60_000_000;
            let since = now - now.rem_euclid(MINUTE) - days * 24 * 60 * MINUTE;
            if *within {
                filter.active_from = Some(since);
            } else {
                filter.active_to = Some(since);
            }
        }
        Ok(filter)
    }
}

/// Where a form's change leads back to: the Organization page with the list query the form
/// carried in `back`, read again so that only the list's own parameters pass (`keep_tags`
/// false drops the tag filter, for a tag that is gone).
pub(crate) fn back_to(back: Option<&str>, keep_tags: bool) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in url::form_urlencoded::parse(back.unwrap_or("").as_bytes()) {
        let wanted = matches!(k.as_ref(), "role" | "search" | "active" | "page")
            || (keep_tags && k == "tags");
        if wanted && !v.is_empty() {
            q.append_pair(&k, &v);
            any = true;
        }
    }
    if any {
        format!("/organization?{}", q.finish())
    } else {
        "/organization".to_string()
    }
}

/// The tags of each shown row, as (id, label) by label, read in one query for the page.
async fn tags_of_rows(
    service: &roster_service::Service,
    staff: &Authorized<Staff>,
    rows: &[roster_service::store::MemberRow],
) -> roster_service::Result<Vec<Vec<(i64, String)>>> {
    let ids: Vec<_> = rows.iter().map(|m| m.membership.id).collect();
    let mut extras = service.member_extras(staff, &ids, false).await?;
    Ok(rows
        .iter()
        .map(|m| {
            let tags = extras.tags.remove(&m.membership.id).unwrap_or_default();
            tags.into_iter().map(|(id, label)| (id.0, label)).collect()
        })
        .collect())
}

pub(crate) async fn organization_page(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    QueryParams(q): QueryParams<OrgQuery>,
) -> Response {
    let service = &state.service;
    let by = &web.proof;
    let filters = ListFilters {
        role: q.role.clone().unwrap_or_default(),
        search: q.search.clone().unwrap_or_default(),
        tags: q.tags.clone().unwrap_or_default(),
        active: q.active.clone().unwrap_or_default(),
    };
    let query = match filters.member_filter(service.now()) {
        Ok(f) => f,
        Err(e) => return html_error(e.status, Some(&web.chrome), &e.detail),
    };
    let page_no = q
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let staff = match by.require::<Staff>() {
        Ok(s) => s,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let inviter = by.require::<Invite>().ok();
    let chosen_tags = query.tags.clone();
    let loaded = async {
        let list = service
            .list_members(
                &staff,
                query,
                PageRequest {
                    page: page_no,
                    size: PAGE_SIZE,
                },
            )
            .await?;
        let row_tags = tags_of_rows(service, &staff, &list.items).await?;
        let org_tags = service.tag_labels(&staff, TAG_CHOICES).await?;
        let seats = service.seats(by).await?;
        let invites = match &inviter {
            Some(inviter) => {
                let page = PageRequest { page: 1, size: 20 };
                let invites = service.list_invites(inviter, page).await?.items;
                let link = service.invite_link(inviter)?;
                Some((invites, link))
            }
            None => None,
        };
        Ok::<_, roster_service::ServiceError>((list, row_tags, org_tags, seats, invites))
    }
    .await;
    let (list, row_tags, org_tags, seats, invites) = match loaded {
        Ok(x) => x,
        Err(e) => {
            let e = ApiError::from(e);
            return html_error(e.status, Some(&web.chrome), &e.detail);
        }
    };
    let pages = ((list.count + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let now = service.now();
    let href = |n: i64| format!("/organization?{}", list_query(&filters, n));
    let members = list
        .items
        .iter()
        .zip(row_tags)
        .map(|(m, tags)| MemberRowView {
            user_id: m.user.id.0,
            face: Face::of(&m.user.first_name, &m.user.last_name, &m.user.email),
            email: m.user.email.clone(),
            role: m.membership.role.code(),
            choices: choices(by.role(), m.membership.role),
            tags,
            last_activity: when(now, m.user.last_activity),
            date_joined: when(now, Some(m.user.date_joined)),
        })
        .collect();
    let (invites, invite_url) = match invites {
        Some((invites, link)) => (
            invites,
            format!("{}{}", service.config().public_url, link.invite_url),
        ),
        None => (Vec::new(), String::new()),
    };
    let body = OrganizationPage {
        seats: seats.describe(),
        seat_meter: seats.limit.map(|limit| (seats.used(), limit)),
        seats_full: !seats.fits(1),
        org_id: by.org().id.0,
        status: status_message(&state, q.status.as_deref(), q.sig.as_deref()),
        default_role: by.org().default_role.name(),
        invite_url,
        invite_roles: rules::INVITE_ROLES
            .into_iter()
            .map(|r| (r.code(), r.name()))
            .collect(),
        may_invite: inviter.is_some(),
        invites: invites
            .iter()
            .map(|i| InviteRowView {
                email: i.invite.email.clone(),
                role: i.invite.role.name(),
                state: i.state.code(),
                expires: day_time(Some(i.invite.expires_at)),
                url: i.url.clone(),
            })
            .collect(),
        bulk_roles: Role::ALL
            .into_iter()
            .filter(|r| *r != Role::Owner)
            .map(|r| match r {
                Role::Deactivated => (r.code(), "Deactivate".to_string()),
                _ => (r.code(), format!("Make {}", r.name())),
            })
            .collect(),
        role_filter: Role::ALL
            .into_iter()
            .map(|r| (r.code(), r.name(), selected(r.code() == filters.role)))
            .collect(),
        activity_filter: ACTIVITY_WINDOWS
            .iter()
            .map(|(code, words, ..)| (*code, *words, selected(*code == filters.active)))
            .collect(),
        tag_filter: org_tags
            .items
            .into_iter()
            .map(|(id, label)| (id.0, label, selected(chosen_tags.contains(&id))))
            .collect(),
        tag_count: org_tags.count,
        tags_capped: org_tags.count > TAG_CHOICES,
        search: filters.search.clone(),
        back: list_query(&filters, page_no),
        count: list.count,
        more_than_page: list.count > list.items.len() as i64,
        members,
        page: page_no,
        pages,
        prev_href: (page_no > 1).then(|| href(page_no - 1)),
        next_href: (page_no < pages).then(|| href(page_no + 1)),
        sso_only: by.org().sso_only,
        is_owner: by.role() == Role::Owner,
        chrome: web.chrome,
    };
    page(StatusCode::OK, body)
}

/// Adds the seats after a change to a script's answer: `seats` in words, and what the meter and
/// the every-seat-taken notice show (`seats_used`, `seat_limit`, `seats_full`), so the page
/// redraws them without asking for itself again.
pub(crate) async fn seat_fields(
    state: &AppState,
    by: &Authorized<Admin>,
    body: &mut serde_json::Value,
) {
    if let Ok(seats) = state.service.seats(by).await {
        body["seats"] = seats.describe().into();
        body["seats_used"] = seats.used().into();
        body["seat_limit"] = seats.limit.into();
        body["seats_full"] = (!seats.fits(1)).into();
    }
}

#[derive(Deserialize)]
pub(crate) struct RoleForm {
    role: String,
    /// Where the page goes after the change without script: the list query of the
    /// Organization page the row was on, or the member's panel.
    back: Option<String>,
}

/// Where a role change from a row or a member's panel leads back to.
fn after_role_change(back: Option<&str>) -> String {
    match back {
        Some(panel)
            if panel
                .strip_prefix("/organization/members/")
                .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())) =>
        {
            panel.to_string()
        }
        other => back_to(other, true),
    }
}

/// The member a page names, and the caller's Staff proof to read them with.
pub(crate) fn staff_and_target(
    web: &WebUser<Admin>,
    raw: &str,
) -> Result<(Authorized<Staff>, UserId), ApiError> {
    let target = user_id(raw)?;
    let staff = web.proof.require::<Staff>()?;
    Ok((staff, target))
}

fn user_id(raw: &str) -> Result<UserId, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(UserId)
        .ok_or_else(|| ApiError::not_found("No such member."))
}

/// Applies a role from the drop-down. Script asks for JSON and shows the message in place;
/// without script the page reloads with the message.
pub(crate) async fn change_role(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    PageForm(form): PageForm<RoleForm>,
) -> Response {
    let target = match user_id(&raw) {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let json = wants_json(&headers);
    let back = after_role_change(form.back.as_deref());
    let Some(role) = Role::from_code(form.role.trim()) else {
        let e = ApiError::invalid("role", format!("\"{}\" is not a role", form.role));
        return if json {
            e.into_response()
        } else {
            back_with(&state, &back, &e.detail)
        };
    };
    match state.service.assign_role(&web.proof, target, role).await {
        Ok(row) => {
            let message = format!("{} is now {}", row.user.email, row.membership.role.name());
            if json {
                let mut body =
                    serde_json::json!({"message": message, "role": row.membership.role.code()});
                seat_fields(&state, &web.proof, &mut body).await;
                Json(body).into_response()
            } else {
                back_with(&state, &back, &message)
            }
        }
        Err(e) => {
            let e = ApiError::from(e);
            if json {
                e.into_response()
            } else {
                back_with(&state, &back, &e.detail)
            }
        }
    }
}

/// "Delete Member" in the confirmation dialog.
pub(crate) async fn delete_member(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    Path(raw): Path<String>,
) -> Response {
    let (staff, target) = match staff_and_target(&web, &raw) {
        Ok(x) => x,
        Err(e) => return e.into_response(),
    };
    let email = match state.service.member_detail(&staff, target).await {
        Ok(d) => d.member.user.email,
        Err(e) => return back_with(&state, "/organization", &ApiError::from(e).detail),
    };
    match state.service.delete_member(&web.proof, target).await {
        Ok(()) => back_with(&state, "/organization", &format!("{email} was deleted")),
        Err(e) => back_with(
            &state,
            &format!("/organization/members/{}", target.0),
            &ApiError::from(e).detail,
        ),
    }
}

pub(crate) async fn reset_link(State(state): State<AppState>, web: WebUser<Invite>) -> Response {
    match state.service.reset_invite_link(&web.proof).await {
        Ok(_) => back_with(
            &state,
            "/organization",
            "A new invite link was made; the old one no longer works.",
        ),
        Err(e) => back_with(&state, "/organization", &ApiError::from(e).detail),
    }
}

#[derive(Deserialize)]
pub(crate) struct InviteForm {
    emails: String,
    role: String,
}

pub(crate) async fn send_invites(
    State(state): State<AppState>,
    web: WebUser<Invite>,
    PageForm(form): PageForm<InviteForm>,
) -> Response {
    let emails: Vec<String> = form
        .emails
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let Some(role) = Role::from_code(form.role.trim()) else {
        return back_with(
            &state,
            "/organization",
            &format!("\"{}\" is not a role", form.role),
        );
    };
    match state
        .service
        .send_invites(&web.proof, &emails, Some(role), &[], &[])
        .await
    {
        Ok(sent) => back_with(
            &state,
            "/organization",
            &format!("{} invite(s) sent as {}", sent.len(), role.name()),
        ),
        Err(e) => back_with(&state, "/organization", &ApiError::from(e).detail),
    }
}

#[derive(Deserialize)]
pub(crate) struct SsoOnlyForm {
    /// "on" or "off".
    sso_only: String,
}

/// The Owner switches signing in through single sign-on only on or off (the same call as
/// `PATCH /api/organizations/{id}` with `sso_only`).
pub(crate) async fn set_sso_only(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(form): PageForm<SsoOnlyForm>,
) -> Response {
    let Some(on) = on_off(&form.sso_only) else {
        let e = format!("\"{}\" is not on or off", form.sso_only.trim());
        return back_with(&state, "/organization", &e);
    };
    let patch = OrgPatch {
        sso_only: Some(on),
        ..OrgPatch::default()
    };
    let message = match state.service.update_org(&web.proof, patch).await {
        Ok(org) if org.sso_only => format!(
            "{} now requires single sign-on: members sign in through the identity provider; \
             you keep your password with your authenticator code.",
            org.title
        ),
        Ok(org) => format!("{} accepts passwords and legacy keys again.", org.title),
        Err(e) => ApiError::from(e).detail,
    };
    back_with(&state, "/organization", &message)
}

#[derive(Deserialize)]
pub(crate) struct TagForm {
    label: String,
    /// The member list's query the page was showing (see `back_to`).
    back: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct TagIdForm {
    tag: String,
    back: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct BackForm {
    back: Option<String>,
}

/// A tag id a form names; one that names nothing is the same "no such tag" the service gives.
fn form_tag_id(raw: &str) -> Result<MemberTagId, ApiError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .map(MemberTagId)
        .ok_or_else(|| ApiError::not_found(format!("No member tag {:?}.", raw.trim())))
}

/// An assignment's selection of one member.
fn only(member: UserId) -> TagSelection {
    TagSelection {
        all: false,
        included: vec![member.0],
        excluded: vec![],
    }
}

/// "Create tag" (the same call as `POST /api/organizations/{id}/member-tags`).
pub(crate) async fn create_tag(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    PageForm(form): PageForm<TagForm>,
) -> Response {
    let back = back_to(form.back.as_deref(), true);
    let message = match state.service.create_tag(&web.proof, &form.label).await {
        Ok(t) => format!("The tag \"{}\" was created.", t.label),
        Err(e) => ApiError::from(e).detail,
    };
    back_with(&state, &back, &message)
}

/// "Delete" beside a tag (the same call as `DELETE /api/organizations/{id}/member-tags/{tag}`):
/// the tag comes off every member. The list comes back without a tag filter, which may have
/// named the tag.
pub(crate) async fn delete_tag(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<BackForm>,
) -> Response {
    let back = back_to(form.back.as_deref(), false);
    let deleted = async {
        let id = form_tag_id(&raw)?;
        let staff = web.proof.require::<Staff>()?;
        let tag = state.service.get_tag(&staff, id).await?;
        state.service.delete_tags(&web.proof, &[id], true).await?;
        Ok::<_, ApiError>(format!(
            "The tag \"{}\" was deleted and taken off its members.",
            tag.label
        ))
    }
    .await;
    back_with(&state, &back, &deleted.unwrap_or_else(|e| e.detail))
}

/// "Add tag" in a member's row: the tag named by its label goes on the member (the same call as
/// `POST /api/organizations/{id}/member-tags/assignments` with `included`).
pub(crate) async fn add_member_tag(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<TagForm>,
) -> Response {
    let back = back_to(form.back.as_deref(), true);
    let added = async {
        let (staff, target) = staff_and_target(&web, &raw)?;
        let email = state
            .service
            .member_detail(&staff, target)
            .await?
            .member
            .user
            .email;
        let (tag, label) = state
            .service
            .tag_by_label(&staff, "label", &form.label)
            .await?;
        let made = state
            .service
            .assign_tags(
                &web.proof,
                MemberFilter::default(),
                only(target),
                &[tag],
                false,
            )
            .await?;
        Ok::<_, ApiError>(if made == 0 {
            format!("{email} already has the tag \"{label}\".")
        } else {
            format!("{email} now has the tag \"{label}\".")
        })
    }
    .await;
    back_with(&state, &back, &added.unwrap_or_else(|e| e.detail))
}

/// The × on a member's tag: the member keeps their other tags (the same call as
/// `POST /api/organizations/{id}/member-tags/assignments` with `included` and `overwrite`,
/// which is how the API takes a tag off). The member's tags are read just before the call,
/// so a tag another administrator puts on them in those milliseconds comes off too.
pub(crate) async fn remove_member_tag(
    State(state): State<AppState>,
    web: WebUser<Admin>,
    Path(raw): Path<String>,
    PageForm(form): PageForm<TagIdForm>,
) -> Response {
    let back = back_to(form.back.as_deref(), true);
    let removed = async {
        let (staff, target) = staff_and_target(&web, &raw)?;
        let tag = form_tag_id(&form.tag)?;
        let member = state.service.member_detail(&staff, target).await?.member;
        let id = member.membership.id;
        let mut extras = state.service.member_extras(&staff, &[id], false).await?;
        let current = extras.tags.remove(&id).unwrap_or_default();
        let Some((_, label)) = current.iter().find(|(t, _)| *t == tag) else {
            let label = state.service.get_tag(&staff, tag).await?.label;
            return Ok(format!(
                "{} does not have the tag \"{label}\".",
                member.user.email
            ));
        };
        let keep: Vec<MemberTagId> = current
            .iter()
            .map(|(t, _)| *t)
            .filter(|t| *t != tag)
            .collect();
        state
            .service
            .assign_tags(
                &web.proof,
                MemberFilter::default(),
                only(target),
                &keep,
                true,
            )
            .await?;
        Ok::<_, ApiError>(format!(
            "The tag \"{label}\" was taken off {}.",
            member.user.email
        ))
    }
    .await;
    back_with(&state, &back, &removed.unwrap_or_else(|e| e.detail))
}
