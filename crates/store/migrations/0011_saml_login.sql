-- SAML sign-in: the AuthnRequests roster sent, the assertions it accepted, and who signed in
-- through each organization's identity provider.

-- An AuthnRequest waiting for its answer. A response's InResponseTo must name one of these,
-- and consumes it, so one request is answered once; expired ones are swept.
CREATE TABLE saml_requests (
    id TEXT PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    -- The same-site path to open after signing in, checked when the request was made.
    relay_path TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX saml_requests_org ON saml_requests (org_id, expires_at);

-- Assertions accepted, remembered until they expire so that none is accepted twice on any
-- roster node sharing this database.
CREATE TABLE saml_assertions_seen (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    assertion_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, assertion_id)
);
CREATE INDEX saml_assertions_seen_expiry ON saml_assertions_seen (expires_at);

-- A person as an organization's identity provider last vouched for them: the NameID and the
-- groups of their last sign-in (the mapping preview reads them).
CREATE TABLE saml_identities (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    name_id TEXT NOT NULL,
    -- The groups as a JSON array of names.
    groups TEXT NOT NULL,
    last_login_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
