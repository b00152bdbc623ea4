import type { Prisma } from '../generated/prisma/client.js';

const uuidShape = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a string PostgreSQL accepts as a uuid; other ids can match no row. */
export function isUuid(value: string): boolean {
  return uuidShape.test(value);
}

export interface RevokeUserSessionsOptions {
  /** Stored in `sessions.revoked_reason`, such as `logout_all` or `password_changed`. */
  reason: string;
  /** A session to keep live, usually the caller's own; null revokes every session. */
  exceptSessionId?: string | null;
  now?: Date;
}

/**
 * Revokes every live session of a user inside the caller's transaction and returns their ids.
 * The caller adds the ids to the deny-list after the commit, so access tokens die with them.
 * One UPDATE with RETURNING means a session created concurrently is either revoked and listed
 * or not touched, never revoked without being denied.
 */
export async function revokeUserSessions(
  tx: Prisma.TransactionClient,
  userId: string,
  options: RevokeUserSessionsOptions,
): Promise<string[]> {
  const now = options.now ?? new Date();
  const except = options.exceptSessionId ?? null;
  const rows = await tx.$queryRaw<{ id: string }[]>`
    UPDATE sessions SET revoked_at = ${now}, revoked_reason = ${options.reason}
    WHERE user_id = ${userId}::uuid
      AND revoked_at IS NULL
      AND expires_at > ${now}
      AND (${except}::uuid IS NULL OR id <> ${except}::uuid)
    RETURNING id::text`;

  return rows.map((row) => row.id);
}
