-- Announces every change to workspace memberships on the channel gatehouse_access. The payload
-- is the user id of the changed membership, or * after a TRUNCATE, which drops them all.
-- Gatehouse instances cache each user's workspace roles and drop an entry when its user id
-- arrives. PostgreSQL delivers a notification only when its transaction commits. The row
-- trigger fires for the API, the command line, rows deleted with a workspace or a user, and
-- SQL run by hand. Triggers do not fire while session_replication_role is replica, as during
-- pg_restore --disable-triggers, and not while disabled with ALTER TABLE.

CREATE FUNCTION notify_member_access_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS E'
BEGIN
  IF TG_OP = ''TRUNCATE'' THEN
    PERFORM pg_notify(''gatehouse_access'', ''*'')\073
    RETURN NULL\073
  END IF\073
  IF TG_OP <> ''INSERT'' THEN
    PERFORM pg_notify(''gatehouse_access'', OLD.user_id::text)\073
  END IF\073
  IF TG_OP <> ''DELETE'' THEN
    PERFORM pg_notify(''gatehouse_access'', NEW.user_id::text)\073
  END IF\073
  RETURN NULL\073
END
';

CREATE TRIGGER workspace_members_notify_access AFTER INSERT OR UPDATE OR DELETE ON workspace_members
FOR EACH ROW EXECUTE FUNCTION notify_member_access_change();

CREATE TRIGGER workspace_members_notify_truncate AFTER TRUNCATE ON workspace_members
FOR EACH STATEMENT EXECUTE FUNCTION notify_member_access_change();
