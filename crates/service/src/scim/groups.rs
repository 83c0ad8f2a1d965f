//! SCIM Groups. A group's members drive their organization and project roles through the
//! mapping, so every change of a group re-evaluates exactly the people it touched (everyone
//! in it when it is renamed, since the mapping matches names). Member changes are applied as
//! additions and removals, never by loading a large group whole.

use std::collections::BTreeSet;

use roster_domain::scim::resource::GroupInput;
use roster_domain::scim::Filter;
use roster_domain::OrgId;
use roster_store::scim::{self, ScimGroupRecord, ScimOrder};
use roster_store::scim_filter::Over;
use roster_store::{orgs, Conn, WriteTx};

use super::access::ScimCaller;
use super::provision::{ScimSettings, Tally};
use super::users::Precondition;
use crate::{Page, Result, Service, ServiceError};

/// A SCIM group, with a page of its members when they were asked for: (user id, userName).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimGroup {
    pub record: ScimGroupRecord,
    pub members: Option<Vec<(String, String)>>,
}

/// A change of a group's members, as PATCH operations say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    Add(Vec<String>),
    Remove(Vec<String>),
    RemoveAll,
    /// The whole list (a PUT, or a PATCH replace of `members`).
    Replace(Vec<String>),
}

/// A group of the organization by id, or (as in Label Studio's documentation) by display name.
async fn find_group(c: &mut Conn, org: OrgId, id: &str) -> Result<Option<ScimGroupRecord>> {
    match scim::group_by_id(c, org, id).await? {
        Some(r) => Ok(Some(r)),
        None => Ok(scim::group_by_name(c, org, id).await?),
    }
}

fn no_group(id: &str) -> ServiceError {
    ServiceError::not_found(format!("No Group {id:?} in this organization."))
}

impl Service {
    pub async fn scim_create_group(
        &self,
        caller: &ScimCaller,
        input: GroupInput,
    ) -> Result<ScimGroup> {
        let result = self.scim_create_group_tx(caller, input).await;
        self.note_scim_refusal(caller, result).await
    }

    async fn scim_create_group_tx(
        &self,
        caller: &ScimCaller,
        input: GroupInput,
    ) -> Result<ScimGroup> {
        let now = self.now();
        let org = caller.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        if scim::group_by_name(&mut tx, org, &input.display_name)
            .await?
            .is_some()
        {
            return Err(ServiceError::ScimConflict(format!(
                "a Group named {:?} exists",
                input.display_name
            )));
        }
        let record = ScimGroupRecord {
            id: uuid::Uuid::new_v4().to_string(),
            org,
            display_name: input.display_name,
            external_id: input.external_id,
            attributes: input.attributes.to_string(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        scim::insert_group(&mut tx, &record).await?;
        self.check_members_exist(&mut tx, caller, &input.members)
            .await?;
        scim::add_members(&mut tx, org, &record.id, &input.members).await?;
        let touched: BTreeSet<String> = input.members.into_iter().collect();
        self.resync(&mut tx, caller, &touched).await?;
        let members = scim::members(&mut tx, &record.id).await?;
        tx.commit().await?;
        Ok(ScimGroup {
            record,
            members: Some(members),
        })
    }

    /// A group by id, or (as in Label Studio's documentation) by display name.
    pub async fn scim_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        with_members: bool,
    ) -> Result<ScimGroup> {
        let mut c = self.store().read().await?;
        let org = caller.org.id;
        let record = find_group(&mut c, org, id)
            .await?
            .ok_or_else(|| no_group(id))?;
        let members = if with_members {
            Some(scim::members(&mut c, &record.id).await?)
        } else {
            None
        };
        Ok(ScimGroup { record, members })
    }

    pub async fn scim_groups(
        &self,
        caller: &ScimCaller,
        filter: Option<&Filter>,
        order: &ScimOrder,
        start: i64,
        count: i64,
        with_members: bool,
    ) -> Result<Page<ScimGroup>> {
        let cond = self.scim_condition(filter, Over::Groups)?;
        let mut c = self.store().read().await?;
        let org = caller.org.id;
        let total = scim::count_groups(&mut c, org, &cond).await?;
        let mut items = Vec::new();
        if count > 0 {
            for record in scim::list_groups(&mut c, org, &cond, order, count, start).await? {
                let members = if with_members {
                    Some(scim::members(&mut c, &record.id).await?)
                } else {
                    None
                };
                items.push(ScimGroup { record, members });
            }
        }
        Ok(Page {
            count: total,
            items,
        })
    }

    /// Changes a group: its name, external id and other attributes as given (None: kept),
    /// and its members by the given changes, in order.
    pub async fn scim_update_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        update: GroupUpdate,
        precondition: Precondition,
    ) -> Result<ScimGroup> {
        let result = self
            .scim_update_group_tx(caller, id, update, precondition)
            .await;
        self.note_scim_refusal(caller, result).await
    }

    async fn scim_update_group_tx(
        &self,
        caller: &ScimCaller,
        id: &str,
        update: GroupUpdate,
        precondition: Precondition,
    ) -> Result<ScimGroup> {
        let org = caller.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let mut record = find_group(&mut tx, org, id)
            .await?
            .ok_or_else(|| no_group(id))?;
        precondition.check(record.version)?;
        let mut touched = BTreeSet::new();
        if let Some(name) = update.display_name {
            if name != record.display_name {
                if scim::group_by_name(&mut tx, org, &name).await?.is_some() {
                    return Err(ServiceError::ScimConflict(format!(
                        "a Group named {name:?} exists"
                    )));
                }
                // The mapping matches names: everyone in a renamed group is re-evaluated
                // (the deprovisioning guard catches a rename that would drop them all).
                touched.extend(scim::member_ids(&mut tx, &record.id).await?);
                record.display_name = name;
            }
        }
        if let Some(external_id) = update.external_id {
            record.external_id = external_id;
        }
        if let Some(attributes) = update.attributes {
            record.attributes = attributes.to_string();
        }
        for change in update.members {
            match change {
                MemberChange::Add(ids) => {
                    self.check_members_exist(&mut tx, caller, &ids).await?;
                    scim::add_members(&mut tx, org, &record.id, &ids).await?;
                    touched.extend(ids);
                }
                MemberChange::Remove(ids) => {
                    scim::remove_members(&mut tx, &record.id, &ids).await?;
                    touched.extend(ids);
                }
                MemberChange::RemoveAll => {
                    let all = scim::member_ids(&mut tx, &record.id).await?;
                    scim::remove_members(&mut tx, &record.id, &all).await?;
                    touched.extend(all);
                }
                MemberChange::Replace(ids) => {
                    self.check_members_exist(&mut tx, caller, &ids).await?;
                    let old: BTreeSet<String> = scim::member_ids(&mut tx, &record.id)
                        .await?
                        .into_iter()
                        .collect();
                    let new: BTreeSet<String> = ids.into_iter().collect();
                    let gone: Vec<String> = old.difference(&new).cloned().collect();
                    let added: Vec<String> = new.difference(&old).cloned().collect();
                    scim::remove_members(&mut tx, &record.id, &gone).await?;
                    scim::add_members(&mut tx, org, &record.id, &added).await?;
                    touched.extend(gone);
                    touched.extend(added);
                }
            }
        }
        record.updated_at = self.now();
        if !scim::update_group(&mut tx, &record).await? {
            return Err(ServiceError::PreconditionFailed(
                "the resource changed meanwhile".into(),
            ));
        }
        record.version += 1;
        self.resync(&mut tx, caller, &touched).await?;
        let members = if update.return_members {
            Some(scim::members(&mut tx, &record.id).await?)
        } else {
            None
        };
        tx.commit().await?;
        Ok(ScimGroup { record, members })
    }

    pub async fn scim_delete_group(
        &self,
        caller: &ScimCaller,
        id: &str,
        precondition: Precondition,
    ) -> Result<()> {
        let result = self.scim_delete_group_tx(caller, id, precondition).await;
        self.note_scim_refusal(caller, result).await
    }

    async fn scim_delete_group_tx(
        &self,
        caller: &ScimCaller,
        id: &str,
        precondition: Precondition,
    ) -> Result<()> {
        let org = caller.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let record = find_group(&mut tx, org, id)
            .await?
            .ok_or_else(|| no_group(id))?;
        precondition.check(record.version)?;
        let touched: BTreeSet<String> = scim::member_ids(&mut tx, &record.id)
            .await?
            .into_iter()
            .collect();
        scim::delete_group(&mut tx, org, &record.id).await?;
        self.resync(&mut tx, caller, &touched).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Member values must name users of this organization (RFC 7644 §3.5.2: a reference to
    /// nothing is `invalidValue`).
    async fn check_members_exist(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        ids: &[String],
    ) -> Result<()> {
        match scim::unknown_users(tx, caller.org.id, ids).await?.first() {
            Some(id) => Err(ServiceError::ScimInvalidValue(format!(
                "member {id:?} is not a User of this organization"
            ))),
            None => Ok(()),
        }
    }

    /// Re-evaluates the given SCIM users against the mapping, under the guard.
    pub(crate) async fn resync(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        users: &BTreeSet<String>,
    ) -> Result<()> {
        if users.is_empty() {
            return Ok(());
        }
        let org = caller.org.id;
        let settings: ScimSettings = self.scim_settings_tx(tx, org).await?;
        let mut tally = Tally::default();
        for id in users {
            let Some(mut su) = scim::user_by_id(tx, org, id).await? else {
                continue;
            };
            let groups: Vec<String> = scim::groups_of(tx, &su.id)
                .await?
                .into_iter()
                .map(|(_, name)| name)
                .collect();
            let attached = su.user;
            self.sync_scim_user(tx, caller, &settings, &mut su, &groups, &mut tally)
                .await?;
            if su.user != attached {
                su.updated_at = self.now();
                scim::update_user(tx, &su).await?;
            }
        }
        self.check_deprovision_guard(tx, &caller.org, &settings, &tally)
            .await
    }
}

/// What a PUT or PATCH changes in a group.
#[derive(Debug, Clone, Default)]
pub struct GroupUpdate {
    pub display_name: Option<String>,
    pub external_id: Option<Option<String>>,
    pub attributes: Option<serde_json::Value>,
    pub members: Vec<MemberChange>,
    /// Whether the answer lists the members (a PATCH answers 204 or the resource).
    pub return_members: bool,
}
