import type { ExecutionResult } from 'graphql';
import { rateLimitedError } from '../rate-limit/errors.js';
import type { RateLimitDecision } from '../rate-limit/limiter.js';
import type { RateLimitService } from '../rate-limit/service.js';
import type { RejectedOperationStatus } from '../rate-limit/windows.js';
import type { RejectedCaller } from './rejected-caller.js';

/** Results after charging, with one decision per charged result for the response headers. */
export interface ChargedResults {
  results: ExecutionResult[];
  decisions: RateLimitDecision[];
}

/** True for a result that never reached the quota check, such as a parse or validation error. */
export function isUncharged(result: ExecutionResult): boolean {
  return result.extensions?.rateLimit === undefined;
}

/**
 * Charges 1 point from the caller's `*` buckets for each result that never reached the quota
 * check. The charges run one after another, so each result reports the count after its own
 * charge. A result whose charge does not fit becomes RATE_LIMITED. A revoked session is charged
 * to the client address instead.
 */
export async function chargeRejectedResults(
  results: readonly ExecutionResult[],
  caller: RejectedCaller,
  rateLimits: RateLimitService,
): Promise<ChargedResults> {
  let current = caller;
  const charged: ExecutionResult[] = [];
  const decisions: RateLimitDecision[] = [];
  for (const result of results) {
    if (!isUncharged(result)) {
      charged.push(result);
      continue;
    }
    let decision = await rateLimits.chargeRejected(current.userId, current.origin, current.revocationKey);
    if (decision.revocation === 'revoked') {
      current = { userId: null, origin: caller.origin };
      decision = await rateLimits.chargeRejected(null, caller.origin);
    }
    decisions.push(decision);
    charged.push(chargedResult(result, decision));
  }

  return { results: charged, decisions };
}

function chargedResult(result: ExecutionResult, decision: RateLimitDecision): ExecutionResult {
  const status: RejectedOperationStatus = { ...decision.status, operation: null };
  if (decision.allowed) return { ...result, extensions: { ...result.extensions, rateLimit: status } };

  return { errors: [rateLimitedError(decision.retryAfterSeconds, status)], extensions: { rateLimit: status } };
}
