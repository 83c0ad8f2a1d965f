//! Joining an organization: its invite link (one token, resettable), personal email invites
//! (a role, projects, an expiry), and the sign-ups they lead to.

use roster_domain::rules;
use roster_domain::{AuditAction, OrgId, ProjectId, Role, WorkspaceId};
use roster_store::{
    invites, members, orgs, projects, users, InviteRecord, Micros, OrgRecord, UserRecord, WriteTx,
};

use crate::accounts::{check_name, normalize_email};
use crate::audit::{record, Event};
use crate::membership::{holds_invite_seat, Actor, Change, JoinVia};
use crate::orgs::seat_usage;
use crate::secrets::random_token;
use crate::throttle::Keys;
use crate::{
    passwords, Authenticated, Authorized, Context, Invite, Page, PageRequest, Result, Service,
    ServiceError,
};

/// The organization's invite link.
#[derive(Debug, Clone)]
pub struct InviteLink {
    pub token: String,
    /// Relative, as Label Studio returns it.
    pub invite_url: String,
}

/// A personal invite and where it stands.
#[derive(Debug, Clone)]
pub struct InviteView {
    pub invite: InviteRecord,
    pub state: InviteState,
    /// The sign-up link, while the invite is pending.
    pub url: Option<String>,
}

pub use roster_domain::InviteState;

fn state_of(i: &InviteRecord, now: Micros) -> InviteState {
    InviteState::of(i.accepted_at, i.revoked_at, i.expires_at, now)
}

/// Who is joining: a new account, an existing one proving itself with its password, or the
/// signed-in user confirming.
#[derive(Debug, Clone)]
pub enum Joiner<'a> {
    Credentials {
        email: &'a str,
        password: &'a str,
        first_name: &'a str,
        last_name: &'a str,
    },
    SignedIn(&'a Authenticated),
}

/// The outcome of a sign-up or join.
#[derive(Debug, Clone)]
pub struct Joined {
    pub user: UserRecord,
    pub org: OrgId,
    pub role: Role,
    pub new_account: bool,
}

fn link_of(token: String) -> InviteLink {
    InviteLink {
        invite_url: format!("/user/signup/?token={token}"),
        token,
    }
}

const MAX_INVITES_PER_REQUEST: usize = 100;

impl Service {
    pub fn invite_link(&self, by: &Authorized<Invite>) -> Result<InviteLink> {
        Ok(link_of(self.invite_token_of(&by.org)?))
    }

    /// The organization's invite-link token, unsealed.
    pub fn invite_token_of(&self, org: &OrgRecord) -> Result<String> {
        org.invite_token_sealed
            .as_deref()
            .and_then(|sealed| self.secrets().open(sealed))
            .ok_or_else(|| {
                ServiceError::Internal(format!(
                    "the invite-link token of organization {} cannot be opened",
                    org.id.0
                ))
            })
    }

    /// A new invite-link token, and how it is stored.
    pub(crate) fn new_invite_token(&self) -> (String, orgs::StoredInviteToken) {
        let token = random_token(24);
        let stored = self.store_invite_token(&token);
        (token, stored)
    }

    fn store_invite_token(&self, token: &str) -> orgs::StoredInviteToken {
        orgs::StoredInviteToken {
            hash: self.secrets().lookup_hash(token),
            sealed: self.secrets().seal(token),
        }
    }

    /// Seals the invite-link tokens stored as they were before migration 5; run at start,
    /// once the server secret is known to be this database's.
    pub(crate) async fn seal_plaintext_invite_tokens(&self) -> Result<()> {
        let mut tx = self.store().write().await?;
        for (org, token) in orgs::plaintext_invite_tokens(&mut tx).await? {
            orgs::set_invite_token(&mut tx, org, &self.store_invite_token(&token)).await?;
        }
        Ok(roster_store::commit(tx).await?)
    }

    /// Makes a new invite link; the old one stops working at once.
    pub async fn reset_invite_link(&self, by: &Authorized<Invite>) -> Result<InviteLink> {
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let org = orgs::by_id(&mut tx, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        let (token, stored) = self.new_invite_token();
        orgs::set_invite_token(&mut tx, org.id, &stored).await?;
        record(
            &mut tx,
            org.id,
            self.now(),
            &by.context,
            Event::new(AuditAction::InviteLinkReset, Some(&by.user)),
        )
        .await?;
        roster_store::commit(tx).await?;
        Ok(link_of(token))
    }

    /// The organization an invite-link token belongs to (for the sign-up page).
    pub async fn org_for_link(&self, token: &str) -> Result<OrgRecord> {
        let mut c = self.store().read().await?;
        orgs::by_invite_token_hash(&mut c, &self.secrets().lookup_hash(token))
            .await?
            .ok_or_else(bad_link)
    }

    /// Signs up (or joins, for an existing account) through the organization's invite link.
    pub async fn join_with_link(
        &self,
        token: &str,
        joiner: Joiner<'_>,
        ctx: &Context,
    ) -> Result<Joined> {
        let org = self.org_for_link(token).await?;
        let (user, new_hash, names) = self.resolve_joiner(&joiner, ctx).await?;
        let mut tx = self.store().write().await?;
        // The link may have been reset while the password was being checked: read it again
        // under the organization's lock (the membership path takes it again, harmlessly).
        orgs::lock_for_membership_change(&mut tx, org.id).await?;
        let org = orgs::by_invite_token_hash(&mut tx, &self.secrets().lookup_hash(token))
            .await?
            .filter(|o| o.id == org.id)
            .ok_or_else(bad_link)?;
        let (user, new_account) = self.user_for_join(&mut tx, user, new_hash, names).await?;
        let change = Change::Join {
            user: &user,
            via: JoinVia::Link,
        };
        let row = self
            .change_membership(&mut tx, org.id, &Actor::Joiner, change, ctx)
            .await?
            .ok_or_else(|| ServiceError::Internal("the joined membership vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(Joined {
            user: row.user,
            org: org.id,
            role: row.membership.role,
            new_account,
        })
    }

    /// Checks who is joining before the transaction (password hashing is slow): an existing
    /// account's password, or a new account's password policy.
    async fn resolve_joiner(
        &self,
        joiner: &Joiner<'_>,
        ctx: &Context,
    ) -> Result<(Option<UserRecord>, Option<String>, (String, String, String))> {
        match joiner {
            Joiner::SignedIn(who) => Ok((
                Some(who.user.clone()),
                None,
                (who.user.email.clone(), String::new(), String::new()),
            )),
            Joiner::Credentials {
                email,
                password,
                first_name,
                last_name,
            } => {
                // The whole request is checked before any account is looked up, so a malformed
                // sign-up is answered the same, and as fast, whatever the email.
                let email = normalize_email(email)?;
                let names = (
                    email.clone(),
                    check_name("first_name", first_name)?,
                    check_name("last_name", last_name)?,
                );
                passwords::check_policy(password)?;
                // A well-formed one costs a full password operation either way (checking an
                // existing account's, or hashing a new one's) and is throttled like sign-in.
                let keys = Keys::new(ctx.address.as_deref(), Some(&email));
                let reservation = self.throttle_reserve(&keys).await?;
                let existing = {
                    let mut c = self.store().read().await?;
                    users::by_email(&mut c, &email).await?
                };
                match existing {
                    Some(user) => {
                        let user = self
                            .verify_reserved(Some(user), password, reservation)
                            .await?;
                        // A password alone does not act for an account that signs in with
                        // a second factor; signed in, the person joins as themselves.
                        if self.has_second_factor(user.id).await? {
                            return Err(ServiceError::Forbidden(
                                "This account signs in with a second factor: sign in first \
                                 (with the code from your authenticator app), then open this \
                                 invite again to join."
                                    .into(),
                            ));
                        }
                        Ok((Some(user), None, names))
                    }
                    None => {
                        match self.password_hashing().hash(password.to_string()).await {
                            Ok(hashed) => {
                                self.throttle_release(reservation).await?;
                                Ok((None, Some(hashed), names))
                            }
                            Err(busy) => {
                                // Hashing that could not run evaluated nothing either.
                                self.throttle_unused(reservation).await?;
                                Err(busy)
                            }
                        }
                    }
                }
            }
        }
    }

    async fn user_for_join(
        &self,
        c: &mut WriteTx,
        user: Option<UserRecord>,
        new_hash: Option<String>,
        (email, first, last): (String, String, String),
    ) -> Result<(UserRecord, bool)> {
        match user {
            Some(u) => Ok((u, false)),
            None => Ok((
                self.insert_user(c, &email, &first, &last, new_hash.as_deref())
                    .await?,
                true,
            )),
        }
    }

    /// Sends personal invites with a role (and projects); each email that does not already
    /// hold a seat needs a free one.
    pub async fn send_invites(
        &self,
        by: &Authorized<Invite>,
        emails: &[String],
        role: Option<Role>,
        project_ids: &[ProjectId],
        workspace_ids: &[WorkspaceId],
    ) -> Result<Vec<InviteView>> {
        let check_role = |r: Role| {
            rules::check_invite_role(r).map_err(|e| ServiceError::invalid("role", e.to_string()))
        };
        if let Some(r) = role {
            check_role(r)?;
        }
        if emails.is_empty() || emails.len() > MAX_INVITES_PER_REQUEST {
            return Err(ServiceError::invalid(
                "emails",
                format!("give between 1 and {MAX_INVITES_PER_REQUEST} emails"),
            ));
        }
        let mut normalized: Vec<String> = emails
            .iter()
            .map(|e| normalize_email(e))
            .collect::<Result<_>>()?;
        normalized.sort();
        normalized.dedup();
        let now = self.now();
        let org = by.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let me = by.reread(&mut tx).await?;
        for w in workspace_ids {
            // Another organization's workspace reads as unknown; one the inviter may not
            // change is refused as changing it would be.
            let rec = roster_store::workspaces::by_id(&mut tx, *w)
                .await?
                .filter(|r| r.org == org)
                .ok_or_else(|| {
                    ServiceError::invalid(
                        "workspaces",
                        format!("workspace {w} is not in this organization"),
                    )
                })?;
            crate::workspaces::check_manage(&mut tx, &me, &rec).await?;
        }
        for p in project_ids {
            if projects::by_id(&mut tx, *p)
                .await?
                .filter(|p| p.org == org)
                .is_none()
            {
                return Err(ServiceError::invalid(
                    "projects",
                    format!("project {p} is not in this organization"),
                ));
            }
        }
        let org_rec = orgs::by_id(&mut tx, org)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        // Without a role the invite gives the organization's default role, read under the
        // lock that an update of it takes too.
        let role = role.unwrap_or(org_rec.default_role);
        check_role(role)?;
        // Someone below Administrator who was let invite gives only roles below their own.
        if !roster_domain::permissions::may_give_in_invite(me.role, role) {
            return Err(ServiceError::Forbidden(format!(
                "A {} may invite only into roles below their own, not as {}.",
                me.role.name(),
                role.name()
            )));
        }
        let mut without_seat = 0;
        for email in &normalized {
            if let Some(u) = users::by_email(&mut tx, email).await? {
                if members::live(&mut tx, org, u.id)
                    .await?
                    .is_some_and(|m| m.role.is_active())
                {
                    return Err(ServiceError::Conflict(format!(
                        "{email} is already an active member"
                    )));
                }
            }
            if !holds_invite_seat(&mut tx, org, email, now).await? {
                without_seat += 1;
            }
        }
        rules::check_invites_fit(
            role,
            without_seat,
            seat_usage(&mut tx, &org_rec, now).await?,
        )?;
        let mut sent = Vec::with_capacity(normalized.len());
        for email in &normalized {
            let token = random_token(32);
            let id = invites::insert(
                &mut tx,
                invites::NewInvite {
                    org,
                    email,
                    role,
                    projects: project_ids,
                    workspaces: workspace_ids,
                    token_hash: &self.secrets().lookup_hash(&token),
                    token_sealed: &self.secrets().seal(&token),
                    invited_by: Some(by.user.id),
                    now,
                    expires_at: now + self.config().invite_ttl,
                },
            )
            .await?;
            let event = Event::new(AuditAction::InviteSent, Some(&by.user))
                .change(None, format!("{email} as {}", role.code()));
            record(&mut tx, org, now, &by.context, event).await?;
            sent.push(InviteView {
                invite: InviteRecord {
                    id,
                    org,
                    email: email.clone(),
                    role,
                    projects: project_ids.to_vec(),
                    token_sealed: String::new(),
                    invited_by: Some(by.user.id),
                    created_at: now,
                    expires_at: now + self.config().invite_ttl,
                    accepted_at: None,
                    revoked_at: None,
                    workspaces: workspace_ids.to_vec(),
                },
                state: InviteState::Pending,
                url: Some(self.invite_url(&token)),
            });
        }
        roster_store::commit(tx).await?;
        self.mail_invites(&org_rec.title, &by.user, &sent).await;
        Ok(sent)
    }

    /// Mails each new invite when SMTP is configured. A failed delivery is logged and the
    /// invite stays usable from the outbox (`GET /api/invites/` shows its link).
    async fn mail_invites(&self, org_title: &str, inviter: &UserRecord, sent: &[InviteView]) {
        let who = crate::audit::display_name(inviter);
        self.mail_invites_from(org_title, &who, sent).await;
    }

    /// Mails invites in the name of `who` (a person, or an organization's identity provider).
    pub(crate) async fn mail_invites_from(&self, org_title: &str, who: &str, sent: &[InviteView]) {
        let Some(mailer) = self.mailer() else { return };
        for v in sent {
            let Some(url) = &v.url else { continue };
            let mail = crate::mail::Mail {
                to: v.invite.email.clone(),
                subject: format!("{who} invited you to {org_title}"),
                body: format!(
                    "{who} invited you to join {org_title} as {role}.\n\nCreate your account (or sign in with your existing one) here:\n{url}\n\nThe invite expires on {expires}.\n",
                    role = v.invite.role.name(),
                    expires = chrono::DateTime::from_timestamp_micros(v.invite.expires_at)
                        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                        .unwrap_or_default(),
                ),
            };
            if let Err(e) = mailer.send(mail).await {
                tracing::warn!(invite = v.invite.id.0, error = %e, "invite mail not delivered; it stays in the outbox");
            }
        }
    }

    pub(crate) fn invite_url(&self, token: &str) -> String {
        self.link(&format!("/user/signup/?invite={token}"))
    }

    /// Revokes every pending invite for an email; 404 when there is none.
    pub async fn revoke_invite(&self, by: &Authorized<Invite>, email: &str) -> Result<()> {
        let email = normalize_email(email)?;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, by.org.id).await?;
        by.reread(&mut tx).await?;
        if invites::revoke(&mut tx, by.org.id, &email, self.now()).await? == 0 {
            return Err(ServiceError::not_found(format!(
                "There is no pending invite for {email}."
            )));
        }
        let event = Event::new(AuditAction::InviteRevoked, Some(&by.user)).change(email, None);
        record(&mut tx, by.org.id, self.now(), &by.context, event).await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// The organization's invites with their states and, while pending, their links.
    pub async fn list_invites(
        &self,
        by: &Authorized<Invite>,
        page: PageRequest,
    ) -> Result<Page<InviteView>> {
        let mut c = self.store().read().await?;
        let now = self.now();
        let count = invites::count_of_org(&mut c, by.org.id).await?;
        let items = invites::of_org(&mut c, by.org.id, page.size, page.offset())
            .await?
            .into_iter()
            .map(|i| {
                let state = state_of(&i, now);
                let url = (state == InviteState::Pending)
                    .then(|| self.secrets().open(&i.token_sealed))
                    .flatten()
                    .map(|t| self.invite_url(&t));
                InviteView {
                    invite: i,
                    state,
                    url,
                }
            })
            .collect();
        Ok(Page { count, items })
    }

    /// A pending invite by its token, for the sign-up page.
    pub async fn pending_invite(&self, token: &str) -> Result<InviteRecord> {
        let mut c = self.store().read().await?;
        let invite = invites::by_token_hash(&mut c, &self.secrets().lookup_hash(token))
            .await?
            .ok_or_else(bad_invite)?;
        match state_of(&invite, self.now()) {
            InviteState::Pending => Ok(invite),
            InviteState::Accepted => Err(ServiceError::Forbidden(
                "This invite was already used; sign in instead.".into(),
            )),
            InviteState::Expired => Err(ServiceError::Forbidden(
                "This invite has expired; ask for a new one.".into(),
            )),
            InviteState::Revoked => Err(ServiceError::Forbidden("This invite was revoked.".into())),
        }
    }

    /// Accepts a personal invite: the person joins (or returns, as a new membership) in the
    /// invite's role and projects.
    pub async fn accept_invite(
        &self,
        token: &str,
        joiner: Joiner<'_>,
        ctx: &Context,
    ) -> Result<Joined> {
        let invite = self.pending_invite(token).await?;
        if let Joiner::Credentials { email, .. } = &joiner {
            if normalize_email(email)? != invite.email {
                return Err(ServiceError::invalid(
                    "email",
                    "This invite was sent to another email address.",
                ));
            }
        }
        if let Joiner::SignedIn(who) = &joiner {
            if who.user.email != invite.email {
                return Err(ServiceError::Forbidden(
                    "This invite was sent to another email address.".into(),
                ));
            }
        }
        let (user, new_hash, names) = self.resolve_joiner(&joiner, ctx).await?;
        let now = self.now();
        let org = invite.org;
        let mut tx = self.store().write().await?;
        let invite = invites::by_token_hash(&mut tx, &self.secrets().lookup_hash(token))
            .await?
            .ok_or_else(bad_invite)?;
        if state_of(&invite, now) != InviteState::Pending {
            return Err(bad_invite());
        }
        let (user, new_account) = self.user_for_join(&mut tx, user, new_hash, names).await?;
        let change = Change::Join {
            user: &user,
            via: JoinVia::Invite(&invite),
        };
        let row = self
            .change_membership(&mut tx, org, &Actor::Joiner, change, ctx)
            .await?
            .ok_or_else(|| ServiceError::Internal("the joined membership vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(Joined {
            user: row.user,
            org,
            role: row.membership.role,
            new_account,
        })
    }

    /// Starts a session for someone who just joined with their credentials.
    pub async fn session_for(&self, user: &UserRecord) -> Result<crate::accounts::NewSession> {
        self.start_session(user).await
    }
}

fn bad_link() -> ServiceError {
    ServiceError::Forbidden(
        "This invite link is not valid (it may have been reset); ask for a new one.".into(),
    )
}

fn bad_invite() -> ServiceError {
    ServiceError::Forbidden("This invite is not valid; ask for a new one.".into())
}
