import type { GatehouseContext } from '../context.js';
import type { User } from '../generated/prisma/client.js';

const callers = new WeakMap<GatehouseContext, Promise<User | null>>();

/** Loads the caller's user row, at most once per request; null without a verified caller. */
export function loadCaller(context: GatehouseContext): Promise<User | null> {
  let caller = callers.get(context);
  if (!caller) {
    const userId = context.identity?.userId;
    caller = userId ? context.services.prisma.user.findUnique({ where: { id: userId } }) : Promise.resolve(null);
    callers.set(context, caller);
  }

  return caller;
}

/** True when the caller is a platform admin whose account is not disabled. */
export async function isPlatformAdmin(context: GatehouseContext): Promise<boolean> {
  const caller = await loadCaller(context);

  return caller !== null && caller.isPlatformAdmin && !caller.disabled;
}
