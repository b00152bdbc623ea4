import { randomBytes, randomUUID } from 'node:crypto';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { withUserScope } from '../../src/db/rls.js';
import { applyMigrations } from '../../src/db/schema-engine.js';
import { PrismaClient } from '../../src/generated/prisma/client.js';
import { insertUser, insertWorkspace } from './fixtures.js';

/**
 * Managed PostgreSQL services rarely hand out superusers. Here a plain role with CREATEROLE owns
 * the database, applies the migrations and serves queries, so FORCE ROW LEVEL SECURITY applies to
 * it as table owner, and the SECURITY DEFINER lookups must still not recurse into the policies.
 * PGlite always runs as a superuser, so this case exists on PostgreSQL only.
 */
describe('row-level security with a non-superuser owner', () => {
  const suffix = randomBytes(4).toString('hex');
  const owner = `gh_owner_${suffix}`;
  const database = `test_owner_${suffix}`;
  let admin: pg.Client;
  let prisma: PrismaClient;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: inject('postgresAdminUrl') });
    await admin.connect();
    await admin.query(`CREATE ROLE ${owner} LOGIN NOSUPERUSER NOBYPASSRLS CREATEROLE`);
    // The role exists from earlier migrations on this server, so only an admin can grant it.
    await admin.query(`GRANT gatehouse_rls TO ${owner}`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${owner}`);
    const url = new URL(inject('postgresAdminUrl'));
    url.username = owner;
    url.pathname = `/${database}`;
    await applyMigrations(new PrismaPg({ connectionString: url.toString(), max: 1 }));
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url.toString(), max: 3 }) });
  });
  afterAll(async () => {
    await prisma?.$disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP OWNED BY ${owner}`).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${owner}`);
    await admin.end();
  });

  it('scopes reads and writes without recursing', async () => {
    const userA = (await insertUser(prisma, 'owner-a')).id;
    const userB = (await insertUser(prisma, 'owner-b')).id;
    const workspaceA = await insertWorkspace(prisma, userA, 'A');
    const workspaceB = await insertWorkspace(prisma, userB, 'B');
    const seen = await withUserScope(prisma, { userId: userA, isPlatformAdmin: false }, (tx) =>
      tx.workspaceMember.findMany({ select: { workspaceId: true, role: true } }),
    );
    expect(seen).toEqual([{ workspaceId: workspaceA, role: 'owner' }]);
    const renamed = await withUserScope(prisma, { userId: userA, isPlatformAdmin: false }, (tx) =>
      tx.$executeRaw`UPDATE workspaces SET name = 'taken' WHERE id = ${workspaceB}::uuid`,
    );
    expect(renamed).toBe(0);
  });

  it('shows the owner nothing outside a scope', async () => {
    const userId = (await insertUser(prisma, 'owner-c')).id;
    await insertWorkspace(prisma, userId, 'C');
    expect(await prisma.workspace.count()).toBe(0);
    const insert = prisma.workspace.createMany({
      data: [{ id: randomUUID(), slug: `c-${suffix}`, name: 'unscoped', createdById: userId }],
    });
    await expect(insert).rejects.toThrow();
  });
});
