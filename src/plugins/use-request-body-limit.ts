import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface RequestBodyLimitOptions {
  /** Largest request body accepted, in bytes. Larger ones get HTTP 413 before parsing. */
  maxBytes: number;
}

// Only one non-negative integer is a valid Content-Length; a list of values is a smuggling attempt.
const contentLengthShape = /^\d+$/;

/** PAYLOAD_TOO_LARGE with HTTP 413, raised before the body is parsed. */
function bodyTooLarge(): GraphQLError {
  return new GraphQLError('Request body too large. Send at most MAX_BODY_BYTES bytes.', {
    extensions: { http: { status: 413 }, code: 'PAYLOAD_TOO_LARGE' },
  });
}

/** Returns the request with a body that fails once more than `maxBytes` arrive. */
function limitedRequest(request: Request, maxBytes: number, fetchAPI: { TransformStream: typeof TransformStream; Request: typeof Request }): Request {
  let bytesRead = 0;
  const TransformStreamClass = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  const body = request.body!.pipeThrough(
    new TransformStreamClass<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytesRead += chunk.byteLength;
        if (bytesRead > maxBytes) controller.error(bodyTooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );

  return new fetchAPI.Request(request.url, {
    method: request.method,
    headers: request.headers,
    signal: request.signal,
    body,
    duplex: 'half',
  } as RequestInit);
}

/**
 * Limits the request body to MAX_BODY_BYTES like graphql-yoga's built-in check, which
 * Gatehouse turns off, but counts bytes through a stream only when there is no Content-Length. With a valid
 * Content-Length, Node's HTTP parser ends the body at that length, so checking the header is
 * enough. The stream costs about as much CPU time per request as the rest of the authorization
 * path (measured with `npm run bench`, see docs/BENCHMARKS.md). Install it after every plugin
 * that registers a request parser, so it wraps the parser that is chosen.
 */
export function useRequestBodyLimit(options: RequestBodyLimitOptions): Plugin {
  const { maxBytes } = options;

  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const contentLength = request.headers.get('content-length');
      if (contentLength !== null) {
        if (!contentLengthShape.test(contentLength)) {
          throw new GraphQLError('Content-Length header is invalid.', {
            extensions: { http: { status: 400 }, code: 'BAD_REQUEST' },
          });
        }
        if (Number(contentLength) > maxBytes) throw bodyTooLarge();
        return;
      }
      if (!requestParser || !request.body) return;
      const parse = requestParser;
      setRequestParser((parsed) => parse(limitedRequest(parsed, maxBytes, fetchAPI)));
    },
  };
}
