import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { gatehouseError } from '../errors.js';

/** Returns the client error for an error of Yoga's request parser, or the error itself. */
function clientErrorOf(error: unknown): unknown {
  // graphql-yoga 5.24 calls JSON.parse on the `variables` and `extensions` of a GET request unguarded.
  if (error instanceof SyntaxError) {
    return gatehouseError('BAD_REQUEST', 'The variables or extensions parameter is not valid JSON.');
  }
  // Its multipart parser throws GraphQLErrors without a status, such as for invalid JSON in `operations`.
  if (error instanceof GraphQLError && error.extensions.http === undefined && error.extensions.code === undefined) {
    return gatehouseError('BAD_REQUEST', error.message);
  }

  return error;
}

/**
 * Turns the errors that Yoga's request parsers raise for malformed GraphQL parameters into
 * BAD_REQUEST (400). Otherwise a GET with `variables={`, or a multipart body whose `operations`
 * is not JSON, gets INTERNAL_SERVER_ERROR (500) and writes an error line, so any client could
 * fill the error log. Install it after every plugin that registers a request parser.
 */
export function useRequestParseErrors(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
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
