-- A trigram index for the member search, so a term that matches a few members out of a million
-- is found without reading every member. The two databases spell a substring index
-- differently, so this file has one section per dialect; the migration runner keeps the
-- section of the database it runs on. Both index the same three folded columns.

-- dialect: sqlite
-- An FTS5 table with the trigram tokenizer, keyed by user id. It is contentless (it keeps no
-- copy of the text, only the index) and kept in step by triggers, so every path that writes a
-- user, the bulk import included, maintains it in the same transaction.
CREATE VIRTUAL TABLE user_search USING fts5(
    email, first_name, last_name,
    content = '', contentless_delete = 1, tokenize = 'trigram'
);

CREATE TRIGGER user_search_insert AFTER INSERT ON users BEGIN
    INSERT INTO user_search (rowid, email, first_name, last_name)
    VALUES (new.id, new.email, new.first_name_folded, new.last_name_folded);
END;

-- Only a change to an indexed column re-indexes the user: last_activity is written often.
CREATE TRIGGER user_search_update AFTER UPDATE OF email, first_name_folded, last_name_folded ON users
BEGIN
    DELETE FROM user_search WHERE rowid = old.id;
    INSERT INTO user_search (rowid, email, first_name, last_name)
    VALUES (new.id, new.email, new.first_name_folded, new.last_name_folded);
END;

CREATE TRIGGER user_search_delete AFTER DELETE ON users BEGIN
    DELETE FROM user_search WHERE rowid = old.id;
END;

INSERT INTO user_search (rowid, email, first_name, last_name)
SELECT id, email, first_name_folded, last_name_folded FROM users;

-- dialect: postgres
-- pg_trgm's GIN operator class indexes LIKE '%term%' directly. One index covers the three
-- columns joined with spaces; the query repeats this exact expression to use it, then checks
-- each column, so a term never matches across two of them. (Indexing `email` itself would
-- also let the planner answer `email IN (...)` from the trigrams, far slower than the unique
-- B-tree.) The extension may already live in another schema of this database, installed by
-- an administrator or by another roster sharing the database, so the operator class is named
-- through the schema it is found in.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

DO $$
DECLARE
    ext_schema TEXT;
BEGIN
    SELECT n.nspname INTO ext_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    EXECUTE format(
        'CREATE INDEX users_search_trgm ON users USING gin '
        '((email || '' '' || first_name_folded || '' '' || last_name_folded) %I.gin_trgm_ops)',
        ext_schema);
END
$$;
