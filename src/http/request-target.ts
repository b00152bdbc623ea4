import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../logger.js';
import { requestIdFrom } from '../observability/request-context.js';

/**
 * Returns the origin-form target (`/path?query`) of a request, or undefined when the target or
 * the Host header cannot form a URL of this server. @whatwg-node/server 0.11 builds the URL as
 * `http://` + Host + target. It responds to an invalid URL with a 500 whose body is the stack
 * trace, and a Host such as `127.0.0.1/metrics?` would move the request to another path.
 */
function originFormTarget(request: IncomingMessage): { target: string; host: string } | undefined {
  const target = request.url ?? '';
  if (target.startsWith('/')) {
    const host = request.headers.host;
    // HTTP/1.0 allows no Host, and @whatwg-node/server then uses the local address.
    if (host === undefined || host === '') return { target, host: '' };

    return isPlainHost(host) ? { target, host } : undefined;
  }
  // HTTP/1.1 servers must accept the absolute form, and its authority then names the host, not Host.
  if (!/^https?:\/\//i.test(target) || !URL.canParse(target)) return undefined;
  const url = new URL(target);
  if (url.username !== '' || url.password !== '') return undefined;

  return { target: `${url.pathname}${url.search}`, host: url.host };
}

/** Host headers already found plain. Clients send few distinct ones, so most requests parse no URL. */
const plainHosts = new Set<string>();
const maxPlainHosts = 64;

/** Returns true for `host` or `host:port` without a path, user info or any other URL part. */
function isPlainHost(host: string): boolean {
  if (plainHosts.has(host)) return true;
  if (!parsesAsPlainHost(host)) return false;
  // Once full, the set stays as it is, so a client that sends many Host values cannot grow it.
  if (plainHosts.size < maxPlainHosts) plainHosts.add(host);

  return true;
}

function parsesAsPlainHost(host: string): boolean {
  if (!URL.canParse(`http://${host}/`)) return false;
  const url = new URL(`http://${host}/`);

  return url.username === '' && url.password === '' && url.pathname === '/' && url.search === '' && url.hash === '';
}

function reject(request: IncomingMessage, response: ServerResponse, logger: Logger): void {
  const requestId = requestIdFrom(null);
  const body = JSON.stringify({
    errors: [{ message: 'Invalid request target or Host header. Send a path such as /graphql and a Host such as example.com:443.', extensions: { code: 'BAD_REQUEST' } }],
  });
  response.writeHead(400, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'x-request-id': requestId,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  response.end(body);
  logger.info({ requestId, method: request.method, status: 400, codes: ['BAD_REQUEST'] }, 'request rejected');
}

/**
 * Wraps the Node listener of the Yoga server so that it only receives a request target in origin
 * form and a Host header that is a plain host. An absolute-form target is rewritten to the origin
 * form, and anything else gets a JSON BAD_REQUEST with a request id.
 */
export function guardRequestTarget(listener: RequestListener, logger: Logger): RequestListener {
  return (request, response) => {
    const valid = originFormTarget(request);
    if (!valid) {
      reject(request, response, logger);
      return;
    }
    request.url = valid.target;
    if (valid.host !== '') request.headers.host = valid.host;
    listener(request, response);
  };
}
