import type { Logger } from '../logger.js';

/** What a notification listener reports to its user. */
export interface NotificationHandlers {
  /** A payload sent with `pg_notify(channel, payload)` by a committed transaction. */
  onMessage(payload: string): void;
  /** Listening started or started again: every later notification will arrive. */
  onListening(): void;
  /** The connection was lost: notifications may be missed until `onListening` runs again. */
  onLost(): void;
}

/** Stops a listener and closes its connection. */
export type StopListening = () => Promise<void>;

export interface PostgresListenerOptions {
  url: string;
  channel: string;
  logger: Logger;
  /** First delay before connecting again; doubles up to `maxRetryDelayMs`. @default 500 */
  retryDelayMs?: number;
  /** @default 30000 */
  maxRetryDelayMs?: number;
}

const channelShape = /^[a-z_][a-z0-9_]*$/;

/**
 * Listens on one PostgreSQL channel over its own connection (named `gatehouse-listener` in
 * pg_stat_activity), outside the pool, because LISTEN belongs to a session. When the connection
 * fails it reports `onLost` and connects again with a growing delay until it is stopped. A
 * connection pooler in transaction mode cannot carry LISTEN: point DATABASE_URL at PostgreSQL
 * itself or at a pooler in session mode.
 */
export async function listenOnPostgres(options: PostgresListenerOptions, handlers: NotificationHandlers): Promise<StopListening> {
  if (!channelShape.test(options.channel)) throw new Error(`invalid channel name ${options.channel}`);
  const { default: pg } = await import('pg');
  const { logger, channel } = options;
  const firstDelay = options.retryDelayMs ?? 500;
  const maxDelay = options.maxRetryDelayMs ?? 30_000;
  let stopped = false;
  let client: InstanceType<typeof pg.Client> | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = firstDelay;

  const lose = (error: unknown) => {
    if (stopped) return;
    handlers.onLost();
    client?.removeAllListeners();
    client?.on('error', () => undefined);
    client?.end().catch(() => undefined);
    client = undefined;
    logger.warn({ err: error, channel, retryInMs: delay }, 'database listener disconnected; connecting again');
    retry = setTimeout(connect, delay);
    delay = Math.min(delay * 2, maxDelay);
  };

  const connect = async () => {
    const next = new pg.Client({
      connectionString: options.url,
      application_name: 'gatehouse-listener',
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    client = next;
    next.on('error', lose);
    next.on('end', () => lose(new Error('connection ended')));
    next.on('notification', (message) => {
      if (message.channel === channel && message.payload !== undefined) handlers.onMessage(message.payload);
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${channel}`);
    } catch (error) {
      if (client === next) lose(error);
      return;
    }
    if (stopped || client !== next) return;
    delay = firstDelay;
    logger.info({ channel }, 'database listener connected');
    handlers.onListening();
  };

  await connect();

  return async () => {
    stopped = true;
    clearTimeout(retry);
    const open = client;
    client = undefined;
    open?.removeAllListeners();
    open?.on('error', () => undefined);
    await open?.end().catch(() => undefined);
  };
}
