import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { openPage } from '../support/graphiql-page.js';
import { defaultPassword, loginUser, uniqueEmail } from '../support/users.js';

/** What page scripts see of a response: only the headers that CORS lets them read. */
interface PageReply {
  status: number;
  headers: Record<string, string>;
  body: { data?: any; errors?: { extensions?: Record<string, any> }[]; extensions?: Record<string, any> };
}

/**
 * Serves a blank page for any path, and on /form a page that posts `mutation { logout }` to
 * `target` as a text/plain form, as a foreign page can without any script access to the API.
 */
function startPageServer(): Promise<Server> {
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    if (url.pathname !== '/form') return response.end('<!doctype html><title>app</title>');
    const target = url.searchParams.get('target') ?? '';
    response.end(
      `<!doctype html><form id="f" method="POST" enctype="text/plain" action="${target}">` +
        `<input name='{"query":"mutation { logout }","x":"' value='"}'></form>` +
        '<script>document.getElementById("f").submit()</script>',
    );
  });

  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const portOf = (server: Server) => (server.address() as AddressInfo).port;

/** Sends one GraphQL request from the page with fetch and `credentials: 'include'`. */
function call(page: Page, api: string, query: string, variables: object = {}, token?: string): Promise<PageReply> {
  return page.evaluate(
    async ({ api, query, variables, token }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      const reply = await fetch(api, { method: 'POST', credentials: 'include', headers, body: JSON.stringify({ query, variables }) });
      const readable: Record<string, string> = {};
      reply.headers.forEach((value, name) => (readable[name] = value));

      return { status: reply.status, headers: readable, body: await reply.json() };
    },
    { api, query, variables, token },
  );
}

const registerMutation = 'mutation R($input: RegisterInput!) { register(input: $input) { accessToken user { id } } }';
const refreshMutation = 'mutation { refreshToken { accessToken refreshToken } }';
const identityQuery = '{ identity { userId sessionId } }';
const codesOf = (reply: PageReply) => reply.body.errors?.map((error) => error.extensions?.code);

describe.skipIf(!hasChromium)('browser app on another origin', () => {
  let gatehouse: TestGatehouse;
  let appServer: Server;
  let foreignServer: Server;
  let browser: Browser;
  let api: string;
  let appUrl: string;
  /** Same site as the app and the API (localhost), but not listed in CORS_ORIGINS. */
  let foreignUrl: string;

  const cookieOf = async (context: BrowserContext) =>
    (await context.cookies(api)).find((cookie) => cookie.name === gatehouse.config.cookie.name);

  /**
   * Opens the app in a new context and registers a fresh user from it. With `routed: false`
   * the context has no page.route, because while any route is set Playwright fulfills every CORS
   * preflight itself with "allow" (crNetworkManager in playwright-core 1.65) and the server's
   * preflight response never reaches the browser. Such a context records outside requests
   * instead, and the browser's proxy setting sends them to a loopback port.
   */
  async function openAppWithUser({ routed = true } = {}) {
    const opened = routed ? await openPage(browser) : await openUnroutedPage();
    await opened.page.goto(appUrl);
    const email = uniqueEmail('spa');
    const input = { email, password: defaultPassword, displayName: 'App User', deviceName: 'browser' };
    const registered = await call(opened.page, api, registerMutation, { input });
    expect(registered.body.errors).toBeUndefined();

    return { ...opened, email, user: registered.body.data.register.user as { id: string } };
  }

  async function openUnroutedPage() {
    const context = await browser.newContext();
    context.setDefaultTimeout(30_000);
    const blocked: string[] = [];
    context.on('request', (request) => {
      if (!['localhost', '127.0.0.1'].includes(new URL(request.url()).hostname)) blocked.push(request.url());
    });

    return { context, page: await context.newPage(), blocked };
  }

  beforeAll(async () => {
    appServer = await startPageServer();
    foreignServer = await startPageServer();
    appUrl = `http://localhost:${portOf(appServer)}/`;
    foreignUrl = `http://localhost:${portOf(foreignServer)}/`;
    gatehouse = await startGatehouse({
      backend: 'postgresql',
      // Quotas count in this server's memory: loopback's buckets in the suite's shared Redis are
      // spent by other files that also let loopback draw quota.
      redis: false,
      // Only 192.0.2.1, a documentation address, is exempt, so the page's requests draw quota.
      env: { CORS_ORIGINS: appUrl.slice(0, -1), RATE_LIMIT_EXEMPT_IPS: '192.0.2.1', REGISTER_MAX_PER_IP: '100000' },
    });
    api = `http://localhost:${new URL(gatehouse.url).port}/graphql`;
    // Chromium sends every request except those to loopback to this proxy. Nothing is expected to
    // listen on loopback port 9, so such a request fails without leaving the machine.
    browser = await launchChromium(['--proxy-server=http://127.0.0.1:9']);
  });
  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
    appServer?.close();
    foreignServer?.close();
  });

  it('refreshes from the cookie alone in two tabs', async () => {
    const { context, page, blocked, user } = await openAppWithUser();
    try {
      const cookie = await cookieOf(context);
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe('Strict');
      expect(cookie?.path).toBe('/graphql');
      expect(cookie?.secure).toBe(false);
      // Playwright reports a host-only cookie (no Domain attribute) with the bare host name.
      expect(cookie?.domain).toBe('localhost');
      expect(await page.evaluate(() => document.cookie)).toBe('');

      // A reload drops the access token kept in memory. Two tabs then refresh at once.
      await page.reload();
      const secondTab = await context.newPage();
      await secondTab.goto(appUrl);
      const replies = await Promise.all([call(page, api, refreshMutation), call(secondTab, api, refreshMutation)]);
      for (const reply of replies) expect(reply.body.errors).toBeUndefined();
      const [first, second] = replies.map((reply) => reply.body.data.refreshToken);
      expect(second.refreshToken).toBe(first.refreshToken);

      const identity = await call(secondTab, api, identityQuery, {}, second.accessToken);
      expect(identity.body.data.identity.userId).toBe(user.id);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('logout in one tab ends the other tab', async () => {
    const { context, page } = await openAppWithUser();
    try {
      const secondTab = await context.newPage();
      await secondTab.goto(appUrl);
      const refreshed = await call(secondTab, api, refreshMutation);
      const token: string = refreshed.body.data.refreshToken.accessToken;

      const logout = await call(page, api, 'mutation { logout }');
      expect(logout.body.data.logout).toBe(true);
      expect(await cookieOf(context)).toBeUndefined();

      const identity = await call(secondTab, api, identityQuery, {}, token);
      expect(identity.status).toBe(401);
      expect(codesOf(identity)).toEqual(['UNAUTHENTICATED']);
      expect(identity.body.extensions?.rateLimit).toBeDefined();
      const refresh = await call(secondTab, api, refreshMutation);
      expect(codesOf(refresh)).toEqual(['INVALID_REFRESH_TOKEN']);
    } finally {
      await context.close();
    }
  });

  it('lists, revokes and logs out every session', async () => {
    const { context, page, email } = await openAppWithUser();
    try {
      const token: string = (await call(page, api, refreshMutation)).body.data.refreshToken.accessToken;
      const otherDevice = await loginUser(gatehouse, email);

      const listed = await call(page, api, '{ sessions { id current device { browser } } }', {}, token);
      const sessions: { id: string; current: boolean }[] = listed.body.data.sessions;
      expect(sessions).toHaveLength(2);
      expect(sessions.find((session) => !session.current)?.id).toBe(otherDevice.session.id);

      const revoke = 'mutation Revoke($id: ID!) { revokeSession(id: $id) }';
      const revoked = await call(page, api, revoke, { id: otherDevice.session.id }, token);
      expect(revoked.body.data.revokeSession).toBe(true);
      const otherIdentity = await call(page, api, identityQuery, {}, otherDevice.accessToken);
      expect(codesOf(otherIdentity)).toEqual(['UNAUTHENTICATED']);

      const loggedOut = await call(page, api, 'mutation { logoutAll(keepCurrent: false) }', {}, token);
      expect(loggedOut.body.data.logoutAll).toBe(1);
      const refresh = await call(page, api, refreshMutation);
      expect(codesOf(refresh)).toEqual(['INVALID_REFRESH_TOKEN']);
    } finally {
      await context.close();
    }
  });

  it('foreign page cannot spend the cookie', async () => {
    const { context, page, blocked } = await openAppWithUser({ routed: false });
    try {
      const before = await cookieOf(context);
      const foreign = await context.newPage();
      await foreign.goto(foreignUrl);
      const outcomes = await foreign.evaluate(async (target) => {
        const body = JSON.stringify({ query: 'mutation { refreshToken { accessToken } }' });
        const attempt = (init: RequestInit) =>
          fetch(target, { method: 'POST', credentials: 'include', body, ...init }).then(
            (reply) => reply.type,
            () => 'failed',
          );

        return [
          await attempt({ headers: { 'content-type': 'application/json' } }),
          await attempt({ headers: { 'content-type': 'text/plain' } }),
          await attempt({ mode: 'no-cors', headers: { 'content-type': 'text/plain' } }),
          await attempt({ mode: 'no-cors', headers: { 'content-type': 'application/json' } }),
        ];
      }, api);
      // A CORS request fails in the browser; a no-cors reply is opaque to the page.
      expect(outcomes).toEqual(['failed', 'failed', 'opaque', 'opaque']);

      const posted = foreign.waitForResponse((reply) => reply.url() === api);
      await foreign.goto(`${foreignUrl}form?target=${encodeURIComponent(api)}`);
      const formReply = await posted;
      expect(await formReply.request().headerValue('cookie')).toContain(gatehouse.config.cookie.name);
      expect(formReply.status()).toBe(403);
      expect((await formReply.json()).errors[0].extensions.code).toBe('CSRF_HEADER_MISSING');

      // The cookie was neither rotated nor revoked, so the app still refreshes with it.
      expect((await cookieOf(context))?.value).toBe(before?.value);
      const refresh = await call(page, api, refreshMutation);
      expect(refresh.body.errors).toBeUndefined();
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('app on another site gets no cookie', async () => {
    const { context, page } = await openPage(browser);
    try {
      // localhost and 127.0.0.1 are different sites, so SameSite=Strict keeps the cookie out.
      const crossSiteApi = `${gatehouse.url}/graphql`;
      await page.goto(appUrl);
      const input = { email: uniqueEmail('spa-cross'), password: defaultPassword, displayName: 'Cross Site' };
      const registered = await call(page, crossSiteApi, registerMutation, { input });
      expect(registered.body.errors).toBeUndefined();
      expect(await context.cookies(crossSiteApi)).toEqual([]);

      const refresh = await call(page, crossSiteApi, refreshMutation);
      expect(codesOf(refresh)).toEqual(['INVALID_REFRESH_TOKEN']);
    } finally {
      await context.close();
    }
  });

  // No user of its own: the tests above register 5, the register rule's limit per minute.
  it('reads rate-limit headers and RATE_LIMITED', async () => {
    const { context, page } = await openPage(browser);
    try {
      await page.goto(appUrl);
      const anonymous = await call(page, api, identityQuery);
      expect(codesOf(anonymous)).toEqual(['UNAUTHENTICATED']);
      const minute = anonymous.body.extensions?.rateLimit.windows[0];
      expect(anonymous.headers['ratelimit-limit']).toBe(String(minute.limit));
      expect(anonymous.headers['ratelimit-remaining']).toBe(String(minute.remaining));
      expect(anonymous.headers['x-request-id']).toBeDefined();

      // The register rule allows 5 per minute, and the loop stops at the first rejection.
      let rejected: PageReply | undefined;
      for (let attempt = 0; attempt < 12 && !rejected; attempt += 1) {
        const input = { email: uniqueEmail('spa-limit'), password: defaultPassword, displayName: 'Limit' };
        const reply = await call(page, api, registerMutation, { input });
        if (reply.status === 429) rejected = reply;
      }
      expect(rejected).toBeDefined();
      expect(codesOf(rejected!)).toEqual(['RATE_LIMITED']);
      const retryAfter = rejected!.body.errors![0]!.extensions!.retryAfter as number;
      expect(retryAfter).toBeGreaterThan(0);
      expect(rejected!.headers['retry-after']).toBe(String(retryAfter));
      expect(rejected!.headers['ratelimit-remaining']).toBe('0');
    } finally {
      await context.close();
    }
  });
});
