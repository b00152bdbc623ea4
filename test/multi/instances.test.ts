import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCleanup } from '../../src/auth/cleanup.js';
import { IdentityDocument, LogoutAllDocument } from '../generated/graphql.js';
import { boundedGql, codeOf } from '../faults/support.js';
import { allowRegistrations, limitedEnv, setRule } from '../rate-limit/support.js';
import { createTestDatabase, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { freePort } from '../support/processes.js';
import { loginUser, registerUser } from '../support/users.js';

const root = path.resolve(import.meta.dirname, '../..');
const sharedEnv = { ...limitedEnv, SESSION_CLEANUP_INTERVAL_SECONDS: '0' };

/** Starts `src/main.ts` as a child process and waits until it listens. */
async function startChild(env: Record<string, string>): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: String(port), BCRYPT_COST: '4', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  for (let attempt = 0; attempt < 600 && !output.includes('"msg":"listening"'); attempt++) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (!output.includes('"msg":"listening"')) {
    child.kill('SIGKILL');
    throw new Error(`gatehouse child did not start:\n${output}`);
  }

  return { child, url: `http://127.0.0.1:${port}` };
}

describe('three instances on one database and redis', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let first: TestGatehouse;
  let second: TestGatehouse;
  let third: { child: ChildProcess; url: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    first = await startGatehouse({ databaseUrl: database.url, env: sharedEnv });
    await allowRegistrations(first);
    await setRule(first, { operation: 'me', points: 3, failMode: 'closed' });
    // Every instance shares the signing key, as a deployment shares JWT_PRIVATE_JWKS.
    second = await startGatehouse({ databaseUrl: database.url, dataDir: first.config.dataDir, env: sharedEnv });
    third = await startChild({
      ...sharedEnv,
      DATABASE_URL: database.url,
      REDIS_URL: inject('redisUrl'),
      DATA_DIR: first.config.dataDir,
    });
  }, 90_000);
  afterAll(async () => {
    if (third && third.child.exitCode === null) {
      const exited = new Promise((resolve) => third.child.once('exit', resolve));
      third.child.kill('SIGTERM');
      await exited;
    }
    await second?.close();
    await first?.close();
    await database?.drop();
  });

  it('shares one quota', async () => {
    const user = await registerUser(first);
    const me = (url: string) => boundedGql(url, { query: '{ me { id } }', token: user.accessToken });
    const statuses = [];
    for (const url of [first.url, second.url, third.url, first.url, second.url, third.url]) {
      statuses.push((await me(url)).status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
  });

  it('revocation reaches every instance', async () => {
    const user = await registerUser(first);
    const other = await loginUser(first, user.email);
    for (const url of [first.url, second.url, third.url]) {
      const identity = await boundedGql(url, { query: '{ identity { sessionId } }', token: other.accessToken });
      expect((identity.body.data?.identity as { sessionId: string }).sessionId).toBe(other.session.id);
    }
    const loggedOut = await boundedGql(third.url, { query: 'mutation { logoutAll }', token: user.accessToken });
    expect(loggedOut.body.data?.logoutAll).toBe(2);
    for (const url of [first.url, second.url, third.url]) {
      expect(codeOf(await boundedGql(url, { query: '{ identity { sessionId } }', token: other.accessToken }))).toBe(
        'UNAUTHENTICATED',
      );
    }
    expect(codeOf(await second.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
    expect(codeOf(await first.op(LogoutAllDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
  });

  it('concurrent clean-ups delete each row once', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => registerUser(first)));
    const sessionIds = users.map((user) => user.session.id);
    const prisma = first.app.services.prisma;
    await prisma.$executeRaw`
      UPDATE sessions SET expires_at = now() - interval '8 days' WHERE id = ANY(${sessionIds}::uuid[])`;
    await prisma.$executeRaw`
      UPDATE refresh_tokens SET expires_at = now() - interval '8 days' WHERE session_id = ANY(${sessionIds}::uuid[])`;

    // A row lock held elsewhere keeps the first run inside its transaction, holding the advisory
    // lock, so the second run starts while the first is still deleting.
    const holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    const options = { retentionSeconds: 7 * 86_400, batchSize: 1 };
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [sessionIds[0]]);
      const running = runCleanup(first.app.services.prisma, options);
      let locked = false;
      for (let attempt = 0; attempt < 100 && !locked; attempt++) {
        const { rows } = await holder.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM pg_locks l JOIN pg_database d ON d.oid = l.database
           WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()`,
        );
        locked = (rows[0]?.count ?? 0) > 0;
        if (!locked) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(locked).toBe(true);
      // Each instance has its own connection pool, as two machines would.
      const secondRun = await runCleanup(second.app.services.prisma, options);
      expect(secondRun).toEqual({ skipped: true, refreshTokens: 0, sessions: 0 });
      await holder.query('COMMIT');
      const firstRun = await running;
      expect(firstRun).toEqual({ skipped: false, refreshTokens: 6, sessions: 6 });
    } finally {
      await holder.end();
    }
    expect(await prisma.session.count({ where: { id: { in: sessionIds } } })).toBe(0);
  });
});
