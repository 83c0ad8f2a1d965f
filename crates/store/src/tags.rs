//! Member tags, their assignments to live memberships, and CSV import jobs (migration 18).

use crate::db::handle;
use crate::members::{filter_sql, Filter, MemberQuery, Plan};
use crate::rows::{self, USER_COLS};
use crate::sql::{query, Arg};
use crate::{Backend, Conn, Micros, Result, UserRecord, WriteTx};
use roster_domain::{MemberTagId, MembershipId, OrgId, TagImportId};

/// A tag with its creator (None once their membership is deleted) and how many live members
/// carry it.
#[derive(Debug, Clone)]
pub struct TagRecord {
    pub id: MemberTagId,
    pub org: OrgId,
    pub label: String,
    pub created_by: Option<UserRecord>,
    pub created_at: Micros,
    pub updated_at: Micros,
    pub member_count: i64,
}

const TAG_SELECT: &str = "SELECT t.id, t.org_id, t.label, t.created_at, t.updated_at, \
    (SELECT COUNT(*) FROM member_tag_assignments ta WHERE ta.tag_id = t.id), ";

fn tag_sql(rest: &str) -> String {
    format!(
        "{TAG_SELECT}{USER_COLS} FROM member_tags t \
         LEFT JOIN memberships cm ON cm.id = t.created_by AND cm.deleted_at IS NULL \
         LEFT JOIN users u ON u.id = cm.user_id {rest}"
    )
}

fn tag(r: &dyn crate::sql::Row) -> Result<TagRecord> {
    Ok(TagRecord {
        id: MemberTagId(r.int(0)?),
        org: OrgId(r.int(1)?),
        label: r.text(2)?,
        created_at: r.int(3)?,
        updated_at: r.int(4)?,
        member_count: r.int(5)?,
        created_by: if r.is_null(6)? {
            None
        } else {
            Some(rows::user(r, 6)?)
        },
    })
}

/// How a tag list is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOrder {
    Id,
    Label,
    CreatedAt,
    UpdatedAt,
}

fn search_clause(search: Option<&str>, args: &mut Vec<Arg>) -> String {
    match search {
        Some(term) => {
            args.push(Arg::Text(crate::members::like_pattern(term)));
            let n = args.len() + 1;
            format!(" AND t.label_folded LIKE ${n} ESCAPE '\\'")
        }
        None => String::new(),
    }
}

/// The organization's tags whose label holds `search` (case-insensitive), ordered and paged.
pub async fn list(
    c: &mut Conn,
    org: OrgId,
    search: Option<&str>,
    order: (TagOrder, bool),
    limit: i64,
    offset: i64,
) -> Result<Vec<TagRecord>> {
    let mut args = Vec::new();
    let filter = search_clause(search, &mut args);
    let col = match order.0 {
        TagOrder::Id => "t.id",
        TagOrder::Label => "t.label_folded",
        TagOrder::CreatedAt => "t.created_at",
        TagOrder::UpdatedAt => "t.updated_at",
    };
    let dir = if order.1 { "DESC" } else { "ASC" };
    let n = args.len() + 2;
    let sql = tag_sql(&format!(
        "WHERE t.org_id = $1{filter} ORDER BY {col} {dir}, t.id {dir} LIMIT ${n} OFFSET ${}",
        n + 1
    ));
    let mut q = query(sql).bind(org.0);
    for a in args {
        q.push(a);
    }
    handle(c)
        .fetch_all(q.bind(limit).bind(offset), |r| tag(r))
        .await
}

/// How many of the organization's tags hold `search`.
pub async fn count(c: &mut Conn, org: OrgId, search: Option<&str>) -> Result<i64> {
    let mut args = Vec::new();
    let filter = search_clause(search, &mut args);
    let mut q = query(format!(
        "SELECT COUNT(*) FROM member_tags t WHERE t.org_id = $1{filter}"
    ))
    .bind(org.0);
    for a in args {
        q.push(a);
    }
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// The organization's first `limit` tags by label, as (id, label): what a page offers to
/// filter by and to assign, without the member counts `list` computes for each tag.
pub async fn labels(c: &mut Conn, org: OrgId, limit: i64) -> Result<Vec<(MemberTagId, String)>> {
    let q = query(
        "SELECT id, label FROM member_tags WHERE org_id = $1 ORDER BY label_folded, id LIMIT $2",
    )
    .bind(org.0)
    .bind(limit);
    handle(c)
        .fetch_all(q, |r| Ok((MemberTagId(r.int(0)?), r.text(1)?)))
        .await
}

/// One tag of the organization.
pub async fn by_id(c: &mut Conn, org: OrgId, id: MemberTagId) -> Result<Option<TagRecord>> {
    let q = query(tag_sql("WHERE t.org_id = $1 AND t.id = $2"))
        .bind(org.0)
        .bind(id.0);
    handle(c).fetch_optional(q, |r| tag(r)).await
}

/// The organization's tags among `ids` (ids of other organizations' tags are left out).
pub async fn of_org(c: &mut Conn, org: OrgId, ids: &[MemberTagId]) -> Result<Vec<MemberTagId>> {
    let set = match Backend::of(c) {
        Backend::Sqlite => "id IN rarray($2)",
        Backend::Postgres => "id = ANY($2)",
    };
    let q = query(format!(
        "SELECT id FROM member_tags WHERE org_id = $1 AND {set} ORDER BY id"
    ))
    .bind(org.0)
    .bind(Arg::Ids(ids.iter().map(|t| t.0).collect()));
    handle(c).fetch_all(q, |r| Ok(MemberTagId(r.int(0)?))).await
}

/// The tag of the organization whose label folds to `folded`, other than `except`, with its
/// label as stored.
pub async fn by_folded(
    c: &mut Conn,
    org: OrgId,
    folded: &str,
    except: Option<MemberTagId>,
) -> Result<Option<(MemberTagId, String)>> {
    let q = query(
        "SELECT id, label FROM member_tags WHERE org_id = $1 AND label_folded = $2 AND id <> $3",
    )
    .bind(org.0)
    .bind(folded)
    .bind(except.map_or(0, |t| t.0));
    handle(c)
        .fetch_optional(q, |r| Ok((MemberTagId(r.int(0)?), r.text(1)?)))
        .await
}

pub async fn insert(
    c: &mut WriteTx,
    org: OrgId,
    label: &str,
    folded: &str,
    created_by: MembershipId,
    now: Micros,
) -> Result<MemberTagId> {
    let q = query(
        "INSERT INTO member_tags (org_id, label, label_folded, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
    )
    .bind(org.0)
    .bind(label)
    .bind(folded)
    .bind(created_by.0)
    .bind(now);
    handle(c).fetch_one(q, |r| Ok(MemberTagId(r.int(0)?))).await
}

pub async fn rename(
    c: &mut WriteTx,
    id: MemberTagId,
    label: &str,
    folded: &str,
    now: Micros,
) -> Result<()> {
    let q = query(
        "UPDATE member_tags SET label = $1, label_folded = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(label)
    .bind(folded)
    .bind(now)
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Deletes tags and their assignments; returns how many tags went.
pub async fn delete(c: &mut WriteTx, ids: &[MemberTagId]) -> Result<u64> {
    let set = match Backend::of(c) {
        Backend::Sqlite => "IN rarray($1)",
        Backend::Postgres => "= ANY($1)",
    };
    let list = || Arg::Ids(ids.iter().map(|t| t.0).collect());
    handle(c)
        .execute(
            query(format!(
                "DELETE FROM member_tag_assignments WHERE tag_id {set}"
            ))
            .bind(list()),
        )
        .await?;
    handle(c)
        .execute(query(format!("DELETE FROM member_tags WHERE id {set}")).bind(list()))
        .await
}

/// Drops a membership's tags (it is being deleted).
pub(crate) async fn forget_membership(c: &mut WriteTx, id: MembershipId) -> Result<()> {
    let q = query("DELETE FROM member_tag_assignments WHERE membership_id = $1").bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// The tags of each of the memberships, as (membership, tag, label), by label.
pub async fn of_memberships(
    c: &mut Conn,
    ids: &[MembershipId],
) -> Result<Vec<(MembershipId, MemberTagId, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let set = match Backend::of(c) {
        Backend::Sqlite => "ta.membership_id IN rarray($1)",
        Backend::Postgres => "ta.membership_id = ANY($1)",
    };
    let q = query(format!(
        "SELECT ta.membership_id, t.id, t.label FROM member_tag_assignments ta
         JOIN member_tags t ON t.id = ta.tag_id WHERE {set} ORDER BY t.label_folded, t.id"
    ))
    .bind(Arg::Ids(ids.iter().map(|m| m.0).collect()));
    handle(c)
        .fetch_all(q, |r| {
            Ok((MembershipId(r.int(0)?), MemberTagId(r.int(1)?), r.text(2)?))
        })
        .await
}

/// Which members an assignment concerns: those `query` matches (live members of its
/// organization), narrowed to the `included` user ids when given, less the `excluded` ones.
#[derive(Debug, Clone)]
pub struct Selection<'q> {
    pub query: &'q MemberQuery,
    pub included: Option<Vec<i64>>,
    pub excluded: Vec<i64>,
}

/// The membership ids a selection names, as a sub-select (with its values after `$1` = org).
async fn selection_sql(c: &mut Conn, s: &Selection<'_>) -> Result<(String, Vec<Arg>)> {
    let resolved = crate::members::resolve(c, s.query).await?;
    let backend = Backend::of(c);
    let Filter {
        from,
        mut sql,
        mut args,
    } = filter_sql(&resolved, backend, Plan::Drive, false);
    let users = |ids: &[i64], not: &str, args: &mut Vec<Arg>| {
        let n = args.len() + 2;
        args.push(Arg::Ids(ids.to_vec()));
        match backend {
            Backend::Sqlite => format!(" AND m.user_id {not} IN rarray(${n})"),
            Backend::Postgres if !not.is_empty() => {
                format!(" AND NOT (m.user_id = ANY(${n}))")
            }
            Backend::Postgres => format!(" AND m.user_id = ANY(${n})"),
        }
    };
    if let Some(included) = &s.included {
        sql.push_str(&users(included, "", &mut args));
    }
    if !s.excluded.is_empty() {
        sql.push_str(&users(&s.excluded, "NOT", &mut args));
    }
    Ok((format!("SELECT m.id FROM {from} WHERE {sql}"), args))
}

/// Puts the tags on the selected members (those who carry one already keep it); with
/// `overwrite`, the selected members' other tags are taken off first. Returns how many
/// (member, tag) assignments were made and how many were removed.
pub async fn assign(
    c: &mut WriteTx,
    s: &Selection<'_>,
    tags: &[MemberTagId],
    overwrite: bool,
    now: Micros,
) -> Result<(u64, u64)> {
    let (members, args) = selection_sql(c, s).await?;
    let org = s.query.org.0;
    let mut removed = 0;
    if overwrite {
        let n = args.len() + 2;
        let keep = match Backend::of(c) {
            Backend::Sqlite => format!("tag_id NOT IN rarray(${n})"),
            Backend::Postgres => format!("NOT (tag_id = ANY(${n}))"),
        };
        let mut q = query(format!(
            "DELETE FROM member_tag_assignments WHERE {keep} AND membership_id IN ({members})"
        ))
        .bind(org);
        for a in args.iter().cloned() {
            q.push(a);
        }
        q.push(Arg::Ids(tags.iter().map(|t| t.0).collect()));
        removed = handle(c).execute(q).await?;
    }
    let mut made = 0;
    for t in tags {
        let n = args.len() + 2;
        let mut q = query(format!(
            "INSERT INTO member_tag_assignments (membership_id, tag_id, created_at)
             SELECT sel.id, ${n}, ${} FROM ({members}) sel WHERE 1 = 1
             ON CONFLICT (membership_id, tag_id) DO NOTHING",
            n + 1
        ))
        .bind(org);
        for a in args.iter().cloned() {
            q.push(a);
        }
        q.push(t.0);
        q.push(now);
        made += handle(c).execute(q).await?;
    }
    Ok((made, removed))
}

/// A CSV import job.
#[derive(Debug, Clone)]
pub struct ImportRecord {
    pub id: TagImportId,
    pub org: OrgId,
    pub status: String,
    pub created_at: Micros,
    pub finished_at: Option<Micros>,
    pub tags_created: i64,
    pub assignments_created: i64,
    /// JSON list of the emails that named no live member.
    pub users_skipped: String,
}

/// Records a finished import job.
#[allow(clippy::too_many_arguments)]
pub async fn insert_import(
    c: &mut WriteTx,
    org: OrgId,
    by: MembershipId,
    status: &str,
    now: Micros,
    tags_created: i64,
    assignments_created: i64,
    users_skipped: &str,
) -> Result<TagImportId> {
    let q = query(
        "INSERT INTO member_tag_imports (org_id, status, created_by, created_at, finished_at,
            tags_created, assignments_created, users_skipped)
         VALUES ($1, $2, $3, $4, $4, $5, $6, $7) RETURNING id",
    )
    .bind(org.0)
    .bind(status)
    .bind(by.0)
    .bind(now)
    .bind(tags_created)
    .bind(assignments_created)
    .bind(users_skipped);
    handle(c).fetch_one(q, |r| Ok(TagImportId(r.int(0)?))).await
}

/// One import job of the organization.
pub async fn import_by_id(
    c: &mut Conn,
    org: OrgId,
    id: TagImportId,
) -> Result<Option<ImportRecord>> {
    let q = query(
        "SELECT id, org_id, status, created_at, finished_at, tags_created, assignments_created,
            users_skipped FROM member_tag_imports WHERE org_id = $1 AND id = $2",
    )
    .bind(org.0)
    .bind(id.0);
    handle(c)
        .fetch_optional(q, |r| {
            Ok(ImportRecord {
                id: TagImportId(r.int(0)?),
                org: OrgId(r.int(1)?),
                status: r.text(2)?,
                created_at: r.int(3)?,
                finished_at: r.opt_int(4)?,
                tags_created: r.int(5)?,
                assignments_created: r.int(6)?,
                users_skipped: r.text(7)?,
            })
        })
        .await
}
