//! Identity-provider groups to workspaces (`workspaces_groups`, SCIM's and SAML's): the
//! titles people name workspaces by, resolved to the ids the mapping is kept by, and the
//! workspace memberships the mapping gives and takes away, applied through the one
//! workspace-membership path with the identity provider as the actor.

use std::collections::BTreeMap;

use roster_domain::scim::mapping::{GroupMapping, HeldWorkspace, WorkspaceGroup, WorkspaceMove};
use roster_domain::{OrgId, UserId, WorkspaceId};
use roster_store::{members, workspaces, Conn, WriteTx};

use crate::membership::{Actor, Idp, WorkspaceChange};
use crate::{Admin, Authorized, Context, Result, Service, ServiceError};

/// One workspace membership a mapping change gives (`join`) or takes away.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedWorkspaceMove {
    pub user: UserId,
    pub email: String,
    pub workspace: WorkspaceId,
    pub title: String,
    pub join: bool,
}

/// The organization's workspace titles by id.
pub(crate) async fn titles(c: &mut Conn, org: OrgId) -> Result<BTreeMap<WorkspaceId, String>> {
    Ok(workspaces::titles_of_org(c, org)
        .await?
        .into_iter()
        .collect())
}

/// `[[workspace title, group], ...]` as the mapping keeps it, by workspace id. Titles match
/// exactly (case and spaces included); they are unique within an organization (the store's
/// unique index), so a title names at most one workspace. An unknown title is refused.
pub(crate) async fn resolve(
    c: &mut Conn,
    org: OrgId,
    pairs: &[(String, String)],
) -> Result<Vec<WorkspaceGroup>> {
    let by_title: BTreeMap<String, WorkspaceId> = titles(c, org)
        .await?
        .into_iter()
        .map(|(id, title)| (title, id))
        .collect();
    pairs
        .iter()
        .map(|(title, group)| {
            let workspace = by_title.get(title).copied().ok_or_else(|| {
                ServiceError::invalid(
                    "workspaces_groups",
                    format!(
                        "no workspace of this organization is titled {title:?}; create it first \
                         (titles match exactly)"
                    ),
                )
            })?;
            Ok(WorkspaceGroup {
                workspace,
                group: group.clone(),
            })
        })
        .collect()
}

/// Drops the entries of a stored mapping whose workspace was deleted since it was saved:
/// they map nothing, and would otherwise stop the settings from being saved again.
pub(crate) async fn prune(c: &mut Conn, org: OrgId, mapping: &mut GroupMapping) -> Result<()> {
    if mapping.workspaces_groups.is_empty() {
        return Ok(());
    }
    let known = titles(c, org).await?;
    mapping
        .workspaces_groups
        .retain(|w| known.contains_key(&w.workspace));
    Ok(())
}

/// Refuses a mapping naming a workspace that is not this organization's.
pub(crate) async fn check(c: &mut Conn, org: OrgId, mapping: &GroupMapping) -> Result<()> {
    if mapping.workspaces_groups.is_empty() {
        return Ok(());
    }
    let known = titles(c, org).await?;
    match mapping
        .workspaces_groups
        .iter()
        .find(|w| !known.contains_key(&w.workspace))
    {
        Some(w) => Err(ServiceError::invalid(
            "workspaces_groups",
            format!("workspace {} is not in this organization", w.workspace),
        )),
        None => Ok(()),
    }
}

impl Service {
    /// The mapping's workspace groups as people name them: `(workspace title, group)`, with
    /// each workspace's current title.
    pub async fn named_workspaces_groups(
        &self,
        by: &Authorized<Admin>,
        mapping: &GroupMapping,
    ) -> Result<Vec<(String, String)>> {
        let mut c = self.store().read().await?;
        let known = titles(&mut c, by.org.id).await?;
        Ok(mapping
            .workspaces_groups
            .iter()
            .filter_map(|w| Some((known.get(&w.workspace)?.clone(), w.group.clone())))
            .collect())
    }

    /// The titles of the organization's workspaces, which a mapping row may name.
    pub async fn mappable_workspaces(&self, by: &Authorized<Admin>) -> Result<Vec<String>> {
        let mut c = self.store().read().await?;
        Ok(workspaces::titles_of_org(&mut c, by.org.id)
            .await?
            .into_iter()
            .map(|(_, title)| title)
            .collect())
    }

    /// `(workspace title, group)` pairs as the mapping keeps them (for a preview of a mapping
    /// not saved yet); an unknown title is refused as saving refuses it.
    pub async fn resolve_workspaces_groups(
        &self,
        by: &Authorized<Admin>,
        pairs: &[(String, String)],
    ) -> Result<Vec<WorkspaceGroup>> {
        let mut c = self.store().read().await?;
        resolve(&mut c, by.org.id, pairs).await
    }

    /// The workspace memberships the mapping changes for a member of `groups`, as `idp`
    /// applies it: the domain decides from the workspaces they hold and which of those `idp`
    /// gave. The one rule that both applies a mapping and previews it.
    pub(crate) async fn workspace_moves(
        &self,
        c: &mut Conn,
        org: OrgId,
        mapping: &GroupMapping,
        idp: Idp,
        user: UserId,
        groups: &[String],
    ) -> Result<Vec<WorkspaceMove>> {
        let Some(row) = members::live_with_user(c, org, user).await? else {
            return Ok(Vec::new());
        };
        let held: Vec<HeldWorkspace> = workspaces::memberships_of(c, row.membership.id)
            .await?
            .into_iter()
            .map(|(workspace, source)| HeldWorkspace {
                workspace,
                given_by_this_idp: source == idp.role_source(),
            })
            .collect();
        Ok(mapping.workspace_moves(groups, &held))
    }

    /// Puts the member in the workspaces their groups map to and takes them out of those the
    /// identity provider gave them and their groups no longer map, each through the one
    /// workspace-membership path (audited, source recorded as the identity provider).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn apply_workspace_mapping(
        &self,
        tx: &mut WriteTx,
        org: OrgId,
        idp: Idp,
        actor: &Actor,
        ctx: &Context,
        mapping: &GroupMapping,
        user: UserId,
        groups: &[String],
    ) -> Result<()> {
        for m in self
            .workspace_moves(tx, org, mapping, idp, user, groups)
            .await?
        {
            let change = match m {
                WorkspaceMove::Join(workspace) => WorkspaceChange::Add {
                    workspace,
                    target: user,
                },
                WorkspaceMove::Leave(workspace) => WorkspaceChange::Remove {
                    workspace,
                    target: user,
                },
            };
            self.change_workspace_membership(tx, org, actor, change, ctx)
                .await?;
        }
        Ok(())
    }

    /// The planned form of [`Service::workspace_moves`] for a preview: with the person's
    /// email and the workspaces' titles.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn planned_workspace_moves(
        &self,
        c: &mut Conn,
        org: OrgId,
        mapping: &GroupMapping,
        idp: Idp,
        user: UserId,
        email: &str,
        groups: &[String],
        titles: &BTreeMap<WorkspaceId, String>,
    ) -> Result<Vec<PlannedWorkspaceMove>> {
        Ok(self
            .workspace_moves(c, org, mapping, idp, user, groups)
            .await?
            .into_iter()
            .map(|m| {
                let (workspace, join) = match m {
                    WorkspaceMove::Join(w) => (w, true),
                    WorkspaceMove::Leave(w) => (w, false),
                };
                PlannedWorkspaceMove {
                    user,
                    email: email.to_string(),
                    workspace,
                    title: titles
                        .get(&workspace)
                        .cloned()
                        .unwrap_or_else(|| format!("Workspace {workspace}")),
                    join,
                }
            })
            .collect())
    }
}
