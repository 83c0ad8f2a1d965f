//! API credentials: the legacy key (readable by its owner, stored sealed) and personal access
//! tokens (JWT refresh tokens exchanged for 5-minute access tokens).

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use roster_domain::{AuditAction, Permission, UserId};
use roster_store::{credentials, orgs, Micros, RefreshTokenRecord, UserRecord};
use serde::{Deserialize, Serialize};

use crate::audit::{record, Event};
use crate::clock::{DAY, SECOND};
use crate::secrets::random_legacy_key;
use crate::{Authenticated, Context, Result, Service, ServiceError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Refresh,
    Access,
}

/// The claims roster signs. `exp`, `token_type` and `jti` are what label-studio-sdk reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub token_type: TokenType,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub user_id: i64,
    /// On access tokens: the refresh token they were issued from, which they die with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

pub(crate) fn invalid() -> ServiceError {
    ServiceError::Unauthenticated("Token is invalid or expired".into())
}

fn encode(service: &Service, claims: &Claims) -> Result<String> {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(service.secrets().jwt_key()),
    )
    .map_err(|e| ServiceError::Internal(format!("signing a token failed: {e}")))
}

/// Verifies signature, type and expiry (against the service clock, not the system's).
pub(crate) fn decode(service: &Service, jwt: &str, expected: TokenType) -> Result<Claims> {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Claims>(
        jwt,
        &DecodingKey::from_secret(service.secrets().jwt_key()),
        &validation,
    )
    .map_err(|_| invalid())?;
    let claims = data.claims;
    if claims.token_type != expected || claims.exp * SECOND <= service.now() {
        return Err(invalid());
    }
    Ok(claims)
}

/// A personal access token as listed (signature stripped) or just created (whole).
#[derive(Debug, Clone)]
pub struct PersonalToken {
    pub token: String,
    pub created_at: Micros,
    pub expires_at: Micros,
}

impl Service {
    /// The caller's legacy key, `{token}`. An account gets its key the first time it asks, not
    /// when it is made: an import of a million members then writes no million keys (each a
    /// random entry in a unique index) that few of those people will ever use.
    pub async fn legacy_key(&self, who: &Authenticated) -> Result<String> {
        who.check_personal("see your API key")?;
        let mut c = self.store().read().await?;
        let stored = credentials::legacy_key_of(&mut c, who.user.id).await?;
        drop(c);
        let sealed = match stored {
            Some(sealed) => sealed,
            None => {
                let key = random_legacy_key();
                let mut tx = self.store().write().await?;
                // Made on first read, so making it is creating a token.
                self.check_granted_everywhere(&mut tx, who, Permission::CreateApiTokens)
                    .await?;
                let sealed = credentials::first_legacy_key(
                    &mut tx,
                    who.user.id,
                    &self.secrets().lookup_hash(&key),
                    &self.secrets().seal(&key),
                    self.now(),
                )
                .await?;
                roster_store::commit(tx).await?;
                sealed
            }
        };
        self.secrets().open(&sealed).ok_or_else(|| {
            ServiceError::Internal(
                "a stored key could not be opened with this server secret".into(),
            )
        })
    }

    /// Replaces the caller's legacy key; the old one stops working at once.
    pub async fn reset_legacy_key(&self, who: &Authenticated, ctx: &Context) -> Result<String> {
        who.check_personal("reset your API key")?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        self.check_granted_everywhere(&mut tx, who, Permission::CreateApiTokens)
            .await?;
        let key = self.put_legacy_key(&mut tx, who.user.id, now).await?;
        self.audit_credential(&mut tx, &who.user, ctx, AuditAction::LegacyTokenReset, None)
            .await?;
        roster_store::commit(tx).await?;
        Ok(key)
    }

    pub(crate) async fn put_legacy_key(
        &self,
        c: &mut roster_store::WriteTx,
        user: UserId,
        now: Micros,
    ) -> Result<String> {
        let key = random_legacy_key();
        credentials::put_legacy_key(
            c,
            user,
            &self.secrets().lookup_hash(&key),
            &self.secrets().seal(&key),
            now,
        )
        .await?;
        Ok(key)
    }

    /// Credential changes are recorded in the user's active organization, if they have one.
    async fn audit_credential(
        &self,
        c: &mut roster_store::WriteTx,
        user: &UserRecord,
        ctx: &Context,
        action: AuditAction,
        detail: Option<String>,
    ) -> Result<()> {
        if let Some(org) = user.active_org {
            record(
                c,
                org,
                self.now(),
                ctx,
                Event::new(action, Some(user))
                    .target(user)
                    .change(None, detail),
            )
            .await?;
        }
        Ok(())
    }

    /// Lifetime of a new PAT: the active organization's setting.
    async fn pat_lifetime(&self, c: &mut roster_store::Conn, user: &UserRecord) -> Result<Micros> {
        let days = match user.active_org {
            Some(org) => orgs::by_id(c, org)
                .await?
                .map(|o| o.api_token_ttl_days)
                .unwrap_or(365),
            None => 365,
        };
        Ok(days * DAY)
    }

    async fn issue_refresh(
        &self,
        c: &mut roster_store::WriteTx,
        user: &UserRecord,
    ) -> Result<PersonalToken> {
        let now = self.now();
        let expires_at = now + self.pat_lifetime(c, user).await?;
        let jti = uuid::Uuid::new_v4().simple().to_string();
        let claims = Claims {
            token_type: TokenType::Refresh,
            exp: expires_at / SECOND,
            iat: now / SECOND,
            jti: jti.clone(),
            user_id: user.id.0,
            parent: None,
        };
        let token = encode(self, &claims)?;
        credentials::insert_refresh(
            c,
            &RefreshTokenRecord {
                jti,
                user: user.id,
                created_at: now,
                expires_at,
                blacklisted_at: None,
            },
        )
        .await?;
        Ok(PersonalToken {
            token,
            created_at: now,
            expires_at,
        })
    }

    /// Creates a personal access token; one valid token per user at a time (409 otherwise).
    pub async fn create_personal_token(
        &self,
        who: &Authenticated,
        ctx: &Context,
    ) -> Result<PersonalToken> {
        who.check_personal("create an access token")?;
        let mut tx = self.store().write().await?;
        self.check_granted_everywhere(&mut tx, who, Permission::CreateApiTokens)
            .await?;
        if !credentials::valid_refresh_of(&mut tx, who.user.id, self.now())
            .await?
            .is_empty()
        {
            return Err(ServiceError::Conflict(
                "You already have a valid token. Blacklist it or rotate it before creating a new one.".into(),
            ));
        }
        let token = self.issue_refresh(&mut tx, &who.user).await?;
        self.audit_credential(
            &mut tx,
            &who.user,
            ctx,
            AuditAction::AccessTokenCreated,
            None,
        )
        .await?;
        roster_store::commit(tx).await?;
        Ok(token)
    }

    /// The caller's usable tokens, each shown without its signature.
    pub async fn list_personal_tokens(&self, who: &Authenticated) -> Result<Vec<PersonalToken>> {
        who.check_personal("see your access tokens")?;
        let mut c = self.store().read().await?;
        let now = self.now();
        let rows = credentials::valid_refresh_of(&mut c, who.user.id, now).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let claims = Claims {
                    token_type: TokenType::Refresh,
                    exp: r.expires_at / SECOND,
                    iat: r.created_at / SECOND,
                    jti: r.jti,
                    user_id: r.user.0,
                    parent: None,
                };
                let full = encode(self, &claims).unwrap_or_default();
                let unsigned = full
                    .rsplit_once('.')
                    .map(|(hp, _)| hp.to_string())
                    .unwrap_or_default();
                PersonalToken {
                    token: unsigned,
                    created_at: r.created_at,
                    expires_at: r.expires_at,
                }
            })
            .collect())
    }

    /// Exchanges a refresh token for a short-lived access token. Every attempt counts towards
    /// the address's throttle until it succeeds; failures keep counting.
    pub async fn refresh_access_token(&self, refresh: &str, ctx: &Context) -> Result<String> {
        let keys = crate::throttle::Keys::new(ctx.address.as_deref(), None);
        let reservation = self.throttle_reserve(&keys).await?;
        let access = self.refresh_inner(refresh).await?;
        self.throttle_release(reservation).await?;
        Ok(access)
    }

    async fn refresh_inner(&self, refresh: &str) -> Result<String> {
        let claims = decode(self, refresh, TokenType::Refresh)?;
        let mut c = self.store().read().await?;
        let row = credentials::refresh_by_jti(&mut c, &claims.jti)
            .await?
            .ok_or_else(invalid)?;
        if row.blacklisted_at.is_some() {
            return Err(ServiceError::Unauthenticated("Token is blacklisted".into()));
        }
        let now = self.now();
        let exp = (now + self.config().access_token_ttl).min(row.expires_at);
        let access = Claims {
            token_type: TokenType::Access,
            exp: exp / SECOND,
            iat: now / SECOND,
            jti: uuid::Uuid::new_v4().simple().to_string(),
            user_id: row.user.0,
            parent: Some(row.jti),
        };
        encode(self, &access)
    }

    /// Finds one of the caller's tokens from a full token or its unsigned two-part form.
    async fn own_refresh(
        &self,
        c: &mut roster_store::Conn,
        who: &Authenticated,
        token: &str,
    ) -> Result<Option<RefreshTokenRecord>> {
        let jti = match token.split('.').count() {
            3 => decode(self, token, TokenType::Refresh).ok().map(|c| c.jti),
            2 => unverified_jti(token),
            _ => None,
        };
        let Some(jti) = jti else { return Ok(None) };
        Ok(credentials::refresh_by_jti(c, &jti)
            .await?
            .filter(|r| r.user == who.user.id))
    }

    /// Blacklists one of the caller's tokens (404 if unknown or already blacklisted).
    pub async fn blacklist_personal_token(
        &self,
        who: &Authenticated,
        token: &str,
        ctx: &Context,
    ) -> Result<()> {
        who.check_personal("revoke an access token")?;
        let mut tx = self.store().write().await?;
        let gone = || ServiceError::not_found("Token is invalid or already blacklisted.");
        let row = self
            .own_refresh(&mut tx, who, token)
            .await?
            .ok_or_else(gone)?;
        if !credentials::blacklist_refresh(&mut tx, &row.jti, self.now()).await? {
            return Err(gone());
        }
        self.audit_credential(
            &mut tx,
            &who.user,
            ctx,
            AuditAction::AccessTokenBlacklisted,
            None,
        )
        .await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// Replaces one of the caller's tokens with a new one; the old one (and its access tokens)
    /// stop working at once.
    pub async fn rotate_personal_token(
        &self,
        who: &Authenticated,
        token: &str,
        ctx: &Context,
    ) -> Result<PersonalToken> {
        who.check_personal("rotate an access token")?;
        let mut tx = self.store().write().await?;
        let bad = || ServiceError::invalid("refresh", "Token is invalid or already blacklisted.");
        let row = self
            .own_refresh(&mut tx, who, token)
            .await?
            .ok_or_else(bad)?;
        if !credentials::blacklist_refresh(&mut tx, &row.jti, self.now()).await? {
            return Err(bad());
        }
        let fresh = self.issue_refresh(&mut tx, &who.user).await?;
        self.audit_credential(
            &mut tx,
            &who.user,
            ctx,
            AuditAction::AccessTokenRotated,
            None,
        )
        .await?;
        roster_store::commit(tx).await?;
        Ok(fresh)
    }
}

/// Reads the jti from an unsigned `header.payload` token (only ever matched against the
/// caller's own tokens, so no signature is needed).
fn unverified_jti(token: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Claims = serde_json::from_slice(&bytes).ok()?;
    // Unsigned, so the jti can hold anything; only the shape roster issues (a uuid, letters
    // and digits) is looked up, so NUL or control characters never reach the database.
    let plain = !claims.jti.is_empty()
        && claims.jti.len() <= 64
        && claims
            .jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    (claims.token_type == TokenType::Refresh && plain).then_some(claims.jti)
}
