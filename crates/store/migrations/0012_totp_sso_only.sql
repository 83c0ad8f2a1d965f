-- A second factor for password sign-in, and organizations that sign in through their
-- identity provider only.

-- A person's time-based one-time password (RFC 6238). The secret is sealed with the server
-- secret; confirmed_at stays NULL until the first code proves the authenticator holds it, and
-- last_step is the time step of the last code accepted, so no code is accepted twice.
CREATE TABLE totp_factors (
    user_id BIGINT PRIMARY KEY REFERENCES users(id),
    secret_sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    confirmed_at BIGINT,
    last_step BIGINT
);

-- 1 when the session's sign-in passed the person's second factor.
ALTER TABLE sessions ADD COLUMN second_factor BIGINT NOT NULL DEFAULT 0;

-- 1 when the organization's members sign in through its identity provider only (its Owner
-- keeps a password that needs the second factor).
ALTER TABLE organizations ADD COLUMN sso_only BIGINT NOT NULL DEFAULT 0;
