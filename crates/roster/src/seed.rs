//! What `roster dev seed` adds after the members for the filter benchmark
//! (`bench/filters.py`): member tags on a share of the members, and last activity spread over
//! past days. The tags are created through the service (audit events included); placing
//! them and the activity on hundreds of thousands of members takes a statement or two each,
//! written past the service as a benchmark's data may be.

use anyhow::{anyhow, Result};
use roster_domain::OrgId;
use roster_service::{Admin, Service};
use roster_store::raw;

/// Creates `n` tags ("Seed tag 1" to "Seed tag n") and puts one on `percent` of the live
/// members other than the Owner: membership m is tagged when m.id % 100 < percent, with tag
/// number (m.id / 100) % n + 1, so each tag holds about `percent / n` of the members.
pub async fn tags(service: &Service, org: OrgId, n: u64, percent: u64) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    let owner: roster_service::Authorized<Admin> = service.operator_acting_as_owner(org).await?;
    let labels: Vec<String> = (1..=n).map(|k| format!("Seed tag {k}")).collect();
    service.create_tags(&owner, &labels).await?;
    let store = service.raw_store_bypassing_rules();
    let mut c = store.read().await?;
    let rows = raw::rows(
        &mut c,
        &format!(
            "SELECT id, label FROM member_tags WHERE org_id = {} AND label LIKE 'Seed tag %'",
            org.0
        ),
        2,
    )
    .await?;
    drop(c);
    let now = service.now();
    let mut tx = store.write().await?;
    for (k, label) in labels.iter().enumerate() {
        let id = rows
            .iter()
            .find(|r| r[1].text() == Some(label.as_str()))
            .and_then(|r| r[0].int())
            .ok_or_else(|| anyhow!("the tag {label:?} was not created"))?;
        raw::execute(
            &mut tx,
            &format!(
                "INSERT INTO member_tag_assignments (membership_id, tag_id, created_at)
                 SELECT m.id, {id}, {now} FROM memberships m
                 WHERE m.org_id = {org} AND m.deleted_at IS NULL AND m.role <> 'OW'
                   AND m.id % 100 < {percent} AND (m.id / 100) % {n} = {k}
                 ON CONFLICT (membership_id, tag_id) DO NOTHING",
                org = org.0
            ),
        )
        .await?;
    }
    roster_store::commit(tx).await?;
    println!("{n} tags on {percent}% of the members");
    Ok(())
}

/// Sets the last activity of the organization's live members other than the Owner to a
/// point in the last `days` days (spread by user id); every tenth user stays never active.
pub async fn activity(service: &Service, org: OrgId, days: u64) -> Result<()> {
    if days == 0 {
        return Ok(());
    }
    let span = days * 86_400;
    let now = service.now();
    let mut tx = service.raw_store_bypassing_rules().write().await?;
    // The users' activity, and the copy their live memberships keep for the member list
    // (migration 22), as the store writes both.
    raw::execute(
        &mut tx,
        &format!(
            "UPDATE users SET last_activity = {now} - ((id * 7919) % {span}) * 1000000
             WHERE id % 10 <> 0 AND id IN (SELECT user_id FROM memberships
                 WHERE org_id = {org} AND deleted_at IS NULL AND role <> 'OW');
             UPDATE memberships SET user_last_activity = users.last_activity
             FROM users
             WHERE users.id = memberships.user_id AND memberships.org_id = {org}
               AND memberships.deleted_at IS NULL AND memberships.role <> 'OW'
               AND users.last_activity IS NOT NULL",
            org = org.0
        ),
    )
    .await?;
    roster_store::commit(tx).await?;
    println!("last activity spread over {days} days");
    Ok(())
}
