//! The audit log: written in the same transaction as the change, never updated or deleted.

use roster_domain::{OrgId, UserId};

use crate::db::handle;
use crate::sql::query;
use crate::{AuditRecord, Conn, Micros, NewAuditEvent, Result, WriteTx};

pub async fn insert(c: &mut WriteTx, org: OrgId, e: &NewAuditEvent) -> Result<()> {
    let (actor_id, actor_name, actor_email) = match &e.actor {
        Some((id, name, email)) => (Some(id.0), name.as_str(), email.as_str()),
        None => (None, "", ""),
    };
    let (target_id, target_name, target_email) = match &e.target {
        Some((id, name, email)) => (Some(id.0), name.as_str(), email.as_str()),
        None => (None, "", ""),
    };
    let q = query(
        "INSERT INTO audit_events (org_id, occurred_at, action, source, actor_user_id, actor_name, actor_email,
            target_user_id, target_name, target_email, old_value, new_value, address)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(org.0)
    .bind(e.occurred_at)
    .bind(e.action)
    .bind(e.source)
    .bind(actor_id)
    .bind(actor_name)
    .bind(actor_email)
    .bind(target_id)
    .bind(target_name)
    .bind(target_email)
    .bind(&e.old_value)
    .bind(&e.new_value)
    .bind(&e.address);
    handle(c).execute(q).await?;
    Ok(())
}

/// Filters for reading the log; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub actor: Option<UserId>,
    pub target: Option<UserId>,
    pub action: Option<String>,
    pub since: Option<Micros>,
    pub until: Option<Micros>,
    /// Events this person did or that were done to them (a member's history).
    pub person: Option<UserId>,
    /// Only events older than this event id: how an export walks a long log page by page
    /// without counting past rows again.
    pub before_id: Option<i64>,
}

fn filter(q: &AuditQuery) -> (String, Vec<i64>, Option<String>) {
    let mut sql = String::from("org_id = $1");
    let mut nums = Vec::new();
    let mut n = 1;
    for (col, op, v) in [
        ("actor_user_id", "=", q.actor.map(|u| u.0)),
        ("target_user_id", "=", q.target.map(|u| u.0)),
        ("occurred_at", ">=", q.since),
        ("occurred_at", "<", q.until),
        ("id", "<", q.before_id),
    ] {
        if let Some(v) = v {
            n += 1;
            sql.push_str(&format!(" AND {col} {op} ${n}"));
            nums.push(v);
        }
    }
    if let Some(person) = q.person {
        n += 1;
        sql.push_str(&format!(
            " AND (actor_user_id = ${n} OR target_user_id = ${n})"
        ));
        nums.push(person.0);
    }
    if q.action.is_some() {
        n += 1;
        sql.push_str(&format!(" AND action = ${n}"));
    }
    (sql, nums, q.action.clone())
}

pub async fn count(c: &mut Conn, org: OrgId, q: &AuditQuery) -> Result<i64> {
    let (f, nums, action) = filter(q);
    let sql = format!("SELECT COUNT(*) FROM audit_events WHERE {f}");
    let mut q = query(sql).bind(org.0);
    for v in nums {
        q.push(v);
    }
    if let Some(a) = action {
        q.push(a);
    }
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// Newest first.
pub async fn list(
    c: &mut Conn,
    org: OrgId,
    q: &AuditQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditRecord>> {
    let (f, nums, action) = filter(q);
    let next = nums.len() + 2 + action.is_some() as usize;
    let sql = format!(
        "SELECT id, org_id, occurred_at, action, source, actor_user_id, actor_name, actor_email, target_user_id,
            target_name, target_email, old_value, new_value, address
         FROM audit_events WHERE {f} ORDER BY id DESC LIMIT ${next} OFFSET ${}",
        next + 1
    );
    let mut q = query(sql).bind(org.0);
    for v in nums {
        q.push(v);
    }
    if let Some(a) = action {
        q.push(a);
    }
    let q = q.bind(limit).bind(offset);
    handle(c)
        .fetch_all(q, |r| {
            Ok(AuditRecord {
                id: r.int(0)?,
                org: OrgId(r.int(1)?),
                occurred_at: r.int(2)?,
                action: r.text(3)?,
                source: r.text(4)?,
                actor_user_id: r.opt_int(5)?.map(UserId),
                actor_name: r.text(6)?,
                actor_email: r.text(7)?,
                target_user_id: r.opt_int(8)?.map(UserId),
                target_name: r.text(9)?,
                target_email: r.text(10)?,
                old_value: r.opt_text(11)?,
                new_value: r.opt_text(12)?,
                address: r.opt_text(13)?,
            })
        })
        .await
}
