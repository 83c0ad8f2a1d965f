//! Exact counts of broad member searches, kept between requests and brought forward through
//! the search journal (migration 23) instead of taken again.
//!
//! A search the trigram index cannot narrow (a term most members hold, or one shorter than a
//! trigram) is counted by visiting every live member. The caller keeps each such count with the
//! organization's `write_seq` it was exact at ([`KnownCount`]); the next count reads the journal
//! rows written since, and adds the members among them that match now and subtracts those that
//! matched before. Both sides are checked by the same LIKE conditions as the list itself.

use crate::db::handle;
use crate::members::{role_in, term_matches, Plan, Resolved, SearchPlan};
use crate::sql::query;
use crate::{Backend, Conn, Result, WriteTx};
use roster_domain::{OrgId, Role};

/// Journal rows kept behind the organization's newest sequence number: migration 23's
/// triggers delete older ones, so a count that old is taken again.
const PRUNED_BEHIND: i64 = 5_000;

/// Beyond this many changes since a known count, counting afresh costs about as much.
const MAX_CHANGES: i64 = 2_000;

/// A search's count, exact as of the organization's `write_seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCount {
    pub seq: i64,
    pub count: i64,
}

/// What a known count is kept under: the organization, the term (as its LIKE pattern, so
/// spellings that fold alike share it) and the role filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CountKey {
    org: OrgId,
    pattern: String,
    roles: Vec<Role>,
}

impl CountKey {
    pub fn org(&self) -> OrgId {
        self.org
    }
}

/// How a count was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted {
    /// Nothing that could move it changed since the known count.
    Unchanged,
    /// The known count plus the changes since.
    BroughtForward,
    /// Every member visited: no known count, or one too old to bring forward.
    Taken,
}

/// The key a query's count is kept under, when keeping it pays and stays exact: a search the
/// trigram index could not narrow, over live members, with no filter but roles (the journal
/// holds what those read: email, names, role and whether the membership is live).
pub fn key(r: &Resolved<'_>) -> Option<CountKey> {
    let q = r.query;
    if !q.searches_by_roles_only() || r.plan != SearchPlan::Scan {
        return None;
    }
    let term = q.search.as_deref()?;
    let mut roles = q.roles.clone();
    roles.sort_by_key(|r| r.code());
    roles.dedup();
    Some(CountKey {
        org: q.org,
        pattern: crate::members::like_pattern(term),
        roles,
    })
}

/// The count of `r` (whose key is `key`), from `known` and the journal when it can be brought
/// forward, else by visiting every member. One snapshot answers each statement, so the
/// sequence returned is exactly the one the count holds for.
pub async fn count(
    c: &mut Conn,
    r: &Resolved<'_>,
    key: &CountKey,
    known: Option<KnownCount>,
) -> Result<(KnownCount, Counted)> {
    if let Some(known) = known {
        if let Some(found) = bring_forward(c, key, known).await? {
            return Ok(found);
        }
    }
    let crate::members::Filter { from, sql, args } =
        crate::members::filter_sql(r, Backend::of(c), Plan::Drive, false);
    let mut q = query(format!(
        "SELECT o.write_seq, (SELECT COUNT(*) FROM {from} WHERE {sql})
         FROM organizations o WHERE o.id = $1"
    ))
    .bind(key.org.0);
    for a in args {
        q.push(a);
    }
    let found = handle(c)
        .fetch_optional(q, |r| {
            Ok(KnownCount {
                seq: r.int(0)?,
                count: r.int(1)?,
            })
        })
        .await?;
    // No organization (deleted meanwhile): nobody matches.
    Ok((
        found.unwrap_or(KnownCount { seq: 0, count: 0 }),
        Counted::Taken,
    ))
}

/// `known` brought forward to the organization's current sequence, or None when the journal
/// cannot: rows pruned since, too many changes, or many members changed at once.
pub async fn bring_forward(
    c: &mut Conn,
    key: &CountKey,
    known: KnownCount,
) -> Result<Option<(KnownCount, Counted)>> {
    let backend = Backend::of(c);
    let email_now = match backend {
        Backend::Sqlite => "m.user_email",
        Backend::Postgres => "u.email",
    };
    let matches_now = term_matches(
        backend,
        [email_now, "u.first_name_folded", "u.last_name_folded"],
        3,
    );
    let matched_before = term_matches(
        backend,
        ["j.email", "j.first_name_folded", "j.last_name_folded"],
        3,
    );
    let roles_now = role_in("m.role", &key.roles);
    let roles_before = role_in("j.role", &key.roles);
    // The journal's rows since the known count: how many, how many say "count again", the
    // changed members that match now, and those that matched then (each member's first row
    // since the known count holds it as it was at that count).
    let sql = format!(
        "SELECT o.write_seq,
            (SELECT COUNT(*) FROM member_search_changes j WHERE j.org_id = $1 AND j.seq > $2),
            (SELECT COUNT(*) FROM member_search_changes j
             WHERE j.org_id = $1 AND j.seq > $2 AND j.membership_id IS NULL),
            (SELECT COUNT(*) FROM memberships m JOIN users u ON u.id = m.user_id
             WHERE m.id IN (SELECT j.membership_id FROM member_search_changes j
                            WHERE j.org_id = $1 AND j.seq > $2 AND j.membership_id IS NOT NULL)
               AND m.org_id = $1 AND m.deleted_at IS NULL{roles_now} AND {matches_now}),
            (SELECT COUNT(*) FROM member_search_changes j
             WHERE j.org_id = $1 AND j.seq > $2 AND j.live = 1{roles_before} AND {matched_before}
               AND j.id = (SELECT MIN(f.id) FROM member_search_changes f
                           WHERE f.org_id = $1 AND f.membership_id = j.membership_id AND f.seq > $2))
         FROM organizations o WHERE o.id = $1"
    );
    let q = query(sql)
        .bind(key.org.0)
        .bind(known.seq)
        .bind(key.pattern.as_str());
    let row = handle(c)
        .fetch_optional(q, |r| {
            Ok([r.int(0)?, r.int(1)?, r.int(2)?, r.int(3)?, r.int(4)?])
        })
        .await?;
    let Some([seq, changes, many, now, before]) = row else {
        return Ok(None);
    };
    let pruned = known.seq < seq - PRUNED_BEHIND;
    if pruned || known.seq > seq || changes > MAX_CHANGES || many > 0 {
        return Ok(None);
    }
    let how = if changes == 0 {
        Counted::Unchanged
    } else {
        Counted::BroughtForward
    };
    let count = known.count + now - before;
    Ok(Some((KnownCount { seq, count }, how)))
}

/// Tells the journal that many of `org`'s members changed at once (a bulk import, which
/// pauses the per-member rows): every count kept from before is taken again.
pub(crate) async fn many_changed(c: &mut WriteTx, org: OrgId) -> Result<()> {
    let bump =
        query("UPDATE organizations SET write_seq = write_seq + 1 WHERE id = $1").bind(org.0);
    handle(c).execute(bump).await?;
    let row = query(
        "INSERT INTO member_search_changes (org_id, seq, membership_id, live)
         SELECT id, write_seq, NULL, 0 FROM organizations WHERE id = $1",
    )
    .bind(org.0);
    handle(c).execute(row).await?;
    Ok(())
}
