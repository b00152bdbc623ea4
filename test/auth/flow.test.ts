import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogoutDocument, MeDocument, RefreshDocument, SessionsDocument } from '../generated/graphql.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, refreshCookieOf, registerUser, uniqueEmail } from '../support/users.js';

describe.each(backends)('authentication flow on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('register, me, sessions, refresh and logout', async () => {
    const email = uniqueEmail('flow');
    const registered = await registerUser(gatehouse, { email: `  ${email.toUpperCase()} `, deviceName: 'laptop' });
    expect(registered.user.email).toBe(email);
    expect(registered.session.current).toBe(true);
    expect(registered.session.deviceName).toBe('laptop');
    expect(registered.session.ip).toBe('127.0.0.1');
    expect(registered.response.status).toBe(200);

    const me = await gatehouse.op(MeDocument, {}, { token: registered.accessToken });
    expect(me.body.data?.me?.email).toBe(email);

    const phone = await loginUser(gatehouse, email);
    const sessions = await gatehouse.op(SessionsDocument, {}, { token: phone.accessToken });
    const list = sessions.body.data?.sessions ?? [];
    expect(list).toHaveLength(2);
    expect(list.filter((session) => session.current).map((session) => session.id)).toEqual([phone.session.id]);

    const refreshed = await gatehouse.op(RefreshDocument, { token: registered.refreshToken });
    const tokens = refreshed.body.data?.refreshToken;
    expect(tokens?.session.id).toBe(registered.session.id);
    expect(tokens?.refreshToken).not.toBe(registered.refreshToken);
    expect(tokens?.accessToken).not.toBe(registered.accessToken);

    const loggedOut = await gatehouse.op(LogoutDocument, {}, { token: tokens!.accessToken });
    expect(loggedOut.body.data?.logout).toBe(true);
    expect(refreshCookieOf(loggedOut.headers)).toBe('gatehouse_refresh=');

    const afterLogout = await gatehouse.op(MeDocument, {}, { token: tokens!.accessToken });
    expect(afterLogout.status).toBe(401);
    expect(afterLogout.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    // The first access token of the same session dies with it.
    const oldAccess = await gatehouse.op(MeDocument, {}, { token: registered.accessToken });
    expect(oldAccess.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');

    const refreshAfterLogout = await gatehouse.op(RefreshDocument, { token: tokens!.refreshToken });
    expect(refreshAfterLogout.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
    expect(refreshAfterLogout.status).toBe(401);

    // The other device is untouched.
    const phoneMe = await gatehouse.op(MeDocument, {}, { token: phone.accessToken });
    expect(phoneMe.body.data?.me?.email).toBe(email);
  });

  it('refresh reads the cookie when no argument is given', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers);
    expect(cookie).toBe(`gatehouse_refresh=${user.refreshToken}`);

    const refreshed = await gatehouse.op(RefreshDocument, {}, { cookie });
    const tokens = refreshed.body.data?.refreshToken;
    expect(tokens?.user.id).toBe(user.user.id);
    expect(refreshCookieOf(refreshed.headers)).toBe(`gatehouse_refresh=${tokens?.refreshToken}`);

    const missing = await gatehouse.op(RefreshDocument, {});
    expect(missing.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('logout with only the refresh cookie', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers);
    const loggedOut = await gatehouse.op(LogoutDocument, {}, { cookie });
    expect(loggedOut.body.data?.logout).toBe(true);

    const me = await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    expect(me.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const refresh = await gatehouse.op(RefreshDocument, {}, { cookie });
    expect(refresh.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');
  });

  it('logout without any credential is UNAUTHENTICATED', async () => {
    const response = await gatehouse.op(LogoutDocument, {});
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('me is null for anonymous callers', async () => {
    const response = await gatehouse.op(MeDocument, {});
    expect(response.body.data?.me).toBeNull();
    expect(response.body.errors).toBeUndefined();
  });

  it('login failures share one error for unknown email and wrong password', async () => {
    const user = await registerUser(gatehouse);
    const wrongPassword = await gatehouse.gql({
      query: 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
      variables: { input: { email: user.email, password: 'not the password at all' } },
    });
    const unknownEmail = await gatehouse.gql({
      query: 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
      variables: { input: { email: uniqueEmail('nobody'), password: 'not the password at all' } },
    });
    expect(wrongPassword.status).toBe(unknownEmail.status);
    expect(wrongPassword.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    expect(unknownEmail.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    expect(wrongPassword.body.errors?.[0]?.message).toBe(unknownEmail.body.errors?.[0]?.message);
  });

  it('records each security event with its change', async () => {
    const user = await registerUser(gatehouse);
    await gatehouse.gql({
      query: 'mutation { login(input: { email: "' + user.email + '", password: "wrong password 123" }) { accessToken } }',
    });
    const login = await loginUser(gatehouse, user.email);
    const refreshed = await gatehouse.op(RefreshDocument, { token: login.refreshToken });
    await gatehouse.op(LogoutDocument, {}, { token: refreshed.body.data!.refreshToken.accessToken });

    const events = await gatehouse.app.services.prisma.auditLog.findMany({
      where: { OR: [{ actorId: user.user.id }, { targetId: user.user.id }] },
      orderBy: { id: 'asc' },
    });
    expect(events.map((event) => event.action)).toEqual([
      'user.registered',
      'user.login_failed',
      'user.login_succeeded',
      'token.refreshed',
      'user.logged_out',
    ]);
    expect(events.every((event) => event.ip === '127.0.0.1')).toBe(true);
    expect(events[2]?.sessionId).toBe(login.session.id);
  });

  it('stores refresh tokens only as SHA-256 hashes', async () => {
    const user = await registerUser(gatehouse);
    const rows = await gatehouse.app.services.prisma.refreshToken.findMany({
      where: { sessionId: user.session.id },
    });
    expect(rows).toHaveLength(1);
    expect(rows[0]?.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]?.tokenHash).not.toContain(user.refreshToken);
    const { createHash } = await import('node:crypto');
    expect(rows[0]?.tokenHash).toBe(createHash('sha256').update(user.refreshToken).digest('hex'));
  });
});
