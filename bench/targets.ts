// The targets of the benchmark, evaluated as ratios of figures measured in the same run.
import type { Measurement } from './measure.js';
import type { BcryptCalibration, GatehouseResults } from './scenarios.js';

export interface TargetResult {
  name: string;
  target: string;
  measured: string;
  /** Null when the run did not measure it (the soak was skipped). */
  pass: boolean | null;
  /** By how much the target is met or missed, and the figures that explain it. */
  detail: string;
}

export interface TargetInputs {
  baseline: Measurement;
  /** graphql-yoga with its default settings, reported next to the target for reference. */
  stockBaseline?: Measurement;
  /** The lean baseline plus one Redis script call per request, reported for reference. */
  redisBaseline?: Measurement;
  gatehouse: GatehouseResults;
  bcrypt: BcryptCalibration;
  /** Cores the Gatehouse process may run on: 1 when pinned with taskset. */
  serverCores: number;
  /** bcrypt hashes the server runs at once: BCRYPT_MAX_CONCURRENCY or its default. */
  bcryptConcurrency: number;
}

const fixed = (value: number, digits = 2) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const percent = (value: number) => `${fixed(value * 100, 1)}%`;
const load = (measurement: Measurement, label: string) => measurement.loads[label]!;

/** Returns a failed target when a load completed no request, because its figures then mean nothing. */
function noRequests(name: string, target: string, measurements: [Measurement, string][]): TargetResult | undefined {
  const empty = measurements.find(([measurement, label]) => load(measurement, label).requests === 0);
  if (!empty) return undefined;
  const detail = `no ${empty[1]} request completed within the measured run; lengthen BENCH_DURATION_SECONDS`;

  return { name, target, measured: 'no requests', pass: false, detail };
}

function queryThroughput({ baseline, stockBaseline, redisBaseline, gatehouse }: TargetInputs): TargetResult {
  const empty = noRequests('Authenticated query throughput', '>= 0.90 x bare Yoga', [
    [baseline, 'query'],
    [gatehouse.query, 'query'],
  ]);
  if (empty) return empty;
  const ratio = load(gatehouse.query, 'query').requestsPerSecond / load(baseline, 'query').requestsPerSecond;
  const cpu = gatehouse.query.cpuMsPerRequest / baseline.cpuMsPerRequest;
  const stock = stockBaseline
    ? `; against stock graphql-yoga ${fixed(load(gatehouse.query, 'query').requestsPerSecond / load(stockBaseline, 'query').requestsPerSecond)} x ` +
      `(${fixed(stockBaseline.cpuMsPerRequest, 3)} ms per request)`
    : '';
  const redis = redisBaseline
    ? `; bare Yoga with one Redis call spends ${fixed(redisBaseline.cpuMsPerRequest, 3)} ms per request`
    : '';

  return {
    name: 'Authenticated query throughput',
    target: '>= 0.90 x bare Yoga',
    measured: `${fixed(ratio)} x`,
    pass: ratio >= 0.9,
    detail:
      `${ratio >= 0.9 ? 'met' : `missed by ${fixed(0.9 - ratio)}`}; server CPU per request is ${fixed(cpu)} x the baseline ` +
      `(${fixed(gatehouse.query.cpuMsPerRequest, 3)} ms vs ${fixed(baseline.cpuMsPerRequest, 3)} ms)${stock}${redis}`,
  };
}

/**
 * Counts the commands Gatehouse sends, not the calls in INFO commandstats: the one script call
 * runs the deny-list read and every window's commands inside Redis.
 */
function redisPerRequest({ gatehouse }: TargetInputs): TargetResult {
  const redis = gatehouse.query.redis!;
  // Counters are integers over thousands of requests; 2% absorbs replies still in flight at the edges.
  const pass = redis.roundTripsPerRequest <= 1.02 && redis.commandsSentPerRequest <= 1.02;
  const sharedTrips = redis.roundTripsPerRequest < 0.98
    ? 'requests share round trips, because auto-pipelining sends the scripts of one event-loop turn in one write; '
    : '';

  return {
    name: 'Redis per authenticated request',
    target: '<= 1 round trip, <= 1 command sent',
    measured: `${fixed(redis.roundTripsPerRequest)} round trips, ${fixed(redis.commandsSentPerRequest)} commands sent`,
    pass,
    detail:
      sharedTrips +
      `${fixed(redis.commandsPerRequest)} commands run by Redis per request, script commands included; ` +
      `${fixed(redis.serverReadsPerRequest)} Redis read events per request; ` +
      `commands by name over the run: ${JSON.stringify(redis.byCommand)}`,
  };
}

/**
 * Authentication must send no SQL, which the identity-only count measures. The role check may
 * load memberships with at most one query per request. It reads the access cache, so only a
 * cache miss sends SQL: one scoped transaction (set_config, then one SELECT of
 * workspace_members). The platform-admin flag is read only when the role falls short.
 */
function databasePerRequest({ gatehouse }: TargetInputs): TargetResult {
  const name = 'Database queries per authenticated request';
  const target = '0 for authentication, <= 1 membership query (transaction) for the role check';
  const database = gatehouse.query.database!;
  const identity = gatehouse.identityOnly;
  if (!identity) return { name, target, measured: 'not run', pass: null, detail: 'identity-only count missing' };
  const authPass = identity.statementsPerRequest === 0 && identity.transactionsPerRequest === 0;
  // 2% absorbs requests in flight at the edges of the measured part.
  const rolePass = database.transactionsPerRequest <= 1.02;
  const misses = [
    authPass ? '' : `authentication sends ${fixed(identity.statementsPerRequest)} statements per request`,
    rolePass ? '' : `the role check runs ${fixed(database.transactionsPerRequest)} transactions per request`,
  ].filter(Boolean);

  return {
    name,
    target,
    measured:
      `authentication ${fixed(identity.statementsPerRequest)} statements (${identity.requests} identity-only requests); ` +
      `with the role check ${fixed(database.transactionsPerRequest)} transactions, ${fixed(database.statementsPerRequest)} statements`,
    pass: authPass && rolePass,
    detail:
      `${misses.length === 0 ? 'met' : `missed: ${misses.join('; ')}`}; the role check reads the access cache, and a miss ` +
      `sends a transaction of set_config and the workspace_members SELECT`,
  };
}

/**
 * Hashes run on at most min(cores, bcrypt concurrency) threads at full speed. The server caps
 * bcrypt below the core count on purpose, to keep a core for the event loop, so the cap and not
 * the core count bounds login throughput once there are two or more cores.
 */
function loginThroughput({ gatehouse, bcrypt, serverCores, bcryptConcurrency }: TargetInputs): TargetResult {
  const hashingCores = Math.min(serverCores, bcryptConcurrency);
  const expected = hashingCores / (bcrypt.cpuMsPerHash / 1000);
  const goal = '>= 0.90 x hashing cores / bcrypt CPU time';
  const empty = noRequests('Login throughput', goal, [[gatehouse.login, 'login']]);
  if (empty) return empty;
  const ratio = load(gatehouse.login, 'login').requestsPerSecond / expected;

  return {
    name: 'Login throughput',
    target: `${goal} (min(${serverCores} cores, ${bcryptConcurrency} at once) / ${fixed(bcrypt.cpuMsPerHash, 1)} ms = ${fixed(expected, 1)}/s)`,
    measured: `${fixed(ratio)} x`,
    pass: ratio >= 0.9,
    detail: `${ratio >= 0.9 ? 'met' : `missed by ${fixed(0.9 - ratio)}`}; server CPU per login ${fixed(gatehouse.login.cpuMsPerRequest, 1)} ms vs ${fixed(bcrypt.cpuMsPerHash, 1)} ms per hash`,
  };
}

function latencyUnderLogin({ gatehouse }: TargetInputs): TargetResult {
  const empty = noRequests('Query p99 while logins saturate bcrypt', '<= 2 x idle p99', [
    [gatehouse.query, 'query'],
    [gatehouse.queryUnderLogin, 'query'],
  ]);
  if (empty) return empty;
  const idle = load(gatehouse.query, 'query').latencyMs.p99;
  const busy = load(gatehouse.queryUnderLogin, 'query').latencyMs.p99;
  const ratio = busy / idle;

  return {
    name: 'Query p99 while logins saturate bcrypt',
    target: '<= 2 x idle p99',
    measured: `${fixed(ratio)} x (${busy} ms vs ${idle} ms)`,
    pass: ratio <= 2,
    detail: ratio <= 2 ? 'met' : `missed by ${fixed(ratio - 2)} x the idle p99`,
  };
}

function refreshTransactions({ gatehouse }: TargetInputs): TargetResult {
  const database = gatehouse.refresh.database!;
  const pass = Math.abs(database.transactionsPerRequest - 1) <= 0.02;

  return {
    name: 'Database transactions per refresh',
    target: '1',
    measured: `${fixed(database.transactionsPerRequest)} (pg_stat_database: ${fixed(database.pgStatTransactionsPerRequest)})`,
    pass,
    detail: `${fixed(database.statementsPerRequest, 1)} statements per refresh besides BEGIN/COMMIT`,
  };
}

/** Median of the first and of the last tenth (at least 3 samples each) of the soak's RSS samples. */
function rssGrowth(samples: number[]): { start: number; end: number; growth: number } {
  const size = Math.max(3, Math.floor(samples.length / 10));
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
  const start = median(samples.slice(0, size));
  const end = median(samples.slice(-size));

  return { start, end, growth: end / start - 1 };
}

function memorySoak({ gatehouse }: TargetInputs): TargetResult {
  const target = '<= 5% RSS growth';
  const samples = gatehouse.soak?.rssSamplesMb ?? [];
  if (samples.length < 6) {
    return { name: 'Memory over the soak', target, measured: 'not run', pass: null, detail: 'soak skipped' };
  }
  const { start, end, growth } = rssGrowth(samples);

  return {
    name: `Memory over a ${samples.length} s soak`,
    target,
    measured: `${percent(growth)} (${fixed(start, 1)} MB to ${fixed(end, 1)} MB)`,
    pass: growth <= 0.05,
    detail: growth <= 0.05 ? 'met' : `missed by ${percent(growth - 0.05)}`,
  };
}

export function evaluateTargets(inputs: TargetInputs): TargetResult[] {
  return [
    queryThroughput(inputs),
    redisPerRequest(inputs),
    databasePerRequest(inputs),
    loginThroughput(inputs),
    latencyUnderLogin(inputs),
    refreshTransactions(inputs),
    memorySoak(inputs),
  ];
}
