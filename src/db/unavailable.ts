/**
 * Prisma codes for a database that cannot be reached or went away mid-query: P1001 not
 * reachable, P1002 timed out, P1008 socket timeout, P1017 connection closed, P2024 pool timeout,
 * P2037 too many connections. Socket and DNS codes come from `pg` and Node: a host name that does
 * not resolve yet, as in a fresh deployment, counts as unreachable too.
 */
const unavailableCodes = new Set([
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', 'P2037', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT',
  'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
]);

/**
 * Kinds that @prisma/adapter-pg 7.10 puts in `meta.driverAdapterError.cause.kind`. Raw queries
 * report them under the generic code P2010, so the kind is the only sign there.
 */
const unavailableKinds = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);

/**
 * PostgreSQL SQLSTATEs: class 08 is a connection exception, 53300 too many connections, 57P01
 * to 57P03 a server shutting down, crashed or starting up.
 */
const isUnavailableSqlState = (code: string) => /^08[0-9A-Z]{3}$/.test(code) || /^(53300|57P0[123])$/.test(code);

/**
 * Errors that `pg` and `pg-pool` 8 raise without any code, and that adapter-pg passes through
 * unchanged: a socket closed while connecting or in a query, or no connection within the
 * connect timeout of a pool or of a single client. Their messages are the only way to tell them apart.
 */
const unavailableMessages = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'timeout expired',
];

type ErrorLike = Error & { code?: unknown; meta?: { driverAdapterError?: { cause?: { kind?: unknown; code?: unknown } } } };

function signalsUnavailable(error: ErrorLike): boolean {
  const code = typeof error.code === 'string' ? error.code : undefined;
  if (code && (unavailableCodes.has(code) || isUnavailableSqlState(code))) return true;
  if (error.name === 'PrismaClientInitializationError') return true;
  const cause = error.meta?.driverAdapterError?.cause;
  if (typeof cause?.kind === 'string' && unavailableKinds.has(cause.kind)) return true;
  if (typeof cause?.code === 'string' && isUnavailableSqlState(cause.code)) return true;

  return unavailableMessages.some((message) => error.message.startsWith(message));
}

/**
 * True when an error, or one of the first five errors it wraps, reports that the database is
 * unreachable, so the client should retry later rather than report a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    if (signalsUnavailable(cause as ErrorLike)) return true;
    cause = (cause as { originalError?: unknown; cause?: unknown }).originalError ?? cause.cause;
  }

  return false;
}
