-- An Owner's pending claim of an email domain for their organization: roster made the token,
-- the Owner publishes it in a DNS TXT record, and a matching record turns the claim into a
-- verified domain (verified_domains). Several organizations may claim the same domain; the
-- first whose record is found gets it. The token is not a secret: it is published in DNS.
CREATE TABLE domain_claims (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    domain TEXT NOT NULL,
    token TEXT NOT NULL,
    requested_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, domain)
);
