-- Setting a password spends every other unused set-password link of the account
-- (users::spend_password_tokens), and "Forgot your password?" lets anyone add links to an
-- account's list, so the links are found by account without reading the whole table.
CREATE INDEX password_tokens_by_user ON password_tokens (user_id) WHERE used_at IS NULL;
