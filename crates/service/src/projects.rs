//! Projects, project members with their project roles, and annotations. Work is recorded under
//! the membership it was done in, which is what makes "Deleted User" attribution exact.

use roster_domain::workspaces as visibility;
use roster_domain::{AuditAction, ProjectId, ProjectRole, UserId, WorkspaceId};
use roster_store::{projects, AnnotationRow, ProjectMemberRow, ProjectRecord};

use crate::audit::{record, Event};
use crate::membership::{Actor, ProjectChange};
use crate::{Authorized, Member, Page, PageRequest, Result, Service, ServiceError, Staff};

impl Service {
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
        projects::put_member(&mut tx, id, by.membership.id, None, now).await?;
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
        let reach = visibility::project_reach(by.role());
        let (org, me) = (by.org.id, by.membership.id);
        let mut c = self.store().read().await?;
        let count = projects::count_of_org(&mut c, org, me, reach, workspace).await?;
        let items =
            projects::of_org(&mut c, org, me, reach, workspace, page.size, page.offset()).await?;
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

    /// Adds an organization member to a project, or changes their project role.
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
        let (ProjectChange::Put { project, .. } | ProjectChange::Remove { project, .. }) = change;
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

    /// Records completed work by the caller, under their current membership.
    pub async fn create_annotation(
        &self,
        by: &Authorized<Member>,
        project: ProjectId,
        result: &str,
    ) -> Result<AnnotationRow> {
        self.get_project(by, project).await?;
        if result.len() > 100_000 {
            return Err(ServiceError::invalid(
                "result",
                "must be at most 100000 bytes",
            ));
        }
        let mut tx = self.store().write().await?;
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
