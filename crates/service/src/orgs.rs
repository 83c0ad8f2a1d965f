//! Organizations: creation (CLI), settings, seats, and token settings.

use roster_domain::rules::OwnerSetting;
use roster_domain::{rules, AuditAction, OrgId, Role, SeatUsage};
use roster_store::{members, orgs, Conn, OrgRecord, UserRecord, WriteTx};

use crate::accounts::normalize_email;
use crate::audit::{record, Event};
use crate::membership::{Actor, Change, JoinVia};
use crate::{passwords, Admin, Authenticated, Authorized, Context, Result, Service, ServiceError};

/// What creating an organization produced.
#[derive(Debug, Clone)]
pub struct CreatedOrg {
    pub org: OrgRecord,
    pub owner: UserRecord,
    /// A one-time set-password link, when the Owner's account has no password yet.
    pub set_password_link: Option<String>,
}

/// A partial update of organization settings; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OrgPatch {
    pub title: Option<String>,
    pub contact_info: Option<Option<String>>,
    pub seat_limit: Option<Option<i64>>,
    pub default_role: Option<Role>,
    pub manual_role_management: Option<bool>,
    /// People may change by hand workspace memberships an identity provider gave.
    pub manual_workspace_management: Option<bool>,
    /// People may change by hand project memberships an identity provider gave.
    pub manual_project_member_management: Option<bool>,
    /// Members sign in through the identity provider only (the Owner's alone to change).
    pub sso_only: Option<bool>,
}

/// The organization's settings on hand changes of what its identity provider manages, as the
/// SCIM and SAML settings show and change them alongside the mapping; what is None stays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ManualManagement {
    pub roles: Option<bool>,
    pub workspaces: Option<bool>,
    pub project_members: Option<bool>,
}

impl ManualManagement {
    pub fn is_empty(&self) -> bool {
        *self == ManualManagement::default()
    }

    /// The settings as they are after this change of `org`'s.
    pub fn applied_to(&self, org: &OrgRecord) -> OrgRecord {
        let mut after = org.clone();
        if let Some(m) = self.roles {
            after.manual_role_management = m;
        }
        if let Some(m) = self.workspaces {
            after.manual_workspace_management = m;
        }
        if let Some(m) = self.project_members {
            after.manual_project_member_management = m;
        }
        after
    }
}

/// Token settings of one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenSettings {
    pub api_tokens_enabled: bool,
    pub legacy_api_tokens_enabled: bool,
    pub api_token_ttl_days: i64,
}

/// A partial change of the token settings (the SDK sends only what it changes); `None`
/// keeps the stored value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenSettingsPatch {
    pub api_tokens_enabled: Option<bool>,
    pub legacy_api_tokens_enabled: Option<bool>,
    pub api_token_ttl_days: Option<i64>,
}

impl TokenSettings {
    fn of(o: &OrgRecord) -> TokenSettings {
        TokenSettings {
            api_tokens_enabled: o.api_tokens_enabled,
            legacy_api_tokens_enabled: o.legacy_api_tokens_enabled,
            api_token_ttl_days: o.api_token_ttl_days,
        }
    }
}

pub(crate) fn check_title(title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() {
        return Err(ServiceError::invalid("title", "must not be empty"));
    }
    if t.chars().count() > 1000 {
        return Err(ServiceError::invalid(
            "title",
            "must be at most 1000 characters",
        ));
    }
    Ok(t.to_string())
}

/// Seats as counted inside the caller's transaction.
pub(crate) async fn seat_usage(c: &mut Conn, org: &OrgRecord, now: i64) -> Result<SeatUsage> {
    Ok(SeatUsage {
        limit: org.seat_limit,
        active: members::count_active(c, org.id).await?,
        pending_invites: members::count_invite_seats(c, org.id, now).await?,
    })
}

impl Service {
    /// Creates an organization with its Owner. An Owner without an account gets one, with a
    /// set-password link unless a password is given.
    pub async fn create_org(
        &self,
        title: &str,
        owner_email: &str,
        owner_password: Option<&str>,
        ctx: &Context,
    ) -> Result<CreatedOrg> {
        self.create_org_inner(title, owner_email, owner_password, ctx, false)
            .await
    }

    /// `roster init`: the first organization; refused when one exists.
    pub async fn init_first_org(
        &self,
        title: &str,
        owner_email: &str,
        owner_password: Option<&str>,
        ctx: &Context,
    ) -> Result<CreatedOrg> {
        self.create_org_inner(title, owner_email, owner_password, ctx, true)
            .await
    }

    async fn create_org_inner(
        &self,
        title: &str,
        owner_email: &str,
        owner_password: Option<&str>,
        ctx: &Context,
        first_only: bool,
    ) -> Result<CreatedOrg> {
        let title = check_title(title)?;
        let email = normalize_email(owner_email)?;
        let hash = match owner_password {
            Some(p) => {
                passwords::check_policy(p)?;
                Some(self.password_hashing().hash(p.to_string()).await?)
            }
            None => None,
        };
        let now = self.now();
        let mut tx = self.store().write().await?;
        if first_only && orgs::count(&mut tx).await? > 0 {
            return Err(ServiceError::Conflict(
                "roster is already initialized; use `roster org create` to add another organization".into(),
            ));
        }
        let (owner, new_account) = match roster_store::users::by_email(&mut tx, &email).await? {
            Some(u) => (u, false),
            None => (
                self.insert_user(&mut tx, &email, "", "", hash.as_deref())
                    .await?,
                true,
            ),
        };
        let (_, invite_token) = self.new_invite_token();
        let org_id = orgs::insert(&mut tx, &title, &invite_token, owner.id, now).await?;
        let founding = Change::Join {
            user: &owner,
            via: JoinVia::Founding,
        };
        self.change_membership(&mut tx, org_id, &Actor::Operator, founding, ctx)
            .await?;
        let link = if new_account && hash.is_none() {
            Some(self.password_link_tx(&mut tx, &owner).await?)
        } else {
            None
        };
        record(
            &mut tx,
            org_id,
            now,
            ctx,
            Event::new(AuditAction::OrganizationCreated, None)
                .target(&owner)
                .change(None, title),
        )
        .await?;
        let org = orgs::by_id(&mut tx, org_id)
            .await?
            .ok_or_else(|| ServiceError::Internal("org vanished".into()))?;
        let owner = roster_store::users::by_id(&mut tx, owner.id)
            .await?
            .unwrap_or(owner);
        roster_store::commit(tx).await?;
        Ok(CreatedOrg {
            org,
            owner,
            set_password_link: link,
        })
    }

    /// The caller's organizations (live memberships of any role).
    /// A single-sign-on session sees only the organization that started it.
    pub async fn my_orgs(&self, who: &Authenticated) -> Result<Vec<OrgRecord>> {
        let mut c = self.store().read().await?;
        let all = orgs::of_user(&mut c, who.user.id).await?;
        Ok(match who.sso_org {
            Some(only) => all.into_iter().filter(|o| o.id == only).collect(),
            None => all,
        })
    }

    /// Applies a settings patch. The seat limit and single sign-on only are the Owner's alone.
    pub async fn update_org(&self, by: &Authorized<Admin>, patch: OrgPatch) -> Result<OrgRecord> {
        check_owner_settings(by.role(), &patch)?;
        if let Some(Some(limit)) = patch.seat_limit {
            if limit < 0 {
                return Err(ServiceError::invalid(
                    "seat_limit",
                    "must be zero or more, or null for no limit",
                ));
            }
        }
        if let Some(role) = patch.default_role {
            rules::check_default_role(role)?;
        }
        let title = patch.title.as_deref().map(check_title).transpose()?;
        let contact = patch
            .contact_info
            .clone()
            .map(|c| c.map(|s| check_contact(&s)).transpose())
            .transpose()?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        if !orgs::lock_for_membership_change(&mut tx, by.org.id).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        let actor = by.reread(&mut tx).await?;
        check_owner_settings(actor.role, &patch)?;
        let before = orgs::by_id(&mut tx, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        if patch.sso_only == Some(true) && !before.sso_only {
            crate::sso_only::check_ready(&mut tx, &before, &by.user).await?;
        }
        let mut after = before.clone();
        if let Some(t) = title {
            after.title = t;
        }
        if let Some(c) = contact {
            after.contact_info = c;
        }
        if let Some(limit) = patch.seat_limit {
            after.seat_limit = limit;
        }
        if let Some(role) = patch.default_role {
            after.default_role = role;
        }
        let mut after = ManualManagement {
            roles: patch.manual_role_management,
            workspaces: patch.manual_workspace_management,
            project_members: patch.manual_project_member_management,
        }
        .applied_to(&after);
        if let Some(on) = patch.sso_only {
            after.sso_only = on;
        }
        orgs::update(&mut tx, &after).await?;
        self.audit_org_changes(&mut tx, by, &before, &after, now)
            .await?;
        roster_store::commit(tx).await?;
        Ok(after)
    }

    /// Changes the manual-management settings in the caller's transaction (the SCIM and SAML
    /// settings carry them), each change an audit event as an organization update records it.
    pub(crate) async fn set_manual_management(
        &self,
        tx: &mut WriteTx,
        by: &Authorized<Admin>,
        change: ManualManagement,
        now: i64,
    ) -> Result<OrgRecord> {
        let before = orgs::by_id(tx, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("No such organization."))?;
        let after = change.applied_to(&before);
        if after != before {
            orgs::update(tx, &after).await?;
            self.audit_org_changes(tx, by, &before, &after, now).await?;
        }
        Ok(after)
    }

    async fn audit_org_changes(
        &self,
        c: &mut WriteTx,
        by: &Authorized<Admin>,
        before: &OrgRecord,
        after: &OrgRecord,
        now: i64,
    ) -> Result<()> {
        let limit = |l: Option<i64>| {
            l.map(|n| n.to_string())
                .unwrap_or_else(|| "unlimited".into())
        };
        let mut events = Vec::new();
        if before.seat_limit != after.seat_limit {
            events.push((
                AuditAction::SeatLimitChanged,
                limit(before.seat_limit),
                limit(after.seat_limit),
            ));
        }
        if before.default_role != after.default_role {
            events.push((
                AuditAction::DefaultRoleChanged,
                before.default_role.code().into(),
                after.default_role.code().into(),
            ));
        }
        if before.title != after.title {
            events.push((
                AuditAction::OrganizationUpdated,
                format!("title={}", before.title),
                format!("title={}", after.title),
            ));
        }
        if before.contact_info != after.contact_info {
            let show =
                |c: &Option<String>| format!("contact_info={}", c.clone().unwrap_or_default());
            events.push((
                AuditAction::OrganizationUpdated,
                show(&before.contact_info),
                show(&after.contact_info),
            ));
        }
        for (name, old, new) in [
            (
                "manual_role_management",
                before.manual_role_management,
                after.manual_role_management,
            ),
            (
                "manual_workspace_management",
                before.manual_workspace_management,
                after.manual_workspace_management,
            ),
            (
                "manual_project_member_management",
                before.manual_project_member_management,
                after.manual_project_member_management,
            ),
            ("sso_only", before.sso_only, after.sso_only),
        ] {
            if old != new {
                events.push((
                    AuditAction::OrganizationUpdated,
                    format!("{name}={old}"),
                    format!("{name}={new}"),
                ));
            }
        }
        for (action, old, new) in events {
            record(
                c,
                by.org.id,
                now,
                &by.context,
                Event::new(action, Some(&by.user)).change(old, new),
            )
            .await?;
        }
        Ok(())
    }

    /// Seat usage now.
    pub async fn seats(&self, by: &Authorized<Admin>) -> Result<SeatUsage> {
        let mut c = self.store().read().await?;
        let org = orgs::by_id(&mut c, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        seat_usage(&mut c, &org, self.now()).await
    }

    /// Sets the seat limit from the CLI (as the Owner).
    pub async fn set_seat_limit(&self, org: OrgId, limit: Option<i64>) -> Result<OrgRecord> {
        let owner: Authorized<Admin> = self.operator_acting_as_owner(org).await?;
        self.update_org(
            &owner,
            OrgPatch {
                seat_limit: Some(limit),
                ..OrgPatch::default()
            },
        )
        .await
    }

    /// Switches single sign-on only from the CLI (as the Owner, whose second factor switching
    /// it on still needs).
    pub async fn operator_set_sso_only(&self, org: OrgId, on: bool) -> Result<OrgRecord> {
        let owner: Authorized<Admin> = self.operator_acting_as_owner(org).await?;
        let patch = OrgPatch {
            sso_only: Some(on),
            ..OrgPatch::default()
        };
        self.update_org(&owner, patch).await
    }

    pub async fn token_settings(&self, by: &Authorized<Admin>) -> Result<TokenSettings> {
        let mut c = self.store().read().await?;
        let o = orgs::by_id(&mut c, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        Ok(TokenSettings::of(&o))
    }

    pub async fn update_token_settings(
        &self,
        by: &Authorized<Admin>,
        new: TokenSettingsPatch,
    ) -> Result<TokenSettings> {
        if new
            .api_token_ttl_days
            .is_some_and(|d| !(1..=73_000).contains(&d))
        {
            return Err(ServiceError::invalid(
                "api_token_ttl_days",
                "must be between 1 and 73000",
            ));
        }
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let before = orgs::by_id(&mut tx, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        let mut after = before.clone();
        if let Some(v) = new.api_tokens_enabled {
            after.api_tokens_enabled = v;
        }
        if let Some(v) = new.legacy_api_tokens_enabled {
            after.legacy_api_tokens_enabled = v;
        }
        if let Some(v) = new.api_token_ttl_days {
            after.api_token_ttl_days = v;
        }
        orgs::update(&mut tx, &after).await?;
        let show = |o: &OrgRecord| {
            format!(
                "api_tokens_enabled={} legacy_api_tokens_enabled={} api_token_ttl_days={}",
                o.api_tokens_enabled, o.legacy_api_tokens_enabled, o.api_token_ttl_days
            )
        };
        if before != after {
            record(
                &mut tx,
                by.org.id,
                self.now(),
                &by.context,
                Event::new(AuditAction::TokenSettingsChanged, Some(&by.user))
                    .change(show(&before), show(&after)),
            )
            .await?;
        }
        roster_store::commit(tx).await?;
        Ok(TokenSettings::of(&after))
    }
}

/// The settings of a patch that only the Owner may change, checked against `role`.
fn check_owner_settings(role: Role, patch: &OrgPatch) -> Result<()> {
    if patch.seat_limit.is_some() {
        rules::check_owner_setting(role, OwnerSetting::SeatLimit)?;
    }
    if patch.sso_only.is_some() {
        rules::check_owner_setting(role, OwnerSetting::SsoOnly)?;
    }
    Ok(())
}

fn check_contact(s: &str) -> Result<String> {
    if s.chars().count() > 1000 {
        return Err(ServiceError::invalid(
            "contact_info",
            "must be at most 1000 characters",
        ));
    }
    Ok(s.trim().to_string())
}

impl Service {
    /// An organization's title, for pages that name it.
    pub async fn org_title(&self, org: OrgId) -> Result<String> {
        let mut c = self.store().read().await?;
        orgs::by_id(&mut c, org)
            .await?
            .map(|o| o.title)
            .ok_or_else(|| ServiceError::not_found("organization"))
    }
}

impl Service {
    /// Seats in use in every organization, for monitoring.
    pub async fn seats_in_use(&self) -> Result<Vec<(OrgId, i64)>> {
        let mut c = self.store().read().await?;
        let now = self.now();
        let mut out = Vec::new();
        for org in orgs::all(&mut c).await? {
            out.push((org.id, seat_usage(&mut c, &org, now).await?.used()));
        }
        Ok(out)
    }
}

/// What `/api/billing/info` reports of an organization: its seats and what it holds.
#[derive(Debug, Clone)]
pub struct BillingFigures {
    pub org: OrgRecord,
    pub seats: SeatUsage,
    pub projects: i64,
    pub annotations: i64,
    /// Whether invite mail goes out through SMTP (otherwise it waits in the outbox).
    pub email_configured: bool,
}

impl Service {
    /// Seat and usage figures for the Owner (Label Studio Enterprise shows billing to the
    /// Owner alone).
    pub async fn billing_figures(&self, by: &Authorized<crate::Owner>) -> Result<BillingFigures> {
        let mut c = self.store().read().await?;
        let org = orgs::by_id(&mut c, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        let seats = seat_usage(&mut c, &org, self.now()).await?;
        let (projects, annotations) =
            roster_store::projects::totals_of_org(&mut c, by.org.id).await?;
        Ok(BillingFigures {
            org,
            seats,
            projects,
            annotations,
            email_configured: self.mailer().is_some(),
        })
    }
}
