import { UAParser } from 'ua-parser-js';

/** Browser, OS and device type parsed from a User-Agent header, for the session list. */
export interface DeviceInfo {
  browser: string | null;
  os: string | null;
  /** mobile, tablet, console, smarttv, wearable, xr or embedded; desktop when none of these. */
  type: string | null;
}

/**
 * Parses a User-Agent with ua-parser-js. Desktops carry no device type in their User-Agent, so
 * a recognized browser or OS without one counts as a desktop; an unrecognized agent gives nulls.
 */
export function parseDevice(userAgent: string | null): DeviceInfo {
  if (!userAgent) return { browser: null, os: null, type: null };
  const result = UAParser(userAgent);
  const browser = result.browser.name ?? null;
  const os = result.os.name ? [result.os.name, result.os.version].filter(Boolean).join(' ') : null;
  const type = result.device.type ?? (browser || os ? 'desktop' : null);

  return { browser, os, type };
}
