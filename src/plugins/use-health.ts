import type { Plugin } from 'graphql-yoga';
import type { HealthChecks } from '../ops/health.js';
import { requestIdOf } from './use-request-id.js';

export interface HealthOptions {
  health: HealthChecks;
  /** Liveness path: 200 while the process serves HTTP and can recover by itself, else 503. @default /health */
  livenessPath?: string;
  /** Readiness path: 200 when the database is usable, 503 when not. @default /ready */
  readinessPath?: string;
}

const json = (body: unknown, status: number, fetchAPI: { Response: typeof Response }) =>
  new fetchAPI.Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
  });

/**
 * Serves GET /health (liveness) and GET /ready (readiness). Bodies hold only statuses and fixed
 * phrases, never error messages or connection strings, because both paths are public.
 */
export function useHealth(options: HealthOptions): Plugin {
  const livenessPath = options.livenessPath ?? '/health';
  const readinessPath = options.readinessPath ?? '/ready';

  return {
    // Returns a promise only for the readiness check, so other requests do not wait for a tick here.
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
      if (url.pathname === livenessPath) {
        const failure = options.health.livenessFailure();
        const body = failure ? { status: 'failed', detail: failure.detail } : { status: 'ok' };
        endResponse(json(body, failure ? 503 : 200, fetchAPI));
      } else if (url.pathname === readinessPath) {
        return options.health
          .readiness({ requestId: requestIdOf(request) })
          .then((report) => endResponse(json(report, report.status === 'unavailable' ? 503 : 200, fetchAPI)));
      }

      return undefined;
    },
  };
}
