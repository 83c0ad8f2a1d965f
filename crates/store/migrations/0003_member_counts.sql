-- Live members per organization and role, changed in the same transactions that change
-- memberships, so member counts and seat usage never scan the member list.
CREATE TABLE member_counts (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    role TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (org_id, role)
);

INSERT INTO member_counts (org_id, role, n)
SELECT org_id, role, COUNT(*) FROM memberships WHERE deleted_at IS NULL GROUP BY org_id, role;
