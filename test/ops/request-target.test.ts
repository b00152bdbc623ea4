import { request } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a request with this exact request target and Host header, which fetch cannot send. */
function send(gatehouse: TestGatehouse, target: string, host: string): Promise<RawResponse> {
  const { port } = new URL(gatehouse.url);
  const body = JSON.stringify({ query: '{ __typename }' });
  const headers = { host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) };

  return new Promise((resolve, reject) => {
    const outgoing = request({ host: '127.0.0.1', port, path: target, method: 'POST', headers, timeout: 10_000 }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }));
    });
    outgoing.on('error', reject);
    outgoing.on('timeout', () => outgoing.destroy(new Error('request timed out')));
    outgoing.end(body);
  });
}

const codeOf = (response: RawResponse) =>
  (JSON.parse(response.body) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;

describe('request target and Host', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'pglite', redis: false });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it('serves an absolute-form target', async () => {
    const { host } = new URL(gatehouse.url);
    const response = await send(gatehouse, `${gatehouse.url}/graphql`, host);
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ data: { __typename: 'Query' } });
  });

  it('serves HTTP/1.0 without Host', async () => {
    const { port } = new URL(gatehouse.url);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => socket.end('GET /health HTTP/1.0\r\n\r\n'));
      let text = '';
      socket.setEncoding('utf8');
      socket.setTimeout(10_000, () => socket.destroy(new Error('request timed out')));
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply.split('\r\n')[0]).toBe('HTTP/1.1 200 OK');
  });

  it.each([
    ['a Host with a space', '/graphql', 'bad host'],
    ['a Host with a path', '/graphql', '127.0.0.1/metrics?'],
    ['a Host with user info', '/graphql', 'user@127.0.0.1'],
    ['an absolute target of another scheme', 'ftp://127.0.0.1/graphql', '127.0.0.1'],
    ['an asterisk target', '*', '127.0.0.1'],
  ])('rejects %s as BAD_REQUEST', async (_name, target, host) => {
    const response = await send(gatehouse, target, host);
    expect(response.status).toBe(400);
    expect(codeOf(response)).toBe('BAD_REQUEST');
    expect(response.body).not.toContain('node_modules');
    expect(response.headers['x-request-id']).toBeDefined();
  });

  it('logs a rejected target with its request id', async () => {
    const response = await send(gatehouse, '/graphql', 'bad host');
    const requestId = response.headers['x-request-id'];
    const line = gatehouse.logs.find((entry) => entry.msg === 'request rejected' && entry.requestId === requestId);
    expect(line?.status).toBe(400);
    expect(line?.codes).toEqual(['BAD_REQUEST']);
  });
});
