-- The invite-link token is no longer stored as it is, so that a copy of the database does not
-- let anyone join: `invite_token_hash` holds its keyed hash (for look-up) and
-- `invite_token_sealed` the token encrypted (so GET /api/invite can show it), both made with
-- keys derived from the server secret, like legacy API keys. The database cannot compute
-- them, so existing tokens stay in `invite_token_hash` as they are, with no sealed copy,
-- until roster seals them when it starts (before it serves), in one transaction.
ALTER TABLE organizations RENAME COLUMN invite_token TO invite_token_hash;
ALTER TABLE organizations ADD COLUMN invite_token_sealed TEXT;
