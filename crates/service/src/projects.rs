//! Projects, project members with their project roles, and annotations. Work is recorded under
//! the membership it was done in, which is what makes "Deleted User" attribution exact.

use roster_domain::{
    policy, Access, AuditAction, ProjectId, ProjectRole, RoleSource, Source, UserId,
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

/// A project with what its API shape shows besides its own columns.
#[derive(Debug, Clone)]
pub struct ProjectSummary {
    pub project: ProjectRecord,
    /// Who created it (their membership may since be deleted).
    pub creator: Option<MemberRow>,
    pub members_count: i64,
}

impl Service {
    /// The creator and member count of each project (for projects the caller may see).
    pub async fn summarize_projects(
        &self,
        list: Vec<ProjectRecord>,
    ) -> Result<Vec<ProjectSummary>> {
        let mut c = self.store().read().await?;
        let mut out = Vec::with_capacity(list.len());
        for project in list {
            let creator = match project.created_by {
                Some(m) => roster_store::members::with_user_by_id(&mut c, m).await?,
                None => None,
            };
            let members_count = projects::count_members(&mut c, project.id).await?;
            out.push(ProjectSummary {
                project,
                creator,
                members_count,
            });
        }
        Ok(out)
    }

    pub async fn create_project(
        &self,
        by: &Authorized<Staff>,
        title: &str,
        description: &str,
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
        let id = projects::insert(
            &mut tx,
            by.org.id,
            &title,
            description,
            by.membership.id,
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

    /// Staff see every project of the organization; others see the projects they belong to.
    pub async fn list_projects(
        &self,
        by: &Authorized<Member>,
        page: PageRequest,
    ) -> Result<Page<ProjectRecord>> {
        let only = (!is_staff(by)).then_some(by.membership.id);
        let mut c = self.store().read().await?;
        let count = projects::count_of_org(&mut c, by.org.id, only).await?;
        let items = projects::of_org(&mut c, by.org.id, only, page.size, page.offset()).await?;
        Ok(Page { count, items })
    }

    /// A project the caller may see.
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
        if !is_staff(by) && !projects::is_member(&mut c, id, by.membership.id).await? {
            return Err(ServiceError::Forbidden(
                "You are not a member of this project.".into(),
            ));
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
