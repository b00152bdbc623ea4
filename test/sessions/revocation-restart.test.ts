import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../faults/support.js';
import {
  IdentityDocument,
  LogoutAllDocument,
  LogoutDocument,
  RevokeSessionDocument,
} from '../generated/graphql.js';
import { backends, createTestDatabase, startGatehouse, type Backend, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, registerUser } from '../support/users.js';

const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;

/** A revoked session's ids and its access token, named by the operation that revoked it. */
interface RevokedSession {
  revokedBy: string;
  userId: string;
  sessionId: string;
  accessToken: string;
}

/** Revokes one session by each operation and returns them, plus a session that stays live. */
async function revokeSessions(gatehouse: TestGatehouse) {
  const loggedOut = await registerUser(gatehouse);
  await gatehouse.op(LogoutDocument, {}, { token: loggedOut.accessToken });

  const owner = await registerUser(gatehouse);
  const revoked = await loginUser(gatehouse, owner.email);
  await gatehouse.op(RevokeSessionDocument, { id: revoked.session.id }, { token: owner.accessToken });

  const everywhere = await registerUser(gatehouse);
  const other = await loginUser(gatehouse, everywhere.email);
  await gatehouse.op(LogoutAllDocument, { keepCurrent: false }, { token: everywhere.accessToken });

  const sessions: RevokedSession[] = [
    { revokedBy: 'logout', ...refOf(loggedOut) },
    { revokedBy: 'revokeSession', ...refOf(revoked) },
    { revokedBy: 'logoutAll', ...refOf(everywhere) },
    { revokedBy: 'logoutAll', ...refOf(other) },
  ];

  return { sessions, live: owner };
}

const refOf = (tokens: { user: { id: string }; session: { id: string }; accessToken: string }) => ({
  userId: tokens.user.id,
  sessionId: tokens.session.id,
  accessToken: tokens.accessToken,
});

/** Starts an instance without Redis on the given data folder and, for PostgreSQL, database. */
function startSingleInstance(backend: Backend, dataDir: string, databaseUrl: string | undefined) {
  return startGatehouse({ backend, redis: false, dataDir, databaseUrl });
}

describe.each(backends)('revocations across a restart on %s without redis', (backend) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'gatehouse-restart-'));
  let database: Awaited<ReturnType<typeof createTestDatabase>> | undefined;
  let restarted: TestGatehouse | undefined;
  let revoked: RevokedSession[];
  let liveToken: string;

  beforeAll(async () => {
    database = backend === 'postgresql' ? await createTestDatabase() : undefined;
    const first = await startSingleInstance(backend, dataDir, database?.url);
    try {
      const outcome = await revokeSessions(first);
      revoked = outcome.sessions;
      liveToken = outcome.live.accessToken;
      for (const session of revoked) {
        expect(codeOf(await first.op(IdentityDocument, {}, { token: session.accessToken }))).toBe('UNAUTHENTICATED');
      }
    } finally {
      await first.close();
    }
    restarted = await startSingleInstance(backend, dataDir, database?.url);
  });
  afterAll(async () => {
    await restarted?.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps accepting a live session', async () => {
    const response = await restarted!.op(IdentityDocument, {}, { token: liveToken });
    expect(response.body.errors).toBeUndefined();
    expect(response.body.data?.identity.sessionId).toBeTypeOf('string');
  });

  it('fills the deny-list from the database', async () => {
    const filled = () => restarted!.logs.find((line) => line.msg === 'revocation deny-list filled from database');
    expect(await eventually(async () => filled() !== undefined)).toBe(true);
    expect(filled()?.count).toBe(revoked.length);
    for (const session of revoked) {
      expect(await restarted!.app.services.sessions.revocationStatus(session)).toBe('revoked');
    }
  });

  it('rejects revoked tokens in queries', async () => {
    for (const session of revoked) {
      const response = await restarted!.op(IdentityDocument, {}, { token: session.accessToken });
      expect(codeOf(response), session.revokedBy).toBe('UNAUTHENTICATED');
      expect(response.body.data?.identity ?? null, session.revokedBy).toBeNull();
    }
  });

  it('rejects revoked tokens in mutations', async () => {
    for (const session of revoked) {
      // The query test verified the token, so this request takes the cached verification.
      expect(restarted!.app.services.accessTokens.cachedClaims(session.accessToken), session.revokedBy).toBeDefined();
      const response = await restarted!.op(LogoutAllDocument, { keepCurrent: true }, { token: session.accessToken });
      expect(codeOf(response), session.revokedBy).toBe('UNAUTHENTICATED');
      expect(response.body.data?.logoutAll ?? null, session.revokedBy).toBeNull();
    }
  });
});
