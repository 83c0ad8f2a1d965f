-- roster's initial schema. One source for SQLite and PostgreSQL: the migration runner
-- replaces {{ID}} with each database's auto-increment primary key; everything else is
-- standard SQL both accept. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE server_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE users (
    id {{ID}},
    email TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL,
    first_name TEXT NOT NULL DEFAULT '',
    last_name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    active_org_id BIGINT,
    date_joined BIGINT NOT NULL,
    last_activity BIGINT
);

CREATE TABLE organizations (
    id {{ID}},
    title TEXT NOT NULL,
    contact_info TEXT,
    invite_token TEXT NOT NULL UNIQUE,
    seat_limit BIGINT,
    default_role TEXT NOT NULL DEFAULT 'NO',
    manual_role_management BIGINT NOT NULL DEFAULT 1,
    api_tokens_enabled BIGINT NOT NULL DEFAULT 1,
    legacy_api_tokens_enabled BIGINT NOT NULL DEFAULT 1,
    api_token_ttl_days BIGINT NOT NULL DEFAULT 365,
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    -- Bumped as the first statement of every transaction that changes memberships or seats,
    -- so that such transactions on one organization run one after another on both databases.
    write_seq BIGINT NOT NULL DEFAULT 0
);

-- A deleted membership stays as a record (its work keeps pointing at it); a returning person
-- gets a new row. The email is copied from the user (emails never change) so the member list
-- can be ordered and paged by an index alone.
CREATE TABLE memberships (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    user_email TEXT NOT NULL,
    role TEXT NOT NULL,
    role_source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX memberships_live_unique ON memberships (org_id, user_id) WHERE deleted_at IS NULL;
CREATE INDEX memberships_by_user ON memberships (user_id) WHERE deleted_at IS NULL;
CREATE INDEX memberships_by_email ON memberships (org_id, user_email, id) WHERE deleted_at IS NULL;
CREATE INDEX memberships_by_role ON memberships (org_id, role, user_email, id) WHERE deleted_at IS NULL;
CREATE INDEX memberships_deleted ON memberships (org_id, user_email, id) WHERE deleted_at IS NOT NULL;

CREATE TABLE projects (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES memberships(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX projects_by_org ON projects (org_id, id);

-- Project members point at the membership, so a deleted membership's project access goes
-- with it. A NULL role means the member works with their organization role.
CREATE TABLE project_members (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    role TEXT,
    added_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, membership_id)
);
CREATE INDEX project_members_by_membership ON project_members (membership_id);

-- Work points at the membership it was done under, so its authorship follows that
-- membership's fate ("Deleted User" once deleted, even after the person returns).
CREATE TABLE annotations (
    id {{ID}},
    project_id BIGINT NOT NULL REFERENCES projects(id),
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX annotations_by_project ON annotations (project_id, id);
CREATE INDEX annotations_by_membership ON annotations (membership_id);

-- Personal email invites. The token is kept sealed (encrypted with the server secret, so an
-- Owner can copy the link again) and looked up by its keyed hash.
CREATE TABLE invites (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    projects TEXT NOT NULL DEFAULT '[]',
    token_hash TEXT NOT NULL UNIQUE,
    token_sealed TEXT NOT NULL,
    invited_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    accepted_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX invites_by_org_email ON invites (org_id, email);

-- Legacy API keys: sealed with the server secret (readable by their owner), found by keyed hash.
CREATE TABLE legacy_keys (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    key_hash TEXT NOT NULL UNIQUE,
    key_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Personal access tokens (JWT refresh tokens), by their jti. Access tokens name the refresh
-- token they came from and die with it.
CREATE TABLE refresh_tokens (
    jti TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    blacklisted_at BIGINT
);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- One-time set-password links.
CREATE TABLE password_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Append-only: nothing updates or deletes these rows. Names are copied as they were at the
-- moment, so the log is the one place a deleted member's name survives.
CREATE TABLE audit_events (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    occurred_at BIGINT NOT NULL,
    action TEXT NOT NULL,
    source TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_name TEXT NOT NULL DEFAULT '',
    actor_email TEXT NOT NULL DEFAULT '',
    target_user_id BIGINT,
    target_name TEXT NOT NULL DEFAULT '',
    target_email TEXT NOT NULL DEFAULT '',
    old_value TEXT,
    new_value TEXT,
    address TEXT
);
CREATE INDEX audit_events_by_org ON audit_events (org_id, id);

-- Sign-in and token throttling, shared by every node.
CREATE TABLE throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
