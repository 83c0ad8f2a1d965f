//! Bulk membership: importing many people at once (CSV import, benchmark seeding). Each
//! batch is decided row by row against the same rules as one-at-a-time joins, then written in
//! one transaction with multi-row statements, audit events and counters included.

use std::collections::HashSet;

use roster_domain::rules::{self, SeatFacts};
use roster_domain::{AuditAction, ProjectId, Role, RoleSource};
use roster_store::{bulk, orgs, projects, NewAuditEvent};

use crate::accounts::{check_name, normalize_email};
use crate::audit::display_name;
use crate::orgs::seat_usage;
use crate::{Admin, Authorized, Result, Service, ServiceError};

/// One person to import, as read from a file.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// Where the row came from (a line number), for reports.
    pub line: usize,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub role: String,
    pub projects: Vec<i64>,
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub line: usize,
    pub reason: String,
}

/// What one batch did.
#[derive(Debug, Clone, Default)]
pub struct BatchOutcome {
    pub added: usize,
    pub rejected: Vec<Rejected>,
}

/// A row that passed validation.
struct Valid<'a> {
    row: &'a ImportRow,
    email: String,
    first: String,
    last: String,
    role: Role,
    projects: Vec<ProjectId>,
}

fn validate(row: &ImportRow) -> Result<Valid<'_>, String> {
    let email = normalize_email(&row.email).map_err(|e| e.to_string())?;
    let first = check_name("first_name", &row.first_name).map_err(|e| e.to_string())?;
    let last = check_name("last_name", &row.last_name).map_err(|e| e.to_string())?;
    let role = Role::from_code(row.role.trim().to_uppercase().as_str()).ok_or_else(|| {
        format!(
            "role: \"{}\" is not a role; use AD, MA, RE, AN, NO or DI",
            row.role
        )
    })?;
    Ok(Valid {
        row,
        email,
        first,
        last,
        role,
        projects: row.projects.iter().map(|p| ProjectId(*p)).collect(),
    })
}

impl Service {
    /// Imports one batch. Rows that break a rule (bad email, unknown role, already a member,
    /// a duplicate, no free seat, a project of another organization) are reported by line and
    /// skipped; the rest land together or not at all. With `strict`, any rejected row
    /// refuses the whole batch and nothing is written.
    pub async fn import_members(
        &self,
        by: &Authorized<Admin>,
        rows: &[ImportRow],
        strict: bool,
    ) -> Result<BatchOutcome> {
        let now = self.now();
        let org = by.org.id;
        let mut rejected = Vec::new();
        let mut valid = Vec::new();
        let mut seen = HashSet::new();
        for row in rows {
            match validate(row) {
                Ok(v) if !seen.insert(v.email.clone()) => rejected.push(Rejected {
                    line: row.line,
                    reason: format!("{} appears twice", v.email),
                }),
                Ok(v) => valid.push(v),
                Err(reason) => rejected.push(Rejected {
                    line: row.line,
                    reason,
                }),
            }
        }
        let mut tx = self.store().write().await?;
        if !orgs::lock_for_membership_change(&mut tx, org).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        let org_rec = orgs::by_id(&mut tx, org)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        let emails: Vec<String> = valid.iter().map(|v| v.email.clone()).collect();
        let existing = bulk::users_by_email(&mut tx, &emails).await?;
        let existing_ids: Vec<_> = existing.values().map(|(id, _)| *id).collect();
        let already = bulk::live_members(&mut tx, org, &existing_ids).await?;
        let invite_seats = bulk::invite_seat_holders(&mut tx, org, &emails, now).await?;
        let mut known_projects = HashSet::new();
        for p in valid
            .iter()
            .flat_map(|v| v.projects.iter())
            .collect::<HashSet<_>>()
        {
            if projects::by_id(&mut tx, *p)
                .await?
                .is_some_and(|rec| rec.org == org)
            {
                known_projects.insert(*p);
            }
        }
        let mut seats = seat_usage(&mut tx, &org_rec, now).await?;
        let mut accepted = Vec::new();
        for v in valid {
            let reject = |reason: String| Rejected {
                line: v.row.line,
                reason,
            };
            if existing
                .get(&v.email)
                .is_some_and(|(id, _)| already.contains(id))
            {
                rejected.push(reject(format!("{} is already a member", v.email)));
                continue;
            }
            if let Some(p) = v.projects.iter().find(|p| !known_projects.contains(p)) {
                rejected.push(reject(format!("project {p} is not in this organization")));
                continue;
            }
            let facts = SeatFacts {
                holds_invite_seat: invite_seats.contains(&v.email),
            };
            if let Err(rule) = rules::check_direct_join(v.role, seats, facts) {
                rejected.push(reject(rule.to_string()));
                continue;
            }
            if v.role.takes_seat() && !facts.holds_invite_seat {
                seats.active += 1;
            }
            accepted.push(v);
        }
        rejected.sort_by_key(|r| r.line);
        if strict && !rejected.is_empty() {
            return Err(ServiceError::Invalid {
                message: format!(
                    "{} row(s) cannot be imported; nothing was written",
                    rejected.len()
                ),
                fields: rejected
                    .iter()
                    .map(|r| (format!("line {}", r.line), r.reason.clone()))
                    .collect(),
            });
        }
        let new_users: Vec<bulk::ImportedUser> = accepted
            .iter()
            .filter(|v| !existing.contains_key(&v.email))
            .map(|v| bulk::ImportedUser {
                email: &v.email,
                first_name: &v.first,
                last_name: &v.last,
                active_org: org,
            })
            .collect();
        let mut ids = bulk::insert_users(&mut tx, &new_users, now).await?;
        let returning: Vec<_> = existing
            .iter()
            .filter(|(_, (_, active))| active.is_none())
            .map(|(_, (id, _))| *id)
            .collect();
        bulk::set_missing_active_org(&mut tx, &returning, org).await?;
        for (email, (id, _)) in &existing {
            ids.insert(email.clone(), *id);
        }
        let members: Vec<_> = accepted
            .iter()
            .map(|v| (ids[&v.email], v.email.as_str(), v.role))
            .collect();
        let membership_ids =
            bulk::insert_memberships(&mut tx, org, &members, RoleSource::Manual, now).await?;
        let pairs: Vec<_> = accepted
            .iter()
            .flat_map(|v| {
                let m = membership_ids[&ids[&v.email]];
                v.projects.iter().map(move |p| (*p, m))
            })
            .collect();
        bulk::insert_project_members(&mut tx, &pairs, now).await?;
        let actor = (by.user.id, display_name(&by.user), by.user.email.clone());
        let events: Vec<NewAuditEvent> = accepted
            .iter()
            .map(|v| {
                let name = match format!("{} {}", v.first, v.last).trim() {
                    "" => v.email.clone(),
                    n => n.to_string(),
                };
                NewAuditEvent {
                    org: Some(org),
                    occurred_at: now,
                    action: AuditAction::MemberJoined.code(),
                    source: by.context.source.code(),
                    actor: Some(actor.clone()),
                    target: Some((ids[&v.email], name, v.email.clone())),
                    old_value: None,
                    new_value: Some(v.role.code().to_string()),
                    address: by.context.address.clone(),
                }
            })
            .collect();
        bulk::insert_audit(&mut tx, org, &events).await?;
        roster_store::commit(tx).await?;
        Ok(BatchOutcome {
            added: accepted.len(),
            rejected,
        })
    }
}
