-- The member list's last-activity filter (`user__last_activity__gte/lte`, the filter payload's
-- `last_activity`) and its `user__last_activity` ordering, indexed. Activity is the user's
-- (users.last_activity), and an index there cannot count one organization's members: every
-- user in the range would be looked up in memberships. So each live membership carries a
-- copy, as it carries the email: the store writes it with the user's activity (throttled to
-- once a minute per user) and when a membership is made; 0 means never active. Deleted
-- memberships keep the value they had; their list reads the user's own column.
ALTER TABLE memberships ADD COLUMN user_last_activity BIGINT NOT NULL DEFAULT 0;

UPDATE memberships SET user_last_activity = users.last_activity
FROM users
WHERE users.id = memberships.user_id AND memberships.deleted_at IS NULL
  AND users.last_activity IS NOT NULL;

-- One organization's live members by activity: a range of it counts the members active in a
-- window without reading a row, and its order is the list's activity order. The email rides
-- along, so a page deep in such a window, in email order, is sorted from the index alone.
CREATE INDEX memberships_by_activity ON memberships (org_id, user_last_activity, id, user_email)
    WHERE deleted_at IS NULL;

-- SQLite's statistics for memberships, where it has some, are refreshed by the migration
-- runner (migrate.rs).

-- dialect: postgres
ANALYZE memberships;
