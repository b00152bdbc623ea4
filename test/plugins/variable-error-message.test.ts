import { buildSchema, execute, parse, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { variableErrorMessage } from '../../src/plugins/variable-error-message.js';

const schema = buildSchema('input Login { email: String! password: String! } type Query { check(login: Login!): String }');

/** Returns the messages graphql-js writes for these variables, rewritten. */
async function rewritten(login: unknown): Promise<string[]> {
  const result = await execute({ schema, document: parse('query($login: Login!) { check(login: $login) }'), variableValues: { login } });

  return (result.errors ?? []).map((error) => variableErrorMessage(error as GraphQLError));
}

describe('variable error message', () => {
  it('drops the value and keeps the reason', async () => {
    const [message] = await rewritten({ email: 'a@example.com' });
    expect(message).toBe('Variable "$login" got invalid value; Field "password" of required type "String!" was not provided.');
  });

  it('keeps the path of a nested field', async () => {
    const [message] = await rewritten({ email: 'a@example.com', password: ['secret words'] });
    expect(message).toBe('Variable "$login" got invalid value at "login.password"; String cannot represent a non string value.');
  });

  it('ignores path-like text inside a value', async () => {
    const [message] = await rewritten({ email: 'x" at "login.email', extra: 1, password: 'secret words' });
    expect(message).not.toContain('secret words');
    expect(message).not.toContain('x\\" at');
  });

  it('leaves other messages unchanged', () => {
    const error = { message: 'Syntax Error: Unexpected Name.', originalError: undefined } as unknown as GraphQLError;
    expect(variableErrorMessage(error)).toBe('Syntax Error: Unexpected Name.');
  });
});
