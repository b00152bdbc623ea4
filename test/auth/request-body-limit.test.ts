import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useErrorCodes } from '../../src/plugins/use-error-codes.js';
import { useRequestBodyLimit } from '../../src/plugins/use-request-body-limit.js';

const maxBytes = 200;

interface RawResponse {
  status: number;
  code: string | undefined;
  data: unknown;
}

/** Sends a POST with exactly the given headers and body chunks, so chunked bodies stay chunked. */
function send(port: number, headers: Record<string, string>, chunks: string[]): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: '/graphql', method: 'POST', headers }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => {
        const body = JSON.parse(text) as { data?: unknown; errors?: { extensions?: { code?: string } }[] };
        resolve({ status: response.statusCode ?? 0, code: body.errors?.[0]?.extensions?.code, data: body.data });
      });
    });
    outgoing.on('error', reject);
    for (const chunk of chunks) outgoing.write(chunk);
    outgoing.end();
  });
}

describe('request body limit', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    const schema = createSchema({ typeDefs: 'type Query { hello(name: String): String }', resolvers: { Query: { hello: () => 'hi' } } });
    const yoga = createYoga({
      schema,
      maxRequestBodySize: false,
      logging: false,
      plugins: [useErrorCodes(), useRequestBodyLimit({ maxBytes })],
    });
    server = createServer(yoga);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const json = { 'content-type': 'application/json' };
  const small = JSON.stringify({ query: '{ hello }' });
  const large = JSON.stringify({ query: `{ hello(name: "${'x'.repeat(maxBytes)}") }` });

  it('accepts a body with Content-Length', async () => {
    const response = await send(port, { ...json, 'content-length': String(small.length) }, [small]);
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ hello: 'hi' });
  });

  it('accepts a small chunked body', async () => {
    const response = await send(port, { ...json, 'transfer-encoding': 'chunked' }, [small.slice(0, 5), small.slice(5)]);
    expect(response.status).toBe(200);
    expect(response.data).toEqual({ hello: 'hi' });
  });

  it('rejects a large Content-Length', async () => {
    const response = await send(port, { ...json, 'content-length': String(large.length) }, [large]);
    expect(response.status).toBe(413);
    expect(response.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('rejects a large chunked body', async () => {
    const response = await send(port, { ...json, 'transfer-encoding': 'chunked' }, [large.slice(0, 100), large.slice(100)]);
    expect(response.status).toBe(413);
    expect(response.code).toBe('PAYLOAD_TOO_LARGE');
  });
});
