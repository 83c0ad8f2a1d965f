-- A session started through an organization's identity provider acts in that organization
-- only (NULL: a session started with the person's own password).
ALTER TABLE sessions ADD COLUMN sso_org_id BIGINT REFERENCES organizations(id);
