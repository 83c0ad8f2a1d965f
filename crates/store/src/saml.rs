//! SAML single sign-on: each organization's identity provider settings, found by
//! organization or by the token in the service provider's URLs.

use roster_domain::{OrgId, UserId};

use crate::db::handle;
use crate::sql::{query, Row};
use crate::{Conn, Micros, Result, WriteTx};

/// One organization's SAML settings, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlSettingsRecord {
    pub org: OrgId,
    pub token: String,
    pub domain: String,
    pub idp_provider: String,
    pub metadata_url: Option<String>,
    pub metadata_xml: Option<String>,
    pub metadata_fetched_at: Option<Micros>,
    pub nameid_format: String,
    pub mapping_email: String,
    pub mapping_first_name: String,
    pub mapping_last_name: String,
    pub mapping_groups: String,
    /// The group mapping as JSON text (the SCIM settings' format).
    pub mapping: String,
    pub sp_key_sealed: Option<String>,
    pub sp_cert: Option<String>,
    pub updated_at: Micros,
    /// The last attempt to fetch the metadata from `metadata_url` on schedule or on demand.
    pub metadata_checked_at: Option<Micros>,
    /// Why that attempt could not be used; None after a success.
    pub metadata_error: Option<String>,
}

const COLS: &str = "org_id, token, domain, idp_provider, metadata_url, metadata_xml, \
     metadata_fetched_at, nameid_format, mapping_email, mapping_first_name, mapping_last_name, \
     mapping_groups, mapping, sp_key_sealed, sp_cert, updated_at, metadata_checked_at, \
     metadata_error";

fn settings_row(r: &dyn Row) -> Result<SamlSettingsRecord> {
    Ok(SamlSettingsRecord {
        org: OrgId(r.int(0)?),
        token: r.text(1)?,
        domain: r.text(2)?,
        idp_provider: r.text(3)?,
        metadata_url: r.opt_text(4)?,
        metadata_xml: r.opt_text(5)?,
        metadata_fetched_at: r.opt_int(6)?,
        nameid_format: r.text(7)?,
        mapping_email: r.text(8)?,
        mapping_first_name: r.text(9)?,
        mapping_last_name: r.text(10)?,
        mapping_groups: r.text(11)?,
        mapping: r.text(12)?,
        sp_key_sealed: r.opt_text(13)?,
        sp_cert: r.opt_text(14)?,
        updated_at: r.int(15)?,
        metadata_checked_at: r.opt_int(16)?,
        metadata_error: r.opt_text(17)?,
    })
}

pub async fn settings(c: &mut Conn, org: OrgId) -> Result<Option<SamlSettingsRecord>> {
    let q = query(format!(
        "SELECT {COLS} FROM saml_settings WHERE org_id = $1"
    ))
    .bind(org.0);
    handle(c).fetch_optional(q, settings_row).await
}

/// The settings whose service-provider URLs carry `token`.
pub async fn settings_by_token(c: &mut Conn, token: &str) -> Result<Option<SamlSettingsRecord>> {
    let q = query(format!("SELECT {COLS} FROM saml_settings WHERE token = $1")).bind(token);
    handle(c).fetch_optional(q, settings_row).await
}

pub async fn put_settings(c: &mut WriteTx, s: &SamlSettingsRecord) -> Result<()> {
    let q = query(
        "INSERT INTO saml_settings (org_id, token, domain, idp_provider, metadata_url,
            metadata_xml, metadata_fetched_at, nameid_format, mapping_email, mapping_first_name,
            mapping_last_name, mapping_groups, mapping, sp_key_sealed, sp_cert, updated_at,
            metadata_checked_at, metadata_error)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
         ON CONFLICT (org_id) DO UPDATE SET token = excluded.token, domain = excluded.domain,
            idp_provider = excluded.idp_provider, metadata_url = excluded.metadata_url,
            metadata_xml = excluded.metadata_xml,
            metadata_fetched_at = excluded.metadata_fetched_at,
            nameid_format = excluded.nameid_format, mapping_email = excluded.mapping_email,
            mapping_first_name = excluded.mapping_first_name,
            mapping_last_name = excluded.mapping_last_name,
            mapping_groups = excluded.mapping_groups, mapping = excluded.mapping,
            sp_key_sealed = excluded.sp_key_sealed, sp_cert = excluded.sp_cert,
            updated_at = excluded.updated_at,
            metadata_checked_at = excluded.metadata_checked_at,
            metadata_error = excluded.metadata_error",
    )
    .bind(s.org.0)
    .bind(&s.token)
    .bind(&s.domain)
    .bind(&s.idp_provider)
    .bind(&s.metadata_url)
    .bind(&s.metadata_xml)
    .bind(s.metadata_fetched_at)
    .bind(&s.nameid_format)
    .bind(&s.mapping_email)
    .bind(&s.mapping_first_name)
    .bind(&s.mapping_last_name)
    .bind(&s.mapping_groups)
    .bind(&s.mapping)
    .bind(&s.sp_key_sealed)
    .bind(&s.sp_cert)
    .bind(s.updated_at)
    .bind(s.metadata_checked_at)
    .bind(&s.metadata_error);
    handle(c).execute(q).await?;
    Ok(())
}

/// Organizations whose metadata comes from a URL and was last fetched (or tried) before
/// `before`: the ones a scheduled refresh fetches again, oldest first, with the URL and the
/// time of the last attempt (to claim the refresh with).
pub async fn metadata_due(
    c: &mut Conn,
    before: Micros,
    limit: i64,
) -> Result<Vec<(OrgId, String, Option<Micros>)>> {
    let q = query(
        "SELECT org_id, metadata_url, metadata_checked_at FROM saml_settings
         WHERE metadata_url IS NOT NULL
           AND COALESCE(metadata_checked_at, metadata_fetched_at, 0) < $1
         ORDER BY COALESCE(metadata_checked_at, metadata_fetched_at, 0), org_id
         LIMIT $2",
    )
    .bind(before)
    .bind(limit);
    handle(c)
        .fetch_all(q, |r| Ok((OrgId(r.int(0)?), r.text(1)?, r.opt_int(2)?)))
        .await
}

/// Marks a refresh as started at `now` unless another node started one since `seen` (the
/// last attempt this node read); whether this node may go on.
pub async fn claim_metadata_check(
    c: &mut WriteTx,
    org: OrgId,
    seen: Option<Micros>,
    now: Micros,
) -> Result<bool> {
    let q = query(
        "UPDATE saml_settings SET metadata_checked_at = $1
         WHERE org_id = $2 AND COALESCE(metadata_checked_at, -1) = $3",
    )
    .bind(now)
    .bind(org.0)
    .bind(seen.unwrap_or(-1));
    Ok(handle(c).execute(q).await? == 1)
}

/// Records a fetch of the metadata from `url`: the document when it could be used (None
/// leaves the one in use), or why not. Nothing is written when the URL has changed since.
pub async fn record_metadata_fetch(
    c: &mut WriteTx,
    org: OrgId,
    url: &str,
    fetched: Result<&str, &str>,
    now: Micros,
) -> Result<bool> {
    let q = match fetched {
        Ok(xml) => query(
            "UPDATE saml_settings SET metadata_xml = $1, metadata_fetched_at = $2,
                metadata_checked_at = $2, metadata_error = NULL
             WHERE org_id = $3 AND metadata_url = $4",
        )
        .bind(xml),
        Err(why) => query(
            "UPDATE saml_settings SET metadata_error = $1, metadata_checked_at = $2
             WHERE org_id = $3 AND metadata_url = $4",
        )
        .bind(why),
    }
    .bind(now)
    .bind(org.0)
    .bind(url);
    Ok(handle(c).execute(q).await? == 1)
}

/// Removes the organization's SAML settings; whether there were any.
pub async fn delete_settings(c: &mut WriteTx, org: OrgId) -> Result<bool> {
    let q = query("DELETE FROM saml_settings WHERE org_id = $1").bind(org.0);
    Ok(handle(c).execute(q).await? > 0)
}

/// Remembers an AuthnRequest roster sent, until it is answered or expires.
pub async fn insert_request(
    c: &mut WriteTx,
    id: &str,
    org: OrgId,
    relay_path: Option<&str>,
    now: Micros,
    expires_at: Micros,
) -> Result<()> {
    let q = query(
        "INSERT INTO saml_requests (id, org_id, relay_path, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(org.0)
    .bind(relay_path)
    .bind(now)
    .bind(expires_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// How many of the organization's requests wait for an answer.
pub async fn outstanding_requests(c: &mut WriteTx, org: OrgId, now: Micros) -> Result<i64> {
    let q = query("SELECT COUNT(*) FROM saml_requests WHERE org_id = $1 AND expires_at > $2")
        .bind(org.0)
        .bind(now);
    handle(c).fetch_one(q, |r| r.int(0)).await
}

/// Consumes the outstanding request `id` of the organization: its relay path (`Some(None)`
/// when it has none), or None when no such request is waiting (never sent, already answered
/// or expired).
pub async fn take_request(
    c: &mut WriteTx,
    id: &str,
    org: OrgId,
    now: Micros,
) -> Result<Option<Option<String>>> {
    let q = query(
        "DELETE FROM saml_requests WHERE id = $1 AND org_id = $2 AND expires_at > $3
         RETURNING relay_path",
    )
    .bind(id)
    .bind(org.0)
    .bind(now);
    handle(c).fetch_optional(q, |r| r.opt_text(0)).await
}

/// Remembers an accepted assertion until it expires; false when it was accepted before.
pub async fn remember_assertion(
    c: &mut WriteTx,
    org: OrgId,
    assertion_id: &str,
    expires_at: Micros,
) -> Result<bool> {
    // ON CONFLICT rather than a unique violation, which would abort a PostgreSQL transaction.
    let q = query(
        "INSERT INTO saml_assertions_seen (org_id, assertion_id, expires_at) VALUES ($1, $2, $3)
         ON CONFLICT (org_id, assertion_id) DO NOTHING",
    )
    .bind(org.0)
    .bind(assertion_id)
    .bind(expires_at);
    Ok(handle(c).execute(q).await? == 1)
}

/// Forgets requests and assertions that have expired (an expired assertion is refused by its
/// own conditions, so remembering it longer guards nothing).
pub async fn sweep(c: &mut WriteTx, now: Micros) -> Result<()> {
    handle(c)
        .execute(query("DELETE FROM saml_requests WHERE expires_at <= $1").bind(now))
        .await?;
    handle(c)
        .execute(query("DELETE FROM saml_assertions_seen WHERE expires_at <= $1").bind(now))
        .await?;
    Ok(())
}

/// A person as an organization's identity provider last vouched for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamlIdentityRecord {
    pub org: OrgId,
    pub user: UserId,
    pub name_id: String,
    /// The groups of their last sign-in, as a JSON array.
    pub groups: String,
    pub last_login_at: Micros,
}

/// Records who signed in through the organization's identity provider, with their groups.
pub async fn put_identity(c: &mut WriteTx, i: &SamlIdentityRecord) -> Result<()> {
    let q = query(
        "INSERT INTO saml_identities (org_id, user_id, name_id, groups, last_login_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (org_id, user_id) DO UPDATE SET name_id = excluded.name_id,
            groups = excluded.groups, last_login_at = excluded.last_login_at",
    )
    .bind(i.org.0)
    .bind(i.user.0)
    .bind(&i.name_id)
    .bind(&i.groups)
    .bind(i.last_login_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// Everyone who has signed in through the organization's identity provider.
pub async fn identities(c: &mut Conn, org: OrgId) -> Result<Vec<SamlIdentityRecord>> {
    let q = query(
        "SELECT org_id, user_id, name_id, groups, last_login_at FROM saml_identities
         WHERE org_id = $1 ORDER BY user_id",
    )
    .bind(org.0);
    handle(c)
        .fetch_all(q, |r| {
            Ok(SamlIdentityRecord {
                org: OrgId(r.int(0)?),
                user: UserId(r.int(1)?),
                name_id: r.text(2)?,
                groups: r.text(3)?,
                last_login_at: r.int(4)?,
            })
        })
        .await
}
