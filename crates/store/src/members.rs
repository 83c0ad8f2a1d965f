//! Memberships: the live one per (organization, user), deleted ones kept as records, and the
//! member list with its filters, orderings and counts.

use roster_domain::{MembershipId, OrgId, Role, RoleSource, UserId};
use sqlx::Row;

use crate::rows::{self, MEMBERSHIP_COLS, USER_COLS};
use crate::{Conn, MemberRow, MembershipRecord, Micros, Result};

const ACTIVE_ROLES_SQL: &str = "('OW','AD','MA','RE','AN')";

pub async fn insert(
    c: &mut Conn,
    org: OrgId,
    user: UserId,
    email: &str,
    role: Role,
    source: RoleSource,
    now: Micros,
) -> Result<MembershipId> {
    let row = sqlx::query(
        "INSERT INTO memberships (org_id, user_id, user_email, role, role_source, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
    )
    .bind(org.0)
    .bind(user.0)
    .bind(email)
    .bind(role.code())
    .bind(source.code())
    .bind(now)
    .fetch_one(&mut *c)
    .await?;
    bump_count(c, org, role, 1).await?;
    Ok(MembershipId(row.try_get(0)?))
}

/// Adds `delta` to the live-member counter of (organization, role).
pub(crate) async fn bump_count(c: &mut Conn, org: OrgId, role: Role, delta: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO member_counts (org_id, role, n) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, role) DO UPDATE SET n = member_counts.n + excluded.n",
    )
    .bind(org.0)
    .bind(role.code())
    .bind(delta)
    .execute(&mut *c)
    .await?;
    Ok(())
}

/// The organization and role of a live membership, for moving its counter.
async fn live_org_role(c: &mut Conn, id: MembershipId) -> Result<Option<(OrgId, Role)>> {
    let row =
        sqlx::query("SELECT org_id, role FROM memberships WHERE id = $1 AND deleted_at IS NULL")
            .bind(id.0)
            .fetch_optional(&mut *c)
            .await?;
    row.map(|r| {
        Ok((
            OrgId(r.try_get(0)?),
            rows::role(&r.try_get::<String, _>(1)?)?,
        ))
    })
    .transpose()
}

/// The user's live membership in the organization, if any.
pub async fn live(c: &mut Conn, org: OrgId, user: UserId) -> Result<Option<MembershipRecord>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS} FROM memberships m
         WHERE m.org_id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(org.0)
        .bind(user.0)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| rows::membership(&r, 0)).transpose()
}

/// The live membership with its user.
pub async fn live_with_user(c: &mut Conn, org: OrgId, user: UserId) -> Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.user_id = $2 AND m.deleted_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(org.0)
        .bind(user.0)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| rows::member(&r, 0)).transpose()
}

/// The org's Owner.
pub async fn owner(c: &mut Conn, org: OrgId) -> Result<Option<MemberRow>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.org_id = $1 AND m.role = 'OW' AND m.deleted_at IS NULL"
    );
    let row = sqlx::query(&sql)
        .bind(org.0)
        .fetch_optional(&mut *c)
        .await?;
    row.map(|r| rows::member(&r, 0)).transpose()
}

/// Every live membership of a user, oldest first.
pub async fn of_user(c: &mut Conn, user: UserId) -> Result<Vec<MembershipRecord>> {
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS} FROM memberships m
         WHERE m.user_id = $1 AND m.deleted_at IS NULL ORDER BY m.org_id"
    );
    let rows = sqlx::query(&sql).bind(user.0).fetch_all(&mut *c).await?;
    rows.iter().map(|r| rows::membership(r, 0)).collect()
}

pub async fn set_role(
    c: &mut Conn,
    id: MembershipId,
    role: Role,
    source: RoleSource,
    now: Micros,
) -> Result<()> {
    let before = live_org_role(c, id).await?;
    sqlx::query(
        "UPDATE memberships SET role = $1, role_source = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(role.code())
    .bind(source.code())
    .bind(now)
    .bind(id.0)
    .execute(&mut *c)
    .await?;
    if let Some((org, old)) = before.filter(|(_, old)| *old != role) {
        bump_count(c, org, old, -1).await?;
        bump_count(c, org, role, 1).await?;
    }
    Ok(())
}

pub async fn soft_delete(c: &mut Conn, id: MembershipId, now: Micros) -> Result<()> {
    let Some((org, role)) = live_org_role(c, id).await? else {
        return Ok(());
    };
    bump_count(c, org, role, -1).await?;
    sqlx::query("UPDATE memberships SET deleted_at = $1, updated_at = $1 WHERE id = $2 AND deleted_at IS NULL")
        .bind(now)
        .bind(id.0)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// Live members in a working role (the seats they occupy), from the counters.
pub async fn count_active(c: &mut Conn, org: OrgId) -> Result<i64> {
    count_in_roles(c, org, &Role::ACTIVE).await
}

/// Live members in any of `roles` (all roles when empty), from the counters.
pub async fn count_in_roles(c: &mut Conn, org: OrgId, roles: &[Role]) -> Result<i64> {
    let roles = if roles.is_empty() {
        &Role::ALL[..]
    } else {
        roles
    };
    let list: Vec<String> = roles.iter().map(|r| format!("'{}'", r.code())).collect();
    // SUM of BIGINT is NUMERIC on PostgreSQL; the cast keeps one row type for both databases.
    let sql = format!(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM member_counts WHERE org_id = $1 AND role IN ({})",
        list.join(",")
    );
    let row = sqlx::query(&sql).bind(org.0).fetch_one(&mut *c).await?;
    Ok(row.try_get(0)?)
}

/// Unexpired, unrevoked, unaccepted invites carrying a working role, one per email, for
/// emails that are not already live members in a working role.
pub async fn count_invite_seats(c: &mut Conn, org: OrgId, now: Micros) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(DISTINCT i.email) FROM invites i
         WHERE i.org_id = $1 AND i.revoked_at IS NULL AND i.accepted_at IS NULL AND i.expires_at > $2
           AND i.role IN {ACTIVE_ROLES_SQL}
           AND NOT EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = i.org_id
               AND m.user_email = i.email AND m.deleted_at IS NULL AND m.role IN {ACTIVE_ROLES_SQL})"
    );
    let row = sqlx::query(&sql)
        .bind(org.0)
        .bind(now)
        .fetch_one(&mut *c)
        .await?;
    Ok(row.try_get(0)?)
}

/// The orderings the member list offers, by their API names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MemberOrder {
    Email,
    FirstName,
    LastName,
    LastActivity,
    DateJoined,
    Role,
}

impl MemberOrder {
    pub fn from_api(name: &str) -> Option<MemberOrder> {
        Some(match name {
            "user__email" => MemberOrder::Email,
            "user__first_name" => MemberOrder::FirstName,
            "user__last_name" => MemberOrder::LastName,
            "user__last_activity" => MemberOrder::LastActivity,
            "user__date_joined" => MemberOrder::DateJoined,
            "role" => MemberOrder::Role,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            MemberOrder::Email => "m.user_email",
            MemberOrder::FirstName => "u.first_name",
            MemberOrder::LastName => "u.last_name",
            // NULL sorts differently in the two databases; "never active" sorts as oldest.
            MemberOrder::LastActivity => "COALESCE(u.last_activity, 0)",
            MemberOrder::DateJoined => "u.date_joined",
            MemberOrder::Role => "m.role",
        }
    }

    /// The value a row is sorted by, to seek past it.
    pub fn value_of(self, row: &MemberRow) -> SortValue {
        match self {
            MemberOrder::Email => SortValue::Text(row.user.email.clone()),
            MemberOrder::FirstName => SortValue::Text(row.user.first_name.clone()),
            MemberOrder::LastName => SortValue::Text(row.user.last_name.clone()),
            MemberOrder::LastActivity => SortValue::Int(row.user.last_activity.unwrap_or(0)),
            MemberOrder::DateJoined => SortValue::Int(row.user.date_joined),
            MemberOrder::Role => SortValue::Text(row.membership.role.code().to_string()),
        }
    }
}

/// A sort value of the member list.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SortValue {
    Text(String),
    Int(i64),
}

/// Where a page of the member list ended: the last row's sort value and membership id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEnd {
    pub value: SortValue,
    pub id: MembershipId,
}

/// A member-list query. `search` is matched case-insensitively against email and names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberQuery {
    pub org: OrgId,
    pub roles: Vec<Role>,
    pub search: Option<String>,
    pub deleted: bool,
    pub order: MemberOrder,
    pub descending: bool,
}

/// Escapes LIKE wildcards so a search term matches literally.
fn like_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for ch in crate::users::fold(term).chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// How a search term is found, per database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    fn of(c: &Conn) -> Dialect {
        if c.backend_name() == "SQLite" {
            Dialect::Sqlite
        } else {
            Dialect::Postgres
        }
    }
}

/// An FTS5 phrase that matches `term` as a substring through the trigram index.
fn trigram_phrase(term: &str) -> String {
    format!("\"{}\"", crate::users::fold(term).replace('"', "\"\""))
}

/// Whether a search term can use the trigram index: it needs one trigram.
fn has_trigram(term: &str) -> bool {
    crate::users::fold(term).chars().count() >= 3
}

/// How SQLite finds searched members. With a few hits it starts from the trigram index and
/// sorts them. With many (a term like "example" that most emails hold) the index saves
/// nothing: it walks the member list in page order, checks each member's text and stops
/// after a page. SQLite's planner cannot tell the two cases apart (FTS5 gives it no hit
/// counts), so roster asks the index first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SqliteSearch {
    HitsFirst,
    Scan,
}

/// Up to this many hits, sorting them beats walking the list in order.
const FEW_HITS: i64 = 5_000;

async fn search_plan(c: &mut Conn, q: &MemberQuery) -> Result<SqliteSearch> {
    if Dialect::of(c) != Dialect::Sqlite {
        return Ok(SqliteSearch::Scan);
    }
    let Some(term) = q.search.as_deref().filter(|t| has_trigram(t)) else {
        return Ok(SqliteSearch::Scan);
    };
    let hits: i64 = sqlx::query(
        "SELECT COUNT(*) FROM (SELECT 1 FROM user_search WHERE user_search MATCH $1 LIMIT $2)",
    )
    .bind(trigram_phrase(term))
    .bind(FEW_HITS + 1)
    .fetch_one(&mut *c)
    .await?
    .try_get(0)?;
    Ok(if hits <= FEW_HITS {
        SqliteSearch::HitsFirst
    } else {
        SqliteSearch::Scan
    })
}

/// The FROM and WHERE clauses of a member query and its text arguments (after $1 = org id).
struct Filter {
    from: &'static str,
    sql: String,
    args: Vec<String>,
}

const ALL_MEMBERS: &str = "memberships m JOIN users u ON u.id = m.user_id";
const SEARCH_HITS_FIRST: &str =
    "user_search CROSS JOIN memberships m ON m.user_id = user_search.rowid \
     JOIN users u ON u.id = m.user_id";

/// Builds the filter of a member query.
///
/// A search term is a case-insensitive substring of the email or either name. Both databases
/// answer it from a trigram index (migration 4): on PostgreSQL a LIKE over the three columns
/// joined uses pg_trgm's GIN index; on SQLite the FTS5 trigram table finds the users whose
/// text holds the term, when they are few (see `SqliteSearch`). A LIKE on each column keeps
/// the result exact. Terms shorter than three characters have no trigram, so they fall back
/// to checking each member.
fn filter_sql(q: &MemberQuery, dialect: Dialect, plan: SqliteSearch) -> Filter {
    let mut from = ALL_MEMBERS;
    let mut sql = String::from(if q.deleted {
        "m.org_id = $1 AND m.deleted_at IS NOT NULL"
    } else {
        "m.org_id = $1 AND m.deleted_at IS NULL"
    });
    let mut args = Vec::new();
    if !q.roles.is_empty() {
        let list: Vec<String> = q.roles.iter().map(|r| format!("'{}'", r.code())).collect();
        sql.push_str(&format!(" AND m.role IN ({})", list.join(",")));
    }
    if let Some(term) = q.search.as_deref().filter(|t| !t.is_empty()) {
        match dialect {
            Dialect::Sqlite => {
                if plan == SqliteSearch::HitsFirst {
                    args.push(trigram_phrase(term));
                    from = SEARCH_HITS_FIRST;
                    sql.push_str(&format!(" AND user_search MATCH ${}", args.len() + 1));
                }
                args.push(like_pattern(term));
                let n = args.len() + 1;
                sql.push_str(&format!(
                    " AND (m.user_email LIKE ${n} ESCAPE '\\' OR u.first_name_folded LIKE ${n} ESCAPE '\\' \
                     OR u.last_name_folded LIKE ${n} ESCAPE '\\')"
                ));
            }
            Dialect::Postgres => {
                // The first LIKE is the indexed expression of migration 4, the rest keep a
                // match inside one column. Backslash is PostgreSQL's default LIKE escape; an
                // explicit ESCAPE clause would wrap the pattern in a function call.
                args.push(like_pattern(term));
                let n = args.len() + 1;
                sql.push_str(&format!(
                    " AND (u.email || ' ' || u.first_name_folded || ' ' || u.last_name_folded) LIKE ${n} \
                     AND (u.email LIKE ${n} OR u.first_name_folded LIKE ${n} OR u.last_name_folded LIKE ${n})"
                ));
            }
        }
    }
    Filter { from, sql, args }
}

/// How many members match; without a search term, straight from the counters.
pub async fn count(c: &mut Conn, q: &MemberQuery) -> Result<i64> {
    if q.search.as_deref().is_none_or(str::is_empty) && !q.deleted {
        return count_in_roles(c, q.org, &q.roles).await;
    }
    let plan = search_plan(c, q).await?;
    let Filter { from, sql, args } = filter_sql(q, Dialect::of(c), plan);
    let sql = format!("SELECT COUNT(*) FROM {from} WHERE {sql}");
    let mut query = sqlx::query(&sql).bind(q.org.0);
    for a in args {
        query = query.bind(a);
    }
    Ok(query.fetch_one(&mut *c).await?.try_get(0)?)
}

/// A page of members by offset (a cold jump to any page).
pub async fn list(
    c: &mut Conn,
    q: &MemberQuery,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    list_from(c, q, None, limit, offset).await
}

/// The page that follows `after`, found by seeking in the index instead of counting rows.
pub async fn list_after(
    c: &mut Conn,
    q: &MemberQuery,
    after: &PageEnd,
    limit: i64,
) -> Result<Vec<MemberRow>> {
    list_from(c, q, Some(after), limit, 0).await
}

async fn list_from(
    c: &mut Conn,
    q: &MemberQuery,
    after: Option<&PageEnd>,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    let plan = search_plan(c, q).await?;
    let Filter {
        from,
        sql: mut filter,
        args,
    } = filter_sql(q, Dialect::of(c), plan);
    let dir = if q.descending { "DESC" } else { "ASC" };
    let col = q.order.column();
    let mut n = args.len() + 2;
    if after.is_some() {
        let op = if q.descending { "<" } else { ">" };
        filter.push_str(&format!(" AND ({col}, m.id) {op} (${n}, ${})", n + 1));
        n += 2;
    }
    let sql = format!(
        "SELECT {MEMBERSHIP_COLS}, {USER_COLS} FROM {from}
         WHERE {filter} ORDER BY {col} {dir}, m.id {dir} LIMIT ${n} OFFSET ${m}",
        m = n + 1,
    );
    let mut query = sqlx::query(&sql).bind(q.org.0);
    for a in args {
        query = query.bind(a);
    }
    if let Some(end) = after {
        query = match &end.value {
            SortValue::Text(t) => query.bind(t.clone()),
            SortValue::Int(i) => query.bind(*i),
        };
        query = query.bind(end.id.0);
    }
    let rows = query.bind(limit).bind(offset).fetch_all(&mut *c).await?;
    rows.iter().map(|r| rows::member(r, 0)).collect()
}

/// Users of an organization that are live members, by email, for `/api/users/`.
pub async fn live_users(
    c: &mut Conn,
    org: OrgId,
    limit: i64,
    offset: i64,
) -> Result<Vec<MemberRow>> {
    let q = MemberQuery {
        org,
        roles: vec![],
        search: None,
        deleted: false,
        order: MemberOrder::Email,
        descending: false,
    };
    list(c, &q, limit, offset).await
}

/// How much work a membership has done: (annotations, distinct projects).
pub async fn contribution(c: &mut Conn, id: MembershipId) -> Result<(i64, i64)> {
    let row = sqlx::query(
        "SELECT COUNT(*), COUNT(DISTINCT project_id) FROM annotations WHERE membership_id = $1",
    )
    .bind(id.0)
    .fetch_one(&mut *c)
    .await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}
