import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { settleSessionCheck } from '../auth/session-check.js';
import type { GatehouseContext } from '../context.js';
import { logUnexpectedError } from './use-error-logging.js';
import { rateLimitedError } from '../rate-limit/errors.js';
import { tightestWindow, type RateLimitDecision } from '../rate-limit/limiter.js';
import { executedOperation, type ExecutedOperation } from '../rate-limit/root-fields.js';
import type { RateLimitService } from '../rate-limit/service.js';
import type { RateLimitStatus } from '../rate-limit/windows.js';

export interface RateLimitsOptions {
  rateLimits: RateLimitService;
}

/** Per-request results, for the response headers: one entry per executed operation of a batch. */
interface RequestRecord {
  statuses: RateLimitStatus[];
  retryAfterSeconds: number;
}

/**
 * The status of a result that nothing was charged for: a request rejected before execution,
 * such as an unparsable document, or one from an exempt address. No caller is known then.
 */
interface UnchargedStatus {
  plan: null;
  operation: null;
  cost: 0;
  degraded: boolean;
  windows: [];
}

function withUnchargedStatus(result: ExecutionResult, degraded: boolean): ExecutionResult {
  if (result.extensions?.rateLimit !== undefined) return result;
  const status: UnchargedStatus = { plan: null, operation: null, cost: 0, degraded, windows: [] };

  return { ...result, extensions: { ...result.extensions, rateLimit: status } };
}

function withRateLimit(result: ExecutionResult, status: RateLimitStatus): ExecutionResult {
  return { ...result, extensions: { ...result.extensions, rateLimit: status } };
}

/** Sets RateLimit-Limit, -Remaining and -Reset from the tightest window of the request. */
function setHeaders(headers: Headers, record: RequestRecord): void {
  const tightest = tightestWindow(record.statuses.flatMap((status) => status.windows));
  if (tightest) {
    const resetSeconds = Math.max(0, Math.ceil((Date.parse(tightest.resetAt) - Date.now()) / 1000));
    headers.set('RateLimit-Limit', String(tightest.limit));
    headers.set('RateLimit-Remaining', String(tightest.remaining));
    headers.set('RateLimit-Reset', String(resetSeconds));
  }
  // A single rejected operation already set it through the error's `extensions.http.headers`.
  if (record.retryAfterSeconds > 0 && !headers.has('Retry-After')) {
    headers.set('Retry-After', String(record.retryAfterSeconds));
  }
}

/**
 * Consumes the operation's quota. A pending deny-list check of the caller's session runs in
 * the same Redis call. A revoked session consumed nothing, so the operation is charged again
 * to the anonymous caller it now is: that second call happens only for revoked tokens.
 */
async function checkQuota(
  context: GatehouseContext,
  operation: ExecutedOperation,
  rateLimits: RateLimitService,
): Promise<RateLimitDecision> {
  const pending = context.sessionCheck;
  const decision = await rateLimits.check(context.identity?.userId ?? null, context.origin, operation, pending?.revocationKey);
  if (!pending) return decision;
  if (await settleSessionCheck(context, decision.revocation ?? 'unknown')) return decision;

  return rateLimits.check(null, context.origin, operation);
}

/**
 * Charges every executed operation to the caller's quotas after validation and before any
 * resolver runs. Each root field costs its configured points, so aliases and every operation of
 * a batch count. An operation over a limit gets RATE_LIMITED (HTTP 429, Retry-After) and none
 * of it runs. Every executed operation's result carries `extensions.rateLimit`, and the response
 * carries the RateLimit-* headers of its tightest window.
 */
export function useRateLimits(options: RateLimitsOptions): Plugin<GatehouseContext> {
  const { rateLimits } = options;
  const records = new WeakMap<Request, RequestRecord>();

  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const context = args.contextValue as GatehouseContext;
      const operation = executedOperation(args.document, args.operationName, args.variableValues);
      // Without a quota check, useSessionCheck reads the deny-list on its own.
      if (!operation || rateLimits.isExempt(context.origin.ip)) return undefined;
      const decision = await checkQuota(context, operation, rateLimits).catch((error: unknown) => {
        logUnexpectedError(context, error);
        throw error;
      });
      const { status } = decision;
      context.rateLimit = status;
      const record = records.get(context.request) ?? { statuses: [], retryAfterSeconds: 0 };
      record.statuses.push(status);
      record.retryAfterSeconds = Math.max(record.retryAfterSeconds, decision.retryAfterSeconds);
      records.set(context.request, record);
      if (!decision.allowed) {
        context.logger.info(
          { userId: context.identity?.userId, operation: status.operation, plan: status.plan, retryAfter: decision.retryAfterSeconds },
          'operation rejected by rate limit',
        );
        setResultAndStopExecution(
          withRateLimit({ errors: [rateLimitedError(decision.retryAfterSeconds, status)] }, status),
        );
        return undefined;
      }

      return {
        onExecuteDone({ result, setResult }) {
          if (Symbol.asyncIterator in result) return;
          setResult(withRateLimit(result, status));
        },
      };
    },
    // Results that never reached execution get an explicit zero-cost status, so every response
    // carries `extensions.rateLimit`.
    onResultProcess({ result, setResult }) {
      const degraded = rateLimits.degraded;
      if (Array.isArray(result)) {
        setResult(result.map((item: ExecutionResult) => withUnchargedStatus(item, degraded)));
      } else if (!(Symbol.asyncIterator in (result as object))) {
        setResult(withUnchargedStatus(result as ExecutionResult, degraded));
      }
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (record) setHeaders(response.headers, record);
    },
  };
}
