import type { GatehouseMetrics } from './metrics.js';

/** The parts of an execution result that the security counters read. */
export interface ExecutionOutcome {
  data?: Record<string, unknown> | null;
  errors?: readonly { extensions?: { code?: unknown }; path?: readonly (string | number)[] }[];
}

const deniedCodes = new Set(['UNAUTHENTICATED', 'FORBIDDEN']);

/** Returns the first error code of a result, or `ok` without errors. */
function resultOf(outcome: ExecutionOutcome): string {
  const code = outcome.errors?.[0]?.extensions?.code;
  if (!outcome.errors?.length) return 'ok';

  return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
}

// Operation labels come from a bounded set (see operationLabel), so this map stays small.
const rootFields = new Map<string, ReadonlySet<string>>();

function rootFieldsOf(operation: string): ReadonlySet<string> {
  let fields = rootFields.get(operation);
  if (!fields) {
    fields = new Set(operation.split(','));
    rootFields.set(operation, fields);
  }

  return fields;
}

/**
 * Counts one executed operation and the security events its result shows: logins, refreshes,
 * refresh-token reuse, logouts and authorization denials. Reading results keeps the counters in
 * one place instead of in every resolver.
 */
export function recordOutcome(metrics: GatehouseMetrics, operation: string, outcome: ExecutionOutcome): void {
  const result = resultOf(outcome);
  metrics.requests.inc({ operation, result });
  const fields = rootFieldsOf(operation);
  const data = outcome.data ?? {};
  if (fields.has('login')) metrics.logins.inc({ result: data.login ? 'success' : result });
  if (fields.has('refreshToken')) {
    metrics.refreshes.inc({ result: data.refreshToken ? 'success' : result });
    if (result === 'REFRESH_TOKEN_REUSED') {
      metrics.reuseDetections.inc();
      metrics.revocations.inc({ reason: 'refresh_token_reused' });
    }
  }
  if (fields.has('logout') && data.logout === true) metrics.revocations.inc({ reason: 'logout' });
  for (const error of outcome.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code === 'string' && deniedCodes.has(code)) metrics.authorizationDenials.inc({ code });
    // Quota rejections stop the operation before execution, so they carry no path. The login
    // guard rejects inside the login or register resolver.
    if (code === 'RATE_LIMITED') metrics.rateLimitRejections.inc({ limiter: error.path ? 'login_guard' : 'quota' });
  }
}
