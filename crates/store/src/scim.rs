//! SCIM provisioning: the identity provider's Users and Groups of each organization, its
//! tokens and settings, and the deprovisioning log the mass-deprovisioning guard reads.

use roster_domain::{OrgId, UserId};

use crate::db::handle;
use crate::rows::ORG_COLS;
use crate::scim_filter::Over;
use crate::sql::{query, Arg, Row};
use crate::{Conn, Micros, OrgRecord, Result, WriteTx};

/// The IdP's view of one person in one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUserRecord {
    pub id: String,
    pub org: OrgId,
    pub user_name: String,
    pub email: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub display_name: Option<String>,
    /// The account, once attached.
    pub user: Option<UserId>,
    /// The other attributes the IdP sent, as JSON text.
    pub attributes: String,
    pub version: i64,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroupRecord {
    pub id: String,
    pub org: OrgId,
    pub display_name: String,
    pub external_id: Option<String>,
    pub attributes: String,
    pub version: i64,
    pub created_at: Micros,
    pub updated_at: Micros,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimSettingsRecord {
    pub org: OrgId,
    /// The group mapping as JSON text.
    pub mapping: String,
    pub delete_action: String,
    pub max_deprovision: Option<i64>,
    pub updated_at: Micros,
}

const USER_COLS: &str = "su.id, su.org_id, su.user_name, su.email, su.external_id, su.active, \
     su.given_name, su.family_name, su.display_name, su.user_id, su.attributes, su.version, \
     su.created_at, su.updated_at";

fn user_row(r: &dyn Row) -> Result<ScimUserRecord> {
    Ok(ScimUserRecord {
        id: r.text(0)?,
        org: OrgId(r.int(1)?),
        user_name: r.text(2)?,
        email: r.text(3)?,
        external_id: r.opt_text(4)?,
        active: r.flag(5)?,
        given_name: r.opt_text(6)?,
        family_name: r.opt_text(7)?,
        display_name: r.opt_text(8)?,
        user: r.opt_int(9)?.map(UserId),
        attributes: r.text(10)?,
        version: r.int(11)?,
        created_at: r.int(12)?,
        updated_at: r.int(13)?,
    })
}

const GROUP_COLS: &str = "sg.id, sg.org_id, sg.display_name, sg.external_id, sg.attributes, \
     sg.version, sg.created_at, sg.updated_at";

fn group_row(r: &dyn Row) -> Result<ScimGroupRecord> {
    Ok(ScimGroupRecord {
        id: r.text(0)?,
        org: OrgId(r.int(1)?),
        display_name: r.text(2)?,
        external_id: r.opt_text(3)?,
        attributes: r.text(4)?,
        version: r.int(5)?,
        created_at: r.int(6)?,
        updated_at: r.int(7)?,
    })
}

// ---- settings and tokens --------------------------------------------------------------

pub async fn settings(c: &mut Conn, org: OrgId) -> Result<Option<ScimSettingsRecord>> {
    let q = query(
        "SELECT org_id, mapping, delete_action, max_deprovision, updated_at
         FROM scim_settings WHERE org_id = $1",
    )
    .bind(org.0);
    handle(c)
        .fetch_optional(q, |r| {
            Ok(ScimSettingsRecord {
                org: OrgId(r.int(0)?),
                mapping: r.text(1)?,
                delete_action: r.text(2)?,
                max_deprovision: r.opt_int(3)?,
                updated_at: r.int(4)?,
            })
        })
        .await
}

pub async fn put_settings(c: &mut WriteTx, s: &ScimSettingsRecord) -> Result<()> {
    let q = query(
        "INSERT INTO scim_settings (org_id, mapping, delete_action, max_deprovision, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id) DO UPDATE SET mapping = excluded.mapping,
            delete_action = excluded.delete_action, max_deprovision = excluded.max_deprovision,
            updated_at = excluded.updated_at",
    )
    .bind(s.org.0)
    .bind(&s.mapping)
    .bind(&s.delete_action)
    .bind(s.max_deprovision)
    .bind(s.updated_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// Revokes the organization's SCIM tokens and stores a new one's hash.
pub async fn replace_token(
    c: &mut WriteTx,
    org: OrgId,
    token_hash: &str,
    created_by: Option<UserId>,
    now: Micros,
) -> Result<()> {
    let revoke =
        query("UPDATE scim_tokens SET revoked_at = $1 WHERE org_id = $2 AND revoked_at IS NULL")
            .bind(now)
            .bind(org.0);
    handle(c).execute(revoke).await?;
    let insert = query(
        "INSERT INTO scim_tokens (org_id, token_hash, created_by, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org.0)
    .bind(token_hash)
    .bind(created_by.map(|u| u.0))
    .bind(now);
    handle(c).execute(insert).await?;
    Ok(())
}

/// The organization a live SCIM token belongs to, read with the token in one round trip
/// (every SCIM request pays it).
pub async fn token_org(c: &mut Conn, token_hash: &str) -> Result<Option<OrgRecord>> {
    let sql = format!(
        "SELECT {ORG_COLS} FROM scim_tokens t JOIN organizations o ON o.id = t.org_id
         WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
    );
    handle(c)
        .fetch_optional(query(sql).bind(token_hash), crate::rows::org)
        .await
}

/// When the organization's live token was made, if it has one.
pub async fn token_created_at(c: &mut Conn, org: OrgId) -> Result<Option<Micros>> {
    let q =
        query("SELECT MAX(created_at) FROM scim_tokens WHERE org_id = $1 AND revoked_at IS NULL")
            .bind(org.0);
    Ok(handle(c)
        .fetch_optional(q, |r| r.opt_int(0))
        .await?
        .flatten())
}

// ---- users ----------------------------------------------------------------------------

pub async fn insert_user(c: &mut WriteTx, u: &ScimUserRecord) -> Result<()> {
    let q = query(
        "INSERT INTO scim_users (id, org_id, user_name, user_name_folded, email, external_id,
            active, given_name, family_name, display_name, user_id, attributes, version,
            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(u.id.as_str())
    .bind(u.org.0)
    .bind(u.user_name.as_str())
    .bind(u.user_name.to_lowercase())
    .bind(u.email.as_str())
    .bind(&u.external_id)
    .bind(u.active)
    .bind(&u.given_name)
    .bind(&u.family_name)
    .bind(&u.display_name)
    .bind(u.user.map(|x| x.0))
    .bind(u.attributes.as_str())
    .bind(u.version)
    .bind(u.created_at)
    .bind(u.updated_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// Writes a user back with its version bumped; false when its version moved meanwhile.
pub async fn update_user(c: &mut WriteTx, u: &ScimUserRecord) -> Result<bool> {
    let q = query(
        "UPDATE scim_users SET user_name = $1, user_name_folded = $2, email = $3,
            external_id = $4, active = $5, given_name = $6, family_name = $7,
            display_name = $8, user_id = $9, attributes = $10, version = version + 1,
            updated_at = $11
         WHERE id = $12 AND org_id = $13 AND version = $14",
    )
    .bind(u.user_name.as_str())
    .bind(u.user_name.to_lowercase())
    .bind(u.email.as_str())
    .bind(&u.external_id)
    .bind(u.active)
    .bind(&u.given_name)
    .bind(&u.family_name)
    .bind(&u.display_name)
    .bind(u.user.map(|x| x.0))
    .bind(u.attributes.as_str())
    .bind(u.updated_at)
    .bind(u.id.as_str())
    .bind(u.org.0)
    .bind(u.version);
    Ok(handle(c).execute(q).await? == 1)
}

pub async fn user_by_id(c: &mut Conn, org: OrgId, id: &str) -> Result<Option<ScimUserRecord>> {
    let sql = format!("SELECT {USER_COLS} FROM scim_users su WHERE su.org_id = $1 AND su.id = $2");
    handle(c)
        .fetch_optional(query(sql).bind(org.0).bind(id), user_row)
        .await
}

/// The user whose userName is this (case-insensitively).
pub async fn user_by_name(
    c: &mut Conn,
    org: OrgId,
    user_name: &str,
) -> Result<Option<ScimUserRecord>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM scim_users su WHERE su.org_id = $1 AND su.user_name_folded = $2"
    );
    handle(c)
        .fetch_optional(
            query(sql).bind(org.0).bind(user_name.to_lowercase()),
            user_row,
        )
        .await
}

/// The organization's SCIM users with this email (lower-cased).
pub async fn users_by_email(c: &mut Conn, org: OrgId, email: &str) -> Result<Vec<ScimUserRecord>> {
    let sql = format!(
        "SELECT {USER_COLS} FROM scim_users su WHERE su.org_id = $1 AND su.email = $2 ORDER BY su.id"
    );
    handle(c)
        .fetch_all(query(sql).bind(org.0).bind(email), user_row)
        .await
}

/// The SCIM user attached to an account in an organization.
pub async fn user_of_account(
    c: &mut Conn,
    org: OrgId,
    user: UserId,
) -> Result<Option<ScimUserRecord>> {
    let sql =
        format!("SELECT {USER_COLS} FROM scim_users su WHERE su.org_id = $1 AND su.user_id = $2");
    handle(c)
        .fetch_optional(query(sql).bind(org.0).bind(user.0), user_row)
        .await
}

/// Attaches the organization's SCIM users waiting for this email to the account that has
/// just joined by accepting its invite; returns how many.
pub async fn attach_waiting(c: &mut WriteTx, org: OrgId, email: &str, user: UserId) -> Result<u64> {
    let q = query(
        "UPDATE scim_users SET user_id = $1, version = version + 1
         WHERE org_id = $2 AND email = $3 AND user_id IS NULL",
    )
    .bind(user.0)
    .bind(org.0)
    .bind(email);
    handle(c).execute(q).await
}

/// Deletes a user resource and its group memberships.
pub async fn delete_user(c: &mut WriteTx, org: OrgId, id: &str) -> Result<bool> {
    let members = query(
        "DELETE FROM scim_group_members WHERE user_id = $1
           AND user_id IN (SELECT id FROM scim_users WHERE org_id = $2)",
    )
    .bind(id)
    .bind(org.0);
    handle(c).execute(members).await?;
    let q = query("DELETE FROM scim_users WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org.0);
    Ok(handle(c).execute(q).await? == 1)
}

/// A SQL condition over the user (alias `su`) or group (alias `sg`) columns and its values,
/// numbered from `$2` (`$1` is the organization).
#[derive(Debug, Clone, Default)]
pub struct Condition {
    pub(crate) sql: String,
    pub(crate) args: Vec<Arg>,
}

impl Condition {
    /// Every row.
    pub fn all() -> Condition {
        Condition {
            sql: "1 = 1".into(),
            args: Vec::new(),
        }
    }
}

/// A page of the organization's users matching `cond`, in `order` (a column expression
/// made by the store's own filter translation).
pub async fn list_users(
    c: &mut Conn,
    org: OrgId,
    cond: &Condition,
    order: &ScimOrder,
    limit: i64,
    offset: i64,
) -> Result<Vec<ScimUserRecord>> {
    let n = cond.args.len() + 2;
    let sql = format!(
        "SELECT {USER_COLS} FROM scim_users su WHERE su.org_id = $1 AND ({}) ORDER BY {} LIMIT ${n} OFFSET ${}",
        cond.sql,
        order.sql(Over::Users),
        n + 1
    );
    let mut q = query(sql).bind(org.0);
    for a in &cond.args {
        q.push(a.clone());
    }
    handle(c)
        .fetch_all(q.bind(limit).bind(offset), user_row)
        .await
}

pub async fn count_users(c: &mut Conn, org: OrgId, cond: &Condition) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM scim_users su WHERE su.org_id = $1 AND ({})",
        cond.sql
    );
    let mut q = query(sql).bind(org.0);
    for a in &cond.args {
        q.push(a.clone());
    }
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// How a list of users or groups is sorted (RFC 7644 §3.4.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScimOrder {
    pub by: SortKey,
    pub descending: bool,
}

/// The attributes a list can be sorted by. Users have all of them; Groups have `Created`,
/// `DisplayName`, `ExternalId` and `LastModified`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Creation order (the default: stable as pages are walked).
    #[default]
    Created,
    UserName,
    ExternalId,
    GivenName,
    FamilyName,
    DisplayName,
    LastModified,
}

impl SortKey {
    /// Whether resources of this type have the key.
    pub fn applies_to(self, over: Over) -> bool {
        over == Over::Users
            || matches!(
                self,
                SortKey::Created
                    | SortKey::ExternalId
                    | SortKey::DisplayName
                    | SortKey::LastModified
            )
    }
}

impl ScimOrder {
    /// The sort key. Names are case-insensitive (`caseExact` false, RFC 7643 §4.1), so they
    /// sort lower-cased as RFC 7644 §3.4.2.3 asks, like filters compare them; `externalId` is
    /// case-exact.
    fn column(&self, over: Over) -> &'static str {
        match (over, self.by) {
            (Over::Users, SortKey::Created) => "su.created_at",
            (Over::Users, SortKey::UserName) => "su.user_name_folded",
            (Over::Users, SortKey::ExternalId) => "su.external_id",
            (Over::Users, SortKey::GivenName) => "LOWER(su.given_name)",
            (Over::Users, SortKey::FamilyName) => "LOWER(su.family_name)",
            (Over::Users, SortKey::DisplayName) => "LOWER(su.display_name)",
            (Over::Users, SortKey::LastModified) => "su.updated_at",
            (Over::Groups, SortKey::ExternalId) => "sg.external_id",
            (Over::Groups, SortKey::DisplayName) => "LOWER(sg.display_name)",
            (Over::Groups, SortKey::LastModified) => "sg.updated_at",
            // Keys groups do not have are refused by the caller; creation order otherwise.
            (Over::Groups, _) => "sg.created_at",
        }
    }

    /// Whether the sort key may be missing.
    fn nullable(&self) -> bool {
        matches!(
            self.by,
            SortKey::ExternalId | SortKey::GivenName | SortKey::FamilyName | SortKey::DisplayName
        )
    }

    /// `ORDER BY` text. RFC 7644 §3.4.2.3: resources without a value sort last when
    /// ascending and first when descending. PostgreSQL does that by default, SQLite the
    /// opposite, so it is said here. The id breaks ties, so pages never overlap.
    fn sql(&self, over: Over) -> String {
        let dir = if self.descending { "DESC" } else { "ASC" };
        let column = self.column(over);
        let id = match over {
            Over::Users => "su.id",
            Over::Groups => "sg.id",
        };
        if self.nullable() {
            format!("({column} IS NULL) {dir}, {column} {dir}, {id} {dir}")
        } else {
            format!("{column} {dir}, {id} {dir}")
        }
    }
}

// ---- groups ---------------------------------------------------------------------------

pub async fn insert_group(c: &mut WriteTx, g: &ScimGroupRecord) -> Result<()> {
    let q = query(
        "INSERT INTO scim_groups (id, org_id, display_name, external_id, attributes, version,
            created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(g.id.as_str())
    .bind(g.org.0)
    .bind(g.display_name.as_str())
    .bind(&g.external_id)
    .bind(g.attributes.as_str())
    .bind(g.version)
    .bind(g.created_at)
    .bind(g.updated_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// Writes a group back with its version bumped; false when its version moved meanwhile.
pub async fn update_group(c: &mut WriteTx, g: &ScimGroupRecord) -> Result<bool> {
    let q = query(
        "UPDATE scim_groups SET display_name = $1, external_id = $2, attributes = $3,
            version = version + 1, updated_at = $4
         WHERE id = $5 AND org_id = $6 AND version = $7",
    )
    .bind(g.display_name.as_str())
    .bind(&g.external_id)
    .bind(g.attributes.as_str())
    .bind(g.updated_at)
    .bind(g.id.as_str())
    .bind(g.org.0)
    .bind(g.version);
    Ok(handle(c).execute(q).await? == 1)
}

pub async fn group_by_id(c: &mut Conn, org: OrgId, id: &str) -> Result<Option<ScimGroupRecord>> {
    let sql =
        format!("SELECT {GROUP_COLS} FROM scim_groups sg WHERE sg.org_id = $1 AND sg.id = $2");
    handle(c)
        .fetch_optional(query(sql).bind(org.0).bind(id), group_row)
        .await
}

pub async fn group_by_name(
    c: &mut Conn,
    org: OrgId,
    display_name: &str,
) -> Result<Option<ScimGroupRecord>> {
    let sql = format!(
        "SELECT {GROUP_COLS} FROM scim_groups sg WHERE sg.org_id = $1 AND sg.display_name = $2"
    );
    handle(c)
        .fetch_optional(query(sql).bind(org.0).bind(display_name), group_row)
        .await
}

pub async fn list_groups(
    c: &mut Conn,
    org: OrgId,
    cond: &Condition,
    order: &ScimOrder,
    limit: i64,
    offset: i64,
) -> Result<Vec<ScimGroupRecord>> {
    let n = cond.args.len() + 2;
    let sql = format!(
        "SELECT {GROUP_COLS} FROM scim_groups sg WHERE sg.org_id = $1 AND ({})
         ORDER BY {} LIMIT ${n} OFFSET ${}",
        cond.sql,
        order.sql(Over::Groups),
        n + 1
    );
    let mut q = query(sql).bind(org.0);
    for a in &cond.args {
        q.push(a.clone());
    }
    handle(c)
        .fetch_all(q.bind(limit).bind(offset), group_row)
        .await
}

pub async fn count_groups(c: &mut Conn, org: OrgId, cond: &Condition) -> Result<i64> {
    let sql = format!(
        "SELECT COUNT(*) FROM scim_groups sg WHERE sg.org_id = $1 AND ({})",
        cond.sql
    );
    let mut q = query(sql).bind(org.0);
    for a in &cond.args {
        q.push(a.clone());
    }
    handle(c).fetch_one(q, |r| r.int(0)).await
}

pub async fn delete_group(c: &mut WriteTx, org: OrgId, id: &str) -> Result<bool> {
    let members = query(
        "DELETE FROM scim_group_members WHERE group_id = $1
           AND group_id IN (SELECT id FROM scim_groups WHERE org_id = $2)",
    )
    .bind(id)
    .bind(org.0);
    handle(c).execute(members).await?;
    let q = query("DELETE FROM scim_groups WHERE id = $1 AND org_id = $2")
        .bind(id)
        .bind(org.0);
    Ok(handle(c).execute(q).await? == 1)
}

/// Rows per statement when adding or removing many members.
const CHUNK: usize = 400;

/// `$first, $first+1, ...`: the placeholders of `n` values bound after the `first - 1` fixed
/// ones, for a chunk of ids in an `IN (...)` list.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Adds users to a group (those already in it stay); only users of the group's organization
/// are added. Returns how many were added.
pub async fn add_members(
    c: &mut WriteTx,
    org: OrgId,
    group: &str,
    users: &[String],
) -> Result<u64> {
    let mut added = 0;
    for chunk in users.chunks(CHUNK) {
        let sql = format!(
            "INSERT INTO scim_group_members (group_id, user_id)
             SELECT $1, su.id FROM scim_users su WHERE su.org_id = $2 AND su.id IN ({})
             ON CONFLICT (group_id, user_id) DO NOTHING",
            placeholders(3, chunk.len())
        );
        let mut q = query(sql).bind(group).bind(org.0);
        for u in chunk {
            q.push(u.as_str());
        }
        added += handle(c).execute(q).await?;
    }
    Ok(added)
}

/// Of the given SCIM user ids, those that are not Users of the organization, in the order
/// given: a member list is checked in a few queries, however long it is.
pub async fn unknown_users(c: &mut Conn, org: OrgId, users: &[String]) -> Result<Vec<String>> {
    let mut known = std::collections::HashSet::new();
    for chunk in users.chunks(CHUNK) {
        let sql = format!(
            "SELECT id FROM scim_users WHERE org_id = $1 AND id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = query(sql).bind(org.0);
        for u in chunk {
            q.push(u.as_str());
        }
        known.extend(handle(c).fetch_all(q, |r| r.text(0)).await?);
    }
    Ok(users
        .iter()
        .filter(|u| !known.contains(u.as_str()))
        .cloned()
        .collect())
}

/// Removes users from a group; returns how many were in it.
pub async fn remove_members(c: &mut WriteTx, group: &str, users: &[String]) -> Result<u64> {
    let mut removed = 0;
    for chunk in users.chunks(CHUNK) {
        let sql = format!(
            "DELETE FROM scim_group_members WHERE group_id = $1 AND user_id IN ({})",
            placeholders(2, chunk.len())
        );
        let mut q = query(sql).bind(group);
        for u in chunk {
            q.push(u.as_str());
        }
        removed += handle(c).execute(q).await?;
    }
    Ok(removed)
}

/// Every member of a group (their SCIM user ids), for replacing the whole list.
pub async fn member_ids(c: &mut Conn, group: &str) -> Result<Vec<String>> {
    let q = query("SELECT user_id FROM scim_group_members WHERE group_id = $1 ORDER BY user_id")
        .bind(group);
    handle(c).fetch_all(q, |r| r.text(0)).await
}

/// A group's members: (SCIM user id, userName), by id. A client pages through a large
/// group with `/Users?filter=groups.value eq "{id}"`, or leaves members out with
/// `excludedAttributes=members`.
pub async fn members(c: &mut Conn, group: &str) -> Result<Vec<(String, String)>> {
    let q = query(
        "SELECT su.id, su.user_name FROM scim_group_members gm JOIN scim_users su ON su.id = gm.user_id
         WHERE gm.group_id = $1 ORDER BY su.id",
    )
    .bind(group);
    handle(c)
        .fetch_all(q, |r| Ok((r.text(0)?, r.text(1)?)))
        .await
}

/// The groups a user is in: (group id, display name), by name.
pub async fn groups_of(c: &mut Conn, user: &str) -> Result<Vec<(String, String)>> {
    let q = query(
        "SELECT sg.id, sg.display_name FROM scim_group_members gm JOIN scim_groups sg ON sg.id = gm.group_id
         WHERE gm.user_id = $1 ORDER BY sg.display_name, sg.id",
    )
    .bind(user);
    handle(c)
        .fetch_all(q, |r| Ok((r.text(0)?, r.text(1)?)))
        .await
}

/// Every attached user of the organization with the names of their groups, for
/// re-evaluating a mapping: (SCIM user, group names).
pub async fn attached_users_with_groups(
    c: &mut Conn,
    org: OrgId,
) -> Result<Vec<(ScimUserRecord, Vec<String>)>> {
    let sql = format!(
        "SELECT {USER_COLS}, sg.display_name FROM scim_users su
         LEFT JOIN scim_group_members gm ON gm.user_id = su.id
         LEFT JOIN scim_groups sg ON sg.id = gm.group_id
         WHERE su.org_id = $1 AND su.user_id IS NOT NULL ORDER BY su.id"
    );
    let rows = handle(c)
        .fetch_all(query(sql).bind(org.0), |r| {
            Ok((user_row(r)?, r.opt_text(14)?))
        })
        .await?;
    let mut out: Vec<(ScimUserRecord, Vec<String>)> = Vec::new();
    for (user, group) in rows {
        match out.last_mut() {
            Some((last, groups)) if last.id == user.id => groups.extend(group),
            _ => out.push((user, group.into_iter().collect())),
        }
    }
    Ok(out)
}

// ---- the deprovisioning log ------------------------------------------------------------

pub async fn record_deprovisions(c: &mut WriteTx, org: OrgId, now: Micros, n: i64) -> Result<()> {
    let q = query("INSERT INTO scim_deprovisions (org_id, occurred_at, n) VALUES ($1, $2, $3)")
        .bind(org.0)
        .bind(now)
        .bind(n);
    handle(c).execute(q).await?;
    Ok(())
}

/// Deprovisionings the identity provider made since `since`.
pub async fn deprovisions_since(c: &mut Conn, org: OrgId, since: Micros) -> Result<i64> {
    let q = query(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM scim_deprovisions
         WHERE org_id = $1 AND occurred_at >= $2",
    )
    .bind(org.0)
    .bind(since);
    handle(c).fetch_one(q, |r| r.int(0)).await
}
