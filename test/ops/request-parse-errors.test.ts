import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse, type TestGatehouse } from '../support/gatehouse.js';

const csrf = { 'x-graphql-yoga-csrf': '1' };
const multipart = (operations: string) =>
  `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n--b--\r\n`;

/** Requests whose GraphQL parameters are not valid JSON, with the fetch options that send them. */
const malformed: [string, string, RequestInit][] = [
  ['GET variables', '/graphql?query=%7B__typename%7D&variables=%7B', { headers: csrf }],
  ['GET extensions', '/graphql?query=%7B__typename%7D&extensions=%7B', { headers: csrf }],
  [
    'multipart operations',
    '/graphql',
    { method: 'POST', headers: { ...csrf, 'content-type': 'multipart/form-data; boundary=b' }, body: multipart('{"query"') },
  ],
  [
    'multipart map',
    '/graphql',
    {
      method: 'POST',
      headers: { ...csrf, 'content-type': 'multipart/form-data; boundary=b' },
      body: `--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--b\r\nContent-Disposition: form-data; name="map"\r\n\r\n{\r\n--b--\r\n`,
    },
  ],
  [
    'form variables',
    '/graphql',
    {
      method: 'POST',
      headers: { ...csrf, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=%7B__typename%7D&variables=%7B',
    },
  ],
  [
    'JSON bodies',
    '/graphql',
    { method: 'POST', headers: { ...csrf, 'content-type': 'application/json; charset=utf-8' }, body: '{"query"' },
  ],
];

describe('malformed GraphQL parameters', () => {
  let gatehouse: TestGatehouse;

  beforeAll(async () => {
    gatehouse = await startGatehouse({ backend: 'pglite', redis: false });
  });
  afterAll(async () => {
    await gatehouse?.close();
  });

  it.each(malformed)('%s are BAD_REQUEST', async (_name, path, init) => {
    const errorsBefore = gatehouse.logs.filter((line) => line.level === 50).length;
    const response = await fetch(`${gatehouse.url}${path}`, init);
    const body = (await response.json()) as { errors?: { extensions?: { code?: string } }[] };
    expect(response.status).toBe(400);
    expect(body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
    // A client mistake is no server error, so it writes no error line.
    expect(gatehouse.logs.filter((line) => line.level === 50).length).toBe(errorsBefore);
  });
});
