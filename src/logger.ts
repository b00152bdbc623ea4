import { pino, type DestinationStream, type Logger } from 'pino';
import { requestScope } from './observability/request-context.js';

export type { Logger };

/**
 * Paths that never reach a log line, whatever a caller passes. Tokens, passwords and cookies
 * are replaced by "[redacted]".
 */
const redactedPaths = [
  'password',
  'currentPassword',
  'newPassword',
  'token',
  'accessToken',
  'refreshToken',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Creates the process logger: JSON lines on stdout or the given destination, secrets redacted. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'gatehouse' },
    redact: { paths: redactedPaths, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Every line written while a request runs carries its id, also from services that hold the
    // process logger rather than the request's child logger.
    mixin: (_fields: object, _level: number, logger: Logger) => {
      const scope = requestScope.getStore();
      // A request's child logger already binds the id; adding it again would repeat the key.
      if (!scope || 'requestId' in logger.bindings()) return {};

      return { requestId: scope.requestId };
    },
  };

  return destination ? pino(options, destination) : pino(options);
}
