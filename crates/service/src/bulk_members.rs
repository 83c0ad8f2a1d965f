//! Acting on many members at once (the Organization page's bulk actions and
//! `POST /api/organizations/{id}/memberships/bulk`): assign one role (activate, deactivate,
//! reactivate) or delete. Each person is decided on their own by the one membership path, in
//! the list's order, so seats go first come first served and a refusal names its reason
//! (unlike email invites, which are all or nothing). A selection is worked through in batches
//! of at most `BATCH` people, each in its own transaction, so the organization is never
//! locked for long and a caller can show progress between batches.

use std::collections::HashSet;

use roster_domain::{MembershipId, Role, UserId};
use roster_store::members::{self, PageEnd, SortValue};
use roster_store::orgs;
use roster_store::MemberRow;

use crate::members::MemberFilter;
use crate::membership::{Actor, Change};
use crate::{Admin, Authorized, Result, Service, ServiceError};

/// The most people one transaction decides.
pub const BATCH: usize = 1_000;

/// What is done to each selected member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkAction {
    /// Assign this role: an active role activates or reactivates, Deactivated deactivates.
    AssignRole(Role),
    Delete,
}

/// Which members: those the filter matches (less `excluded`), in the filter's order; or the
/// listed users, in the order given (the page sends them in the order it shows them).
#[derive(Debug, Clone)]
pub enum BulkSelection {
    Matching {
        filter: Box<MemberFilter>,
        excluded: HashSet<UserId>,
    },
    Listed(Vec<UserId>),
}

/// Where a bulk operation stopped, for the call that goes on: the position in a listed
/// selection, or the last member seen in a filter's order. Written as an opaque string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkCursor {
    Position(usize),
    After(PageEnd),
}

impl BulkCursor {
    pub fn encode(&self) -> String {
        match self {
            BulkCursor::Position(n) => format!("p:{n}"),
            BulkCursor::After(PageEnd {
                value: SortValue::Int(v),
                id,
            }) => format!("i:{}:{v}", id.0),
            BulkCursor::After(PageEnd {
                value: SortValue::Text(v),
                id,
            }) => format!("t:{}:{v}", id.0),
        }
    }

    /// Reads a cursor a previous call returned; anything else is a 400 naming `after`.
    pub fn decode(raw: &str) -> Result<BulkCursor> {
        let bad = || ServiceError::invalid("after", "is not a cursor this operation returned");
        let mut parts = raw.splitn(3, ':');
        let kind = parts.next().ok_or_else(bad)?;
        let first = parts.next().ok_or_else(bad)?;
        if kind == "p" {
            return first.parse().map(BulkCursor::Position).map_err(|_| bad());
        }
        let id = MembershipId(first.parse().map_err(|_| bad())?);
        let value = parts.next().ok_or_else(bad)?;
        let value = match kind {
            "i" => SortValue::Int(value.parse().map_err(|_| bad())?),
            "t" => SortValue::Text(value.to_string()),
            _ => return Err(bad()),
        };
        Ok(BulkCursor::After(PageEnd { value, id }))
    }
}

/// One person the operation changed.
#[derive(Debug, Clone)]
pub struct BulkChanged {
    pub user: UserId,
    pub email: String,
    pub from: Role,
    /// The role afterwards; none once deleted.
    pub to: Option<Role>,
}

/// One person the operation left as they were, and why.
#[derive(Debug, Clone)]
pub struct BulkRefused {
    pub user: UserId,
    pub email: Option<String>,
    pub reason: String,
}

/// What a bulk call did, in the selection's order.
#[derive(Debug, Clone, Default)]
pub struct BulkOutcome {
    pub changed: Vec<BulkChanged>,
    /// People who already had the role.
    pub unchanged: Vec<UserId>,
    pub refused: Vec<BulkRefused>,
    /// How many batches (transactions) this call ran.
    pub batches: usize,
    /// Where to go on from when the selection is not finished.
    pub next: Option<BulkCursor>,
}

/// A membership rule's refusal is that person's outcome; any other error (the caller lost
/// their rights, storage) ends the whole call, and its batch writes nothing.
fn refusal(e: &ServiceError) -> Option<String> {
    match e {
        ServiceError::Rule(rule) => Some(rule.to_string()),
        _ => None,
    }
}

impl Service {
    /// Runs a bulk operation from `after` (or the start) for at most `max_batches` batches
    /// (all when none), each batch one transaction through the one membership path.
    pub async fn bulk_members(
        &self,
        by: &Authorized<Admin>,
        selection: &BulkSelection,
        action: BulkAction,
        after: Option<BulkCursor>,
        max_batches: Option<usize>,
    ) -> Result<BulkOutcome> {
        if action == BulkAction::AssignRole(Role::Owner) {
            return Err(ServiceError::invalid(
                "role",
                "ownership goes to one person at a time; assign Owner from that member's row",
            ));
        }
        if let BulkSelection::Matching { filter, .. } = selection {
            if filter.deleted {
                return Err(ServiceError::invalid(
                    "is_deleted",
                    "bulk actions apply to live members",
                ));
            }
        }
        let mut outcome = BulkOutcome::default();
        let mut cursor = after;
        loop {
            let (targets, next) = self.next_batch(by, selection, cursor.as_ref()).await?;
            if targets.is_empty() {
                outcome.next = None;
                break;
            }
            self.bulk_batch(by, &targets, action, &mut outcome).await?;
            outcome.batches += 1;
            outcome.next = next.clone();
            cursor = next;
            if cursor.is_none() || max_batches.is_some_and(|m| outcome.batches >= m) {
                break;
            }
        }
        Ok(outcome)
    }

    /// The next batch's people and the cursor after them (none when this batch ends the
    /// selection).
    async fn next_batch(
        &self,
        by: &Authorized<Admin>,
        selection: &BulkSelection,
        after: Option<&BulkCursor>,
    ) -> Result<(Vec<UserId>, Option<BulkCursor>)> {
        match selection {
            BulkSelection::Listed(users) => {
                let start = match after {
                    None => 0,
                    Some(BulkCursor::Position(n)) => *n,
                    Some(_) => {
                        return Err(ServiceError::invalid(
                            "after",
                            "belongs to another selection",
                        ))
                    }
                };
                let end = (start + BATCH).min(users.len());
                let batch = users.get(start..end).unwrap_or_default().to_vec();
                Ok((
                    batch,
                    (end < users.len()).then_some(BulkCursor::Position(end)),
                ))
            }
            BulkSelection::Matching { filter, excluded } => {
                let end = match after {
                    None => None,
                    Some(BulkCursor::After(end)) => Some(end),
                    Some(_) => {
                        return Err(ServiceError::invalid(
                            "after",
                            "belongs to another selection",
                        ))
                    }
                };
                let query = filter.query(by.org.id);
                let mut c = self.store().read().await?;
                // Tags that name nothing are a 400, as in the member list the filter comes from.
                if after.is_none() && !query.tags.is_empty() {
                    crate::tags::check_tags(&mut c, by.org.id, "tags", &query.tags).await?;
                }
                let resolved = members::resolve(&mut c, &query).await?;
                let rows: Vec<MemberRow> = match end {
                    None => members::list(&mut c, &resolved, BATCH as i64, 0).await?,
                    Some(end) => members::list_after(&mut c, &resolved, end, BATCH as i64).await?,
                };
                let next = (rows.len() == BATCH).then(|| {
                    let last = &rows[rows.len() - 1];
                    BulkCursor::After(PageEnd {
                        value: members::sort_value(query.order, last),
                        id: last.membership.id,
                    })
                });
                let batch = rows
                    .iter()
                    .map(|r| r.user.id)
                    .filter(|u| !excluded.contains(u))
                    .collect();
                Ok((batch, next))
            }
        }
    }

    /// Decides and writes one batch in one transaction.
    async fn bulk_batch(
        &self,
        by: &Authorized<Admin>,
        targets: &[UserId],
        action: BulkAction,
        outcome: &mut BulkOutcome,
    ) -> Result<()> {
        let org = by.org.id;
        let actor = Actor::Member(by.user.clone());
        let mut tx = self.store().write().await?;
        // Locked before anyone is read, so each "from" is the role the change replaces.
        if !orgs::lock_for_membership_change(&mut tx, org).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        let mut seen = HashSet::new();
        for &target in targets {
            if !seen.insert(target) {
                continue;
            }
            let Some(before) = members::live_with_user(&mut tx, org, target).await? else {
                outcome.refused.push(BulkRefused {
                    user: target,
                    email: None,
                    reason: "not a member of this organization".to_string(),
                });
                continue;
            };
            let from = before.membership.role;
            let change = match action {
                BulkAction::AssignRole(role) => Change::SetRole { target, role },
                BulkAction::Delete => Change::Delete { target },
            };
            match self
                .change_membership(&mut tx, org, &actor, change, &by.context)
                .await
            {
                Ok(after) => {
                    let to = after.map(|r| r.membership.role);
                    if to == Some(from) {
                        outcome.unchanged.push(target);
                    } else {
                        outcome.changed.push(BulkChanged {
                            user: target,
                            email: before.user.email,
                            from,
                            to,
                        });
                    }
                }
                Err(e) => match refusal(&e) {
                    Some(reason) => outcome.refused.push(BulkRefused {
                        user: target,
                        email: Some(before.user.email),
                        reason,
                    }),
                    None => return Err(e),
                },
            }
        }
        roster_store::commit(tx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_read_back_as_written() {
        for c in [
            BulkCursor::Position(1000),
            BulkCursor::After(PageEnd {
                value: SortValue::Int(-5),
                id: MembershipId(7),
            }),
            BulkCursor::After(PageEnd {
                value: SortValue::Text("a:b@c.d".into()),
                id: MembershipId(9),
            }),
        ] {
            assert_eq!(BulkCursor::decode(&c.encode()).unwrap(), c);
        }
    }

    #[test]
    fn foreign_cursors_are_bad_input() {
        for raw in ["", "p", "p:x", "i:1", "i:1:x", "z:1:2", "t:x:y"] {
            assert!(matches!(
                BulkCursor::decode(raw),
                Err(ServiceError::Invalid { .. })
            ));
        }
    }
}
