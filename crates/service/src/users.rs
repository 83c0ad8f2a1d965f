//! Users as the API shows them: the caller's own account, and the users of an organization.

use roster_domain::{policy, preferences, rules, Access, AuditAction, MemberOrder, OrgId, UserId};
use roster_store::{
    credentials, members, users, MemberRow, MembershipRecord, Micros, Preferences, UserRecord,
};

use crate::accounts::{check_name, NewSession};
use crate::audit::{record, Event};
use crate::membership::{Actor, Change, JoinVia};
use crate::{
    passwords, Admin, Authenticated, Authorized, Context, CredentialKind, Member, Result, Service,
    ServiceError, Staff,
};

/// The caller with their live memberships.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRecord,
    pub memberships: Vec<MembershipRecord>,
    /// The active organization's permissions when they were read with the credential
    /// (`Service::active_grants` reads them otherwise).
    pub(crate) active_grants: Option<roster_domain::Grants>,
}

impl CurrentUser {
    /// The caller's role in their active organization.
    pub fn active_role(&self) -> Option<roster_domain::Role> {
        self.memberships
            .iter()
            .find(|m| Some(m.org) == self.user.active_org)
            .map(|m| m.role)
    }

    /// Whether the caller holds `access` in their active organization (what pages offer).
    pub fn may_in_active_org(&self, access: Access) -> bool {
        self.active_role()
            .is_some_and(|r| policy::allows(r, access))
    }

    /// The permission names the caller holds in their active organization, whose
    /// configurable permissions are `grants` (see `Service::active_grants`).
    pub fn permissions(&self, grants: &roster_domain::Grants) -> Vec<&'static str> {
        self.active_role()
            .map(|role| roster_domain::permissions::permission_names(role, grants))
            .unwrap_or_default()
    }
}

/// A password change: the current password proves it is the person, the new one replaces it.
/// Without the current password only a request that carries a token credential (a legacy
/// key or an access token, as the SDK sends) may change it, as Label Studio allows: whoever
/// holds such a token already acts fully as the person, while a browser session may be one
/// left open on a shared machine.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChange<'a> {
    pub current: Option<&'a str>,
    pub new: &'a str,
}

/// A partial profile update; `None` leaves a field unchanged.
#[derive(Debug, Clone, Default)]
pub struct ProfilePatch {
    pub username: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub active_organization: Option<OrgId>,
    pub preferences: PreferencesPatch,
    /// Read-only attributes the SDK sends back: accepted when they equal what the account
    /// has, refused (naming the field) when they would change it.
    pub is_email_verified: Option<bool>,
    pub date_joined: Option<chrono::DateTime<chrono::FixedOffset>>,
}

/// A change of the person's own preferences; `None` leaves one as it is.
#[derive(Debug, Clone, Default)]
pub struct PreferencesPatch {
    pub allow_newsletters: Option<bool>,
    pub custom_hotkeys: Option<serde_json::Value>,
    pub email_notification_settings: Option<serde_json::Value>,
    pub onboarding_state: Option<String>,
}

impl PreferencesPatch {
    fn is_empty(&self) -> bool {
        self.allow_newsletters.is_none()
            && self.custom_hotkeys.is_none()
            && self.email_notification_settings.is_none()
            && self.onboarding_state.is_none()
    }
}

impl ProfilePatch {
    fn names_only(&self) -> bool {
        self.username.is_none()
            && self.phone.is_none()
            && self.active_organization.is_none()
            && self.preferences.is_empty()
    }
}

/// roster sends no verification mail and keeps no verified flag: every account reads as not
/// verified, and nobody (least an organization's admin, for a person who may belong to other
/// organizations too) may mark one verified.
pub const EMAIL_VERIFIED: bool = false;

fn refused(field: &'static str) -> impl Fn(preferences::Refused) -> ServiceError {
    move |e| ServiceError::invalid(field, e.0)
}

/// The preferences after `p`, each checked.
fn apply_preferences(before: &Preferences, p: &PreferencesPatch) -> Result<Preferences> {
    let mut after = before.clone();
    if let Some(v) = p.allow_newsletters {
        after.allow_newsletters = Some(v);
    }
    if let Some(v) = &p.custom_hotkeys {
        after.custom_hotkeys = preferences::check_hotkeys(v).map_err(refused("custom_hotkeys"))?;
    }
    if let Some(v) = &p.email_notification_settings {
        after.email_notification_settings = preferences::check_notification_settings(v)
            .map_err(refused("email_notification_settings"))?;
    }
    if let Some(v) = &p.onboarding_state {
        after.onboarding_state =
            Some(preferences::check_onboarding_state(v).map_err(refused("onboarding_state"))?);
    }
    Ok(after)
}

fn check_read_only(user: &UserRecord, p: &ProfilePatch) -> Result<()> {
    if p.is_email_verified.is_some_and(|v| v != EMAIL_VERIFIED) {
        return Err(ServiceError::invalid(
            "is_email_verified",
            "is read-only: roster does not verify email addresses, so it cannot be changed",
        ));
    }
    if let Some(when) = p.date_joined {
        if when.timestamp_micros() != user.date_joined {
            return Err(ServiceError::invalid(
                "date_joined",
                "is read-only: it is when the account was made",
            ));
        }
    }
    Ok(())
}

fn apply(user: &UserRecord, p: &ProfilePatch) -> Result<UserRecord> {
    check_read_only(user, p)?;
    let mut u = user.clone();
    u.preferences = apply_preferences(&user.preferences, &p.preferences)?;
    if let Some(v) = &p.first_name {
        u.first_name = check_name("first_name", v)?;
    }
    if let Some(v) = &p.last_name {
        u.last_name = check_name("last_name", v)?;
    }
    if let Some(v) = &p.phone {
        u.phone = check_name("phone", v)?;
    }
    if let Some(v) = &p.username {
        u.username = check_username(v, &user.email)?;
    }
    Ok(u)
}

/// A username is shown as its person wherever their work appears, so a username that looks
/// like an email must be the account's own (nobody can squat a future colleague's address);
/// uniqueness, case-insensitive like emails, is kept by the store's unique index.
fn check_username(raw: &str, own_email: &str) -> Result<String> {
    let v = check_name("username", raw)?;
    if v.is_empty() {
        return Err(ServiceError::invalid("username", "must not be empty"));
    }
    if v.contains('@') && roster_store::users::fold(&v) != own_email {
        return Err(ServiceError::invalid(
            "username",
            "A username that looks like an email address must be your own email address.",
        ));
    }
    Ok(v)
}

async fn write_profile(c: &mut roster_store::WriteTx, u: &UserRecord) -> Result<()> {
    users::update_profile(
        c,
        u.id,
        users::ProfileUpdate {
            username: &u.username,
            first_name: &u.first_name,
            last_name: &u.last_name,
            phone: &u.phone,
        },
    )
    .await
    .map_err(|e| match e {
        roster_store::StoreError::Duplicate => {
            ServiceError::invalid("username", "This username is taken; choose another.")
        }
        other => other.into(),
    })?;
    users::update_preferences(c, u.id, &u.preferences).await?;
    Ok(())
}

impl Service {
    /// The caller with their live memberships and their active organization's permissions,
    /// all as read with the credential for this request: `whoami` costs no query beyond
    /// authentication.
    pub fn current_user(&self, who: &Authenticated) -> CurrentUser {
        CurrentUser {
            user: who.user.clone(),
            memberships: who.memberships.clone(),
            active_grants: who
                .user
                .active_org
                .and_then(|org| who.org_access(org))
                .map(|a| a.grants.clone()),
        }
    }

    /// Updates the caller's own profile, including which organization is active, and
    /// changes their password when asked to, all in one transaction: a request that fails on
    /// any field changes nothing. A password change ends every browser session of the person;
    /// a caller signed in with a session continues in a new one (returned here). Legacy keys
    /// and personal access tokens are credentials of their own and stay valid.
    pub async fn update_current_user(
        &self,
        who: &Authenticated,
        patch: ProfilePatch,
        password: Option<PasswordChange<'_>>,
        ctx: &Context,
    ) -> Result<(CurrentUser, Option<NewSession>)> {
        who.check_personal("change your account")?;
        // The slow, throttled password work happens before the transaction opens.
        let new_hash = match &password {
            Some(change) => {
                passwords::check_policy(change.new)?;
                match (change.current, who.kind) {
                    (Some(current), _) => {
                        self.check_password(&who.user.email, current, ctx)
                            .await
                            .map_err(|e| match e {
                                ServiceError::Unauthenticated(_) => {
                                    ServiceError::invalid("current_password", "is not correct")
                                }
                                other => other,
                            })?;
                    }
                    (None, CredentialKind::Session) => {
                        return Err(ServiceError::invalid(
                            "current_password",
                            "is required to change the password when signed in with a browser \
                             session",
                        ))
                    }
                    (None, CredentialKind::LegacyKey | CredentialKind::AccessToken) => {}
                }
                Some(self.password_hashing().hash(change.new.to_string()).await?)
            }
            None => None,
        };
        let mut tx = self.store().write().await?;
        let before = users::by_id(&mut tx, who.user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("account"))?;
        let after = apply(&before, &patch)?;
        if let Some(org) = patch.active_organization {
            if members::live(&mut tx, org, who.user.id).await?.is_none() {
                return Err(ServiceError::invalid(
                    "active_organization",
                    format!("you are not a member of organization {org}"),
                ));
            }
            users::set_active_org(&mut tx, who.user.id, Some(org)).await?;
        }
        write_profile(&mut tx, &after).await?;
        let mut session = None;
        if let Some(hash) = new_hash {
            users::set_password(&mut tx, who.user.id, &hash).await?;
            credentials::delete_sessions_of(&mut tx, who.user.id).await?;
            if who.kind == CredentialKind::Session {
                // The new session keeps what this one's sign-in proved.
                session = Some(
                    self.insert_session_tx(&mut tx, who.user.id, None, who.second_factor)
                        .await?,
                );
            }
            if let Some(org) = before.active_org {
                record(
                    &mut tx,
                    org,
                    self.now(),
                    ctx,
                    Event::new(AuditAction::PasswordChanged, Some(&before)).target(&before),
                )
                .await?;
            }
        }
        let user = users::by_id(&mut tx, who.user.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("account"))?;
        let memberships = members::of_user(&mut tx, who.user.id).await?;
        roster_store::commit(tx).await?;
        let me = CurrentUser {
            user,
            memberships,
            active_grants: None,
        };
        Ok((me, session))
    }

    /// Users who are live members of the organization, by email.
    pub async fn list_users(
        &self,
        by: &Authorized<Staff>,
        order: (MemberOrder, bool),
        limit: i64,
        offset: i64,
    ) -> Result<Vec<MemberRow>> {
        let mut c = self.store().read().await?;
        Ok(members::live_users(&mut c, by.org.id, order, limit, offset).await?)
    }

    /// One user of the organization: anyone may read themselves, staff may read any member.
    pub async fn get_user(&self, by: &Authorized<Member>, id: UserId) -> Result<MemberRow> {
        if id != by.user.id {
            by.require::<Staff>()?;
        }
        let mut c = self.store().read().await?;
        members::live_with_user(&mut c, by.org.id, id)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!("No user with id {id} in this organization."))
            })
    }

    /// Edits a user: members edit themselves; Owners and Administrators may edit the names of
    /// a member who belongs to this organization alone (never the Owner's, by an
    /// Administrator), audited here (PRODUCT.md rule 11).
    pub async fn update_user(
        &self,
        by: &Authorized<Member>,
        id: UserId,
        patch: ProfilePatch,
    ) -> Result<MemberRow> {
        let someone_else = id != by.user.id;
        if someone_else {
            policy::check(by.role(), Access::Admin)?;
            if !patch.names_only() {
                return Err(ServiceError::Forbidden(
                    "You may change only the first and last name of another member.".into(),
                ));
            }
        }
        let mut tx = self.store().write().await?;
        let row = members::live_with_user(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!("No user with id {id} in this organization."))
            })?;
        if someone_else {
            // The actor's role is read again here, in the transaction that writes.
            let actor = members::live(&mut tx, by.org.id, by.user.id)
                .await?
                .ok_or_else(|| ServiceError::not_found("organization"))?;
            policy::check(actor.role, Access::Admin)?;
            let memberships = members::of_user(&mut tx, id).await?.len();
            rules::check_name_edit(actor.role, row.membership.role, memberships)?;
        }
        let after = apply(&row.user, &patch)?;
        if let Some(org) = patch.active_organization {
            if members::live(&mut tx, org, id).await?.is_none() {
                return Err(ServiceError::invalid(
                    "active_organization",
                    format!("not a member of organization {org}"),
                ));
            }
            users::set_active_org(&mut tx, id, Some(org)).await?;
        }
        write_profile(&mut tx, &after).await?;
        let renamed =
            (row.user.first_name != after.first_name) || (row.user.last_name != after.last_name);
        if someone_else && renamed {
            let name = |u: &UserRecord| format!("{} {}", u.first_name, u.last_name);
            let event = Event::new(AuditAction::MemberRenamed, Some(&by.user))
                .target(&row.user)
                .change(Some(name(&row.user)), name(&after));
            record(&mut tx, by.org.id, self.now(), &by.context, event).await?;
        }
        let row = members::live_with_user(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found("user"))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }
}

/// Who `create_user` is asked to add.
#[derive(Debug, Clone)]
pub struct NewPerson {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

impl Service {
    /// Adds a person to the caller's organization with its default role, as Label Studio
    /// Enterprise's `POST /api/users/` does. An email without an account gets one (no
    /// password: they sign in through single sign-on or ask for a set-password link) and a
    /// membership through the one membership path. An email that already has an account
    /// gets a personal invite with the default role instead, and joins when the person
    /// accepts it: the answer is the same in both cases (the person as this organization now
    /// knows them: the names it was given), so the call tells nothing about the person's
    /// other organizations.
    pub async fn create_user(&self, by: &Authorized<Admin>, new: NewPerson) -> Result<UserRecord> {
        // Adding a person is inviting them: the Owner may have withdrawn that from Administrators.
        let inviter = by.require::<crate::Invite>()?;
        let email = crate::accounts::normalize_email(&new.email)?;
        let first = check_name("first_name", &new.first_name)?;
        let last = check_name("last_name", &new.last_name)?;
        let mut tx = self.store().write().await?;
        if !roster_store::orgs::lock_for_membership_change(&mut tx, by.org.id).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        let existing = users::by_email(&mut tx, &email).await?;
        let Some(account) = existing else {
            let org = roster_store::orgs::by_id(&mut tx, by.org.id)
                .await?
                .ok_or_else(|| ServiceError::not_found("organization"))?;
            let user = self
                .insert_user(&mut tx, &email, &first, &last, None)
                .await?;
            let change = Change::Join {
                user: &user,
                via: JoinVia::Direct(org.default_role),
            };
            let actor = Actor::Member(by.user.clone());
            self.change_membership(&mut tx, by.org.id, &actor, change, &by.context)
                .await?;
            roster_store::commit(tx).await?;
            let joined = user.date_joined;
            return Ok(as_created(user, &first, &last, joined));
        };
        if members::live(&mut tx, by.org.id, account.id)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "{email} is already a member of this organization"
            )));
        }
        drop(tx);
        self.send_invites(&inviter, std::slice::from_ref(&email), None, &[], &[])
            .await?;
        Ok(as_created(account, &first, &last, self.now()))
    }
}

/// The person as `create_user` answers them, the same whether the account is new or not:
/// the email and the names the caller gave, nothing the account holds elsewhere. `joined` is
/// the moment of the call for an existing account: its real age is the person's own.
fn as_created(account: UserRecord, first: &str, last: &str, joined: Micros) -> UserRecord {
    UserRecord {
        date_joined: joined,
        username: account.email.clone(),
        first_name: first.to_string(),
        last_name: last.to_string(),
        phone: String::new(),
        password_hash: None,
        active_org: None,
        last_activity: None,
        preferences: Preferences::default(),
        ..account
    }
}
