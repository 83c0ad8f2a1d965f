-- How many live members each project and workspace holds, kept by the store wherever a
-- project or workspace membership is added or removed and when a membership is deleted.
-- A list's count ("everyone not in this project", a workspace's members) then reads one row
-- instead of walking the project's or workspace's key range, which at a million members is
-- half a million entries.
ALTER TABLE projects ADD COLUMN live_members BIGINT NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN live_members BIGINT NOT NULL DEFAULT 0;

UPDATE projects SET live_members = (
    SELECT COUNT(*) FROM project_members pm JOIN memberships m ON m.id = pm.membership_id
    WHERE pm.project_id = projects.id AND m.deleted_at IS NULL
);
UPDATE workspaces SET live_members = (
    SELECT COUNT(*) FROM workspace_members wm JOIN memberships m ON m.id = wm.membership_id
    WHERE wm.workspace_id = workspaces.id AND m.deleted_at IS NULL
);
