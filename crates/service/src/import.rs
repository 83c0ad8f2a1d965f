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

/// Why an import file cannot be read; the command line puts the file's name before it.
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("the first line must name the columns; it has no \"email\" column")]
    NoEmailColumn,
    #[error("the first line is not valid CSV: {0}")]
    Header(csv::Error),
    #[error("line {line} is not valid CSV: {source}")]
    Record { line: usize, source: csv::Error },
    #[error("line {line}: {kind} \"{value}\" is not a {kind} id")]
    NotAnId {
        line: usize,
        kind: &'static str,
        value: String,
    },
}

/// Reads an import CSV with a header (email, first_name, last_name, role, projects,
/// workspaces; projects and workspaces are ids separated by `;` or spaces): the entry point
/// `roster member import` and the fuzz targets share. Rows are checked later, by
/// [`Service::import_members`].
pub fn read_import_csv(file: impl std::io::Read) -> Result<Vec<ImportRow>, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(file);
    let headers = reader.headers().map_err(CsvError::Header)?.clone();
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let email_col = column("email").ok_or(CsvError::NoEmailColumn)?;
    let (first, last, role, projects, workspaces) = (
        column("first_name"),
        column("last_name"),
        column("role"),
        column("projects"),
        column("workspaces"),
    );
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.map_err(|source| CsvError::Record { line, source })?;
        let cell = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("").to_string();
        let ids = |kind: &'static str, c: Option<usize>| {
            cell(c)
                .split([';', ' '])
                .filter(|p| !p.is_empty())
                .map(|p| {
                    p.parse::<i64>().map_err(|_| CsvError::NotAnId {
                        line,
                        kind,
                        value: p.to_owned(),
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        };
        rows.push(ImportRow {
            line,
            email: cell(Some(email_col)),
            first_name: cell(first),
            last_name: cell(last),
            role: match cell(role) {
                r if r.is_empty() => "AN".into(),
                r => r,
            },
            projects: ids("project", projects)?,
            workspaces: ids("workspace", workspaces)?,
        });
    }
    Ok(rows)
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
