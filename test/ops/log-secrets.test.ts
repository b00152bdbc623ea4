import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoginDocument, LogoutDocument, MeDocument, RefreshDocument } from '../generated/graphql.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { refreshCookieOf, registerUser, uniqueEmail } from '../support/users.js';

describe.each(backends)('log lines on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('contain no password, token or cookie', async () => {
    const firstLine = gatehouse.rawLogs.length;
    const secrets: string[] = [];
    const password = 'Secret-Password-For-Log-Scan-1';
    const wrongPassword = 'Wrong-Password-For-Log-Scan-2';
    const user = await registerUser(gatehouse, { email: uniqueEmail('scan'), password });
    secrets.push(password, user.accessToken, user.refreshToken);
    const registerCookie = refreshCookieOf(user.response.headers)!;
    secrets.push(registerCookie.split('=')[1]!);

    const bad = await gatehouse.op(LoginDocument, { input: { email: user.email, password: wrongPassword } });
    expect(bad.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');
    secrets.push(wrongPassword);
    const unknown = await gatehouse.op(LoginDocument, { input: { email: uniqueEmail('nobody'), password: wrongPassword } });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('INVALID_CREDENTIALS');

    const login = await gatehouse.op(LoginDocument, { input: { email: user.email, password } });
    const tokens = login.body.data!.login;
    secrets.push(tokens.accessToken, tokens.refreshToken);

    const refreshed = await gatehouse.op(RefreshDocument, {}, { cookie: registerCookie });
    const rotated = refreshed.body.data!.refreshToken;
    secrets.push(rotated.accessToken, rotated.refreshToken);
    // Rotating the child ends the grace period of its parent, so the replay below is reuse.
    const again = await gatehouse.op(RefreshDocument, { token: rotated.refreshToken });
    secrets.push(again.body.data!.refreshToken.accessToken, again.body.data!.refreshToken.refreshToken);
    const replay = await gatehouse.op(RefreshDocument, { token: user.refreshToken }, { cookie: registerCookie });
    expect(replay.body.errors?.[0]?.extensions?.code).toBe('REFRESH_TOKEN_REUSED');
    const rejected = await gatehouse.op(MeDocument, {}, { token: `${tokens.accessToken}x` });
    expect(rejected.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const loggedOut = await gatehouse.op(LogoutDocument, {}, { token: tokens.accessToken, cookie: `gatehouse_refresh=${tokens.refreshToken}` });
    expect(loggedOut.body.data?.logout).toBe(true);

    const lines = gatehouse.rawLogs.slice(firstLine);
    expect(lines.length).toBeGreaterThan(5);
    for (const secret of secrets) {
      expect(secret.length).toBeGreaterThan(10);
      const leaking = lines.filter((line) => line.includes(secret));
      expect(leaking, `a log line contains ${secret.slice(0, 6)}…`).toEqual([]);
      // A JWT's signature part alone would be a leak too.
      const tail = secret.split('.').at(-1)!;
      expect(lines.filter((line) => line.includes(tail))).toEqual([]);
    }
  });

  it('carry the request id on every line of a request', async () => {
    const firstLine = gatehouse.logs.length;
    const user = await registerUser(gatehouse);
    await gatehouse.op(LoginDocument, { input: { email: user.email, password: 'wrong password 5678' } }, { headers: { 'x-request-id': 'scan-bad-login' } });
    await gatehouse.op(MeDocument, {}, { token: 'broken', headers: { 'x-request-id': 'scan-bad-token' } });

    const lines = gatehouse.logs.slice(firstLine);
    expect(lines.length).toBeGreaterThan(0);
    const withoutId = lines.filter((line) => typeof line.requestId !== 'string');
    expect(withoutId).toEqual([]);
    expect(lines.some((line) => line.requestId === 'scan-bad-token' && line.msg === 'access token rejected')).toBe(true);
  });
});
