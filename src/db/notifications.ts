import { randomUUID } from 'node:crypto';
import { Socket } from 'node:net';
import type { Logger } from '../logger.js';

/** Callbacks of a notification listener. */
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
  /** `application_name` of the connection in pg_stat_activity. @default 'gatehouse-listener' */
  applicationName?: string;
  /** First delay before connecting again, in ms. It doubles up to `maxRetryDelayMs`. @default 500 */
  retryDelayMs?: number;
  /** @default 30000 */
  maxRetryDelayMs?: number;
  /**
   * Time between probes, in ms. Each probe sends a notification on the channel over the same
   * connection and expects it back within `probeTimeoutMs`, else the connection counts as
   * lost. @default 10000
   */
  probeIntervalMs?: number;
  /** @default 5000 */
  probeTimeoutMs?: number;
}

const channelShape = /^[a-z_][a-z0-9_]*$/;

type PgClient = InstanceType<(typeof import('pg'))['default']['Client']>;

/**
 * Listens on one PostgreSQL channel over its own connection (named `gatehouse-listener` in
 * pg_stat_activity), outside the pool, because LISTEN belongs to a session. When the connection
 * fails it reports `onLost` and connects again with a growing delay until it is stopped.
 *
 * A connection can also fail without an error: a NAT or load balancer that drops idle
 * connections, or a pooler in transaction mode that runs LISTEN on one server connection and
 * nothing after it. So the listener probes itself: it notifies its own channel with a payload
 * of its own, reports `onListening` only once the first probe came back, and `onLost` when a
 * later one, sent every `probeIntervalMs`, does not.
 */
export async function listenOnPostgres(options: PostgresListenerOptions, handlers: NotificationHandlers): Promise<StopListening> {
  if (!channelShape.test(options.channel)) {
    throw new Error(`Invalid channel name "${options.channel}": use lower-case letters, digits and underscores.`);
  }
  const { default: pg } = await import('pg');
  const { logger, channel } = options;
  const probeIntervalMs = options.probeIntervalMs ?? 10_000;
  const probeTimeoutMs = options.probeTimeoutMs ?? 5000;
  const firstDelay = options.retryDelayMs ?? 500;
  const maxDelay = options.maxRetryDelayMs ?? 30_000;
  const probePayload = `probe:${randomUUID()}`;
  let stopped = false;
  let client: PgClient | undefined;
  let retry: NodeJS.Timeout | undefined;
  let probe: NodeJS.Timeout | undefined;
  let probeDeadline: NodeJS.Timeout | undefined;
  let delay = firstDelay;
  let listening = false;
  // The socket of each client, created here through pg's `stream` option so that it can be destroyed.
  const sockets = new WeakMap<PgClient, Socket>();

  /**
   * Stops probing and closes `old`. A lost connection is destroyed: `end()` would send Terminate
   * and wait for the server's FIN, which a vanished peer never sends. pg 8.23 destroys the socket
   * itself when a query is under way, but not between probes. Stopping ends the connection cleanly.
   */
  const close = (old: PgClient | undefined, mode: 'destroy' | 'end') => {
    clearTimeout(probe);
    clearTimeout(probeDeadline);
    old?.removeAllListeners();
    old?.on('error', () => undefined);
    if (old && mode === 'destroy') sockets.get(old)?.destroy();
    else old?.end().catch(() => undefined);
  };

  const lose = (error: unknown, from: PgClient | undefined) => {
    if (stopped || from !== client) return;
    const wasListening = listening;
    listening = false;
    client = undefined;
    close(from, 'destroy');
    if (wasListening) handlers.onLost();
    logger.warn({ err: error, channel, retryInMs: delay }, 'database listener connection failed, connecting again');
    retry = setTimeout(() => void connect(), delay);
    delay = Math.min(delay * 2, maxDelay);
  };

  const sendProbe = (current: PgClient) => {
    probeDeadline = setTimeout(() => lose(new Error(`no notification within ${probeTimeoutMs} ms`), current), probeTimeoutMs);
    current.query('SELECT pg_notify($1, $2)', [channel, probePayload]).catch((error: unknown) => lose(error, current));
  };

  const onNotification = (current: PgClient, message: { channel: string; payload?: string }) => {
    if (message.channel !== channel || message.payload === undefined) return;
    if (message.payload !== probePayload) {
      handlers.onMessage(message.payload);
      return;
    }
    clearTimeout(probeDeadline);
    if (!listening) {
      // Only a probe that came back proves that notifications arrive on this connection.
      listening = true;
      delay = firstDelay;
      logger.info({ channel }, 'database listener connected');
      handlers.onListening();
    }
    probe = setTimeout(() => sendProbe(current), probeIntervalMs);
  };

  const connect = async () => {
    let next: PgClient | undefined;
    let socket: Socket | undefined;
    try {
      next = new pg.Client({
        connectionString: options.url,
        application_name: options.applicationName ?? 'gatehouse-listener',
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
        connectionTimeoutMillis: 5000,
        query_timeout: probeTimeoutMs,
        stream: () => {
          socket = new Socket();
          return socket;
        },
      });
      const current = next;
      if (socket) sockets.set(current, socket);
      client = current;
      current.on('error', (error) => lose(error, current));
      current.on('end', () => lose(new Error('connection ended'), current));
      current.on('notification', (message) => onNotification(current, message));
      await current.connect();
      await current.query(`LISTEN ${channel}`);
      if (stopped || client !== current) return;
      sendProbe(current);
    } catch (error) {
      if (next === undefined) client = undefined;
      lose(error, next);
    }
  };

  await connect();

  return async () => {
    stopped = true;
    clearTimeout(retry);
    const open = client;
    client = undefined;
    close(open, 'end');
  };
}
