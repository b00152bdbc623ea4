import { createServer as createHttpServer } from 'node:http';
import { ConfigError, loadConfig } from './config/index.js';
import { createLogger } from './logger.js';
import { createServer } from './server.js';
import { guardRequestTarget } from './http/request-target.js';
import { gracefulStop } from './http/graceful-stop.js';
import { openApp, type App } from './services.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exit(78); // EX_CONFIG from sysexits.h
  }
  const logger = createLogger(config.logLevel);
  // SIGHUP reads the key file again at once. Without a listener, SIGHUP would end the process, so
  // the listener is in place before start-up, and a SIGHUP during start-up reloads after it.
  let app: App | undefined;
  let reloadWhenStarted = false;
  const reloadKeys = (started: App) => {
    if (!started.keyReloader) {
      logger.warn('SIGHUP ignored: JWT_PRIVATE_JWKS contains the keys, so there is no file to read again');
      return;
    }
    void started.keyReloader.reload();
  };
  process.on('SIGHUP', () => {
    if (app) reloadKeys(app);
    else reloadWhenStarted = true;
  });
  logger.info({ env: config.env, database: config.databaseUrl ? 'postgresql' : 'pglite' }, 'starting');
  const opened = await openApp(config, logger).catch((error: unknown) => {
    if (error instanceof ConfigError) throw error;
    logger.fatal({ err: error }, 'start failed');
    process.exit(1);
  });
  app = opened;
  if (reloadWhenStarted) reloadKeys(opened);
  const yoga = createServer(opened);
  const http = createHttpServer(guardRequestTarget(yoga, logger));
  // A port in use or a host that is not local fails here. Without this listener Node would print
  // an unhandled 'error' event and leave the embedded database open.
  http.once('error', (error: NodeJS.ErrnoException) => {
    logger.error({ err: error, host: config.host, port: config.port, code: error.code }, 'listening failed');
    void opened.close().finally(() => process.exit(1));
  });
  http.listen(config.port, config.host, () => {
    const address = http.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    logger.info({ host: config.host, port, graphql: `http://${config.host}:${port}/graphql` }, 'listening');
  });

  const stop = gracefulStop(http, opened, config.shutdownDelaySeconds * 1000, logger);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`gatehouse: ${error.message}\n`);
    process.exit(78);
  }
  process.stderr.write(`gatehouse: failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
