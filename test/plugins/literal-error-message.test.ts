import { buildSchema, parse, validate, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { literalErrorMessage } from '../../src/plugins/literal-error-message.js';

const schema = buildSchema(`
  enum Role { ADMIN MEMBER }
  input Login { email: String! password: String! }
  type Query { check(login: Login, id: ID, role: Role, flag: Boolean): String }
`);

/** Returns the validation messages graphql-js writes for the arguments `args`, rewritten. */
function rewritten(args: string): string[] {
  const errors = validate(schema, parse(`{ check(${args}) }`));

  return errors.map((error) => literalErrorMessage(error as GraphQLError));
}

describe('literal error message', () => {
  it('drops the value of a built-in scalar', () => {
    expect(rewritten('login: { email: "a@example.com", password: secret_words }')).toEqual([
      'String cannot represent a non string value.',
    ]);
    expect(rewritten('id: { a: "secret words" }')).toEqual(['ID cannot represent a non-string and non-integer value.']);
    expect(rewritten('flag: "secret words"')).toEqual(['Boolean cannot represent a non boolean value.']);
  });

  it('drops the value of an input object', () => {
    expect(rewritten('login: "secret words"')).toEqual(['Expected value of type "Login".']);
    expect(rewritten('login: ["secret words"]')).toEqual(['Expected value of type "Login".']);
  });

  it('drops the value of an enum', () => {
    expect(rewritten('role: "secret words"')).toEqual(['Enum "Role" cannot represent non-enum value.']);
    const [unknown] = rewritten('role: SECRET_WORDS');
    expect(unknown).not.toContain('SECRET_WORDS');
    expect(unknown).toContain('"Role"');
  });

  it('leaves other messages unchanged', () => {
    expect(rewritten('zzz: 1')).toEqual(['Unknown argument "zzz" on field "Query.check".']);
  });
});
