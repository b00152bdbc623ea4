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

/** Starts src/main.ts on `databaseUrl` with the key file `file`, and collects its JSON log lines. */
function startMain(dir: string, databaseUrl: string, file: string) {
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dir,
      DATABASE_URL: databaseUrl,
      BCRYPT_COST: '4',
      JWT_PRIVATE_JWKS_FILE: file,
      // The timer would take an hour, so only SIGHUP can apply the change in these tests.
      JWT_KEYS_RELOAD_SECONDS: '3600',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  server.stdout?.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop() ?? '';
    for (const line of complete) if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));

  return { server, lines, exited };
}

/** Returns the `kid`s that GET /.well-known/jwks.json of the server on `port` publishes. */
async function publishedKids(port: number): Promise<(string | undefined)[]> {
  const response = await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`);

  return ((await response.json()) as { keys: JWK[] }).keys.map((key) => key.kid);
}

/** Reads the published `kid`s until they include `kid`, at most 100 times over about 10 s. */
async function waitForPublishedKid(port: number, kid: string): Promise<(string | undefined)[]> {
  let published: (string | undefined)[] = [];
  for (let attempt = 0; attempt < 100 && !published.includes(kid); attempt++) {
    if (attempt > 0) await sleep(100);
    published = await publishedKids(port);
  }

  return published;
}

/** Sends SIGTERM and returns the exit code. */
async function stopGracefully(server: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  server.kill('SIGTERM');

  return exited;
}

/** Kills a server that a failed test left running, then drops its database. */
async function cleanUp(server: ChildProcess, database: { drop(): Promise<void> }): Promise<void> {
  if (server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
  await database.drop();
}

describe('key reload on SIGHUP', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-sighup-'));
  let child: ChildProcess | undefined;
  afterAll(() => {
    // A server left running by a failed test would keep the worker's port and database.
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  /** Writes a key file of one new key, then starts main on a new database with it. */
  const startWithKeyFile = async (name: string) => {
    const database = await createTestDatabase();
    const file = path.join(dir, name);
    const original = await generateSigningJwk();
    writeFileSync(file, JSON.stringify({ keys: [original] }), { mode: 0o600 });
    const started = startMain(dir, database.url, file);
    child = started.server;

    return { database, file, original, ...started };
  };

  it('SIGHUP reloads the key file of main', { timeout: 90_000 }, async () => {
    const { database, file, original, server, lines, exited } = await startWithKeyFile('keys.json');
    try {
      const listening = await waitForLine(server, lines, (line) => line.msg === 'listening');
      expect(listening?.port).toBeTypeOf('number');
      expect(await publishedKids(listening!.port as number)).toEqual([original.kid]);

      const rotation = await rotateKeyFile(file, 1800, Date.now(), 0);
      server.kill('SIGHUP');
      const published = await waitForPublishedKid(listening!.port as number, rotation.signingKid);
      expect(published).toEqual([rotation.signingKid, original.kid]);
      // Closing the app stops the reloader, and the process still exits with code 0.
      expect(await stopGracefully(server, exited)).toBe(0);
    } finally {
      await cleanUp(server, database);
    }
  });

  it('SIGHUP during start-up reloads after it', { timeout: 90_000 }, async () => {
    const { database, file, original, server, lines, exited } = await startWithKeyFile('keys-early.json');
    try {
      // The signal arrives while the app opens its database, before the key reloader exists.
      expect(await waitForLine(server, lines, (line) => line.msg === 'starting')).toBeDefined();
      const rotation = await rotateKeyFile(file, 1800, Date.now(), 0);
      server.kill('SIGHUP');
      const listening = await waitForLine(server, lines, (line) => line.msg === 'listening');
      expect(listening?.port).toBeTypeOf('number');
      expect(server.exitCode).toBeNull();
      expect(await waitForPublishedKid(listening!.port as number, rotation.signingKid)).toEqual([
        rotation.signingKid,
        original.kid,
      ]);
      expect(await stopGracefully(server, exited)).toBe(0);
    } finally {
      await cleanUp(server, database);
    }
  });
});
