-- Case-folded copies of people's names, for the member search. roster folds them itself
-- (Unicode lower case) when it writes a name, because SQLite's LOWER and LIKE fold ASCII
-- letters only: "Élodie" must be found by "élodie" on both databases. Existing rows are
-- folded by the migration runner right after this file.
ALTER TABLE users ADD COLUMN first_name_folded TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name_folded TEXT NOT NULL DEFAULT '';
