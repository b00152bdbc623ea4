import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';

type LogLine = Record<string, unknown>;

// Sent with every request below; no log line may contain them.
const bearerSecret = 'log-scan-bearer-7f3a9c';
const cookieSecret = 'log-scan-cookie-51be2d';
const passwordSecret = 'Log-Scan-Password-9e1';
const secretHeaders = { authorization: `Bearer ${bearerSecret}`, cookie: `gatehouse_refresh=${cookieSecret}` };
const loginBody = `{"query":"mutation { login(input: {email: \\"a@example.com\\", password: \\"${passwordSecret}\\"}) { accessToken } }"`;

/**
 * The errors of this file happen before or outside GraphQL execution, where Yoga handles them
 * and its logger gets no request. Each test sends its own id and reads the lines written with it.
 */
describe('lines about requests that fail outside execution', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'postgresql', env: { MAX_BODY_BYTES: '2048' } });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  /** Returns the raw lines written with `requestId`, after checking that none contains a secret. */
  const linesWith = (requestId: string): LogLine[] => {
    const raw = gatehouse.rawLogs.filter((line) => line.includes(requestId));
    for (const line of raw) {
      expect(line).not.toContain(bearerSecret);
      expect(line).not.toContain(cookieSecret);
      expect(line).not.toContain(passwordSecret);
    }

    return raw.map((line) => JSON.parse(line) as LogLine).filter((line) => line.requestId === requestId);
  };

  const send = (requestId: string, init: RequestInit & { headers?: Record<string, string> }, path = '/graphql') =>
    fetch(`${gatehouse.url}${path}`, { ...init, headers: { ...secretHeaders, 'x-request-id': requestId, ...init.headers } });

  const rejectionOf = (requestId: string) => linesWith(requestId).find((line) => line.msg === 'request rejected');

  it('malformed JSON body', async () => {
    const response = await send('rid-malformed-json', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: loginBody.slice(0, -1),
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('BAD_REQUEST');

    const line = rejectionOf('rid-malformed-json');
    expect(line?.status).toBe(response.status);
    expect(line?.codes).toEqual(['BAD_REQUEST']);
  });

  it('resolver error with a 4xx status', async () => {
    const response = await send('rid-resolver-401', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ me { id } }' }),
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');

    const line = rejectionOf('rid-resolver-401');
    expect(line?.status).toBe(response.status);
    expect(line?.codes).toEqual(['UNAUTHENTICATED']);
  });

  it('body over MAX_BODY_BYTES', async () => {
    const response = await send('rid-body-too-large', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: `{"query":"{ __typename }","padding":"${'x'.repeat(4096)}","password":"${passwordSecret}"}`,
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');

    const line = rejectionOf('rid-body-too-large');
    expect(line?.status).toBe(413);
    expect(line?.codes).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('streamed body over MAX_BODY_BYTES', async () => {
    const chunk = new TextEncoder().encode(`{"query":"{ __typename }","password":"${passwordSecret}","padding":"${'x'.repeat(4096)}"}`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.close();
      },
    });
    // A stream body goes out chunked, without Content-Length, so the limit counts bytes as they arrive.
    const response = await send('rid-streamed-too-large', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      duplex: 'half',
    } as RequestInit & { headers: Record<string, string> });
    const result = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(result.errors[0]?.extensions.code).toBe('PAYLOAD_TOO_LARGE');

    const line = rejectionOf('rid-streamed-too-large');
    expect(line?.status).toBe(413);
    expect(line?.codes).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it('unsupported method', async () => {
    const response = await send('rid-bad-method', {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: loginBody,
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('METHOD_NOT_ALLOWED');

    const line = rejectionOf('rid-bad-method');
    expect(line?.status).toBe(405);
    expect(line?.method).toBe('PUT');
  });

  it('unsupported media type', async () => {
    const response = await send('rid-bad-media-type', {
      method: 'POST',
      headers: { 'content-type': 'text/xml', 'x-graphql-yoga-csrf': '1' },
      body: `<login password="${passwordSecret}"/>`,
    });
    expect(response.status).toBe(415);

    const line = rejectionOf('rid-bad-media-type');
    expect(line?.status).toBe(415);
    expect(line?.path).toBe('/graphql');
  });

  it('error in an onRequest hook', async () => {
    vi.spyOn(gatehouse.app.services.keys, 'publicJwksJson').mockImplementation(() => {
      throw new Error('key ring unreadable');
    });
    const response = await send('rid-on-request', { method: 'GET' }, '/.well-known/jwks.json');
    expect(response.status).toBe(500);
    expect(response.headers.get('x-request-id')).toBe('rid-on-request');
    const text = await response.text();
    expect(text).not.toContain('key ring unreadable');
    const body = JSON.parse(text) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('INTERNAL_SERVER_ERROR');

    const failed = linesWith('rid-on-request').filter((line) => line.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect((failed[0]?.err as { message?: string }).message).toBe('key ring unreadable');
  });

  it('error while the context is built', async () => {
    vi.spyOn(gatehouse.app.services.accessTokens, 'verify').mockRejectedValue(new Error('verifier crashed'));
    const response = await send('rid-context-error', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('INTERNAL_SERVER_ERROR');

    const failed = linesWith('rid-context-error').filter((line) => line.msg === 'request failed');
    expect(failed).toHaveLength(1);
    expect((failed[0]?.err as { message?: string }).message).toBe('verifier crashed');
    const withoutId = gatehouse.logs.filter((line) => line.msg === 'request failed' && line.requestId === undefined);
    expect(withoutId).toEqual([]);
  });

  it('debug lines of Yoga carry the id', async () => {
    const response = await send('rid-debug-steps', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"query":"{ __typename }"}',
    });
    expect(response.status).toBe(200);
    await response.json();

    const messages = linesWith('rid-debug-steps').map((line) => line.msg);
    expect(messages).toContain('parsing the request for GraphQL parameters');
    expect(messages).toContain('processing GraphQL parameters');
    expect(gatehouse.logs.filter((line) => line.msg === 'yoga')).toEqual([]);
  });
});
