// Gatehouse as started by `npm start` (src/main.ts), plus a count of the SQL statements it sends,
// for bench/run.ts. Runs in its own process so that its CPU time and memory can be read from /proc.
import net from 'node:net';
import { Redis } from 'ioredis';
import pg from 'pg';
import { answerUsageRequests } from './server-lifecycle.js';

/** Statements sent to PostgreSQL by this process, by kind. */
const statements = { begin: 0, commit: 0, rollback: 0, other: 0 };

function classify(text: string): keyof typeof statements {
  const head = text.trimStart().slice(0, 8).toUpperCase();
  if (head.startsWith('BEGIN')) return 'begin';
  if (head.startsWith('COMMIT')) return 'commit';
  if (head.startsWith('ROLLBACK')) return 'rollback';

  return 'other';
}

// @prisma/adapter-pg sends every statement, BEGIN and COMMIT included, through
// pg.Client#query (pg.Pool#query borrows a client and calls it), so wrapping it counts them all.
const originalQuery = pg.Client.prototype.query as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]) {
  const [config] = args;
  const text = typeof config === 'string' ? config : ((config as { text?: string } | undefined)?.text ?? '');
  statements[classify(text)] += 1;

  return originalQuery.apply(this, args);
} as typeof pg.Client.prototype.query;

// ioredis writes each command, or each pipeline or MULTI block, to its socket in one write, so
// writes to the Redis port count the round trips this process starts.
const redisPort = Number(new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379').port || 6379);
let redisWrites = 0;
const originalWrite = net.Socket.prototype.write as (...args: unknown[]) => boolean;
net.Socket.prototype.write = function countedWrite(this: net.Socket, ...args: unknown[]) {
  if (this.remotePort === redisPort) redisWrites += 1;

  return originalWrite.apply(this, args);
} as typeof net.Socket.prototype.write;

// Every command ioredis sends, pipelined ones included, passes through Redis#sendCommand. Commands
// a Lua script runs inside Redis do not, unlike the calls in INFO commandstats.
let redisCommandsSent = 0;
const originalSendCommand = Redis.prototype.sendCommand as (...args: unknown[]) => unknown;
Redis.prototype.sendCommand = function countedSendCommand(this: Redis, ...args: unknown[]) {
  redisCommandsSent += 1;

  return originalSendCommand.apply(this, args);
} as typeof Redis.prototype.sendCommand;

answerUsageRequests(() => ({ statements: { ...statements }, redisWrites, redisCommandsSent }));
// src/main.ts stops gracefully on SIGTERM; the same happens when bench/run.ts goes away.
process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));

await import('../src/main.js');
