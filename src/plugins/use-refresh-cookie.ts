import { parse as parseCookies, serialize as serializeCookie } from 'cookie';
import type { Plugin } from 'graphql-yoga';
import type { CookieJar } from '../context.js';

export interface RefreshCookieOptions {
  name: string;
  path: string;
  secure: boolean;
  sameSite: 'strict' | 'lax' | 'none';
}

/**
 * Reads the refresh-token cookie of a request and writes `Set-Cookie` on its response. The
 * cookie is HttpOnly, so page scripts never see the token, and its Path limits it to the GraphQL
 * endpoint.
 */
export function useRefreshCookie(options: RefreshCookieOptions): Plugin<{ cookies: CookieJar }> {
  // One Set-Cookie per response: a later write in the same request replaces an earlier one.
  const pending = new WeakMap<Request, string>();
  const attributes = {
    httpOnly: true,
    secure: options.secure,
    sameSite: options.sameSite,
    path: options.path,
  } as const;
  const queue = (request: Request, header: string) => pending.set(request, header);

  return {
    onContextBuilding({ context, extendContext }) {
      const { request } = context;
      const header = request.headers.get('cookie');
      const refreshToken = header ? parseCookies(header)[options.name] : undefined;
      extendContext({
        cookies: {
          refreshToken,
          setRefreshToken(token, expiresAt) {
            queue(request, serializeCookie(options.name, token, { ...attributes, expires: expiresAt }));
          },
          clearRefreshToken() {
            queue(request, serializeCookie(options.name, '', { ...attributes, expires: new Date(0), maxAge: 0 }));
          },
        },
      });
    },
    onResponse({ request, response }) {
      const header = pending.get(request);
      if (header) response.headers.append('set-cookie', header);
    },
  };
}
