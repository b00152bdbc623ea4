import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUserScope } from '../../src/db/rls.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { canGrantRole, hasAtLeast, roleRanks, workspaceRoles } from '../../src/rbac/roles.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { insertUser, insertWorkspace } from './fixtures.js';

describe('role list', () => {
  it('ranks roles in list order', () => {
    expect(workspaceRoles).toEqual(['viewer', 'editor', 'admin', 'owner']);
    expect(Object.entries(roleRanks)).toEqual([
      ['viewer', 1],
      ['editor', 2],
      ['admin', 3],
      ['owner', 4],
    ]);
  });
});

describe.each(backends)('SQL role functions on %s', (backend) => {
  let gatehouse: TestGatehouse;
  let prisma: PrismaClient;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend, redis: false });
    prisma = gatehouse.app.services.prisma;
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('ranks every enum value as roles.ts does', async () => {
    const rows = await prisma.$queryRaw<{ role: string; rank: number }[]>`
      SELECT r::text AS role, workspace_role_rank(r::text) AS rank
      FROM unnest(enum_range(NULL::"WorkspaceRole")) AS r`;
    expect(Object.fromEntries(rows.map((row) => [row.role, row.rank]))).toEqual(roleRanks);
    const [unknown] = await prisma.$queryRaw<{ rank: number | null }[]>`SELECT workspace_role_rank('member') AS rank`;
    expect(unknown?.rank).toBeNull();
  });

  it('grants and checks roles as roles.ts does', async () => {
    const creator = await insertUser(prisma, 'ranks');
    const workspaceId = await insertWorkspace(prisma, creator.id);
    for (const held of workspaceRoles) {
      const user = await insertUser(prisma, held);
      await prisma.workspaceMember.create({ data: { workspaceId, userId: user.id, role: held } });
      for (const target of workspaceRoles) {
        const [row] = await withUserScope(prisma, { userId: user.id, isPlatformAdmin: false }, (tx) =>
          tx.$queryRaw<{ grant: boolean; has: boolean }[]>`
            SELECT can_grant_workspace_role(${workspaceId}::uuid, ${target}) AS grant,
              has_workspace_role(${workspaceId}::uuid, ${target}) AS has`,
        );
        expect({ held, target, grant: row?.grant }).toEqual({
          held,
          target,
          grant: canGrantRole({ role: held, isPlatformAdmin: false }, target),
        });
        expect({ held, target, has: row?.has }).toEqual({ held, target, has: hasAtLeast(held, target) });
      }
    }
  });
});
