import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type YogaServerInstance, type YogaLogger } from 'graphql-yoga';
import { GraphQLError } from 'graphql';
import { publicJwks } from './auth/keys.js';
import { graphqlPath } from './config/index.js';
import type { GatehouseContext, ServerContext } from './context.js';
import { gatehouseError } from './errors.js';
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
import { defaultMaxRequestBodyBytes, useRequestBodyLimit } from './plugins/use-request-body-limit.js';
import type { App } from './services.js';

/** The part of the context built here; plugins add identity and cookies. */
type BaseContext = Pick<GatehouseContext, 'services' | 'origin'>;

export type GatehouseServer = YogaServerInstance<ServerContext, BaseContext>;

/** True for a GraphQLError raised on purpose, also when graphql-js wrapped it with a path. */
function isDeliberateError(error: unknown): error is GraphQLError {
  if (!(error instanceof GraphQLError)) return false;

  return error.originalError == null || isDeliberateError(error.originalError);
}

/** Adapts pino to the logger interface Yoga calls for its own messages. */
function yogaLogger(logger: Logger): YogaLogger {
  return {
    debug: (...args: unknown[]) => logger.debug({ args }, 'yoga'),
    info: (...args: unknown[]) => logger.info({ args }, 'yoga'),
    warn: (...args: unknown[]) => logger.warn({ args }, 'yoga'),
    error: (...args: unknown[]) => {
      const [first] = args;
      logger.error({ err: first }, 'request failed');
    },
  };
}

/**
 * Hides every error that is not a deliberate GraphQLError: the client gets a generic
 * INTERNAL_SERVER_ERROR, or SERVICE_UNAVAILABLE when the database is unreachable.
 */
function maskError(error: unknown, message: string): Error {
  if (isDeliberateError(error)) return error;
  const path = error instanceof GraphQLError ? error.path : undefined;
  const masked = isDatabaseUnavailable(error)
    ? gatehouseError('SERVICE_UNAVAILABLE', 'The service is temporarily unavailable. Retry shortly.')
    : gatehouseError('INTERNAL_SERVER_ERROR', message);

  return new GraphQLError(masked.message, { path, extensions: masked.extensions });
}

// Prisma and pg codes for a database that cannot be reached or went away mid-query.
const unavailableCodes = new Set(['P1001', 'P1002', 'P1017', 'P2024', 'ECONNREFUSED', 'ECONNRESET', '57P01', '57P03']);

function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && unavailableCodes.has(code)) return true;
    if (cause.name === 'PrismaClientInitializationError') return true;
    cause = (cause as { originalError?: unknown; cause?: unknown }).originalError ?? cause.cause;
  }

  return false;
}

/** Builds the Yoga server from its plugins. It serves /graphql and /.well-known/jwks.json. */
export function createServer(app: App): GatehouseServer {
  const { config, logger, services } = app;
  const jwks = JSON.stringify(publicJwks(services.keys));
  const requestOrigin = createOriginResolver(config.trustedProxies);

  return createYoga<ServerContext, BaseContext>({
    schema: buildSchema(),
    graphqlEndpoint: graphqlPath,
    graphiql: config.graphiql ? { title: 'Gatehouse', credentials: 'same-origin' } : false,
    landingPage: false,
    // useRequestBodyLimit below enforces the same limit at a fraction of the CPU time.
    maxRequestBodySize: false,
    logging: yogaLogger(logger),
    maskedErrors: { maskError, errorMessage: 'Internal server error.' },
    // Each operation of a batch runs through useRateLimits on its own, so each one counts.
    batching: config.queryLimits.maxBatch > 0 ? { limit: config.queryLimits.maxBatch } : false,
    context: ({ request, req }) => ({ services, origin: requestOrigin(request, { req }) }),
    plugins: [
      useBatchGuard(),
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] }),
      useRefreshCookie(config.cookie),
      useAuthentication({
        accessTokens: services.accessTokens,
        sessions: services.sessions,
        logger,
        activity: services.activity,
      }),
      useErrorCodes(),
      ...useQueryLimits(config.queryLimits),
      useRateLimits({ rateLimits: services.rateLimits, logger }),
      useSessionCheck({ logger }),
      useRequestBodyLimit({ maxBytes: defaultMaxRequestBodyBytes }),
      {
        onRequest({ url, endResponse, fetchAPI }) {
          if (url.pathname === '/.well-known/jwks.json') {
            endResponse(
              new fetchAPI.Response(jwks, {
                headers: { 'content-type': 'application/jwk-set+json', 'cache-control': 'public, max-age=300' },
              }),
            );
          }
        },
      },
    ],
  });
}
