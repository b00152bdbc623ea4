// The results file bench/results/latest.json and its Markdown rendering in docs/BENCHMARKS.md.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Measurement } from './measure.js';
import type { BenchOptions } from './options.js';
import type { BcryptCalibration, GatehouseResults } from './scenarios.js';
import type { TargetResult } from './targets.js';

const root = fileURLToPath(new URL('..', import.meta.url));
export const resultsFile = path.join(root, 'bench/results/latest.json');
export const docsFile = path.join(root, 'docs/BENCHMARKS.md');
const startMarker = '<!-- bench:results:start -->';
const endMarker = '<!-- bench:results:end -->';

export interface Machine {
  cpuModel: string;
  cores: number;
  memoryGb: number;
  node: string;
  /** Whether the server ran on core 0 and the load generators on core 1. */
  pinned: boolean;
  /** os.loadavg() when the run started: 1, 5 and 15 minutes. Absent in older results. */
  loadAverage?: number[];
}

export interface BenchResults {
  date: string;
  command: string;
  options: BenchOptions;
  machine: Machine;
  bcrypt: BcryptCalibration;
  serverCores: number;
  /** bcrypt hashes the server ran at once; absent in older results. */
  bcryptConcurrency?: number;
  baseline: Measurement;
  /** graphql-yoga with its default body limit; absent in results recorded before it was added. */
  stockBaseline?: Measurement;
  /** The lean baseline plus one Redis script call per request; absent in older results. */
  redisBaseline?: Measurement;
  gatehouse: GatehouseResults;
  targets: TargetResult[];
}

export function describeMachine(pinned: boolean): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const cpuModel = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';

  return {
    cpuModel,
    cores: availableParallelism(),
    memoryGb: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    pinned,
    loadAverage: loadavg(),
  };
}

export function writeResults(results: BenchResults): void {
  mkdirSync(path.dirname(resultsFile), { recursive: true });
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
}

export function readResults(): BenchResults {
  return JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults;
}

const fixed = (value: number | undefined, digits: number) =>
  value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);

function row(name: string, measurement: Measurement, label: string): string {
  const load = measurement.loads[label]!;
  const cells = [
    name,
    fixed(load.requestsPerSecond, 0),
    fixed(load.latencyMs.p50, 0),
    fixed(load.latencyMs.p99, 0),
    fixed(measurement.cpuMsPerRequest, 3),
    fixed(measurement.redis?.commandsSentPerRequest, 2),
    fixed(measurement.redis?.commandsPerRequest, 2),
    fixed(measurement.redis?.roundTripsPerRequest, 2),
    fixed(measurement.database?.statementsPerRequest, 2),
    fixed(measurement.database?.transactionsPerRequest, 2),
    fixed(measurement.peakRssMb, 0),
    String(load.non2xx + load.errors),
  ];

  return `| ${cells.join(' | ')} |`;
}

function verdict(target: TargetResult): string {
  if (target.pass === null) return 'NOT RUN';

  return target.pass ? 'PASS' : 'FAIL';
}

/** Renders the scenario table, the target table and the run's conditions as Markdown. */
export function renderMarkdown(results: BenchResults): string {
  const { machine, gatehouse, baseline, bcrypt, options } = results;
  const lines = [
    `Run on ${results.date} with \`${results.command}\`${options.quick ? ' (quick mode: smoke figures only)' : ''}.`,
    `Machine: ${machine.cpuModel}, ${machine.cores} cores, ${machine.memoryGb} GB memory, Node ${machine.node}; ` +
      (machine.pinned ? 'server pinned to core 0, load generators and Redis to core 1.' : 'no core pinning.') +
      (machine.loadAverage ? ` Load average at the start: ${machine.loadAverage.map((value) => value.toFixed(2)).join(', ')} (1, 5, 15 min).` : ''),
    `Each run: ${options.warmupSeconds} s warm-up, ${options.durationSeconds} s measured; ` +
      `${options.connections} connections for queries, ${options.loginConnections} for logins, ${options.refreshConnections} for refreshes; bcrypt cost ${bcrypt.cost} (${fixed(bcrypt.cpuMsPerHash, 1)} ms CPU per hash).`,
    '',
    '| Scenario | req/s | p50 ms | p99 ms | CPU ms/req | Redis cmds sent/req | Redis cmds run/req | Redis round trips/req | SQL statements/req | transactions/req | peak RSS MB | failed |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    row('1. bare Yoga', baseline, 'query'),
    ...(results.stockBaseline ? [row('reference: stock graphql-yoga', results.stockBaseline, 'query')] : []),
    ...(results.redisBaseline ? [row('reference: bare Yoga + 1 Redis call', results.redisBaseline, 'query')] : []),
    row('2. Gatehouse query', gatehouse.query, 'query'),
    row('3. query during logins (query)', gatehouse.queryUnderLogin, 'query'),
    row('3. query during logins (login)', gatehouse.queryUnderLogin, 'login'),
    row('4. refresh', gatehouse.refresh, 'refresh'),
    row('5. login', gatehouse.login, 'login'),
  ];
  if (gatehouse.soak) lines.push(row(`soak (${options.soakSeconds} s)`, gatehouse.soak, 'query'));
  lines.push('', 'Scenario 3 divides CPU, Redis and SQL figures by query and login requests together.');
  if (gatehouse.identityOnly) {
    const identity = gatehouse.identityOnly;
    lines.push(
      `Authentication alone (\`identity\`, ${identity.requests} requests sent one at a time before scenario 2): ` +
        `${fixed(identity.statementsPerRequest, 2)} SQL statements and ${fixed(identity.transactionsPerRequest, 2)} transactions per request.`,
    );
  }
  lines.push('');
  lines.push('| Target | Goal | Measured | Result | Detail |', '|---|---|---|---|---|');
  for (const target of results.targets) {
    lines.push(`| ${target.name} | ${target.target} | ${target.measured} | ${verdict(target)} | ${target.detail} |`);
  }

  return lines.join('\n');
}

/** Replaces the text between the result markers of docs/BENCHMARKS.md with `markdown`. */
export function updateDocs(markdown: string): void {
  const page = readFileSync(docsFile, 'utf8');
  const start = page.indexOf(startMarker);
  const end = page.indexOf(endMarker);
  if (start < 0 || end < start) {
    throw new Error(`${docsFile} has no ${startMarker} ... ${endMarker} section; add the two markers.`);
  }
  const updated = `${page.slice(0, start + startMarker.length)}\n${markdown}\n${page.slice(end)}`;
  writeFileSync(docsFile, updated);
}
