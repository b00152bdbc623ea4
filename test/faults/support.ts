import type { GraphQLRequest, GraphQLResponse } from '../support/gatehouse.js';

/**
 * Upper bound for one request while a dependency is down. A request still open after it counts
 * as hung: the fetch is aborted and the caller sees `status: 0`.
 */
export const requestBoundMs = 5_000;

export type BoundedResponse = GraphQLResponse & { hung: boolean };

/** Sends one GraphQL request over HTTP and aborts it after {@link requestBoundMs}. */
export async function boundedGql(url: string, request: GraphQLRequest): Promise<BoundedResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...request.headers };
  if (request.token) headers.authorization = `Bearer ${request.token}`;
  if (request.cookie) headers.cookie = request.cookie;
  try {
    const response = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: request.query, variables: request.variables }),
      signal: AbortSignal.timeout(requestBoundMs),
    });
    const body = (await response.json()) as GraphQLResponse['body'];

    return { status: response.status, headers: response.headers, body, hung: false };
  } catch (error) {
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      return { status: 0, headers: new Headers(), body: {}, hung: true };
    }
    throw error;
  }
}

export const codeOf = (response: { body: { errors?: { extensions?: Record<string, unknown> }[] } }) =>
  response.body.errors?.[0]?.extensions?.code;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `probe` every 200 ms until it returns true, at most `attempts` times. */
export async function eventually(probe: () => Promise<boolean>, attempts = 100): Promise<boolean> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (await probe()) return true;
    await sleep(200);
  }

  return false;
}
