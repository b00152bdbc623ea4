import type { Browser, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';

/** Path prefix of the Monaco worker bundles that the GraphiQL page fetches and starts from blob: URLs. */
const workerBundlePath = '/graphiql/assets/monacoeditorwork/';

// Prepended to each worker bundle. A worker started from a blob: URL inherits the page's policy,
// but its violations fire on the worker scope, not on the document. Playwright receives no
// console message from Chromium for them either, so this listener logs them to the console.
const workerViolationListener =
  "self.addEventListener('securitypolicyviolation', (event) => console.error(`CSP violation in worker: ${event.violatedDirective} ${event.blockedURI}`));\n";

const loopbackHosts = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Opens a page that can reach only loopback addresses and logs every CSP violation of the page
 * and of its workers as a console line starting with "CSP violation". Actions wait at most 30 s.
 */
export async function openPage(browser: Browser) {
  const context = await browser.newContext();
  context.setDefaultTimeout(30_000);
  const blocked: string[] = [];
  await context.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (!loopbackHosts.has(url.hostname)) {
      blocked.push(url.href);
      return route.abort('blockedbyclient');
    }
    if (!url.pathname.startsWith(workerBundlePath)) return route.continue();
    const response = await route.fetch();
    return route.fulfill({ response, body: workerViolationListener + (await response.text()) });
  });
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation in page: ${event.violatedDirective} ${event.blockedURI}`);
    });
  });
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (message) => consoleLines.push(message.text()));
  const failedRequests: string[] = [];
  page.on('requestfailed', (request) => failedRequests.push(`${request.url()} ${request.failure()?.errorText}`));

  return { context, page, blocked, consoleLines, failedRequests };
}

/** Console lines that report a CSP violation: Chromium's own messages and the listeners' lines. */
export const cspMessages = (consoleLines: string[]) =>
  consoleLines.filter((line) => /Content.Security.Policy|CSP violation/i.test(line));

/**
 * Text of a Monaco editor (its rendered lines, without line numbers), without whitespace, so
 * line wrapping does not matter.
 */
export async function compactText(editor: Locator): Promise<string> {
  return (await editor.locator('.view-lines').innerText()).replace(/\s/g, '');
}

/**
 * Replaces the whole text of a Monaco editor by pasting it. Inserting text that starts with `{`
 * as typed input makes Monaco auto-close the bracket, which leaves an extra `}` at the end. A
 * paste was lost once on a loaded machine, likely because the editor had no focus yet, so it is
 * tried up to three times.
 */
export async function replaceEditorText(page: Page, editor: Locator, text: string): Promise<void> {
  const expected = text.replace(/\s/g, '');
  for (let attempt = 1; ; attempt++) {
    await editor.click();
    await page.keyboard.press('ControlOrMeta+A');
    await page.evaluate((value) => {
      const clipboardData = new DataTransfer();
      clipboardData.setData('text/plain', value);
      const paste = new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true });
      document.activeElement?.dispatchEvent(paste);
    }, text);
    try {
      await expect.poll(() => compactText(editor), { timeout: 10_000 }).toBe(expected);
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** GraphiQL's parts, located by the class names and labels of GraphiQL 5 (@graphql-yoga/graphiql 4). */
export function graphiqlParts(page: Page) {
  return {
    queryEditor: page.locator('.graphiql-query-editor .monaco-editor'),
    // The Variables and Headers editors share one section. The inactive one has the class `hidden`.
    toolEditor: page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor'),
    headersTab: page.getByRole('button', { name: 'Headers', exact: true }),
    runButton: page.getByRole('button', { name: /^Execute query/ }),
    response: page.locator('.graphiql-response .monaco-editor'),
  };
}
