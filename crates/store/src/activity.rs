//! The activity log (requests that changed state, and sign-ins) and the organizations'
//! session policies.

use roster_domain::{OrgId, UserId};

use crate::db::handle;
use crate::sql::{query, Arg, Row};
use crate::{Conn, Micros, Result, SessionPolicyRecord, WriteTx};

/// One request to record.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// The organization the request acted in; None: the user's active organization.
    pub org: Option<OrgId>,
    pub occurred_at: Micros,
    pub user: UserId,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub duration_ms: i64,
    pub project: Option<i64>,
    pub workspace: Option<i64>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// Records a request, in the organization it acted in (or the user's active one), if the
/// user is a live member there; the row keeps that membership, so it reads "Deleted User"
/// once the membership is deleted. A project or workspace the path names is kept only when
/// it belongs to the organization; a project's workspace is its workspace unless the path
/// names one.
pub async fn insert(c: &mut WriteTx, a: &NewActivity) -> Result<()> {
    let q = query(
        "INSERT INTO activity_logs (org_id, occurred_at, user_id, membership_id, method, path,
            status, duration_ms, project_id, workspace_id, address, user_agent)
         SELECT m.org_id, $2, m.user_id, m.id, $4, $5, $6, $7,
            (SELECT p.id FROM projects p WHERE p.id = $8 AND p.org_id = m.org_id),
            COALESCE((SELECT w.id FROM workspaces w WHERE w.id = $9 AND w.org_id = m.org_id),
                     (SELECT p.workspace_id FROM projects p WHERE p.id = $8 AND p.org_id = m.org_id)),
            $10, $11
         FROM memberships m
         WHERE m.user_id = $3 AND m.deleted_at IS NULL
           AND m.org_id = COALESCE($1, (SELECT u.active_org_id FROM users u WHERE u.id = $3))",
    )
    .bind(a.org.map(|o| o.0))
    .bind(a.occurred_at)
    .bind(a.user.0)
    .bind(a.method.as_str())
    .bind(a.path.as_str())
    .bind(a.status)
    .bind(a.duration_ms)
    .bind(a.project)
    .bind(a.workspace)
    .bind(&a.address)
    .bind(&a.user_agent);
    handle(c).execute(q).await?;
    Ok(())
}

/// Deletes up to `batch` rows recorded before `before`; returns how many went.
pub async fn purge(c: &mut WriteTx, before: Micros, batch: i64) -> Result<u64> {
    let q = query(
        "DELETE FROM activity_logs WHERE id IN (
            SELECT id FROM activity_logs WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2)",
    )
    .bind(before)
    .bind(batch);
    handle(c).execute(q).await
}

/// How a list is ordered; every order ends with the id as tie-breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActivityOrder {
    #[default]
    Time,
    Id,
    Duration,
    Status,
    Method,
    Path,
    User,
    Project,
}

impl ActivityOrder {
    fn column(self) -> &'static str {
        match self {
            ActivityOrder::Time => "a.occurred_at",
            ActivityOrder::Id => "a.id",
            ActivityOrder::Duration => "a.duration_ms",
            ActivityOrder::Status => "a.status",
            ActivityOrder::Method => "a.method",
            ActivityOrder::Path => "a.path",
            ActivityOrder::User => "a.user_id",
            ActivityOrder::Project => "a.project_id",
        }
    }
}

/// Filters for reading the log; all optional but the retention cut-off.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    /// Rows before this are past the retention period and never shown.
    pub not_before: Micros,
    pub user: Option<UserId>,
    pub project: Option<i64>,
    pub workspace: Option<i64>,
    pub method: Option<String>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    /// Alternatives (OR) of terms that must all (AND) occur in the path, lower-cased.
    pub search: Vec<Vec<String>>,
    pub order: ActivityOrder,
    pub descending: bool,
}

/// One recorded request, with the account's email as it is now and whether the membership
/// it was made under has been deleted since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRecord {
    pub id: i64,
    pub org: OrgId,
    pub occurred_at: Micros,
    pub user: UserId,
    pub email: String,
    pub member_deleted: bool,
    pub method: String,
    pub path: String,
    pub status: i64,
    pub duration_ms: i64,
    pub project: Option<i64>,
    pub workspace: Option<i64>,
    pub address: Option<String>,
    pub user_agent: Option<String>,
}

/// A LIKE pattern matching `term` anywhere, its wildcards escaped.
fn contains(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for ch in term.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

fn filter(q: &ActivityQuery, filtered: bool) -> (String, Vec<Arg>) {
    let mut sql = String::from("a.org_id = $1 AND a.occurred_at >= $2");
    let mut args: Vec<Arg> = vec![Arg::Int(q.not_before)];
    if !filtered {
        return (sql, args);
    }
    let cond = |sql: &mut String, args: &mut Vec<Arg>, expr: &str, v: Arg| {
        args.push(v);
        let n = args.len() + 1;
        sql.push_str(&format!(" AND {}", expr.replace("$n", &format!("${n}"))));
    };
    if let Some(u) = q.user {
        cond(&mut sql, &mut args, "a.user_id = $n", Arg::Int(u.0));
    }
    if let Some(p) = q.project {
        cond(&mut sql, &mut args, "a.project_id = $n", Arg::Int(p));
    }
    if let Some(w) = q.workspace {
        cond(&mut sql, &mut args, "a.workspace_id = $n", Arg::Int(w));
    }
    if let Some(m) = &q.method {
        cond(&mut sql, &mut args, "a.method = $n", Arg::Text(m.clone()));
    }
    if let Some(t) = q.since {
        cond(&mut sql, &mut args, "a.occurred_at >= $n", Arg::Int(t));
    }
    if let Some(t) = q.until {
        cond(&mut sql, &mut args, "a.occurred_at <= $n", Arg::Int(t));
    }
    if !q.search.is_empty() {
        let mut any = Vec::new();
        for all in &q.search {
            let mut terms = Vec::new();
            for term in all {
                args.push(Arg::Text(contains(term)));
                terms.push(format!(
                    "LOWER(a.path) LIKE ${} ESCAPE '\\'",
                    args.len() + 1
                ));
            }
            any.push(format!("({})", terms.join(" AND ")));
        }
        sql.push_str(&format!(" AND ({})", any.join(" OR ")));
    }
    (sql, args)
}

/// How many rows the organization holds within retention (`filtered` false), or match the
/// query (`filtered` true).
pub async fn count(c: &mut Conn, org: OrgId, q: &ActivityQuery, filtered: bool) -> Result<i64> {
    let (f, args) = filter(q, filtered);
    let mut stmt = query(format!("SELECT COUNT(*) FROM activity_logs a WHERE {f}")).bind(org.0);
    for a in args {
        stmt.push(a);
    }
    handle(c).fetch_one(stmt, |r| r.int(0)).await
}

pub async fn list(
    c: &mut Conn,
    org: OrgId,
    q: &ActivityQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<ActivityRecord>> {
    let (f, args) = filter(q, true);
    // $1 is the organization, then the filters' values, then the limit and offset.
    let n = args.len() + 1;
    let dir = if q.descending { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT a.id, a.org_id, a.occurred_at, a.user_id, u.email,
            CASE WHEN m.deleted_at IS NULL THEN 0 ELSE 1 END, a.method, a.path, a.status,
            a.duration_ms, a.project_id, a.workspace_id, a.address, a.user_agent
         FROM activity_logs a JOIN users u ON u.id = a.user_id
         LEFT JOIN memberships m ON m.id = a.membership_id
         WHERE {f} ORDER BY {} {dir}, a.id {dir} LIMIT ${} OFFSET ${}",
        q.order.column(),
        n + 1,
        n + 2
    );
    let mut stmt = query(sql).bind(org.0);
    for a in args {
        stmt.push(a);
    }
    let stmt = stmt.bind(limit).bind(offset);
    handle(c)
        .fetch_all(stmt, |r: &dyn Row| {
            Ok(ActivityRecord {
                id: r.int(0)?,
                org: OrgId(r.int(1)?),
                occurred_at: r.int(2)?,
                user: UserId(r.int(3)?),
                email: r.text(4)?,
                member_deleted: r.flag(5)?,
                method: r.text(6)?,
                path: r.text(7)?,
                status: r.int(8)?,
                duration_ms: r.int(9)?,
                project: r.opt_int(10)?,
                workspace: r.opt_int(11)?,
                address: r.opt_text(12)?,
                user_agent: r.opt_text(13)?,
            })
        })
        .await
}

/// An organization's session policy, if it ever set one.
pub async fn session_policy(c: &mut Conn, org: OrgId) -> Result<Option<SessionPolicyRecord>> {
    let q = query(
        "SELECT org_id, max_session_age, max_time_between_activity, created_at, updated_at
         FROM session_policies WHERE org_id = $1",
    )
    .bind(org.0);
    handle(c)
        .fetch_optional(q, |r: &dyn Row| {
            Ok(SessionPolicyRecord {
                org: OrgId(r.int(0)?),
                max_session_age: r.opt_int(1)?,
                max_time_between_activity: r.opt_int(2)?,
                created_at: Some(r.int(3)?),
                updated_at: Some(r.int(4)?),
            })
        })
        .await
}

/// Sets an organization's session policy (both limits, as given).
pub async fn set_session_policy(
    c: &mut WriteTx,
    org: OrgId,
    max_session_age: Option<i64>,
    max_time_between_activity: Option<i64>,
    now: Micros,
) -> Result<()> {
    let q = query(
        "INSERT INTO session_policies (org_id, max_session_age, max_time_between_activity,
            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $4)
         ON CONFLICT (org_id) DO UPDATE SET max_session_age = excluded.max_session_age,
            max_time_between_activity = excluded.max_time_between_activity,
            updated_at = excluded.updated_at",
    )
    .bind(org.0)
    .bind(max_session_age)
    .bind(max_time_between_activity)
    .bind(now);
    handle(c).execute(q).await?;
    Ok(())
}
