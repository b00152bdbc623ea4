import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LoginDocument, LogoutDocument, MeDocument, RefreshDocument, SessionsDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, refreshCookieOf, registerUser } from '../support/users.js';
import { limitedEnv, setRule } from '../rate-limit/support.js';

function attributesOf(header: string) {
  const [, ...parts] = header.split(';').map((part) => part.trim());

  return new Map(parts.map((part) => {
    const [key, value] = part.split('=');

    return [key!.toLowerCase(), value ?? true] as const;
  }));
}

type RegisteredUser = Awaited<ReturnType<typeof registerUser>>;

/** Asserts that the response expires the refresh cookie with its usual attributes. */
function expectCleared(headers: Headers, name = 'gatehouse_refresh') {
  const cookies = headers.getSetCookie();
  expect(cookies).toHaveLength(1);
  const attributes = attributesOf(cookies[0]!);
  expect(cookies[0]!.startsWith(`${name}=;`)).toBe(true);
  expect(attributes.get('max-age')).toBe('0');
  expect(attributes.get('path')).toBe('/graphql');
  expect(attributes.get('httponly')).toBe(true);
}

describe('refresh cookie', () => {
  let gatehouse: TestGatehouse;
  let secureGatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ redis: false });
    secureGatehouse = await startGatehouse({
      redis: false,
      env: { COOKIE_SECURE: 'true', REFRESH_COOKIE_SAME_SITE: 'lax', REFRESH_COOKIE_NAME: '__Secure-gh_refresh' },
    });
  });
  afterAll(async () => {
    await gatehouse?.close();
    await secureGatehouse?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  async function logoutByToken(user: RegisteredUser) {
    const response = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken });
    expect(response.body.data?.logout).toBe(true);
  }

  /** Spends the cookie's token and its child, so presenting the cookie again is a replay. */
  async function rotateTwice(user: RegisteredUser) {
    const first = await gatehouse.op(RefreshDocument, { token: user.refreshToken });
    const child = first.body.data!.refreshToken.refreshToken;
    const second = await gatehouse.op(RefreshDocument, { token: child });
    expect(second.body.data?.refreshToken.refreshToken).toBeTruthy();
  }

  async function disableUser(user: RegisteredUser) {
    await gatehouse.app.services.prisma.user.update({ where: { id: user.user.id }, data: { disabled: true } });
  }

  async function expireTokens(user: RegisteredUser) {
    await gatehouse.app.services.prisma.refreshToken.updateMany({
      where: { sessionId: user.session.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
  }

  async function expireSession(user: RegisteredUser) {
    await gatehouse.app.services.prisma.session.update({
      where: { id: user.session.id },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
  }

  it('is HttpOnly, SameSite=Strict and limited to the GraphQL path', async () => {
    const user = await registerUser(gatehouse);
    const [header] = user.response.headers.getSetCookie();
    const attributes = attributesOf(header!);
    expect(header!.startsWith(`gatehouse_refresh=${user.refreshToken};`)).toBe(true);
    expect(attributes.get('httponly')).toBe(true);
    expect(attributes.get('samesite')).toBe('Strict');
    expect(attributes.get('path')).toBe('/graphql');
    expect(attributes.has('secure')).toBe(false);
    expect(new Date(attributes.get('expires') as string).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
  });

  it('carries Secure and the configured SameSite and name', async () => {
    const user = await registerUser(secureGatehouse);
    const [header] = user.response.headers.getSetCookie();
    const attributes = attributesOf(header!);
    expect(header!.startsWith('__Secure-gh_refresh=')).toBe(true);
    expect(attributes.get('secure')).toBe(true);
    expect(attributes.get('samesite')).toBe('Lax');
  });

  it('is cleared by logout', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken });
    const [header] = response.headers.getSetCookie();
    const attributes = attributesOf(header!);
    expect(header!.startsWith('gatehouse_refresh=;')).toBe(true);
    expect(attributes.get('max-age')).toBe('0');
    expect(attributes.get('path')).toBe('/graphql');
    expect(attributes.get('httponly')).toBe(true);
  });

  it('logout with a rejected token revokes the cookie', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const response = await gatehouse.op(LogoutDocument, {}, { token: 'expired.or.forged', cookie });
    expect(response.body.data?.logout).toBe(true);

    const refresh = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(refresh.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
    const me = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(me.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('logout revokes the token and the cookie sessions', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const other = await loginUser(gatehouse, user.email, user.password);
    const response = await gatehouse.op(LogoutDocument, {}, { token: other.accessToken, cookie });
    expect(response.body.data?.logout).toBe(true);

    const refresh = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(refresh.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
    const refreshOther = await gatehouse.op(RefreshDocument, { token: other.refreshToken });
    expect(refreshOther.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
    const events = await gatehouse.app.services.prisma.auditLog.findMany({
      where: { action: 'user.logged_out', targetId: user.user.id },
    });
    expect(events.map((event) => event.sessionId).sort()).toEqual([user.session.id, other.session.id].sort());
  });

  it('logout with a just-rotated cookie revokes the session', async () => {
    // Another tab refreshed while this logout was on its way, so the cookie it carries is spent.
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const refreshed = await gatehouse.op(RefreshDocument, {}, { cookie });
    const child = refreshed.body.data!.refreshToken.refreshToken;
    const response = await gatehouse.op(LogoutDocument, {}, { cookie });
    expect(response.body.data?.logout).toBe(true);

    const refresh = await gatehouse.op(RefreshDocument, { token: child });
    expect(refresh.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('is kept when the logout fails', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    vi.spyOn(gatehouse.app.services.sessions, 'revokeSession').mockRejectedValueOnce(new Error('database down'));
    const failed = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken, cookie });
    expect(failed.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
    expect(failed.headers.getSetCookie()).toEqual([]);

    const retried = await gatehouse.op(LogoutDocument, {}, { token: user.accessToken, cookie });
    expect(retried.body.data?.logout).toBe(true);
    expectCleared(retried.headers);
  });

  it('logout with a rejected token alone is UNAUTHENTICATED', async () => {
    const response = await gatehouse.op(LogoutDocument, {}, { token: 'expired.or.forged' });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  /** Ways to end a refresh token for good, each with the code its next refresh returns. */
  const finalFailures: { name: string; code: string; kill(user: RegisteredUser): Promise<void> }[] = [
    { name: 'revoked session', code: 'INVALID_REFRESH_TOKEN', kill: (user) => logoutByToken(user) },
    { name: 'reused token', code: 'REFRESH_TOKEN_REUSED', kill: (user) => rotateTwice(user) },
    { name: 'disabled user', code: 'INVALID_REFRESH_TOKEN', kill: (user) => disableUser(user) },
    { name: 'expired token', code: 'INVALID_REFRESH_TOKEN', kill: (user) => expireTokens(user) },
    { name: 'expired session', code: 'SESSION_EXPIRED', kill: (user) => expireSession(user) },
  ];

  it.each(finalFailures)('is cleared when the refresh fails: $name', async ({ code, kill }) => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    await kill(user);
    const response = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(response.body.errors?.[0]?.extensions?.code).toBe(code);
    expectCleared(response.headers);
  });

  it('is cleared when its token is unknown', async () => {
    for (const value of ['garbage', 'A'.repeat(43)]) {
      const response = await gatehouse.op(RefreshDocument, {}, { cookie: `gatehouse_refresh=${value}` });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
      expectCleared(response.headers);
    }
  });

  it('is kept by a refresh of another session', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const other = await loginUser(gatehouse, user.email, user.password);
    const response = await gatehouse.op(RefreshDocument, { token: other.refreshToken }, { cookie });
    expect(response.body.data?.refreshToken.session.id).toBe(other.session.id);
    expect(response.body.data?.refreshToken.refreshToken).not.toBe(other.refreshToken);
    expect(response.headers.getSetCookie()).toEqual([]);

    const own = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(own.body.data?.refreshToken.session.id).toBe(user.session.id);
    const rotated = own.body.data!.refreshToken.refreshToken;
    expect(refreshCookieOf(own.headers)).toBe(`gatehouse_refresh=${rotated}`);
  });

  it('is set by a refresh naming its token', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const response = await gatehouse.op(RefreshDocument, { token: user.refreshToken }, { cookie });
    const rotated = response.body.data!.refreshToken.refreshToken;
    expect(rotated).not.toBe(user.refreshToken);
    expect(refreshCookieOf(response.headers)).toBe(`gatehouse_refresh=${rotated}`);
  });

  it('is set by a refresh without a cookie', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(RefreshDocument, { token: user.refreshToken });
    const rotated = response.body.data!.refreshToken.refreshToken;
    expect(rotated).not.toBe(user.refreshToken);
    expect(refreshCookieOf(response.headers)).toBe(`gatehouse_refresh=${rotated}`);
  });

  it('is kept when another token fails', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const revoked = await loginUser(gatehouse, user.email, user.password);
    await gatehouse.op(LogoutDocument, {}, { token: revoked.accessToken });
    const replayed = await loginUser(gatehouse, user.email, user.password);
    const child = await gatehouse.op(RefreshDocument, { token: replayed.refreshToken });
    await gatehouse.op(RefreshDocument, { token: child.body.data!.refreshToken.refreshToken });
    const cases = [
      { token: 'A'.repeat(43), code: 'INVALID_REFRESH_TOKEN' },
      { token: revoked.refreshToken, code: 'INVALID_REFRESH_TOKEN' },
      { token: replayed.refreshToken, code: 'REFRESH_TOKEN_REUSED' },
    ];
    for (const { token, code } of cases) {
      const response = await gatehouse.op(RefreshDocument, { token }, { cookie });
      expect(response.body.errors?.[0]?.extensions?.code).toBe(code);
      expect(response.headers.getSetCookie()).toEqual([]);
    }

    const own = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(own.body.data?.refreshToken.session.id).toBe(user.session.id);
  });

  it('sign-in ends the replaced cookie session', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const input = { email: user.email, password: user.password };
    const login = await gatehouse.op(LoginDocument, { input }, { cookie });
    expect(login.body.data?.login.session.id).not.toBe(user.session.id);

    const sessions = await gatehouse.op(SessionsDocument, {}, { token: login.body.data!.login.accessToken });
    expect(sessions.body.data?.sessions.map((session) => session.id)).toEqual([login.body.data!.login.session.id]);
    const old = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(old.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const replay = await gatehouse.op(RefreshDocument, { token: user.refreshToken });
    expect(replay.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
    const events = await gatehouse.app.db.prisma.auditLog.findMany({ where: { sessionId: user.session.id, action: 'session.revoked' } });
    expect(events.map((event) => (event.metadata as { reason?: string }).reason)).toEqual(['replaced_by_sign_in']);
  });

  it('failed login keeps the cookie session', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const input = { email: user.email, password: 'wrong password 1234' };
    const login = await gatehouse.op(LoginDocument, { input }, { cookie });
    expect(login.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    const me = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(me.body.data?.me?.id).toBe(user.user.id);
  });

  it('is not set by failed logins', async () => {
    const response = await gatehouse.gql({
      query: 'mutation { login(input: { email: "nobody@example.com", password: "wrong password" }) { accessToken } }',
    });
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});

describe('refresh cookie under a rate limit', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ redis: false, env: limitedEnv });
    await setRule(gatehouse, { operation: 'refreshToken', points: 1 });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('is kept when the refresh is RATE_LIMITED', async () => {
    // An unknown token clears the cookie when the refresh runs, so only the limit keeps it.
    const cookie = `gatehouse_refresh=${'A'.repeat(43)}`;
    const first = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(first.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
    expectCleared(first.headers);

    const limited = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(limited.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
    expect(limited.headers.getSetCookie()).toEqual([]);
  });
});
