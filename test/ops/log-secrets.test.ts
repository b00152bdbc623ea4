import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  LoginDocument,
  LogoutDocument,
  MeDocument,
  RefreshDocument,
  SessionDevicesDocument,
  WorkspaceDocument,
} from '../generated/graphql.js';
import { createWorkspace } from '../rbac/helpers.js';
import { backends, startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { refreshCookieOf, registerUser, uniqueEmail } from '../support/users.js';

type LogLine = Record<string, unknown>;

/** Returns the lines with `msg` written under `requestId`. */
const linesOf = (lines: LogLine[], requestId: string, msg: string) =>
  lines.filter((line) => line.requestId === requestId && line.msg === msg);

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

  it('carry the request id from services', async () => {
    const firstLine = gatehouse.logs.length;
    const unknownToken = 'A'.repeat(43);
    const unknown = await gatehouse.op(RefreshDocument, { token: unknownToken }, { headers: { 'x-request-id': 'scan-unknown-refresh' } });
    expect(unknown.body.errors?.[0]?.extensions?.code).toBe('INVALID_REFRESH_TOKEN');

    const user = await registerUser(gatehouse);
    const rotated = await gatehouse.op(RefreshDocument, { token: user.refreshToken });
    const child = rotated.body.data!.refreshToken.refreshToken;
    // Rotating the child ends the grace period of its parent, so the replay below is reuse.
    await gatehouse.op(RefreshDocument, { token: child });
    const reused = await gatehouse.op(RefreshDocument, { token: user.refreshToken }, { headers: { 'x-request-id': 'scan-reused-refresh' } });
    expect(reused.body.errors?.[0]?.extensions?.code).toBe('REFRESH_TOKEN_REUSED');

    // The default LOGIN_MAX_FAILURES_PER_EMAIL is 10, so the eleventh attempt is rejected.
    const guessed = await registerUser(gatehouse);
    for (let attempt = 0; attempt < 10; attempt++) {
      await gatehouse.op(LoginDocument, { input: { email: guessed.email, password: 'wrong password 5678' } });
    }
    const locked = await gatehouse.op(
      LoginDocument,
      { input: { email: guessed.email, password: 'wrong password 5678' } },
      { headers: { 'x-request-id': 'scan-locked-login' } },
    );
    expect(locked.body.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

    const owner = await registerUser(gatehouse);
    const workspace = await createWorkspace(gatehouse, owner, 'Logged');
    const denied = await gatehouse.op(
      WorkspaceDocument,
      { id: workspace.id },
      // The reuse above revoked the session of `user`, so another caller sends the query.
      { token: guessed.accessToken, headers: { 'x-request-id': 'scan-denied-workspace' } },
    );
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const lines = gatehouse.logs.slice(firstLine);
    const withoutId = lines.filter((line) => typeof line.requestId !== 'string');
    expect(withoutId).toEqual([]);
    expect(linesOf(lines, 'scan-unknown-refresh', 'refresh rejected')).toHaveLength(1);
    expect(linesOf(lines, 'scan-reused-refresh', 'refresh token reuse detected; session revoked')).toHaveLength(1);
    expect(linesOf(lines, 'scan-locked-login', 'login protection rejected an attempt')).toHaveLength(1);
    expect(linesOf(lines, 'scan-denied-workspace', 'workspace access denied')).toHaveLength(1);
  });

  it('cost no child logger when quiet', async () => {
    const user = await registerUser(gatehouse);
    // The first request of a session records its use, so the second one is the plain hot path.
    await gatehouse.op(MeDocument, {}, { token: user.accessToken });
    const children = vi.spyOn(gatehouse.app.logger, 'child');
    try {
      const me = await gatehouse.op(MeDocument, {}, { token: user.accessToken, headers: { 'x-request-id': 'scan-quiet' } });
      expect(me.body.data?.me?.id).toBe(user.user.id);
      expect(me.headers.get('x-request-id')).toBe('scan-quiet');
      expect(children).not.toHaveBeenCalled();
    } finally {
      children.mockRestore();
    }
  });

  it('carry the request id on masked errors', async () => {
    const user = await registerUser(gatehouse);
    const firstLine = gatehouse.logs.length;
    // No resolver raises this error on purpose, so the client must get INTERNAL_SERVER_ERROR.
    const failure = vi
      .spyOn(gatehouse.app.services.sessions, 'listSessions')
      .mockRejectedValueOnce(new Error('listing sessions failed in a test'));
    try {
      const response = await gatehouse.op(
        SessionDevicesDocument,
        {},
        { token: user.accessToken, headers: { 'x-request-id': 'scan-masked-error' } },
      );
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(response.body)).not.toContain('listing sessions failed');
    } finally {
      failure.mockRestore();
    }

    const lines = gatehouse.logs.slice(firstLine);
    const failed = lines.filter((line) => line.msg === 'request failed');
    // Logged once, by useErrorLogging with the id, and not again by Yoga's logger.
    expect(failed).toHaveLength(1);
    expect(failed[0]?.requestId).toBe('scan-masked-error');
    expect(failed[0]?.err).toBeDefined();
  });
});

describe('log lines of failed execution hooks', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql' });
  });

  afterAll(async () => {
    await gatehouse?.close();
  });

  it('carry the request id once', async () => {
    const user = await registerUser(gatehouse);
    const firstLine = gatehouse.logs.length;
    // The deny-list check of the session fails before execution, as it does with the database down.
    const failure = vi
      .spyOn(gatehouse.app.services.sessions, 'isSessionLiveWith')
      .mockRejectedValueOnce(new Error('session check failed in a test'));
    try {
      const response = await gatehouse.op(MeDocument, {}, { token: user.accessToken, headers: { 'x-request-id': 'scan-hook-error' } });
      expect(response.body.errors?.[0]?.extensions?.code).toBe('INTERNAL_SERVER_ERROR');
      expect(failure).toHaveBeenCalledTimes(1);
    } finally {
      failure.mockRestore();
    }

    const failed = gatehouse.logs.slice(firstLine).filter((line) => line.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]?.requestId).toBe('scan-hook-error');
  });
});

describe('source files', () => {
  it('import no node:async_hooks', () => {
    const root = path.resolve(import.meta.dirname, '../../src');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter(
      (file) => file.endsWith('.ts') && !file.startsWith('generated'),
    );
    expect(files.length).toBeGreaterThan(50);
    // Once enabled, AsyncLocalStorage and async hooks make every promise in the process pay hook work.
    const importing = files.filter((file) => /['"](node:)?async_hooks['"]/.test(readFileSync(path.join(root, file), 'utf8')));
    expect(importing).toEqual([]);
  });
});
