//! The live-member counters of projects and workspaces (`project_counts`,
//! `workspace_counts`, migration 17): how many live memberships each holds. Every write that adds or removes a project or workspace
//! membership, or deletes a membership, goes through here, so a count is one row read.

use roster_domain::{MembershipId, OrgId};

use crate::db::handle;
use crate::sql::query;
use crate::{Result, WriteTx};

/// What holds members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Holder {
    Project,
    Workspace,
}

impl Holder {
    /// The counter table, its key column, and the table that holds the holder itself.
    fn counts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Holder::Project => ("project_counts", "project_id", "projects"),
            Holder::Workspace => ("workspace_counts", "workspace_id", "workspaces"),
        }
    }

    /// The membership table (whose key column is the counter's).
    fn members(self) -> &'static str {
        match self {
            Holder::Project => "project_members",
            Holder::Workspace => "workspace_members",
        }
    }
}

/// The upsert that adds `$1` to holder `$2`'s counter, creating it at `$1`; `condition`
/// guards it.
fn add_sql(holder: Holder, condition: &str) -> String {
    let (table, key, _) = holder.counts();
    format!(
        "INSERT INTO {table} ({key}, live_members) SELECT $2, $1 WHERE {condition}
         ON CONFLICT ({key}) DO UPDATE SET live_members = {table}.live_members + excluded.live_members"
    )
}

/// Counts one membership added to (`delta` 1) or removed from (-1) a holder, when the
/// membership is live (a deleted one was already taken off every count).
pub(crate) async fn bump(
    c: &mut WriteTx,
    holder: Holder,
    id: i64,
    membership: MembershipId,
    delta: i64,
) -> Result<()> {
    let sql = add_sql(
        holder,
        "EXISTS (SELECT 1 FROM memberships WHERE id = $3 AND deleted_at IS NULL)",
    );
    handle(c)
        .execute(query(sql).bind(delta).bind(id).bind(membership.0))
        .await?;
    Ok(())
}

/// Counts many new live memberships at once: `added` holds a holder id per membership added.
pub(crate) async fn bump_many(c: &mut WriteTx, holder: Holder, added: &[i64]) -> Result<()> {
    let mut per: std::collections::BTreeMap<i64, i64> = std::collections::BTreeMap::new();
    for id in added {
        *per.entry(*id).or_default() += 1;
    }
    let sql = add_sql(holder, "$2 IS NOT NULL");
    for (id, n) in per {
        handle(c)
            .execute(query(sql.clone()).bind(n).bind(id))
            .await?;
    }
    Ok(())
}

/// Takes a live membership that is being deleted off the count of every project and workspace
/// it is in.
pub(crate) async fn forget_membership(c: &mut WriteTx, membership: MembershipId) -> Result<()> {
    for holder in [Holder::Project, Holder::Workspace] {
        let (table, key, _) = holder.counts();
        let sql = format!(
            "UPDATE {table} SET live_members = live_members - 1
             WHERE {key} IN (SELECT {key} FROM {} WHERE membership_id = $1)",
            holder.members()
        );
        handle(c).execute(query(sql).bind(membership.0)).await?;
    }
    Ok(())
}

/// Drops the counter of a holder that is being deleted.
pub(crate) async fn drop(c: &mut WriteTx, holder: Holder, id: i64) -> Result<()> {
    let (table, key, _) = holder.counts();
    let sql = format!("DELETE FROM {table} WHERE {key} = $1");
    handle(c).execute(query(sql).bind(id)).await?;
    Ok(())
}

/// A holder's live members, from its counter; 0 for one that is not the organization's (so
/// a list naming another organization's project or workspace learns nothing of it).
pub(crate) async fn read(c: &mut crate::Conn, holder: Holder, org: OrgId, id: i64) -> Result<i64> {
    let (table, key, holders) = holder.counts();
    let sql = format!(
        "SELECT n.live_members FROM {table} n JOIN {holders} h ON h.id = n.{key}
         WHERE n.{key} = $1 AND h.org_id = $2"
    );
    Ok(handle(c)
        .fetch_optional(query(sql).bind(id).bind(org.0), |r| r.int(0))
        .await?
        .unwrap_or(0))
}
