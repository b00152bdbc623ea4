import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { errorCodes, type ErrorCode } from '../errors.js';
import { variableErrorMessage } from './variable-error-message.js';
import { literalErrorMessage } from './literal-error-message.js';

type ResultLike = { errors?: readonly GraphQLError[] };
type HttpExtension = { status?: number; headers?: Record<string, string>; spec?: boolean };

const isKnownCode = (code: unknown): code is ErrorCode => typeof code === 'string' && code in errorCodes;

/** Picks a code for an error that Yoga or graphql-js raised without one of ours. */
function codeFor(error: GraphQLError, status: number | undefined): ErrorCode | undefined {
  if (error.message.startsWith('Syntax Error')) return 'GRAPHQL_PARSE_FAILED';
  // graphql-js reports a variable value of the wrong type or shape this way.
  if (error.message.startsWith('Variable "$')) return 'BAD_USER_INPUT';
  if (error.message.startsWith('Required CSRF header')) return 'CSRF_HEADER_MISSING';
  if (status === 405) return 'METHOD_NOT_ALLOWED';
  if (status === 413) return 'PAYLOAD_TOO_LARGE';
  if (status !== undefined && status >= 400 && status < 500) return 'BAD_REQUEST';
  if (error.locations && !error.path) return 'GRAPHQL_VALIDATION_FAILED';

  return undefined;
}

function withCode(error: GraphQLError): GraphQLError {
  // Yoga attaches the parser's `originalError` to bad requests in development; clients never
  // get internals, so it goes in every mode.
  const { code: existing, unexpected, originalError, http, ...extensions } = error.extensions as Record<
    string,
    unknown
  >;
  const httpExtension = http as HttpExtension | undefined;
  // Codes of our own stand; Yoga's generic BAD_REQUEST is refined from the status.
  const deliberate = isKnownCode(existing) && existing !== 'BAD_REQUEST' && unexpected === undefined;
  if (deliberate && originalError === undefined && !httpExtension?.spec) return error;
  const code: ErrorCode = deliberate
    ? existing
    : (codeFor(error, httpExtension?.status) ?? (isKnownCode(existing) ? existing : 'INTERNAL_SERVER_ERROR'));

  return new GraphQLError(messageWithoutValues(error, code), {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: {
      ...extensions,
      code,
      // Without Yoga's `spec` flag, every client error is a 4xx, whatever the Accept header.
      http: { status: httpExtension?.status ?? errorCodes[code], headers: httpExtension?.headers },
    },
  });
}

/** Returns the error's message without the variable or literal values that graphql-js prints into it. */
function messageWithoutValues(error: GraphQLError, code: ErrorCode): string {
  if (code === 'BAD_USER_INPUT') return variableErrorMessage(error);
  if (code === 'GRAPHQL_VALIDATION_FAILED') return literalErrorMessage(error);

  return error.message;
}

/**
 * Gives every error in a response a stable `extensions.code` from the list in errors.ts,
 * including the ones Yoga and graphql-js raise for malformed requests, unparsable documents
 * and failed validation, and a matching 4xx or 5xx status.
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
