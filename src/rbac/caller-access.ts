import type { GatehouseContext } from '../context.js';
import { unauthenticatedError } from '../errors.js';
import type { Actor } from './actor.js';
import type { WorkspaceRole } from './roles.js';

/** The caller's platform-admin flag and every workspace role they hold. */
export interface CallerAccess {
  actor: Actor;
  roles: ReadonlyMap<string, WorkspaceRole>;
}

const perRequest = new WeakMap<GatehouseContext, Promise<CallerAccess | null>>();

/**
 * Reads the caller's access once per request, on first use, from the access cache or the
 * database, and shares it with every field and scope check of that request, so one request
 * never sees two versions. Null without a caller.
 */
export function callerAccess(context: GatehouseContext): Promise<CallerAccess | null> {
  let pending = perRequest.get(context);
  if (!pending) {
    pending = load(context);
    perRequest.set(context, pending);
  }

  return pending;
}

/** Drops the cached access after a mutation changed the caller's memberships. */
export function forgetCallerAccess(context: GatehouseContext): void {
  perRequest.delete(context);
}

/** Returns the caller as an actor, or raises UNAUTHENTICATED without one. */
export async function requireActor(context: GatehouseContext): Promise<Actor> {
  const access = await callerAccess(context);
  if (!access) throw unauthenticatedError();

  return access.actor;
}

async function load(context: GatehouseContext): Promise<CallerAccess | null> {
  const identity = context.identity;
  if (!identity) return null;
  const access = await context.services.rbac.access.get(identity.userId);
  const actor: Actor = {
    userId: identity.userId,
    sessionId: identity.sessionId,
    isPlatformAdmin: access.isPlatformAdmin,
    origin: context.origin,
  };

  return { actor, roles: access.roles };
}
