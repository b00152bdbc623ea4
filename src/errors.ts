import { GraphQLError } from 'graphql';

/**
 * Every machine-readable error code Gatehouse sends in `extensions.code`, with its HTTP status.
 * Clients branch on the code, never on the message.
 */
export const errorCodes = {
  BAD_REQUEST: 400,
  BAD_USER_INPUT: 400,
  GRAPHQL_PARSE_FAILED: 400,
  GRAPHQL_VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  INVALID_REFRESH_TOKEN: 401,
  REFRESH_TOKEN_REUSED: 401,
  SESSION_EXPIRED: 401,
  ACCOUNT_DISABLED: 403,
  FORBIDDEN: 403,
  CSRF_HEADER_MISSING: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  HOST_NOT_ALLOWED: 400,
  EMAIL_ALREADY_REGISTERED: 409,
  RATE_LIMITED: 429,
  QUERY_TOO_COMPLEX: 400,
  ALREADY_MEMBER: 409,
  LAST_OWNER: 409,
  INTERNAL_SERVER_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorCodes;

// Yoga's own augmentation already types `extensions.http`; this adds the code.
declare module 'graphql' {
  interface GraphQLErrorExtensions {
    code?: ErrorCode;
  }
}

/** Builds a GraphQLError that carries a code from the list above and its HTTP status. */
export function gatehouseError(
  code: ErrorCode,
  message: string,
  extensions: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, {
    extensions: { ...extensions, code, http: { status: errorCodes[code] } },
  });
}

export function isGatehouseError(error: unknown, code?: ErrorCode): error is GraphQLError {
  return (
    error instanceof GraphQLError &&
    error.extensions.code !== undefined &&
    (code === undefined || error.extensions.code === code)
  );
}

export const unauthenticatedError = () =>
  gatehouseError('UNAUTHENTICATED', 'Authentication required: send a valid access token.');

export const forbiddenError = () =>
  gatehouseError('FORBIDDEN', 'You are not allowed to do this.');

/** Returns one error for wrong passwords and unknown emails, so the response reveals neither. */
export const invalidCredentialsError = () =>
  gatehouseError('INVALID_CREDENTIALS', 'Invalid email or password.');

export const invalidRefreshTokenError = () =>
  gatehouseError(
    'INVALID_REFRESH_TOKEN',
    'The refresh token is invalid, expired or revoked. Log in again.',
  );

/** A bad value in one input field; `field` names it for forms. */
export const badUserInputError = (field: string, message: string) =>
  gatehouseError('BAD_USER_INPUT', message, { field });

/** Builds the error for a missing record, also used for another user's record, so their ids stay hidden. */
export const notFoundError = (what: string) => gatehouseError('NOT_FOUND', `${what} not found.`);

/** True for a GraphQLError raised on purpose, also when graphql-js wrapped it with a path. */
export function isDeliberateError(error: unknown): error is GraphQLError {
  if (!(error instanceof GraphQLError)) return false;

  return error.originalError == null || isDeliberateError(error.originalError);
}
