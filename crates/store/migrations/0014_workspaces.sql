-- Workspaces: named groups of an organization's projects with members of their own (Label
-- Studio Enterprise's main access container). A project is in at most one workspace.
CREATE TABLE workspaces (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    color TEXT NOT NULL DEFAULT '',
    is_personal BIGINT NOT NULL DEFAULT 0,
    is_archived BIGINT NOT NULL DEFAULT 0,
    created_by BIGINT REFERENCES memberships(id),
    created_at BIGINT NOT NULL
);
-- Titles are unique within an organization (identity-provider mappings name workspaces by title).
CREATE UNIQUE INDEX workspaces_title_unique ON workspaces (org_id, title);

-- Workspace members point at the membership, like project members: a deleted membership's
-- rows are ignored (every read joins live memberships), a deactivated one gives no access
-- while deactivated and its access comes back with reactivation. The primary key orders a
-- workspace's members by membership id, which is the order the paginated list reads a page in.
CREATE TABLE workspace_members (
    workspace_id BIGINT NOT NULL REFERENCES workspaces(id),
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    source TEXT NOT NULL,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, membership_id)
);
CREATE INDEX workspace_members_by_membership ON workspace_members (membership_id);

ALTER TABLE projects ADD COLUMN workspace_id BIGINT REFERENCES workspaces(id);
CREATE INDEX projects_by_workspace ON projects (workspace_id, id);

-- The workspaces a personal invite gives on acceptance (JSON ids), like `projects`.
ALTER TABLE invites ADD COLUMN workspaces TEXT NOT NULL DEFAULT '[]';
