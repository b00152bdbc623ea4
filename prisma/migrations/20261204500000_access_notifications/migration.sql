-- Announces every change to what a user may do on the channel gatehouse_access, with the user id
-- as payload. Gatehouse instances cache each user's platform-admin flag and workspace roles and
-- drop an entry when its user id arrives. PostgreSQL delivers a notification only when its
-- transaction commits, and this covers every path that writes these rows: the API, the
-- command line, cascades from deleted workspaces and users, and SQL run by hand.

CREATE FUNCTION notify_member_access_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS E'
BEGIN
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

CREATE FUNCTION notify_user_access_change() RETURNS trigger
LANGUAGE plpgsql
SET search_path = public, pg_temp
AS E'
BEGIN
  PERFORM pg_notify(''gatehouse_access'', OLD.id::text)\073
  RETURN NULL\073
END
';

CREATE TRIGGER users_notify_access AFTER UPDATE OF is_platform_admin, disabled OR DELETE ON users
FOR EACH ROW EXECUTE FUNCTION notify_user_access_change();
