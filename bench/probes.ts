// Readings of the server process, Redis and PostgreSQL, taken before and after a measured run.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type pg from 'pg';

const clockTicksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User plus system CPU time of a process and all its threads, in milliseconds, from /proc/<pid>/stat. */
export function cpuTimeMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);

  return ((utime + stime) * 1000) / clockTicksPerSecond;
}

function statusKilobytes(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);

  return match ? Number(match[1]) : Number.NaN;
}

export const residentMegabytes = (pid: number) => statusKilobytes(pid, 'VmRSS') / 1024;
export const peakResidentMegabytes = (pid: number) => statusKilobytes(pid, 'VmHWM') / 1024;

/**
 * Resets the peak RSS (VmHWM) of a process to its current RSS, so that the next reading is the
 * peak of one scenario. Returns false where the kernel does not allow it (Linux before 4.0).
 */
export function resetPeakResident(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');

    return true;
  } catch {
    return false;
  }
}

export interface RedisReading {
  /** Sum of `calls` over every command in INFO commandstats, without INFO itself. */
  commands: number;
  /** `total_reads_processed` of INFO stats: read events on client sockets. Commands that arrive together share one. */
  reads: number;
  /** Calls per command name, without INFO. */
  byCommand: Record<string, number>;
}

/**
 * Reads Redis counters. The INFO call made here counts one read, so deltas subtract it
 * (see `redisDelta`).
 */
export async function readRedis(redis: Redis): Promise<RedisReading> {
  const text = await redis.info('everything');
  const byCommand: Record<string, number> = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const [, name, calls] = match;
    if (name && name !== 'info') byCommand[name] = Number(calls);
  }
  const reads = Number(/^total_reads_processed:(\d+)/m.exec(text)?.[1] ?? Number.NaN);
  const commands = Object.values(byCommand).reduce((sum, calls) => sum + calls, 0);

  return { commands, reads, byCommand };
}

/** Differences between two Redis readings; the INFO request of `after` is not counted. */
export function redisDelta(before: RedisReading, after: RedisReading): RedisReading {
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after.byCommand)) {
    const delta = calls - (before.byCommand[name] ?? 0);
    if (delta > 0) byCommand[name] = delta;
  }

  return { commands: after.commands - before.commands, reads: after.reads - before.reads - 1, byCommand };
}

export interface PostgresReading {
  /** Committed and rolled-back transactions of the benchmark database, from pg_stat_database. */
  transactions: number;
}

/**
 * Reads pg_stat_database. PostgreSQL 15+ backends flush these counters at most once a second,
 * so a delta over a run lags by up to a second at each end. The reading queries count too.
 */
export async function readPostgres(client: pg.Client): Promise<PostgresReading> {
  await client.query('SELECT pg_stat_clear_snapshot()');
  const result = await client.query<{ transactions: string }>(
    'SELECT xact_commit + xact_rollback AS transactions FROM pg_stat_database WHERE datname = current_database()',
  );

  return { transactions: Number(result.rows[0]?.transactions ?? Number.NaN) };
}
