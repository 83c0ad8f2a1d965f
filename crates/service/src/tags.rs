//! Member tags: an organization's labels for its members. Owners and Administrators create,
//! rename, delete and assign them (every change an audit event, in the change's transaction);
//! whoever may list members reads them. Assignment selects members through the member list's
//! own filter (`members::MemberFilter`), so "all members matching these filters" means exactly
//! what the member list shows.

use std::collections::{BTreeMap, HashMap};

use roster_domain::tags::{check_label, fold_label};
use roster_domain::{AuditAction, MemberTagId, MembershipId, ProjectId, TagImportId};
use roster_store::tags::{self as store, ImportRecord, Selection, TagOrder, TagRecord};
use roster_store::{members, users, Conn, WriteTx};

use crate::access::AccessLevel;
use crate::audit::{record, Event};
use crate::members::MemberFilter;
use crate::{Admin, Authorized, Page, PageRequest, Result, Service, ServiceError, Staff};

fn no_tag(id: MemberTagId) -> ServiceError {
    ServiceError::not_found(format!("No member tag {id} in this organization."))
}

fn label_of(field: &str, raw: &str) -> Result<(String, String)> {
    let label = check_label(raw).map_err(|e| ServiceError::invalid(field, e.to_string()))?;
    let folded = fold_label(&label);
    Ok((label, folded))
}

/// Which members an assignment concerns.
#[derive(Debug, Clone, Default)]
pub struct TagSelection {
    /// All members the filter matches (less `excluded`); otherwise only `included`.
    pub all: bool,
    pub included: Vec<i64>,
    pub excluded: Vec<i64>,
}

/// Per membership: its tags, and (when asked) the projects it created and worked in.
#[derive(Debug, Default)]
pub struct MemberExtras {
    pub tags: HashMap<MembershipId, Vec<(MemberTagId, String)>>,
    #[allow(clippy::type_complexity)]
    pub projects: HashMap<MembershipId, (Vec<(ProjectId, String)>, Vec<(ProjectId, String)>)>,
}

/// What a CSV import did.
pub type TagImport = ImportRecord;

/// From how many changed assignments on the planner's statistics for them are refreshed at
/// once: well below what moves a plan at a million members, well above a page's everyday edits.
const MANY_ASSIGNMENTS: u64 = 10_000;

/// The most rows a CSV import takes (the file's size is bounded by the request limit too).
const MAX_IMPORT_ROWS: usize = 100_000;

/// Refuses ids that name no tag of the organization (400 naming `field`, listing them).
pub(crate) async fn check_tags(
    c: &mut Conn,
    org: roster_domain::OrgId,
    field: &str,
    ids: &[MemberTagId],
) -> Result<Vec<MemberTagId>> {
    let mut wanted: Vec<MemberTagId> = ids.to_vec();
    wanted.sort();
    wanted.dedup();
    let found = store::of_org(c, org, &wanted).await?;
    let missing: Vec<String> = wanted
        .iter()
        .filter(|t| !found.contains(t))
        .map(|t| t.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(ServiceError::invalid(
            field,
            format!("no member tag {} in this organization", missing.join(", ")),
        ));
    }
    Ok(found)
}

impl Service {
    /// The organization's tags, optionally those whose label holds `search`.
    pub async fn list_tags(
        &self,
        by: &Authorized<Staff>,
        search: Option<&str>,
        order: (TagOrder, bool),
        page: PageRequest,
    ) -> Result<Page<TagRecord>> {
        let mut c = self.store().read().await?;
        let count = store::count(&mut c, by.org.id, search).await?;
        let items = store::list(&mut c, by.org.id, search, order, page.size, page.offset()).await?;
        Ok(Page { count, items })
    }

    /// Refuses tag ids that name no tag of the caller's organization (400 naming `tags`).
    pub async fn check_tag_ids(&self, by: &Authorized<Staff>, ids: &[MemberTagId]) -> Result<()> {
        let mut c = self.store().read().await?;
        check_tags(&mut c, by.org.id, "tags", ids).await?;
        Ok(())
    }

    pub async fn get_tag(&self, by: &Authorized<Staff>, id: MemberTagId) -> Result<TagRecord> {
        let mut c = self.store().read().await?;
        store::by_id(&mut c, by.org.id, id)
            .await?
            .ok_or_else(|| no_tag(id))
    }

    /// The organization's first `limit` tags by label, as (id, label), and how many it has:
    /// the choices a page offers, without each tag's member count.
    pub async fn tag_labels(
        &self,
        by: &Authorized<Staff>,
        limit: i64,
    ) -> Result<Page<(MemberTagId, String)>> {
        let mut c = self.store().read().await?;
        let items = store::labels(&mut c, by.org.id, limit).await?;
        let count = if (items.len() as i64) < limit {
            items.len() as i64
        } else {
            store::count(&mut c, by.org.id, None).await?
        };
        Ok(Page { count, items })
    }

    /// The organization's tag with this label, in any case, as (id, label as stored); a 400
    /// naming `field` when it has none.
    pub async fn tag_by_label(
        &self,
        by: &Authorized<Staff>,
        field: &str,
        label: &str,
    ) -> Result<(MemberTagId, String)> {
        let (label, folded) = label_of(field, label)?;
        let mut c = self.store().read().await?;
        store::by_folded(&mut c, by.org.id, &folded, None)
            .await?
            .ok_or_else(|| {
                ServiceError::invalid(
                    field,
                    format!("this organization has no tag {label:?}; create it first"),
                )
            })
    }

    /// The tags of each of these memberships (rows the caller was shown), by label; with
    /// `projects`, also the projects each created and annotated in.
    pub async fn member_extras<A: AccessLevel>(
        &self,
        _by: &Authorized<A>,
        ids: &[MembershipId],
        projects: bool,
    ) -> Result<MemberExtras> {
        let mut c = self.store().read().await?;
        let mut out = MemberExtras::default();
        for (m, t, label) in store::of_memberships(&mut c, ids).await? {
            out.tags.entry(m).or_default().push((t, label));
        }
        if projects {
            for (m, created, p, title) in members::projects_of(&mut c, ids).await? {
                let e = out.projects.entry(m).or_default();
                if created {
                    e.0.push((p, title));
                } else {
                    e.1.push((p, title));
                }
            }
        }
        Ok(out)
    }

    async fn insert_tag(
        &self,
        tx: &mut WriteTx,
        by: &Authorized<Admin>,
        me: MembershipId,
        label: &str,
        folded: &str,
        now: i64,
    ) -> Result<MemberTagId> {
        let id = store::insert(tx, by.org.id, label, folded, me, now).await?;
        let event = Event::new(AuditAction::MemberTagCreated, Some(&by.user))
            .change(None, format!("member tag {id}: {label:?}"));
        record(tx, by.org.id, now, &by.context, event).await?;
        Ok(id)
    }

    /// Creates a tag; a label another tag of the organization has (in any case) is a 400.
    pub async fn create_tag(&self, by: &Authorized<Admin>, label: &str) -> Result<TagRecord> {
        let (label, folded) = label_of("label", label)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let me = by.reread(&mut tx).await?;
        if store::by_folded(&mut tx, by.org.id, &folded, None)
            .await?
            .is_some()
        {
            return Err(ServiceError::invalid(
                "label",
                format!("this organization already has the tag {label:?}"),
            ));
        }
        let id = self
            .insert_tag(&mut tx, by, me.id, &label, &folded, now)
            .await?;
        let tag = store::by_id(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("member tag vanished".into()))?;
        roster_store::commit(tx).await?;
        Ok(tag)
    }

    /// Creates the tags whose labels the organization does not have yet (a label given twice,
    /// or one it has, is skipped); every label is checked first, so a bad one changes
    /// nothing. Returns how many were created.
    pub async fn create_tags(&self, by: &Authorized<Admin>, labels: &[String]) -> Result<i64> {
        if labels.is_empty() {
            return Err(ServiceError::invalid(
                "labels",
                "must name at least one label",
            ));
        }
        let mut wanted: BTreeMap<String, String> = BTreeMap::new();
        for raw in labels {
            let (label, folded) = label_of("labels", raw)?;
            wanted.entry(folded).or_insert(label);
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        let me = by.reread(&mut tx).await?;
        let mut created = 0;
        for (folded, label) in &wanted {
            if store::by_folded(&mut tx, by.org.id, folded, None)
                .await?
                .is_none()
            {
                self.insert_tag(&mut tx, by, me.id, label, folded, now)
                    .await?;
                created += 1;
            }
        }
        roster_store::commit(tx).await?;
        Ok(created)
    }

    /// Renames a tag (its assignments stay).
    pub async fn rename_tag(
        &self,
        by: &Authorized<Admin>,
        id: MemberTagId,
        label: &str,
    ) -> Result<TagRecord> {
        let (label, folded) = label_of("label", label)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let old = store::by_id(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| no_tag(id))?;
        if store::by_folded(&mut tx, by.org.id, &folded, Some(id))
            .await?
            .is_some()
        {
            return Err(ServiceError::invalid(
                "label",
                format!("this organization already has the tag {label:?}"),
            ));
        }
        if old.label != label {
            store::rename(&mut tx, id, &label, &folded, now).await?;
            let event = Event::new(AuditAction::MemberTagUpdated, Some(&by.user)).change(
                format!("member tag {id}: {:?}", old.label),
                format!("member tag {id}: {label:?}"),
            );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        let tag = store::by_id(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| no_tag(id))?;
        roster_store::commit(tx).await?;
        Ok(tag)
    }

    /// Deletes tags, taking them off every member. Ids that name no tag of the organization
    /// are a 404 for one tag, a 400 naming `ids` for several; either way nothing is deleted.
    pub async fn delete_tags(
        &self,
        by: &Authorized<Admin>,
        ids: &[MemberTagId],
        one: bool,
    ) -> Result<u64> {
        if ids.is_empty() {
            return Err(ServiceError::invalid("ids", "must name at least one tag"));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let mut tags = Vec::new();
        let mut missing = Vec::new();
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        for id in &ids {
            match store::by_id(&mut tx, by.org.id, *id).await? {
                Some(t) => tags.push(t),
                None => missing.push(*id),
            }
        }
        if let Some(first) = missing.first() {
            if one {
                return Err(no_tag(*first));
            }
            let list: Vec<String> = missing.iter().map(|t| t.to_string()).collect();
            return Err(ServiceError::invalid(
                "ids",
                format!("no member tag {} in this organization", list.join(", ")),
            ));
        }
        let deleted = store::delete(&mut tx, &ids).await?;
        for t in &tags {
            let event = Event::new(AuditAction::MemberTagDeleted, Some(&by.user)).change(
                format!(
                    "member tag {}: {:?} on {} members",
                    t.id, t.label, t.member_count
                ),
                None,
            );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        roster_store::commit(tx).await?;
        Ok(deleted)
    }

    /// Puts tags on members: all the filter matches (less `excluded`) or the `included`
    /// users; with `overwrite` the selected members' other tags come off. Returns how many
    /// (member, tag) assignments were made.
    pub async fn assign_tags(
        &self,
        by: &Authorized<Admin>,
        filter: MemberFilter,
        selection: TagSelection,
        tags: &[MemberTagId],
        overwrite: bool,
    ) -> Result<u64> {
        if tags.is_empty() && !overwrite {
            return Err(ServiceError::invalid("tags", "must name at least one tag"));
        }
        if !selection.all && selection.included.is_empty() {
            return Err(ServiceError::invalid(
                "included",
                "names no member; send user ids, or all=true",
            ));
        }
        if filter.deleted {
            return Err(ServiceError::invalid(
                "is_deleted",
                "tags go on live members only",
            ));
        }
        let now = self.now();
        let mut tx = self.store().write().await?;
        by.reread(&mut tx).await?;
        let tags = check_tags(&mut tx, by.org.id, "tags", tags).await?;
        check_tags(&mut tx, by.org.id, "query tags", &filter.tags).await?;
        let query = filter.query(by.org.id);
        let sel = Selection {
            query: &query,
            included: (!selection.all).then(|| selection.included.clone()),
            excluded: selection.excluded.clone(),
        };
        let (made, removed) = store::assign(&mut tx, &sel, &tags, overwrite, now).await?;
        if made > 0 || removed > 0 {
            let labels: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
            let whom = if selection.all {
                "all members matching the filter".to_string()
            } else {
                format!("users {:?}", selection.included)
            };
            let event = Event::new(AuditAction::MemberTagsAssigned, Some(&by.user)).change(
                (removed > 0).then(|| format!("{removed} other tag assignments removed")),
                format!(
                    "member tags [{}] to {whom}: {made} assignments made",
                    labels.join(", ")
                ),
            );
            record(&mut tx, by.org.id, now, &by.context, event).await?;
        }
        roster_store::commit(tx).await?;
        self.after_many_assignments(made + removed).await;
        Ok(made)
    }

    /// After a change of many tag assignments, the planner's statistics for them are
    /// refreshed (a bulk import does the same for memberships). The change has committed by
    /// then: a failure here is logged, and autovacuum gets there later on PostgreSQL.
    async fn after_many_assignments(&self, changed: u64) {
        if changed < MANY_ASSIGNMENTS {
            return;
        }
        if let Err(e) = self.store().refresh_tag_statistics().await {
            tracing::warn!(error = %e, "refreshing member tag statistics failed");
        }
    }

    /// Imports tags from a CSV with `email` and `tags` columns (`tags` a comma-separated list
    /// of labels); `bulk_tags` (comma-separated) go on every member the file names. Missing
    /// tags are created; emails that name no live member are skipped and listed. Runs in one
    /// transaction: a malformed file (no such columns, a bad label) is a 400 naming the line,
    /// and changes nothing.
    pub async fn import_tags(
        &self,
        by: &Authorized<Admin>,
        csv_text: &str,
        bulk_tags: &str,
    ) -> Result<TagImport> {
        let rows = parse_csv(csv_text)?;
        let bulk = split_labels("bulk_tags", bulk_tags)?;
        let now = self.now();
        let mut tx = self.store().write().await?;
        let me = by.reread(&mut tx).await?;
        let mut ids: HashMap<String, MemberTagId> = HashMap::new();
        let mut tags_created = 0;
        let mut assignments = 0;
        let mut skipped: Vec<String> = Vec::new();
        for (email, labels) in rows {
            let user = match crate::accounts::normalize_email(&email) {
                Ok(e) => users::by_email(&mut tx, &e).await?,
                Err(_) => None,
            };
            let member = match user {
                Some(u) => members::live(&mut tx, by.org.id, u.id).await?,
                None => None,
            };
            let Some(member) = member else {
                skipped.push(email);
                continue;
            };
            let mut wanted = Vec::new();
            for (label, folded) in labels.iter().chain(bulk.iter()) {
                let id = match ids.get(folded) {
                    Some(id) => *id,
                    None => {
                        let id = match store::by_folded(&mut tx, by.org.id, folded, None).await? {
                            Some((id, _)) => id,
                            None => {
                                tags_created += 1;
                                self.insert_tag(&mut tx, by, me.id, label, folded, now)
                                    .await?
                            }
                        };
                        ids.insert(folded.clone(), id);
                        id
                    }
                };
                wanted.push(id);
            }
            wanted.sort();
            wanted.dedup();
            let query = MemberFilter::default().query(by.org.id);
            let sel = Selection {
                query: &query,
                included: Some(vec![member.user.0]),
                excluded: vec![],
            };
            assignments += store::assign(&mut tx, &sel, &wanted, false, now).await?.0;
        }
        let skipped_json =
            serde_json::to_string(&skipped).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let id = store::insert_import(
            &mut tx,
            by.org.id,
            me.id,
            "completed",
            now,
            tags_created,
            assignments as i64,
            &skipped_json,
        )
        .await?;
        let event = Event::new(AuditAction::MemberTagsImported, Some(&by.user)).change(
            None,
            format!(
                "member tag import {id}: {tags_created} tags created, {assignments} assignments made, {} emails skipped",
                skipped.len()
            ),
        );
        record(&mut tx, by.org.id, now, &by.context, event).await?;
        let job = store::import_by_id(&mut tx, by.org.id, id)
            .await?
            .ok_or_else(|| ServiceError::Internal("import job vanished".into()))?;
        roster_store::commit(tx).await?;
        self.after_many_assignments(assignments).await;
        Ok(job)
    }

    pub async fn tag_import(&self, by: &Authorized<Admin>, id: TagImportId) -> Result<TagImport> {
        let mut c = self.store().read().await?;
        store::import_by_id(&mut c, by.org.id, id)
            .await?
            .ok_or_else(|| ServiceError::not_found(format!("No member tag import {id}.")))
    }
}

/// Labels from a comma-separated list, checked and folded, empty items left out.
fn split_labels(field: &str, raw: &str) -> Result<Vec<(String, String)>> {
    raw.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| label_of(field, s))
        .collect()
}

/// One row of an import CSV: the email and its (label, folded label) pairs.
pub type ImportRow = (String, Vec<(String, String)>);

/// The rows of a tags import CSV (columns email and tags): the entry point the import and
/// the fuzz targets share.
pub fn parse_csv(text: &str) -> Result<Vec<ImportRow>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| ServiceError::invalid("file", format!("is not a CSV file: {e}")))?
        .clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| {
                ServiceError::invalid("file", format!("has no \"{name}\" column in its header"))
            })
    };
    let (email_col, tags_col) = (col("email")?, col("tags")?);
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.map_err(|e| ServiceError::invalid("file", format!("line {line}: {e}")))?;
        let email = rec.get(email_col).unwrap_or("").trim().to_string();
        if email.is_empty() {
            return Err(ServiceError::invalid(
                "file",
                format!("line {line}: the email is empty"),
            ));
        }
        let mut labels = Vec::new();
        for raw in rec.get(tags_col).unwrap_or("").split(',') {
            if raw.trim().is_empty() {
                continue;
            }
            let label = check_label(raw).map_err(|e| {
                ServiceError::invalid("file", format!("line {line}: the tag {raw:?} {e}"))
            })?;
            let folded = fold_label(&label);
            labels.push((label, folded));
        }
        rows.push((email, labels));
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(ServiceError::invalid(
                "file",
                format!("has more than {MAX_IMPORT_ROWS} rows"),
            ));
        }
    }
    Ok(rows)
}

/// The workspaces (each with its projects) and the projects in no workspace the caller sees:
/// what the member filter's `membership` dimension offers.
#[derive(Debug, Clone, Default)]
pub struct MembershipOptions {
    pub workspaces: Vec<(
        roster_store::WorkspaceRecord,
        Vec<roster_store::ProjectRecord>,
    )>,
    pub unparented: Vec<roster_store::ProjectRecord>,
}

impl Service {
    /// The membership targets the caller sees, those whose title holds `search`
    /// (case-insensitive; a workspace also shows when one of its projects matches).
    pub async fn membership_options(
        &self,
        by: &Authorized<Staff>,
        search: Option<&str>,
    ) -> Result<MembershipOptions> {
        let member = by.require::<crate::Member>()?;
        let workspaces = self
            .list_workspaces(&member, crate::workspaces::WorkspaceQuery::default())
            .await?;
        let projects = self
            .list_projects(
                &member,
                None,
                PageRequest {
                    page: 1,
                    size: i64::MAX / 2,
                },
            )
            .await?
            .items;
        let term = search.map(str::to_lowercase);
        let hit = |t: &str| term.as_deref().is_none_or(|s| t.to_lowercase().contains(s));
        let mut out = MembershipOptions::default();
        let visible: Vec<_> = workspaces.iter().map(|(w, _)| w.id).collect();
        for (w, _) in workspaces {
            let inside: Vec<_> = projects
                .iter()
                .filter(|p| p.workspace == Some(w.id) && (hit(&p.title) || hit(&w.title)))
                .cloned()
                .collect();
            if hit(&w.title) || !inside.is_empty() {
                out.workspaces.push((w, inside));
            }
        }
        out.unparented = projects
            .into_iter()
            .filter(|p| p.workspace.is_none_or(|w| !visible.contains(&w)) && hit(&p.title))
            .collect();
        Ok(out)
    }

    /// Refuses a membership filter naming a workspace or project the caller does not see.
    pub(crate) async fn check_membership_targets(
        &self,
        by: &Authorized<Staff>,
        workspaces: &[roster_domain::WorkspaceId],
        projects: &[ProjectId],
    ) -> Result<()> {
        let options = self.membership_options(by, None).await?;
        let seen_ws: Vec<_> = options.workspaces.iter().map(|(w, _)| w.id).collect();
        let seen_p: Vec<_> = options
            .workspaces
            .iter()
            .flat_map(|(_, ps)| ps.iter().map(|p| p.id))
            .chain(options.unparented.iter().map(|p| p.id))
            .collect();
        if let Some(w) = workspaces.iter().find(|w| !seen_ws.contains(w)) {
            return Err(ServiceError::invalid(
                "membership",
                format!("no workspace {w} you see in this organization"),
            ));
        }
        if let Some(p) = projects.iter().find(|p| !seen_p.contains(p)) {
            return Err(ServiceError::invalid(
                "membership",
                format!("no project {p} you see in this organization"),
            ));
        }
        Ok(())
    }
}
