import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listenOnPostgres, type StopListening } from '../../src/db/notifications.js';
import { createLogger } from '../../src/logger.js';
import { createTestDatabase } from '../support/gatehouse.js';

/**
 * Starts a TCP proxy on loopback in front of PostgreSQL. `silence()` stops forwarding on every
 * open connection without closing it, as a NAT that dropped the connection would. New
 * connections pass again.
 */
async function startProxy(target: URL) {
  const pairs: { silenced: boolean; sockets: net.Socket[] }[] = [];
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port), target.hostname);
    const pair = { silenced: false, sockets: [inbound, outbound] };
    pairs.push(pair);
    inbound.on('data', (chunk) => pair.silenced || outbound.write(chunk));
    outbound.on('data', (chunk) => pair.silenced || inbound.write(chunk));
    for (const socket of pair.sockets) socket.on('error', () => undefined).on('close', () => pair.sockets.forEach((s) => s.destroy()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String((server.address() as net.AddressInfo).port);

  return {
    url: url.toString(),
    silence: () => pairs.forEach((pair) => (pair.silenced = true)),
    close: async () => {
      pairs.forEach((pair) => pair.sockets.forEach((socket) => socket.destroy()));
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Waits until `condition` holds, checking every 20 ms for at most about 5 s. */
async function until(condition: () => boolean): Promise<boolean> {
  for (let attempt = 0; attempt < 250 && !condition(); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  return condition();
}

describe('database listener', () => {
  let database: Awaited<ReturnType<typeof createTestDatabase>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  let stop: StopListening | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    proxy = await startProxy(new URL(database.url));
  });
  afterAll(async () => {
    await stop?.();
    await proxy?.close();
    await database?.drop();
  });

  it('detects a silent drop and reconnects', async () => {
    const events: string[] = [];
    const messages: string[] = [];
    stop = await listenOnPostgres(
      { url: proxy.url, channel: 'test_channel', logger: createLogger('silent'), probeIntervalMs: 100, probeTimeoutMs: 1000, retryDelayMs: 50 },
      { onMessage: (payload) => messages.push(payload), onListening: () => events.push('listening'), onLost: () => events.push('lost') },
    );
    expect(await until(() => events.length > 0)).toBe(true);
    expect(events).toEqual(['listening']);

    const sender = new pg.Client({ connectionString: database.url });
    await sender.connect();
    try {
      await sender.query(`SELECT pg_notify('test_channel', 'first')`);
      expect(await until(() => messages.includes('first'))).toBe(true);

      proxy.silence();
      expect(await until(() => events.length >= 3)).toBe(true);
      // A slow probe on a busy machine can add another lost and listening pair.
      expect(events.slice(0, 3)).toEqual(['listening', 'lost', 'listening']);

      await sender.query(`SELECT pg_notify('test_channel', 'second')`);
      expect(await until(() => messages.includes('second'))).toBe(true);
      expect(messages.every((payload) => !payload.startsWith('probe:'))).toBe(true);
    } finally {
      await sender.end();
    }
  });
});
