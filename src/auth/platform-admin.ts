import type { GatehouseContext } from '../context.js';
import { forbiddenError, unauthenticatedError } from '../errors.js';

// One lookup per request: the promise is cached on the request object, which lives as long as
// the request, so several fields and plugins share it.
const cache = new WeakMap<Request, Promise<boolean>>();

/**
 * Returns whether the caller is a platform admin (users.is_platform_admin), reading the user
 * row at most once per request. Anonymous callers and disabled users are never admins.
 */
export function isPlatformAdmin(
  context: Pick<GatehouseContext, 'request' | 'identity' | 'services'>,
): Promise<boolean> {
  const userId = context.identity?.userId;
  // The deny-list check sets the identity to null after a revocation, and a result cached
  // earlier in the same request must not outlive that.
  if (!userId) return Promise.resolve(false);
  const cached = cache.get(context.request);
  if (cached) return cached;
  const lookup = context.services.prisma.user
    .findUnique({ where: { id: userId }, select: { isPlatformAdmin: true, disabled: true } })
    .then((user) => user !== null && user.isPlatformAdmin && !user.disabled);
  cache.set(context.request, lookup);

  return lookup;
}

/**
 * Returns the caller's user id when the caller is a platform admin; throws UNAUTHENTICATED
 * without a caller and FORBIDDEN otherwise.
 */
export async function requirePlatformAdmin(
  context: Pick<GatehouseContext, 'request' | 'identity' | 'services'>,
): Promise<string> {
  if (!context.identity) throw unauthenticatedError();
  if (!(await isPlatformAdmin(context))) throw forbiddenError();

  return context.identity.userId;
}
