import { LoginDocument, RegisterDocument } from '../generated/graphql.js';
import type { TestGatehouse } from './gatehouse.js';

let counter = 0;

/** Returns a fresh, valid email on each call. */
export function uniqueEmail(prefix = 'user'): string {
  counter += 1;

  return `${prefix}-${process.pid}-${counter}-${Date.now()}@example.com`;
}

export const defaultPassword = 'correct horse battery staple';

/** Registers a user and returns the tokens of its first session. */
export async function registerUser(
  gatehouse: TestGatehouse,
  overrides: { email?: string; password?: string; displayName?: string; deviceName?: string } = {},
) {
  const input = {
    email: overrides.email ?? uniqueEmail(),
    password: overrides.password ?? defaultPassword,
    displayName: overrides.displayName ?? 'Test User',
    deviceName: overrides.deviceName,
  };
  const response = await gatehouse.op(RegisterDocument, { input });
  if (!response.body.data?.register) {
    throw new Error(`register failed: ${JSON.stringify(response.body.errors)}`);
  }

  return { ...response.body.data.register, email: input.email, password: input.password, response };
}

/** Logs in and returns the tokens of the new session. */
export async function loginUser(gatehouse: TestGatehouse, email: string, password = defaultPassword) {
  const response = await gatehouse.op(LoginDocument, { input: { email, password } });
  if (!response.body.data?.login) throw new Error(`login failed: ${JSON.stringify(response.body.errors)}`);

  return { ...response.body.data.login, response };
}

/** Reads the refresh cookie of a response as a Cookie request header. */
export function refreshCookieOf(headers: Headers, name = 'gatehouse_refresh'): string | undefined {
  for (const header of headers.getSetCookie()) {
    const [pair] = header.split(';');
    if (pair?.startsWith(`${name}=`)) return pair;
  }

  return undefined;
}
