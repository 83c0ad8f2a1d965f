//! The second factor of password sign-in: a time-based one-time password from an authenticator
//! app (RFC 6238: HMAC-SHA-1, 6 digits, 30-second steps, one step of drift either way). The
//! totp-rs crate computes and checks codes; roster keeps the secret sealed with the server
//! secret and remembers the last time step it accepted, so that each code works once.

use roster_domain::{AuditAction, UserId};
use roster_store::totp::{self as store, TotpFactorRecord};
use roster_store::{credentials, orgs, users, Micros, UserRecord, WriteTx};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::audit::{record, Event};
use crate::clock::SECOND;
use crate::throttle::{Keys, Reservation};
use crate::{Authenticated, Context, CredentialKind, Result, Service, ServiceError};

pub const DIGITS: u8 = 6;
pub const STEP_SECS: u64 = 30;
/// Steps of clock drift accepted on either side of now.
const SKEW: u16 = 1;
/// 160 bits, as RFC 4226 recommends.
const SECRET_BYTES: usize = 20;
/// What authenticator apps show above the code.
const ISSUER: &str = "roster";

/// What an authenticator app needs to start making codes: the secret in base32 (typed by
/// hand) and the same as an `otpauth://` URI (read from a QR code or a link).
#[derive(Debug, Clone)]
pub struct TotpEnrollment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Where a person's second factor stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpState {
    /// None set up.
    Off,
    /// Started, waiting for a first code to confirm it.
    Pending,
    /// Confirmed: password sign-in asks for a code.
    On,
}

impl TotpState {
    pub fn of(factor: Option<&TotpFactorRecord>) -> TotpState {
        match factor {
            None => TotpState::Off,
            Some(f) if f.confirmed_at.is_none() => TotpState::Pending,
            Some(_) => TotpState::On,
        }
    }
}

/// What a sign-in without the code is told.
pub const CODE_NEEDED: &str = "This account signs in with a second factor: enter the 6-digit \
    code from your authenticator app.";
/// What a wrong or reused code is told.
pub const WRONG_CODE: &str = "The authentication code is not correct or was already used; \
    enter the current code from your authenticator app.";

/// Refuses a change to how the account signs in unless the person made it themselves, signed
/// in with their password: not a single-sign-on session (see `check_personal`), and not an
/// API key or token, which could otherwise lock the person out of their own password sign-in.
fn check_own_session(who: &Authenticated, what: &str) -> Result<()> {
    who.check_personal(what)?;
    if who.kind != CredentialKind::Session {
        return Err(ServiceError::Forbidden(format!(
            "Sign in with your password to {what}: an API key or access token cannot change \
             how the account signs in."
        )));
    }
    Ok(())
}

/// The generator of one secret with roster's parameters; `digits` is 6 except in the RFC's
/// own test vectors, which have 8.
fn generator(secret: Vec<u8>, account: &str, digits: u8) -> Result<Totp> {
    // An otpauth label may not hold a colon; an email's local part can.
    let account = account.replace(':', "");
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(SKEW)
        .with_step_duration(STEP_SECS)
        .with_secret(secret)
        .with_account_name(account)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|e| ServiceError::Internal(format!("TOTP parameters: {e:?}")))
}

fn decode(secret_b32: &str) -> Result<Vec<u8>> {
    Secret::try_from_base32(secret_b32)
        .map(|s| s.as_ref().to_vec())
        .map_err(|_| ServiceError::Internal("a stored TOTP secret is not base32".into()))
}

/// The time step `code` belongs to, if it is right at `now` (a step either way allowed).
/// Spaces inside the code (as apps show it, "123 456") are ignored.
fn matching_step(secret_b32: &str, account: &str, code: &str, now: Micros) -> Result<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    let totp = generator(decode(secret_b32)?, account, DIGITS)?;
    let unix = u64::try_from(now / SECOND).unwrap_or(0);
    Ok(totp
        .check(&code, unix)
        .and_then(|step| i64::try_from(step).ok()))
}

impl Service {
    /// The caller's second factor.
    pub async fn totp_state(&self, who: &Authenticated) -> Result<TotpState> {
        let mut c = self.store().read().await?;
        Ok(TotpState::of(
            store::factor(&mut c, who.user.id).await?.as_ref(),
        ))
    }

    /// Starts setting up an authenticator app: a new secret, which counts only once a code
    /// from it confirms it. Starting again replaces a secret not yet confirmed.
    pub async fn start_totp(&self, who: &Authenticated) -> Result<TotpEnrollment> {
        check_own_session(who, "set up a second factor")?;
        let mut bytes = vec![0u8; SECRET_BYTES];
        rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
        let totp = generator(bytes, &who.user.email, DIGITS)?;
        let enrollment = TotpEnrollment {
            secret: totp.secret().to_base32(),
            otpauth_uri: totp
                .to_url()
                .map_err(|e| ServiceError::Internal(format!("otpauth URI: {e:?}")))?,
        };
        let mut tx = self.store().write().await?;
        let sealed = self.secrets().seal(&enrollment.secret);
        if !store::put_pending(&mut tx, who.user.id, &sealed, self.now()).await? {
            return Err(ServiceError::Conflict(
                "Your authenticator app is already set up; turn it off first (with a current \
                 code) to set up another."
                    .into(),
            ));
        }
        roster_store::commit(tx).await?;
        Ok(enrollment)
    }

    /// Confirms the authenticator app being set up with a code from it; from then on password
    /// sign-in asks for a code.
    pub async fn confirm_totp(&self, who: &Authenticated, code: &str, ctx: &Context) -> Result<()> {
        check_own_session(who, "set up a second factor")?;
        self.with_code(who, code, ctx, |factor| match TotpState::of(Some(factor)) {
            TotpState::Pending => Ok(()),
            _ => Err(ServiceError::Conflict(
                "Your authenticator app is already set up.".into(),
            )),
        })
        .await?
        .finish(self, AuditAction::SecondFactorEnabled, ctx)
        .await
    }

    /// Turns the second factor off, with a current code. Refused while the person owns an
    /// organization that signs in through single sign-on only: the code is their way in when
    /// the identity provider fails.
    pub async fn disable_totp(&self, who: &Authenticated, code: &str, ctx: &Context) -> Result<()> {
        check_own_session(who, "turn off your second factor")?;
        {
            let mut c = self.store().read().await?;
            let owned = orgs::sso_only_owned_by(&mut c, who.user.id).await?;
            if let Some(org) = owned.first() {
                return Err(ServiceError::Conflict(format!(
                    "{} requires single sign-on, and as its Owner your password with this \
                     second factor is the way in when the identity provider fails; switch \
                     single sign-on only off there first.",
                    org.title
                )));
            }
        }
        let mut accepted = self
            .with_code(who, code, ctx, |factor| match TotpState::of(Some(factor)) {
                TotpState::On => Ok(()),
                _ => Err(ServiceError::Conflict(
                    "You have no authenticator app set up.".into(),
                )),
            })
            .await?;
        store::delete(&mut accepted.tx, who.user.id).await?;
        credentials::forget_second_factor(&mut accepted.tx, who.user.id).await?;
        accepted
            .finish(self, AuditAction::SecondFactorDisabled, ctx)
            .await
    }

    /// Checks a code of the caller's factor (throttled like sign-in: a wrong code counts as a
    /// failed attempt) and accepts its time step in an open transaction, which the caller
    /// finishes (and only then is the attempt given back to the throttle, whose own
    /// transaction must not wait on this one). `state_ok` says whether the factor is in the
    /// state the action needs.
    async fn with_code(
        &self,
        who: &Authenticated,
        code: &str,
        ctx: &Context,
        state_ok: impl Fn(&TotpFactorRecord) -> Result<()>,
    ) -> Result<AcceptedCode> {
        let mut tx = self.store().write().await?;
        let factor = store::factor(&mut tx, who.user.id).await?.ok_or_else(|| {
            ServiceError::Conflict(
                "You have no authenticator app set up; start setting one up first.".into(),
            )
        })?;
        state_ok(&factor)?;
        drop(tx);
        let keys = Keys::new(ctx.address.as_deref(), Some(&who.user.email));
        let reservation = self.throttle_reserve(&keys).await?;
        let mut tx = self.store().write().await?;
        if !self.accept_code(&mut tx, &who.user, &factor, code).await? {
            return Err(ServiceError::invalid("code", WRONG_CODE));
        }
        Ok(AcceptedCode {
            tx,
            user: who.user.clone(),
            reservation,
        })
    }

    /// Checks `code` against `factor` and accepts its time step: true once per step, and
    /// only for a step later than the last one accepted (a replayed code is refused). A
    /// pending factor is confirmed by it.
    async fn accept_code(
        &self,
        tx: &mut WriteTx,
        user: &UserRecord,
        factor: &TotpFactorRecord,
        code: &str,
    ) -> Result<bool> {
        let secret = self.secrets().open(&factor.secret_sealed).ok_or_else(|| {
            ServiceError::Internal("a TOTP secret was sealed with another server secret".into())
        })?;
        let Some(step) = matching_step(&secret, &user.email, code, self.now())? else {
            return Ok(false);
        };
        Ok(store::accept_step(tx, user.id, &factor.secret_sealed, step, Some(self.now())).await?)
    }

    /// The second factor of a password sign-in, in the transaction that starts its session:
    /// Ok(false) when the person has none, Ok(true) when the code passed, and a refusal
    /// (counted by the sign-in throttle) when the code is missing, wrong or already used.
    pub(crate) async fn second_factor_at_sign_in(
        &self,
        tx: &mut WriteTx,
        user: &UserRecord,
        code: Option<&str>,
    ) -> Result<bool> {
        let factor = store::factor(tx, user.id).await?;
        let Some(factor) = factor.filter(|f| TotpState::of(Some(f)) == TotpState::On) else {
            return Ok(false);
        };
        let code = code
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .ok_or_else(|| ServiceError::Unauthenticated(CODE_NEEDED.into()))?;
        if self.accept_code(tx, user, &factor, code).await? {
            Ok(true)
        } else {
            Err(ServiceError::Unauthenticated(WRONG_CODE.into()))
        }
    }

    /// Whether a person's password sign-in asks for a code.
    pub(crate) async fn has_second_factor(&self, user: UserId) -> Result<bool> {
        let mut c = self.store().read().await?;
        Ok(TotpState::of(store::factor(&mut c, user).await?.as_ref()) == TotpState::On)
    }
}

/// A code accepted in an open transaction; `finish` records the change, commits, and gives
/// the attempt back to the throttle.
struct AcceptedCode {
    tx: WriteTx,
    user: UserRecord,
    reservation: Reservation,
}

impl AcceptedCode {
    async fn finish(mut self, service: &Service, action: AuditAction, ctx: &Context) -> Result<()> {
        let user = users::by_id(&mut self.tx, self.user.id)
            .await?
            .unwrap_or(self.user);
        if let Some(org) = user.active_org {
            let event = Event::new(action, Some(&user)).target(&user);
            record(&mut self.tx, org, service.now(), ctx, event).await?;
        }
        roster_store::commit(self.tx).await?;
        service.throttle_release(self.reservation).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1: the seed "12345678901234567890" and the 8-digit codes at
    /// the listed Unix times.
    const VECTORS: [(u64, &str); 6] = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let eight = generator(SEED.to_vec(), "rfc@example.com", 8).unwrap();
        let six = generator(SEED.to_vec(), "rfc@example.com", DIGITS).unwrap();
        for (time, code) in VECTORS {
            assert_eq!(eight.generate(time).to_string(), code, "8 digits at {time}");
            // HOTP truncates modulo 10^digits: roster's 6-digit code is the vector's tail.
            assert_eq!(
                six.generate(time).to_string(),
                code[2..],
                "6 digits at {time}"
            );
        }
    }

    #[test]
    fn a_code_is_accepted_one_step_either_side_and_no_further() {
        let b32 = Secret::from(SEED.to_vec()).to_base32();
        let six = generator(SEED.to_vec(), "a@example.com", DIGITS).unwrap();
        let at = 1_111_111_111u64; // step 37037037
        let code = six.generate(at).to_string();
        let micros = |t: u64| t as i64 * SECOND;
        let step = (at / STEP_SECS) as i64;
        for (t, want) in [
            (at, Some(step)),
            (at - 30, Some(step)),
            (at + 30, Some(step)),
            (at - 60, None),
            (at + 60, None),
        ] {
            assert_eq!(
                matching_step(&b32, "a@example.com", &code, micros(t)).unwrap(),
                want,
                "at {t}"
            );
        }
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(
            matching_step(&b32, "a@example.com", &spaced, micros(at)).unwrap(),
            Some(step)
        );
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(
                matching_step(&b32, "a@example.com", bad, micros(at)).unwrap(),
                None
            );
        }
    }

    #[test]
    fn the_otpauth_uri_names_roster_and_the_account() {
        let t = generator(SEED.to_vec(), "ann:x@example.com", DIGITS).unwrap();
        let uri = t.to_url().unwrap();
        assert!(
            uri.starts_with("otpauth://totp/roster:annx%40example.com?"),
            "{uri}"
        );
        assert!(uri.contains(&format!("secret={}", t.secret().to_base32())));
        assert!(uri.contains("issuer=roster"));
    }
}
