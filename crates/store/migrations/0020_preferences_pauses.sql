-- A person's own preferences, as Label Studio's user objects carry them: whether they accept
-- newsletters (NULL until they say), their keyboard shortcuts and their email notification
-- choices (JSON objects, checked by the service before they are written), and how far they
-- are through onboarding. They belong to the account, not to a membership.
ALTER TABLE users ADD COLUMN allow_newsletters BIGINT;
ALTER TABLE users ADD COLUMN custom_hotkeys TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN email_notification_settings TEXT NOT NULL DEFAULT '{}';
ALTER TABLE users ADD COLUMN onboarding_state TEXT;

-- Pauses of a person's work in a project (the SDK's projects.pauses). A pause is active
-- while deleted_at is NULL; resuming soft-deletes it and keeps who did it, as Label Studio
-- Enterprise does. At most one active pause per person and project.
CREATE TABLE project_pauses (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    verbose_reason TEXT NOT NULL DEFAULT '',
    paused_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT,
    deleted_by BIGINT REFERENCES users(id)
);
CREATE INDEX project_pauses_by_member ON project_pauses (project_id, user_id, id);
