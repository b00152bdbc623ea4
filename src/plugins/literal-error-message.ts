import type { GraphQLError } from 'graphql';

// graphql-js 16 validation (ValuesOfCorrectTypeRule) prints the rejected literal of the document
// into these messages, such as an unquoted password in `login(input: { password: hunter2 })`.
const expectedType = /^(Expected value of type "[^"]*"), found /;
const scalarValue = / value: [\s\S]*$/;
const unknownEnumValue = /^Value "[_A-Za-z][_0-9A-Za-z]*" does not exist in ("[_A-Za-z][_0-9A-Za-z]*" enum\.)/;

/**
 * Rewrites the message of a validation error about an argument literal without the literal,
 * keeping the expected type and the reason. Returns other messages unchanged. A custom scalar's
 * reason after `;` is kept only when it is the message of the error it threw.
 */
export function literalErrorMessage(error: GraphQLError): string {
  const { message } = error;
  const expected = expectedType.exec(message)?.[1];
  if (expected !== undefined) {
    const reason = error.originalError?.message;
    const withReason = reason !== undefined && message.endsWith(`; ${reason}`);

    return withReason ? `${expected}; ${reason.replace(scalarValue, ' value.')}` : `${expected}.`;
  }
  if (/ cannot represent (?:a )?non[- ]/.test(message)) return message.replace(scalarValue, ' value.');

  return message.replace(unknownEnumValue, 'Value does not exist in $1');
}
