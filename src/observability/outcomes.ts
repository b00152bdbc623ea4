import type { ExecutedOperation } from '../rate-limit/root-fields.js';
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

function errorIndexAt(outcome: ExecutionOutcome, responseKey: string): number {
  return outcome.errors?.findIndex((candidate) => candidate.path?.[0] === responseKey) ?? -1;
}

/**
 * Returns how one login or refresh selection ended, or undefined when it never ran. Both return
 * non-null payloads in a mutation, whose root fields run one after another: the first error nulls
 * `data` and stops the fields after it, so a field before it without an error succeeded. Errors
 * without a path stopped the whole operation before it ran, such as a quota rejection.
 */
function selectionResult(outcome: ExecutionOutcome, executed: ExecutedOperation, index: number, result: string): string | undefined {
  const responseKey = executed.responseKeys[index]!;
  if (outcome.data?.[responseKey]) return 'success';
  const errorIndex = errorIndexAt(outcome, responseKey);
  if (errorIndex >= 0) {
    const code = outcome.errors![errorIndex]!.extensions?.code;
    return typeof code === 'string' ? code : 'INTERNAL_SERVER_ERROR';
  }
  const failedAt = executed.responseKeys.findIndex((key) => errorIndexAt(outcome, key) >= 0);
  if (failedAt < 0) return outcome.errors?.length ? result : undefined;

  return index < failedAt ? 'success' : undefined;
}

/** Counts the logins, refreshes and logouts of an operation, once per response key. */
function recordSelections(metrics: GatehouseMetrics, executed: ExecutedOperation, outcome: ExecutionOutcome, result: string): void {
  executed.rootFields.forEach((field, index) => {
    if (field === 'logout' && outcome.data?.[executed.responseKeys[index]!] === true) {
      metrics.revocations.inc({ reason: 'logout' });
    }
    if (field !== 'login' && field !== 'refreshToken') return;
    const ended = selectionResult(outcome, executed, index, result);
    if (ended === undefined) return;
    if (field === 'login') {
      metrics.logins.inc({ result: ended });
      return;
    }
    metrics.refreshes.inc({ result: ended });
    if (ended === 'REFRESH_TOKEN_REUSED') {
      metrics.reuseDetections.inc();
      metrics.revocations.inc({ reason: 'refresh_token_reused' });
    }
  });
}

/**
 * Counts one executed operation and the security events its result shows: logins, refreshes,
 * refresh-token reuse, logouts and authorization denials. Reading results keeps the counters in
 * one place instead of in every resolver. Each login, refresh and logout counts once per response
 * key of `executed`, so aliases and fragments count like separate operations.
 */
export function recordOutcome(
  metrics: GatehouseMetrics,
  operation: string,
  executed: ExecutedOperation | undefined,
  outcome: ExecutionOutcome,
): void {
  const result = resultOf(outcome);
  metrics.requests.inc({ operation, result });
  if (executed) recordSelections(metrics, executed, outcome, result);
  for (const error of outcome.errors ?? []) {
    const code = error.extensions?.code;
    if (typeof code === 'string' && deniedCodes.has(code)) metrics.authorizationDenials.inc({ code });
    // Quota rejections stop the operation before execution, so they carry no path. The login
    // guard rejects inside the login or register resolver.
    if (code === 'RATE_LIMITED') metrics.rateLimitRejections.inc({ limiter: error.path ? 'login_guard' : 'quota' });
  }
}
