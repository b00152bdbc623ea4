import type { Config } from './index.js';

/** Hosts whose plain-HTTP pages browsers treat as secure contexts. */
const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Lists settings that start but likely do not work as meant, for one warning line each. In
 * production, a page on a plain-HTTP origin loads the scripts that hold its access token
 * unencrypted. Chrome also counts it as another site than Gatehouse on HTTPS, so a refresh
 * cookie with SameSite strict or lax does not go with its requests.
 */
export function configWarnings(config: Config): string[] {
  if (!config.isProduction) return [];
  const plain = config.corsOrigins.filter((origin) => {
    const url = new URL(origin);
    return url.protocol === 'http:' && !loopbackHosts.has(url.hostname);
  });
  if (plain.length === 0) return [];
  const cookie = config.cookie.sameSite === 'none' ? '' : ' In Chrome their requests also carry no refresh cookie.';

  return [
    `CORS_ORIGINS lists plain-HTTP origins in production (${plain.join(', ')}): their pages load their scripts unencrypted.${cookie} Serve them over HTTPS.`,
  ];
}
