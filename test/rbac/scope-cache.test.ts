import SchemaBuilder from '@pothos/core';
import ScopeAuthPlugin, { RequestCache } from '@pothos/plugin-scope-auth';
import { createYoga, type Plugin } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useScopeCacheRelease } from '../../src/plugins/use-scope-cache-release.js';

interface Context {
  member: boolean;
}

/**
 * Builds a schema guarded by scope-auth, as Gatehouse's is. Its resolver adds the scope cache of
 * the running operation to `caches`, so a test can compare it with the cache found afterwards.
 */
function buildGuardedSchema() {
  const builder = new SchemaBuilder<{ Context: Context; AuthScopes: { member: boolean } }>({
    plugins: [ScopeAuthPlugin],
    scopeAuth: { authScopes: (context) => ({ member: context.member }) },
  });
  const caches: unknown[] = [];
  builder.queryType({
    fields: (t) => ({
      secret: t.string({
        authScopes: { member: true },
        resolve: (_root, _args, context) => {
          caches.push(RequestCache.fromContext(context, builder));
          return 'granted';
        },
      }),
    }),
  });

  return { builder, schema: builder.toSchema(), caches };
}

/** Records the context of every executed operation. */
function contextRecorder(contexts: Context[]): Plugin {
  return {
    onExecute({ args }) {
      contexts.push(args.contextValue as unknown as Context);
    },
  };
}

async function serve(release: boolean, body: unknown) {
  const { builder, schema, caches } = buildGuardedSchema();
  const contexts: Context[] = [];
  const yoga = createYoga<object, Context>({
    schema,
    batching: true,
    logging: false,
    context: () => ({ member: true }),
    plugins: [contextRecorder(contexts), ...(release ? [useScopeCacheRelease()] : [])],
  });
  const response = await yoga.fetch('http://localhost/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

  return { builder, caches, contexts, json: await response.json() };
}

describe('scope cache release', () => {
  it('deletes the cache after execution', async () => {
    const { builder, caches, contexts, json } = await serve(true, { query: '{ secret }' });

    expect(json).toEqual({ data: { secret: 'granted' } });
    expect(contexts).toHaveLength(1);
    expect(caches).toHaveLength(1);
    expect(RequestCache.fromContext(contexts[0]!, builder)).not.toBe(caches[0]);
  });

  it('keeps the cache without the plugin', async () => {
    const { builder, caches, contexts } = await serve(false, { query: '{ secret }' });

    expect(RequestCache.fromContext(contexts[0]!, builder)).toBe(caches[0]);
  });

  it('releases each batched operation', async () => {
    const { builder, caches, contexts, json } = await serve(true, [
      { query: '{ secret }' },
      { query: '{ a: secret b: secret }' },
    ]);

    expect(json).toEqual([{ data: { secret: 'granted' } }, { data: { a: 'granted', b: 'granted' } }]);
    expect(contexts).toHaveLength(2);
    expect(caches).toHaveLength(3);
    for (const context of contexts) expect(caches).not.toContain(RequestCache.fromContext(context, builder));
  });
});
