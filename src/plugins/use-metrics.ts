import { timingSafeEqual } from 'node:crypto';
import { Kind, type DocumentNode, type OperationDefinitionNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ServerContext } from '../context.js';
import type { GatehouseMetrics } from '../observability/metrics.js';
import { normalizeIp } from '../request-origin.js';
import { isHostAllowed } from './use-host-allowlist.js';
import { recordOutcome, type ExecutionOutcome } from '../observability/outcomes.js';
import { executedOperation } from '../rate-limit/root-fields.js';

export interface MetricsOptions {
  metrics: GatehouseMetrics;
  /**
   * Bearer token that lets any client read the metrics. Without it, only loopback clients can.
   * A request carrying X-Forwarded-For never counts as loopback, because a reverse proxy on the
   * same host would otherwise open the endpoint to everyone behind it.
   */
  token?: string;
  /**
   * ALLOWED_HOSTS. A tokenless loopback scrape must use an allowed Host, so a web page that
   * rebinds its DNS name to 127.0.0.1 cannot read the metrics. @default [] (any host)
   */
  allowedHosts?: readonly string[];
  /** @default /metrics */
  path?: string;
}

function isLoopback(request: Request, serverContext: ServerContext): boolean {
  if (request.headers.has('x-forwarded-for') || request.headers.has('forwarded')) return false;
  const ip = normalizeIp(serverContext.req?.socket.remoteAddress);

  return ip !== null && (ip === '::1' || ip.startsWith('127.'));
}

function hasToken(request: Request, token: string | undefined): boolean {
  if (!token) return false;
  const sent = Buffer.from(/^Bearer (\S+)$/i.exec(request.headers.get('authorization') ?? '')?.[1] ?? '');
  const expected = Buffer.from(token);

  return sent.length === expected.length && timingSafeEqual(sent, expected);
}

// graphql-yoga's parser cache returns one document object per query text, so each operation of
// a document is labelled once.
const labels = new WeakMap<DocumentNode, Map<string, string>>();

/** Names an operation by its sorted root fields: bounded by the schema, unlike operationName. */
export function operationLabel(document: DocumentNode, operationName: string | null | undefined): string {
  let byName = labels.get(document);
  if (!byName) {
    byName = new Map();
    labels.set(document, byName);
  }
  const key = operationName ?? '';
  let label = byName.get(key);
  if (label === undefined) {
    label = labelOf(document, operationName);
    byName.set(key, label);
  }

  return label;
}

function labelOf(document: DocumentNode, operationName: string | null | undefined): string {
  const operations = document.definitions.filter(
    (definition): definition is OperationDefinitionNode => definition.kind === Kind.OPERATION_DEFINITION,
  );
  const operation = operations.find((op) => op.name?.value === operationName) ?? operations[0];
  if (!operation) return 'unknown';
  const fields = operation.selectionSet.selections.flatMap((selection) =>
    selection.kind === Kind.FIELD ? [selection.name.value] : [],
  );
  const names = [...new Set(fields)].sort();

  return names.length > 0 && names.length <= 3 ? names.join(',') : 'multiple';
}

/**
 * Serves Prometheus metrics at /metrics (loopback or METRICS_TOKEN only) and records each
 * executed operation: count, latency and the security counters derived from its result.
 */
export function useMetrics(options: MetricsOptions): Plugin<{ req?: ServerContext['req'] }> {
  const { metrics } = options;
  const path = options.path ?? '/metrics';
  const allowedHosts = options.allowedHosts ?? [];

  return {
    // Returns a promise only for scrapes, so other requests do not wait for a tick here.
    onRequest({ request, url, serverContext, endResponse, fetchAPI }) {
      if (url.pathname !== path) return undefined;
      const loopback = isLoopback(request, serverContext as ServerContext) && isHostAllowed(request, allowedHosts);
      if (!loopback && !hasToken(request, options.token)) {
        endResponse(new fetchAPI.Response('Forbidden', { status: 403, headers: { 'content-type': 'text/plain' } }));
        return undefined;
      }

      return metrics.registry
        .metrics()
        .then((body) => endResponse(new fetchAPI.Response(body, { headers: { 'content-type': metrics.registry.contentType } })));
    },
    onExecute({ args }) {
      const operation = operationLabel(args.document, args.operationName);
      const stopTimer = metrics.duration.startTimer({ operation });

      return {
        onExecuteDone({ result }) {
          stopTimer();
          if (Symbol.asyncIterator in (result as object)) return;
          const executed = executedOperation(args.document, args.operationName, args.variableValues);
          recordOutcome(metrics, operation, executed, result as ExecutionOutcome);
        },
      };
    },
  };
}
