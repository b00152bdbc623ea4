import type { Server } from 'node:http';
import type { Logger } from '../logger.js';
import type { App } from '../services.js';

/** How long in-flight requests may take to finish after the listener closes before connections are cut. */
const shutdownGraceMs = 10_000;
/** How often connections that finished their last response are closed while stopping. */
const idleSweepMs = 50;
/** How long closing the database and Redis may take after the grace period before the process exits anyway. */
const closeTimeoutMs = 10_000;

/**
 * Returns the handler of SIGTERM and SIGINT. The first signal makes readiness unavailable, and
 * requests are still served for `delayMs` (SHUTDOWN_DELAY_SECONDS), so load balancers stop
 * routing here first. Then the listener closes, in-flight requests get up to 10 s, and the process
 * exits. A second signal ends the delay at once.
 */
export function gracefulStop(http: Server, app: App, delayMs: number, logger: Logger): (signal: string) => void {
  let delay: NodeJS.Timeout | undefined;
  let draining = false;
  const drainOnce = (signal: string) => {
    if (draining) return;
    draining = true;
    drain(http, app, signal, logger);
  };

  return (signal) => {
    if (delay) {
      clearTimeout(delay);
      delay = undefined;
      drainOnce(signal);
      return;
    }
    if (draining) return;
    app.services.health.markStopping();
    if (delayMs === 0) {
      drainOnce(signal);
      return;
    }
    logger.info({ signal, delayMs }, 'stopping: readiness unavailable, still serving');
    delay = setTimeout(() => {
      delay = undefined;
      drainOnce(signal);
    }, delayMs);
  };
}

function drain(http: Server, app: App, signal: string, logger: Logger): void {
  logger.info({ signal }, 'stopping: finishing in-flight requests');
  const force = setTimeout(() => http.closeAllConnections(), shutdownGraceMs);
  force.unref();
  // A close that never ends, such as a pool waiting for a query that hangs, would keep the
  // process alive with its listener closed, so it exits with an error instead.
  const hardStop = setTimeout(() => {
    logger.error({ timeoutMs: shutdownGraceMs + closeTimeoutMs }, 'stopping timed out: exiting');
    process.exit(1);
  }, shutdownGraceMs + closeTimeoutMs);
  hardStop.unref();
  // Clients keep sending on kept-alive connections, which would stay busy until the grace
  // period cuts them mid-request. Each later response closes its connection instead, and
  // connections are closed as soon as they turn idle, so the new requests go to the closed
  // listener and are refused before any work.
  http.prependListener('request', (_request, response) => {
    if (!response.headersSent) response.setHeader('connection', 'close');
  });
  const idleSweep = setInterval(() => http.closeIdleConnections(), idleSweepMs);
  idleSweep.unref();
  http.close(() => {
    clearInterval(idleSweep);
    void app
      .close()
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        logger.error({ err: error }, 'closing connections failed');
        process.exit(1);
      });
  });
  http.closeIdleConnections();
}
