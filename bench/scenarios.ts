// The benchmark scenarios. Each one runs its load from separate processes (bench/load.ts).
import { cpus } from 'node:os';
import bcrypt from 'bcrypt';
import type { LoadSpec } from './load.js';
import { measure, type Measurement, type ServerUnderTest } from './measure.js';
import type { BenchOptions } from './options.js';
import {
  authenticatedQuery,
  login,
  loginBody,
  prepareAuthenticatedCaller,
  refreshMutation,
  registerBenchUser,
  type GraphQLBody,
} from './workload.js';

export interface Placement {
  serverCore: number | undefined;
  loadCore: number | undefined;
}

function fixedLoad(url: string, body: GraphQLBody, connections: number, options: BenchOptions, token?: string): LoadSpec {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;

  return {
    url,
    connections,
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
    headers,
    body: JSON.stringify(body),
    kind: 'fixed',
  };
}

/** Scenario 1: the bare Yoga baseline with the same query text, no token. */
export function runBaseline(server: ServerUnderTest, options: BenchOptions, placement: Placement) {
  const spec = fixedLoad(server.url, { query: authenticatedQuery.query }, options.connections, options);

  return measure(server, [{ label: 'query', spec }], { loadCore: placement.loadCore });
}

export interface GatehouseResults {
  query: Measurement;
  queryUnderLogin: Measurement;
  refresh: Measurement;
  login: Measurement;
  soak?: Measurement;
}

/** Scenarios 2 to 5 and the memory soak, against one Gatehouse server. */
export async function runGatehouseScenarios(
  server: ServerUnderTest,
  options: BenchOptions,
  placement: Placement,
  log: (line: string) => void,
): Promise<GatehouseResults> {
  const { loadCore } = placement;
  const caller = await prepareAuthenticatedCaller(server.url, await registerBenchUser(server.url));
  const querySpec = fixedLoad(server.url, caller.body, options.connections, options, caller.accessToken);
  const loginSpec = fixedLoad(server.url, loginBody(), options.loginConnections, options);

  log('scenario 2: authenticated query');
  const query = await measure(server, [{ label: 'query', spec: querySpec }], { loadCore });
  log('scenario 3: authenticated query while logins run');
  const queryUnderLogin = await measure(
    server,
    [
      { label: 'query', spec: querySpec },
      { label: 'login', spec: loginSpec },
    ],
    { loadCore },
  );
  log('scenario 4: refresh');
  const refresh = await measure(server, [{ label: 'refresh', spec: await refreshLoad(server.url, options) }], { loadCore });
  log('scenario 5: login');
  const loginRun = await measure(server, [{ label: 'login', spec: loginSpec }], { loadCore });
  let soak: Measurement | undefined;
  if (options.soakSeconds > 0) {
    log(`memory soak: ${options.soakSeconds} s at ${options.connections} connections`);
    const soakSpec = { ...querySpec, durationSeconds: options.soakSeconds };
    soak = await measure(server, [{ label: 'query', spec: soakSpec }], { loadCore, sampleRss: true });
  }

  return { query, queryUnderLogin, refresh, login: loginRun, soak };
}

/**
 * Refresh load: each connection starts from the refresh token of its own login and then sends
 * the token each response returns (see `LoadSpec.kind`). Twice as many sessions as connections
 * are created, so a broken chain does not leave a connection without tokens.
 */
async function refreshLoad(url: string, options: BenchOptions): Promise<LoadSpec> {
  const sessions = await Promise.all(Array.from({ length: options.refreshConnections * 2 }, () => login(url)));

  return {
    url,
    connections: options.refreshConnections,
    warmupSeconds: options.warmupSeconds,
    durationSeconds: options.durationSeconds,
    headers: { 'content-type': 'application/json' },
    kind: 'refresh',
    refreshQuery: refreshMutation,
    refreshTokens: sessions.map((session) => session.refreshToken),
  };
}

export interface BcryptCalibration {
  cost: number;
  samples: number;
  cpuMsPerHash: number;
  cpuModel: string;
}

/**
 * Measures the CPU time of one bcrypt hash at `cost` in this process: sequential hashes, so
 * only one libuv thread works at a time, timed with process.cpuUsage (all threads).
 */
export async function calibrateBcrypt(cost: number, samples: number): Promise<BcryptCalibration> {
  await bcrypt.hash('warm-up password', 4);
  const start = process.cpuUsage();
  for (let i = 0; i < samples; i++) await bcrypt.hash(`calibration password ${i}`, cost);
  const used = process.cpuUsage(start);
  const cpuMsPerHash = (used.user + used.system) / 1000 / samples;

  return { cost, samples, cpuMsPerHash, cpuModel: cpus()[0]?.model ?? 'unknown' };
}
