-- Usernames are unique and compared case-insensitively, like emails, so that nobody can
-- take a name that shows as someone else (PRODUCT.md rule 11). roster folds them itself
-- (Unicode lower case, as for names). The migration runner fills the column for existing
-- rows right after this file, giving back their own email to anyone whose username looks
-- like an email but is not theirs, or repeats an earlier user's, and then makes it unique.
ALTER TABLE users ADD COLUMN username_folded TEXT;
