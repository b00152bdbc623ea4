import type { Plugin } from 'graphql-yoga';

/**
 * Adds `Origin` to the Vary header of every response. With CORS_ORIGINS set, the CORS headers
 * of a response depend on the request's Origin header. Yoga's CORS (useCORS of
 * @whatwg-node/server) adds `Vary: Origin` only when it picks one origin out of several, so
 * without this plugin a shared or browser cache may serve a response built for one origin, or
 * for none, to another origin.
 */
export function useVaryOrigin(): Plugin {
  return {
    onResponse({ response }) {
      const vary = response.headers.get('vary');
      const names = (vary ?? '').split(',').map((name) => name.trim().toLowerCase());
      if (names.includes('origin') || names.includes('*')) return;
      response.headers.set('vary', vary ? `${vary}, Origin` : 'Origin');
    },
  };
}
