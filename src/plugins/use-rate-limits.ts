import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { settleSessionCheck } from '../auth/session-check.js';
import type { RequestOrigin } from '../audit/audit-log.js';
import type { GatehouseContext, ServerContext } from '../context.js';
import { requestLogger, type Logger } from '../logger.js';
import { logUnexpectedError } from './use-error-logging.js';
import { rateLimitedError } from '../rate-limit/errors.js';
import { tightestWindow, type RateLimitDecision } from '../rate-limit/limiter.js';
import { executedOperation, type ExecutedOperation } from '../rate-limit/root-fields.js';
import type { RateLimitService } from '../rate-limit/service.js';
import type { RateLimitStatus } from '../rate-limit/windows.js';
import type { RejectedCallerResolver } from './rejected-caller.js';
import { chargeRejectedResults, isUncharged } from './rejected-charges.js';

export interface RateLimitsOptions {
  rateLimits: RateLimitService;
  /**
   * Finds the caller of a request whose operations were rejected before execution, such as
   * unparsable documents. Each such operation draws 1 point from that caller's `*` buckets, so
   * a flood of invalid documents ends in RATE_LIMITED like any other.
   */
  rejectedCaller: RejectedCallerResolver;
  /**
   * Returns the origin of a request as the GraphQL context receives it, for results that have
   * no context. Its address decides the exemption before any token is read.
   */
  originOf: (request: Request, serverContext: ServerContext) => RequestOrigin;
  /** Writes the errors of charging rejected operations, which then stay uncharged. */
  logger: Logger;
}

/** Per-request results, for the response headers: one entry per executed operation of a batch. */
interface RequestRecord {
  statuses: RateLimitStatus[];
  retryAfterSeconds: number;
}

/**
 * The status of a result that nothing was charged for: a request from an exempt address, or a
 * rejected one whose charge failed.
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
 * carries the RateLimit-* headers of its tightest window. Each operation rejected before
 * execution, such as an unparsable document, draws 1 point from the caller's `*` buckets.
 */
export function useRateLimits(options: RateLimitsOptions): Plugin<GatehouseContext> {
  const { rateLimits } = options;
  const records = new WeakMap<Request, RequestRecord>();

  function remember(request: Request, decision: RateLimitDecision): void {
    const record = records.get(request) ?? { statuses: [], retryAfterSeconds: 0 };
    record.statuses.push(decision.status);
    record.retryAfterSeconds = Math.max(record.retryAfterSeconds, decision.retryAfterSeconds);
    records.set(request, record);
  }

  async function chargeCaller(request: Request, origin: RequestOrigin, results: ExecutionResult[]) {
    const caller = await options.rejectedCaller(request, origin);
    const charged = await chargeRejectedResults(results, caller, rateLimits);
    for (const decision of charged.decisions) remember(request, decision);

    return charged.results;
  }

  /**
   * Charges the results that never reached the quota check; see chargeRejectedResults. Returns
   * at once, without a promise, for exempt addresses, whose executed operations carry no status
   * either. The operations are rejected anyway, so a failed charge is logged and leaves them
   * uncharged instead of failing the response.
   */
  function chargeRejected(
    request: Request,
    serverContext: ServerContext,
    results: ExecutionResult[],
  ): ExecutionResult[] | Promise<ExecutionResult[]> {
    const uncharged = () => results.map((item) => withUnchargedStatus(item, rateLimits.degraded));
    let origin: RequestOrigin | undefined;
    const failed = (error: unknown) => {
      requestLogger(options.logger, origin).error({ err: error }, 'charging operations rejected before execution failed');
      return uncharged();
    };
    try {
      origin = options.originOf(request, serverContext);
      if (rateLimits.isExempt(origin.ip)) return uncharged();

      return chargeCaller(request, origin, results).catch(failed);
    } catch (error) {
      return failed(error);
    }
  }

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
      remember(context.request, decision);
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
    // Results that never reached the quota check, such as parse and validation errors, are
    // charged here, so every response carries `extensions.rateLimit`. Executed operations already
    // carry it, so a request without rejected operations returns at once, without a promise.
    onResultProcess({ request, result, setResult, serverContext }) {
      if (!Array.isArray(result) && Symbol.asyncIterator in (result as object)) return undefined;
      const results = Array.isArray(result) ? (result as ExecutionResult[]) : [result as ExecutionResult];
      if (!results.some(isUncharged)) return undefined;
      const update = (charged: ExecutionResult[]) => setResult(Array.isArray(result) ? charged : charged[0]!);
      const charged = chargeRejected(request, serverContext as ServerContext, results);
      if (Array.isArray(charged)) {
        update(charged);
        return undefined;
      }

      return charged.then(update);
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (record) setHeaders(response.headers, record);
    },
  };
}
