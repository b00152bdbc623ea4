import type { IssuedTokens } from '../../auth/auth-service.js';
import type { Session, User } from '../../generated/prisma/client.js';
import { builder } from '../builder.js';

export const PlanEnum = builder.enumType('Plan', {
  description: 'The rate-limit plan of a user.',
  values: {
    FREE: { value: 'free' },
    PRO: { value: 'pro' },
    ENTERPRISE: { value: 'enterprise' },
  } as const,
});

export const UserRef = builder.objectRef<User>('User').implement({
  description: 'A person who can sign in.',
  fields: (t) => ({
    id: t.exposeID('id'),
    email: t.exposeString('email', { description: 'Normalized: trimmed, NFC and lower-case.' }),
    displayName: t.exposeString('displayName'),
    plan: t.field({ type: PlanEnum, resolve: (user) => user.plan }),
    isPlatformAdmin: t.exposeBoolean('isPlatformAdmin'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/** A session row; `current` is set where the request itself created the session. */
export type SessionView = Session & { current?: boolean };

export const SessionRef = builder.objectRef<SessionView>('Session').implement({
  description: 'One signed-in device. Each refresh token belongs to exactly one session.',
  fields: (t) => ({
    id: t.exposeID('id'),
    deviceName: t.exposeString('deviceName', { nullable: true }),
    userAgent: t.exposeString('userAgent', { nullable: true }),
    ip: t.exposeString('ip', { nullable: true, description: 'Client address when the session last refreshed.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'End of the absolute lifetime.' }),
    current: t.boolean({
      description: 'True for the session of the access token that made this request.',
      resolve: (session, _args, context) => session.current ?? session.id === context.identity?.sessionId,
    }),
  }),
});

export const AuthPayloadRef = builder.objectRef<IssuedTokens>('AuthPayload').implement({
  description: 'Tokens of a new or refreshed session. The refresh token is also set as an HttpOnly cookie.',
  fields: (t) => ({
    accessToken: t.exposeString('accessToken', { description: 'Send as `Authorization: Bearer <token>`.' }),
    accessTokenExpiresAt: t.expose('accessTokenExpiresAt', { type: 'DateTime' }),
    refreshToken: t.exposeString('refreshToken', {
      description: 'Opaque and single-use: each refresh returns a new one.',
    }),
    refreshTokenExpiresAt: t.expose('refreshTokenExpiresAt', { type: 'DateTime' }),
    user: t.field({
      type: UserRef,
      resolve: (payload, _args, context) =>
        context.services.prisma.user.findUniqueOrThrow({ where: { id: payload.userId } }),
    }),
    session: t.field({
      type: SessionRef,
      resolve: async (payload, _args, context) => ({
        ...(await context.services.prisma.session.findUniqueOrThrow({ where: { id: payload.sessionId } })),
        current: true,
      }),
    }),
  }),
});
