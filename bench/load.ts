// Load generator child of bench/run.ts: runs autocannon against a server in another process.
// Protocol over IPC: warm up, send "warmed", wait for "start", run the measured part, send
// "result". bench/run.ts reads the server's counters between "warmed" and "start".
import autocannon, { type Options, type RequestSpec, type Result } from 'autocannon';

/** The load of one generator, as bench/run.ts sends it. */
export interface LoadSpec {
  /** Base URL on 127.0.0.1, without the path. */
  url: string;
  connections: number;
  warmupSeconds: number;
  durationSeconds: number;
  headers: Record<string, string>;
  /** Body of every request, for `fixed` load. */
  body?: string;
  /**
   * `fixed` sends `body` over and over. `refresh` sends each refresh token once: a pool starts
   * with `refreshTokens`, every request takes one, and every successful response puts the
   * rotated token back, so each connection carries its own chain of rotations.
   */
  kind: 'fixed' | 'refresh';
  refreshQuery?: string;
  refreshTokens?: string[];
}

/** Summary of the measured run, sent back to bench/run.ts. */
export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Refresh requests sent without a token because the pool was empty (a chain broke). */
  refreshPoolMisses: number;
}

const spec = JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadSpec;
const tokenPool = [...(spec.refreshTokens ?? [])];
let refreshPoolMisses = 0;

function refreshRequest(): RequestSpec {
  return {
    method: 'POST',
    path: '/graphql',
    headers: spec.headers,
    setupRequest(request) {
      const token = tokenPool.shift();
      if (token === undefined) refreshPoolMisses += 1;
      const body = JSON.stringify({ query: spec.refreshQuery, variables: { token: token ?? 'missing' } });

      return { ...request, body };
    },
    onResponse(status, body) {
      if (status !== 200) return;
      const parsed = JSON.parse(body) as { data?: { refreshToken?: { refreshToken?: string } } };
      const next = parsed.data?.refreshToken?.refreshToken;
      if (next) tokenPool.push(next);
    },
  };
}

function runFor(seconds: number): Promise<Result> {
  const options: Options =
    spec.kind === 'refresh'
      ? { url: spec.url, connections: spec.connections, duration: seconds, requests: [refreshRequest()] }
      : {
          url: `${spec.url}/graphql`,
          connections: spec.connections,
          duration: seconds,
          method: 'POST',
          headers: spec.headers,
          body: spec.body,
        };

  return autocannon(options);
}

function summarize(result: Result): LoadResult {
  const requests = result.requests.total;

  return {
    requests,
    seconds: result.duration,
    requestsPerSecond: requests / result.duration,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, average: result.latency.average },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    refreshPoolMisses,
  };
}

async function main(): Promise<void> {
  if (spec.warmupSeconds > 0) await runFor(spec.warmupSeconds);
  const started = new Promise<void>((resolve) => {
    process.on('message', (message: { type?: string }) => {
      if (message?.type === 'start') resolve();
    });
  });
  process.send?.({ type: 'warmed' });
  await started;
  refreshPoolMisses = 0;
  const result = summarize(await runFor(spec.durationSeconds));
  process.send?.({ type: 'result', result }, () => process.disconnect());
}

process.on('disconnect', () => process.exit(0));
main().catch((error: unknown) => {
  process.stderr.write(`bench load: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
