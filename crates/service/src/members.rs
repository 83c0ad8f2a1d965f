//! Members: the list, one member's details, role assignment (activation, deactivation,
//! reactivation, ownership transfer) and deletion. The rules are the domain's; this module
//! gathers their inputs inside one transaction, applies the decision and records it.

use roster_domain::policy::{self, Access};
use roster_domain::rules::{self, OrgRules, Origin, Party, SeatFacts};
use roster_domain::{AuditAction, OrgId, Role, RoleChange, RoleSource, Source, UserId};
use std::collections::HashMap;
use std::sync::Mutex;

use roster_store::members::{MemberQuery, PageEnd};
use roster_store::{invites, members, orgs, users, Conn, MemberRow, MembershipRecord, UserRecord};

use crate::audit::{record, Event};
use crate::orgs::seat_usage;
use crate::{Admin, Authorized, Context, Page, PageRequest, Result, Service, ServiceError, Staff};

/// Where recently served member-list pages ended, per query, page size and page number. Kept
/// in memory per node and safe when stale: a page sought from an old anchor starts right
/// after a row the caller has seen, so a walk never repeats or skips members that stayed.
#[derive(Debug, Default)]
pub struct PageAnchors(Mutex<HashMap<(MemberQuery, i64, i64), PageEnd>>);

/// Anchors kept at most; the map starts afresh beyond this (cold jumps stay correct).
const MAX_ANCHORS: usize = 50_000;

impl PageAnchors {
    fn get(&self, q: &MemberQuery, size: i64, page: i64) -> Option<PageEnd> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(q.clone(), size, page)).cloned()
    }

    fn put(&self, q: MemberQuery, size: i64, page: i64, end: PageEnd) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ANCHORS {
            map.clear();
        }
        map.insert((q, size, page), end);
    }
}

/// One member's details, with the work they did under this membership.
#[derive(Debug, Clone)]
pub struct MemberDetail {
    pub member: MemberRow,
    pub annotations_count: i64,
    pub contributed_projects_count: i64,
}

pub(crate) fn party(m: &MembershipRecord) -> Party {
    Party {
        user: m.user,
        role: m.role,
        source: m.role_source,
    }
}

/// Who changes a role and how: a person (web, REST, CLI) or an identity provider, the
/// source the membership will record, and where the request came from.
struct Changer<'a> {
    actor: Option<&'a UserRecord>,
    origin: Origin,
    source: RoleSource,
    ctx: &'a Context,
}

/// The role source a manual change records.
fn manual_source(ctx: &Context) -> RoleSource {
    match ctx.source {
        Source::Api => RoleSource::Api,
        Source::Ui | Source::Cli => RoleSource::Manual,
    }
}

fn no_member(user: UserId) -> ServiceError {
    ServiceError::not_found(format!(
        "No member with user id {user} in this organization."
    ))
}

/// The acting member, re-read inside the transaction: the proof the caller brought was
/// checked at the start of the request, and this keeps the decision on current data.
async fn acting_member(
    c: &mut Conn,
    org: OrgId,
    user: &UserRecord,
    needed: Access,
) -> Result<MembershipRecord> {
    let m = members::live(c, org, user.id)
        .await?
        .ok_or_else(|| ServiceError::not_found("No such organization."))?;
    policy::check(m.role, needed)?;
    Ok(m)
}

/// Moves a user's active organization away from `org` to another live membership, or none.
pub(crate) async fn move_active_org_from(c: &mut Conn, user: UserId, org: OrgId) -> Result<()> {
    let Some(u) = users::by_id(c, user).await? else {
        return Ok(());
    };
    if u.active_org == Some(org) {
        let next = members::of_user(c, user)
            .await?
            .into_iter()
            .find(|m| m.org != org)
            .map(|m| m.org);
        users::set_active_org(c, user, next).await?;
    }
    Ok(())
}

impl Service {
    /// The member list, filtered, ordered and paged. A page that follows one this node just
    /// served is found by seeking past that page's last row, so walking page after page stays
    /// as fast at page 10,000 as at page 1; a cold jump counts rows from the start.
    pub async fn list_members(
        &self,
        by: &Authorized<Staff>,
        query: MemberQuery,
        page: PageRequest,
    ) -> Result<Page<MemberRow>> {
        let query = MemberQuery {
            org: by.org.id,
            ..query
        };
        let mut c = self.store().read().await?;
        let resolved = members::resolve(&mut c, &query).await?;
        let count = members::count(&mut c, &resolved).await?;
        let previous = (page.page > 1)
            .then(|| self.anchors().get(&query, page.size, page.page - 1))
            .flatten();
        let items = match previous {
            Some(end) => members::list_after(&mut c, &resolved, &end, page.size).await?,
            None if page.offset() >= count => Vec::new(),
            None => members::list(&mut c, &resolved, page.size, page.offset()).await?,
        };
        if let Some(last) = items.last() {
            let end = PageEnd {
                value: query.order.value_of(last),
                id: last.membership.id,
            };
            self.anchors().put(query, page.size, page.page, end);
        }
        Ok(Page { count, items })
    }

    /// One live member with their contribution counts.
    pub async fn member_detail(
        &self,
        by: &Authorized<Staff>,
        user: UserId,
    ) -> Result<MemberDetail> {
        let mut c = self.store().read().await?;
        let member = members::live_with_user(&mut c, by.org.id, user)
            .await?
            .ok_or_else(|| no_member(user))?;
        let (annotations_count, contributed_projects_count) =
            members::contribution(&mut c, member.membership.id).await?;
        Ok(MemberDetail {
            member,
            annotations_count,
            contributed_projects_count,
        })
    }

    /// Assigns a role by hand (web, REST, CLI). Assigning an active role to a pending member
    /// activates them; DI deactivates; an active role reactivates; the Owner naming another
    /// active member as OW hands over ownership.
    pub async fn assign_role(
        &self,
        by: &Authorized<Admin>,
        target: UserId,
        role: Role,
    ) -> Result<MemberRow> {
        let source = manual_source(&by.context);
        let changer = Changer {
            actor: Some(&by.user),
            origin: Origin::Manual,
            source,
            ctx: &by.context,
        };
        self.change_role(by.org.id, target, role, changer).await
    }

    /// Assigns a role on an identity provider's word (SCIM provisioning, SAML sign-in). The
    /// membership becomes IdP-managed: with manual role management off, people can no longer
    /// change it by hand.
    pub async fn apply_idp_role(
        &self,
        org: OrgId,
        target: UserId,
        role: Role,
        source: RoleSource,
    ) -> Result<MemberRow> {
        if !source.is_identity_provider() {
            return Err(ServiceError::Internal(format!(
                "{} is not an identity provider",
                source.code()
            )));
        }
        let ctx = Context {
            source: Source::Api,
            address: None,
        };
        let changer = Changer {
            actor: None,
            origin: Origin::IdentityProvider,
            source,
            ctx: &ctx,
        };
        self.change_role(org, target, role, changer).await
    }

    async fn change_role(
        &self,
        org: OrgId,
        target: UserId,
        role: Role,
        by: Changer<'_>,
    ) -> Result<MemberRow> {
        let Changer {
            actor,
            origin,
            source,
            ctx,
        } = by;
        let now = self.now();
        let mut tx = self.store().write().await?;
        if !orgs::lock_for_membership_change(&mut tx, org).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        let actor_membership = match actor {
            Some(u) => Some(acting_member(&mut tx, org, u, Access::Admin).await?),
            None => None,
        };
        let target_row = members::live_with_user(&mut tx, org, target)
            .await?
            .ok_or_else(|| no_member(target))?;
        let org_rec = orgs::by_id(&mut tx, org)
            .await?
            .ok_or_else(|| ServiceError::not_found("No such organization."))?;
        let seats = seat_usage(&mut tx, &org_rec, now).await?;
        let holds_invite_seat = invites::pending_for(&mut tx, org, &target_row.user.email, now)
            .await?
            .iter()
            .any(|i| i.role.takes_seat());
        let decision = rules::decide_role_change(
            actor_membership.as_ref().map(party).as_ref(),
            &party(&target_row.membership),
            role,
            origin,
            OrgRules {
                manual_role_management: org_rec.manual_role_management,
            },
            seats,
            SeatFacts { holds_invite_seat },
        )?;
        match decision {
            RoleChange::Unchanged => {}
            RoleChange::Assign { from, to } => {
                members::set_role(&mut tx, target_row.membership.id, to, source, now).await?;
                let event = Event::new(AuditAction::RoleChanged, actor)
                    .target(&target_row.user)
                    .change(from.code().to_string(), to.code().to_string());
                record(&mut tx, org, now, ctx, event).await?;
            }
            RoleChange::TransferOwnership { previous_role, .. } => {
                let old_owner = actor_membership
                    .as_ref()
                    .expect("only an acting Owner transfers");
                members::set_role(
                    &mut tx,
                    target_row.membership.id,
                    Role::Owner,
                    RoleSource::Manual,
                    now,
                )
                .await?;
                members::set_role(
                    &mut tx,
                    old_owner.id,
                    Role::Administrator,
                    RoleSource::Manual,
                    now,
                )
                .await?;
                let event = Event::new(AuditAction::OwnershipTransferred, actor)
                    .target(&target_row.user)
                    .change(
                        previous_role.code().to_string(),
                        Role::Owner.code().to_string(),
                    );
                record(&mut tx, org, now, ctx, event).await?;
            }
        }
        let updated = members::live_with_user(&mut tx, org, target)
            .await?
            .ok_or_else(|| no_member(target))?;
        roster_store::commit(tx).await?;
        Ok(updated)
    }

    /// Deletes a member: the membership is kept as a deleted record, so their work shows as
    /// "Deleted User"; they come back only through a new invite, as a new membership.
    pub async fn delete_member(&self, by: &Authorized<Admin>, target: UserId) -> Result<()> {
        let now = self.now();
        let org = by.org.id;
        let mut tx = self.store().write().await?;
        if !orgs::lock_for_membership_change(&mut tx, org).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        let actor = acting_member(&mut tx, org, &by.user, Access::Admin).await?;
        let target_row = members::live_with_user(&mut tx, org, target)
            .await?
            .ok_or_else(|| no_member(target))?;
        rules::decide_deletion(Some(&party(&actor)), &party(&target_row.membership))?;
        members::soft_delete(&mut tx, target_row.membership.id, now).await?;
        move_active_org_from(&mut tx, target, org).await?;
        let event = Event::new(AuditAction::MemberDeleted, Some(&by.user))
            .target(&target_row.user)
            .change(target_row.membership.role.code().to_string(), None);
        record(&mut tx, org, now, &by.context, event).await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// Finds a member's user id by email, for the CLI.
    pub async fn member_by_email(&self, org: OrgId, email: &str) -> Result<MemberRow> {
        let email = crate::accounts::normalize_email(email)?;
        let mut c = self.store().read().await?;
        let user = users::by_email(&mut c, &email)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("no account has the email {email}")))?;
        members::live_with_user(&mut c, org, user.id)
            .await?
            .ok_or_else(|| no_member(user.id))
    }
}

impl Service {
    /// Adds a person by email in a role, making their account (without a password: they get
    /// a set-password link) when they have none. The bulk path of imports and the CLI; the
    /// seat rule applies as for any activation.
    pub async fn add_member(
        &self,
        by: &Authorized<Admin>,
        email: &str,
        first_name: &str,
        last_name: &str,
        role: Role,
    ) -> Result<MemberRow> {
        let email = crate::accounts::normalize_email(email)?;
        let first = crate::accounts::check_name("first_name", first_name)?;
        let last = crate::accounts::check_name("last_name", last_name)?;
        let now = self.now();
        let org = by.org.id;
        let mut tx = self.store().write().await?;
        if !orgs::lock_for_membership_change(&mut tx, org).await? {
            return Err(ServiceError::not_found("No such organization."));
        }
        acting_member(&mut tx, org, &by.user, Access::Admin).await?;
        let user = match users::by_email(&mut tx, &email).await? {
            Some(u) => u,
            None => {
                self.insert_user(&mut tx, &email, &first, &last, None)
                    .await?
            }
        };
        if members::live(&mut tx, org, user.id).await?.is_some() {
            return Err(ServiceError::Conflict(format!(
                "{email} is already a member"
            )));
        }
        let org_rec = orgs::by_id(&mut tx, org)
            .await?
            .ok_or_else(|| ServiceError::not_found("organization"))?;
        let seats = seat_usage(&mut tx, &org_rec, now).await?;
        let holds_invite_seat = invites::pending_for(&mut tx, org, &email, now)
            .await?
            .iter()
            .any(|i| i.role.takes_seat());
        rules::check_direct_join(role, seats, SeatFacts { holds_invite_seat })?;
        members::insert(
            &mut tx,
            org,
            user.id,
            &email,
            role,
            manual_source(&by.context),
            now,
        )
        .await?;
        if user.active_org.is_none() {
            users::set_active_org(&mut tx, user.id, Some(org)).await?;
        }
        let event = Event::new(AuditAction::MemberJoined, Some(&by.user))
            .target(&user)
            .change(None, role.code().to_string());
        record(&mut tx, org, now, &by.context, event).await?;
        let row = members::live_with_user(&mut tx, org, user.id)
            .await?
            .ok_or_else(|| no_member(user.id))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }
}
