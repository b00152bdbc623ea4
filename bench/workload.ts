// The GraphQL operations the benchmark sends, and the setup they need, in one place.

/** Password of the benchmark user; it only ever exists in the throwaway database of one run. */
const benchPassword = 'bench-password-0123';

export interface GraphQLBody {
  query: string;
  variables?: Record<string, unknown>;
}

/**
 * The authenticated request of scenarios 2, 3 and the soak, sent with the user's access token.
 * The bare Yoga baseline in bench/server-yoga.ts serves the same `query` text.
 *
 * `identity` pays access-token verification, the revocation check and the rate-limit windows,
 * and its response carries `extensions.rateLimit`. `myRole` adds the workspace-role check: it
 * loads the caller's memberships, one scoped transaction per request (src/rbac/caller-access.ts).
 * `prepareAuthenticatedCaller` fills `workspaceId` with a workspace the caller owns.
 */
export const authenticatedQuery: GraphQLBody = {
  query: 'query ($workspaceId: ID!) { identity { userId sessionId } myRole(workspaceId: $workspaceId) }',
};

/** The authentication part of `authenticatedQuery` alone: it needs a caller but no database. */
export const identityQuery: GraphQLBody = { query: 'query { identity { userId sessionId } }' };

export const loginMutation = `mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }`;
export const refreshMutation = `mutation ($token: String) { refreshToken(token: $token) { accessToken refreshToken } }`;
const createWorkspaceMutation = `mutation ($input: WorkspaceInput!) { createWorkspace(input: $input) { id } }`;
const registerMutation = `mutation ($input: RegisterInput!) { register(input: $input) { accessToken refreshToken } }`;

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

/** Sends one GraphQL request to 127.0.0.1 and returns `data`; throws on any GraphQL error. */
export async function sendGraphQL<T>(url: string, body: GraphQLBody, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${url}/graphql`, { method: 'POST', headers, body: JSON.stringify(body) });
  const result = (await response.json()) as { data?: T; errors?: { extensions?: { code?: string } }[] };
  if (!response.ok || result.errors || !result.data) {
    throw new Error(`GraphQL request failed with HTTP ${response.status}: ${JSON.stringify(result.errors)}`);
  }

  return result.data;
}

export const benchEmail = 'bench-user@example.test';

export function loginBody(): GraphQLBody {
  return { query: loginMutation, variables: { input: { email: benchEmail, password: benchPassword } } };
}

/** Registers the benchmark user and returns its first tokens. */
export async function registerBenchUser(url: string): Promise<TokenPair> {
  const input = { email: benchEmail, password: benchPassword, displayName: 'Bench User' };
  const data = await sendGraphQL<{ register: TokenPair }>(url, { query: registerMutation, variables: { input } });

  return data.register;
}

/** Logs the benchmark user in once; each call starts a new session. */
export async function login(url: string): Promise<TokenPair> {
  return (await sendGraphQL<{ login: TokenPair }>(url, loginBody())).login;
}

/**
 * Prepares the caller of `authenticatedQuery`: creates a workspace as the benchmark user, who
 * becomes its owner, and returns the request body and access token. Checks once that the
 * request succeeds and returns OWNER, so a broken setup fails before any load runs.
 */
export async function prepareAuthenticatedCaller(
  url: string,
  tokens: TokenPair,
): Promise<{ body: GraphQLBody; accessToken: string }> {
  const input = { name: 'Bench Workspace' };
  const created = await sendGraphQL<{ createWorkspace: { id: string } }>(
    url,
    { query: createWorkspaceMutation, variables: { input } },
    tokens.accessToken,
  );
  const body = { ...authenticatedQuery, variables: { workspaceId: created.createWorkspace.id } };
  const data = await sendGraphQL<{ myRole: string | null }>(url, body, tokens.accessToken);
  if (data.myRole !== 'OWNER') throw new Error(`myRole returned ${String(data.myRole)} instead of OWNER`);

  return { body, accessToken: tokens.accessToken };
}
