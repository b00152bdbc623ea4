import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Response, type Worker } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGraphiqlDist } from '../../src/graphiql/assets.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { compactText, cspMessages, graphiqlParts, openPage, replaceEditorText } from '../support/graphiql-page.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
// GraphiQL's bundle ships in @graphql-yoga/graphiql. Without it, Yoga's page loads the bundle from
// unpkg.com, which this test blocks, so the editor cannot start.
const hasGraphiqlBundle = findGraphiqlDist() !== undefined;

const loginMutation = (email: string, password: string) =>
  `mutation { login(input: { email: "${email}", password: "${password}" }) { accessToken } }`;
/** Screenshot of the last GraphiQL run, kept for looking into failures. */
const screenshotPath = path.join(tmpdir(), 'gatehouse-graphiql.png');

/** True for a POST to /graphql whose request body contains `field`. */
function isGraphqlPost(reply: Response, field: string): boolean {
  const request = reply.request();
  return request.method() === 'POST' && new URL(reply.url()).pathname === '/graphql' && (request.postData() ?? '').includes(field);
}

const auditQuery = '{ auditLogs(first: 5, filter: { action: "user.login_succeeded" }) { edges { node { action actorId } } } }';

describe.skipIf(!hasChromium)('GraphiQL in Chromium', () => {
  let gatehouse: TestGatehouse;
  let browser: Browser;
  let admin: Awaited<ReturnType<typeof registerPlatformAdmin>>;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql' });
    admin = await registerPlatformAdmin(gatehouse);
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });
  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  it('page loads under the CSP and logs in with the cookie', async () => {
    const { context, page, consoleLines } = await openPage(browser);
    try {
      const response = await page.goto(`${gatehouse.url}/graphql`);
      expect(response?.status()).toBe(200);
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+'/);
      expect(await response?.text()).not.toContain('__TITLE__');

      // The same requests GraphiQL sends: same-origin fetches with credentials.
      const result = await page.evaluate(
        async ({ login, audit }) => {
          const post = async (query: string, token?: string) => {
            const headers: Record<string, string> = { 'content-type': 'application/json' };
            if (token) headers.authorization = `Bearer ${token}`;
            const reply = await fetch('/graphql', { method: 'POST', credentials: 'same-origin', headers, body: JSON.stringify({ query }) });
            return (await reply.json()) as { data?: any; errors?: any[] };
          };
          const loggedIn = await post(login);
          const refreshed = await post('mutation { refreshToken { accessToken } }');
          const events = await post(audit, refreshed.data?.refreshToken?.accessToken);
          return { loggedIn, refreshed, events, cookieVisible: document.cookie.includes('gatehouse_refresh') };
        },
        { login: loginMutation(admin.email, admin.password), audit: auditQuery },
      );
      expect(result.loggedIn.errors).toBeUndefined();
      expect(result.refreshed.errors).toBeUndefined();
      expect(result.events.errors).toBeUndefined();
      expect(result.events.data.auditLogs.edges[0].node).toEqual({ action: 'user.login_succeeded', actorId: admin.user.id });
      expect(result.cookieVisible).toBe(false);

      const [cookie] = await context.cookies(gatehouse.url + '/graphql');
      expect(cookie?.path).toBe('/graphql');
      expect(cookie?.sameSite).toBe('Strict');
      expect(cookie?.httpOnly).toBe(true);
      expect(cspMessages(consoleLines)).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it.skipIf(!hasGraphiqlBundle)('violation listeners report page and worker violations', async () => {
    const { context, page, consoleLines } = await openPage(browser);
    try {
      // Monaco may replace a worker, so only running workers are kept.
      const workers = new Set<Worker>();
      page.on('worker', (worker) => {
        workers.add(worker);
        worker.on('close', () => workers.delete(worker));
      });
      await page.goto(`${gatehouse.url}/graphql`);
      await graphiqlParts(page).queryEditor.waitFor();
      await expect.poll(() => workers.size, { timeout: 30_000 }).toBeGreaterThan(0);

      // Port 9 is another origin than the page, so connect-src 'self' blocks both fetches.
      const forbiddenUrl = new URL(gatehouse.url);
      forbiddenUrl.port = '9';
      const fetchForbidden = (url: string) => fetch(url).then(() => 'fetched', () => 'failed');
      expect(await page.evaluate(fetchForbidden, forbiddenUrl.href)).toBe('failed');
      const [worker] = workers;
      expect(await worker!.evaluate(fetchForbidden, forbiddenUrl.href)).toBe('failed');

      await expect.poll(() => cspMessages(consoleLines).join('\n'), { timeout: 30_000 }).toContain('CSP violation in page: connect-src');
      await expect.poll(() => cspMessages(consoleLines).join('\n'), { timeout: 30_000 }).toContain('CSP violation in worker: connect-src');
    } finally {
      await context.close();
    }
  }, 90_000);

  it.skipIf(!hasGraphiqlBundle)(
    'admin logs in and reads the audit log in GraphiQL',
    async () => {
      const { context, page, blocked, consoleLines, failedRequests } = await openPage(browser);
      const graphiql = graphiqlParts(page);
      /** Runs the operation in the editor with GraphiQL's run button and returns the parsed response. */
      const run = async (operation: string, field: string) => {
        await replaceEditorText(page, graphiql.queryEditor, operation);
        const replied = page.waitForResponse((reply) => isGraphqlPost(reply, field));
        await graphiql.runButton.click();
        const reply = await replied;
        const body = (await reply.json()) as { data?: any; errors?: unknown[] };
        expect(body.errors).toBeUndefined();

        return { body, request: reply.request() };
      };
      const shownResponse = () => compactText(graphiql.response);

      try {
        const pageResponse = await page.goto(`${gatehouse.url}/graphql`);
        expect(pageResponse?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[^']+'/);
        await graphiql.queryEditor.waitFor();

        const login = await run(loginMutation(admin.email, admin.password), 'login');
        const loginToken: string = login.body.data.login.accessToken;
        await expect.poll(shownResponse, { timeout: 30_000 }).toContain(loginToken);

        const cookie = (await context.cookies(`${gatehouse.url}/graphql`)).find((c) => c.name === gatehouse.config.cookie.name);
        expect(cookie?.path).toBe('/graphql');
        expect(cookie?.sameSite).toBe('Strict');
        expect(cookie?.httpOnly).toBe(true);

        // Only the browser's cookie authenticates this mutation.
        const refreshed = await run('mutation { refreshToken { accessToken } }', 'refreshToken');
        const token: string = refreshed.body.data.refreshToken.accessToken;
        await expect.poll(shownResponse, { timeout: 30_000 }).toContain(token);

        await graphiql.headersTab.click();
        await replaceEditorText(page, graphiql.toolEditor, JSON.stringify({ Authorization: `Bearer ${token}` }));
        const audit = await run(auditQuery, 'auditLogs');
        expect(audit.request.headers().authorization).toBe(`Bearer ${token}`);
        expect(audit.body.data.auditLogs.edges[0].node).toEqual({ action: 'user.login_succeeded', actorId: admin.user.id });
        await expect.poll(shownResponse, { timeout: 30_000 }).toContain(`"actorId":"${admin.user.id}"`);
        expect(await shownResponse()).toContain('"action":"user.login_succeeded"');

        expect(blocked).toEqual([]);
        expect(failedRequests).toEqual([]);
        expect(cspMessages(consoleLines)).toEqual([]);
      } finally {
        await page.screenshot({ path: screenshotPath }).catch(() => undefined);
        await context.close();
      }
    },
    120_000,
  );
});
