import { randomUUID } from 'node:crypto';
import { auditActions } from '../audit/audit-log.js';
import { withUserScope, type ScopedClient } from '../db/rls.js';
import { badUserInputError, forbiddenError } from '../errors.js';
import { Prisma, type PrismaClient, type Workspace } from '../generated/prisma/client.js';
import type { Actor } from './actor.js';
import { workspaceNotFoundError } from './errors.js';
import { hasAtLeast } from './roles.js';
import { parseSlug, parseWorkspaceName, slugFromName } from './slug.js';
import { isUuid, openWorkspace } from './workspace-access.js';
import { recordWorkspaceEvent } from './workspace-audit.js';

export interface WorkspaceInput {
  name?: string | null;
  slug?: string | null;
}

/** Creates, reads, renames and deletes workspaces, each in a transaction scoped to the actor. */
export class WorkspaceService {
  constructor(private readonly prisma: PrismaClient) {}

  /** Lists the workspaces the actor is a member of, by name. Platform admins also get only their own. */
  async listMine(actor: Actor): Promise<Workspace[]> {
    const userId = actor.userId;
    if (!userId) return [];

    return this.scoped(actor, (tx) =>
      tx.workspace.findMany({
        where: { members: { some: { userId } } },
        orderBy: [{ name: 'asc' }, { id: 'asc' }],
      }),
    );
  }

  /** Returns one workspace the actor may see, or raises NOT_FOUND. */
  async get(actor: Actor, workspaceId: string): Promise<Workspace> {
    if (!isUuid(workspaceId)) throw workspaceNotFoundError();
    const workspace = await this.scoped(actor, (tx) => tx.workspace.findUnique({ where: { id: workspaceId } }));
    if (!workspace) throw workspaceNotFoundError();

    return workspace;
  }

  /** Creates a workspace whose first owner is the actor, through the creator trigger. */
  async create(actor: Actor, input: WorkspaceInput): Promise<Workspace> {
    if (!actor.userId) throw forbiddenError();
    const name = parseWorkspaceName(input.name ?? '');
    const slug = input.slug == null ? slugFromName(name) : parseSlug(input.slug);
    const id = randomUUID();

    return this.scoped(actor, async (tx) => {
      // No RETURNING: the new row is visible to its creator only after the trigger adds them.
      await uniqueSlug(tx.workspace.createMany({ data: [{ id, name, slug, createdById: actor.userId }] }));
      await recordWorkspaceEvent(tx, actor, auditActions.workspaceCreated, id, id, { name, slug });

      return tx.workspace.findUniqueOrThrow({ where: { id } });
    });
  }

  /** Renames a workspace or changes its slug, for admins and up. An input with neither field raises BAD_USER_INPUT. */
  update(actor: Actor, workspaceId: string, input: WorkspaceInput): Promise<Workspace> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      if (!actor.isPlatformAdmin && !hasAtLeast(standing.role, 'admin')) throw forbiddenError();
      if (input.name == null && input.slug == null) {
        throw badUserInputError('input', 'Input must set name, slug or both.');
      }
      const data = {
        ...(input.name != null && { name: parseWorkspaceName(input.name) }),
        ...(input.slug != null && { slug: parseSlug(input.slug) }),
      };
      const workspace = await uniqueSlug(tx.workspace.update({ where: { id: workspaceId }, data }));
      await recordWorkspaceEvent(tx, actor, auditActions.workspaceUpdated, workspaceId, workspaceId, data);

      return workspace;
    });
  }

  /** Deletes a workspace and its memberships; owners and platform admins only. */
  delete(actor: Actor, workspaceId: string): Promise<void> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      if (!actor.isPlatformAdmin && standing.role !== 'owner') throw forbiddenError();
      const workspace = await tx.workspace.findUniqueOrThrow({ where: { id: workspaceId } });
      await recordWorkspaceEvent(tx, actor, auditActions.workspaceDeleted, workspaceId, workspaceId, {
        name: workspace.name,
        slug: workspace.slug,
      });
      await tx.workspace.delete({ where: { id: workspaceId } });
    });
  }

  private scoped<T>(actor: Actor, fn: (tx: ScopedClient) => Promise<T>): Promise<T> {
    return withUserScope(this.prisma, actor, fn);
  }
}

/** Turns a unique-slug violation into BAD_USER_INPUT on the slug field. */
async function uniqueSlug<T>(operation: Promise<T>): Promise<T> {
  try {
    return await operation;
  } catch (error) {
    if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002') {
      throw badUserInputError('slug', 'This slug is taken: choose another.');
    }
    throw error;
  }
}
