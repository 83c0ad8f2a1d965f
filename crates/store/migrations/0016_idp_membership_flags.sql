-- Whether people may still change, by hand, the workspace and project memberships an
-- organization's identity provider (SCIM, SAML) gave; like manual_role_management, on by default.
ALTER TABLE organizations ADD COLUMN manual_workspace_management BIGINT NOT NULL DEFAULT 1;
ALTER TABLE organizations ADD COLUMN manual_project_member_management BIGINT NOT NULL DEFAULT 1;
