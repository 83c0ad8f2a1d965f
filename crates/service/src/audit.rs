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
}
