//! SAML single sign-on: each organization's identity provider settings, found by
//! organization or by the token in the service provider's URLs.

use roster_domain::OrgId;

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
}

const COLS: &str = "org_id, token, domain, idp_provider, metadata_url, metadata_xml, \
     metadata_fetched_at, nameid_format, mapping_email, mapping_first_name, mapping_last_name, \
     mapping_groups, mapping, sp_key_sealed, sp_cert, updated_at";

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
            mapping_last_name, mapping_groups, mapping, sp_key_sealed, sp_cert, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
         ON CONFLICT (org_id) DO UPDATE SET token = excluded.token, domain = excluded.domain,
            idp_provider = excluded.idp_provider, metadata_url = excluded.metadata_url,
            metadata_xml = excluded.metadata_xml,
            metadata_fetched_at = excluded.metadata_fetched_at,
            nameid_format = excluded.nameid_format, mapping_email = excluded.mapping_email,
            mapping_first_name = excluded.mapping_first_name,
            mapping_last_name = excluded.mapping_last_name,
            mapping_groups = excluded.mapping_groups, mapping = excluded.mapping,
            sp_key_sealed = excluded.sp_key_sealed, sp_cert = excluded.sp_cert,
            updated_at = excluded.updated_at",
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
    .bind(s.updated_at);
    handle(c).execute(q).await?;
    Ok(())
}

/// Removes the organization's SAML settings; whether there were any.
pub async fn delete_settings(c: &mut WriteTx, org: OrgId) -> Result<bool> {
    let q = query("DELETE FROM saml_settings WHERE org_id = $1").bind(org.0);
    Ok(handle(c).execute(q).await? > 0)
}
