import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGraphiqlDist } from '../../src/graphiql/assets.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const chromiumPath = '/usr/bin/chromium';
const hasChromium = existsSync(chromiumPath);
// GraphiQL's bundle ships in @graphql-yoga/graphiql. Without it, Yoga's page loads the bundle from
// unpkg.com, which this test blocks, so the editor cannot start.
const hasGraphiqlBundle = findGraphiqlDist() !== undefined;

const loginMutation = (email: string, password: string) =>
  `mutation { login(input: { email: "${email}", password: "${password}" }) { accessToken } }`;
const auditQuery = '{ auditLogs(first: 5, filter: { action: "user.login_succeeded" }) { edges { node { action actorId } } } }';

/** Opens a page that can reach only loopback addresses and records CSP violations. */
async function openPage(browser: Browser) {
  const context = await browser.newContext();
  const blocked: string[] = [];
  await context.route('**/*', (route) => {
    const { hostname } = new URL(route.request().url());
    if (hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost') return route.continue();
    blocked.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  await context.addInitScript(() => {
    const violations: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = violations;
    document.addEventListener('securitypolicyviolation', (event) => {
      violations.push(`${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (message) => consoleLines.push(message.text()));

  return { context, page, blocked, consoleLines };
}

const cspViolations = (page: Page) => page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);

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
      expect(await cspViolations(page)).toEqual([]);
      expect(consoleLines.filter((line) => /Content.Security.Policy/i.test(line))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it.skipIf(!hasGraphiqlBundle)('admin logs in and reads the audit log in GraphiQL', async () => {
    const { context, page, blocked, consoleLines } = await openPage(browser);
    try {
      const response = await page.goto(`${gatehouse.url}/graphql`);
      expect(response?.headers()['content-security-policy']).toBeDefined();
      const editor = page.locator('.graphiql-query-editor [role="textbox"], .graphiql-query-editor textarea').first();
      await editor.waitFor({ timeout: 20_000 });

      const run = async (query: string) => {
        await editor.click();
        await page.keyboard.press('ControlOrMeta+A');
        await page.keyboard.insertText(query);
        await page.keyboard.press('ControlOrMeta+Enter');
      };
      await run(loginMutation(admin.email, admin.password));
      const resultPane = page.locator('.graphiql-response');
      await expect.poll(() => resultPane.innerText(), { timeout: 20_000 }).toContain('accessToken');
      const token = /"accessToken": "([^"]+)"/.exec(await resultPane.innerText())?.[1];
      expect(token).toBeDefined();

      await page.getByText('Headers', { exact: true }).click();
      const headersEditor = page.locator('.graphiql-editor-tool [role="textbox"], .graphiql-editor-tool textarea').first();
      await headersEditor.click();
      await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${token}` }));
      await run(auditQuery);
      await expect.poll(() => resultPane.innerText(), { timeout: 20_000 }).toContain('user.login_succeeded');

      expect(blocked).toEqual([]);
      expect(await cspViolations(page)).toEqual([]);
      expect(consoleLines.filter((line) => /Content.Security.Policy/i.test(line))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
