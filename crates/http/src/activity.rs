//! Records the activity log: one layer around every route notes each request that changes
//! state (any method but GET, HEAD and OPTIONS; sign-ins are POSTs) once its status is known.
//! Reads pass through untouched. Who made the request is noted by the authentication step
//! (`extract::admit`) and the sign-in handlers in a slot the layer puts in the request; a
//! request nobody was identified for (a failed sign-in, an identity provider's SCIM call) is
//! not recorded. Only the path is kept: no body, no query string, so no credential or invite
//! token reaches the log.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::Response;
use roster_domain::{OrgId, UserId};
use roster_service::accounts::NewSession;
use roster_service::store::activity::NewActivity;

use crate::AppState;

/// Who a request was made by and the organization it acted in (None: their active one).
#[derive(Debug, Clone, Copy)]
struct Actor {
    user: UserId,
    org: Option<OrgId>,
}

/// The slot the layer puts in a changing request's extensions.
#[derive(Debug, Clone, Default)]
struct Slot(Arc<Mutex<Option<Actor>>>);

fn note(parts: &Parts, actor: Actor) {
    if let Some(slot) = parts.extensions.get::<Slot>() {
        if let Ok(mut s) = slot.0.lock() {
            *s = Some(actor);
        }
    }
}

/// The request was made by `user`, in `org` (None: their active organization).
pub(crate) fn made_by(parts: &Parts, user: UserId, org: Option<OrgId>) {
    note(parts, Actor { user, org });
}

/// The request signed someone in: in the organization whose identity provider vouched for
/// them, else in their active organization.
pub(crate) fn signed_in(parts: &Parts, session: &NewSession) {
    made_by(parts, session.user, session.sso_org);
}

const USER_AGENT_MAX: usize = 256;

/// The project and workspace a path names (`/api/projects/7/...`, `/workspaces/3`).
fn named_ids(path: &str) -> (Option<i64>, Option<i64>) {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let after = |word: &str| {
        segments
            .windows(2)
            .find(|w| w[0] == word)
            .and_then(|w| w[1].parse::<i64>().ok())
    };
    (after("projects"), after("workspaces"))
}

/// The layer.
pub async fn record(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let slot = Slot::default();
    req.extensions_mut().insert(slot.clone());
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let path = req.uri().path().to_string();
    let address = req
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|ci| ci.0.ip().to_string());
    let user_agent = req
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| {
            ua.chars()
                .filter(|c| !c.is_control())
                .take(USER_AGENT_MAX)
                .collect()
        });
    let res = next.run(req).await;
    let actor = slot.0.lock().ok().and_then(|s| *s);
    if let Some(actor) = actor {
        let (project, workspace) = named_ids(&path);
        let row = NewActivity {
            org: actor.org,
            occurred_at: 0,
            user: actor.user,
            method,
            path,
            status: i64::from(res.status().as_u16()),
            duration_ms: started.elapsed().as_millis() as i64,
            project,
            workspace,
            address,
            user_agent,
        };
        // The request is done; a log that cannot be written is reported, not the request's
        // failure.
        if let Err(e) = state.service.record_activity(row).await {
            tracing::error!(error = %e, "could not record the activity log");
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::named_ids;

    #[test]
    fn paths_name_projects_and_workspaces() {
        assert_eq!(named_ids("/api/projects/7/members"), (Some(7), None));
        assert_eq!(named_ids("/api/workspaces/3/memberships"), (None, Some(3)));
        assert_eq!(named_ids("/projects/12"), (Some(12), None));
        assert_eq!(named_ids("/api/projects/roles/5"), (None, None));
        assert_eq!(named_ids("/api/organizations/1/memberships"), (None, None));
    }
}
