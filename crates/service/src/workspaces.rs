//! Workspaces: named groups of an organization's projects with members of their own. Who
//! sees and manages what is decided by `roster_domain::workspaces`; a workspace the caller
//! may not see answers 404 as one of another organization would, a change they may not make
//! to one they see answers 403. Membership changes go through the one workspace-membership
//! path in `membership.rs`.

use roster_domain::workspaces::{self as rules, WorkspaceFacts};
use roster_domain::{AuditAction, ProjectId, UserId, WorkspaceId};
use roster_store::workspaces::{self as store, MemberSelection, WorkspaceFields, WorkspaceFilter};
use roster_store::{projects, Conn, MemberRow, MembershipRecord, ProjectRecord, WorkspaceRecord};

use crate::audit::{record, Event};
use crate::membership::{Actor, WorkspaceChange};
use crate::{Authorized, Member, Page, PageRequest, Result, Service, ServiceError};

pub(crate) fn no_workspace(id: WorkspaceId) -> ServiceError {
    ServiceError::not_found(format!("No workspace {id} in this organization."))
}

fn no_project(id: ProjectId) -> ServiceError {
    ServiceError::not_found(format!("No project {id} in this organization."))
}

/// The facts the domain decides a membership's access to a workspace on.
async fn facts(c: &mut Conn, m: &MembershipRecord, w: &WorkspaceRecord) -> Result<WorkspaceFacts> {
    Ok(WorkspaceFacts {
        member: store::is_member(c, w.id, m.id).await?,
        holds_my_project: store::holds_project_of(c, w.id, m.id).await?,
        personal_of_other: w.is_personal && w.created_by != Some(m.id),
    })
}

/// Refuses a membership that may not change the workspace: 404 when it does not even see it.
pub(crate) async fn check_manage(
    c: &mut Conn,
    m: &MembershipRecord,
    w: &WorkspaceRecord,
) -> Result<()> {
    let f = facts(c, m, w).await?;
    if !rules::sees_workspace(m.role, f) {
        return Err(no_workspace(w.id));
    }
    let grants = crate::access::grants_of(c, m.org).await?;
    if !rules::may_manage_workspace(m.role, f, &grants) {
        return Err(ServiceError::Forbidden(format!(
            "You may not change workspace {}.",
            w.id
        )));
    }
    Ok(())
}

/// Whether the membership sees the project (the project is known to be in its organization).
pub(crate) async fn sees_project(
    c: &mut Conn,
    m: &MembershipRecord,
    p: &ProjectRecord,
) -> Result<bool> {
    let f = rules::ProjectFacts {
        direct_member: projects::is_member(c, p.id, m.id).await?,
        workspace_member: projects::is_workspace_member(c, p.id, m.id).await?,
        created_it: p.created_by == Some(m.id),
    };
    Ok(rules::sees_project(m.role, f))
}

/// A workspace as one caller sees it.
#[derive(Debug, Clone)]
pub struct WorkspaceSight {
    pub workspace: WorkspaceRecord,
    /// The caller is one of its members.
    pub member: bool,
    /// The caller may change it: its settings, members and projects, or delete it.
    pub manages: bool,
}

/// What a workspace list is asked for.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceQuery {
    pub archived: Option<bool>,
    pub personal: Option<bool>,
    /// Other people's personal workspaces too (honoured for Owners and Administrators).
    pub include_all: bool,
    /// `id`, `title` or `created_at`, and whether descending.
    pub order: Option<(&'static str, bool)>,
}

/// A workspace's settings as asked for; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct WorkspacePatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub color: Option<String>,
    pub is_personal: Option<bool>,
    pub is_archived: Option<bool>,
}

/// Which members a bulk change concerns: all (but `excluded`), or only `included`.
#[derive(Debug, Clone, Default)]
pub struct BulkSelection {
    pub all: bool,
    pub included: Vec<i64>,
    pub excluded: Vec<i64>,
}

fn checked_fields(
    p: &WorkspacePatch,
    current: Option<&WorkspaceRecord>,
) -> Result<WorkspaceFieldsOwned> {
    let title = match (&p.title, current) {
        (Some(t), _) => crate::orgs::check_title(t)?,
        (None, Some(w)) => w.title.clone(),
        (None, None) => return Err(ServiceError::invalid("title", "is required")),
    };
    let description = p
        .description
        .clone()
        .or_else(|| current.map(|w| w.description.clone()))
        .unwrap_or_default();
    if description.chars().count() > 10_000 {
        return Err(ServiceError::invalid(
            "description",
            "must be at most 10000 characters",
        ));
    }
    let color = p
        .color
        .clone()
        .or_else(|| current.map(|w| w.color.clone()))
        .unwrap_or_default();
    if color.chars().count() > 64 {
        return Err(ServiceError::invalid(
            "color",
            "must be at most 64 characters",
        ));
    }
    Ok(WorkspaceFieldsOwned {
        title,
        description,
        color,
        is_personal: p
            .is_personal
            .or(current.map(|w| w.is_personal))
            .unwrap_or(false),
        is_archived: p
            .is_archived
            .or(current.map(|w| w.is_archived))
            .unwrap_or(false),
    })
}

struct WorkspaceFieldsOwned {
    title: String,
    description: String,
    color: String,
    is_personal: bool,
    is_archived: bool,
}

impl WorkspaceFieldsOwned {
    fn borrowed(&self) -> WorkspaceFields<'_> {
        WorkspaceFields {
            title: &self.title,
            description: &self.description,
            color: &self.color,
            is_personal: self.is_personal,
            is_archived: self.is_archived,
        }
    }

    /// The settings in words, for the audit log.
    fn summary(&self) -> String {
        format!(
            "title={:?} description={:?} color={:?} personal={} archived={}",
            self.title, self.description, self.color, self.is_personal, self.is_archived
        )
    }
}

fn summary_of(w: &WorkspaceRecord) -> String {
    WorkspaceFieldsOwned {
        title: w.title.clone(),
        description: w.description.clone(),
        color: w.color.clone(),
        is_personal: w.is_personal,
        is_archived: w.is_archived,
    }
    .summary()
}

impl Service {
    /// The workspaces the caller sees, each with whether they are one of its members.
    pub async fn list_workspaces(
        &self,
        by: &Authorized<Member>,
        q: WorkspaceQuery,
    ) -> Result<Vec<(WorkspaceRecord, bool)>> {
        let role = by.membership.role;
        let filter = WorkspaceFilter {
            archived: q.archived,
            personal: q.personal,
            others_personal: q.include_all && rules::sees_personal_of_others(role),
            order: q.order,
        };
        let mut c = self.store().read().await?;
        Ok(store::list(
            &mut c,
            by.org.id,
            by.membership.id,
            rules::workspace_reach(role),
            &filter,
        )
        .await?)
    }

    /// A workspace the caller sees, with whether they are one of its members.
    pub async fn get_workspace(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
    ) -> Result<(WorkspaceRecord, bool)> {
        let sight = self.workspace_sight(by, id).await?;
        Ok((sight.workspace, sight.member))
    }

    /// A workspace the caller sees, with what they may do with it (the pages show the forms
    /// of what they may change).
    pub async fn workspace_sight(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
    ) -> Result<WorkspaceSight> {
        let mut c = self.store().read().await?;
        let w = store::by_id(&mut c, id)
            .await?
            .filter(|w| w.org == by.org.id)
            .ok_or_else(|| no_workspace(id))?;
        let f = facts(&mut c, &by.membership, &w).await?;
        if !rules::sees_workspace(by.membership.role, f) {
            return Err(no_workspace(id));
        }
        Ok(WorkspaceSight {
            workspace: w,
            member: f.member,
            manages: rules::may_manage_workspace(by.membership.role, f, by.grants()),
        })
    }

    /// Whether the caller may create workspaces.
    pub fn may_create_workspace(&self, by: &Authorized<Member>) -> bool {
        rules::may_create_workspace(by.membership.role, by.grants())
    }

    /// Creates a workspace (Owners, Administrators, Managers); its creator is its first member.
    pub async fn create_workspace(
        &self,
        by: &Authorized<Member>,
        patch: WorkspacePatch,
    ) -> Result<WorkspaceRecord> {
        let fields = checked_fields(&patch, None)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let me = by.reread(&mut tx).await?;
        let grants = crate::access::grants_of(&mut tx, by.org.id).await?;
        if !rules::may_create_workspace(me.role, &grants) {
            return Err(ServiceError::Forbidden(
                "Only an Owner, or an Administrator or Manager whose role holds the \"Manage \
                 workspaces\" permission, may create workspaces."
                    .into(),
            ));
        }
        if store::title_taken(&mut tx, by.org.id, &fields.title, None).await? {
            return Err(ServiceError::invalid(
                "title",
                "another workspace of this organization has this title",
            ));
        }
        let id = store::insert(&mut tx, by.org.id, &fields.borrowed(), me.id, now).await?;
        let source = match by.context.source {
            roster_domain::Source::Api => roster_domain::RoleSource::Api,
            _ => roster_domain::RoleSource::Manual,
        };
        store::put_member(&mut tx, id, me.id, source, now).await?;
        let event = Event::new(AuditAction::WorkspaceCreated, Some(&by.user))
            .change(None, format!("workspace {id}: {}", fields.summary()));
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        let w = store::by_id(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("workspace vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(w)
    }

    /// Reads the workspace inside a change's transaction and refuses a caller who may not
    /// change it.
    async fn workspace_to_change(
        &self,
        tx: &mut roster_store::WriteTx,
        by: &Authorized<Member>,
        id: WorkspaceId,
    ) -> Result<(WorkspaceRecord, MembershipRecord)> {
        let me = by.reread(tx).await?;
        let w = store::by_id(tx, id)
            .await?
            .filter(|w| w.org == by.org.id)
            .ok_or_else(|| no_workspace(id))?;
        check_manage(tx, &me, &w).await?;
        Ok((w, me))
    }

    pub async fn update_workspace(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        patch: WorkspacePatch,
    ) -> Result<WorkspaceRecord> {
        let now = self.now();
        let mut tx = self.store().write().await?;
        let (old, _) = self.workspace_to_change(&mut tx, by, id).await?;
        let fields = checked_fields(&patch, Some(&old))?;
        if store::title_taken(&mut tx, by.org.id, &fields.title, Some(id)).await? {
            return Err(ServiceError::invalid(
                "title",
                "another workspace of this organization has this title",
            ));
        }
        store::update(&mut tx, id, &fields.borrowed()).await?;
        let (before, after) = (summary_of(&old), fields.summary());
        if before != after {
            let event = Event::new(AuditAction::WorkspaceUpdated, Some(&by.user)).change(
                format!("workspace {id}: {before}"),
                format!("workspace {id}: {after}"),
            );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        let w = store::by_id(&mut tx, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("workspace vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(w)
    }

    /// Deletes the workspace: its projects stay, outside any workspace; its memberships go.
    pub async fn delete_workspace(&self, by: &Authorized<Member>, id: WorkspaceId) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().write().await?;
        let (old, _) = self.workspace_to_change(&mut tx, by, id).await?;
        store::delete(&mut tx, id).await?;
        let event = Event::new(AuditAction::WorkspaceDeleted, Some(&by.user))
            .change(format!("workspace {id}: {}", summary_of(&old)), None);
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        roster_store::commit(tx).await?;
        Ok(())
    }

    /// The projects of a workspace the caller sees that they see themselves.
    pub async fn workspace_projects(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
    ) -> Result<Vec<ProjectRecord>> {
        self.get_workspace(by, id).await?;
        let mut c = self.store().read().await?;
        let reach = rules::project_reach(by.membership.role);
        Ok(projects::of_org(
            &mut c,
            by.org.id,
            by.membership.id,
            reach,
            &projects::ProjectFilter {
                workspace: Some(id),
                ..Default::default()
            },
            i64::from(u32::MAX),
            0,
        )
        .await?)
    }

    /// Reads, inside a change's transaction, a workspace the caller may change and a project
    /// of the organization they see.
    async fn project_to_move(
        &self,
        tx: &mut roster_store::WriteTx,
        by: &Authorized<Member>,
        id: WorkspaceId,
        project: ProjectId,
    ) -> Result<(WorkspaceRecord, MembershipRecord, ProjectRecord)> {
        let (w, me) = self.workspace_to_change(tx, by, id).await?;
        let p = projects::by_id(tx, project)
            .await?
            .filter(|p| p.org == by.org.id)
            .ok_or_else(|| no_project(project))?;
        if !sees_project(tx, &me, &p).await? {
            return Err(no_project(project));
        }
        Ok((w, me, p))
    }

    /// Puts a project the caller sees into the workspace (moving it out of another workspace,
    /// which the caller must be able to change too).
    pub async fn add_workspace_project(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        project: ProjectId,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().write().await?;
        let (w, me, p) = self.project_to_move(&mut tx, by, id, project).await?;
        if p.workspace == Some(id) {
            return Ok(());
        }
        if let Some(old) = p.workspace {
            let old_rec = store::by_id(&mut tx, old)
                .await?
                .ok_or_else(|| ServiceError::Internal("workspace vanished".into()))?;
            check_manage(&mut tx, &me, &old_rec).await?;
        }
        store::set_project_workspace(&mut tx, project, Some(id)).await?;
        let event = Event::new(AuditAction::WorkspaceProjectAdded, Some(&by.user)).change(
            p.workspace
                .map(|o| format!("project {project} in workspace {o}")),
            format!(
                "project {project}: {} in workspace {id}: {}",
                p.title, w.title
            ),
        );
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        roster_store::commit(tx).await?;
        Ok(())
    }

    /// Takes a project out of the workspace (it stays in the organization).
    pub async fn remove_workspace_project(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        project: ProjectId,
    ) -> Result<()> {
        let now = self.now();
        let mut tx = self.store().write().await?;
        let (w, _, p) = self.project_to_move(&mut tx, by, id, project).await?;
        if p.workspace != Some(id) {
            return Err(ServiceError::not_found(format!(
                "project {project} is not in workspace {id}"
            )));
        }
        store::set_project_workspace(&mut tx, project, None).await?;
        let event = Event::new(AuditAction::WorkspaceProjectRemoved, Some(&by.user)).change(
            format!(
                "project {project}: {} in workspace {id}: {}",
                p.title, w.title
            ),
            None,
        );
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        roster_store::commit(tx).await?;
        Ok(())
    }

    /// Refuses a caller who may not manage the workspace's members (read or change).
    async fn members_readable(&self, by: &Authorized<Member>, id: WorkspaceId) -> Result<()> {
        let mut c = self.store().read().await?;
        let w = store::by_id(&mut c, id)
            .await?
            .filter(|w| w.org == by.org.id)
            .ok_or_else(|| no_workspace(id))?;
        check_manage(&mut c, &by.membership, &w).await
    }

    /// Every live member of the workspace (for those who manage it).
    pub async fn workspace_members(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
    ) -> Result<Vec<MemberRow>> {
        self.members_readable(by, id).await?;
        let mut c = self.store().read().await?;
        let all = MemberSelection::default();
        Ok(store::members_page(&mut c, id, &all, i64::from(u32::MAX), 0).await?)
    }

    /// A page of the workspace's live members, in the order they joined the organization.
    pub async fn workspace_members_page(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        sel: MemberSelection,
        page: PageRequest,
    ) -> Result<Page<MemberRow>> {
        self.members_readable(by, id).await?;
        let mut c = self.store().read().await?;
        let count = store::count_members(&mut c, by.org.id, id, &sel).await?;
        let items = if page.offset() >= count {
            Vec::new()
        } else {
            store::members_page(&mut c, id, &sel, page.size, page.offset()).await?
        };
        Ok(Page { count, items })
    }

    /// Adds an organization member to the workspace (`add`; nothing changes when already
    /// there) or removes one from it.
    pub async fn set_workspace_member(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        user: UserId,
        add: bool,
    ) -> Result<()> {
        self.workspace_members_change(by, id, &[user], add)
            .await
            .map(|_| ())
    }

    /// Adds many organization members at once: every live member (but `excluded`) with
    /// `all`, else those `included`. Returns how many were added (already members are not).
    pub async fn bulk_add_workspace_members(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        sel: BulkSelection,
    ) -> Result<i64> {
        let users: Vec<UserId> = if sel.all {
            let mut c = self.store().read().await?;
            store::org_member_user_ids(&mut c, by.org.id)
                .await?
                .into_iter()
                .filter(|u| !sel.excluded.contains(u))
                .map(UserId)
                .collect()
        } else {
            sel.included.iter().copied().map(UserId).collect()
        };
        self.workspace_members_change(by, id, &users, true).await
    }

    /// Removes many members at once: every member matching `filter` (but `excluded`) with
    /// `all`, else those `included`. Returns how many were removed.
    pub async fn bulk_remove_workspace_members(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        sel: BulkSelection,
        filter: MemberSelection,
    ) -> Result<i64> {
        let mut c = self.store().read().await?;
        let matched = store::member_user_ids(&mut c, id, &filter).await?;
        drop(c);
        let users: Vec<UserId> = matched
            .into_iter()
            .filter(|u| {
                if sel.all {
                    !sel.excluded.contains(u)
                } else {
                    sel.included.contains(u)
                }
            })
            .map(UserId)
            .collect();
        if !sel.all {
            if let Some(missing) = sel.included.iter().find(|u| !users.contains(&UserId(**u))) {
                return Err(ServiceError::invalid(
                    "included",
                    format!("user {missing} is not a member of workspace {id}"),
                ));
            }
        }
        self.workspace_members_change(by, id, &users, false).await
    }

    /// Adds or removes members in one transaction, each through the one workspace-membership
    /// path: one refused person refuses them all and changes nothing.
    async fn workspace_members_change(
        &self,
        by: &Authorized<Member>,
        id: WorkspaceId,
        users: &[UserId],
        add: bool,
    ) -> Result<i64> {
        let mut tx = self.store().write().await?;
        // Checked once here too, so a refusal names the workspace even with nobody to change.
        self.workspace_to_change(&mut tx, by, id).await?;
        let actor = Actor::Member(by.user.clone());
        let mut changed = 0;
        for user in users {
            let change = if add {
                WorkspaceChange::Add {
                    workspace: id,
                    target: *user,
                }
            } else {
                WorkspaceChange::Remove {
                    workspace: id,
                    target: *user,
                }
            };
            if self
                .change_workspace_membership(&mut tx, by.org.id, &actor, change, &by.context)
                .await?
            {
                changed += 1;
            }
        }
        roster_store::commit(tx).await?;
        Ok(changed)
    }
}
