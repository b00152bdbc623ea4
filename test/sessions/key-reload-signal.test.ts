import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { rotateKeyFile } from '../../src/auth/key-rotation.js';
import { generateSigningJwk } from '../../src/auth/keys.js';
import { createTestDatabase } from '../support/gatehouse.js';

/** Resolves with the first stdout line of `child` that `match` accepts, or undefined when it exits first. */
function waitForLine(child: ChildProcess, lines: Record<string, unknown>[], match: (line: Record<string, unknown>) => boolean) {
  return new Promise<Record<string, unknown> | undefined>((resolve) => {
    const check = () => {
      const found = lines.find(match);
      if (found) resolve(found);
    };
    child.stdout?.on('data', check);
    child.once('exit', () => resolve(lines.find(match)));
    check();
  });
}

describe('key reload on SIGHUP', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sighup-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    // A server left running by a failed test would keep the worker's port and database.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('SIGHUP reloads the key file of main', { timeout: 90_000 }, async () => {
    const database = await createTestDatabase();
    const file = path.join(dir, 'keys.json');
    const original = await generateSigningJwk();
    writeFileSync(file, JSON.stringify({ keys: [original] }), { mode: 0o600 });
    child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        PORT: '0',
        DATA_DIR: dir,
        DATABASE_URL: database.url,
        BCRYPT_COST: '4',
        JWT_PRIVATE_JWKS_FILE: file,
        // The timer would take an hour, so only SIGHUP can apply the change in this test.
        JWT_KEYS_RELOAD_SECONDS: '3600',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = child;
    const lines: Record<string, unknown>[] = [];
    let partial = '';
    server.stdout?.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      const listening = await waitForLine(server, lines, (line) => line.msg === 'listening');
      expect(listening?.port).toBeTypeOf('number');
      const jwksUrl = `http://127.0.0.1:${listening!.port as number}/.well-known/jwks.json`;
      const kids = async () => ((await (await fetch(jwksUrl)).json()) as { keys: JWK[] }).keys.map((key) => key.kid);
      expect(await kids()).toEqual([original.kid]);

      const rotation = await rotateKeyFile(file, 1800, Date.now(), 0);
      server.kill('SIGHUP');
      let published: (string | undefined)[] = [];
      for (let attempt = 0; attempt < 100 && !published.includes(rotation.signingKid); attempt++) {
        if (attempt > 0) await sleep(100);
        published = await kids();
      }
      expect(published).toEqual([rotation.signingKid, original.kid]);

      // Closing the app stops the reloader, and the process still exits with code 0.
      server.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
      await database.drop();
    }
  });
});
