-- A project role gets its own row and id, so it can be named (the SDK's
-- `projects.roles.remove(id)`) and says who set it (`role_source`: manual, api, invite, scim,
-- saml). A project member without a project_roles row works with their organization role.
-- The composite key points at the project membership, so a role never outlives it.
CREATE TABLE project_roles (
    id {{ID}},
    project_id BIGINT NOT NULL,
    membership_id BIGINT NOT NULL,
    role TEXT NOT NULL,
    role_source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (project_id, membership_id),
    FOREIGN KEY (project_id, membership_id) REFERENCES project_members (project_id, membership_id)
);

INSERT INTO project_roles (project_id, membership_id, role, role_source, created_at)
SELECT project_id, membership_id, role, 'manual', added_at FROM project_members
WHERE role IS NOT NULL ORDER BY project_id, membership_id;

ALTER TABLE project_members DROP COLUMN role;

-- Who made the project membership (manual, api, invite, scim, saml): the ground for
-- refusing hand changes of identity-provider-made memberships later.
ALTER TABLE project_members ADD COLUMN source TEXT NOT NULL DEFAULT 'manual';

-- "Everyone not yet in this project" (the member list's exclude_project_id) is an anti-join
-- on the primary key (project_id, membership_id); nothing else is needed for it.
