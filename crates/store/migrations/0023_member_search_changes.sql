-- A journal of the changes that can move a member search's count, so a count taken once can be
-- brought forward instead of taken again. A broad search (a term most members hold) must
-- visit every member to count its matches: at a million members that is the whole cost of
-- the request. With this journal a node keeps each such count with the organization's
-- `write_seq` it was taken at; the next request reads the rows written since, counts which of
-- those members match now and which matched before (each row holds what the member's
-- searchable columns were before the change), and adds the difference.
--
-- Triggers write the journal, so every path that changes a member (the REST API, the pages,
-- SCIM, SAML, the bulk import, the command line) is covered in its own transaction. Each row
-- takes the organization's next `write_seq` under the organization row's write lock, held to
-- commit: a reader's snapshot therefore holds every row up to the sequence it reads and none
-- after it, on PostgreSQL too, where a sequence would hand out numbers in start order, not
-- commit order. The first row of a member after a given sequence holds the member as it was
-- at that sequence.
--
-- membership_id NULL means "many members changed at once" (a bulk import writes one such row
-- instead of one per member, see member_search_paused): a count older than it is taken again.
-- Rows more than 5,000 sequence numbers behind the newest are pruned as rows are added; a
-- count that old is taken again (store/src/search_counts.rs, PRUNED_BEHIND).
CREATE TABLE member_search_changes (
    id {{ID}},
    org_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    membership_id BIGINT,
    email TEXT,
    first_name_folded TEXT,
    last_name_folded TEXT,
    role TEXT,
    -- 1 when the membership was live before the change; 0 for a new one.
    live SMALLINT NOT NULL
);
CREATE INDEX member_search_changes_by_seq ON member_search_changes (org_id, seq);
CREATE INDEX member_search_changes_by_member ON member_search_changes (org_id, membership_id, id);

-- While a bulk import writes an organization's members it holds a row here (inside its own
-- transaction, so no one else sees it): the triggers skip that organization, and the import
-- writes one "many changed" row when it is done.
CREATE TABLE member_search_paused (
    org_id BIGINT PRIMARY KEY
);

-- dialect: sqlite
CREATE TRIGGER member_search_joined AFTER INSERT ON memberships
WHEN NEW.deleted_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM member_search_paused p WHERE p.org_id = NEW.org_id)
BEGIN
    UPDATE organizations SET write_seq = write_seq + 1 WHERE id = NEW.org_id;
    INSERT INTO member_search_changes (org_id, seq, membership_id, live)
    SELECT NEW.org_id, o.write_seq, NEW.id, 0 FROM organizations o WHERE o.id = NEW.org_id;
END;

-- Only a change to a column the search or its role filter reads, of a membership live before
-- or after it (last activity is written often and does not count).
CREATE TRIGGER member_search_changed AFTER UPDATE OF role, deleted_at, user_email ON memberships
WHEN (OLD.deleted_at IS NULL OR NEW.deleted_at IS NULL)
    AND (OLD.role IS NOT NEW.role OR OLD.deleted_at IS NOT NEW.deleted_at
         OR OLD.user_email IS NOT NEW.user_email)
    AND NOT EXISTS (SELECT 1 FROM member_search_paused p WHERE p.org_id = OLD.org_id)
BEGIN
    UPDATE organizations SET write_seq = write_seq + 1 WHERE id = OLD.org_id;
    INSERT INTO member_search_changes
        (org_id, seq, membership_id, email, first_name_folded, last_name_folded, role, live)
    SELECT OLD.org_id, o.write_seq, OLD.id, OLD.user_email, u.first_name_folded,
        u.last_name_folded, OLD.role, OLD.deleted_at IS NULL
    FROM organizations o, users u WHERE o.id = OLD.org_id AND u.id = OLD.user_id;
END;

-- A live membership deleted outright (its organization or person removed for good): the
-- person may be gone already, so the journal says "count again".
CREATE TRIGGER member_search_removed AFTER DELETE ON memberships
WHEN OLD.deleted_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM member_search_paused p WHERE p.org_id = OLD.org_id)
BEGIN
    UPDATE organizations SET write_seq = write_seq + 1 WHERE id = OLD.org_id;
    INSERT INTO member_search_changes (org_id, seq, membership_id, live)
    SELECT OLD.org_id, o.write_seq, NULL, 0 FROM organizations o WHERE o.id = OLD.org_id;
END;

-- A renamed person, or a new email: one row per live membership, with the old text.
CREATE TRIGGER member_search_renamed AFTER UPDATE OF email, first_name_folded, last_name_folded ON users
WHEN OLD.email IS NOT NEW.email OR OLD.first_name_folded IS NOT NEW.first_name_folded
    OR OLD.last_name_folded IS NOT NEW.last_name_folded
BEGIN
    UPDATE organizations SET write_seq = write_seq + 1 WHERE id IN (
        SELECT m.org_id FROM memberships m
        WHERE m.user_id = NEW.id AND m.deleted_at IS NULL
            AND NOT EXISTS (SELECT 1 FROM member_search_paused p WHERE p.org_id = m.org_id));
    INSERT INTO member_search_changes
        (org_id, seq, membership_id, email, first_name_folded, last_name_folded, role, live)
    SELECT m.org_id, o.write_seq, m.id, OLD.email, OLD.first_name_folded, OLD.last_name_folded,
        m.role, 1
    FROM memberships m JOIN organizations o ON o.id = m.org_id
    WHERE m.user_id = NEW.id AND m.deleted_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM member_search_paused p WHERE p.org_id = m.org_id);
END;

CREATE TRIGGER member_search_pruned AFTER INSERT ON member_search_changes BEGIN
    DELETE FROM member_search_changes WHERE org_id = NEW.org_id AND seq <= NEW.seq - 5000;
END;

-- dialect: postgres
-- The organization's next sequence number, taking its row's write lock; NULL while a bulk
-- import holds the organization (or when it is being deleted).
CREATE FUNCTION member_search_next_seq(org BIGINT) RETURNS BIGINT LANGUAGE plpgsql AS $$
DECLARE
    next_seq BIGINT;
BEGIN
    IF EXISTS (SELECT 1 FROM member_search_paused WHERE org_id = org) THEN
        RETURN NULL;
    END IF;
    UPDATE organizations SET write_seq = write_seq + 1 WHERE id = org RETURNING write_seq INTO next_seq;
    RETURN next_seq;
END
$$;

CREATE FUNCTION member_search_membership_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    next_seq BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.deleted_at IS NULL THEN
            next_seq := member_search_next_seq(NEW.org_id);
            IF next_seq IS NOT NULL THEN
                INSERT INTO member_search_changes (org_id, seq, membership_id, live)
                VALUES (NEW.org_id, next_seq, NEW.id, 0);
            END IF;
        END IF;
    ELSIF TG_OP = 'UPDATE' THEN
        IF (OLD.deleted_at IS NULL OR NEW.deleted_at IS NULL)
            AND (OLD.role IS DISTINCT FROM NEW.role OR OLD.deleted_at IS DISTINCT FROM NEW.deleted_at
                 OR OLD.user_email IS DISTINCT FROM NEW.user_email) THEN
            next_seq := member_search_next_seq(OLD.org_id);
            IF next_seq IS NOT NULL THEN
                INSERT INTO member_search_changes
                    (org_id, seq, membership_id, email, first_name_folded, last_name_folded, role, live)
                SELECT OLD.org_id, next_seq, OLD.id, OLD.user_email, u.first_name_folded,
                    u.last_name_folded, OLD.role, CASE WHEN OLD.deleted_at IS NULL THEN 1 ELSE 0 END
                FROM users u WHERE u.id = OLD.user_id;
            END IF;
        END IF;
    ELSIF OLD.deleted_at IS NULL THEN
        next_seq := member_search_next_seq(OLD.org_id);
        IF next_seq IS NOT NULL THEN
            INSERT INTO member_search_changes (org_id, seq, membership_id, live)
            VALUES (OLD.org_id, next_seq, NULL, 0);
        END IF;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_search_membership_changed
AFTER INSERT OR UPDATE OF role, deleted_at, user_email OR DELETE ON memberships
FOR EACH ROW EXECUTE FUNCTION member_search_membership_changed();

-- The person's organizations are locked in id order, as every statement here takes them, so
-- two renames of people who share organizations wait for each other instead of deadlocking.
CREATE FUNCTION member_search_user_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    m RECORD;
    next_seq BIGINT;
BEGIN
    FOR m IN SELECT id, org_id, role FROM memberships
             WHERE user_id = NEW.id AND deleted_at IS NULL ORDER BY org_id LOOP
        next_seq := member_search_next_seq(m.org_id);
        IF next_seq IS NOT NULL THEN
            INSERT INTO member_search_changes
                (org_id, seq, membership_id, email, first_name_folded, last_name_folded, role, live)
            VALUES (m.org_id, next_seq, m.id, OLD.email, OLD.first_name_folded, OLD.last_name_folded,
                m.role, 1);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_search_user_renamed
AFTER UPDATE OF email, first_name_folded, last_name_folded ON users
FOR EACH ROW
WHEN (OLD.email IS DISTINCT FROM NEW.email OR OLD.first_name_folded IS DISTINCT FROM NEW.first_name_folded
      OR OLD.last_name_folded IS DISTINCT FROM NEW.last_name_folded)
EXECUTE FUNCTION member_search_user_renamed();

CREATE FUNCTION member_search_pruned() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM member_search_changes WHERE org_id = NEW.org_id AND seq <= NEW.seq - 5000;
    RETURN NULL;
END
$$;

CREATE TRIGGER member_search_pruned AFTER INSERT ON member_search_changes
FOR EACH ROW EXECUTE FUNCTION member_search_pruned();
