/* eslint-disable */
import * as types from './graphql.js';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment Tokens on AuthPayload {\n  accessToken\n  accessTokenExpiresAt\n  refreshToken\n  refreshTokenExpiresAt\n  user {\n    id\n    email\n    displayName\n    plan\n  }\n  session {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n  }\n}\n\nmutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Refresh($token: String) {\n  refreshToken(token: $token) {\n    ...Tokens\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    email\n    displayName\n  }\n}\n\nquery Sessions {\n  sessions {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    expiresAt\n  }\n}": typeof types.TokensFragmentDoc,
    "query AuditLogs($filter: AuditLogFilter, $first: Int, $after: String) {\n  auditLogs(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        action\n        actorId\n        targetId\n        sessionId\n        workspaceId\n        ip\n        userAgent\n        metadata\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery Health {\n  health {\n    status\n    database {\n      status\n      detail\n    }\n    migrations {\n      status\n      pending\n    }\n    redis {\n      status\n      detail\n    }\n    versions {\n      node\n      gatehouse\n      postgresql\n      redis\n    }\n  }\n}\n\nquery IntrospectionTypes {\n  __schema {\n    queryType {\n      name\n    }\n  }\n}": typeof types.AuditLogsDocument,
};
const documents: Documents = {
    "fragment Tokens on AuthPayload {\n  accessToken\n  accessTokenExpiresAt\n  refreshToken\n  refreshTokenExpiresAt\n  user {\n    id\n    email\n    displayName\n    plan\n  }\n  session {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n  }\n}\n\nmutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Refresh($token: String) {\n  refreshToken(token: $token) {\n    ...Tokens\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    email\n    displayName\n  }\n}\n\nquery Sessions {\n  sessions {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    expiresAt\n  }\n}": types.TokensFragmentDoc,
    "query AuditLogs($filter: AuditLogFilter, $first: Int, $after: String) {\n  auditLogs(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        action\n        actorId\n        targetId\n        sessionId\n        workspaceId\n        ip\n        userAgent\n        metadata\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery Health {\n  health {\n    status\n    database {\n      status\n      detail\n    }\n    migrations {\n      status\n      pending\n    }\n    redis {\n      status\n      detail\n    }\n    versions {\n      node\n      gatehouse\n      postgresql\n      redis\n    }\n  }\n}\n\nquery IntrospectionTypes {\n  __schema {\n    queryType {\n      name\n    }\n  }\n}": types.AuditLogsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment Tokens on AuthPayload {\n  accessToken\n  accessTokenExpiresAt\n  refreshToken\n  refreshTokenExpiresAt\n  user {\n    id\n    email\n    displayName\n    plan\n  }\n  session {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n  }\n}\n\nmutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Refresh($token: String) {\n  refreshToken(token: $token) {\n    ...Tokens\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    email\n    displayName\n  }\n}\n\nquery Sessions {\n  sessions {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    expiresAt\n  }\n}"): (typeof documents)["fragment Tokens on AuthPayload {\n  accessToken\n  accessTokenExpiresAt\n  refreshToken\n  refreshTokenExpiresAt\n  user {\n    id\n    email\n    displayName\n    plan\n  }\n  session {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n  }\n}\n\nmutation Register($input: RegisterInput!) {\n  register(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Login($input: LoginInput!) {\n  login(input: $input) {\n    ...Tokens\n  }\n}\n\nmutation Refresh($token: String) {\n  refreshToken(token: $token) {\n    ...Tokens\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    email\n    displayName\n  }\n}\n\nquery Sessions {\n  sessions {\n    id\n    current\n    deviceName\n    userAgent\n    ip\n    createdAt\n    lastUsedAt\n    expiresAt\n  }\n}"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query AuditLogs($filter: AuditLogFilter, $first: Int, $after: String) {\n  auditLogs(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        action\n        actorId\n        targetId\n        sessionId\n        workspaceId\n        ip\n        userAgent\n        metadata\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery Health {\n  health {\n    status\n    database {\n      status\n      detail\n    }\n    migrations {\n      status\n      pending\n    }\n    redis {\n      status\n      detail\n    }\n    versions {\n      node\n      gatehouse\n      postgresql\n      redis\n    }\n  }\n}\n\nquery IntrospectionTypes {\n  __schema {\n    queryType {\n      name\n    }\n  }\n}"): (typeof documents)["query AuditLogs($filter: AuditLogFilter, $first: Int, $after: String) {\n  auditLogs(filter: $filter, first: $first, after: $after) {\n    edges {\n      cursor\n      node {\n        id\n        action\n        actorId\n        targetId\n        sessionId\n        workspaceId\n        ip\n        userAgent\n        metadata\n        createdAt\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n  }\n}\n\nquery Health {\n  health {\n    status\n    database {\n      status\n      detail\n    }\n    migrations {\n      status\n      pending\n    }\n    redis {\n      status\n      detail\n    }\n    versions {\n      node\n      gatehouse\n      postgresql\n      redis\n    }\n  }\n}\n\nquery IntrospectionTypes {\n  __schema {\n    queryType {\n      name\n    }\n  }\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;