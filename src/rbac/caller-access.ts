import { isPlatformAdmin } from '../auth/platform-admin.js';
import type { GatehouseContext } from '../context.js';
import { unauthenticatedError } from '../errors.js';
import type { Actor } from './actor.js';
import type { WorkspaceRole } from './roles.js';

/** Workspace roles of the caller, by workspace id. */
export type CallerRoles = ReadonlyMap<string, WorkspaceRole>;

/** The caller's platform-admin flag and every workspace role they hold. */
export interface CallerAccess {
  actor: Actor;
  roles: CallerRoles;
}

const rolesPerRequest = new WeakMap<GatehouseContext, Promise<CallerRoles | null>>();
const accessPerRequest = new WeakMap<GatehouseContext, Promise<CallerAccess | null>>();

/**
 * Returns the caller's workspace roles from the access cache, or the database on a miss, read
 * once per operation and shared by every field and scope check of it. Null without a caller.
 * Reads no platform-admin flag, so a role check that the caller's role passes costs no query.
 */
export function callerRoles(context: GatehouseContext): Promise<CallerRoles | null> {
  let pending = rolesPerRequest.get(context);
  if (!pending) {
    const userId = context.identity?.userId;
    pending = userId ? context.services.rbac.access.get(userId, context.origin).then((access) => access.roles) : Promise.resolve(null);
    rolesPerRequest.set(context, pending);
  }

  return pending;
}

/**
 * Returns the caller as an actor with their roles. The platform-admin flag is read from the
 * users row for each request, never from the cache, because the admin operations and the
 * admin bypass of row-level security rely on it alone. Null without a caller.
 */
export function callerAccess(context: GatehouseContext): Promise<CallerAccess | null> {
  let pending = accessPerRequest.get(context);
  if (!pending) {
    pending = load(context);
    accessPerRequest.set(context, pending);
  }

  return pending;
}

/** Drops the roles read for this operation after a mutation changed the caller's memberships. */
export function forgetCallerAccess(context: GatehouseContext): void {
  rolesPerRequest.delete(context);
  accessPerRequest.delete(context);
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
  const [platformAdmin, roles] = await Promise.all([isPlatformAdmin(context), callerRoles(context)]);
  const actor: Actor = {
    userId: identity.userId,
    sessionId: identity.sessionId,
    isPlatformAdmin: platformAdmin,
    origin: context.origin,
  };

  return { actor, roles: roles ?? new Map() };
}
