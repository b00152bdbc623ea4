import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGraphiqlDist } from '../../src/graphiql/assets.js';
import { registerPlatformAdmin } from '../support/admins.js';
import { hasChromium, launchChromium } from '../support/chromium.js';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';
import { graphiqlParts, openPage, replaceEditorText } from '../support/graphiql-page.js';

/** Every value in the page's localStorage and sessionStorage. */
const storedValues = () => [...Object.values(localStorage), ...Object.values(sessionStorage)].map(String);

describe.skipIf(!hasChromium || !findGraphiqlDist())('GraphiQL browser storage', () => {
  let gatehouse: TestGatehouse;
  let browser: Browser;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await gatehouse?.close();
  });

  it('keeps no login password after a reload', async () => {
    const admin = await registerPlatformAdmin(gatehouse);
    const { context, page, blocked } = await openPage(browser);
    const graphiql = graphiqlParts(page);
    try {
      await page.goto(`${gatehouse.url}/graphql`);
      await graphiql.queryEditor.waitFor();
      // The login mutation of step 1 in docs/audit-log.md.
      const login = `mutation { login(input: { email: "${admin.email}", password: "${admin.password}" }) { accessToken } }`;
      await replaceEditorText(page, graphiql.queryEditor, login);
      const replied = page.waitForResponse((reply) => reply.request().method() === 'POST' && (reply.request().postData() ?? '').includes('login'));
      await graphiql.runButton.click();
      const body = (await (await replied).json()) as { errors?: unknown[] };
      expect(body.errors).toBeUndefined();

      await page.reload();
      await graphiql.queryEditor.waitFor();
      const values = await page.evaluate(storedValues);
      expect(values.filter((value) => value.includes(admin.password))).toEqual([]);
      expect(blocked).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);
});
