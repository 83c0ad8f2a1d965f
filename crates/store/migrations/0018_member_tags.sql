-- Member tags: labels an organization's Owners and Administrators put on members (Label Studio
-- Enterprise's member tags). A label is unique within its organization, compared folded
-- (lowercase), so "QA" and "qa" are one tag.
CREATE TABLE member_tags (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    label TEXT NOT NULL,
    label_folded TEXT NOT NULL,
    created_by BIGINT REFERENCES memberships(id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX member_tags_label_unique ON member_tags (org_id, label_folded);

-- Which live memberships carry which tag. Deleting a membership or a tag deletes its rows, so
-- a tag's member count is a walk of its own key range. The primary key reads one member's
-- tags; the second index drives a tag filter from the tag (a rare tag among a million members
-- is found without walking the member list).
CREATE TABLE member_tag_assignments (
    membership_id BIGINT NOT NULL REFERENCES memberships(id),
    tag_id BIGINT NOT NULL REFERENCES member_tags(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (membership_id, tag_id)
);
CREATE INDEX member_tag_assignments_by_tag ON member_tag_assignments (tag_id, membership_id);

-- CSV imports of tags, kept as a status resource (`/member-tags/imports/{id}`). roster runs an
-- import in the request that uploads it, in one transaction, so a job is completed or failed
-- by the time its id is returned. `users_skipped` lists the CSV's emails (JSON) that name no
-- live member.
CREATE TABLE member_tag_imports (
    id {{ID}},
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    status TEXT NOT NULL,
    created_by BIGINT REFERENCES memberships(id),
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    tags_created BIGINT NOT NULL DEFAULT 0,
    assignments_created BIGINT NOT NULL DEFAULT 0,
    users_skipped TEXT NOT NULL DEFAULT '[]'
);
