//! Credentials: legacy API keys, personal access tokens (refresh JWT ids) and sessions.

use roster_domain::{OrgId, UserId};

use crate::db::{handle, Backend};
use crate::permissions::{self, OverrideRecord};
use crate::rows::{
    self, MEMBERSHIP_COLS, MEMBERSHIP_WIDTH, ORG_COLS, ORG_WIDTH, USER_COLS, USER_WIDTH,
};
use crate::sql::{query, Row};
use crate::{
    Conn, MembershipRecord, Micros, OrgRecord, RefreshTokenRecord, Result, SessionPolicyRecord,
    SessionRecord, UserRecord, WriteTx,
};

/// One live membership as an authenticating statement reads it: with its organization and that
/// organization's permission overrides, so authorizing the request needs no second read.
#[derive(Debug, Clone)]
pub struct MemberAccess {
    pub membership: MembershipRecord,
    pub org: OrgRecord,
    pub overrides: Vec<OverrideRecord>,
}

/// The columns `user_and_access` reads, for a query that joins `users u` and
/// `LEFT JOIN memberships m ... LEFT JOIN organizations o ON o.id = m.org_id`.
fn access_cols(backend: Backend) -> String {
    format!(
        "{USER_COLS}, {MEMBERSHIP_COLS}, {ORG_COLS}, {}",
        permissions::packed_sql(backend, "m.org_id")
    )
}

/// Replaces the user's legacy key.
pub async fn put_legacy_key(
    c: &mut WriteTx,
    user: UserId,
    key_hash: &str,
    key_sealed: &str,
    now: Micros,
) -> Result<()> {
    handle(c)
        .execute(query("DELETE FROM legacy_keys WHERE user_id = $1").bind(user.0))
        .await?;
    first_legacy_key(c, user, key_hash, key_sealed, now).await?;
    Ok(())
}

/// Stores a first legacy key for the user unless they already have one; returns the sealed
/// key that is theirs afterwards (this one, or the one a concurrent request stored first).
pub async fn first_legacy_key(
    c: &mut WriteTx,
    user: UserId,
    key_hash: &str,
    key_sealed: &str,
    now: Micros,
) -> Result<String> {
    let q = query(
        "INSERT INTO legacy_keys (user_id, key_hash, key_sealed, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO NOTHING",
    )
    .bind(user.0)
    .bind(key_hash)
    .bind(key_sealed)
    .bind(now);
    handle(c).execute(q).await?;
    legacy_key_of(c, user)
        .await?
        .ok_or_else(|| crate::StoreError::Config("a stored legacy key vanished".into()))
}

/// The user's sealed legacy key, if they have one.
pub async fn legacy_key_of(c: &mut Conn, user: UserId) -> Result<Option<String>> {
    let q = query("SELECT key_sealed FROM legacy_keys WHERE user_id = $1").bind(user.0);
    handle(c).fetch_optional(q, |r| r.text(0)).await
}

/// The account a legacy key belongs to, with its live memberships, in one round trip (every
/// API request pays it).
pub async fn user_by_legacy_hash(
    c: &mut Conn,
    key_hash: &str,
) -> Result<Option<(UserRecord, Vec<MemberAccess>)>> {
    let sql = format!(
        "SELECT {} FROM legacy_keys k JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         LEFT JOIN organizations o ON o.id = m.org_id
         WHERE k.key_hash = $1",
        access_cols(Backend::of(c))
    );
    let found = handle(c)
        .fetch_all(query(sql).bind(key_hash), |r| user_and_access(r, 0))
        .await?;
    Ok(user_with_access_rows(found))
}

/// A user with their live memberships' organizations and overrides (`MemberAccess`), by id,
/// for a credential that names the user (an access token).
pub async fn user_with_access(
    c: &mut Conn,
    user: UserId,
) -> Result<Option<(UserRecord, Vec<MemberAccess>)>> {
    let sql = format!(
        "SELECT {} FROM users u
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         LEFT JOIN organizations o ON o.id = m.org_id
         WHERE u.id = $1",
        access_cols(Backend::of(c))
    );
    let found = handle(c)
        .fetch_all(query(sql).bind(user.0), |r| user_and_access(r, 0))
        .await?;
    Ok(user_with_access_rows(found))
}

/// Reads a user and a membership-or-NULL with its access from `access_cols`, starting at
/// column `user_at`.
fn user_and_access(r: &dyn Row, user_at: usize) -> Result<(UserRecord, Option<MemberAccess>)> {
    let user = rows::user(r, user_at)?;
    let at = user_at + USER_WIDTH;
    let Some(membership) = rows::membership_opt(r, at)? else {
        return Ok((user, None));
    };
    let at = at + MEMBERSHIP_WIDTH;
    let org = rows::org_at(r, at)?;
    let overrides = permissions::unpack(org.id, r.opt_text(at + ORG_WIDTH)?.as_deref())?;
    let access = MemberAccess {
        membership,
        org,
        overrides,
    };
    Ok((user, Some(access)))
}

/// Folds rows of (user, membership-or-NULL) into the user and their memberships, by
/// organization. Sorted here, not by an ORDER BY: SQLite would set up a sorter for a row or
/// two on every authenticated request.
fn user_with_access_rows(
    found: impl IntoIterator<Item = (UserRecord, Option<MemberAccess>)>,
) -> Option<(UserRecord, Vec<MemberAccess>)> {
    let mut found = found.into_iter();
    let (user, first) = found.next()?;
    let mut access: Vec<_> = first
        .into_iter()
        .chain(found.filter_map(|(_, m)| m))
        .collect();
    access.sort_by_key(|a| a.membership.org);
    Some((user, access))
}

pub async fn insert_refresh(c: &mut WriteTx, t: &RefreshTokenRecord) -> Result<()> {
    let q = query(
        "INSERT INTO refresh_tokens (jti, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(&t.jti)
    .bind(t.user.0)
    .bind(t.created_at)
    .bind(t.expires_at);
    handle(c).execute(q).await?;
    Ok(())
}

fn refresh_from_row(r: &dyn Row) -> Result<RefreshTokenRecord> {
    Ok(RefreshTokenRecord {
        jti: r.text(0)?,
        user: UserId(r.int(1)?),
        created_at: r.int(2)?,
        expires_at: r.int(3)?,
        blacklisted_at: r.opt_int(4)?,
    })
}

pub async fn refresh_by_jti(c: &mut Conn, jti: &str) -> Result<Option<RefreshTokenRecord>> {
    let q = query(
        "SELECT jti, user_id, created_at, expires_at, blacklisted_at FROM refresh_tokens WHERE jti = $1",
    )
    .bind(jti);
    handle(c).fetch_optional(q, refresh_from_row).await
}

/// The user's usable personal access tokens, newest first.
pub async fn valid_refresh_of(
    c: &mut Conn,
    user: UserId,
    now: Micros,
) -> Result<Vec<RefreshTokenRecord>> {
    let q = query(
        "SELECT jti, user_id, created_at, expires_at, blacklisted_at FROM refresh_tokens
         WHERE user_id = $1 AND blacklisted_at IS NULL AND expires_at > $2 ORDER BY created_at DESC, jti",
    )
    .bind(user.0)
    .bind(now);
    handle(c).fetch_all(q, refresh_from_row).await
}

/// Blacklists a token; false when it was already blacklisted or unknown.
pub async fn blacklist_refresh(c: &mut WriteTx, jti: &str, now: Micros) -> Result<bool> {
    let q = query(
        "UPDATE refresh_tokens SET blacklisted_at = $1 WHERE jti = $2 AND blacklisted_at IS NULL",
    )
    .bind(now)
    .bind(jti);
    Ok(handle(c).execute(q).await? == 1)
}

/// A session to store: its id's keyed hash, whose it is, and what started it.
#[derive(Debug, Clone)]
pub struct NewSessionRow<'a> {
    pub id_hash: &'a str,
    pub user: UserId,
    pub csrf: &'a str,
    pub created_at: Micros,
    pub expires_at: Micros,
    /// The organization whose identity provider started it, if one did.
    pub sso_org: Option<OrgId>,
    /// Its sign-in passed the person's second factor.
    pub second_factor: bool,
}

pub async fn insert_session(c: &mut WriteTx, s: NewSessionRow<'_>) -> Result<()> {
    let q = query(
        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, sso_org_id,
            second_factor, last_active_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $4)",
    )
    .bind(s.id_hash)
    .bind(s.user.0)
    .bind(s.csrf)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.sso_org.map(|o| o.0))
    .bind(s.second_factor);
    handle(c).execute(q).await?;
    Ok(())
}

/// A live session with its account, the account's live memberships and their
/// organizations' session policies, in one round trip.
pub async fn session(
    c: &mut Conn,
    id_hash: &str,
    now: Micros,
) -> Result<Option<(SessionRecord, UserRecord, Vec<MemberAccess>)>> {
    let sql = format!(
        "SELECT s.user_id, s.csrf_token, s.expires_at, s.sso_org_id, s.second_factor,
            s.created_at, s.last_active_at, sp.max_session_age, sp.max_time_between_activity,
            {}
         FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         LEFT JOIN organizations o ON o.id = m.org_id
         LEFT JOIN session_policies sp ON sp.org_id = m.org_id
         WHERE s.id_hash = $1 AND s.expires_at > $2",
        access_cols(Backend::of(c))
    );
    let found = handle(c)
        .fetch_all(query(sql).bind(id_hash).bind(now), |r| {
            let session = SessionRecord {
                user: UserId(r.int(0)?),
                csrf_token: r.text(1)?,
                expires_at: r.int(2)?,
                sso_org: r.opt_int(3)?.map(OrgId),
                second_factor: r.flag(4)?,
                created_at: r.int(5)?,
                last_active_at: r.int(6)?,
                policies: Vec::new(),
            };
            let limits = (r.opt_int(7)?, r.opt_int(8)?);
            let row = user_and_access(r, 9)?;
            Ok((session, limits, row))
        })
        .await?;
    let Some((session, _, _)) = found.first() else {
        return Ok(None);
    };
    let mut session = session.clone();
    session.policies = found
        .iter()
        .filter_map(|(_, (age, idle), (_, m))| {
            let m = &m.as_ref()?.membership;
            (age.is_some() || idle.is_some()).then_some(SessionPolicyRecord {
                org: m.org,
                max_session_age: *age,
                max_time_between_activity: *idle,
                created_at: None,
                updated_at: None,
            })
        })
        .collect();
    let rest = found.into_iter().map(|(_, _, row)| row);
    Ok(user_with_access_rows(rest).map(|(user, memberships)| (session, user, memberships)))
}

/// Notes that a session made a request, unless it did within `interval`.
pub async fn touch_session(
    c: &mut WriteTx,
    id_hash: &str,
    now: Micros,
    interval: Micros,
) -> Result<()> {
    let q = query(
        "UPDATE sessions SET last_active_at = $1 WHERE id_hash = $2 AND last_active_at <= $3",
    )
    .bind(now)
    .bind(id_hash)
    .bind(now - interval);
    handle(c).execute(q).await?;
    Ok(())
}

pub async fn delete_session(c: &mut WriteTx, id_hash: &str) -> Result<()> {
    handle(c)
        .execute(query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash))
        .await?;
    Ok(())
}

/// Ends every session of a user (after a password change).
pub async fn delete_sessions_of(c: &mut WriteTx, user: UserId) -> Result<()> {
    handle(c)
        .execute(query("DELETE FROM sessions WHERE user_id = $1").bind(user.0))
        .await?;
    Ok(())
}

/// Marks every session of a user as not having passed a second factor (after the person
/// turned theirs off).
pub async fn forget_second_factor(c: &mut WriteTx, user: UserId) -> Result<()> {
    let q = query("UPDATE sessions SET second_factor = 0 WHERE user_id = $1").bind(user.0);
    handle(c).execute(q).await?;
    Ok(())
}
