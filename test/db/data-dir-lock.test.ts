import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { createLogger } from '../../src/logger.js';
import { runCli } from '../support/cli.js';
import { startGatehouse } from '../support/gatehouse.js';
import { registerUser } from '../support/users.js';

const logger = createLogger('silent');
const openPglite = (dataDir: string) => openDatabase({ databaseUrl: undefined, poolSize: 1, dataDir }, logger);

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
