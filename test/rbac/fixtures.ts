import { randomUUID } from 'node:crypto';
import { withUserScope } from '../../src/db/rls.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { uniqueEmail } from '../support/users.js';

/** Inserts a user row directly, for tests that never sign in with it. */
export async function insertUser(prisma: PrismaClient, prefix = 'rls') {
  return prisma.user.create({
    data: { email: uniqueEmail(prefix), passwordHash: 'not-a-hash', displayName: prefix },
  });
}

/** Creates a workspace as `userId`, who becomes its owner through the creator trigger. */
export async function insertWorkspace(prisma: PrismaClient, userId: string, name = 'Workspace') {
  const id = randomUUID();
  await withUserScope(prisma, { userId, isPlatformAdmin: false }, (tx) =>
    tx.workspace.createMany({ data: [{ id, name, slug: `ws-${id.slice(0, 8)}`, createdById: userId }] }),
  );

  return id;
}
