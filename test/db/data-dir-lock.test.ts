import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { afterAll, describe, expect, it } from 'vitest';
import { thisProcess } from '../../src/db/lock-owner.js';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { runCli } from '../support/cli.js';
import { startGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

const logger = createLogger('silent');
const openPglite = (dataDir: string) => openDatabase({ databaseUrl: undefined, poolSize: 1, dataDir }, logger);
const root = path.resolve(import.meta.dirname, '../..');

/** Opens the embedded database in a child process and resolves once it holds the lock. */
async function holdInChild(dataDir: string) {
  const script = `const { openDatabase } = await import('./src/db/database.ts');
const { createLogger } = await import('./src/logger.ts');
await openDatabase({ databaseUrl: undefined, poolSize: 1, dataDir: process.env.DATA_DIR }, createLogger('silent'));
process.stdout.write('holding\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('holding') && resolve());
    child.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
  });

  return child;
}

describe('embedded database lock', { timeout: 120_000 }, () => {
  const dirs: string[] = [];
  const newDataDir = () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-lock-'));
    dirs.push(dir);

    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('rejects the command line beside a running server', async () => {
    const dataDir = newDataDir();
    const env = { DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
    const gatehouse = await startGatehouse({ backend: 'pglite', redis: false, dataDir });
    let email: string;
    try {
      ({ email } = (await registerUser(gatehouse)).user);
      const beside = await runCli(['admin', 'grant', email], env);
      expect(beside.code).toBe(1);
      expect(beside.stderr).toContain('in use by another Gatehouse process');
    } finally {
      await gatehouse.close();
    }
    const after = await runCli(['admin', 'grant', email], env);
    expect(after.code).toBe(0);
  });

  it('rejects a second open in one process', async () => {
    const dataDir = newDataDir();
    const first = await openPglite(dataDir);
    try {
      await expect(openPglite(dataDir)).rejects.toThrow(/in use by another Gatehouse process/);
    } finally {
      await first.close();
    }
    const second = await openPglite(dataDir);
    await second.close();
  });

  it('takes over a killed local holder at once', async () => {
    const dataDir = newDataDir();
    const holder = await holdInChild(dataDir);
    await expect(openPglite(dataDir)).rejects.toThrow(/in use by another Gatehouse process/);
    const exited = new Promise((resolve) => holder.once('exit', resolve));
    holder.kill('SIGKILL');
    await exited;
    expect(existsSync(path.join(dataDir, 'pgdata.lock'))).toBe(true);
    const db = await openPglite(dataDir);
    await db.close();
    expect(existsSync(path.join(dataDir, 'pgdata.lock-owner'))).toBe(false);
  });

  it('keeps a fresh lock of a remote holder', async () => {
    const dataDir = newDataDir();
    mkdirSync(path.join(dataDir, 'pgdata.lock'), { recursive: true });
    const elsewhere = { pid: 999_999_999, host: 'another-host', bootId: null, pidNamespace: null };
    writeFileSync(path.join(dataDir, 'pgdata.lock-owner'), JSON.stringify(elsewhere));
    await expect(openPglite(dataDir)).rejects.toThrow(/in use by another Gatehouse process/);
  });

  it('keeps a new lock beside a stopped owner file', async () => {
    const dataDir = newDataDir();
    const folder = path.join(dataDir, 'pgdata');
    // A process that has just taken over a stale lock and not yet written its owner file.
    const releaseNewLock = await lockfile.lock(folder, { realpath: false });
    try {
      const stoppedLocally = { ...thisProcess(), pid: 999_999_999 };
      writeFileSync(`${folder}.lock-owner`, JSON.stringify(stoppedLocally));
      const outcome = await openPglite(dataDir).then(
        async (db) => {
          await db.close();
          return 'opened';
        },
        (error: unknown) => (error as Error).message,
      );
      expect(outcome).toMatch(/in use by another Gatehouse process/);
      expect(existsSync(`${folder}.lock`)).toBe(true);
    } finally {
      await releaseNewLock().catch(() => undefined);
    }
  });

  it('takes over a stale lock', async () => {
    const dataDir = newDataDir();
    const lock = path.join(dataDir, 'pgdata.lock');
    mkdirSync(lock, { recursive: true });
    const longAgo = new Date(Date.now() - 5 * 60_000);
    utimesSync(lock, longAgo, longAgo);
    const db = await openPglite(dataDir);
    expect(existsSync(lock)).toBe(true);
    await db.close();
    expect(existsSync(lock)).toBe(false);
  });
});
