import { availableParallelism } from 'node:os';

/** Settings of one benchmark run, from the environment and the command line. */
export interface BenchOptions {
  quick: boolean;
  /** Warm-up before each measured run, in seconds. Env BENCH_WARMUP_SECONDS. @default 5 (1 in quick mode) */
  warmupSeconds: number;
  /** Measured part of each run, in seconds. Env BENCH_DURATION_SECONDS. @default 10 (2 in quick mode) */
  durationSeconds: number;
  /** Memory soak length in seconds; 0 skips it. Env BENCH_SOAK_SECONDS. @default 600 (20 in quick mode) */
  soakSeconds: number;
  /** Connections for the query scenarios and the soak. Env BENCH_CONNECTIONS. @default 50 */
  connections: number;
  /** Connections for login load. Env BENCH_LOGIN_CONNECTIONS. @default 8 */
  loginConnections: number;
  /** Connections for refresh load. Env BENCH_REFRESH_CONNECTIONS. @default 10 */
  refreshConnections: number;
  /** bcrypt cost of the Gatehouse server and the calibration. Env BENCH_BCRYPT_COST. @default 12, the Gatehouse default */
  bcryptCost: number;
  /** Sequential hashes timed for the bcrypt calibration. @default 5 (2 in quick mode) */
  bcryptSamples: number;
  /** Whether to pin the server to core 0 and the load generators to core 1 with taskset. */
  pin: boolean;
  /** Rewrite the results section of docs/BENCHMARKS.md after the run. Flag --update-docs. */
  updateDocs: boolean;
  /** Rewrite docs/BENCHMARKS.md from bench/results/latest.json without running. Flag --docs-only. */
  docsOnly: boolean;
}

function numberFromEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`Invalid ${name}: expected a number >= ${min}, got "${raw}".`);
  }

  return value;
}

export const usage = `Usage: npm run bench -- [--quick] [--update-docs] [--docs-only] [--no-pin]

  --quick        smoke run: 1 s warm-up, 2 s per run, 20 s soak
  --update-docs  rewrite the results section of docs/BENCHMARKS.md after the run
  --docs-only    rewrite docs/BENCHMARKS.md from bench/results/latest.json, run nothing
  --no-pin       do not pin processes to cores with taskset

Environment: BENCH_WARMUP_SECONDS, BENCH_DURATION_SECONDS, BENCH_SOAK_SECONDS (0 skips the
soak), BENCH_CONNECTIONS, BENCH_LOGIN_CONNECTIONS, BENCH_REFRESH_CONNECTIONS, BENCH_BCRYPT_COST,
BENCH_CPU_PROF_DIR (folder for a V8 CPU profile of each server process).`;

/** Reads the options; throws with the variable name on an invalid value. */
export function readOptions(argv: string[]): BenchOptions {
  const known = new Set(['--quick', '--update-docs', '--docs-only', '--no-pin', '--help']);
  const unknown = argv.find((arg) => !known.has(arg));
  if (unknown) throw new Error(`Unknown argument ${unknown}.\n${usage}`);
  const quick = argv.includes('--quick');
  const canPin = process.platform === 'linux' && availableParallelism() >= 2;

  return {
    quick,
    warmupSeconds: numberFromEnv('BENCH_WARMUP_SECONDS', quick ? 1 : 5, 0),
    durationSeconds: numberFromEnv('BENCH_DURATION_SECONDS', quick ? 2 : 10, 1),
    soakSeconds: numberFromEnv('BENCH_SOAK_SECONDS', quick ? 20 : 600, 0),
    connections: numberFromEnv('BENCH_CONNECTIONS', 50, 1),
    loginConnections: numberFromEnv('BENCH_LOGIN_CONNECTIONS', 8, 1),
    refreshConnections: numberFromEnv('BENCH_REFRESH_CONNECTIONS', 10, 1),
    bcryptCost: numberFromEnv('BENCH_BCRYPT_COST', 12, 4),
    bcryptSamples: quick ? 2 : 5,
    pin: canPin && !argv.includes('--no-pin'),
    updateDocs: argv.includes('--update-docs'),
    docsOnly: argv.includes('--docs-only'),
  };
}
