import type { GatehouseContext } from '../context.js';

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
  const cached = cache.get(context.request);
  if (cached) return cached;
  const userId = context.identity?.userId;
  const lookup = userId
    ? context.services.prisma.user
        .findUnique({ where: { id: userId }, select: { isPlatformAdmin: true, disabled: true } })
        .then((user) => user !== null && user.isPlatformAdmin && !user.disabled)
    : Promise.resolve(false);
  cache.set(context.request, lookup);

  return lookup;
}
