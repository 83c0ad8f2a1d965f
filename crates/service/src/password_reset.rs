//! "Forgot your password?": a person asks for a set-password link by mail. The answer never
//! says whether the address has an account; the link is the one-time link of `accounts.rs`.

use roster_domain::Role;
use roster_store::{members, orgs, users, Micros};

use crate::accounts::normalize_email;
use crate::clock::HOUR;
use crate::mail::Mail;
use crate::throttle::Keys;
use crate::{Context, Result, Service};

/// A mailed link is shorter-lived than one an operator hands over in person: a mailbox is
/// easier to read over someone's shoulder.
pub const RESET_LINK_TTL: Micros = HOUR;

/// What a request for a link led to, as the person may be told it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRequest {
    /// A link is on its way if an account uses the address (the same answer either way).
    OnItsWay,
    /// This server sends no mail, so only an administrator or the operator can help.
    NotByMail,
}

impl ResetRequest {
    pub fn message(self) -> &'static str {
        match self {
            ResetRequest::OnItsWay => {
                "If an account uses that address, a link to set a new password is on its way. \
                 It works once, within an hour."
            }
            ResetRequest::NotByMail => {
                "Password reset by email is not set up on this server: ask an administrator of \
                 your organization or the server's operator to set a new password."
            }
        }
    }
}

/// Whether a password is a way in for an account with these live memberships (each its role
/// and whether its organization signs in through single sign-on only): somewhere it is not
/// deactivated and the organization accepts passwords. An account with no live membership was
/// deleted everywhere.
pub(crate) fn password_is_a_way_in(memberships: &[(Role, bool)]) -> bool {
    memberships
        .iter()
        .any(|&(role, sso_only)| role != Role::Deactivated && !sso_only)
}

impl Service {
    /// Whether this server mails set-password links (it does when it can send mail).
    pub fn mails_password_links(&self) -> bool {
        self.mailer().is_some()
    }

    /// Asks for a set-password link for `email`, throttled per address and per (email,
    /// address) as sign-in is. Every request counts: none of them is a success to give back.
    /// The account is looked up and mailed in a task of its own, so the answer takes as long
    /// whether or not the address has an account.
    pub async fn request_password_reset(&self, email: &str, ctx: &Context) -> Result<ResetRequest> {
        let email = normalize_email(email)?;
        // Never the invite outbox: Owners and Administrators read it, and a link there would
        // let them sign in as the person.
        if self.mailer().is_none() {
            return Ok(ResetRequest::NotByMail);
        }
        let keys = Keys::password_reset(ctx.address.as_deref(), &email);
        let _counted = self.throttle_reserve(&keys).await?;
        let service = self.clone();
        tokio::spawn(async move {
            if let Err(e) = service.mail_password_link(&email).await {
                tracing::warn!(error = %e, "a set-password link was not mailed");
            }
        });
        Ok(ResetRequest::OnItsWay)
    }

    /// Mails a set-password link to the account that uses `email`, if there is one and a
    /// password is a way in for it; otherwise does nothing.
    async fn mail_password_link(&self, email: &str) -> Result<()> {
        let Some(mailer) = self.mailer() else {
            return Ok(());
        };
        let mut tx = self.store().write().await?;
        let Some(user) = users::by_email(&mut tx, email).await? else {
            return Ok(());
        };
        let sso_only = orgs::of_user(&mut tx, user.id).await?;
        let memberships: Vec<(Role, bool)> = members::of_user(&mut tx, user.id)
            .await?
            .into_iter()
            .map(|m| {
                let sso = sso_only.iter().any(|o| o.id == m.org && o.sso_only);
                (m.role, sso)
            })
            .collect();
        if !password_is_a_way_in(&memberships) {
            return Ok(());
        }
        let link = self
            .password_link_lasting(&mut tx, &user, RESET_LINK_TTL)
            .await?;
        roster_store::commit(tx).await?;
        let body = format!(
            "Someone, hopefully you, asked to set a new password for the account {email}.\n\n\
             Set it here; the link works once, within an hour:\n{link}\n\n\
             Setting it signs the account out everywhere. If you did not ask, ignore this \
             mail: your password stays as it is.\n"
        );
        mailer
            .send(Mail {
                to: user.email.clone(),
                subject: "Set a new password".into(),
                body,
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_a_way_in_where_a_live_membership_takes_one() {
        use Role::*;
        let cases: &[(&[(Role, bool)], bool)] = &[
            (&[], false),
            (&[(Annotator, false)], true),
            (&[(NotActivated, false)], true),
            (&[(Annotator, true)], false),
            (&[(Owner, true)], false),
            (&[(Deactivated, false)], false),
            (&[(Owner, true), (Reviewer, false)], true),
            (&[(Owner, true), (Deactivated, false)], false),
        ];
        for (memberships, want) in cases {
            assert_eq!(password_is_a_way_in(memberships), *want, "{memberships:?}");
        }
    }
}
