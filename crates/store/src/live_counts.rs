//! The live-member counters of projects and workspaces (`live_members`, migration 17): how
//! many live memberships each holds. Every write that adds or removes a project or workspace
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
    fn table(self) -> &'static str {
        match self {
            Holder::Project => "projects",
            Holder::Workspace => "workspaces",
        }
    }

    /// The membership table and its column naming the holder.
    fn members(self) -> (&'static str, &'static str) {
        match self {
            Holder::Project => ("project_members", "project_id"),
            Holder::Workspace => ("workspace_members", "workspace_id"),
        }
    }
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
    let sql = format!(
        "UPDATE {} SET live_members = live_members + $1 WHERE id = $2
         AND EXISTS (SELECT 1 FROM memberships WHERE id = $3 AND deleted_at IS NULL)",
        holder.table()
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
    let sql = format!(
        "UPDATE {} SET live_members = live_members + $1 WHERE id = $2",
        holder.table()
    );
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
        let (members, column) = holder.members();
        let sql = format!(
            "UPDATE {} SET live_members = live_members - 1
             WHERE id IN (SELECT {column} FROM {members} WHERE membership_id = $1)",
            holder.table()
        );
        handle(c).execute(query(sql).bind(membership.0)).await?;
    }
    Ok(())
}

/// A holder's live members, from its counter; 0 for one that is not the organization's (so
/// a list naming another organization's project or workspace learns nothing of it).
pub(crate) async fn read(c: &mut crate::Conn, holder: Holder, org: OrgId, id: i64) -> Result<i64> {
    let sql = format!(
        "SELECT live_members FROM {} WHERE id = $1 AND org_id = $2",
        holder.table()
    );
    Ok(handle(c)
        .fetch_optional(query(sql).bind(id).bind(org.0), |r| r.int(0))
        .await?
        .unwrap_or(0))
}
