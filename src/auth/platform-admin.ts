import type { GatehouseContext } from '../context.js';
import { forbiddenError, unauthenticatedError } from '../errors.js';
import { callerAccess } from '../rbac/caller-access.js';

/**
 * Returns whether the caller is a platform admin (users.is_platform_admin), from the same
 * per-request access as the role checks. Anonymous callers and disabled users are never admins.
 */
export async function isPlatformAdmin(context: GatehouseContext): Promise<boolean> {
  return (await callerAccess(context))?.actor.isPlatformAdmin ?? false;
}

/**
 * Returns the caller's user id when the caller is a platform admin; throws UNAUTHENTICATED
 * without a caller and FORBIDDEN otherwise.
 */
export async function requirePlatformAdmin(
  context: GatehouseContext,
): Promise<string> {
  if (!context.identity) throw unauthenticatedError();
  if (!(await isPlatformAdmin(context))) throw forbiddenError();

  return context.identity.userId;
}
