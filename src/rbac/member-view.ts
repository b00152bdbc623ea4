import type { ScopedClient } from '../db/rls.js';
import { roleRanks, type WorkspaceRole } from './roles.js';

/** A membership with the member's public account fields. */
export interface MemberView {
  id: string;
  workspaceId: string;
  userId: string;
  role: WorkspaceRole;
  email: string;
  displayName: string;
  createdAt: Date;
}

/** Only columns the row-level-security role may read from users. */
export const memberSelect = {
  id: true,
  workspaceId: true,
  userId: true,
  role: true,
  createdAt: true,
  user: { select: { email: true, displayName: true } },
} as const;

type SelectedMember = {
  id: string;
  workspaceId: string;
  userId: string;
  role: WorkspaceRole;
  createdAt: Date;
  user: { email: string; displayName: string };
};

export function toMemberView(member: SelectedMember): MemberView {
  const { user, ...rest } = member;

  return { ...rest, email: user.email, displayName: user.displayName };
}

/** Lists the members of a workspace, owners first, then by email. */
export async function listMembers(tx: ScopedClient, workspaceId: string): Promise<MemberView[]> {
  const members = await tx.workspaceMember.findMany({ where: { workspaceId }, select: memberSelect });

  return members
    .map(toMemberView)
    .sort((a, b) => roleRanks[b.role] - roleRanks[a.role] || a.email.localeCompare(b.email));
}
