-- The activity log: one row per request that changed state (or signed someone in), in the
-- organization it acted in. No body, no query string: the path alone, so no credential or
-- invite token is ever stored. Rows older than the retention period are purged.
CREATE TABLE activity_logs (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    occurred_at BIGINT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    -- The membership the request was made under: once it is deleted the row reads
    -- "Deleted User", even after the person returns as a new membership.
    membership_id BIGINT REFERENCES memberships(id),
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    project_id BIGINT,
    workspace_id BIGINT,
    address TEXT,
    user_agent TEXT
);
CREATE INDEX activity_logs_by_org_time ON activity_logs (org_id, occurred_at);
CREATE INDEX activity_logs_by_org_user_time ON activity_logs (org_id, user_id, occurred_at);
CREATE INDEX activity_logs_by_time ON activity_logs (occurred_at);

-- An organization's limits on browser sessions, in minutes (NULL: the server's session
-- lifetime). A session is held to the strictest policy of the organizations it can act in.
CREATE TABLE session_policies (
    org_id BIGINT PRIMARY KEY REFERENCES organizations(id),
    max_session_age BIGINT,
    max_time_between_activity BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- When the session last made a request, written at most once per activity interval.
ALTER TABLE sessions ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_active_at = created_at;
