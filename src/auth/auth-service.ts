import { randomUUID } from 'node:crypto';
import { Prisma, type PrismaClient, type User } from '../generated/prisma/client.js';
import { auditActions, auditRow, recordAuditEvent, type RequestOrigin } from '../audit/audit-log.js';
import { gatehouseError, invalidCredentialsError, isGatehouseError } from '../errors.js';
import { requestLogger, type Logger } from '../logger.js';
import type { AccessTokens } from './access-tokens.js';
import {
  requirePlausibleEmail,
  requirePlausiblePassword,
  requireValidEmail,
  requireValidName,
  requireValidNewPassword,
} from './input.js';
import type { PasswordHasher } from './passwords.js';
import type { LoginAttempt, LoginGuard } from '../rate-limit/login-guard.js';
import { QueueAbortedError } from './hash-concurrency.js';
import { storableEmail } from './email.js';
import { hashRefreshToken, newRefreshToken } from './refresh-tokens.js';

export interface SessionPolicy {
  /** Lifetime of one refresh token, in seconds. */
  refreshTokenTtlSeconds: number;
  /** Absolute lifetime of a session, in seconds. No refresh extends it. */
  sessionLifetimeSeconds: number;
}

/** Tokens returned by login, register and refresh, with the ids they belong to. */
export interface IssuedTokens {
  accessToken: string;
  accessTokenExpiresAt: Date;
  refreshToken: string;
  refreshTokenExpiresAt: Date;
  userId: string;
  sessionId: string;
}

export interface RegisterInput {
  email: string;
  password: string;
  displayName: string;
  deviceName?: string | null;
}

export interface LoginInput {
  email: string;
  password: string;
  deviceName?: string | null;
}

export interface AuthServiceDeps {
  prisma: PrismaClient;
  hasher: PasswordHasher;
  accessTokens: AccessTokens;
  policy: SessionPolicy;
  logger: Logger;
  /** Limits attempts per email and client network before any bcrypt work. */
  loginGuard?: Pick<LoginGuard, 'beginLogin' | 'beginRegister'>;
  /** Receives every failed login, for the per-account and per-address alert metric. */
  failedLogins?: { record(email: string, ip: string | null): void };
}

/** Registration and login: the two ways a session starts. */
export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  /** Creates a user and its first session. A taken email is EMAIL_ALREADY_REGISTERED. */
  async register(input: RegisterInput, origin: RequestOrigin): Promise<IssuedTokens> {
    const email = requireValidEmail(input.email);
    requireValidNewPassword(input.password);
    const displayName = requireValidName(input.displayName, 'displayName', true) as string;
    const deviceName = requireValidName(input.deviceName ?? '', 'deviceName', false);
    const attempt = await this.deps.loginGuard?.beginRegister(email, origin);
    // The hash comes first in every case, so a taken email gets its error no faster than a new one.
    const passwordHash = await this.deps.hasher.hash(input.password);
    const userId = randomUUID();
    const session = this.#newSession(userId, deviceName, origin);
    try {
      await this.deps.prisma.$transaction([
        this.deps.prisma.user.create({ data: { id: userId, email, passwordHash, displayName } }),
        ...this.#sessionWrites(session),
        this.deps.prisma.auditLog.create({
          data: auditRow(auditActions.userRegistered, userId, userId, session.id, origin),
        }),
      ]);
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw gatehouseError('EMAIL_ALREADY_REGISTERED', 'This email is already registered. Log in instead.', { field: 'email' });
      }
      // Not the caller's fault, such as an unreachable database: the attempt costs no quota.
      await this.#abandon(attempt, origin);
      throw error;
    }
    requestLogger(this.deps.logger, origin).info({ userId, sessionId: session.id }, 'user registered');

    return this.#issue(session);
  }

  /**
   * Checks the password and starts a session. Unknown emails cost one bcrypt comparison like
   * known ones and get the same INVALID_CREDENTIALS error.
   */
  async login(input: LoginInput, origin: RequestOrigin, signal?: AbortSignal): Promise<IssuedTokens> {
    requirePlausiblePassword(input.password);
    const deviceName = requireValidName(input.deviceName ?? '', 'deviceName', false);
    const email = requirePlausibleEmail(input.email);
    const attempt = await this.#beginLogin(email, origin);
    try {
      return await this.#authenticate(input, email, deviceName, origin, attempt, signal);
    } catch (error) {
      // A deliberate error is a verdict on the attempt and keeps its point; anything else, such
      // as an unreachable database, gives the point back.
      if (!isGatehouseError(error)) await this.#abandon(attempt, origin);
      throw error;
    }
  }

  /** Reserves a login attempt; a rejection by the login guard also counts as a failed login. */
  async #beginLogin(email: string, origin: RequestOrigin): Promise<LoginAttempt | undefined> {
    try {
      return await this.deps.loginGuard?.beginLogin(email, origin);
    } catch (error) {
      if (isGatehouseError(error, 'RATE_LIMITED')) this.deps.failedLogins?.record(email, origin.ip);
      throw error;
    }
  }

  async #authenticate(
    input: LoginInput,
    email: string,
    deviceName: string | null,
    origin: RequestOrigin,
    attempt: LoginAttempt | undefined,
    signal: AbortSignal | undefined,
  ): Promise<IssuedTokens> {
    // PostgreSQL text cannot store NUL, so no account has such an email, and looking it up would
    // raise an error. It is an unknown email and gets the dummy comparison like any other.
    const user = email.includes('\0') ? null : await this.deps.prisma.user.findUnique({ where: { email } });
    let valid: boolean;
    try {
      valid = user
        ? await this.deps.hasher.verify(input.password, user.passwordHash, signal)
        : await this.deps.hasher.verifyAgainstDummy(input.password, signal);
    } catch (error) {
      if (!(error instanceof QueueAbortedError)) throw error;
      // The client went away while the login waited for a bcrypt slot: no password was checked,
      // so the attempt gives its login-guard points back and counts as no failure.
      await attempt?.abandoned();
      requestLogger(this.deps.logger, origin).debug({ ip: origin.ip }, 'login abandoned before the password check');
      throw gatehouseError('SERVICE_UNAVAILABLE', 'The login was abandoned because the client disconnected.');
    }
    if (!user || !valid) {
      await this.#recordFailedLogin(user, email, origin);
      throw invalidCredentialsError();
    }
    // Only a caller with the right password learns that the account is disabled.
    if (user.disabled) {
      await this.#recordFailedLogin(user, email, origin, 'account_disabled');
      throw gatehouseError('ACCOUNT_DISABLED', 'This account is disabled. Contact an administrator.');
    }
    const rehashed = await this.#rehashedPassword(user, input.password);
    const session = this.#newSession(user.id, deviceName, origin);
    const outcome = await this.deps.prisma.$transaction((tx) => this.#startSession(tx, user, session, rehashed, origin));
    if (outcome === 'password_changed') {
      await this.#recordFailedLogin(user, email, origin, 'password_changed');
      throw invalidCredentialsError();
    }
    if (outcome === 'account_disabled') {
      await this.#recordFailedLogin(user, email, origin, 'account_disabled');
      throw gatehouseError('ACCOUNT_DISABLED', 'This account is disabled. Contact an administrator.');
    }
    await attempt?.succeeded();

    return this.#issue(session);
  }

  /**
   * Writes the session of a login whose password was checked against `user`, unless the account
   * changed since. The user row stays locked until commit. A password change or disabling that
   * committed during the check is seen here, and one that comes later waits for the commit and
   * then revokes this session with the others. The password counts as changed by its
   * `password_changed_at`, not its hash, because a concurrent login may have rehashed the same
   * password. FOR UPDATE, not FOR SHARE, because two logins holding FOR SHARE that both rehash
   * could deadlock when each waits to update the row the other has locked.
   */
  async #startSession(
    tx: Transaction,
    user: User,
    session: NewSession,
    rehashed: string | null,
    origin: RequestOrigin,
  ): Promise<'started' | 'password_changed' | 'account_disabled'> {
    const [current] = await tx.$queryRaw<{ password_hash: string; password_changed_at: Date; disabled: boolean }[]>`
      SELECT password_hash, password_changed_at, disabled FROM users WHERE id = ${user.id}::uuid FOR UPDATE`;
    if (!current || current.password_changed_at.getTime() !== user.passwordChangedAt.getTime()) return 'password_changed';
    if (current.disabled) return 'account_disabled';
    if (rehashed && this.deps.hasher.needsRehash(current.password_hash)) {
      await tx.user.update({ where: { id: user.id }, data: { passwordHash: rehashed } });
    }
    for (const write of this.#sessionWrites(session, tx)) await write;
    await tx.auditLog.create({ data: auditRow(auditActions.loginSucceeded, user.id, user.id, session.id, origin) });

    return 'started';
  }

  /**
   * Returns the password hashed at the configured bcrypt cost when the stored hash has another
   * cost, or null. #startSession stores it only while the password is unchanged, so a concurrent
   * password change is never undone.
   * NOTE: an account that never logs in keeps its old cost, so its logins stay slower or faster
   * than those for unknown emails.
   */
  async #rehashedPassword(user: User, password: string): Promise<string | null> {
    return this.deps.hasher.needsRehash(user.passwordHash) ? this.deps.hasher.hash(password) : null;
  }

  async #abandon(attempt: Pick<LoginAttempt, 'abandoned'> | undefined, origin: RequestOrigin): Promise<void> {
    try {
      await attempt?.abandoned();
    } catch (error) {
      requestLogger(this.deps.logger, origin).error({ err: error }, 'returning the points of an abandoned login attempt failed');
    }
  }

  async #recordFailedLogin(
    user: User | null,
    email: string,
    origin: RequestOrigin,
    reason = user ? 'wrong_password' : 'unknown_email',
  ): Promise<void> {
    this.deps.failedLogins?.record(email, origin.ip);
    await recordAuditEvent(this.deps.prisma, {
      action: auditActions.loginFailed,
      targetId: user?.id ?? null,
      origin,
      metadata: { email: storableEmail(email), reason },
    });
  }

  #newSession(userId: string, deviceName: string | null, origin: RequestOrigin): NewSession {
    const now = Date.now();
    const { refreshTokenTtlSeconds, sessionLifetimeSeconds } = this.deps.policy;
    const expiresAt = new Date(now + sessionLifetimeSeconds * 1000);
    const refreshExpiresAt = new Date(Math.min(now + refreshTokenTtlSeconds * 1000, expiresAt.getTime()));

    return {
      id: randomUUID(),
      userId,
      deviceName,
      origin,
      expiresAt,
      refreshToken: newRefreshToken(),
      refreshExpiresAt,
    };
  }

  #sessionWrites(session: NewSession, prisma: Pick<PrismaClient, 'session' | 'refreshToken'> = this.deps.prisma) {
    return [
      prisma.session.create({
        data: {
          id: session.id,
          userId: session.userId,
          deviceName: session.deviceName,
          userAgent: session.origin.userAgent,
          ip: session.origin.ip,
          expiresAt: session.expiresAt,
        },
      }),
      prisma.refreshToken.create({
        data: {
          tokenHash: hashRefreshToken(session.refreshToken),
          sessionId: session.id,
          // One family per session: every rotation of this session's token stays in it.
          familyId: session.id,
          expiresAt: session.refreshExpiresAt,
        },
      }),
    ] as const;
  }

  async #issue(session: NewSession): Promise<IssuedTokens> {
    // A session may be shorter than ACCESS_TOKEN_TTL_SECONDS, and no token outlives its session.
    const access = await this.deps.accessTokens.sign(session.userId, session.id, Date.now(), session.expiresAt);

    return {
      accessToken: access.token,
      accessTokenExpiresAt: access.expiresAt,
      refreshToken: session.refreshToken,
      refreshTokenExpiresAt: session.refreshExpiresAt,
      userId: session.userId,
      sessionId: session.id,
    };
  }
}

interface NewSession {
  id: string;
  userId: string;
  deviceName: string | null;
  origin: RequestOrigin;
  expiresAt: Date;
  refreshToken: string;
  refreshExpiresAt: Date;
}

export function isUniqueViolation(error: unknown): boolean {
  return error instanceof Prisma.PrismaClientKnownRequestError && error.code === 'P2002';
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
