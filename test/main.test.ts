import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startPostgres } from './support/processes.js';

const root = path.resolve(import.meta.dirname, '..');
const children: ChildProcess[] = [];
const folders: string[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

function startMain(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const waitFor = async (text: string, timeoutMs = 40_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!stdout.includes(text)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no "${text}" in output:\n${stdout}${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  return { child, exited, waitFor, output: () => ({ stdout, stderr }) };
}

describe('gatehouse process', () => {
  it('stops with one line naming an invalid variable', async () => {
    const main = startMain({ PORT: 'eighty' });
    expect(await main.exited).toBe(78);
    const { stderr } = main.output();
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/PORT/);
  });

  it('stops with one log line when the port is taken', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-main-'));
    folders.push(dataDir);
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const address = holder.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const main = startMain({ DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1' });
      expect(await main.exited).toBe(1);
      const { stdout, stderr } = main.output();
      const failure = stdout.split('\n').find((line) => line.includes('"msg":"listening failed"'));
      expect(failure).toContain('"code":"EADDRINUSE"');
      expect(stderr).toBe('');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });

  it('starts on the embedded defaults and finishes in-flight requests on SIGTERM', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-main-'));
    folders.push(dataDir);
    const port = await freePort();
    const main = startMain({ DATA_DIR: dataDir, PORT: String(port), BCRYPT_COST: '12' });
    await main.waitFor('"msg":"listening"');
    const warnings = main.output().stdout.split('\n').filter((line) => line.includes('single-instance mode'));
    expect(warnings).toHaveLength(1);

    // bcrypt at cost 12 keeps this request in flight while the signal arrives.
    const inFlight = fetch(`http://127.0.0.1:${port}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        query: 'mutation { register(input: { email: "main@example.com", password: "a long password", displayName: "M" }) { accessToken } }',
      }),
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    main.child.kill('SIGTERM');
    const response = await inFlight;
    const body = (await response.json()) as { data?: { register?: { accessToken?: string } } };
    expect(response.status).toBe(200);
    expect(body.data?.register?.accessToken).toBeTypeOf('string');
    expect(await main.exited).toBe(0);
    expect(main.output().stdout).toContain('"msg":"stopped"');
  });

  it('waits for a database that starts late', async () => {
    const postgres = await startPostgres();
    try {
      postgres.pause();
      const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-main-'));
      folders.push(dataDir);
      const main = startMain({ DATA_DIR: dataDir, DATABASE_URL: postgres.url, PORT: String(await freePort()) });
      await main.waitFor('"msg":"database not reachable: retrying"');
      postgres.start();
      await main.waitFor('"msg":"listening"');
      expect(main.output().stdout).toContain('"msg":"database reachable"');
      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    } finally {
      await postgres.stop();
    }
  });

  it('logs one line when the database stays unreachable', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-main-'));
    folders.push(dataDir);
    const url = `postgresql://postgres@127.0.0.1:${await freePort()}/postgres`;
    const main = startMain({ DATA_DIR: dataDir, DATABASE_URL: url, DATABASE_WAIT_SECONDS: '0' });
    expect(await main.exited).toBe(1);
    const { stdout, stderr } = main.output();
    const failure = stdout.split('\n').filter((line) => line.includes('"msg":"start failed"'));
    expect(failure).toHaveLength(1);
    expect(failure[0]).toContain('ECONNREFUSED');
    expect(stderr).toBe('');
  });

  it('stops at once on a missing database', async () => {
    const postgres = await startPostgres();
    try {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-main-'));
      folders.push(dataDir);
      // The cluster trusts local connections, so the password is never checked, only carried.
      const url = postgres.url.replace('postgres@', 'postgres:not-logged-secret@').replace(/\/postgres$/, '/missing_db');
      const main = startMain({ DATA_DIR: dataDir, DATABASE_URL: url, DATABASE_WAIT_SECONDS: '600' });
      expect(await main.exited).toBe(1);
      const { stdout } = main.output();
      expect(stdout).not.toContain('database not reachable: retrying');
      const failure = stdout.split('\n').filter((line) => line.includes('"msg":"start failed"'));
      expect(failure).toHaveLength(1);
      expect(failure[0]).toContain('3D000');
      expect(stdout).not.toContain('not-logged-secret');
    } finally {
      await postgres.stop();
    }
  });

  it('reports the stop on /ready during the shutdown delay', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-main-'));
    folders.push(dataDir);
    const port = await freePort();
    const main = startMain({ DATA_DIR: dataDir, PORT: String(port), SHUTDOWN_DELAY_SECONDS: '60' });
    await main.waitFor('"msg":"listening"');
    const ready = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/ready`);
      return { status: response.status, body: (await response.json()) as { stopping?: boolean } };
    };
    expect((await ready()).status).toBe(200);

    main.child.kill('SIGTERM');
    await main.waitFor('"msg":"stopping: readiness unavailable, still serving"');
    const during = await ready();
    expect(during.status).toBe(503);
    expect(during.body.stopping).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);

    main.child.kill('SIGTERM');
    expect(await main.exited).toBe(0);
    expect(main.output().stdout).toContain('"msg":"stopped"');
  });
});
