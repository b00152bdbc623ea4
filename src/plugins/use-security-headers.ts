import { randomBytes } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';

export interface SecurityHeadersOptions {
  /** Send Strict-Transport-Security (one year, subdomains). Only enable behind HTTPS. @default false */
  hsts?: boolean;
  /**
   * Extra sources for scripts, styles, fonts and fetches of the GraphiQL page, such as a CDN
   * origin. Each one widens what a script injected into that page could load. @default []
   */
  graphiqlSources?: readonly string[];
}

const nonces = new WeakMap<Request, string>();

/** Returns the Content-Security-Policy nonce of a request, creating it on first use. */
export function cspNonce(request: Request): string {
  let nonce = nonces.get(request);
  if (!nonce) {
    nonce = randomBytes(16).toString('base64');
    nonces.set(request, nonce);
  }

  return nonce;
}

// JSON responses never need to load anything: the strictest policy fits every one of them.
const apiPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * Policy of the GraphiQL page. Its inline scripts run by nonce. Styles allow 'unsafe-inline'
 * because GraphiQL's Monaco editor inserts style elements and attributes at run time that cannot
 * carry the nonce. The page fetches the Monaco worker bundles (connect-src) and starts them from
 * blob: URLs, so worker-src needs blob: and nothing else. Workers started from blob: URLs run
 * under this same policy. Nothing on the page needs 'unsafe-eval' (checked with
 * @graphql-yoga/graphiql 4.5.0 in Chromium).
 */
function graphiqlPolicy(nonce: string, sources: readonly string[]): string {
  const extra = sources.length > 0 ? ` ${sources.join(' ')}` : '';

  return [
    "default-src 'none'",
    `script-src 'self' 'nonce-${nonce}'${extra}`,
    `style-src 'self' 'unsafe-inline'${extra}`,
    `font-src 'self' data:${extra}`,
    "img-src 'self' data:",
    `connect-src 'self'${extra}`,
    "worker-src blob:",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/**
 * Sets security headers on every response: Content-Security-Policy (a nonce-based policy for
 * the GraphiQL HTML page, `default-src 'none'` for everything else), X-Content-Type-Options,
 * Referrer-Policy, X-Frame-Options and, when enabled, Strict-Transport-Security.
 */
export function useSecurityHeaders(options: SecurityHeadersOptions = {}): Plugin {
  const sources = options.graphiqlSources ?? [];

  return {
    onResponse({ request, response }) {
      const isHtml = response.headers.get('content-type')?.startsWith('text/html') ?? false;
      const policy = isHtml ? graphiqlPolicy(cspNonce(request), sources) : apiPolicy;
      response.headers.set('content-security-policy', policy);
      response.headers.set('x-content-type-options', 'nosniff');
      response.headers.set('referrer-policy', 'no-referrer');
      response.headers.set('x-frame-options', 'DENY');
      response.headers.set('cross-origin-opener-policy', 'same-origin');
      if (options.hsts) {
        response.headers.set('strict-transport-security', 'max-age=31536000; includeSubDomains');
      }
    },
  };
}
