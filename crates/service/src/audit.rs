//! Writing and reading the audit log. Every change writes its event through `record`, on
//! the same transaction as the change.

use roster_domain::{AuditAction, OrgId};
use roster_store::{audit, NewAuditEvent, UserRecord, WriteTx};

use crate::{Admin, Authorized, Context, Result, Service};

/// A person's name as people read it: their full name, or their email without one.
pub fn display_name(u: &UserRecord) -> String {
    roster_domain::people::display_name(&u.first_name, &u.last_name, &u.email)
}

fn who(u: &UserRecord) -> (roster_domain::UserId, String, String) {
    (u.id, display_name(u), u.email.clone())
}

/// What a recorded event did, in one sentence people read (see `audit::sentence`): the same
/// words on the audit page, the member panel and the CSV export.
pub fn describe(r: &roster_store::AuditRecord) -> String {
    roster_domain::audit::sentence(&roster_domain::audit::Recorded {
        action: &r.action,
        source: &r.source,
        actor: &r.actor_name,
        target: &r.target_name,
        by_themselves: r.actor_user_id.is_some() && r.actor_user_id == r.target_user_id,
        old: r.old_value.as_deref(),
        new: r.new_value.as_deref(),
    })
}

/// One event to record.
pub(crate) struct Event<'a> {
    pub action: AuditAction,
    pub actor: Option<&'a UserRecord>,
    pub target: Option<&'a UserRecord>,
    pub old: Option<String>,
    pub new: Option<String>,
}

impl<'a> Event<'a> {
    pub fn new(action: AuditAction, actor: Option<&'a UserRecord>) -> Event<'a> {
        Event {
            action,
            actor,
            target: None,
            old: None,
            new: None,
        }
    }

    pub fn target(mut self, t: &'a UserRecord) -> Self {
        self.target = Some(t);
        self
    }

    pub fn change(
        mut self,
        old: impl Into<Option<String>>,
        new: impl Into<Option<String>>,
    ) -> Self {
        self.old = old.into();
        self.new = new.into();
        self
    }
}

pub(crate) async fn record(
    c: &mut WriteTx,
    org: OrgId,
    now: i64,
    ctx: &Context,
    e: Event<'_>,
) -> Result<()> {
    let event = NewAuditEvent {
        org: Some(org),
        occurred_at: now,
        action: e.action.code(),
        source: ctx.source.code(),
        actor: e.actor.map(who),
        target: e.target.map(who),
        old_value: e.old,
        new_value: e.new,
        address: ctx.address.clone(),
    };
    audit::insert(c, org, &event).await?;
    Ok(())
}

/// One page of a list, with the total.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub count: i64,
    pub items: Vec<T>,
}

/// Page number (from 1) and size, already clamped by the caller.
#[derive(Debug, Clone, Copy)]
pub struct PageRequest {
    pub page: i64,
    pub size: i64,
}

impl PageRequest {
    pub fn offset(&self) -> i64 {
        (self.page - 1).saturating_mul(self.size)
    }
}

impl Service {
    /// Reads the organization's audit log, newest first.
    pub async fn audit_log(
        &self,
        by: &Authorized<Admin>,
        query: &audit::AuditQuery,
        page: PageRequest,
    ) -> Result<Page<roster_store::AuditRecord>> {
        let mut c = self.store().read().await?;
        let count = audit::count(&mut c, by.org.id, query).await?;
        let items = audit::list(&mut c, by.org.id, query, page.size, page.offset()).await?;
        Ok(Page { count, items })
    }

    /// Up to `size` events, newest first, without counting the log: an export reads batch
    /// after batch, each starting below the last one's id (`AuditQuery::before_id`).
    pub async fn audit_batch(
        &self,
        by: &Authorized<Admin>,
        query: &audit::AuditQuery,
        size: i64,
    ) -> Result<Vec<roster_store::AuditRecord>> {
        let mut c = self.store().read().await?;
        Ok(audit::list(&mut c, by.org.id, query, size, 0).await?)
    }

    /// The person an audit filter names by email, for filtering by their id. Anyone with an
    /// account may be named, members past and present alike, since the log outlives
    /// memberships; an email nobody has answers None, which filters to nothing.
    pub async fn audit_person(
        &self,
        _by: &Authorized<Admin>,
        email: &str,
    ) -> Result<Option<roster_domain::UserId>> {
        let email = crate::accounts::normalize_email(email)?;
        let mut c = self.store().read().await?;
        Ok(roster_store::users::by_email(&mut c, &email)
            .await?
            .map(|u| u.id))
    }
}
