-- SAML 2.0 single sign-on: each organization's identity provider, as its Owner or an
-- Administrator configured it. No row means SAML is not set up.
CREATE TABLE saml_settings (
    org_id BIGINT PRIMARY KEY REFERENCES organizations(id),
    -- Names the organization in the service provider's URLs (/saml/{token}/acs, ...):
    -- stable, so the IdP's configuration keeps working, and unguessable.
    token TEXT NOT NULL UNIQUE,
    -- Candidate email domains, comma-separated; only those also verified route people.
    domain TEXT NOT NULL,
    idp_provider TEXT NOT NULL,
    metadata_url TEXT,
    -- The IdP's metadata: as pasted, or as last fetched from metadata_url.
    metadata_xml TEXT,
    metadata_fetched_at BIGINT,
    nameid_format TEXT NOT NULL,
    mapping_email TEXT NOT NULL,
    mapping_first_name TEXT NOT NULL,
    mapping_last_name TEXT NOT NULL,
    mapping_groups TEXT NOT NULL,
    -- The group mapping as JSON, in the SCIM settings' format.
    mapping TEXT NOT NULL,
    -- The service provider's own key (sealed) and certificate, generated for the
    -- organization unless the operator configured one for the server.
    sp_key_sealed TEXT,
    sp_cert TEXT,
    updated_at BIGINT NOT NULL
);
