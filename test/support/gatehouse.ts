import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import pg from 'pg';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { createServer, type GatehouseServer } from '../../src/server.js';
import { openApp, type App } from '../../src/services.js';
import { guardRequestTarget } from '../../src/http/request-target.js';

export type Backend = 'postgresql' | 'pglite';
export const backends: Backend[] = ['postgresql', 'pglite'];

/** Creates an empty database with every migration applied, copied from the template. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = inject('postgresAdminUrl');
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export interface GraphQLRequest {
  query: string;
  variables?: Record<string, unknown>;
  operationName?: string;
  token?: string;
  cookie?: string;
  headers?: Record<string, string>;
}

export interface GraphQLResponse<TData = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: {
    data?: TData | null;
    errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
    extensions?: Record<string, unknown>;
  };
}

export interface TestGatehouse {
  app: App;
  config: Config;
  yoga: GatehouseServer;
  /** Base URL of the real HTTP server, such as http://127.0.0.1:40123. */
  url: string;
  /** Every log line written, parsed. */
  logs: Record<string, unknown>[];
  /** Every log line as written, for secret scans. */
  rawLogs: string[];
  gql<TData = Record<string, any>>(request: GraphQLRequest): Promise<GraphQLResponse<TData>>;
  /** Sends a typed document from test/documents. */
  op<TData, TVariables>(
    document: TypedDocumentNode<TData, TVariables>,
    variables?: TVariables,
    options?: Omit<GraphQLRequest, 'query' | 'variables'>,
  ): Promise<GraphQLResponse<TData>>;
  close(): Promise<void>;
}

export interface StartOptions {
  backend?: Backend;
  redis?: boolean;
  env?: Record<string, string>;
  /** Reuse this database URL instead of creating one. */
  databaseUrl?: string;
  /** Reuse this data folder (signing key, PGlite files) instead of a new one. */
  dataDir?: string;
}

/** Starts Gatehouse on a real HTTP server on a free loopback port, on a fresh database. */
export async function startGatehouse(options: StartOptions = {}): Promise<TestGatehouse> {
  const backend = options.backend ?? 'postgresql';
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'gatehouse-data-'));
  const database = backend === 'postgresql' && !options.databaseUrl ? await createTestDatabase() : undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    BCRYPT_COST: '4',
    LOG_LEVEL: 'debug',
    DATABASE_URL: backend === 'postgresql' ? (options.databaseUrl ?? database?.url) : undefined,
    REDIS_URL: options.redis === false ? undefined : inject('redisUrl'),
    // Every test sends from loopback; tests of rate limits override this with another address.
    RATE_LIMIT_EXEMPT_IPS: '127.0.0.1,::1',
    ...options.env,
  });
  const rawLogs: string[] = [];
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(config.logLevel, {
    write(line: string) {
      rawLogs.push(line);
      logs.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  const app = await openApp(config, logger);
  const yoga = createServer(app);
  const server: Server = createHttpServer(guardRequestTarget(yoga, logger));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

  const gql: TestGatehouse['gql'] = async (request) => {
      const headers: Record<string, string> = { 'content-type': 'application/json', ...request.headers };
      if (request.token) headers.authorization = `Bearer ${request.token}`;
      if (request.cookie) headers.cookie = request.cookie;
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          query: request.query,
          variables: request.variables,
          operationName: request.operationName,
        }),
      });

    return { status: response.status, headers: response.headers, body: (await response.json()) as never };
  };

  return {
    app,
    config,
    yoga,
    url,
    logs,
    rawLogs,
    gql,
    op(document, variables, options = {}) {
      return gql({ ...options, query: print(document), variables: variables as Record<string, unknown> });
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.close();
      await database?.drop();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface InstancePair {
  first: TestGatehouse;
  second: TestGatehouse;
  /** Stops both instances and drops their database. */
  close(): Promise<void>;
}

/**
 * Starts two instances on one new database, the test Redis and one key folder, as a deployment
 * of several instances runs. `env` applies to both.
 */
export async function startInstancePair(env: Record<string, string> = {}): Promise<InstancePair> {
  const database = await createTestDatabase();
  const first = await startGatehouse({ databaseUrl: database.url, env });
  const second = await startGatehouse({ databaseUrl: database.url, dataDir: first.config.dataDir, env });

  return {
    first,
    second,
    async close() {
      await second.close();
      await first.close();
      await database.drop();
    },
  };
}
