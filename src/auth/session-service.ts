import { randomUUID } from 'node:crypto';
import type { PrismaClient, Session } from '../generated/prisma/client.js';
import { auditActions, auditRow, recordAuditEvent, type RequestOrigin } from '../audit/audit-log.js';
import { gatehouseError, invalidRefreshTokenError } from '../errors.js';
import { requestLogger, type Logger } from '../logger.js';
import type { AccessTokens } from './access-tokens.js';
import type { IssuedTokens } from './auth-service.js';
import type { RevocationList, RevocationStatus, SessionRef } from './revocations.js';
import { deriveChildToken, hashRefreshToken, looksLikeRefreshToken } from './refresh-tokens.js';
import { revokeUserSessions } from './session-revocation.js';
import type { Identity } from '../context.js';

export interface RotationPolicy {
  /** Lifetime of one refresh token, in seconds. */
  refreshTokenTtlSeconds: number;
  /** How long the previous token still returns its already issued child, in seconds. */
  reuseGraceSeconds: number;
  /** A session unused for this long cannot refresh, in seconds; 0 disables the check. */
  idleTimeoutSeconds: number;
}

export interface SessionServiceDeps {
  prisma: PrismaClient;
  accessTokens: AccessTokens;
  revocations: RevocationList;
  policy: RotationPolicy;
  logger: Logger;
}

interface TokenRow {
  id: string;
  session_id: string;
  used_at: Date | null;
  expires_at: Date;
}

type RotationOutcome =
  | { kind: 'invalid'; reason: string }
  | { kind: 'session_expired'; sessionId: string }
  | { kind: 'reused'; sessionId: string; userId: string }
  | { kind: 'issued'; session: Session; childId: string; expiresAt: Date };

/** Refresh-token rotation, logout and the session list. */
export class SessionService {
  constructor(private readonly deps: SessionServiceDeps) {}

  /**
   * Rotates a refresh token. The token row is locked for the whole transaction, so concurrent
   * refreshes of one token run one after another. The first rotates. Later ones within the grace
   * interval get the same child, and any later one revokes the session as a replay.
   */
  async refresh(token: string, origin: RequestOrigin): Promise<IssuedTokens> {
    if (!looksLikeRefreshToken(token)) throw invalidRefreshTokenError();
    const outcome = await this.deps.prisma.$transaction((tx) => this.#rotate(tx, token, origin));
    switch (outcome.kind) {
      case 'invalid':
        requestLogger(this.deps.logger, origin).info({ reason: outcome.reason }, 'refresh rejected');
        throw invalidRefreshTokenError();
      case 'session_expired':
        requestLogger(this.deps.logger, origin).info({ sessionId: outcome.sessionId }, 'refresh rejected: session expired');
        throw gatehouseError('SESSION_EXPIRED', 'The session has expired. Log in again.');
      case 'reused':
        await this.deps.revocations.add([{ userId: outcome.userId, sessionId: outcome.sessionId }], origin);
        requestLogger(this.deps.logger, origin).warn(
          { sessionId: outcome.sessionId, userId: outcome.userId },
          'refresh token reuse detected; session revoked',
        );
        throw gatehouseError(
          'REFRESH_TOKEN_REUSED',
          'This refresh token was already used. The session has been revoked; log in again.',
        );
      case 'issued': {
        const { session, childId, expiresAt } = outcome;
        const access = await this.deps.accessTokens.sign(session.userId, session.id, Date.now(), session.expiresAt);

        return {
          accessToken: access.token,
          accessTokenExpiresAt: access.expiresAt,
          refreshToken: deriveChildToken(token, childId),
          refreshTokenExpiresAt: expiresAt,
          userId: session.userId,
          sessionId: session.id,
        };
      }
    }
  }

  async #rotate(tx: Transaction, token: string, origin: RequestOrigin): Promise<RotationOutcome> {
    const now = new Date();
    const [row] = await tx.$queryRaw<TokenRow[]>`
      SELECT id::text, session_id::text, used_at, expires_at
      FROM refresh_tokens WHERE token_hash = ${hashRefreshToken(token)}
      FOR UPDATE`;
    if (!row) return { kind: 'invalid', reason: 'unknown_token' };
    const session = await tx.session.findUnique({ where: { id: row.session_id }, include: { user: true } });
    if (!session || session.revokedAt) return { kind: 'invalid', reason: 'session_revoked' };
    if (session.user.disabled) return { kind: 'invalid', reason: 'account_disabled' };
    if (row.used_at) return this.#handleUsedToken(tx, row, session, origin, now);
    // The session check comes first: its last token expires with it, and the client should learn
    // that the session ended rather than that the token is bad.
    if (this.#sessionExpired(session, now)) return { kind: 'session_expired', sessionId: session.id };
    if (row.expires_at <= now) return { kind: 'invalid', reason: 'token_expired' };

    const childId = randomUUID();
    // A child lives one refresh-token lifetime from now, but never past the end of its session.
    const expiresAt = new Date(
      Math.min(now.getTime() + this.deps.policy.refreshTokenTtlSeconds * 1000, session.expiresAt.getTime()),
    );
    await tx.refreshToken.update({ where: { id: row.id }, data: { usedAt: now } });
    await tx.refreshToken.create({
      data: {
        id: childId,
        tokenHash: hashRefreshToken(deriveChildToken(token, childId)),
        sessionId: session.id,
        familyId: session.id,
        parentId: row.id,
        expiresAt,
      },
    });
    await tx.session.update({ where: { id: session.id }, data: { lastUsedAt: now, ip: origin.ip ?? session.ip } });
    await tx.auditLog.create({
      data: auditRow(auditActions.tokenRefreshed, session.userId, session.userId, session.id, origin),
    });

    return { kind: 'issued', session, childId, expiresAt };
  }

  /**
   * A used token is a concurrent tab only while it is the immediate parent of the live token
   * and within the grace interval. Anything else is a replay: the session is revoked.
   */
  async #handleUsedToken(
    tx: Transaction,
    row: TokenRow,
    session: Session,
    origin: RequestOrigin,
    now: Date,
  ): Promise<RotationOutcome> {
    const graceMs = this.deps.policy.reuseGraceSeconds * 1000;
    const child = await tx.refreshToken.findUnique({ where: { parentId: row.id } });
    // A grace interval of 0 turns the concurrent-tab allowance off: every replay revokes.
    const withinGrace = graceMs > 0 && row.used_at !== null && now.getTime() - row.used_at.getTime() <= graceMs;
    if (child && !child.usedAt && withinGrace && child.expiresAt > now) {
      await tx.auditLog.create({
        data: auditRow(auditActions.tokenRefreshed, session.userId, session.userId, session.id, origin, {
          grace: true,
        }),
      });

      return { kind: 'issued', session, childId: child.id, expiresAt: child.expiresAt };
    }
    await tx.session.update({
      where: { id: session.id },
      data: { revokedAt: now, revokedReason: 'refresh_token_reused' },
    });
    await tx.auditLog.create({
      data: auditRow(auditActions.tokenReuseDetected, null, session.userId, session.id, origin, {
        tokenId: row.id,
      }),
    });

    return { kind: 'reused', sessionId: session.id, userId: session.userId };
  }

  #sessionExpired(session: Session, now: Date): boolean {
    if (session.expiresAt <= now) return true;
    const idleMs = this.deps.policy.idleTimeoutSeconds * 1000;

    return idleMs > 0 && now.getTime() - session.lastUsedAt.getTime() > idleMs;
  }

  /** Revokes one session of `userId`. Returns false when it is not theirs, missing or already revoked. */
  async revokeSession(
    userId: string,
    sessionId: string,
    reason: string,
    origin: RequestOrigin,
    actorSessionId: string | null,
  ): Promise<boolean> {
    const revoked = await this.deps.prisma.$transaction(async (tx) => {
      const { count } = await tx.session.updateMany({
        where: { id: sessionId, userId, revokedAt: null },
        data: { revokedAt: new Date(), revokedReason: reason },
      });
      if (count === 0) return false;
      await recordAuditEvent(tx, {
        action: sessionId === actorSessionId ? auditActions.loggedOut : auditActions.sessionRevoked,
        actorId: userId,
        targetId: userId,
        sessionId,
        origin,
        metadata: { reason, byCurrentSession: sessionId === actorSessionId },
      });

      return true;
    });
    if (revoked) await this.deps.revocations.add([{ userId, sessionId }], origin);

    return revoked;
  }

  /**
   * Revokes every live session of the caller, or every other one with `keepCurrent`, and returns
   * how many were revoked. Their access tokens are denied on the next request.
   */
  async logoutAll(identity: Identity, keepCurrent: boolean, origin: RequestOrigin): Promise<number> {
    const revoked = await this.deps.prisma.$transaction(async (tx) => {
      const ids = await revokeUserSessions(tx, identity.userId, {
        reason: keepCurrent ? 'logout_others' : 'logout_all',
        exceptSessionId: keepCurrent ? identity.sessionId : null,
      });
      await recordAuditEvent(tx, {
        action: auditActions.loggedOutEverywhere,
        actorId: identity.userId,
        targetId: identity.userId,
        sessionId: identity.sessionId,
        origin,
        metadata: { keepCurrent, revokedSessionIds: ids },
      });

      return ids;
    });
    await this.deps.revocations.add(
      revoked.map((sessionId) => ({ userId: identity.userId, sessionId })),
      origin,
    );
    const log = requestLogger(this.deps.logger, origin);
    log.info({ userId: identity.userId, count: revoked.length, keepCurrent }, 'sessions revoked');

    return revoked.length;
  }

  /**
   * Finds the live session a refresh token belongs to, for logout by cookie. A rotated token
   * counts too, because another tab may have refreshed while the logout was on its way. That
   * gives its holder no new power, because refreshToken with it either returns the live child,
   * within the grace interval, or revokes the session.
   */
  async sessionOfRefreshToken(token: string): Promise<{ userId: string; sessionId: string } | null> {
    if (!looksLikeRefreshToken(token)) return null;
    const row = await this.deps.prisma.refreshToken.findUnique({
      where: { tokenHash: hashRefreshToken(token) },
      select: { expiresAt: true, session: { select: { id: true, userId: true, revokedAt: true } } },
    });
    if (!row || row.expiresAt <= new Date() || row.session.revokedAt) return null;

    return { userId: row.session.userId, sessionId: row.session.id };
  }

  /** Lists the live sessions of a user, newest first. */
  listSessions(userId: string): Promise<Session[]> {
    return this.deps.prisma.session.findMany({
      where: { userId, revokedAt: null, expiresAt: { gt: new Date() } },
      orderBy: { createdAt: 'desc' },
    });
  }

  /**
   * Checks whether a session may still use its access tokens. The deny-list is read first, and
   * PostgreSQL, the source of truth, decides when the deny-list cannot be read.
   */
  async isSessionLive(session: SessionRef): Promise<boolean> {
    return this.isSessionLiveWith(session.sessionId, await this.deps.revocations.status(session));
  }

  /**
   * Returns the Redis key of a session's deny-list entry when the list is in a connected Redis,
   * so the rate-limit script can read it in the same call. See {@link RevocationList.redisKeyOf}.
   */
  revocationKeyOf(session: SessionRef): string | undefined {
    return this.deps.revocations.redisKeyOf?.(session);
  }

  /** Reads the deny-list entry of a session; `unknown` when the list cannot be read. */
  revocationStatus(session: SessionRef): Promise<RevocationStatus> {
    return this.deps.revocations.status(session);
  }

  /** Decides from a deny-list status read elsewhere; `unknown` is decided by PostgreSQL. */
  async isSessionLiveWith(sessionId: string, status: RevocationStatus): Promise<boolean> {
    if (status !== 'unknown') return status === 'live';
    const session = await this.deps.prisma.session.findUnique({
      where: { id: sessionId },
      select: { revokedAt: true, expiresAt: true },
    });

    return session !== null && session.revokedAt === null && session.expiresAt > new Date();
  }

  /**
   * Copies recent revocations from PostgreSQL into the deny-list, for the writes that a Redis
   * outage dropped and for entries written under the key names of an older version. Only
   * sessions revoked within one deny-list entry lifetime (`windowSeconds`) can still matter. A
   * fill that could not write every entry rejects, so the list stays unfilled and is tried again.
   * `target` defaults to the list revocations go through. Pass the deny-list behind a relay, because
   * each session was relayed when it was revoked, and a fill retried every 5 s would relay the
   * whole window again each time.
   */
  async resyncRevocations(windowSeconds: number, target: RevocationList = this.deps.revocations): Promise<void> {
    const since = new Date(Date.now() - windowSeconds * 1000);
    const sessions = await this.deps.prisma.session.findMany({
      where: { revokedAt: { gte: since } },
      select: { id: true, userId: true },
    });
    const entries = sessions.map((session) => ({ userId: session.userId, sessionId: session.id }));
    const unwritten = await target.add(entries);
    if (unwritten > 0) throw new Error(`${unwritten} of ${entries.length} revocations not written to the deny-list`);
    this.deps.logger.info({ count: sessions.length }, 'revocation deny-list filled from database');
  }
}

type Transaction = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

