import { createLogger, type Logger } from '../../src/logger.js';

/** Returns a debug logger and the lines it writes, parsed, for checks on log output. */
export function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('debug', { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });

  return { logger, lines };
}

/** Creates a promise with its resolve and reject functions, so a test decides when a fill ends. */
export function deferred() {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((onResolve, onReject) => {
    resolve = onResolve;
    reject = onReject;
  });

  return { promise, resolve, reject };
}
