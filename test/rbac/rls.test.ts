import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withUserScope } from '../../src/db/rls.js';
import type { PrismaClient } from '../../src/generated/prisma/client.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { insertUser, insertWorkspace } from './fixtures.js';

const slow = { maxWait: 120_000, timeout: 120_000 };

describe.each(backends)('row-level security on %s', (backend) => {
  let gatehouse: TestGatehouse;
  let prisma: PrismaClient;
  let userA: string;
  let userB: string;
  let workspaceA: string;
  let workspaceB: string;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend, env: { DATABASE_POOL_SIZE: '5' } });
    prisma = gatehouse.app.services.prisma;
    userA = (await insertUser(prisma, 'rls-a')).id;
    userB = (await insertUser(prisma, 'rls-b')).id;
    workspaceA = await insertWorkspace(prisma, userA, 'A');
    workspaceB = await insertWorkspace(prisma, userB, 'B');
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const asA = <T>(fn: Parameters<typeof withUserScope<T>>[2]) =>
    withUserScope(prisma, { userId: userA, isPlatformAdmin: false }, fn);

  it('hides the rows of a foreign workspace from raw SQL', async () => {
    const seen = await asA((tx) => tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM workspaces`);
    expect(seen.map((row) => row.id)).toEqual([workspaceA]);
    const foreign = await asA((tx) => tx.$queryRaw<unknown[]>`SELECT * FROM workspaces WHERE id = ${workspaceB}::uuid`);
    expect(foreign).toEqual([]);
    const members = await asA(
      (tx) => tx.$queryRaw<unknown[]>`SELECT * FROM workspace_members WHERE workspace_id = ${workspaceB}::uuid`,
    );
    expect(members).toEqual([]);
  });

  it('changes no row of a foreign workspace', async () => {
    const renamed = await asA((tx) => tx.$executeRaw`UPDATE workspaces SET name = 'taken' WHERE id = ${workspaceB}::uuid`);
    expect(renamed).toBe(0);
    const promoted = await asA(
      (tx) => tx.$executeRaw`UPDATE workspace_members SET role = 'viewer' WHERE workspace_id = ${workspaceB}::uuid`,
    );
    expect(promoted).toBe(0);
    const removedMembers = await asA(
      (tx) => tx.$executeRaw`DELETE FROM workspace_members WHERE workspace_id = ${workspaceB}::uuid`,
    );
    expect(removedMembers).toBe(0);
    const removed = await asA((tx) => tx.$executeRaw`DELETE FROM workspaces WHERE id = ${workspaceB}::uuid`);
    expect(removed).toBe(0);
    const intact = await prisma.workspace.findUnique({ where: { id: workspaceB } });
    expect(intact?.name).toBe('B');
  });

  it('rejects inserting a member into a foreign workspace', async () => {
    const insert = asA(
      (tx) => tx.$executeRaw`INSERT INTO workspace_members (id, workspace_id, user_id, role, updated_at)
        VALUES (gen_random_uuid(), ${workspaceB}::uuid, ${userA}::uuid, 'owner', now())`,
    );
    await expect(insert).rejects.toThrow(/row-level security/);
    const count = await prisma.workspaceMember.count({ where: { workspaceId: workspaceB } });
    expect(count).toBe(1);
  });

  it('rejects a workspace created in the name of someone else', async () => {
    const insert = asA(
      (tx) => tx.$executeRaw`INSERT INTO workspaces (id, slug, name, created_by, updated_at)
        VALUES (gen_random_uuid(), 'stolen-slug', 'stolen', ${userB}::uuid, now())`,
    );
    await expect(insert).rejects.toThrow(/row-level security/);
  });

  it('keeps the last owner even for raw SQL', async () => {
    const demote = asA(
      (tx) => tx.$executeRaw`UPDATE workspace_members SET role = 'admin' WHERE workspace_id = ${workspaceA}::uuid`,
    );
    await expect(demote).rejects.toThrow(/at least one owner/);
    const leave = asA((tx) => tx.$executeRaw`DELETE FROM workspace_members WHERE user_id = ${userA}::uuid`);
    await expect(leave).rejects.toThrow(/at least one owner/);
    const owners = await prisma.workspaceMember.findMany({ where: { workspaceId: workspaceA } });
    expect(owners.map((member) => member.role)).toEqual(['owner']);
  });

  it('shows platform admins every workspace', async () => {
    const seen = await withUserScope(prisma, { userId: userA, isPlatformAdmin: true }, (tx) =>
      tx.$queryRaw<{ id: string }[]>`SELECT id::text FROM workspaces WHERE id IN (${workspaceA}::uuid, ${workspaceB}::uuid)`,
    );
    expect(seen.map((row) => row.id).sort()).toEqual([workspaceA, workspaceB].sort());
  });

  it('does not let the scoped role read password hashes', async () => {
    const read = asA((tx) => tx.$queryRaw`SELECT password_hash FROM users`);
    await expect(read).rejects.toThrow(/permission denied/);
  });

  it('keeps scopes apart across 200 concurrent transactions', async () => {
    const expected = new Map([
      [userA, workspaceA],
      [userB, workspaceB],
    ]);
    for (let i = 0; i < 6; i++) {
      const userId = (await insertUser(prisma, `pool-${i}`)).id;
      expected.set(userId, await insertWorkspace(prisma, userId, `Pool ${i}`));
    }
    const users = [...expected.keys()];
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) => {
        const userId = users[index % users.length]!;
        return withUserScope(
          prisma,
          { userId, isPlatformAdmin: false },
          (tx) => tx.$queryRaw<{ uid: string; role: string; ids: string[] }[]>`
            SELECT current_setting('gatehouse.user_id') AS uid, current_user::text AS role,
              coalesce((SELECT array_agg(id::text) FROM workspaces), '{}') AS ids`,
          slow,
        ).then(([row]) => ({ userId, row }));
      }),
    );
    for (const { userId, row } of results) {
      expect(row?.uid).toBe(userId);
      expect(row?.role).toBe('gatehouse_rls');
      expect(row?.ids).toEqual([expected.get(userId)]);
    }

    // Every pooled connection, once released, is back to the connecting user with no caller id.
    const after = await Promise.all(
      Array.from({ length: 10 }, () =>
        prisma.$queryRaw<{ uid: string | null; role: string }[]>`
          SELECT current_setting('gatehouse.user_id', true) AS uid, current_user::text AS role,
            pg_sleep(0.05)::text AS pause`,
      ),
    );
    for (const [row] of after) {
      expect(row?.uid ?? '').toBe('');
      expect(row?.role).not.toBe('gatehouse_rls');
    }
  });
});
