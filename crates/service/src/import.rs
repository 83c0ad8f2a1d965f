//! Bulk membership: importing many people at once (CSV import, benchmark seeding). Rows are
//! validated here; each batch then goes through the batch form of the one membership path,
//! decided row by row by the same rules as one-at-a-time joins and written in one
//! transaction with multi-row statements, audit events and counters included.

use std::collections::HashSet;

use roster_domain::{OrgId, ProjectId, Role, WorkspaceId};

use crate::accounts::{check_name, normalize_email};
use crate::membership::{Actor, DirectJoin};
use crate::{Context, Result, Service, ServiceError};

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
    pub workspaces: Vec<i64>,
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
    workspaces: Vec<WorkspaceId>,
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
        workspaces: row.workspaces.iter().map(|w| WorkspaceId(*w)).collect(),
    })
}

impl Service {
    /// Imports one batch as the operator (the command line). Rows that break a rule (bad
    /// email, unknown role, already a member, a duplicate, no free seat, a project or
    /// workspace of another organization) are reported by line and skipped; the rest land together or not at all,
    /// through the batch form of the one membership path. With `strict`, any rejected row
    /// refuses the whole batch and nothing is written.
    pub async fn import_members(
        &self,
        org: OrgId,
        rows: &[ImportRow],
        strict: bool,
    ) -> Result<BatchOutcome> {
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
        if strict && !rejected.is_empty() {
            return Err(refused(&rejected));
        }
        let people: Vec<DirectJoin> = valid
            .iter()
            .map(|v| DirectJoin {
                email: &v.email,
                first_name: &v.first,
                last_name: &v.last,
                role: v.role,
                projects: &v.projects,
                workspaces: &v.workspaces,
            })
            .collect();
        let mut tx = self.store().write().await?;
        let outcomes = self
            .join_many(
                &mut tx,
                org,
                &Actor::Operator,
                &people,
                strict,
                &Context::cli(),
            )
            .await?;
        let mut added = 0;
        for (v, outcome) in valid.iter().zip(outcomes) {
            match outcome {
                Ok(()) => added += 1,
                Err(reason) => rejected.push(Rejected {
                    line: v.row.line,
                    reason,
                }),
            }
        }
        rejected.sort_by_key(|r| r.line);
        if strict && !rejected.is_empty() {
            return Err(refused(&rejected));
        }
        roster_store::commit(tx).await?;
        Ok(BatchOutcome { added, rejected })
    }
}

fn refused(rejected: &[Rejected]) -> ServiceError {
    ServiceError::Invalid {
        message: format!(
            "{} row(s) cannot be imported; nothing was written",
            rejected.len()
        ),
        fields: rejected
            .iter()
            .map(|r| (format!("line {}", r.line), r.reason.clone()))
            .collect(),
    }
}
