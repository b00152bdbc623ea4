import { pino, type DestinationStream, type Logger } from 'pino';

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
  };

  return destination ? pino(options, destination) : pino(options);
}

/**
 * Returns a logger whose lines carry the request id of `origin`: a child logger when the origin
 * has an id, the logger itself when not (start-up, timers, command-line tools). Call it only
 * where a line is written, because creating a child costs CPU time.
 */
export function requestLogger(logger: Logger, origin: { requestId?: string } | undefined): Logger {
  return origin?.requestId ? logger.child({ requestId: origin.requestId }) : logger;
}
