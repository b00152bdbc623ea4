-- CreateEnum
CREATE TYPE "WorkspaceRole" AS ENUM ('viewer', 'editor', 'admin', 'owner');

-- AlterTable
ALTER TABLE "audit_logs" ADD COLUMN     "workspace_id" UUID;

-- CreateTable
CREATE TABLE "workspaces" (
    "id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "created_by" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "workspaces_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "workspace_members" (
    "id" UUID NOT NULL,
    "workspace_id" UUID NOT NULL,
    "user_id" UUID NOT NULL,
    "role" "WorkspaceRole" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "workspace_members_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "workspaces_slug_key" ON "workspaces"("slug");

-- CreateIndex
CREATE INDEX "workspace_members_user_id_idx" ON "workspace_members"("user_id");

-- CreateIndex
CREATE UNIQUE INDEX "workspace_members_workspace_id_user_id_key" ON "workspace_members"("workspace_id", "user_id");

-- CreateIndex
CREATE INDEX "audit_logs_workspace_id_created_at_idx" ON "audit_logs"("workspace_id", "created_at");

-- AddForeignKey
ALTER TABLE "workspaces" ADD CONSTRAINT "workspaces_created_by_fkey" FOREIGN KEY ("created_by") REFERENCES "users"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_workspace_id_fkey" FOREIGN KEY ("workspace_id") REFERENCES "workspaces"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "workspace_members" ADD CONSTRAINT "workspace_members_user_id_fkey" FOREIGN KEY ("user_id") REFERENCES "users"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written below: role ranks, row-level security and the triggers it relies on.
-- Prisma's PostgreSQL driver adapter splits a migration at every semicolon, comments and quoted
-- bodies included. The PL/pgSQL bodies below are therefore E'' strings that spell the
-- statement separator as the octal escape \073, and comments never contain one.

-- Ranks of the workspace roles. src/rbac/roles.ts holds the same table, and
-- test/rbac/roles.test.ts fails when the two disagree. An unknown role has no rank (NULL).
CREATE FUNCTION workspace_role_rank(role text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT CASE role WHEN 'viewer' THEN 1 WHEN 'editor' THEN 2 WHEN 'admin' THEN 3 WHEN 'owner' THEN 4 END
$$;

-- The caller of the current transaction, set by withUserScope (src/db/rls.ts) with
-- set_config(..., true). NULL outside a scoped transaction.
CREATE FUNCTION gatehouse_user_id() RETURNS uuid
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT NULLIF(current_setting('gatehouse.user_id', true), '')::uuid
$$;

CREATE FUNCTION gatehouse_is_platform_admin() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(current_setting('gatehouse.platform_admin', true), '') = 'on'
$$;

-- True only while the SECURITY DEFINER functions below look rows up: they switch
-- gatehouse.policy_lookup on around their own queries with set_config, because PostgreSQL 15 and
-- later reject a SET clause for a custom variable in a function owned by a non-superuser. It lets
-- their lookups pass the policies when the table owner is not a superuser (FORCE ROW LEVEL
-- SECURITY applies to owners), which would otherwise recurse. The application role can set the
-- variable but never passes, because current_user is checked.
CREATE FUNCTION gatehouse_policy_lookup() RETURNS boolean
LANGUAGE sql STABLE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT coalesce(current_setting('gatehouse.policy_lookup', true), '') = 'on' AND current_user <> 'gatehouse_rls'
$$;

-- The caller's role in a workspace, or NULL. SECURITY DEFINER so that reading
-- workspace_members from inside its own policies does not apply those policies again.
CREATE FUNCTION workspace_role_of_caller(workspace uuid) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public, pg_temp
AS E'
DECLARE
  previous text := current_setting(''gatehouse.policy_lookup'', true)\073
  found_role text\073
BEGIN
  PERFORM set_config(''gatehouse.policy_lookup'', ''on'', true)\073
  SELECT role::text INTO found_role FROM workspace_members
    WHERE workspace_id = workspace AND user_id = gatehouse_user_id()\073
  PERFORM set_config(''gatehouse.policy_lookup'', coalesce(previous, ''''), true)\073
  RETURN found_role\073
END
';

-- True when the caller holds at least minimum_role in the workspace, or is a platform admin.
-- An unknown minimum_role is never satisfied.
CREATE FUNCTION has_workspace_role(workspace uuid, minimum_role text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = public, pg_temp
AS $$
  SELECT CASE
    WHEN gatehouse_policy_lookup() OR gatehouse_is_platform_admin() THEN true
    ELSE coalesce(workspace_role_rank(workspace_role_of_caller(workspace)) >= workspace_role_rank(minimum_role), false)
  END
$$;

-- True when the caller may grant, change or revoke granted_role in the workspace: owners may do so for
-- every role, admins only for roles below their own, platform admins always.
CREATE FUNCTION can_grant_workspace_role(workspace uuid, granted_role text) RETURNS boolean
LANGUAGE sql STABLE
SET search_path = public, pg_temp
AS $$
  SELECT CASE
    WHEN gatehouse_policy_lookup() OR gatehouse_is_platform_admin() THEN true
    ELSE coalesce((
      SELECT mine = 'owner'
        OR (workspace_role_rank(mine) >= workspace_role_rank('admin')
            AND workspace_role_rank(granted_role) < workspace_role_rank(mine))
      FROM (SELECT workspace_role_of_caller(workspace) AS mine) AS caller
    ), false)
  END
$$;

-- One lock per workspace for changes to its members, so two concurrent demotions cannot both
-- see another owner and leave none. Transaction-scoped: it ends with COMMIT or ROLLBACK.
CREATE FUNCTION lock_workspace(workspace uuid) RETURNS void
LANGUAGE sql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
  SELECT pg_advisory_xact_lock(hashtext('gatehouse.workspace:' || workspace::text))
$$;

-- Makes the creator the first owner. The application role cannot insert that row itself, as
-- nobody holds a role in a workspace that has no members yet.
CREATE FUNCTION add_workspace_creator() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS E'
DECLARE
  previous text := current_setting(''gatehouse.policy_lookup'', true)\073
BEGIN
  IF NEW.created_by IS NOT NULL THEN
    PERFORM set_config(''gatehouse.policy_lookup'', ''on'', true)\073
    INSERT INTO workspace_members (id, workspace_id, user_id, role, updated_at)
    VALUES (gen_random_uuid(), NEW.id, NEW.created_by, ''owner'', now())\073
    PERFORM set_config(''gatehouse.policy_lookup'', coalesce(previous, ''''), true)\073
  END IF\073
  RETURN NULL\073
END
';

CREATE TRIGGER workspaces_add_creator AFTER INSERT ON workspaces
FOR EACH ROW EXECUTE FUNCTION add_workspace_creator();

-- Rejects a change that leaves an existing workspace without an owner. The application checks
-- first and returns LAST_OWNER, so this is the backstop for every other path. Deleting the user
-- account itself is let through, so account deletion never fails on a workspace.
CREATE FUNCTION keep_a_workspace_owner() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp
AS E'
DECLARE
  previous text := current_setting(''gatehouse.policy_lookup'', true)\073
  orphaned boolean\073
BEGIN
  PERFORM lock_workspace(OLD.workspace_id)\073
  PERFORM set_config(''gatehouse.policy_lookup'', ''on'', true)\073
  orphaned := EXISTS (SELECT 1 FROM workspaces WHERE id = OLD.workspace_id)
     AND EXISTS (SELECT 1 FROM users WHERE id = OLD.user_id)
     AND NOT EXISTS (SELECT 1 FROM workspace_members WHERE workspace_id = OLD.workspace_id AND role = ''owner'')\073
  PERFORM set_config(''gatehouse.policy_lookup'', coalesce(previous, ''''), true)\073
  IF orphaned THEN
    RAISE EXCEPTION ''workspace % must keep at least one owner'', OLD.workspace_id USING ERRCODE = ''check_violation''\073
  END IF\073
  RETURN NULL\073
END
';

CREATE TRIGGER workspace_members_keep_owner AFTER UPDATE OR DELETE ON workspace_members
FOR EACH ROW WHEN (OLD.role = 'owner') EXECUTE FUNCTION keep_a_workspace_owner();

-- The role every workspace-scoped transaction switches to with SET LOCAL ROLE. NOLOGIN: nobody
-- connects as it. Roles are shared by all databases of a server, so it may exist already.
-- The migrating user needs CREATEROLE (or superuser) for this and becomes a member, which
-- SET ROLE requires.
DO E'
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ''gatehouse_rls'') THEN
    CREATE ROLE gatehouse_rls NOLOGIN NOSUPERUSER NOBYPASSRLS NOINHERIT\073
  END IF\073
  IF NOT pg_has_role(current_user, ''gatehouse_rls'', ''MEMBER'') THEN
    EXECUTE format(''GRANT gatehouse_rls TO %I'', current_user)\073
  END IF\073
  EXECUTE format(''GRANT USAGE ON SCHEMA %I TO gatehouse_rls'', current_schema())\073
END
';

GRANT SELECT, INSERT, UPDATE, DELETE ON workspaces, workspace_members TO gatehouse_rls;
-- Enough to add members by email and list them, but never the password hash.
GRANT SELECT (id, email, display_name, is_platform_admin, disabled) ON users TO gatehouse_rls;
-- Audit events are written in the same transaction as the change they describe.
GRANT INSERT ON audit_logs TO gatehouse_rls;
GRANT USAGE ON SEQUENCE audit_logs_id_seq TO gatehouse_rls;

ALTER TABLE workspaces ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspaces FORCE ROW LEVEL SECURITY;
ALTER TABLE workspace_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE workspace_members FORCE ROW LEVEL SECURITY;

CREATE POLICY workspaces_select ON workspaces FOR SELECT
  USING (has_workspace_role(id, 'viewer'));
CREATE POLICY workspaces_insert ON workspaces FOR INSERT
  WITH CHECK (gatehouse_policy_lookup() OR gatehouse_is_platform_admin() OR created_by = gatehouse_user_id());
CREATE POLICY workspaces_update ON workspaces FOR UPDATE
  USING (has_workspace_role(id, 'admin')) WITH CHECK (has_workspace_role(id, 'admin'));
CREATE POLICY workspaces_delete ON workspaces FOR DELETE
  USING (has_workspace_role(id, 'owner'));

CREATE POLICY workspace_members_select ON workspace_members FOR SELECT
  USING (has_workspace_role(workspace_id, 'viewer'));
CREATE POLICY workspace_members_insert ON workspace_members FOR INSERT
  WITH CHECK (can_grant_workspace_role(workspace_id, role::text));
CREATE POLICY workspace_members_update ON workspace_members FOR UPDATE
  USING (can_grant_workspace_role(workspace_id, role::text))
  WITH CHECK (can_grant_workspace_role(workspace_id, role::text));
CREATE POLICY workspace_members_delete ON workspace_members FOR DELETE
  USING (user_id = gatehouse_user_id() OR can_grant_workspace_role(workspace_id, role::text));
