//! Projects, project members with their project roles, and annotations. Work is recorded under
//! the membership it was done in, which is what makes "Deleted User" attribution exact.

use std::collections::HashMap;

use roster_domain::workspaces as visibility;
use roster_domain::{
    policy, Access, AuditAction, ProjectId, ProjectRole, RoleSource, Source, UserId, WorkspaceId,
};
use roster_store::{
    projects, AnnotationRow, MemberRow, ProjectMemberRow, ProjectRecord, ProjectRoleRecord,
};

use crate::audit::{record, Event};
use crate::membership::{Actor, ProjectChange};
use crate::{Authorized, Member, Page, PageRequest, Result, Service, ServiceError, Staff};

fn is_staff(by: &Authorized<Member>) -> bool {
    policy::check(by.role(), Access::Staff).is_ok()
}

/// Whom a bulk project-membership change names.
#[derive(Debug, Clone)]
pub enum BulkTargets {
    /// These users.
    Users(Vec<UserId>),
    /// Every member matching the filter (its organization roles and search), less these.
    All {
        filter: Box<crate::members::MemberFilter>,
        excluded: Vec<UserId>,
    },
}

/// A project with what its API shape shows besides its own columns.
#[derive(Debug, Clone)]
pub struct ProjectSummary {
    pub project: ProjectRecord,
    /// Who created it (their membership may since be deleted).
    pub creator: Option<MemberRow>,
    pub members_count: i64,
    /// The title of the project's workspace, when it is in one.
    pub workspace_title: Option<String>,
}

/// The projects and workspaces one member belongs to, as (id, title), by title.
#[derive(Debug, Clone, Default)]
pub struct MemberPlaces {
    pub projects: Vec<(ProjectId, String)>,
    pub workspaces: Vec<(WorkspaceId, String)>,
}

impl Service {
    /// Where a member of the caller's organization belongs (the member panel).
    pub async fn member_places(
        &self,
        by: &Authorized<Staff>,
        user: UserId,
    ) -> Result<MemberPlaces> {
        let mut c = self.store().read().await?;
        let row = roster_store::members::live_with_user(&mut c, by.org.id, user)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!(
                    "No member with user id {user} in this organization."
                ))
            })?;
        let m = row.membership.id;
        Ok(MemberPlaces {
            projects: projects::titles_of_membership(&mut c, m).await?,
            workspaces: roster_store::workspaces::titles_of_membership(&mut c, m).await?,
        })
    }

    /// The creator and member count of each project (for projects the caller may see).
    pub async fn summarize_projects(
        &self,
        list: Vec<ProjectRecord>,
    ) -> Result<Vec<ProjectSummary>> {
        // A page of projects usually has few creators: each is read once. The workspaces'
        // titles are read together.
        let mut c = self.store().read().await?;
        let mut creators = HashMap::new();
        let mut homes: Vec<WorkspaceId> = list.iter().filter_map(|p| p.workspace).collect();
        homes.sort();
        homes.dedup();
        let titles = roster_store::workspaces::titles(&mut c, &homes).await?;
        let mut out = Vec::with_capacity(list.len());
        for project in list {
            let creator = match project.created_by {
                Some(m) => match creators.get(&m) {
                    Some(known) => Option::clone(known),
                    None => {
                        let row = roster_store::members::with_user_by_id(&mut c, m).await?;
                        creators.insert(m, row.clone());
                        row
                    }
                },
                None => None,
            };
            let workspace_title = project.workspace.and_then(|w| titles.get(&w).cloned());
            out.push(ProjectSummary {
                members_count: project.live_members,
                project,
                creator,
                workspace_title,
            });
        }
        Ok(out)
    }

    pub async fn create_project(
        &self,
        by: &Authorized<Staff>,
        title: &str,
        description: &str,
        workspace: Option<WorkspaceId>,
    ) -> Result<ProjectRecord> {
        let title = crate::orgs::check_title(title)?;
        if description.chars().count() > 10_000 {
            return Err(ServiceError::invalid(
                "description",
                "must be at most 10000 characters",
            ));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        // A project created into a workspace needs a caller who may change that workspace.
        if let Some(w) = workspace {
            let me = by.reread(&mut tx).await?;
            let rec = roster_store::workspaces::by_id(&mut tx, w)
                .await?
                .filter(|r| r.org == by.org.id)
                .ok_or_else(|| crate::workspaces::no_workspace(w))?;
            crate::workspaces::check_manage(&mut tx, &me, &rec).await?;
        }
        let id = projects::insert(
            &mut tx,
            by.org.id,
            &title,
            description,
            by.membership.id,
            workspace,
            now,
        )
        .await?;
        // The creator is the project's first member (the project's own creation is the event).
        let source = match by.context.source {
            Source::Api => RoleSource::Api,
            _ => RoleSource::Manual,
        };
        projects::add_member(&mut tx, id, by.membership.id, source, now).await?;
        let event = Event::new(AuditAction::ProjectCreated, Some(&by.user))
            .change(None, format!("{id}: {title}"));
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        let p = projects::by_id(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("project vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(p)
    }

    /// The projects the caller sees (`roster_domain::workspaces`): Owners and Administrators
    /// all, Managers those of their workspaces and those they created or were added to,
    /// Reviewers and Annotators those they belong to directly or through their workspace.
    /// With `workspace`, only that workspace's.
    pub async fn list_projects(
        &self,
        by: &Authorized<Member>,
        workspace: Option<WorkspaceId>,
        page: PageRequest,
    ) -> Result<Page<ProjectRecord>> {
        let filter = projects::ProjectFilter {
            workspace,
            ..Default::default()
        };
        self.search_projects(by, &filter, page).await
    }

    /// The projects the caller sees (as [`Service::list_projects`]) that match `filter`.
    pub async fn search_projects(
        &self,
        by: &Authorized<Member>,
        filter: &projects::ProjectFilter,
        page: PageRequest,
    ) -> Result<Page<ProjectRecord>> {
        let reach = visibility::project_reach(by.role());
        let (org, me) = (by.org.id, by.membership.id);
        let mut c = self.store().read().await?;
        let count = projects::count_of_org(&mut c, org, me, reach, filter).await?;
        let items = if page.offset() >= count {
            Vec::new()
        } else {
            projects::of_org(&mut c, org, me, reach, filter, page.size, page.offset()).await?
        };
        Ok(Page { count, items })
    }

    /// A project the caller may see; one they may not see answers 404, as one of another
    /// organization does.
    pub async fn get_project(
        &self,
        by: &Authorized<Member>,
        id: ProjectId,
    ) -> Result<ProjectRecord> {
        let mut c = self.store().read().await?;
        let p = projects::by_id(&mut c, id)
            .await?
            .filter(|p| p.org == by.org.id)
            .ok_or_else(|| {
                ServiceError::not_found(format!("No project {id} in this organization."))
            })?;
        if !crate::workspaces::sees_project(&mut c, &by.membership, &p).await? {
            return Err(ServiceError::not_found(format!(
                "No project {id} in this organization."
            )));
        }
        Ok(p)
    }

    pub async fn project_members(
        &self,
        by: &Authorized<Member>,
        id: ProjectId,
    ) -> Result<Vec<ProjectMemberRow>> {
        self.get_project(by, id).await?;
        let mut c = self.store().read().await?;
        Ok(projects::members(&mut c, id).await?)
    }

    /// A page of the project's members: explicit ones and, with `q.implicit`, those who
    /// reach it without being its members (organization role, workspace, creation).
    pub async fn project_member_list(
        &self,
        by: &Authorized<Member>,
        project: ProjectId,
        q: &projects::ProjectMemberQuery,
        page: PageRequest,
    ) -> Result<Page<projects::ProjectMemberEntry>> {
        self.get_project(by, project).await?;
        let mut c = self.store().read().await?;
        let count = projects::count_member_list(&mut c, by.org.id, project, q).await?;
        let items = if page.offset() >= count {
            Vec::new()
        } else {
            projects::member_list(&mut c, by.org.id, project, q, page.size, page.offset()).await?
        };
        Ok(Page { count, items })
    }

    /// Every member of the project list matching `q`, for an export by those who manage
    /// the project (staff).
    pub async fn export_project_members(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        q: &projects::ProjectMemberQuery,
    ) -> Result<Vec<projects::ProjectMemberEntry>> {
        self.get_project(&by.require::<Member>()?, project).await?;
        let mut c = self.store().read().await?;
        Ok(projects::member_list(&mut c, by.org.id, project, q, i64::MAX, 0).await?)
    }

    /// Adds many organization members to a project in one transaction (the SDK's bulk
    /// assign): `users`, or with `all` every live member matching `filter` who is not in the
    /// project yet, less `excluded`; `roles` then sets project roles (adding those members
    /// too). Returns how many are members afterwards through this call and the user ids that
    /// are not live members of the organization (skipped, nothing written for them).
    pub async fn bulk_add_project_members(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        targets: BulkTargets,
        roles: &[(UserId, Option<ProjectRole>)],
    ) -> Result<(i64, Vec<UserId>)> {
        self.get_project(&by.require::<Member>()?, project).await?;
        let mut tx = self.store().write().await?;
        let users: Vec<UserId> = match targets {
            BulkTargets::Users(users) => users,
            BulkTargets::All { filter, excluded } => {
                let q = roster_store::members::MemberQuery {
                    deleted: false,
                    exclude_project: Some(project),
                    ..filter.query(by.org.id)
                };
                let resolved = roster_store::members::resolve(&mut tx, &q).await?;
                roster_store::members::list(&mut tx, &resolved, i64::MAX, 0)
                    .await?
                    .into_iter()
                    .map(|m| m.user.id)
                    .filter(|u| !excluded.contains(u))
                    .collect()
            }
        };
        let actor = Actor::Member(by.user.clone());
        let mut done = std::collections::BTreeSet::new();
        let mut skipped = Vec::new();
        let changes = users
            .iter()
            .map(|u| (*u, None))
            .chain(roles.iter().map(|(u, r)| (*u, Some(*r))));
        for (user, role) in changes {
            if roster_store::members::live_with_user(&mut tx, by.org.id, user)
                .await?
                .is_none()
            {
                if !skipped.contains(&user) {
                    skipped.push(user);
                }
                continue;
            }
            let change = match role {
                None => ProjectChange::Add {
                    project,
                    target: user,
                },
                Some(role) => ProjectChange::Put {
                    project,
                    target: user,
                    role,
                },
            };
            self.change_project_membership(&mut tx, by.org.id, &actor, change, &by.context)
                .await?;
            done.insert(user);
        }
        roster_store::commit(tx).await?;
        Ok((done.len() as i64, skipped))
    }

    /// Takes many members out of a project in one transaction (the SDK's bulk unassign):
    /// `users`, or with `all` every explicit member matching `filter`, less `excluded`.
    /// Users who are not in the project are passed over. Returns how many were removed.
    pub async fn bulk_remove_project_members(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        targets: BulkTargets,
    ) -> Result<i64> {
        self.get_project(&by.require::<Member>()?, project).await?;
        let mut tx = self.store().write().await?;
        let users: Vec<UserId> = match targets {
            BulkTargets::Users(users) => users,
            BulkTargets::All { filter, excluded } => {
                let q = projects::ProjectMemberQuery {
                    roles: filter.roles.iter().map(|r| r.code()).collect(),
                    implicit: false,
                    last_activity_from: filter.active_from,
                    last_activity_to: filter.active_to,
                    matches_none: filter.matches_no_seat_type(),
                    tags: filter.tags.clone(),
                    search: filter.search,
                    ..Default::default()
                };
                projects::member_list(&mut tx, by.org.id, project, &q, i64::MAX, 0)
                    .await?
                    .into_iter()
                    .map(|e| e.member.user.id)
                    .filter(|u| !excluded.contains(u))
                    .collect()
            }
        };
        let actor = Actor::Member(by.user.clone());
        let mut removed = 0;
        for user in users {
            let Some(row) = roster_store::members::live_with_user(&mut tx, by.org.id, user).await?
            else {
                continue;
            };
            if !projects::is_member(&mut tx, project, row.membership.id).await? {
                continue;
            }
            let change = ProjectChange::Remove {
                project,
                target: user,
            };
            self.change_project_membership(&mut tx, by.org.id, &actor, change, &by.context)
                .await?;
            removed += 1;
        }
        roster_store::commit(tx).await?;
        Ok(removed)
    }

    /// Adds an organization member to a project; one already there keeps their project role.
    pub async fn add_project_member(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
    ) -> Result<ProjectMemberRow> {
        let change = ProjectChange::Add {
            project,
            target: user,
        };
        self.project_change(by, change)
            .await?
            .ok_or_else(|| ServiceError::Internal("the project membership vanished".into()))
    }

    /// The project roles the caller may see: staff those of every project, others those of
    /// the projects they belong to; with `only`, just those projects.
    pub async fn list_project_roles(
        &self,
        by: &Authorized<Member>,
        only: Option<&[ProjectId]>,
    ) -> Result<Vec<ProjectRoleRecord>> {
        let member = (!is_staff(by)).then_some(by.membership.id);
        let mut c = self.store().read().await?;
        Ok(projects::roles_of_org(&mut c, by.org.id, only, member).await?)
    }

    /// The project roles of one project the caller may see.
    pub async fn project_roles(
        &self,
        by: &Authorized<Member>,
        project: ProjectId,
    ) -> Result<Vec<ProjectRoleRecord>> {
        self.get_project(by, project).await?;
        let mut c = self.store().read().await?;
        Ok(projects::roles_of_org(&mut c, by.org.id, Some(&[project]), None).await?)
    }

    /// Clears a project role by its id: the member stays in the project and works with their
    /// organization role again.
    pub async fn remove_project_role(&self, by: &Authorized<Staff>, id: i64) -> Result<()> {
        let role = {
            let mut c = self.store().read().await?;
            projects::role_by_id(&mut c, id).await?
        };
        let not_found = || ServiceError::not_found(format!("No project role {id}."));
        let role = role.ok_or_else(not_found)?;
        // A role of another organization's project is not named to this one.
        let mut c = self.store().read().await?;
        let in_org = projects::by_id(&mut c, role.project)
            .await?
            .is_some_and(|p| p.org == by.org.id);
        drop(c);
        if !in_org {
            return Err(not_found());
        }
        let change = ProjectChange::Put {
            project: role.project,
            target: role.user,
            role: None,
        };
        self.project_change(by, change).await.map(|_| ())
    }

    /// Puts an organization member in a project with exactly this project role (`None`: their
    /// organization role), adding them if needed.
    pub async fn put_project_member(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
        role: Option<ProjectRole>,
    ) -> Result<ProjectMemberRow> {
        let change = ProjectChange::Put {
            project,
            target: user,
            role,
        };
        self.project_change(by, change)
            .await?
            .ok_or_else(|| ServiceError::Internal("the project membership vanished".into()))
    }

    pub async fn remove_project_member(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
    ) -> Result<()> {
        let change = ProjectChange::Remove {
            project,
            target: user,
        };
        self.project_change(by, change).await.map(|_| ())
    }

    async fn project_change(
        &self,
        by: &Authorized<Staff>,
        change: ProjectChange,
    ) -> Result<Option<ProjectMemberRow>> {
        let (ProjectChange::Add { project, .. }
        | ProjectChange::Put { project, .. }
        | ProjectChange::Remove { project, .. }) = change;
        self.get_project(&by.require::<Member>()?, project).await?;
        let mut tx = self.store().write().await?;
        let actor = Actor::Member(by.user.clone());
        let row = self
            .change_project_membership(&mut tx, by.org.id, &actor, change, &by.context)
            .await?;
        roster_store::commit(tx).await?;
        Ok(row)
    }

    pub async fn list_annotations(
        &self,
        by: &Authorized<Member>,
        project: ProjectId,
        page: PageRequest,
    ) -> Result<Page<AnnotationRow>> {
        self.get_project(by, project).await?;
        let mut c = self.store().read().await?;
        let count = projects::count_annotations(&mut c, project).await?;
        let items = projects::annotations(&mut c, project, page.size, page.offset()).await?;
        Ok(Page { count, items })
    }

    /// Records completed work by the caller, under their current membership; refused while
    /// the caller's work in the project is paused.
    pub async fn create_annotation(
        &self,
        by: &Authorized<Member>,
        project: ProjectId,
        result: &str,
    ) -> Result<AnnotationRow> {
        let rec = self.get_project(by, project).await?;
        if result.len() > 100_000 {
            return Err(ServiceError::invalid(
                "result",
                "must be at most 100000 bytes",
            ));
        }
        let mut tx = self.store().write().await?;
        self.check_not_paused(&mut tx, &rec, by.user.id).await?;
        let id =
            projects::insert_annotation(&mut tx, project, by.membership.id, result, self.now())
                .await?;
        let row = projects::annotation(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("annotation vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }
}
