import type { Prisma, PrismaClient } from '../generated/prisma/client.js';

/** The NOLOGIN role without BYPASSRLS that the workspaces migration creates. */
export const rlsRole = 'gatehouse_rls';

/** Whose rights a scoped transaction has. A null user with platform-admin rights is the CLI. */
export interface UserScope {
  userId: string | null;
  isPlatformAdmin: boolean;
}

export interface ScopeOptions {
  /** Maximum wait for a pooled connection, in ms. @default 2000 (Prisma's default) */
  maxWait?: number;
  /** Maximum duration of the whole transaction, in ms. @default 5000 (Prisma's default) */
  timeout?: number;
}

export type ScopedClient = Prisma.TransactionClient;

/**
 * Runs `fn` in one transaction as the row-level-security role with the caller's id and
 * platform-admin flag set, so the policies on workspaces and workspace_members filter every
 * statement `fn` sends, raw SQL included. Every read and write of those tables goes through here.
 *
 * Safe with pooled connections: the role and settings set with set_config(..., true) last only
 * until the transaction ends. COMMIT or ROLLBACK resets them before the connection returns to the pool,
 * so the next borrower starts as the connecting user with no caller id.
 */
export function withUserScope<T>(
  prisma: PrismaClient,
  scope: UserScope,
  fn: (tx: ScopedClient) => Promise<T>,
  options: ScopeOptions = {},
): Promise<T> {
  return prisma.$transaction(async (tx) => {
    // set_config('role', name, true) is SET LOCAL ROLE, with the same membership check, so one
    // statement sets the role and both settings. Every scoped transaction saves a round trip.
    await tx.$queryRaw`SELECT set_config('role', ${rlsRole}, true),
      set_config('gatehouse.user_id', ${scope.userId ?? ''}, true),
      set_config('gatehouse.platform_admin', ${scope.isPlatformAdmin ? 'on' : 'off'}, true)`;

    return fn(tx);
  }, options);
}
