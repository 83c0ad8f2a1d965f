//! SCIM Users: create, read, list, replace and delete, each one transaction under the
//! organization's lock. PATCH is a replace of the patched resource (the HTTP adapter applies
//! the operations to the resource as read, with its version as the precondition).

use roster_domain::scim::resource::UserInput;
use roster_domain::scim::Filter;
use roster_domain::{AuditAction, OrgId, Role, RuleViolation};
use roster_store::scim::{self, Condition, ScimOrder, ScimUserRecord};
use roster_store::scim_filter::{self, Over};
use roster_store::{members, orgs, users, Conn, WriteTx};

use super::access::ScimCaller;
use super::provision::{deprovisions, DeleteAction, Tally};
use crate::audit::{record, Event};
use crate::domains::email_domain;
use crate::membership::Change;
use crate::{Page, Result, Service, ServiceError};

/// A SCIM user with the groups it is in: (group id, display name).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScimUser {
    pub record: ScimUserRecord,
    pub groups: Vec<(String, String)>,
}

/// A precondition on a resource's version (`If-Match`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Precondition(pub Option<i64>);

impl Precondition {
    pub(crate) fn check(self, version: i64) -> Result<()> {
        match self.0 {
            Some(v) if v != version => Err(ServiceError::PreconditionFailed(format!(
                "the resource is at version {version}, not {v}"
            ))),
            _ => Ok(()),
        }
    }
}

pub(crate) fn no_user(id: &str) -> ServiceError {
    ServiceError::not_found(format!("No User {id:?} in this organization."))
}

fn taken(user_name: &str) -> ServiceError {
    ServiceError::ScimConflict(format!("userName {user_name:?} is already provisioned"))
}

fn email_taken(email: &str) -> ServiceError {
    ServiceError::ScimConflict(format!(
        "{email} is already provisioned as another User: one person, one User"
    ))
}

/// A user of the organization by id, or (as in Label Studio's documentation) by userName
/// or by email, which is not the userName when that is a login name.
async fn find_user(c: &mut Conn, org: OrgId, id: &str) -> Result<Option<ScimUserRecord>> {
    if let Some(r) = scim::user_by_id(c, org, id).await? {
        return Ok(Some(r));
    }
    if let Some(r) = scim::user_by_name(c, org, id).await? {
        return Ok(Some(r));
    }
    Ok(scim::users_by_email(c, org, &id.to_lowercase())
        .await?
        .into_iter()
        .next())
}

/// Whether another SCIM user of the organization already has this email. Two would drive
/// one account's membership, each undoing the other's changes.
async fn email_in_use(c: &mut Conn, org: OrgId, email: &str, except: &str) -> Result<bool> {
    Ok(scim::users_by_email(c, org, email)
        .await?
        .iter()
        .any(|u| u.id != except))
}

impl Service {
    pub async fn scim_create_user(
        &self,
        caller: &ScimCaller,
        input: UserInput,
    ) -> Result<ScimUser> {
        let result = self.scim_create_user_tx(caller, input).await;
        self.note_scim_refusal(caller, result).await
    }

    async fn scim_create_user_tx(&self, caller: &ScimCaller, input: UserInput) -> Result<ScimUser> {
        let now = self.now();
        let org = caller.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        if scim::user_by_name(&mut tx, org, &input.user_name)
            .await?
            .is_some()
        {
            return Err(taken(&input.user_name));
        }
        if email_in_use(&mut tx, org, &input.email, "").await? {
            return Err(email_taken(&input.email));
        }
        let settings = self.scim_settings_tx(&mut tx, org).await?;
        let mut su = ScimUserRecord {
            id: uuid::Uuid::new_v4().to_string(),
            org,
            user_name: input.user_name,
            email: input.email,
            external_id: input.external_id,
            active: input.active,
            given_name: input.given_name,
            family_name: input.family_name,
            display_name: input.display_name,
            user: None,
            attributes: input.attributes.to_string(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tally = Tally::default();
        self.sync_scim_user(&mut tx, caller, &settings, &mut su, &[], &mut tally)
            .await?;
        self.check_deprovision_guard(&mut tx, &caller.org, &settings, &tally)
            .await?;
        scim::insert_user(&mut tx, &su).await?;
        tx.commit().await?;
        Ok(ScimUser {
            record: su,
            groups: Vec::new(),
        })
    }

    /// A user by id, or (as in Label Studio's documentation) by userName.
    pub async fn scim_user(&self, caller: &ScimCaller, id: &str) -> Result<ScimUser> {
        let mut c = self.store().read().await?;
        let org = caller.org.id;
        let record = find_user(&mut c, org, id)
            .await?
            .ok_or_else(|| no_user(id))?;
        let groups = scim::groups_of(&mut c, &record.id).await?;
        Ok(ScimUser { record, groups })
    }

    /// A SCIM filter as the store's SQL condition (`invalidFilter` when it names what cannot
    /// be filtered on).
    pub(crate) fn scim_condition(&self, filter: Option<&Filter>, over: Over) -> Result<Condition> {
        match filter {
            None => Ok(Condition::all()),
            Some(f) => scim_filter::condition(f, over, self.store().backend())
                .map_err(|e| ServiceError::ScimInvalidFilter(e.to_string())),
        }
    }

    /// A page of users matching a filter; `start` counts from 0.
    pub async fn scim_users(
        &self,
        caller: &ScimCaller,
        filter: Option<&Filter>,
        order: &ScimOrder,
        start: i64,
        count: i64,
    ) -> Result<Page<ScimUser>> {
        let cond = self.scim_condition(filter, Over::Users)?;
        let mut c = self.store().read().await?;
        let org = caller.org.id;
        let total = scim::count_users(&mut c, org, &cond).await?;
        let mut items = Vec::new();
        if count > 0 {
            for record in scim::list_users(&mut c, org, &cond, order, count, start).await? {
                let groups = scim::groups_of(&mut c, &record.id).await?;
                items.push(ScimUser { record, groups });
            }
        }
        Ok(Page {
            count: total,
            items,
        })
    }

    /// Replaces a user with what the IdP sent (PUT, or a PATCH applied by the adapter).
    pub async fn scim_replace_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        input: UserInput,
        precondition: Precondition,
    ) -> Result<ScimUser> {
        let result = self
            .scim_replace_user_tx(caller, id, input, precondition)
            .await;
        self.note_scim_refusal(caller, result).await
    }

    async fn scim_replace_user_tx(
        &self,
        caller: &ScimCaller,
        id: &str,
        input: UserInput,
        precondition: Precondition,
    ) -> Result<ScimUser> {
        let now = self.now();
        let org = caller.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let mut su = self.scim_user_tx(&mut tx, caller, id).await?;
        precondition.check(su.version)?;
        if input.user_name.to_lowercase() != su.user_name.to_lowercase() {
            if let Some(other) = scim::user_by_name(&mut tx, org, &input.user_name).await? {
                if other.id != su.id {
                    return Err(taken(&input.user_name));
                }
            }
        }
        if input.email != su.email {
            if email_in_use(&mut tx, org, &input.email, &su.id).await? {
                return Err(email_taken(&input.email));
            }
            self.readdress(&mut tx, caller, &su, &input.email).await?;
        }
        let settings = self.scim_settings_tx(&mut tx, org).await?;
        su.user_name = input.user_name;
        su.email = input.email;
        su.external_id = input.external_id;
        su.active = input.active;
        su.given_name = input.given_name;
        su.family_name = input.family_name;
        su.display_name = input.display_name;
        su.attributes = input.attributes.to_string();
        su.updated_at = now;
        let groups = scim::groups_of(&mut tx, &su.id).await?;
        let names: Vec<String> = groups.iter().map(|(_, n)| n.clone()).collect();
        let mut tally = Tally::default();
        self.sync_scim_user(&mut tx, caller, &settings, &mut su, &names, &mut tally)
            .await?;
        self.check_deprovision_guard(&mut tx, &caller.org, &settings, &tally)
            .await?;
        if !scim::update_user(&mut tx, &su).await? {
            return Err(ServiceError::PreconditionFailed(
                "the resource changed meanwhile".into(),
            ));
        }
        su.version += 1;
        tx.commit().await?;
        Ok(ScimUser { record: su, groups })
    }

    /// A new email for a SCIM user. An attached account changes its address only when it
    /// belongs to this organization alone and both addresses are in domains verified for it:
    /// otherwise an IdP could take over an account by re-addressing it.
    async fn readdress(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        su: &ScimUserRecord,
        email: &str,
    ) -> Result<()> {
        let org = caller.org.id;
        let Some(account) = su.user else {
            // Not attached yet: the pending invite is for the old address.
            return self.revoke_pending(tx, caller, &su.email).await;
        };
        let only_here = members::of_user(tx, account)
            .await?
            .iter()
            .all(|m| m.org == org);
        let verified = self.domain_verified_for(tx, org, &su.email).await?
            && self.domain_verified_for(tx, org, email).await?;
        if !only_here || !verified {
            return Err(ServiceError::ScimMutability(
                "this account's email can change only when it belongs to this organization alone \
                 and both addresses are in domains verified for it"
                    .into(),
            ));
        }
        if users::by_email(tx, email).await?.is_some() {
            return Err(ServiceError::ScimConflict(format!(
                "another account already uses {email}"
            )));
        }
        debug_assert!(email_domain(email).is_some());
        users::set_email(tx, account, email).await?;
        Ok(())
    }

    /// A user of the caller's organization by id or userName, inside a transaction.
    pub(crate) async fn scim_user_tx(
        &self,
        tx: &mut WriteTx,
        caller: &ScimCaller,
        id: &str,
    ) -> Result<ScimUserRecord> {
        find_user(tx, caller.org.id, id)
            .await?
            .ok_or_else(|| no_user(id))
    }

    /// Deletes a user: the member is deleted (their work shows as Deleted User) or
    /// deactivated, as the organization's SCIM settings choose.
    pub async fn scim_delete_user(
        &self,
        caller: &ScimCaller,
        id: &str,
        precondition: Precondition,
    ) -> Result<()> {
        let result = self.scim_delete_user_tx(caller, id, precondition).await;
        self.note_scim_refusal(caller, result).await
    }

    async fn scim_delete_user_tx(
        &self,
        caller: &ScimCaller,
        id: &str,
        precondition: Precondition,
    ) -> Result<()> {
        let org = caller.org.id;
        let mut tx = self.store().write().await?;
        orgs::lock_for_membership_change(&mut tx, org).await?;
        let su = self.scim_user_tx(&mut tx, caller, id).await?;
        precondition.check(su.version)?;
        let settings = self.scim_settings_tx(&mut tx, org).await?;
        let mut tally = Tally::default();
        match su.user {
            Some(user) => {
                if let Some(m) = members::live(&mut tx, org, user).await? {
                    if m.role == Role::Owner {
                        return Err(RuleViolation::IdpCannotManageOwner.into());
                    }
                    let change = match settings.delete_action {
                        DeleteAction::Delete => Change::Delete { target: user },
                        DeleteAction::Deactivate => Change::SetRole {
                            target: user,
                            role: Role::Deactivated,
                        },
                    };
                    if deprovisions(m.role, Role::Deactivated) {
                        tally.deprovisioned += 1;
                    }
                    let nothing_to_do = settings.delete_action == DeleteAction::Deactivate
                        && m.role == Role::Deactivated;
                    if !nothing_to_do {
                        self.change_membership(
                            &mut tx,
                            org,
                            &caller.actor(),
                            change,
                            &caller.context,
                        )
                        .await?;
                    }
                }
            }
            None => {
                self.revoke_pending(&mut tx, caller, &su.email).await?;
            }
        }
        self.check_deprovision_guard(&mut tx, &caller.org, &settings, &tally)
            .await?;
        scim::delete_user(&mut tx, org, &su.id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// A refusal the organization should hear about (the IdP tried to change the Owner, or
    /// to deprovision past the limit) is recorded on its own, after the refused request's
    /// transaction rolled back.
    pub(crate) async fn note_scim_refusal<T>(
        &self,
        caller: &ScimCaller,
        result: Result<T>,
    ) -> Result<T> {
        self.settle_scim_outbox(caller, result.is_ok()).await;
        let worth_recording = matches!(
            &result,
            Err(ServiceError::Rule(RuleViolation::IdpCannotManageOwner))
                | Err(ServiceError::ScimRefused(_))
        );
        if let (true, Err(e)) = (worth_recording, &result) {
            let mut tx = self.store().write().await?;
            let event = Event::new(
                AuditAction::ScimRequestRefused,
                caller.on_behalf_of.as_ref(),
            )
            .change(None, e.to_string());
            record(&mut tx, caller.org.id, self.now(), &caller.context, event).await?;
            tx.commit().await?;
        }
        result
    }
}
