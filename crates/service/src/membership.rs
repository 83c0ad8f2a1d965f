//! The one path every change of an organization membership takes, whoever asks for it: a
//! person through the web or the REST API, the operator at the command line, an identity
//! provider (SCIM, SAML), someone joining through the invite link or a personal invite, the
//! creation of an organization, and (in its batch form) a bulk import. In one transaction it
//! locks the organization, reads the acting principal again, reads the target, asks the
//! domain, and writes the membership, its counters and the audit event. Entry points only
//! say who acts and what they ask for.

use std::collections::{HashMap, HashSet};

use roster_domain::policy::{self, Access};
use roster_domain::rules::{self, Held, OrgRules, Origin, Party, SeatFacts};
use roster_domain::{
    AuditAction, OrgId, Permission, ProjectId, ProjectRole, Role, RoleChange, RoleSource, Source,
    UserId, WorkspaceId,
};
use roster_store::{
    bulk, invites, members, orgs, projects, users, workspaces, InviteRecord, MemberRow,
    MembershipRecord, NewAuditEvent, OrgRecord, ProjectMemberRow, UserRecord, WriteTx,
};

use crate::audit::{display_name, record, Event};
use crate::orgs::seat_usage;
use crate::{Context, Result, Service, ServiceError};

/// An organization's identity provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idp {
    Scim,
    Saml,
}

impl Idp {
    /// The role source a membership records when this provider sets its role.
    pub fn role_source(self) -> RoleSource {
        match self {
            Idp::Scim => RoleSource::Scim,
            Idp::Saml => RoleSource::Saml,
        }
    }

    /// The audit source of its changes.
    pub fn source(self) -> Source {
        match self {
            Idp::Scim => Source::Scim,
            Idp::Saml => Source::Saml,
        }
    }
}

/// Who changes a membership.
#[derive(Debug, Clone)]
pub enum Actor {
    /// A member acting by hand (web, REST API). Their membership is read again inside the
    /// change's transaction and must allow managing members (Owner or Administrator).
    Member(UserRecord),
    /// The organization's identity provider, optionally on the word of a person's credential
    /// (Label Studio lets an Administrator's token speak for SCIM); it never manages the Owner.
    IdentityProvider {
        idp: Idp,
        on_behalf_of: Option<UserRecord>,
    },
    /// The operator at the server's command line. It decides as the Owner would, so the rules
    /// that protect the Owner hold for it too, and it is recorded as the command line.
    Operator,
    /// The person joining, through the organization's invite link or a personal invite that
    /// names them: the link or the invite is their authority.
    Joiner,
}

/// How a person joins.
#[derive(Debug, Clone, Copy)]
pub enum JoinVia<'a> {
    /// The organization is being created with them as its Owner.
    Founding,
    /// Added by the actor in a given role (an Administrator, the operator, an IdP).
    Direct(Role),
    /// The organization's shared invite link: its default role, or Not Activated when no
    /// seat is free; never for someone whose membership was deleted.
    Link,
    /// A personal invite, whose role and seat it carries.
    Invite(&'a InviteRecord),
}

/// A change of one membership.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    Join {
        user: &'a UserRecord,
        via: JoinVia<'a>,
    },
    SetRole {
        target: UserId,
        role: Role,
    },
    Delete {
        target: UserId,
    },
}

/// The acting principal as read inside the change's transaction.
enum Acting<'a> {
    Member(&'a UserRecord, MembershipRecord),
    IdentityProvider(Idp, Option<&'a UserRecord>),
    Operator(MembershipRecord),
    Joiner,
}

impl Acting<'_> {
    /// The party the domain sees acting (the operator decides as the Owner).
    fn party(&self) -> Option<Party> {
        match self {
            Acting::Member(_, m) | Acting::Operator(m) => Some(party(m)),
            _ => None,
        }
    }

    fn origin(&self) -> Origin {
        match self {
            Acting::IdentityProvider(..) => Origin::IdentityProvider,
            _ => Origin::Manual,
        }
    }

    /// The role source a role set by this actor records.
    fn role_source(&self, ctx: &Context) -> RoleSource {
        match self {
            Acting::IdentityProvider(idp, _) => idp.role_source(),
            Acting::Joiner => RoleSource::Invite,
            Acting::Member(..) | Acting::Operator(_) => match ctx.source {
                Source::Api => RoleSource::Api,
                _ => RoleSource::Manual,
            },
        }
    }

    /// The person the audit event names as actor: the member, the person an IdP's credential
    /// belongs to, or nobody (the operator, the IdP itself).
    fn audit_actor(&self) -> Option<&UserRecord> {
        match self {
            Acting::Member(u, _) => Some(u),
            Acting::IdentityProvider(_, u) => *u,
            _ => None,
        }
    }
}

/// The organization settings the domain's membership rules read.
pub(crate) fn org_rules(org: &OrgRecord) -> OrgRules {
    OrgRules {
        manual_role_management: org.manual_role_management,
        manual_workspace_management: org.manual_workspace_management,
        manual_project_member_management: org.manual_project_member_management,
    }
}

pub(crate) fn party(m: &MembershipRecord) -> Party {
    Party {
        user: m.user,
        role: m.role,
        source: m.role_source,
    }
}

fn no_member(user: UserId) -> ServiceError {
    ServiceError::not_found(format!(
        "No member with user id {user} in this organization."
    ))
}

/// "user 7 is not a member of project 3": the target is not where a removal looks for them.
fn not_a_member(target: UserId, of: impl std::fmt::Display) -> ServiceError {
    ServiceError::not_found(format!("user {target} is not a member of {of}"))
}

fn no_org() -> ServiceError {
    ServiceError::not_found("No such organization.")
}

/// The audit source of a change: an identity provider's own, else where the request came from.
fn audit_context(acting: &Acting, ctx: &Context) -> Context {
    match acting {
        Acting::IdentityProvider(idp, _) => Context {
            source: idp.source(),
            address: ctx.address.clone(),
        },
        _ => ctx.clone(),
    }
}

/// Whether a pending invite with a working role already holds a seat for this email (so
/// activating them uses that seat rather than a new one).
pub(crate) async fn holds_invite_seat(
    c: &mut WriteTx,
    org: OrgId,
    email: &str,
    now: i64,
) -> Result<bool> {
    Ok(invites::pending_for(c, org, email, now)
        .await?
        .iter()
        .any(|i| i.role.takes_seat()))
}

/// Moves a user's active organization away from `org` to another live membership, or none.
async fn move_active_org_from(c: &mut WriteTx, user: UserId, org: OrgId) -> Result<()> {
    let Some(u) = users::by_id(c, user).await? else {
        return Ok(());
    };
    if u.active_org == Some(org) {
        let next = members::of_user(c, user).await?.first().map(|m| m.org);
        users::set_active_org(c, user, next).await?;
    }
    Ok(())
}

impl Service {
    /// Applies one membership change in the caller's transaction: the organization is locked
    /// first, so seat counts and the one Owner hold however many changes race. Returns the
    /// membership as it stands afterwards (none after a deletion).
    pub(crate) async fn change_membership(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        actor: &Actor,
        change: Change<'_>,
        ctx: &Context,
    ) -> Result<Option<MemberRow>> {
        let now = self.now();
        if !orgs::lock_for_membership_change(tx, org).await? {
            return Err(no_org());
        }
        let org_rec = orgs::by_id(tx, org).await?.ok_or_else(no_org)?;
        let acting = self.acting(tx, org, actor, Access::Admin).await?;
        let audit_ctx = audit_context(&acting, ctx);
        match change {
            Change::Join { user, via } => {
                self.join(tx, &org_rec, &acting, user, via, &audit_ctx, ctx)
                    .await
            }
            Change::SetRole { target, role } => {
                let row = members::live_with_user(tx, org, target)
                    .await?
                    .ok_or_else(|| no_member(target))?;
                let source = acting.role_source(ctx);
                self.set_role(tx, &org_rec, &acting, &row, role, source, false, &audit_ctx)
                    .await?;
                Ok(members::live_with_user(tx, org, target).await?)
            }
            Change::Delete { target } => {
                let row = members::live_with_user(tx, org, target)
                    .await?
                    .ok_or_else(|| no_member(target))?;
                rules::decide_deletion(acting.party().as_ref(), &party(&row.membership))?;
                members::soft_delete(tx, row.membership.id, now).await?;
                move_active_org_from(tx, target, org).await?;
                let event = Event::new(AuditAction::MemberDeleted, acting.audit_actor())
                    .target(&row.user)
                    .change(row.membership.role.code().to_string(), None);
                record(tx, org, now, &audit_ctx, event).await?;
                Ok(None)
            }
        }
    }

    /// Reads the acting principal inside the transaction; a member must hold `needed`.
    async fn acting<'a>(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        actor: &'a Actor,
        needed: Access,
    ) -> Result<Acting<'a>> {
        Ok(match actor {
            Actor::Member(user) => {
                let m = members::live(tx, org, user.id).await?.ok_or_else(no_org)?;
                policy::check(m.role, needed)?;
                Acting::Member(user, m)
            }
            Actor::IdentityProvider { idp, on_behalf_of } => {
                Acting::IdentityProvider(*idp, on_behalf_of.as_ref())
            }
            Actor::Operator => {
                let owner = members::owner(tx, org).await?;
                // An organization being founded has no Owner yet.
                match owner {
                    Some(o) => Acting::Operator(o.membership),
                    None => Acting::Joiner,
                }
            }
            Actor::Joiner => Acting::Joiner,
        })
    }

    /// A role change: the domain decides, then the membership, counters and audit event are
    /// written. `by_invite` says an accepted invite (which holds a seat) makes the change;
    /// its acceptance is then the one audit event, recorded by the caller.
    #[allow(clippy::too_many_arguments)]
    async fn set_role(
        &self,
        tx: &mut WriteTx,
        org: &OrgRecord,
        acting: &Acting<'_>,
        target: &MemberRow,
        role: Role,
        source: RoleSource,
        by_invite: bool,
        audit_ctx: &Context,
    ) -> Result<RoleChange> {
        let now = self.now();
        let holds_invite_seat = (by_invite && role.takes_seat())
            || holds_invite_seat(tx, org.id, &target.user.email, now).await?;
        let decision = rules::decide_role_change(
            acting.party().as_ref(),
            &party(&target.membership),
            role,
            acting.origin(),
            org_rules(org),
            seat_usage(tx, org, now).await?,
            SeatFacts { holds_invite_seat },
        )?;
        let actor = acting.audit_actor();
        match decision {
            RoleChange::Unchanged => {}
            RoleChange::Assign { to, .. } if by_invite => {
                members::set_role(tx, target.membership.id, to, source, now).await?;
            }
            RoleChange::Assign { from, to } => {
                members::set_role(tx, target.membership.id, to, source, now).await?;
                let event = Event::new(AuditAction::RoleChanged, actor)
                    .target(&target.user)
                    .change(from.code().to_string(), to.code().to_string());
                record(tx, org.id, now, audit_ctx, event).await?;
            }
            RoleChange::TransferOwnership {
                previous_role,
                old_owner,
                ..
            } => {
                let old = members::live(tx, org.id, old_owner)
                    .await?
                    .ok_or_else(|| no_member(old_owner))?;
                members::set_role(
                    tx,
                    target.membership.id,
                    Role::Owner,
                    RoleSource::Manual,
                    now,
                )
                .await?;
                members::set_role(tx, old.id, Role::Administrator, RoleSource::Manual, now).await?;
                let event = Event::new(AuditAction::OwnershipTransferred, actor)
                    .target(&target.user)
                    .change(
                        previous_role.code().to_string(),
                        Role::Owner.code().to_string(),
                    );
                record(tx, org.id, now, audit_ctx, event).await?;
            }
        }
        Ok(decision)
    }

    /// A person joins. An invite to someone who is already a pending or deactivated member
    /// activates them through the role-change rule (an IdP's member stays the IdP's).
    #[allow(clippy::too_many_arguments)]
    async fn join(
        &self,
        tx: &mut WriteTx,
        org: &OrgRecord,
        acting: &Acting<'_>,
        user: &UserRecord,
        via: JoinVia<'_>,
        audit_ctx: &Context,
        ctx: &Context,
    ) -> Result<Option<MemberRow>> {
        let now = self.now();
        if let Some(existing) = members::live_with_user(tx, org.id, user.id).await? {
            let JoinVia::Invite(invite) = via else {
                return Err(ServiceError::Conflict(format!(
                    "{} is already a member of {}",
                    user.email, org.title
                )));
            };
            let m = &existing.membership;
            if m.role != Role::Owner && !m.role.is_active() {
                self.set_role(
                    tx,
                    org,
                    &Acting::Joiner,
                    &existing,
                    invite.role,
                    RoleSource::Invite,
                    true,
                    audit_ctx,
                )
                .await?;
            }
            self.finish_invite(tx, org, user, invite, ctx).await?;
            let row = members::live_with_user(tx, org.id, user.id)
                .await?
                .ok_or_else(|| no_member(user.id))?;
            let event = Event::new(AuditAction::InviteAccepted, Some(user))
                .target(user)
                .change(None, row.membership.role.code().to_string());
            record(tx, org.id, now, audit_ctx, event).await?;
            return Ok(Some(row));
        }
        let seats = seat_usage(tx, org, now).await?;
        let (role, source, action) = match via {
            JoinVia::Founding => (Role::Owner, RoleSource::Manual, AuditAction::MemberJoined),
            JoinVia::Direct(role) => {
                let holds_invite_seat = holds_invite_seat(tx, org.id, &user.email, now).await?;
                rules::check_direct_join(role, seats, SeatFacts { holds_invite_seat })?;
                (role, acting.role_source(ctx), AuditAction::MemberJoined)
            }
            JoinVia::Link => {
                rules::check_link_join(members::was_removed(tx, org.id, user.id).await?)?;
                let role = rules::link_signup_role(org.default_role, seats);
                (role, RoleSource::Invite, AuditAction::MemberJoined)
            }
            JoinVia::Invite(invite) => {
                (invite.role, RoleSource::Invite, AuditAction::InviteAccepted)
            }
        };
        members::insert(tx, org.id, user.id, &user.email, role, source, now).await?;
        if user.active_org.is_none() {
            users::set_active_org(tx, user.id, Some(org.id)).await?;
        }
        let actor = match acting {
            Acting::Joiner => Some(user),
            other => other.audit_actor(),
        };
        if !matches!(via, JoinVia::Founding) {
            let event = Event::new(action, actor)
                .target(user)
                .change(None, role.code().to_string());
            record(tx, org.id, now, audit_ctx, event).await?;
        }
        if let JoinVia::Invite(invite) = via {
            self.finish_invite(tx, org, user, invite, ctx).await?;
        }
        Ok(members::live_with_user(tx, org.id, user.id).await?)
    }

    /// Gives the invite's projects and workspaces and marks the person's invites to this organization accepted.
    async fn finish_invite(
        &self,
        tx: &mut WriteTx,
        org: &OrgRecord,
        user: &UserRecord,
        invite: &InviteRecord,
        ctx: &Context,
    ) -> Result<()> {
        let now = self.now();
        for p in &invite.projects {
            // A project deleted or moved since the invite was sent is skipped.
            if projects::by_id(tx, *p)
                .await?
                .is_some_and(|p| p.org == org.id)
            {
                let change = ProjectChange::Add {
                    project: *p,
                    target: user.id,
                };
                self.change_project_membership(tx, org.id, &Actor::Joiner, change, ctx)
                    .await?;
            }
        }
        for w in &invite.workspaces {
            // A workspace deleted since the invite was sent is skipped.
            if workspaces::by_id(tx, *w)
                .await?
                .is_some_and(|rec| rec.org == org.id)
            {
                let change = WorkspaceChange::Add {
                    workspace: *w,
                    target: user.id,
                };
                self.change_workspace_membership(tx, org.id, &Actor::Joiner, change, ctx)
                    .await?;
            }
        }
        invites::accept_all(tx, org.id, &invite.email, now).await?;
        // An identity provider that provisioned this person before they accepted (their
        // account belonged elsewhere) manages them from now on.
        roster_store::scim::attach_waiting(tx, org.id, &user.email, user.id).await?;
        Ok(())
    }

    /// The batch form of [`Service::change_membership`] for direct joins (a bulk import):
    /// the organization is locked once, each person is decided by the same domain rules in
    /// order (seats counted as they are taken), and the accepted ones are written with
    /// multi-row statements, their counters and audit events included. Returns, per person in
    /// the order given, `Ok(())` or the reason they were refused.
    pub(crate) async fn join_many(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        actor: &Actor,
        people: &[DirectJoin<'_>],
        strict: bool,
        ctx: &Context,
    ) -> Result<Vec<std::result::Result<(), String>>> {
        let now = self.now();
        if !orgs::lock_for_membership_change(tx, org).await? {
            return Err(no_org());
        }
        bulk::plan_each_statement(tx).await?;
        let org_rec = orgs::by_id(tx, org).await?.ok_or_else(no_org)?;
        let acting = self.acting(tx, org, actor, Access::Admin).await?;
        let audit_ctx = audit_context(&acting, ctx);
        let source = acting.role_source(ctx);
        let emails: Vec<String> = people.iter().map(|p| p.email.to_string()).collect();
        let existing = bulk::users_by_email(tx, &emails).await?;
        let existing_ids: Vec<_> = existing.values().map(|(id, _)| *id).collect();
        let already = bulk::live_members(tx, org, &existing_ids).await?;
        let invite_seats = bulk::invite_seat_holders(tx, org, &emails, now).await?;
        let mut known_projects = HashSet::new();
        for p in people
            .iter()
            .flat_map(|v| v.projects.iter())
            .collect::<HashSet<_>>()
        {
            if projects::by_id(tx, *p)
                .await?
                .is_some_and(|rec| rec.org == org)
            {
                known_projects.insert(*p);
            }
        }
        let mut known_workspaces = HashSet::new();
        for w in people
            .iter()
            .flat_map(|v| v.workspaces.iter())
            .collect::<HashSet<_>>()
        {
            if workspaces::by_id(tx, *w)
                .await?
                .is_some_and(|rec| rec.org == org)
            {
                known_workspaces.insert(*w);
            }
        }
        let mut seats = seat_usage(tx, &org_rec, now).await?;
        let mut outcomes = Vec::with_capacity(people.len());
        let mut accepted = Vec::new();
        for p in people {
            let outcome = if existing
                .get(p.email)
                .is_some_and(|(id, _)| already.contains(id))
            {
                Err(format!("{} is already a member", p.email))
            } else if let Some(bad) = p.projects.iter().find(|x| !known_projects.contains(x)) {
                Err(format!("project {bad} is not in this organization"))
            } else if let Some(bad) = p.workspaces.iter().find(|x| !known_workspaces.contains(x)) {
                Err(format!("workspace {bad} is not in this organization"))
            } else {
                let facts = SeatFacts {
                    holds_invite_seat: invite_seats.contains(p.email),
                };
                match rules::check_direct_join(p.role, seats, facts) {
                    Err(rule) => Err(rule.to_string()),
                    Ok(()) => {
                        if p.role.takes_seat() && !facts.holds_invite_seat {
                            seats.active += 1;
                        }
                        accepted.push(p);
                        Ok(())
                    }
                }
            };
            outcomes.push(outcome);
        }
        if strict && outcomes.iter().any(|o| o.is_err()) {
            return Ok(outcomes);
        }
        let new_users: Vec<bulk::ImportedUser> = accepted
            .iter()
            .filter(|p| !existing.contains_key(p.email))
            .map(|p| bulk::ImportedUser {
                email: p.email,
                first_name: p.first_name,
                last_name: p.last_name,
                active_org: org,
            })
            .collect();
        let mut ids: HashMap<String, UserId> = bulk::insert_users(tx, &new_users, now).await?;
        let returning: Vec<_> = existing
            .iter()
            .filter(|(_, (_, active))| active.is_none())
            .map(|(_, (id, _))| *id)
            .collect();
        bulk::set_missing_active_org(tx, &returning, org).await?;
        for (email, (id, _)) in &existing {
            ids.insert(email.clone(), *id);
        }
        let rows: Vec<_> = accepted
            .iter()
            .map(|p| (ids[p.email], p.email, p.role))
            .collect();
        let membership_ids = bulk::insert_memberships(tx, org, &rows, source, now).await?;
        let pairs: Vec<_> = accepted
            .iter()
            .flat_map(|p| {
                let m = membership_ids[&ids[p.email]];
                p.projects.iter().map(move |x| (*x, m))
            })
            .collect();
        bulk::insert_project_members(tx, &pairs, now).await?;
        let pairs: Vec<_> = accepted
            .iter()
            .flat_map(|p| {
                let m = membership_ids[&ids[p.email]];
                p.workspaces.iter().map(move |w| (*w, m))
            })
            .collect();
        bulk::insert_workspace_members(tx, &pairs, source, now).await?;
        let actor = acting
            .audit_actor()
            .map(|u| (u.id, display_name(u), u.email.clone()));
        let events: Vec<NewAuditEvent> = accepted
            .iter()
            .map(|p| {
                let name = roster_domain::people::display_name(p.first_name, p.last_name, p.email);
                NewAuditEvent {
                    org: Some(org),
                    occurred_at: now,
                    action: AuditAction::MemberJoined.code(),
                    source: audit_ctx.source.code(),
                    actor: actor.clone(),
                    target: Some((ids[p.email], name, p.email.to_string())),
                    old_value: None,
                    new_value: Some(p.role.code().to_string()),
                    address: audit_ctx.address.clone(),
                }
            })
            .collect();
        bulk::insert_audit(tx, org, &events).await?;
        Ok(outcomes)
    }
}

/// A change of one project membership.
#[derive(Debug, Clone, Copy)]
pub enum ProjectChange {
    /// Adds the organization member to the project; a member already there keeps their
    /// project role (the SDK's `projects.members.add`).
    Add {
        project: ProjectId,
        target: UserId,
    },
    /// Puts the organization member in the project with exactly this project role (`None`:
    /// they work with their organization role), adding them if needed.
    Put {
        project: ProjectId,
        target: UserId,
        role: Option<ProjectRole>,
    },
    Remove {
        project: ProjectId,
        target: UserId,
    },
}

impl ProjectChange {
    fn parts(self) -> (ProjectId, UserId) {
        match self {
            ProjectChange::Add { project, target }
            | ProjectChange::Put {
                project, target, ..
            }
            | ProjectChange::Remove { project, target } => (project, target),
        }
    }
}

fn shown(role: Option<ProjectRole>) -> String {
    role.map(|r| r.code().to_string())
        .unwrap_or_else(|| "inherit".into())
}

impl Service {
    /// The one path of project memberships and project roles, whoever changes them (a
    /// Manager, an Administrator, an accepted invite, an identity provider's mapping): in the
    /// caller's transaction it reads the acting principal again (a member must be staff),
    /// checks that project and target belong to the organization, refuses a hand removal or
    /// re-role of what an identity provider gave while manual project member management is
    /// off, writes the project membership and role (recording who set them as their source)
    /// and an audit event for each change. Returns the project membership afterwards.
    pub(crate) async fn change_project_membership(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        actor: &Actor,
        change: ProjectChange,
        ctx: &Context,
    ) -> Result<Option<ProjectMemberRow>> {
        let now = self.now();
        let acting = self.acting(tx, org, actor, Access::Staff).await?;
        // A member changes project membership only while the organization gives their role
        // the "Manage project members" permission (read here, in the change's transaction).
        if let Acting::Member(_, m) = &acting {
            crate::access::grants_of(tx, org)
                .await?
                .check(m.role, Permission::ManageProjectMembers)?;
        }
        let audit_ctx = audit_context(&acting, ctx);
        let source = acting.role_source(ctx);
        let (project, target) = change.parts();
        projects::by_id(tx, project)
            .await?
            .filter(|p| p.org == org)
            .ok_or_else(|| {
                ServiceError::not_found(format!("No project {project} in this organization."))
            })?;
        let row = members::live_with_user(tx, org, target).await?;
        let actor_user = acting.audit_actor();
        let settings = org_rules(&orgs::by_id(tx, org).await?.ok_or_else(no_org)?);
        let (wanted, row) = match change {
            ProjectChange::Remove { .. } => {
                let row = row.ok_or_else(|| not_a_member(target, "this organization"))?;
                let source = projects::member_source(tx, project, row.membership.id)
                    .await?
                    .ok_or_else(|| not_a_member(target, format!("project {project}")))?;
                rules::check_held_change(acting.origin(), settings, Held::Project, source)?;
                projects::remove_member(tx, project, row.membership.id).await?;
                let event = Event::new(AuditAction::ProjectMemberRemoved, actor_user)
                    .target(&row.user)
                    .change(format!("project {project}"), None);
                record(tx, org, now, &audit_ctx, event).await?;
                return Ok(None);
            }
            ProjectChange::Add { .. } => (None, row),
            ProjectChange::Put { role, .. } => (Some(role), row),
        };
        let row = row.ok_or_else(|| {
            ServiceError::invalid(
                "user",
                format!("user {target} is not a member of this organization"),
            )
        })?;
        let before = projects::member_role(tx, project, row.membership.id).await?;
        if let (Some(current), Some(role)) = (before, wanted) {
            if current != role {
                let made_by = projects::member_source(tx, project, row.membership.id)
                    .await?
                    .unwrap_or(RoleSource::Manual);
                rules::check_held_change(acting.origin(), settings, Held::Project, made_by)?;
            }
        }
        let added = projects::add_member(tx, project, row.membership.id, source, now).await?;
        let old_role = before.flatten();
        if let Some(role) = wanted {
            if role != old_role {
                projects::set_role(tx, project, row.membership.id, role, source, now).await?;
            }
        }
        let new_role = wanted.unwrap_or(old_role);
        // Joining a project with an accepted invite is part of the acceptance.
        if !matches!(acting, Acting::Joiner) {
            let event = if added {
                Some(
                    Event::new(AuditAction::ProjectMemberAdded, actor_user)
                        .target(&row.user)
                        .change(None, format!("project {project} as {}", shown(new_role))),
                )
            } else if new_role != old_role {
                Some(
                    Event::new(AuditAction::ProjectRoleChanged, actor_user)
                        .target(&row.user)
                        .change(
                            format!("project {project} as {}", shown(old_role)),
                            format!("project {project} as {}", shown(new_role)),
                        ),
                )
            } else {
                None
            };
            if let Some(event) = event {
                record(tx, org, now, &audit_ctx, event).await?;
            }
        }
        let project_role = projects::role_of(tx, project, row.membership.id).await?;
        Ok(Some(ProjectMemberRow {
            project,
            membership: row.membership,
            user: row.user,
            project_role,
        }))
    }
}

/// One person of a batch of direct joins.
#[derive(Debug, Clone)]
pub(crate) struct DirectJoin<'a> {
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub role: Role,
    pub projects: &'a [ProjectId],
    pub workspaces: &'a [WorkspaceId],
}

/// A change of one workspace membership.
#[derive(Debug, Clone, Copy)]
pub enum WorkspaceChange {
    Add {
        workspace: WorkspaceId,
        target: UserId,
    },
    Remove {
        workspace: WorkspaceId,
        target: UserId,
    },
}

impl Service {
    /// The one path of workspace memberships, whoever changes them (a Manager of the
    /// workspace, an Administrator, an accepted invite, an identity provider's mapping): in
    /// the caller's transaction it reads the acting member again and asks the domain whether
    /// they may manage the workspace, checks that workspace and target belong to the
    /// organization (any live member may be added; a deactivated one gets access back only
    /// with reactivation), refuses a hand removal of what an identity provider gave while
    /// manual workspace management is off, writes the row (recording who made it as its
    /// source) and its audit event. Returns whether anything changed (adding a member twice
    /// does not).
    pub(crate) async fn change_workspace_membership(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        actor: &Actor,
        change: WorkspaceChange,
        ctx: &Context,
    ) -> Result<bool> {
        let now = self.now();
        let acting = self.acting(tx, org, actor, Access::Member).await?;
        let audit_ctx = audit_context(&acting, ctx);
        let (ws, target) = match change {
            WorkspaceChange::Add { workspace, target }
            | WorkspaceChange::Remove { workspace, target } => (workspace, target),
        };
        let workspace_rec = workspaces::by_id(tx, ws)
            .await?
            .filter(|w| w.org == org)
            .ok_or_else(|| crate::workspaces::no_workspace(ws))?;
        if let Acting::Member(_, m) = &acting {
            crate::workspaces::check_manage(tx, m, &workspace_rec).await?;
        }
        let row = members::live_with_user(tx, org, target).await?;
        let actor_user = acting.audit_actor();
        let settings = org_rules(&orgs::by_id(tx, org).await?.ok_or_else(no_org)?);
        match change {
            WorkspaceChange::Add { .. } => {
                let row = row.ok_or_else(|| {
                    ServiceError::invalid(
                        "user",
                        format!("user {target} is not a member of this organization"),
                    )
                })?;
                let source = acting.role_source(ctx);
                let added = workspaces::put_member(tx, ws, row.membership.id, source, now).await?;
                // Joining a workspace with an accepted invite is part of the acceptance.
                if added && !matches!(acting, Acting::Joiner) {
                    let event = Event::new(AuditAction::WorkspaceMemberAdded, actor_user)
                        .target(&row.user)
                        .change(None, format!("workspace {ws}: {}", workspace_rec.title));
                    record(tx, org, now, &audit_ctx, event).await?;
                }
                Ok(added)
            }
            WorkspaceChange::Remove { .. } => {
                let row = row.ok_or_else(|| not_a_member(target, "this organization"))?;
                let source = workspaces::member_source(tx, ws, row.membership.id)
                    .await?
                    .ok_or_else(|| not_a_member(target, format!("workspace {ws}")))?;
                rules::check_held_change(acting.origin(), settings, Held::Workspace, source)?;
                workspaces::remove_member(tx, ws, row.membership.id).await?;
                let event = Event::new(AuditAction::WorkspaceMemberRemoved, actor_user)
                    .target(&row.user)
                    .change(format!("workspace {ws}: {}", workspace_rec.title), None);
                record(tx, org, now, &audit_ctx, event).await?;
                Ok(true)
            }
        }
    }
}
