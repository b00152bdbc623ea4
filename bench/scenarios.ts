// The benchmark scenarios. Each one runs its load from separate processes (bench/load.ts).
import { cpus } from 'node:os';
import bcrypt from 'bcrypt';
import type { LoadSpec } from './load.js';
import { countStatements, measure, type Measurement, type ServerUnderTest } from './measure.js';
import type { BenchOptions } from './options.js';
import {
  authenticatedQuery,
  identityQuery,
  login,
  loginBody,
  prepareAuthenticatedCaller,
  refreshMutation,
  registerBenchUser,
  sendGraphQL,
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

/** Workspace id the baseline sends; bare Yoga resolves `myRole` from memory for any id. */
const baselineWorkspaceId = '5d2c8f41-7b3e-4a96-8e0d-1f6a9c3b7e52';

/** Scenario 1: the bare Yoga baseline with the same query text, no token. */
export function runBaseline(server: ServerUnderTest, options: BenchOptions, placement: Placement) {
  const body = { query: authenticatedQuery.query, variables: { workspaceId: baselineWorkspaceId } };
  const spec = fixedLoad(server.url, body, options.connections, options);

  return measure(server, [{ label: 'query', spec }], { loadCore: placement.loadCore });
}

/** SQL sent for `identityQuery` alone: authentication without the workspace-role check. */
export interface IdentityOnlyCount {
  requests: number;
  statementsPerRequest: number;
  transactionsPerRequest: number;
}

export interface GatehouseResults {
  /** Absent in results recorded before the query included the workspace-role check. */
  identityOnly?: IdentityOnlyCount;
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

  log(`scenario 2: SQL of ${identityCountRequests} identity-only requests, then the authenticated query`);
  const identityOnly = await countIdentityOnly(server, caller.accessToken);
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

  return { identityOnly, query, queryUnderLogin, refresh, login: loginRun, soak };
}

const identityCountRequests = 200;

/**
 * Sends `identityQuery` one request at a time, after the warm-up of the token cache, and counts
 * the SQL the server sends meanwhile. This separates authentication, whose target is no SQL at
 * all, from the membership lookup of the role check in the same scenario.
 */
async function countIdentityOnly(server: ServerUnderTest, accessToken: string): Promise<IdentityOnlyCount> {
  await sendGraphQL(server.url, identityQuery, accessToken);
  const statements = await countStatements(server, async () => {
    for (let i = 0; i < identityCountRequests; i++) await sendGraphQL(server.url, identityQuery, accessToken);
  });

  return {
    requests: identityCountRequests,
    statementsPerRequest: statements.other / identityCountRequests,
    transactionsPerRequest: statements.begin / identityCountRequests,
  };
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
