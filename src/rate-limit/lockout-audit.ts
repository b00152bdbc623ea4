import { auditActions, recordAuditEvent, type RequestOrigin } from '../audit/audit-log.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import { requestLogger, type Logger } from '../logger.js';
import { storableEmail } from '../auth/email.js';

/** A login attempt that the login guard rejected because its email or client network is locked. */
export interface Lockout {
  /** The lock that rejected the attempt: `email` for the email's, `ip` for the client network's. */
  scope: 'email' | 'ip';
  /** Key of the locked bucket: the SHA-256 prefix of the email, or the client network. */
  key: string;
  /** The normalized email of the rejected attempt. */
  email: string;
  /** The client network of the rejected attempt: the IPv4 address or the IPv6 /64. */
  network: string;
  /** Milliseconds until the lock ends. */
  msBeforeNext: number;
}

export interface LockoutAuditDeps {
  prisma: PrismaClient;
  logger: Logger;
  /**
   * Returns true for the first call with `key` within `ttlMs` across every instance that shares
   * Redis, as `RateLimitService.markOnce` does.
   */
  markOnce(key: string, ttlMs: number, origin?: RequestOrigin): Promise<boolean>;
}

/**
 * Writes one `user.login_locked` audit event per locked email or client network and lock, so a
 * flood of attempts against a lock writes one row instead of one per attempt.
 */
export class LockoutAudit {
  constructor(private readonly deps: LockoutAuditDeps) {}

  /**
   * Records the lockout unless an instance already did within the same lock. A failure is logged,
   * not thrown, so the attempt still gets RATE_LIMITED.
   */
  async record(lockout: Lockout, origin: RequestOrigin): Promise<void> {
    try {
      // The mark lives as long as the lock, so the next lock of the same key is recorded again.
      const markKey = `gatehouse:login:locked:${lockout.scope}:${lockout.key}`;
      if (!(await this.deps.markOnce(markKey, lockout.msBeforeNext, origin))) return;
      await recordAuditEvent(this.deps.prisma, {
        action: auditActions.loginLocked,
        origin,
        metadata: {
          scope: lockout.scope,
          email: storableEmail(lockout.email),
          network: lockout.network,
          lockedUntil: new Date(Date.now() + lockout.msBeforeNext).toISOString(),
        },
      });
    } catch (error) {
      const fields = { err: error, scope: lockout.scope, network: lockout.network };
      requestLogger(this.deps.logger, origin).error(fields, 'recording a login lockout failed');
    }
  }
}
