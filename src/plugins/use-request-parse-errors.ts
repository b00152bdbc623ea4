import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatehouseError } from '../errors.js';

/** Returns the client error for an error of Yoga's request parser, or the error itself. */
function clientErrorOf(error: unknown): unknown {
  // graphql-yoga 5.24 calls JSON.parse unguarded on `variables` and `extensions` of GET and form requests.
  if (error instanceof SyntaxError) {
    return gatehouseError('BAD_REQUEST', 'The variables or extensions parameter is not valid JSON.');
  }
  // Its multipart parser throws GraphQLErrors without a status, such as for invalid JSON in `operations`.
  if (error instanceof GraphQLError && error.extensions.http === undefined && error.extensions.code === undefined) {
    return gatehouseError('BAD_REQUEST', error.message);
  }

  return error;
}

const jsonTypes = ['application/json', 'application/graphql+json'];

/** Returns true for a POST with a JSON body, whose parser already rejects malformed input with 400. */
function isJsonPost(request: Request): boolean {
  if (request.method !== 'POST') return false;
  const type = request.headers.get('content-type') ?? '';

  return jsonTypes.some((json) => type === json || type.startsWith(`${json};`));
}

/**
 * Turns the errors that Yoga's request parsers raise for malformed GraphQL parameters into
 * BAD_REQUEST (400). Otherwise a GET with `variables={`, or a multipart body whose `operations`
 * is not JSON, gets INTERNAL_SERVER_ERROR (500) and writes an error line, so any client could
 * fill the error log. Install it after every plugin that registers a request parser.
 */
export function useRequestParseErrors(): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser }) {
      // The common request, a JSON POST, keeps Yoga's parser without the extra async wrapper.
      if (!requestParser || isJsonPost(request)) return;
      const parse = requestParser;
      setRequestParser(async (request) => {
        try {
          return await parse(request);
        } catch (error) {
          throw clientErrorOf(error);
        }
      });
    },
  };
}
