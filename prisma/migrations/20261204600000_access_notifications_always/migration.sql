-- The notifications of membership changes also fire while session_replication_role is replica,
-- as when a logical replication subscriber applies changes, so instances that read such a
-- database still drop cached roles that changed. The other triggers keep the default and stay
-- silent then, because the changes they would check were checked where they were made.
ALTER TABLE workspace_members ENABLE ALWAYS TRIGGER workspace_members_notify_access;
ALTER TABLE workspace_members ENABLE ALWAYS TRIGGER workspace_members_notify_truncate;
