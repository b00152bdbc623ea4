import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { errorCodes, type ErrorCode } from '../errors.js';

type ResultLike = { errors?: readonly GraphQLError[] };

/** Picks a code for an error that Yoga or graphql-js raised without one. */
function codeFor(error: GraphQLError): ErrorCode | undefined {
  const status = (error.extensions.http as { status?: number } | undefined)?.status;
  if (error.message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  if (error.message.startsWith('Required CSRF header')) return 'CSRF_HEADER_MISSING';
  if (status === 405) return 'METHOD_NOT_ALLOWED';
  if (status !== undefined && status >= 400 && status < 500) return 'BAD_REQUEST';
  if (error.locations && !error.path) return 'GRAPHQL_VALIDATION_FAILED';

  return undefined;
}

function withCode(error: GraphQLError): GraphQLError {
  // Yoga attaches the parser's `originalError` to bad requests in development; clients never
  // get internals, so it goes in every mode.
  const { code: existing, unexpected, originalError, ...extensions } = error.extensions as Record<string, unknown>;
  const code = (existing as ErrorCode | undefined) ?? codeFor(error);
  if (existing !== undefined && unexpected === undefined && originalError === undefined) return error;
  const http = (extensions.http as object | undefined) ?? { status: errorCodes[code ?? 'INTERNAL_SERVER_ERROR'] };

  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...extensions, code: code ?? 'INTERNAL_SERVER_ERROR', http },
  });
}

/**
 * Gives every error in a response a stable `extensions.code`, including the ones Yoga and
 * graphql-js raise for malformed requests, unparsable documents and failed validation.
 */
export function useErrorCodes(): Plugin {
  const addCodes = (result: ResultLike): ResultLike =>
    result.errors ? { ...result, errors: result.errors.map(withCode) } : result;

  return {
    onResultProcess({ result, setResult }) {
      if (Array.isArray(result)) {
        setResult(result.map(addCodes) as never);
      } else if (!(Symbol.asyncIterator in (result as object))) {
        setResult(addCodes(result as ResultLike) as never);
      }
    },
  };
}
