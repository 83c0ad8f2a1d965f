//! The SCIM settings of an organization (`/api/scim/settings`, the SDK's `sso.scim`): the
//! group mapping, what DELETE does, the deprovisioning limit, and the organization's
//! manual-management settings. A change of the mapping re-evaluates every attached member in
//! the same transaction; a dry run answers who would move from which role to which, and in
//! and out of which projects and workspaces, by the same functions, without changing anything.

use roster_domain::scim::mapping::{GroupMapping, ProjectGroup};
use roster_domain::{AuditAction, ProjectId, ProjectRole, Role, UserId};
use roster_store::scim;
use roster_store::{members, orgs, projects};

use super::access::ScimCaller;
use super::provision::{deprovisions, mapping_to_json, DeleteAction, ScimSettings, Tally};
use super::workspaces::{self, PlannedWorkspaceMove};
use crate::audit::{record, Event};
use crate::membership::Idp;
use crate::orgs::ManualManagement;
use crate::{Admin, Authorized, Context, Result, Service, ServiceError};

/// A change of the settings; what is None stays.
#[derive(Debug, Clone, Default)]
pub struct ScimSettingsUpdate {
    pub roles_groups: Option<Vec<(Role, String)>>,
    pub projects_groups: Option<Vec<ProjectGroup>>,
    /// `(workspace title, group)` pairs; each title must name a workspace of the organization.
    pub workspaces_groups: Option<Vec<(String, String)>>,
    pub fallback: Option<Role>,
    /// The organization's settings, shared with SAML (not changed by a dry run).
    pub manual: ManualManagement,
    pub delete_action: Option<DeleteAction>,
    /// `Some(None)`: back to the default share.
    pub max_deprovision: Option<Option<i64>>,
    /// The Owner confirms a change that deprovisions more people than the limit allows.
    pub confirm_deprovision: bool,
}

/// One member a settings change moves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMove {
    pub user: UserId,
    pub email: String,
    pub from: Role,
    pub to: Role,
}

/// One project membership a settings change moves: `None` is "not in the project",
/// `Some(None)` "in it with the organization role".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedProjectMove {
    pub user: UserId,
    pub email: String,
    pub project: ProjectId,
    pub from: Option<Option<ProjectRole>>,
    pub to: Option<Option<ProjectRole>>,
}

/// The settings after a change (or as they would be, for a dry run) and who moves.
#[derive(Debug, Clone)]
pub struct SettingsOutcome {
    pub settings: ScimSettings,
    pub moves: Vec<PlannedMove>,
    /// Project memberships the change moves: a project mapping moves people too.
    pub project_moves: Vec<PlannedProjectMove>,
    /// Workspace memberships the change gives or takes away.
    pub workspace_moves: Vec<PlannedWorkspaceMove>,
    pub applied: bool,
}

/// Who a settings change moves, in the organization, in projects and in workspaces.
type Planned = (
    Vec<PlannedMove>,
    Vec<PlannedProjectMove>,
    Vec<PlannedWorkspaceMove>,
);

impl Service {
    pub async fn scim_settings(&self, by: &Authorized<Admin>) -> Result<ScimSettings> {
        let mut c = self.store().read().await?;
        let mut settings = ScimSettings::from_record(scim::settings(&mut c, by.org.id).await?)?;
        workspaces::prune(&mut c, by.org.id, &mut settings.mapping).await?;
        Ok(settings)
    }

    pub async fn update_scim_settings(
        &self,
        by: &Authorized<Admin>,
        update: ScimSettingsUpdate,
        dry_run: bool,
    ) -> Result<SettingsOutcome> {
        let result = self.update_scim_settings_tx(by, update, dry_run).await;
        // A mapping change the deprovisioning guard refused is recorded on its own, after
        // the change rolled back, as an identity provider's refused request is: the Owner
        // hears how many it would have moved.
        if let Err(e @ ServiceError::ScimRefused(_)) = &result {
            let mut tx = self.store().write().await?;
            let event = Event::new(AuditAction::ScimRequestRefused, Some(&by.user))
                .change(None, e.to_string());
            record(&mut tx, by.org.id, self.now(), &by.context, event).await?;
            tx.commit().await?;
        }
        result
    }

    async fn update_scim_settings_tx(
        &self,
        by: &Authorized<Admin>,
        update: ScimSettingsUpdate,
        dry_run: bool,
    ) -> Result<SettingsOutcome> {
        let org = by.org.id;
        let now = self.now();
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let me = by.reread(&mut tx).await?;
        let old = self.scim_settings_tx(&mut tx, org).await?;
        let mut new = old.clone();
        if let Some(r) = update.roles_groups {
            new.mapping.roles_groups = r;
        }
        if let Some(p) = update.projects_groups {
            new.mapping.projects_groups = p;
        }
        if let Some(w) = &update.workspaces_groups {
            new.mapping.workspaces_groups = workspaces::resolve(&mut tx, org, w).await?;
        }
        if let Some(f) = update.fallback {
            new.mapping.fallback = f;
        }
        if let Some(d) = update.delete_action {
            new.delete_action = d;
        }
        if let Some(m) = update.max_deprovision {
            if m.is_some_and(|n| n < 0) {
                return Err(ServiceError::invalid("max_deprovision", "give 0 or more"));
            }
            // Raising the limit (or removing it) weakens the guard: the Owner's call.
            let raises = match (old.max_deprovision, m) {
                (Some(a), Some(b)) => b > a,
                (Some(_), None) | (None, Some(_)) => true,
                (None, None) => false,
            };
            if raises && me.role != Role::Owner {
                return Err(ServiceError::Forbidden(
                    "Only the Owner may raise the deprovisioning limit.".into(),
                ));
            }
            new.max_deprovision = m;
        }
        if update.confirm_deprovision && me.role != Role::Owner {
            return Err(ServiceError::Forbidden(
                "Only the Owner may confirm a mapping change past the deprovisioning limit.".into(),
            ));
        }
        check_mapping(&mut tx, org, &new.mapping).await?;
        let (moves, project_moves, workspace_moves) = self.planned_moves(&mut tx, by, &new).await?;
        if dry_run {
            return Ok(SettingsOutcome {
                settings: new,
                moves,
                project_moves,
                workspace_moves,
                applied: false,
            });
        }
        scim::put_settings(&mut tx, &new.to_record(org, now)?).await?;
        self.set_manual_management(&mut tx, by, update.manual, now)
            .await?;
        let caller = ScimCaller {
            org: by.org.clone(),
            on_behalf_of: Some(by.user.clone()),
            context: Context {
                source: roster_domain::Source::Scim,
                address: by.context.address.clone(),
            },
            outbox: Default::default(),
        };
        let mut tally = Tally::default();
        for (mut su, groups) in scim::attached_users_with_groups(&mut tx, org).await? {
            self.sync_scim_user(&mut tx, &caller, &new, &mut su, &groups, &mut tally)
                .await?;
        }
        if !update.confirm_deprovision {
            self.check_deprovision_guard(&mut tx, &by.org, &new, &tally)
                .await?;
        }
        let event = Event::new(AuditAction::ScimSettingsChanged, Some(&by.user)).change(
            mapping_to_json(&old.mapping).to_string(),
            mapping_to_json(&new.mapping).to_string(),
        );
        record(&mut tx, org, now, &by.context, event).await?;
        tx.commit().await?;
        self.settle_scim_outbox(&caller, true).await;
        Ok(SettingsOutcome {
            settings: new,
            moves,
            project_moves,
            workspace_moves,
            applied: true,
        })
    }

    /// Who a settings change would move, in the organization, in projects and in
    /// workspaces, decided by the same rules that apply it.
    async fn planned_moves(
        &self,
        tx: &mut roster_store::WriteTx,
        by: &Authorized<Admin>,
        new: &ScimSettings,
    ) -> Result<Planned> {
        let org = &by.org;
        let mut moves = Vec::new();
        let mut project_moves = Vec::new();
        let mut workspace_moves = Vec::new();
        let titles = workspaces::titles(tx, org.id).await?;
        for (su, groups) in scim::attached_users_with_groups(tx, org.id).await? {
            let Some(user) = su.user else { continue };
            let Some(row) = members::live_with_user(tx, org.id, user).await? else {
                continue;
            };
            let from = row.membership.role;
            if from == Role::Owner {
                continue;
            }
            if let Some(to) = Self::desired_role(new, &su, &groups, Some(from)) {
                if to != from {
                    moves.push(PlannedMove {
                        user,
                        email: row.user.email.clone(),
                        from,
                        to,
                    });
                }
            }
            for (project, from, to) in self
                .project_moves(tx, org.id, &new.mapping, user, &groups)
                .await?
            {
                project_moves.push(PlannedProjectMove {
                    user,
                    email: row.user.email.clone(),
                    project,
                    from,
                    to,
                });
            }
            workspace_moves.extend(
                self.planned_workspace_moves(
                    tx,
                    org.id,
                    &new.mapping,
                    Idp::Scim,
                    user,
                    &row.user.email,
                    &groups,
                    &titles,
                )
                .await?,
            );
        }
        Ok((moves, project_moves, workspace_moves))
    }
}

/// A group mapping (SCIM's or SAML's) the organization can use: the domain's rules, and
/// projects and workspaces of this organization only.
pub(crate) async fn check_mapping(
    c: &mut roster_store::Conn,
    org: roster_domain::OrgId,
    m: &GroupMapping,
) -> Result<()> {
    m.validate()
        .map_err(|e| ServiceError::invalid("roles_groups", e.to_string()))?;
    for p in &m.projects_groups {
        if projects::by_id(c, p.project)
            .await?
            .is_none_or(|found| found.org != org)
        {
            return Err(ServiceError::invalid(
                "projects_groups",
                format!("project {} is not in this organization", p.project),
            ));
        }
    }
    workspaces::check(c, org, m).await
}

/// How many of the planned moves deprovision someone.
pub fn deprovisioning(moves: &[PlannedMove]) -> usize {
    moves.iter().filter(|m| deprovisions(m.from, m.to)).count()
}
