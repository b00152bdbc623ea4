import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Asks the OS for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

const isRoot = process.getuid?.() === 0;

function postgresBinary(name: string): string {
  for (const dir of ['/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin', '/usr/local/bin', '/usr/bin']) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`${name} not found: install PostgreSQL (apt-get install -y postgresql) or set TEST_DATABASE_URL.`);
}

/** Runs a PostgreSQL tool, as the `postgres` user when the tests run as root (initdb refuses root). */
function runPostgresTool(name: string, args: string[]): void {
  const binary = postgresBinary(name);
  const [command, commandArgs] = isRoot
    ? ['runuser', ['-u', 'postgres', '--', binary, ...args]]
    : [binary, args];
  execFileSync(command, commandArgs, { stdio: 'pipe' });
}

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** Starts a throwaway PostgreSQL cluster on 127.0.0.1 with its own folder and socket folder. */
export async function startPostgres(): Promise<
  RunningServer & {
    port: number;
    start(): void;
    /** Stops the server with `pg_ctl stop -m fast` and keeps its data, so start() brings it back. */
    pause(): void;
  }
> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-pg-'));
  const data = path.join(dir, 'data');
  chmodSync(dir, 0o755);
  if (isRoot) {
    const [uid, gid] = execFileSync('id', ['-u', 'postgres']).toString().trim().split(/\s+/).map(Number);
    const group = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid ?? 0, gid ?? group);
  }
  runPostgresTool('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-locale']);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    `-k ${dir}`,
    "-c listen_addresses=127.0.0.1",
    '-c fsync=off',
    '-c synchronous_commit=off',
    '-c full_page_writes=off',
    '-c max_connections=300',
  ].join(' ');
  const start = () =>
    runPostgresTool('pg_ctl', ['-D', data, '-o', options, '-l', path.join(dir, 'log'), '-w', 'start']);
  start();

  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    pause: () => runPostgresTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    async stop() {
      try {
        runPostgresTool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // Already stopped.
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function redisBinary(): string {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('redis-server not found: run `apt-get install -y redis-server` or set TEST_REDIS_URL.');
}

/** Starts a throwaway Redis on 127.0.0.1 that writes nothing outside its own folder. */
export async function startRedis(port?: number): Promise<RunningServer & { port: number; process: ChildProcess }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-redis-'));
  const chosenPort = port ?? (await freePort());
  const child = spawn(
    redisBinary(),
    [
      '--port', String(chosenPort),
      '--bind', '127.0.0.1',
      '--save', '',
      '--appendonly', 'no',
      '--dir', dir,
      '--pidfile', path.join(dir, 'redis.pid'),
      '--logfile', path.join(dir, 'redis.log'),
      '--daemonize', 'no',
    ],
    { stdio: 'ignore' },
  );
  await waitForPort(chosenPort, 5000);

  return {
    url: `redis://127.0.0.1:${chosenPort}`,
    port: chosenPort,
    process: child,
    async stop() {
      // After a kill, exitCode stays null and signalCode is set, so both mark a stopped process.
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until something accepts TCP connections on 127.0.0.1:`port`. With `child`, fails as soon
 * as that process exits, instead of waiting out the timeout.
 */
export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) throw new Error(`child exited with code ${child.exitCode} before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
}
