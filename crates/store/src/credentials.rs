//! Credentials: legacy API keys, personal access tokens (refresh JWT ids) and sessions.

use roster_domain::{OrgId, UserId};

use crate::db::handle;
use crate::rows::{self, MEMBERSHIP_COLS, USER_COLS, USER_WIDTH};
use crate::sql::{query, Row};
use crate::{
    Conn, MembershipRecord, Micros, RefreshTokenRecord, Result, SessionPolicyRecord, SessionRecord,
    UserRecord, WriteTx,
};

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
) -> Result<Option<(UserRecord, Vec<MembershipRecord>)>> {
    let sql = format!(
        "SELECT {USER_COLS}, {MEMBERSHIP_COLS} FROM legacy_keys k JOIN users u ON u.id = k.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         WHERE k.key_hash = $1"
    );
    let found = handle(c)
        .fetch_all(query(sql).bind(key_hash), |r| user_and_membership(r, 0))
        .await?;
    Ok(user_with_memberships(found))
}

/// Reads a user and a membership-or-NULL from columns starting at `user_at`.
fn user_and_membership(
    r: &dyn Row,
    user_at: usize,
) -> Result<(UserRecord, Option<MembershipRecord>)> {
    Ok((
        rows::user(r, user_at)?,
        rows::membership_opt(r, user_at + USER_WIDTH)?,
    ))
}

/// Folds rows of (user, membership-or-NULL) into the user and their memberships, by
/// organization. Sorted here, not by an ORDER BY: SQLite would set up a sorter for a row or
/// two on every authenticated request.
fn user_with_memberships(
    found: impl IntoIterator<Item = (UserRecord, Option<MembershipRecord>)>,
) -> Option<(UserRecord, Vec<MembershipRecord>)> {
    let mut found = found.into_iter();
    let (user, first) = found.next()?;
    let mut memberships: Vec<_> = first
        .into_iter()
        .chain(found.filter_map(|(_, m)| m))
        .collect();
    memberships.sort_by_key(|m| m.org);
    Some((user, memberships))
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
) -> Result<Option<(SessionRecord, UserRecord, Vec<MembershipRecord>)>> {
    let sql = format!(
        "SELECT s.user_id, s.csrf_token, s.expires_at, s.sso_org_id, s.second_factor,
            s.created_at, s.last_active_at, p.max_session_age, p.max_time_between_activity,
            {USER_COLS}, {MEMBERSHIP_COLS}
         FROM sessions s JOIN users u ON u.id = s.user_id
         LEFT JOIN memberships m ON m.user_id = u.id AND m.deleted_at IS NULL
         LEFT JOIN session_policies p ON p.org_id = m.org_id
         WHERE s.id_hash = $1 AND s.expires_at > $2"
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
            let row = user_and_membership(r, 9)?;
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
            let m = m.as_ref()?;
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
    Ok(user_with_memberships(rest).map(|(user, memberships)| (session, user, memberships)))
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
