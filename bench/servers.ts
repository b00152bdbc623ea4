// Starts the servers under test, each in its own process, and the throwaway backends Gatehouse needs.
import { closeSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PrismaPg } from '@prisma/adapter-pg';
import { Redis } from 'ioredis';
import pg from 'pg';
import { generateSigningJwk } from '../src/auth/keys.js';
import { applyMigrations } from '../src/db/schema-engine.js';
import { freePort, startPostgres, startRedis } from '../test/support/processes.js';
import { onCleanup, pinProcess, startNodeChild, waitForPort } from './children.js';
import type { ServerUnderTest } from './measure.js';

const script = (name: string) => fileURLToPath(new URL(name, import.meta.url));

/** BENCH_CPU_PROF_DIR: each server process writes a V8 CPU profile there when it stops. */
function profileFlags(): string[] {
  const profileDir = process.env.BENCH_CPU_PROF_DIR;

  return profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
}

/**
 * Starts the bare graphql-yoga baseline on a free loopback port; `stock` keeps graphql-yoga's
 * own request body limit instead of Gatehouse's, and `redisUrl` adds one Redis call per request.
 */
export async function startYoga(core: number | undefined, stock = false, redisUrl = ''): Promise<ServerUnderTest> {
  const port = await freePort();
  const env = { PORT: String(port), NODE_ENV: 'production', YOGA_STOCK: stock ? '1' : '0', YOGA_REDIS_URL: redisUrl };
  const child = startNodeChild(script('./server-yoga.ts'), { core, env, nodeFlags: profileFlags() });
  await waitForPort(port, 30_000, child);

  return { name: 'yoga', child, pid: child.pid!, url: `http://127.0.0.1:${port}` };
}

export interface GatehouseStack {
  server: ServerUnderTest;
  logFile: string;
  /** The throwaway Redis that Gatehouse uses. */
  redisUrl: string;
}

async function startBackends(loadCore: number | undefined) {
  const postgresServer = await startPostgres();
  onCleanup(() => postgresServer.stop());
  const redisServer = await startRedis();
  onCleanup(() => redisServer.stop());
  // In a deployment Redis runs on a server of its own. On the server's core it would take CPU
  // time from the measured Gatehouse process, which the bare Yoga baseline never pays.
  if (loadCore !== undefined && redisServer.process.pid !== undefined) pinProcess(redisServer.process.pid, loadCore);
  const admin = new pg.Client({ connectionString: postgresServer.url });
  await admin.connect();
  await admin.query('CREATE DATABASE gatehouse_bench');
  await admin.end();
  const databaseUrl = new URL(postgresServer.url);
  databaseUrl.pathname = '/gatehouse_bench';
  await applyMigrations(new PrismaPg({ connectionString: databaseUrl.toString(), max: 1 }));
  await raiseQuotas(databaseUrl.toString());

  return { databaseUrl: databaseUrl.toString(), redisUrl: redisServer.url };
}

/**
 * Raises every quota of the seeded `rate_limit_configs` far above what a run can draw. The
 * default free plan allows 60 queries and 20 logins a minute, so the load would measure
 * RATE_LIMITED responses. Every request still runs the full quota check and writes its counters.
 */
async function raiseQuotas(databaseUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('UPDATE rate_limit_configs SET points = 2000000000');
  } finally {
    await client.end();
  }
}

async function connectProbes(databaseUrl: string, redisUrl: string) {
  const postgres = new pg.Client({ connectionString: databaseUrl });
  await postgres.connect();
  onCleanup(() => postgres.end());
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  onCleanup(async () => redis.disconnect());

  return { postgres, redis };
}

/**
 * Starts PostgreSQL and Redis (throwaway, on loopback), applies the migrations, then starts
 * Gatehouse through bench/server-gatehouse.ts in production mode with a generated signing key.
 */
export async function startGatehouse(
  core: number | undefined,
  bcryptCost: number,
  loadCore?: number,
): Promise<GatehouseStack> {
  const { databaseUrl, redisUrl } = await startBackends(loadCore);
  const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-bench-'));
  onCleanup(async () => rmSync(dir, { recursive: true, force: true }));
  const logFile = path.join(dir, 'gatehouse.log');
  const logFd = openSync(logFile, 'a');
  const port = await freePort();
  const child = startNodeChild(script('./server-gatehouse.ts'), {
    core,
    nodeFlags: profileFlags(),
    output: logFd,
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      // Production accepts only listed Host headers. The load generators send 127.0.0.1:<port>.
      ALLOWED_HOSTS: `127.0.0.1:${port}`,
      DATA_DIR: dir,
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      BCRYPT_COST: String(bcryptCost),
      JWT_PRIVATE_JWKS: JSON.stringify({ keys: [await generateSigningJwk()] }),
      // Long enough that no token of the run expires, including a 10-minute soak.
      ACCESS_TOKEN_TTL_SECONDS: '86400',
      LOG_LEVEL: 'info',
      // Each login in flight reserves a point of the login guard for the one benchmark email, so
      // the default of 10 rejects the parallel logins of scenarios 3 to 5.
      LOGIN_MAX_FAILURES_PER_EMAIL: '1000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
    },
  });
  closeSync(logFd);
  await waitForPort(port, 60_000, child);
  const backends = await connectProbes(databaseUrl, redisUrl);

  return { server: { name: 'gatehouse', child, pid: child.pid!, url: `http://127.0.0.1:${port}`, backends }, logFile, redisUrl };
}
