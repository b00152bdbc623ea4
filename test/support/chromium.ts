import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

/** True when Chromium exists at `chromiumPath`. Browser tests skip without it. */
export const hasChromium = existsSync(chromiumPath);

/**
 * Starts headless Chromium without its background traffic (component updates, sync, QUIC).
 * `extraArgs` adds command-line switches, such as a proxy for requests to other hosts.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      ...extraArgs,
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
