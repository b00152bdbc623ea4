import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdentityDocument, LogoutAllDocument, RefreshPairDocument } from '../generated/graphql.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, registerUser } from '../support/users.js';

const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;

describe.each(backends)('refresh rotation on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const refresh = (token: string) => gatehouse.op(RefreshPairDocument, { token });
  /** Moves a token's rotation time back, as if the grace interval had passed. */
  const ageRotation = async (sessionId: string) => {
    await gatehouse.app.services.prisma.$executeRaw`
      UPDATE refresh_tokens SET used_at = used_at - interval '1 hour'
      WHERE session_id = ${sessionId}::uuid AND used_at IS NOT NULL`;
  };

  it('replaying R0 after R0, R1, R2 revokes the session', async () => {
    const user = await registerUser(gatehouse);
    const r1 = (await refresh(user.refreshToken)).body.data!.refreshToken;
    const r2 = (await refresh(r1.refreshToken)).body.data!.refreshToken;

    const replay = await refresh(user.refreshToken);
    expect(codeOf(replay)).toBe('REFRESH_TOKEN_REUSED');
    expect(replay.status).toBe(401);

    const session = await gatehouse.app.services.prisma.session.findUniqueOrThrow({ where: { id: user.session.id } });
    expect(session.revokedReason).toBe('refresh_token_reused');
    expect(codeOf(await refresh(r2.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect(codeOf(await gatehouse.op(IdentityDocument, {}, { token: r2.accessToken }))).toBe('UNAUTHENTICATED');
    const events = await gatehouse.app.services.prisma.auditLog.findMany({
      where: { sessionId: user.session.id, action: 'token.reuse_detected' },
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.targetId).toBe(user.user.id);
  });

  it('immediate parent within grace returns the same child', async () => {
    const user = await registerUser(gatehouse);
    const first = (await refresh(user.refreshToken)).body.data!.refreshToken;
    const second = (await refresh(user.refreshToken)).body.data!.refreshToken;
    expect(second.refreshToken).toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    expect((await gatehouse.op(IdentityDocument, {}, { token: second.accessToken })).body.data?.identity.sessionId).toBe(
      user.session.id,
    );
  });

  it('a grandparent within grace is a replay', async () => {
    const user = await registerUser(gatehouse);
    const r1 = (await refresh(user.refreshToken)).body.data!.refreshToken;
    await refresh(r1.refreshToken);
    // R0's child R1 is used, so R0 is no longer the immediate parent of the live token.
    expect(codeOf(await refresh(user.refreshToken))).toBe('REFRESH_TOKEN_REUSED');
  });

  it('immediate parent after the grace interval is a replay', async () => {
    const user = await registerUser(gatehouse);
    const r1 = (await refresh(user.refreshToken)).body.data!.refreshToken;
    await ageRotation(user.session.id);

    expect(codeOf(await refresh(user.refreshToken))).toBe('REFRESH_TOKEN_REUSED');
    expect(codeOf(await refresh(r1.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
  });

  it('50 simultaneous refreshes leave one live descendant', async () => {
    const user = await registerUser(gatehouse);
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(user.refreshToken)));
    const codes = responses.map(codeOf).filter((code) => code !== undefined);
    expect(codes).toEqual([]);
    const issued = new Set(responses.map((response) => response.body.data?.refreshToken.refreshToken));
    expect(issued.size).toBe(1);

    const rows = await gatehouse.app.services.prisma.refreshToken.findMany({ where: { sessionId: user.session.id } });
    expect(rows).toHaveLength(2);
    expect(rows.filter((row) => row.usedAt === null)).toHaveLength(1);
    // One event per refresh: the one that rotated, and 49 that got the same child within grace.
    const events = await gatehouse.app.services.prisma.auditLog.findMany({
      where: { sessionId: user.session.id, action: 'token.refreshed' },
    });
    expect(events).toHaveLength(50);
    expect(events.filter((event) => (event.metadata as { grace?: boolean }).grace === true)).toHaveLength(49);
    const [onlyToken] = [...issued];
    expect(codeOf(await refresh(onlyToken!))).toBeUndefined();
  });

  it('refresh after logoutAll is rejected', async () => {
    const user = await registerUser(gatehouse);
    const loggedOut = await gatehouse.op(LogoutAllDocument, {}, { token: user.accessToken });
    expect(loggedOut.body.data?.logoutAll).toBe(1);

    expect(codeOf(await refresh(user.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect(codeOf(await gatehouse.op(IdentityDocument, {}, { token: user.accessToken }))).toBe('UNAUTHENTICATED');
  });

  it('a session past its absolute lifetime gets SESSION_EXPIRED', async () => {
    const user = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.$executeRaw`
      UPDATE sessions SET expires_at = now() - interval '1 minute' WHERE id = ${user.session.id}::uuid`;
    await gatehouse.app.services.prisma.$executeRaw`
      UPDATE refresh_tokens SET expires_at = now() - interval '1 minute' WHERE session_id = ${user.session.id}::uuid`;

    const response = await refresh(user.refreshToken);
    expect(codeOf(response)).toBe('SESSION_EXPIRED');
    expect(response.status).toBe(401);
  });

  it('access tokens never outlive their session', async () => {
    const user = await registerUser(gatehouse);
    const [session] = await gatehouse.app.services.prisma.$queryRaw<{ expires_at: Date }[]>`
      UPDATE sessions SET expires_at = now() + interval '2 minutes' WHERE id = ${user.session.id}::uuid
      RETURNING expires_at`;
    const tokens = (await refresh(user.refreshToken)).body.data!.refreshToken;
    const payload = JSON.parse(Buffer.from(tokens.accessToken.split('.')[1]!, 'base64url').toString()) as { exp: number };
    expect(gatehouse.config.jwt.accessTokenTtlSeconds).toBeGreaterThan(120);
    expect(payload.exp).toBeLessThanOrEqual(Math.floor(session!.expires_at.getTime() / 1000));
  });

  it('a session idle past the timeout gets SESSION_EXPIRED', async () => {
    const user = await registerUser(gatehouse);
    const idleSeconds = gatehouse.config.session.idleTimeoutSeconds + 60;
    await gatehouse.app.services.prisma.$executeRaw`
      UPDATE sessions SET last_used_at = now() - make_interval(secs => ${idleSeconds})
      WHERE id = ${user.session.id}::uuid`;

    expect(codeOf(await refresh(user.refreshToken))).toBe('SESSION_EXPIRED');
  });
});

describe('refresh rotation with grace disabled', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ env: { REFRESH_REUSE_GRACE_SECONDS: '0' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('any replay of the parent revokes', async () => {
    const user = await registerUser(gatehouse);
    const r1 = (await gatehouse.op(RefreshPairDocument, { token: user.refreshToken })).body.data!.refreshToken;
    const replay = await gatehouse.op(RefreshPairDocument, { token: user.refreshToken });
    expect(codeOf(replay)).toBe('REFRESH_TOKEN_REUSED');
    const afterReplay = await gatehouse.op(RefreshPairDocument, { token: r1.refreshToken });
    expect(codeOf(afterReplay)).toBe('INVALID_REFRESH_TOKEN');
  });
});

describe('sessions shorter than an access token', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ env: { SESSION_LIFETIME_SECONDS: '600', ACCESS_TOKEN_TTL_SECONDS: '1800' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  /** Returns the `exp` claim of an access token and the expiry of its session, in seconds. */
  async function expiries(accessToken: string, sessionId: string) {
    const payload = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { exp: number };
    const session = await gatehouse.app.services.prisma.session.findUniqueOrThrow({ where: { id: sessionId } });

    return { exp: payload.exp, sessionEnd: Math.floor(session.expiresAt.getTime() / 1000) };
  }

  it('register issues no token past the session', async () => {
    const user = await registerUser(gatehouse);
    const { exp, sessionEnd } = await expiries(user.accessToken, user.session.id);
    expect(exp).toBeLessThanOrEqual(sessionEnd);
  });

  it('login issues no token past the session', async () => {
    const user = await registerUser(gatehouse);
    const login = await loginUser(gatehouse, user.email, user.password);
    const { exp, sessionEnd } = await expiries(login.accessToken, login.session.id);
    expect(exp).toBeLessThanOrEqual(sessionEnd);
  });
});
