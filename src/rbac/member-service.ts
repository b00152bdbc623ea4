import { auditActions } from '../audit/audit-log.js';
import { emailProblem, normalizeEmail } from '../auth/email.js';
import { withUserScope, type ScopedClient } from '../db/rls.js';
import { badUserInputError, forbiddenError } from '../errors.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Actor } from './actor.js';
import { addMemberEmailNotFoundError, alreadyMemberError, lastOwnerError, memberNotFoundError } from './errors.js';
import { listMembers, memberSelect, toMemberView, type MemberView } from './member-view.js';
import { canGrantRole, roleRanks, type WorkspaceRole } from './roles.js';
import { countOwners, isUuid, openWorkspace, type WorkspaceStanding } from './workspace-access.js';
import { recordWorkspaceEvent } from './workspace-audit.js';

/**
 * Adds, changes and removes workspace members. Each method locks the workspace's members, reads
 * the actor's current role inside the transaction and applies the rules:
 * - a member grants, changes or revokes only roles below their own, except that owners may do
 *   so for every role, and platform admins may do everything;
 * - nobody raises their own role;
 * - the last owner cannot leave, be removed or be demoted (LAST_OWNER).
 */
export class MemberService {
  constructor(private readonly prisma: PrismaClient) {}

  list(actor: Actor, workspaceId: string): Promise<MemberView[]> {
    return this.scoped(actor, async (tx) => {
      await openWorkspace(tx, actor, workspaceId);

      return listMembers(tx, workspaceId);
    });
  }

  /** Adds the account with this email. Unknown, invalid and disabled emails get one NOT_FOUND. */
  add(actor: Actor, workspaceId: string, email: string, role: WorkspaceRole): Promise<MemberView> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      assertCanGrant(actor, standing, role);
      const normalized = normalizeEmail(email);
      const user = emailProblem(normalized)
        ? null
        : await tx.user.findUnique({ where: { email: normalized }, select: { id: true, disabled: true } });
      if (!user || user.disabled) throw addMemberEmailNotFoundError();
      const existing = await tx.workspaceMember.findUnique({
        where: { workspaceId_userId: { workspaceId, userId: user.id } },
        select: { id: true },
      });
      if (existing) throw alreadyMemberError();
      const member = await tx.workspaceMember.create({ data: { workspaceId, userId: user.id, role }, select: memberSelect });
      await recordWorkspaceEvent(tx, actor, auditActions.roleGranted, workspaceId, user.id, { memberId: member.id, role });

      return toMemberView(member);
    });
  }

  /** Changes the role of a member of this workspace; a member id of another workspace is NOT_FOUND. */
  changeRole(actor: Actor, workspaceId: string, memberId: string, role: WorkspaceRole): Promise<MemberView> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      const target = await findMember(tx, workspaceId, memberId);
      const self = target.id === standing.memberId;
      if (self && !actor.isPlatformAdmin && roleRanks[role] > roleRanks[target.role]) throw forbiddenError();
      assertCanGrant(actor, standing, target.role);
      assertCanGrant(actor, standing, role);
      if (target.role === 'owner' && role !== 'owner') await assertAnotherOwner(tx, workspaceId);
      const member = await tx.workspaceMember.update({ where: { id: target.id }, data: { role }, select: memberSelect });
      if (target.role !== role) {
        await recordWorkspaceEvent(tx, actor, auditActions.roleChanged, workspaceId, target.userId, {
          memberId: target.id,
          from: target.role,
          to: role,
        });
      }

      return toMemberView(member);
    });
  }

  /** Removes a member of this workspace; removing oneself works like leaving. */
  remove(actor: Actor, workspaceId: string, memberId: string): Promise<void> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      const target = await findMember(tx, workspaceId, memberId);
      if (target.id !== standing.memberId) assertCanGrant(actor, standing, target.role);
      await revoke(tx, actor, target, target.id === standing.memberId ? 'left' : 'removed');
    });
  }

  /** Ends the actor's own membership. */
  leave(actor: Actor, workspaceId: string): Promise<void> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      if (!standing.memberId) throw memberNotFoundError();
      await revoke(tx, actor, await findMember(tx, workspaceId, standing.memberId), 'left');
    });
  }

  /**
   * Makes a member owner. An owner who transfers becomes admin, a platform admin stays as they
   * are. A transfer that would change nothing raises BAD_USER_INPUT: to oneself, or by a
   * platform admin to an owner.
   */
  transferOwnership(actor: Actor, workspaceId: string, memberId: string): Promise<MemberView> {
    return this.scoped(actor, async (tx) => {
      const standing = await openWorkspace(tx, actor, workspaceId);
      if (!actor.isPlatformAdmin && standing.role !== 'owner') throw forbiddenError();
      const target = await findMember(tx, workspaceId, memberId);
      const demoteSelf = standing.role === 'owner' && standing.memberId !== target.id;
      if (target.role === 'owner' && !demoteSelf) {
        throw badUserInputError('memberId', 'This member is an owner already: choose another member.');
      }
      const member = await tx.workspaceMember.update({
        where: { id: target.id },
        data: { role: 'owner' },
        select: memberSelect,
      });
      if (demoteSelf) await tx.workspaceMember.update({ where: { id: standing.memberId! }, data: { role: 'admin' } });
      await recordWorkspaceEvent(tx, actor, auditActions.ownershipTransferred, workspaceId, target.userId, {
        memberId: target.id,
        previousRole: target.role,
        previousOwnerMemberId: demoteSelf ? standing.memberId : null,
      });

      return toMemberView(member);
    });
  }

  private scoped<T>(actor: Actor, fn: (tx: ScopedClient) => Promise<T>): Promise<T> {
    return withUserScope(this.prisma, actor, fn);
  }
}

function assertCanGrant(actor: Actor, standing: WorkspaceStanding, role: WorkspaceRole): void {
  if (!canGrantRole({ role: standing.role, isPlatformAdmin: actor.isPlatformAdmin }, role)) throw forbiddenError();
}

async function findMember(tx: ScopedClient, workspaceId: string, memberId: string) {
  const member = isUuid(memberId)
    ? await tx.workspaceMember.findFirst({ where: { id: memberId, workspaceId } })
    : null;
  if (!member) throw memberNotFoundError();

  return member;
}

async function assertAnotherOwner(tx: ScopedClient, workspaceId: string): Promise<void> {
  if ((await countOwners(tx, workspaceId)) < 2) throw lastOwnerError();
}

async function revoke(
  tx: ScopedClient,
  actor: Actor,
  target: { id: string; workspaceId: string; userId: string; role: WorkspaceRole },
  reason: 'left' | 'removed',
): Promise<void> {
  if (target.role === 'owner') await assertAnotherOwner(tx, target.workspaceId);
  await tx.workspaceMember.delete({ where: { id: target.id } });
  await recordWorkspaceEvent(tx, actor, auditActions.roleRevoked, target.workspaceId, target.userId, {
    memberId: target.id,
    role: target.role,
    reason,
  });
}
