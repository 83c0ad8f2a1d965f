//! What a SAML group mapping would do before it is saved: who would change role, and join or
//! leave which workspaces, at their next sign-in (by the groups they last signed in with), and
//! what a person with given groups would get. Both ask the domain's `decide_login` and the
//! mapping's workspace rule, which the sign-in itself follows.

use roster_domain::saml::{decide_login, LoginChange, LoginFacts, LoginRefusal, Standing};
use roster_domain::scim::mapping::GroupMapping;
use roster_domain::{ProjectId, ProjectRole, Role, WorkspaceId};
use roster_store::saml as store;
use roster_store::{members, orgs, projects, workspaces};

use super::login::login_state;
use crate::membership::Idp;
use crate::scim::{check_mapping, PlannedMove, PlannedWorkspaceMove};
use crate::{Admin, Authorized, Result, Service, ServiceError};

/// Who a SAML mapping would move at their next sign-in.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MappingPreview {
    /// Role changes.
    pub moves: Vec<PlannedMove>,
    /// Workspace memberships given or taken away.
    pub workspace_moves: Vec<PlannedWorkspaceMove>,
}

/// What a first sign-in with some groups would give.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingTrial {
    /// The role they would join in, or why the sign-in would be refused.
    pub outcome: std::result::Result<Role, LoginRefusal>,
    /// The projects they would join, by title, with their project role there (None: they
    /// work with their organization role).
    pub projects: Vec<(ProjectId, String, Option<ProjectRole>)>,
    /// The workspaces they would join, by title.
    pub workspaces: Vec<(WorkspaceId, String)>,
}

impl Service {
    /// Who would change role, and join or leave which workspaces, at their next sign-in if
    /// `mapping` were saved: everyone who has signed in through the organization's identity
    /// provider and is a member, decided by the groups of their last sign-in. Nothing is
    /// changed; saving the mapping moves nobody until they sign in again. A mapping that could
    /// not be saved is refused as saving refuses it.
    pub async fn preview_saml_mapping(
        &self,
        by: &Authorized<Admin>,
        mapping: GroupMapping,
    ) -> Result<MappingPreview> {
        let org = by.org.id;
        let mut c = self.store().read().await?;
        check_mapping(&mut c, org, &mapping).await?;
        let manual = self.manual_role_management_now(&mut c, by).await?;
        let titles = crate::scim::workspace_titles(&mut c, org).await?;
        let mut moves = Vec::new();
        let mut workspace_moves = Vec::new();
        for identity in store::identities(&mut c, org).await? {
            let Some(row) = members::live_with_user(&mut c, org, identity.user).await? else {
                continue;
            };
            let groups: Vec<String> = serde_json::from_str(&identity.groups)
                .map_err(|e| ServiceError::Internal(format!("stored SAML groups: {e}")))?;
            let state = login_state(&mut c, org, identity.user, manual).await?;
            let from = row.membership.role;
            // A refused sign-in changes nothing; Keep changes no role.
            let to = match decide_login(&mapping, &groups, state.facts) {
                Ok(LoginChange::SetRole(to)) => to,
                Ok(_) => from,
                Err(_) => continue,
            };
            if to != from {
                moves.push(PlannedMove {
                    user: identity.user,
                    email: row.user.email.clone(),
                    from,
                    to,
                });
            }
            // The sign-in applies workspaces to people it leaves in a working role.
            if to.takes_seat() {
                workspace_moves.extend(
                    self.planned_workspace_moves(
                        &mut c,
                        org,
                        &mapping,
                        Idp::Saml,
                        identity.user,
                        &row.user.email,
                        &groups,
                        &titles,
                    )
                    .await?,
                );
            }
        }
        Ok(MappingPreview {
            moves,
            workspace_moves,
        })
    }

    /// What `mapping` gives a person signing in for the first time with `groups`: their role
    /// (or why they would be turned away) and, when the role is a working one, their projects,
    /// as the sign-in applies them.
    pub async fn try_saml_mapping(
        &self,
        by: &Authorized<Admin>,
        mapping: &GroupMapping,
        groups: &[String],
    ) -> Result<MappingTrial> {
        let org = by.org.id;
        let mut c = self.store().read().await?;
        check_mapping(&mut c, org, mapping).await?;
        let facts = LoginFacts {
            standing: Standing::Newcomer,
            scim_inactive: false,
            manual_role_management: self.manual_role_management_now(&mut c, by).await?,
        };
        let outcome = match decide_login(mapping, groups, facts) {
            Ok(LoginChange::Join(role) | LoginChange::SetRole(role)) => Ok(role),
            // A newcomer always joins or is refused; Keep would leave them Not Activated.
            Ok(LoginChange::Keep) => Ok(Role::NotActivated),
            Err(why) => Err(why),
        };
        let mut found = Vec::new();
        let mut joined = Vec::new();
        if outcome.is_ok_and(Role::takes_seat) {
            for (project, role) in mapping.project_roles(groups) {
                let title = projects::by_id(&mut c, project)
                    .await?
                    .map_or_else(|| format!("Project {project}"), |p| p.title);
                found.push((project, title, role));
            }
            for workspace in mapping.workspaces(groups) {
                let title = workspaces::by_id(&mut c, workspace)
                    .await?
                    .map_or_else(|| format!("Workspace {workspace}"), |w| w.title);
                joined.push((workspace, title));
            }
        }
        Ok(MappingTrial {
            outcome,
            projects: found,
            workspaces: joined,
        })
    }

    /// The organization's `manual_role_management` as stored now (the proof's copy was read
    /// when the request began).
    async fn manual_role_management_now(
        &self,
        c: &mut roster_store::Conn,
        by: &Authorized<Admin>,
    ) -> Result<bool> {
        Ok(orgs::by_id(c, by.org.id)
            .await?
            .ok_or_else(|| ServiceError::not_found("No such organization."))?
            .manual_role_management)
    }
}
