//! Accounts: one per person, shared by their organizations.

use crate::db::handle;
use crate::rows::{self, USER_COLS};
use crate::sql::query;
use crate::{Conn, Micros, Preferences, Result, UserRecord, WriteTx};
use roster_domain::{OrgId, UserId};

pub struct NewUser<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub password_hash: Option<&'a str>,
    pub now: Micros,
}

/// A name (or username) as roster compares it: Unicode lower case, the same on both databases
/// (SQLite's LOWER and LIKE fold ASCII letters only).
pub fn fold(name: &str) -> String {
    name.to_lowercase()
}

pub async fn insert(c: &mut WriteTx, u: NewUser<'_>) -> Result<UserId> {
    let q = query(
        "INSERT INTO users (email, username, first_name, last_name, password_hash, date_joined,
            first_name_folded, last_name_folded, username_folded)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(u.email)
    .bind(u.username)
    .bind(u.first_name)
    .bind(u.last_name)
    .bind(u.password_hash)
    .bind(u.now)
    .bind(fold(u.first_name))
    .bind(fold(u.last_name))
    .bind(fold(u.username));
    Ok(UserId(handle(c).fetch_one(q, |r| r.int(0)).await?))
}

pub async fn by_id(c: &mut Conn, id: UserId) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.id = $1");
    handle(c)
        .fetch_optional(query(sql).bind(id.0), |r| rows::user(r, 0))
        .await
}

/// Looks a user up by email; `email` must already be lower-cased.
pub async fn by_email(c: &mut Conn, email: &str) -> Result<Option<UserRecord>> {
    let sql = format!("SELECT {USER_COLS} FROM users u WHERE u.email = $1");
    handle(c)
        .fetch_optional(query(sql).bind(email), |r| rows::user(r, 0))
        .await
}

pub async fn set_password(c: &mut WriteTx, id: UserId, hash: &str) -> Result<()> {
    handle(c)
        .execute(
            query("UPDATE users SET password_hash = $1 WHERE id = $2")
                .bind(hash)
                .bind(id.0),
        )
        .await?;
    Ok(())
}

pub async fn set_active_org(c: &mut WriteTx, id: UserId, org: Option<OrgId>) -> Result<()> {
    handle(c)
        .execute(
            query("UPDATE users SET active_org_id = $1 WHERE id = $2")
                .bind(org.map(|o| o.0))
                .bind(id.0),
        )
        .await?;
    Ok(())
}

pub struct ProfileUpdate<'a> {
    pub username: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub phone: &'a str,
}

pub async fn update_profile(c: &mut WriteTx, id: UserId, p: ProfileUpdate<'_>) -> Result<()> {
    let q = query(
        "UPDATE users SET username = $1, first_name = $2, last_name = $3, phone = $4,
            first_name_folded = $5, last_name_folded = $6, username_folded = $7 WHERE id = $8",
    )
    .bind(p.username)
    .bind(p.first_name)
    .bind(p.last_name)
    .bind(p.phone)
    .bind(fold(p.first_name))
    .bind(fold(p.last_name))
    .bind(fold(p.username))
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Writes a person's preferences as a whole (the service merged the change into them).
pub async fn update_preferences(c: &mut WriteTx, id: UserId, p: &Preferences) -> Result<()> {
    let q = query(
        "UPDATE users SET allow_newsletters = $1, custom_hotkeys = $2,
            email_notification_settings = $3, onboarding_state = $4 WHERE id = $5",
    )
    .bind(p.allow_newsletters.map(i64::from))
    .bind(p.custom_hotkeys.as_str())
    .bind(p.email_notification_settings.as_str())
    .bind(p.onboarding_state.as_deref())
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Records activity unless it was recorded less than `min_gap` ago, so that most reads stay
/// reads, on the user and on the copy each of their live memberships keeps for the member
/// list (migration 22). Returns whether a row was written.
pub async fn touch_activity(
    c: &mut WriteTx,
    id: UserId,
    now: Micros,
    min_gap: Micros,
) -> Result<bool> {
    let q = query(
        "UPDATE users SET last_activity = $1
         WHERE id = $2 AND (last_activity IS NULL OR last_activity < $3)",
    )
    .bind(now)
    .bind(id.0)
    .bind(now - min_gap);
    if handle(c).execute(q).await? == 0 {
        return Ok(false);
    }
    let q = query(
        "UPDATE memberships SET user_last_activity = $1 WHERE user_id = $2 AND deleted_at IS NULL",
    )
    .bind(now)
    .bind(id.0);
    handle(c).execute(q).await?;
    Ok(true)
}

pub async fn insert_password_token(
    c: &mut WriteTx,
    user: UserId,
    token_hash: &str,
    now: Micros,
    expires_at: Micros,
) -> Result<()> {
    let q = query(
        "INSERT INTO password_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(token_hash)
    .bind(user.0)
    .bind(now)
    .bind(expires_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// Marks an unused, unexpired set-password token as used and returns its user.
pub async fn take_password_token(
    c: &mut WriteTx,
    token_hash: &str,
    now: Micros,
) -> Result<Option<UserId>> {
    let q = query(
        "UPDATE password_tokens SET used_at = $1
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING user_id",
    )
    .bind(now)
    .bind(token_hash);
    Ok(handle(c).fetch_optional(q, |r| r.int(0)).await?.map(UserId))
}

/// Marks every unused set-password token of a user as used: once a password is set, the other
/// links mailed or handed out before it are spent too.
pub async fn spend_password_tokens(c: &mut WriteTx, user: UserId, now: Micros) -> Result<()> {
    let q = query("UPDATE password_tokens SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(user.0);
    handle(c).execute(q).await?;
    Ok(())
}

/// Whether a set-password token is still usable (for showing the form).
pub async fn password_token_valid(c: &mut Conn, token_hash: &str, now: Micros) -> Result<bool> {
    let q = query(
        "SELECT 1 FROM password_tokens WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(token_hash)
    .bind(now);
    Ok(handle(c).fetch_optional(q, |_| Ok(())).await?.is_some())
}

/// Gives an account a new email (lower-cased); a username that was the old email follows it.
/// Memberships keep a copy of the email for ordering the member list, so they follow too.
pub async fn set_email(c: &mut WriteTx, id: UserId, email: &str) -> Result<()> {
    let q = query(
        "UPDATE users SET
            username = CASE WHEN username = email THEN $1 ELSE username END,
            username_folded = CASE WHEN username = email THEN $1 ELSE username_folded END,
            email = $1
         WHERE id = $2",
    )
    .bind(email)
    .bind(id.0);
    handle(c).execute(q).await?;
    let q = query("UPDATE memberships SET user_email = $1 WHERE user_id = $2")
        .bind(email)
        .bind(id.0);
    handle(c).execute(q).await?;
    Ok(())
}
