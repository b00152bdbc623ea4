import { expect } from 'vitest';
import { CreateWorkspaceDocument, AddMemberDocument } from '../generated/graphql.js';
import type { GraphQLResponse, TestGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

export type Member = Awaited<ReturnType<typeof registerUser>>;

/** Registers a user; platformAdmin sets the flag directly in the database. */
export async function newUser(gatehouse: TestGatehouse, options: { platformAdmin?: boolean } = {}): Promise<Member> {
  const user = await registerUser(gatehouse);
  if (options.platformAdmin) {
    await gatehouse.app.services.prisma.user.update({ where: { id: user.user.id }, data: { isPlatformAdmin: true } });
  }

  return user;
}

export async function createWorkspace(gatehouse: TestGatehouse, owner: Member, name = 'Team') {
  const response = await gatehouse.op(CreateWorkspaceDocument, { input: { name } }, { token: owner.accessToken });
  const workspace = response.body.data?.createWorkspace;
  if (!workspace) throw new Error(`createWorkspace failed: ${JSON.stringify(response.body.errors)}`);

  return workspace;
}

/** Adds `member` with `role` as `by` and returns the membership id. */
export async function addMember(
  gatehouse: TestGatehouse,
  by: Member,
  workspaceId: string,
  member: Member,
  role: 'VIEWER' | 'EDITOR' | 'ADMIN' | 'OWNER',
) {
  const response = await gatehouse.op(
    AddMemberDocument,
    { workspaceId, email: member.email, role },
    { token: by.accessToken },
  );
  const added = response.body.data?.addMember;
  if (!added) throw new Error(`addMember failed: ${JSON.stringify(response.body.errors)}`);

  return added.id;
}

/** Asserts one error with this code at this path, and returns it. */
export function expectError(response: GraphQLResponse<unknown>, code: string, path: (string | number)[]) {
  expect(response.body.errors?.map((error) => error.extensions?.code)).toEqual([code]);
  expect(response.body.errors?.[0]?.path).toEqual(path);

  return response.body.errors![0]!;
}

/** Returns the audit actions recorded for a workspace, oldest first. */
export async function workspaceActions(gatehouse: TestGatehouse, workspaceId: string) {
  const events = await gatehouse.app.services.prisma.auditLog.findMany({
    where: { workspaceId },
    orderBy: { id: 'asc' },
  });

  return events.map((event) => event.action);
}
