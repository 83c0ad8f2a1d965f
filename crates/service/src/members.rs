//! Members: the list, one member's details, and the entry points of role assignment
//! (activation, deactivation, reactivation, ownership transfer), deletion and direct adds,
//! which say who acts and hand the change to the one membership path (`membership.rs`).

use roster_domain::{MemberOrder, MemberTagId, OrgId, ProjectId, Role, UserId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use roster_store::members::{MemberQuery, PageEnd, Resolved};
use roster_store::search_counts::{self, CountKey, Counted, KnownCount};
use roster_store::{members, users, MemberRow};

use crate::membership::{Actor, Change, Idp, JoinVia};
use crate::{Admin, Authorized, Context, Page, PageRequest, Result, Service, ServiceError, Staff};

/// Where recently served member-list pages ended, per query, page size and page number. Kept
/// in memory per node and safe when stale: a page sought from an old anchor starts right
/// after a row the caller has seen, so a walk never repeats or skips members that stayed.
#[derive(Debug, Default)]
pub struct PageAnchors(Mutex<HashMap<(MemberQuery, i64, i64), PageEnd>>);

/// Anchors kept at most; the map starts afresh beyond this (cold jumps stay correct).
const MAX_ANCHORS: usize = 50_000;

impl PageAnchors {
    fn get(&self, q: &MemberQuery, size: i64, page: i64) -> Option<PageEnd> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&(q.clone(), size, page)).cloned()
    }

    fn put(&self, q: MemberQuery, size: i64, page: i64, end: PageEnd) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ANCHORS {
            map.clear();
        }
        map.insert((q, size, page), end);
    }
}

/// The counts of broad searches this node took, with the sequence each is exact at
/// (`roster_store::search_counts`). Kept in memory per node: a count is only a starting point,
/// brought forward through the database's journal on every request, so a stale one is never
/// served and nodes need not agree.
///
/// A count is taken by one request at a time per key ([`SearchCounts::turn`]): when many ask
/// for the same uncounted search at once, one visits every member and the rest bring its count
/// forward, instead of all of them visiting every member together.
#[derive(Debug)]
pub struct SearchCounts {
    known: Mutex<HashMap<CountKey, KnownCount>>,
    /// The turns to take a count, by the key's hash: a fixed set, so nothing is kept per key.
    turns: Vec<tokio::sync::Mutex<()>>,
    /// Search patterns the trigram index found too common to narrow, with when it did.
    broad: Mutex<HashMap<String, Instant>>,
    unchanged: AtomicU64,
    brought_forward: AtomicU64,
    taken: AtomicU64,
    lookups_skipped: AtomicU64,
}

/// How this node found the counts of broad searches since start, for the metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchCountStats {
    /// Unchanged since a kept count.
    pub unchanged: u64,
    /// A kept count brought forward through the journal.
    pub brought_forward: u64,
    /// Taken by visiting every member.
    pub taken: u64,
    /// Searches for a term found broad a moment ago, not looked up in the trigram index again.
    pub lookups_skipped: u64,
}

/// Counts kept at most; the map starts afresh beyond this.
const MAX_SEARCH_COUNTS: usize = 10_000;

/// Turns to take a count: two uncounted searches wait on each other only when their keys
/// share one.
const COUNT_TURNS: usize = 64;

/// How long a term found broad is searched without asking the trigram index again. A term
/// stays broad unless thousands of people are renamed; one that stopped being broad is still
/// searched exactly, only by visiting every member, so this bounds a slowdown, not an error.
const BROAD_FOR: Duration = Duration::from_secs(60);

impl Default for SearchCounts {
    fn default() -> Self {
        Self {
            known: Mutex::default(),
            turns: (0..COUNT_TURNS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            broad: Mutex::default(),
            unchanged: AtomicU64::new(0),
            brought_forward: AtomicU64::new(0),
            taken: AtomicU64::new(0),
            lookups_skipped: AtomicU64::new(0),
        }
    }
}

impl SearchCounts {
    /// The turn to take `key`'s count, held while counting.
    async fn turn(&self, key: &CountKey) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        let index = (hasher.finish() % COUNT_TURNS as u64) as usize;
        self.turns[index].lock().await
    }

    /// Whether the trigram index found `pattern` broad within the last [`BROAD_FOR`].
    fn known_broad(&self, pattern: &str) -> bool {
        let map = self.broad.lock().unwrap_or_else(|e| e.into_inner());
        let known = map.get(pattern).is_some_and(|at| at.elapsed() < BROAD_FOR);
        if known {
            self.lookups_skipped.fetch_add(1, Ordering::Relaxed);
        }
        known
    }

    fn found_broad(&self, pattern: String) {
        let mut map = self.broad.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SEARCH_COUNTS && !map.contains_key(&pattern) {
            map.clear();
        }
        map.insert(pattern, Instant::now());
    }

    fn get(&self, key: &CountKey) -> Option<KnownCount> {
        let map = self.known.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).copied()
    }

    fn put(&self, key: CountKey, count: KnownCount, how: Counted) {
        let tally = match how {
            Counted::Unchanged => &self.unchanged,
            Counted::BroughtForward => &self.brought_forward,
            Counted::Taken => &self.taken,
        };
        tally.fetch_add(1, Ordering::Relaxed);
        let mut map = self.known.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_SEARCH_COUNTS && !map.contains_key(&key) {
            map.clear();
        }
        // Two requests may race: keep the later sequence.
        let entry = map.entry(key).or_insert(count);
        if count.seq >= entry.seq {
            *entry = count;
        }
    }

    pub(crate) fn stats(&self) -> SearchCountStats {
        SearchCountStats {
            unchanged: self.unchanged.load(Ordering::Relaxed),
            brought_forward: self.brought_forward.load(Ordering::Relaxed),
            taken: self.taken.load(Ordering::Relaxed),
            lookups_skipped: self.lookups_skipped.load(Ordering::Relaxed),
        }
    }
}

/// What a member list asks for: roles (none = all), a search term, deleted members instead of
/// live ones, and the order. The organization is the one the caller's proof names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemberFilter {
    /// Leave out the members of this workspace.
    pub exclude_workspace: Option<roster_domain::WorkspaceId>,
    pub roles: Vec<Role>,
    pub search: Option<String>,
    pub deleted: bool,
    pub order: MemberOrder,
    pub descending: bool,
    /// Leaves out the members of this project.
    pub exclude_project: Option<ProjectId>,
    /// Only members carrying any of these tags.
    pub tags: Vec<MemberTagId>,
    /// Only members last active at or after / at or before these instants.
    pub active_from: Option<i64>,
    pub active_to: Option<i64>,
    /// The seat types asked for (`user_type`); none = any. roster's members all hold
    /// standard seats (`roster_domain::tags::USER_TYPE`).
    pub user_types: Vec<String>,
    /// Only members of any of these workspaces or projects (which the caller must see).
    pub in_workspaces: Vec<roster_domain::WorkspaceId>,
    pub in_projects: Vec<ProjectId>,
}

impl MemberFilter {
    /// The store's query for this filter in the organization.
    pub(crate) fn query(&self, org: OrgId) -> MemberQuery {
        MemberQuery {
            org,
            roles: self.roles.clone(),
            search: self.search.clone(),
            deleted: self.deleted,
            order: self.order,
            descending: self.descending,
            exclude_workspace: self.exclude_workspace,
            exclude_project: self.exclude_project,
            tags: self.tags.clone(),
            active_from: self.active_from,
            active_to: self.active_to,
            no_seat_type: self.matches_no_seat_type(),
            in_workspaces: self.in_workspaces.clone(),
            in_projects: self.in_projects.clone(),
        }
    }

    /// Whether `user_type` asks only for seat types no roster member holds (all hold
    /// standard seats), so nobody matches.
    pub(crate) fn matches_no_seat_type(&self) -> bool {
        !self.user_types.is_empty()
            && !self
                .user_types
                .iter()
                .any(|t| t == roster_domain::tags::USER_TYPE)
    }
}

/// One member's details, with the work they did under this membership.
#[derive(Debug, Clone)]
pub struct MemberDetail {
    pub member: MemberRow,
    pub annotations_count: i64,
    pub contributed_projects_count: i64,
}

fn no_member(user: UserId) -> ServiceError {
    ServiceError::not_found(format!(
        "No member with user id {user} in this organization."
    ))
}

impl Service {
    /// The member list, filtered, ordered and paged. A page that follows one this node just
    /// served is found by seeking past that page's last row, so walking page after page stays
    /// as fast at page 10,000 as at page 1; a cold jump counts rows from the start.
    pub async fn list_members(
        &self,
        by: &Authorized<Staff>,
        filter: MemberFilter,
        page: PageRequest,
    ) -> Result<Page<MemberRow>> {
        let query = filter.query(by.org.id);
        let mut c = self.store().read().await?;
        if !query.tags.is_empty() {
            crate::tags::check_tags(&mut c, by.org.id, "tags", &query.tags).await?;
        }
        if !query.in_workspaces.is_empty() || !query.in_projects.is_empty() {
            self.check_membership_targets(by, &query.in_workspaces, &query.in_projects)
                .await?;
        }
        let resolved = self.resolve(&mut c, &query).await?;
        let count = self.count_members(&mut c, &resolved).await?;
        let resolved = resolved.counted(count);
        let previous = (page.page > 1)
            .then(|| self.anchors().get(&query, page.size, page.page - 1))
            .flatten();
        let items = match previous {
            Some(end) => members::list_after(&mut c, &resolved, &end, page.size).await?,
            None if page.offset() >= count => Vec::new(),
            None => members::list(&mut c, &resolved, page.size, page.offset()).await?,
        };
        if let Some(last) = items.last() {
            let end = PageEnd {
                value: members::sort_value(query.order, last),
                id: last.membership.id,
            };
            self.anchors().put(query, page.size, page.page, end);
        }
        Ok(Page { count, items })
    }

    /// How `query`'s search is answered: a term found broad a moment ago is not looked up in
    /// the trigram index again (on PostgreSQL that lookup reads thousands of index entries).
    async fn resolve<'q>(
        &self,
        c: &mut roster_store::Conn,
        query: &'q MemberQuery,
    ) -> Result<Resolved<'q>> {
        let counts = self.search_counts();
        let pattern = members::lookup_pattern(query);
        if pattern.as_deref().is_some_and(|p| counts.known_broad(p)) {
            return Ok(members::resolve_as_broad(query));
        }
        let resolved = members::resolve(c, query).await?;
        if let (Some(pattern), true) = (pattern, resolved.found_broad()) {
            counts.found_broad(pattern);
        }
        Ok(resolved)
    }

    /// How many members a list query matches. A broad search's count is brought forward from
    /// the one this node took before, when it has one (`SearchCounts`).
    async fn count_members(&self, c: &mut roster_store::Conn, r: &Resolved<'_>) -> Result<i64> {
        let Some(key) = search_counts::key(r) else {
            return Ok(members::count(c, r).await?);
        };
        let counts = self.search_counts();
        let first = counts.get(&key);
        if let Some(known) = first {
            if let Some((count, how)) = search_counts::bring_forward(c, &key, known).await? {
                counts.put(key, count, how);
                return Ok(count.count);
            }
        }
        // No count to bring forward: take it, one request per key at a time. One that waited
        // finds the count its predecessor took and brings that forward instead.
        let _turn = counts.turn(&key).await;
        let known = counts.get(&key).filter(|k| Some(*k) != first);
        let (count, how) = search_counts::count(c, r, &key, known).await?;
        counts.put(key, count, how);
        Ok(count.count)
    }

    /// One live member with their contribution counts.
    pub async fn member_detail(
        &self,
        by: &Authorized<Staff>,
        user: UserId,
    ) -> Result<MemberDetail> {
        let mut c = self.store().read().await?;
        let member = members::live_with_user(&mut c, by.org.id, user)
            .await?
            .ok_or_else(|| no_member(user))?;
        let (annotations_count, contributed_projects_count) =
            members::contribution(&mut c, member.membership.id).await?;
        Ok(MemberDetail {
            member,
            annotations_count,
            contributed_projects_count,
        })
    }

    /// Assigns a role by hand (web, REST). Assigning an active role to a pending member
    /// activates them; DI deactivates; an active role reactivates; the Owner naming another
    /// active member as OW hands over ownership.
    pub async fn assign_role(
        &self,
        by: &Authorized<Admin>,
        target: UserId,
        role: Role,
    ) -> Result<MemberRow> {
        let actor = Actor::Member(by.user.clone());
        self.set_role_as(by.org.id, &actor, target, role, &by.context)
            .await
    }

    /// Assigns a role on an identity provider's word (SCIM provisioning, SAML sign-in). The
    /// membership becomes IdP-managed: with manual role management off, people can no longer
    /// change it by hand.
    pub async fn apply_idp_role(
        &self,
        org: OrgId,
        target: UserId,
        role: Role,
        idp: Idp,
    ) -> Result<MemberRow> {
        let actor = Actor::IdentityProvider {
            idp,
            on_behalf_of: None,
        };
        let ctx = Context {
            source: idp.source(),
            address: None,
        };
        self.set_role_as(org, &actor, target, role, &ctx).await
    }

    /// Assigns a role as the operator at the command line.
    pub async fn operator_assign_role(
        &self,
        org: OrgId,
        target: UserId,
        role: Role,
    ) -> Result<MemberRow> {
        self.set_role_as(org, &Actor::Operator, target, role, &Context::cli())
            .await
    }

    async fn set_role_as(
        &self,
        org: OrgId,
        actor: &Actor,
        target: UserId,
        role: Role,
        ctx: &Context,
    ) -> Result<MemberRow> {
        let mut tx = self.store().write().await?;
        let row = self
            .change_membership(&mut tx, org, actor, Change::SetRole { target, role }, ctx)
            .await?
            .ok_or_else(|| no_member(target))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }

    /// Deletes a member: the membership is kept as a deleted record, so their work shows as
    /// "Deleted User"; they come back only through a new invite, as a new membership.
    pub async fn delete_member(&self, by: &Authorized<Admin>, target: UserId) -> Result<()> {
        let actor = Actor::Member(by.user.clone());
        self.delete_as(by.org.id, &actor, target, &by.context).await
    }

    /// Deletes a member as the operator at the command line.
    pub async fn operator_delete_member(&self, org: OrgId, target: UserId) -> Result<()> {
        self.delete_as(org, &Actor::Operator, target, &Context::cli())
            .await
    }

    async fn delete_as(
        &self,
        org: OrgId,
        actor: &Actor,
        target: UserId,
        ctx: &Context,
    ) -> Result<()> {
        let mut tx = self.store().write().await?;
        self.change_membership(&mut tx, org, actor, Change::Delete { target }, ctx)
            .await?;
        Ok(roster_store::commit(tx).await?)
    }

    /// Finds a member's user id by email, for the CLI.
    pub async fn member_by_email(&self, org: OrgId, email: &str) -> Result<MemberRow> {
        let email = crate::accounts::normalize_email(email)?;
        let mut c = self.store().read().await?;
        let user = users::by_email(&mut c, &email)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("no account has the email {email}")))?;
        members::live_with_user(&mut c, org, user.id)
            .await?
            .ok_or_else(|| no_member(user.id))
    }
}

impl Service {
    /// Adds a person by email in a role, making their account (without a password: they get
    /// a set-password link) when they have none. The bulk path of imports and the CLI; the
    /// seat rule applies as for any activation.
    pub async fn add_member(
        &self,
        by: &Authorized<Admin>,
        email: &str,
        first_name: &str,
        last_name: &str,
        role: Role,
    ) -> Result<MemberRow> {
        let email = crate::accounts::normalize_email(email)?;
        let first = crate::accounts::check_name("first_name", first_name)?;
        let last = crate::accounts::check_name("last_name", last_name)?;
        let mut tx = self.store().write().await?;
        let user = match users::by_email(&mut tx, &email).await? {
            Some(u) => u,
            None => {
                self.insert_user(&mut tx, &email, &first, &last, None)
                    .await?
            }
        };
        let change = Change::Join {
            user: &user,
            via: JoinVia::Direct(role),
        };
        let actor = Actor::Member(by.user.clone());
        let row = self
            .change_membership(&mut tx, by.org.id, &actor, change, &by.context)
            .await?
            .ok_or_else(|| no_member(user.id))?;
        roster_store::commit(tx).await?;
        Ok(row)
    }
}
