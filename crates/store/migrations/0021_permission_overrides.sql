-- Configurable permissions (roster_domain::permissions): an organization's overrides of a
-- permission's default holders, one row per overridden permission. `roles` holds the role
-- codes, comma-separated, Owner first; the domain validates them before they are written.
CREATE TABLE permission_overrides (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    permission TEXT NOT NULL,
    roles TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX permission_overrides_by_org ON permission_overrides (org_id, permission);
