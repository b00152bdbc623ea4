import type { GraphQLError } from 'graphql';

// graphql-js writes `Variable "$name" got invalid value <value>[ at "<path>"]; <reason>`, where
// <value> is the whole variable. For an input object, <value> contains every field, such as the
// password of a LoginInput that lacks a field or has one too many.
const variablePrefix = /^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" got invalid value /;
// A path printed by graphql-js: the variable name, then `.field` or `[index]` steps. A string in
// <value> has its quotes escaped, so only the real path ends the text before the reason like this.
const pathSuffix = / at "([_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*|\[\d+\])*)"$/;

/**
 * Rewrites the message of a variable coercion error without the variable's value, keeping the
 * variable name, the path and the reason. Returns other messages unchanged. Built-in scalars end
 * their reason with the rejected value (`String cannot represent a non string value: …`), so
 * that value is cut too.
 */
export function variableErrorMessage(error: GraphQLError): string {
  const name = variablePrefix.exec(error.message)?.[1];
  if (name === undefined) return error.message;
  const reason = error.originalError?.message;
  if (reason === undefined || !error.message.endsWith(`; ${reason}`)) return `Variable "$${name}" got invalid value.`;
  const head = error.message.slice(0, -(reason.length + 2));
  const path = pathSuffix.exec(head)?.[1];
  const at = path === undefined ? '' : ` at "${path}"`;

  return `Variable "$${name}" got invalid value${at}; ${reason.replace(/ value: [\s\S]*$/, ' value.')}`;
}
