// One measured run: start load generators, read counters after their warm-up and after the run.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { nextMessage, startNodeChild, stopChild } from './children.js';
import type { LoadResult, LoadSpec } from './load.js';
import {
  cpuTimeMs,
  peakResidentMegabytes,
  readPostgres,
  readRedis,
  redisDelta,
  residentMegabytes,
  resetPeakResident,
  type PostgresReading,
  type RedisReading,
} from './probes.js';

const loadScript = fileURLToPath(new URL('./load.ts', import.meta.url));

/** SQL statements a Gatehouse server child has sent, as counted in bench/server-gatehouse.ts. */
export interface Statements {
  begin: number;
  commit: number;
  rollback: number;
  other: number;
}

export interface ServerUnderTest {
  name: string;
  child: ChildProcess;
  pid: number;
  url: string;
  /** Present for Gatehouse: the Redis and PostgreSQL it uses, read by the benchmark. */
  backends?: { redis: Redis; postgres: pg.Client };
}

export interface Measurement {
  loads: Record<string, LoadResult>;
  /** Completed requests of every load together, the denominator of the per-request figures. */
  requests: number;
  cpuMsPerRequest: number;
  /** Server CPU time over wall time of the measured run; 1.0 is one core fully busy. */
  cpuUtilization: number;
  peakRssMb: number;
  /** False when the peak could not be reset, so `peakRssMb` covers the whole process life. */
  peakRssIsPerScenario: boolean;
  redis?: {
    /** Calls in Redis INFO commandstats, including the commands Lua scripts run. */
    commandsPerRequest: number;
    /** Commands the server sent through ioredis; one script call is one command. */
    commandsSentPerRequest: number;
    /** Socket writes of the server to Redis: one per command, pipeline or MULTI block sent. */
    roundTripsPerRequest: number;
    /** Read events of Redis (total_reads_processed); lower when commands arrive together. */
    serverReadsPerRequest: number;
    byCommand: Record<string, number>;
  };
  database?: {
    statementsPerRequest: number;
    transactionsPerRequest: number;
    pgStatTransactionsPerRequest: number;
  };
  /** VmRSS samples in MB, one per second of the measured run, when requested. */
  rssSamplesMb?: number[];
}

interface Reading {
  cpuMs: number;
  atMs: number;
  redis?: RedisReading;
  postgres?: PostgresReading;
  statements?: Statements;
  redisWrites?: number;
  redisCommandsSent?: number;
}

/** Statements the server sent while `send` ran, for requests sent one at a time outside a load. */
export async function countStatements(server: ServerUnderTest, send: () => Promise<void>): Promise<Statements> {
  const before = (await readServerCounters(server.child)).statements;
  await send();
  const after = (await readServerCounters(server.child)).statements;

  return {
    begin: after.begin - before.begin,
    commit: after.commit - before.commit,
    rollback: after.rollback - before.rollback,
    other: after.other - before.other,
  };
}

async function readServerCounters(child: ChildProcess) {
  const reply = nextMessage<{ statements: Statements; redisWrites: number; redisCommandsSent: number }>(child, 'usage', 10_000);
  child.send({ type: 'usage' });

  return reply;
}

async function takeReading(server: ServerUnderTest): Promise<Reading> {
  const reading: Reading = { cpuMs: cpuTimeMs(server.pid), atMs: performance.now() };
  if (server.backends) {
    reading.redis = await readRedis(server.backends.redis);
    reading.postgres = await readPostgres(server.backends.postgres);
    const counters = await readServerCounters(server.child);
    reading.statements = counters.statements;
    reading.redisWrites = counters.redisWrites;
    reading.redisCommandsSent = counters.redisCommandsSent;
  }

  return reading;
}

export interface LoadRequest {
  label: string;
  spec: LoadSpec;
}

async function startLoads(loads: LoadRequest[], core: number | undefined, warmupSeconds: number) {
  const children = loads.map((load) => ({
    label: load.label,
    child: startNodeChild(loadScript, { core, env: { BENCH_LOAD: JSON.stringify(load.spec) } }),
  }));
  await Promise.all(children.map(({ child }) => nextMessage(child, 'warmed', (warmupSeconds + 60) * 1000)));

  return children;
}

/**
 * Runs `loads` at the same time against `server`, each from its own load-generator process on
 * `loadCore`, and returns per-request figures of the measured part (after the warm-up).
 */
export async function measure(
  server: ServerUnderTest,
  loads: LoadRequest[],
  options: { loadCore: number | undefined; sampleRss?: boolean },
): Promise<Measurement> {
  const [first] = loads;
  if (!first) throw new Error('measure needs at least one load');
  const { warmupSeconds, durationSeconds } = first.spec;
  const children = await startLoads(loads, options.loadCore, warmupSeconds);
  const peakRssIsPerScenario = resetPeakResident(server.pid);
  const before = await takeReading(server);
  const rssSamplesMb: number[] = [];
  const sampler = options.sampleRss
    ? setInterval(() => rssSamplesMb.push(residentMegabytes(server.pid)), 1000)
    : undefined;
  const results = children.map(({ child }) => nextMessage<{ result: LoadResult }>(child, 'result', (durationSeconds + 60) * 1000));
  for (const { child } of children) child.send({ type: 'start' });
  const finished = await Promise.all(results);
  clearInterval(sampler);
  const after = await takeReading(server);
  await Promise.all(children.map(({ child }) => stopChild(child)));

  const loadResults = Object.fromEntries(children.map(({ label }, index) => [label, finished[index]!.result]));

  return summarize(server, loadResults, before, after, { peakRssIsPerScenario, rssSamplesMb, sampleRss: options.sampleRss });
}

function summarize(
  server: ServerUnderTest,
  loads: Record<string, LoadResult>,
  before: Reading,
  after: Reading,
  extra: { peakRssIsPerScenario: boolean; rssSamplesMb: number[]; sampleRss?: boolean },
): Measurement {
  const requests = Object.values(loads).reduce((sum, load) => sum + load.requests, 0);
  const perRequest = (value: number) => (requests > 0 ? value / requests : Number.NaN);
  const cpuMs = after.cpuMs - before.cpuMs;
  const measurement: Measurement = {
    loads,
    requests,
    cpuMsPerRequest: perRequest(cpuMs),
    cpuUtilization: cpuMs / (after.atMs - before.atMs),
    peakRssMb: peakResidentMegabytes(server.pid),
    peakRssIsPerScenario: extra.peakRssIsPerScenario,
  };
  if (extra.sampleRss) measurement.rssSamplesMb = extra.rssSamplesMb;
  if (before.redis && after.redis) {
    const delta = redisDelta(before.redis, after.redis);
    measurement.redis = {
      commandsPerRequest: perRequest(delta.commands),
      commandsSentPerRequest: perRequest((after.redisCommandsSent ?? Number.NaN) - (before.redisCommandsSent ?? Number.NaN)),
      roundTripsPerRequest: perRequest((after.redisWrites ?? Number.NaN) - (before.redisWrites ?? Number.NaN)),
      serverReadsPerRequest: perRequest(delta.reads),
      byCommand: delta.byCommand,
    };
  }
  if (before.statements && after.statements && before.postgres && after.postgres) {
    const begins = after.statements.begin - before.statements.begin;
    const others = after.statements.other - before.statements.other;
    measurement.database = {
      statementsPerRequest: perRequest(others),
      transactionsPerRequest: perRequest(begins),
      pgStatTransactionsPerRequest: perRequest(after.postgres.transactions - before.postgres.transactions),
    };
  }

  return measurement;
}
