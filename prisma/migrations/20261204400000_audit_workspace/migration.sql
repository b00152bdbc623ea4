-- Audit events of a workspace, so workspace admins can read their own workspace's events.
-- IF NOT EXISTS: the workspaces migration may add the same column and index first.
ALTER TABLE "audit_logs" ADD COLUMN IF NOT EXISTS "workspace_id" UUID;

CREATE INDEX IF NOT EXISTS "audit_logs_workspace_id_created_at_idx" ON "audit_logs"("workspace_id", "created_at");
