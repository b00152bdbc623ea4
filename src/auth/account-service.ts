import type { Prisma, PrismaClient, User } from '../generated/prisma/client.js';
import type { LoginAttempt, LoginGuard } from '../rate-limit/login-guard.js';
import { auditActions, recordAuditEvent, type RequestOrigin } from '../audit/audit-log.js';
import type { Identity } from '../context.js';
import { badUserInputError, invalidCredentialsError, isGatehouseError, notFoundError } from '../errors.js';
import { requestLogger, type Logger } from '../logger.js';
import { requirePlausiblePassword, requireValidNewPassword } from './input.js';
import type { PasswordHasher } from './passwords.js';
import type { RevocationList } from './revocations.js';
import { isUuid, revokeUserSessions } from './session-revocation.js';

export interface AccountServiceDeps {
  prisma: PrismaClient;
  hasher: PasswordHasher;
  revocations: RevocationList;
  logger: Logger;
  /**
   * Counts wrong current passwords of changePassword as failed logins of the account's email,
   * so a stolen access token cannot guess the password past the login lockout. Without it,
   * only the general quotas limit those guesses.
   */
  loginGuard?: Pick<LoginGuard, 'beginLogin'>;
}

export interface ChangePasswordInput {
  currentPassword: string;
  newPassword: string;
  /** Revoke every other session of the user. The caller's own session stays live. */
  revokeOtherSessions: boolean;
}

/**
 * Password changes and the platform admin's account controls. Each change revokes sessions in
 * the same transaction as the change and its audit event, then denies their access tokens.
 */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  /** Changes the caller's password. A wrong current password is INVALID_CREDENTIALS. */
  async changePassword(caller: Identity, input: ChangePasswordInput, origin: RequestOrigin): Promise<number> {
    requirePlausiblePassword(input.currentPassword, 'currentPassword');
    requireValidNewPassword(input.newPassword, 'newPassword');
    const user = await this.deps.prisma.user.findUnique({ where: { id: caller.userId } });
    if (!user) throw invalidCredentialsError();
    const attempt = await this.deps.loginGuard?.beginLogin(user.email, origin);
    try {
      const revoked = await this.#changeVerifiedPassword(caller, user, input, origin);
      await attempt?.succeeded();

      return revoked;
    } catch (error) {
      // A wrong current password keeps its point, as a failed login does. Anything else, such
      // as an unreachable database, gives the point back.
      if (!isGatehouseError(error, 'INVALID_CREDENTIALS')) await this.#abandon(attempt, origin);
      throw error;
    }
  }

  async #changeVerifiedPassword(
    caller: Identity,
    user: User,
    input: ChangePasswordInput,
    origin: RequestOrigin,
  ): Promise<number> {
    if (!(await this.deps.hasher.verify(input.currentPassword, user.passwordHash))) {
      await recordAuditEvent(this.deps.prisma, {
        action: auditActions.passwordChangeFailed,
        actorId: user.id,
        targetId: user.id,
        sessionId: caller.sessionId,
        origin,
        metadata: { reason: 'wrong_password' },
      });
      throw invalidCredentialsError();
    }
    const passwordHash = await this.deps.hasher.hash(input.newPassword);
    const revoked = await this.deps.prisma.$transaction(async (tx) => {
      await tx.user.update({ where: { id: user.id }, data: { passwordHash, passwordChangedAt: new Date() } });
      const ids = input.revokeOtherSessions
        ? await revokeUserSessions(tx, user.id, { reason: 'password_changed', exceptSessionId: caller.sessionId })
        : [];
      await recordAuditEvent(tx, {
        action: auditActions.passwordChanged,
        actorId: user.id,
        targetId: user.id,
        sessionId: caller.sessionId,
        origin,
        metadata: { revokedSessionIds: ids },
      });

      return ids;
    });

    return this.#deny(user.id, revoked, 'password changed', origin);
  }

  /**
   * Disables or enables a user. Disabling revokes every session of that user. An admin cannot
   * disable themselves (BAD_USER_INPUT on `userId`), so the last admin cannot lock everyone out.
   */
  async setUserDisabled(admin: Identity, userId: string, disabled: boolean, origin: RequestOrigin): Promise<User> {
    // PostgreSQL reads a uuid in any letter case, and ids from the database are lower-case.
    if (disabled && userId.toLowerCase() === admin.userId) {
      throw badUserInputError('userId', 'You cannot disable your own account. Ask another platform admin.');
    }
    const { user, revoked } = await this.deps.prisma.$transaction(async (tx) => {
      const user = await this.#updateUser(tx, userId, { disabled });
      const ids = disabled ? await revokeUserSessions(tx, userId, { reason: 'user_disabled' }) : [];
      await recordAuditEvent(tx, {
        action: disabled ? auditActions.userDisabled : auditActions.userEnabled,
        actorId: admin.userId,
        targetId: userId,
        sessionId: admin.sessionId,
        origin,
        metadata: { revokedSessionIds: ids },
      });

      return { user, revoked: ids };
    });
    // Deny-list keys carry the lower-case id that access tokens carry. The argument may be in
    // any letter case, so the row's id is passed.
    await this.#deny(user.id, revoked, disabled ? 'user disabled' : 'user enabled', origin);

    return user;
  }

  /** Sets a user's password for them and revokes every session of that user. */
  async setUserPassword(admin: Identity, userId: string, newPassword: string, origin: RequestOrigin): Promise<number> {
    requireValidNewPassword(newPassword, 'newPassword');
    if (!isUuid(userId)) throw notFoundError('User');
    const passwordHash = await this.deps.hasher.hash(newPassword);
    const { user, revoked } = await this.deps.prisma.$transaction(async (tx) => {
      const user = await this.#updateUser(tx, userId, { passwordHash, passwordChangedAt: new Date() });
      const ids = await revokeUserSessions(tx, userId, { reason: 'password_set_by_admin' });
      await recordAuditEvent(tx, {
        action: auditActions.passwordSetByAdmin,
        actorId: admin.userId,
        targetId: userId,
        sessionId: admin.sessionId,
        origin,
        metadata: { revokedSessionIds: ids },
      });

      return { user, revoked: ids };
    });

    return this.#deny(user.id, revoked, 'password set by admin', origin);
  }

  async #abandon(attempt: LoginAttempt | undefined, origin: RequestOrigin): Promise<void> {
    try {
      await attempt?.abandoned();
    } catch (error) {
      requestLogger(this.deps.logger, origin).error({ err: error }, 'returning the points of an abandoned password change failed');
    }
  }

  async #updateUser(tx: Transaction, userId: string, data: Prisma.UserUpdateManyMutationInput) {
    if (!isUuid(userId)) throw notFoundError('User');
    const { count } = await tx.user.updateMany({ where: { id: userId }, data });
    if (count === 0) throw notFoundError('User');

    return tx.user.findUniqueOrThrow({ where: { id: userId } });
  }

  /** Adds revoked sessions to the deny-list, logs the change and returns how many there were. */
  async #deny(userId: string, sessionIds: string[], change: string, origin: RequestOrigin): Promise<number> {
    await this.deps.revocations.add(
      sessionIds.map((sessionId) => ({ userId, sessionId })),
      origin,
    );
    requestLogger(this.deps.logger, origin).info({ userId, revokedSessions: sessionIds.length }, `${change}; sessions revoked`);

    return sessionIds.length;
  }
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];
