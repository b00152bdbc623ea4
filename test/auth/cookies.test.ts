import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LogoutDocument, MeDocument, RefreshDocument } from '../generated/graphql.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { loginUser, refreshCookieOf, registerUser } from '../support/users.js';

function attributesOf(header: string) {
  const [, ...parts] = header.split(';').map((part) => part.trim());

  return new Map(parts.map((part) => {
    const [key, value] = part.split('=');

    return [key!.toLowerCase(), value ?? true] as const;
  }));
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

  it('logout with a rejected token alone is UNAUTHENTICATED', async () => {
    const response = await gatehouse.op(LogoutDocument, {}, { token: 'expired.or.forged' });
    expect(response.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('is not set by failed logins', async () => {
    const response = await gatehouse.gql({
      query: 'mutation { login(input: { email: "nobody@example.com", password: "wrong password" }) { accessToken } }',
    });
    expect(response.headers.getSetCookie()).toEqual([]);
  });
});
