import { isPlatformAdmin } from '../auth/platform-admin.js';
import type { GatehouseContext } from '../context.js';
import { withUserScope } from '../db/rls.js';
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
 * Loads the caller's user row and all their memberships once per request, on first use, and
 * shares them with every field and scope check of that request. Null without a caller.
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
  const { prisma } = context.services;
  const { logger } = context.services.rbac;
  const [platformAdmin, memberships] = await Promise.all([
    isPlatformAdmin(context),
    withUserScope(prisma, { userId: identity.userId, isPlatformAdmin: false }, (tx) =>
      tx.workspaceMember.findMany({ where: { userId: identity.userId }, select: { workspaceId: true, role: true } }),
    ),
  ]);
  logger.debug({ userId: identity.userId, memberships: memberships.length }, 'caller memberships loaded');
  const actor: Actor = {
    userId: identity.userId,
    sessionId: identity.sessionId,
    isPlatformAdmin: platformAdmin,
    origin: context.origin,
  };

  return { actor, roles: new Map(memberships.map((member) => [member.workspaceId, member.role])) };
}
