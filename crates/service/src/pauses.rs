//! Pauses of a person's work in a project (the SDK's `projects.pauses`): who may pause and
//! resume (those who manage the project's members: Managers and up who see the project),
//! and the refusal of new work while a pause is active.

use roster_domain::{pauses, AuditAction, ProjectId, UserId};
use roster_store::pauses::{NewPause, PauseOrder, PauseRecord};
use roster_store::{members, users, MemberRow, WriteTx};

use crate::audit::{record, Event};
use crate::{Authorized, Member, Result, Service, ServiceError, Staff};

/// A pause with the member who set it, as this organization shows them (`None` once their
/// membership here is deleted: the view masks them as Deleted User).
#[derive(Debug, Clone)]
pub struct PauseView {
    pub pause: PauseRecord,
    pub paused_by: Option<(roster_store::UserRecord, bool)>,
}

/// A new pause or a change of one's reason.
#[derive(Debug, Clone, Default)]
pub struct PauseInput {
    pub reason: Option<String>,
    pub verbose_reason: Option<String>,
}

fn check(input: &PauseInput) -> Result<()> {
    if let Some(r) = &input.reason {
        pauses::check_reason(r).map_err(|e| ServiceError::invalid("reason", e))?;
    }
    if let Some(v) = &input.verbose_reason {
        pauses::check_verbose_reason(v).map_err(|e| ServiceError::invalid("verbose_reason", e))?;
    }
    Ok(())
}

fn no_pause(id: i64) -> ServiceError {
    ServiceError::not_found(format!("No pause {id} of this member in this project."))
}

impl Service {
    /// The project the caller manages the members of, and the paused person's live
    /// membership in this organization.
    async fn pause_scope(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
    ) -> Result<MemberRow> {
        self.get_project(&by.require::<Member>()?, project).await?;
        let mut c = self.store().read().await?;
        members::live_with_user(&mut c, by.org.id, user)
            .await?
            .ok_or_else(|| {
                ServiceError::not_found(format!("No user with id {user} in this organization."))
            })
    }

    async fn pause_view(&self, by: &Authorized<Staff>, pause: PauseRecord) -> Result<PauseView> {
        let paused_by = match pause.paused_by {
            Some(id) => {
                let mut c = self.store().read().await?;
                let live = members::live(&mut c, by.org.id, id).await?.is_some();
                users::by_id(&mut c, id).await?.map(|u| (u, live))
            }
            None => None,
        };
        Ok(PauseView { pause, paused_by })
    }

    pub async fn list_pauses(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
        include_deleted: bool,
        order: (PauseOrder, bool),
    ) -> Result<Vec<PauseView>> {
        self.pause_scope(by, project, user).await?;
        let rows = {
            let mut c = self.store().read().await?;
            roster_store::pauses::list(&mut c, project, user, include_deleted, order.0, order.1)
                .await?
        };
        let mut out = Vec::with_capacity(rows.len());
        for p in rows {
            out.push(self.pause_view(by, p).await?);
        }
        Ok(out)
    }

    pub async fn get_pause(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
        id: i64,
    ) -> Result<PauseView> {
        self.pause_scope(by, project, user).await?;
        let p = {
            let mut c = self.store().read().await?;
            roster_store::pauses::get(&mut c, project, user, id).await?
        };
        self.pause_view(by, p.ok_or_else(|| no_pause(id))?).await
    }

    /// Pauses a member's work in a project; 409 while they are paused there already.
    pub async fn pause_member(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
        input: PauseInput,
    ) -> Result<PauseView> {
        check(&input)?;
        let reason = input
            .reason
            .clone()
            .ok_or_else(|| ServiceError::invalid("reason", "is required"))?;
        let verbose = input.verbose_reason.clone().unwrap_or_default();
        let target = self.pause_scope(by, project, user).await?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        if roster_store::pauses::active(&mut tx, project, user)
            .await?
            .is_some()
        {
            return Err(ServiceError::Conflict(format!(
                "{} is already paused in project {project}; change or end that pause",
                crate::audit::display_name(&target.user)
            )));
        }
        let id = roster_store::pauses::insert(
            &mut tx,
            NewPause {
                project,
                user,
                reason: &reason,
                verbose_reason: &verbose,
                paused_by: by.user.id,
                now,
            },
        )
        .await?;
        let event = Event::new(AuditAction::ProjectMemberPaused, Some(&by.user))
            .target(&target.user)
            .change(
                None,
                format!("project {project}: {reason} {verbose}")
                    .trim_end()
                    .to_string(),
            );
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        let p = roster_store::pauses::get(&mut tx, project, user, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("the pause vanished".into()))?;
        roster_store::commit(tx).await?;
        self.pause_view(by, p).await
    }

    /// Changes an active pause's reason.
    pub async fn update_pause(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
        id: i64,
        input: PauseInput,
    ) -> Result<PauseView> {
        check(&input)?;
        let target = self.pause_scope(by, project, user).await?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let before = active_pause(&mut tx, project, user, id).await?;
        let reason = input.reason.unwrap_or_else(|| before.reason.clone());
        let verbose = input
            .verbose_reason
            .unwrap_or_else(|| before.verbose_reason.clone());
        roster_store::pauses::update_reason(&mut tx, id, &reason, &verbose, now).await?;
        let show = |r: &str, v: &str| format!("project {project}: {r} {v}").trim_end().to_string();
        if (&reason, &verbose) != (&before.reason, &before.verbose_reason) {
            let event = Event::new(AuditAction::ProjectPauseUpdated, Some(&by.user))
                .target(&target.user)
                .change(
                    show(&before.reason, &before.verbose_reason),
                    show(&reason, &verbose),
                );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        let p = roster_store::pauses::get(&mut tx, project, user, id)
            .await?
            .ok_or_else(|| no_pause(id))?;
        roster_store::commit(tx).await?;
        self.pause_view(by, p).await
    }

    /// Ends a pause: the member may work in the project again. The pause is kept, marked
    /// deleted, as Label Studio Enterprise keeps it.
    pub async fn resume_member(
        &self,
        by: &Authorized<Staff>,
        project: ProjectId,
        user: UserId,
        id: i64,
    ) -> Result<()> {
        let target = self.pause_scope(by, project, user).await?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        active_pause(&mut tx, project, user, id).await?;
        if !roster_store::pauses::end(&mut tx, id, by.user.id, now).await? {
            return Err(no_pause(id));
        }
        let event = Event::new(AuditAction::ProjectMemberResumed, Some(&by.user))
            .target(&target.user)
            .change(
                format!("project {project}: paused"),
                format!("project {project}: resumed"),
            );
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        roster_store::commit(tx).await?;
        Ok(())
    }

    /// Refuses new work from a member paused in the project, in the transaction that would
    /// record it.
    pub(crate) async fn check_not_paused(
        &self,
        tx: &mut WriteTx,
        project: &roster_store::ProjectRecord,
        user: UserId,
    ) -> Result<()> {
        match roster_store::pauses::active(tx, project.id, user).await? {
            Some(p) => Err(ServiceError::Forbidden(pauses::refusal(
                &project.title,
                &p.verbose_reason,
            ))),
            None => Ok(()),
        }
    }
}

async fn active_pause(
    tx: &mut WriteTx,
    project: ProjectId,
    user: UserId,
    id: i64,
) -> Result<PauseRecord> {
    roster_store::pauses::get(tx, project, user, id)
        .await?
        .filter(|p| p.deleted_at.is_none())
        .ok_or_else(|| no_pause(id))
}
