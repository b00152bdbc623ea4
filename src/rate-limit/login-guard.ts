import { createHash } from 'node:crypto';
import type { RedisClient } from '../state/redis.js';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import type { RequestOrigin } from '../audit/audit-log.js';
import { requestLogger, type Logger } from '../logger.js';
import { rateLimitedError } from './errors.js';
import type { LockoutAudit } from './lockout-audit.js';
import { canonicalAddress, clientNetwork } from './subject.js';
import { responsivenessOf } from '../state/redis-responsiveness.js';

export interface LoginGuardOptions {
  /** Failed logins in a row for one email before it is locked. @default 10 */
  maxFailuresPerEmail: number;
  /** How long a locked email stays locked, and how long its failures are remembered. @default 900 */
  emailLockoutSeconds: number;
  /** Failed logins per client network per window before the network is blocked. @default 100 */
  maxFailuresPerIp: number;
  /** Window and block time of the per-network login limit, in seconds. @default 3600 */
  ipWindowSeconds: number;
  /** Registrations per client network per hour, and attempts per email per hour. @default 10 */
  maxRegistrationsPerIp: number;
  /**
   * Client addresses without the per-network limits. Each entry exempts one exact address, and
   * the other addresses of its IPv6 /64 stay limited. The per-email limits still apply.
   */
  exemptIps: readonly string[];
}

/** A login attempt with one reserved point per email and per network. */
export interface LoginAttempt {
  /** Resets the email's failure count and returns the network's point: only failures count. */
  succeeded(): Promise<void>;
  /**
   * Returns both points when the attempt ended without a verdict on the password, such as when
   * the database was unreachable, so an outage locks no one out.
   */
  abandoned(): Promise<void>;
}

/** Called when a lock rejects a login attempt, with the locked bucket and the time left on it. */
type OnLocked = (scope: 'email' | 'ip', key: string, msBeforeNext: number) => Promise<void> | undefined;

/** The calls the guard makes on one limiter. */
type GuardLimiter = Pick<RateLimiterAbstract, 'consume' | 'reward' | 'delete'>;

interface Limiters {
  loginEmail: GuardLimiter;
  loginIp: GuardLimiter;
  registerIp: GuardLimiter;
  registerEmail: GuardLimiter;
}

function buildLimiter(redis: RedisClient | undefined, keyPrefix: string, points: number, seconds: number, logger: Logger) {
  const options = { keyPrefix, points, duration: seconds, blockDuration: seconds };
  if (!redis) return new RateLimiterMemory(options);

  // Per-instance insurance keeps the limit closed while Redis is down: each instance then allows
  // at most `points` itself.
  const insurance = new RateLimiterMemory(options);
  const shared = new RateLimiterRedis({
    ...options,
    storeClient: redis,
    rejectIfRedisNotReady: true,
    insuranceLimiter: insurance,
  });
  // The shared limiter would wait out a command timeout on each of its calls before it turns to
  // the insurance, so while Redis does not respond the calls go to the insurance directly.
  const responsiveness = responsivenessOf(redis, logger);
  const pick = () => (responsiveness.responding ? shared : insurance);

  return {
    consume: (key, pointsToConsume, consumeOptions) => pick().consume(key, pointsToConsume, consumeOptions),
    reward: (key, pointsToReward, rewardOptions) => pick().reward(key, pointsToReward, rewardOptions),
    delete: (key, deleteOptions) => pick().delete(key, deleteOptions),
  } satisfies GuardLimiter;
}

/** Emails never reach Redis in clear: keys carry a SHA-256 prefix of the normalized address. */
function emailKey(normalizedEmail: string): string {
  return createHash('sha256').update(normalizedEmail).digest('hex').slice(0, 32);
}

/**
 * Protects login and register before any bcrypt work. Each login reserves a point for the
 * normalized email and for the client network first, so parallel guesses cannot all slip
 * through before the first failure is counted. Credential stuffing from many addresses still
 * locks the account after `maxFailuresPerEmail` failures. The lockout also blocks the owner
 * until it expires, which is the price of stopping distributed guessing.
 */
export class LoginGuard {
  readonly #limiters: Limiters;
  readonly #exemptIps: ReadonlySet<string>;

  constructor(
    redis: RedisClient | undefined,
    options: LoginGuardOptions,
    private readonly logger: Logger,
    /** Records rejected logins once per lock. Without it, a lockout writes no audit event. */
    private readonly lockouts?: Pick<LockoutAudit, 'record'>,
  ) {
    // Exact addresses, as the quotas compare them. The /64 of an exempt IPv6 address stays limited.
    this.#exemptIps = new Set(options.exemptIps.map(canonicalAddress));
    this.#limiters = {
      loginEmail: buildLimiter(redis, 'gatehouse:login:email', options.maxFailuresPerEmail, options.emailLockoutSeconds, logger),
      loginIp: buildLimiter(redis, 'gatehouse:login:ip', options.maxFailuresPerIp, options.ipWindowSeconds, logger),
      registerIp: buildLimiter(redis, 'gatehouse:register:ip', options.maxRegistrationsPerIp, 3600, logger),
      registerEmail: buildLimiter(redis, 'gatehouse:register:email', options.maxRegistrationsPerIp, 3600, logger),
    };
  }

  /** Reserves a login attempt, or throws RATE_LIMITED when the email or network is blocked. */
  async beginLogin(normalizedEmail: string, origin: RequestOrigin): Promise<LoginAttempt> {
    const email = emailKey(normalizedEmail);
    const network = clientNetwork(origin.ip);
    const onLocked: OnLocked = (scope, key, msBeforeNext) =>
      this.lockouts?.record({ scope, key, email: normalizedEmail, network, msBeforeNext }, origin);
    await this.#consumeBoth(this.#limiters.loginEmail, email, this.#limiters.loginIp, network, 'login', origin, onLocked);
    const exempt = this.#isExempt(origin.ip);

    return {
      succeeded: async () => {
        await this.#limiters.loginEmail.delete(email);
        if (!exempt) await this.#limiters.loginIp.reward(network, 1);
      },
      abandoned: async () => {
        await this.#limiters.loginEmail.reward(email, 1);
        if (!exempt) await this.#limiters.loginIp.reward(network, 1);
      },
    };
  }

  /**
   * Counts a registration attempt, or throws RATE_LIMITED when the network or email is over.
   * The returned `abandoned` gives both points back when the attempt failed for a reason of the
   * server's own, such as an unreachable database.
   */
  async beginRegister(normalizedEmail: string, origin: RequestOrigin): Promise<Pick<LoginAttempt, 'abandoned'>> {
    const email = emailKey(normalizedEmail);
    const network = clientNetwork(origin.ip);
    await this.#consumeBoth(this.#limiters.registerEmail, email, this.#limiters.registerIp, network, 'register', origin);
    const exempt = this.#isExempt(origin.ip);

    return {
      abandoned: async () => {
        await this.#limiters.registerEmail.reward(email, 1);
        if (!exempt) await this.#limiters.registerIp.reward(network, 1);
      },
    };
  }

  #isExempt(ip: string | null): boolean {
    return ip !== null && this.#exemptIps.has(canonicalAddress(ip));
  }

  async #consumeBoth(
    emailLimiter: GuardLimiter,
    email: string,
    ipLimiter: GuardLimiter,
    network: string,
    action: string,
    origin: RequestOrigin,
    onLocked?: OnLocked,
  ): Promise<void> {
    const emailLocked = (msBeforeNext: number) => onLocked?.('email', email, msBeforeNext);
    await this.#consume(emailLimiter, email, { action, scope: 'email', network }, origin, emailLocked);
    if (this.#isExempt(origin.ip)) return;
    try {
      const networkLocked = (msBeforeNext: number) => onLocked?.('ip', network, msBeforeNext);
      await this.#consume(ipLimiter, network, { action, scope: 'ip', network }, origin, networkLocked);
    } catch (error) {
      // The request stops here, so the email's point goes back.
      await emailLimiter.reward(email, 1);
      throw error;
    }
  }

  async #consume(
    limiter: GuardLimiter,
    key: string,
    context: Record<string, string>,
    origin: RequestOrigin,
    onLocked: (msBeforeNext: number) => Promise<void> | undefined,
  ): Promise<void> {
    try {
      await limiter.consume(key, 1);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const retryAfter = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      requestLogger(this.logger, origin).info({ ...context, retryAfter }, 'login protection rejected an attempt');
      await onLocked(rejection.msBeforeNext);
      throw rateLimitedError(retryAfter);
    }
  }
}
