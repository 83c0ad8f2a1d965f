//! Projects and their work, where "Deleted User" shows for deleted members.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use roster_domain::ProjectId;
use roster_service::{Member, PageRequest};

use super::page;
use super::{day_time, html_error, Chrome, WebUser};
use crate::error::ApiError;
use crate::views::UserView;
use crate::AppState;

#[derive(Template)]
#[template(path = "projects.html")]
struct ProjectsPage {
    chrome: Chrome,
    projects: Vec<(i64, String)>,
}

pub(crate) async fn projects_page(State(state): State<AppState>, web: WebUser<Member>) -> Response {
    match state
        .service
        .list_projects(
            &web.proof,
            None,
            PageRequest {
                page: 1,
                size: 1000,
            },
        )
        .await
    {
        Ok(p) => page(
            StatusCode::OK,
            ProjectsPage {
                projects: p.items.iter().map(|p| (p.id.0, p.title.clone())).collect(),
                chrome: web.chrome,
            },
        ),
        Err(e) => ApiError::from(e).into_response(),
    }
}

pub(crate) struct AnnotationRowView {
    id: i64,
    author: String,
    result: String,
    at: String,
}

#[derive(Template)]
#[template(path = "project.html")]
struct ProjectPage {
    chrome: Chrome,
    title: String,
    description: String,
    members: Vec<(String, String, &'static str)>,
    annotations: Vec<AnnotationRowView>,
}

pub(crate) async fn project_page(
    State(state): State<AppState>,
    web: WebUser<Member>,
    Path(raw): Path<String>,
) -> Response {
    let Some(id) = raw.parse::<i64>().ok().filter(|n| *n > 0).map(ProjectId) else {
        return html_error(StatusCode::NOT_FOUND, Some(&web.chrome), "No such project.");
    };
    let loaded = async {
        let p = state.service.get_project(&web.proof, id).await?;
        let members = state.service.project_members(&web.proof, id).await?;
        let work = state
            .service
            .list_annotations(
                &web.proof,
                id,
                PageRequest {
                    page: 1,
                    size: 1000,
                },
            )
            .await?;
        Ok::<_, roster_service::ServiceError>((p, members, work))
    }
    .await;
    match loaded {
        Ok((p, members, work)) => page(
            StatusCode::OK,
            ProjectPage {
                title: p.title,
                description: p.description,
                members: members
                    .iter()
                    .map(|m| {
                        let role = match m.project_role.as_ref().map(|r| r.role) {
                            Some(roster_domain::ProjectRole::Annotator) => "Annotator",
                            Some(roster_domain::ProjectRole::Reviewer) => "Reviewer",
                            None => "Organization role",
                        };
                        (
                            roster_service::display_name(&m.user),
                            m.user.email.clone(),
                            role,
                        )
                    })
                    .collect(),
                annotations: work
                    .items
                    .iter()
                    .map(|a| {
                        let author = UserView::through(&a.author);
                        AnnotationRowView {
                            id: a.id.0,
                            author: author.display_name(),
                            result: a.result.clone(),
                            at: day_time(Some(a.created_at)),
                        }
                    })
                    .collect(),
                chrome: web.chrome,
            },
        ),
        Err(e) => {
            let e = ApiError::from(e);
            html_error(e.status, Some(&web.chrome), &e.detail)
        }
    }
}
