import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { createWorkspace, newUser, type Member } from './helpers.js';

// Each run starts Node with tsx and checks the migrations, a few seconds apiece.
describe.each(backends)('command line on %s', { timeout: 180_000 }, (backend) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-cli-'));
  let gatehouse: TestGatehouse;
  let env: Record<string, string>;
  let admin: Member;
  let alice: Member;
  let bob: Member;
  let workspace: { id: string; slug: string };

  /** PGlite allows one process at a time, so the server stops while the CLI runs. */
  async function pause() {
    if (backend === 'pglite') await gatehouse.close();
  }
  async function resume() {
    if (backend === 'pglite') gatehouse = await startGatehouse({ backend, dataDir });
  }

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend, dataDir });
    env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...(gatehouse.config.databaseUrl && { DATABASE_URL: gatehouse.config.databaseUrl }) };
    admin = await newUser(gatehouse);
    alice = await newUser(gatehouse);
    bob = await newUser(gatehouse);
    workspace = await createWorkspace(gatehouse, admin, 'Imported');
    await pause();
  });
  afterAll(async () => {
    if (backend === 'postgresql') await gatehouse?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('grants and revokes platform admin', async () => {
    const unknown = await runCli(['admin', 'grant', 'nobody-here@example.com'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nobody-here@example.com');
    // A command without the server's DATABASE_URL reads another database, so the message names it.
    expect(unknown.stderr).toContain(backend === 'postgresql' ? 'PostgreSQL at 127.0.0.1:' : `embedded database in ${dataDir}`);
    expect(unknown.stderr).not.toMatch(/postgres(ql)?:\/\//);
    const granted = await runCli(['admin', 'grant', alice.email.toUpperCase()], env);
    expect(granted.code).toBe(0);
    expect(granted.stdout).toContain(alice.user.id);
    const again = await runCli(['admin', 'grant', alice.email], env);
    expect(again.code).toBe(0);
    const grantedBob = await runCli(['admin', 'grant', bob.email], env);
    expect(grantedBob.code).toBe(0);
    const revoked = await runCli(['admin', 'revoke', bob.email], env);
    expect(revoked.code).toBe(0);
    const missing = await runCli(['admin', 'grant'], env);
    expect(missing.code).toBe(64);

    await resume();
    const prisma = gatehouse.app.services.prisma;
    const users = await prisma.user.findMany({ where: { id: { in: [alice.user.id, bob.user.id] } } });
    expect(Object.fromEntries(users.map((user) => [user.id, user.isPlatformAdmin]))).toEqual({
      [alice.user.id]: true,
      [bob.user.id]: false,
    });
    const events = await prisma.auditLog.findMany({
      where: { targetId: { in: [alice.user.id, bob.user.id] }, action: { startsWith: 'platform_admin.' } },
      orderBy: { id: 'asc' },
    });
    expect(events.map((event) => [event.action, event.targetId])).toEqual([
      ['platform_admin.granted', alice.user.id],
      ['platform_admin.granted', bob.user.id],
      ['platform_admin.revoked', bob.user.id],
    ]);
    await pause();
  });

  it('imports members idempotently with a dry run first', async () => {
    const csv = path.join(dataDir, 'members.csv');
    writeFileSync(
      csv,
      [
        'email,workspace,role',
        `${alice.email},${workspace.slug},member`,
        `"${bob.email}",${workspace.id},read`,
        `${bob.email},${workspace.slug},guest`,
        `nobody-at-all@example.com,${workspace.slug},read`,
        `${alice.email},no-such-workspace,read`,
        '',
      ].join('\r\n'),
    );
    const dryRun = await runCli(['import-members', csv, '--dry-run'], env);
    expect(dryRun.code).toBe(2);
    expect(dryRun.stdout).toContain('2 to add, 0 to change, 0 unchanged, 3 skipped');

    const applied = await runCli(['import-members', csv], env);
    expect(applied.code).toBe(2);
    expect(applied.stdout).toContain('2 added, 0 changed, 0 unchanged, 3 skipped');
    expect(applied.stdout).toContain('line 4: skipped');
    expect(applied.stdout).toContain('unknown role "guest"');
    expect(applied.stdout).toContain('unknown user');
    expect(applied.stdout).toContain('unknown workspace');

    const second = await runCli(['import-members', csv], env);
    expect(second.stdout).toContain('0 added, 0 changed, 2 unchanged, 3 skipped');

    const mapFile = path.join(dataDir, 'map.json');
    writeFileSync(mapFile, JSON.stringify({ member: 'admin', guest: 'viewer' }));
    const json = path.join(dataDir, 'members.json');
    writeFileSync(json, JSON.stringify([{ workspace: workspace.slug, email: alice.email, role: 'member' }]));
    const remapped = await runCli(['import-members', json, '--map', mapFile], env);
    expect(remapped.code).toBe(0);
    expect(remapped.stdout).toContain('0 added, 1 changed, 0 unchanged, 0 skipped');
    const badMap = path.join(dataDir, 'bad-map.json');
    writeFileSync(badMap, JSON.stringify({ member: 'superuser' }));
    const rejected = await runCli(['import-members', json, '--map', badMap], env);
    expect(rejected.code).toBe(1);

    await resume();
    const prisma = gatehouse.app.services.prisma;
    const members = await prisma.workspaceMember.findMany({ where: { workspaceId: workspace.id } });
    expect(Object.fromEntries(members.map((member) => [member.userId, member.role]))).toEqual({
      [admin.user.id]: 'owner',
      [alice.user.id]: 'admin',
      [bob.user.id]: 'viewer',
    });
    const events = await prisma.auditLog.findMany({ where: { workspaceId: workspace.id }, orderBy: { id: 'asc' } });
    expect(events.map((event) => event.action)).toEqual([
      'workspace.created',
      'role.granted',
      'role.granted',
      'role.changed',
    ]);
    await pause();
  });
});

describe('command line help', { timeout: 60_000 }, () => {
  it.each(['--help', '-h', 'help'])('%s prints the usage', async (flag) => {
    const result = await runCli([flag], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npm run gatehouse');
    expect(result.stderr).toBe('');
  });
});
