//! The activity log (what members' requests changed, and their sign-ins) and the session
//! policy that ends browser sessions. The HTTP layer records each request once its status is
//! known; the `activity_logs.view` permission decides who reads the log (Owners and
//! Administrators by default), and the policy is for Owners and Administrators.

use std::sync::atomic::Ordering;

use roster_domain::sessions::{self, SessionLimits};
use roster_domain::{AuditAction, OrgId};
use roster_store::activity::{self, ActivityQuery, ActivityRecord, NewActivity};
use roster_store::{Micros, SessionRecord};

use crate::audit::{record, Event};
use crate::clock::MINUTE;
use crate::{Admin, Authorized, PageRequest, ReadActivityLog, Result, Service, ServiceError};

/// Rows purged per pass; a pass runs at most once a minute per node.
const PURGE_BATCH: i64 = 10_000;

/// One page of the activity log with the totals Label Studio's DataTables answer carries.
#[derive(Debug, Clone)]
pub struct ActivityPage {
    /// Rows the organization holds within the retention period.
    pub total: i64,
    /// Rows that match the filters.
    pub filtered: i64,
    pub items: Vec<ActivityRecord>,
}

/// An organization's session policy as it applies: limits in minutes (the server's session
/// lifetime where the organization set none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionPolicy {
    pub max_session_age: i64,
    pub max_time_between_activity: i64,
    pub created_at: Option<Micros>,
    pub updated_at: Option<Micros>,
}

/// A change to a policy: absent fields stay, `Some(None)` goes back to the server's lifetime.
#[derive(Debug, Clone, Copy, Default)]
pub struct SessionPolicyChange {
    pub max_session_age: Option<Option<i64>>,
    pub max_time_between_activity: Option<Option<i64>>,
}

impl Service {
    /// Records one request in the activity log of `a.org`, if the user is a live member there.
    /// Now and then (at most once a minute per node) rows past the retention period go too.
    pub async fn record_activity(&self, mut a: NewActivity) -> Result<()> {
        let now = self.now();
        a.occurred_at = now;
        let mut tx = self.store().write().await?;
        activity::insert(&mut tx, &a).await?;
        roster_store::commit(tx).await?;
        let last = self.inner.last_purge.load(Ordering::Relaxed);
        if now - last >= MINUTE
            && self
                .inner
                .last_purge
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.purge_activity_log().await?;
        }
        Ok(())
    }

    /// Deletes a batch of rows older than the retention period; returns how many went.
    pub async fn purge_activity_log(&self) -> Result<u64> {
        let mut tx = self.store().write().await?;
        let gone = activity::purge(&mut tx, self.activity_cutoff(), PURGE_BATCH).await?;
        roster_store::commit(tx).await?;
        Ok(gone)
    }

    fn activity_cutoff(&self) -> Micros {
        self.now() - self.config().activity_log_retention
    }

    /// Reads the organization's activity log (rows within the retention period only); the
    /// `activity_logs.view` permission decides who may (Owners and Administrators by default).
    pub async fn activity_log(
        &self,
        by: &Authorized<ReadActivityLog>,
        query: ActivityQuery,
        page: PageRequest,
    ) -> Result<ActivityPage> {
        let q = ActivityQuery {
            not_before: self.activity_cutoff(),
            ..query
        };
        let mut c = self.store().read().await?;
        let total = activity::count(&mut c, by.org.id, &q, false).await?;
        let filtered = activity::count(&mut c, by.org.id, &q, true).await?;
        let items = activity::list(&mut c, by.org.id, &q, page.size, page.offset()).await?;
        Ok(ActivityPage {
            total,
            filtered,
            items,
        })
    }

    fn session_lifetime_minutes(&self) -> i64 {
        (self.config().session_ttl / MINUTE).max(1)
    }

    fn policy_view(&self, p: Option<roster_store::SessionPolicyRecord>) -> SessionPolicy {
        let most = self.session_lifetime_minutes();
        let p = p.as_ref();
        let limit = |v: Option<i64>| v.map_or(most, |m| m.min(most));
        SessionPolicy {
            max_session_age: limit(p.and_then(|p| p.max_session_age)),
            max_time_between_activity: limit(p.and_then(|p| p.max_time_between_activity)),
            created_at: p.and_then(|p| p.created_at),
            updated_at: p.and_then(|p| p.updated_at),
        }
    }

    /// The organization's session policy (Owners and Administrators).
    pub async fn session_policy(&self, by: &Authorized<Admin>) -> Result<SessionPolicy> {
        let mut c = self.store().read().await?;
        let p = activity::session_policy(&mut c, by.org.id).await?;
        Ok(self.policy_view(p))
    }

    /// Changes the organization's session policy; it applies to every session from its next
    /// request on. Audited.
    pub async fn update_session_policy(
        &self,
        by: &Authorized<Admin>,
        change: SessionPolicyChange,
    ) -> Result<SessionPolicy> {
        let most = self.session_lifetime_minutes();
        for (field, v) in [
            ("max_session_age", change.max_session_age),
            (
                "max_time_between_activity",
                change.max_time_between_activity,
            ),
        ] {
            if let Some(Some(m)) = v {
                sessions::check_minutes(m, most).map_err(|e| ServiceError::invalid(field, e))?;
            }
        }
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let before = activity::session_policy(&mut tx, by.org.id).await?;
        let old =
            |f: fn(&roster_store::SessionPolicyRecord) -> Option<i64>| before.as_ref().and_then(f);
        let age = change
            .max_session_age
            .unwrap_or_else(|| old(|p| p.max_session_age));
        let idle = change
            .max_time_between_activity
            .unwrap_or_else(|| old(|p| p.max_time_between_activity));
        let show = |age: Option<i64>, idle: Option<i64>| {
            let v = |m: Option<i64>| m.map_or("default".to_string(), |m| m.to_string());
            format!(
                "max_session_age={} max_time_between_activity={}",
                v(age),
                v(idle)
            )
        };
        let (old_age, old_idle) = (
            old(|p| p.max_session_age),
            old(|p| p.max_time_between_activity),
        );
        let now = self.now();
        activity::set_session_policy(&mut tx, by.org.id, age, idle, now).await?;
        if (old_age, old_idle) != (age, idle) {
            record(
                &mut tx,
                by.org.id,
                now,
                &by.context,
                Event::new(AuditAction::SessionPolicyChanged, Some(&by.user))
                    .change(show(old_age, old_idle), show(age, idle)),
            )
            .await?;
        }
        let after = activity::session_policy(&mut tx, by.org.id).await?;
        roster_store::commit(tx).await?;
        Ok(self.policy_view(after))
    }

    /// Holds a browser session to the strictest session policy of the organizations it can
    /// act in (its single-sign-on organization alone, else every organization the person is
    /// a live member of: one cookie reaches them all). A session past a limit is ended and
    /// refused; a live one has its last request noted at most once per activity interval.
    pub(crate) async fn enforce_session_policy(
        &self,
        id_hash: &str,
        session: &SessionRecord,
    ) -> Result<()> {
        let applies = |org: OrgId| session.sso_org.is_none_or(|s| s == org);
        let limits =
            SessionLimits::strictest(session.policies.iter().filter(|p| applies(p.org)).map(|p| {
                SessionLimits {
                    max_age_minutes: p.max_session_age,
                    max_idle_minutes: p.max_time_between_activity,
                }
            }));
        let now = self.now();
        let interval = self.config().activity_interval;
        if let Some(why) = sessions::ended(
            limits,
            session.created_at,
            session.last_active_at,
            now,
            interval,
        ) {
            let mut tx = self.store().write().await?;
            roster_store::credentials::delete_session(&mut tx, id_hash).await?;
            roster_store::commit(tx).await?;
            let what = match why {
                sessions::SessionEnd::TooOld => "reached the longest time a session may last",
                sessions::SessionEnd::Idle => "was idle longer than allowed",
            };
            return Err(ServiceError::Unauthenticated(format!(
                "Your session {what} under your organization's session policy; sign in again."
            )));
        }
        if now - session.last_active_at >= interval {
            let mut tx = self.store().write().await?;
            roster_store::credentials::touch_session(&mut tx, id_hash, now, interval).await?;
            roster_store::commit(tx).await?;
        }
        Ok(())
    }
}
