-- How many live members each project and workspace holds, kept by the store wherever a
-- project or workspace membership is added or removed and when a membership is deleted.
-- A list's count ("everyone not in this project", a workspace's members) then reads one row
-- instead of walking the project's or workspace's key range, which at a million members is
-- half a million entries. The counters live in narrow tables of their own: a bulk import
-- bumps them once per batch, and on PostgreSQL every bump leaves a dead row version behind,
-- which must not bloat the projects and workspaces that every list scans.
CREATE TABLE project_counts (
    project_id BIGINT PRIMARY KEY,
    live_members BIGINT NOT NULL
);
CREATE TABLE workspace_counts (
    workspace_id BIGINT PRIMARY KEY,
    live_members BIGINT NOT NULL
);

INSERT INTO project_counts (project_id, live_members)
SELECT pm.project_id, COUNT(*) FROM project_members pm JOIN memberships m ON m.id = pm.membership_id
WHERE m.deleted_at IS NULL GROUP BY pm.project_id;
INSERT INTO workspace_counts (workspace_id, live_members)
SELECT wm.workspace_id, COUNT(*) FROM workspace_members wm JOIN memberships m ON m.id = wm.membership_id
WHERE m.deleted_at IS NULL GROUP BY wm.workspace_id;
