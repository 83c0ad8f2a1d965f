//! Accounts and sign-in: creating users, passwords, set-password links and sessions.

use roster_domain::{AuditAction, OrgId, UserId};
use roster_store::{credentials, users, Micros, UserRecord, WriteTx};

use crate::audit::{record, Event};
use crate::secrets::random_token;
use crate::throttle::{Keys, Reservation};
use crate::{passwords, Context, Result, Service, ServiceError};

/// Lower-cases and checks an email address.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let bad = || ServiceError::invalid("email", "Enter a valid email address.");
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    if local.is_empty()
        || domain.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
    {
        return Err(bad());
    }
    Ok(email)
}

/// Checks a person's name field.
pub(crate) fn check_name(field: &str, value: &str) -> Result<String> {
    let v = value.trim();
    if v.chars().count() > 150 {
        return Err(ServiceError::invalid(
            field,
            "must be at most 150 characters",
        ));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(ServiceError::invalid(
            field,
            "must not contain control characters",
        ));
    }
    Ok(v.to_string())
}

/// The one answer to a sign-in whose email or password is wrong, whichever of them it was.
pub(crate) fn wrong_credentials() -> ServiceError {
    ServiceError::Unauthenticated("The email or password is not correct.".into())
}

/// A new browser session: the cookie value and the CSRF token that changes must carry.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub csrf_token: String,
    pub expires_at: Micros,
    /// Whose session it is, and the organization whose identity provider started it.
    pub user: UserId,
    pub sso_org: Option<OrgId>,
}

impl Service {
    /// Inserts a user (and their legacy key) on an open transaction.
    pub(crate) async fn insert_user(
        &self,
        c: &mut WriteTx,
        email: &str,
        first_name: &str,
        last_name: &str,
        password_hash: Option<&str>,
    ) -> Result<UserRecord> {
        let now = self.now();
        let id = users::insert(
            c,
            users::NewUser {
                email,
                username: email,
                first_name,
                last_name,
                password_hash,
                now,
            },
        )
        .await
        .map_err(|e| match e {
            roster_store::StoreError::Duplicate => {
                ServiceError::Conflict(format!("an account with email {email} already exists"))
            }
            other => other.into(),
        })?;
        users::by_id(c, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("inserted user vanished".into()))
    }

    /// Verifies an email and password, throttled per address and per (account, address):
    /// the attempt is counted before the password is checked and given back on success.
    pub async fn check_password(
        &self,
        email: &str,
        password: &str,
        ctx: &Context,
    ) -> Result<UserRecord> {
        let (user, reservation) = self.reserve_attempt(email, ctx).await?;
        self.verify_reserved(user, password, reservation).await
    }

    /// Counts a sign-in attempt for `email` from the caller's address (refused while either is
    /// throttled) and finds the account it names, if any.
    async fn reserve_attempt(
        &self,
        email: &str,
        ctx: &Context,
    ) -> Result<(Option<UserRecord>, Reservation)> {
        let email = email.trim().to_lowercase();
        let keys = Keys::new(ctx.address.as_deref(), Some(&email));
        let reservation = self.throttle_reserve(&keys).await?;
        let mut c = self.store().read().await?;
        let user = users::by_email(&mut c, &email).await?;
        Ok((user, reservation))
    }

    /// Checks a password against an account (or, with none, against a hash nobody knows, so
    /// the answer takes as long) under a throttle reservation: a match gives the reservation
    /// back, a mismatch leaves it counted, and a check that could not run (no hashing slot
    /// free, 503) gives back just its own count, since nothing was evaluated.
    pub(crate) async fn verify_reserved(
        &self,
        user: Option<UserRecord>,
        password: &str,
        reservation: Reservation,
    ) -> Result<UserRecord> {
        let (user, reservation) = self.password_matches(user, password, reservation).await?;
        self.throttle_release(reservation).await?;
        Ok(user)
    }

    /// Like `verify_reserved`, but a match hands the reservation back to the caller, whose
    /// attempt may still fail on a later check (the second factor).
    async fn password_matches(
        &self,
        user: Option<UserRecord>,
        password: &str,
        reservation: Reservation,
    ) -> Result<(UserRecord, Reservation)> {
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let verified = self
            .password_hashing()
            .verify(password.to_string(), hash)
            .await;
        match (verified, user) {
            (Ok(true), Some(user)) => Ok((user, reservation)),
            (Ok(_), _) => Err(wrong_credentials()),
            (Err(busy), _) => {
                self.throttle_unused(reservation).await?;
                Err(busy)
            }
        }
    }

    /// Signs in with a password, and the code of the person's authenticator app when they
    /// set one up, and starts a new session (never reusing an old session id). One throttled
    /// attempt covers both: a wrong password, or a missing, wrong or reused code, counts as a
    /// failure.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        code: Option<&str>,
        ctx: &Context,
    ) -> Result<(UserRecord, NewSession)> {
        let (user, reservation) = self.reserve_attempt(email, ctx).await?;
        let (user, reservation) = self.password_matches(user, password, reservation).await?;
        let mut tx = self.store().write().await?;
        let second_factor = self.second_factor_at_sign_in(&mut tx, &user, code).await?;
        let session = self
            .insert_session_tx(&mut tx, user.id, None, second_factor)
            .await?;
        roster_store::commit(tx).await?;
        self.throttle_release(reservation).await?;
        Ok((user, session))
    }

    pub(crate) async fn start_session(&self, user: &UserRecord) -> Result<NewSession> {
        let mut tx = self.store().write().await?;
        let session = self.start_session_tx(&mut tx, user.id).await?;
        roster_store::commit(tx).await?;
        Ok(session)
    }

    /// Starts the session an organization's identity provider vouched for: it acts in that
    /// organization only. Called once an assertion has been verified; nothing else may.
    pub async fn start_sso_session(&self, user: UserId, org: OrgId) -> Result<NewSession> {
        let mut tx = self.store().write().await?;
        let session = self
            .start_scoped_session_tx(&mut tx, user, Some(org))
            .await?;
        roster_store::commit(tx).await?;
        Ok(session)
    }

    /// Starts a session on an open transaction.
    pub(crate) async fn start_session_tx(
        &self,
        c: &mut WriteTx,
        user: UserId,
    ) -> Result<NewSession> {
        self.start_scoped_session_tx(c, user, None).await
    }

    /// Starts a session that acts in `sso_org` only, when given: the session an
    /// organization's identity provider vouched for (see `Authenticated::check_personal`).
    pub(crate) async fn start_scoped_session_tx(
        &self,
        c: &mut WriteTx,
        user: UserId,
        sso_org: Option<OrgId>,
    ) -> Result<NewSession> {
        self.insert_session_tx(c, user, sso_org, false).await
    }

    /// Starts a session on an open transaction; `second_factor` records that its sign-in
    /// passed the person's authenticator code (what an Owner's break-glass sign-in into a
    /// single-sign-on-only organization needs).
    pub(crate) async fn insert_session_tx(
        &self,
        c: &mut WriteTx,
        user: UserId,
        sso_org: Option<OrgId>,
        second_factor: bool,
    ) -> Result<NewSession> {
        let now = self.now();
        let session = NewSession {
            id: random_token(32),
            csrf_token: random_token(24),
            expires_at: now + self.config().session_ttl,
            user,
            sso_org,
        };
        let row = credentials::NewSessionRow {
            id_hash: &self.secrets().lookup_hash(&session.id),
            user,
            csrf: &session.csrf_token,
            created_at: now,
            expires_at: session.expires_at,
            sso_org,
            second_factor,
        };
        credentials::insert_session(c, row).await?;
        Ok(session)
    }

    /// Ends a session.
    pub async fn sign_out(&self, session_id: &str) -> Result<()> {
        let mut tx = self.store().write().await?;
        credentials::delete_session(&mut tx, &self.secrets().lookup_hash(session_id)).await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// Makes a one-time set-password link for an account (CLI `user reset-password`).
    pub async fn issue_password_link(&self, email: &str, ctx: &Context) -> Result<String> {
        let email = normalize_email(email)?;
        let mut tx = self.store().write().await?;
        let user = users::by_email(&mut tx, &email)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("no account has the email {email}")))?;
        let link = self.password_link_tx(&mut tx, &user).await?;
        if let Some(org) = user.active_org {
            record(
                &mut tx,
                org,
                self.now(),
                ctx,
                Event::new(AuditAction::PasswordResetIssued, None).target(&user),
            )
            .await?;
        }
        roster_store::commit(tx).await?;
        Ok(link)
    }

    pub(crate) async fn password_link_tx(
        &self,
        c: &mut WriteTx,
        user: &UserRecord,
    ) -> Result<String> {
        self.password_link_lasting(c, user, self.config().password_link_ttl)
            .await
    }

    /// A one-time set-password link valid for `ttl`; only its keyed hash is stored.
    pub(crate) async fn password_link_lasting(
        &self,
        c: &mut WriteTx,
        user: &UserRecord,
        ttl: Micros,
    ) -> Result<String> {
        let token = random_token(32);
        let now = self.now();
        users::insert_password_token(
            c,
            user.id,
            &self.secrets().lookup_hash(&token),
            now,
            now + ttl,
        )
        .await?;
        Ok(self.link(&format!("/user/set-password?token={token}")))
    }

    /// Whether a set-password link is still usable.
    pub async fn password_link_valid(&self, token: &str) -> Result<bool> {
        let mut c = self.store().read().await?;
        Ok(
            users::password_token_valid(&mut c, &self.secrets().lookup_hash(token), self.now())
                .await?,
        )
    }

    /// Sets a password through a one-time link; ends the account's sessions (whoever knew the
    /// old password is signed out) and spends its other unused links.
    pub async fn set_password_with_link(
        &self,
        token: &str,
        password: &str,
        ctx: &Context,
    ) -> Result<UserRecord> {
        passwords::check_policy(password)?;
        let hash = self.password_hashing().hash(password.to_string()).await?;
        let mut tx = self.store().write().await?;
        let user_id =
            users::take_password_token(&mut tx, &self.secrets().lookup_hash(token), self.now())
                .await?
                .ok_or_else(|| {
                    ServiceError::not_found(
                        "This link has expired or was already used; ask for a new one.",
                    )
                })?;
        users::set_password(&mut tx, user_id, &hash).await?;
        users::spend_password_tokens(&mut tx, user_id, self.now()).await?;
        credentials::delete_sessions_of(&mut tx, user_id).await?;
        let user = users::by_id(&mut tx, user_id)
            .await?
            .ok_or_else(|| ServiceError::not_found("account"))?;
        if let Some(org) = user.active_org {
            record(
                &mut tx,
                org,
                self.now(),
                ctx,
                Event::new(AuditAction::PasswordChanged, Some(&user)).target(&user),
            )
            .await?;
        }
        roster_store::commit(tx).await?;
        Ok(user)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_email;

    #[test]
    fn emails_are_lower_cased_and_checked() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "a b@example.com",
            "a@b@c.com",
            "a@.com",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }
}
