//! What a SCIM User means for the account and membership behind it: attaching the account,
//! the organization role its groups map to, its project roles and workspaces, and the guard against an
//! identity provider deprovisioning too many people at once. Every membership change goes
//! through the one membership path with the identity provider as the actor.

use roster_domain::rules;
use roster_domain::scim::mapping::{
    self, GroupMapping, MappedProjectRole, ProjectGroup, WorkspaceGroup,
};
use roster_domain::{AuditAction, OrgId, ProjectId, ProjectRole, Role, UserId, WorkspaceId};
use roster_store::scim::{self, ScimSettingsRecord, ScimUserRecord};
use roster_store::{invites, members, projects, users, MemberRow, OrgRecord, UserRecord, WriteTx};

use super::access::ScimCaller;
use crate::audit::{record, Event};
use crate::domains::email_domain;
use crate::membership::{Actor, Change, Idp, JoinVia, ProjectChange};
use crate::secrets::random_token;
use crate::{clock, Context, Result, Service, ServiceError};

/// What `DELETE /Users/{id}` does to the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeleteAction {
    /// Delete the membership: the person's work shows as Deleted User.
    #[default]
    Delete,
    /// Deactivate: the membership stays, without a seat.
    Deactivate,
}

impl DeleteAction {
    pub fn code(self) -> &'static str {
        match self {
            DeleteAction::Delete => "delete",
            DeleteAction::Deactivate => "deactivate",
        }
    }

    pub fn from_code(code: &str) -> Option<DeleteAction> {
        match code {
            "delete" => Some(DeleteAction::Delete),
            "deactivate" => Some(DeleteAction::Deactivate),
            _ => None,
        }
    }
}

/// An organization's SCIM settings, with the defaults where none are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimSettings {
    pub mapping: GroupMapping,
    pub delete_action: DeleteAction,
    /// Deprovisionings allowed per request and per hour; None: the default share.
    pub max_deprovision: Option<i64>,
}

impl Default for ScimSettings {
    fn default() -> Self {
        ScimSettings {
            mapping: GroupMapping::default(),
            delete_action: DeleteAction::Delete,
            max_deprovision: None,
        }
    }
}

impl ScimSettings {
    pub(crate) fn from_record(r: Option<ScimSettingsRecord>) -> Result<ScimSettings> {
        let Some(r) = r else {
            return Ok(ScimSettings::default());
        };
        let stored: serde_json::Value = serde_json::from_str(&r.mapping)
            .map_err(|e| ServiceError::Internal(format!("stored SCIM mapping: {e}")))?;
        let mapping = mapping_from_json(&stored)
            .map_err(|e| ServiceError::Internal(format!("stored SCIM mapping: {e}")))?;
        Ok(ScimSettings {
            mapping,
            delete_action: DeleteAction::from_code(&r.delete_action).unwrap_or_default(),
            max_deprovision: r.max_deprovision,
        })
    }

    pub(crate) fn to_record(&self, org: OrgId, now: i64) -> Result<ScimSettingsRecord> {
        Ok(ScimSettingsRecord {
            org,
            mapping: mapping_to_json(&self.mapping).to_string(),
            delete_action: self.delete_action.code().to_string(),
            max_deprovision: self.max_deprovision,
            updated_at: now,
        })
    }
}

/// A role as the mapping's wire format names it: Label Studio's name ("Administrator"), or
/// its code ("AD").
pub fn role_from_wire(text: &str) -> Option<Role> {
    let t = text.trim();
    Role::ALL
        .into_iter()
        .find(|r| r.name().eq_ignore_ascii_case(t) || r.code().eq_ignore_ascii_case(t))
}

/// A project role as the mapping's wire format names it: Annotator, Reviewer or Inherit (or
/// their codes; empty is Inherit).
pub fn project_role_from_wire(text: &str) -> Option<MappedProjectRole> {
    match text.trim().to_ascii_lowercase().as_str() {
        "annotator" | "an" => Some(MappedProjectRole::Annotator),
        "reviewer" | "re" => Some(MappedProjectRole::Reviewer),
        "inherit" | "" => Some(MappedProjectRole::Inherit),
        _ => None,
    }
}

/// The wire name of a mapped project role.
pub fn project_role_wire(r: MappedProjectRole) -> &'static str {
    match r {
        MappedProjectRole::Annotator => "Annotator",
        MappedProjectRole::Reviewer => "Reviewer",
        MappedProjectRole::Inherit => "Inherit",
    }
}

/// The mapping as stored: Label Studio Enterprise's format (`roles_groups: [[role, group]]`,
/// `projects_groups: [{project_id, group, role}]`), workspaces by id
/// (`workspaces_groups: [{workspace_id, group}]`, so a renamed workspace stays mapped), plus
/// our `fallback_role`.
pub fn mapping_to_json(m: &GroupMapping) -> serde_json::Value {
    serde_json::json!({
        "roles_groups": m.roles_groups.iter().map(|(r, g)| serde_json::json!([r.name(), g])).collect::<Vec<_>>(),
        "projects_groups": m.projects_groups.iter().map(|p| serde_json::json!({
            "project_id": p.project.0, "group": p.group, "role": project_role_wire(p.role)
        })).collect::<Vec<_>>(),
        "workspaces_groups": m.workspaces_groups.iter().map(|w| serde_json::json!({
            "workspace_id": w.workspace.0, "group": w.group
        })).collect::<Vec<_>>(),
        "fallback_role": m.fallback.name(),
    })
}

/// The stored `workspaces_groups` (absent in mappings saved before workspaces were mapped).
fn workspaces_groups_from_json(
    v: &serde_json::Value,
) -> std::result::Result<Vec<WorkspaceGroup>, String> {
    let Some(items) = v
        .get("workspaces_groups")
        .and_then(serde_json::Value::as_array)
    else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|w| {
            let workspace = w
                .get("workspace_id")
                .and_then(serde_json::Value::as_i64)
                .ok_or("each workspaces_groups entry has an integer workspace_id".to_string())?;
            let group = w
                .get("group")
                .and_then(serde_json::Value::as_str)
                .ok_or("each workspaces_groups entry has a group".to_string())?;
            Ok(WorkspaceGroup {
                workspace: WorkspaceId(workspace),
                group: group.to_owned(),
            })
        })
        .collect()
}

/// The parts of a mapping a change names (None: left as it is): role groups, project
/// groups, fallback role.
pub type MappingParts = (
    Option<Vec<(Role, String)>>,
    Option<Vec<ProjectGroup>>,
    Option<Role>,
);

/// Reads the parts of a mapping a JSON object gives; what it leaves out is None.
pub fn mapping_parts_from_json(v: &serde_json::Value) -> std::result::Result<MappingParts, String> {
    let roles = match v.get("roles_groups") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|pair| {
                    let pair = pair
                        .as_array()
                        .filter(|p| p.len() == 2)
                        .ok_or("each roles_groups entry is [role, group]".to_string())?;
                    let role = pair[0]
                        .as_str()
                        .and_then(role_from_wire)
                        .ok_or(format!("{} is not a role", pair[0]))?;
                    let group = pair[1]
                        .as_str()
                        .ok_or("a group name is a string".to_string())?;
                    Ok((role, group.to_owned()))
                })
                .collect::<std::result::Result<Vec<_>, String>>()?,
        ),
        Some(_) => return Err("roles_groups is a list of [role, group]".into()),
    };
    let projects = match v.get("projects_groups") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Array(items)) => Some(
            items
                .iter()
                .map(|p| {
                    let project = p
                        .get("project_id")
                        .and_then(serde_json::Value::as_i64)
                        .ok_or(
                            "each projects_groups entry has an integer project_id".to_string(),
                        )?;
                    let group = p
                        .get("group")
                        .and_then(serde_json::Value::as_str)
                        .ok_or("each projects_groups entry has a group".to_string())?;
                    let role = match p.get("role") {
                        None | Some(serde_json::Value::Null) => MappedProjectRole::Inherit,
                        Some(r) => r
                            .as_str()
                            .and_then(project_role_from_wire)
                            .ok_or(format!("{r} is not Annotator, Reviewer or Inherit"))?,
                    };
                    Ok(ProjectGroup {
                        project: ProjectId(project),
                        group: group.to_owned(),
                        role,
                    })
                })
                .collect::<std::result::Result<Vec<_>, String>>()?,
        ),
        Some(_) => return Err("projects_groups is a list of {project_id, group, role}".into()),
    };
    let fallback = match v.get("fallback_role") {
        None | Some(serde_json::Value::Null) => None,
        Some(r) => Some(
            r.as_str()
                .and_then(role_from_wire)
                .ok_or(format!("{r} is not a role"))?,
        ),
    };
    Ok((roles, projects, fallback))
}

pub(crate) fn mapping_from_json(
    v: &serde_json::Value,
) -> std::result::Result<GroupMapping, String> {
    let (roles, projects, fallback) = mapping_parts_from_json(v)?;
    Ok(GroupMapping {
        roles_groups: roles.unwrap_or_default(),
        projects_groups: projects.unwrap_or_default(),
        workspaces_groups: workspaces_groups_from_json(v)?,
        fallback: fallback.unwrap_or(Role::Deactivated),
    })
}

/// People an identity provider's request moved out of a seat (deactivated, made pending or
/// deleted), counted for the mass-deprovisioning guard.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub deprovisioned: i64,
}

/// A change of one project membership: (project, from, to); `None` is "not in the project",
/// `Some(None)` "in it with the organization role".
pub(crate) type ProjectMove = (
    ProjectId,
    Option<Option<ProjectRole>>,
    Option<Option<ProjectRole>>,
);

/// Whether a move from `from` to `to` deprovisions someone.
pub(crate) fn deprovisions(from: Role, to: Role) -> bool {
    from.takes_seat() && !to.takes_seat()
}

impl Service {
    pub(crate) async fn scim_settings_tx(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
    ) -> Result<ScimSettings> {
        let mut settings = ScimSettings::from_record(scim::settings(tx, org).await?)?;
        super::workspaces::prune(tx, org, &mut settings.mapping).await?;
        Ok(settings)
    }

    /// The organization role a SCIM user should hold now, or None to leave it as it is: the
    /// domain's decision (`GroupMapping::decide`), which SAML sign-in shares.
    pub(crate) fn desired_role(
        settings: &ScimSettings,
        su: &ScimUserRecord,
        groups: &[String],
        current: Option<Role>,
    ) -> Option<Role> {
        settings.mapping.decide(su.active, groups, current)
    }

    /// Brings the account behind a SCIM user in line with it: attaches (or creates) the
    /// account, then sets the organization role and the mapped project roles. A user whose
    /// account cannot be attached yet waits as a pending invite.
    pub(crate) async fn sync_scim_user(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        settings: &ScimSettings,
        su: &mut ScimUserRecord,
        groups: &[String],
        tally: &mut Tally,
    ) -> Result<()> {
        let org = caller.org.clone();
        let actor = caller.actor();
        let ctx = caller.context.clone();
        // A member who just joined is not read again (one statement less per create, under
        // the organization's lock).
        let joined = match su.user {
            None => self.attach(tx, caller, settings, su, groups).await?,
            Some(_) => None,
        };
        let Some(user) = su.user else {
            return Ok(());
        };
        let row = match joined {
            Some(row) => row,
            None => match members::live_with_user(tx, org.id, user).await? {
                Some(row) => row,
                None => {
                    // The member was deleted here since: only a new invite brings them back.
                    su.user = None;
                    return self.invite_instead(tx, caller, settings, su, groups).await;
                }
            },
        };
        let current = row.membership.role;
        if current == Role::Owner {
            // Identity providers never manage the Owner; a request that would change them
            // is refused (and recorded by the caller).
            if Self::desired_role(settings, su, groups, Some(current))
                .is_some_and(|r| r != Role::Owner)
            {
                return Err(rules::RuleViolation::IdpCannotManageOwner.into());
            }
            return Ok(());
        }
        if let Some(to) = Self::desired_role(settings, su, groups, Some(current)) {
            if to != current {
                if deprovisions(current, to) {
                    tally.deprovisioned += 1;
                }
                self.change_membership(
                    tx,
                    org.id,
                    &actor,
                    Change::SetRole {
                        target: user,
                        role: to,
                    },
                    &ctx,
                )
                .await?;
            }
        }
        self.apply_project_mapping(tx, org.id, &actor, &ctx, &settings.mapping, user, groups)
            .await?;
        self.apply_workspace_mapping(
            tx,
            org.id,
            Idp::Scim,
            &actor,
            &ctx,
            &settings.mapping,
            user,
            groups,
        )
        .await?;
        self.apply_idp_names(
            tx,
            org.id,
            &row.user,
            su.given_name.as_deref(),
            su.family_name.as_deref(),
        )
        .await
    }

    /// Finds or creates the account for a SCIM user that has none yet; the membership when
    /// this made one.
    async fn attach(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        settings: &ScimSettings,
        su: &mut ScimUserRecord,
        groups: &[String],
    ) -> Result<Option<MemberRow>> {
        let org = &caller.org;
        let now = self.now();
        let initial =
            Self::desired_role(settings, su, groups, None).unwrap_or(settings.mapping.fallback);
        // Outside the organization's verified domains, a new person and someone who already
        // has an account are both invited and join when they accept: an account is never made
        // for an address the organization does not control, and neither the IdP nor an
        // Administrator can tell from the outcome whether the email had an account.
        let verified = self.domain_verified_for(tx, org.id, &su.email).await?;
        match users::by_email(tx, &su.email).await? {
            None if !verified => {
                self.invite_instead(tx, caller, settings, su, groups)
                    .await?;
                Ok(None)
            }
            None => {
                let id = users::insert(
                    tx,
                    users::NewUser {
                        email: &su.email,
                        username: &su.email,
                        first_name: su.given_name.as_deref().unwrap_or(""),
                        last_name: su.family_name.as_deref().unwrap_or(""),
                        password_hash: None,
                        now,
                    },
                )
                .await?;
                let account = users::by_id(tx, id)
                    .await?
                    .ok_or_else(|| ServiceError::Internal("a new account vanished".into()))?;
                let row = self.join_as_idp(tx, caller, &account, initial).await?;
                su.user = Some(id);
                Ok(row)
            }
            Some(account) => {
                if members::live(tx, org.id, account.id).await?.is_some() {
                    su.user = Some(account.id);
                    Ok(None)
                } else if verified && !members::was_removed(tx, org.id, account.id).await? {
                    let row = self.join_as_idp(tx, caller, &account, initial).await?;
                    su.user = Some(account.id);
                    Ok(row)
                } else {
                    // Someone else's account, or a deleted member: they must accept.
                    self.invite_instead(tx, caller, settings, su, groups)
                        .await?;
                    Ok(None)
                }
            }
        }
    }

    async fn join_as_idp(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        account: &UserRecord,
        role: Role,
    ) -> Result<Option<MemberRow>> {
        let change = Change::Join {
            user: account,
            via: JoinVia::Direct(role),
        };
        self.change_membership(tx, caller.org.id, &caller.actor(), change, &caller.context)
            .await
    }

    /// A pending personal invite for a SCIM user whose account may not be attached yet,
    /// unless one is already pending. The IdP's answer does not tell this case apart.
    async fn invite_instead(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        settings: &ScimSettings,
        su: &ScimUserRecord,
        groups: &[String],
    ) -> Result<()> {
        let org = &caller.org;
        let now = self.now();
        if !su.active {
            // Deactivated in the IdP: withdraw the invite it caused, or the person could
            // still accept it and join as a working member.
            return self.revoke_pending(tx, caller, &su.email).await;
        }
        if !invites::pending_for(tx, org.id, &su.email, now)
            .await?
            .is_empty()
        {
            return Ok(());
        }
        let role =
            Self::desired_role(settings, su, groups, None).unwrap_or(settings.mapping.fallback);
        // An invite carries a role a person may be invited with; a seat is held only when
        // one is free (otherwise they join pending and wait for a seat).
        let role = if rules::check_invite_role(role).is_ok() {
            role
        } else {
            Role::NotActivated
        };
        let seats = crate::orgs::seat_usage(tx, org, now).await?;
        let role = if role.takes_seat() && rules::check_invites_fit(role, 1, seats).is_err() {
            Role::NotActivated
        } else {
            role
        };
        let token = random_token(32);
        let id = invites::insert(
            tx,
            invites::NewInvite {
                org: org.id,
                email: &su.email,
                role,
                projects: &[],
                workspaces: &[],
                token_hash: &self.secrets().lookup_hash(&token),
                token_sealed: &self.secrets().seal(&token),
                invited_by: caller.on_behalf_of.as_ref().map(|u| u.id),
                now,
                expires_at: now + self.config().invite_ttl,
            },
        )
        .await?;
        let event = Event::new(AuditAction::InviteSent, caller.on_behalf_of.as_ref())
            .change(None, format!("{} as {}", su.email, role.code()));
        record(tx, org.id, now, &caller.context, event).await?;
        let invite = roster_store::InviteRecord {
            id,
            org: org.id,
            email: su.email.clone(),
            role,
            projects: Vec::new(),
            token_sealed: String::new(),
            invited_by: caller.on_behalf_of.as_ref().map(|u| u.id),
            created_at: now,
            expires_at: now + self.config().invite_ttl,
            accepted_at: None,
            revoked_at: None,
            workspaces: Vec::new(),
        };
        caller
            .outbox
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(crate::invites::InviteView {
                invite,
                state: crate::invites::InviteState::Pending,
                url: Some(self.invite_url(&token)),
            });
        Ok(())
    }

    /// Mails the invites a SCIM request made, once it has committed; a request that failed
    /// made none (its transaction rolled back), so they are dropped.
    pub(crate) async fn settle_scim_outbox(&self, caller: &ScimCaller, committed: bool) {
        let pending = std::mem::take(
            &mut *caller
                .outbox
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if committed && !pending.is_empty() {
            let who = format!("{}'s identity provider", caller.org.title);
            self.mail_invites_from(&caller.org.title, &who, &pending)
                .await;
        }
    }

    /// Withdraws the pending invites of a SCIM user who is not attached yet, audited as any
    /// withdrawn invite is (PRODUCT.md rule 10).
    pub(crate) async fn revoke_pending(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        email: &str,
    ) -> Result<()> {
        let now = self.now();
        if invites::revoke(tx, caller.org.id, email, now).await? > 0 {
            let event = Event::new(AuditAction::InviteRevoked, caller.on_behalf_of.as_ref())
                .change(email.to_string(), None);
            record(tx, caller.org.id, now, &caller.context, event).await?;
        }
        Ok(())
    }

    /// Whether the email's domain is verified for the organization.
    pub(crate) async fn domain_verified_for(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        email: &str,
    ) -> Result<bool> {
        let Some(domain) = email_domain(email) else {
            return Ok(false);
        };
        Ok(roster_store::domains::domain_org(tx, domain).await? == Some(org))
    }

    /// Puts the member in the projects their groups map to and takes them out of mapped
    /// projects whose group they left, as `actor` (SCIM or SAML). Projects nobody mapped are
    /// left alone.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply_project_mapping(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        actor: &Actor,
        ctx: &Context,
        mapping: &GroupMapping,
        user: UserId,
        groups: &[String],
    ) -> Result<()> {
        for (project, _, to) in self.project_moves(tx, org, mapping, user, groups).await? {
            let change = match to {
                Some(role) => ProjectChange::Put {
                    project,
                    target: user,
                    role,
                },
                None => ProjectChange::Remove {
                    project,
                    target: user,
                },
            };
            self.change_project_membership(tx, org, actor, change, ctx)
                .await?;
        }
        Ok(())
    }

    /// The project memberships the mapping changes for a member, as (project, from, to):
    /// `None` is "not in the project", `Some(None)` "in it with the organization role". The
    /// one rule that both applies a mapping and previews it (dry run).
    pub(crate) async fn project_moves(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        mapping: &GroupMapping,
        user: UserId,
        groups: &[String],
    ) -> Result<Vec<ProjectMove>> {
        let mut moves = Vec::new();
        if mapping.projects_groups.is_empty() {
            return Ok(moves);
        }
        let names: Vec<&str> = groups.iter().map(String::as_str).collect();
        let wanted = mapping.project_roles(&names);
        let mapped: std::collections::BTreeSet<ProjectId> =
            mapping.projects_groups.iter().map(|p| p.project).collect();
        let Some(row) = members::live_with_user(tx, org, user).await? else {
            return Ok(moves);
        };
        for project in mapped {
            let Some(p) = projects::by_id(tx, project).await? else {
                continue;
            };
            if p.org != org {
                continue;
            }
            let current = projects::member_role(tx, project, row.membership.id).await?;
            let to = wanted.get(&project).copied();
            if current != to {
                moves.push((project, current, to));
            }
        }
        Ok(moves)
    }

    /// Applies the given and family names an identity provider (SCIM or SAML) sent to the
    /// account, where this organization may rename the person (PRODUCT.md rule 11): they
    /// belong to it alone, or their email's domain is verified for it. Otherwise the names
    /// stay with the identity provider's record only. A name not sent stays as it is.
    pub(crate) async fn apply_idp_names(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        account: &UserRecord,
        given: Option<&str>,
        family: Option<&str>,
    ) -> Result<()> {
        let first = given.unwrap_or(&account.first_name);
        let last = family.unwrap_or(&account.last_name);
        if first == account.first_name && last == account.last_name {
            return Ok(());
        }
        let only_here = members::of_user(tx, account.id)
            .await?
            .iter()
            .all(|m| m.org == org);
        if !only_here && !self.domain_verified_for(tx, org, &account.email).await? {
            return Ok(());
        }
        users::update_profile(
            tx,
            account.id,
            users::ProfileUpdate {
                username: &account.username,
                first_name: first,
                last_name: last,
                phone: &account.phone,
            },
        )
        .await?;
        Ok(())
    }

    /// Holds one request's deprovisionings to the organization's limit, counting what the
    /// identity provider did in the last hour; records them when allowed.
    pub(crate) async fn check_deprovision_guard(
        &self,
        tx: &mut WriteTx,
        org: &OrgRecord,
        settings: &ScimSettings,
        tally: &Tally,
    ) -> Result<()> {
        if tally.deprovisioned == 0 {
            return Ok(());
        }
        let now = self.now();
        let already = scim::deprovisions_since(tx, org.id, now - clock::HOUR).await?;
        // The share is of the people working before this hour's deprovisionings: counted
        // after each of them, a run of one-person requests would get a smaller limit than one
        // request removing them all at once.
        let working = members::count_active(tx, org.id).await? + tally.deprovisioned + already;
        let limit = mapping::deprovision_limit(settings.max_deprovision, working);
        mapping::check_deprovision(tally.deprovisioned, already, limit)
            .map_err(|refused| ServiceError::ScimRefused(refused.to_string()))?;
        scim::record_deprovisions(tx, org.id, now, tally.deprovisioned).await?;
        Ok(())
    }
}
