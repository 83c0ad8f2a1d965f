-- An identity provider's metadata fetched from its URL is fetched again on a schedule, so a
-- certificate rollover at the identity provider needs nothing from the organization.
-- metadata_checked_at: the last attempt (successful or not); metadata_error: why the last
-- attempt could not be used (NULL after a success). The metadata in use stays until a fetch
-- succeeds.
ALTER TABLE saml_settings ADD COLUMN metadata_checked_at BIGINT;
ALTER TABLE saml_settings ADD COLUMN metadata_error TEXT;
