import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type YogaServerInstance, type YogaLogger } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import { graphqlPath } from './config/index.js';
import { isDatabaseUnavailable } from './db/unavailable.js';
import type { GatehouseContext, ServerContext } from './context.js';
import { gatehouseError, isDeliberateError } from './errors.js';
import type { Logger } from './logger.js';
import { useAuthentication } from './plugins/use-authentication.js';
import { useBatchGuard } from './plugins/use-batch-guard.js';
import { useErrorCodes } from './plugins/use-error-codes.js';
import { useRefreshCookie } from './plugins/use-refresh-cookie.js';
import { createOriginResolver } from './request-origin.js';
import { useQueryLimits } from './plugins/use-query-limits.js';
import { useRateLimits } from './plugins/use-rate-limits.js';
import { buildSchema } from './schema/index.js';
import { useSessionCheck } from './plugins/use-session-check.js';
import { useScopeCacheRelease } from './plugins/use-scope-cache-release.js';
import { useRequestBodyLimit } from './plugins/use-request-body-limit.js';
import type { App } from './services.js';
import { findGraphiqlDist } from './graphiql/assets.js';
import { createGraphiqlRenderer, graphiqlCdnOrigin } from './graphiql/render.js';
import { corsFromAllowList, csrfRequestHeaders } from './http/cors.js';
import { useGraphiqlAssets } from './plugins/use-graphiql-assets.js';
import { useHealth } from './plugins/use-health.js';
import { isHostAllowed, useHostAllowlist } from './plugins/use-host-allowlist.js';
import { useIntrospectionControl } from './plugins/use-introspection-control.js';
import { useMetrics } from './plugins/use-metrics.js';
import { requestIdOf, useRequestId } from './plugins/use-request-id.js';
import { cspNonce, useSecurityHeaders } from './plugins/use-security-headers.js';
import { loggedErrors, useErrorLogging } from './plugins/use-error-logging.js';
import { isMaskedOriginal, rememberMaskedError } from './plugins/use-error-logging.js';
import { useRequestFailureLogging } from './plugins/use-request-failure-logging.js';
import { guardRequestHooks } from './http/request-hook-guard.js';
import { createRejectedCallerResolver } from './plugins/rejected-caller.js';
import { useRequestParseErrors } from './plugins/use-request-parse-errors.js';
import { useVaryOrigin } from './plugins/use-vary-origin.js';
import { useJsonFallback } from './plugins/use-json-fallback.js';

/** The part of the context built here; plugins add identity and cookies. */
type BaseContext = Pick<GatehouseContext, 'services' | 'origin'>;

export type GatehouseServer = YogaServerInstance<ServerContext, BaseContext>;

const ignore = () => {};

/**
 * Adapts pino to the logger interface Yoga calls for its own messages. Yoga passes no request,
 * so a line written here would carry no request id. Yoga 5.24 writes debug messages only while
 * serving a request, and useRequestFailureLogging writes them with the id instead, so they are
 * dropped. Errors in `logged` were already written with the id by useErrorLogging, and masked
 * errors are written with the id by useRequestFailureLogging, so both are skipped.
 */
function yogaLogger(logger: Logger, logged: WeakSet<object>): YogaLogger {
  return {
    debug: ignore,
    info: (...args: unknown[]) => logger.info({ args }, 'yoga'),
    warn: (...args: unknown[]) => logger.warn({ args }, 'yoga'),
    error: (...args: unknown[]) => {
      const [first] = args;
      if (typeof first === 'object' && first !== null && logged.has(first)) return;
      if (isMaskedOriginal(first)) return;
      logger.error({ err: first }, 'request failed');
    },
  };
}

/** Retry-After of a SERVICE_UNAVAILABLE response, in seconds: an estimate of a short database restart. */
const unavailableRetryAfterSeconds = 5;

/**
 * Hides every error that is not a deliberate GraphQLError: the client gets a generic
 * INTERNAL_SERVER_ERROR, or SERVICE_UNAVAILABLE when the database is unreachable.
 */
function maskError(error: unknown, message: string): Error {
  if (isDeliberateError(error)) return error;
  const path = error instanceof GraphQLError ? error.path : undefined;
  if (isDatabaseUnavailable(error)) {
    const unavailable = gatehouseError('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable. Retry shortly.');
    const http = { status: 503, headers: { 'Retry-After': String(unavailableRetryAfterSeconds) } };

    const maskedUnavailable = new GraphQLError(unavailable.message, { path, extensions: { ...unavailable.extensions, http } });
    rememberMaskedError(error, maskedUnavailable);

    return maskedUnavailable;
  }
  const internal = gatehouseError('INTERNAL_SERVER_ERROR', message);
  const masked = new GraphQLError(internal.message, { path, extensions: internal.extensions });
  rememberMaskedError(error, masked);

  return masked;
}

/**
 * Seconds that clients may cache /.well-known/jwks.json: 300, or the key reload interval when
 * that is shorter. `keys rotate` delays signing with a new key by two reload intervals plus the
 * clock skew, so an instance has one interval to load it and a client cache one interval to expire.
 */
function jwksMaxAgeSeconds(reloadSeconds: number): number {
  return reloadSeconds === 0 ? 300 : Math.min(300, reloadSeconds);
}

/** Builds the Yoga server from its plugins. It serves /graphql and /.well-known/jwks.json. */
export function createServer(app: App): GatehouseServer {
  const { config, logger, services } = app;
  const jwksCacheControl = `public, max-age=${jwksMaxAgeSeconds(config.jwt.keysReloadSeconds)}`;
  const requestOrigin = createOriginResolver(config.trustedProxies);
  const graphiqlDist = config.graphiql ? findGraphiqlDist() : undefined;
  if (config.graphiql && !graphiqlDist) {
    logger.warn(
      'GraphiQL loads its scripts from unpkg.com because @graphql-yoga/graphiql is not installed; install it to serve them from this server.',
    );
  }

  return createYoga<ServerContext, BaseContext>({
    schema: buildSchema(),
    graphqlEndpoint: graphqlPath,
    // A request for a host outside ALLOWED_HOSTS gets no page, so useHostAllowlist rejects it.
    // `storage: null` keeps GraphiQL's tabs, queries and variables out of localStorage, where a
    // login mutation with its password would otherwise stay after the tab is closed.
    graphiql: config.graphiql
      ? (request) =>
          isHostAllowed(request, config.allowedHosts)
            ? ({ title: 'Gatehouse', credentials: 'same-origin', nonce: cspNonce(request), storage: null } as object)
            : false
      : false,
    renderGraphiQL: createGraphiqlRenderer(graphiqlDist !== undefined),
    // Yoga's own health check responds to any URL that ends with this value, before any plugin runs.
    // No request URL contains a space, so useHealth serves /health instead.
    healthCheckEndpoint: ' yoga health check disabled',
    cors: corsFromAllowList(config.corsOrigins),
    landingPage: false,
    // useRequestBodyLimit below enforces MAX_BODY_BYTES at a fraction of the CPU time.
    maxRequestBodySize: false,
    logging: yogaLogger(logger, loggedErrors),
    maskedErrors: { maskError, errorMessage: 'Internal server error.' },
    // Each operation of a batch runs through useRateLimits on its own, so each one counts.
    batching: config.queryLimits.maxBatch > 0 ? { limit: config.queryLimits.maxBatch } : false,
    context: ({ request, req }) => ({
      services,
      origin: { ...requestOrigin(request, { req }), requestId: requestIdOf(request) },
    }),
    plugins: guardRequestHooks([
      useBatchGuard(),
      useRequestId({ logger }),
      useSecurityHeaders({ hsts: config.isProduction, graphiqlSources: graphiqlDist ? [] : [graphiqlCdnOrigin] }),
      // Without CORS_ORIGINS no response carries CORS headers, so none depends on Origin.
      ...(config.corsOrigins.length > 0 ? [useVaryOrigin()] : []),
      // Probes and scrapers address the instance by IP, so health and metrics come before the
      // Host check. useMetrics applies the Host check itself to tokenless loopback scrapes.
      useHealth({ health: services.health }),
      useMetrics({ metrics: services.metrics, token: config.metricsToken, allowedHosts: config.allowedHosts }),
      useHostAllowlist({ allowedHosts: config.allowedHosts, logger }),
      ...(graphiqlDist ? [useGraphiqlAssets({ dist: graphiqlDist })] : []),
      useCSRFPrevention({ requestHeaders: csrfRequestHeaders }),
      useRefreshCookie(config.cookie),
      useAuthentication({
        accessTokens: services.accessTokens,
        sessions: services.sessions,
        activity: services.activity,
      }),
      useErrorCodes(),
      ...useQueryLimits(config.queryLimits),
      useRateLimits({
        rateLimits: services.rateLimits,
        rejectedCaller: createRejectedCallerResolver({
          accessTokens: services.accessTokens,
          sessions: services.sessions,
          logger,
        }),
        originOf: (request, serverContext) => ({ ...requestOrigin(request, serverContext), requestId: requestIdOf(request) }),
        logger,
      }),
      // The deny-list check comes first, so the introspection check reads a verified identity.
      useSessionCheck(),
      useIntrospectionControl({ enabled: config.isProduction }),
      useRequestBodyLimit({ maxBytes: config.maxBodyBytes }),
      useRequestParseErrors(),
      useErrorLogging(),
      useScopeCacheRelease(),
      useRequestFailureLogging({ logger }),
      useJsonFallback(),
      {
        onRequest({ url, endResponse, fetchAPI }) {
          if (url.pathname === '/.well-known/jwks.json') {
            endResponse(
              new fetchAPI.Response(services.keys.publicJwksJson(), {
                headers: { 'content-type': 'application/jwk-set+json', 'cache-control': jwksCacheControl },
              }),
            );
          }
        },
      },
    ], { logger, maskError: (error) => maskError(error, 'Internal server error.') }),
  });
}
