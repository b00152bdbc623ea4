import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ChangePasswordDocument,
  IdentityDocument,
  LogoutAllDocument,
  RefreshPairDocument,
  RevokeSessionDocument,
  SessionDevicesDocument,
  SetUserDisabledDocument,
  SetUserPasswordDocument,
} from '../generated/graphql.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { defaultPassword, loginUser, refreshCookieOf, registerUser } from '../support/users.js';

const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;
const newPassword = 'a brand new passphrase';
const iphone =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

describe.each(backends)('session revocation on %s', (backend) => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const identity = (token: string) => gatehouse.op(IdentityDocument, {}, { token });
  const refresh = (token: string) => gatehouse.op(RefreshPairDocument, { token });
  const actionsOf = async (userId: string) =>
    (
      await gatehouse.app.services.prisma.auditLog.findMany({ where: { targetId: userId }, orderBy: { id: 'asc' } })
    ).map((event) => event.action);

  it('logoutAll with keepCurrent revokes the others', async () => {
    const a = await registerUser(gatehouse);
    const b = await loginUser(gatehouse, a.email);
    const c = await loginUser(gatehouse, a.email);

    const response = await gatehouse.op(LogoutAllDocument, { keepCurrent: true }, { token: a.accessToken });
    expect(response.body.data?.logoutAll).toBe(2);
    expect(codeOf(await identity(b.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await identity(c.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await refresh(b.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect((await identity(a.accessToken)).body.data?.identity.sessionId).toBe(a.session.id);
    expect(await actionsOf(a.user.id)).toContain('user.logged_out_everywhere');
  });

  it('revokeSession ends one own session', async () => {
    const a = await registerUser(gatehouse);
    const b = await loginUser(gatehouse, a.email);
    const response = await gatehouse.op(RevokeSessionDocument, { id: b.session.id }, { token: a.accessToken });
    expect(response.body.data?.revokeSession).toBe(true);
    expect(codeOf(await identity(b.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await refresh(b.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect((await identity(a.accessToken)).body.data?.identity.userId).toBe(a.user.id);
    expect(await actionsOf(a.user.id)).toContain('session.revoked');
  });

  it('revokeSession by upper-case id', async () => {
    const a = await registerUser(gatehouse);
    const b = await loginUser(gatehouse, a.email);
    const response = await gatehouse.op(RevokeSessionDocument, { id: b.session.id.toUpperCase() }, { token: a.accessToken });
    expect(response.body.data?.revokeSession).toBe(true);
    expect(codeOf(await identity(b.accessToken))).toBe('UNAUTHENTICATED');
  });

  it('revokeSession of current session by upper-case id', async () => {
    const user = await registerUser(gatehouse);
    const cookie = refreshCookieOf(user.response.headers)!;
    const response = await gatehouse.op(
      RevokeSessionDocument,
      { id: user.session.id.toUpperCase() },
      { token: user.accessToken, cookie },
    );
    expect(response.body.data?.revokeSession).toBe(true);
    const cookies = response.headers.getSetCookie();
    expect(cookies).toHaveLength(1);
    expect(cookies[0]!.startsWith('gatehouse_refresh=;')).toBe(true);
  });

  it('revokeSession of others or missing is NOT_FOUND', async () => {
    const a = await registerUser(gatehouse);
    const stranger = await registerUser(gatehouse);
    for (const id of [stranger.session.id, '00000000-0000-4000-8000-000000000000', 'not-a-uuid']) {
      const response = await gatehouse.op(RevokeSessionDocument, { id }, { token: a.accessToken });
      expect(codeOf(response)).toBe('NOT_FOUND');
      expect(response.status).toBe(404);
    }
    expect((await identity(stranger.accessToken)).body.data?.identity.userId).toBe(stranger.user.id);
  });

  it('password change on A locks out B', async () => {
    const a = await registerUser(gatehouse);
    const b = await loginUser(gatehouse, a.email);
    const changed = await gatehouse.op(
      ChangePasswordDocument,
      { currentPassword: defaultPassword, newPassword },
      { token: a.accessToken },
    );
    expect(changed.body.data?.changePassword).toBe(true);

    expect(codeOf(await identity(b.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await refresh(b.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect((await identity(a.accessToken)).body.data?.identity.sessionId).toBe(a.session.id);
    expect(codeOf(await refresh(a.refreshToken))).toBeUndefined();
    await expect(loginUser(gatehouse, a.email)).rejects.toThrow();
    expect((await loginUser(gatehouse, a.email, newPassword)).user.id).toBe(a.user.id);
    expect(await actionsOf(a.user.id)).toContain('user.password_changed');
  });

  it('password change can keep other sessions', async () => {
    const a = await registerUser(gatehouse);
    const b = await loginUser(gatehouse, a.email);
    await gatehouse.op(
      ChangePasswordDocument,
      { currentPassword: defaultPassword, newPassword, revokeOtherSessions: false },
      { token: a.accessToken },
    );
    expect((await identity(b.accessToken)).body.data?.identity.sessionId).toBe(b.session.id);
  });

  it('password change rejects bad input', async () => {
    const a = await registerUser(gatehouse);
    const wrong = await gatehouse.op(
      ChangePasswordDocument,
      { currentPassword: 'not the password', newPassword },
      { token: a.accessToken },
    );
    expect(codeOf(wrong)).toBe('INVALID_CREDENTIALS');
    expect(await actionsOf(a.user.id)).toContain('user.password_change_failed');
    const short = await gatehouse.op(
      ChangePasswordDocument,
      { currentPassword: defaultPassword, newPassword: 'short' },
      { token: a.accessToken },
    );
    expect(codeOf(short)).toBe('BAD_USER_INPUT');
    expect(short.body.errors?.[0]?.extensions?.field).toBe('newPassword');
    const anonymous = await gatehouse.op(ChangePasswordDocument, { currentPassword: defaultPassword, newPassword });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
  });

  it('admin mutations need a platform admin', async () => {
    const user = await registerUser(gatehouse);
    const target = await registerUser(gatehouse);
    const response = await gatehouse.op(
      SetUserDisabledDocument,
      { userId: target.user.id, disabled: true },
      { token: user.accessToken },
    );
    expect(codeOf(response)).toBe('FORBIDDEN');
    const anonymous = await gatehouse.op(SetUserPasswordDocument, { userId: target.user.id, newPassword });
    expect(codeOf(anonymous)).toBe('UNAUTHENTICATED');
    expect((await identity(target.accessToken)).body.data?.identity.userId).toBe(target.user.id);
  });

  it('disabling a user revokes its sessions', async () => {
    const admin = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: admin.user.id }, data: { isPlatformAdmin: true } });
    const target = await registerUser(gatehouse);
    const disabled = await gatehouse.op(
      SetUserDisabledDocument,
      { userId: target.user.id, disabled: true },
      { token: admin.accessToken },
    );
    expect(disabled.body.data?.setUserDisabled.id).toBe(target.user.id);
    expect(codeOf(await identity(target.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await refresh(target.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect(await actionsOf(target.user.id)).toContain('user.disabled');

    const missing = await gatehouse.op(
      SetUserDisabledDocument,
      { userId: '00000000-0000-4000-8000-000000000000', disabled: true },
      { token: admin.accessToken },
    );
    expect(codeOf(missing)).toBe('NOT_FOUND');
  });

  it('admin revocation by upper-case id', async () => {
    const admin = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: admin.user.id }, data: { isPlatformAdmin: true } });
    const disabledTarget = await registerUser(gatehouse);
    const disabled = await gatehouse.op(
      SetUserDisabledDocument,
      { userId: disabledTarget.user.id.toUpperCase(), disabled: true },
      { token: admin.accessToken },
    );
    expect(disabled.body.data?.setUserDisabled.id).toBe(disabledTarget.user.id);
    expect(codeOf(await identity(disabledTarget.accessToken))).toBe('UNAUTHENTICATED');

    const passwordTarget = await registerUser(gatehouse);
    const passwordSet = await gatehouse.op(
      SetUserPasswordDocument,
      { userId: passwordTarget.user.id.toUpperCase(), newPassword },
      { token: admin.accessToken },
    );
    expect(passwordSet.body.data?.setUserPassword).toBe(true);
    expect(codeOf(await identity(passwordTarget.accessToken))).toBe('UNAUTHENTICATED');
  });

  it('admin cannot disable themselves', async () => {
    const admin = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: admin.user.id }, data: { isPlatformAdmin: true } });
    const response = await gatehouse.op(
      SetUserDisabledDocument,
      { userId: admin.user.id, disabled: true },
      { token: admin.accessToken },
    );
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    expect(response.body.errors?.[0]?.extensions?.field).toBe('userId');
    const row = await gatehouse.app.services.prisma.user.findUniqueOrThrow({ where: { id: admin.user.id } });
    expect(row.disabled).toBe(false);
    expect(await actionsOf(admin.user.id)).not.toContain('user.disabled');
    expect((await identity(admin.accessToken)).body.data?.identity.userId).toBe(admin.user.id);
    expect(codeOf(await refresh(admin.refreshToken))).toBeUndefined();
  });

  it('admin cannot disable themselves by another spelling of their id', async () => {
    const admin = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: admin.user.id }, data: { isPlatformAdmin: true } });
    const response = await gatehouse.op(
      SetUserDisabledDocument,
      { userId: admin.user.id.toUpperCase(), disabled: true },
      { token: admin.accessToken },
    );
    expect(codeOf(response)).toBe('BAD_USER_INPUT');
    const row = await gatehouse.app.services.prisma.user.findUniqueOrThrow({ where: { id: admin.user.id } });
    expect(row.disabled).toBe(false);
    expect((await identity(admin.accessToken)).body.data?.identity.userId).toBe(admin.user.id);
  });

  it('admin password reset revokes every session', async () => {
    const admin = await registerUser(gatehouse);
    await gatehouse.app.services.prisma.user.update({ where: { id: admin.user.id }, data: { isPlatformAdmin: true } });
    const target = await registerUser(gatehouse);
    const response = await gatehouse.op(
      SetUserPasswordDocument,
      { userId: target.user.id, newPassword },
      { token: admin.accessToken },
    );
    expect(response.body.data?.setUserPassword).toBe(true);
    expect(codeOf(await identity(target.accessToken))).toBe('UNAUTHENTICATED');
    expect(codeOf(await refresh(target.refreshToken))).toBe('INVALID_REFRESH_TOKEN');
    expect((await loginUser(gatehouse, target.email, newPassword)).user.id).toBe(target.user.id);
    const events = await gatehouse.app.services.prisma.auditLog.findMany({
      where: { targetId: target.user.id, action: 'user.password_set_by_admin' },
    });
    expect(events).toHaveLength(1);
    expect(events[0]?.actorId).toBe(admin.user.id);
  });

  it('sessions show the parsed device', async () => {
    const user = await registerUser(gatehouse);
    const response = await gatehouse.op(SessionDevicesDocument, {}, { token: user.accessToken });
    expect(response.body.data?.sessions[0]?.device).toEqual({ browser: null, os: null, type: null });
    const phone = await gatehouse.gql({
      query: 'mutation($input: LoginInput!) { login(input: $input) { accessToken } }',
      variables: { input: { email: user.email, password: defaultPassword } },
      headers: { 'user-agent': iphone },
    });
    const token = (phone.body.data as { login: { accessToken: string } }).login.accessToken;
    const list = await gatehouse.op(SessionDevicesDocument, {}, { token });
    const current = list.body.data?.sessions.find((session) => session.current);
    expect(current?.device).toEqual({ browser: 'Mobile Safari', os: 'iOS 17.0', type: 'mobile' });
  });

  it('use updates lastUsedAt at most once a minute', async () => {
    const user = await registerUser(gatehouse);
    const prisma = gatehouse.app.services.prisma;
    const backdate = () =>
      prisma.$executeRaw`UPDATE sessions SET last_used_at = now() - interval '1 hour', ip = NULL
        WHERE id = ${user.session.id}::uuid`;
    const lastUsed = async () => prisma.session.findUniqueOrThrow({ where: { id: user.session.id } });

    await backdate();
    await identity(user.accessToken);
    const touched = await lastUsed();
    expect(Date.now() - touched.lastUsedAt.getTime()).toBeLessThan(30 * 60_000);
    expect(touched.ip).toBe('127.0.0.1');

    await backdate();
    await identity(user.accessToken);
    expect(Date.now() - (await lastUsed()).lastUsedAt.getTime()).toBeGreaterThan(30 * 60_000);
  });
});

describe('password change and the login lockout', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ env: { LOGIN_MAX_FAILURES_PER_EMAIL: '3' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  const changePassword = (token: string, currentPassword: string) =>
    gatehouse.op(ChangePasswordDocument, { currentPassword, newPassword }, { token });

  it('wrong current passwords lock the email', async () => {
    const user = await registerUser(gatehouse);
    for (let guess = 0; guess < 3; guess += 1) {
      expect(codeOf(await changePassword(user.accessToken, `wrong guess ${guess}`))).toBe('INVALID_CREDENTIALS');
    }

    const locked = await changePassword(user.accessToken, defaultPassword);
    expect(codeOf(locked)).toBe('RATE_LIMITED');
    expect(locked.status).toBe(429);
    await expect(loginUser(gatehouse, user.email)).rejects.toThrow('RATE_LIMITED');
  });

  it('a successful change resets the failures', async () => {
    const user = await registerUser(gatehouse);
    expect(codeOf(await changePassword(user.accessToken, 'wrong guess 0'))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await changePassword(user.accessToken, 'wrong guess 1'))).toBe('INVALID_CREDENTIALS');
    const changed = await changePassword(user.accessToken, defaultPassword);
    expect(changed.body.data?.changePassword).toBe(true);

    expect(codeOf(await changePassword(user.accessToken, 'wrong guess 2'))).toBe('INVALID_CREDENTIALS');
    expect(codeOf(await changePassword(user.accessToken, 'wrong guess 3'))).toBe('INVALID_CREDENTIALS');
    expect((await loginUser(gatehouse, user.email, newPassword)).user.id).toBe(user.user.id);
  });
});

describe('session revocation without redis', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql', redis: false });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('revokeSession by upper-case id', async () => {
    const a = await registerUser(gatehouse);
    const b = await loginUser(gatehouse, a.email);
    const response = await gatehouse.op(RevokeSessionDocument, { id: b.session.id.toUpperCase() }, { token: a.accessToken });
    expect(response.body.data?.revokeSession).toBe(true);
    expect(codeOf(await gatehouse.op(IdentityDocument, {}, { token: b.accessToken }))).toBe('UNAUTHENTICATED');
  });
});
