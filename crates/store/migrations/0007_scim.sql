-- SCIM 2.0 provisioning: each organization's identity provider keeps Users and Groups here.
-- A SCIM User is the IdP's view of a person (everything it sent, returned on read); the
-- account and membership it drives live in `users` and `memberships` as for everyone else.

-- Email domains verified for one organization: only these let its identity provider attach
-- accounts that already exist (and, for SAML, sign in people who also belong elsewhere).
CREATE TABLE verified_domains (
    domain TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    verified_by BIGINT REFERENCES users(id),
    verified_at BIGINT NOT NULL
);
CREATE INDEX verified_domains_by_org ON verified_domains (org_id);

-- The organization's SCIM settings; no row means the defaults (no mapping, fallback
-- Deactivated, DELETE deletes, the default deprovisioning limit).
CREATE TABLE scim_settings (
    org_id BIGINT PRIMARY KEY REFERENCES organizations(id),
    -- The group mapping as JSON: {"roles_groups": [[role, group]], "projects_groups":
    -- [{"project_id", "group", "role"}], "fallback": role}.
    mapping TEXT NOT NULL,
    delete_action TEXT NOT NULL DEFAULT 'delete',
    max_deprovision BIGINT,
    updated_at BIGINT NOT NULL
);

-- Dedicated SCIM tokens, shown once; only their keyed hash is kept.
CREATE TABLE scim_tokens (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX scim_tokens_by_org ON scim_tokens (org_id);

CREATE TABLE scim_users (
    -- Opaque and stable: it tells the IdP nothing about the account behind it.
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    user_name TEXT NOT NULL,
    user_name_folded TEXT NOT NULL,
    -- The email the account is found by, lower-cased.
    email TEXT NOT NULL,
    external_id TEXT,
    active BIGINT NOT NULL,
    given_name TEXT,
    family_name TEXT,
    display_name TEXT,
    -- The account once attached; NULL while the person has not yet accepted (an account of
    -- another organization without a verified domain, or a deleted member coming back).
    user_id BIGINT REFERENCES users(id),
    -- Every other attribute the IdP sent (core and enterprise schemas), as JSON.
    attributes TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_users_by_name ON scim_users (org_id, user_name_folded);
CREATE INDEX scim_users_by_email ON scim_users (org_id, email);
CREATE INDEX scim_users_by_external_id ON scim_users (org_id, external_id);
CREATE INDEX scim_users_by_user ON scim_users (user_id);

CREATE TABLE scim_groups (
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    -- Matched case-sensitively against the mapping, as Label Studio does.
    display_name TEXT NOT NULL,
    external_id TEXT,
    attributes TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_by_name ON scim_groups (org_id, display_name);
CREATE INDEX scim_groups_by_external_id ON scim_groups (org_id, external_id);

CREATE TABLE scim_group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups(id),
    user_id TEXT NOT NULL REFERENCES scim_users(id),
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX scim_group_members_by_user ON scim_group_members (user_id);

-- Deprovisionings the identity provider made (deactivations and deletions), so a run of
-- one-person requests is held to the same hourly limit as one large request.
CREATE TABLE scim_deprovisions (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    occurred_at BIGINT NOT NULL,
    n BIGINT NOT NULL
);
CREATE INDEX scim_deprovisions_by_org ON scim_deprovisions (org_id, occurred_at);
