// Baseline server: graphql-yoga with a tiny schema and no authentication, started by bench/run.ts
// in its own process so that its CPU time and memory can be read from /proc.
import { createServer } from 'node:http';
import { createSchema, createYoga, type Plugin } from 'graphql-yoga';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config/index.js';
import { useRequestBodyLimit } from '../src/plugins/use-request-body-limit.js';
import { answerUsageRequests, exitWithParent } from './server-lifecycle.js';

const port = Number(process.env.PORT);

// The same field names as the Gatehouse query in bench/workload.ts, resolved from memory.
const schema = createSchema({
  typeDefs: /* GraphQL */ `
    type Identity {
      userId: ID!
      sessionId: ID!
    }
    enum Role {
      OWNER
    }
    type Query {
      identity: Identity!
      myRole(workspaceId: ID!): Role
    }
  `,
  resolvers: {
    Query: {
      identity: () => ({ userId: '8a3f0c52-6a0e-4f7e-9d1c-2f1b7c9e4d11', sessionId: '0b6f3d8e-2c4a-4e59-a1f7-93d2c5e8b6a0' }),
      myRole: () => 'OWNER',
    },
  },
});

// The same body limit as Gatehouse. graphql-yoga's default one pipes every body through a web
// stream. That alone more than doubles this server's CPU time per request: 0.08 ms against
// 0.2 ms, measured pinned to one core on Node 20. The baseline would hide that much of
// Gatehouse's cost. YOGA_STOCK=1 keeps graphql-yoga's defaults instead, for the reference row
// of a server as graphql-yoga ships it.
const stock = process.env.YOGA_STOCK === '1';

/**
 * YOGA_REDIS_URL: one Lua script call per request before execution, as Gatehouse's quota check
 * makes, with no other authorization work, through a client with auto-pipelining as Gatehouse's
 * (src/state/redis.ts). The reference row of this server shows what the Redis call itself costs.
 */
async function redisCallPlugin(url: string): Promise<Plugin> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, enableAutoPipelining: true });
  redis.defineCommand('benchCount', { lua: "return {redis.call('INCRBY', KEYS[1], 1), redis.call('PTTL', KEYS[1])}", numberOfKeys: 1 });
  const count = (redis as unknown as { benchCount: (key: string) => Promise<number[]> }).benchCount.bind(redis);
  await count('bench:yoga');

  return {
    async onExecute() {
      await count('bench:yoga');
    },
  };
}

const redisUrl = process.env.YOGA_REDIS_URL;
const extraPlugins = redisUrl ? [await redisCallPlugin(redisUrl)] : [];
const yoga = createYoga({
  schema,
  graphqlEndpoint: '/graphql',
  landingPage: false,
  graphiql: false,
  logging: false,
  ...(stock
    ? {}
    : {
        maxRequestBodySize: false,
        // The same body check as Gatehouse with its default MAX_BODY_BYTES, so the ratio measures
        // authorization only.
        plugins: [useRequestBodyLimit({ maxBytes: loadConfig({}).maxBodyBytes }), ...extraPlugins],
      }),
});
const server = createServer(yoga);
server.listen(port, '127.0.0.1');
answerUsageRequests();
exitWithParent(() => new Promise((resolve) => server.close(() => resolve())));
