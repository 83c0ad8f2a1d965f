//! Multi-row writes for imports: the same tables and columns as the one-row functions, many
//! rows per statement, so a million members load in about a minute.

use std::collections::{HashMap, HashSet};

use crate::db::handle;
use crate::live_counts::{self, Holder};
use crate::members::bump_count;
use crate::sql::{query, Arg, Decode};
use crate::users::fold;
use crate::{Backend, Conn, Micros, NewAuditEvent, Result, WriteTx};
use roster_domain::{MembershipId, OrgId, ProjectId, Role, RoleSource, UserId, WorkspaceId};

/// Rows per statement: well under both databases' limits on bound values.
const CHUNK: usize = 400;

/// `($1, $2), ($3, $4), ...` for `rows` rows of `cols` values.
fn placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `$first, $first+1, ...`: `n` numbered placeholders for an IN list.
fn list(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The statement as the connection's database binds it fastest. SQLite looks up each
/// numbered parameter by name, walking all of them (quadratic in a statement of thousands of
/// values), while plain `?` are bound by position; the statements here number their
/// parameters in order, so the two spellings mean the same.
fn for_backend(c: &mut Conn, sql: String) -> String {
    if Backend::of(c) == Backend::Sqlite {
        positional(&sql)
    } else {
        sql
    }
}

/// Replaces every `$N` with `?` (the statements here have no `$` in their literals).
fn positional(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if ch == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('?');
        } else {
            out.push(ch);
        }
    }
    out
}

/// Inserts `vals` (a multiple of `cols` values) into `head` ("INSERT INTO t (a, b) VALUES"),
/// chunk by chunk, returning what `returning` names.
async fn insert<T: Send + 'static>(
    c: &mut WriteTx,
    head: &str,
    cols: usize,
    vals: Vec<Arg>,
    returning: &str,
    decode: impl Decode<T> + Clone,
) -> Result<Vec<T>> {
    let mut out = Vec::new();
    let mut vals = vals.into_iter().peekable();
    while vals.peek().is_some() {
        let mut q = query(String::new());
        let mut n = 0;
        for v in vals.by_ref().take(cols * CHUNK) {
            q.push(v);
            n += 1;
        }
        let sql = for_backend(
            c,
            format!("{head} {} {returning}", placeholders(n / cols, cols)),
        );
        q.set_sql(sql);
        if returning.is_empty() {
            handle(c).execute(q).await?;
        } else {
            out.extend(handle(c).fetch_all(q, decode.clone()).await?);
        }
    }
    Ok(out)
}

/// A new account made by an import: no password (they get a set-password link on request).
pub struct ImportedUser<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub active_org: OrgId,
}

/// Has PostgreSQL plan each of this transaction's statements for its own values. An import
/// runs the same statements thousands of times against tables that grow as it runs; after
/// five runs PostgreSQL may keep a generic plan it made while the tables were nearly empty (a
/// sequential scan of users for each batch's emails), and the import turns quadratic: on a
/// fresh database 200,000 members had not finished after two minutes, and took 15 s with
/// this. (`SET LOCAL` ends with the transaction.)
pub async fn plan_each_statement(c: &mut WriteTx) -> Result<()> {
    if Backend::of(c) == Backend::Postgres {
        handle(c)
            .execute(query("SET LOCAL plan_cache_mode = force_custom_plan"))
            .await?;
    }
    Ok(())
}

/// Inserts accounts; returns their ids by email.
pub async fn insert_users(
    c: &mut WriteTx,
    users: &[ImportedUser<'_>],
    now: Micros,
) -> Result<HashMap<String, UserId>> {
    let folded: Vec<(String, String)> = users
        .iter()
        .map(|u| (fold(u.first_name), fold(u.last_name)))
        .collect();
    let mut vals = Vec::with_capacity(users.len() * 9);
    for (u, (ff, lf)) in users.iter().zip(&folded) {
        // The username is the email, already lower-cased: its own folded form.
        vals.extend([
            Arg::from(u.email),
            Arg::from(u.email),
            Arg::from(u.email),
            Arg::from(u.first_name),
            Arg::from(u.last_name),
            Arg::from(ff),
            Arg::from(lf),
            Arg::Int(u.active_org.0),
            Arg::Int(now),
        ]);
    }
    let rows = insert(
        c,
        "INSERT INTO users (email, username, username_folded, first_name, last_name, first_name_folded, last_name_folded, active_org_id, date_joined) VALUES",
        9,
        vals,
        "RETURNING id, email",
        |r| Ok((r.text(1)?, UserId(r.int(0)?))),
    )
    .await?;
    Ok(rows.into_iter().collect())
}

/// Existing accounts among `emails` (lower-cased).
pub async fn users_by_email(
    c: &mut Conn,
    emails: &[String],
) -> Result<HashMap<String, (UserId, Option<OrgId>)>> {
    let mut out = HashMap::new();
    for chunk in emails.chunks(CHUNK) {
        let sql = for_backend(
            c,
            format!(
                "SELECT id, email, active_org_id FROM users WHERE email IN ({})",
                list(1, chunk.len())
            ),
        );
        let mut q = query(sql);
        for e in chunk {
            q.push(e.as_str());
        }
        let found = handle(c)
            .fetch_all(q, |r| {
                Ok((r.text(1)?, (UserId(r.int(0)?), r.opt_int(2)?.map(OrgId))))
            })
            .await?;
        out.extend(found);
    }
    Ok(out)
}

/// Which of `users` already hold a live membership in the organization.
pub async fn live_members(c: &mut Conn, org: OrgId, users: &[UserId]) -> Result<HashSet<UserId>> {
    let mut out = HashSet::new();
    for chunk in users.chunks(CHUNK) {
        let sql = for_backend(
            c,
            format!(
                "SELECT user_id FROM memberships WHERE org_id = $1 AND deleted_at IS NULL AND user_id IN ({})",
                list(2, chunk.len())
            ),
        );
        let mut q = query(sql).bind(org.0);
        for u in chunk {
            q.push(u.0);
        }
        out.extend(handle(c).fetch_all(q, |r| Ok(UserId(r.int(0)?))).await?);
    }
    Ok(out)
}

/// Emails that already hold a seat through a pending working-role invite.
pub async fn invite_seat_holders(
    c: &mut Conn,
    org: OrgId,
    emails: &[String],
    now: Micros,
) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in emails.chunks(CHUNK) {
        let sql = for_backend(
            c,
            format!(
                "SELECT DISTINCT email FROM invites WHERE org_id = $1 AND {}
                   AND role IN {} AND email IN ({})",
                crate::rows::pending_invite_sql("", "$2"),
                crate::rows::seat_roles_sql(),
                list(3, chunk.len())
            ),
        );
        let mut q = query(sql).bind(org.0).bind(now);
        for e in chunk {
            q.push(e.as_str());
        }
        out.extend(handle(c).fetch_all(q, |r| r.text(0)).await?);
    }
    Ok(out)
}

/// Gives accounts without an active organization this one.
pub async fn set_missing_active_org(c: &mut WriteTx, users: &[UserId], org: OrgId) -> Result<()> {
    for chunk in users.chunks(CHUNK) {
        let sql = for_backend(
            c,
            format!(
                "UPDATE users SET active_org_id = $1 WHERE active_org_id IS NULL AND id IN ({})",
                list(2, chunk.len())
            ),
        );
        let mut q = query(sql).bind(org.0);
        for u in chunk {
            q.push(u.0);
        }
        handle(c).execute(q).await?;
    }
    Ok(())
}

/// New live memberships (user, email, role), counted in the organization's counters;
/// returns their ids by user.
pub async fn insert_memberships(
    c: &mut WriteTx,
    org: OrgId,
    members: &[(UserId, &str, Role)],
    source: RoleSource,
    now: Micros,
) -> Result<HashMap<UserId, MembershipId>> {
    if members.is_empty() {
        return Ok(HashMap::new());
    }
    let mut vals = Vec::with_capacity(members.len() * 7);
    let mut per_role: HashMap<Role, i64> = HashMap::new();
    for (user, email, role) in members {
        vals.extend([
            Arg::Int(org.0),
            Arg::Int(user.0),
            Arg::from(*email),
            Arg::from(role.code()),
            Arg::from(source.code()),
            Arg::Int(now),
            Arg::Int(now),
        ]);
        *per_role.entry(*role).or_default() += 1;
    }
    // The search journal (migration 23) gets one "many changed" row for the whole import
    // instead of one per member: its triggers skip an organization held in
    // member_search_paused, a row no other transaction sees.
    let pause = query("INSERT INTO member_search_paused (org_id) VALUES ($1)").bind(org.0);
    handle(c).execute(pause).await?;
    let rows = insert(
        c,
        "INSERT INTO memberships (org_id, user_id, user_email, role, role_source, created_at, updated_at) VALUES",
        7,
        vals,
        "RETURNING id, user_id",
        |r| Ok((UserId(r.int(1)?), MembershipId(r.int(0)?))),
    )
    .await?;
    let resume = query("DELETE FROM member_search_paused WHERE org_id = $1").bind(org.0);
    handle(c).execute(resume).await?;
    crate::search_counts::many_changed(c, org).await?;
    for (role, n) in per_role {
        bump_count(c, org, role, n).await?;
    }
    copy_activity(c, org, members.iter().map(|(u, _, _)| u.0).collect()).await?;
    Ok(rows.into_iter().collect())
}

/// Copies the activity of those of `users` who were ever active onto their new memberships in
/// the organization (the member list reads it there, migration 22). Imported accounts are
/// new, so this is usually one lookup that finds no one.
async fn copy_activity(c: &mut WriteTx, org: OrgId, users: Vec<i64>) -> Result<()> {
    let set = match Backend::of(c) {
        Backend::Sqlite => "id IN rarray($1)",
        Backend::Postgres => "id = ANY($1)",
    };
    let q = query(format!(
        "SELECT id, last_activity FROM users WHERE {set} AND last_activity IS NOT NULL"
    ))
    .bind(Arg::Ids(users));
    let active = handle(c)
        .fetch_all(q, |r| Ok((r.int(0)?, r.int(1)?)))
        .await?;
    for (user, at) in active {
        let q = query(
            "UPDATE memberships SET user_last_activity = $1
             WHERE org_id = $2 AND user_id = $3 AND deleted_at IS NULL",
        )
        .bind(at)
        .bind(org.0)
        .bind(user);
        handle(c).execute(q).await?;
    }
    Ok(())
}

/// Puts memberships into projects (with no project role: they work with their organization role).
pub async fn insert_project_members(
    c: &mut WriteTx,
    pairs: &[(ProjectId, MembershipId)],
    now: Micros,
) -> Result<()> {
    let mut vals = Vec::with_capacity(pairs.len() * 4);
    for (p, m) in pairs {
        vals.extend([
            Arg::Int(p.0),
            Arg::Int(m.0),
            Arg::Text(RoleSource::Invite.code().into()),
            Arg::Int(now),
        ]);
    }
    insert(
        c,
        "INSERT INTO project_members (project_id, membership_id, source, added_at) VALUES",
        4,
        vals,
        "",
        |_| Ok(()),
    )
    .await?;
    let projects: Vec<i64> = pairs.iter().map(|(p, _)| p.0).collect();
    live_counts::bump_many(c, Holder::Project, &projects).await
}

/// Puts memberships into workspaces, `source` saying who put them there.
pub async fn insert_workspace_members(
    c: &mut WriteTx,
    pairs: &[(WorkspaceId, MembershipId)],
    source: RoleSource,
    now: Micros,
) -> Result<()> {
    let mut vals = Vec::with_capacity(pairs.len() * 4);
    for (w, m) in pairs {
        vals.extend([
            Arg::Int(w.0),
            Arg::Int(m.0),
            Arg::Text(source.code().into()),
            Arg::Int(now),
        ]);
    }
    insert(
        c,
        "INSERT INTO workspace_members (workspace_id, membership_id, source, added_at) VALUES",
        4,
        vals,
        "",
        |_| Ok(()),
    )
    .await?;
    let workspaces: Vec<i64> = pairs.iter().map(|(w, _)| w.0).collect();
    live_counts::bump_many(c, Holder::Workspace, &workspaces).await
}

/// Audit events of one organization.
pub async fn insert_audit(c: &mut WriteTx, org: OrgId, events: &[NewAuditEvent]) -> Result<()> {
    let mut vals = Vec::with_capacity(events.len() * 13);
    for e in events {
        let (actor, actor_name, actor_email) = match &e.actor {
            Some((id, n, m)) => (Some(id.0), n.as_str(), m.as_str()),
            None => (None, "", ""),
        };
        let (target, target_name, target_email) = match &e.target {
            Some((id, n, m)) => (Some(id.0), n.as_str(), m.as_str()),
            None => (None, "", ""),
        };
        vals.extend([
            Arg::Int(org.0),
            Arg::Int(e.occurred_at),
            Arg::from(e.action),
            Arg::from(e.source),
            Arg::from(actor),
            Arg::from(actor_name),
            Arg::from(actor_email),
            Arg::from(target),
            Arg::from(target_name),
            Arg::from(target_email),
            Arg::from(&e.old_value),
            Arg::from(&e.new_value),
            Arg::from(&e.address),
        ]);
    }
    insert(
        c,
        "INSERT INTO audit_events (org_id, occurred_at, action, source, actor_user_id, actor_name, actor_email,
            target_user_id, target_name, target_email, old_value, new_value, address) VALUES",
        13,
        vals,
        "",
        |_| Ok(()),
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{list, placeholders, positional};

    #[test]
    fn placeholders_number_every_value_once_in_order() {
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(list(3, 3), "$3, $4, $5");
    }

    #[test]
    fn positional_spelling_keeps_everything_but_the_numbers() {
        assert_eq!(
            positional("UPDATE t SET a = $1 WHERE id IN ($2, $10) AND b = 'x'"),
            "UPDATE t SET a = ? WHERE id IN (?, ?) AND b = 'x'"
        );
    }
}
