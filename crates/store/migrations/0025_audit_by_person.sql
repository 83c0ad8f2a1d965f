-- The audit log filtered by person (the audit page's actor and target filters, the member
-- panel's history of one person): their events, newest first, without reading the whole
-- organization's log.
CREATE INDEX audit_events_by_actor ON audit_events (org_id, actor_user_id, id);
CREATE INDEX audit_events_by_target ON audit_events (org_id, target_user_id, id);
